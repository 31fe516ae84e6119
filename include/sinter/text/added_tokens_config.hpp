#pragma once
// The added tokens of a checkpoint folder, with their flags, in the order transformers 5 adds them
// (which decides the ids of those the vocabulary lacks). read_added_tokens follows transformers
// 5.25 step by step, as it loads a BertTokenizer:
//   1. PreTrainedTokenizerBase._from_pretrained reads tokenizer_config.json as keyword arguments:
//      "additional_special_tokens" becomes "extra_special_tokens" where that is falsy; the
//      model-specific "*_token" keys written as strings, and a dict "extra_special_tokens", are
//      set apart (explicit model-specific tokens); objects stay dicts for now.
//   2. The listed tokens, by id: tokenizer_config.json's "added_tokens_decoder" (what transformers
//      4 and 5 save); else, for an older save, special_tokens_map.json's keys over the
//      configuration's (its objects are AddedTokens made special; its "extra_special_tokens" list is
//      merged, a dict of them is more explicit ones), then added_tokens.json (token -> id; special,
//      and not normalised, where str() of a standard named token or of an extra one is the token:
//      a string, or an AddedToken of special_tokens_map.json, not a configuration's dict), then
//      tokenizer.json's "added_tokens", id by id over it.
//   3. Objects with "__type": "AddedToken" become AddedTokens. (A standard named token whose text
//      a listed token has becomes that token; that changes nothing below, as step 5 skips it.)
//   4. BertTokenizer names [UNK] [SEP] [PAD] [CLS] [MASK] where nothing else does;
//      PreTrainedTokenizerBase.__init__ makes the named tokens: the standard keys, then the other
//      "*_token" keys given as a string or an AddedToken (in the order of the keyword arguments),
//      then the explicit model-specific ones over them; and the extra ones: "extra_special_tokens",
//      else "additional_special_tokens".
//   5. TokenizersBackend.__init__ adds to a new tokenizer the listed tokens, then the named ones
//      and the extra ones that no listed token has and that equal none before them (Python's ==:
//      every flag, before any is made special): a string as a special token; an AddedToken, made
//      special if a named token has its text. An AddedToken with no "normalized" is normalised
//      unless special, by then. tokenizers' AddedVocabulary::add_tokens gives a token added twice
//      its first id and its last flags (and keeps it special once special).
//
// Two quirks of tokens added twice are not followed. One added normalised, then again not, still
// decodes to its normalised text in tokenizers ("[SEP]" as "[sep]"); sinter decodes it as it
// matches it. One added special, then again not, is reported not special by tokenizers but treated
// as special (by decode and split_special_tokens); sinter's flag says special.
//
// sinter's tokenizer is BERT's: unk/sep/pad/cls/mask other than [UNK] [SEP] [PAD] [CLS] [MASK]
// (null too) are a config_error. The ids the files give are checked against the ones the tokenizer
// assigns (Tokenizer::from_directory). Malformed entries, and values transformers refuses with a
// TypeError, are format_errors naming the file and the key; one token listed twice, or two ids in
// one file for one token, too. One refusal is not followed: special_tokens_map.json's lists may
// hold plain objects (made special AddedTokens), which transformers 5.25 refuses.
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
    std::vector<std::optional<std::int64_t>> ids;   // the id a file gives each (none for named and extra ones)
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

// An AddedToken as transformers holds it while loading: with no "normalized" it is normalised
// unless special, decided when it is added (tokenizers' PyAddedToken), perhaps made special by then.
struct PendingToken {
    AddedToken token{};
    bool normalized_given = false;

    AddedToken resolved() const {
        AddedToken t = token;
        if (!normalized_given) t.normalized = !t.special;
        return t;
    }
};

// AddedToken(**object): "content" and the flags as written ("special" false if not);
// `made_special`: AddedToken(**object, special=True).
inline PendingToken pending_token(const io::Json& j, const std::string& what, bool made_special = false) {
    const io::Json* content = j.find("content");
    if (!content) throw format_error(what + ": has no \"content\"");
    const auto flag = [&](const char* key) -> std::optional<bool> {
        const io::Json* v = j.find(key);
        if (!v || v->is_null()) return std::nullopt;
        return v->as_bool(what + " \"" + key + "\"");
    };
    PendingToken p{.token = {.content = content->as_string(what + " \"content\"")}};
    p.token.special = made_special || flag("special").value_or(false);
    if (const auto n = flag("normalized")) {
        p.token.normalized = *n;
        p.normalized_given = true;
    }
    p.token.single_word = flag("single_word").value_or(false);
    p.token.lstrip = flag("lstrip").value_or(false);
    p.token.rstrip = flag("rstrip").value_or(false);
    return p;
}

