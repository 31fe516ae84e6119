#pragma once
// The BERT tokenizer: text -> ids, type ids and attention masks, identical to Hugging Face's fast
// BERT tokenizer (tokenizers' BertNormalizer + BertPreTokenizer + WordPiece + the BERT template;
// tests/text checks every string of a 20,000-string corpus against it).
//
//     auto tok = sinter::text::Tokenizer::from_directory("models/all-MiniLM-L6-v2");
//     auto batch = tok.encode_batch(lines, {.max_length = 256});  // (B, S) ids, type ids, mask
//
// The pipeline, per text: added tokens (added_tokens.hpp: [CLS], [MASK] and any a checkpoint
// adds) are found first; every stretch between them is normalised (normalizer.hpp), split on
// whitespace and around every punctuation character, and each word goes through WordPiece
// (wordpiece.hpp). Without normalised added tokens (BERT's five are not) it is one pass: no
// intermediate strings, and ASCII takes a table-driven path that skips the Unicode look-ups. With
// them, each stretch is normalised into a buffer first and searched for them. Time and memory are
// linear in the input (a word is only counted past WordPiece's 100 characters).
#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sinter/core/error.hpp"
#include "sinter/text/added_tokens.hpp"
#include "sinter/text/added_tokens_config.hpp"
#include "sinter/text/decoder.hpp"
#include "sinter/text/encoding.hpp"
#include "sinter/text/normalizer.hpp"
#include "sinter/text/pre_tokenizer.hpp"
#include "sinter/text/tokenizer_config.hpp"
#include "sinter/text/tokenizer_json.hpp"
#include "sinter/text/utf8.hpp"
#include "sinter/text/vocab.hpp"
#include "sinter/text/wordpiece.hpp"

namespace sinter::text {

struct TokenizerOptions {
    NormalizerOptions normalizer{};
    // reject: invalid UTF-8 is a format_error naming the text and byte offset. replace: each invalid
    // sequence becomes U+FFFD as in Python's errors="replace", which clean-up then removes, so the
    // ids are those Hugging Face gives for the text Python decodes that way.
    InvalidUtf8 invalid_utf8 = InvalidUtf8::reject;
    // Tokens matched whole, in the order Hugging Face adds them (which decides the ids of those the
    // vocabulary lacks). BERT's [UNK] [SEP] [PAD] [CLS] [MASK] follow, special and matched in the
    // raw text, unless listed here. from_directory reads a folder's (added_tokens_config.hpp).
    std::vector<AddedToken> added_tokens{};
    // true: special added tokens are not matched, so "[SEP]" typed in a text is split into word
    // pieces like any other text (transformers' split_special_tokens). [CLS] and [SEP] are still
    // added around the text.
    bool split_special_tokens = false;
    // decode's default for DecodeOptions::clean_up_tokenization_spaces (transformers' option of
    // that name: join "it ' s" into "it's"); false, as transformers 5's default.
    bool clean_up_tokenization_spaces = false;
};

template <class R>
concept TextRange = std::ranges::forward_range<R> && std::convertible_to<std::ranges::range_reference_t<R>, std::string_view>;

class Tokenizer {
public:
    // format_error if the vocabulary lacks [UNK], [CLS], [SEP] or [PAD]; added_token_error (a
    // value_error) for an added token that is empty, not UTF-8, listed twice, normalised to nothing
    // or to what another one is.
    explicit Tokenizer(Vocab vocab, TokenizerOptions options = {})
        : vocab_(checked(std::move(vocab))), options_(std::move(options)), model_(vocab_) {
        cls_id_ = *vocab_.find("[CLS]");
        sep_id_ = *vocab_.find("[SEP]");
        pad_id_ = *vocab_.find("[PAD]");
        add_tokens();
        build_ascii_table();
    }

