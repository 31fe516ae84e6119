// expect: hidden_size_must_be_a_multiple_of_heads
// No attention heads: the rule is named (not a division by zero in a constant expression).
#include <sinter/nn/bert/encoder.hpp>
constexpr sinter::bert::Config headless{2, 128, 0, 512, 1000, 128, 2, 1e-12f, sinter::bert::Activation::gelu};
constexpr auto size = sizeof(sinter::bert::Encoder<headless, float, sinter::host_space>);
