#pragma once
// The host's GEMM engine: one GemmCall in f32 (f32 accumulation, every k in order), the epilogue
// applied per element. The host twin of cuBLASLt with its fused epilogues (blas/gemm.cuh).
//
// Register-blocked: B is converted to f32 panels of a tile's columns (K x cols, contiguous) once
// per call, or once for good (HostPackedB, a model's weights); each block of a tile's rows of A
// to f32 k-major; each tile of outputs is accumulated in registers over a slice of K (GCC/Clang
// vector extensions; a plain loop elsewhere), so that each loaded B vector feeds every row of the
// tile. The portable tile is 3 rows x 3 vectors (9 accumulators: no spills in SSE's 16 registers);
// on x86-64 CPUs, chosen at run time whatever the program is built for (HostIsa), it is 6 rows x 2
// vectors of 8 lanes with fused multiply-adds where the CPU has AVX2 and FMA, 12 rows x 2 vectors
// of 16 lanes where it has AVX-512. Rows go in chunks (up to 192 rows), K in slices (256 or 128),
// and per slice every panel passes over the chunk's packed rows, so that b streams from memory
// once per chunk, not once per tile (detail::HostTileKernel::k_slice); while a panel's tiles
// compute, they prefetch the next panel into L2. A whole tile of an f32 output is finished (bias,
// GELU or ReLU, residual) in the tile's instruction set, straight from its sums to y
// (detail::HostTileOut); other tiles and activations by a general epilogue, with the same bits.
// Large products split over threads as a grid of row blocks x panels (HostGemm::threads,
// detail::host_gemm_grid). Results do not depend on the blocking, the grid, the thread count or
// the choice between AVX2 and AVX-512: every sum adds its k in order, with fused multiply-adds.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/parallel.hpp"
#include "contraction.hpp"
#include "host_math.hpp"

