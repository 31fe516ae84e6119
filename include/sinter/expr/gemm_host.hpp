#pragma once
// The host's GEMM engine: one GemmCall in f32 (f32 accumulation, every k in order), the epilogue
// applied per element. The host twin of cuBLASLt with its fused epilogues (blas/gemm.cuh).
//
// Register-blocked: B is converted once per call to f32 panels of a tile's columns (K x cols,
// contiguous), each block of 3 rows of A to f32 k-major; each 3-row x 3-vector tile of outputs is
// accumulated in registers over all of K (GCC/Clang vector extensions; a plain loop elsewhere), so
// each loaded B vector feeds 3 rows (9 vector registers of accumulators: no spills in SSE's 16).
// On x86-64 CPUs with AVX2 and FMA the tile is 8-wide with fused multiply-adds, chosen at run time
// even when the program is built for plain x86-64. Large products split their rows over threads
// (HostGemm::threads). Results do not depend on the thread count.
#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "../core/parallel.hpp"
#include "contraction.hpp"

namespace sinter::expr {

SINTER_HD float activate(Activation a, float v) {
    switch (a) {
        case Activation::none: return v;
        case Activation::gelu: return op::gelu{}(v);
        case Activation::gelu_tanh: return op::gelu_tanh{}(v);
        case Activation::relu: return op::relu{}(v);
        case Activation::tanh: return op::tanh{}(v);
    }
    return v;
}

namespace detail {

#if defined(__GNUC__) && !defined(__CUDA_ARCH__)
#define SINTER_HOST_NOINLINE __attribute__((noinline))
#if defined(__AVX__)
inline constexpr int host_lanes = 8;
#else
inline constexpr int host_lanes = 4;
#endif
typedef float host_vec __attribute__((vector_size(4 * host_lanes)));
#else
#define SINTER_HOST_NOINLINE
inline constexpr int host_lanes = 1;
typedef float host_vec;
#endif

struct HostTile {
    static constexpr int rows = 3, vectors = 3, cols = vectors * host_lanes;
};

template <std::size_t... L>
SINTER_HD host_vec splat(float v, std::index_sequence<L...>) {
    return host_vec{((void)L, v)...};
}

// acc (rows x cols) = x b over all of K: x packed k-major (K x rows), b one panel (K x cols), both
// read front to back. Not inlined: on its own, the compiler keeps all of acc in registers.
SINTER_HOST_NOINLINE inline void host_gemm_tile(float* acc_out, const float* x, const float* b, index_t K) {
    constexpr int R = HostTile::rows, V = HostTile::vectors;
    host_vec acc[R][V] = {};
    for (index_t k = 0; k < K; ++k, x += R, b += HostTile::cols) {
        host_vec bv[V];
        std::memcpy(bv, b, sizeof bv);
        for (int i = 0; i < R; ++i) {
            const host_vec xv = splat(x[i], std::make_index_sequence<host_lanes>{});
            for (int j = 0; j < V; ++j) acc[i][j] += xv * bv[j];
        }
    }
    for (int i = 0; i < R; ++i)  // through a copy: acc's address is never taken, so it stays in registers
        for (int j = 0; j < V; ++j) {
            const host_vec v = acc[i][j];
            std::memcpy(acc_out + (i * V + j) * host_lanes, &v, sizeof v);
        }
}

// On x86-64 with GCC or Clang (not under nvcc), built without AVX2: a second tile for CPUs that
// have AVX2 and FMA, chosen at run time, 8-wide fused multiply-adds.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__CUDACC__) && !defined(__AVX2__)
#define SINTER_HOST_AVX2_DISPATCH 1
inline constexpr int host_avx2_cols = HostTile::vectors * 8;  // the same tile, 8 lanes a vector

__attribute__((target("avx2,fma"), noinline)) inline void host_gemm_tile_avx2(float* acc_out, const float* x,
                                                                              const float* b, index_t K) {
    constexpr int R = HostTile::rows, V = HostTile::vectors, W = 8;
    typedef float vec8 __attribute__((vector_size(32)));
    typedef float vec8_unaligned __attribute__((vector_size(32), aligned(4), may_alias));
    vec8 acc[R][V] = {};
    for (index_t k = 0; k < K; ++k, x += R, b += V * W) {
        vec8 bv[V];
        for (int j = 0; j < V; ++j) bv[j] = *reinterpret_cast<const vec8_unaligned*>(b + j * W);  // one vmovups
        for (int i = 0; i < R; ++i) {
            const vec8 xv = {x[i], x[i], x[i], x[i], x[i], x[i], x[i], x[i]};
            for (int j = 0; j < V; ++j) acc[i][j] = __builtin_ia32_vfmaddps256(xv, bv[j], acc[i][j]);
        }
    }
    for (int i = 0; i < R; ++i)
        for (int j = 0; j < V; ++j) {
            *reinterpret_cast<vec8_unaligned*>(acc_out + (i * V + j) * W) = acc[i][j];
        }
}
#endif

// The tile to use and its width in columns (the B panels' width).
struct HostTileKernel {
    index_t cols;
    void (*tile)(float*, const float*, const float*, index_t);
};

inline HostTileKernel host_tile_kernel(bool runtime_isa) {
#if defined(SINTER_HOST_AVX2_DISPATCH)
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (runtime_isa && avx2) return {host_avx2_cols, host_gemm_tile_avx2};
#endif
    (void)runtime_isa;
    return {HostTile::cols, host_gemm_tile};
}

}  // namespace detail

struct HostGemm {
    // Threads for one call: 0 = std::thread::hardware_concurrency(); small products use one.
    unsigned threads = 0;
    // Whether to use the CPU's AVX2 and FMA when the program was built without them (x86-64,
    // GCC/Clang); false: only what the program was compiled for.
    bool runtime_isa = true;

