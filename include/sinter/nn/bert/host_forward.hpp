#pragma once
// The encoder's forward on the host: the same expressions as the GPU path (the embedding, the
// linear layers with their epilogues, the LayerNorms; only attention is a hand-written host twin
// of the fused kernel), in the model's dtype T with f32 math. Slow and correct: usable without a
// GPU, and the tests' twin.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "../../expr.hpp"
#include "../attention_host.hpp"
#include "packing.hpp"
#include "weights.hpp"

namespace sinter::bert {

// The feed-forward activation of a config, applied to an expression.
template <Activation A, class X>
auto activation(const X& x) {
    if constexpr (A == Activation::gelu) return expr::gelu(x);
    else if constexpr (A == Activation::gelu_tanh) return expr::gelu_tanh(x);
    else return expr::relu(x);
}

// n stored values as f32 (the host outputs).
template <class T>
std::vector<float> widen(const T* p, index_t n) {
    std::vector<float> v(static_cast<std::size_t>(n));
    nn::detail::widen_to_f32(v.data(), p, n);
    return v;
}

// Scatters the packed (T, H) hidden state and derives the sentence embeddings (f32) from it, as
// sentence-transformers' Pooling and Normalize modules do (`how`: mean, [CLS], max or
// mean * sqrt(length) over each sequence's tokens, then L2-normalised or not). With
// how.include_prompt false, the first `prompt_length` tokens of each sequence are left out, as
// sentence-transformers masks them: [CLS] pooling then takes the first token after them. A
// sequence with no token left pools to zeros ([CLS]: its first token; sentence-transformers' max
// gives -inf there, NaN once normalised). Shared by the host and device paths (the device copies x
// back first).
template <class T>
void finish_outputs(Outputs& out, const Packed& p, const T* x, index_t H, const io::SentenceEmbedding& how = {},
                    index_t prompt_length = 0) {
    const index_t B = out.batch, S = out.length;
    out.hidden = H;
    out.last_hidden_state.assign(std::size_t(B * S * H), 0.f);
    for (index_t t = 0; t < p.tokens; ++t)
        for (index_t h = 0; h < H; ++h)
            out.last_hidden_state[std::size_t(p.source[std::size_t(t)] * H + h)] = to_float(x[t * H + h]);
    out.sentence_embedding.assign(std::size_t(B * H), 0.f);
    const index_t skip = how.include_prompt ? 0 : prompt_length;
    std::vector<double> v(static_cast<std::size_t>(H));
    for (index_t b = 0; b < B; ++b) {
        const index_t first = p.offsets[std::size_t(b)], end = p.offsets[std::size_t(b + 1)];
        const index_t begin = end - first <= skip ? end : first + skip;  // the pooled tokens: [begin, end)
        const double count = std::max(double(end - begin), 1e-9);  // sentence-transformers' clamp
        switch (how.pooling) {
            case io::Pooling::cls: {
                const index_t t = begin < end ? begin : first;
                for (index_t h = 0; h < H; ++h) v[std::size_t(h)] = t < end ? to_float(x[t * H + h]) : 0.0;
                break;
            }
            case io::Pooling::max:
                for (index_t h = 0; h < H; ++h) {
                    double m = end > begin ? -INFINITY : 0.0;
                    for (index_t t = begin; t < end; ++t) m = std::max(m, double(to_float(x[t * H + h])));
                    v[std::size_t(h)] = m;
                }
                break;
            case io::Pooling::mean:
            case io::Pooling::mean_sqrt_len: {
                std::fill(v.begin(), v.end(), 0.0);
                for (index_t t = begin; t < end; ++t)
                    for (index_t h = 0; h < H; ++h) v[std::size_t(h)] += to_float(x[t * H + h]);
                const double divisor = how.pooling == io::Pooling::mean ? count : std::sqrt(count);
                for (auto& e : v) e /= divisor;
                break;
            }
        }
        double norm = 1;
        if (how.normalize) {
            norm = 0;
            for (double e : v) norm += e * e;
            norm = std::max(std::sqrt(norm), 1e-12);
        }
        for (index_t h = 0; h < H; ++h) out.sentence_embedding[std::size_t(b * H + h)] = float(v[std::size_t(h)] / norm);
    }
}

// Every linear layer's weight packed for the host GEMM once (expr::HostPackedB): 4 bytes more per
// weight, and no repacking in any forward. Packed in parallel; the set keeps the weights alive.
template <Config C, class T>
std::shared_ptr<const expr::HostPackedSet> pack_host_weights(std::shared_ptr<const Weights<C, T, host_space>> owner) {
    const Weights<C, T, host_space>& w = *owner;
    std::vector<TensorView<const T, Shape<dyn, dyn>>> weights;  // (N, K) each, as the GEMMs read them
    const auto add = [&](const auto& v) { weights.emplace_back(v.data(), v.shape().rows(), v.shape().cols()); };
    for (const auto& l : w.layers) {
        add(l.qkv_weight);
        add(l.attention_output_weight);
        add(l.intermediate_weight);
        add(l.output_weight);
    }
    if (w.has_pooler()) add(w.pooler_weight);
    if (w.num_labels() > 0) add(w.classifier_weight);
    std::vector<expr::HostPackedB> packs(weights.size());
    const auto n = index_t(weights.size());
    host_parallel_for(n, host_workers(0, n, 1e12), [&](index_t first, index_t last) {  // every core: a weight each
        for (index_t i = first; i < last; ++i) {
            const auto& v = weights[std::size_t(i)];
            packs[std::size_t(i)] = expr::HostPackedB::pack(v.data(), true, v.shape().rows(), v.shape().cols());
        }
    });
    auto set = std::make_shared<expr::HostPackedSet>();
    for (auto& p : packs) set->add(std::move(p));
    set->keep_alive(std::move(owner));
    return set;
}

// `packed`: the weights packed by pack_host_weights, or null to pack per GEMM (same results).
template <Config C, class T>
Outputs forward(const Weights<C, T, host_space>& w, const Inputs& in, const expr::HostPackedSet* packed = nullptr) {
    using M = Model<C>;
    constexpr index_t H = M::H;
    check_inputs(in, C);
    Outputs out;
    out.batch = in.batch;
    out.length = in.length;
    out.labels = w.num_labels();
    out.hidden = H;
    if (in.empty()) return out;
    const Packed p = pack(in);
    const index_t Tn = p.tokens;
    using Ids = TensorView<const std::int32_t, Shape<dyn>>;
    const Ids ids(p.ids.data(), Tn), types(p.types.data(), Tn), positions(p.positions.data(), Tn);

    Tensor<T, typename M::Hidden> x(Tn), tmp(Tn), ctx(Tn);  // (T, H)
    Tensor<T, typename M::Packed> qkv(Tn);                  // (T, 3H)
    Tensor<T, typename M::Inner> inner(Tn);                 // (T, I)
    expr::HostGemm gemm;
    gemm.packed = packed;
    eval(x, layer_norm(gather(w.word_embeddings, ids) + gather(w.position_embeddings, positions) +
                           gather(w.token_type_embeddings, types),
                       w.embedding_norm.gamma, w.embedding_norm.beta, C.layer_norm_eps),
         host);
    for (const auto& l : w.layers) {
        eval(qkv, matmul(x, transpose(l.qkv_weight)) + l.qkv_bias, host, gemm);
        nn::attention(ctx.data(), qkv.data(), p.offsets.data(), in.batch, M::NH, M::HD);
        eval(tmp, matmul(ctx, transpose(l.attention_output_weight)) + l.attention_output_bias + x, host, gemm);
        eval(x, layer_norm(tmp, l.attention_norm.gamma, l.attention_norm.beta, C.layer_norm_eps), host);
        eval(inner, activation<C.activation>(matmul(x, transpose(l.intermediate_weight)) + l.intermediate_bias), host,
             gemm);
        eval(tmp, matmul(inner, transpose(l.output_weight)) + l.output_bias + x, host, gemm);
        eval(x, layer_norm(tmp, l.output_norm.gamma, l.output_norm.beta, C.layer_norm_eps), host);
    }
    finish_outputs(out, p, x.data(), H, w.sentence_embedding, in.prompt_length);

    // Pooler and classifier on the first token of each sequence (zeros for an empty one).
    if (!w.has_pooler()) return out;  // no pooled output, and so no classifier (the loader's rule)
    Tensor<T, Shape<dyn, H>> first(in.batch), pooled(in.batch);
    for (index_t b = 0; b < in.batch; ++b)
        for (index_t h = 0; h < H; ++h) {
            const index_t t = p.offsets[std::size_t(b)];
            first(b, h) = t < p.offsets[std::size_t(b + 1)] ? x(t, h) : from_float<T>(0.f);
        }
    eval(pooled, tanh(matmul(first, transpose(w.pooler_weight)) + w.pooler_bias), host, gemm);
    out.pooled = widen(pooled.data(), pooled.size());
    if (out.labels > 0) {
        Tensor<T, Shape<dyn, dyn>> logits(in.batch, out.labels);
        eval(logits, matmul(pooled, transpose(w.classifier_weight)) + w.classifier_bias, host, gemm);
        out.logits = widen(logits.data(), logits.size());
    }
    return out;
}

}  // namespace sinter::bert
