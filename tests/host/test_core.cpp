// Shapes, views, tensors, copies and dtype conversions on the host.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <thread>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "sinter/sinter.hpp"
#include "../support/check.hpp"

using namespace sinter;

TEST_CASE("Shape: static and dynamic extents, strides, checks") {
    using S = Shape<dyn, 4, 3>;
    static_assert(S::rank == 3 && S::dynamic_count == 1 && !S::is_static);
    static_assert(Shape<2, 3>::is_static && Shape<2, 3>{}.size() == 6);
    static_assert(S::static_extent(1) == 4 && S::static_extent(0) == dyn);
    const auto s = S::from_dynamic({5});
    CHECK(s.extent(0) == 5);
    CHECK(s.size() == 60);
    CHECK(s.stride(0) == 12);
    CHECK(s.stride(1) == 3);
    CHECK(s.stride(2) == 1);
    CHECK(s.rows() == 20);
    CHECK(s.cols() == 3);
    CHECK(s.str() == "(5, 4, 3)");
    CHECK_THROWS_AS(S(std::array<index_t, 3>{5, 5, 3}), shape_error);
    CHECK_THROWS_WITH_AS(S(std::array<index_t, 3>{5, 4, 7}),
                         doctest::Contains("static 3 but 7 was given"), shape_error);
    CHECK_THROWS_AS(S::from_dynamic({-1}), shape_error);
}

TEST_CASE("broadcast shapes at compile time and run time") {
    static_assert(std::is_same_v<broadcast_shape_t<Shape<dyn, 8>, Shape<8>>, Shape<dyn, 8>>);
    static_assert(std::is_same_v<broadcast_shape_t<Shape<dyn, 1>, Shape<dyn, 8>>, Shape<dyn, 8>>);
    static_assert(std::is_same_v<broadcast_shape_t<Shape<>, Shape<3, 1>>, Shape<3, 1>>);
    static_assert(std::is_same_v<broadcast_shape_t<Shape<dyn>, Shape<4, 1>>, Shape<4, dyn>>);
    using Out = broadcast_shape_t<Shape<dyn, dyn>, Shape<dyn>>;
    const auto a = Shape<dyn, dyn>::from_dynamic({3, 5});
    const auto ok = Shape<dyn>::from_dynamic({5});
    const auto one = Shape<dyn>::from_dynamic({1});
    const auto bad = Shape<dyn>::from_dynamic({4});
    CHECK(broadcast_extents<Out>(a, ok, "t").str() == "(3, 5)");
    CHECK(broadcast_extents<Out>(a, one, "t").str() == "(3, 5)");
    CHECK_THROWS_WITH_AS(broadcast_extents<Out>(a, bad, "t"), doctest::Contains("5 vs 4"), shape_error);
}

TEST_CASE("TensorView and Tensor") {
    Tensor<float, Shape<dyn, 3>> t(4);
    CHECK(t.size() == 12);
    CHECK(t.bytes() == 48);
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 256 == 0);
    for (int i = 0; i < 12; ++i) t.data()[i] = float(i);
    CHECK(t(2, 1) == 7.f);
    TensorView<float, Shape<dyn, 3>> v = t;
    CHECK(v(3, 2) == 11.f);
    TensorView<const float, Shape<dyn, 3>> cv = v;
    CHECK(cv.data() == t.data());
    auto rows = v.rows(1, 2);
    CHECK(rows.extent(0) == 2);
    CHECK(rows(0, 0) == 3.f);
    CHECK_THROWS_AS(v.rows(3, 2), shape_error);

    Tensor<float, Shape<dyn, 3>> moved = std::move(t);
    CHECK(t.data() == nullptr);
    CHECK(moved(1, 1) == 4.f);

    Tensor<float, Shape<dyn, 3>> dst(4);
    copy(dst.view(), cv);
    CHECK(dst(3, 2) == 11.f);
    Tensor<float, Shape<dyn, 3>> wrong(5);
    CHECK_THROWS_WITH_AS(copy(wrong.view(), cv), doctest::Contains("(5, 3)"), shape_error);

    TensorView<float, Shape<2, 3>> fixed(moved.data(), Shape<2, 3>{});
    CHECK(fixed.size() == 6);
}

// ---- dtype conversions against an independent reference: the nearest representable value,
// found by binary search over the ordered bit patterns, ties to the even pattern ------------------

