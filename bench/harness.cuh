#pragma once
// What every device benchmark shares: CUDA-event timing (UseManualTime), the measured ceilings
// (device-to-device copy bandwidth for memory-bound kernels, the dense f16 GEMM rate for
// contractions), and buffer sets rotated so that the L2 cache does not serve a kernel its own
// previous inputs (SINTER_BENCH_SETS=N in the environment fixes the number of sets instead: 1
// times kernels on inputs the L2 may still hold).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "median.hpp"
#include "sinter/sinter.cuh"

namespace sinter::bench {

// Bytes moved (read + written) per second by cudaMemcpy device-to-device, measured once.
inline double copy_bandwidth() {
    static const double bandwidth = [] {
        const std::size_t bytes = std::size_t(512) << 20;
        void *a = nullptr, *b = nullptr;
        SINTER_CUDA_CHECK(cudaMalloc(&a, bytes));
        SINTER_CUDA_CHECK(cudaMalloc(&b, bytes));
        cuda::Event start, stop;
        SINTER_CUDA_CHECK(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice));  // warm-up
        float best = 1e30f;
        for (int i = 0; i < 10; ++i) {
            start.record(nullptr);
            SINTER_CUDA_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, nullptr));
            stop.record(nullptr);
            stop.synchronize();
            best = std::min(best, cuda::Event::elapsed_ms(start, stop));
        }
        SINTER_CUDA_CHECK(cudaFree(a));
        SINTER_CUDA_CHECK(cudaFree(b));
        return 2.0 * double(bytes) / (double(best) * 1e-3);
    }();
    return bandwidth;
}

// Dense f16 GEMM FLOP/s, measured once: C = A B^T at n^3 (n = 8192: ANCHORS' 708 TFLOP/s on an
// H200), the fastest of cuBLASLt's first 8 algorithms, on random inputs (a GPU draws less power,
// and runs faster, on zeros). The ceiling of the contractions.
inline double gemm_rate() {
    static const double rate = [] {
#if defined(SINTER_BENCH_SMOKE)
        const index_t n = 256;  // the fake device of tests/simt multiplies on the host
#else
        const index_t n = 8192;
#endif
        using M = Shape<dyn, dyn>;
        Tensor<half, M> host_a(M::from_dynamic({n, n}));
        std::uint32_t x = 12345;
        for (index_t i = 0; i < host_a.size(); ++i) {
            x = x * 1664525u + 1013904223u;
            host_a.data()[i] = from_float<half>(float(x >> 8) / float(1 << 24) - 0.5f);
        }
        Tensor<half, M, device_space> a(host_a.shape()), b(host_a.shape()), c(host_a.shape());
        copy(a.view(), host_a.view());
        copy(b.view(), host_a.view());
        blas::Gemm gemm(std::size_t(32) << 20, 8);
        cuda::Stream stream;
        cuda::Event start, stop;
        eval(c.view(), matmul(a, transpose(b)), stream, gemm);  // tunes the algorithm
        float best = 1e30f;
        for (int i = 0; i < 10; ++i) {
            start.record(stream);
            eval(c.view(), matmul(a, transpose(b)), stream, gemm);
            stop.record(stream);
            stop.synchronize();
            best = std::min(best, cuda::Event::elapsed_ms(start, stop));
        }
        return 2.0 * double(n) * double(n) * double(n) / (double(best) * 1e-3);
    }();
    return rate;
}

// A contraction's counters: FLOP/s at `seconds` per call, and that as a fraction of gemm_rate().
inline void report_flops(benchmark::State& state, double flops, double seconds) {
    state.counters["flops_per_second"] = flops / seconds;
    state.counters["gemm_fraction"] = flops / seconds / gemm_rate();
    state.counters["gemm_TFLOPs"] = gemm_rate() * 1e-12;
}

// How many buffer sets of `bytes_per_set` to rotate through so the working set exceeds 2x L2
// (at most 64), or SINTER_BENCH_SETS.
inline int rotation_count(std::size_t bytes_per_set) {
    if (const char* sets = std::getenv("SINTER_BENCH_SETS")) {
        const int n = std::atoi(sets);
        if (n < 1 || n > 64) throw value_error("SINTER_BENCH_SETS=" + std::string(sets) + ": want 1 to 64 buffer sets");
        return n;
    }
    const std::size_t l2 = cuda::device_info().l2_bytes;
    return int(std::clamp<std::size_t>(2 * l2 / std::max<std::size_t>(bytes_per_set, 1) + 1, 1, 64));
}

// Holds the device busy for `ns` nanoseconds (the global timer): enqueued before a timed launch,
// it keeps the launch's host-side work (argument setup, cuBLASLt's plan lookup, attribute
// queries) out of the interval between the events, which then holds the kernels alone.
// (Device code only: on the fake CUDA device of tests/simt, whose clock is not real, it returns.)
template <int = 0>  // a template: defined in a header that several files of one program may include
__global__ void spin_kernel(unsigned long long ns) {
#if defined(__CUDA_ARCH__)
    unsigned long long start = 0, now = 0;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
    do {
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
    } while (now - start < ns);
#else
    (void)ns;
#endif
}

// Runs a benchmark's body; an exception (a CUDA error, a refused kernel, no cuBLASLt algorithm)
// marks this benchmark failed with its message instead of terminating the program, so that the
// others still run and the JSON output is complete.
template <class Body>
void guarded(benchmark::State& state, Body&& body) {
    try {
        body();
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
    }
}

// Times launch(i) (i = the buffer set to use) with CUDA events, behind a spin kernel (above);
// reports the median time (median_us), bytes/s and the fraction of copy bandwidth for `bytes`
// moved per launch at that median, and returns the median in seconds.
inline double time_kernel(benchmark::State& state, int sets, double bytes,
                          const std::function<void(int, cudaStream_t)>& launch) {
    cuda::Stream stream;
    cuda::Event start, stop;
    for (int i = 0; i < sets; ++i) launch(i, stream);  // warm-up
    stream.synchronize();
    int k = 0;
    std::vector<double> times;
    for (auto _ : state) {
        // 200 us: longer than any launch's host work. One warp: the least a GPU schedules.
        cuda::launch(&spin_kernel<>, 1, 32, 0, stream, 200000ull);
        SINTER_CHECK_LAUNCH("sinter::bench::spin_kernel");
        start.record(stream);
        launch(k, stream);
        stop.record(stream);
        stop.synchronize();
        const double seconds = double(cuda::Event::elapsed_ms(start, stop)) * 1e-3;
        state.SetIterationTime(seconds);
        times.push_back(seconds);
        k = (k + 1) % sets;
    }
    const double median = median_seconds(std::move(times));
    state.counters["median_us"] = median * 1e6;
    state.counters["bytes_per_second"] = median > 0 ? bytes / median : 0;
    state.counters["copy_fraction"] = median > 0 ? bytes / median / copy_bandwidth() : 0;
    state.counters["copy_bw_GBps"] = copy_bandwidth() * 1e-9;
    state.SetLabel(cuda::device_info().name);
    return median;
}

inline bool require_gpu(benchmark::State& state) {
    if (!cuda::gpu_available()) {
        state.SkipWithError("no GPU: SINTER_SKIP_NO_GPU");
        return false;
    }
    return true;
}

}  // namespace sinter::bench
