#pragma once
// The real model's folder and its committed goldens (tools/make_minilm_golden.py), shared by the
// model test and the CLI test.
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sinter/io/safetensors.hpp"

namespace sinter::test {

// SINTER_MINILM_DIR (CTest sets it), else the folder tools/fetch_model.sh fills by default.
inline std::filesystem::path minilm_dir() {
    if (const char* d = std::getenv("SINTER_MINILM_DIR"); d && *d) return d;
    if (const char* c = std::getenv("SINTER_MODEL_CACHE"); c && *c)
        return std::filesystem::path(c) / "all-MiniLM-L6-v2";
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home ? home : ".") / ".cache/sinter/models/all-MiniLM-L6-v2";
}

// Fails (never skips: a test that cannot see the model has proved nothing) when the folder is
// missing, saying how to get it.
inline std::filesystem::path require_minilm() {
    const auto dir = minilm_dir();
    const bool present =
        std::filesystem::exists(dir / "model.safetensors") && std::filesystem::exists(dir / "vocab.txt");
    INFO("all-MiniLM-L6-v2 is not in " << dir.string() << ": run tools/fetch_model.sh " << dir.string()
                                       << " (CI does), or point SINTER_MINILM_DIR at the folder");
    REQUIRE(present);
    return dir;
}

inline std::filesystem::path minilm_golden_dir() {
    return std::filesystem::path(SINTER_SOURCE_DIR) / "tests" / "golden" / "minilm";
}

inline std::vector<std::string> minilm_sentences() {
    std::ifstream in(minilm_golden_dir() / "sentences.txt", std::ios::binary);
    REQUIRE(in.good());
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// sentence-transformers' (N, S) tokenizer output and (N, 384) embeddings.
struct MinilmGolden {
    io::SafetensorsFile file{minilm_golden_dir() / "golden.safetensors"};
    index_t batch = file.at("input_ids").shape[0];
    index_t length = file.at("input_ids").shape[1];
    std::vector<std::int32_t> ids = ints("input_ids");
    std::vector<std::int32_t> mask = ints("attention_mask");
    std::vector<std::int32_t> types = ints("token_type_ids");
    std::vector<float> embedding = file.read<float>("sentence_embedding");

    std::vector<std::int32_t> ints(const char* name) const {
        const auto bytes = file.read_bytes(file.at(name));
        std::vector<std::int32_t> v(bytes.size() / 4);
        std::memcpy(v.data(), bytes.data(), bytes.size());
        return v;
    }
};

// Cosine similarity of two vectors, in f64.
inline double cosine(const float* a, const float* b, index_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (index_t i = 0; i < n; ++i) {
        ab += double(a[i]) * b[i];
        aa += double(a[i]) * a[i];
        bb += double(b[i]) * b[i];
    }
    return ab / std::sqrt(aa * bb);
}

}  // namespace sinter::test
