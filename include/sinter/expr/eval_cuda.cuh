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
#include <algorithm>
#include <vector>

#include <cub/block/block_reduce.cuh>
#include <cub/warp/warp_reduce.cuh>

#include "../cuda/device.cuh"
#include "../cuda/error.cuh"
#include "eval_common.hpp"
#include "contraction.hpp"
#include "eval_host.hpp"

namespace sinter::expr {

namespace detail {

// CUB functors for the combine operations rows use.
template <class Op>
struct cub_op {
    Op op;
    __device__ __forceinline__ float operator()(float a, float b) const { return op(a, b); }
};

// One warp per row, `RowsPerBlock` warps per block.
template <int N, int RowsPerBlock>
struct WarpGroup {
    static constexpr int width = N;
    static constexpr int rows_per_block = RowsPerBlock;
    static constexpr int threads = 32 * RowsPerBlock;
    using Reduce = cub::WarpReduce<float>;
    using TempStorage = typename Reduce::TempStorage[RowsPerBlock];

    typename Reduce::TempStorage& tmp_;
    __device__ explicit WarpGroup(TempStorage& tmp) : tmp_(tmp[threadIdx.x / 32]) {}
    __device__ int lane() const { return threadIdx.x % 32; }
    __device__ int size() const { return 32; }
    __device__ int index() const { return threadIdx.x / 32; }
    template <class Op>
    __device__ float all_reduce(float x, Op op) const {
        const float r = Reduce(tmp_).Reduce(x, cub_op<Op>{op});  // valid in lane 0
        __syncwarp();  // the storage is reused by the next reduction
        return __shfl_sync(0xffffffffu, r, 0);
    }
};

// One block of `Threads` threads per row.
template <int N, int Threads>
struct BlockGroup {
    static constexpr int width = N;
    static constexpr int rows_per_block = 1;
    static constexpr int threads = Threads;
    using Reduce = cub::BlockReduce<float, Threads>;
    struct TempStorage {
        typename Reduce::TempStorage reduce;
        float result;
    };

    TempStorage& tmp_;
    __device__ explicit BlockGroup(TempStorage& tmp) : tmp_(tmp) {}
    __device__ int lane() const { return threadIdx.x; }
    __device__ int size() const { return Threads; }
    __device__ int index() const { return 0; }
    template <class Op>
    __device__ float all_reduce(float x, Op op) const {
        const float r = Reduce(tmp_.reduce).Reduce(x, cub_op<Op>{op});  // valid in thread 0
        if (threadIdx.x == 0) tmp_.result = r;
        __syncthreads();
        const float all = tmp_.result;
        __syncthreads();  // the storage is reused by the next reduction
        return all;
    }
};

template <int N, class T, class S, class E>
__global__ void elementwise_kernel(T* out, S shape, E e) {
    constexpr int R = S::rank;
    const index_t cols = shape.cols();
    const index_t vectors_per_row = cols / N;
    const index_t total = shape.rows() * vectors_per_row;
    for (index_t v = index_t(blockIdx.x) * blockDim.x + threadIdx.x; v < total;
         v += index_t(gridDim.x) * blockDim.x) {
        const index_t r = v / vectors_per_row;
        const index_t c = (v - r * vectors_per_row) * N;
        Index<R> i = row_start<R>(shape, r);
        if constexpr (R > 0) i[R - 1] = c;
        store_vec<N>(out + r * cols + c, e.template load<N>(i));
    }
}

template <class Group, class T, class S, class E>
__global__ void __launch_bounds__(Group::threads) rowwise_kernel(T* out, S shape, E e) {
    constexpr int R = S::rank;
    constexpr int N = Group::width;
    __shared__ typename Group::TempStorage tmp;
    Group g(tmp);
    const index_t rows = shape.rows(), cols = shape.cols();
    // Uniform per group: every thread of a group sees the same rows, as the reductions require.
    for (index_t r = index_t(blockIdx.x) * Group::rows_per_block + g.index(); r < rows;
         r += index_t(gridDim.x) * Group::rows_per_block) {
        Index<R> i = row_start<R>(shape, r);
        E row_expr = e;
        row_expr.prepare(g, i);
        for (index_t c = index_t(g.lane()) * N; c < cols; c += index_t(g.size()) * N) {
            i[R - 1] = c;
            store_vec<N>(out + r * cols + c, row_expr.template load<N>(i));
        }
    }
}

inline int multiprocessors() {
    int device = 0, sms = 0;
    SINTER_CUDA_CHECK(cudaGetDevice(&device));
    SINTER_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    return sms;
}

inline unsigned grid_for(index_t work_items, int per_block) {
    static const index_t cap = index_t(multiprocessors()) * 32;  // enough blocks to fill the GPU
    return unsigned(std::clamp<index_t>((work_items + per_block - 1) / per_block, 1, cap));
}

template <int N, class T, class S, class E>
void launch(T* out, const S& shape, const E& e, cudaStream_t stream) {
    if constexpr (!E::has_reduction) {
        constexpr int threads = 256;
        elementwise_kernel<N><<<grid_for(shape.size() / N, threads), threads, 0, stream>>>(out, shape, e);
        SINTER_CHECK_LAUNCH("sinter::expr::elementwise_kernel");
    } else {
        // A warp per row while a lane has at most 4 vectors to handle, else a block per row.
        if (shape.cols() <= 32 * 4 * N) {
            using G = WarpGroup<N, 8>;
            rowwise_kernel<G><<<grid_for(shape.rows(), G::rows_per_block), G::threads, 0, stream>>>(out, shape, e);
        } else {
            using G = BlockGroup<N, 256>;
            rowwise_kernel<G><<<grid_for(shape.rows(), 1), G::threads, 0, stream>>>(out, shape, e);
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
    std::vector<void*> blocks_;

    DeviceContext(cudaStream_t s, Engine& g) : stream(s), engine(g) {}
    DeviceContext(const DeviceContext&) = delete;
    DeviceContext& operator=(const DeviceContext&) = delete;
    ~DeviceContext() {
        if (cuda::context_poisoned()) return;
        for (void* p : blocks_)
            if (cudaFreeAsync(p, stream) != cudaSuccess) (void)cudaGetLastError();  // not blamed on a later call
    }
    T* scratch(index_t n) {
        blocks_.reserve(blocks_.size() + 1);
        void* p = nullptr;
        SINTER_CUDA_CHECK(cudaMallocAsync(&p, std::size_t(n) * sizeof(T), stream));
        blocks_.push_back(p);
        return static_cast<T*>(p);
    }
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
        if (detail::view_vectorizable<N>(out) && out.shape().cols() % N == 0 && e.template vectorizable<N>())
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
