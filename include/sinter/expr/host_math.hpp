#pragma once
// The host path's transcendental loops (GELU in the GEMM epilogue, exp in attention's softmax),
// written over lanes of GCC/Clang vectors (plain floats elsewhere): no calls, no branches, no float
// min/max or selects (each is a branch unless -ffinite-math-only / -fno-trapping-math): integer
// operations on the bits instead. On x86-64 (GCC, Clang), copies of each loop for CPUs with AVX2
// and FMA and for CPUs with AVX-512, chosen at run time (HostIsa, as HostGemm's tile), whatever the
// program was built for. nvcc's host pass takes the same path as the host compiler alone, so that
// a program of .cu and .cpp files has one definition of each of these inline functions (and one
// result).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>

#include "../core/config.hpp"
#include "../core/error.hpp"

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__CUDA_ARCH__)
#define SINTER_HOST_ISA_DISPATCH 1
#endif
#if defined(__GNUC__)
#define SINTER_HOST_ALWAYS_INLINE __attribute__((always_inline))
#else
#define SINTER_HOST_ALWAYS_INLINE
#endif

namespace sinter::expr {

// The instruction sets of the host's GEMM tile and loops, narrowest first. `best`: the widest this
// CPU has (x86-64 with GCC or Clang; elsewhere portable), capped by $SINTER_HOST_ISA (portable,
// avx2 or avx512), read once. A request for one the CPU lacks gets the widest it has below it.
// AVX2 and AVX-512 give the same bits (fused multiply-adds, every k in order); portable code
// rounds each product, so its last bits differ.
enum class HostIsa { portable, avx2, avx512, best };

namespace detail {
// $SINTER_HOST_ISA's cap: unset or empty = none; a value that names no instruction set is an error.
inline HostIsa host_isa_cap(const char* text) {
    if (!text || !*text) return HostIsa::best;
    const std::string v = text;
    if (v == "portable") return HostIsa::portable;
    if (v == "avx2") return HostIsa::avx2;
    if (v == "avx512") return HostIsa::avx512;
    throw value_error("SINTER_HOST_ISA=" + v + ": expected portable, avx2 or avx512");
}
}  // namespace detail

// The widest instruction set the host path uses on this CPU (never `best`).
inline HostIsa host_isa() {
    static const HostIsa isa = [] {
        HostIsa has = HostIsa::portable;
#if defined(SINTER_HOST_ISA_DISPATCH)
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
            has = HostIsa::avx2;
            if (__builtin_cpu_supports("avx512f")) has = HostIsa::avx512;
        }
#endif
        return std::min(has, detail::host_isa_cap(std::getenv("SINTER_HOST_ISA")));
    }();
    return isa;
}

// What a request for `want` runs on here.
inline HostIsa resolve(HostIsa want) { return std::min(want, host_isa()); }

}  // namespace sinter::expr

