# The README's code example must be examples/readme_example.cpp verbatim, so the example the build
# compiles and runs is the one users read.
file(READ ${README} readme)
file(READ ${EXAMPLE} example)
string(FIND "${readme}" "${example}" at)
if(at EQUAL -1)
    message(FATAL_ERROR "README.md does not contain examples/readme_example.cpp verbatim: update one of them")
endif()
