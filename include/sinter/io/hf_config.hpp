#pragma once
// A Hugging Face BERT `config.json` as a run-time value, with transformers' defaults for missing
// keys, and the check of a checkpoint's config against the compile-time `bert::Config` the model
// was instantiated with: a mismatch names the field, its config.json key and both values.
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sinter/core/error.hpp"
#include "sinter/io/json.hpp"
#include "sinter/nn/bert/config.hpp"

namespace sinter::io {

// How a classifier's logits become scores (HfBertConfig::score_function says which a checkpoint
// asks for): softmax over the labels, a sigmoid or tanh per label, or the logits as they are.
enum class ScoreFunction { softmax, sigmoid, tanh, none };

constexpr const char* name(ScoreFunction f) {
    switch (f) {
        case ScoreFunction::softmax: return "softmax";
        case ScoreFunction::sigmoid: return "sigmoid";
        case ScoreFunction::tanh: return "tanh";
        case ScoreFunction::none: return "none";
    }
    return "?";
}

// A sentence-transformers CrossEncoder's activation, as its config names the torch module; one
// sinter does not compute is a config_error naming `where` (the file and key) and the module.
inline ScoreFunction cross_encoder_activation(std::string_view module, const std::string& where) {
    if (module == "torch.nn.modules.linear.Identity") return ScoreFunction::none;
    if (module == "torch.nn.modules.activation.Sigmoid") return ScoreFunction::sigmoid;
    if (module == "torch.nn.modules.activation.Tanh") return ScoreFunction::tanh;
    throw config_error(where + " is " + std::string(module) +
                       ", an activation sinter does not compute (torch.nn.modules.linear.Identity, "
                       "torch.nn.modules.activation.Sigmoid or Tanh)");
}

// A score function and which file and key decided it (for messages).
struct ScoreChoice {
    ScoreFunction function;
    std::string why;
};

// The pipeline's rule: none for "regression"; sigmoid for "multi_label_classification" or a single
// label (a cross-encoder's relevance score); softmax otherwise.
inline ScoreChoice pipeline_score_choice(std::string_view problem_type, std::int64_t num_labels) {
    const std::string problem = "config.json's problem_type " + std::string(problem_type);
    if (problem_type == "regression") return {ScoreFunction::none, problem};
    if (problem_type == "multi_label_classification") return {ScoreFunction::sigmoid, problem};
    if (num_labels == 1) return {ScoreFunction::sigmoid, "config.json: one label"};
    return {ScoreFunction::softmax, problem_type.empty() ? "config.json: several labels" : problem};
}

inline ScoreFunction default_score_function(std::string_view problem_type, std::int64_t num_labels) {
    return pipeline_score_choice(problem_type, num_labels).function;
}

struct HfBertConfig {
    std::string model_type = "bert";
    std::vector<std::string> architectures;  // e.g. "BertModel", "BertForSequenceClassification"
    std::int64_t vocab_size = 30522;
    std::int64_t hidden_size = 768;
    std::int64_t num_hidden_layers = 12;
    std::int64_t num_attention_heads = 12;
    std::int64_t intermediate_size = 3072;
    std::string hidden_act = "gelu";
    bert::Activation activation = bert::Activation::gelu;  // hidden_act, mapped
    std::int64_t max_position_embeddings = 512;
    std::int64_t type_vocab_size = 2;
    double layer_norm_eps = 1e-12;
    std::int64_t pad_token_id = 0;
    std::string position_embedding_type = "absolute";
    std::string dtype;  // "dtype" (transformers 5) or "torch_dtype"; empty when absent
    // Sequence classification: num_labels = len(id2label) when id2label is given, else the
    // "num_labels" key, else 2 (transformers' PretrainedConfig).
    std::int64_t num_labels = 2;
    std::vector<std::string> id2label;             // index -> label
    std::map<std::string, std::int64_t> label2id;  // empty when absent
    // "regression", "single_label_classification" or "multi_label_classification"; empty when absent.
    std::string problem_type;
    // A sentence-transformers cross-encoder's activation: "sentence_transformers": {"activation_fn"}
    // (v4), else "sbert_ce_default_activation_function" (v3); nullopt when neither is there.
    std::optional<ScoreFunction> cross_encoder_scores;

    // The scores a user of this checkpoint expects: the cross-encoder's activation when it names
    // one (ms-marco's: Identity, the logits, as CrossEncoder.predict gives them), else what
    // transformers' text-classification pipeline applies.
    ScoreChoice score_choice() const {
        if (cross_encoder_scores) return {*cross_encoder_scores, "config.json's cross-encoder activation"};
        return pipeline_score_choice(problem_type, num_labels);
    }
    ScoreFunction score_function() const { return score_choice().function; }

