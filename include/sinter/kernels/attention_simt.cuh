#pragma once
// The SIMT attention kernel: any dtype, no tensor cores, a warp per (query, head); the f32 path,
// correct rather than fast, and a readable statement of the algorithm. Launched through
// kernels::attention (attention.cuh), which documents the layout. Host twin: nn/attention_host.hpp.
#include "../core/dtype.hpp"

namespace sinter::kernels::detail {

// Four warps per block, a warp per (query, head): lane i holds head columns i, i + 32, ... and the
// warp sums each score by shuffles; one key at a time with a running max and sum.
template <class T, int HD>
__global__ void __launch_bounds__(128)
attention_simt_kernel(T* __restrict__ ctx, const T* __restrict__ qkv, const std::int32_t* __restrict__ offsets,
                      int heads, float scale) {
    constexpr int per_lane = HD / 32;
    const int b = blockIdx.z, h = blockIdx.y, lane = threadIdx.x % 32;
    const index_t first = offsets[b];
    const int len = offsets[b + 1] - int(first);
    const index_t H = index_t(heads) * HD, ld = 3 * H;
    // Queries blockIdx.x * 4 + warp, then a grid further on: one per warp when the grid covers the
    // longest sequence (max_len), and still every query when a sequence is longer than the grid says.
    for (int q = int(blockIdx.x) * 4 + int(threadIdx.x) / 32; q < len; q += int(gridDim.x) * 4) {  // per warp
        float qv[per_lane], acc[per_lane];
        for (int i = 0; i < per_lane; ++i) {
            qv[i] = to_float(qkv[(first + q) * ld + index_t(h) * HD + lane + 32 * i]);
            acc[i] = 0.f;
        }
        float m = -f32_inf, l = 0.f;
        for (int j = 0; j < len; ++j) {
            const T* kv = qkv + (first + j) * ld + index_t(h) * HD + lane;
            float dot = 0.f;
            for (int i = 0; i < per_lane; ++i) dot += qv[i] * to_float(kv[H + 32 * i]);
            for (int o = 16; o > 0; o /= 2) dot += __shfl_xor_sync(0xffffffffu, dot, o);
            const float s = dot * scale, m_new = fmaxf(m, s);
            const float alpha = __expf(m - m_new), p = __expf(s - m_new);
            l = l * alpha + p;
            for (int i = 0; i < per_lane; ++i) acc[i] = acc[i] * alpha + p * to_float(kv[2 * H + 32 * i]);
            m = m_new;
        }
        for (int i = 0; i < per_lane; ++i)
            ctx[(first + q) * H + index_t(h) * HD + lane + 32 * i] = from_float<T>(l > 0.f ? acc[i] / l : 0.f);
    }
}

}  // namespace sinter::kernels::detail