namespace sinter::expr {

namespace detail {

#if defined(SINTER_HOST_VECTOR_LANES)  // GCC/Clang vector extensions (host_math.hpp)
#define SINTER_HOST_NOINLINE __attribute__((noinline))
#define SINTER_HOST_PREFETCH(p) __builtin_prefetch((p), 0, 2)  // prefetcht1: to L2, not L1 (32 KiB on AVX2 CPUs)
// A tile's loops over its rows and vectors, unrolled whatever the optimisation level: GCC 12 at
// -O2 (CMake's RelWithDebInfo) leaves them rolled, its accumulators then live in memory, and the
// tile runs 3x slower than at -O3.
#define SINTER_HOST_UNROLL _Pragma("GCC unroll 16")
#if defined(__AVX__)
inline constexpr int host_lanes = 8;
#else
inline constexpr int host_lanes = 4;
#endif
typedef float host_vec __attribute__((vector_size(4 * host_lanes)));
#else
#define SINTER_HOST_NOINLINE
#define SINTER_HOST_PREFETCH(p) ((void)(p))
#define SINTER_HOST_UNROLL
inline constexpr int host_lanes = 1;
typedef float host_vec;
#endif

// nvcc's front end does not know GCC's unroll pragma, but passes it on to the host compiler.
#if defined(__NVCC__)
#pragma nv_diagnostic push
#pragma nv_diag_suppress 1675
#endif

struct HostTile {
    static constexpr int rows = 3, vectors = 3, cols = vectors * host_lanes;
};

template <std::size_t... L>
SINTER_HD host_vec splat(float v, std::index_sequence<L...>) {
    return host_vec{((void)L, v)...};
}

// acc (rows x cols) = [acc +] x b over K: x packed k-major (K x rows), b a panel (K x cols), both
// read front to back; `accumulate` continues sums stored in acc_out (exactly: f32 in memory is
// f32 in a register). Not inlined: on its own, the compiler keeps all of acc in registers.
// Meanwhile the first `ahead` cache lines (of 64 bytes) from `next` are prefetched, one per k: the
// panel the next tiles read, on its way from memory while this one computes (HostGemm::run).
SINTER_HOST_NOINLINE inline void host_gemm_tile(float* acc_out, const float* x, const float* b, index_t K,
                                                bool accumulate, const float* next, index_t ahead) {
    constexpr int R = HostTile::rows, V = HostTile::vectors;
    host_vec acc[R][V] = {};
    if (accumulate)
        SINTER_HOST_UNROLL for (int i = 0; i < R; ++i)
            SINTER_HOST_UNROLL for (int j = 0; j < V; ++j)
                std::memcpy(&acc[i][j], acc_out + (i * V + j) * host_lanes, sizeof(host_vec));
    for (index_t k = 0; k < K; ++k, x += R, b += HostTile::cols) {
        if (k < ahead) SINTER_HOST_PREFETCH(next + 16 * k);
        host_vec bv[V];
        std::memcpy(bv, b, sizeof bv);
        SINTER_HOST_UNROLL for (int i = 0; i < R; ++i) {
            const host_vec xv = splat(x[i], std::make_index_sequence<host_lanes>{});
            SINTER_HOST_UNROLL for (int j = 0; j < V; ++j) acc[i][j] += xv * bv[j];
        }
    }
    // Through a copy: acc's address is never taken, so it stays in registers.
    SINTER_HOST_UNROLL for (int i = 0; i < R; ++i)
        SINTER_HOST_UNROLL for (int j = 0; j < V; ++j) {
            const host_vec v = acc[i][j];
            std::memcpy(acc_out + (i * V + j) * host_lanes, &v, sizeof v);
        }
}

// A whole tile's epilogue for an f32 output, in the tile's instruction set: y[i][j] =
// act(sums[i][j] + bias[j]) + residual[i][j] (bias and residual optional; act none, GELU or ReLU),
// a vector at a time from the sums the tile has just stored (loads of the stores' size, forwarded
// from them), straight to y. The operations of HostGemm::run's general epilogue, in its order,
// and so its bits. (A residual comes only without an activation, check_gemm_call: no product
// precedes its add, so -ffp-contract=fast, GCC's and Clang's default in C++, fuses nothing.)
struct HostTileOut {
    float* y;               // the tile's first output; rows `ld` apart
    const float* bias;      // the tile's columns of the bias, or null
    const float* residual;  // the tile's first residual; rows `ld` apart; or null
    index_t ld;
    Activation act;         // none, gelu or relu
};

#if defined(SINTER_HOST_VECTOR_LANES)
// HostTileOut's work for a tile of R rows x V vectors F (inlined into a function of the tile's
// instruction set).
template <class F, int R, int V>
SINTER_HOST_ALWAYS_INLINE inline void host_tile_out(const float* sums, const HostTileOut& out) {
    using I = host_lane_int<F>;
    constexpr int W = int(sizeof(F) / sizeof(float));
    // Locals, not out's members: a store through y could otherwise be taken to change them.
    float* const y = out.y;
    const float *const bias = out.bias, *const residual = out.residual;
    const index_t ld = out.ld;
    const Activation act = out.act;
    for (int i = 0; i < R; ++i)
        SINTER_HOST_UNROLL for (int j = 0; j < V; ++j) {
            F v;
            std::memcpy(&v, sums + (i * V + j) * W, sizeof v);
            if (bias) {
                F b;
                std::memcpy(&b, bias + j * W, sizeof b);
                v += b;
            }
            if (act == Activation::gelu)
                host_gelu_lane(v);
            else if (act == Activation::relu)
                v = __builtin_bit_cast(F, __builtin_bit_cast(I, v) & (v > 0.f));  // NaN and -0: +0, as v > 0 ? v : 0
            if (residual) {
                F r;
                std::memcpy(&r, residual + i * ld + j * W, sizeof r);
                v += r;
            }
            std::memcpy(y + i * ld + j * W, &v, sizeof v);
        }
}

// For the portable tile (baseline vectors).
SINTER_HOST_NOINLINE inline void host_tile_out_portable(const float* sums, const HostTileOut& out) {
    host_tile_out<host_vec, HostTile::rows, HostTile::vectors>(sums, out);
}
#endif

// On x86-64 with GCC or Clang (and nvcc over them): a tile for CPUs that have AVX2 and FMA, chosen
// at run time: 6 rows x 2 vectors of 8 lanes, 12 accumulators (enough independent fused
// multiply-adds in flight for two FMA pipes of 4-5 cycles' latency), 2 loads and 6 broadcasts per
// 12 FMAs; 15 of the 16 vector registers.
#if defined(SINTER_HOST_ISA_DISPATCH)
struct HostTileAvx2 {
    static constexpr int rows = 6, vectors = 2, lanes = 8, cols = vectors * lanes;
};

__attribute__((target("avx2,fma"), noinline)) inline void host_gemm_tile_avx2(float* acc_out, const float* x,
                                                                              const float* b, index_t K,
                                                                              bool accumulate, const float* next,
                                                                              index_t ahead) {
    constexpr int R = HostTileAvx2::rows, V = HostTileAvx2::vectors, W = HostTileAvx2::lanes;
    typedef float vec8 __attribute__((vector_size(32)));
    typedef float vec8_unaligned __attribute__((vector_size(32), aligned(4), may_alias));
    vec8 acc[R][V] = {};
    if (accumulate)
        SINTER_HOST_UNROLL for (int i = 0; i < R; ++i)
            SINTER_HOST_UNROLL for (int j = 0; j < V; ++j)
                acc[i][j] = *reinterpret_cast<const vec8_unaligned*>(acc_out + (i * V + j) * W);
    for (index_t k = 0; k < K; ++k, x += R, b += V * W) {
        if (k < ahead) SINTER_HOST_PREFETCH(next + 16 * k);
        vec8 bv[V];
        SINTER_HOST_UNROLL for (int j = 0; j < V; ++j)
            bv[j] = *reinterpret_cast<const vec8_unaligned*>(b + j * W);  // one vmovups
        SINTER_HOST_UNROLL for (int i = 0; i < R; ++i) {
            const vec8 xv = {x[i], x[i], x[i], x[i], x[i], x[i], x[i], x[i]};
            SINTER_HOST_UNROLL for (int j = 0; j < V; ++j) acc[i][j] = __builtin_ia32_vfmaddps256(xv, bv[j], acc[i][j]);
        }
    }
    SINTER_HOST_UNROLL for (int i = 0; i < R; ++i)
        SINTER_HOST_UNROLL for (int j = 0; j < V; ++j) {
            *reinterpret_cast<vec8_unaligned*>(acc_out + (i * V + j) * W) = acc[i][j];
        }
}

// And one for CPUs with AVX-512: 12 rows x 2 vectors of 16 lanes, 24 accumulators, 2 loads and 12
// broadcasts per 24 FMAs (FMA-bound on two 512-bit pipes); 27 of the 32 vector registers. Each
// lane's sum is the AVX2 tile's: the same fused multiply-adds in the same order.
struct HostTileAvx512 {
    static constexpr int rows = 12, vectors = 2, lanes = 16, cols = vectors * lanes;
};

__attribute__((target("avx512f"), noinline)) inline void host_gemm_tile_avx512(float* acc_out, const float* x,
                                                                                const float* b, index_t K,
                                                                                bool accumulate, const float* next,
                                                                                index_t ahead) {
    constexpr int R = HostTileAvx512::rows, V = HostTileAvx512::vectors, W = HostTileAvx512::lanes;
    typedef float vec16 __attribute__((vector_size(64)));
    typedef float vec16_unaligned __attribute__((vector_size(64), aligned(4), may_alias));
    vec16 acc[R][V] = {};
    if (accumulate)
        SINTER_HOST_UNROLL for (int i = 0; i < R; ++i)
            SINTER_HOST_UNROLL for (int j = 0; j < V; ++j)
                acc[i][j] = *reinterpret_cast<const vec16_unaligned*>(acc_out + (i * V + j) * W);
    for (index_t k = 0; k < K; ++k, x += R, b += V * W) {
        if (k < ahead) SINTER_HOST_PREFETCH(next + 16 * k);
        vec16 bv[V];
        SINTER_HOST_UNROLL for (int j = 0; j < V; ++j) bv[j] = *reinterpret_cast<const vec16_unaligned*>(b + j * W);
        SINTER_HOST_UNROLL for (int i = 0; i < R; ++i) {
            const float s = x[i];
            const vec16 xv = {s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s};  // one vbroadcastss
            SINTER_HOST_UNROLL for (int j = 0; j < V; ++j)
                acc[i][j] = __builtin_ia32_vfmaddps512_mask(xv, bv[j], acc[i][j], -1, 4);
        }
    }
    SINTER_HOST_UNROLL for (int i = 0; i < R; ++i)
        SINTER_HOST_UNROLL for (int j = 0; j < V; ++j)
            *reinterpret_cast<vec16_unaligned*>(acc_out + (i * V + j) * W) = acc[i][j];
}

__attribute__((target("avx2,fma"), noinline)) inline void host_tile_out_avx2(const float* sums, const HostTileOut& out) {
    host_tile_out<host_f32x8, HostTileAvx2::rows, HostTileAvx2::vectors>(sums, out);
}
__attribute__((target("avx512f"), noinline)) inline void host_tile_out_avx512(const float* sums,
                                                                               const HostTileOut& out) {
    host_tile_out<host_f32x16, HostTileAvx512::rows, HostTileAvx512::vectors>(sums, out);
}
#endif

#if defined(__NVCC__)
#pragma nv_diagnostic pop
#endif

// The K slice of the cache blocking (below) for panels up to 16 columns wide: 256 x 16 floats,
// 16 KiB, stay in L1 beside a block's rows; a 32-column panel takes half as many k.
inline constexpr index_t host_k_slice = 256;

// The tile to use: its rows (a's blocks), its width in columns (the B panels' width), the K slice
// that keeps a panel's slice in L1, the function that accumulates it, its instruction set, and
// the whole tile's f32 epilogue in that set (null, without GCC/Clang vectors: the general one only).
struct HostTileKernel {
    index_t rows, cols, k_slice;
    void (*tile)(float*, const float*, const float*, index_t, bool, const float*, index_t);
    HostIsa isa;
    void (*out)(const float*, const HostTileOut&) = nullptr;
};

inline HostTileKernel host_tile_kernel(HostIsa want) {
#if defined(SINTER_HOST_ISA_DISPATCH)
    switch (resolve(want)) {
        case HostIsa::avx512:
            return {HostTileAvx512::rows, HostTileAvx512::cols, host_k_slice / 2, host_gemm_tile_avx512,
                    HostIsa::avx512, host_tile_out_avx512};
        case HostIsa::avx2:
            return {HostTileAvx2::rows, HostTileAvx2::cols, host_k_slice, host_gemm_tile_avx2, HostIsa::avx2,
                    host_tile_out_avx2};
        default: break;
    }
#endif
    (void)want;
#if defined(SINTER_HOST_VECTOR_LANES)
    return {HostTile::rows, HostTile::cols, host_k_slice, host_gemm_tile, HostIsa::portable, host_tile_out_portable};
#else
    return {HostTile::rows, HostTile::cols, host_k_slice, host_gemm_tile, HostIsa::portable};
#endif
}

// v[0, n) = act(v[0, n)), one loop per activation (vectorised).
inline void host_activate(Activation act, float* v, index_t n, HostIsa isa = HostIsa::best) {
    switch (act) {
        case Activation::none: return;
        case Activation::gelu: return host_gelu(v, n, isa);
        case Activation::relu:
            for (index_t i = 0; i < n; ++i) v[i] = v[i] > 0.f ? v[i] : 0.f;
            return;
        default:
            for (index_t i = 0; i < n; ++i) v[i] = op::activation{act}(v[i]);
    }
}

// Columns [n0, n0 + cols) of op(b) as one f32 panel (K x cols, zeros past N).
template <class T>
void pack_host_panel(float* panel, const T* b, bool b_transposed, index_t n0, index_t cols, index_t N, index_t K) {
    const index_t nc = std::min(cols, N - n0);
    for (index_t k0 = 0; k0 < K; k0 += 16) {  // 16 k at a time: each row of b read a cache line at once
        const index_t k1 = std::min(K, k0 + 16);
        for (index_t j = 0; j < cols; ++j)
            for (index_t k = k0; k < k1; ++k)
                panel[k * cols + j] = j >= nc ? 0.f : to_float(b_transposed ? b[(n0 + j) * K + k] : b[k * N + n0 + j]);
    }
}

// A block of R rows of a (nr of them real, row stride lda), k in [0, kc), packed k-major for the
// tile: xb[k R + i] = a[i][k] (zeros for rows past nr). k outer, rows inner: the stores go in order
// (a row at a time, they would stride a cache line per store), the loads walk R rows side by side.
template <int R, class T>
void pack_host_rows_fixed(float* xb, const T* a, index_t lda, index_t kc) {
    index_t k = 0;
#if defined(__GNUC__) && !defined(__CUDA_ARCH__) && (defined(__clang__) || __GNUC__ >= 12)
    // f32 rows in fours: 4 x 4 blocks transposed in registers (4 loads, 8 shuffles, 4 stores for
    // 16 floats), not one scalar load and store per float through R row pointers (more than the
    // registers: they were reloaded from the stack per float).
    if constexpr (std::is_same_v<T, float> && R >= 4) {
        typedef float vec4 __attribute__((vector_size(16)));
        typedef float vec4_unaligned __attribute__((vector_size(16), aligned(4), may_alias));
        const auto load = [&](int i, index_t at) { return *reinterpret_cast<const vec4_unaligned*>(a + i * lda + at); };
        for (; k + 4 <= kc; k += 4) {
            float* out = xb + k * R;
            for (int g = 0; g + 4 <= R; g += 4) {
                const vec4 r0 = load(g, k), r1 = load(g + 1, k), r2 = load(g + 2, k), r3 = load(g + 3, k);
                const vec4 lo01 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5), hi01 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
                const vec4 lo23 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5), hi23 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
                *reinterpret_cast<vec4_unaligned*>(out + g) = __builtin_shufflevector(lo01, lo23, 0, 1, 4, 5);
                *reinterpret_cast<vec4_unaligned*>(out + R + g) = __builtin_shufflevector(lo01, lo23, 2, 3, 6, 7);
                *reinterpret_cast<vec4_unaligned*>(out + 2 * R + g) = __builtin_shufflevector(hi01, hi23, 0, 1, 4, 5);
                *reinterpret_cast<vec4_unaligned*>(out + 3 * R + g) = __builtin_shufflevector(hi01, hi23, 2, 3, 6, 7);
            }
            for (int i = R / 4 * 4; i < R; ++i)
                for (int j = 0; j < 4; ++j) out[j * R + i] = a[i * lda + k + j];
        }
    }
#endif
    for (; k < kc; ++k)
        for (int i = 0; i < R; ++i) xb[k * R + i] = to_float(a[i * lda + k]);
}

