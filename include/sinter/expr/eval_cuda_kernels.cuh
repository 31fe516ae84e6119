#pragma once
// The CUDA evaluator's kernels (launched by eval_cuda.cuh):
//   elementwise_kernel  tier 1: a grid-stride loop over N-wide vectors of the output;
//   rowwise_kernel      tier 2: a group of threads per row (WarpGroup: a warp; BlockGroup: a
//                       block), which first computes the row's reductions (the nodes' prepare(),
//                       f32 CUB all-reduces) and then writes the row, N elements per lane at a time.
// Host twin: eval_host.hpp (a serial group of one thread).
#include <cub/block/block_reduce.cuh>
#include <cub/warp/warp_reduce.cuh>

#include "eval_common.hpp"

namespace sinter::expr::detail {

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

}  // namespace sinter::expr::detail
