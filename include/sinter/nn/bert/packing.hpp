#pragma once
// Padding removed once, before the first layer: the tokens whose mask is 1, laid end to end, with
// their original positions (so positions stay 0..S-1 as in Hugging Face) and the prefix offsets of
// each sequence. No layer computes on padding; outputs are scattered back at the end.
//
// On the GPU a forward then runs at a launch shape: batch, longest sequence and token count rounded
// up, so that batches of similar size share one CUDA graph and one set of GEMM plans.
#include <algorithm>
#include <compare>
#include <cstdint>
#include <span>
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

// n rounded up to a multiple of max(min_step, 2^(floor(log2 n) - 4)): at most 1/16 more (3% on
// average), 16 sizes per octave. 0 stays 0.
constexpr index_t round_up_geometric(index_t n, index_t min_step) {
    if (n <= 0) return 0;
    index_t step = min_step;
    while (step * 32 <= n) step *= 2;
    return (n + step - 1) / step * step;
}

// The shape a forward is computed at on the GPU, and the key of its CUDA graph. The tokens past
// Packed::tokens belong to no sequence and the sequences past the batch are empty: every GEMM and
// LayerNorm computes them (rows are independent), attention skips them, no output reads them.
struct LaunchShape {
    index_t batch = 0;   // B' >= B: sequences, the extra ones empty
    index_t length = 0;  // S' >= the longest sequence: the attention grid
    index_t tokens = 0;  // T' >= T: the rows of every GEMM; row T' of the hidden state is zeros

    friend auto operator<=>(const LaunchShape&, const LaunchShape&) = default;

    // The forward's int32 inputs, one buffer copied to the device at once:
    // ids (T') | token types (T') | positions (T') | offsets (B' + 1) | first rows (B').
    index_t ids_at() const { return 0; }
    index_t types_at() const { return tokens; }
    index_t positions_at() const { return 2 * tokens; }
    index_t offsets_at() const { return 3 * tokens; }
    index_t first_rows_at() const { return 3 * tokens + batch + 1; }
    index_t input_count() const { return 3 * tokens + 2 * batch + 1; }
};

// The launch shape of B packed sequences. Rounded (the default): batch to a multiple of 8 and
// geometrically, the longest sequence to the attention kernel's 64-query tile, tokens
// geometrically in steps of at least 16; never past max_batch and max_tokens. Exact: B, the
// longest sequence and T.
inline LaunchShape launch_shape(const Packed& p, index_t batch, bool rounded, index_t max_tokens, index_t max_batch) {
    index_t longest = 0;
    for (std::size_t b = 0; b + 1 < p.offsets.size(); ++b)
        longest = std::max<index_t>(longest, p.offsets[b + 1] - p.offsets[b]);
    if (!rounded) return {batch, longest, p.tokens};
    return {std::min(round_up_geometric(batch, 8), std::max(max_batch, batch)), (longest + 63) / 64 * 64,
            std::min(round_up_geometric(p.tokens, 16), std::max(max_tokens, p.tokens))};
}

// Writes the int32 inputs of p at `shape` into dst (shape.input_count() values; see LaunchShape).
// The extra tokens are id 0, type 0, position 0 (valid for every model); the extra sequences are
// empty; an empty sequence's first row is the zero row T'.
inline void stage_inputs(const Packed& p, const LaunchShape& shape, std::span<std::int32_t> dst) {
    if (dst.size() < std::size_t(shape.input_count()) || shape.tokens < p.tokens ||
        shape.batch + 1 < index_t(p.offsets.size()))
        throw value_error("bert::stage_inputs: launch shape (" + std::to_string(shape.batch) + ", " +
                          std::to_string(shape.tokens) + ") smaller than the packed inputs (" +
                          std::to_string(index_t(p.offsets.size()) - 1) + ", " + std::to_string(p.tokens) +
                          ") or its buffer of " + std::to_string(dst.size()));
    const auto fill = [&](const std::vector<std::int32_t>& v, index_t at) {
        std::copy(v.begin(), v.end(), dst.begin() + at);
        std::fill(dst.begin() + at + index_t(v.size()), dst.begin() + at + shape.tokens, 0);
    };
    fill(p.ids, shape.ids_at());
    fill(p.types, shape.types_at());
    fill(p.positions, shape.positions_at());
    const index_t B = index_t(p.offsets.size()) - 1;
    const auto row = [&](index_t b) { return p.offsets[std::size_t(std::min(b, B))]; };
    for (index_t b = 0; b <= shape.batch; ++b) dst[std::size_t(shape.offsets_at() + b)] = row(b);
    for (index_t b = 0; b < shape.batch; ++b)
        dst[std::size_t(shape.first_rows_at() + b)] = row(b) < row(b + 1) ? row(b) : std::int32_t(shape.tokens);
}

}  // namespace sinter::bert
