#pragma once
// Attention on the host: the twin of the fused CUDA kernel (kernels/attention.cuh). Reads the
// packed (T, 3H) QKV projection of variable-length sequences laid end to end (prefix offsets:
// sequence b is rows offsets[b] .. offsets[b+1]-1) and writes the (T, H) context:
//   ctx = softmax(Q K^T / sqrt(HD)) V per head, keys limited to the sequence, f32 statistics.
// An empty sequence writes nothing; a sequence's rows see only its own keys (the mask as a
// predicate).
#include <cmath>
#include <vector>

#include "../core/tensor.hpp"

namespace sinter::nn {

template <class T>
void attention(T* ctx, const T* qkv, const std::int32_t* offsets, index_t sequences, index_t heads,
               index_t head_size) {
    const index_t H = heads * head_size, ld = 3 * H;
    const float scale = 1.f / std::sqrt(float(head_size));
    std::vector<float> scores, acc(static_cast<std::size_t>(head_size));
    for (index_t b = 0; b < sequences; ++b) {
        const index_t begin = offsets[b], n = offsets[b + 1] - begin;
        scores.resize(std::size_t(n));
        for (index_t h = 0; h < heads; ++h)
            for (index_t i = 0; i < n; ++i) {
                const T* q = qkv + (begin + i) * ld + h * head_size;
                float max = -INFINITY;
                for (index_t j = 0; j < n; ++j) {
                    const T* k = qkv + (begin + j) * ld + H + h * head_size;
                    float dot = 0;
                    for (index_t d = 0; d < head_size; ++d) dot += to_float(q[d]) * to_float(k[d]);
                    scores[std::size_t(j)] = dot * scale;
                    max = std::max(max, scores[std::size_t(j)]);
                }
                float sum = 0;
                for (auto& s : scores) sum += (s = std::exp(s - max));
                std::fill(acc.begin(), acc.end(), 0.f);
                for (index_t j = 0; j < n; ++j) {
                    const T* v = qkv + (begin + j) * ld + 2 * H + h * head_size;
                    const float p = scores[std::size_t(j)] / sum;
                    for (index_t d = 0; d < head_size; ++d) acc[std::size_t(d)] += p * to_float(v[d]);
                }
                T* out = ctx + (begin + i) * H + h * head_size;
                for (index_t d = 0; d < head_size; ++d) out[d] = from_float<T>(acc[std::size_t(d)]);
            }
    }
}

}  // namespace sinter::nn