    // A checkpoint folder's tokenizer, as transformers 5 builds it: the vocabulary of tokenizer.json
    // (what transformers 5 saves), else vocab.txt; the options of tokenizer_config.json; the added
    // tokens of the files that list them (added_tokens_config.hpp). A file's error names it.
    static Tokenizer from_directory(const std::filesystem::path& dir, InvalidUtf8 invalid_utf8 = InvalidUtf8::reject) {
        const auto vocab_file = dir / "vocab.txt", json_file = dir / "tokenizer.json";
        const bool has_vocab_txt = std::filesystem::exists(vocab_file), has_json = std::filesystem::exists(json_file);
        if (!has_vocab_txt && !has_json)
            throw io_error(dir.string() + " has no vocab.txt or tokenizer.json (a BERT WordPiece vocabulary)");
        TokenizerOptions options{.invalid_utf8 = invalid_utf8};
        const auto config_file = dir / "tokenizer_config.json";
        if (std::filesystem::exists(config_file)) {
            const TokenizerConfig config = read_tokenizer_config(config_file);
            options.normalizer = config.normalizer;
            options.split_special_tokens = config.split_special_tokens;
            options.clean_up_tokenization_spaces = config.clean_up_tokenization_spaces;
        }
        std::optional<io::Json> json;  // parsed once, for the vocabulary and the added tokens
        if (has_json) json = io::read_json_file(json_file);
        std::optional<Vocab> vocab = json ? tokenizer_json_vocab(*json, json_file.string()) : std::nullopt;
        if (!vocab && !has_vocab_txt)
            throw format_error(json_file.string() + " has no model.vocab, and " + dir.string() + " no vocab.txt");
        if (!vocab) vocab = Vocab::load(vocab_file);
        const FolderAddedTokens added = read_added_tokens(dir, json ? &*json : nullptr);
        options.added_tokens = added.tokens;
        std::optional<Tokenizer> made;
        try {
            made.emplace(std::move(*vocab), std::move(options));
        } catch (const added_token_error& e) {
            throw config_error(added.sources[e.index()] + ": " + e.what());
        }
        const Tokenizer& tokenizer = *made;
        // Hugging Face numbers the added tokens itself and ignores the ids the files give: a file
        // whose ids differ was not written by it, and its model may expect either numbering.
        for (std::size_t i = 0; i < added.tokens.size(); ++i) {
            if (!added.ids[i]) continue;
            const std::int32_t id = *tokenizer.token_to_id(added.tokens[i].content);
            if (*added.ids[i] != id)
                throw format_error(added.sources[i] + ": added token \"" + added.tokens[i].content + "\" has id " +
                                   std::to_string(*added.ids[i]) + ", but Hugging Face's tokenizer gives it " +
                                   std::to_string(id) + " (a token of the vocabulary keeps its id; the others take " +
                                   std::to_string(tokenizer.vocab().size()) + ", " +
                                   std::to_string(tokenizer.vocab().size() + 1) + "... in id order)");
        }
        return std::move(*made);
    }

    const Vocab& vocab() const noexcept { return vocab_; }
    const TokenizerOptions& options() const noexcept { return options_; }
    std::int32_t unk_id() const noexcept { return model_.unk_id(); }
    std::int32_t cls_id() const noexcept { return cls_id_; }
    std::int32_t sep_id() const noexcept { return sep_id_; }
    std::int32_t pad_id() const noexcept { return pad_id_; }

    // The added tokens with their ids, BERT's five included, in the order they were added.
    const std::vector<AddedTokenId>& added_tokens() const noexcept { return added_; }
    // Ids 0 to size() - 1: the vocabulary's, then the added tokens it lacks.
    std::size_t size() const noexcept { return size_; }
    // The id of an added token or of a vocabulary token, if either has it.
    std::optional<std::int32_t> token_to_id(std::string_view token) const {
        if (const auto it = added_ids_.find(std::string(token)); it != added_ids_.end()) return it->second;
        return vocab_.find(token);
    }
    // The token an id stands for, as tokenizers 0.23 gives it: an added token's content, normalised
    // if it is matched normalised ("New York" is "new york"), else the vocabulary's; nullopt
    // outside [0, size()). The view is valid while this tokenizer is.
    std::optional<std::string_view> id_to_token(std::int32_t id) const {
        if (const auto it = added_by_id_.find(id); it != added_by_id_.end()) return added_text(it->second);
        if (id >= 0 && static_cast<std::size_t>(id) < vocab_.size()) return vocab_.tokens()[static_cast<std::size_t>(id)];
        return std::nullopt;
    }