template <class T>
void pack_host_rows(float* xb, const T* a, index_t lda, index_t nr, index_t R, index_t kc) {
    if (nr == R) {  // every block but a product's last: the tile's R known at compile time
        if (R == HostTile::rows) return pack_host_rows_fixed<HostTile::rows>(xb, a, lda, kc);
#if defined(SINTER_HOST_ISA_DISPATCH)
        if (R == HostTileAvx2::rows) return pack_host_rows_fixed<HostTileAvx2::rows>(xb, a, lda, kc);
        if (R == HostTileAvx512::rows) return pack_host_rows_fixed<HostTileAvx512::rows>(xb, a, lda, kc);
#endif
    }
    for (index_t k = 0; k < kc; ++k, xb += R)
        for (index_t i = 0; i < R; ++i) xb[i] = i < nr ? to_float(a[i * lda + k]) : 0.f;
}

// Uninitialised floats on a cache line's boundary: a 64-byte vector load from them never splits
// across two lines (operator new only promises 16 bytes).
struct HostLineDelete {
    void operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }
};
using HostLineBuffer = std::unique_ptr<float[], HostLineDelete>;

inline HostLineBuffer host_line_buffer(index_t n) {
    return HostLineBuffer(static_cast<float*>(::operator new[](std::size_t(n) * sizeof(float), std::align_val_t(64))));
}

