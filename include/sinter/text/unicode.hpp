#pragma once
// Look-ups into the generated Unicode tables: the character class, the lowercase mapping, the
// canonical decomposition and the combining class, as Hugging Face `tokenizers` sees them (the
// versions differ per property; tools/gen_unicode_tables.py explains which and why).
#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>

#include "sinter/text/unicode_tables.hpp"

namespace sinter::text::detail {

constexpr char32_t max_code_point = 0x10FFFF;

// Binary search over the range starts; (cp << 3) | 7 sorts after every entry that starts at cp.
constexpr CharClass char_class_slow(char32_t cp) noexcept {
    const std::uint32_t key = (static_cast<std::uint32_t>(cp) << 3) | 7u;
    const auto* it = std::upper_bound(std::begin(class_ranges), std::end(class_ranges), key);
    return static_cast<CharClass>(*(it - 1) & 7u);
}

// Below U+0800 (every 1- and 2-byte UTF-8 sequence: Latin, Greek, Cyrillic, Hebrew, Arabic) the
// class comes from a table built at compile time; elsewhere from the range search.
inline constexpr std::uint32_t direct_class_limit = 0x800;
inline constexpr auto direct_classes = [] {
    std::array<CharClass, direct_class_limit> t{};
    for (std::uint32_t c = 0; c < direct_class_limit; ++c) t[c] = char_class_slow(c);
    return t;
}();

constexpr CharClass char_class(char32_t cp) noexcept {
    return cp < direct_class_limit ? direct_classes[cp] : char_class_slow(cp);
}

// White_Space, as Rust's char::is_whitespace (and so tokenizers' vocabulary trimming) uses it.
// The class table files \v, \f and U+0085 under `remove`, because clean-up drops them first.
constexpr bool is_white_space(char32_t cp) noexcept {
    return cp == 0x0B || cp == 0x0C || cp == 0x85 || char_class(cp) == CharClass::space;
}

// A word character, as regex \w sees it (Alphabetic, marks, decimal digits, connector punctuation
// and the joiners, at Unicode 16.0): what a single_word added token must not touch.
constexpr bool is_word_char(char32_t cp) noexcept {
    if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || cp == '_';
    // An odd number of starts at or below cp: inside a run of word characters.
    const auto* it = std::upper_bound(std::begin(word_starts), std::end(word_starts), static_cast<std::uint32_t>(cp));
    return (it - std::begin(word_starts)) % 2 == 1;
}

// Canonical combining class of a CharClass::combining character (0 for anything else).
constexpr int combining_class(char32_t cp) noexcept {
    const auto* it = std::lower_bound(std::begin(combining_classes), std::end(combining_classes), cp,
                                      [](const CombiningClass& e, char32_t c) { return e.cp < c; });
    return it != std::end(combining_classes) && it->cp == cp ? it->ccc : 0;
}

// One bit per block of 256 code points: does any character of the block have a lowercase mapping
// (or a decomposition)? Most scripts have neither, and then the binary searches are skipped.
using BlockBits = std::array<std::uint64_t, (max_code_point + 1) / 256 / 64>;

constexpr void set_block(BlockBits& bits, char32_t cp) noexcept { bits[cp >> 14] |= std::uint64_t{1} << ((cp >> 8) & 63); }
constexpr bool in_block(const BlockBits& bits, char32_t cp) noexcept { return (bits[cp >> 14] >> ((cp >> 8) & 63)) & 1; }

inline constexpr BlockBits lowercase_blocks = [] {
    BlockBits bits{};
    for (const auto& r : lowercase_runs)
        for (char32_t c = r.first; c <= r.last; c += r.step) set_block(bits, c);
    for (const auto& s : special_lowercase) set_block(bits, s.cp);
    return bits;
}();

inline constexpr BlockBits decomposition_blocks = [] {
    BlockBits bits{};
    for (const auto& d : decompositions) set_block(bits, d.cp);
    return bits;
}();

// Writes the lowercase of cp (per character, no context, as Rust's char::to_lowercase) to out and
// returns how many characters that is (1 or 2).
constexpr int to_lowercase(char32_t cp, char32_t* out) noexcept {
    if (cp < 0x80) {
        out[0] = cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
        return 1;
    }
    if (!in_block(lowercase_blocks, cp)) {
        out[0] = cp;
        return 1;
    }
    const auto* run = std::upper_bound(std::begin(lowercase_runs), std::end(lowercase_runs), cp,
                                       [](char32_t c, const LowercaseRun& r) { return c < r.first; });
    if (run != std::begin(lowercase_runs)) {
        --run;
        if (cp <= run->last && (cp - run->first) % run->step == 0) {
            out[0] = static_cast<char32_t>(static_cast<std::int32_t>(cp) + run->delta);
            return 1;
        }
    }
    for (const auto& s : special_lowercase) {
        if (s.cp == cp) {
            out[0] = s.lower[0];
            out[1] = s.lower[1];
            return 2;
        }
    }
    out[0] = cp;
    return 1;
}

inline constexpr int max_decomposition = 4;

// Writes the full canonical decomposition of cp (Unicode 9.0, canonically ordered) to out and
// returns its length; a character without one is written as itself.
constexpr int decompose(char32_t cp, char32_t* out) noexcept {
    // Hangul syllables decompose algorithmically (Unicode 3.12).
    constexpr char32_t s_base = 0xAC00, l_base = 0x1100, v_base = 0x1161, t_base = 0x11A7;
    constexpr char32_t v_count = 21, t_count = 28, s_count = 19 * v_count * t_count;
    if (cp >= s_base && cp < s_base + s_count) {
        const char32_t s = cp - s_base;
        out[0] = l_base + s / (v_count * t_count);
        out[1] = v_base + s % (v_count * t_count) / t_count;
        if (s % t_count == 0) return 2;
        out[2] = t_base + s % t_count;
        return 3;
    }
    if (!in_block(decomposition_blocks, cp)) {
        out[0] = cp;
        return 1;
    }
    const auto* it = std::lower_bound(std::begin(decompositions), std::end(decompositions), cp,
                                      [](const Decomposition& d, char32_t c) { return d.cp < c; });
    if (it == std::end(decompositions) || it->cp != cp) {
        out[0] = cp;
        return 1;
    }
    std::copy_n(decomposition_pool + it->offset, it->length, out);
    return it->length;
}

}  // namespace sinter::text::detail
