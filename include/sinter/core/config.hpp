#pragma once
// Macros and basic types shared by every header.
#include <cstdint>

// SINTER_DEVICE_NOINLINE: a device function kept a call (a rare path that would otherwise add its
// registers to the kernel's common one).
#if defined(__CUDACC__)
#define SINTER_HD __host__ __device__ __forceinline__
#define SINTER_DEVICE __device__ __forceinline__
#define SINTER_DEVICE_NOINLINE __device__ __noinline__
#else
#define SINTER_HD inline
#define SINTER_DEVICE inline
#define SINTER_DEVICE_NOINLINE inline
#endif

// Unrolling hints for device code only (the host compiler warns on the pragma).
#if defined(__CUDA_ARCH__)
#define SINTER_UNROLL _Pragma("unroll")
#else
#define SINTER_UNROLL
#endif

#define SINTER_VERSION_MAJOR 0
#define SINTER_VERSION_MINOR 1
#define SINTER_VERSION_PATCH 0

namespace sinter {

// Extents, indices and offsets. 64-bit: a (T, 3*H) activation at T = 1M tokens already needs it.
using index_t = std::int64_t;

// Usable in device code without --expt-relaxed-constexpr (std::numeric_limits is host-only).
inline constexpr float f32_inf = __builtin_huge_valf();
inline constexpr float f32_nan = __builtin_nanf("");

}  // namespace sinter
