#pragma once
// The SIMT emulator's stand-in for include/sinter/cuda/launch.cuh: the launch is checked as the
// CUDA runtime checks it (simt/fake_cuda.hpp), queued on its stream, and run on the emulator when
// the stream runs. Pointer arguments must point to device (or pinned) memory, else the kernel
// faults with an illegal address when it runs. Include simt/runtime.hpp and the kernels first.
#include <cstddef>
#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>

#include <simt/fake_cuda.hpp>
#include <simt/runtime.hpp>

namespace sinter::cuda {

template <class... Params, class... Args>
void launch(void (*kernel)(Params...), ::dim3 grid, ::dim3 block, std::size_t shared_bytes, cudaStream_t stream,
            Args&&... args) {
    namespace fake = simt::fake;
    cudaError_t e = fake::check_launch_stream(stream);
    if (!e) e = fake::check_launch(reinterpret_cast<const void*>(kernel), grid, block, shared_bytes);
    if (e) {
        fake::fail_launch(stream, e);
        return;
    }
    const int device = fake::current_device();
    auto work = [kernel, grid, block, shared_bytes, device, ... params = Params(std::forward<Args>(args))]() -> cudaError_t {
        int index = 0, other_device = -1;
        bool host_pointer = false;
        const auto check = [&](const auto& p) {
            if constexpr (std::is_pointer_v<std::decay_t<decltype(p)>>)
                if (p != nullptr) {
                    if (!fake::device_accessible(p)) host_pointer = true;
                    else if (const int d = fake::memory_device(p); d >= 0 && d != device) other_device = d;
                }
            if (!host_pointer && other_device < 0) ++index;
        };
        (check(params), ...);
        if (host_pointer) {
            std::fprintf(stderr, "fake CUDA: kernel argument %d is not a device address\n", index);
            return cudaErrorIllegalAddress;
        }
        if (other_device >= 0) {  // no peer access is enabled
            std::fprintf(stderr, "fake CUDA: kernel argument %d is memory of device %d, the kernel runs on device %d\n",
                         index, other_device, device);
            return cudaErrorIllegalAddress;
        }
        simt::launch(kernel, simt::dim3{grid.x, grid.y, grid.z}, simt::dim3{block.x, block.y, block.z}, shared_bytes,
                     params...);
        return cudaSuccess;
    };
    if (const cudaError_t e = fake::enqueue(stream, std::move(work), "kernel launch")) fake::fail_launch(stream, e);
}

}  // namespace sinter::cuda
