#pragma once
// The golden checkpoints of tools/make_golden.py: their folder, and the inputs and Hugging Face
// outputs in their golden.safetensors.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "sinter/io/safetensors.hpp"
#include "sinter/nn/bert/inputs.hpp"

#ifndef SINTER_SOURCE_DIR
#define SINTER_SOURCE_DIR "."
#endif

namespace sinter::test {

inline std::filesystem::path golden(const std::string& model) {
    return std::filesystem::path(SINTER_SOURCE_DIR) / "tests" / "golden" / model;
}

inline std::vector<std::int32_t> read_ints(const io::SafetensorsFile& f, const char* name) {
    const auto bytes = f.read_bytes(f.at(name));
    std::vector<std::int32_t> v(bytes.size() / 4);
    std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
}

struct Golden {
    io::SafetensorsFile file;
    index_t B, S;
    std::vector<std::int32_t> ids, mask, types;

    explicit Golden(const std::string& model)
        : file(golden(model) / "golden.safetensors"), B(file.at("input_ids").shape[0]),
          S(file.at("input_ids").shape[1]), ids(read_ints(file, "input_ids")),
          mask(read_ints(file, "attention_mask")), types(read_ints(file, "token_type_ids")) {}
    bert::Inputs inputs() const { return {B, S, ids, mask, types}; }
};

// How far (B, H) sentence embeddings are from [CLS] pooling, L2-normalised, of (B, S, H) hidden
// states: the largest absolute difference.
inline double worst_from_normalised_cls(const std::vector<float>& embedding, const float* hidden, index_t B,
                                        index_t S, index_t H) {
    double worst = 0;
    for (index_t b = 0; b < B; ++b) {
        const float* first = hidden + b * S * H;  // position 0 of sequence b
        double norm = 0;
        for (index_t h = 0; h < H; ++h) norm += double(first[h]) * first[h];
        norm = std::sqrt(norm);
        for (index_t h = 0; h < H; ++h)
            worst = std::max(worst, std::abs(embedding[std::size_t(b * H + h)] - first[h] / norm));
    }
    return worst;
}

}  // namespace sinter::test
