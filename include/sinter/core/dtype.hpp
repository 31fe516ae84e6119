#pragma once
// Element types: f32 (`float`), f16 (`half` = `__half`), bf16 (`bf16` = `__nv_bfloat16`).
// Storage may be 16-bit; all arithmetic is f32 (`accum_t`). Host conversions are sinter's own
// round-to-nearest-even and agree bit for bit with the device's cvt.rn instructions (a GPU test
// checks every f16 and a sweep of f32 values).
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "config.hpp"

namespace sinter {

using half = __half;
using bf16 = __nv_bfloat16;

// The accumulator type of every reduction, statistic and GEMM: f32 for all three dtypes.
template <class T>
using accum_t = float;

enum class dtype : std::uint8_t { f32, f16, bf16 };

constexpr std::string_view name(dtype t) {
    switch (t) {
        case dtype::f32: return "f32";
        case dtype::f16: return "f16";
        case dtype::bf16: return "bf16";
    }
    return "?";
}

constexpr std::size_t size_of(dtype t) { return t == dtype::f32 ? 4 : 2; }

template <class T>
inline constexpr bool is_float_dtype_v =
    std::is_same_v<T, float> || std::is_same_v<T, half> || std::is_same_v<T, bf16>;

template <class T>
concept FloatDtype = is_float_dtype_v<T>;

template <FloatDtype T>
inline constexpr dtype dtype_of = std::is_same_v<T, float> ? dtype::f32
                                  : std::is_same_v<T, half> ? dtype::f16
                                                            : dtype::bf16;

namespace detail {

SINTER_HD std::uint32_t bits_of(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

SINTER_HD float float_of(std::uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// f32 -> f16 bits, round to nearest even; NaN becomes the canonical 0x7fff, as cvt.rn.f16.f32.
constexpr std::uint16_t float_to_half_bits(std::uint32_t x) {
    const std::uint32_t sign = (x >> 16) & 0x8000u;
    const std::uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return 0x7fffu;                 // NaN
    if (ax >= 0x47800000u) return sign | 0x7c00u;         // >= 2^16 (and inf): inf
    std::uint32_t h, rem, halfway;
    if (ax >= 0x38800000u) {                              // normal half: >= 2^-14
        h = (ax - 0x38000000u) >> 13;
        rem = ax & 0x1fffu;
        halfway = 0x1000u;
    } else if (ax <= 0x33000000u) {                       // <= 2^-25: rounds to zero
        return static_cast<std::uint16_t>(sign);
    } else {                                              // subnormal half
        const std::uint32_t shift = 126u - (ax >> 23);    // 14..24
        const std::uint32_t mantissa = (ax & 0x7fffffu) | 0x800000u;
        h = mantissa >> shift;
        rem = mantissa & ((1u << shift) - 1u);
        halfway = 1u << (shift - 1u);
    }
    if (rem > halfway || (rem == halfway && (h & 1u))) ++h;  // may carry into the exponent: fine
    return static_cast<std::uint16_t>(sign | h);
}

constexpr std::uint32_t half_bits_to_float_bits(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exponent = (h >> 10) & 0x1fu;
    std::uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1fu) return sign | 0x7f800000u | (mantissa << 13);  // inf, NaN
    if (exponent != 0) return sign | ((exponent + 112u) << 23) | (mantissa << 13);
    if (mantissa == 0) return sign;
    int e = 113;                                         // subnormal: normalise
    while (!(mantissa & 0x400u)) {
        mantissa <<= 1;
        --e;
    }
    return sign | (static_cast<std::uint32_t>(e) << 23) | ((mantissa & 0x3ffu) << 13);
}

// f32 -> bf16 bits, round to nearest even; NaN becomes the canonical 0x7fff, as cvt.rn.bf16.f32.
constexpr std::uint16_t float_to_bf16_bits(std::uint32_t x) {
    if ((x & 0x7fffffffu) > 0x7f800000u) return 0x7fffu;
    return static_cast<std::uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

SINTER_HD std::uint16_t raw_bits(half h) { return static_cast<__half_raw>(h).x; }
SINTER_HD std::uint16_t raw_bits(bf16 h) { return static_cast<__nv_bfloat16_raw>(h).x; }

SINTER_HD half half_from_bits(std::uint16_t b) {
    __half_raw r;
    r.x = b;
    return half(r);
}
SINTER_HD bf16 bf16_from_bits(std::uint16_t b) {
    __nv_bfloat16_raw r;
    r.x = b;
    return bf16(r);
}

}  // namespace detail

// Any stored element to f32. Integers (ids, masks) convert exactly up to 2^24.
template <class T>
SINTER_HD float to_float(T x) {
    if constexpr (std::is_same_v<T, half>) {
#if defined(__CUDA_ARCH__)
        return __half2float(x);
#else
        return detail::float_of(detail::half_bits_to_float_bits(detail::raw_bits(x)));
#endif
    } else if constexpr (std::is_same_v<T, bf16>) {
        return detail::float_of(static_cast<std::uint32_t>(detail::raw_bits(x)) << 16);
    } else {
        return static_cast<float>(x);
    }
}

// f32 to any element type, rounding to nearest even.
template <class T>
SINTER_HD T from_float(float x) {
    if constexpr (std::is_same_v<T, half>) {
#if defined(__CUDA_ARCH__)
        return __float2half_rn(x);
#else
        return detail::half_from_bits(detail::float_to_half_bits(detail::bits_of(x)));
#endif
    } else if constexpr (std::is_same_v<T, bf16>) {
#if defined(__CUDA_ARCH__)
        return __float2bfloat16_rn(x);
#else
        return detail::bf16_from_bits(detail::float_to_bf16_bits(detail::bits_of(x)));
#endif
    } else {
        return static_cast<T>(x);
    }
}

}  // namespace sinter
