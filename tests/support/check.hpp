#pragma once
// Test helpers: fresh random inputs, and comparisons that report the worst element and how much
// of the tolerance it used.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sinter/core/dtype.hpp"
#include "sinter/core/tensor.hpp"

#ifndef SINTER_SOURCE_DIR
#define SINTER_SOURCE_DIR "."
#endif

namespace sinter::test {

// A fresh seed per run unless SINTER_TEST_SEED is set; printed so a failure can be replayed.
inline std::mt19937_64& rng() {
    static std::mt19937_64 gen = [] {
        std::uint64_t seed = std::random_device{}();
        if (const char* s = std::getenv("SINTER_TEST_SEED")) seed = std::stoull(s);
        std::printf("SINTER_TEST_SEED=%llu\n", static_cast<unsigned long long>(seed));
        return std::mt19937_64(seed);
    }();
    return gen;
}

template <class T>
void fill_uniform(T* p, index_t n, float lo = -1.f, float hi = 1.f) {
    std::uniform_real_distribution<float> d(lo, hi);
    for (index_t i = 0; i < n; ++i) p[i] = from_float<T>(d(rng()));
}

template <class V>
void fill_uniform(const V& v, float lo = -1.f, float hi = 1.f) {
    fill_uniform(v.data(), v.size(), lo, hi);
}

// Tolerance for a result stored in T, computed in f32: a few ulps of T, relative, plus an
// absolute floor for values near zero.
template <class T>
struct tolerance {
    static constexpr double rel = std::is_same_v<T, float> ? 2e-5 : std::is_same_v<T, half> ? 2e-3 : 1.6e-2;
    static constexpr double abs = std::is_same_v<T, float> ? 1e-5 : std::is_same_v<T, half> ? 2e-3 : 1.6e-2;
};

struct Worst {
    double ratio = 0;  // |got - want| / (abs + rel |want|); <= 1 passes
    index_t index = -1;
    double got = 0, want = 0;
};

// Compares got[i] with want[i]; NaN in either (unless both NaN) fails; reports the worst element.
template <class G, class W>
Worst compare(const G* got, const W* want, index_t n, double rel, double abs, const std::string& what) {
    Worst w;
    for (index_t i = 0; i < n; ++i) {
        const double g = to_float(got[i]), e = to_float(want[i]);
        double ratio;
        if (std::isnan(g) || std::isnan(e)) ratio = (std::isnan(g) && std::isnan(e)) ? 0 : INFINITY;
        else if (std::isinf(g) || std::isinf(e)) ratio = g == e ? 0 : INFINITY;
        else ratio = std::abs(g - e) / (abs + rel * std::abs(e));
        if (ratio > w.ratio || w.index < 0) w = {ratio, i, g, e};
    }
    INFO(what << ": worst element " << w.index << " of " << n << ": got " << w.got << ", want "
              << w.want << ", " << w.ratio * 100 << "% of the tolerance (rel " << rel << ", abs "
              << abs << ")");
    CHECK(w.ratio <= 1.0);
    MESSAGE(what << ": worst " << w.ratio * 100 << "% of tolerance");
    return w;
}

template <class T, class G, class W>
Worst compare_as(const G* got, const W* want, index_t n, const std::string& what) {
    return compare(got, want, n, tolerance<T>::rel, tolerance<T>::abs, what);
}

}  // namespace sinter::test
