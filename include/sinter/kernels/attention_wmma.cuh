#pragma once
// The wmma attention kernel (f16/bf16, any architecture with WMMA; bf16 needs sm_80): a block of 4
// warps owns 64 queries of one (sequence, head) and walks its keys a tile at a time, WMMA 16x16x16
// for S = Q K^T and O += P V, with the scores, probabilities and the f32 output accumulator in
// shared memory and the online softmax between them. Simpler and slower than the flash kernel;
// the fallback before sm_80. Launched through kernels::attention (attention.cuh), which documents
// the layout: qkv (T, 3H) packed variable-length sequences by prefix offsets, ctx (T, H).
// Host twin: nn/attention_host.hpp.
#include <mma.h>

#include <type_traits>

#include "../core/dtype.hpp"

namespace sinter::kernels::detail {

// The wmma kernel's shared memory. The rows the softmax pass walks element by element (scores,
// probabilities, output) are padded 16 bytes, so that the 16 rows a warp touches at once start in
// 8 different banks (unpadded rows of 128 or 256 bytes all start in bank 0), and the pass staggers
// the second 8 by two columns: no bank conflicts. The padded strides keep WMMA's rules: ldm a
// multiple of 16 bytes, every fragment pointer 32-byte aligned.
template <class T, int HD>
struct AttentionTiles {
    // 32-key tiles from head size 64: 47.5 KiB at 32 and 64 (within the 64 KiB of an sm_75
    // block), 79.5 KiB at 128.
    static constexpr int BQ = 64, BK = HD >= 64 ? 32 : 64, warps = 4, threads = 32 * warps;
    static constexpr int SLD = BK + 4, PLD = BK + 8, OLD = HD + 4;  // padded row strides, in elements
    static constexpr std::size_t round(std::size_t b) { return (b + 127) / 128 * 128; }
    static constexpr std::size_t q = 0;                                       // (BQ, HD) T
    static constexpr std::size_t k = q + round(BQ * HD * sizeof(T));         // (BK, HD) T
    static constexpr std::size_t v = k + round(BK * HD * sizeof(T));         // (BK, HD) T
    static constexpr std::size_t s = v + round(BK * HD * sizeof(T));         // (BQ, SLD) f32 scores
    static constexpr std::size_t p = s + round(BQ * SLD * sizeof(float));    // (BQ, PLD) T probabilities
    static constexpr std::size_t o = p + round(BQ * PLD * sizeof(T));        // (BQ, OLD) f32 output
    static constexpr std::size_t stats = o + round(BQ * OLD * sizeof(float)); // (BQ) max, sum
    static constexpr std::size_t bytes = stats + round(2 * BQ * sizeof(float));
    static_assert(SLD % 4 == 0 && PLD % 8 == 0 && OLD % 4 == 0, "WMMA: ldm a multiple of 16 bytes");
    static_assert(16 * SLD * 4 % 32 == 0 && 16 * PLD * sizeof(T) % 32 == 0 && 16 * OLD * 4 % 32 == 0,
                  "WMMA: each warp's 16-row block 32-byte aligned");
};

// Copies rows [row0, row0 + rows) of one head's HD columns at column `col` of qkv into shared
// memory, 16 bytes at a time; rows past `len` are zeros (never garbage: 0 * NaN is NaN).
template <class T, int HD, int Rows>
__device__ __forceinline__ void load_tile(T* dst, const T* qkv, index_t ld, index_t first_row, int row0, int len,
                                          index_t col) {
    constexpr int per_row = HD * int(sizeof(T)) / 16;
    for (int i = threadIdx.x; i < Rows * per_row; i += blockDim.x) {
        const int r = i / per_row, c = i % per_row;
        uint4 val = make_uint4(0, 0, 0, 0);
        if (row0 + r < len) val = reinterpret_cast<const uint4*>(qkv + (first_row + row0 + r) * ld + col)[c];
        reinterpret_cast<uint4*>(dst + r * HD)[c] = val;
    }
}

// One pass of the wmma kernel below: queries [q0, q0 + BQ) of sequence blockIdx.z (q0 < len), head
// blockIdx.y.
template <class T, int HD>
__device__ __forceinline__ void attention_mma_block(T* __restrict__ ctx, const T* __restrict__ qkv,
                                                    const std::int32_t* __restrict__ offsets, int heads, float scale,
                                                    int q0) {
    using namespace nvcuda;
    using Tiles = AttentionTiles<T, HD>;
    constexpr int BQ = Tiles::BQ, BK = Tiles::BK, SLD = Tiles::SLD, PLD = Tiles::PLD, OLD = Tiles::OLD;
    extern __shared__ __align__(128) unsigned char smem[];
    T* sq = reinterpret_cast<T*>(smem + Tiles::q);
    T* sk = reinterpret_cast<T*>(smem + Tiles::k);
    T* sv = reinterpret_cast<T*>(smem + Tiles::v);
    float* ss = reinterpret_cast<float*>(smem + Tiles::s);
    T* sp = reinterpret_cast<T*>(smem + Tiles::p);
    float* so = reinterpret_cast<float*>(smem + Tiles::o);
    float* row_max = reinterpret_cast<float*>(smem + Tiles::stats);
    float* row_sum = row_max + BQ;

    const int b = blockIdx.z, h = blockIdx.y;
    const index_t first = offsets[b];
    const int len = offsets[b + 1] - int(first);
    const index_t H = index_t(heads) * HD, ld = 3 * H;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

    load_tile<T, HD, BQ>(sq, qkv, ld, first, q0, len, index_t(h) * HD);
    for (int i = threadIdx.x; i < BQ * OLD; i += blockDim.x) so[i] = 0.f;
    for (int i = threadIdx.x; i < BQ; i += blockDim.x) {
        row_max[i] = -f32_inf;
        row_sum[i] = 0.f;
    }

    for (int k0 = 0; k0 < len; k0 += BK) {
        __syncthreads();  // the previous tile's K and V are no longer read
        load_tile<T, HD, BK>(sk, qkv, ld, first, k0, len, H + index_t(h) * HD);
        load_tile<T, HD, BK>(sv, qkv, ld, first, k0, len, 2 * H + index_t(h) * HD);
        __syncthreads();

        // S (16 x BK per warp) = Q K^T: K stored (BK, HD) row-major is K^T column-major.
        {
            // acc is indexed by compile-time j only (unrolled loops), so it stays in registers.
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[BK / 16];
            SINTER_UNROLL
            for (int j = 0; j < BK / 16; ++j) wmma::fill_fragment(acc[j], 0.f);
            for (int kk = 0; kk < HD; kk += 16) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
                wmma::load_matrix_sync(a, sq + warp * 16 * HD + kk, HD);
                SINTER_UNROLL
                for (int j = 0; j < BK / 16; ++j) {
                    wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> kt;
                    wmma::load_matrix_sync(kt, sk + j * 16 * HD + kk, HD);
                    wmma::mma_sync(acc[j], a, kt, acc[j]);
                }
            }
            SINTER_UNROLL
            for (int j = 0; j < BK / 16; ++j)
                wmma::store_matrix_sync(ss + warp * 16 * SLD + j * 16, acc[j], SLD, wmma::mem_row_major);
        }
        __syncwarp();

        // Online softmax: two lanes per row, one the even columns, one the odd. Every padded stride
        // (SLD, OLD floats; PLD 16-bit elements) puts rows r and r + 8 in the same bank, so the
        // warp's second 8 rows walk their columns from 2 further on: the 32 lanes meet 32 banks.
        {
            const int r = warp * 16 + lane / 2, c0 = lane % 2, turn = 2 * (lane / 16);
            const auto column = [&](int i, int width) { return (c0 + 2 * i + turn) % width; };  // i-th of this lane
            const float* srow = ss + r * SLD;
            float tile_max = -f32_inf;
            for (int i = 0; i < BK / 2; ++i) {
                const int c = column(i, BK);
                if (k0 + c < len) tile_max = fmaxf(tile_max, srow[c] * scale);
            }
            tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
            const float old_max = row_max[r];
            const float new_max = fmaxf(old_max, tile_max);  // finite: key k0 is valid
            float sum = 0.f;
            T* prow = sp + r * PLD;
            for (int i = 0; i < BK / 2; ++i) {
                const int c = column(i, BK);
                const float e = k0 + c < len ? __expf(srow[c] * scale - new_max) : 0.f;
                prow[c] = from_float<T>(e);
                sum += e;
            }
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            const float alpha = __expf(old_max - new_max);  // 0 on the first tile
            float* orow = so + r * OLD;
            for (int i = 0; i < HD / 2; ++i) orow[column(i, HD)] *= alpha;
            __syncwarp();
            if (lane % 2 == 0) {
                row_max[r] = new_max;
                row_sum[r] = row_sum[r] * alpha + sum;
            }
        }
        __syncwarp();

        // O (16 x HD per warp) += P V.
        for (int j = 0; j < HD / 16; ++j) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> o;
            wmma::load_matrix_sync(o, so + warp * 16 * OLD + j * 16, OLD, wmma::mem_row_major);
            for (int kk = 0; kk < BK; kk += 16) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> pa;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> vb;
                wmma::load_matrix_sync(pa, sp + warp * 16 * PLD + kk, PLD);
                wmma::load_matrix_sync(vb, sv + kk * HD + j * 16, HD);
                wmma::mma_sync(o, pa, vb, o);
            }
            wmma::store_matrix_sync(so + warp * 16 * OLD + j * 16, o, OLD, wmma::mem_row_major);
        }
    }
    __syncthreads();
    for (int i = threadIdx.x; i < BQ * HD; i += blockDim.x) {
        const int r = i / HD, d = i % HD;
        if (q0 + r >= len) continue;
        const float l = row_sum[r];
        ctx[(first + q0 + r) * H + index_t(h) * HD + d] = from_float<T>(l > 0.f ? so[r * OLD + d] / l : 0.f);
    }
}

