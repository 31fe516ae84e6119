#pragma once
// A random right-padded BERT batch for the tests: B sequences of at most S tokens, lengths uniform
// in [min_len, S], ids uniform in [0, vocab), token types 0 or 1; fresh each run (test::rng).
#include <vector>

#include "sinter/nn/bert/inputs.hpp"
#include "check.hpp"

namespace sinter::test {

struct RandomBatch {
    index_t B, S;
    std::vector<std::int32_t> ids, mask, types;
    RandomBatch(index_t batch, index_t length, index_t min_len, std::int32_t vocab) : B(batch), S(length) {
        auto& g = rng();
        std::uniform_int_distribution<index_t> len(min_len, S);
        for (index_t b = 0; b < B; ++b) {
            const index_t n = len(g);
            for (index_t s = 0; s < S; ++s) {
                ids.push_back(std::int32_t(g() % std::uint64_t(vocab)));
                types.push_back(std::int32_t(g() % 2));
                mask.push_back(s < n);
            }
        }
    }
    bert::Inputs inputs() const { return {B, S, ids, mask, types}; }
};

}  // namespace sinter::test
