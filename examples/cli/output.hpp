#pragma once
// What `sinter` writes: JSON lines (floats in their shortest exact form), float32 .npy files, and
// the cosine similarity matrix as a table.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sinter/core/error.hpp"
#include "sinter/io/sentence_transformers_config.hpp"

namespace sinter::cli {

// The shortest text that reads back as exactly v (JSON has no NaN or infinity: they become null).
inline void append_json(std::string& out, float v) {
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    char buf[32];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

inline void append_json(std::string& out, std::int32_t v) {
    char buf[16];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// s as a JSON string: quotes and backslashes escaped, control characters as \u00XX; UTF-8 as is.
inline void append_json(std::string& out, std::string_view s) {
    out += '"';
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    out += '"';
}

// [project(v0),project(v1),...], each written by append_json.
template <class T, class Project = std::identity>
void append_array(std::string& out, std::span<const T> values, Project project = {}) {
    out += '[';
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        append_json(out, project(values[i]));
    }
    out += ']';
}

// A little-endian float32 (rows, cols) array in NumPy's .npy format, version 1.0: magic, header
// length, a Python dict literal padded with spaces so the data starts on a 64-byte boundary.
inline void write_npy(const std::filesystem::path& path, std::span<const float> data, std::size_t rows,
                      std::size_t cols) {
    static_assert(std::endian::native == std::endian::little, "the .npy writer assumes a little-endian host");
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                         std::to_string(cols) + "), }";
    const std::size_t unpadded = 10 + header.size() + 1;  // magic 6, version 2, length 2, '\n'
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw io_error("cannot write " + path.string());
    const unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                      static_cast<unsigned char>(header.size() & 0xff),
                                      static_cast<unsigned char>(header.size() >> 8)};
    f.write(reinterpret_cast<const char*>(prefix), sizeof prefix);
    f << header;
    f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size_bytes()));
    if (!f.flush()) throw io_error("cannot write " + path.string());
}

// At most `width` bytes of s, cut before a UTF-8 continuation byte, with "..." when cut.
inline std::string clip(std::string_view s, std::size_t width) {
    if (s.size() <= width) return std::string(s);
    std::size_t n = width - 3;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return std::string(s.substr(0, n)) + "...";
}

// The similarity of every pair of rows of `embedding` (rows x hidden), as sentence-transformers
// computes it (cosine, dot, or the negative euclidean or manhattan distance), as a table whose rows
// end with the line they belong to.
inline std::string similarity_table(std::span<const float> embedding, std::size_t rows, std::size_t hidden,
                                    const std::vector<std::string>& lines,
                                    io::Similarity similarity = io::Similarity::cosine) {
    const auto row = [&](std::size_t r) { return embedding.subspan(r * hidden, hidden); };
    std::vector<double> norm(rows);
    for (std::size_t r = 0; r < rows; ++r) {
        double s = 0;
        for (const float x : row(r)) s += double(x) * x;
        norm[r] = std::max(std::sqrt(s), 1e-12);  // cos_sim's normalize_embeddings
    }
    const auto score = [&](std::size_t r, std::size_t c) {
        double s = 0;
        const auto a = row(r), b = row(c);
        for (std::size_t h = 0; h < hidden; ++h) {
            const double d = double(a[h]) - b[h];
            switch (similarity) {
                case io::Similarity::cosine:
                case io::Similarity::dot: s += double(a[h]) * b[h]; break;
                case io::Similarity::euclidean: s += d * d; break;
                case io::Similarity::manhattan: s += std::abs(d); break;
            }
        }
        switch (similarity) {
            case io::Similarity::cosine: return s / (norm[r] * norm[c]);
            case io::Similarity::dot: return s;
            case io::Similarity::euclidean: return -std::sqrt(s);
            case io::Similarity::manhattan: return -s;
        }
        return s;
    };
    const int index_width = int(std::to_string(rows == 0 ? 0 : rows - 1).size());
    std::string out(std::size_t(index_width), ' ');
    char buf[32];
    for (std::size_t c = 0; c < rows; ++c) {
        std::snprintf(buf, sizeof buf, " %6zu", c);
        out += buf;
    }
    out += '\n';
    for (std::size_t r = 0; r < rows; ++r) {
        std::snprintf(buf, sizeof buf, "%*zu", index_width, r);
        out += buf;
        for (std::size_t c = 0; c < rows; ++c) {
            std::snprintf(buf, sizeof buf, " %6.3f", score(r, c));
            out += buf;
        }
        out += "  ";
        out += clip(lines[r], 60);
        out += '\n';
    }
    return out;
}

}  // namespace sinter::cli
