// Element-wise and row-reduction kernels against the copy bandwidth: bias + GELU + residual fused
// in one kernel vs three separate kernels, layer_norm over (T, 768), softmax over (B*NH*S, S).
// Contractions (tier 3) in FLOP/s and as a fraction of the measured dense f16 GEMM rate:
// BERT-base's feed-forward GEMMs through eval; fused attention (flash and wmma kernels) at
// BERT-base's heads. Each case is validated against the host evaluator (or the attention's host
// twin) before it is timed.
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

template <class T, class S>
bool close_host(const Tensor<T, S>& got, const Tensor<T, S>& want) {
    for (index_t i = 0; i < got.size(); ++i) {
        const float a = to_float(got.data()[i]), b = to_float(want.data()[i]);
        if (!(std::abs(a - b) <= 2e-2f * (1.f + std::abs(b)))) return false;
    }
    return true;
}

// Compares a device result with the host evaluation of the same expression on copies.
template <class T, class S>
bool close(const Tensor<T, S, device_space>& got, const Tensor<T, S>& want) {
    Tensor<T, S> back(got.shape());
    copy(back.view(), got.view());
    return close_host(back, want);
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
    bench::guarded(state, [&] {
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
    });
}

void layer_norm_rows(benchmark::State& state) {
    bench::guarded(state, [&] {
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
    });
}

void softmax_rows(benchmark::State& state) {
    bench::guarded(state, [&] {
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
    });
}

// BERT-base's feed-forward linear layers as expressions (eval makes each one cuBLASLt call):
//   up_gelu:       gelu(x W1^T + b1), x (T, 768), W1 (3072, 768): exact GELU, a second kernel
//   up_gelu_tanh:  gelu_tanh(x W1^T + b1): cuBLASLt's fused GELU epilogue
//   down_residual: h W2^T + b2 + x, h (T, 3072), W2 (768, 3072): the residual through beta = 1
enum class Linear { up_gelu, up_gelu_tanh, down_residual };

void linear(benchmark::State& state, Linear which, int autotune) {
    bench::guarded(state, [&] {
        if (!bench::require_gpu(state)) return;
        constexpr index_t I = 4 * H;
        const index_t T = state.range(0);
        const bool up = which != Linear::down_residual;
        const index_t K = up ? H : I, N = up ? I : H;
        using M = Shape<dyn, dyn>;
        auto w = random_device<half>(M::from_dynamic({N, K}), -0.05f, 0.05f);
        auto b = random_device<half>(Shape<dyn>::from_dynamic({N}));
        struct Set {
            Tensor<half, M, device_space> x, r, out;
        };
        const double bytes = double(T * K + N * K + T * N * (up ? 1 : 2)) * sizeof(half);
        std::vector<Set> sets;
        for (int i = 0; i < bench::rotation_count(std::size_t(bytes)); ++i)
            sets.push_back({random_device<half>(M::from_dynamic({T, K})), random_device<half>(M::from_dynamic({T, N})),
                            Tensor<half, M, device_space>(M::from_dynamic({T, N}))});
        auto layer = [which](auto x, auto w, auto b, auto r, auto out, auto on, auto&... gemm) {
            if (which == Linear::up_gelu) eval(out, gelu(matmul(x, transpose(w)) + b), on, gemm...);
            else if (which == Linear::up_gelu_tanh) eval(out, gelu_tanh(matmul(x, transpose(w)) + b), on, gemm...);
            else eval(out, matmul(x, transpose(w)) + b + r, on, gemm...);
        };
        blas::Gemm gemm(std::size_t(32) << 20, autotune);
        auto run = [&](int i, cudaStream_t s) {
            auto& set = sets[std::size_t(i)];
            layer(set.x.view(), w.view(), b.view(), set.r.view(), set.out.view(), s, gemm);
        };
        run(0, nullptr);
        SINTER_CUDA_CHECK(cudaDeviceSynchronize());
        {  // the first 64 rows against the host (the whole product would take the host seconds)
            const index_t rows = std::min<index_t>(T, 64);
            auto x = host_copy(sets[0].x), r = host_copy(sets[0].r), got = host_copy(sets[0].out);
            auto wh = host_copy(w);
            auto bh = host_copy(b);
            Tensor<half, M> want(M::from_dynamic({rows, N})), got_rows(M::from_dynamic({rows, N}));
            layer(x.view().rows(0, rows), wh.view(), bh.view(), r.view().rows(0, rows), want.view(), host);
            std::copy(got.data(), got.data() + rows * N, got_rows.data());
            if (!close_host(got_rows, want)) return state.SkipWithError("result differs from the host evaluator");
        }
        const double median = bench::time_kernel(state, int(sets.size()), bytes, run);
        bench::report_flops(state, 2.0 * double(T) * double(N) * double(K), median);
    });
}

