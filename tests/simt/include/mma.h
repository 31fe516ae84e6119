#pragma once
// The SIMT emulator's stand-in for CUDA's <mma.h> (nvcuda::wmma), 16x16x16 shapes only, computed on
// the host. WMMA leaves the fragment layout unspecified; here lane l holds elements l, l + 32, ...
// of the row-major operand, so a kernel that assumed any particular layout would fail.
// The CUDA Programming Guide's rules are checked (misuse is a simt::error): every lane passes the
// same pointer, stride and layout; the pointer is 256-bit aligned; ldm is a multiple of 16 bytes.
#include <cstdint>
#include <cstring>
#include <source_location>
#include <type_traits>

#include <simt/runtime.hpp>

#include "sinter/core/dtype.hpp"

namespace nvcuda::wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment {
    static_assert(M == 16 && N == 16 && K == 16, "the emulated WMMA has the 16x16x16 shape only");
    static constexpr int rows = std::is_same_v<Use, matrix_b> ? K : M;
    static constexpr int cols = std::is_same_v<Use, matrix_a> ? K : N;
    static constexpr int num_elements = rows * cols / 32;
    T x[num_elements];
    // Element j of this lane is element (e / cols, e % cols) of the operand, e = lane + 32 j.
    static int row(unsigned lane, int j) { return int(lane + 32 * j) / cols; }
    static int col(unsigned lane, int j) { return int(lane + 32 * j) % cols; }
};

namespace emulated {

struct Access {
    const void* pointer;
    unsigned ldm;
    int layout;
};

// Every lane's (pointer, ldm, layout) must be the same: gathered and compared.
template <class T>
void check_access(const T* p, unsigned ldm, int layout, const char* what, const std::source_location& site) {
    using namespace sinter::simt::detail;
    Access all[32];
    warp_exchange(Access{p, ldm, layout}, all, site, what);
    for (const Access& a : all)
        if (a.pointer != p || a.ldm != ldm || a.layout != layout)
            fail(std::string(what) + " at " + where(site) + ": lanes pass different pointers, strides or layouts");
    if (reinterpret_cast<std::uintptr_t>(p) % 32 != 0)
        fail(std::string(what) + " at " + where(site) + ": the pointer is not 256-bit aligned");
    if (ldm * sizeof(T) % 16 != 0)
        fail(std::string(what) + " at " + where(site) + ": ldm " + std::to_string(ldm) + " is not a multiple of 16 bytes");
}

template <class T>
std::size_t offset(int r, int c, unsigned ldm, bool row_major_memory) {
    return row_major_memory ? std::size_t(r) * ldm + c : std::size_t(c) * ldm + r;
}

}  // namespace emulated

template <class Use, class T, class Layout, class V>
void fill_fragment(fragment<Use, 16, 16, 16, T, Layout>& f, const V& value) {
    for (auto& e : f.x) e = T(value);
}

template <class Use, class T, class Layout>
void load_matrix_sync(fragment<Use, 16, 16, 16, T, Layout>& f, const T* p, unsigned ldm,
                      std::source_location site = std::source_location::current()) {
    static_assert(!std::is_same_v<Use, accumulator>, "load_matrix_sync: an accumulator takes a layout_t");
    constexpr bool row_major_memory = std::is_same_v<Layout, row_major>;
    emulated::check_access(p, ldm, row_major_memory, "wmma::load_matrix_sync", site);
    const unsigned lane = sinter::simt::detail::lane_id();
    for (int j = 0; j < f.num_elements; ++j)
        f.x[j] = p[emulated::offset<T>(f.row(lane, j), f.col(lane, j), ldm, row_major_memory)];
}

template <class T>
void load_matrix_sync(fragment<accumulator, 16, 16, 16, T>& f, const T* p, unsigned ldm, layout_t layout,
                      std::source_location site = std::source_location::current()) {
    emulated::check_access(p, ldm, layout, "wmma::load_matrix_sync", site);
    const unsigned lane = sinter::simt::detail::lane_id();
    for (int j = 0; j < f.num_elements; ++j)
        f.x[j] = p[emulated::offset<T>(f.row(lane, j), f.col(lane, j), ldm, layout == mem_row_major)];
}

template <class T>
void store_matrix_sync(T* p, const fragment<accumulator, 16, 16, 16, T>& f, unsigned ldm, layout_t layout,
                       std::source_location site = std::source_location::current()) {
    emulated::check_access(p, ldm, layout, "wmma::store_matrix_sync", site);
    const unsigned lane = sinter::simt::detail::lane_id();
    for (int j = 0; j < f.num_elements; ++j) p[emulated::offset<T>(f.row(lane, j), f.col(lane, j), ldm, layout == mem_row_major)] = f.x[j];
}

template <class T, class LayoutA, class LayoutB>
void mma_sync(fragment<accumulator, 16, 16, 16, float>& d, const fragment<matrix_a, 16, 16, 16, T, LayoutA>& a,
              const fragment<matrix_b, 16, 16, 16, T, LayoutB>& b, const fragment<accumulator, 16, 16, 16, float>& c,
              std::source_location site = std::source_location::current()) {
    using A = fragment<matrix_a, 16, 16, 16, T, LayoutA>;
    using C = fragment<accumulator, 16, 16, 16, float>;
    struct Operands {
        T a[A::num_elements], b[A::num_elements];
        float c[C::num_elements];
    } mine, all[32];
    std::memcpy(mine.a, a.x, sizeof mine.a);
    std::memcpy(mine.b, b.x, sizeof mine.b);
    std::memcpy(mine.c, c.x, sizeof mine.c);
    sinter::simt::detail::warp_exchange(mine, all, site, "wmma::mma_sync");
    float Am[16][16], Bm[16][16], Cm[16][16];
    for (unsigned lane = 0; lane < 32; ++lane)
        for (int j = 0; j < A::num_elements; ++j) {
            Am[A::row(lane, j)][A::col(lane, j)] = sinter::to_float(all[lane].a[j]);
            Bm[A::row(lane, j)][A::col(lane, j)] = sinter::to_float(all[lane].b[j]);  // same 16 x 16 distribution
            Cm[C::row(lane, j)][C::col(lane, j)] = all[lane].c[j];
        }
    const unsigned lane = sinter::simt::detail::lane_id();
    for (int j = 0; j < C::num_elements; ++j) {
        const int m = C::row(lane, j), n = C::col(lane, j);
        float sum = Cm[m][n];
        for (int k = 0; k < 16; ++k) sum += Am[m][k] * Bm[k][n];
        d.x[j] = sum;
    }
}

}  // namespace nvcuda::wmma
