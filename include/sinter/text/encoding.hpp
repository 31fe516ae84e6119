#pragma once
// What the tokenizer hands to a model: one Encoding per text (or text pair), or a BatchEncoding
// whose (B, S) arrays are laid out row-major, ready to copy into the encoder's int32 tensors.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "sinter/core/config.hpp"

namespace sinter::text {

struct EncodeOptions {
    // Truncate to at most this many tokens, special tokens included; 0: no truncation. Pairs are
    // truncated "longest_first" (see truncate_longest_first).
    std::size_t max_length = 0;
    // Pad to max_length instead of to the longest sequence of the batch (or not at all, for
    // encode); needs max_length.
    bool pad_to_max_length = false;
    // [CLS] A [SEP] (B [SEP]) around the text; off, only the word pieces.
    bool add_special_tokens = true;
};

struct Encoding {
    std::vector<std::int32_t> ids;
    std::vector<std::int32_t> type_ids;        // 0 for [CLS] A [SEP], 1 for B [SEP]; 0 for padding
    std::vector<std::int32_t> attention_mask;  // 1 for a token, 0 for padding

    std::size_t size() const noexcept { return ids.size(); }
};

struct BatchEncoding {
    index_t batch = 0;   // B
    index_t length = 0;  // S: the longest sequence, or max_length when padding to it
    std::vector<std::int32_t> ids;             // (B, S), padded with [PAD] on the right
    std::vector<std::int32_t> type_ids;        // (B, S)
    std::vector<std::int32_t> attention_mask;  // (B, S)
    std::vector<std::int32_t> lengths;         // (B): the number of tokens of each row, padding excluded

    std::span<const std::int32_t> row_ids(index_t b) const { return row(ids, b); }
    std::span<const std::int32_t> row_type_ids(index_t b) const { return row(type_ids, b); }
    std::span<const std::int32_t> row_attention_mask(index_t b) const { return row(attention_mask, b); }

private:
    std::span<const std::int32_t> row(const std::vector<std::int32_t>& v, index_t b) const {
        return std::span<const std::int32_t>(v).subspan(static_cast<std::size_t>(b * length),
                                                        static_cast<std::size_t>(length));
    }
};

// The lengths a pair (na, nb) keeps under tokenizers' "longest_first" truncation to `budget`
// tokens (max_length minus the special tokens): if the pair is over, the shorter sequence keeps
// its n1 tokens and the longer gets max(n1, budget - n1); if that is still over, the shorter gets
// budget / 2 and the longer the rest (on equal lengths, the first sequence counts as the shorter).
// Rule from tokenizers' utils/truncation.rs (TruncationStrategy::LongestFirst), checked against it.
constexpr std::pair<std::size_t, std::size_t> truncate_longest_first(std::size_t na, std::size_t nb,
                                                                     std::size_t budget) noexcept {
    if (na + nb <= budget) return {na, nb};
    const bool swapped = na > nb;
    std::size_t n1 = swapped ? nb : na, n2 = swapped ? na : nb;
    n2 = n1 > budget ? n1 : std::max(n1, budget - n1);
    if (n1 + n2 > budget) {
        n1 = budget / 2;
        n2 = n1 + budget % 2;
    }
    if (swapped) std::swap(n1, n2);
    return {std::min(na, n1), std::min(nb, n2)};
}

namespace detail {

struct SpecialIds {
    std::int32_t cls, sep, pad;
};

// Writes one row of `length` entries (length >= the tokens written): [CLS] a [SEP] (b [SEP]) with
// b's part of type 1 (tokenizers' BERT TemplateProcessing), then [PAD] of type 0 and mask 0.
inline void write_row(std::span<const std::int32_t> a, const std::span<const std::int32_t>* b, const EncodeOptions& o,
                      const SpecialIds& special, std::int32_t* ids, std::int32_t* types, std::int32_t* mask,
                      std::size_t length) {
    std::size_t i = 0;
    const auto put = [&](std::int32_t id, std::int32_t type) {
        ids[i] = id;
        types[i] = type;
        mask[i] = 1;
        ++i;
    };
    if (o.add_special_tokens) put(special.cls, 0);
    for (const auto id : a) put(id, 0);
    if (o.add_special_tokens) put(special.sep, 0);
    if (b) {
        for (const auto id : *b) put(id, 1);
        if (o.add_special_tokens) put(special.sep, 1);
    }
    std::fill(ids + i, ids + length, special.pad);
    std::fill(types + i, types + length, 0);
    std::fill(mask + i, mask + length, 0);
}

}  // namespace detail

}  // namespace sinter::text
