#pragma once
// Reading the tokenizer golden files written by tools/make_tokenizer_golden.py (its docstring
// describes the format), and printing a mismatch readably. bench/bench_tokenizer.cpp reads its
// corpus through this too.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sinter/text/tokenizer.hpp"

#ifndef SINTER_SOURCE_DIR
#define SINTER_SOURCE_DIR "."
#endif

namespace golden {

// The source tree: $SINTER_SOURCE_DIR, else the build's SINTER_SOURCE_DIR, else ".".
inline std::string path(std::string_view name) {
    const char* env = std::getenv("SINTER_SOURCE_DIR");
    return std::string(env ? env : SINTER_SOURCE_DIR) + "/tests/golden/text/" + std::string(name);
}

inline std::vector<std::string> read_lines(std::string_view name) {
    std::ifstream in(path(name), std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path(name) + " (is SINTER_SOURCE_DIR right?)");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line[0] != '#') lines.push_back(std::move(line));
    }
    return lines;
}

inline std::vector<std::string_view> split(std::string_view line) {
    std::vector<std::string_view> fields;
    for (std::size_t begin = 0;;) {
        const auto tab = line.find('\t', begin);
        fields.push_back(line.substr(begin, tab - begin));
        if (tab == std::string_view::npos) return fields;
        begin = tab + 1;
    }
}

// \\, \t, \n, \r and \xHH; every other byte stands for itself.
inline std::string unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\') {
            out += s[i];
            continue;
        }
        const char c = s[++i];
        if (c == 't') out += '\t';
        else if (c == 'n') out += '\n';
        else if (c == 'r') out += '\r';
        else if (c == '\\') out += '\\';
        else if (c == 'x') {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            throw std::runtime_error("bad escape in golden file");
        }
    }
    return out;
}

// Three base-64 digits per id.
inline std::vector<std::int32_t> ids(std::string_view s) {
    constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (s.size() % 3) throw std::runtime_error("bad id field in golden file");
    std::vector<std::int32_t> out;
    for (std::size_t i = 0; i < s.size(); i += 3) {
        std::int32_t v = 0;
        for (std::size_t k = 0; k < 3; ++k) v = v * 64 + static_cast<std::int32_t>(alphabet.find(s[i + k]));
        out.push_back(v);
    }
    return out;
}

// Decimal ids separated by spaces.
inline std::vector<std::int32_t> decimal_ids(std::string_view s) {
    std::vector<std::int32_t> out;
    std::int32_t v = 0;
    bool in_number = false;
    for (const char c : s) {
        if (c == ' ') {
            if (in_number) out.push_back(v);
            v = 0, in_number = false;
        } else {
            v = v * 10 + (c - '0'), in_number = true;
        }
    }
    if (in_number) out.push_back(v);
    return out;
}

inline std::vector<std::int32_t> bits(std::string_view s) {
    std::vector<std::int32_t> out;
    for (const char c : s) out.push_back(c - '0');
    return out;
}

// The text with its non-printable bytes escaped, for messages.
inline std::string printable(std::string_view s) {
    std::string out;
    for (const char c : s) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", b);
            out += buf;
        } else {
            out += c;
        }
    }
    return out;
}

inline std::string show(const sinter::text::Vocab& vocab, const std::vector<std::int32_t>& ids) {
    std::ostringstream s;
    s << "[";
    for (std::size_t i = 0; i < ids.size(); ++i) {
        s << (i ? " " : "") << ids[i];
        if (ids[i] >= 0 && static_cast<std::size_t>(ids[i]) < vocab.size()) s << ":" << printable(vocab.token(ids[i]));
    }
    return s.str() + "]";
}

// A temporary checkpoint folder: the golden's files under `dir` (if it exists), plus
// bert-base-uncased's vocab.txt, as the golden's folders are read by transformers. Removed when
// it goes; named apart per process, as a test and its sanitized build may run at once.
class Folder {
public:
    explicit Folder(const std::string& dir) {
        std::string name = "sinter_test_" + dir + "_" + std::to_string(std::random_device{}());
        std::replace(name.begin(), name.end(), '/', '_');
        path_ = std::filesystem::temp_directory_path() / name;
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
        if (std::filesystem::exists(golden::path(dir)))
            std::filesystem::copy(golden::path(dir), path_, std::filesystem::copy_options::recursive);
        std::filesystem::copy_file(golden::path("vocab.txt"), path_ / "vocab.txt");
    }
    Folder(const Folder&) = delete;
    Folder& operator=(const Folder&) = delete;
    ~Folder() { std::filesystem::remove_all(path_); }

    const std::filesystem::path& dir() const noexcept { return path_; }
    void write(const std::string& file, const std::string& text) const { std::ofstream(path_ / file) << text; }

private:
    std::filesystem::path path_;
};

inline const sinter::text::Vocab& vocab() {
    static const auto v = sinter::text::Vocab::load(path("vocab.txt"));
    return v;
}

// The option sets of the golden file, by letter.
inline sinter::text::Tokenizer tokenizer(char config,
                                         sinter::text::InvalidUtf8 utf8 = sinter::text::InvalidUtf8::reject) {
    sinter::text::NormalizerOptions n;  // U: bert-base-uncased's defaults
    switch (config) {
        case 'U': break;
        case 'C': n.lowercase = false, n.strip_accents = false; break;
        case 'L': n.strip_accents = false; break;
        case 'S': n.lowercase = false, n.strip_accents = true; break;
        case 'N': n.handle_chinese_chars = false; break;
        default: throw std::runtime_error(std::string("unknown golden config ") + config);
    }
    return sinter::text::Tokenizer(vocab(), {.normalizer = n, .invalid_utf8 = utf8});
}

}  // namespace golden