// The cache blocking (GotoBLAS's): K in slices of the tile's k_slice, so that a panel's slice (16
// KiB) stays in L1 while a chunk of row blocks passes over it; the chunk's packed rows of a for one
// slice (at most host_chunk_bytes: 192 rows, 192 KiB) stay in L2 while every panel passes; b then
// streams from memory once per chunk of rows, whatever K is. The chunk's f32 sums (rows x N) wait
// between slices in a buffer of at most host_sums_bytes.
inline constexpr index_t host_chunk_bytes = index_t(192) << 10;
inline constexpr index_t host_sums_bytes = index_t(4) << 20;

// How a product's row blocks x panels split over `workers` threads: row_groups x panel_groups
// parts (at most `workers`), each a rectangle of tiles. Chosen for the fewest tiles in the largest
// part; on a tie, the least data a part reads: its rows of a (`rows` per block; each panel group
// packs them again) and its panels' `cols` columns of b (once per chunk of `chunk` blocks); then
// the most row groups. One sequence's rows (11 blocks on the AVX-512 tile) split their panels, not
// 5 + 6 blocks; many rows split rows.
struct HostGemmGrid {
    index_t row_groups = 1, panel_groups = 1;
};

inline HostGemmGrid host_gemm_grid(index_t blocks, index_t panels, unsigned workers, index_t chunk, index_t rows,
                                   index_t cols) {
    const auto up = [](index_t n, index_t d) { return (n + d - 1) / d; };
    HostGemmGrid best;
    index_t best_tiles = 0, best_read = 0;
    for (index_t pg = 1; pg <= std::min(index_t(workers), panels); ++pg) {
        const index_t rg = std::min(blocks, index_t(workers) / pg);
        const index_t part_blocks = up(blocks, rg), part_panels = up(panels, pg);
        const index_t tiles = part_blocks * part_panels;
        const index_t read = part_blocks * rows + up(part_blocks, chunk) * part_panels * cols;  // per k
        if (pg == 1 || tiles < best_tiles || (tiles == best_tiles && read < best_read)) {
            best = {rg, pg};
            best_tiles = tiles;
            best_read = read;
        }
    }
    return best;
}

}  // namespace detail

