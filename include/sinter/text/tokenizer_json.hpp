#pragma once
// The WordPiece vocabulary of a Hugging Face tokenizer.json. transformers 5 saves tokenizer.json
// alone, and where a folder has both, its BertTokenizer takes the vocabulary from tokenizer.json
// (model.vocab) before vocab.txt, as Tokenizer::from_directory does. It takes nothing else from
// that file but the added tokens (added_tokens_config.hpp): its normaliser comes from
// tokenizer_config.json, as sinter's does (tokenizer_config.hpp), and the rest is BERT's.
//
// model.vocab is an object of token -> id (or a list, token i having id i); the ids must number
// the tokens 0 to n - 1. A model other than WordPiece (BPE, Unigram: not a BERT tokenizer) is a
// config_error naming it; anything malformed is a format_error naming the file and the token.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sinter/core/error.hpp"
#include "sinter/io/json.hpp"
#include "sinter/text/vocab.hpp"

namespace sinter::text {

// The vocabulary of a parsed tokenizer.json (`source` names it in errors): nullopt if it has no
// model.vocab (transformers then falls back on vocab.txt).
inline std::optional<Vocab> tokenizer_json_vocab(const io::Json& root, const std::string& source) {
    if (!root.is_object()) throw format_error(source + ": expected a JSON object ('{')");
    const io::Json* model = root.find("model");
    if (!model || model->is_null()) return std::nullopt;
    if (!model->is_object()) throw format_error(source + ": \"model\" is not an object");
    if (const io::Json* type = model->find("type"); type && !type->is_null()) {
        const std::string& t = type->as_string("model.type of " + source);
        if (t != "WordPiece")
            throw config_error(source + ": the tokenizer's model is " + t +
                               ", not WordPiece: sinter tokenizes as BERT does");
    }
    const io::Json* vocab = model->find("vocab");
    if (!vocab || vocab->is_null()) return std::nullopt;
    std::vector<std::string> tokens;
    if (vocab->is_array()) {
        std::unordered_map<std::string_view, std::size_t> seen;
        for (const io::Json& token : vocab->as_array("model.vocab of " + source)) {
            const std::string& t = token.as_string("a token of model.vocab of " + source);
            if (const auto [at, fresh] = seen.emplace(t, tokens.size()); !fresh)
                throw format_error(source + ": model.vocab lists \"" + t + "\" twice (entries " +
                                   std::to_string(at->second) + " and " + std::to_string(tokens.size()) + ")");
            tokens.push_back(t);
        }
        return Vocab(std::move(tokens), source);
    }
    const auto& entries = vocab->as_object("model.vocab of " + source);
    const std::size_t n = entries.size();
    tokens.resize(n);
    std::vector<const std::string*> owner(n, nullptr);  // which token took each id
    for (const auto& [token, value] : entries) {
        const std::int64_t id = value.as_int("the id of \"" + token + "\" in model.vocab of " + source);
        if (id < 0 || std::size_t(id) >= n)
            throw format_error(source + ": model.vocab gives \"" + token + "\" id " + std::to_string(id) +
                               ", outside [0, " + std::to_string(n) + "): the ids must number its " +
                               std::to_string(n) + " tokens from 0");
        if (owner[std::size_t(id)])
            throw format_error(source + ": model.vocab gives \"" + *owner[std::size_t(id)] + "\" and \"" + token +
                               "\" the same id " + std::to_string(id));
        owner[std::size_t(id)] = &token;
        tokens[std::size_t(id)] = token;
    }
    return Vocab(std::move(tokens), source);
}

// The vocabulary in the text of a tokenizer.json; format_error if it has none.
inline Vocab parse_tokenizer_json_vocab(std::string_view json, const std::string& source = "tokenizer.json") {
    const io::Json root = io::parse_json(json, source);
    if (!root.is_object()) throw format_error(source + ": expected a JSON object ('{')");
    const io::Json* model = root.find("model");
    if (!model || !model->is_object()) throw format_error(source + ": has no \"model\" object");
    if (auto vocab = tokenizer_json_vocab(root, source)) return std::move(*vocab);
    throw format_error(source + ": model has no \"vocab\"");
}

inline Vocab read_tokenizer_json_vocab(const std::filesystem::path& file) {
    return parse_tokenizer_json_vocab(sinter::detail::read_file_bytes(file), file.string());
}

}  // namespace sinter::text
