#pragma once
// Device memory for Tensor<T, S, device_space>, stream-ordered scratch (cuda::StreamBuffer), and
// explicit copies between host and device, synchronous or on a stream. Nothing copies implicitly.
#include <type_traits>

#include "../core/tensor.hpp"
#include "error.cuh"

namespace sinter {

template <>
struct space_traits<device_space> {
    static void* allocate(std::size_t bytes) {
        cuda::ensure_usable("device allocation");
        void* p = nullptr;
        if (bytes) SINTER_CUDA_CHECK(cudaMalloc(&p, bytes));
        return p;
    }
    static void deallocate(void* p) noexcept {
        if (!cuda::context_poisoned()) cuda::discard(cudaFree(p));
    }
};

namespace cuda {

// n elements of scratch from the stream-ordered allocator, on `stream` from the moment of the
// call, freed in `stream`'s order when it goes: no device-wide synchronisation, as cudaFree has,
// and no stall of other streams' work. Use it only on `stream` (or after waiting for it).
template <class T>
class StreamBuffer {
public:
    StreamBuffer(index_t n, cudaStream_t stream) : stream_(stream) {
        ensure_usable("stream-ordered allocation");
        void* p = nullptr;
        if (n) SINTER_CUDA_CHECK(cudaMallocAsync(&p, std::size_t(n) * sizeof(T), stream));
        data_ = static_cast<T*>(p);
    }
    ~StreamBuffer() {
        if (data_ && !context_poisoned()) discard(cudaFreeAsync(data_, stream_));
    }
    StreamBuffer(const StreamBuffer&) = delete;
    StreamBuffer& operator=(const StreamBuffer&) = delete;

    T* data() const { return data_; }

private:
    T* data_ = nullptr;
    cudaStream_t stream_;
};

}  // namespace cuda

namespace detail {
template <class Dst, class Src>
cudaMemcpyKind copy_kind() {
    constexpr bool dd = std::is_same_v<typename Dst::space, device_space>;
    constexpr bool sd = std::is_same_v<typename Src::space, device_space>;
    if constexpr (dd && sd) return cudaMemcpyDeviceToDevice;
    else if constexpr (dd) return cudaMemcpyHostToDevice;
    else if constexpr (sd) return cudaMemcpyDeviceToHost;
    else return cudaMemcpyHostToHost;
}

template <class Dst, class Src>
concept CopyPair = is_tensor_v<Dst> && is_tensor_v<Src> &&
                   std::is_same_v<std::remove_const_t<typename Src::value_type>,
                                  typename Dst::value_type> &&
                   (std::is_same_v<typename Dst::space, device_space> ||
                    std::is_same_v<typename Src::space, device_space>);
}  // namespace detail

// Copies src into dst (same extents, same element type), at least one of them on the device.
// Complete on return: cudaMemcpy alone may return before a pageable host-to-device or a
// device-to-device copy lands, and work on a non-blocking stream would not wait for it.
template <class Dst, class Src>
    requires detail::CopyPair<Dst, Src>
void copy(const Dst& dst, const Src& src) {
    detail::check_same_extents(dst.shape(), src.shape(), "copy");
    cuda::ensure_usable("copy");
    if (!src.size()) return;
    SINTER_CUDA_CHECK(cudaMemcpy(dst.data(), src.data(), src.bytes(), detail::copy_kind<Dst, Src>()));
    if constexpr (std::is_same_v<typename Dst::space, device_space>)
        SINTER_CUDA_CHECK(cudaStreamSynchronize(nullptr));
}

// The same, asynchronous on `stream` (host memory should be pinned for real overlap).
template <class Dst, class Src>
    requires detail::CopyPair<Dst, Src>
void copy(const Dst& dst, const Src& src, cudaStream_t stream) {
    detail::check_same_extents(dst.shape(), src.shape(), "copy");
    cuda::ensure_usable("copy");
    if (src.size())
        SINTER_CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.data(), src.bytes(),
                                          detail::copy_kind<Dst, Src>(), stream));
}

}  // namespace sinter
