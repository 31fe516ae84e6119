#pragma once
// The BERT forward as plain host loops in f32 storage with f64 accumulation: the readable
// specification every faster path is tested against (REFERENCE.md, "BERT forward"). Nothing here
// is tuned; each function is the formula it implements.
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "sinter/core/config.hpp"
#include "sinter/core/error.hpp"
#include "sinter/nn/bert/config.hpp"
#include "sinter/ref/bert_weights.hpp"
#include "sinter/ref/rows.hpp"

namespace sinter::ref {

// ---- layers ---------------------------------------------------------------------------------

inline float gelu(float x) { return static_cast<float>(0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)))); }
inline float gelu_tanh(float x) {
    const double k = std::sqrt(2.0 / 3.14159265358979323846);
    return static_cast<float>(0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * double(x) * x * x))));
}
inline float relu(float x) { return x > 0.0f ? x : 0.0f; }

inline float activate(bert::Activation a, float x) {
    switch (a) {
        case bert::Activation::gelu: return gelu(x);
        case bert::Activation::gelu_tanh: return gelu_tanh(x);
        case bert::Activation::relu: return relu(x);
    }
    return x;
}

// y = x W^T + b for T rows.
inline void linear(std::span<float> y, std::span<const float> x, const Linear& lin, index_t T, index_t in,
                   index_t out) {
    for (index_t t = 0; t < T; ++t)
        for (index_t o = 0; o < out; ++o) {
            double acc = lin.bias[o];
            const float* xr = &x[t * in];
            const float* wr = &lin.weight[o * in];
            for (index_t k = 0; k < in; ++k) acc += double(xr[k]) * wr[k];
            y[t * out + o] = static_cast<float>(acc);
        }
}

// In place over each of T rows of H (ref/rows.hpp: two-pass biased variance, eps added in f64).
inline void layer_norm(std::span<float> x, const LayerNorm& ln, index_t T, index_t H, float eps) {
    layer_norm(x.data(), ln.gamma.data(), ln.beta.data(), eps, x.data(), std::size_t(T), std::size_t(H));
}

// Multi-head self-attention over B sequences of S. Head h owns columns h*HD .. h*HD+HD-1 of q, k
// and v. A key with mask 0 contributes nothing; a query whose keys are all masked gets zeros.
inline void attention(std::span<float> ctx, std::span<const float> q, std::span<const float> k,
                      std::span<const float> v, std::span<const std::int32_t> mask, index_t B, index_t S,
                      index_t NH, index_t HD) {
    const index_t H = NH * HD;
    const double scale = 1.0 / std::sqrt(double(HD));
    std::vector<double> p(static_cast<std::size_t>(S));  // (S) probabilities of one query
    for (index_t b = 0; b < B; ++b)
        for (index_t h = 0; h < NH; ++h)
            for (index_t i = 0; i < S; ++i) {
                const float* qi = &q[(b * S + i) * H + h * HD];
                double max = -INFINITY;
                for (index_t j = 0; j < S; ++j) {
                    if (!mask[b * S + j]) continue;
                    const float* kj = &k[(b * S + j) * H + h * HD];
                    double s = 0;
                    for (index_t d = 0; d < HD; ++d) s += double(qi[d]) * kj[d];
                    p[j] = s * scale;
                    max = std::max(max, p[j]);
                }
                double sum = 0;
                for (index_t j = 0; j < S; ++j)
                    if (mask[b * S + j]) sum += p[j] = std::exp(p[j] - max);
                float* out = &ctx[(b * S + i) * H + h * HD];
                for (index_t d = 0; d < HD; ++d) {
                    double acc = 0;
                    for (index_t j = 0; j < S; ++j)
                        if (mask[b * S + j]) acc += p[j] * v[(b * S + j) * H + h * HD + d];
                    out[d] = sum > 0 ? static_cast<float>(acc / sum) : 0.0f;
                }
            }
}

// ---- the model ------------------------------------------------------------------------------

struct BertOutputs {
    index_t batch = 0, seq = 0;
    std::vector<float> last_hidden_state;   // (B, S, H)
    std::vector<float> pooled;              // (B, H): tanh(dense(h[:, 0])); empty without a pooler
    std::vector<float> logits;              // (B, num_labels); empty without a classifier
    std::vector<float> sentence_embedding;  // (B, H): mean over the mask, L2-normalised
};

}  // namespace sinter::ref

