# C++20 for nvcc. CMake 3.25.1 ignores cuda_std_20 (CMAKE_CUDA_STANDARD 20 too): below 3.25.2 the
# flag is passed by hand; above, the compile feature is used where CUDA is enabled.
function(sinter_cuda_std_20 target)
    if(CMAKE_VERSION VERSION_LESS 3.25.2)
        set_property(TARGET ${target} APPEND PROPERTY INTERFACE_COMPILE_OPTIONS
            "$<$<COMPILE_LANGUAGE:CUDA>:-std=c++20>")
    else()
        get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
        if(CUDA IN_LIST languages)
            set_property(TARGET ${target} APPEND PROPERTY INTERFACE_COMPILE_FEATURES cuda_std_20)
        endif()
    endif()
endfunction()
