# Builds and runs a consumer project (tests/consumers/<MODE>) that uses sinter as a user would:
#   find_package: sinter is installed with `cmake --install` into a prefix, then found there;
#   fetchcontent: FetchContent clones this checkout (its committed HEAD) as a git repository.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

include(${CMAKE_CURRENT_LIST_DIR}/SinterRun.cmake)

set(consumer_args -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release)
if(MODE STREQUAL "find_package")
    run(${CMAKE_COMMAND} -S ${SINTER_SOURCE} -B ${WORK}/sinter-build -G ${GENERATOR}
        -DCMAKE_INSTALL_PREFIX=${WORK}/prefix -DSINTER_BUILD_TESTS=OFF
        -DSINTER_BUILD_BENCHMARKS=OFF -DSINTER_BUILD_EXAMPLES=OFF)
    run(${CMAKE_COMMAND} --install ${WORK}/sinter-build)
    run(${CMAKE_COMMAND} -S ${SINTER_SOURCE}/tests/consumers/find_package -B ${WORK}/build
        ${consumer_args} -DCMAKE_PREFIX_PATH=${WORK}/prefix)
else()
    execute_process(COMMAND ${GIT} -C ${SINTER_SOURCE} rev-parse HEAD
                    RESULT_VARIABLE rc OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "${SINTER_SOURCE} is not a git checkout with a commit")
    endif()
    run(${CMAKE_COMMAND} -S ${SINTER_SOURCE}/tests/consumers/fetchcontent -B ${WORK}/build
        ${consumer_args} -DSINTER_GIT_REPOSITORY=${SINTER_SOURCE} -DSINTER_GIT_TAG=${head})
endif()
run(${CMAKE_COMMAND} --build ${WORK}/build)
run(${WORK}/build/consumer)
