#pragma once
// A Hugging Face BERT checkpoint folder (config.json + model.safetensors, or the sharded form)
// resolved against the tensors a BERT holds (`ref::for_each_tensor`). Every name, shape and dtype
// is checked before any data is read, so a bad checkpoint fails whole and never half-loads.
//
// Names accepted for canonical BertModel name X: X itself, `bert.` + X (task models and the
// original bert-base upload) and, for LayerNorms, the legacy `gamma`/`beta` for `weight`/`bias`.
// Everything else (cls.* pre-training heads, embeddings.position_ids...) is ignored.
//
//     auto w = sinter::io::load_bert_weights<sinter::bert::minilm_l6>(dir);   // f32, host
//     sinter::io::BertCheckpoint ckpt(dir);                                     // resolve only
//     ckpt.read_into<half>("encoder.layer.0.output.dense.weight", staging);     // any dtype
#include <algorithm>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sinter/core/dtype.hpp"
#include "sinter/core/error.hpp"
#include "sinter/io/hf_config.hpp"
#include "sinter/io/safetensors.hpp"
#include "sinter/nn/bert/config.hpp"
#include "sinter/ref/bert_weights.hpp"

namespace sinter::io {

// A checkpoint tensor name as the canonical BertModel name it may stand for.
inline std::string canonical_bert_name(std::string_view name) {
    std::string s(name.starts_with("bert.") ? name.substr(5) : name);
    const auto replace_suffix = [&](std::string_view from, std::string_view to) {
        if (s.ends_with(from)) s.replace(s.size() - from.size(), from.size(), to);
    };
    replace_suffix("LayerNorm.gamma", "LayerNorm.weight");
    replace_suffix("LayerNorm.beta", "LayerNorm.bias");
    return s;
}

enum class BertHead : unsigned char {
    automatic,                // the classifier when the checkpoint has one and config.json's
                              // architectures, if given, include BertForSequenceClassification
    none,                     // BertModel only, a classifier in the file is ignored
    sequence_classification,  // classifier.{weight,bias} required
};

class BertCheckpoint {
public:
    struct Source {
        std::string canonical;       // BertModel name
        std::vector<index_t> shape;  // as expected, and as found
        const SafetensorsFile* file;
        const TensorInfo* info;  // info->name is the name in the file
    };

    explicit BertCheckpoint(const std::filesystem::path& dir, BertHead head = BertHead::automatic)
        : BertCheckpoint(dir, read_hf_config(dir / "config.json"), head) {}

