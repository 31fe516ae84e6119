#pragma once
// Reads the three normalisation options of a Hugging Face tokenizer_config.json: do_lower_case,
// strip_accents and tokenize_chinese_chars. transformers' BERT tokenizer lets these override the
// normaliser stored in tokenizer.json, so they are what decides the tokenization.
//
// A deliberately small reader (sinter::io has the general JSON parser): it walks the top-level
// object, skips every other value, and compares keys as written (no escape decoding: none of the
// three keys needs any). A missing key keeps Hugging Face's default (lowercase on, strip_accents
// unset, CJK spacing on).
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "sinter/core/error.hpp"
#include "sinter/text/normalizer.hpp"

namespace sinter::text {

namespace detail {

class ConfigScanner {
public:
    ConfigScanner(std::string_view json, std::string_view source) : s_(json), source_(source) {}

    NormalizerOptions read() {
        NormalizerOptions options;
        expect('{');
        if (peek() == '}') return options;
        for (;;) {
            const std::string_view key = string();
            expect(':');
            if (key == "do_lower_case") {
                options.lowercase = boolean(key);
            } else if (key == "tokenize_chinese_chars") {
                options.handle_chinese_chars = boolean(key);
            } else if (key == "strip_accents") {
                if (literal("null")) options.strip_accents.reset();
                else options.strip_accents = boolean(key);
            } else {
                skip_value();
            }
            if (peek() == '}') return options;
            expect(',');
        }
    }

private:
    [[noreturn]] void fail(std::string_view what) const {
        throw format_error(std::string(source_) + ": " + std::string(what) + " at byte " + std::to_string(pos_));
    }

    char peek() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
        if (pos_ == s_.size()) fail("unexpected end of JSON");
        return s_[pos_];
    }

    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }

    bool literal(std::string_view word) {
        peek();
        if (s_.substr(pos_, word.size()) != word) return false;
        pos_ += word.size();
        return true;
    }

    bool boolean(std::string_view key) {
        if (literal("true")) return true;
        if (literal("false")) return false;
        throw config_error(std::string(source_) + ": \"" + std::string(key) + "\" must be true or false" +
                           (key == "strip_accents" ? " or null" : ""));
    }

    std::string_view string() {
        expect('"');
        const std::size_t begin = pos_;
        while (pos_ < s_.size() && s_[pos_] != '"') pos_ += s_[pos_] == '\\' ? 2 : 1;
        if (pos_ >= s_.size()) fail("unterminated string");
        return s_.substr(begin, pos_++ - begin);
    }

    // Skips one value; nesting is tracked with a counter, so depth costs no stack.
    void skip_value() {
        std::size_t depth = 0;
        do {
            const char c = peek();
            if (c == '"') {
                string();
            } else if (c == '{' || c == '[') {
                ++depth;
                ++pos_;
            } else if (c == '}' || c == ']') {
                if (depth == 0) fail("unexpected bracket");
                --depth;
                ++pos_;
            } else if (c == ',' || c == ':') {
                if (depth == 0) fail("expected a value");
                ++pos_;
            } else {  // a number or a literal
                const std::size_t begin = pos_;
                while (pos_ < s_.size() && std::string_view(",:]} \t\r\n\"{[").find(s_[pos_]) == std::string_view::npos) ++pos_;
                if (pos_ == begin) fail("expected a value");
            }
        } while (depth > 0);
    }

    std::string_view s_, source_;
    std::size_t pos_ = 0;
};

}  // namespace detail

// The options from the text of a tokenizer_config.json; `source` names it in errors
// (format_error for broken JSON, config_error for an option of the wrong type).
inline NormalizerOptions parse_tokenizer_config(std::string_view json, std::string_view source = "tokenizer_config.json") {
    return detail::ConfigScanner(json, source).read();
}

inline NormalizerOptions read_tokenizer_config(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw io_error("cannot open " + file.string());
    std::ostringstream text;
    text << in.rdbuf();
    return parse_tokenizer_config(text.str(), file.string());
}

}  // namespace sinter::text