    // ids back to text, as transformers' decode does it (decoder.hpp). An id outside [0, size())
    // is a value_error naming it and its position (transformers leaves it out).
    std::string decode(std::span<const std::int32_t> ids, const DecodeOptions& options = {}) const {
        std::string text, piece;
        bool first = true;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            std::string_view token;
            if (const auto it = added_by_id_.find(ids[i]); it != added_by_id_.end()) {
                if (options.skip_special_tokens && added_decode_[it->second].skipped_as_special) continue;
                token = added_text(it->second);
            } else if (ids[i] >= 0 && static_cast<std::size_t>(ids[i]) < vocab_.size()) {
                token = vocab_.tokens()[static_cast<std::size_t>(ids[i])];
            } else {
                throw value_error("decode: id " + std::to_string(ids[i]) + " (position " + std::to_string(i) +
                                  ") is outside the tokenizer's " + std::to_string(size_) + " ids");
            }
            if (first) piece.assign(token);
            else if (token.starts_with("##")) piece.assign(token.substr(2));
            else piece.assign(" ").append(token);
            first = false;
            detail::wordpiece_cleanup(piece);
            text += piece;
        }
        if (options.clean_up_tokenization_spaces.value_or(options_.clean_up_tokenization_spaces))
            detail::clean_up_tokenization(text);
        return text;
    }

    // Appends the ids of text's word pieces (special tokens written in the text included, [CLS]
    // and [SEP] not added).
    void tokenize(std::string_view text, std::vector<std::int32_t>& ids) const {
        std::string word;
        tokenize(text, ids, word, no_index, false);
    }
    std::vector<std::int32_t> tokenize(std::string_view text) const {
        std::vector<std::int32_t> ids;
        tokenize(text, ids);
        return ids;
    }

    Encoding encode(std::string_view text, const EncodeOptions& options = {}) const {
        const auto ids = tokenize(text);
        return encode_one(ids, nullptr, options);
    }
    Encoding encode(std::string_view a, std::string_view b, const EncodeOptions& options = {}) const {
        std::vector<std::int32_t> ids_a, ids_b;
        std::string word;
        tokenize(a, ids_a, word, no_index, false);
        tokenize(b, ids_b, word, no_index, true);
        return encode_one(ids_a, &ids_b, options);
    }

    // Encodes texts into (B, S) arrays: S is the longest sequence (after truncation) or max_length.
    template <TextRange Texts>
    BatchEncoding encode_batch(const Texts& texts, const EncodeOptions& options = {}) const {
        return encode_rows(texts, static_cast<const Texts*>(nullptr), options);
    }
    BatchEncoding encode_batch(std::initializer_list<std::string_view> texts, const EncodeOptions& options = {}) const {
        // A span, not a ranges::subrange: Clang 14 cannot check subrange's concepts in libstdc++ 12.
        return encode_batch(std::span<const std::string_view>(texts.begin(), texts.size()), options);
    }
    // Pairs: row i is [CLS] first[i] [SEP] second[i] [SEP].
    template <TextRange First, TextRange Second>
    BatchEncoding encode_batch(const First& first, const Second& second, const EncodeOptions& options = {}) const {
        return encode_rows(first, &second, options);
    }

private:
    enum class Ascii : std::uint8_t { remove, space, punct, letter, starts_token };

    static Vocab checked(Vocab vocab) {
        for (const char* name : {"[UNK]", "[CLS]", "[SEP]", "[PAD]"}) {
            if (!vocab.find(name))
                throw format_error(vocab.source() + " has no line \"" + name +
                                   "\": a BERT vocabulary needs [UNK], [CLS], [SEP] and [PAD]");
        }
        return vocab;
    }

    // What the added token at index decodes to: its content, or its normalised text if it is
    // matched normalised.
    std::string_view added_text(std::size_t index) const {
        const std::string& normalized = added_decode_[index].normalized_text;
        return normalized.empty() ? std::string_view(added_[index].token.content) : std::string_view(normalized);
    }