    // The run-time dimensions as a `bert::Config` (layer_norm_eps rounded to f32).
    bert::Config to_config() const {
        return {static_cast<int>(num_hidden_layers),
                static_cast<int>(hidden_size),
                static_cast<int>(num_attention_heads),
                static_cast<int>(intermediate_size),
                static_cast<int>(vocab_size),
                static_cast<int>(max_position_embeddings),
                static_cast<int>(type_vocab_size),
                static_cast<float>(layer_norm_eps),
                activation};
    }
};

// Hugging Face's activation names to sinter's. "gelu_new", "gelu_pytorch_tanh" and "gelu_fast"
// are the same tanh formula written three ways.
inline std::optional<bert::Activation> parse_activation(std::string_view s) {
    if (s == "gelu" || s == "gelu_python") return bert::Activation::gelu;
    if (s == "gelu_new" || s == "gelu_pytorch_tanh" || s == "gelu_fast") return bert::Activation::gelu_tanh;
    if (s == "relu") return bert::Activation::relu;
    return std::nullopt;
}

// The shortest text that reads back as x (a float or a double).
template <class F>
std::string shortest_text(F x) {
    char buf[32];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, x).ptr);
}

// The most labels a config may declare without an id2label (sinter names them LABEL_0...).
inline constexpr std::int64_t max_labels = std::int64_t(1) << 20;

inline HfBertConfig parse_hf_config(const Json& root, const std::string& source) {
    const std::string where = "sinter: " + source + ": ";
    if (!root.is_object()) throw format_error(where + "expected a JSON object");
    HfBertConfig c;
    const auto key = [&](const char* k) { return "key '" + std::string(k) + "' of " + source; };
    const auto get_int = [&](const char* k, std::int64_t& out, std::int64_t min) {
        if (const Json* v = root.find(k)) out = v->as_int(key(k));
        if (out < min)
            throw config_error(where + "'" + k + "' is " + std::to_string(out) + ", must be at least " +
                               std::to_string(min));
        if (out > INT32_MAX)  // bert::Config holds ints
            throw config_error(where + "'" + k + "' is " + std::to_string(out) + ", over 2^31 - 1");
    };
    const auto get_string = [&](const char* k, std::string& out) {
        if (const Json* v = root.find(k); v && !v->is_null()) out = v->as_string(key(k));
    };
    get_string("model_type", c.model_type);
    if (c.model_type != "bert")
        throw config_error(where + "model_type is '" + c.model_type + "', sinter reads 'bert' models");
    if (const Json* a = root.find("architectures"); a && !a->is_null())
        for (const Json& e : a->as_array(key("architectures")))
            c.architectures.push_back(e.as_string(key("architectures")));
    get_int("vocab_size", c.vocab_size, 1);
    get_int("hidden_size", c.hidden_size, 1);
    get_int("num_hidden_layers", c.num_hidden_layers, 1);
    get_int("num_attention_heads", c.num_attention_heads, 1);
    get_int("intermediate_size", c.intermediate_size, 1);
    get_int("max_position_embeddings", c.max_position_embeddings, 1);
    get_int("type_vocab_size", c.type_vocab_size, 1);
    if (const Json* v = root.find("pad_token_id"); v && !v->is_null())
        c.pad_token_id = v->as_int(key("pad_token_id"));
    if (const Json* v = root.find("layer_norm_eps")) c.layer_norm_eps = v->as_double(key("layer_norm_eps"));
    // Added in f32: it must be a positive f32 (a double past FLT_MAX would not even convert).
    if (!(c.layer_norm_eps > 0) || !(c.layer_norm_eps <= double(std::numeric_limits<float>::max())) ||
        !(static_cast<float>(c.layer_norm_eps) > 0.f))
        throw config_error(where + "'layer_norm_eps' is " + shortest_text(c.layer_norm_eps) +
                           ", must be positive and finite in f32");
    if (c.hidden_size % c.num_attention_heads != 0)
        throw config_error(where + "hidden_size " + std::to_string(c.hidden_size) +
                           " is not a multiple of num_attention_heads " +
                           std::to_string(c.num_attention_heads));
    get_string("hidden_act", c.hidden_act);
    const auto act = parse_activation(c.hidden_act);
    if (!act)
        throw config_error(where + "hidden_act '" + c.hidden_act +
                           "' is not one sinter runs (gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu)");
    c.activation = *act;
    get_string("position_embedding_type", c.position_embedding_type);
    if (c.position_embedding_type != "absolute")
        throw config_error(where + "position_embedding_type '" + c.position_embedding_type +
                           "' is not supported; sinter runs 'absolute' only");
    for (const char* k : {"is_decoder", "add_cross_attention"})
        if (const Json* v = root.find(k); v && v->as_bool(key(k)))
            throw config_error(where + "'" + k + "' is true; sinter runs BERT encoders only");
    get_string("torch_dtype", c.dtype);
    get_string("dtype", c.dtype);  // transformers 5's name wins over the legacy one

    const Json* id2label = root.find("id2label");
    if (id2label && !id2label->is_null()) {
        const auto& labels = id2label->as_object(key("id2label"));
        c.id2label.assign(labels.size(), {});
        std::vector<bool> seen(labels.size());
        for (const auto& [id, label] : labels) {
            // Keys are decimal indices 0..n-1 (JSON keys are strings).
            std::size_t i = 0;
            bool ok = !id.empty() && id.size() < 10 && (id == "0" || id[0] != '0');
            for (char ch : id) ok = ok && ch >= '0' && ch <= '9';
            if (ok) i = std::stoul(id);
            if (!ok || i >= labels.size() || seen[i])
                throw config_error(where + "id2label key '" + id + "' is not one of the indices 0.." +
                                   std::to_string(labels.size() - 1));
            seen[i] = true;
            c.id2label[i] = label.as_string("id2label '" + id + "' of " + source);
        }
        c.num_labels = static_cast<std::int64_t>(labels.size());
        if (const Json* n = root.find("num_labels"); n && n->as_int(key("num_labels")) != c.num_labels)
            throw config_error(where + "num_labels is " + std::to_string(n->as_int()) + " but id2label has " +
                               std::to_string(c.num_labels) + " labels");
    } else {
        get_int("num_labels", c.num_labels, 1);
        if (c.num_labels > max_labels)  // each gets a name "LABEL_i" here
            throw config_error(where + "'num_labels' is " + std::to_string(c.num_labels) + ", over sinter's limit of " +
                               std::to_string(max_labels));
        for (std::int64_t i = 0; i < c.num_labels; ++i) c.id2label.push_back("LABEL_" + std::to_string(i));
    }
    get_string("problem_type", c.problem_type);
    if (!c.problem_type.empty() && c.problem_type != "regression" && c.problem_type != "single_label_classification" &&
        c.problem_type != "multi_label_classification")
        throw config_error(where + "problem_type '" + c.problem_type +
                           "' is not one transformers defines (regression, single_label_classification, "
                           "multi_label_classification)");
    {
        std::string activation, activation_key = "sbert_ce_default_activation_function";
        get_string("sbert_ce_default_activation_function", activation);
        if (const Json* st = root.find("sentence_transformers"); st && st->is_object())
            if (const Json* fn = st->find("activation_fn"); fn && !fn->is_null()) {
                activation = fn->as_string("'sentence_transformers.activation_fn' of " + source);
                activation_key = "sentence_transformers.activation_fn";
            }
        if (!activation.empty())
            c.cross_encoder_scores = cross_encoder_activation(activation, where + "'" + activation_key + "'");
    }
    if (const Json* l2i = root.find("label2id"); l2i && !l2i->is_null())
        for (const auto& [label, id] : l2i->as_object(key("label2id")))
            c.label2id.emplace(label, id.as_int("label2id '" + label + "' of " + source));
    return c;
}

