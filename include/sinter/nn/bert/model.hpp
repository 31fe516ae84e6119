#pragma once
// Compile-time facts about a model: its static shapes and the rules a config must satisfy.
#include "../../core/diag.hpp"
#include "../../core/shape.hpp"
#include "config.hpp"

namespace sinter::diag {
struct attention_head_size_must_be_32_64_or_128 {};
struct hidden_size_must_be_a_multiple_of_heads {};
}  // namespace sinter::diag

namespace sinter::bert {

template <int HD>
struct HeadSize {};

// The static shapes of model C, and its checks. Instantiating it with an unsupported config fails
// to compile naming the rule: e.g. check<attention_head_size_must_be_32_64_or_128, HeadSize<48>, ...>.
template <Config C>
struct Model {
    static constexpr Config config = C;
    static constexpr index_t L = C.layers, H = C.hidden, NH = C.heads, HD = C.heads > 0 ? C.hidden / C.heads : 0,
                             I = C.intermediate, V = C.vocab, P = C.max_positions, TV = C.type_vocab;
    static_assert(diag::check<diag::hidden_size_must_be_a_multiple_of_heads, Shape<H>, Shape<NH>,
                              (C.heads > 0 && C.hidden % C.heads == 0)>::value);
    static_assert(diag::check<diag::attention_head_size_must_be_32_64_or_128, HeadSize<int(HD)>, Shape<H, NH>,
                              (HD == 32 || HD == 64 || HD == 128)>::value);
    static_assert(C.layers > 0 && C.intermediate > 0 && C.vocab > 0 && C.max_positions > 0 && C.type_vocab > 0,
                  "bert::Config: every dimension must be positive");

    using Hidden = Shape<dyn, H>;         // (T, H)
    using Packed = Shape<dyn, 3 * H>;     // (T, 3H): Q | K | V
    using Inner = Shape<dyn, I>;          // (T, I)
};

}  // namespace sinter::bert
