#pragma once
// Padding removed once, before the first layer: the tokens whose mask is 1, laid end to end, with
// their original positions (so positions stay 0..S-1 as in Hugging Face) and the prefix offsets of
// each sequence. No layer computes on padding; outputs are scattered back at the end.
#include <cstdint>
#include <vector>

#include "inputs.hpp"

namespace sinter::bert {

struct Packed {
    index_t tokens = 0;                   // T
    std::vector<std::int32_t> ids;        // (T)
    std::vector<std::int32_t> types;      // (T)
    std::vector<std::int32_t> positions;  // (T)
    std::vector<std::int32_t> source;     // (T): b * S + s of each token
    std::vector<std::int32_t> offsets;    // (B + 1): sequence b is tokens offsets[b] .. offsets[b+1]-1
};

inline Packed pack(const Inputs& in) {
    Packed p;
    p.offsets.reserve(std::size_t(in.batch + 1));
    p.offsets.push_back(0);
    for (index_t b = 0; b < in.batch; ++b) {
        for (index_t s = 0; s < in.length; ++s) {
            const std::size_t i = std::size_t(b * in.length + s);
            if (!in.attention_mask.empty() && in.attention_mask[i] == 0) continue;
            p.ids.push_back(in.input_ids[i]);
            p.types.push_back(in.token_type_ids.empty() ? 0 : in.token_type_ids[i]);
            p.positions.push_back(std::int32_t(s));
            p.source.push_back(std::int32_t(i));
        }
        p.offsets.push_back(std::int32_t(p.ids.size()));
    }
    p.tokens = index_t(p.ids.size());
    return p;
}

}  // namespace sinter::bert
