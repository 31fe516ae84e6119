#pragma once
// Shape<E...>: extents known at compile time, or `dyn` (known at run time). `Shape<dyn, 768>` is
// "any number of rows of 768". A Shape value holds the run-time extents; static ones are also
// constants of the type, so index arithmetic over them folds.
#include <array>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include "config.hpp"
#include "diag.hpp"
#include "error.hpp"

namespace sinter {

inline constexpr index_t dyn = -1;

template <index_t... E>
struct Shape {
    static constexpr int rank = sizeof...(E);
    static constexpr std::array<index_t, sizeof...(E)> static_extents{E...};
    static constexpr int dynamic_count = ((E == dyn ? 1 : 0) + ... + 0);
    static constexpr bool is_static = dynamic_count == 0;

    static_assert(((E == dyn || E >= 0) && ...), "Shape extents are >= 0 or sinter::dyn");

    // Run-time copy of every extent (a C array: std::array is not usable in device code).
    index_t extents_[sizeof...(E) > 0 ? sizeof...(E) : 1]{(E == dyn ? 0 : E)...};

    constexpr Shape() = default;

    // All extents; static ones must agree.
    constexpr explicit Shape(const std::array<index_t, rank>& all) {
        for (int d = 0; d < rank; ++d) {
            extents_[d] = all[d];
            if (all[d] < 0)
                throw shape_error("Shape: extent " + std::to_string(d) + " is negative (" +
                                  std::to_string(all[d]) + ")");
            if (static_extents[d] != dyn && static_extents[d] != all[d])
                throw shape_error("Shape: extent " + std::to_string(d) + " is static " +
                                  std::to_string(static_extents[d]) + " but " +
                                  std::to_string(all[d]) + " was given");
        }
    }

    // Only the dynamic extents, in order: Shape<dyn, 768>::from_dynamic({rows}).
    static constexpr Shape from_dynamic(const std::array<index_t, dynamic_count>& dynamic) {
        std::array<index_t, rank> all{};
        int k = 0;
        for (int d = 0; d < rank; ++d) all[d] = static_extents[d] == dyn ? dynamic[k++] : static_extents[d];
        return Shape(all);
    }

    // Usable in device code (no array lookup): dyn for a run-time extent.
    SINTER_HD static constexpr index_t static_extent(int d) {
        index_t r = dyn;
        int k = 0;
        ((k++ == d ? (r = E, 0) : 0), ...);
        return r;
    }
    SINTER_HD constexpr index_t extent(int d) const {
        const index_t s = static_extent(d);
        return s != dyn ? s : extents_[d];
    }
    SINTER_HD constexpr index_t size() const {
        index_t n = 1;
        for (int d = 0; d < rank; ++d) n *= extent(d);
        return n;
    }
    // Row-major, contiguous.
    SINTER_HD constexpr index_t stride(int d) const {
        index_t s = 1;
        for (int k = d + 1; k < rank; ++k) s *= extent(k);
        return s;
    }
    // Product of all but the last extent: the rows of a row-wise evaluation.
    SINTER_HD constexpr index_t rows() const {
        index_t n = 1;
        for (int d = 0; d + 1 < rank; ++d) n *= extent(d);
        return n;
    }
    SINTER_HD constexpr index_t cols() const { return rank == 0 ? 1 : extent(rank - 1); }

    std::string str() const {
        std::string s = "(";
        for (int d = 0; d < rank; ++d) s += (d ? ", " : "") + std::to_string(extent(d));
        return s + ")";
    }
};

template <class T>
inline constexpr bool is_shape_v = false;
template <index_t... E>
inline constexpr bool is_shape_v<Shape<E...>> = true;

template <class T>
concept ShapeType = is_shape_v<T>;

// A multi-index into a rank-R space.
template <int R>
struct Index {
    index_t i[R > 0 ? R : 1];
    SINTER_HD index_t& operator[](int d) { return i[d]; }
    SINTER_HD index_t operator[](int d) const { return i[d]; }
};

namespace detail {

// ---- Broadcasting (right-aligned, numpy rules) at compile time ------------------------------

constexpr bool extents_compatible(index_t a, index_t b) {
    return a == dyn || b == dyn || a == b || a == 1 || b == 1;
}

constexpr index_t broadcast_extent(index_t a, index_t b) {
    if (a == b) return a;
    if (a == 1) return b;
    if (b == 1) return a;
    if (a == dyn) return b;  // b is static and not 1: a must be b or 1 at run time
    return a;                // b == dyn
}

template <class A, class B>
constexpr bool shapes_broadcast() {
    constexpr int n = A::rank < B::rank ? A::rank : B::rank;
    for (int k = 1; k <= n; ++k)
        if (!extents_compatible(A::static_extents[A::rank - k], B::static_extents[B::rank - k]))
            return false;
    return true;
}

template <class A, class B, class Seq>
struct broadcast_shape_impl;
template <class A, class B, std::size_t... I>
struct broadcast_shape_impl<A, B, std::index_sequence<I...>> {
    static constexpr int R = sizeof...(I);
    static constexpr index_t at(const auto& ext, int rank, int d) {  // d in the result's frame
        const int k = d - (R - rank);
        return k < 0 ? 1 : ext[k];
    }
    using type = Shape<broadcast_extent(at(A::static_extents, A::rank, int(I)),
                                        at(B::static_extents, B::rank, int(I)))...>;
};

}  // namespace detail

// The shape two operands broadcast to. Same ranks with a mismatch: an element-wise extent error;
// different ranks (or a 1 involved): a broadcasting error.
template <class A, class B>
struct broadcast_shape {
    static constexpr bool ok = detail::shapes_broadcast<A, B>();
    static_assert(diag::check<std::conditional_t<A::rank == B::rank,
                                                 diag::elementwise_extents_must_match,
                                                 diag::broadcast_extents_must_be_equal_or_1>,
                              A, B, ok>::value);
    using type = typename detail::broadcast_shape_impl<
        A, B, std::make_index_sequence<(A::rank > B::rank ? A::rank : B::rank)>>::type;
};
template <class A, class B>
using broadcast_shape_t = typename broadcast_shape<A, B>::type;

// Run-time extents of a broadcast; a mismatch is a shape_error naming the axis and both sizes.
template <class Out, class A, class B>
Out broadcast_extents(const A& a, const B& b, const char* what) {
    std::array<index_t, Out::rank> all{};
    for (int d = 0; d < Out::rank; ++d) {
        const int ka = d - (Out::rank - A::rank), kb = d - (Out::rank - B::rank);
        const index_t ea = ka < 0 ? 1 : a.extent(ka), eb = kb < 0 ? 1 : b.extent(kb);
        if (ea != eb && ea != 1 && eb != 1)
            throw shape_error(std::string(what) + ": operands " + a.str() + " and " + b.str() +
                              " do not broadcast: axis " + std::to_string(d) + " has " +
                              std::to_string(ea) + " vs " + std::to_string(eb));
        all[d] = ea == 1 ? eb : ea;
    }
    return Out(all);
}

}  // namespace sinter
