#pragma once
// Every CUDA runtime call and kernel launch is checked and turned into a sinter::cuda_error that
// names the call, the file and line, and the CUDA error. A *sticky* error (illegal address, launch
// failure, device assert...) poisons the CUDA context for the whole process: it is reported as
// such, and every later sinter call that needs the device refuses to run.
#include <atomic>
#include <string>

#include <cuda_runtime_api.h>

#include "../core/error.hpp"

namespace sinter::cuda {

namespace detail {
inline std::atomic<int>& poisoned_code() {
    static std::atomic<int> code{0};
    return code;
}
}  // namespace detail

// Errors after which the context cannot be used again (CUDA runtime documentation).
inline bool is_sticky(cudaError_t e) {
    switch (e) {
        case cudaErrorIllegalAddress:
        case cudaErrorLaunchFailure:
        case cudaErrorMisalignedAddress:
        case cudaErrorAssert:
        case cudaErrorHardwareStackError:
        case cudaErrorIllegalInstruction:
        case cudaErrorInvalidAddressSpace:
        case cudaErrorInvalidPc:
        case cudaErrorLaunchTimeout:
        case cudaErrorTensorMemoryLeak:
        case cudaErrorContained:
        case cudaErrorECCUncorrectable:
        case cudaErrorNvlinkUncorrectable:
            return true;
        default:
            return false;
    }
}

// True once a sticky error has been seen in this process.
inline bool context_poisoned() { return detail::poisoned_code().load() != 0; }

// Throws if a sticky error was seen: called before any new device work.
inline void ensure_usable(const char* what) {
    if (const int code = detail::poisoned_code().load())
        throw cuda_error(std::string(what) + ": refused: the CUDA context was poisoned earlier by " +
                             cudaGetErrorName(static_cast<cudaError_t>(code)) +
                             "; restart the process",
                         code, true);
}

inline void check(cudaError_t status, const char* call, const char* file, int line) {
    if (status == cudaSuccess) return;
    const bool sticky = is_sticky(status);
    if (sticky) detail::poisoned_code().store(static_cast<int>(status));
    else (void)cudaGetLastError();  // a non-sticky error must not leak into the next check
    throw cuda_error(std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " +
                         cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")" +
                         (sticky ? "; this error is sticky: the CUDA context is unusable, restart "
                                   "the process"
                                 : ""),
                     static_cast<int>(status), sticky);
}

// The result of a call whose failure cannot be reported (a destructor's, a clean-up's): a sticky
// error is recorded (later device work refuses to run), any other is cleared, so that no later
// check blames another call for it. An earlier pending error stays pending when `status` is success.
inline void discard(cudaError_t status) noexcept {
    if (status == cudaSuccess) return;
    if (is_sticky(status)) detail::poisoned_code().store(static_cast<int>(status));
    else (void)cudaGetLastError();
}

}  // namespace sinter::cuda

#define SINTER_CUDA_CHECK(call) ::sinter::cuda::check((call), #call, __FILE__, __LINE__)

// After a launch: the configuration error now, or an earlier asynchronous fault.
#define SINTER_CHECK_LAUNCH(kernel_name) \
    ::sinter::cuda::check(cudaGetLastError(), "launch of " kernel_name, __FILE__, __LINE__)
