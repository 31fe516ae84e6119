// A program a sinter user writes: an expression evaluated on the host, checked against a loop.
#include <cmath>
#include <cstdio>

#include <sinter/sinter.hpp>

int main() {
    using namespace sinter;
    Tensor<float, Shape<dyn, 4>> x(3), y(3);
    Tensor<half, Shape<4>> bias{Shape<4>{}};
    for (int i = 0; i < 12; ++i) x.data()[i] = 0.25f * float(i) - 1.f;
    for (int j = 0; j < 4; ++j) bias(j) = from_float<half>(0.5f * float(j));
    eval(y, gelu(x + bias) * 2.f, host);
    double worst = 0;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 4; ++j) {
            const double v = x(i, j) + 0.5 * j;
            const double want = 2 * 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
            worst = std::fmax(worst, std::fabs(y(i, j) - want));
        }
    std::printf("sinter %d.%d.%d consumer: worst error %.3g\n", version_major, version_minor,
                version_patch, worst);
    return worst < 1e-5 ? 0 : 1;
}
