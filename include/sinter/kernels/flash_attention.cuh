#pragma once
// The f16/bf16 attention kernel for sm_80 and later, FlashAttention-2 style: everything a warp
// computes stays in registers. Used through kernels::attention (attention.cuh), which documents the
// layout: qkv (T, 3H) packed variable-length sequences by prefix offsets, ctx (T, H).
//
// A block of 4 warps owns 64 queries of one (sequence, head), 16 per warp, and walks the
// sequence's keys 64 at a time:
//   S (16 x 64) = Q K^T          mma.m16n8k16: Q fragments kept in registers, K by ldmatrix
//   running max m, sum l          per row, f32, over the 4 lanes that share a row (shuffles)
//   O (16 x HD) = O e^(m_old - m) + P V   P = e^(S - m) rounded to T, fed back as A fragments
//                                         straight from the S accumulators; V by ldmatrix.trans
// K and V tiles are double-buffered in shared memory with cp.async (the next tile loads while this
// one is computed); rows are padded by 16 bytes so that ldmatrix's 8 rows fall in distinct banks.
// Keys past the sequence score -inf (a predicate, no mask tensor); queries past it are not
// written. Scores use exp2 with log2(e) folded into the scale. Host twin: nn/attention_host.hpp.
#include "../core/dtype.hpp"
// By the include path, not beside this file: the SIMT emulator (tests/simt) puts its own PTX
// primitives in its place to run this kernel on the host.
#include <sinter/kernels/mma.cuh>