// A special token's value as transformers holds it: null, a string, an AddedToken, or anything
// else (a dict without "__type", a number: refused where transformers refuses it).
struct TokenValue {
    enum class Kind { none, string, token, other };
    Kind kind = Kind::none;
    PendingToken token{};      // string: token.token.content is the string
    bool from_dict = false;    // a tokenizer_config.json object, a dict until step 3
    std::string source{};      // the file and key

    bool is_token_or_string() const { return kind == Kind::string || kind == Kind::token; }
    const std::string& text() const { return token.token.content; }  // str() of a string or a token
    // What str() of the value is where added_tokens.json is read (step 2), if a token's content.
    std::optional<std::string_view> str_before_conversion() const {
        if (kind == Kind::string || (kind == Kind::token && !from_dict)) return std::string_view(text());
        return std::nullopt;
    }
    // The value as transformers adds it (step 5): a string is a special, unnormalised token.
    PendingToken added() const {
        if (kind == Kind::token) return token;
        return {.token = {.content = text(), .special = true, .normalized = false}, .normalized_given = true};
    }
};

// How a file's values become TokenValues.
enum class ValueForm {
    config,      // tokenizer_config.json: an object is an AddedToken only with "__type": "AddedToken"
    legacy_map,  // special_tokens_map.json: any object is an AddedToken, made special
};

inline TokenValue token_value(const io::Json& j, ValueForm form, const std::string& what) {
    TokenValue v{.source = what};
    if (j.is_null()) return v;
    if (j.is_string()) {
        v.kind = TokenValue::Kind::string;
        v.token.token.content = j.as_string();
        return v;
    }
    v.kind = TokenValue::Kind::other;
    if (!j.is_object()) return v;
    if (form == ValueForm::legacy_map) {
        v.kind = TokenValue::Kind::token;
        v.token = pending_token(j, what, true);
        return v;
    }
    const io::Json* type = j.find("__type");
    if (!type || !type->is_string() || type->as_string() != "AddedToken") return v;
    v.kind = TokenValue::Kind::token;
    v.token = pending_token(j, what);
    v.from_dict = true;
    return v;
}

// Python's == of two values: strings by their text, AddedTokens by every field.
inline bool same_value(const TokenValue& a, const TokenValue& b) {
    if (a.kind != b.kind || a.text() != b.text()) return false;
    if (a.kind != TokenValue::Kind::token) return true;
    const AddedToken x = a.token.resolved(), y = b.token.resolved();
    return x.special == y.special && x.normalized == y.normalized && x.single_word == y.single_word &&
           x.lstrip == y.lstrip && x.rstrip == y.rstrip;
}

// A Python dict of named tokens: keys in the order they were first set.
using NamedValues = std::vector<std::pair<std::string, TokenValue>>;

inline void set_named(NamedValues& d, const std::string& key, TokenValue v) {
    const auto it = std::find_if(d.begin(), d.end(), [&](const auto& kv) { return kv.first == key; });
    if (it != d.end()) it->second = std::move(v);
    else d.emplace_back(key, std::move(v));
}

inline const TokenValue* find_named(const NamedValues& d, std::string_view key) {
    const auto it = std::find_if(d.begin(), d.end(), [&](const auto& kv) { return kv.first == key; });
    return it == d.end() ? nullptr : &it->second;
}

// "extra_special_tokens" or "additional_special_tokens" as a keyword argument.
struct TokenCollection {
    enum class Form { absent, none, list, dict, other };
    Form form = Form::absent;
    std::vector<TokenValue> list{};
    NamedValues dict{};
    bool truthy = false;
    std::string source{};
};

inline TokenCollection token_collection(const io::Json& j, ValueForm form, const std::string& what) {
    TokenCollection c{.truthy = detail::truthy(&j), .source = what};
    if (j.is_null()) {
        c.form = TokenCollection::Form::none;
    } else if (j.is_array()) {
        c.form = TokenCollection::Form::list;
        std::size_t i = 0;
        for (const io::Json& t : j.as_array())
            c.list.push_back(token_value(t, form, what + " entry " + std::to_string(i++)));
    } else if (j.is_object()) {
        c.form = TokenCollection::Form::dict;
        for (const auto& [name, t] : j.as_object())
            c.dict.emplace_back(name, token_value(t, form, what + " \"" + name + "\""));
    } else {
        c.form = TokenCollection::Form::other;
    }
    return c;
}

