#pragma once
// The SIMT emulator's stand-in for CUDA's <mma.h> (nvcuda::wmma), 16x16x16 shapes only, computed on
// the host. WMMA leaves the fragment layout unspecified, so each kind here has its own, and a kernel
// that assumed any (say, that an accumulator's x[j] is the same element as a matrix_a's, or that
// x[j] is a given row and column) computes the wrong thing: matrix_a is striped across the lanes in
// row-major order, matrix_b in column-major order, an accumulator is blocked (eight consecutive
// row-major elements per lane). Fragments have as many elements as CUDA's <mma.h> gives them: 16
// per lane for f16 matrix_a and matrix_b, where each operand element is held twice, 8 otherwise.
// The CUDA Programming Guide's rules are checked (misuse is a simt::error): every lane passes the
// same pointer, stride and layout; the pointer is 256-bit aligned; ldm is a multiple of 16 bytes;
// and the two copies of an f16 operand element agree when mma_sync reads them (a kernel that
// changed elements x[0..7] only, as if there were 8, would fail there).
#include <cstddef>
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
    static constexpr bool is_a = std::is_same_v<Use, matrix_a>, is_b = std::is_same_v<Use, matrix_b>;
    static constexpr int rows = is_b ? K : M;
    static constexpr int cols = is_a ? K : N;
    static constexpr int num_elements = (is_a || is_b) && std::is_same_v<T, __half> ? 16 : 8;
    static constexpr int distinct = rows * cols / 32;  // elements per lane; the rest repeat them
    T x[num_elements];
    // Element j of this lane is element e of the operand (see the top of this file).
    static int index(unsigned lane, int j) {
        j %= distinct;
        return std::is_same_v<Use, accumulator> ? int(lane) * distinct + j : int(lane) + 32 * j;
    }
    static int row(unsigned lane, int j) { return is_b ? index(lane, j) % rows : index(lane, j) / cols; }
    static int col(unsigned lane, int j) { return is_b ? index(lane, j) / rows : index(lane, j) % cols; }
    // Where that element is in memory of stride ldm, row- or column-major.
    static std::size_t offset(unsigned lane, int j, unsigned ldm, bool row_major_memory) {
        return row_major_memory ? std::size_t(row(lane, j)) * ldm + col(lane, j)
                                : std::size_t(col(lane, j)) * ldm + row(lane, j);
    }
};

