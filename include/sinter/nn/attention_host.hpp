#pragma once
// Attention on the host: the twin of the fused CUDA kernels (kernels/attention.cuh). Reads the
// packed (T, 3H) QKV projection of variable-length sequences laid end to end (prefix offsets:
// sequence b is rows offsets[b] .. offsets[b+1]-1) and writes the (T, H) context:
//   ctx = softmax(Q K^T / sqrt(HD)) V per head, keys limited to the sequence, f32 statistics.
// An empty sequence writes nothing; a sequence's rows see only its own keys (the mask as a
// predicate).
//
// Each (sequence, head) takes its Q, K and V to f32 once and packs K and V for the host GEMM's
// tile (expr::HostPackedB). Then, a block of queries at a time (at most query_block rows, so the
// scores stay in cache at any length): scores = Q K^T on the GEMM, exp(scale s - max) by the
// vectorised host_exp_shifted, ctx = (P V) / sum on the GEMM, the division last, as the CUDA
// kernels do. Pairs are split over threads when there is enough work; results do not depend on
// the thread count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "../core/parallel.hpp"
#include "../core/tensor.hpp"
#include "../expr/gemm_host.hpp"

namespace sinter::nn {

namespace detail {
// dst[0, n) = src[0, n) in f32: a copy for f32 (vector loads at any optimisation level, so many of
// the strided rows' cache misses are in flight at once), a loop of conversions otherwise.
template <class T>
void widen_to_f32(float* dst, const T* src, index_t n) {
    if constexpr (std::is_same_v<T, float>)
        std::memcpy(dst, src, std::size_t(n) * sizeof(float));
    else
        for (index_t i = 0; i < n; ++i) dst[i] = to_float(src[i]);
}
}  // namespace detail

template <class T>
void attention(T* ctx, const T* qkv, const std::int32_t* offsets, index_t sequences, index_t heads,
               index_t head_size, unsigned threads = 0) {
    constexpr index_t query_block = 96;  // scores: 96 x n floats (192 KiB at n = 512)
    const index_t H = heads * head_size, ld = 3 * H, HD = head_size;
    const float scale = 1.f / std::sqrt(float(HD));
    struct Scratch {
        std::vector<float> q, k, v, scores, out, inv_sum;
    };
    // One (sequence, head).
    const auto pair = [&](index_t b, index_t h, Scratch& w) {
        const index_t begin = offsets[b], n = offsets[b + 1] - begin;
        if (n == 0) return;
        w.q.resize(std::size_t(n * HD));  // (n, HD) each
        w.k.resize(std::size_t(n * HD));
        w.v.resize(std::size_t(n * HD));
        for (index_t j = 0; j < n; ++j) {
            const T* row = qkv + (begin + j) * ld + h * HD;
            const auto jd = std::size_t(j * HD);
            detail::widen_to_f32(w.q.data() + jd, row, HD);
            detail::widen_to_f32(w.k.data() + jd, row + H, HD);
            detail::widen_to_f32(w.v.data() + jd, row + 2 * H, HD);
        }
        expr::HostPackedSet packs;
        packs.add(expr::HostPackedB::pack(w.k.data(), /*b_transposed=*/true, n, HD));  // K^T: (HD, n)
        packs.add(expr::HostPackedB::pack(w.v.data(), /*b_transposed=*/false, HD, n));  // V: (n, HD)
        const expr::HostGemm gemm{1, expr::HostIsa::best, &packs};
        const index_t rows_most = std::min(n, query_block);
        w.scores.resize(std::size_t(rows_most * n));
        w.out.resize(std::size_t(rows_most * HD));
        w.inv_sum.resize(std::size_t(rows_most));
        for (index_t i0 = 0; i0 < n; i0 += query_block) {
            const index_t rows = std::min(query_block, n - i0);
            gemm.run(expr::GemmCall<float>{w.scores.data(), w.q.data() + i0 * HD, w.k.data(), true, nullptr, nullptr,
                                           rows, n, HD, expr::Activation::none});
            for (index_t i = 0; i < rows; ++i) {
                float* s = w.scores.data() + i * n;
                float most[8];  // eight running maxima: no chain of dependent compares (same result)
                std::fill(most, most + 8, s[0]);
                index_t j = 1;
                for (; j + 8 <= n; j += 8)
                    for (int e = 0; e < 8; ++e) most[e] = std::max(most[e], s[j + e]);
                for (; j < n; ++j) most[0] = std::max(most[0], s[j]);
                float max = most[0];
                for (int e = 1; e < 8; ++e) max = std::max(max, most[e]);
                expr::detail::host_exp_shifted(s, n, scale, max * scale);
                float part[8] = {};  // eight partial sums: the compiler vectorises the loop
                j = 0;
                for (; j + 8 <= n; j += 8)
                    for (int e = 0; e < 8; ++e) part[e] += s[j + e];
                for (; j < n; ++j) part[0] += s[j];
                w.inv_sum[std::size_t(i)] =
                    1.f / (((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7])));
            }
            gemm.run(expr::GemmCall<float>{w.out.data(), w.scores.data(), w.v.data(), false, nullptr, nullptr, rows, HD,
                                           n, expr::Activation::none});
            for (index_t i = 0; i < rows; ++i) {
                T* out = ctx + (begin + i0 + i) * H + h * HD;
                for (index_t d = 0; d < HD; ++d)
                    out[d] = from_float<T>(w.out[std::size_t(i * HD + d)] * w.inv_sum[std::size_t(i)]);
            }
        }
    };
    const index_t pairs = sequences * heads;
    const auto run = [&](index_t first, index_t last) {
        Scratch scratch;
        for (index_t p = first; p < last; ++p) pair(p / heads, p % heads, scratch);
    };
    double work = 0;  // multiply-adds
    for (index_t b = 0; b < sequences; ++b) {
        const double n = double(offsets[b + 1] - offsets[b]);
        work += 2.0 * n * n * double(H);
    }
    host_parallel_for(pairs, host_workers(threads, pairs, work), run);
}

}  // namespace sinter::nn
