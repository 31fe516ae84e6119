// Parity with Hugging Face `tokenizers` on the corpus of tools/make_tokenizer_golden.py: every
// record must match exactly. On a mismatch the first few are printed with the text, the expected
// and the actual ids (with their tokens).
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "golden.hpp"

using sinter::text::EncodeOptions;
using sinter::text::Encoding;
using sinter::text::InvalidUtf8;
using sinter::text::Tokenizer;

namespace {

struct Tally {
    std::size_t checked = 0, failed = 0;

    void check(bool ok, const std::string& what) {
        ++checked;
        if (ok) return;
        if (++failed <= 5) FAIL_CHECK(what);
    }
    void report(const std::string& kind) const {
        MESSAGE(kind << ": " << checked - failed << " of " << checked << " identical ("
                     << (checked ? 100.0 * static_cast<double>(checked - failed) / static_cast<double>(checked) : 100.0)
                     << "%)");
        CHECK(failed == 0);
        CHECK(checked > 0);
    }
};

std::vector<std::int32_t> types_from_split(std::size_t n, std::size_t n0) {
    std::vector<std::int32_t> t(n, 1);
    std::fill(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(std::min(n, n0)), 0);
    return t;
}

std::string mismatch(char config, const std::string& text, const std::vector<std::int32_t>& expected,
                     const std::vector<std::int32_t>& got, const char* field = "ids") {
    return std::string("config ") + config + ", text \"" + golden::printable(text) + "\": " + field +
           "\n  expected " + golden::show(golden::vocab(), expected) + "\n  got      " + golden::show(golden::vocab(), got);
}

// One encoding against the expected ids, type ids (n0 zeros then ones) and an all-ones mask.
void check_encoding(Tally& tally, char config, const std::string& text, const Encoding& got,
                    const std::vector<std::int32_t>& ids, std::size_t n0) {
    if (got.ids != ids) return tally.check(false, mismatch(config, text, ids, got.ids));
    const auto types = types_from_split(ids.size(), n0);
    if (got.type_ids != types) return tally.check(false, mismatch(config, text, types, got.type_ids, "type ids"));
    tally.check(got.attention_mask == std::vector<std::int32_t>(ids.size(), 1), mismatch(config, text, {}, got.attention_mask, "mask"));
}

}  // namespace

