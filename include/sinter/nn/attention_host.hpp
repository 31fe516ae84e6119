#pragma once
// Attention on the host: the twin of the fused CUDA kernels (kernels/attention.cuh). Reads the
// packed (T, 3H) QKV projection of variable-length sequences laid end to end (prefix offsets:
// sequence b is rows offsets[b] .. offsets[b+1]-1) and writes the (T, H) context:
//   ctx = softmax(Q K^T / sqrt(HD)) V per head, keys limited to the sequence, f32 statistics.
// An empty sequence writes nothing; a sequence's rows see only its own keys (the mask as a
// predicate).
//
// Each (sequence, head) converts its K and V to f32 once, then every query is a dot product per
// key (eight partial sums, so the compiler vectorises it) and one pass over V; pairs are split over
// threads when there is enough work. Results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/parallel.hpp"
#include "../core/tensor.hpp"

namespace sinter::nn {

template <class T>
void attention(T* ctx, const T* qkv, const std::int32_t* offsets, index_t sequences, index_t heads,
               index_t head_size, unsigned threads = 0) {
    const index_t H = heads * head_size, ld = 3 * H, HD = head_size;
    const float scale = 1.f / std::sqrt(float(HD));
    // One (sequence, head): scores (n) = Q K^T row by row, softmax, P V.
    const auto pair = [&](index_t b, index_t h, std::vector<float>& k, std::vector<float>& v, std::vector<float>& s,
                          std::vector<float>& q, std::vector<float>& acc) {
        const index_t begin = offsets[b], n = offsets[b + 1] - begin;
        k.resize(std::size_t(n * HD));
        v.resize(std::size_t(n * HD));
        s.resize(std::size_t(n));
        for (index_t j = 0; j < n; ++j)
            for (index_t d = 0; d < HD; ++d) {
                const T* row = qkv + (begin + j) * ld + h * HD + d;
                k[std::size_t(j * HD + d)] = to_float(row[H]);
                v[std::size_t(j * HD + d)] = to_float(row[2 * H]);
            }
        for (index_t i = 0; i < n; ++i) {
            for (index_t d = 0; d < HD; ++d) q[std::size_t(d)] = to_float(qkv[(begin + i) * ld + h * HD + d]);
            float max = -INFINITY;
            for (index_t j = 0; j < n; ++j) {
                const float* kj = k.data() + j * HD;
                float part[8] = {};
                index_t d = 0;
                for (; d + 8 <= HD; d += 8)
                    for (int e = 0; e < 8; ++e) part[e] += q[std::size_t(d + e)] * kj[d + e];
                for (; d < HD; ++d) part[0] += q[std::size_t(d)] * kj[d];
                const float dot = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
                s[std::size_t(j)] = dot * scale;
                max = std::max(max, s[std::size_t(j)]);
            }
            float sum = 0;
            for (auto& e : s) sum += (e = std::exp(e - max));
            std::fill(acc.begin(), acc.end(), 0.f);
            for (index_t j = 0; j < n; ++j) {
                const float p = s[std::size_t(j)] / sum;
                const float* vj = v.data() + j * HD;
                for (index_t d = 0; d < HD; ++d) acc[std::size_t(d)] += p * vj[d];
            }
            T* out = ctx + (begin + i) * H + h * HD;
            for (index_t d = 0; d < HD; ++d) out[d] = from_float<T>(acc[std::size_t(d)]);
        }
    };
    const index_t pairs = sequences * heads;
    const auto run = [&](index_t first, index_t last) {
        std::vector<float> k, v, s, q(static_cast<std::size_t>(HD)), acc(static_cast<std::size_t>(HD));
        for (index_t p = first; p < last; ++p) pair(p / heads, p % heads, k, v, s, q, acc);
    };
    double work = 0;  // multiply-adds
    for (index_t b = 0; b < sequences; ++b) {
        const double n = double(offsets[b + 1] - offsets[b]);
        work += 2.0 * n * n * double(H);
    }
    host_parallel_for(pairs, host_workers(threads, pairs, work), run);
}

}  // namespace sinter::nn