    void add_tokens() {
        std::vector<AddedToken> list = options_.added_tokens;
        for (const char* name : {"[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"}) {  // transformers' order
            if (std::none_of(list.begin(), list.end(), [&](const AddedToken& t) { return t.content == name; }))
                list.push_back({.content = name, .special = true, .normalized = false});
        }
        // As tokenizers' AddedVocabulary::add_tokens: the vocabulary's id, else the next new one.
        std::int32_t next = static_cast<std::int32_t>(vocab_.size());
        std::unordered_map<std::u32string, std::size_t> normalized_owner;  // normalised content -> index
        for (std::size_t i = 0; i < list.size(); ++i) {
            AddedToken& t = list[i];
            const auto name = [&] { return "added token \"" + t.content + "\""; };
            if (t.content.empty()) throw added_token_error(i, "an added token is empty");
            if (const auto bad = find_invalid_utf8(t.content); bad != std::string_view::npos)
                throw added_token_error(i, name() + " is not valid UTF-8 (byte " + std::to_string(bad) + ")");
            const std::int32_t id = vocab_.find(t.content).value_or(next);
            if (!added_ids_.emplace(t.content, id).second) throw added_token_error(i, name() + " is listed twice");
            if (id == next) ++next;
            if (!t.normalized) {
                raw_tokens_.insert(t.content, i);
                added_decode_.emplace_back();
                raw_first_[static_cast<unsigned char>(t.content[0])] = true;
                raw_has_replacement_ |= t.content.find(replacement_character_utf8) != std::string::npos;
            } else {
                const std::u32string n = normalized_code_points(t.content);
                if (n.empty()) throw added_token_error(i, name() + " normalises to nothing, so it cannot be matched");
                // tokenizers would match either, as its hash map happens to order them.
                if (const auto [it, fresh] = normalized_owner.emplace(n, i); !fresh)
                    throw added_token_error(i, name() + " and added token \"" + list[it->second].content +
                                                   "\" normalise to the same text, which Hugging Face matches "
                                                   "as either, from one run to the next");
                normalized_tokens_.insert(n, i);
                std::string& text = added_decode_.emplace_back().normalized_text;
                for (const char32_t c : n) append_utf8(text, c);
                if (n[0] < 128) normalized_first_ascii_[n[0]] = true;
                else normalized_first_other_ = true;
            }
            added_by_id_.emplace(id, added_.size());
            added_.push_back({t, id});
        }
        size_ = static_cast<std::size_t>(next);
        // tokenizers' skip_special_tokens asks whether the text an id decodes to is a special
        // token's content, so a normalised special token whose text changes ("[Z]": "[z]") stays.
        for (std::size_t i = 0; i < added_.size(); ++i) {
            const auto it = added_ids_.find(std::string(added_text(i)));
            added_decode_[i].skipped_as_special =
                it != added_ids_.end() && added_[added_by_id_.at(it->second)].token.special;
        }
    }

    std::u32string normalized_code_points(std::string_view text) const {
        std::u32string out;
        normalize_into(text, options_.normalizer, [&](char32_t cp, detail::CharClass) { out.push_back(cp); });
        return out;
    }

    void build_ascii_table() {
        for (int b = 0; b < 128; ++b) {
            const auto k = detail::char_class(static_cast<char32_t>(b));
            ascii_plain_[b] = k == detail::CharClass::remove ? Ascii::remove
                              : k == detail::CharClass::space ? Ascii::space
                              : k == detail::CharClass::punct ? Ascii::punct
                                                              : Ascii::letter;
            ascii_[b] = raw_first_[b] ? Ascii::starts_token : ascii_plain_[b];
            ascii_lower_[b] = static_cast<char>(options_.normalizer.lowercase && b >= 'A' && b <= 'Z' ? b + 32 : b);
            if (ascii_plain_[b] == Ascii::punct) {  // a punctuation character is always a word of its own
                std::vector<std::int32_t> ids;
                const char c = static_cast<char>(b);
                model_.encode_word(std::string_view(&c, 1), 1, ids);
                punct_id_[b] = ids[0];
            }
        }
    }

    // Whether a match of token t is refused: a special token where they are split, or a single_word
    // one beside a word character (word_beside() says whether it is, in the text of its pass).
    bool refused(const AddedToken& t, auto word_beside) const {
        return (t.special && options_.split_special_tokens) || (t.single_word && word_beside());
    }

