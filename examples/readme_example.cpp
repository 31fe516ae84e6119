#include <cstdio>

#include <sinter/sinter.hpp>

int main() {
    using namespace sinter;
    // Four tokens of a hidden size known at compile time; the token count is a run-time value.
    Tensor<float, Shape<dyn, 8>> x(4), residual(4), y(4);
    Tensor<half, Shape<8>> gamma{Shape<8>{}}, beta{Shape<8>{}};
    for (index_t i = 0; i < x.size(); ++i) {
        x.data()[i] = 0.1f * float(i % 8) - 0.3f;
        residual.data()[i] = 0.05f * float(i % 5);
    }
    for (index_t j = 0; j < 8; ++j) {
        gamma(j) = from_float<half>(1.f);
        beta(j) = from_float<half>(0.f);
    }
    // One fused pass: residual add, then LayerNorm over each row (f32 statistics).
    eval(y, layer_norm(x + residual, gamma, beta, 1e-12f), host);
    for (index_t j = 0; j < 8; ++j) std::printf("%+.4f ", y(0, j));
    std::printf("\n");
}
