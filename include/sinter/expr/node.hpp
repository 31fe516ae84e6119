#pragma once
// The expression protocol, and its leaves.
//
// Every node is a small copyable struct (it is passed to a kernel by value) with:
//   shape_type, shape()                 its Shape (static extents in the type, run-time in the value)
//   load<N>(Index<R> i) -> Vec<N>       N consecutive values along the last axis, in f32, at index i
//                                       of the R-rank evaluation space (R >= its rank; operands are
//                                       right-aligned and an extent of 1 broadcasts)
//   prepare(group, row)                 computes the row reductions it holds, for one row
//   vectorizable(N)                     whether load<N> may use N-wide aligned loads (host check)
//   min_elem_bytes, has_reduction, has_contraction, lives_in<Space>   compile-time facts
// The evaluators (eval_host.hpp, eval_cuda.cuh) are the only code that knows where it runs.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <vector_types.h>

#include "../core/dtype.hpp"
#include "../core/shape.hpp"
#include "../core/tensor.hpp"

namespace sinter::expr {

template <int N>
struct Vec {
    float v[N];
    SINTER_HD float& operator[](int k) { return v[k]; }
    SINTER_HD float operator[](int k) const { return v[k]; }
};

template <int N>
SINTER_HD Vec<N> splat(float x) {
    Vec<N> r;
SINTER_UNROLL
    for (int k = 0; k < N; ++k) r[k] = x;
    return r;
}

template <class T>
concept Expr = requires { T::is_sinter_expr; };

// Any space: scalars and nodes with no leaves.
struct any_space {};

// The compile-time facts of a node that reads memory (or a constant) itself: a terminal.
template <int ElemBytes, class Space>
struct TerminalFacts {
    static constexpr bool is_sinter_expr = true;
    static constexpr int min_elem_bytes = ElemBytes;
    static constexpr bool has_reduction = false;
    static constexpr bool has_contraction = false;
    template <class Sp>
    static constexpr bool lives_in = std::is_same_v<Space, any_space> || std::is_same_v<Sp, Space>;
    template <class G, int R>
    SINTER_HD void prepare(G&, const Index<R>&) {}
};

// The facts of a node over operands Xs: the narrowest element read, whether a reduction or a
// contraction sits below, where the operands live. A reduction or contraction node overrides one.
template <class... Xs>
struct OperandFacts {
    static constexpr bool is_sinter_expr = true;
    static constexpr int min_elem_bytes = std::min({16, Xs::min_elem_bytes...});
    static constexpr bool has_reduction = (Xs::has_reduction || ...);
    static constexpr bool has_contraction = (Xs::has_contraction || ...);
    template <class Sp>
    static constexpr bool lives_in = (Xs::template lives_in<Sp> && ...);
};

namespace detail {

template <int Bytes>
struct chunk_of;
template <> struct chunk_of<16> { using type = uint4; };
template <> struct chunk_of<8> { using type = uint2; };
template <> struct chunk_of<4> { using type = unsigned; };
template <> struct chunk_of<2> { using type = unsigned short; };
template <> struct chunk_of<1> { using type = unsigned char; };

// Loads or stores N elements in chunks of up to 16 bytes; the pointer is aligned to the chunk.
template <int N, class T>
SINTER_HD Vec<N> load_vec(const T* p) {
    Vec<N> r;
    if constexpr (N == 1) {
        r[0] = to_float(*p);
    } else {
        constexpr int bytes = N * int(sizeof(T));
        constexpr int chunk = bytes < 16 ? bytes : 16;
        alignas(chunk) T tmp[N];
#if defined(__CUDA_ARCH__)
        using C = typename chunk_of<chunk>::type;
SINTER_UNROLL
        for (int k = 0; k < bytes / chunk; ++k)
            reinterpret_cast<C*>(tmp)[k] = reinterpret_cast<const C*>(p)[k];
#else
        std::memcpy(tmp, p, bytes);
#endif
SINTER_UNROLL
        for (int k = 0; k < N; ++k) r[k] = to_float(tmp[k]);
    }
    return r;
}

template <int N, class T>
SINTER_HD void store_vec(T* p, const Vec<N>& v) {
    if constexpr (N == 1) {
        *p = from_float<T>(v[0]);
    } else {
        constexpr int bytes = N * int(sizeof(T));
        constexpr int chunk = bytes < 16 ? bytes : 16;
        alignas(chunk) T tmp[N];
SINTER_UNROLL
        for (int k = 0; k < N; ++k) tmp[k] = from_float<T>(v[k]);
#if defined(__CUDA_ARCH__)
        using C = typename chunk_of<chunk>::type;
SINTER_UNROLL
        for (int k = 0; k < bytes / chunk; ++k)
            reinterpret_cast<C*>(p)[k] = reinterpret_cast<const C*>(tmp)[k];
#else
        std::memcpy(p, tmp, bytes);
#endif
    }
}

// Where an operand of shape S sits in an R-rank index: right-aligned, extent 1 broadcasting.
// Returns the contiguous offset and whether the last axis broadcasts (so N lanes share a value).
template <class S, int R>
SINTER_HD index_t locate(const S& shape, const Index<R>& i, bool& splat_last) {
    static_assert(R >= S::rank, "an operand cannot have a higher rank than its expression");
    index_t off = 0;
SINTER_UNROLL
    for (int d = 0; d < S::rank; ++d) {
        const index_t e = shape.extent(d);
        off = off * e + (e == 1 ? 0 : i[R - S::rank + d]);
    }
    splat_last = S::rank == 0 || shape.extent(S::rank - 1) == 1;
    return off;
}

inline bool aligned(const void* p, std::size_t bytes) {
    return reinterpret_cast<std::uintptr_t>(p) % bytes == 0;
}

template <class T, int N>
inline constexpr std::size_t vec_alignment = N * sizeof(T) < 16 ? N * sizeof(T) : 16;

// A contiguous view that supports N-wide loads or stores at multiples of N along its last axis.
template <int N, class V>
bool view_vectorizable(const V& v) {
    using T = std::remove_const_t<typename V::value_type>;
    if (N == 1 || V::rank == 0) return true;
    const index_t last = v.extent(V::rank - 1);
    return last == 1 || (last % N == 0 && aligned(v.data(), vec_alignment<T, N>));
}

}  // namespace detail

// A tensor operand: reads a contiguous view.
template <class T, class S, class Space>
struct Leaf : TerminalFacts<int(sizeof(T)), Space> {
    using shape_type = S;

