// End-to-end BERT-base forward (random weights, full-length sequences, and padded cases: one
// batch repeated, and a new batch every forward) on the GPU: latency and tokens/s per (batch, sequence), f16 and bf16. Times Session::launch (host
// packing, input upload, the graph) up to the last kernel; outputs stay on the device, as in the
// PyTorch baseline (tools/bench_torch_bert.py), which gpu_check.sh runs beside it.
#include <random>
#include <vector>

#include "harness.cuh"
#include "sinter/nn/bert/session.cuh"

using namespace sinter;

namespace {

template <bert::Config C, class T>
const bert::Encoder<C, T>& encoder() {
    static const bert::Encoder<C, T> enc(bert::random_weights<C, T, device_space>(2026));
    return enc;
}

// range(2): 0 full-length sequences; 1 lengths uniform in [16, S], the same batch every forward;
// 2 such batches, a new one every forward (64 cycled: a server's traffic, warmed up).
template <bert::Config C, class T, int Autotune>
void forward_body(benchmark::State& state) {
    if (!bench::require_gpu(state)) return;
    const index_t B = state.range(0), S = state.range(1);
    const int mode = int(state.range(2));
    struct Batch {
        std::vector<std::int32_t> ids, mask;
        index_t tokens = 0;
    };
    std::mt19937 rng(7);
    std::vector<Batch> batches(mode == 2 ? 64 : 1);
    double tokens = 0, squares = 0;  // per forward, averaged over the batches: sum of len, of len^2
    for (Batch& batch : batches) {
        batch.ids.resize(std::size_t(B * S));
        batch.mask.assign(std::size_t(B * S), 1);
        for (auto& id : batch.ids) id = std::int32_t(rng() % std::uint32_t(C.vocab));
        batch.tokens = 0;
        double batch_squares = 0;
        for (index_t b = 0; b < B; ++b) {
            const index_t len = mode == 0 ? S : 16 + index_t(rng() % std::uint32_t(S - 15));
            batch.tokens += len;
            batch_squares += double(len) * double(len);
            for (index_t s = len; s < S; ++s) batch.mask[std::size_t(b * S + s)] = 0;
        }
        tokens += double(batch.tokens) / double(batches.size());
        squares += batch_squares / double(batches.size());
    }
    bert::Session<C, T> session(encoder<C, T>(), {.max_tokens = B * S, .max_batch = B, .gemm_autotune = Autotune});
    const auto inputs = [&](std::size_t i) {
        const Batch& batch = batches[i % batches.size()];
        return bert::Inputs{B, S, batch.ids, batch.mask, {}};
    };
    for (std::size_t i = 0; i < 3 * batches.size(); ++i) session.launch(inputs(i));  // eager, capture, replay
    SINTER_CUDA_CHECK(cudaStreamSynchronize(session.stream()));
    sinter::cuda::Event start, stop;
    std::vector<double> times;
    std::size_t i = 0;
    for (auto _ : state) {
        const bert::Inputs in = inputs(i++);
        start.record(session.stream());
        session.launch(in);
        stop.record(session.stream());
        stop.synchronize();
        const double seconds = double(sinter::cuda::Event::elapsed_ms(start, stop)) * 1e-3;
        state.SetIterationTime(seconds);
        times.push_back(seconds);
    }
    const double median = bench::median_seconds(std::move(times));  // as the PyTorch baseline reports
    // Per layer: the GEMMs 2 * tokens * (4 H^2 + 2 H I) (QKV, output, up, down; 24 tokens H^2 for
    // BERT-base); attention 4 * sum(len^2) * H.
    const double H = double(C.hidden), I = double(C.intermediate);
    const double flops = double(C.layers) * (2.0 * tokens * (4 * H * H + 2 * H * I) + 4.0 * squares * H);
    state.counters["tokens_per_second"] = median > 0 ? tokens / median : 0;  // real tokens
    state.counters["latency_ms"] = median * 1e3;
    state.counters["model_TFLOPs"] = median > 0 ? flops / median * 1e-12 : 0;
    state.counters["graphs"] = double(session.graphs());
    state.SetLabel(sinter::cuda::device_info().name + ", attention " +
                   kernels::name(kernels::attention_kernel_for<T>(C.hidden / C.heads)));
}

template <class T, int Autotune = 0>
void bert_base(benchmark::State& state) {
    bench::guarded(state, [&] { forward_body<bert::base_uncased, T, Autotune>(state); });
}

// The smoke build on the fake CUDA device (bench/CMakeLists.txt): the same body on the tiny config.
template <class T, int Autotune = 0>
void bert_tiny(benchmark::State& state) {
    bench::guarded(state, [&] { forward_body<bert::tiny, T, Autotune>(state); });
}

#if !defined(SINTER_BENCH_SMOKE)
void shapes(benchmark::internal::Benchmark* b) {
    for (auto [B, S] : {std::pair{1, 128}, {8, 128}, {32, 128}, {128, 128}, {32, 512}}) b->Args({B, S, 0});
    b->Args({32, 128, 1});  // padded: lengths uniform in [16, 128]
    b->Args({32, 128, 2});  // the same, a new batch every forward
    b->UseManualTime()->Unit(benchmark::kMillisecond);
}
#else
void smoke_shapes(benchmark::internal::Benchmark* b) {
    for (int mode : {0, 1, 2}) b->Args({4, 32, mode});
    b->UseManualTime()->Unit(benchmark::kMillisecond);
}
#endif

}  // namespace

#if !defined(SINTER_BENCH_SMOKE)
BENCHMARK_TEMPLATE(bert_base, half)->Apply(shapes);
BENCHMARK_TEMPLATE(bert_base, bf16)->Apply(shapes);
// GEMM algorithms timed (the fastest of 8 candidates per shape) instead of the heuristic's first.
BENCHMARK_TEMPLATE(bert_base, half, 8)->Args({1, 128, 0})->Args({32, 128, 0})->UseManualTime()->Unit(benchmark::kMillisecond);
#else
BENCHMARK_TEMPLATE(bert_tiny, half)->Apply(smoke_shapes);
BENCHMARK_TEMPLATE(bert_tiny, bf16)->Apply(smoke_shapes);
BENCHMARK_TEMPLATE(bert_tiny, half, 8)->Args({4, 32, 0})->UseManualTime()->Unit(benchmark::kMillisecond);
#endif

BENCHMARK_MAIN();