TEST_CASE("tokenizer matches Hugging Face tokenizers on the golden corpus") {
    const auto lines = golden::read_lines("tokenizer_golden.txt");
    std::map<char, Tokenizer> tok;
    for (const char c : std::string("UCLSN")) tok.emplace(c, golden::tokenizer(c));
    Tally singles, pairs, others, batches;

    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto f = golden::split(lines[i]);
        if (f[0] == "T") {
            const EncodeOptions o{.max_length = std::stoul(std::string(f[1]))};
            const auto text = golden::unescape(f[2]);
            const auto u = golden::ids(f[3]);
            const auto c = f[4] == "=" ? u : golden::ids(f[4]);
            check_encoding(singles, 'U', text, tok.at('U').encode(text, o), u, u.size());
            check_encoding(singles, 'C', text, tok.at('C').encode(text, o), c, c.size());
        } else if (f[0] == "P") {
            const EncodeOptions o{.max_length = std::stoul(std::string(f[1]))};
            const auto a = golden::unescape(f[2]), b = golden::unescape(f[3]);
            const auto u = golden::ids(f[4]);
            const auto u0 = std::stoul(std::string(f[5]));
            const auto c = f[6] == "=" ? u : golden::ids(f[6]);
            const auto c0 = f[7] == "=" ? u0 : std::stoul(std::string(f[7]));
            check_encoding(pairs, 'U', a + "\" + \"" + b, tok.at('U').encode(a, b, o), u, u0);
            check_encoding(pairs, 'C', a + "\" + \"" + b, tok.at('C').encode(a, b, o), c, c0);
        } else if (f[0] == "O") {
            const char config = f[1][0];
            const auto text = golden::unescape(f[2]);
            const auto ids = golden::ids(f[3]);
            check_encoding(others, config, text, tok.at(config).encode(text), ids, ids.size());
        } else if (f[0] == "B") {
            const char config = f[1][0];
            const EncodeOptions o{.max_length = std::stoul(std::string(f[2])), .pad_to_max_length = f[3] == "1"};
            const bool is_pair = f[4] == "1";
            const std::size_t rows = std::stoul(std::string(f[5]));
            std::vector<std::string> a, b;
            std::vector<std::vector<std::string_view>> expected;
            for (std::size_t r = 0; r < rows; ++r) {
                expected.push_back(golden::split(lines[++i]));
                a.push_back(golden::unescape(expected.back()[1]));
                b.push_back(golden::unescape(expected.back()[2]));
            }
            const auto batch = is_pair ? tok.at(config).encode_batch(a, b, o) : tok.at(config).encode_batch(a, o);
            for (std::size_t r = 0; r < rows; ++r) {
                const auto ids = golden::ids(expected[r][3]);
                const auto row = [&](std::span<const std::int32_t> s) { return std::vector<std::int32_t>(s.begin(), s.end()); };
                const auto got_ids = row(batch.row_ids(static_cast<sinter::index_t>(r)));
                const std::string text = a[r] + (is_pair ? "\" + \"" + b[r] : "");
                if (static_cast<std::size_t>(batch.length) != ids.size()) {
                    batches.check(false, mismatch(config, text, ids, got_ids, "batch length"));
                } else if (got_ids != ids) {
                    batches.check(false, mismatch(config, text, ids, got_ids));
                } else if (row(batch.row_type_ids(static_cast<sinter::index_t>(r))) != golden::bits(expected[r][4])) {
                    batches.check(false, mismatch(config, text, golden::bits(expected[r][4]),
                                                  row(batch.row_type_ids(static_cast<sinter::index_t>(r))), "type ids"));
                } else {
                    const auto mask = golden::bits(expected[r][5]);
                    const auto got_mask = row(batch.row_attention_mask(static_cast<sinter::index_t>(r)));
                    const auto ones = static_cast<std::int32_t>(std::count(mask.begin(), mask.end(), 1));
                    batches.check(got_mask == mask && batch.lengths[r] == ones, mismatch(config, text, mask, got_mask, "mask"));
                }
            }
        }
    }
    singles.report("single texts (U and C)");
    pairs.report("pairs (U and C)");
    others.report("other option sets (L, S, N)");
    batches.report("batch rows");
}

TEST_CASE("invalid UTF-8: strict mode names the offset, lenient mode matches Python's errors=replace") {
    const auto strict = golden::tokenizer('U');
    const auto lenient = golden::tokenizer('U', InvalidUtf8::replace);
    Tally tally;
    for (const auto& line : golden::read_lines("tokenizer_golden.txt")) {
        const auto f = golden::split(line);
        if (f[0] != "Z") continue;
        const auto bytes = golden::unescape(f[1]);
        const auto offset = std::string(f[2]);
        const auto replaced = golden::unescape(f[3]);
        const auto ids = golden::ids(f[4]);
        std::string message;
        try {
            strict.encode(bytes);
        } catch (const sinter::format_error& e) {
            message = e.what();
        }
        tally.check(message.find("at byte " + offset + " ") != std::string::npos,
                    "\"" + golden::printable(bytes) + "\": expected an error at byte " + offset + ", got \"" + message + "\"");
        tally.check(sinter::text::replace_invalid_utf8(bytes) == replaced,
                    "\"" + golden::printable(bytes) + "\": replace_invalid_utf8 gives \"" +
                        sinter::text::replace_invalid_utf8(bytes) + "\", Python \"" + replaced + "\"");
        const auto got = lenient.encode(bytes).ids;
        tally.check(got == ids, mismatch('U', bytes, ids, got));
    }
    tally.report("invalid UTF-8 checks");
}
