// Everything sinter reads from outside, fed inputs a user could hand it by mistake or an attacker on
// purpose: JSON (safetensors headers, config.json, tokenizer_config.json, shard indexes),
// safetensors files, checkpoint folders, vocab.txt and the text to tokenize. Each case starts from a
// valid input and applies one to four seeded random mutations (bit flips, structural bytes, digits
// swapped for extreme numbers, bytes deleted, duplicated or inserted, truncation). A case passes if
// the input is accepted or refused with a sinter::error; any other exception fails it, naming the
// target, the case's number and the input. Built a second time with AddressSanitizer and
// UndefinedBehaviorSanitizer (test_io_fuzz_sanitized), where a read past a buffer, a signed
// overflow or a misaligned load fails it too.
//
// Beyond "no crash", each target checks a property that could fail:
// - JSON: random documents written with random spacing and escapes parse back to the same tree;
// - safetensors: a file that opens reads every tensor without error, and its spans tile the data;
// - checkpoints: a folder that loads has every tensor at the shape its config implies;
// - tokenizer: valid UTF-8 is never refused and invalid UTF-8 always is (strict mode); the lenient
//   mode gives the ids of the text an independent decoder (Python's errors="replace") makes valid;
//   every id is in the vocabulary and every encoding is [CLS] ... [SEP], within max_length.
// Both outcomes must occur for each mutated target (a fuzzer that never gets past the first check,
// or never trips one, tests nothing). SINTER_FUZZ_SCALE multiplies the case counts (default 1).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "io_test_util.hpp"
#include "sinter/io/bert_checkpoint.hpp"
#include "sinter/io/hf_config.hpp"
#include "sinter/io/json.hpp"
#include "sinter/io/safetensors.hpp"
#include "sinter/io/sentence_transformers.hpp"
#include "sinter/text/tokenizer.hpp"

using namespace sinter;
using io::Json;
using test::TempDir;