inline constexpr std::array<std::string_view, 7> named_special_keys = {
    "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"};
inline constexpr std::array<std::pair<std::string_view, std::string_view>, 5> bert_special_names = {{
    {"unk_token", "[UNK]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"}, {"cls_token", "[CLS]"},
    {"mask_token", "[MASK]"}}};

inline bool is_standard_key(std::string_view key) {
    return std::find(named_special_keys.begin(), named_special_keys.end(), key) != named_special_keys.end();
}

// The keyword arguments transformers builds a tokenizer with, as far as they decide the added
// tokens.
struct TokenizerKwargs {
    NamedValues tokens;          // the "*_token" keys, in the order they were set
    TokenCollection extra;       // "extra_special_tokens"
    TokenCollection additional;  // "additional_special_tokens"
    NamedValues model_specific;  // "model_specific_special_tokens": the explicit ones

    void move_extra_dict_to_model_specific() {
        if (extra.form != TokenCollection::Form::dict) return;
        for (auto& [name, v] : extra.dict) set_named(model_specific, name, std::move(v));
        extra = {};
    }

    // Step 1: tokenizer_config.json.
    void read_config(const io::Json& root, const std::string& file) {
        const auto what = [&](std::string_view key) { return file + " \"" + std::string(key) + "\""; };
        for (const auto& [key, value] : root.as_object(file)) {
            if (key.ends_with("_token")) tokens.emplace_back(key, token_value(value, ValueForm::config, what(key)));
            else if (key == "extra_special_tokens") extra = token_collection(value, ValueForm::config, what(key));
            else if (key == "additional_special_tokens") additional = token_collection(value, ValueForm::config, what(key));
        }
        if (additional.form != TokenCollection::Form::absent && !extra.truthy) {
            extra = std::move(additional);
            additional = {};
        }
        for (auto it = tokens.begin(); it != tokens.end();) {
            if (!is_standard_key(it->first) && it->second.kind == TokenValue::Kind::string) {
                set_named(model_specific, it->first, std::move(it->second));
                it = tokens.erase(it);
            } else {
                ++it;
            }
        }
        move_extra_dict_to_model_specific();
    }

    // Step 2, an older save: special_tokens_map.json's keys over the configuration's.
    void read_legacy_map(const io::Json& root, const std::string& file) {
        const auto what = [&](std::string_view key) { return file + " \"" + std::string(key) + "\""; };
        for (const auto& [key, value] : root.as_object(file)) {
            if (key == "extra_special_tokens") {
                if (value.is_array()) {  // merged into the configuration's list, without repeats
                    std::vector<TokenValue> merged;
                    if (extra.form == TokenCollection::Form::list && extra.truthy) merged = std::move(extra.list);
                    std::size_t i = 0;
                    for (const io::Json& t : value.as_array()) {
                        TokenValue v = token_value(t, ValueForm::legacy_map, what(key) + " entry " + std::to_string(i++));
                        if (std::none_of(merged.begin(), merged.end(), [&](const TokenValue& m) { return same_value(m, v); }))
                            merged.push_back(std::move(v));
                    }
                    extra = {.form = TokenCollection::Form::list, .list = std::move(merged), .source = what(key)};
                    extra.truthy = !extra.list.empty();
                } else {
                    extra = token_collection(value, ValueForm::config, what(key));
                }
            } else if (key == "additional_special_tokens") {
                // A list's plain objects are taken as special AddedTokens (transformers 5.25 refuses
                // them); an object is one AddedToken, which it refuses as the extra tokens.
                if (value.is_object())
                    additional = {.form = TokenCollection::Form::other, .truthy = true, .source = what(key)};
                else
                    additional = token_collection(value, ValueForm::legacy_map, what(key));
            } else if (key.ends_with("_token")) {
                set_named(tokens, key, token_value(value, ValueForm::legacy_map, what(key)));
            }
        }
        move_extra_dict_to_model_specific();
    }

