# Builds sinter's host tests a second time with Clang and runs them (the CTest clang_host_tests):
# g++ alone accepted code that Clang 14 rejects (a ranges::subrange it could not check, a
# structured binding captured by a lambda), and users build with either.
#   SINTER_SOURCE, WORK, GENERATOR, CXX (clang++), TESTS (test names, comma-separated; each is its
#   target). test_minilm finds the model as the main build does (SINTER_MINILM_DIR,
#   SINTER_MODEL_CACHE, else ~/.cache/sinter/models), from the environment CTest runs in.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
string(REPLACE "," ";" tests "${TESTS}")

include(${CMAKE_CURRENT_LIST_DIR}/SinterRun.cmake)

run(${CMAKE_COMMAND} -S ${SINTER_SOURCE} -B ${WORK} -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_CXX_COMPILER=${CXX} -DSINTER_BUILD_BENCHMARKS=OFF -DSINTER_BUILD_EXAMPLES=OFF)
run(${CMAKE_COMMAND} --build ${WORK} -j2 --target ${tests})
list(JOIN tests "|" pattern)
run(${CMAKE_COMMAND} -E chdir ${WORK} ${CMAKE_CTEST_COMMAND} --output-on-failure -j2 -R "^(${pattern})$")
message(STATUS "${CXX}: ${TESTS} built and passed")