    template <class T>
    void run(const GemmCall<T>& c) const {
        using Tile = detail::HostTile;
        check_gemm_call(c, "expr::HostGemm");
        const detail::HostTileKernel kernel = detail::host_tile_kernel(runtime_isa);
        const index_t cols = kernel.cols;
        const index_t rows = c.rows, N = c.N, K = c.K;
        if (rows == 0 || N == 0) return;
        // B as f32 panels of `cols` output columns (zero-padded past N), each K x cols, whichever
        // way b is stored; the panels are packed in parallel too.
        const index_t panels = (N + cols - 1) / cols, blocks = (rows + Tile::rows - 1) / Tile::rows;
        const unsigned workers = host_workers(threads, blocks, double(rows) * double(N) * double(K));
        std::vector<float> b(static_cast<std::size_t>(panels * K * cols));
        host_parallel_for(panels, workers, [&](index_t first, index_t last) {
            for (index_t p = first; p < last; ++p) {
                float* panel = b.data() + p * K * cols;
                for (index_t j = 0; j < cols; ++j) {
                    const index_t n = p * cols + j;
                    for (index_t k = 0; k < K; ++k)
                        panel[k * cols + j] =
                            n < N ? to_float(c.b_transposed ? c.b[n * K + k] : c.b[k * N + n]) : 0.f;
                }
            }
        });

        // Locals, not c's members: stores through y could otherwise be taken to change them.
        T* const y = c.y;
        const T *const a = c.a, *const bias = c.bias, *const residual = c.residual;
        const Activation act = c.activation;
        const auto row_blocks = [&](index_t first_block, index_t last_block) {
            std::vector<float> x(static_cast<std::size_t>(K * Tile::rows)), acc(std::size_t(Tile::rows * cols));
            for (index_t blk = first_block; blk < last_block; ++blk) {
                const index_t t0 = blk * Tile::rows, nr = std::min<index_t>(Tile::rows, rows - t0);
                for (index_t i = 0; i < Tile::rows; ++i)  // k-major; rows past the end are zeros
                    for (index_t k = 0; k < K; ++k)
                        x[std::size_t(k * Tile::rows + i)] = i < nr ? to_float(a[(t0 + i) * K + k]) : 0.f;
                for (index_t p = 0; p < panels; ++p) {
                    kernel.tile(acc.data(), x.data(), b.data() + p * K * cols, K);
                    const index_t n0 = p * cols, nc = std::min<index_t>(cols, N - n0);
                    for (index_t i = 0; i < nr; ++i)
                        for (index_t j = 0; j < nc; ++j) {
                            const index_t t = t0 + i, n = n0 + j;
                            float v = acc[std::size_t(i * cols + j)];
                            if (bias) v += to_float(bias[n]);
                            v = activate(act, v);
                            if (residual) v += to_float(residual[t * N + n]);
                            y[t * N + n] = from_float<T>(v);
                        }
                }
            }
        };
        host_parallel_for(blocks, workers, row_blocks);
    }
};

}  // namespace sinter::expr
