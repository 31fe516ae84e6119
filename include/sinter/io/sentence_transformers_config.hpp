#pragma once
// What a sentence-transformers model folder's config_sentence_transformers.json says beyond the
// pooling (sentence_transformers.hpp): its prompts; for a CrossEncoder saved by version 6, the
// activation that turns logits into scores; how embeddings are compared (similarity_fn_name).
#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sinter/core/error.hpp"
#include "sinter/io/hf_config.hpp"
#include "sinter/io/json.hpp"

namespace sinter::io {

// The prompts of a sentence-transformers model folder, from its config_sentence_transformers.json:
// texts put before each input, by name (E5's "query: ", the retrieval instruction of BGE,
// arctic-embed or mxbai-embed), and the name of the one used when none is asked for.
// sentence-transformers prepends the prompt to the text and tokenizes the whole; a Pooling module
// with include_prompt false then leaves the prompt's tokens out (bert::Inputs::prompt_length).
// As a SentenceTransformer, every folder has a "query" and a "document" prompt, empty unless the
// file gives them text.
struct Prompts {
    std::vector<std::pair<std::string, std::string>> named = {{"query", ""}, {"document", ""}};  // name, text
    std::optional<std::string> default_name;  // one of named's
    std::string source;                       // the file read, or where it would be (for messages)

    const std::string* find(std::string_view name) const {
        for (const auto& [n, text] : named)
            if (n == name) return &text;
        return nullptr;
    }
    // "'query', 'document'", for messages.
    std::string names() const {
        std::string s;
        for (const auto& [n, text] : named) s += (s.empty() ? "'" : ", '") + n + "'";
        return s;
    }
    // The prompt a call uses, as SentenceTransformer.encode chooses it: the text given, else the
    // one named (a config_error naming the folder's names if it has no such prompt), else the
    // default's, else none. An empty prompt is no prompt.
    std::optional<std::string> resolve(const std::optional<std::string>& text,
                                       const std::optional<std::string>& name) const {
        if (text) return text->empty() ? std::nullopt : text;
        const std::optional<std::string>& chosen = name ? name : default_name;
        if (!chosen) return std::nullopt;
        const std::string* p = find(*chosen);
        if (!p)
            throw config_error("sinter: " + source + ": no prompt is named '" + *chosen + "' (the prompts: " +
                               names() + ")");
        return p->empty() ? std::nullopt : std::optional<std::string>(*p);
    }
};

// The folder's prompts: "query" and "document", empty, then those of its
// config_sentence_transformers.json (a name already there gets the file's text). A prompt of null
// is the empty prompt (as sentence-transformers reads it); a default_prompt_name that names no
// prompt is a config_error naming it and the prompts there are.
inline Prompts read_prompts(const std::filesystem::path& dir) {
    const std::filesystem::path file = dir / "config_sentence_transformers.json";
    Prompts p;
    p.source = file.string();
    if (!std::filesystem::exists(file)) {
        p.source += " (absent)";
        return p;
    }
    const std::string source = file.string();
    const Json root = read_json_file(file);
    root.as_object(source);
    if (const Json* prompts = root.find("prompts"); prompts && !prompts->is_null())
        for (const auto& [name, text] : prompts->as_object("'prompts' of " + source)) {
            std::string value = text.is_null() ? "" : text.as_string("prompt '" + name + "' of " + source);
            const auto known = std::ranges::find(p.named, name, &std::pair<std::string, std::string>::first);
            if (known != p.named.end()) known->second = std::move(value);
            else p.named.emplace_back(name, std::move(value));
        }
    if (const Json* d = root.find("default_prompt_name"); d && !d->is_null()) {
        p.default_name = d->as_string("'default_prompt_name' of " + source);
        if (!p.find(*p.default_name))
            throw config_error("sinter: " + source + ": default_prompt_name '" + *p.default_name +
                               "' names none of its prompts (" + p.names() + ")");
    }
    return p;
}

namespace detail {

inline std::string st_config_file(const std::filesystem::path& dir) {
    return (dir / "config_sentence_transformers.json").string();
}

// A string of the folder's config_sentence_transformers.json; nullopt without the file, the key,
// or with null.
inline std::optional<std::string> st_config_string(const std::filesystem::path& dir, const char* key) {
    const std::string file = st_config_file(dir);
    if (!std::filesystem::exists(file)) return std::nullopt;
    const Json root = read_json_file(file);
    root.as_object(file);
    const Json* v = root.find(key);
    if (!v || v->is_null()) return std::nullopt;
    return v->as_string("'" + std::string(key) + "' of " + file);
}

}  // namespace detail

// A sentence-transformers 6 CrossEncoder's activation: "activation_fn" in the folder's
// config_sentence_transformers.json, where version 6 saves it (earlier versions: config.json,
// HfBertConfig::cross_encoder_scores). nullopt without the file, the key, or with null; one that
// sinter does not compute is a config_error naming it.
inline std::optional<ScoreFunction> read_cross_encoder_activation(const std::filesystem::path& dir) {
    const auto module = detail::st_config_string(dir, "activation_fn");
    if (!module) return std::nullopt;
    return cross_encoder_activation(*module, "sinter: " + detail::st_config_file(dir) + ": 'activation_fn'");
}

// The scores checkpoint folder `dir` asks for, as sentence-transformers' CrossEncoder decides
// them: the activation in config_sentence_transformers.json first, then config.json's (`hf`, the
// folder's config.json); without either, transformers' pipeline rule (HfBertConfig::score_choice).
inline ScoreChoice read_score_choice(const std::filesystem::path& dir, const HfBertConfig& hf) {
    if (const auto f = read_cross_encoder_activation(dir))
        return {*f, "config_sentence_transformers.json's cross-encoder activation"};
    return hf.score_choice();
}

// How a sentence-transformers model's embeddings are compared (SentenceTransformer.similarity):
// cosine; dot, the dot product; euclidean and manhattan, the negative L2 and L1 distances.
enum class Similarity { cosine, dot, euclidean, manhattan };

constexpr const char* name(Similarity s) {
    switch (s) {
        case Similarity::cosine: return "cosine";
        case Similarity::dot: return "dot";
        case Similarity::euclidean: return "euclidean";
        case Similarity::manhattan: return "manhattan";
    }
    return "?";
}

// The similarity named `value` (sentence-transformers' names); nullopt for any other.
inline std::optional<Similarity> similarity_named(std::string_view value) {
    for (const Similarity s : {Similarity::cosine, Similarity::dot, Similarity::euclidean, Similarity::manhattan})
        if (value == name(s)) return s;
    return std::nullopt;
}

// The folder's similarity_fn_name (config_sentence_transformers.json); cosine, as
// sentence-transformers, without the file, the key, or with null. One sinter does not compute
// (maxsim: multi-vector models) is a config_error naming it.
inline Similarity read_similarity(const std::filesystem::path& dir) {
    const auto value = detail::st_config_string(dir, "similarity_fn_name");
    if (!value) return Similarity::cosine;
    if (const auto s = similarity_named(*value)) return *s;
    throw config_error("sinter: " + detail::st_config_file(dir) + ": similarity_fn_name '" + *value +
                       "' is not one sinter computes (cosine, dot, euclidean, manhattan)");
}

}  // namespace sinter::io
