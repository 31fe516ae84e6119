#pragma once
// Warp-level tensor-core primitives for sm_80 and later, as inline PTX: cp.async, ldmatrix and
// mma.sync.m16n8k16 with f16 or bf16 inputs and f32 accumulators. Device code for sm_80+ only.
//
// Fragment layouts (PTX ISA, "Matrix fragments for mma.m16n8k16 with floating point type"), for
// lane = 4 g + t (g = lane / 4 in 0..7, t = lane % 4), each register two 16-bit elements, the lower
// column (A, C) or row (B) in the low half:
//   A (16 x 16, row-major):   a0 (g, 2t..2t+1)   a1 (g+8, 2t..2t+1)   a2 (g, 2t+8..)   a3 (g+8, 2t+8..)
//   B (16 x 8, K x N):        b0 (2t..2t+1, g)   b1 (2t+8..2t+9, g)
//   C, D (16 x 8, f32):       c0 c1 (g, 2t..2t+1)   c2 c3 (g+8, 2t..2t+1)
// So the accumulators of two neighbouring 16 x 8 tiles, rounded to 16 bits in pairs, are an A
// fragment: what FlashAttention-2 uses to feed the probabilities P back without shared memory.
#include <cstdint>

#include "../core/dtype.hpp"

namespace sinter::kernels::mma {

SINTER_DEVICE std::uint32_t shared_address(const void* p) {
    return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

// Four 8x8 matrices of 16-bit elements from shared memory. Lane 8 i + j passes the address of row
// j of matrix i (16-byte aligned); r[i] receives elements (g, 2t..2t+1) of matrix i.
SINTER_DEVICE void ldmatrix_x4(std::uint32_t (&r)[4], const void* row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(shared_address(row))
                 : "memory");
}

// The same, each matrix transposed: r[i] receives elements (2t..2t+1, g) of matrix i, which is the
// B fragment of a K x N tile stored row-major.
SINTER_DEVICE void ldmatrix_x4_trans(std::uint32_t (&r)[4], const void* row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(shared_address(row))
                 : "memory");
}

// d += a b: (16 x 16) (16 x 8) in T with f32 accumulation. b is two registers of an ldmatrix.
template <class T>
SINTER_DEVICE void mma_16816(float (&d)[4], const std::uint32_t (&a)[4], std::uint32_t b0, std::uint32_t b1) {
    static_assert(std::is_same_v<T, half> || std::is_same_v<T, bf16>, "mma_16816: T is half or bf16");
    if constexpr (std::is_same_v<T, half>)
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
                     "{%8, %9}, {%0, %1, %2, %3};\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    else
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
                     "{%8, %9}, {%0, %1, %2, %3};\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// 16 bytes from global to shared memory without passing through registers (L2 only: .cg), or 16
// zero bytes when !valid (src is then not read, but must still be a valid address). src goes as a
// .global address (the operand's state space), not a generic one.
SINTER_DEVICE void cp_async_16(void* dst, const void* src, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(dst)),
                 "l"(__cvta_generic_to_global(src)), "r"(valid ? 16 : 0)
                 : "memory");
}

// Closes the group of cp.async issued since the last commit.
SINTER_DEVICE void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

// Waits until at most N committed groups are still in flight (this thread's copies only: follow
// with __syncthreads() before reading what other threads copied).
template <int N>
SINTER_DEVICE void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// Two f32 values rounded to T (nearest even) in one register, `low` in the low half.
template <class T>
SINTER_DEVICE std::uint32_t pack2(float low, float high) {
    std::uint32_t r;
    if constexpr (std::is_same_v<T, half>) {
        const __half2 v = __floats2half2_rn(low, high);
        memcpy(&r, &v, sizeof r);
    } else {
        const __nv_bfloat162 v = __floats2bfloat162_rn(low, high);
        memcpy(&r, &v, sizeof r);
    }
    return r;
}

}  // namespace sinter::kernels::mma
