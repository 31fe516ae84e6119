# run(COMMAND...) for sinter's CMake scripts (cmake -P): runs the command, prints its output, and
# stops the script with the command line, its output and its errors when it fails.
function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        string(REPLACE ";" " " cmd "${ARGN}")
        message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
    endif()
    message(STATUS "${out}")
endfunction()
