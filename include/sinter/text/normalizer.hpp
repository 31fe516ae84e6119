#pragma once
// The BERT normaliser (tokenizers' BertNormalizer), one code point at a time.
//
// tokenizers runs four passes over the whole string, in this order:
//   1. clean-up: drop U+0000, U+FFFD and Cc/Cf/Co characters except tab, LF and CR, then turn every
//      White_Space character into U+0020 (so \v, \f and U+0085, which are Cc, are dropped);
//   2. CJK: put a space on each side of every CJK ideograph;
//   3. strip accents (if enabled): NFD, then drop the Mn characters;
//   4. lowercase (if enabled): per character, without context (so no final sigma, and U+0130
//      becomes "i" + U+0307).
// Each pass maps one character to a few, except NFD's canonical reordering of combining marks,
// which spans characters: so this streams, buffering only runs of kept combining marks. Marks that
// step 3 drops never need sorting (dropping elements does not change a stable sort of the rest).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sinter/text/unicode.hpp"
#include "sinter/text/utf8.hpp"

namespace sinter::text {

// The options of tokenizer_config.json that change normalisation, with Hugging Face's defaults.
struct NormalizerOptions {
    bool lowercase = true;              // do_lower_case
    std::optional<bool> strip_accents;  // strip_accents; unset (null) means "same as lowercase"
    bool handle_chinese_chars = true;   // tokenize_chinese_chars

    bool strips_accents() const noexcept { return strip_accents.value_or(lowercase); }
};

// One normaliser per input stream (it buffers combining marks between calls).
class Normalizer {
public:
    explicit Normalizer(const NormalizerOptions& options = {})
        : lowercase_(options.lowercase),
          strip_accents_(options.strips_accents()),
          chinese_chars_(options.handle_chinese_chars) {}

    // Feeds one input code point. The normalised output goes to sink(cp, cls) for each character:
    // cls is CharClass::space for U+0020 (a word boundary), CharClass::punct for punctuation (a word
    // of its own), and another class for a character of a word.
    template <class Sink>
    void push(char32_t cp, Sink& sink) {
        const detail::CharClass k = detail::char_class(cp);
        if (k == detail::CharClass::remove) return;
        if (k == detail::CharClass::space) {
            space(sink);
        } else if (k == detail::CharClass::cjk && chinese_chars_) {
            space(sink);
            emit(cp, k, sink);
            space(sink);
        } else {
            emit(cp, k, sink);
        }
    }

    // Releases the buffered marks: call at the end of the input, and before a character that
    // bypasses push() (the tokenizer's ASCII path; ASCII characters all have combining class 0).
    template <class Sink>
    void flush(Sink& sink) {
        if (pending_.empty()) return;
        std::stable_sort(pending_.begin(), pending_.end(),
                         [](const Mark& a, const Mark& b) { return a.ccc < b.ccc; });
        for (const Mark& m : pending_) emit_lowercase(m.cp, detail::CharClass::combining, sink);
        pending_.clear();
    }

    bool has_pending() const noexcept { return !pending_.empty(); }

private:
    struct Mark {
        char32_t cp;
        int ccc;
    };

    template <class Sink>
    void space(Sink& sink) {
        flush(sink);
        sink(U' ', detail::CharClass::space);
    }

    template <class Sink>
    void emit(char32_t cp, detail::CharClass k, Sink& sink) {
        if (!strip_accents_) {
            emit_lowercase(cp, k, sink);
            return;
        }
        char32_t d[detail::max_decomposition];
        const int n = detail::decompose(cp, d);
        for (int i = 0; i < n; ++i) {
            // U+1FEF decomposes to "`" alone, say: only an unchanged character keeps its class.
            const detail::CharClass kd = d[i] == cp ? k : detail::char_class(d[i]);
            if (kd == detail::CharClass::mark) continue;
            if (kd == detail::CharClass::combining) {
                pending_.push_back({d[i], detail::combining_class(d[i])});
                continue;
            }
            flush(sink);
            emit_lowercase(d[i], kd, sink);
        }
    }

    // A lowercase mapping never changes what the pre-tokeniser sees (the generator checks it), so
    // the class of the original character goes with its lowercase.
    template <class Sink>
    void emit_lowercase(char32_t cp, detail::CharClass k, Sink& sink) {
        if (!lowercase_ || k == detail::CharClass::punct) {
            sink(cp, k);
            return;
        }
        char32_t l[2];
        const int n = detail::to_lowercase(cp, l);
        for (int i = 0; i < n; ++i) sink(l[i], k);
    }

    bool lowercase_, strip_accents_, chinese_chars_;
    std::vector<Mark> pending_;
};

// Normalises the whole of `text` (valid UTF-8) into sink(cp, class), a character at a time.
template <class Sink>
void normalize_into(std::string_view text, const NormalizerOptions& options, Sink&& sink) {
    Normalizer normalizer(options);
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    char32_t cp = 0;
    while (p < end) {
        p += detail::decode_utf8(p, end, cp);
        normalizer.push(cp, sink);
    }
    normalizer.flush(sink);
}

// The normalised text, as tokenizers' BertNormalizer.normalize_str gives it (mostly for tests).
// text must be valid UTF-8 (format_error otherwise).
inline std::string normalize(std::string_view text, const NormalizerOptions& options = {}) {
    check_utf8(text, "the text to normalize");
    std::string out;
    normalize_into(text, options, [&](char32_t cp, detail::CharClass) { append_utf8(out, cp); });
    return out;
}

}  // namespace sinter::text