// A b packed once, for a b that does not change while the pack lives (a model's weights): what
// HostGemm otherwise packs on every call (f32 panels of `cols` columns, K x cols each, zeros past
// N), kept. Built for the tile width HostGemm will use (its isa); a call uses it when its
// b, layout, extents, dtype and tile width all match, and packs as usual otherwise.
struct HostPackedB {
    const void* source = nullptr;
    int dtype = 0;
    bool b_transposed = true;
    index_t N = 0, K = 0, cols = 0;
    detail::HostLineBuffer panels;

    // `workers` threads pack the panels (HostGemm packs per call with its own).
    template <class T>
    static HostPackedB pack(const T* b, bool b_transposed, index_t N, index_t K, HostIsa isa = HostIsa::best,
                            unsigned workers = 1) {
        HostPackedB p;
        p.source = b;
        p.dtype = int(dtype_of<T>);
        p.b_transposed = b_transposed;
        p.N = N;
        p.K = K;
        p.cols = detail::host_tile_kernel(isa).cols;
        const index_t count = (N + p.cols - 1) / p.cols;
        p.panels = detail::host_line_buffer(count * K * p.cols);
        host_parallel_for(count, workers, [&](index_t first, index_t last) {
            for (index_t q = first; q < last; ++q)
                detail::pack_host_panel(p.panels.get() + q * K * p.cols, b, b_transposed, q * p.cols, p.cols, N, K);
        });
        return p;
    }

