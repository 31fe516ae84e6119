#pragma once
// The host's GEMM engine: one GemmCall in f32 (f32 accumulation, every k in order), the epilogue
// applied per element. The host twin of cuBLASLt with its fused epilogues (blas/gemm.cuh).
//
// Register-blocked: B is converted once per call to f32 panels of a tile's columns (K x cols,
// contiguous), each block of 3 rows of A to f32 k-major; each 3-row x 3-vector tile of outputs is
// accumulated in registers over all of K (GCC/Clang vector extensions; a plain loop elsewhere), so
// each loaded B vector feeds 3 rows (9 vector registers of accumulators: no spills in SSE's 16).
// Large products split their rows over threads (HostGemm::threads). Results do not depend on the thread count.
#include <algorithm>
#include <cstring>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

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

}  // namespace detail

struct HostGemm {
    // Threads for one call: 0 = std::thread::hardware_concurrency(); small products use one.
    unsigned threads = 0;

    template <class T>
    void run(const GemmCall<T>& c) const {
        using Tile = detail::HostTile;
        check_gemm_call(c, "expr::HostGemm");
        const index_t rows = c.rows, N = c.N, K = c.K;
        if (rows == 0 || N == 0) return;
        // B as f32 panels of Tile::cols output columns (zero-padded past N), each K x cols,
        // whichever way b is stored.
        const index_t panels = (N + Tile::cols - 1) / Tile::cols;
        std::vector<float> b(static_cast<std::size_t>(panels * K * Tile::cols), 0.f);
        for (index_t n = 0; n < N; ++n)
            for (index_t k = 0; k < K; ++k)
                b[std::size_t(((n / Tile::cols) * K + k) * Tile::cols + n % Tile::cols)] =
                    to_float(c.b_transposed ? c.b[n * K + k] : c.b[k * N + n]);

        const auto row_blocks = [&](index_t first_block, index_t last_block) {
            std::vector<float> x(static_cast<std::size_t>(K * Tile::rows)), acc(Tile::rows * Tile::cols);
            for (index_t blk = first_block; blk < last_block; ++blk) {
                const index_t t0 = blk * Tile::rows, nr = std::min<index_t>(Tile::rows, rows - t0);
                for (index_t i = 0; i < Tile::rows; ++i)  // k-major; rows past the end are zeros
                    for (index_t k = 0; k < K; ++k)
                        x[std::size_t(k * Tile::rows + i)] = i < nr ? to_float(c.a[(t0 + i) * K + k]) : 0.f;
                for (index_t p = 0; p < panels; ++p) {
                    detail::host_gemm_tile(acc.data(), x.data(), b.data() + p * K * Tile::cols, K);
                    const index_t n0 = p * Tile::cols, nc = std::min<index_t>(Tile::cols, N - n0);
                    for (index_t i = 0; i < nr; ++i)
                        for (index_t j = 0; j < nc; ++j) {
                            const index_t t = t0 + i, n = n0 + j;
                            float v = acc[std::size_t(i * Tile::cols + j)];
                            if (c.bias) v += to_float(c.bias[n]);
                            v = activate(c.activation, v);
                            if (c.residual) v += to_float(c.residual[t * N + n]);
                            c.y[t * N + n] = from_float<T>(v);
                        }
                }
            }
        };
        const index_t blocks = (rows + Tile::rows - 1) / Tile::rows;
        const double macs = double(rows) * double(N) * double(K);
        unsigned workers = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
        workers = unsigned(std::min<index_t>({index_t(workers), blocks, index_t(macs / (1 << 21)) + 1}));
        if (workers <= 1) return row_blocks(0, blocks);
        std::vector<std::thread> pool;
        for (unsigned w = 1; w < workers; ++w) {
            const index_t first = blocks * w / workers, last = blocks * (w + 1) / workers;
            try {
                pool.emplace_back(row_blocks, first, last);
            } catch (const std::system_error&) {  // no thread to be had: this one does the work
                row_blocks(first, last);
            }
        }
        row_blocks(0, blocks / workers);
        for (auto& th : pool) th.join();
    }
};

}  // namespace sinter::expr