namespace sinter::expr::detail {

// The loops below are written once over a "lane" type F: a vector of 4 floats (GCC or Clang, on
// any CPU: SSE2, NEON), 8 or 16 (x86-64: AVX2, AVX-512), or a float (other compilers), with I its
// int32 twin. So they run as vectors whatever the optimisation level (GCC 12 at -O2, CMake's
// RelWithDebInfo, vectorises none of them: the host forward ran twice as slow as at -O3), and each
// lane does exactly what the scalar code does, in the same order: the same bits on every path.
// Only operators and builtins touch the lanes, and the functions take them by reference: a vector
// passed by value to a function compiled without the caller's instruction set changes the ABI, and
// GCC warns so however inlined. SINTER_HOST_VECTOR_LANES: GCC/Clang vectors exist (gemm_host.hpp's
// tiles use them too).
#if defined(__GNUC__) && !defined(__CUDA_ARCH__)
#define SINTER_HOST_VECTOR_LANES 1
typedef float host_f32x4 __attribute__((vector_size(16)));
typedef float host_f32x8 __attribute__((vector_size(32)));
typedef float host_f32x16 __attribute__((vector_size(64)));
using host_lane_portable = host_f32x4;  // what every CPU the compiler targets has
#else
using host_lane_portable = float;
#endif
template <class F>
using host_lane_int = std::conditional_t<std::is_same_v<F, float>, std::int32_t, decltype(F{} < F{})>;

// e = exp(y_hi + y_lo) for y = y_hi + y_lo in [-87, 0.34] (y_lo carries what y_hi's precision
// cannot): y = m ln2 + r, |r| <= ln2 / 2 (m rounded by an integer conversion, which, unlike the
// 1.5 * 2^23 trick, survives -ffast-math's reassociation), exp(r) by its degree-7 Taylor
// polynomial (relative error 5e-9), 2^m from the bits (m >= -126: a normal number).
template <class F>
SINTER_HOST_ALWAYS_INLINE inline void host_exp_split(F& e, const F& y_hi, const F& y_lo) {
    using I = host_lane_int<F>;
    const F y_over_ln2 = (y_hi + y_lo) * 1.44269504088896341f - 0.5f;
    I m;  // round(y / ln2), y <= 0.34
    F fm;
    if constexpr (std::is_same_v<F, float>) {
        m = std::int32_t(y_over_ln2);
        fm = float(m);
    } else {
#if defined(SINTER_HOST_VECTOR_LANES)
        m = __builtin_convertvector(y_over_ln2, I);
        fm = __builtin_convertvector(m, F);
#endif
    }
    const F r = (y_hi - fm * 0.693145751953125f) + y_lo - fm * 1.428606765330187e-06f;  // ln2 = hi + lo
    e = 1.f + r * (1.f + r * (0.5f + r * (1.f / 6 + r * (1.f / 24 + r * (1.f / 120 + r * (1.f / 720 + r * (1.f / 5040)))))));
    e *= __builtin_bit_cast(F, (m + 127) << 23);
}

// x = GELU(x), the erf form (glibc's erff is a call per element, which cost as much as the GEMM
// before it for BERT's (T, 3072) intermediate):
//   GELU(x) = x (1 - h) for x >= 0, x h for x < 0,   h = erfc(|x| / sqrt 2) / 2,
// so that the small values for negative x keep their relative accuracy (within 8 f32 ulp for
// |x| < 13, where |GELU(x)| > 3e-37; tested); from -13 on, -0. erfc(z) = t exp(-z^2 + P(t)),
// t = 1 / (1 + z/2), P of degree 9 (the Chebyshev fit of Numerical Recipes' erfcc, fractional
// error <= 1.2e-7). z^2 = x^2 / 2 is split as (xh^2 + (x - xh)(x + xh)) / 2 with xh of 12 bits:
// a rounded z would cost 2 z^2 ulp. No branches, no selects: integer operations on the bits
// (a - b >> 31: all ones where a < b, for a, b in [0, 2^31)).
template <class F>
SINTER_HOST_ALWAYS_INLINE inline void host_gelu_lane(F& x) {
    using I = host_lane_int<F>;
    constexpr std::int32_t x_max = std::bit_cast<std::int32_t>(13.f);  // erfc(13 / sqrt 2) = 6e-38: from here on h is 0
    const I abs_bits = __builtin_bit_cast(I, x) & 0x7fffffff;
    const I in_range = (abs_bits - x_max) >> 31;  // |x| < x_max; a NaN is not
    const F xa = __builtin_bit_cast(F, (abs_bits & in_range) | (x_max & ~in_range));  // min(|x|, x_max)
    const F t = 1.f / (1.f + 0.35355339059327376f * xa);  // 1 / (1 + z/2)
    const F p = -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f +
                t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
    const F xh = __builtin_bit_cast(F, __builtin_bit_cast(I, xa) & std::int32_t(0xfffff000u));
    const F y_hi = -0.5f * (xh * xh);                    // exact
    const F y_lo = 0.5f * ((xh - xa) * (xa + xh)) + p;  // -z^2 + P = y_hi + y_lo in [-86, 0]
    F e;
    host_exp_split(e, y_hi, y_lo);
    // h = 0 from x_max on (and for a NaN); the factor h for x < 0 (sign bit set), 1 - h otherwise.
    const F h = __builtin_bit_cast(F, __builtin_bit_cast(I, 0.5f * t * e) & in_range);
    const I negative = __builtin_bit_cast(I, x) >> 31;  // all ones or zeros
    const F factor = __builtin_bit_cast(F, (__builtin_bit_cast(I, h) & negative) | (__builtin_bit_cast(I, 1.f - h) & ~negative));
    x *= factor;
}

// x = exp(x * scale - shift), for arguments <= 0 (softmax's, shift its row's maximum); arguments
// under -87 give exp(-87) = 1.6e-38 instead of less; a NaN argument gives NaN.
template <class F>
SINTER_HOST_ALWAYS_INLINE inline void host_exp_shifted_lane(F& x, float scale, float shift) {
    using I = host_lane_int<F>;
    constexpr std::int32_t most = std::bit_cast<std::int32_t>(87.f), inf = 0x7f800000, nan = 0x7fc00000;
    const I abs_bits = __builtin_bit_cast(I, x * scale - shift) & 0x7fffffff;  // -y
    const I below = (abs_bits - most) >> 31;
    const F y = -__builtin_bit_cast(F, (abs_bits & below) | (most & ~below));  // -min(-y, 87)
    F e;
    host_exp_split(e, y, F{});
    const I is_nan = (inf - abs_bits) >> 31;
    x = __builtin_bit_cast(F, (__builtin_bit_cast(I, e) & ~is_nan) | (nan & is_nan));
}

// GELU or exp(v scale - shift) of the floats at v (`bytes` of them: a lane, or the last lane's
// part, through a zero-padded copy). A function, not a lambda: nvcc drops a lambda's
// always_inline, and the lambda, compiled without the caller's instruction set, ran 4x slower.
template <class F, bool gelu>
SINTER_HOST_ALWAYS_INLINE inline void host_lane_apply(float* v, std::size_t bytes, float scale, float shift) {
    F x{};
    std::memcpy(&x, v, bytes);
    if constexpr (gelu)
        host_gelu_lane(x);
    else
        host_exp_shifted_lane(x, scale, shift);
    std::memcpy(v, &x, bytes);
}

// v[0, n) = GELU or exp(v scale - shift) of v[0, n), a lane at a time.
template <class F, bool gelu>
SINTER_HOST_ALWAYS_INLINE inline void host_lanes_map(float* v, index_t n, float scale, float shift) {
    constexpr index_t width = index_t(sizeof(F) / sizeof(float));
    index_t i = 0;
    for (; i + width <= n; i += width) host_lane_apply<F, gelu>(v + i, sizeof(F), scale, shift);
    if (i < n) host_lane_apply<F, gelu>(v + i, std::size_t(n - i) * sizeof(float), scale, shift);
}

#if defined(SINTER_HOST_ISA_DISPATCH)
__attribute__((target("avx2,fma"), noinline)) inline void host_gelu_avx2(float* v, index_t n) {
    host_lanes_map<host_f32x8, true>(v, n, 0.f, 0.f);
}
__attribute__((target("avx2,fma"), noinline)) inline void host_exp_shifted_avx2(float* v, index_t n, float scale,
                                                                                float shift) {
    host_lanes_map<host_f32x8, false>(v, n, scale, shift);
}
__attribute__((target("avx512f"), noinline)) inline void host_gelu_avx512(float* v, index_t n) {
    host_lanes_map<host_f32x16, true>(v, n, 0.f, 0.f);
}
__attribute__((target("avx512f"), noinline)) inline void host_exp_shifted_avx512(float* v, index_t n, float scale,
                                                                                 float shift) {
    host_lanes_map<host_f32x16, false>(v, n, scale, shift);
}
#endif

inline void host_gelu(float* v, index_t n, HostIsa isa = HostIsa::best) {
#if defined(SINTER_HOST_ISA_DISPATCH)
    switch (resolve(isa)) {
        case HostIsa::avx512: return host_gelu_avx512(v, n);
        case HostIsa::avx2: return host_gelu_avx2(v, n);
        default: break;
    }
#endif
    (void)isa;
    host_lanes_map<host_lane_portable, true>(v, n, 0.f, 0.f);
}

inline void host_exp_shifted(float* v, index_t n, float scale, float shift, HostIsa isa = HostIsa::best) {
#if defined(SINTER_HOST_ISA_DISPATCH)
    switch (resolve(isa)) {
        case HostIsa::avx512: return host_exp_shifted_avx512(v, n, scale, shift);
        case HostIsa::avx2: return host_exp_shifted_avx2(v, n, scale, shift);
        default: break;
    }
#endif
    (void)isa;
    host_lanes_map<host_lane_portable, false>(v, n, scale, shift);
}

}  // namespace sinter::expr::detail
