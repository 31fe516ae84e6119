#pragma once
// The added tokens of a checkpoint folder, in the order transformers 5 adds them
// (PreTrainedTokenizerBase.from_pretrained, then TokenizersBackend.__init__), which decides the ids
// of those the vocabulary lacks:
//   1. the listed ones, sorted by id: tokenizer_config.json's "added_tokens_decoder" (what
//      transformers 4 saves); else, from older saves, added_tokens.json (token -> id; special if
//      a standard named special token or an extra one is it, written as a string or in
//      special_tokens_map.json, and then not normalised), overridden id by id
//      by tokenizer.json's "added_tokens" (what transformers 5 saves);
//   2. the named special tokens not listed yet: bos, eos, unk, sep, pad, cls, mask, then any other
//      "*_token" key (a string or an AddedToken object), from tokenizer_config.json and, for an
//      older save (no added_tokens_decoder), special_tokens_map.json over it;
//   3. the extra special tokens not listed yet: "extra_special_tokens" (a dict of them is more
//      named ones), else the older "additional_special_tokens", from the same files, with
//      transformers 5's precedence between them.
// Which are special (what split_special_tokens and decode's skip_special_tokens go by): any whose
// content a named special token has (BERT's five always are); the others as their file says (an
// extra one given as a string, or in special_tokens_map.json, always is). A token with no
// "normalized" is normalised unless special. Two ids in one file for one token, or one id for
// two, are a format_error.
//
// sinter's tokenizer is BERT's: unk/sep/pad/cls/mask other than [UNK] [SEP] [PAD] [CLS] [MASK]
// (or null) are a config_error. The ids the files give are checked
// against the ones the tokenizer assigns (Tokenizer::from_directory). Malformed entries are
// format_errors naming the file and the entry.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sinter/core/error.hpp"
#include "sinter/io/json.hpp"
#include "sinter/text/added_tokens.hpp"