namespace {

double half_value(std::uint16_t b) {  // positive patterns; 0x7c00 stands for 2^16 when rounding
    if (b == 0x7c00) return 65536.0;
    const int e = (b >> 10) & 0x1f, m = b & 0x3ff;
    return e == 0 ? std::ldexp(double(m), -24) : std::ldexp(double(m | 0x400), e - 25);
}
double bf16_value(std::uint16_t b) {  // 0x7f80 stands for 2^128
    if (b == 0x7f80) return std::ldexp(1.0, 128);
    float f;
    const std::uint32_t u = std::uint32_t(b) << 16;
    std::memcpy(&f, &u, 4);
    return f;
}

template <class Value>
std::uint16_t nearest(float x, std::uint16_t top, Value value, std::uint16_t inf_bits) {
    if (std::isnan(x)) return 0x7fff;
    const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
    const double a = std::abs(double(x));
    if (std::isinf(x) || a >= value(top)) return sign | inf_bits;
    std::uint16_t lo = 0, hi = top;  // value(lo) <= a < value(hi)
    while (hi - lo > 1) {
        const std::uint16_t mid = std::uint16_t((lo + hi) / 2);
        (value(mid) <= a ? lo : hi) = mid;
    }
    const double dl = a - value(lo), dh = value(hi) - a;
    const std::uint16_t r = dl < dh ? lo : dh < dl ? hi : ((lo & 1) ? hi : lo);
    return sign | r;
}

std::uint16_t half_reference(float x) { return nearest(x, 0x7c00, half_value, 0x7c00); }
std::uint16_t bf16_reference(float x) { return nearest(x, 0x7f80, bf16_value, 0x7f80); }

std::vector<float> conversion_cases() {
    std::vector<float> xs = {0.f, -0.f, 1.f, -1.f, 65504.f, 65519.f, 65520.f, 65536.f, 1e-8f,
                             2.98e-8f, 5.96e-8f, 6.1e-5f, INFINITY, -INFINITY, 3.4e38f, 1e-40f};
    for (std::uint32_t h = 0; h < 0x7c00; ++h) {  // every half, its midpoints and their neighbours
        const double lo = half_value(std::uint16_t(h)), hi = half_value(std::uint16_t(h + 1));
        const float mid = float((lo + hi) / 2);
        for (float x : {float(lo), mid, std::nextafter(mid, 0.f), std::nextafter(mid, INFINITY)}) {
            xs.push_back(x);
            xs.push_back(-x);
        }
    }
    std::uniform_int_distribution<std::uint32_t> bits;
    for (int i = 0; i < 1 << 20; ++i) {
        const std::uint32_t u = bits(test::rng());
        float f;
        std::memcpy(&f, &u, 4);
        xs.push_back(f);
    }
    return xs;
}

}  // namespace

TEST_CASE("f32 -> f16 and bf16 round to nearest even (every midpoint, random bit patterns)") {
    const auto xs = conversion_cases();
    std::size_t half_bad = 0, bf16_bad = 0;
    for (float x : xs) {
        const auto h = detail::raw_bits(from_float<half>(x));
        const auto b = detail::raw_bits(from_float<bf16>(x));
        if (h != half_reference(x) && half_bad++ < 5)
            FAIL_CHECK("f16(" << x << ") = " << h << ", reference " << half_reference(x));
        if (b != bf16_reference(x) && bf16_bad++ < 5)
            FAIL_CHECK("bf16(" << x << ") = " << b << ", reference " << bf16_reference(x));
    }
    CHECK(half_bad == 0);
    CHECK(bf16_bad == 0);
    MESSAGE(xs.size() << " values checked");
}

TEST_CASE("f16 and bf16 -> f32 are exact") {
    for (std::uint32_t b = 0; b < 0x10000; ++b) {
        const auto u = std::uint16_t(b);
        const float h = to_float(detail::half_from_bits(u));
        const float f = to_float(detail::bf16_from_bits(u));
        if ((u & 0x7c00) == 0x7c00 && (u & 0x3ff)) {
            REQUIRE(std::isnan(h));
        } else {
            const double want = (u & 0x8000 ? -1 : 1) * half_value(u & 0x7fff);
            REQUIRE(((u & 0x7fff) == 0x7c00 ? std::isinf(h) : double(h) == want));
            REQUIRE(std::signbit(h) == bool(u & 0x8000));
        }
        if ((u & 0x7f80) == 0x7f80 && (u & 0x7f)) REQUIRE(std::isnan(f));
        else if ((u & 0x7fff) != 0x7f80) REQUIRE(double(f) == (u & 0x8000 ? -1 : 1) * bf16_value(u & 0x7fff));
        // Round trip through f32 is the identity (NaNs become the canonical NaN).
        if (!std::isnan(h)) REQUIRE(detail::raw_bits(from_float<half>(h)) == u);
        if (!std::isnan(f)) REQUIRE(detail::raw_bits(from_float<bf16>(f)) == u);
    }
}