    // The raw token that starts at p in [begin, end), if any. A refused one's bytes become plain
    // text (plain_until): tokenizers' iterator has moved past them, so no token starting inside
    // them is tried.
    std::optional<detail::TokenTrie<char>::Match> match_raw(const char* begin, const char* p, const char* end,
                                                            const char*& plain_until) const {
        if (p < plain_until || !raw_first_[static_cast<unsigned char>(*p)]) return std::nullopt;
        const auto m = raw_tokens_.longest_prefix(p, end);
        if (m && refused(added_[m->token].token, [&] { return word_before(begin, p) || word_at(p + m->length, end); })) {
            plain_until = p + m->length;
            return std::nullopt;
        }
        return m;
    }
    // Invalid UTF-8 is U+FFFD, which is not a word character.
    static bool word_before(const char* begin, const char* p) noexcept {
        return p > begin && detail::is_word_char(detail::code_point_before(begin, p).first);
    }
    static bool word_at(const char* p, const char* end) noexcept {
        return p < end && detail::is_word_char(detail::code_point_at(p, end).first);
    }
    // Where the whitespace (regex \s: White_Space) that ends at p begins, going back no further
    // than `from`; where the whitespace that starts at p ends.
    static const char* white_space_before(const char* from, const char* p) noexcept {
        while (p > from) {
            const auto [cp, q] = detail::code_point_before(from, p);
            if (!detail::is_white_space(cp)) break;
            p = q;
        }
        return p;
    }
    static const char* white_space_after(const char* p, const char* end) noexcept {
        while (p < end) {
            const auto [cp, n] = detail::code_point_at(p, end);
            if (!detail::is_white_space(cp)) break;
            p += n;
        }
        return p;
    }

    static constexpr std::size_t no_index = static_cast<std::size_t>(-1);

    // Names a text in an error message: text `index` of a batch, or the text of a single call.
    static std::string text_name(std::size_t index, bool second) {
        if (index == no_index) return second ? "the second text" : "the input text";
        return "text " + std::to_string(index) + (second ? " (second of the pair)" : "") + " of the batch";
    }

    void tokenize(std::string_view text, std::vector<std::int32_t>& ids, std::string& word, std::size_t index,
                  bool second) const {
        // About 4 bytes a token in English: few regrowths. Geometric, as a batch appends text after text.
        if (const std::size_t need = ids.size() + text.size() / 4 + 1; need > ids.capacity())
            ids.reserve(std::max(need, 2 * ids.capacity()));
        // A raw token holding U+FFFD matches where Python's errors="replace" decoding puts one: the
        // text is decoded that way first (the normaliser removes U+FFFD either way).
        if (raw_has_replacement_ && options_.invalid_utf8 == InvalidUtf8::replace &&
            find_invalid_utf8(text) != std::string_view::npos) [[unlikely]] {
            const std::string decoded = replace_invalid_utf8(text);
            return tokenize(decoded, ids, word, index, second);
        }
        detail::WordSink words(model_, word, ids);
        if (normalized_tokens_.empty()) tokenize_streaming(text, words, index, second);
        else tokenize_buffered(text, words, index, second);
    }

    // No normalised added tokens: one pass, the raw ones matched as the text streams by.
    void tokenize_streaming(std::string_view text, detail::WordSink& words, std::size_t index, bool second) const {
        Normalizer normalizer(options_.normalizer);
        const char* const begin = text.data();
        const char* const end = begin + text.size();
        const char* plain_until = begin;  // see match_raw
        for (const char* p = begin; p < end;) {
            const auto b = static_cast<unsigned char>(*p);
            if (b >= 0x80) {
                if (const auto m = match_raw(begin, p, end, plain_until)) [[unlikely]] {
                    normalizer.flush(words);
                    words.end_word();
                    words.push_id(added_[m->token].id);
                    p += m->length;
                    continue;
                }
                p += push_code_point(text, p, end, normalizer, words, index, second);
                continue;
            }
            Ascii k = ascii_[b];
            if (k == Ascii::starts_token) {
                if (const auto m = match_raw(begin, p, end, plain_until)) {
                    normalizer.flush(words);
                    words.end_word();
                    words.push_id(added_[m->token].id);
                    p += m->length;
                    continue;
                }
                k = ascii_plain_[b];
            }
            // Buffered marks are released before a kept character; clean-up deletes the removed
            // ones before NFD, so marks on both sides of one still reorder together.
            if (k != Ascii::remove && normalizer.has_pending()) normalizer.flush(words);
            switch (k) {
                case Ascii::letter:
                    words.append_ascii(ascii_lower_[b]);
                    break;
                case Ascii::space:
                    words.end_word();
                    break;
                case Ascii::remove:
                case Ascii::starts_token:
                    break;
                case Ascii::punct:
                    words.end_word();
                    words.push_id(punct_id_[b]);
                    break;
            }
            ++p;
        }
        normalizer.flush(words);
        words.end_word();
    }

