#pragma once
// The BERT tokenizer: text -> ids, type ids and attention masks, identical to Hugging Face's fast
// BERT tokenizer (tokenizers' BertNormalizer + BertPreTokenizer + WordPiece + the BERT template;
// tests/text checks every string of a 20,000-string corpus against it).
//
//     auto tok = sinter::text::Tokenizer::from_directory("models/all-MiniLM-L6-v2");
//     auto batch = tok.encode_batch(lines, {.max_length = 256});  // (B, S) ids, type ids, mask
//
// The pipeline, per text: special tokens ([CLS], [MASK]...) are found in the raw text first;
// every stretch between them is normalised (normalizer.hpp), split on whitespace and around every
// punctuation character, and each word goes through WordPiece (wordpiece.hpp). It is one pass: no
// intermediate strings, and ASCII takes a table-driven path that skips the Unicode look-ups. Time
// and memory are linear in the input (a word is only counted past WordPiece's 100 characters).
#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sinter/core/error.hpp"
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
};

template <class R>
concept TextRange = std::ranges::forward_range<R> && std::convertible_to<std::ranges::range_reference_t<R>, std::string_view>;

class Tokenizer {
public:
    // format_error if the vocabulary lacks [UNK], [CLS], [SEP] or [PAD].
    explicit Tokenizer(Vocab vocab, TokenizerOptions options = {})
        : vocab_(checked(std::move(vocab))), options_(options), model_(vocab_) {
        cls_id_ = *vocab_.find("[CLS]");
        sep_id_ = *vocab_.find("[SEP]");
        pad_id_ = *vocab_.find("[PAD]");
        // The special tokens a BERT checkpoint registers as "added tokens": matched in the raw text,
        // longest first, before any normalisation (so "[MASK]" is one token but "[mask]" is not).
        for (const char* name : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
            if (const auto id = vocab_.find(name)) specials_.push_back({name, *id});
        }
        std::stable_sort(specials_.begin(), specials_.end(),
                         [](const Special& a, const Special& b) { return a.text.size() > b.text.size(); });
        build_ascii_table();
    }

    // vocab.txt (else the vocabulary in tokenizer.json, all that transformers 5 saves), plus the
    // options of tokenizer_config.json when the folder has one.
    static Tokenizer from_directory(const std::filesystem::path& dir, InvalidUtf8 invalid_utf8 = InvalidUtf8::reject) {
        const auto vocab_file = dir / "vocab.txt", json_file = dir / "tokenizer.json";
        const bool has_vocab = std::filesystem::exists(vocab_file);
        if (!has_vocab && !std::filesystem::exists(json_file))
            throw io_error(dir.string() + " has no vocab.txt or tokenizer.json (a BERT WordPiece vocabulary)");
        TokenizerOptions options{.invalid_utf8 = invalid_utf8};
        const auto config_file = dir / "tokenizer_config.json";
        if (std::filesystem::exists(config_file)) options.normalizer = read_tokenizer_config(config_file);
        return Tokenizer(has_vocab ? Vocab::load(vocab_file) : read_tokenizer_json_vocab(json_file), options);
    }

    const Vocab& vocab() const noexcept { return vocab_; }
    const TokenizerOptions& options() const noexcept { return options_; }
    std::int32_t unk_id() const noexcept { return model_.unk_id(); }
    std::int32_t cls_id() const noexcept { return cls_id_; }
    std::int32_t sep_id() const noexcept { return sep_id_; }
    std::int32_t pad_id() const noexcept { return pad_id_; }

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
    enum class Ascii : std::uint8_t { remove, space, punct, special, letter };

    static Vocab checked(Vocab vocab) {
        for (const char* name : {"[UNK]", "[CLS]", "[SEP]", "[PAD]"}) {
            if (!vocab.find(name))
                throw format_error(vocab.source() + " has no line \"" + name +
                                   "\": a BERT vocabulary needs [UNK], [CLS], [SEP] and [PAD]");
        }
        return vocab;
    }

    struct Special {
        std::string_view text;
        std::int32_t id;
    };

    void build_ascii_table() {
        for (int b = 0; b < 128; ++b) {
            const auto k = detail::char_class(static_cast<char32_t>(b));
            ascii_[b] = k == detail::CharClass::remove ? Ascii::remove
                        : k == detail::CharClass::space ? Ascii::space
                        : k == detail::CharClass::punct ? Ascii::punct
                                                        : Ascii::letter;
            ascii_lower_[b] = static_cast<char>(options_.normalizer.lowercase && b >= 'A' && b <= 'Z' ? b + 32 : b);
            if (ascii_[b] == Ascii::punct) {  // a punctuation character is always a word of its own
                std::vector<std::int32_t> ids;
                const char c = static_cast<char>(b);
                model_.encode_word(std::string_view(&c, 1), 1, ids);
                punct_id_[b] = ids[0];
            }
        }
        for (const Special& s : specials_) ascii_[static_cast<unsigned char>(s.text[0])] = Ascii::special;
    }

    const Special* match_special(const char* p, const char* end) const noexcept {
        for (const Special& s : specials_) {
            if (static_cast<std::size_t>(end - p) >= s.text.size() && std::memcmp(p, s.text.data(), s.text.size()) == 0)
                return &s;
        }
        return nullptr;
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
        detail::WordSink words(model_, word, ids);
        Normalizer normalizer(options_.normalizer);
        const char* const begin = text.data();
        const char* const end = begin + text.size();
        for (const char* p = begin; p < end;) {
            const auto b = static_cast<unsigned char>(*p);
            if (b >= 0x80) {
                char32_t cp = 0;
                const int n = detail::decode_utf8(reinterpret_cast<const unsigned char*>(p),
                                                  reinterpret_cast<const unsigned char*>(end), cp);
                if (n > 0) {
                    normalizer.push(cp, words);
                    p += n;
                    continue;
                }
                if (options_.invalid_utf8 == InvalidUtf8::reject)
                    throw invalid_utf8_error(text, static_cast<std::size_t>(p - begin), text_name(index, second));
                // Clean-up removes U+FFFD, so the replacement leaves no trace (not even a word break).
                normalizer.push(replacement_character, words);
                p += -n;
                continue;
            }
            if (normalizer.has_pending()) normalizer.flush(words);
            switch (ascii_[b]) {
                case Ascii::letter:
                    words.append_ascii(ascii_lower_[b]);
                    break;
                case Ascii::space:
                    words.end_word();
                    break;
                case Ascii::remove:
                    break;
                case Ascii::special:
                    if (const Special* s = match_special(p, end)) {
                        words.end_word();
                        words.push_id(s->id);
                        p += s->text.size();
                        continue;
                    }
                    [[fallthrough]];  // the special tokens all start with '[': punctuation
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
    std::vector<Special> specials_;
    std::array<Ascii, 128> ascii_{};
    std::array<char, 128> ascii_lower_{};
    std::array<std::int32_t, 128> punct_id_{};
};

}  // namespace sinter::text