namespace sinter::text {

struct FolderAddedTokens {
    std::vector<AddedToken> tokens;                 // in the order Hugging Face adds them
    std::vector<std::optional<std::int64_t>> ids;   // the id a file gives each (none for steps 2 and 3)
    std::vector<std::string> sources;               // the file (and key) that gives each
};

namespace detail {

inline io::Json read_json_object(const std::filesystem::path& file) {
    io::Json root = io::read_json_file(file, {.python_nonfinite = true});
    if (!root.is_object()) throw format_error(file.string() + ": expected a JSON object ('{')");
    return root;
}

// Python's truth value of a JSON value: null, false, 0, "", [] and {} are false.
inline bool truthy(const io::Json* v) {
    if (!v) return false;
    switch (v->kind()) {
        case io::Json::Kind::null: return false;
        case io::Json::Kind::boolean: return v->as_bool();
        case io::Json::Kind::integer: return v->as_int() != 0;
        case io::Json::Kind::number: return v->as_double() != 0;
        case io::Json::Kind::string: return !v->as_string().empty();
        case io::Json::Kind::array: return !v->as_array().empty();
        case io::Json::Kind::object: return !v->as_object().empty();
    }
    return false;
}

// An AddedToken object's fields; a missing "special" is `special`. `made_special`: transformers
// makes the token special whatever the object says. A missing "normalized" is then !special, as
// tokenizers works it out when the token is added, once transformers has set special.
inline AddedToken added_token_object(const io::Json& j, bool special, const std::string& what, bool made_special = false) {
    const io::Json* content = j.find("content");
    if (!content) throw format_error(what + ": has no \"content\"");
    const auto flag = [&](const char* key, bool fallback) {
        const io::Json* v = j.find(key);
        return v && !v->is_null() ? v->as_bool(what + " \"" + key + "\"") : fallback;
    };
    AddedToken t{.content = content->as_string(what + " \"content\"")};
    t.special = made_special || flag("special", special);
    t.normalized = flag("normalized", !t.special);
    t.single_word = flag("single_word", false);
    t.lstrip = flag("lstrip", false);
    t.rstrip = flag("rstrip", false);
    return t;
}

// How a special token is written where transformers reads it.
enum class TokenForm {
    config,      // tokenizer_config.json: a string, or an object with "__type": "AddedToken"
    legacy_map,  // special_tokens_map.json: a string, or any object, made special
};

// A special token, named (bos_token...) or extra: nullopt if transformers would skip the value.
inline std::optional<AddedToken> special_token(const io::Json& j, TokenForm form, bool named, const std::string& what) {
    if (j.is_string()) return AddedToken{.content = j.as_string(), .special = true, .normalized = false};
    if (!j.is_object()) return std::nullopt;
    if (form == TokenForm::legacy_map) return added_token_object(j, true, what, true);  // AddedToken(**value, special=True)
    const io::Json* type = j.find("__type");
    if (!type || !type->is_string() || type->as_string() != "AddedToken") return std::nullopt;
    // AddedToken(**value): special and normalized as written; TokenizersBackend.__init__ then
    // marks a named one special (an extra one keeps "special": false).
    return added_token_object(j, false, what, named);
}

inline constexpr std::array<std::string_view, 7> named_special_keys = {
    "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"};
inline constexpr std::array<std::pair<std::string_view, std::string_view>, 5> bert_special_names = {{
    {"unk_token", "[UNK]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"}, {"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}}};
inline constexpr std::array<std::string_view, 5> bert_special_contents = {"[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"};

// transformers' tokenizer settings, as far as they decide the added tokens.
struct SpecialTokenSettings {
    // A token as a file gives it. str_is_content: transformers' str() of the value is the token's
    // content when it matches added_tokens.json against it: true for a string, and for an object
    // of special_tokens_map.json (already an AddedToken then); false for an object of
    // tokenizer_config.json (still a dict then).
    struct Given {
        AddedToken token;
        bool str_is_content = false;
    };
    struct Named {
        std::string key;
        std::optional<AddedToken> token;  // nullopt: null (no such token)
        std::string source;
        bool str_is_content = false;  // as Given's
    };
    std::vector<Named> named;                  // the standard keys first, each once, then the others
    std::vector<Given> extras;                 // extra_special_tokens (a list)
    std::vector<std::string> extra_sources;
    bool extras_given = false;                 // "extra_special_tokens" is a key (even if empty)
    std::vector<Given> legacy_additional;      // special_tokens_map.json's additional_special_tokens
    std::string legacy_additional_source;

    void set_named(const std::string& key, std::optional<AddedToken> token, const std::string& source, bool str_is_content) {
        const auto it = std::find_if(named.begin(), named.end(), [&](const Named& n) { return n.key == key; });
        if (it != named.end()) *it = {key, std::move(token), source, str_is_content};
        else named.push_back({key, std::move(token), source, str_is_content});
    }

    // Reads one file's keys: tokenizer_config.json (form config) or special_tokens_map.json.
    void read(const io::Json& root, TokenForm form, const std::string& file) {
        const auto what = [&](std::string_view key) { return file + " \"" + std::string(key) + "\""; };
        const auto str_is_content = [&](const io::Json& v) { return v.is_string() || form == TokenForm::legacy_map; };
        const auto token_list = [&](const io::Json& list, std::string_view key, TokenForm f) {
            std::vector<Given> out;
            std::size_t i = 0;
            for (const io::Json& t : list.as_array(what(key))) {
                const std::string entry = what(key) + " entry " + std::to_string(i++);
                if (auto token = special_token(t, f, false, entry)) out.push_back({std::move(*token), str_is_content(t)});
                else throw format_error(entry + ": expected a string or an AddedToken object");
            }
            return out;
        };
        const auto append_extras = [&](std::vector<Given> list, const std::string& source) {
            for (Given& t : list) {
                if (std::none_of(extras.begin(), extras.end(), [&](const Given& e) { return e.token.content == t.token.content; })) {
                    extras.push_back(std::move(t));
                    extra_sources.push_back(source);
                }
            }
        };
        for (const auto& [key, value] : root.as_object(file)) {
            const bool standard = std::find(named_special_keys.begin(), named_special_keys.end(), key) != named_special_keys.end();
            if (standard) {
                if (value.is_null()) set_named(key, std::nullopt, what(key), false);
                else if (auto t = special_token(value, form, true, what(key)))
                    set_named(key, std::move(t), what(key), str_is_content(value));
                else throw format_error(what(key) + ": expected a string, null or an AddedToken object");
            } else if (key == "extra_special_tokens" && form == TokenForm::config) {
                extras_given = true;
                if (value.is_array()) append_extras(token_list(value, key, form), what(key));
                else if (value.is_object())  // a dict: more named tokens
                    for (const auto& [name, t] : value.as_object())
                        if (auto token = special_token(t, form, true, what(key) + " \"" + name + "\""))
                            set_named(name, std::move(token), what(key), str_is_content(t));
            } else if (key == "extra_special_tokens" && value.is_array()) {  // special_tokens_map.json: merged
                extras_given = true;
                append_extras(token_list(value, key, form), what(key));
            } else if (key == "additional_special_tokens" && form == TokenForm::legacy_map && value.is_array()) {
                legacy_additional = token_list(value, key, form);
                legacy_additional_source = what(key);
            } else if (key.size() > 6 && key.ends_with("_token")) {  // a model-specific named token
                if (auto t = special_token(value, form, true, what(key)))
                    set_named(key, std::move(t), what(key), str_is_content(value));
            }
        }
        // tokenizer_config.json's additional_special_tokens, if any, replace falsy extra_special_tokens.
        if (form == TokenForm::config && !truthy(root.find("extra_special_tokens"))) {
            if (const io::Json* additional = root.find("additional_special_tokens")) {
                extras.clear();
                extra_sources.clear();
                extras_given = true;
                if (additional->is_array()) append_extras(token_list(*additional, "additional_special_tokens", form),
                                                          what("additional_special_tokens"));
            }
        }
    }

    // The standard keys first, in transformers' order, then the model-specific ones as they came.
    void order_named() {
        std::stable_sort(named.begin(), named.end(), [](const Named& a, const Named& b) {
            const auto rank = [](const std::string& k) {
                return std::find(named_special_keys.begin(), named_special_keys.end(), k) - named_special_keys.begin();
            };
            return rank(a.key) < rank(b.key);
        });
    }

    void check_bert() const {
        for (const Named& n : named) {
            for (const auto& [key, name] : bert_special_names) {
                if (n.key != key) continue;
                const std::string given = n.token ? "\"" + n.token->content + "\"" : "null";
                if (!n.token || n.token->content != name)
                    throw config_error(n.source + " is " + given + ": sinter's tokenizer is BERT's, whose " + std::string(key) +
                                       " is " + std::string(name));
            }
        }
    }
};

}  // namespace detail

// `tokenizer_json`: the folder's tokenizer.json, already parsed, if the caller has it.
inline FolderAddedTokens read_added_tokens(const std::filesystem::path& dir, const io::Json* tokenizer_json = nullptr) {
    struct Entry {
        AddedToken token;
        std::string source;
    };
    std::map<std::int64_t, Entry> listed;  // by id, as the Python dict keyed by id, sorted as it sorts it

    const auto config_file = dir / "tokenizer_config.json";
    std::optional<io::Json> config;
    if (std::filesystem::exists(config_file)) config = detail::read_json_object(config_file);
    detail::SpecialTokenSettings settings;
    if (config) settings.read(*config, detail::TokenForm::config, config_file.string());

    if (const io::Json* decoder = config ? config->find("added_tokens_decoder") : nullptr) {
        for (const auto& [key, value] : decoder->as_object(config_file.string() + " \"added_tokens_decoder\"")) {
            const std::string what = config_file.string() + " \"added_tokens_decoder\" entry \"" + key + "\"";
            std::int64_t id = 0;
            const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
            if (ec != std::errc() || end != key.data() + key.size() || id < 0)
                throw format_error(what + ": the key must be a token id (a non-negative integer)");
            if (!value.is_object()) throw format_error(what + ": expected an AddedToken object");
            listed.insert_or_assign(id, Entry{detail::added_token_object(value, false, what), config_file.string()});
        }
    } else {  // an older save
        const auto map_file = dir / "special_tokens_map.json";
        if (std::filesystem::exists(map_file))
            settings.read(detail::read_json_object(map_file), detail::TokenForm::legacy_map, map_file.string());
        const auto legacy_file = dir / "added_tokens.json";
        if (std::filesystem::exists(legacy_file)) {
            const io::Json root = detail::read_json_object(legacy_file);
            std::map<std::int64_t, std::string> seen;  // id -> the token that has it
            for (const auto& [key, value] : root.as_object()) {
                const std::string& content = key;  // a lambda cannot capture a structured binding (Clang 14)
                // Special if a standard named token or an extra one is it, as transformers compares
                // them (str_is_content).
                const bool special =
                    std::any_of(settings.named.begin(), settings.named.end(),
                                [&](const auto& n) {
                                    return n.token && n.str_is_content && n.token->content == content &&
                                           std::find(detail::named_special_keys.begin(), detail::named_special_keys.end(),
                                                     n.key) != detail::named_special_keys.end();
                                }) ||
                    std::any_of(settings.extras.begin(), settings.extras.end(),
                                [&](const auto& e) { return e.str_is_content && e.token.content == content; });
                AddedToken token{.content = content, .special = special, .normalized = !special};
                const std::int64_t id = value.as_int(legacy_file.string() + " \"" + content + "\"");
                if (const auto [at, fresh] = seen.emplace(id, content); !fresh)
                    throw format_error(legacy_file.string() + ": \"" + at->second + "\" and \"" + content +
                                       "\" have the same id " + std::to_string(id));
                listed.insert_or_assign(id, Entry{std::move(token), legacy_file.string()});
            }
        }
        std::optional<io::Json> parsed;
        const auto json_file = dir / "tokenizer.json";
        if (!tokenizer_json && std::filesystem::exists(json_file)) tokenizer_json = &parsed.emplace(detail::read_json_object(json_file));
        if (const io::Json* added = tokenizer_json ? tokenizer_json->find("added_tokens") : nullptr; added && !added->is_null()) {
            std::size_t i = 0;
            std::map<std::int64_t, std::size_t> seen;  // id -> the entry that has it
            for (const io::Json& t : added->as_array(json_file.string() + " \"added_tokens\"")) {
                const std::string what = json_file.string() + " \"added_tokens\" entry " + std::to_string(i);
                const io::Json* id = t.find("id");
                if (!id) throw format_error(what + ": has no \"id\"");
                const std::int64_t value = id->as_int(what + " \"id\"");
                if (const auto [at, fresh] = seen.emplace(value, i); !fresh)
                    throw format_error(what + ": id " + std::to_string(value) + " is entry " +
                                       std::to_string(at->second) + "'s too");
                listed.insert_or_assign(value, Entry{detail::added_token_object(t, false, what), json_file.string()});
                ++i;
            }
        }
        // special_tokens_map.json's additional_special_tokens count only where no extra ones are.
        if (!settings.extras_given) {
            settings.extras = settings.legacy_additional;
            settings.extra_sources.assign(settings.extras.size(), settings.legacy_additional_source);
        }
    }
    settings.check_bert();
    settings.order_named();
    // TokenizersBackend.__init__ marks special every token it adds whose content a named special
    // token has (BERT's five always are), whichever file lists it and however; "normalized" stays.
    std::unordered_set<std::string> named_contents;
    for (const std::string_view c : detail::bert_special_contents) named_contents.emplace(c);
    for (const auto& n : settings.named)
        if (n.token) named_contents.insert(n.token->content);

    FolderAddedTokens out;
    std::unordered_map<std::string, std::string> first_source;  // content -> the file listing it
    const auto append = [&](AddedToken t, std::optional<std::int64_t> id, const std::string& source) {
        if (named_contents.count(t.content)) t.special = true;
        first_source.emplace(t.content, source);
        out.tokens.push_back(std::move(t));
        out.ids.push_back(id);
        out.sources.push_back(source);
    };
    for (auto& [id, e] : listed) {
        if (e.token.content.empty())
            throw format_error(e.source + ": an added token (id " + std::to_string(id) + ") is empty");
        if (const auto it = first_source.find(e.token.content); it != first_source.end())
            throw format_error(e.source + ": added token \"" + e.token.content + "\" is listed twice" +
                               (it->second == e.source ? "" : " (also in " + it->second + ")"));
        append(std::move(e.token), id, e.source);
    }
    for (auto& n : settings.named)
        if (n.token && !first_source.count(n.token->content)) append(std::move(*n.token), std::nullopt, n.source);
    for (std::size_t i = 0; i < settings.extras.size(); ++i)
        if (!first_source.count(settings.extras[i].token.content))
            append(std::move(settings.extras[i].token), std::nullopt, settings.extra_sources[i]);
    return out;
}

}  // namespace sinter::text
