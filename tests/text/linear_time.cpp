// Linear time on hostile inputs: 10 MB texts and 1,000,000-character words. The bounds are loose
// (seconds, for a slow unoptimised CI build) yet far below what a quadratic step would need on
// these sizes (hours); the 1 MB -> 10 MB ratio catches a milder super-linear cost.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "golden.hpp"
#include "sinter/text/tokenizer.hpp"

using namespace sinter::text;

namespace {

double seconds_to_tokenize(const Tokenizer& t, const std::string& text, std::size_t& n_ids) {
    const auto start = std::chrono::steady_clock::now();
    n_ids = t.tokenize(text).size();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string repeat(std::string_view unit, std::size_t bytes) {
    std::string s;
    s.reserve(bytes + unit.size());
    while (s.size() < bytes) s += unit;
    return s;
}

constexpr double limit_s = 20.0;

}  // namespace

TEST_CASE("a 10 MB input takes linear time") {
    const Tokenizer t(golden::vocab());
    const std::string unit =
        "The quick brown fox, naïve café owner (Dvořák fan), paid $1,234.56 at https://example.com/a?b=c. "
        "Ὀδυσσεύς и Пушкин; שלום עולם; नमस्ते; สวัสดี; 北京欢迎你! 한국어 텍스트 👨‍👩‍👧 [MASK] [SEP]x\t\n";
    std::size_t n1 = 0, n10 = 0;
    const double t1 = seconds_to_tokenize(t, repeat(unit, 1'000'000), n1);
    const double t10 = seconds_to_tokenize(t, repeat(unit, 10'000'000), n10);
    MESSAGE("1 MB: " << t1 << " s, 10 MB: " << t10 << " s (" << n10 << " tokens)");
    CHECK(n10 > 9 * n1);
    CHECK(t10 < limit_s);
    CHECK(t10 < 20 * t1 + 0.5);
}

TEST_CASE("a batch of 10 MB takes linear time") {
    const Tokenizer t(golden::vocab());
    const std::vector<std::string> texts(200'000, "A short sentence, of about fifty bytes: 3.14 \xC3\xA9!");
    const auto start = std::chrono::steady_clock::now();
    const auto batch = t.encode_batch(texts, {.max_length = 16});
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    MESSAGE("200,000 texts: " << s << " s");
    CHECK((batch.batch == 200'000 && batch.length == 16));
    CHECK(s < limit_s);
}

TEST_CASE("hostile inputs of 10 MB take linear time") {
    const Tokenizer t(golden::vocab());
    const std::pair<const char*, std::string> cases[] = {
        {"brackets", std::string(10'000'000, '[')},                       // a special-token start everywhere
        {"near-special", repeat("[MAS[MASK", 10'000'000)},
        {"100-character words", repeat(std::string(100, 'q') + " ", 10'000'000)},  // the longest a word can be
        {"punctuation", repeat("!?-", 10'000'000)},
        {"removed characters", repeat("\xE2\x80\x8B", 10'000'000)},  // U+200B, dropped by clean-up
    };
    for (const auto& [name, text] : cases) {
        std::size_t n = 0;
        const double s = seconds_to_tokenize(t, text, n);
        MESSAGE(std::string(name) << ": " << s << " s, " << n << " tokens");
        CHECK(s < limit_s);
    }
}

TEST_CASE("a 1,000,000-character word takes linear time and is one [UNK]") {
    const Tokenizer t(golden::vocab());
    std::string nfd_e, hangul, kept_marks = "a";
    for (int i = 0; i < 1'000'000; ++i) {
        nfd_e += "e\xCC\x81";             // e + U+0301: the accents are stripped, 1M characters remain
        hangul += "\xED\x95\x9C";          // U+D55C: three jamo each after NFD
        kept_marks += "\xF0\x9D\x85\xA5";  // U+1D165: not Mn, so it is kept and reordered by NFD
    }
    const std::pair<const char*, std::string> cases[] = {
        {"ASCII", std::string(1'000'000, 'a')}, {"NFD accents", nfd_e}, {"Hangul", hangul}, {"combining marks", kept_marks}};
    for (const auto& [name, word] : cases) {
        const auto start = std::chrono::steady_clock::now();
        const auto ids = t.tokenize(word);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        MESSAGE(std::string(name) << ": " << s << " s");
        CHECK(ids == std::vector<std::int32_t>{t.unk_id()});
        CHECK(s < limit_s);
    }
}

TEST_CASE("the buffered pass (normalised added tokens) takes linear time") {
    // Every text is normalised into a buffer and searched for the tokens: long ones whose prefixes
    // fill the text make each search walk as far as it can.
    const Tokenizer t(golden::vocab(), {.added_tokens = {{.content = std::string(20, 'a') + "b"}, {.content = "New York"}}});
    const std::pair<const char*, std::string_view> units[] = {
        {"mixed text", "The quick brown fox visited new york, naïve café; 北京欢迎你! [MASK] NEW YORK\n"},
        {"near-token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA "},  // a walk of up to 21 characters at every "a"
    };
    for (const auto& [name, unit] : units) {
        std::size_t n1 = 0, n10 = 0;
        const double t1 = seconds_to_tokenize(t, repeat(unit, 1'000'000), n1);
        const double t10 = seconds_to_tokenize(t, repeat(unit, 10'000'000), n10);
        MESSAGE(std::string(name) << ": 1 MB " << t1 << " s, 10 MB " << t10 << " s, " << n10 << " tokens");
        CHECK(n10 > 9 * n1);
        CHECK(t10 < limit_s);
        CHECK(t10 < 20 * t1 + 0.5);
    }
}
