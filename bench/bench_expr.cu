// Element-wise and row-reduction kernels against the copy bandwidth: bias + GELU + residual fused
// in one kernel vs three separate kernels, layer_norm over (T, 768), softmax over (B*NH*S, S).
// Each case is validated against the host evaluator before it is timed.
#include <vector>

#include "harness.cuh"

using namespace sinter;

namespace {

constexpr index_t H = 768;
using Rows = Shape<dyn, H>;

template <class T, class S>
Tensor<T, S, device_space> random_device(const S& shape, float lo = -2, float hi = 2) {
    Tensor<T, S> h(shape);
    std::vector<float> v(std::size_t(h.size()));
    std::uint64_t x = 0x9e3779b97f4a7c15ull ^ std::uint64_t(h.size());
    for (index_t i = 0; i < h.size(); ++i) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        h.data()[i] = from_float<T>(lo + (hi - lo) * float(x >> 40) / float(1 << 24));
    }
    Tensor<T, S, device_space> d(shape);
    copy(d.view(), h.view());
    return d;
}

// Compares a device result with the host evaluation of the same expression on copies.
template <class T, class S>
bool close(const Tensor<T, S, device_space>& got, const Tensor<T, S>& want) {
    Tensor<T, S> back(got.shape());
    copy(back.view(), got.view());
    for (index_t i = 0; i < back.size(); ++i) {
        const float a = to_float(back.data()[i]), b = to_float(want.data()[i]);
        if (!(std::abs(a - b) <= 2e-2f * (1.f + std::abs(b)))) return false;
    }
    return true;
}

template <class T, class S>
Tensor<T, S> host_copy(const Tensor<T, S, device_space>& d) {
    Tensor<T, S> h(d.shape());
    copy(h.view(), d.view());
    return h;
}

struct BiasGeluResidual {
    Tensor<half, Rows, device_space> x, residual, out, tmp;
};

void bias_gelu_residual(benchmark::State& state, bool fused) {
    if (!bench::require_gpu(state)) return;
    const index_t T = state.range(0);
    const auto shape = Rows::from_dynamic({T});
    const double bytes = 3.0 * double(shape.size()) * sizeof(half);  // x, residual in; out
    auto bias = random_device<half>(Shape<H>{});
    std::vector<BiasGeluResidual> sets;
    for (int i = 0; i < bench::rotation_count(std::size_t(bytes)); ++i)
        sets.push_back({random_device<half>(shape), random_device<half>(shape),
                        Tensor<half, Rows, device_space>(shape), Tensor<half, Rows, device_space>(shape)});
    auto run = [&](int i, cudaStream_t s) {
        auto& b = sets[std::size_t(i)];
        if (fused) {
            eval(b.out.view(), gelu(b.x + bias) + b.residual, s);
        } else {
            eval(b.tmp.view(), b.x + bias, s);
            eval(b.tmp.view(), gelu(b.tmp), s);
            eval(b.out.view(), b.tmp + b.residual, s);
        }
    };
    run(0, nullptr);
    {
        auto x = host_copy(sets[0].x);
        auto r = host_copy(sets[0].residual);
        auto bh = host_copy(bias);
        Tensor<half, Rows> want(shape);
        eval(want.view(), gelu(x + bh) + r, host);
        if (!close(sets[0].out, want)) return state.SkipWithError("result differs from the host evaluator");
    }
    bench::time_kernel(state, int(sets.size()), bytes, run);
}

void layer_norm_rows(benchmark::State& state) {
    if (!bench::require_gpu(state)) return;
    const index_t T = state.range(0);
    const auto shape = Rows::from_dynamic({T});
    const double bytes = 2.0 * double(shape.size()) * sizeof(half);
    auto gamma = random_device<half>(Shape<H>{}, 0.5f, 1.5f), beta = random_device<half>(Shape<H>{});
    std::vector<std::pair<Tensor<half, Rows, device_space>, Tensor<half, Rows, device_space>>> sets;
    for (int i = 0; i < bench::rotation_count(std::size_t(bytes)); ++i)
        sets.emplace_back(random_device<half>(shape), Tensor<half, Rows, device_space>(shape));
    auto run = [&](int i, cudaStream_t s) {
        eval(sets[std::size_t(i)].second.view(), layer_norm(sets[std::size_t(i)].first, gamma, beta, 1e-12f), s);
    };
    run(0, nullptr);
    {
        auto x = host_copy(sets[0].first);
        auto g = host_copy(gamma), b = host_copy(beta);
        Tensor<half, Rows> want(shape);
        eval(want.view(), layer_norm(x, g, b, 1e-12f), host);
        if (!close(sets[0].second, want)) return state.SkipWithError("result differs from the host evaluator");
    }
    bench::time_kernel(state, int(sets.size()), bytes, run);
}

void softmax_rows(benchmark::State& state) {
    if (!bench::require_gpu(state)) return;
    const index_t S = state.range(0), B_NH = 32 * 12;
    using Scores = Shape<dyn, dyn>;
    const auto shape = Scores::from_dynamic({B_NH * S, S});
    const double bytes = 2.0 * double(shape.size()) * sizeof(half);
    std::vector<std::pair<Tensor<half, Scores, device_space>, Tensor<half, Scores, device_space>>> sets;
    for (int i = 0; i < bench::rotation_count(std::size_t(bytes)); ++i)
        sets.emplace_back(random_device<half>(shape, -8, 8), Tensor<half, Scores, device_space>(shape));
    auto run = [&](int i, cudaStream_t s) {
        eval(sets[std::size_t(i)].second.view(), softmax(sets[std::size_t(i)].first), s);
    };
    run(0, nullptr);
    {
        auto x = host_copy(sets[0].first);
        Tensor<half, Scores> want(shape);
        eval(want.view(), softmax(x), host);
        if (!close(sets[0].second, want)) return state.SkipWithError("result differs from the host evaluator");
    }
    bench::time_kernel(state, int(sets.size()), bytes, run);
}

}  // namespace

BENCHMARK_CAPTURE(bias_gelu_residual, fused, true)->Arg(128)->Arg(4096)->Arg(16384)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bias_gelu_residual, three_kernels, false)->Arg(128)->Arg(4096)->Arg(16384)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(layer_norm_rows)->Arg(128)->Arg(4096)->Arg(16384)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(softmax_rows)->Arg(128)->Arg(512)->UseManualTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
