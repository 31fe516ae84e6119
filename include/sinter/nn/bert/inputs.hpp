#pragma once
// What a forward takes: B sequences of S tokens, row-major (B, S) int32 arrays on the host, right
// padded (a sequence whose first position is masked, left padding, is refused: the pooler reads
// position 0, which sinter does not compute for padding; masked positions after the first token
// are fine). Checked on the host before anything is launched: an out-of-range gather on a device
// would poison the CUDA context.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "../../core/config.hpp"
#include "../../core/error.hpp"
#include "config.hpp"

namespace sinter::bert {

struct Inputs {
    index_t batch = 0;                         // B
    index_t length = 0;                        // S
    std::span<const std::int32_t> input_ids;   // (B, S)
    std::span<const std::int32_t> attention_mask;  // (B, S), 1 = token; empty: all ones
    std::span<const std::int32_t> token_type_ids;  // (B, S); empty: all zeros
    // Tokens at the start of every sequence that a prompt put there: [CLS] and the prompt's
    // pieces (sentence-transformers' prompt_length: the prompt tokenized alone, less its [SEP]).
    // The sentence embedding leaves them out when the model's Pooling module says include_prompt
    // false, and ignores this otherwise; nothing else reads it.
    index_t prompt_length = 0;

    // B or S of 0: the forward's result is empty (every output vector) and nothing is computed.
    bool empty() const { return batch == 0 || length == 0; }
};

// Throws shape_error or value_error naming the array, the position and the limit.
inline void check_inputs(const Inputs& in, const Config& c) {
    if (in.batch < 0 || in.length < 0)
        throw value_error("bert inputs: batch " + std::to_string(in.batch) + " and sequence length " +
                          std::to_string(in.length) + " must be >= 0");
    if (in.prompt_length < 0)
        throw value_error("bert inputs: prompt_length " + std::to_string(in.prompt_length) + " must be >= 0");
    if (in.length > c.max_positions)
        throw value_error("bert inputs: sequence length " + std::to_string(in.length) +
                          " is longer than the model's max_positions " + std::to_string(c.max_positions));
    if (in.batch > 0 && in.length > index_t(INT32_MAX) / in.batch)  // token indices are int32
        throw value_error("bert inputs: (B, S) = (" + std::to_string(in.batch) + ", " + std::to_string(in.length) +
                          ") is more than 2^31 - 1 tokens");
    const auto n = std::size_t(in.batch * in.length);
    const auto check = [&](std::span<const std::int32_t> v, const char* what, bool optional, std::int32_t limit) {
        if (optional && v.empty()) return;
        if (v.size() != n)
            throw shape_error(std::string("bert inputs: ") + what + " has " + std::to_string(v.size()) +
                              " values, but (B, S) = (" + std::to_string(in.batch) + ", " +
                              std::to_string(in.length) + ") needs " + std::to_string(n));
        for (std::size_t i = 0; i < n; ++i)
            if (v[i] < 0 || v[i] >= limit)
                throw value_error(std::string("bert inputs: ") + what + " " + std::to_string(v[i]) + " at (" +
                                  std::to_string(i / std::size_t(in.length)) + ", " +
                                  std::to_string(i % std::size_t(in.length)) + ") is outside [0, " +
                                  std::to_string(limit) + ")");
    };
    check(in.input_ids, "input_ids", false, c.vocab);
    check(in.attention_mask, "attention_mask", true, 2);
    check(in.token_type_ids, "token_type_ids", true, c.type_vocab);
    if (in.attention_mask.empty()) return;
    for (index_t b = 0; b < in.batch; ++b) {
        const auto row = in.attention_mask.subspan(std::size_t(b * in.length), std::size_t(in.length));
        if (row.empty() || row[0] != 0) continue;
        for (index_t s = 1; s < in.length; ++s)
            if (row[std::size_t(s)] != 0)
                throw value_error("bert inputs: attention_mask row " + std::to_string(b) +
                                  " is left padded (0 at position 0, a token at " + std::to_string(s) +
                                  "): sinter takes right-padded sequences (Hugging Face's padding_side "
                                  "'right', BERT's default), as the pooler reads position 0");
    }
}

// Host results of a forward, in f32. B or S of 0 gives an empty result: every vector empty.
struct Outputs {
    index_t batch = 0, length = 0, hidden = 0, labels = 0;
    std::vector<float> last_hidden_state;   // (B, S, H)
    std::vector<float> pooled;              // (B, H)
    std::vector<float> logits;              // (B, labels); empty without a classifier
    std::vector<float> sentence_embedding;  // (B, H): pooled and normalised as the folder's modules.json says
                                            // (io::read_sentence_embedding; default: mean, L2-normalised)
};

}  // namespace sinter::bert
