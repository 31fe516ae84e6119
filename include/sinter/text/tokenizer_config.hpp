#pragma once
// Reads the options of a Hugging Face tokenizer_config.json that decide the ids: the normaliser's
// three (do_lower_case, strip_accents and tokenize_chinese_chars), which transformers' BERT
// tokenizer lets override the normaliser stored in tokenizer.json, and split_special_tokens; and
// the one that decides decoding, clean_up_tokenization_spaces.
//
// Parsed by sinter's strict JSON reader (io/json.hpp: duplicate keys, trailing bytes, unbalanced
// brackets and deep nesting refused; Python's NaN and Infinity accepted, as Python's json writes
// them); every other key is ignored. A missing key keeps Hugging Face's default (lowercase on,
// strip_accents unset, CJK spacing on). "split_special_tokens": true makes transformers match no
// special token, so "[SEP]" typed in a text is the word pieces of "[", "sep" and "]".
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "sinter/core/error.hpp"
#include "sinter/io/json.hpp"
#include "sinter/text/normalizer.hpp"

namespace sinter::text {

struct TokenizerConfig {
    NormalizerOptions normalizer{};
    bool split_special_tokens = false;  // special tokens typed in a text are split as plain text
    bool clean_up_tokenization_spaces = false;  // decode's clean-up (decoder.hpp); null: false
};

// The options from the text of a tokenizer_config.json; `source` names it in errors
// (format_error for broken JSON, config_error for an option of the wrong type).
inline TokenizerConfig parse_tokenizer_config(std::string_view json, std::string_view source = "tokenizer_config.json") {
    const io::Json root = io::parse_json(json, source, {.python_nonfinite = true});  // Python's json writes it
    if (!root.is_object()) throw format_error(std::string(source) + ": expected a JSON object ('{')");
    // An option's value: null when absent (Hugging Face's default stays), else a boolean (or null
    // where `nullable`); anything else is a config_error naming it.
    const auto value_of = [&](const char* key, bool nullable) -> const io::Json* {
        const io::Json* v = root.find(key);
        if (v && v->kind() != io::Json::Kind::boolean && !(nullable && v->is_null()))
            throw config_error(std::string(source) + ": \"" + key + "\" must be true or false" + (nullable ? " or null" : ""));
        return v;
    };
    TokenizerConfig config;
    NormalizerOptions& n = config.normalizer;
    if (const io::Json* v = value_of("do_lower_case", false)) n.lowercase = v->as_bool();
    if (const io::Json* v = value_of("tokenize_chinese_chars", false)) n.handle_chinese_chars = v->as_bool();
    if (const io::Json* v = value_of("strip_accents", true)) {
        if (v->is_null()) n.strip_accents.reset();
        else n.strip_accents = v->as_bool();
    }
    if (const io::Json* v = value_of("split_special_tokens", false)) config.split_special_tokens = v->as_bool();
    if (const io::Json* v = value_of("clean_up_tokenization_spaces", true); v && !v->is_null())
        config.clean_up_tokenization_spaces = v->as_bool();
    return config;
}

inline TokenizerConfig read_tokenizer_config(const std::filesystem::path& file) {
    return parse_tokenizer_config(sinter::detail::read_file_bytes(file), file.string());
}

}  // namespace sinter::text
