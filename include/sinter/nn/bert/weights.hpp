#pragma once
// A BERT's weights in one allocation (host or device), as views with static shapes. Loading
// checks the whole checkpoint (config.json field by field against C, every tensor's name, shape
// and dtype) before it allocates anything; it then converts to T into one host staging buffer and,
// for the device, copies it once. Q, K and V are packed into one (3H, H) projection.
#include <filesystem>
#include <memory>
#include <optional>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "../../core/tensor.hpp"
#include "../../io/bert_checkpoint.hpp"
#include "../../io/sentence_transformers.hpp"
#include "../../io/sentence_transformers_config.hpp"
#include "model.hpp"

namespace sinter::bert {

template <Config C, class T, class Space>
struct Weights {
    using M = Model<C>;
    template <index_t... E>
    using View = TensorView<const T, Shape<E...>, Space>;
    static constexpr index_t H = M::H, I = M::I;

    struct LayerNormWeights {
        View<H> gamma, beta;
    };
    struct Layer {
        View<3 * H, H> qkv_weight;  // rows: Q (H), K (H), V (H)
        View<3 * H> qkv_bias;
        View<H, H> attention_output_weight;
        View<H> attention_output_bias;
        LayerNormWeights attention_norm;
        View<I, H> intermediate_weight;
        View<I> intermediate_bias;
        View<H, I> output_weight;
        View<H> output_bias;
        LayerNormWeights output_norm;
    };

    Tensor<T, Shape<dyn>, Space> storage;  // everything, each tensor 256-byte aligned
    View<M::V, H> word_embeddings;
    View<M::P, H> position_embeddings;
    View<M::TV, H> token_type_embeddings;
    LayerNormWeights embedding_norm;
    std::vector<Layer> layers;
    View<H, H> pooler_weight;  // null views when the checkpoint has no pooler
    View<H> pooler_bias;
    TensorView<const T, Shape<dyn, H>, Space> classifier_weight;  // (num_labels, H)
    TensorView<const T, Shape<dyn>, Space> classifier_bias;
    std::vector<std::string> labels;  // id2label; empty without a classifier
    io::ScoreFunction score_function = io::ScoreFunction::softmax;  // logits -> scores (io::read_score_choice)
    io::SentenceEmbedding sentence_embedding;  // how Outputs::sentence_embedding pools (modules.json)

