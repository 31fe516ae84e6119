#pragma once
// How a sentence-transformers model folder turns token embeddings into one sentence embedding:
// its modules.json (Transformer, then Pooling, then optionally Normalize) and the Pooling
// module's config.json (pooling_mode_*). all-MiniLM-L6-v2 takes the mean and normalises;
// BAAI/bge-* take the [CLS] token and normalise; paraphrase-MiniLM-* take the mean and do not
// normalise. A folder without modules.json gets the mean, normalised. What sinter cannot compute
// as sentence-transformers does (a Dense layer, two pooling modes at once, weighted-mean or
// last-token pooling, an unknown module) is a config_error naming the file and the module or key.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

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
    std::int64_t dimension = 0;     // the pooling config's word_embedding_dimension; 0: not given
};

// The Pooling module's config (models.Pooling's constructor arguments, with its defaults for
// missing keys: mean_tokens true, every other mode false; a "pooling_mode" name overrides them).
inline SentenceEmbedding parse_pooling_config(const Json& root, const std::string& source) {
    const std::string where = "sinter: " + source + ": ";
    if (!root.is_object()) throw format_error(where + "expected a JSON object");
    const auto key = [&](std::string_view k) { return "key '" + std::string(k) + "' of " + source; };
    struct Mode {
        const char* key;
        bool on;
    };
    Mode modes[] = {{"pooling_mode_cls_token", false},           {"pooling_mode_mean_tokens", true},
                    {"pooling_mode_max_tokens", false},          {"pooling_mode_mean_sqrt_len_tokens", false},
                    {"pooling_mode_weightedmean_tokens", false}, {"pooling_mode_lasttoken", false}};
    constexpr Pooling computed[] = {Pooling::cls, Pooling::mean, Pooling::max, Pooling::mean_sqrt_len};
    for (const auto& [k, v] : root.as_object(source)) {
        if (!k.starts_with("pooling_mode_")) continue;
        bool known = false;
        for (Mode& m : modes)
            if (k == m.key) m.on = v.as_bool(key(k)), known = true;
        if (!known && v.as_bool(key(k)))
            throw config_error(where + "'" + k + "' is a pooling mode sinter does not compute");
    }
    if (const Json* mode = root.find("pooling_mode"); mode && !mode->is_null()) {
        const std::string& m = mode->as_string(key("pooling_mode"));
        const char* names[] = {"cls", "mean", "max", "mean_sqrt_len_tokens", "weightedmean", "lasttoken"};
        bool known = false;
        for (std::size_t i = 0; i < std::size(modes); ++i) {
            modes[i].on = m == names[i];
            known = known || modes[i].on;
        }
        if (!known) throw config_error(where + "pooling_mode '" + m + "' is not one sentence-transformers defines");
    }
    SentenceEmbedding s;
    int on = 0;
    std::string which;
    for (std::size_t i = 0; i < std::size(modes); ++i) {
        if (!modes[i].on) continue;
        which += (on++ ? ", " : "") + std::string(modes[i].key);
        if (i >= std::size(computed))
            throw config_error(where + "'" + modes[i].key + "' is a pooling mode sinter does not compute");
        s.pooling = computed[i];
    }
    if (on == 0) throw config_error(where + "no pooling mode is set");
    if (on > 1)
        throw config_error(where + "pooling modes " + which +
                           " are all set: sentence-transformers concatenates them; sinter computes one");
    if (const Json* d = root.find("word_embedding_dimension"); d && !d->is_null()) {
        s.dimension = d->as_int(key("word_embedding_dimension"));
        if (s.dimension < 1)
            throw config_error(where + "'word_embedding_dimension' is " + std::to_string(s.dimension) +
                               ", must be at least 1");
    }
    return s;
}

// The sentence embedding of model folder `dir`: from its modules.json and Pooling config when it
// has them, else the mean, normalised.
inline SentenceEmbedding read_sentence_embedding(const std::filesystem::path& dir) {
    const std::filesystem::path modules_file = dir / "modules.json";
    if (!std::filesystem::exists(modules_file)) return {};
    const std::string source = modules_file.string();
    const std::string where = "sinter: " + source + ": ";
    const Json root = read_json_file(modules_file);
    const auto& modules = root.as_array(source);
    constexpr std::string_view prefix = "sentence_transformers.models.";
    // Transformer, Pooling, then Normalize or nothing: the pipelines sinter computes.
    const char* expected[] = {"Transformer", "Pooling", "Normalize"};
    if (modules.size() < 2 || modules.size() > 3)
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
        const std::string short_type = type.starts_with(prefix) ? type.substr(prefix.size()) : type;
        if (short_type != expected[i])
            throw config_error(where + "module " + std::to_string(i) + " is " + type + ", where sinter expects " +
                               std::string(prefix) + expected[i] +
                               " (it computes Transformer, Pooling and optionally Normalize)");
        if (short_type == "Pooling") {
            const std::filesystem::path config = dir / member("path") / "config.json";
            if (!std::filesystem::exists(config))
                throw io_error("sinter: " + config.string() + ": the Pooling module's config (named by " + source +
                               ") does not exist");
            s = parse_pooling_config(read_json_file(config), config.string());
        }
    }
    s.normalize = modules.size() == 3;
    return s;
}

}  // namespace sinter::io