namespace sinter::kernels::detail {

template <class T, int HD>
struct FlashTiles {
    static constexpr int BQ = 64, BK = 64, warps = 4, threads = 32 * warps;
    static constexpr int LD = HD + 8;  // elements per shared-memory row
    static constexpr std::size_t tile = std::size_t(64) * LD;
    // Q, then K and V twice (double buffer).
    static constexpr std::size_t bytes = 5 * tile * sizeof(T);
};

// Issues the copy of rows [row0, row0 + 64) of one head's HD columns (column `col` of qkv) into a
// padded shared tile; rows past `len` are zero-filled (never garbage: 0 * NaN is NaN).
template <class T, int HD>
__device__ __forceinline__ void copy_tile_async(T* dst, const T* qkv, index_t ld, index_t first_row, int row0, int len,
                                                index_t col) {
    constexpr int chunks = HD * int(sizeof(T)) / 16, LD = FlashTiles<T, HD>::LD;
    SINTER_UNROLL
    for (int i = threadIdx.x; i < 64 * chunks; i += FlashTiles<T, HD>::threads) {
        const int r = i / chunks, c = i % chunks;
        const bool valid = row0 + r < len;
        const T* src = qkv + (first_row + (valid ? row0 + r : 0)) * ld + col + c * (16 / int(sizeof(T)));
        mma::cp_async_16(dst + r * LD + c * (16 / int(sizeof(T))), src, valid);
    }
}

// One pass of the kernel below: queries [q0, q0 + 64) of sequence blockIdx.z (q0 < its length), head
// blockIdx.y.
template <class T, int HD>
__device__ __forceinline__ void flash_pass(T* __restrict__ ctx, const T* __restrict__ qkv,
                                           const std::int32_t* __restrict__ offsets, int heads, float scale_log2,
                                           int q0) {
    using Tiles = FlashTiles<T, HD>;
    constexpr int BK = Tiles::BK, LD = Tiles::LD;
    constexpr int KD = HD / 16;  // k-steps of S = Q K^T over the head dimension
    constexpr int NK = BK / 8;   // 8-key column tiles of S
    constexpr int ND = HD / 8;   // 8-wide column tiles of O
    extern __shared__ __align__(128) unsigned char smem[];
    T* const sq = reinterpret_cast<T*>(smem);
    // K and V of buffer i (0 or 1): computed, not indexed, so that nothing lives in local memory.
    const auto sk = [sq](int i) { return sq + (1 + i) * Tiles::tile; };
    const auto sv = [sq](int i) { return sq + (3 + i) * Tiles::tile; };

    const int b = blockIdx.z, h = blockIdx.y;
    const index_t first = offsets[b];
    const int len = offsets[b + 1] - int(first);
    const index_t H = index_t(heads) * HD, ld = 3 * H;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    // ldmatrix addressing: lane 8 i + j gives row j of matrix i.
    const int lane_row = lane % 8, lane_matrix = lane / 8;

    copy_tile_async<T, HD>(sq, qkv, ld, first, q0, len, index_t(h) * HD);
    copy_tile_async<T, HD>(sk(0), qkv, ld, first, 0, len, H + index_t(h) * HD);
    copy_tile_async<T, HD>(sv(0), qkv, ld, first, 0, len, 2 * H + index_t(h) * HD);
    mma::cp_async_commit();

    std::uint32_t qa[KD][4];  // this warp's 16 queries as A fragments, one per 16 head columns
    float o[ND][4];
    SINTER_UNROLL
    for (int d = 0; d < ND; ++d) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.f;
    float m[2] = {-f32_inf, -f32_inf}, l[2] = {0.f, 0.f};  // rows g and g + 8 (this lane's part of l)

    const int tiles = (len + BK - 1) / BK;
    for (int i = 0; i < tiles; ++i) {
        const int k0 = i * BK, buf = i % 2;
        if (i + 1 < tiles) {  // the next tile loads into the other buffer while this one computes
            copy_tile_async<T, HD>(sk(1 - buf), qkv, ld, first, k0 + BK, len, H + index_t(h) * HD);
            copy_tile_async<T, HD>(sv(1 - buf), qkv, ld, first, k0 + BK, len, 2 * H + index_t(h) * HD);
            mma::cp_async_commit();
            mma::cp_async_wait<1>();
        } else {
            mma::cp_async_wait<0>();
        }
        __syncthreads();  // tile i (and Q) visible to every warp
        if (i == 0) {
            SINTER_UNROLL
            for (int kd = 0; kd < KD; ++kd)  // A fragment: matrices (rows 0-7 | 8-15) x (cols 0-7 | 8-15)
                mma::ldmatrix_x4(qa[kd], sq + (warp * 16 + (lane_matrix % 2) * 8 + lane_row) * LD + kd * 16 +
                                             (lane_matrix / 2) * 8);
        }

        // S = Q K^T. K is (keys, HD) row-major, so its 8x8 blocks are B fragments as they stand:
        // one ldmatrix.x4 gives key tiles 2p and 2p + 1, each for head columns kd*16 + 0-7 and 8-15.
        float s[NK][4];
        SINTER_UNROLL
        for (int j = 0; j < NK; ++j) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.f;
        SINTER_UNROLL
        for (int kd = 0; kd < KD; ++kd)
            SINTER_UNROLL
            for (int p = 0; p < NK / 2; ++p) {
                std::uint32_t kb[4];
                mma::ldmatrix_x4(kb, sk(buf) + (p * 16 + (lane_matrix / 2) * 8 + lane_row) * LD + kd * 16 +
                                         (lane_matrix % 2) * 8);
                mma::mma_16816<T>(s[2 * p], qa[kd], kb[0], kb[1]);
                mma::mma_16816<T>(s[2 * p + 1], qa[kd], kb[2], kb[3]);
            }

        // Online softmax in the log2 domain. s[j][e]: row g (e < 2) or g + 8, key k0 + 8j + 2t + e%2.
        float tile_max[2] = {m[0], m[1]};
        SINTER_UNROLL
        for (int j = 0; j < NK; ++j)
            SINTER_UNROLL
            for (int e = 0; e < 4; ++e) {
                const bool key_valid = k0 + 8 * j + 2 * t + (e % 2) < len;
                s[j][e] = key_valid ? s[j][e] * scale_log2 : -f32_inf;
                tile_max[e / 2] = fmaxf(tile_max[e / 2], s[j][e]);
            }
        float alpha[2];
        SINTER_UNROLL
        for (int r = 0; r < 2; ++r) {  // the 4 lanes of a quad hold one row between them
            tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 1));
            tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 2));
            alpha[r] = exp2f(m[r] - tile_max[r]);  // finite max (key k0 is valid); 0 on the first tile
            m[r] = tile_max[r];
            l[r] *= alpha[r];
        }
        SINTER_UNROLL
        for (int j = 0; j < NK; ++j)
            SINTER_UNROLL
            for (int e = 0; e < 4; ++e) {
                s[j][e] = exp2f(s[j][e] - m[e / 2]);
                l[e / 2] += s[j][e];
            }
        SINTER_UNROLL
        for (int d = 0; d < ND; ++d) {
            o[d][0] *= alpha[0];
            o[d][1] *= alpha[0];
            o[d][2] *= alpha[1];
            o[d][3] *= alpha[1];
        }

        // O += P V over the tile's keys, 16 at a time. P's A fragment is two S tiles' accumulators;
        // V is (keys, HD) row-major, so its B fragments come transposed: one ldmatrix.x4.trans gives
        // head tiles 2p and 2p + 1, each for keys kk*16 + 0-7 and 8-15.
        SINTER_UNROLL
        for (int kk = 0; kk < BK / 16; ++kk) {
            const std::uint32_t pa[4] = {mma::pack2<T>(s[2 * kk][0], s[2 * kk][1]),
                                         mma::pack2<T>(s[2 * kk][2], s[2 * kk][3]),
                                         mma::pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                                         mma::pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
            SINTER_UNROLL
            for (int p = 0; p < ND / 2; ++p) {
                std::uint32_t vb[4];
                mma::ldmatrix_x4_trans(vb, sv(buf) + (kk * 16 + (lane_matrix % 2) * 8 + lane_row) * LD + p * 16 +
                                               (lane_matrix / 2) * 8);
                mma::mma_16816<T>(o[2 * p], pa, vb[0], vb[1]);
                mma::mma_16816<T>(o[2 * p + 1], pa, vb[2], vb[3]);
            }
        }
        __syncthreads();  // every warp is done with buffer `buf` before tile i + 2 loads into it
    }

    SINTER_UNROLL
    for (int r = 0; r < 2; ++r) {
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
        const int q = q0 + warp * 16 + g + 8 * r;
        if (q >= len) continue;
        const float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;
        T* row = ctx + (first + q) * H + index_t(h) * HD + 2 * t;
        SINTER_UNROLL
        for (int d = 0; d < ND; ++d)
            *reinterpret_cast<std::uint32_t*>(row + 8 * d) = mma::pack2<T>(o[d][2 * r] * inv, o[d][2 * r + 1] * inv);
    }
}