    template <class T>
    bool serves(const GemmCall<T>& c, index_t tile_cols) const {
        return source == static_cast<const void*>(c.b) && dtype == int(dtype_of<T>) && b_transposed == c.b_transposed &&
               N == c.N && K == c.K && cols == tile_cols;
    }
};

// The packs a HostGemm may use (HostGemm::packed): found by the call's b, by address. The b's must
// outlive the set and never change: hand it their owner (keep_alive), or a freed b's address reused
// by another matrix of the same extents would be served the old panels.
class HostPackedSet {
public:
    void add(HostPackedB pack) { packs_.push_back(std::move(pack)); }
    void keep_alive(std::shared_ptr<const void> owner) { owner_ = std::move(owner); }
    template <class T>
    const float* find(const GemmCall<T>& c, index_t tile_cols) const {
        for (const HostPackedB& p : packs_)
            if (p.serves(c, tile_cols)) return p.panels.get();
        return nullptr;
    }
    std::size_t size() const { return packs_.size(); }

private:
    std::vector<HostPackedB> packs_;
    std::shared_ptr<const void> owner_;
};

struct HostGemm {
    // Threads for one call: 0 = host_threads() (SINTER_NUM_THREADS, else the CPUs this process
    // may run on); small products use one.
    unsigned threads = 0;
    // The tile's and the epilogue's instruction set (HostIsa): by default the widest this CPU has;
    // HostIsa::portable: only what the program was compiled for.
    HostIsa isa = HostIsa::best;
    // b's packed beforehand (a model's weights; not owned): used instead of packing per call.
    const HostPackedSet* packed = nullptr;