    // What added_tokens.json's tokens are compared with: str() of the truthy standard named
    // tokens and of the extra ones.
    std::unordered_set<std::string> special_strings() const {
        std::unordered_set<std::string> out;
        const auto add = [&](const TokenValue& v) {
            if (const auto s = v.str_before_conversion(); s && !s->empty()) out.emplace(*s);
        };
        for (const auto& [key, v] : tokens)
            if (is_standard_key(key)) add(v);
        if (extra.form == TokenCollection::Form::list)
            for (const TokenValue& v : extra.list) add(v);
        return out;
    }
};

// Step 4's named tokens, in order, and the extra ones.
struct SpecialTokens {
    NamedValues named;
    std::vector<TokenValue> extras;
};

inline SpecialTokens special_tokens(TokenizerKwargs kw) {
    const auto refuse = [](const std::string& source, const char* expected) {
        throw format_error(source + ": expected " + expected);
    };
    for (const auto& [key, name] : bert_special_names) {  // BertTokenizer's defaults
        if (find_named(kw.tokens, key)) continue;
        TokenValue v;
        v.kind = TokenValue::Kind::string;
        v.token.token.content = name;
        v.source = "BertTokenizer's " + std::string(key);
        kw.tokens.emplace_back(std::string(key), std::move(v));
    }
    if (kw.additional.form != TokenCollection::Form::absent && kw.extra.form == TokenCollection::Form::absent)
        kw.extra = std::move(kw.additional);

    SpecialTokens out;
    for (const std::string_view key : named_special_keys) {
        const TokenValue* v = find_named(kw.tokens, key);
        if (!v || v->kind == TokenValue::Kind::none) continue;
        if (!v->is_token_or_string()) refuse(v->source, "a string, null or an AddedToken object");
        out.named.emplace_back(std::string(key), *v);
    }
    if (kw.extra.form == TokenCollection::Form::dict) {  // a dict given as additional_special_tokens
        for (auto& [name, v] : kw.extra.dict) {
            if (!v.is_token_or_string()) refuse(v.source, "a string or an AddedToken object");
            set_named(out.named, name, std::move(v));
        }
    } else if (kw.extra.form == TokenCollection::Form::list) {
        out.extras = std::move(kw.extra.list);
    } else if (kw.extra.form == TokenCollection::Form::other) {
        refuse(kw.extra.source, "a list of tokens or a dict of named ones");
    }
    NamedValues model_specific;  // {**auto, **explicit}
    for (auto& [key, v] : kw.tokens)
        if (!is_standard_key(key) && v.is_token_or_string()) set_named(model_specific, key, std::move(v));
    for (auto& [key, v] : kw.model_specific) {
        if (!v.is_token_or_string()) refuse(v.source, "a string or an AddedToken object");
        set_named(model_specific, key, std::move(v));
    }
    for (auto& [key, v] : model_specific) set_named(out.named, key, std::move(v));
    return out;
}

inline void check_bert(const TokenizerKwargs& kw) {
    for (const auto& [key, name] : bert_special_names) {
        const TokenValue* v = find_named(kw.tokens, key);
        if (!v || (v->is_token_or_string() && v->text() == name) || v->kind == TokenValue::Kind::other) continue;
        const std::string given = v->kind == TokenValue::Kind::none ? "null" : "\"" + v->text() + "\"";
        throw config_error(v->source + " is " + given + ": sinter's tokenizer is BERT's, whose " + std::string(key) +
                           " is " + std::string(name));
    }
}

}  // namespace detail

