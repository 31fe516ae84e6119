#pragma once
// sinter's own strict JSON (RFC 8259) reader, for safetensors headers and Hugging Face config files.
// Strict because these files decide how many bytes we read and where: duplicate keys, lone
// surrogates, invalid UTF-8, numbers with leading zeros, nesting past a bound and trailing garbage
// are all errors, each a `format_error` naming the source, the byte offset and what was expected.
// Integer literals that fit are kept exactly as int64; other numbers are correctly rounded doubles.
// JsonOptions::python_nonfinite also takes Python's NaN, Infinity and -Infinity (for files that
// Python's json module wrote).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "sinter/core/error.hpp"

namespace sinter::io {

class Json {
public:
    enum class Kind : std::uint8_t { null, boolean, integer, number, string, array, object };
    using Array = std::vector<Json>;
    using Object = std::vector<std::pair<std::string, Json>>;  // in document order, keys unique

    Json() = default;
    explicit Json(bool b) : value_(b) {}
    explicit Json(std::int64_t i) : value_(i) {}
    explicit Json(double d) : value_(d) {}
    explicit Json(std::string s) : value_(std::move(s)) {}
    explicit Json(Array a) : value_(std::move(a)) {}
    explicit Json(Object o) : value_(std::move(o)) {}

    Kind kind() const { return static_cast<Kind>(value_.index()); }
    bool is_null() const { return kind() == Kind::null; }
    bool is_number() const { return kind() == Kind::integer || kind() == Kind::number; }
    bool is_string() const { return kind() == Kind::string; }
    bool is_array() const { return kind() == Kind::array; }
    bool is_object() const { return kind() == Kind::object; }

    // Typed access. `what` names the value in the error (a key, "element 3 of shape"...).
    bool as_bool(std::string_view what = "value") const { return get<bool>(what, "a boolean"); }
    std::int64_t as_int(std::string_view what = "value") const {
        return get<std::int64_t>(what, "an integer");
    }
    double as_double(std::string_view what = "value") const {
        if (kind() == Kind::integer) return static_cast<double>(std::get<std::int64_t>(value_));
        return get<double>(what, "a number");
    }
    const std::string& as_string(std::string_view what = "value") const {
        return get<std::string>(what, "a string");
    }
    const Array& as_array(std::string_view what = "value") const { return get<Array>(what, "an array"); }
    const Object& as_object(std::string_view what = "value") const { return get<Object>(what, "an object"); }

    // Object members. `find` is null when the key is absent (or this is not an object).
    const Json* find(std::string_view key) const {
        if (kind() != Kind::object) return nullptr;
        for (const auto& [k, v] : std::get<Object>(value_))
            if (k == key) return &v;
        return nullptr;
    }
    const Json& at(std::string_view key) const {
        as_object("value holding key '" + std::string(key) + "'");
        if (const Json* v = find(key)) return *v;
        throw format_error("sinter: JSON object has no key '" + std::string(key) + "'");
    }

    static std::string_view kind_name(Kind k) {
        constexpr std::string_view names[] = {"null",     "a boolean", "an integer", "a number",
                                              "a string", "an array",  "an object"};
        return names[static_cast<int>(k)];
    }

private:
    template <class T>
    const T& get(std::string_view what, std::string_view expected) const {
        if (const T* p = std::get_if<T>(&value_)) return *p;
        std::string found(kind_name(kind()));
        // An integer literal too large for int64 is stored as a double: say so.
        if constexpr (std::is_same_v<T, std::int64_t>) {
            const double* d = std::get_if<double>(&value_);
            if (d && std::abs(*d) >= 0x1p63 && std::nearbyint(*d) == *d) found = "an integer outside int64";
        }
        throw format_error("sinter: " + std::string(what) + ": expected " + std::string(expected) +
                           ", found " + found);
    }

    std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array, Object> value_;
};

struct JsonOptions {
    int max_depth = 128;  // arrays and objects nested deeper are refused (no stack exhaustion)
    // NaN, Infinity and -Infinity as numbers: what Python's json module writes for non-finite
    // floats (allow_nan is its default), and so what transformers may write into config.json and
    // tokenizer_config.json. Not JSON; off unless asked for (never for safetensors headers).
    bool python_nonfinite = false;
};

}  // namespace sinter::io

namespace sinter::detail {

class JsonParser {
public:
    using Json = io::Json;
    using JsonOptions = io::JsonOptions;

    JsonParser(std::string_view text, std::string_view source, JsonOptions options)
        : text_(text), source_(source), options_(options) {}

    Json parse_document() {
        skip_whitespace();
        Json v = parse_value(0);
        skip_whitespace();
        if (pos_ != text_.size()) fail("end of input after the top-level value");
        return v;
    }

private:
    [[noreturn]] void fail(std::string_view expected, std::size_t at) const {
        std::string msg = "sinter: ";
        if (!source_.empty()) msg += std::string(source_) + ": ";
        msg += "JSON error at byte " + std::to_string(at) + ": expected " + std::string(expected);
        if (at >= text_.size()) {
            msg += ", found end of input";
        } else {
            const auto c = static_cast<unsigned char>(text_[at]);
            char buf[16];
            if (c >= 0x20 && c < 0x7f)
                std::snprintf(buf, sizeof buf, "'%c'", c);
            else
                std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
            msg += std::string(", found ") + buf;
        }
        throw format_error(msg);
    }
    [[noreturn]] void fail(std::string_view expected) const { fail(expected, pos_); }

    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[pos_]; }

