#pragma once
// sinter's error hierarchy. Every failure that a caller can provoke (bad shapes, bad files, bad
// configs, CUDA failures) is one of these exceptions, and its message names what was wrong:
// the file, tensor, field or call, and both sizes where two disagree.
#include <stdexcept>
#include <string>

namespace sinter {

class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Run-time extents that disagree (both sizes in the message).
class shape_error : public error {
public:
    using error::error;
};

// A value outside its valid range: a token id >= vocab, a negative size, an index past the end.
class value_error : public error {
public:
    using error::error;
};

// A file that cannot be opened, read or written.
class io_error : public error {
public:
    using error::error;
};

// A file that was read but is not what it claims to be (bad JSON, bad safetensors header, bad UTF-8).
class format_error : public error {
public:
    using error::error;
};

// A model configuration that disagrees with the compile-time one, or is invalid.
class config_error : public error {
public:
    using error::error;
};

// A CUDA runtime or cuBLASLt call that failed. `sticky()` is true when the error poisoned the
// CUDA context (illegal address, launch failure, device assert...): nothing more can run in this
// process.
class cuda_error : public error {
public:
    cuda_error(const std::string& what, int code, bool sticky)
        : error(what), code_(code), sticky_(sticky) {}
    int code() const noexcept { return code_; }
    bool sticky() const noexcept { return sticky_; }

private:
    int code_;
    bool sticky_;
};

}  // namespace sinter