// Query tiles blockIdx.x, + gridDim.x, ...: one per block when the grid covers the longest sequence
// (max_len, as a session launches it), and still every query when a sequence is longer than the
// grid says. (The first pass apart from the loop: ptxas, sm_90, spills 4 bytes at bf16 head size
// 64 when every pass is the loop's, and at head size 32 when the later passes are a call.)
template <class T, int HD>
__device__ __forceinline__ void attention_mma_passes(T* __restrict__ ctx, const T* __restrict__ qkv,
                                                     const std::int32_t* __restrict__ offsets, int heads,
                                                     float scale) {
    constexpr int BQ = AttentionTiles<T, HD>::BQ;
    const int len = offsets[blockIdx.z + 1] - offsets[blockIdx.z];
    int q0 = int(blockIdx.x) * BQ;
    if (q0 >= len) return;  // uniform over the block
    attention_mma_block<T, HD>(ctx, qkv, offsets, heads, scale, q0);
    for (q0 += int(gridDim.x) * BQ; q0 < len; q0 += int(gridDim.x) * BQ) {
        __syncthreads();  // the last pass's reads of the shared O and row sums are done
        attention_mma_block<T, HD>(ctx, qkv, offsets, heads, scale, q0);
    }
}

template <class T, int HD>
__global__ void __launch_bounds__(128)
attention_mma_kernel(T* __restrict__ ctx, const T* __restrict__ qkv, const std::int32_t* __restrict__ offsets,
                     int heads, float scale) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
    if constexpr (std::is_same_v<T, bf16>)
        __trap();  // bf16 WMMA needs sm_80: never launched from code compiled for less
    else
#endif
        attention_mma_passes<T, HD>(ctx, qkv, offsets, heads, scale);
}

}  // namespace sinter::kernels::detail
