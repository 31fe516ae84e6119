#pragma once
// GPU tests check for a device at run time: without one they print SINTER_SKIP_NO_GPU and return,
// and CTest marks them skipped (SKIP_REGULAR_EXPRESSION). Not doctest::skip(): that would remove
// them from a binary built on a machine without a GPU and later run on one.
#include <cstring>

#include "sinter/sinter.cuh"
#include "check.hpp"

#define SINTER_REQUIRE_GPU()                                          \
    do {                                                              \
        if (!::sinter::cuda::gpu_available()) {                       \
            std::printf("SINTER_SKIP_NO_GPU\n");                      \
            return;                                                   \
        }                                                             \
    } while (0)

namespace sinter::test {

// Fills device memory with 0xff bytes: NaN in f32, f16 and bf16, so an element the kernel did
// not write shows up in the comparison.
template <class V>
void poison(const V& v) {
    SINTER_CUDA_CHECK(cudaMemset(v.data(), 0xff, v.bytes()));
    SINTER_CUDA_CHECK(cudaDeviceSynchronize());  // before work on another (non-blocking) stream
}

template <class T, class S>
Tensor<T, S, device_space> to_device(const Tensor<T, S, host_space>& h) {
    Tensor<T, S, device_space> d(h.shape());
    copy(d.view(), h.view());
    return d;
}

template <class T, class S>
Tensor<T, S, host_space> to_host(const Tensor<T, S, device_space>& d) {
    Tensor<T, S, host_space> h(d.shape());
    copy(h.view(), d.view());
    return h;
}

}  // namespace sinter::test
