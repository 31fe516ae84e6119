#pragma once
// A WordPiece vocabulary: `vocab.txt`, one token per line, line i (from 0) is token id i.
//
// Read as tokenizers' WordPiece::read_file reads it: lines end at "\n" (a "\r" before it goes
// too), and trailing White_Space is trimmed from each line (Rust's str::trim_end). Unlike
// tokenizers, which keeps the last of two equal lines silently, a repeated token is an error, as
// is invalid UTF-8: both mean the file is not the vocabulary the model was trained with.
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sinter/core/error.hpp"
#include "sinter/text/unicode.hpp"
#include "sinter/text/utf8.hpp"

namespace sinter::text {

class Vocab {
public:
    Vocab() : data_(std::make_shared<Data>()) {}

    // Reads a vocab.txt file: io_error if it cannot be read, format_error (naming the file and
    // line) for invalid UTF-8 or a repeated token.
    static Vocab load(const std::filesystem::path& file) {
        std::ifstream in(file, std::ios::binary);
        if (!in) throw io_error("cannot open vocabulary " + file.string() + ": " + std::strerror(errno));
        std::ostringstream contents;
        contents << in.rdbuf();
        if (in.bad()) throw io_error("cannot read vocabulary " + file.string());
        return parse(contents.str(), file.string());
    }

    // Parses the contents of a vocab.txt; `source` names it in error messages.
    static Vocab parse(std::string_view contents, std::string source = "vocabulary") {
        std::vector<std::string> tokens;
        std::size_t line_begin = 0;
        while (line_begin < contents.size()) {
            auto line_end = contents.find('\n', line_begin);
            if (line_end == std::string_view::npos) line_end = contents.size();
            const auto line = contents.substr(line_begin, line_end - line_begin);
            if (const auto bad = find_invalid_utf8(line); bad != std::string_view::npos)
                throw format_error(source + " line " + std::to_string(tokens.size() + 1) +
                                   ": invalid UTF-8 at byte " + std::to_string(bad) + " of the line (" +
                                   detail::hex_byte(static_cast<unsigned char>(line[bad])) + ")");
            tokens.emplace_back(trim_end(line));
            line_begin = line_end + 1;
        }
        return Vocab(std::move(tokens), std::move(source));
    }

    // A vocabulary from its tokens (token i has id i); format_error on a repeated token.
    Vocab(std::vector<std::string> tokens, std::string source = "vocabulary")
        : data_(std::make_shared<Data>()) {
        if (tokens.size() > static_cast<std::size_t>(INT32_MAX))
            throw format_error(source + ": more tokens than int32 ids can number");
        auto& d = *data_;
        d.tokens = std::move(tokens);
        d.source = std::move(source);
        d.ids.reserve(d.tokens.size());
        for (std::size_t i = 0; i < d.tokens.size(); ++i) {
            const auto [it, inserted] = d.ids.emplace(d.tokens[i], static_cast<std::int32_t>(i));
            if (!inserted)
                throw format_error(d.source + " line " + std::to_string(i + 1) + ": token \"" + d.tokens[i] +
                                   "\" repeats line " + std::to_string(it->second + 1) +
                                   "; every token must appear once");
        }
    }

    std::size_t size() const noexcept { return data_->tokens.size(); }
    const std::string& source() const noexcept { return data_->source; }

    std::optional<std::int32_t> find(std::string_view token) const {
        const auto it = data_->ids.find(token);
        if (it == data_->ids.end()) return std::nullopt;
        return it->second;
    }

    // The token of an id; value_error if the id is out of range.
    const std::string& token(std::int32_t id) const {
        if (id < 0 || static_cast<std::size_t>(id) >= size())
            throw value_error("token id " + std::to_string(id) + " is outside " + data_->source + " (" +
                              std::to_string(size()) + " tokens)");
        return data_->tokens[static_cast<std::size_t>(id)];
    }

    const std::vector<std::string>& tokens() const noexcept { return data_->tokens; }

private:
    // Immutable once built and shared by copies; the map's keys view the strings in `tokens`.
    struct Data {
        std::vector<std::string> tokens;
        std::unordered_map<std::string_view, std::int32_t> ids;
        std::string source;
    };

    // Drops trailing White_Space (the line is valid UTF-8).
    static std::string_view trim_end(std::string_view line) {
        const auto* p = reinterpret_cast<const unsigned char*>(line.data());
        const auto* end = p + line.size();
        std::size_t keep = 0;
        char32_t cp = 0;
        for (const auto* q = p; q < end;) {
            const int n = detail::decode_utf8(q, end, cp);
            q += n;
            if (!detail::is_white_space(cp)) keep = static_cast<std::size_t>(q - p);
        }
        return line.substr(0, keep);
    }

    std::shared_ptr<Data> data_;
};

}  // namespace sinter::text
