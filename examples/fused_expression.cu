// A transformer sublayer as one expression: layer_norm(gelu(x W^T + b) + r). On the GPU, eval makes
// it one cuBLASLt call with the bias and GELU in its epilogue, then one kernel for the residual and
// the LayerNorm; checked against the host evaluator. Without a GPU it says so and evaluates on the
// host only.
#include <cmath>
#include <cstdio>

#include <sinter/sinter.cuh>

int main() {
    using namespace sinter;
    constexpr index_t H = 768;
    const index_t T = 1024;
    Tensor<half, Shape<dyn, H>> x(T), residual(T), out(T), want(T);
    Tensor<half, Shape<H, H>> w{Shape<H, H>{}};
    Tensor<half, Shape<H>> bias{Shape<H>{}}, gamma{Shape<H>{}}, beta{Shape<H>{}};
    for (index_t i = 0; i < w.size(); ++i) w.data()[i] = from_float<half>(0.03f * std::sin(0.37f * float(i)));
    for (index_t i = 0; i < x.size(); ++i) {
        x.data()[i] = from_float<half>(std::sin(0.001f * float(i)));
        residual.data()[i] = from_float<half>(std::cos(0.003f * float(i)));
    }
    for (index_t j = 0; j < H; ++j) {
        bias(j) = from_float<half>(0.01f * float(j % 7));
        gamma(j) = from_float<half>(1.f + 0.001f * float(j));
        beta(j) = from_float<half>(-0.002f * float(j % 3));
    }
    auto layer = [](auto x, auto w, auto b, auto r, auto g, auto be) {
        return layer_norm(gelu(matmul(x, transpose(w)) + b) + r, g, be, 1e-12f);
    };
    eval(want, layer(x.view(), w.view(), bias.view(), residual.view(), gamma.view(), beta.view()), host);
    if (!sinter::cuda::gpu_available()) {
        std::printf("no GPU here: evaluated on the host only (first value %.4f)\n", double(to_float(want(0, 0))));
        return 0;
    }
    Tensor<half, Shape<dyn, H>, device_space> dx(T), dr(T), dout(T);
    Tensor<half, Shape<H, H>, device_space> dw{Shape<H, H>{}};
    Tensor<half, Shape<H>, device_space> db{Shape<H>{}}, dg{Shape<H>{}}, dbe{Shape<H>{}};
    copy(dx.view(), x.view());
    copy(dw.view(), w.view());
    copy(dr.view(), residual.view());
    copy(db.view(), bias.view());
    copy(dg.view(), gamma.view());
    copy(dbe.view(), beta.view());
    sinter::cuda::Stream stream;
    eval(dout.view(), layer(dx.view(), dw.view(), db.view(), dr.view(), dg.view(), dbe.view()), stream);
    copy(out.view(), dout.view(), stream);
    stream.synchronize();
    double worst = 0;
    for (index_t i = 0; i < out.size(); ++i)
        worst = std::fmax(worst, std::fabs(to_float(out.data()[i]) - to_float(want.data()[i])));
    std::printf("GPU %s: worst |device - host| = %.3g\n", sinter::cuda::device_info().name.c_str(), worst);
    return worst < 1e-2 ? 0 : 1;
}