namespace sinter::detail {
inline void check_bert_inputs(const ref::BertWeights& w, index_t B, index_t S,
                              std::span<const std::int32_t> ids, std::span<const std::int32_t> mask,
                              std::span<const std::int32_t> types) {
    const auto n = static_cast<std::size_t>(B * S);
    const auto size_check = [&](std::span<const std::int32_t> s, const char* what, bool optional) {
        if ((optional && s.empty()) || s.size() == n) return;
        throw shape_error("sinter: ref::bert_forward: " + std::string(what) + " has " +
                          std::to_string(s.size()) + " values, (B, S) = (" + std::to_string(B) + ", " +
                          std::to_string(S) + ") needs " + std::to_string(n));
    };
    size_check(ids, "input_ids", false);
    size_check(mask, "attention_mask", true);
    size_check(types, "token_type_ids", true);
    if (S > w.config.max_positions)
        throw value_error("sinter: ref::bert_forward: sequence length " + std::to_string(S) +
                          " is over max_positions " + std::to_string(w.config.max_positions));
    const auto range_check = [&](std::span<const std::int32_t> s, const char* what, std::int32_t limit) {
        for (std::size_t i = 0; i < s.size(); ++i)
            if (s[i] < 0 || s[i] >= limit)
                throw value_error("sinter: ref::bert_forward: " + std::string(what) + " " +
                                  std::to_string(s[i]) + " at (" + std::to_string(i / S) + ", " +
                                  std::to_string(i % S) + ") is outside [0, " + std::to_string(limit) + ")");
    };
    range_check(ids, "input_ids", w.config.vocab);
    range_check(mask, "attention_mask", 2);
    range_check(types, "token_type_ids", w.config.type_vocab);
}
}  // namespace sinter::detail

namespace sinter::ref {

// The whole forward for B sequences of S tokens (row-major (B, S) inputs). An empty mask means
// all ones, empty token types all zeros.
inline BertOutputs bert_forward(const BertWeights& w, index_t B, index_t S,
                                std::span<const std::int32_t> input_ids,
                                std::span<const std::int32_t> attention_mask = {},
                                std::span<const std::int32_t> token_type_ids = {}) {
    if (B < 0 || S < 0) throw value_error("sinter: ref::bert_forward: negative batch or sequence length");
    sinter::detail::check_bert_inputs(w, B, S, input_ids, attention_mask, token_type_ids);
    const bert::Config& c = w.config;
    const index_t H = c.hidden, I = c.intermediate, NH = c.heads, HD = c.head_size(), T = B * S;
    const auto Tn = static_cast<std::size_t>(T);
    std::vector<std::int32_t> mask(attention_mask.begin(), attention_mask.end());
    if (mask.empty()) mask.assign(Tn, 1);

    BertOutputs out;
    out.batch = B;
    out.seq = S;
    if (B == 0 || S == 0) return out;  // an empty result, as the encoder's
    std::vector<float>& x = out.last_hidden_state;  // (T, H)
    x.resize(Tn * H);
    for (index_t t = 0; t < T; ++t) {
        const index_t id = input_ids[t], pos = t % S, type = token_type_ids.empty() ? 0 : token_type_ids[t];
        for (index_t i = 0; i < H; ++i)
            x[t * H + i] = static_cast<float>(double(w.word_embeddings[id * H + i]) +
                                              w.token_type_embeddings[type * H + i] +
                                              w.position_embeddings[pos * H + i]);
    }
    layer_norm(x, w.embedding_norm, T, H, c.layer_norm_eps);

    std::vector<float> q(Tn * H), k(Tn * H), v(Tn * H), ctx(Tn * H), tmp(Tn * H);  // (T, H)
    std::vector<float> inter(Tn * I);                                              // (T, I)
    for (const BertLayer& layer : w.layers) {
        linear(q, x, layer.query, T, H, H);
        linear(k, x, layer.key, T, H, H);
        linear(v, x, layer.value, T, H, H);
        attention(ctx, q, k, v, mask, B, S, NH, HD);
        linear(tmp, ctx, layer.attention_output, T, H, H);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] += tmp[i];
        layer_norm(x, layer.attention_norm, T, H, c.layer_norm_eps);
        linear(inter, x, layer.intermediate, T, H, I);
        for (float& e : inter) e = activate(c.activation, e);
        linear(tmp, inter, layer.output, T, I, H);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] += tmp[i];
        layer_norm(x, layer.output_norm, T, H, c.layer_norm_eps);
    }

    std::vector<float> first(static_cast<std::size_t>(B * H));  // (B, H): h[:, 0]
    for (index_t b = 0; b < B; ++b)
        for (index_t i = 0; i < H; ++i) first[b * H + i] = x[b * S * H + i];
    if (w.has_pooler) {  // (without it no classifier: the loader requires the pooler for one)
        out.pooled.resize(first.size());
        linear(out.pooled, first, w.pooler, B, H, H);
        for (float& e : out.pooled) e = std::tanh(e);
        if (w.num_labels > 0) {
            out.logits.resize(static_cast<std::size_t>(B * w.num_labels));
            linear(out.logits, out.pooled, w.classifier, B, H, w.num_labels);
        }
    }

    // sentence-transformers: sum over mask / max(count, 1e-9), then x / max(||x||, 1e-12).
    out.sentence_embedding.resize(first.size());
    for (index_t b = 0; b < B; ++b) {
        std::vector<double> sum(static_cast<std::size_t>(H));
        double count = 0;
        for (index_t s = 0; s < S; ++s) {
            if (!mask[b * S + s]) continue;
            count += 1;
            for (index_t i = 0; i < H; ++i) sum[i] += x[(b * S + s) * H + i];
        }
        double norm = 0;
        for (double& e : sum) {
            e /= std::max(count, 1e-9);
            norm += e * e;
        }
        norm = std::max(std::sqrt(norm), 1e-12);
        for (index_t i = 0; i < H; ++i) out.sentence_embedding[b * H + i] = static_cast<float>(sum[i] / norm);
    }
    return out;
}

}  // namespace sinter::ref