    const T* data_;
    S shape_;

    SINTER_HD const S& shape() const { return shape_; }

    template <int N, int R>
    SINTER_HD Vec<N> load(const Index<R>& i) const {
        bool splat_last;
        const index_t off = detail::locate(shape_, i, splat_last);
        if (splat_last) return splat<N>(to_float(data_[off]));
        return detail::load_vec<N>(data_ + off);
    }
    template <int N>
    bool vectorizable() const {
        return detail::view_vectorizable<N>(TensorView<const T, S, Space>(data_, shape_));
    }
};

// A number broadcast everywhere.
struct Scalar : TerminalFacts<16, any_space> {
    using shape_type = Shape<>;

    float value_;

    SINTER_HD shape_type shape() const { return {}; }
    template <int N, int R>
    SINTER_HD Vec<N> load(const Index<R>&) const {
        return splat<N>(value_);
    }
    template <int N>
    bool vectorizable() const {
        return true;
    }
};

// What may appear as an operand: a node, a tensor or view, or an arithmetic value.
template <class T>
concept Operand = Expr<std::remove_cvref_t<T>> || is_tensor_v<std::remove_cvref_t<T>> ||
                  std::is_arithmetic_v<std::remove_cvref_t<T>>;

// A node or a tensor: what a unary factory takes (so exp(1.0f) stays std::exp).
template <class T>
concept NodeOperand = Expr<std::remove_cvref_t<T>> || is_tensor_v<std::remove_cvref_t<T>>;

template <class X>
auto as_expr(const X& x) {
    using D = std::remove_cvref_t<X>;
    if constexpr (Expr<D>) {
        return x;
    } else if constexpr (is_tensor_v<D>) {
        using T = std::remove_const_t<typename D::value_type>;
        return Leaf<T, typename D::shape_type, typename D::space>{{}, x.data(), x.shape()};
    } else {
        static_assert(std::is_arithmetic_v<D>, "not a sinter operand");
        return Scalar{{}, static_cast<float>(x)};
    }
}

template <class X>
using as_expr_t = decltype(as_expr(std::declval<const X&>()));

}  // namespace sinter::expr
