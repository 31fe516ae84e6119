#pragma once
// The message of the error a call throws, so a test can assert what the message names.
#include <string>

namespace sinter::test {

// what() of the E that f() throws; "(no error)" if it returns. Another exception propagates (and
// fails the test case with its own message).
template <class E, class F>
std::string error_message(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace sinter::test