inline HfBertConfig read_hf_config(const std::filesystem::path& path) {
    return parse_hf_config(read_json_file(path, {.python_nonfinite = true}), path.string());
}

// Each field of the checkpoint's config against the compile-time one; the first mismatch is a
// `config_error` naming the field, its config.json key and both values.
inline void check_config(const HfBertConfig& hf, const bert::Config& want,
                         std::string_view source = "config.json") {
    const auto mismatch = [&](std::string_view field, std::string_view key, const std::string& file_value,
                              const std::string& compiled) {
        throw config_error("sinter: " + std::string(source) + ": " + std::string(field) + " (\"" +
                           std::string(key) + "\") is " + file_value + " in the checkpoint but " + compiled +
                           " in the compile-time bert::Config");
    };
    const auto check = [&](std::string_view field, std::string_view key, std::int64_t got, int expected) {
        if (got != expected) mismatch(field, key, std::to_string(got), std::to_string(expected));
    };
    check("layers", "num_hidden_layers", hf.num_hidden_layers, want.layers);
    check("hidden", "hidden_size", hf.hidden_size, want.hidden);
    check("heads", "num_attention_heads", hf.num_attention_heads, want.heads);
    check("intermediate", "intermediate_size", hf.intermediate_size, want.intermediate);
    check("vocab", "vocab_size", hf.vocab_size, want.vocab);
    check("max_positions", "max_position_embeddings", hf.max_position_embeddings, want.max_positions);
    check("type_vocab", "type_vocab_size", hf.type_vocab_size, want.type_vocab);
    // Compared in f32, the precision the model adds eps in.
    if (static_cast<float>(hf.layer_norm_eps) != want.layer_norm_eps) {
        mismatch("layer_norm_eps", "layer_norm_eps", shortest_text(hf.layer_norm_eps),
                 shortest_text(want.layer_norm_eps));
    }
    if (hf.activation != want.activation)
        mismatch("activation", "hidden_act",
                 "\"" + hf.hidden_act + "\" (" + std::string(bert::name(hf.activation)) + ")",
                 std::string(bert::name(want.activation)));
}

}  // namespace sinter::io