TEST_CASE("dtype names and sizes") {
    CHECK(name(dtype_of<float>) == "f32");
    CHECK(name(dtype_of<half>) == "f16");
    CHECK(name(dtype_of<bf16>) == "bf16");
    CHECK(size_of(dtype::bf16) == 2);
    static_assert(std::is_same_v<accum_t<half>, float>);
}

TEST_CASE("host_threads: SINTER_NUM_THREADS, else the CPUs this process may run on") {
    using sinter::detail::parse_thread_count;
    CHECK(parse_thread_count("8") == 8);
    CHECK(parse_thread_count("4096") == 4096);
    for (const char* not_a_count : {"", "0", "4097", "99999999999999999999", "-2", "3x", " 3"}) {
        INFO(not_a_count);
        CHECK(parse_thread_count(not_a_count) == 0);  // ignored: the default applies
    }
    CHECK(parse_thread_count(nullptr) == 0);
    const unsigned n = host_threads();
    CHECK(n >= 1);
    // CTest runs this case a second time with SINTER_NUM_THREADS=3 (test_core_num_threads).
    if (const unsigned set = parse_thread_count(std::getenv("SINTER_NUM_THREADS"))) CHECK(n == set);
    CHECK(host_workers(0, 1000, 1e12) == std::min(n, 1000u));
    CHECK(host_workers(0, 1000, 1.0) == 1);  // too little work for a second thread
    CHECK(host_workers(2, 1000, 1e12) == 2);  // asked for
}

TEST_CASE("host_parallel_for: every index once in its part, from nested and concurrent callers; a part's error arrives") {
    // Parts are [count w / workers, count (w + 1) / workers), whoever runs them: the pool's threads,
    // the caller, or, when the pool is busy (a nested call, another thread's job), the caller alone.
    const auto cover = [](index_t count, unsigned workers) {
        std::vector<std::atomic<int>> hits(static_cast<std::size_t>(count));
        std::vector<std::atomic<int>> part_seen(workers);
        host_parallel_for(count, workers, [&](index_t first, index_t last) {
            for (unsigned w = 0; w < workers; ++w)  // exactly the bounds of one part
                if (first == count * w / workers && last == count * (w + 1) / workers) ++part_seen[w];
            for (index_t i = first; i < last; ++i) ++hits[std::size_t(i)];
        });
        int wrong = 0;
        for (auto& h : hits) wrong += h.load() != 1;
        for (auto& p : part_seen) wrong += p.load() < 1;
        return wrong;
    };
    for (const auto& job : {std::pair<index_t, unsigned>{3, 4}, {7, 2}, {1000, 3}, {5, 8}, {100000, 16}}) {
        const index_t count = job.first;  // not a structured binding: Clang 14 cannot capture one
        const unsigned workers = job.second;
        CHECK_MESSAGE(cover(count, workers) == 0, count << " items in " << workers << " parts");
    }

    std::atomic<long> nested{0};  // a part that calls host_parallel_for itself
    host_parallel_for(6, 3, [&](index_t a, index_t b) {
        host_parallel_for(10, 2, [&](index_t c, index_t d) { nested += (b - a) * (d - c); });
    });
    CHECK(nested.load() == 60);

    std::atomic<int> wrong{0};  // callers on four threads at once
    std::vector<std::thread> callers;
    for (int t = 0; t < 4; ++t)
        callers.emplace_back([&] {
            for (int r = 0; r < 50; ++r) wrong += cover(997, 2 + unsigned(r % 3));
        });
    for (auto& c : callers) c.join();
    CHECK(wrong.load() == 0);

    CHECK_THROWS_WITH_AS(host_parallel_for(100, 4,
                                           [](index_t first, index_t) {
                                               if (first >= 50) throw value_error("part at " + std::to_string(first));
                                           }),
                         "part at 50", value_error);
}
