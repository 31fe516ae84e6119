// The Unicode layer: every code point against tokenizers (through the block hashes of
// tests/golden/text/unicode_sweep.txt), the UTF-8 decoder, and the facts REFERENCE.md lists.
#include <doctest/doctest.h>

#include <cstdio>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "../support/check.hpp"
#include "golden.hpp"
#include "sinter/text/normalizer.hpp"
#include "sinter/text/unicode.hpp"
#include "sinter/text/utf8.hpp"

using namespace sinter::text;
using detail::CharClass;

namespace {

std::string utf8(std::u32string_view s) {
    std::string out;
    for (const char32_t c : s) append_utf8(out, c);
    return out;
}

std::uint64_t fnv1a(std::string_view data, std::uint64_t h) {
    for (const char c : data) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    return h;
}

// sweep_descriptor() of tools/make_tokenizer_golden.py, from sinter's side.
const std::vector<NormalizerOptions> sweep_settings = {
    {.lowercase = true, .strip_accents = std::nullopt, .handle_chinese_chars = true},
    {.lowercase = true, .strip_accents = false, .handle_chinese_chars = true},
    {.lowercase = false, .strip_accents = false, .handle_chinese_chars = true},
    {.lowercase = false, .strip_accents = true, .handle_chinese_chars = true},
    {.lowercase = true, .strip_accents = std::nullopt, .handle_chinese_chars = false},
};

void descriptor(char32_t cp, std::string& out) {
    out.clear();
    for (const auto& options : sweep_settings) {
        Normalizer n(options);
        auto sink = [&](char32_t c, CharClass) { append_utf8(out, c); };
        n.push(cp, sink);
        n.flush(sink);
        out += '\x01';
    }
    out += detail::is_white_space(cp) ? 'W' : detail::char_class(cp) == CharClass::punct ? 'P' : 'O';
    out += '\x02';
}

}  // namespace

TEST_CASE("every code point is normalised and classed as tokenizers does") {
    const auto lines = golden::read_lines("unicode_sweep.txt");
    REQUIRE(lines.size() == 0x110000 / 256);
    std::string d;
    int failed = 0;
    for (const auto& line : lines) {
        const auto first = static_cast<char32_t>(std::stoul(line.substr(0, 6), nullptr, 16));
        const auto expected = std::stoull(line.substr(7), nullptr, 16);
        std::uint64_t h = 0xcbf29ce484222325ull;
        for (char32_t c = first; c < first + 256; ++c) {
            if (c >= 0xD800 && c <= 0xDFFF) continue;
            descriptor(c, d);
            h = fnv1a(d, h);
        }
        if (h != expected && ++failed <= 5) {
            char range[64];
            std::snprintf(range, sizeof range, "U+%04X..U+%04X", static_cast<unsigned>(first), static_cast<unsigned>(first + 255));
            FAIL_CHECK("code points " << range << " differ from tokenizers; tools/check_unicode_tables.py shows which");
        }
    }
    CHECK(failed == 0);
}

TEST_CASE("category tables are frozen at Unicode 8.0, with the changes since undone") {
    CHECK(detail::char_class(U'!') == CharClass::punct);
    CHECK(detail::char_class(U'$') == CharClass::punct);        // ASCII: punctuation by range
    CHECK(detail::char_class(0x20AC) == CharClass::other);      // EURO SIGN: Sc, not punctuation
    CHECK(detail::char_class(0x166D) == CharClass::punct);      // Po in 8.0, So now
    CHECK(detail::char_class(0x111C9) == CharClass::punct);     // Po in 8.0, Mn now
    CHECK(detail::char_class(0x1734) == CharClass::mark);       // Mn in 8.0, Mc now
    CHECK(detail::char_class(0x1885) == CharClass::other);      // Lo in 8.0, Mn now
    CHECK(detail::char_class(0x2E4F) == CharClass::other);      // Po since 10.0: not punctuation yet
    CHECK(detail::char_class(0x0890) == CharClass::other);      // Cf since 14.0: not removed
    CHECK(detail::char_class(0x0B) == CharClass::remove);       // \v is Cc before it is White_Space
    CHECK(detail::char_class(0x85) == CharClass::remove);
    CHECK(detail::char_class(U'\t') == CharClass::space);
    CHECK(detail::char_class(0x3000) == CharClass::space);
    CHECK(detail::char_class(0xFFFD) == CharClass::remove);
    CHECK(detail::char_class(0xE000) == CharClass::remove);     // Co
    CHECK(detail::char_class(0x0378) == CharClass::other);      // Cn is kept
    CHECK(detail::char_class(0x2B920) == CharClass::cjk);
    CHECK(detail::char_class(0x2B820) == CharClass::other);     // the slow tokenizer's range, not this one
    CHECK(detail::char_class(0x0301) == CharClass::mark);
    CHECK(detail::char_class(0x1D165) == CharClass::combining);  // Mc with combining class 216
    CHECK(detail::combining_class(0x1D165) == 216);
}

