#pragma once
// The SIMT emulator's stand-in for include/sinter/kernels/mma.cuh: the same functions, computed on
// the host from the PTX ISA's definitions instead of issued as PTX. It takes that header's place
// for the kernels compiled in tests/simt (they include <sinter/kernels/mma.cuh> by the include
// path, and tests/simt/include comes first).
//
// The fragment layouts are written as CuTe states them for SM80_16x8x16_F32F16F16F32_TN (thread
// t0 + 4 t1, value v; a column-major flat index into the operand), not in the (g, 2t) terms the
// kernel and mma.cuh use, so that the two descriptions check each other:
//   A (M16 x K16): ((4,8),(2,2,2)) : ((32,1),(16,8,128))   m = flat % 16, k = flat / 16
//   B (N8 x K16):  ((4,8),(2,2))   : ((16,1),(8,64))       n = flat % 8,  k = flat / 8
//   C (M16 x N8):  ((4,8),(2,2))   : ((32,1),(16,8))       m = flat % 16, n = flat / 16
// Value v of a 16-bit operand is half v % 2 (low first) of register v / 2.
// ldmatrix (PTX ISA, "Warp-level matrix load instruction: ldmatrix"): lane 8i + j addresses row j
// of matrix i; register i of lane l holds elements (l / 4, 2 (l % 4) + {0, 1}) of matrix i, or of
// its transpose with .trans. cp.async lands its 16 bytes at the issue or at the wait, as
// simt::ScopedInterleaving says.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <simt/runtime.hpp>

#include "sinter/core/dtype.hpp"

