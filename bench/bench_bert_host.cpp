// The host path's end-to-end forward (bert::Encoder<C, float, host_space>, weights packed at
// construction): BERT-base and all-MiniLM-L6-v2 shapes, random weights, full-length sequences of
// varied token ids. Reports the median latency, tokens/s and the model's GFLOP/s at that median
// (2 x parameters x tokens for the linear layers, 4 S^2 H per layer for attention), and the
// threads it may use (SINTER_NUM_THREADS, else the CPUs the process may run on). No GPU needed;
// on a shared machine run it several times.
#include <benchmark/benchmark.h>

#include <chrono>
#include <vector>

#include "median.hpp"
#include "sinter/sinter.hpp"

namespace {

using namespace sinter;

template <bert::Config C>
const bert::Encoder<C, float, host_space>& encoder() {
    static const bert::Encoder<C, float, host_space> e(bert::random_weights<C, float, host_space>(7));
    return e;
}

template <bert::Config C>
void forward(benchmark::State& state) {
    const index_t B = state.range(0), S = state.range(1);
    const auto& enc = encoder<C>();
    std::vector<std::int32_t> ids(std::size_t(B * S));
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = std::int32_t(1000 + i * 7919 % 20000);
    const bert::Inputs in{B, S, ids, {}, {}};
    benchmark::DoNotOptimize(enc.forward(in));  // warm-up: first touches of the scratch
    std::vector<double> times;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        auto out = enc.forward(in);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        benchmark::DoNotOptimize(out);
        state.SetIterationTime(seconds);
        times.push_back(seconds);
    }
    const double median = bench::median_seconds(std::move(times));
    if (median <= 0) return;
    const double tokens = double(B * S), H = double(C.hidden);
    const double linear = 2.0 * tokens * double(C.layers) * (4 * H * H + 2 * H * double(C.intermediate));
    const double attention = 4.0 * double(B) * double(S) * double(S) * H * double(C.layers);
    state.counters["latency_ms"] = median * 1e3;
    state.counters["tokens_per_second"] = tokens / median;
    state.counters["model_GFLOPs"] = (linear + attention) / median * 1e-9;
    state.counters["threads"] = double(host_threads());  // what the GEMMs may use
}

}  // namespace

BENCHMARK_TEMPLATE(forward, bert::base_uncased)->Args({1, 128})->Args({8, 128})->Args({1, 512})->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(forward, bert::minilm_l6)->Args({1, 128})->Args({32, 128})->UseManualTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