namespace {

using Rng = std::mt19937_64;

int cases(int base) {
    const char* s = std::getenv("SINTER_FUZZ_SCALE");
    const double scale = s ? std::atof(s) : 1.0;
    return std::max(1, int(base * (scale > 0 ? scale : 1.0)));
}

std::uint64_t pick(Rng& rng, std::uint64_t n) { return n == 0 ? 0 : rng() % n; }

// An input for a failure message: printable ASCII kept, the rest as \xNN, at most 400 bytes.
std::string printable(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size() && out.size() < 400; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out += char(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    if (out.size() >= 400) out += "...";
    return out;
}

// Bytes that change how a parser walks: JSON structure, number characters, UTF-8 lead and
// continuation bytes, the bytes around a surrogate, NUL and 0xff.
constexpr unsigned char interesting_bytes[] = {0,    0xff, '"',  '{',  '}',  '[',  ']',  ',',  ':',  '\\',
                                               '0',  '9',  '-',  '+',  'e',  'E',  '.',  'u',  'n',  ' ',
                                               '\n', 0x80, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xf5};

// Numbers at the edges: past int64 and uint64, negative, huge and tiny exponents, a lone minus.
constexpr const char* extreme_numbers[] = {"18446744073709551616", "9223372036854775807", "9223372036854775808",
                                           "-9223372036854775808", "-1", "0", "1e400", "-1e-400", "1e19",
                                           "4294967296", "00", "-", "1.", "2147483648", "99999999999999999999999"};

// One to four mutations of `s` in place.
void mutate(std::string& s, Rng& rng) {
    const int n = 1 + int(pick(rng, 4));
    for (int m = 0; m < n; ++m) {
        const std::size_t at = pick(rng, s.size() + 1);
        switch (pick(rng, 8)) {
            case 0:  // flip a bit
                if (!s.empty()) s[at % s.size()] ^= char(1 << pick(rng, 8));
                break;
            case 1:  // overwrite with a structural byte
                if (!s.empty()) s[at % s.size()] = char(interesting_bytes[pick(rng, std::size(interesting_bytes))]);
                break;
            case 2:  // insert a structural byte
                s.insert(at, 1, char(interesting_bytes[pick(rng, std::size(interesting_bytes))]));
                break;
            case 3:  // delete up to 8 bytes
                s.erase(std::min(at, s.size()), 1 + pick(rng, 8));
                break;
            case 4:  // duplicate a span elsewhere
                if (!s.empty()) {
                    const std::size_t from = pick(rng, s.size()), len = 1 + pick(rng, std::min<std::size_t>(32, s.size() - from));
                    s.insert(at, s.substr(from, len));
                }
                break;
            case 5: {  // a run of digits becomes an extreme number
                std::size_t d = s.find_first_of("0123456789", std::min(at, s.size()));
                if (d == std::string::npos) d = s.find_first_of("0123456789");
                if (d == std::string::npos) break;
                std::size_t e = d;
                while (e < s.size() && s[e] >= '0' && s[e] <= '9') ++e;
                s.replace(d, e - d, extreme_numbers[pick(rng, std::size(extreme_numbers))]);
                break;
            }
            case 6:  // truncate
                s.resize(std::min(at, s.size()));
                break;
            default:  // a random byte
                if (!s.empty()) s[at % s.size()] = char(pick(rng, 256));
        }
    }
}

// Runs one case: true if accepted, false if refused with a sinter::error; any other exception fails
// the test, naming the target, the case's number (cases are seeded, so a run at the same
// SINTER_FUZZ_SCALE makes it again) and the input.
struct Tally {
    std::string target;
    int accepted = 0, refused = 0;

    template <class F>
    bool run(std::uint64_t case_number, std::string_view input, F&& body) {
        std::string failure;
        try {
            body();
            ++accepted;
            return true;
        } catch (const sinter::error&) {
            ++refused;
            return false;
        } catch (const std::exception& e) {
            failure = std::string("a std::exception that is not a sinter::error: ") + e.what();
        }
        FAIL(target << ", case " << case_number << ": " << failure << "\n  input: " << printable(input));
        return false;
    }

    // Both outcomes happened: the mutations reach past the first check and also trip checks.
    void check_both() const {
        MESSAGE(target << ": " << accepted << " accepted, " << refused << " refused");
        CHECK_MESSAGE(accepted > 0, target << ": no mutated input was accepted");
        CHECK_MESSAGE(refused > 0, target << ": no mutated input was refused");
    }
};

// A copy of s in a heap block of exactly its size, no terminator after it: a reader that looks one
// byte past the end of its input is a heap overflow that AddressSanitizer reports (in a
// std::string it would read the terminating NUL unnoticed).
class ExactBytes {
public:
    explicit ExactBytes(std::string_view s) : bytes_(std::make_unique<char[]>(s.size())), size_(s.size()) {
        std::copy(s.begin(), s.end(), bytes_.get());
    }
    std::string_view view() const { return {bytes_.get(), size_}; }

private:
    std::unique_ptr<char[]> bytes_;
    std::size_t size_;
};

// The header length N a safetensors file starts with (8 bytes, little-endian).
std::uint64_t header_length_of(std::string_view file) {
    REQUIRE(file.size() >= 8);
    std::uint64_t n = 0;
    for (int b = 7; b >= 0; --b) n = n << 8 | static_cast<unsigned char>(file[std::size_t(b)]);
    return n;
}

// ---- JSON ----------------------------------------------------------------------------------------

// The valid documents mutations start from: the goldens' config files, a safetensors header, and
// one with every escape, a surrogate pair, raw UTF-8, nesting and each kind of number.
std::vector<std::string> json_seeds() {
    const auto golden = test::golden_dir();
    std::vector<std::string> seeds{
        test::read_text(golden / "bert_tiny" / "config.json"),
        test::read_text(golden / "bert_tiny_cls" / "config.json"),
        test::read_text(golden / "bert_tiny_cls" / "model.safetensors.index.json"),
        R"({"a":[1,-2,3.5e-7,-0.0,1E+300,true,false,null],"s":"q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00 é 中",)"
        R"("o":{"":{},"n":[[[]]],"big":12345678901234567890,"x":-9223372036854775808}})",
        R"({"do_lower_case":true,"strip_accents":null,"tokenize_chinese_chars":false,"model_max_length":512})",
    };
    const std::string model = test::read_text(golden / "bert_tiny" / "model.safetensors");
    seeds.push_back(model.substr(8, header_length_of(model)));
    return seeds;
}

// A random tree: objects with unique keys, arrays, strings over all of Unicode, int64s, finite
// doubles, booleans, nulls.
Json random_json(Rng& rng, int depth);

std::string random_unicode_string(Rng& rng) {
    std::string s;
    const std::size_t n = pick(rng, 12);
    for (std::size_t i = 0; i < n; ++i) {
        char32_t cp;
        switch (pick(rng, 4)) {
            case 0: cp = char32_t(pick(rng, 0x80)); break;  // ASCII, controls included
            case 1: cp = char32_t(0x80 + pick(rng, 0x800 - 0x80)); break;
            case 2: cp = char32_t(0x800 + pick(rng, 0x10000 - 0x800)); break;
            default: cp = char32_t(0x10000 + pick(rng, 0x110000 - 0x10000));
        }
        if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;  // not a scalar value
        text::append_utf8(s, cp);
    }
    return s;
}

Json random_json(Rng& rng, int depth) {
    switch (pick(rng, depth > 6 ? 5 : 7)) {
        case 0: return Json();
        case 1: return Json(pick(rng, 2) == 1);
        case 2: {
            const std::int64_t edges[] = {0, -1, INT64_MAX, INT64_MIN, 1'000'000'007};
            return Json(pick(rng, 3) == 0 ? edges[pick(rng, 5)] : std::int64_t(rng()));
        }
        case 3: {
            double d;
            do {
                const std::uint64_t bits = rng();
                std::memcpy(&d, &bits, sizeof d);
            } while (!std::isfinite(d));
            return Json(d);
        }
        case 4: return Json(random_unicode_string(rng));
        case 5: {
            Json::Array a;
            for (std::size_t i = pick(rng, 5); i > 0; --i) a.push_back(random_json(rng, depth + 1));
            return Json(std::move(a));
        }
        default: {
            Json::Object o;
            for (std::size_t i = pick(rng, 5); i > 0; --i) {
                std::string key = random_unicode_string(rng) + std::to_string(o.size());  // unique
                o.emplace_back(std::move(key), random_json(rng, depth + 1));
            }
            return Json(std::move(o));
        }
    }
}

void write_space(std::string& out, Rng& rng) {
    for (std::size_t i = pick(rng, 3) == 0 ? pick(rng, 3) : 0; i > 0; --i) out += " \t\n\r"[pick(rng, 4)];
}

// `s` as a JSON string: required escapes, and each other character at random raw, as \uXXXX
// (a surrogate pair above U+FFFF, in either case of hex) or as its short escape.
void write_string(std::string& out, const std::string& s, Rng& rng) {
    out += '"';
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        char32_t cp = 0;
        const int len = text::detail::decode_utf8(p, end, cp);
        REQUIRE(len > 0);
        const bool must = cp < 0x20 || cp == '"' || cp == '\\';
        if (cp == '"' || cp == '\\' || (cp == '/' && pick(rng, 2) == 0)) {
            out += '\\';
            out += char(cp);
        } else if (must || pick(rng, 3) == 0) {
            const char* hex = pick(rng, 2) ? "%04x" : "%04X";
            char buf[16];
            if (cp >= 0x10000) {
                const char32_t v = cp - 0x10000;
                out += "\\u";
                std::snprintf(buf, sizeof buf, hex, unsigned(0xd800 + (v >> 10)));
                out += buf;
                out += "\\u";
                std::snprintf(buf, sizeof buf, hex, unsigned(0xdc00 + (v & 0x3ff)));
            } else {
                out += "\\u";
                std::snprintf(buf, sizeof buf, hex, unsigned(cp));
            }
            out += buf;
        } else {
            out.append(reinterpret_cast<const char*>(p), std::size_t(len));
        }
        p += len;
    }
    out += '"';
}

void write_json(std::string& out, const Json& v, Rng& rng) {
    write_space(out, rng);
    switch (v.kind()) {
        case Json::Kind::null: out += "null"; break;
        case Json::Kind::boolean: out += v.as_bool() ? "true" : "false"; break;
        case Json::Kind::integer: out += std::to_string(v.as_int()); break;
        case Json::Kind::number: {
            char buf[40];  // always with an exponent, so that it reads back as a double
            std::snprintf(buf, sizeof buf, pick(rng, 2) ? "%.17e" : "%.17E", v.as_double());
            out += buf;
            break;
        }
        case Json::Kind::string: write_string(out, v.as_string(), rng); break;
        case Json::Kind::array: {
            out += '[';
            bool first = true;
            for (const Json& e : v.as_array()) {
                if (!first) out += ',';
                first = false;
                write_json(out, e, rng);
            }
            write_space(out, rng);
            out += ']';
            break;
        }
        case Json::Kind::object: {
            out += '{';
            bool first = true;
            for (const auto& [k, e] : v.as_object()) {
                if (!first) out += ',';
                first = false;
                write_space(out, rng);
                write_string(out, k, rng);
                write_space(out, rng);
                out += ':';
                write_json(out, e, rng);
            }
            write_space(out, rng);
            out += '}';
            break;
        }
    }
    write_space(out, rng);
}

// Where two trees first differ ("" if nowhere). Doubles compare bit for bit: %.17e round-trips.
std::string difference(const Json& a, const Json& b, const std::string& path = "$") {
    if (a.kind() != b.kind())
        return path + ": " + std::string(Json::kind_name(a.kind())) + " vs " + std::string(Json::kind_name(b.kind()));
    switch (a.kind()) {
        case Json::Kind::null: return {};
        case Json::Kind::boolean: return a.as_bool() == b.as_bool() ? "" : path + ": booleans differ";
        case Json::Kind::integer:
            return a.as_int() == b.as_int() ? "" : path + ": " + std::to_string(a.as_int()) + " vs " + std::to_string(b.as_int());
        case Json::Kind::number: {
            const double x = a.as_double(), y = b.as_double();
            return std::memcmp(&x, &y, sizeof x) == 0 ? "" : path + ": " + std::to_string(x) + " vs " + std::to_string(y);
        }
        case Json::Kind::string: return a.as_string() == b.as_string() ? "" : path + ": strings differ";
        case Json::Kind::array: {
            const auto &x = a.as_array(), &y = b.as_array();
            if (x.size() != y.size()) return path + ": array sizes differ";
            for (std::size_t i = 0; i < x.size(); ++i)
                if (auto d = difference(x[i], y[i], path + "[" + std::to_string(i) + "]"); !d.empty()) return d;
            return {};
        }
        case Json::Kind::object: {
            const auto &x = a.as_object(), &y = b.as_object();
            if (x.size() != y.size()) return path + ": object sizes differ";
            for (std::size_t i = 0; i < x.size(); ++i) {
                if (x[i].first != y[i].first) return path + ": keys differ at member " + std::to_string(i);
                if (auto d = difference(x[i].second, y[i].second, path + "." + x[i].first); !d.empty()) return d;
            }
            return {};
        }
    }
    return {};
}

// ---- safetensors ---------------------------------------------------------------------------------

// A small valid file: metadata, every float dtype, integers, a zero-size tensor, an odd-sized U8
// before an F32 (so data is unaligned), shapes of rank 0 to 3.
std::string small_safetensors() {
    TempDir dir;
    Rng rng(5);
    std::mt19937 frng(5);
    const auto f = test::random_floats(12, frng);
    std::string f16(2 * 6, '\0'), bf(2 * 5, '\0'), i64(8 * 3, '\0');
    for (char& c : f16) c = char(pick(rng, 256));
    for (char& c : bf) c = char(pick(rng, 256));
    for (char& c : i64) c = char(pick(rng, 256));
    test::write_safetensors(dir / "s.safetensors",
                            {{"u8", "U8", {3}, "xyz"},
                             {"weight", "F32", {3, 4}, test::f32_bytes(f)},
                             {"h", "F16", {2, 3}, f16},
                             {"empty", "F32", {0, 7}, ""},
                             {"scalar", "BF16", {}, bf.substr(0, 2)},
                             {"b", "BF16", {2, 2}, bf.substr(2, 8)},
                             {"ids", "I64", {1, 3, 1}, i64}},
                            3, R"({"format":"pt","note":"\u00e9"})");
    return test::read_text(dir / "s.safetensors");
}

// Opens `path`; if it opens, every tensor must read (bytes, and floats where the dtype converts) and
// the spans must tile the data section.
void open_and_read_all(const std::filesystem::path& path, std::uint64_t file_size) {
    io::SafetensorsFile f(path);
    std::uint64_t next = 0;
    for (const io::TensorInfo& t : f.tensors()) {
        REQUIRE(t.begin == next);
        next = t.end;
        REQUIRE(t.size_bytes() * 8 == std::uint64_t(t.numel) * std::uint64_t(io::bits_of(t.dtype)));
        REQUIRE(f.read_bytes(t).size() == t.size_bytes());
        if (t.dtype == io::StDtype::f32 || t.dtype == io::StDtype::f16 || t.dtype == io::StDtype::bf16)
            REQUIRE(f.read<float>(t).size() == std::size_t(t.numel));
    }
    REQUIRE(f.data_begin() + next == file_size);
}

// ---- UTF-8: an independent decoder with Python's errors="replace" ---------------------------------

// Unicode's Table 3-7 (well-formed UTF-8): each maximal subpart of an ill-formed sequence becomes one
// U+FFFD, as CPython's decoder does. `invalid` counts them.
std::string python_replace(std::string_view in, int& invalid) {
    std::string out;
    invalid = 0;
    std::size_t i = 0;
    while (i < in.size()) {
        const auto b = static_cast<unsigned char>(in[i]);
        if (b < 0x80) {
            out += char(b);
            ++i;
            continue;
        }
        int length = 0;
        unsigned char lo = 0x80, hi = 0xbf;  // the second byte's range
        if (b >= 0xc2 && b <= 0xdf) length = 2;
        else if (b == 0xe0) length = 3, lo = 0xa0;
        else if (b >= 0xe1 && b <= 0xec) length = 3;
        else if (b == 0xed) length = 3, hi = 0x9f;
        else if (b >= 0xee && b <= 0xef) length = 3;
        else if (b == 0xf0) length = 4, lo = 0x90;
        else if (b >= 0xf1 && b <= 0xf3) length = 4;
        else if (b == 0xf4) length = 4, hi = 0x8f;
        std::size_t k = 1;  // bytes of a well-formed prefix so far
        if (length > 0) {
            for (; k < std::size_t(length) && i + k < in.size(); ++k) {
                const auto c = static_cast<unsigned char>(in[i + k]);
                const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xbf;
                if (c < l || c > h) break;
            }
        }
        if (length > 0 && k == std::size_t(length)) {
            out.append(in.substr(i, k));
        } else {
            out += "\xef\xbf\xbd";  // U+FFFD
            ++invalid;
        }
        i += k;
    }
    return out;
}

// Text pieces a tokenizer has to get right: words, punctuation, every kind of space and control,
// accents precomposed and combining, CJK, emoji, special tokens in and out of case, a word over
// the 100-character limit, and raw bytes that may not be UTF-8.
std::string random_text(Rng& rng) {
    using namespace std::string_view_literals;
    static constexpr std::string_view pieces[] = {
        "hello"sv, "World"sv, "un"sv, "##able"sv, "affable"sv, "the"sv, " "sv, "  "sv, "\t"sv, "\n"sv, "\r\n"sv,
        ","sv, "."sv, "!?"sv, "'s"sv, "-"sv, "$3.50"sv, "[CLS]"sv, "[SEP]"sv, "[MASK]"sv, "[mask]"sv, "[UNK]"sv,
        "[PAD]"sv, "é"sv, "e\xcc\x81"sv, "\xc3\x85ngstr\xc3\xb6m"sv, "中文"sv, "日本語"sv, "한국어"sv, "😀"sv,
        "👍🏽"sv, "\xe3\x80\x80"sv, "\xc2\xa0"sv, "\xe2\x80\x8b"sv, "\x01"sv, "\x7f"sv, "\x00"sv, "Ǆ"sv, "ﬁ"sv,
        "İ"sv, "ß"sv, "Ω"sv, "\xef\xbf\xbd"sv, "\xed\xa0\x80"sv, "\xc0\xaf"sv, "\xf4\x90\x80\x80"sv,
        "\xe0\x80"sv, "\x80"sv, "\xff"sv};
    std::string s;
    for (std::size_t n = pick(rng, 24); n > 0; --n) {
        const std::uint64_t r = pick(rng, 10);
        if (r == 0 && pick(rng, 6) == 0) {  // about one text in four has raw bytes
            for (std::size_t k = 1 + pick(rng, 4); k > 0; --k) s += char(pick(rng, 256));
        } else if (r == 1 && pick(rng, 8) == 0) {
            s += std::string(95 + pick(rng, 12), char('a' + pick(rng, 26)));  // around the 100-char limit
        } else {
            s += pieces[pick(rng, std::size(pieces))];
        }
    }
    return s;
}

}  // namespace

TEST_CASE("fuzz: JSON documents written at random parse back to the same tree") {
    Rng rng(101);
    const int n = cases(3000);
    for (int i = 0; i < n; ++i) {
        const Json tree = random_json(rng, 0);
        std::string text;
        write_json(text, tree, rng);
        Json back;
        try {
            back = io::parse_json(ExactBytes(text).view(), "random document");
        } catch (const sinter::error& e) {
            FAIL("case " << i << ": a valid document was refused: " << e.what() << "\n  input: " << printable(text));
        }
        const std::string d = difference(tree, back);
        if (!d.empty()) FAIL("case " << i << ": parsed back differently at " << d << "\n  input: " << printable(text));
    }
}

TEST_CASE("fuzz: mutated JSON is parsed or refused with a format_error") {
    const auto seeds = json_seeds();
    Tally tally{"JSON"};
    Rng rng(202);
    const int n = cases(60000);
    for (int i = 0; i < n; ++i) {
        std::string doc = seeds[std::size_t(i) % seeds.size()];
        mutate(doc, rng);
        const bool python = i % 2 == 1;
        tally.run(std::uint64_t(i), doc, [&] {
            try {
                (void)io::parse_json(ExactBytes(doc).view(), "mutated", {.python_nonfinite = python});
            } catch (const format_error&) {
                throw;
            } catch (const sinter::error& e) {
                FAIL("the parser threw a sinter::error that is not a format_error: " << e.what());
            }
        });
    }
    tally.check_both();
}

TEST_CASE("fuzz: deep and long JSON stays bounded") {
    // Far past the depth bound, in every nesting shape: refused, without exhausting the stack.
    for (const char* open : {"[", "{\"a\":", "[{\"\":"}) {
        std::string doc;
        for (int i = 0; i < 200000; ++i) doc += open;
        CHECK_THROWS_AS(io::parse_json(doc, "deep"), format_error);
    }
    // Long flat input parses: a million-element array, a megabyte string.
    std::string flat = "[";
    for (int i = 0; i < 1000000; ++i) flat += i ? ",7" : "7";
    flat += "]";
    CHECK(io::parse_json(flat, "flat").as_array().size() == 1000000);
    CHECK(io::parse_json("\"" + std::string(1 << 20, 'x') + "\"", "long").as_string().size() == std::size_t(1) << 20);
}

TEST_CASE("fuzz: mutated config.json files parse, or are refused with a sinter::error") {
    const auto golden = test::golden_dir();
    const std::string seeds[] = {test::read_text(golden / "bert_tiny" / "config.json"),
                                 test::read_text(golden / "bert_tiny_cls" / "config.json")};
    Tally parsed{"config.json"};
    Rng rng(303);
    const int n = cases(20000);
    for (int i = 0; i < n; ++i) {
        std::string doc = seeds[i % 2];
        mutate(doc, rng);
        parsed.run(std::uint64_t(i), doc, [&] {
            const ExactBytes bytes(doc);
            const io::HfBertConfig c =
                io::parse_hf_config(io::parse_json(bytes.view(), "config.json", {.python_nonfinite = true}), "config.json");
            io::check_config(c, bert::tiny);
        });
    }
    parsed.check_both();
}

TEST_CASE("fuzz: mutated tokenizer_config.json gives options or a sinter::error") {
    const std::string seed = R"({"do_lower_case": false, "strip_accents": null, "tokenize_chinese_chars": true, "model_max_length": 512})";
    Tally tally{"tokenizer_config.json"};
    Rng rng(404);
    for (int i = 0, n = cases(5000); i < n; ++i) {
        std::string doc = seed;
        mutate(doc, rng);
        tally.run(std::uint64_t(i), doc, [&] { (void)text::parse_tokenizer_config(ExactBytes(doc).view()); });
    }
    tally.check_both();
}

TEST_CASE("fuzz: mutated sentence-transformers files give a pooling or a sinter::error") {
    const auto pipeline = test::golden_dir() / "minilm" / "pipeline";
    const std::string seeds[] = {test::read_text(pipeline / "modules.json"),
                                 test::read_text(pipeline / "1_Pooling" / "config.json")};
    const test::TempDir dir;
    std::filesystem::create_directories(dir / "1_Pooling");
    Tally tally{"modules.json and 1_Pooling/config.json"};
    Rng rng(505);
    for (int i = 0, n = cases(3000); i < n; ++i) {
        std::string docs[] = {seeds[0], seeds[1]};
        mutate(docs[i % 2], rng);  // one of the two
        test::write_file(dir / "modules.json", docs[0]);
        test::write_file(dir.path() / "1_Pooling" / "config.json", docs[1]);
        tally.run(std::uint64_t(i), docs[i % 2], [&] { (void)io::read_sentence_embedding(dir.path()); });
    }
    tally.check_both();
}

TEST_CASE("fuzz: mutated safetensors files open and read whole, or are refused") {
    const std::string seed = small_safetensors();
    TempDir dir;
    const auto path = dir / "m.safetensors";
    test::write_file(path, seed);
    REQUIRE_NOTHROW(open_and_read_all(path, seed.size()));
    const std::uint64_t header_length = header_length_of(seed);
    Tally tally{"safetensors"};
    Rng rng(505);
    for (int i = 0, n = cases(20000); i < n; ++i) {
        std::string file = seed;
        if (i % 4 == 0) {
            mutate(file, rng);  // anywhere
        } else {  // the header only (where every check is), its length prefix updated or not
            std::string header = seed.substr(8, header_length);
            mutate(header, rng);
            const std::string prefix = i % 4 == 1 ? seed.substr(0, 8) : test::le64(header.size());
            file = prefix + header + seed.substr(8 + header_length);
        }
        test::write_file(path, file);
        tally.run(std::uint64_t(i), file.substr(0, 600), [&] { open_and_read_all(path, file.size()); });
    }
    tally.check_both();
}

TEST_CASE("fuzz: mutated checkpoint folders load whole, or not at all, with a sinter::error") {
    const auto golden = test::golden_dir();
    TempDir dir;
    for (const char* f : {"config.json", "model.safetensors", "vocab.txt"})
        std::filesystem::copy_file(golden / "bert_tiny" / f, dir / f);
    const std::string config = test::read_text(dir / "config.json"), model = test::read_text(dir / "model.safetensors");
    const std::uint64_t header = header_length_of(model);
    const std::size_t data_begin = 8 + header;
    // A sharded classifier too: its model.safetensors.index.json maps names to two files.
    TempDir sharded;
    for (const auto& entry : std::filesystem::directory_iterator(golden / "bert_tiny_cls"))
        std::filesystem::copy_file(entry.path(), sharded / entry.path().filename().string());
    const std::string index = test::read_text(sharded / "model.safetensors.index.json");
    REQUIRE_NOTHROW(io::load_bert_weights<bert::tiny>(sharded.path()));

    const auto expect_shapes = [](const ref::BertWeights& w) {
        const index_t H = bert::tiny.hidden;
        REQUIRE(w.word_embeddings.size() == std::size_t(bert::tiny.vocab * H));
        REQUIRE(w.layers.size() == std::size_t(bert::tiny.layers));
        for (const auto& layer : w.layers) {
            REQUIRE(layer.query.weight.size() == std::size_t(H * H));
            REQUIRE(layer.output.weight.size() == std::size_t(H * bert::tiny.intermediate));
            REQUIRE(layer.output_norm.beta.size() == std::size_t(H));
        }
    };
    REQUIRE_NOTHROW(expect_shapes(io::load_bert_weights<bert::tiny>(dir.path())));

    Tally tally{"checkpoint folder"};
    Rng rng(606);
    for (int i = 0, n = cases(1600); i < n; ++i) {
        std::string c = config, m = model, x = index;
        std::string_view input;
        switch (i % 4) {
            case 0: mutate(c, rng), input = c; break;
            case 1: {  // the header only: the data section stays
                std::string h = m.substr(8, header);
                mutate(h, rng);
                m = test::le64(h.size()) + h + m.substr(data_begin);
                input = std::string_view(m).substr(0, data_begin + 64);
                break;
            }
            case 2: mutate(m, rng), input = std::string_view(m).substr(0, data_begin + 64); break;  // mostly weights
            default: mutate(x, rng), input = x;  // the shard index
        }
        if (i % 4 == 3) {
            test::write_file(sharded / "model.safetensors.index.json", x);
            tally.run(std::uint64_t(i), input, [&] { expect_shapes(io::load_bert_weights<bert::tiny>(sharded.path())); });
            continue;
        }
        test::write_file(dir / "config.json", c);
        test::write_file(dir / "model.safetensors", m);
        tally.run(std::uint64_t(i), input, [&] { expect_shapes(io::load_bert_weights<bert::tiny>(dir.path())); });
    }
    tally.check_both();
}

TEST_CASE("fuzz: mutated vocab.txt builds a tokenizer whose ids are in range, or is refused") {
    const std::string seed = test::read_text(test::golden_dir() / "bert_tiny" / "vocab.txt");
    Tally tally{"vocab.txt"};
    Rng rng(707);
    for (int i = 0, n = cases(3000); i < n; ++i) {
        std::string vocab = seed;
        mutate(vocab, rng);
        tally.run(std::uint64_t(i), vocab.substr(0, 300), [&] {
            const text::Tokenizer tok(text::Vocab::parse(ExactBytes(vocab).view(), "vocab.txt"));
            const auto size = std::int32_t(tok.size());  // [MASK], if the mutation lost it, comes after the vocabulary
            for (std::int32_t id : tok.encode("Hello, [MASK] world! Ünïcödé 中文 unaffable").ids)
                REQUIRE((id >= 0 && id < size));
        });
    }
    tally.check_both();
}

// The files that list added tokens (tests/golden/text/added: each layout transformers reads), one
// mutated at a time, beside bert-base-uncased's vocab.txt.
TEST_CASE("fuzz: mutated added-token files build a tokenizer whose ids are in range, or are refused") {
    const auto added = test::golden_dir() / "text" / "added";
    const std::pair<const char*, const char*> seeds[] = {{"v4", "tokenizer_config.json"},
                                                         {"v5", "tokenizer.json"},
                                                         {"legacy", "added_tokens.json"},
                                                         {"legacy_map", "special_tokens_map.json"},
                                                         {"config_extras", "tokenizer_config.json"}};
    const test::TempDir dir;
    std::filesystem::copy_file(test::golden_dir() / "text" / "vocab.txt", dir / "vocab.txt");
    Tally tally{"added-token files"};
    Rng rng(909);
    for (int i = 0, n = cases(1000); i < n; ++i) {
        const auto& [folder, file] = seeds[std::size_t(i) % std::size(seeds)];
        for (const char* f : {"tokenizer_config.json", "tokenizer.json", "added_tokens.json", "special_tokens_map.json"})
            std::filesystem::remove(dir / f);
        for (const auto& entry : std::filesystem::directory_iterator(added / folder))
            std::filesystem::copy_file(entry.path(), dir / entry.path().filename());
        std::string doc = test::read_text(added / folder / file);
        mutate(doc, rng);
        test::write_file(dir / file, doc);
        tally.run(std::uint64_t(i), doc.substr(0, 300), [&] {
            const text::Tokenizer tok = text::Tokenizer::from_directory(dir.path());
            const auto size = std::int32_t(tok.size());
            for (std::int32_t id : tok.encode("covid19 New York <ent>→x [E1] [mask] <s> Café 中文 hello <Y>").ids)
                REQUIRE((id >= 0 && id < size));
        });
    }
    tally.check_both();
}

TEST_CASE("fuzz: random text tokenizes as Hugging Face would see it, never out of range") {
    const text::Tokenizer strict(text::Vocab::load(test::golden_dir() / "text" / "vocab.txt"));
    const text::Tokenizer lenient(strict.vocab(), {.invalid_utf8 = text::InvalidUtf8::replace});
    const auto vocab_size = std::int32_t(strict.vocab().size());
    Rng rng(808);
    int valid = 0, invalid = 0;
    for (int i = 0, n = cases(10000); i < n; ++i) {
        const std::string text = random_text(rng);
        const ExactBytes exact(text);
        const std::string_view raw = exact.view();
        int bad = 0;
        const std::string decoded = python_replace(raw, bad);
        INFO("case " << i << ", input: " << printable(raw));
        // Strict: exactly the invalid inputs are refused, with a format_error.
        if (bad == 0) {
            ++valid;
            REQUIRE_NOTHROW((void)strict.tokenize(raw));
        } else {
            ++invalid;
            REQUIRE_THROWS_AS((void)strict.tokenize(raw), format_error);
        }
        // Lenient: the ids of the text with each maximal invalid subpart replaced by U+FFFD.
        const auto ids = lenient.tokenize(raw);
        REQUIRE(ids == strict.tokenize(decoded));
        for (std::int32_t id : ids) REQUIRE((id >= 0 && id < vocab_size));
        // Encoded with a random max_length: [CLS] ... [SEP], within it.
        const std::size_t max_length = 2 + pick(rng, 40);
        const text::Encoding e = lenient.encode(raw, {.max_length = max_length});
        REQUIRE(e.size() <= max_length);
        REQUIRE(e.size() == std::min(ids.size() + 2, max_length));
        REQUIRE(e.ids.front() == strict.cls_id());
        REQUIRE(e.ids.back() == strict.sep_id());
        REQUIRE(std::equal(e.ids.begin() + 1, e.ids.end() - 1, ids.begin()));
    }
    MESSAGE("tokenizer: " << valid << " valid and " << invalid << " invalid UTF-8 inputs");
    CHECK(valid > 0);
    CHECK(invalid > 0);
}