    int num_labels() const { return int(labels.size()); }
    bool has_pooler() const { return pooler_weight.data() != nullptr; }
};

namespace detail {

constexpr index_t align_elements(index_t n, std::size_t elem) {
    const index_t a = index_t(256 / elem);
    return (n + a - 1) / a * a;
}

// Where each canonical checkpoint tensor goes in the flat buffer (element offsets), built by
// walking the same list the checkpoint reader checks (ref::for_each_tensor).
struct Placement {
    std::string name;
    index_t offset;
    index_t count;
};

struct TensorSpec {
    std::string name;             // canonical BertModel name
    std::vector<index_t> shape;
};

// The tensors of a model with `labels` classifier outputs, in ref::for_each_tensor's order.
inline std::vector<TensorSpec> tensor_specs(const Config& c, int labels, bool pooler = true) {
    std::vector<TensorSpec> specs;
    auto skeleton = ref::bert_weights_skeleton(c, labels, pooler);
    ref::for_each_tensor(skeleton, [&](const std::string& name, const std::vector<index_t>& shape, auto&) {
        specs.push_back({name, shape});
    });
    return specs;
}

inline std::vector<Placement> place_tensors(const std::vector<TensorSpec>& specs, std::size_t elem, index_t& total) {
    std::vector<Placement> out;
    total = 0;
    index_t qkv_weight = 0, qkv_bias = 0;  // where the current layer's packed Q | K | V start
    for (const auto& spec : specs) {
        index_t count = 1;
        for (index_t e : spec.shape) count *= e;
        const auto& n = spec.name;
        const auto self = n.find(".attention.self.");
        if (self == std::string::npos) {
            out.push_back({n, total, count});
            total = align_elements(total + count, elem);
            continue;
        }
        // Q, K and V land back to back: one (3H, H) matrix and one (3H) bias per layer.
        const std::string_view part = std::string_view(n).substr(self + 16);  // "query.weight"...
        const bool bias = part.ends_with(".bias");
        const index_t slot = part.starts_with("query") ? 0 : part.starts_with("key") ? 1 : 2;
        index_t& start = bias ? qkv_bias : qkv_weight;
        if (slot == 0) {
            start = total;
            total = align_elements(total + 3 * count, elem);
        }
        out.push_back({n, start + slot * count, count});
    }
    return out;
}

// Moves the filled host staging buffer into w (copying it to the device once for device_space)
// and points every view at its tensor.
template <Config C, class T, class Space>
void assemble(Weights<C, T, Space>& w, Tensor<T, Shape<dyn>>&& staging, const std::vector<Placement>& placements,
              const std::vector<std::string>& labels) {
    using W = Weights<C, T, Space>;
    constexpr index_t H = W::H;
    if constexpr (std::is_same_v<Space, host_space>) {
        w.storage = std::move(staging);
    } else {
        w.storage = Tensor<T, Shape<dyn>, Space>(staging.size());
        copy(w.storage.view(), staging.view());
    }
    std::unordered_map<std::string, index_t> offset_of;
    for (const auto& p : placements) offset_of.emplace(p.name, p.offset);
    const T* base = w.storage.data();
    auto at = [&](const std::string& name) { return base + offset_of.at(name); };
    auto norm = [&](const std::string& p) {
        return typename W::LayerNormWeights{{at(p + ".weight"), {}}, {at(p + ".bias"), {}}};
    };
    w.word_embeddings = {at("embeddings.word_embeddings.weight"), {}};
    w.position_embeddings = {at("embeddings.position_embeddings.weight"), {}};
    w.token_type_embeddings = {at("embeddings.token_type_embeddings.weight"), {}};
    w.embedding_norm = norm("embeddings.LayerNorm");
    w.layers.clear();
    for (int l = 0; l < C.layers; ++l) {
        const std::string p = "encoder.layer." + std::to_string(l) + ".";
        typename W::Layer layer;
        layer.qkv_weight = {at(p + "attention.self.query.weight"), {}};
        layer.qkv_bias = {at(p + "attention.self.query.bias"), {}};
        layer.attention_output_weight = {at(p + "attention.output.dense.weight"), {}};
        layer.attention_output_bias = {at(p + "attention.output.dense.bias"), {}};
        layer.attention_norm = norm(p + "attention.output.LayerNorm");
        layer.intermediate_weight = {at(p + "intermediate.dense.weight"), {}};
        layer.intermediate_bias = {at(p + "intermediate.dense.bias"), {}};
        layer.output_weight = {at(p + "output.dense.weight"), {}};
        layer.output_bias = {at(p + "output.dense.bias"), {}};
        layer.output_norm = norm(p + "output.LayerNorm");
        w.layers.push_back(layer);
    }
    if (offset_of.count("pooler.dense.weight")) {
        w.pooler_weight = {at("pooler.dense.weight"), {}};
        w.pooler_bias = {at("pooler.dense.bias"), {}};
    }
    w.labels = labels;
    if (const index_t n = index_t(labels.size()); n > 0) {
        w.classifier_weight = {at("classifier.weight"), Shape<dyn, H>::from_dynamic({n})};
        w.classifier_bias = {at("classifier.bias"), Shape<dyn>::from_dynamic({n})};
    }
}

}  // namespace detail

// Loads checkpoint folder `dir` into Weights<C, T, Space>. Throws config_error, format_error,
// shape_error or io_error naming the file, field or tensor; nothing is allocated on the device
// until everything has been checked and converted. The sentence embedding pools as the folder's
// sentence-transformers files say (io::read_sentence_embedding), or as `pooling` when it is given
// (the files are then not read).
template <Config C, class T, class Space>
std::shared_ptr<const Weights<C, T, Space>> load_weights(const std::filesystem::path& dir,
                                                         io::BertHead head = io::BertHead::automatic,
                                                         std::optional<io::SentenceEmbedding> pooling = std::nullopt) {
    (void)Model<C>{};  // the compile-time checks of C
    io::HfBertConfig hf = io::read_hf_config(dir / "config.json");  // read once, checked first
    io::check_config(hf, C, (dir / "config.json").string());
    const io::SentenceEmbedding sentence_embedding = pooling ? *pooling : io::read_sentence_embedding(dir);
    if (sentence_embedding.dimension != 0 && sentence_embedding.dimension != C.hidden)
        throw config_error("sinter: " + (pooling ? std::string("the pooling given") : (dir / "modules.json").string()) +
                           ": the Pooling module's embedding dimension is " + std::to_string(sentence_embedding.dimension) +
                           " but the model's hidden size is " + std::to_string(C.hidden));
    const io::BertCheckpoint ckpt(dir, std::move(hf), head);
    index_t total = 0;
    const auto placements =
        detail::place_tensors(detail::tensor_specs(C, ckpt.num_labels(), ckpt.has_pooler()), sizeof(T), total);
    Tensor<T, Shape<dyn>> staging(total);
    for (const auto& p : placements)
        ckpt.read_into<T>(p.name, std::span<T>(staging.data() + p.offset, std::size_t(p.count)));
    std::vector<std::string> labels;
    const auto& names = ckpt.hf_config().id2label;
    for (int i = 0; i < ckpt.num_labels(); ++i)
        labels.push_back(std::size_t(i) < names.size() ? names[std::size_t(i)] : "LABEL_" + std::to_string(i));
    auto w = std::make_shared<Weights<C, T, Space>>();
    detail::assemble(*w, std::move(staging), placements, labels);
    w->score_function = io::read_score_choice(dir, ckpt.hf_config()).function;
    w->sentence_embedding = sentence_embedding;
    return w;
}

// Random weights (uniform in [-scale, scale], LayerNorm gammas near 1) for benchmarks and tests
// that need a model's shapes but no checkpoint. Deterministic for a seed.
template <Config C, class T, class Space>
std::shared_ptr<const Weights<C, T, Space>> random_weights(std::uint64_t seed, float scale = 0.05f, int labels = 0) {
    (void)Model<C>{};
    index_t total = 0;
    const auto specs = detail::tensor_specs(C, labels);
    const auto placements = detail::place_tensors(specs, sizeof(T), total);
    Tensor<T, Shape<dyn>> staging(total);
    std::uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (const auto& p : placements) {
        const bool gamma = p.name.ends_with("LayerNorm.weight");
        for (index_t i = 0; i < p.count; ++i) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            const float u = float(x >> 40) / float(1 << 24) * 2.f - 1.f;  // [-1, 1)
            staging.data()[p.offset + i] = from_float<T>(gamma ? 1.f + 0.1f * u : scale * u);
        }
    }
    std::vector<std::string> names;
    for (int i = 0; i < labels; ++i) names.push_back("LABEL_" + std::to_string(i));
    auto w = std::make_shared<Weights<C, T, Space>>();
    detail::assemble(*w, std::move(staging), placements, names);
    w->score_function = io::default_score_function("", labels);
    return w;
}

}  // namespace sinter::bert
