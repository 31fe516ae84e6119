// expect: attention_head_size_must_be_32_64_or_128
// A model with 6 heads of 48 (hidden 288): the fused attention supports head sizes 32, 64, 128.
#include <sinter/nn/bert/encoder.hpp>
constexpr sinter::bert::Config odd{2, 288, 6, 512, 1000, 128, 2, 1e-12f, sinter::bert::Activation::gelu};
sinter::bert::Encoder<odd, float, sinter::host_space>* p = nullptr;
int f() { return int(sinter::bert::Encoder<odd, float, sinter::host_space>::model::HD); }