// `tokenizer_json`: the folder's tokenizer.json, already parsed, if the caller has it.
inline FolderAddedTokens read_added_tokens(const std::filesystem::path& dir, const io::Json* tokenizer_json = nullptr) {
    struct Entry {
        detail::PendingToken token;
        std::string source;
    };
    std::map<std::int64_t, Entry> listed;  // by id, as the Python dict keyed by id, sorted as it sorts it

    const auto config_file = dir / "tokenizer_config.json";
    std::optional<io::Json> config;
    if (std::filesystem::exists(config_file)) config = detail::read_json_object(config_file);
    detail::TokenizerKwargs kw;
    if (config) kw.read_config(*config, config_file.string());

    if (const io::Json* decoder = config ? config->find("added_tokens_decoder") : nullptr) {
        for (const auto& [key, value] : decoder->as_object(config_file.string() + " \"added_tokens_decoder\"")) {
            const std::string what = config_file.string() + " \"added_tokens_decoder\" entry \"" + key + "\"";
            std::int64_t id = 0;
            const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
            if (ec != std::errc() || end != key.data() + key.size() || id < 0)
                throw format_error(what + ": the key must be a token id (a non-negative integer)");
            if (!value.is_object()) throw format_error(what + ": expected an AddedToken object");
            listed.insert_or_assign(id, Entry{detail::pending_token(value, what), config_file.string()});
        }
    } else {  // an older save
        const auto map_file = dir / "special_tokens_map.json";
        if (std::filesystem::exists(map_file)) kw.read_legacy_map(detail::read_json_object(map_file), map_file.string());
        const auto legacy_file = dir / "added_tokens.json";
        if (std::filesystem::exists(legacy_file)) {
            const io::Json root = detail::read_json_object(legacy_file);
            const std::unordered_set<std::string> special = kw.special_strings();
            std::map<std::int64_t, std::string> seen;  // id -> the token that has it
            for (const auto& [content, value] : root.as_object()) {
                const bool is_special = special.count(content) != 0;
                const detail::PendingToken token{.token = {.content = content, .special = is_special, .normalized = !is_special},
                                                 .normalized_given = true};
                const std::int64_t id = value.as_int(legacy_file.string() + " \"" + content + "\"");
                if (const auto [at, fresh] = seen.emplace(id, content); !fresh)
                    throw format_error(legacy_file.string() + ": \"" + at->second + "\" and \"" + content +
                                       "\" have the same id " + std::to_string(id));
                listed.insert_or_assign(id, Entry{token, legacy_file.string()});
            }
        }
        std::optional<io::Json> parsed;
        const auto json_file = dir / "tokenizer.json";
        if (!tokenizer_json && std::filesystem::exists(json_file))
            tokenizer_json = &parsed.emplace(detail::read_json_object(json_file));
        const io::Json* added = tokenizer_json ? tokenizer_json->find("added_tokens") : nullptr;
        if (added && !added->is_null()) {
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
                listed.insert_or_assign(value, Entry{detail::pending_token(t, what), json_file.string()});
                ++i;
            }
        }
    }
    detail::check_bert(kw);
    std::unordered_set<std::string> listed_contents;
    for (const auto& [id, e] : listed) listed_contents.insert(e.token.token.content);
    const detail::SpecialTokens specials = detail::special_tokens(std::move(kw));

    // Step 5.
    std::unordered_set<std::string> named_contents;
    for (const auto& [key, v] : specials.named) named_contents.insert(v.text());
    FolderAddedTokens out;
    std::unordered_map<std::string, std::size_t> position;  // content -> its index in out
    const auto add = [&](detail::PendingToken p, std::optional<std::int64_t> id, const std::string& source) {
        if (!p.token.special && named_contents.count(p.token.content)) p.token.special = true;
        if (const auto it = position.find(p.token.content); it != position.end()) {
            // The first one's id, the last one's flags; special once special (tokenizers keeps a
            // set of the special contents, which decode and split_special_tokens go by).
            AddedToken t = p.resolved();
            t.special |= out.tokens[it->second].special;
            out.tokens[it->second] = std::move(t);
            return;
        }
        position.emplace(p.token.content, out.tokens.size());
        out.tokens.push_back(p.resolved());
        out.ids.push_back(id);
        out.sources.push_back(source);
    };
    for (const auto& [id, e] : listed) {
        const std::string& content = e.token.token.content;
        if (content.empty()) throw format_error(e.source + ": an added token (id " + std::to_string(id) + ") is empty");
        if (const auto it = position.find(content); it != position.end())
            throw format_error(e.source + ": added token \"" + content + "\" is listed twice" +
                               (out.sources[it->second] == e.source ? "" : " (also in " + out.sources[it->second] + ")"));
        add(e.token, id, e.source);
    }
    std::vector<const detail::TokenValue*> candidates;  // tokens_to_add, as they were before any is made special
    const auto add_special = [&](const detail::TokenValue& v) {
        if (!v.is_token_or_string()) throw format_error(v.source + ": expected a string or an AddedToken object");
        if (listed_contents.count(v.text()) ||
            std::any_of(candidates.begin(), candidates.end(), [&](const auto* c) { return detail::same_value(*c, v); }))
            return;
        candidates.push_back(&v);
        if (!v.text().empty()) add(v.added(), std::nullopt, v.source);  // tokenizers skips an empty one
    };
    for (const auto& [key, v] : specials.named) add_special(v);
    for (const detail::TokenValue& v : specials.extras) add_special(v);
    return out;
}

}  // namespace sinter::text