    // A normalised stretch: each character and its class. A sink of the Normalizer whose append
    // stays inline (std::vector's push_back did not), and whose storage is not zero-filled.
    class NormalizedText {
    public:
        explicit NormalizedText(std::size_t capacity) { grow(std::max<std::size_t>(capacity, 16)); }
        void operator()(char32_t cp, detail::CharClass k) {
            if (size_ == capacity_) [[unlikely]] grow(2 * capacity_);
            code_points_[size_] = cp;
            classes_[size_] = k;
            ++size_;
        }
        void clear() noexcept { size_ = 0; }
        std::size_t size() const noexcept { return size_; }
        const char32_t* code_points() const noexcept { return code_points_.get(); }
        const detail::CharClass* classes() const noexcept { return classes_.get(); }

    private:
        [[gnu::noinline]] void grow(std::size_t capacity) {
            auto code_points = std::make_unique_for_overwrite<char32_t[]>(capacity);
            auto classes = std::make_unique_for_overwrite<detail::CharClass[]>(capacity);
            std::copy_n(code_points_.get(), size_, code_points.get());
            std::copy_n(classes_.get(), size_, classes.get());
            code_points_ = std::move(code_points);
            classes_ = std::move(classes);
            capacity_ = capacity;
        }
        std::unique_ptr<char32_t[]> code_points_;
        std::unique_ptr<detail::CharClass[]> classes_;
        std::size_t size_ = 0, capacity_ = 0;
    };

    // Normalised added tokens: each stretch between raw matches is normalised into a buffer, which
    // is searched for them, as tokenizers' second pass does. ASCII takes the same table-driven
    // shortcuts as the streaming pass, on both sides of the buffer.
    void tokenize_buffered(std::string_view text, detail::WordSink& words, std::size_t index, bool second) const {
        using detail::CharClass;
        const char* const begin = text.data();
        const char* const end = begin + text.size();
        NormalizedText into_buffer(text.size());
        const auto finish_stretch = [&](const char* from, const char* to) {
            into_buffer.clear();
            Normalizer normalizer(options_.normalizer);
            for (const char* p = from; p < to;) {
                const auto b = static_cast<unsigned char>(*p);
                if (b >= 0x80) {
                    p += push_code_point(text, p, to, normalizer, into_buffer, index, second);
                    continue;
                }
                const Ascii k = ascii_plain_[b];
                if (k != Ascii::remove && normalizer.has_pending()) normalizer.flush(into_buffer);  // as streaming
                switch (k) {
                    case Ascii::letter: into_buffer(static_cast<char32_t>(ascii_lower_[b]), CharClass::other); break;
                    case Ascii::space: into_buffer(U' ', CharClass::space); break;
                    case Ascii::punct: into_buffer(b, CharClass::punct); break;
                    case Ascii::remove:
                    case Ascii::starts_token: break;
                }
                ++p;
            }
            normalizer.flush(into_buffer);
            const char32_t* const cps = into_buffer.code_points();
            const CharClass* const classes = into_buffer.classes();
            std::size_t plain_until = 0;  // as in match_raw
            for (std::size_t i = 0, n = into_buffer.size(); i < n; ++i) {
                const char32_t cp = cps[i];
                const bool may_start =
                    i >= plain_until && (cp < 128 ? normalized_first_ascii_[cp] : normalized_first_other_);
                if (const auto m = may_start ? normalized_tokens_.longest_prefix(cps + i, cps + n) : std::nullopt) {
                    const std::size_t after = i + m->length;
                    const auto word_beside = [&] {
                        return (i > 0 && detail::is_word_char(cps[i - 1])) || (after < n && detail::is_word_char(cps[after]));
                    };
                    if (!refused(added_[m->token].token, word_beside)) {
                        words.end_word();
                        words.push_id(added_[m->token].id);
                        i = after - 1;
                        continue;
                    }
                    plain_until = after;
                }
                const CharClass k = classes[i];
                if (cp >= 128) {
                    words(cp, k);
                } else if (k == CharClass::space) {
                    words.end_word();
                } else if (k == CharClass::punct) {  // a word of its own: its id is known
                    words.end_word();
                    words.push_id(punct_id_[cp]);
                } else {
                    words.append_ascii(static_cast<char>(cp));
                }
            }
            words.end_word();
        };
        const char* stretch = begin;
        const char* plain_until = begin;
        // Byte by byte: a raw token is valid UTF-8, so it cannot match inside a character.
        for (const char* p = begin; p < end;) {
            if (const auto m = match_raw(begin, p, end, plain_until)) {
                // lstrip and rstrip take the whitespace beside the token out of the stretches that
                // normalised tokens are searched in; the search for raw ones goes on after it.
                const AddedToken& t = added_[m->token].token;
                finish_stretch(stretch, t.lstrip ? white_space_before(stretch, p) : p);
                words.push_id(added_[m->token].id);
                p += m->length;
                stretch = t.rstrip ? white_space_after(p, end) : p;
                continue;
            }
            ++p;
        }
        finish_stretch(stretch, end);
    }