    // The same, with the folder's config.json already read (and checked) by the caller.
    BertCheckpoint(const std::filesystem::path& dir, HfBertConfig hf, BertHead head = BertHead::automatic)
        : dir_(dir), hf_(std::move(hf)), tensors_(dir) {
        // The checkpoint's names under their canonical form.
        std::unordered_map<std::string, std::vector<const SafetensorsCheckpoint::Entry*>> by_canonical;
        for (const auto& [name, entry] : tensors_.entries())
            by_canonical[canonical_bert_name(name)].push_back(&entry);
        const bool has_classifier =
            by_canonical.count("classifier.weight") || by_canonical.count("classifier.bias");
        // BertForTokenClassification and BertForMultipleChoice name their heads `classifier` too:
        // a checkpoint whose config names only other architectures loads as a BertModel.
        const auto& arch = hf_.architectures;
        const bool sequence_classifier =
            arch.empty() || std::find(arch.begin(), arch.end(), "BertForSequenceClassification") != arch.end();
        const bool classify = head == BertHead::sequence_classification ||
                              (head == BertHead::automatic && has_classifier && sequence_classifier);
        // A BertModel saved without its pooling layer (add_pooling_layer=False: masked-LM and
        // token-classification exports) still gives hidden states and embeddings; a sequence
        // classifier reads the pooled output, so it needs the pooler.
        const bool has_pooler = by_canonical.count("pooler.dense.weight") || by_canonical.count("pooler.dense.bias");
        if (classify && !has_pooler)
            throw format_error("sinter: " + dir.string() +
                               ": a sequence-classification head needs the pooler, and the checkpoint has no "
                               "tensor 'pooler.dense.weight' (nor 'bert.pooler.dense.weight')");
        // The last layer first: a num_hidden_layers past the checkpoint's layers is named here,
        // before the skeleton sizes a vector by it (a tensor missing from a layer that is there is
        // named below, with its shape).
        const std::string last_layer = "encoder.layer." + std::to_string(hf_.num_hidden_layers - 1) + ".";
        if (std::none_of(by_canonical.begin(), by_canonical.end(),
                         [&](const auto& entry) { return entry.first.starts_with(last_layer); }))
            throw format_error("sinter: " + dir.string() + ": config.json has num_hidden_layers " +
                               std::to_string(hf_.num_hidden_layers) + ", and the checkpoint has no tensor of layer " +
                               std::to_string(hf_.num_hidden_layers - 1) + " ('" + last_layer + "*')");
        skeleton_ = ref::bert_weights_skeleton(hf_.to_config(), classify ? static_cast<int>(hf_.num_labels) : 0,
                                               has_pooler);
        ref::for_each_tensor(skeleton_, [&](const std::string& name, const std::vector<index_t>& shape,
                                            auto&) {
            const auto it = by_canonical.find(name);
            if (it == by_canonical.end())
                throw format_error("sinter: " + dir.string() + ": the checkpoint has no tensor '" + name +
                                   "' (nor 'bert." + name + "'), expected with shape " + shape_string(shape));
            // Two names for one tensor that is used: which one is meant is not ours to guess.
            if (it->second.size() > 1)
                throw format_error("sinter: " + dir.string() + ": tensors '" + it->second[0]->info->name +
                                   "' and '" + it->second[1]->info->name + "' are both " + name);
            const SafetensorsCheckpoint::Entry& entry = *it->second.front();
            const TensorInfo& t = *entry.info;
            const std::string where = "sinter: " + entry.file->path().string() + ": tensor '" + t.name + "'";
            if (t.shape != shape)
                throw shape_error(where + " has shape " + shape_string(t.shape) + ", expected " +
                                  shape_string(shape) + " for " + name);
            if (t.dtype != StDtype::f32 && t.dtype != StDtype::f16 && t.dtype != StDtype::bf16)
                throw format_error(where + " is " + std::string(io::name(t.dtype)) +
                                   "; expected F32, F16 or BF16");
            index_.emplace(name, sources_.size());
            sources_.push_back({name, shape, entry.file, &t});
        });
    }

    const std::filesystem::path& dir() const { return dir_; }
    const HfBertConfig& hf_config() const { return hf_; }
    const bert::Config& config() const { return skeleton_.config; }
    int num_labels() const { return skeleton_.num_labels; }          // 0: no classifier loaded
    bool has_pooler() const { return skeleton_.has_pooler; }
    const std::vector<Source>& sources() const { return sources_; }  // for_each_tensor's order

    const Source& at(std::string_view canonical) const {
        const auto it = index_.find(std::string(canonical));
        if (it == index_.end())
            throw value_error("sinter: " + dir_.string() + ": '" + std::string(canonical) +
                              "' is not a tensor of this model");
        return sources_[it->second];
    }

    // One tensor, converted to T (round to nearest even), row-major.
    template <FloatDtype T>
    void read_into(std::string_view canonical, std::span<T> out) const {
        const Source& s = at(canonical);
        s.file->read_into<T>(*s.info, out);
    }

    // All of it as f32 host weights.
    ref::BertWeights load_weights() const {
        ref::BertWeights w = skeleton_;
        ref::for_each_tensor(
            w, [&](const std::string& name, const std::vector<index_t>&, std::vector<float>& data) {
                const Source& s = at(name);
                data.resize(static_cast<std::size_t>(s.info->numel));
                read_into<float>(name, std::span<float>(data));
            });
        return w;
    }

private:
    std::filesystem::path dir_;
    HfBertConfig hf_;
    SafetensorsCheckpoint tensors_;
    ref::BertWeights skeleton_;  // the dimensions, tensors empty
    std::vector<Source> sources_;
    std::unordered_map<std::string, std::size_t> index_;
};

// f32 host weights from a checkpoint folder, dimensions from its config.json.
inline ref::BertWeights load_bert_weights(const std::filesystem::path& dir,
                                          BertHead head = BertHead::automatic) {
    return BertCheckpoint(dir, head).load_weights();
}

// The same, after checking config.json field by field against the compile-time config C.
template <bert::Config C>
ref::BertWeights load_bert_weights(const std::filesystem::path& dir, BertHead head = BertHead::automatic) {
    HfBertConfig hf = read_hf_config(dir / "config.json");
    check_config(hf, C, (dir / "config.json").string());
    return BertCheckpoint(dir, std::move(hf), head).load_weights();
}

}  // namespace sinter::io
