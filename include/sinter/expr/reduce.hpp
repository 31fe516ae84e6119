#pragma once
// Row reductions inside element-wise trees (tier 2). A reduction reduces its operand's last axis
// and keeps it as an extent of 1, so `x - row_mean(x)` broadcasts back over the row.
//
// An expression holding reductions is evaluated one row at a time by a *group* of threads (the
// host evaluator: one thread; CUDA: a warp or a block). For each row the evaluator first calls
// prepare(group, row): each reduction node reduces its operand cooperatively (fp32, a group-wide
// all-reduce) and keeps the result; then load() reads it. Variance is two-pass, never
// E[x^2] - E[x]^2, which loses everything at a mean of 1e4.
//
// A group provides lane(), size(), all_reduce(x, op) (every lane gets the result) and `width`,
// the number of consecutive elements a lane loads at once.
#include <limits>

#include "ops.hpp"

namespace sinter::expr {

// One thread, N consecutive elements a load (the host evaluator: N = 8 where every operand allows
// it, so that the compiler can keep the row's loops in vector registers).
template <int N = 1>
struct SerialGroup {
    static constexpr int width = N;
    SINTER_HD int lane() const { return 0; }
    SINTER_HD int size() const { return 1; }
    template <class Op>
    SINTER_HD float all_reduce(float x, Op) const { return x; }
};

// Reduces transform(x) with combine over the last axis of `x` at `row` (its last index ignored).
// Each of a load's N lanes keeps its own partial result, combined pairwise at the end: no chain of
// N dependent combines per load (for a sum, also the more accurate order).
template <class G, class X, class Transform, class Combine, int R>
SINTER_HD float row_reduce(G& g, const X& x, Index<R> row, Transform transform, Combine combine,
                           float init) {
    constexpr int N = G::width;
    static_assert(N > 0 && (N & (N - 1)) == 0, "a group's width is a power of two");
    const index_t cols = x.shape().cols();
    Vec<N> acc = splat<N>(init);
    for (index_t c = index_t(g.lane()) * N; c < cols; c += index_t(g.size()) * N) {
        row[R - 1] = c;
        const Vec<N> v = x.template load<N>(row);
SINTER_UNROLL
        for (int k = 0; k < N; ++k) acc[k] = combine(acc[k], transform(v[k]));
    }
SINTER_UNROLL
    for (int half = N / 2; half > 0; half /= 2)
SINTER_UNROLL
        for (int k = 0; k < half; ++k) acc[k] = combine(acc[k], acc[k + half]);
    return g.all_reduce(acc[0], combine);
}

namespace detail {
template <class S, class Seq>
struct row_shape_impl;
template <class S, std::size_t... I>
struct row_shape_impl<S, std::index_sequence<I...>> {
    using type = Shape<S::static_extents[I]..., 1>;
};
}  // namespace detail

// The mean of x's row. Summed as x - x[0] and shifted back: at a mean of 1e4 a plain f32 sum of
// 768 values loses ~1e-2 to rounding, the shifted one keeps ~1e-6 (the "shifted data" algorithm).
template <class G, class X, int R>
SINTER_HD float row_mean_of(G& g, const X& x, Index<R> row) {
    if (x.shape().cols() == 0) return f32_nan;  // the mean of nothing; and there is no first element
    row[R - 1] = 0;
    const float shift = x.template load<1>(row)[0];
    struct minus {
        float s;
        SINTER_HD float operator()(float v) const { return v - s; }
    };
    return shift + row_reduce(g, x, row, minus{shift}, op::add{}, 0.f) / float(x.shape().cols());
}

template <class X>
using row_shape_t = typename detail::row_shape_impl<
    typename X::shape_type, std::make_index_sequence<X::shape_type::rank - 1>>::type;

template <class X>
row_shape_t<X> row_shape(const X& x) {
    using S = row_shape_t<X>;
    std::array<index_t, S::rank> all{};
    for (int d = 0; d + 1 < S::rank; ++d) all[d] = x.shape().extent(d);
    all[S::rank - 1] = 1;
    return S(all);
}

enum class RowKind { sum, max, mean, var };

template <RowKind Kind, class X>
struct RowReduce : OperandFacts<X> {
    static constexpr bool has_reduction = true;
    using shape_type = row_shape_t<X>;

    X x_;
    shape_type shape_;
    float value_ = 0.f;

    struct minus_squared {
        float mean;
        SINTER_HD float operator()(float v) const { return (v - mean) * (v - mean); }
    };

    SINTER_HD const shape_type& shape() const { return shape_; }
    template <int N, int R>
    SINTER_HD Vec<N> load(const Index<R>&) const {
        return splat<N>(value_);
    }
    template <class G, int R>
    SINTER_HD void prepare(G& g, const Index<R>& row) {
        if constexpr (X::has_reduction) x_.prepare(g, row);
        const float cols = float(x_.shape().cols());
        if constexpr (Kind == RowKind::max) {
            value_ = row_reduce(g, x_, row, op::identity{}, op::max{},
                                   -f32_inf);
        } else if constexpr (Kind == RowKind::sum) {
            value_ = row_reduce(g, x_, row, op::identity{}, op::add{}, 0.f);
        } else {
            const float mean = row_mean_of(g, x_, row);
            value_ = Kind == RowKind::mean
                         ? mean
                         : row_reduce(g, x_, row, minus_squared{mean}, op::add{}, 0.f) / cols;
        }
    }
    template <int N>
    bool vectorizable() const {
        return x_.shape().cols() % N == 0 && x_.template vectorizable<N>();
    }
};

template <RowKind Kind, NodeOperand X>
auto row_reduction(const X& x) {
    auto e = as_expr(x);
    static_assert(decltype(e)::shape_type::rank >= 1, "a row reduction needs an operand of rank >= 1");
    return RowReduce<Kind, decltype(e)>{{}, e, row_shape(e)};
}

template <NodeOperand X> auto row_sum(const X& x) { return row_reduction<RowKind::sum>(x); }
template <NodeOperand X> auto row_max(const X& x) { return row_reduction<RowKind::max>(x); }
template <NodeOperand X> auto row_mean(const X& x) { return row_reduction<RowKind::mean>(x); }
// Biased (population) variance, as LayerNorm uses.
template <NodeOperand X> auto row_var(const X& x) { return row_reduction<RowKind::var>(x); }

}  // namespace sinter::expr