    // Feeds the character of `text` at p (p < stop) to the normaliser and returns its length in
    // bytes. Invalid UTF-8 is a format_error, or U+FFFD, which clean-up removes without trace (not
    // even a word break).
    template <class Sink>
    [[gnu::always_inline]] std::size_t push_code_point(std::string_view text, const char* p, const char* stop, Normalizer& normalizer,
                                Sink& sink, std::size_t index, bool second) const {
        char32_t cp = 0;
        const int n = detail::decode_utf8(reinterpret_cast<const unsigned char*>(p),
                                          reinterpret_cast<const unsigned char*>(stop), cp);
        if (n > 0) [[likely]] {
            normalizer.push(cp, sink);
            return static_cast<std::size_t>(n);
        }
        if (options_.invalid_utf8 == InvalidUtf8::reject)
            throw invalid_utf8_error(text, static_cast<std::size_t>(p - text.data()), text_name(index, second));
        normalizer.push(replacement_character, sink);
        return static_cast<std::size_t>(-n);
    }

    detail::SpecialIds special_ids() const noexcept { return {cls_id_, sep_id_, pad_id_}; }

    std::size_t special_count(bool pair, const EncodeOptions& o) const noexcept {
        return o.add_special_tokens ? (pair ? 3 : 2) : 0;
    }

    // The lengths (a, b) keep after truncation; value_error if max_length cannot hold the special
    // tokens (tokenizers then silently skips truncation, which would overflow a fixed-size batch).
    std::pair<std::size_t, std::size_t> truncated(std::size_t na, std::size_t nb, bool pair, const EncodeOptions& o) const {
        if (o.max_length == 0) {
            if (o.pad_to_max_length) throw value_error("pad_to_max_length needs a max_length");
            return {na, nb};
        }
        const std::size_t n_special = special_count(pair, o);
        if (o.max_length < n_special)
            throw value_error("max_length " + std::to_string(o.max_length) + " cannot hold the " +
                              std::to_string(n_special) + " special tokens of a " + (pair ? "pair" : "single text"));
        const std::size_t budget = o.max_length - n_special;
        if (!pair) return {std::min(na, budget), 0};
        return truncate_longest_first(na, nb, budget);
    }

    Encoding encode_one(std::span<const std::int32_t> a, const std::vector<std::int32_t>* b, const EncodeOptions& o) const {
        const auto [na, nb] = truncated(a.size(), b ? b->size() : 0, b != nullptr, o);
        const std::size_t used = na + nb + special_count(b != nullptr, o);
        const std::size_t length = o.pad_to_max_length ? o.max_length : used;
        Encoding e;
        e.ids.resize(length);
        e.type_ids.resize(length);
        e.attention_mask.resize(length);
        const std::span<const std::int32_t> sb = b ? std::span<const std::int32_t>(*b).first(nb) : std::span<const std::int32_t>();
        detail::write_row(a.first(na), b ? &sb : nullptr, o, special_ids(), e.ids.data(), e.type_ids.data(),
                          e.attention_mask.data(), length);
        return e;
    }