namespace emulated {

struct Access {
    const void* pointer;
    unsigned ldm;
    int layout;
};

// The rules on every lane's (pointer, ldm, layout): the same in all lanes, the pointer 256-bit
// aligned, ldm a multiple of 16 bytes.
template <class T>
void check_access(const Access (&all)[32], const char* what, const std::source_location& site) {
    using namespace sinter::simt::detail;
    for (const Access& a : all)
        if (a.pointer != all[0].pointer || a.ldm != all[0].ldm || a.layout != all[0].layout)
            fail(std::string(what) + " at " + where(site) + ": lanes pass different pointers, strides or layouts");
    if (reinterpret_cast<std::uintptr_t>(all[0].pointer) % 32 != 0)
        fail(std::string(what) + " at " + where(site) + ": the pointer is not 256-bit aligned");
    if (all[0].ldm * sizeof(T) % 16 != 0)
        fail(std::string(what) + " at " + where(site) + ": ldm " + std::to_string(all[0].ldm) +
             " is not a multiple of 16 bytes");
}

template <class Fragment>
struct Elements {
    std::remove_cv_t<std::remove_reference_t<decltype(Fragment{}.x[0])>> x[Fragment::num_elements];
};

// The whole warp's load, at once: lane l's elements of the operand at `p`.
template <class Fragment, class T>
void load(Fragment& f, const T* p, unsigned ldm, bool row_major_memory, const std::source_location& site) {
    const auto mine = sinter::simt::detail::warp_collective<Elements<Fragment>>(
        Access{p, ldm, row_major_memory}, [&](const Access (&all)[32], Elements<Fragment> (&out)[32]) {
            check_access<T>(all, "wmma::load_matrix_sync", site);
            for (unsigned lane = 0; lane < 32; ++lane)
                for (int j = 0; j < Fragment::num_elements; ++j)
                    out[lane].x[j] = p[Fragment::offset(lane, j, ldm, row_major_memory)];
        }, site, "wmma::load_matrix_sync");
    std::memcpy(f.x, mine.x, sizeof f.x);
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
    emulated::load(f, p, ldm, std::is_same_v<Layout, row_major>, site);
}

template <class T>
void load_matrix_sync(fragment<accumulator, 16, 16, 16, T>& f, const T* p, unsigned ldm, layout_t layout,
                      std::source_location site = std::source_location::current()) {
    emulated::load(f, p, ldm, layout == mem_row_major, site);
}

// The whole warp's store, at once.
template <class T>
void store_matrix_sync(T* p, const fragment<accumulator, 16, 16, 16, T>& f, unsigned ldm, layout_t layout,
                       std::source_location site = std::source_location::current()) {
    using F = fragment<accumulator, 16, 16, 16, T>;
    struct Store {
        emulated::Access access;
        T x[F::num_elements];
    } mine{{p, ldm, layout == mem_row_major}, {}};
    std::memcpy(mine.x, f.x, sizeof mine.x);
    sinter::simt::detail::warp_collective<sinter::simt::detail::Nothing>(mine, [&](const Store (&all)[32], auto&) {
        emulated::Access access[32];
        for (unsigned lane = 0; lane < 32; ++lane) access[lane] = all[lane].access;
        emulated::check_access<T>(access, "wmma::store_matrix_sync", site);
        for (unsigned lane = 0; lane < 32; ++lane)
            for (int j = 0; j < F::num_elements; ++j)
                p[F::offset(lane, j, ldm, layout == mem_row_major)] = all[lane].x[j];
    }, site, "wmma::store_matrix_sync");
}

template <class T, class LayoutA, class LayoutB>
void mma_sync(fragment<accumulator, 16, 16, 16, float>& d, const fragment<matrix_a, 16, 16, 16, T, LayoutA>& a,
              const fragment<matrix_b, 16, 16, 16, T, LayoutB>& b, const fragment<accumulator, 16, 16, 16, float>& c,
              std::source_location site = std::source_location::current()) {
    using A = fragment<matrix_a, 16, 16, 16, T, LayoutA>;
    using B = fragment<matrix_b, 16, 16, 16, T, LayoutB>;
    using C = fragment<accumulator, 16, 16, 16, float>;
    struct Operands {
        T a[A::num_elements], b[B::num_elements];
        float c[C::num_elements];
    } mine;
    std::memcpy(mine.a, a.x, sizeof mine.a);
    std::memcpy(mine.b, b.x, sizeof mine.b);
    std::memcpy(mine.c, c.x, sizeof mine.c);
    const auto result = sinter::simt::detail::warp_collective<emulated::Elements<C>>(
        mine, [&](const Operands (&all)[32], emulated::Elements<C> (&out)[32]) {
            float Am[16][16], Bm[16][16], Cm[16][16];
            // An operand's elements into its matrix; where a fragment holds each element twice, the
            // two copies must agree.
            const auto gather = [&](auto fragment_type, const T* x, unsigned lane, float (&m)[16][16], const char* what) {
                using F = decltype(fragment_type);
                for (int j = 0; j < F::num_elements; ++j) {
                    if (j >= F::distinct && std::memcmp(&x[j], &x[j - F::distinct], sizeof(T)) != 0)
                        sinter::simt::detail::fail("wmma::mma_sync at " + sinter::simt::detail::where(site) +
                                                   ": the two copies of a " + what + " element differ (x[" +
                                                   std::to_string(j) + "] of lane " + std::to_string(lane) + ")");
                    m[F::row(lane, j)][F::col(lane, j)] = sinter::to_float(x[j]);
                }
            };
            for (unsigned lane = 0; lane < 32; ++lane) {
                gather(A{}, all[lane].a, lane, Am, "matrix_a");
                gather(B{}, all[lane].b, lane, Bm, "matrix_b");
                for (int j = 0; j < C::num_elements; ++j) Cm[C::row(lane, j)][C::col(lane, j)] = all[lane].c[j];
            }
            for (unsigned lane = 0; lane < 32; ++lane)
                for (int j = 0; j < C::num_elements; ++j) {
                    const int m = C::row(lane, j), n = C::col(lane, j);
                    float sum = Cm[m][n];
                    for (int k = 0; k < 16; ++k) sum += Am[m][k] * Bm[k][n];
                    out[lane].x[j] = sum;
                }
        }, site, "wmma::mma_sync");
    std::memcpy(d.x, result.x, sizeof d.x);
}

}  // namespace nvcuda::wmma