// Fused attention over BERT-base's heads (12 x 64) from the packed (B*S, 3H) projection, full
// sequences, in FLOP/s (Q K^T and P V: 4 B S^2 H). ANCHORS: >= 50% of the dense f16 tensor-core
// rate at S = 512. The flash kernel beside the WMMA one it replaces.
void attention(benchmark::State& state, kernels::AttentionKernel kernel) {
    bench::guarded(state, [&] {
        if (!bench::require_gpu(state)) return;
        const index_t B = state.range(0), S = state.range(1), heads = 12, HD = 64, Hd = heads * HD, tokens = B * S;
        using M = Shape<dyn, dyn>;
        const double bytes = double(tokens * 4 * Hd) * sizeof(half);
        std::vector<Tensor<half, M, device_space>> qkv;
        for (int i = 0; i < bench::rotation_count(std::size_t(bytes)); ++i)
            qkv.push_back(random_device<half>(M::from_dynamic({tokens, 3 * Hd})));
        Tensor<half, M, device_space> ctx(M::from_dynamic({tokens, Hd}));
        Tensor<std::int32_t, Shape<dyn>> offsets(B + 1);
        for (index_t b = 0; b <= B; ++b) offsets.data()[b] = std::int32_t(b * S);
        Tensor<std::int32_t, Shape<dyn>, device_space> doffsets(B + 1);
        copy(doffsets.view(), offsets.view());
        auto run = [&](int i, cudaStream_t s) {
            kernels::attention(ctx.data(), qkv[std::size_t(i)].data(), doffsets.data(), B, S, int(heads), int(HD), s, kernel);
        };
        run(0, nullptr);
        SINTER_CUDA_CHECK(cudaDeviceSynchronize());
        {  // the first sequence against the host twin
            const auto q = host_copy(qkv[0]), got = host_copy(ctx);
            Tensor<half, M> want(M::from_dynamic({S, Hd})), got_rows(M::from_dynamic({S, Hd}));
            nn::attention(want.data(), q.data(), offsets.data(), 1, heads, HD);
            std::copy(got.data(), got.data() + S * Hd, got_rows.data());
            if (!close_host(got_rows, want)) return state.SkipWithError("result differs from the host twin");
        }
        const double median = bench::time_kernel(state, int(qkv.size()), bytes, run);
        bench::report_flops(state, 4.0 * double(B) * double(S) * double(S) * double(Hd), median);
    });
}

}  // namespace

// cuBLASLt's heuristic choice, then the fastest of its first 8 candidates: how far the heuristic is
// from the best algorithm for the shape (ANCHORS: GEMMs at >= 90% of it).
BENCHMARK_CAPTURE(linear, up_gelu, Linear::up_gelu, 0)->Arg(128)->Arg(4096)->Arg(16384)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(linear, up_gelu_tanh, Linear::up_gelu_tanh, 0)->Arg(128)->Arg(4096)->Arg(16384)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(linear, down_residual, Linear::down_residual, 0)->Arg(128)->Arg(4096)->Arg(16384)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(linear, up_gelu_tanh/autotuned, Linear::up_gelu_tanh, 8)->Arg(128)->Arg(4096)->Arg(16384)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(linear, down_residual/autotuned, Linear::down_residual, 8)->Arg(128)->Arg(4096)->Arg(16384)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bias_gelu_residual, fused, true)->Arg(128)->Arg(4096)->Arg(16384)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bias_gelu_residual, three_kernels, false)->Arg(128)->Arg(4096)->Arg(16384)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(layer_norm_rows)->Arg(128)->Arg(4096)->Arg(16384)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(softmax_rows)->Arg(128)->Arg(512)->UseManualTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_CAPTURE(attention, flash, kernels::AttentionKernel::flash)->Args({1, 128})->Args({32, 128})->Args({32, 512})->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(attention, wmma, kernels::AttentionKernel::wmma)->Args({1, 128})->Args({32, 128})->Args({32, 512})->UseManualTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
