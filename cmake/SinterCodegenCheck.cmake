# Reads the instructions of the host path's hot loops as built at -O2 (CMake's RelWithDebInfo; the
# CTest host_codegen): GCC 12 at -O2 had left the GEMM tile's loops rolled (accumulators in
# memory) and GELU and exp scalar, and the host forward ran twice as slow as at -O3 with every
# result still right, so no other test saw it.
#   SINTER_SOURCE, WORK, OBJDUMP, COMPILERS: "name=command" entries, comma-separated; a command
#   that is nvcc compiles the probe as CUDA (its host pass), with CCBIN as the host compiler.
# Each compiler builds tests/codegen/host_loops_probe.cpp; in each function (objdump -d -C), the
# lines that match a pattern must be at least so many:
#   the AVX-512 tile: 24 zmm fused multiply-adds (12 rows x 2 vectors, unrolled); the AVX2 tile: 12
#   ymm ones; GELU, exp and the whole tile's epilogue: at least 20 instructions on zmm (AVX-512) or
#   ymm (AVX2) registers; the portable tile's epilogue at least 20 packed SSE instructions.
include(${CMAKE_CURRENT_LIST_DIR}/SinterRun.cmake)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(probe ${SINTER_SOURCE}/tests/codegen/host_loops_probe.cpp)
set(any "[^\n]*")
set(checks  # function|pattern|at least|what the lines are
    "host_gemm_tile_avx512|vfmadd${any}zmm|24|zmm fused multiply-adds"
    "host_gemm_tile_avx2|vfmadd${any}ymm|12|ymm fused multiply-adds"
    "host_gelu_avx512|zmm|20|instructions on zmm"
    "host_exp_shifted_avx512|zmm|20|instructions on zmm"
    "host_gelu_avx2|ymm|20|instructions on ymm"
    "host_exp_shifted_avx2|ymm|20|instructions on ymm"
    "host_tile_out_avx512|zmm|20|instructions on zmm"
    "host_tile_out_avx2|ymm|20|instructions on ymm"
    "host_tile_out_portable|ps[ \t]|20|packed (SSE) instructions")

string(REPLACE "," ";" compilers "${COMPILERS}")
set(failures "")
foreach(entry IN LISTS compilers)
    string(REGEX REPLACE "=.*" "" name "${entry}")
    string(REGEX REPLACE "^[^=]*=" "" command "${entry}")
    set(object ${WORK}/probe_${name}.o)
    if(command MATCHES "nvcc$")
        run(${command} -ccbin ${CCBIN} -std=c++20 -O2 -x cu -I${SINTER_SOURCE}/include -c ${probe} -o ${object})
    else()
        run(${command} -std=c++20 -O2 -I${SINTER_SOURCE}/include -c ${probe} -o ${object})
    endif()
    execute_process(COMMAND ${OBJDUMP} -d -C --no-show-raw-insn ${object} OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "${OBJDUMP} failed on ${object}")
    endif()
    foreach(check IN LISTS checks)
        string(REPLACE "|" ";" parts "${check}")
        list(GET parts 0 function)
        list(GET parts 1 pattern)
        list(GET parts 2 least)
        list(GET parts 3 what)
        # The function's listing: from its header line to the blank line that ends it.
        string(FIND "${listing}" "::${function}(" at)
        if(at EQUAL -1)
            list(APPEND failures "${name}: ${function} not in the object")
            continue()
        endif()
        string(SUBSTRING "${listing}" ${at} -1 body)
        string(FIND "${body}" "\n\n" end)
        if(NOT end EQUAL -1)
            string(SUBSTRING "${body}" 0 ${end} body)
        endif()
        string(REGEX MATCHALL "[^\n]*${pattern}[^\n]*" found "${body}")
        list(LENGTH found count)
        message(STATUS "${name} -O2: ${function}: ${count} ${what} (at least ${least})")
        if(count LESS least)
            list(APPEND failures "${name} -O2: ${function}: ${count} ${what}, expected at least ${least}")
        endif()
    endforeach()
endforeach()
if(failures)
    list(JOIN failures "\n  " text)
    message(FATAL_ERROR "the host loops are not vectorised as built at -O2:\n  ${text}")
endif()