TEST_CASE("lowercase, decomposition and normalisation facts") {
    char32_t l[2] = {};
    CHECK(detail::to_lowercase(0x130, l) == 2);
    CHECK((l[0] == U'i' && l[1] == 0x307));
    CHECK((detail::to_lowercase(0x1C89, l) == 1 && l[0] == 0x1C8A));  // Unicode 16.0, from the script's list
    CHECK((detail::to_lowercase(0x3A3, l) == 1 && l[0] == 0x3C3));    // no final sigma
    char32_t d[4] = {};
    CHECK(detail::decompose(0xAC01, d) == 3);                           // Hangul, algorithmic
    CHECK((d[0] == 0x1100 && d[1] == 0x1161 && d[2] == 0x11A8));
    CHECK((detail::decompose(0x11938, d) == 1 && d[0] == 0x11938));    // Unicode 13.0: NFD is at 9.0
    CHECK(detail::decompose(0x1E69, d) == 3);                           // s, dot below, dot above

    const NormalizerOptions cased{.lowercase = false, .strip_accents = false, .handle_chinese_chars = true};
    CHECK(normalize("H\xC3\xA9llo\tW\xC3\xB6rld") == "hello world");
    CHECK(normalize("a\x0B" "b\x0C" "c\xC2\x85" "d") == "abcd");
    CHECK(normalize("\xE5\x8C\x97\xE4\xBA\xAC") == utf8(U" 北  京 "));
    CHECK(normalize("\xC4\xB0", cased) == "\xC4\xB0");
    CHECK(normalize("\xC4\xB0", {.lowercase = true, .strip_accents = false, .handle_chinese_chars = true}) == "i\xCC\x87");
    CHECK(normalize("\xC4\xB0") == "i");
    CHECK(normalize(utf8(U"a\u2260b")) == "a=b");      // NFD makes ASCII punctuation out of a symbol
    CHECK(normalize(utf8(U"\u1FEF")) == "`");
    // Kept combining marks are reordered by combining class across the characters they follow.
    CHECK(normalize(utf8(U"a\U0001D16D\u200B\U0001D165"), {.lowercase = false, .strip_accents = true, .handle_chinese_chars = true}) ==
          utf8(U"a\U0001D165\U0001D16D"));
}

TEST_CASE("UTF-8 decoding: every scalar value round-trips, every bad form is refused") {
    for (char32_t c = 0; c <= detail::max_code_point; ++c) {
        if (c >= 0xD800 && c <= 0xDFFF) continue;
        char buf[4];
        const int n = detail::encode_utf8(c, buf);
        char32_t back = 0;
        const auto* p = reinterpret_cast<const unsigned char*>(buf);
        if (detail::decode_utf8(p, p + n, back) != n || back != c) {
            FAIL("U+" << static_cast<unsigned>(c) << " does not round-trip");
        }
    }
    CHECK(find_invalid_utf8("plain ascii") == std::string_view::npos);
    CHECK(find_invalid_utf8("ok \xC3\xA9 \xE2\x82") == 6);         // truncated at the end
    CHECK(find_invalid_utf8("\xED\xA0\x80") == 0);                 // a surrogate
    CHECK(find_invalid_utf8("ab\xC0\xAF") == 2);                   // overlong
    CHECK(find_invalid_utf8("\xF4\x90\x80\x80") == 0);             // past U+10FFFF
    // One U+FFFD per maximal subpart, as Python's errors="replace".
    CHECK(replace_invalid_utf8("\xE2\x82" "A") == "\xEF\xBF\xBD" "A");
    CHECK(replace_invalid_utf8("\xF0\x80\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(replace_invalid_utf8("\xF0\x9F\x98") == "\xEF\xBF\xBD");
    try {
        check_utf8("abc\xFF", "test input");
        FAIL("no error");
    } catch (const sinter::format_error& e) {
        CHECK(std::string(e.what()).find("test input at byte 3 (0xff)") != std::string::npos);
    }
}

static std::string code_point_name(char32_t c) {
    char name[16];
    std::snprintf(name, sizeof name, "U+%04X", static_cast<unsigned>(c));
    return name;
}

TEST_CASE("decoding the character before a boundary agrees with decoding forwards") {
    // Random strings of bytes that start, continue and break UTF-8 sequences. Forwards, each
    // maximal invalid subpart is one U+FFFD, as Python's errors="replace" gives; backwards from
    // every end of a forward step that is not a continuation byte (where the tokenizer asks: an
    // added token starts with a lead byte), code_point_before must name the same character.
    const unsigned char palette[] = {'a', ' ', 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC2, 0xC3,
                                     0xDF, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xC0, 0xFF};
    std::mt19937_64& rng = sinter::test::rng();
    std::uniform_int_distribution<std::size_t> length(1, 12), byte(0, std::size(palette) - 1);
    std::size_t checked = 0, invalid = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string s(length(rng), '\0');
        for (char& c : s) c = static_cast<char>(palette[byte(rng)]);
        const char* const begin = s.data();
        const char* const end = begin + s.size();
        for (const char* p = begin; p < end;) {
            const auto [cp, n] = detail::code_point_at(p, end);
            const char* const next = p + n;
            if (next == end || (static_cast<unsigned char>(*next) & 0xC0) != 0x80) {
                const auto [back, start] = detail::code_point_before(begin, next);
                ++checked;
                invalid += cp == replacement_character;
                if (back != cp || (cp != replacement_character && start != p))
                    FAIL_CHECK(golden::printable(s) << ": forwards " << code_point_name(cp) << " at byte " << (p - begin)
                                                    << ", backwards " << code_point_name(back) << " at byte " << (start - begin));
            }
            p = next;
        }
    }
    CHECK(checked > 50000);
    CHECK(invalid > 10000);  // the cases that matter were drawn
}
