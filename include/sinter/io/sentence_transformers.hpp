#pragma once
// How a sentence-transformers model folder turns token embeddings into one sentence embedding:
// its modules.json (Transformer, then Pooling, then optionally Normalize) and the Pooling
// module's config.json (pooling_mode, include_prompt). all-MiniLM-L6-v2 takes the mean and
// normalises; BAAI/bge-* take the [CLS] token and normalise; paraphrase-MiniLM-* take the mean and
// do not normalise. A folder without modules.json gets the mean, normalised. What sinter cannot
// compute as sentence-transformers does (a Dense layer, two pooling modes at once, weighted-mean or
// last-token pooling, an unknown module) is a config_error naming the file and the module or key.
// Its other files: sentence_transformers_config.hpp (prompts, a cross-encoder's activation),
// transformer_settings.hpp (the longest input, lowercasing).
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "sinter/core/error.hpp"
#include "sinter/io/json.hpp"

namespace sinter::io {

// sentence-transformers' pooling modes (models.Pooling) that sinter computes.
enum class Pooling { mean, cls, max, mean_sqrt_len };

constexpr const char* name(Pooling p) {
    switch (p) {
        case Pooling::mean: return "mean";
        case Pooling::cls: return "cls";
        case Pooling::max: return "max";
        case Pooling::mean_sqrt_len: return "mean_sqrt_len";
    }
    return "?";
}

struct SentenceEmbedding {
    Pooling pooling = Pooling::mean;
    bool normalize = true;          // L2, as models.Normalize: x / max(|x|, 1e-12)
    std::int64_t dimension = 0;     // the pooling config's embedding dimension; 0: not given
    bool include_prompt = true;     // false: a prompt's tokens are left out of the pooling
                                    // (bert::Inputs::prompt_length says how many)
    bool from_pooling_module = false;  // whether a Pooling module said so (else: sinter's default)
};

// The Pooling module's config, as sentence-transformers 6 reads it: "pooling_mode", a mode name or
// a list of them, else the older "pooling_mode_*" flags (the modes of those set; none set, or no
// key at all: the mean); "embedding_dimension" (older: "word_embedding_dimension");
// "include_prompt" (default true). Two modes (concatenated by sentence-transformers) and the modes
// sinter does not compute (weightedmean, lasttoken) are config_errors naming them.
inline SentenceEmbedding parse_pooling_config(const Json& root, const std::string& source) {
    const std::string where = "sinter: " + source + ": ";
    if (!root.is_object()) throw format_error(where + "expected a JSON object");
    const auto key = [&](std::string_view k) { return "key '" + std::string(k) + "' of " + source; };
    struct Mode {
        const char* name;  // in "pooling_mode"
        const char* flag;  // the older boolean key
    };
    // sentence-transformers' order (that of its concatenation); the first four are sinter's.
    constexpr Mode modes[] = {{"cls", "pooling_mode_cls_token"},
                              {"max", "pooling_mode_max_tokens"},
                              {"mean", "pooling_mode_mean_tokens"},
                              {"mean_sqrt_len_tokens", "pooling_mode_mean_sqrt_len_tokens"},
                              {"weightedmean", "pooling_mode_weightedmean_tokens"},
                              {"lasttoken", "pooling_mode_lasttoken"}};
    constexpr Pooling computed[] = {Pooling::cls, Pooling::max, Pooling::mean, Pooling::mean_sqrt_len};
    std::vector<std::size_t> on;  // indices into modes
    std::string from;             // where they were read, for messages
    if (const Json* mode = root.find("pooling_mode"); mode && !mode->is_null()) {
        from = "pooling_mode";
        const auto add = [&](const Json& v) {
            const std::string& m = v.as_string(key("pooling_mode"));
            std::size_t i = 0;
            while (i < std::size(modes) && m != modes[i].name) ++i;
            if (i == std::size(modes))
                throw config_error(where + "pooling_mode '" + m + "' is not one sentence-transformers defines");
            on.push_back(i);
        };
        if (mode->is_array())
            for (const Json& v : mode->as_array(key("pooling_mode"))) add(v);
        else
            add(*mode);
        if (on.empty()) throw config_error(where + "pooling_mode is an empty list: no pooling mode is set");
    } else {
        from = "the pooling_mode_* flags";
        for (const auto& [k, v] : root.as_object(source)) {
            if (!k.starts_with("pooling_mode_")) continue;
            std::size_t i = 0;
            while (i < std::size(modes) && k != modes[i].flag) ++i;
            if (!v.as_bool(key(k))) continue;
            if (i == std::size(modes))
                throw config_error(where + "'" + k + "' is a pooling mode sinter does not compute");
            on.push_back(i);
        }
        std::ranges::sort(on);
        if (on.empty()) on.push_back(2);  // sentence-transformers' default: the mean
    }
    if (on.size() > 1) {
        std::string which;
        for (const std::size_t i : on) which += (which.empty() ? "" : ", ") + std::string(modes[i].name);
        throw config_error(where + "pooling modes " + which + " are all set (" + from +
                           "): sentence-transformers concatenates them; sinter computes one");
    }
    if (on[0] >= std::size(computed))
        throw config_error(where + "pooling mode '" + modes[on[0]].name + "' ('" + modes[on[0]].flag +
                           "') is one sinter does not compute (it computes cls, max, mean and mean_sqrt_len_tokens)");
    SentenceEmbedding s;
    s.pooling = computed[on[0]];
    s.from_pooling_module = true;
    for (const char* k : {"embedding_dimension", "word_embedding_dimension"}) {
        const Json* d = root.find(k);
        if (!d || d->is_null()) continue;
        s.dimension = d->as_int(key(k));
        if (s.dimension < 1)
            throw config_error(where + "'" + k + "' is " + std::to_string(s.dimension) + ", must be at least 1");
        break;
    }
    if (const Json* p = root.find("include_prompt"); p && !p->is_null())
        s.include_prompt = p->as_bool(key("include_prompt"));
    return s;
}

// The sentence embedding of model folder `dir`: from its modules.json and Pooling config when it
// has them, else the mean, normalised. A modules.json of the Transformer alone (a cross-encoder,
// as sentence-transformers 6 saves one) has no pooling: the default then too.
inline SentenceEmbedding read_sentence_embedding(const std::filesystem::path& dir) {
    const std::filesystem::path modules_file = dir / "modules.json";
    if (!std::filesystem::exists(modules_file)) return {};
    const std::string source = modules_file.string();
    const std::string where = "sinter: " + source + ": ";
    const Json root = read_json_file(modules_file);
    const auto& modules = root.as_array(source);
    // The classes' names: "sentence_transformers.models.Pooling" (before version 6),
    // "sentence_transformers.sentence_transformer.modules.pooling.Pooling" (6), or bare.
    constexpr std::string_view package = "sentence_transformers.";
    // Transformer, Pooling, then Normalize or nothing: the pipelines sinter computes.
    const char* expected[] = {"Transformer", "Pooling", "Normalize"};
    if (modules.size() < 1 || modules.size() > 3)
        throw config_error(where + std::to_string(modules.size()) +
                           " modules; sinter computes Transformer, Pooling and optionally Normalize");
    SentenceEmbedding s;
    for (std::size_t i = 0; i < modules.size(); ++i) {
        const std::string what = "module " + std::to_string(i) + " of " + source;
        const auto member = [&](const char* k) -> const std::string& {
            const Json* v = modules[i].find(k);
            if (!v) throw format_error(where + "module " + std::to_string(i) + " has no '" + k + "'");
            return v->as_string(std::string("'") + k + "' of " + what);
        };
        const std::string& type = member("type");
        const std::size_t dot = type.rfind('.');
        const std::string short_type =
            dot == std::string::npos ? type : type.starts_with(package) ? type.substr(dot + 1) : type;
        if (short_type != expected[i])
            throw config_error(where + "module " + std::to_string(i) + " is " + type + ", where sinter expects " +
                               "sentence-transformers' " + expected[i] +
                               " (it computes Transformer, Pooling and optionally Normalize)");
        if (short_type == "Pooling") {
            const std::filesystem::path config = dir / member("path") / "config.json";
            if (!std::filesystem::exists(config))
                throw io_error("sinter: " + config.string() + ": the Pooling module's config (named by " + source +
                               ") does not exist");
            s = parse_pooling_config(read_json_file(config), config.string());
        }
    }
    if (modules.size() == 1) return SentenceEmbedding{};
    s.normalize = modules.size() == 3;
    return s;
}

}  // namespace sinter::io