// The passes after a block's first (a grid shorter than the sequence): a call, not inlined, so that
// the one-pass kernel keeps the registers it had without the loop (ptxas, sm_90: 171 at head size
// 128 either way; inlined in a loop, 208).
template <class T, int HD>
SINTER_DEVICE_NOINLINE void flash_pass_outlined(T* __restrict__ ctx, const T* __restrict__ qkv,
                                                const std::int32_t* __restrict__ offsets, int heads, float scale_log2,
                                                int q0) {
    flash_pass<T, HD>(ctx, qkv, offsets, heads, scale_log2, q0);
}

template <class T, int HD>
__global__ void __launch_bounds__(128)
flash_attention_kernel(T* __restrict__ ctx, const T* __restrict__ qkv, const std::int32_t* __restrict__ offsets,
                       int heads, float scale_log2) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    // Query tiles blockIdx.x, + gridDim.x, ...: one per block when the grid covers the longest
    // sequence (max_len, as a session launches it), and still every query when a sequence is
    // longer than the grid says.
    constexpr int BQ = FlashTiles<T, HD>::BQ;
    const int len = offsets[blockIdx.z + 1] - offsets[blockIdx.z];
    int q0 = int(blockIdx.x) * BQ;
    if (q0 >= len) return;  // uniform over the block
    flash_pass<T, HD>(ctx, qkv, offsets, heads, scale_log2, q0);
    for (q0 += int(gridDim.x) * BQ; q0 < len; q0 += int(gridDim.x) * BQ) {
        __syncthreads();  // (each pass ends at a barrier already: cheap insurance on a rare path)
        flash_pass_outlined<T, HD>(ctx, qkv, offsets, heads, scale_log2, q0);
    }
#elif defined(__CUDA_ARCH__)
    __trap();  // compiled for an architecture without mma.m16n8k16 or cp.async: never launched there
#endif
}

}  // namespace sinter::kernels::detail
