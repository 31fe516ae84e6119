#pragma once
// What a BERT holds, in f32 on the host: the weights' structure and the one list of their Hugging
// Face names and shapes. A description with no math, shared by the checkpoint loader (io/), the
// device upload (nn/bert/weights.hpp) and the reference forward (ref/bert.hpp).
#include <concepts>
#include <string>
#include <type_traits>
#include <vector>

#include "sinter/core/config.hpp"
#include "sinter/nn/bert/config.hpp"

namespace sinter::ref {

// nn.Linear: y = x W^T + b.
struct Linear {
    std::vector<float> weight;  // (out, in)
    std::vector<float> bias;    // (out)
};

struct LayerNorm {
    std::vector<float> gamma;  // (H)
    std::vector<float> beta;   // (H)
};

struct BertLayer {
    Linear query, key, value;  // (H, H) each
    Linear attention_output;   // (H, H)
    LayerNorm attention_norm;
    Linear intermediate;  // (I, H)
    Linear output;        // (H, I)
    LayerNorm output_norm;
};

// A BERT's weights in f32 on the host. `config` holds the run-time dimensions.
struct BertWeights {
    bert::Config config{};
    int num_labels = 0;                        // 0: no sequence-classification head
    std::vector<float> word_embeddings;        // (V, H)
    std::vector<float> position_embeddings;    // (max_positions, H)
    std::vector<float> token_type_embeddings;  // (type_vocab, H)
    LayerNorm embedding_norm;
    std::vector<BertLayer> layers;
    bool has_pooler = true;  // exports without a pooling layer (masked-LM, token heads) lack it
    Linear pooler;           // (H, H), when has_pooler
    Linear classifier;  // (num_labels, H), when num_labels > 0
};

// Weights with every tensor empty and `layers` sized: what `for_each_tensor` needs to list names
// and shapes without allocating.
inline BertWeights bert_weights_skeleton(const bert::Config& config, int num_labels = 0, bool pooler = true) {
    BertWeights w;
    w.config = config;
    w.num_labels = num_labels;
    w.has_pooler = pooler;
    w.layers.resize(static_cast<std::size_t>(config.layers));
    return w;
}

// Calls f(name, shape, data) for every tensor of `w`, under its Hugging Face BertModel name
// (classifier.* for the head), in one fixed order. The single list of what a BERT holds: the
// checkpoint loader and the device upload both walk it.
template <class W, class F>
requires std::same_as<std::remove_const_t<W>, BertWeights>
void for_each_tensor(W& w, F&& f) {
    const index_t H = w.config.hidden, I = w.config.intermediate;
    using Shape = std::vector<index_t>;
    const auto linear = [&](const std::string& name, auto& lin, index_t out, index_t in) {
        f(name + ".weight", Shape{out, in}, lin.weight);
        f(name + ".bias", Shape{out}, lin.bias);
    };
    const auto norm = [&](const std::string& name, auto& ln) {
        f(name + ".weight", Shape{H}, ln.gamma);
        f(name + ".bias", Shape{H}, ln.beta);
    };
    f("embeddings.word_embeddings.weight", Shape{w.config.vocab, H}, w.word_embeddings);
    f("embeddings.position_embeddings.weight", Shape{w.config.max_positions, H}, w.position_embeddings);
    f("embeddings.token_type_embeddings.weight", Shape{w.config.type_vocab, H}, w.token_type_embeddings);
    norm("embeddings.LayerNorm", w.embedding_norm);
    for (std::size_t l = 0; l < w.layers.size(); ++l) {
        auto& layer = w.layers[l];
        const std::string p = "encoder.layer." + std::to_string(l) + ".";
        linear(p + "attention.self.query", layer.query, H, H);
        linear(p + "attention.self.key", layer.key, H, H);
        linear(p + "attention.self.value", layer.value, H, H);
        linear(p + "attention.output.dense", layer.attention_output, H, H);
        norm(p + "attention.output.LayerNorm", layer.attention_norm);
        linear(p + "intermediate.dense", layer.intermediate, I, H);
        linear(p + "output.dense", layer.output, H, I);
        norm(p + "output.LayerNorm", layer.output_norm);
    }
    if (w.has_pooler) linear("pooler.dense", w.pooler, H, H);
    if (w.num_labels > 0) linear("classifier", w.classifier, w.num_labels, H);
}

}  // namespace sinter::ref
