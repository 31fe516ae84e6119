// expect: hidden_size_must_be_a_multiple_of_heads
// hidden 100 over 3 heads: the heads must split the hidden size evenly. Instantiating the Encoder
// class is enough for the rule to name itself.
#include <sinter/nn/bert/encoder.hpp>
constexpr sinter::bert::Config uneven{2, 100, 3, 512, 1000, 128, 2, 1e-12f, sinter::bert::Activation::gelu};
constexpr auto size = sizeof(sinter::bert::Encoder<uneven, float, sinter::host_space>);
