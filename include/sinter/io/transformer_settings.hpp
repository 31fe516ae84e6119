#pragma once
// The longest input a sentence-transformers model folder is fed, and whether its text is
// lowercased first: its Transformer module's sentence_bert_config.json, else the tokenizer's
// tokenizer_config.json.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "sinter/core/error.hpp"
#include "sinter/io/json.hpp"
#include "sinter/text/normalizer.hpp"

namespace sinter::io {

// The Transformer module's settings (sentence_bert_config.json) and what decides the longest input
// sentence-transformers feeds the model (Transformer.max_seq_length): the file's max_seq_length,
// else tokenizer_config.json's model_max_length (where sentence-transformers 6 saves it), else the
// model's positions. Either is capped at the positions (sentence-transformers caps only
// model_max_length; a longer max_seq_length would fail there). `max_positions` <= 0: unknown, no
// cap; an unbounded model_max_length (transformers' int(1e30)) is then 0, no limit.
struct TransformerSettings {
    std::int64_t max_seq_length = 0;  // tokens, [CLS] and [SEP] included; 0: no limit
    std::string why;                  // where it came from, for messages
    bool do_lower_case = false;       // lowercase every text before tokenizing it

    // A tokenizer's normaliser with do_lower_case applied as sentence-transformers applies it (a
    // Lowercase before the tokenizer's own normaliser): lowercased, the accents kept or stripped as
    // they were.
    text::NormalizerOptions normalizer(text::NormalizerOptions n) const {
        if (!do_lower_case || n.lowercase) return n;
        n.strip_accents = n.strips_accents();
        n.lowercase = true;
        return n;
    }
};

inline TransformerSettings read_transformer_settings(const std::filesystem::path& dir, std::int64_t max_positions) {
    TransformerSettings t{std::max<std::int64_t>(max_positions, 0), "the model's max_position_embeddings", false};
    const auto cap = [&](double limit, const std::filesystem::path& file, const char* key) {
        if (!(limit >= 1)) {
            char shown[32];
            std::snprintf(shown, sizeof shown, "%g", limit);
            throw config_error("sinter: " + file.string() + ": " + key + " is " + shown + ", must be at least 1");
        }
        const std::string source = file.filename().string() + "'s " + key;
        const bool unbounded = limit > 1e18;  // int(1e30), Infinity: no int64 holds it
        const std::string shown = unbounded ? "unbounded" : std::to_string(std::int64_t(limit));
        if (max_positions > 0 && limit > double(max_positions)) {
            t.max_seq_length = max_positions;
            t.why = source + " (" + shown + ") capped at the model's " + std::to_string(max_positions) + " positions";
        } else {
            t.max_seq_length = unbounded ? 0 : std::int64_t(limit);
            t.why = unbounded ? source + " (unbounded)" : source;
        }
    };
    const std::filesystem::path st = dir / "sentence_bert_config.json", tok = dir / "tokenizer_config.json";
    if (std::filesystem::exists(st)) {
        const Json root = read_json_file(st);
        root.as_object(st.string());
        if (const Json* v = root.find("do_lower_case"); v && !v->is_null())
            t.do_lower_case = v->as_bool("'do_lower_case' of " + st.string());
        if (const Json* n = root.find("max_seq_length"); n && !n->is_null()) {
            cap(double(n->as_int("'max_seq_length' of " + st.string())), st, "max_seq_length");
            return t;
        }
    }
    if (std::filesystem::exists(tok)) {
        const Json root = parse_json(sinter::detail::read_file_bytes(tok), tok.string(), {.python_nonfinite = true});
        root.as_object(tok.string());
        if (const Json* n = root.find("model_max_length"); n && !n->is_null()) {
            if (!n->is_number())
                throw format_error("sinter: 'model_max_length' of " + tok.string() + " is not a number");
            cap(n->as_double(), tok, "model_max_length");
        }
    }
    return t;
}

}  // namespace sinter::io