    template <class T>
    void run(const GemmCall<T>& c) const {
        check_gemm_call(c, "expr::HostGemm");
        const detail::HostTileKernel kernel = detail::host_tile_kernel(isa);
        const index_t cols = kernel.cols, R = kernel.rows;  // a tile: R rows x cols
        const index_t rows = c.rows, N = c.N, K = c.K;
        if (rows == 0 || N == 0) return;
        // B as f32 panels of `cols` output columns (zero-padded past N), each K x cols, whichever
        // way b is stored: packed beforehand, or here, in parallel too.
        const index_t panels = (N + cols - 1) / cols, blocks = (rows + R - 1) / R;
        const unsigned workers = host_workers(threads, blocks * panels, double(rows) * double(N) * double(K));
        const float* const prepacked = packed ? packed->find(c, cols) : nullptr;
        const HostPackedB packed_here =
            prepacked ? HostPackedB{} : HostPackedB::pack(c.b, c.b_transposed, N, K, kernel.isa, workers);
        const float* const b = prepacked ? prepacked : packed_here.panels.get();

        // Locals, not c's members: stores through y could otherwise be taken to change them.
        T* const y = c.y;
        const T *const a = c.a, *const bias = c.bias, *const residual = c.residual;
        const Activation act = c.activation;
        const index_t slice = std::min(kernel.k_slice, std::max<index_t>(K, 1));
        const index_t tile_floats = R * cols;
        const index_t chunk_in_l2 = detail::host_chunk_bytes / (slice * R * index_t(sizeof(float)));
        const detail::HostGemmGrid grid = detail::host_gemm_grid(blocks, panels, workers, chunk_in_l2, R, cols);
        const index_t part_panels = (panels + grid.panel_groups - 1) / grid.panel_groups;
        const index_t chunk = std::clamp<index_t>(
            std::min(chunk_in_l2, detail::host_sums_bytes / (part_panels * tile_floats * index_t(sizeof(float)))), 1,
            blocks);
        // A whole tile's f32 epilogue in the tile's instruction set, where it has one for the
        // activation (detail::HostTileOut; the same bits as the general one below).
        const bool whole_tile_out =
            kernel.out && (act == Activation::none || act == Activation::gelu || act == Activation::relu);
        // One tile's epilogue (block blk, columns n0 .. n0 + nc): the bias a row at a time, the
        // activation over the tile's rows at once (contiguous; columns past nc are never stored),
        // then the residual and the store a row at a time.
        const auto epilogue = [&](float* tile, index_t blk, index_t n0, index_t nc) {
            const index_t t0 = blk * R, nr = std::min<index_t>(R, rows - t0);
            if (bias)
                for (index_t i = 0; i < nr; ++i)
                    for (index_t j = 0; j < nc; ++j) tile[i * cols + j] += to_float(bias[n0 + j]);
            detail::host_activate(act, tile, nr * cols, kernel.isa);
            for (index_t i = 0; i < nr; ++i) {
                const float* v = tile + i * cols;
                T* out = y + (t0 + i) * N + n0;
                if (residual) {
                    const T* res = residual + (t0 + i) * N + n0;
                    for (index_t j = 0; j < nc; ++j) out[j] = from_float<T>(v[j] + to_float(res[j]));
                } else {
                    for (index_t j = 0; j < nc; ++j) out[j] = from_float<T>(v[j]);
                }
            }
        };
        // A part of the grid: row blocks [first_block, last_block) x panels [first_panel,
        // last_panel), the blocks in chunks of equal size (at most `chunk` blocks); per chunk, per K
        // slice: the chunk's rows of a for the slice packed (per block k-major, rows past the end
        // zeros), then per panel every block of the chunk accumulates its tile's sums, and after
        // the last slice writes the tile through the epilogue. Each sum adds its k in order, so
        // results do not depend on the blocking, the grid or the thread count.
        const auto part = [&](index_t first_block, index_t last_block, index_t first_panel, index_t last_panel) {
            const index_t count = last_block - first_block, part_width = last_panel - first_panel;
            if (count <= 0 || part_width <= 0) return;
            const index_t chunks = (count + chunk - 1) / chunk, per_chunk = (count + chunks - 1) / chunks;
            // Not zeroed (each is written before it is read): the sums may be megabytes per call.
            const auto x = detail::host_line_buffer(per_chunk * slice * R);
            const auto sums = detail::host_line_buffer(per_chunk * part_width * tile_floats);
            for (index_t c0 = first_block; c0 < last_block; c0 += per_chunk) {
                const index_t c1 = std::min(last_block, c0 + per_chunk);
                for (index_t k0 = 0; k0 == 0 || k0 < K; k0 += slice) {  // K = 0: zeros
                    const index_t kc = std::min(slice, K - k0);
                    const bool last = k0 + kc >= K;
                    for (index_t blk = c0; blk < c1; ++blk) {
                        float* xb = x.get() + (blk - c0) * kc * R;
                        const index_t t0 = blk * R;
                        detail::pack_host_rows(xb, a + t0 * K + k0, K, std::min<index_t>(R, rows - t0), R, kc);
                    }
                    for (index_t p = first_panel; p < last_panel; ++p) {
                        const float* panel = b + p * K * cols + k0 * cols;
                        const index_t n0 = p * cols, nc = std::min<index_t>(cols, N - n0);
                        // What the tiles read next, prefetched by this panel's tiles (kc lines
                        // each, in order): the next panel's slice, else the next slice's first
                        // panel, else the next chunk's.
                        const float* next = nullptr;
                        index_t next_lines = 0;
                        if (p + 1 < last_panel || !last || c1 < last_block) {
                            const index_t next_k0 = p + 1 < last_panel ? k0 : last ? 0 : k0 + kc;
                            const index_t next_p = p + 1 < last_panel ? p + 1 : first_panel;
                            next = b + next_p * K * cols + next_k0 * cols;
                            next_lines = std::min(slice, K - next_k0) * cols / 16;
                        }
                        for (index_t blk = c0; blk < c1; ++blk) {
                            float* tile = sums.get() + ((p - first_panel) * per_chunk + (blk - c0)) * tile_floats;
                            const index_t done = (blk - c0) * kc;  // lines the earlier tiles prefetched
                            const index_t ahead = std::clamp<index_t>(next_lines - done, 0, kc);
                            kernel.tile(tile, x.get() + (blk - c0) * kc * R, panel, kc, k0 > 0,
                                        ahead ? next + 16 * done : next, ahead);
                            if (!last) continue;
                            if constexpr (std::is_same_v<T, float>)
                                if (whole_tile_out && nc == cols && (blk + 1) * R <= rows) {
                                    const index_t at = blk * R * N + n0;
                                    kernel.out(tile, {y + at, bias ? bias + n0 : nullptr,
                                                      residual ? residual + at : nullptr, N, act});
                                    continue;
                                }
                            epilogue(tile, blk, n0, nc);
                        }
                    }
                }
            }
        };
        const index_t row_groups = grid.row_groups, panel_groups = grid.panel_groups;
        const index_t parts = row_groups * panel_groups;
        host_parallel_for(parts, unsigned(std::min<index_t>(parts, workers)), [&](index_t first, index_t last) {
            for (index_t g = first; g < last; ++g) {
                const index_t r = g / panel_groups, q = g % panel_groups;
                part(blocks * r / row_groups, blocks * (r + 1) / row_groups, panels * q / panel_groups,
                     panels * (q + 1) / panel_groups);
            }
        });
    }
};

}  // namespace sinter::expr