    void skip_whitespace() {
        while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
    }

    void expect_literal(std::string_view word) {
        for (char c : word) {
            if (peek() != c) fail("the literal '" + std::string(word) + "'");
            ++pos_;
        }
    }

    Json parse_value(int depth) {
        switch (peek()) {
            case '{': return parse_object(depth + 1);
            case '[': return parse_array(depth + 1);
            case '"': return Json(parse_string());
            case 't': expect_literal("true"); return Json(true);
            case 'f': expect_literal("false"); return Json(false);
            case 'n': expect_literal("null"); return Json();
            default:
                if (options_.python_nonfinite) {
                    if (peek() == 'N') return expect_literal("NaN"), Json(std::numeric_limits<double>::quiet_NaN());
                    if (peek() == 'I') return expect_literal("Infinity"), Json(std::numeric_limits<double>::infinity());
                    if (text_.substr(pos_, 2) == "-I")
                        return expect_literal("-Infinity"), Json(-std::numeric_limits<double>::infinity());
                }
                if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return parse_number();
                fail("a JSON value");
        }
    }

    void check_depth(int depth) const {
        if (depth > options_.max_depth) fail("nesting no deeper than " + std::to_string(options_.max_depth));
    }

    Json parse_array(int depth) {
        check_depth(depth);
        ++pos_;  // '['
        Json::Array items;
        skip_whitespace();
        if (peek() == ']') {
            ++pos_;
            return Json(std::move(items));
        }
        for (;;) {
            skip_whitespace();
            items.push_back(parse_value(depth));
            skip_whitespace();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == ']') {
                ++pos_;
                return Json(std::move(items));
            }
            fail("',' or ']' in an array");
        }
    }

    Json parse_object(int depth) {
        check_depth(depth);
        ++pos_;  // '{'
        Json::Object members;
        std::unordered_set<std::string> keys;  // duplicates: serde keeps the last, Python too
        skip_whitespace();
        if (peek() == '}') {
            ++pos_;
            return Json(std::move(members));
        }
        for (;;) {
            skip_whitespace();
            if (peek() != '"') fail("a string key in an object");
            const std::size_t key_at = pos_;
            std::string key = parse_string();
            if (!keys.insert(key).second) {
                std::size_t shown = std::min<std::size_t>(key.size(), 64);
                while (shown < key.size() && (static_cast<unsigned char>(key[shown]) & 0xC0) == 0x80) --shown;
                fail("a key not seen before in this object (\"" + key.substr(0, shown) +
                         (shown < key.size() ? "..." : "") + "\" repeats)",
                     key_at);
            }
            skip_whitespace();
            if (peek() != ':') fail("':' after an object key");
            ++pos_;
            skip_whitespace();
            Json v = parse_value(depth);
            members.emplace_back(std::move(key), std::move(v));
            skip_whitespace();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == '}') {
                ++pos_;
                return Json(std::move(members));
            }
            fail("',' or '}' in an object");
        }
    }

    unsigned hex4() {
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = peek();
            unsigned d;
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (c >= 'a' && c <= 'f')
                d = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F')
                d = c - 'A' + 10;
            else
                fail("4 hexadecimal digits after \\u");
            v = v * 16 + d;
            ++pos_;
        }
        return v;
    }

    static void append_utf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }

    // One UTF-8 sequence, validated: no overlong forms, no encoded surrogates, nothing past
    // U+10FFFF (the table of RFC 3629, section 4).
    void copy_utf8_sequence(std::string& out) {
        const std::size_t start = pos_;
        const auto b0 = static_cast<unsigned char>(text_[pos_]);
        int len;
        unsigned char lo = 0x80, hi = 0xbf;  // the range allowed for the second byte
        if (b0 >= 0xc2 && b0 <= 0xdf)
            len = 2;
        else if (b0 == 0xe0) {
            len = 3;
            lo = 0xa0;
        } else if (b0 == 0xed) {
            len = 3;
            hi = 0x9f;
        } else if (b0 >= 0xe1 && b0 <= 0xef)
            len = 3;
        else if (b0 == 0xf0) {
            len = 4;
            lo = 0x90;
        } else if (b0 == 0xf4) {
            len = 4;
            hi = 0x8f;
        } else if (b0 >= 0xf1 && b0 <= 0xf3)
            len = 4;
        else
            fail("valid UTF-8 (a lead byte)", start);
        for (int i = 1; i < len; ++i) {
            if (start + i >= text_.size()) fail("valid UTF-8 (a continuation byte)", start + i);
            const auto b = static_cast<unsigned char>(text_[start + i]);
            const unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xbf;
            if (b < l || b > h) fail("valid UTF-8 (a continuation byte)", start + i);
        }
        out.append(text_.substr(start, len));
        pos_ = start + len;
    }

    std::string parse_string() {
        ++pos_;  // opening quote
        std::string out;
        for (;;) {
            if (at_end()) fail("'\"' closing the string");
            const auto c = static_cast<unsigned char>(peek());
            if (c == '"') {
                ++pos_;
                return out;
            }
            if (c < 0x20) fail("a control character to be escaped in a string");
            if (c >= 0x80) {
                copy_utf8_sequence(out);
                continue;
            }
            if (c != '\\') {
                out += static_cast<char>(c);
                ++pos_;
                continue;
            }
            ++pos_;
            const char e = peek();
            ++pos_;
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    const std::size_t esc_at = pos_ - 2;
                    std::uint32_t cp = hex4();
                    if (cp >= 0xdc00 && cp <= 0xdfff) fail("no lone low surrogate", esc_at);
                    if (cp >= 0xd800 && cp <= 0xdbff) {
                        // A high surrogate must be followed by an escaped low one.
                        if (peek() != '\\' || pos_ + 1 >= text_.size() || text_[pos_ + 1] != 'u')
                            fail("a \\u low surrogate after a high surrogate");
                        pos_ += 2;
                        const std::uint32_t low = hex4();
                        if (low < 0xdc00 || low > 0xdfff)
                            fail("a low surrogate (DC00-DFFF) after a high surrogate", pos_ - 6);
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                    }
                    append_utf8(out, cp);
                    break;
                }
                default: fail("an escape: one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX", pos_ - 1);
            }
        }
    }

    static bool is_digit(char c) { return c >= '0' && c <= '9'; }

    Json parse_number() {
        const std::size_t start = pos_;
        if (peek() == '-') ++pos_;
        if (peek() == '0') {
            ++pos_;
            if (is_digit(peek())) fail("no leading zero in a number");
        } else if (is_digit(peek())) {
            while (is_digit(peek())) ++pos_;
        } else {
            fail("a digit in a number");
        }
        bool integral = true;
        if (peek() == '.') {
            integral = false;
            ++pos_;
            if (!is_digit(peek())) fail("a digit after the decimal point");
            while (is_digit(peek())) ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (!is_digit(peek())) fail("a digit in the exponent");
            while (is_digit(peek())) ++pos_;
        }
        const char* first = text_.data() + start;
        const char* last = text_.data() + pos_;
        if (integral) {
            std::int64_t i;
            const auto r = std::from_chars(first, last, i);
            if (r.ec == std::errc() && r.ptr == last) return Json(i);
            // Too large for int64: fall through to a double, as strtod would give.
        }
        double d;
        const auto r = std::from_chars(first, last, d);  // correctly rounded, locale-free
        if (r.ec == std::errc::result_out_of_range) {
            // from_chars reports both overflow and underflow; strtod gives 0 for underflow.
            if (magnitude_exponent(std::string_view(first, last - first)) < 0)
                return Json(*first == '-' ? -0.0 : 0.0);
            fail("a number within the range of a double", start);
        }
        if (r.ec != std::errc() || r.ptr != last) fail("a number", start);
        return Json(d);
    }

    // Decimal exponent of the first significant digit of a validated literal (negative when
    // |x| < 1), enough to tell underflow from overflow.
    static long long magnitude_exponent(std::string_view s) {
        std::size_t i = s[0] == '-' ? 1 : 0;
        long long int_digits = 0, lead_frac_zeros = 0;
        bool seen_nonzero = false;
        for (; i < s.size() && is_digit(s[i]); ++i)
            if (seen_nonzero || s[i] != '0') {
                seen_nonzero = true;
                ++int_digits;
            }
        if (i < s.size() && s[i] == '.')
            for (++i; i < s.size() && is_digit(s[i]); ++i)
                if (!seen_nonzero) {
                    if (s[i] == '0')
                        ++lead_frac_zeros;
                    else
                        seen_nonzero = true;
                }
        long long exp = 0;
        if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
            ++i;
            const bool neg = s[i] == '-';
            if (s[i] == '+' || s[i] == '-') ++i;
            for (; i < s.size(); ++i) exp = std::min(exp * 10 + (s[i] - '0'), 1'000'000'000LL);
            if (neg) exp = -exp;
        }
        return (int_digits > 0 ? int_digits - 1 : -lead_frac_zeros - 1) + exp;
    }

    std::string_view text_;
    std::string_view source_;
    JsonOptions options_;
    std::size_t pos_ = 0;
};

// The whole file as bytes; an `io_error` naming it when it cannot be read.
inline std::string read_file_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error("sinter: cannot open " + path.string());
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw io_error("sinter: cannot read " + path.string());
    return bytes;
}

}  // namespace sinter::detail

namespace sinter::io {

// Parses one JSON document. `source` (a file name) is put in error messages.
inline Json parse_json(std::string_view text, std::string_view source = {}, JsonOptions options = {}) {
    return sinter::detail::JsonParser(text, source, options).parse_document();
}

inline Json read_json_file(const std::filesystem::path& path, JsonOptions options = {}) {
    const std::string bytes = sinter::detail::read_file_bytes(path);
    return parse_json(bytes, path.string(), options);
}

}  // namespace sinter::io
