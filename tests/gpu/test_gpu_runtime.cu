// The CUDA runtime layer: detection, memory, copies, streams, events, errors, and the device's
// f16/bf16 conversions against the host's, bit for bit.
#include <algorithm>
#include <cstring>
#include <vector>

#include "../support/gpu.cuh"

using namespace sinter;

TEST_CASE("gpu detection is cheap and never throws") {
    const int n = sinter::cuda::device_count();
    CHECK(n >= 0);
    CHECK(sinter::cuda::gpu_available() == (n > 0));
    SINTER_REQUIRE_GPU();
    const auto info = sinter::cuda::device_info();
    MESSAGE("device: " << info.name << ", sm_" << info.sm_major << info.sm_minor << ", "
                       << info.multiprocessors << " SMs");
    CHECK(info.multiprocessors > 0);
}

TEST_CASE("host <-> device copies, synchronous and on a stream") {
    SINTER_REQUIRE_GPU();
    Tensor<float, Shape<dyn, 33>> h(17), back(17);
    test::fill_uniform(h.view());
    Tensor<float, Shape<dyn, 33>, device_space> d(17), d2(17);
    copy(d.view(), h.view());
    copy(d2.view(), d.view());
    copy(back.view(), d2.view());
    CHECK(std::memcmp(h.data(), back.data(), h.bytes()) == 0);

    sinter::cuda::Stream stream;
    test::fill_uniform(h.view());
    copy(d.view(), h.view(), stream);
    copy(back.view(), d.view(), stream);
    stream.synchronize();
    CHECK(std::memcmp(h.data(), back.data(), h.bytes()) == 0);

    Tensor<float, Shape<dyn, 33>, device_space> wrong(16);
    CHECK_THROWS_WITH_AS(copy(wrong.view(), h.view()), doctest::Contains("(16, 33)"), shape_error);
}

TEST_CASE("a failing CUDA call is a cuda_error naming the call; not sticky, the context survives") {
    SINTER_REQUIRE_GPU();
    bool threw = false;
    try {
        Tensor<char, Shape<dyn>, device_space> huge(index_t(1) << 50);  // 1 PiB
    } catch (const cuda_error& e) {
        threw = true;
        CHECK(std::string(e.what()).find("cudaMalloc") != std::string::npos);
        CHECK_FALSE(e.sticky());
    }
    CHECK(threw);
    CHECK_FALSE(sinter::cuda::context_poisoned());
    Tensor<float, Shape<dyn>, device_space> ok(10);  // still usable
    CHECK(ok.data() != nullptr);
}

TEST_CASE("events time work on a stream") {
    SINTER_REQUIRE_GPU();
    sinter::cuda::Stream s;
    sinter::cuda::Event a, b;
    Tensor<float, Shape<dyn>, device_space> x(1 << 20);
    SINTER_CUDA_CHECK(cudaMemsetAsync(x.data(), 0, std::size_t(x.bytes()), s));
    a.record(s);
    eval(x.view(), expr::as_expr(x) * 0.5f + 1.f, s);  // 8 MB moved: some microseconds
    b.record(s);
    b.synchronize();
    const float ms = sinter::cuda::Event::elapsed_ms(a, b);
    CHECK(ms > 0.f);
    CHECK(ms < 1000.f);
    const auto back = test::to_host(x);
    CHECK(std::all_of(back.data(), back.data() + back.size(), [](float v) { return v == 1.f; }));
}

namespace {
__global__ void convert_kernel(const float* in, std::uint16_t* h, std::uint16_t* b, index_t n) {
    for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += index_t(gridDim.x) * blockDim.x) {
        h[i] = detail::raw_bits(from_float<half>(in[i]));
        b[i] = detail::raw_bits(from_float<bf16>(in[i]));
    }
}
__global__ void widen_kernel(const std::uint16_t* bits, float* h, float* b, index_t n) {
    for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += index_t(gridDim.x) * blockDim.x) {
        h[i] = to_float(detail::half_from_bits(bits[i]));
        b[i] = to_float(detail::bf16_from_bits(bits[i]));
    }
}
}  // namespace

TEST_CASE("device and host conversions agree bit for bit") {
    SINTER_REQUIRE_GPU();
    // f32 -> f16/bf16: random bit patterns plus every f16 value's neighbourhood.
    std::vector<float> xs;
    for (std::uint32_t u = 0; u < 0x10000; ++u) {
        const float f = to_float(detail::half_from_bits(std::uint16_t(u)));
        xs.push_back(f);
        xs.push_back(std::nextafter(f, INFINITY));
        xs.push_back(std::nextafter(f, -INFINITY));
    }
    std::uniform_int_distribution<std::uint32_t> bits;
    for (int i = 0; i < 1 << 20; ++i) {
        const std::uint32_t u = bits(test::rng());
        float f;
        std::memcpy(&f, &u, 4);
        xs.push_back(f);
    }
    const index_t n = index_t(xs.size());
    Tensor<float, Shape<dyn>, device_space> din(n);
    Tensor<std::uint16_t, Shape<dyn>, device_space> dh(n), db(n);
    copy(din.view(), TensorView<float, Shape<dyn>>(xs.data(), n));
    convert_kernel<<<256, 256>>>(din.data(), dh.data(), db.data(), n);
    SINTER_CHECK_LAUNCH("convert_kernel");
    const auto h = test::to_host(dh), b = test::to_host(db);
    std::size_t bad = 0;
    for (index_t i = 0; i < n; ++i) {
        const auto hh = detail::raw_bits(from_float<half>(xs[std::size_t(i)]));
        const auto hb = detail::raw_bits(from_float<bf16>(xs[std::size_t(i)]));
        if ((hh != h(i) || hb != b(i)) && bad++ < 5)
            FAIL_CHECK("x = " << xs[std::size_t(i)] << ": host f16 " << hh << " device " << h(i)
                              << ", host bf16 " << hb << " device " << b(i));
    }
    CHECK(bad == 0);

    // f16/bf16 -> f32 for all 65536 patterns (NaNs compared as NaN).
    Tensor<std::uint16_t, Shape<dyn>> all(0x10000);
    for (std::uint32_t u = 0; u < 0x10000; ++u) all(index_t(u)) = std::uint16_t(u);
    const auto dall = test::to_device(all);
    Tensor<float, Shape<dyn>, device_space> wh(0x10000), wb(0x10000);
    widen_kernel<<<64, 256>>>(dall.data(), wh.data(), wb.data(), 0x10000);
    SINTER_CHECK_LAUNCH("widen_kernel");
    const auto fh = test::to_host(wh), fb = test::to_host(wb);
    for (std::uint32_t u = 0; u < 0x10000; ++u) {
        const float want_h = to_float(detail::half_from_bits(std::uint16_t(u)));
        const float want_b = to_float(detail::bf16_from_bits(std::uint16_t(u)));
        REQUIRE((std::isnan(want_h) ? std::isnan(fh(index_t(u))) : detail::bits_of(want_h) == detail::bits_of(fh(index_t(u)))));
        REQUIRE((std::isnan(want_b) ? std::isnan(fb(index_t(u))) : detail::bits_of(want_b) == detail::bits_of(fb(index_t(u)))));
    }
}

TEST_CASE("empty outputs launch nothing") {
    SINTER_REQUIRE_GPU();
    Tensor<float, Shape<dyn, 8>, device_space> empty(0);
    eval(empty.view(), expr::as_expr(empty) * 2.f, nullptr);
    SINTER_CUDA_CHECK(cudaDeviceSynchronize());
}
