#pragma once
// The CUDA evaluator: eval(out, expression, stream) compiles each expression type into one kernel.
//   tier 1 (no reductions): a grid-stride loop over N-wide vectors of the output (16-byte loads and
//     stores when every operand's extents and alignment allow, one element at a time otherwise);
//     memory-bound.
//   tier 2 (row reductions): one warp per row (rows up to 128 vectors) or one block of 256 threads
//     per row; CUB reductions in f32; then the element-wise part. Memory-bound: a row is read
//     from DRAM once, its further passes hit L1.
//   tier 3 (contractions): lowered first (contraction.hpp): each linear form is one call on a
//     GEMM engine (blas::Gemm: cuBLASLt with the epilogue fused), scratch from the stream-ordered
//     allocator, then at most one kernel for the rest.
#include <array>
#include <atomic>
#include <deque>

#include "../cuda/device.cuh"
#include "../cuda/error.cuh"
#include "../cuda/memory.cuh"
// By the include path: the SIMT emulator (tests/simt) has its own.
#include <sinter/cuda/launch.cuh>
#include "contraction.hpp"
#include "eval_common.hpp"
#include "eval_cuda_kernels.cuh"
#include "eval_host.hpp"

namespace sinter::expr {

namespace detail {

// The most blocks a launch on the current device gets: 32 per multiprocessor, enough to fill it
// (the kernels loop over the rest). Read once per device.
inline index_t grid_cap() {
    constexpr int max_devices = 64;
    static std::array<std::atomic<index_t>, max_devices> caps{};  // 0: not read yet
    const int device = cuda::current_device();
    index_t cap = device < max_devices ? caps[std::size_t(device)].load(std::memory_order_relaxed) : 0;
    if (cap == 0) {
        int sms = 0;
        SINTER_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
        cap = index_t(sms) * 32;
        if (device < max_devices) caps[std::size_t(device)].store(cap, std::memory_order_relaxed);
    }
    return cap;
}

inline unsigned grid_for(index_t work_items, int per_block) {
    return unsigned(blocks_for(work_items, per_block, grid_cap()));
}

template <int N, class T, class S, class E>
void launch(T* out, const S& shape, const E& e, cudaStream_t stream) {
    if constexpr (!E::has_reduction) {
        constexpr int threads = 256;
        cuda::launch(elementwise_kernel<N, T, S, E>, grid_for(shape.size() / N, threads), threads, 0, stream, out, shape, e);
        SINTER_CHECK_LAUNCH("sinter::expr::elementwise_kernel");
    } else {
        // A warp per row while a lane has at most 4 vectors to handle, else a block per row.
        if (shape.cols() <= 32 * 4 * N) {
            using G = WarpGroup<N, 8>;
            cuda::launch(rowwise_kernel<G, T, S, E>, grid_for(shape.rows(), G::rows_per_block), G::threads, 0, stream, out,
                         shape, e);
        } else {
            using G = BlockGroup<N, 256>;
            cuda::launch(rowwise_kernel<G, T, S, E>, grid_for(shape.rows(), 1), G::threads, 0, stream, out, shape, e);
        }
        SINTER_CHECK_LAUNCH("sinter::expr::rowwise_kernel");
    }
}

}  // namespace detail

template <class T, class S, Operand X, class Engine>
void eval(const TensorView<T, S, device_space>& out, const X& x, cudaStream_t stream, Engine& gemm);

namespace detail {

// What lowering a contraction needs on the device: scratch from the stream-ordered allocator
// (graph-capturable; freed in stream order once everything that reads it is enqueued), the engine.
template <class T, class Engine>
struct DeviceContext {
    using value_type = T;
    using space = device_space;

    cudaStream_t stream;
    Engine& engine;
    std::deque<cuda::StreamBuffer<T>> blocks_;  // a deque: its elements never move

    DeviceContext(cudaStream_t s, Engine& g) : stream(s), engine(g) {}
    DeviceContext(const DeviceContext&) = delete;
    DeviceContext& operator=(const DeviceContext&) = delete;
    T* scratch(index_t n) { return blocks_.emplace_back(n, stream).data(); }
    void gemm(const GemmCall<T>& call) { engine.run(call, stream); }
    void copy(T* dst, const T* src, index_t n) {
        SINTER_CUDA_CHECK(cudaMemcpyAsync(dst, src, std::size_t(n) * sizeof(T), cudaMemcpyDeviceToDevice, stream));
    }
    template <class V, class X>
    void eval(const V& out, const X& x) {
        expr::eval(out, x, stream, engine);
    }
};

}  // namespace detail

// The GEMM engine eval(out, x, stream) uses for contractions when none is given. blas/gemm.cuh
// provides it (a cuBLASLt engine per thread, device and stream); without that header a contraction
// on the device does not compile.
template <class T, class = void>
struct default_gemm_engine {
    static constexpr bool available = false;
};

// Evaluates `x` into `out` on `stream`: one kernel, after the GEMMs of any contraction, which run
// on `gemm` (anything with run(GemmCall<T>, cudaStream_t)). Asynchronous; errors in the launch
// configuration throw here, faults during the kernel at the next synchronising call.
template <class T, class S, Operand X, class Engine>
void eval(const TensorView<T, S, device_space>& out, const X& x, cudaStream_t stream, Engine& gemm) {
    const auto e = as_expr(x);
    using E = std::remove_const_t<decltype(e)>;
    detail::check_eval<TensorView<T, S, device_space>, E, device_space>(out, e);
    if (out.size() == 0) return;  // a zero-size grid is an error
    cuda::ensure_usable("eval");
    if constexpr (E::has_contraction) {
        detail::DeviceContext<T, Engine> ctx(stream, gemm);
        eval_contraction(ctx, out, e);
    } else {
        constexpr int N = detail::vector_width<T, E>;
        if (detail::vectorizable<N>(out, e))
            detail::launch<N>(out.data(), out.shape(), e, stream);
        else
            detail::launch<1>(out.data(), out.shape(), e, stream);
    }
}

template <class T, class S, Operand X>
void eval(const TensorView<T, S, device_space>& out, const X& x, cudaStream_t stream) {
    using E = as_expr_t<X>;
    if constexpr (E::has_contraction) {
        static_assert(diag::check<diag::contractions_on_the_gpu_need_sinter_blas_gemm_cuh, S, typename E::shape_type,
                                  default_gemm_engine<T>::available>::value);
        if constexpr (default_gemm_engine<T>::available) eval(out, x, stream, default_gemm_engine<T>::get(stream));
    } else {
        struct no_gemm {};
        no_gemm none;
        eval(out, x, stream, none);
    }
}

template <class T, class S, Operand X, class... Engine>
void eval(const Tensor<T, S, device_space>& out, const X& x, cudaStream_t stream, Engine&... gemm) {
    eval(out.view(), x, stream, gemm...);
}

}  // namespace sinter::expr