namespace sinter::kernels::mma {

namespace emulated {

inline float element(std::uint32_t reg, int half_index, bool is_bf16) {
    const auto bits = static_cast<std::uint16_t>(half_index ? reg >> 16 : reg & 0xffffu);
    return is_bf16 ? to_float(sinter::detail::bf16_from_bits(bits)) : to_float(sinter::detail::half_from_bits(bits));
}

// The operands' thread-value layouts (CuTe's, above): the (row, column) of value v of `lane`.
struct Position {
    int row, col;
};
inline Position a_position(int lane, int v) {  // A: 16 x 16, values 0-7
    const int flat = 32 * (lane % 4) + lane / 4 + 16 * (v % 2) + 8 * (v / 2 % 2) + 128 * (v / 4);
    return {flat % 16, flat / 16};
}
inline Position b_position(int lane, int v) {  // B: 16 (K) x 8 (N), values 0-3
    const int flat = 16 * (lane % 4) + lane / 4 + 8 * (v % 2) + 64 * (v / 2);
    return {flat / 8, flat % 8};
}
inline Position c_position(int lane, int v) {  // C, D: 16 x 8, values 0-3
    const int flat = 32 * (lane % 4) + lane / 4 + 16 * (v % 2) + 8 * (v / 2);
    return {flat % 16, flat / 16};
}

struct MmaOperands {
    std::uint32_t a[4], b[2];
    float c[4];
};

inline void check_shared_row(const void* row, const std::source_location& site) {
    using namespace sinter::simt::detail;
    if (reinterpret_cast<std::uintptr_t>(row) % 16 != 0)
        fail("ldmatrix at " + where(site) + ": a row address not 16-byte aligned");
    if (!in_shared(row, 16)) fail("ldmatrix at " + where(site) + ": a row outside the block's shared memory");
}

// Counts the wavefronts of one ldmatrix.x4: for each matrix, the most distinct 4-byte words that
// its 8 rows put in one of the 32 banks.
inline void count_wavefronts(const void* const (&rows)[32]) {
    auto& c = simt::detail::counters;
    for (int i = 0; i < 4; ++i) {
        std::uintptr_t words[8 * 4];
        for (int j = 0; j < 8; ++j)
            for (int k = 0; k < 4; ++k) words[4 * j + k] = reinterpret_cast<std::uintptr_t>(rows[8 * i + j]) / 4 + k;
        std::sort(std::begin(words), std::end(words));
        int per_bank[32] = {};
        for (auto w = std::begin(words); w != std::unique(std::begin(words), std::end(words)); ++w) ++per_bank[*w % 32];
        ++c.ldmatrix_matrices;
        c.ldmatrix_wavefronts += std::uint64_t(*std::max_element(std::begin(per_bank), std::end(per_bank)));
    }
}

struct Registers4 {
    std::uint32_t r[4];
};

// Register i of lane l: elements (l / 4, 2 (l % 4) + {0, 1}) of matrix i, or of its transpose.
inline void ldmatrix(std::uint32_t (&r)[4], const void* row, bool transposed, const std::source_location& site) {
    check_shared_row(row, site);
    const auto mine = simt::detail::warp_collective<Registers4>(row, [&](const auto& rows, auto& regs) {
        count_wavefronts(rows);
        for (unsigned lane = 0; lane < 32; ++lane) {
            const unsigned g = lane / 4, t = lane % 4;
            for (unsigned i = 0; i < 4; ++i) {
                const auto row_of = [&](unsigned j) { return static_cast<const unsigned char*>(rows[8 * i + j]); };
                std::uint16_t low, high;
                if (transposed) {  // column g of rows 2t and 2t + 1
                    std::memcpy(&low, row_of(2 * t) + 2 * g, 2);
                    std::memcpy(&high, row_of(2 * t + 1) + 2 * g, 2);
                } else {  // row g, columns 2t and 2t + 1
                    std::memcpy(&low, row_of(g) + 4 * t, 2);
                    std::memcpy(&high, row_of(g) + 4 * t + 2, 2);
                }
                regs[lane].r[i] = std::uint32_t(low) | std::uint32_t(high) << 16;
            }
        }
    }, site, transposed ? "ldmatrix.x4.trans" : "ldmatrix.x4");
    for (int i = 0; i < 4; ++i) r[i] = mine.r[i];
}

}  // namespace emulated

inline void ldmatrix_x4(std::uint32_t (&r)[4], const void* row,
                        std::source_location site = std::source_location::current()) {
    emulated::ldmatrix(r, row, false, site);
}

inline void ldmatrix_x4_trans(std::uint32_t (&r)[4], const void* row,
                              std::source_location site = std::source_location::current()) {
    emulated::ldmatrix(r, row, true, site);
}

template <class T>
void mma_16816(float (&d)[4], const std::uint32_t (&a)[4], std::uint32_t b0, std::uint32_t b1,
               std::source_location site = std::source_location::current()) {
    static_assert(std::is_same_v<T, half> || std::is_same_v<T, bf16>, "mma_16816: T is half or bf16");
    constexpr bool is_bf16 = std::is_same_v<T, bf16>;
    struct Accumulators {
        float d[4];
    };
    const emulated::MmaOperands mine{{a[0], a[1], a[2], a[3]}, {b0, b1}, {d[0], d[1], d[2], d[3]}};
    const auto result = simt::detail::warp_collective<Accumulators>(mine, [&](const auto& all, auto& out) {
        using emulated::a_position, emulated::b_position, emulated::c_position;
        float A[16][16], B[16][8];
        for (int lane = 0; lane < 32; ++lane) {
            for (int v = 0; v < 8; ++v) {
                const auto [m, k] = a_position(lane, v);
                A[m][k] = emulated::element(all[lane].a[v / 2], v % 2, is_bf16);
            }
            for (int v = 0; v < 4; ++v) {
                const auto [k, n] = b_position(lane, v);
                B[k][n] = emulated::element(all[lane].b[v / 2], v % 2, is_bf16);
            }
        }
        for (int lane = 0; lane < 32; ++lane)
            for (int v = 0; v < 4; ++v) {  // D = C + A B, each lane's C and D at the same positions
                const auto [m, n] = c_position(lane, v);
                float sum = all[lane].c[v];
                for (int k = 0; k < 16; ++k) sum += A[m][k] * B[k][n];  // products of 16-bit values: exact in f32
                out[lane].d[v] = sum;
            }
    }, site, "mma.m16n8k16");
    for (int v = 0; v < 4; ++v) d[v] = result.d[v];
}

inline void cp_async_16(void* dst, const void* src, bool valid,
                        std::source_location site = std::source_location::current()) {
    using namespace sinter::simt::detail;
    if (reinterpret_cast<std::uintptr_t>(dst) % 16 || reinterpret_cast<std::uintptr_t>(src) % 16)
        fail("cp.async at " + where(site) + ": an address not 16-byte aligned");
    if (!in_shared(dst, 16)) fail("cp.async at " + where(site) + ": a destination outside the block's shared memory");
    const Copy16 copy{dst, src, valid};
    if (launch_state->copy_timing == sinter::simt::CopyTiming::at_issue) copy16(copy);
    current->open_group.push_back(copy);
}

inline void cp_async_commit() {
    using namespace sinter::simt::detail;
    current->committed.push_back(std::move(current->open_group));
    current->open_group.clear();
}

template <int N>
void cp_async_wait() {
    using namespace sinter::simt::detail;
    auto& groups = current->committed;
    while (groups.size() > std::size_t(N)) {
        if (launch_state->copy_timing == sinter::simt::CopyTiming::at_wait)
            for (const Copy16& c : groups.front()) copy16(c);
        groups.pop_front();
    }
}

template <class T>
std::uint32_t pack2(float low, float high) {
    return std::uint32_t(sinter::detail::raw_bits(from_float<T>(low))) | std::uint32_t(sinter::detail::raw_bits(from_float<T>(high))) << 16;
}

}  // namespace sinter::kernels::mma
