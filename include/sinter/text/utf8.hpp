#pragma once
// UTF-8 decoding for the tokenizer. Strict by default: invalid input is a format_error that names
// the byte offset. The lenient alternative replaces each invalid sequence by U+FFFD exactly as
// Python's bytes.decode("utf-8", "replace") does, so that text a Python pipeline decoded that way
// tokenizes identically here.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "sinter/core/error.hpp"

namespace sinter::text {

// What the tokenizer does with input that is not valid UTF-8.
enum class InvalidUtf8 : std::uint8_t {
    reject,   // throw sinter::format_error naming the byte offset (the default)
    replace,  // replace every maximal invalid subpart by U+FFFD, like Python's errors="replace"
};

inline constexpr char32_t replacement_character = 0xFFFD;
inline constexpr std::string_view replacement_character_utf8 = "\xEF\xBF\xBD";

namespace detail {

// Decodes the sequence at p (p < end). Returns its length when it is well formed (cp is set), or
// minus the length of its "maximal subpart" (Unicode 15, section 3.9, U+FFFD substitution) when
// it is not: the longest prefix that a well-formed sequence could start with, at least one byte.
// Python's decoder replaces exactly these subparts, one U+FFFD each.
inline int decode_utf8(const unsigned char* p, const unsigned char* end, char32_t& cp) noexcept {
    const unsigned lead = p[0];
    if (lead < 0x80) {
        cp = lead;
        return 1;
    }
    int length;
    unsigned lo = 0x80, hi = 0xBF;  // the allowed range of the second byte (Table 3-7)
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        cp = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        cp = lead & 0x0F;
        if (lead == 0xE0) lo = 0xA0;  // no overlong forms
        if (lead == 0xED) hi = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        cp = lead & 0x07;
        if (lead == 0xF0) lo = 0x90;  // no overlong forms
        if (lead == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
    } else {
        return -1;  // a continuation byte, C0, C1 or F5..FF: never part of a sequence
    }
    for (int i = 1; i < length; ++i) {
        if (p + i == end) return -i;
        const unsigned b = p[i];
        if (b < lo || b > hi) return -i;
        cp = (cp << 6) | (b & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    return length;
}

// The character that starts at p (p < end) and its length in bytes; U+FFFD, and the length of
// the maximal subpart, for invalid UTF-8 (as Python decodes it with errors="replace").
inline std::pair<char32_t, int> code_point_at(const char* p, const char* end) noexcept {
    char32_t cp = 0;
    const int n = decode_utf8(reinterpret_cast<const unsigned char*>(p), reinterpret_cast<const unsigned char*>(end), cp);
    return n > 0 ? std::pair{cp, n} : std::pair{replacement_character, -n};
}

// The character that ends at p (begin < p) and where it starts. Where the bytes before p are not
// a whole well-formed sequence it is U+FFFD, as Python's errors="replace" decoding gives, said to
// start at p - 1 (Python's U+FFFD may start earlier; the callers only ask what the character is).
// p must not be a continuation byte, so no sequence before it can include it.
inline std::pair<char32_t, const char*> code_point_before(const char* begin, const char* p) noexcept {
    const auto continuation = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; };
    const char* q = p;
    while (q > begin && p - q < 4 && continuation(q[-1])) --q;
    if (q == begin || continuation(q[-1])) return {replacement_character, p - 1};
    --q;
    char32_t cp = 0;
    const int n = decode_utf8(reinterpret_cast<const unsigned char*>(q), reinterpret_cast<const unsigned char*>(p), cp);
    return n == p - q ? std::pair{cp, q} : std::pair{replacement_character, p - 1};
}

// Writes cp as UTF-8 to out (room for 4 bytes) and returns the number of bytes.
inline int encode_utf8(char32_t cp, char* out) noexcept {
    if (cp < 0x80) {
        out[0] = static_cast<char>(cp);
        return 1;
    }
    if (cp < 0x800) {
        out[0] = static_cast<char>(0xC0 | (cp >> 6));
        out[1] = static_cast<char>(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = static_cast<char>(0xE0 | (cp >> 12));
        out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out[2] = static_cast<char>(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = static_cast<char>(0xF0 | (cp >> 18));
    out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[3] = static_cast<char>(0x80 | (cp & 0x3F));
    return 4;
}

inline std::string hex_byte(unsigned char b) {
    constexpr char digits[] = "0123456789abcdef";
    return {'0', 'x', digits[b >> 4], digits[b & 15]};
}

}  // namespace detail

inline void append_utf8(std::string& out, char32_t cp) {
    char buf[4];
    out.append(buf, static_cast<std::size_t>(detail::encode_utf8(cp, buf)));
}

// The byte offset of the first invalid sequence in text, or std::string_view::npos.
inline std::size_t find_invalid_utf8(std::string_view text) noexcept {
    const auto* begin = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = begin + text.size();
    char32_t cp = 0;
    for (const auto* p = begin; p < end;) {
        if (*p < 0x80) {
            ++p;
            continue;
        }
        const int n = detail::decode_utf8(p, end, cp);
        if (n < 0) return static_cast<std::size_t>(p - begin);
        p += n;
    }
    return std::string_view::npos;
}

// The format_error for invalid UTF-8 at `offset` of text; `what` names the text ("input text 3").
inline format_error invalid_utf8_error(std::string_view text, std::size_t offset, std::string_view what) {
    return format_error("invalid UTF-8 in " + std::string(what) + " at byte " + std::to_string(offset) +
                        " (" + detail::hex_byte(static_cast<unsigned char>(text[offset])) +
                        "); pass InvalidUtf8::replace to substitute U+FFFD instead");
}

// Throws format_error, naming `what` and the byte offset, unless text is valid UTF-8.
inline void check_utf8(std::string_view text, std::string_view what) {
    if (const auto offset = find_invalid_utf8(text); offset != std::string_view::npos)
        throw invalid_utf8_error(text, offset, what);
}

// text with every maximal invalid subpart replaced by U+FFFD: what
// `data.decode("utf-8", "replace").encode("utf-8")` gives in Python.
inline std::string replace_invalid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 8);
    const auto* begin = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = begin + text.size();
    char32_t cp = 0;
    for (const auto* p = begin; p < end;) {
        const int n = detail::decode_utf8(p, end, cp);
        if (n > 0) {
            out.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
            p += n;
        } else {
            append_utf8(out, replacement_character);
            p += -n;
        }
    }
    return out;
}

}  // namespace sinter::text