    template <class First, class Second>
    BatchEncoding encode_rows(const First& first, const Second* second, const EncodeOptions& o) const {
        // Every text's pieces go into one flat array first: S is known only once all are tokenized.
        std::vector<std::int32_t> pieces;
        std::vector<std::size_t> offsets{0};
        std::string word;
        const auto tokenize_all = [&](const auto& texts, bool is_second) {
            std::size_t i = 0;
            for (const auto& t : texts) {
                tokenize(std::string_view(t), pieces, word, i++, is_second);
                offsets.push_back(pieces.size());
            }
        };
        tokenize_all(first, false);
        const std::size_t rows = offsets.size() - 1;
        if (second) {
            tokenize_all(*second, true);
            if (offsets.size() - 1 != 2 * rows)
                throw value_error("encode_batch: " + std::to_string(rows) + " first texts but " +
                                  std::to_string(offsets.size() - 1 - rows) + " second texts");
        }
        const auto span_of = [&](std::size_t k) {
            return std::span<const std::int32_t>(pieces).subspan(offsets[k], offsets[k + 1] - offsets[k]);
        };
        std::vector<std::pair<std::size_t, std::size_t>> kept(rows);
        std::size_t length = o.pad_to_max_length ? o.max_length : 0;
        for (std::size_t r = 0; r < rows; ++r) {
            kept[r] = truncated(span_of(r).size(), second ? span_of(rows + r).size() : 0, second != nullptr, o);
            length = std::max(length, kept[r].first + kept[r].second + special_count(second != nullptr, o));
        }
        BatchEncoding out;
        out.batch = static_cast<index_t>(rows);
        out.length = static_cast<index_t>(length);
        out.ids.resize(rows * length);
        out.type_ids.resize(rows * length);
        out.attention_mask.resize(rows * length);
        out.lengths.resize(rows);
        for (std::size_t r = 0; r < rows; ++r) {
            const auto a = span_of(r).first(kept[r].first);
            const auto b = second ? span_of(rows + r).first(kept[r].second) : std::span<const std::int32_t>();
            detail::write_row(a, second ? &b : nullptr, o, special_ids(), out.ids.data() + r * length,
                              out.type_ids.data() + r * length, out.attention_mask.data() + r * length, length);
            out.lengths[r] = static_cast<std::int32_t>(kept[r].first + kept[r].second + special_count(second != nullptr, o));
        }
        return out;
    }

    Vocab vocab_;
    TokenizerOptions options_;
    WordPiece model_;
    std::int32_t cls_id_ = 0, sep_id_ = 0, pad_id_ = 0;
    std::vector<AddedTokenId> added_;
    std::unordered_map<std::string, std::int32_t> added_ids_;
    std::unordered_map<std::int32_t, std::size_t> added_by_id_;  // id -> its index in added_
    struct AddedDecode {
        std::string normalized_text;     // a normalised token's normalised content; empty for a raw one
        bool skipped_as_special = false;  // left out by decode's skip_special_tokens
    };
    std::vector<AddedDecode> added_decode_;  // per added token, beside added_
    std::size_t size_ = 0;
    detail::TokenTrie<char> raw_tokens_;            // normalized = false
    detail::TokenTrie<char32_t> normalized_tokens_;  // normalized = true, by their normalised content
    std::array<bool, 256> raw_first_{};             // the first bytes of the raw tokens
    std::array<bool, 128> normalized_first_ascii_{};  // the ASCII first characters of the normalised ones
    bool normalized_first_other_ = false;             // does one start with a non-ASCII character?
    bool raw_has_replacement_ = false;                // does a raw token hold U+FFFD?
    std::array<Ascii, 128> ascii_{};
    std::array<Ascii, 128> ascii_plain_{};          // ascii_ without starts_token
    std::array<char, 128> ascii_lower_{};
    std::array<std::int32_t, 128> punct_id_{};
};

}  // namespace sinter::text
