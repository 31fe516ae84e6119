#pragma once
// layer_norm and softmax: row reductions plus an element-wise part, one node each so that the
// statistics are computed once per row and the operand is read a minimum number of times
// (mean, then squared deviations, then the output: three reads of a row that stays in cache).
#include "reduce.hpp"

namespace sinter::expr {

// (x - mean) * rsqrt(var + eps) * gamma + beta over the last axis; var is biased, eps added in f32.
template <class X, class Gm, class Bt>
struct LayerNorm : OperandFacts<X, Gm, Bt> {
    static constexpr bool has_reduction = true;
    using shape_type = typename X::shape_type;

    X x_;
    Gm gamma_;
    Bt beta_;
    float eps_;
    float mean_ = 0.f, rstd_ = 0.f;

    SINTER_HD const shape_type& shape() const { return x_.shape(); }
    template <class G, int R>
    SINTER_HD void prepare(G& g, const Index<R>& row) {
        if constexpr (X::has_reduction) x_.prepare(g, row);
        if constexpr (Gm::has_reduction) gamma_.prepare(g, row);
        if constexpr (Bt::has_reduction) beta_.prepare(g, row);
        const float n = float(x_.shape().cols());
        mean_ = row_mean_of(g, x_, row);
        const float var =
            row_reduce(g, x_, row, typename RowReduce<RowKind::var, X>::minus_squared{mean_},
                       op::add{}, 0.f) / n;
        rstd_ = op::rsqrt{}(var + eps_);
    }
    template <int N, int R>
    SINTER_HD Vec<N> load(const Index<R>& i) const {
        Vec<N> x = x_.template load<N>(i);
        const Vec<N> g = gamma_.template load<N>(i);
        const Vec<N> b = beta_.template load<N>(i);
SINTER_UNROLL
        for (int k = 0; k < N; ++k) x[k] = (x[k] - mean_) * rstd_ * g[k] + b[k];
        return x;
    }
    template <int N>
    bool vectorizable() const {
        return x_.shape().cols() % N == 0 && x_.template vectorizable<N>() &&
               gamma_.template vectorizable<N>() &&
               beta_.template vectorizable<N>();
    }
};

template <NodeOperand X, Operand Gm, Operand Bt>
auto layer_norm(const X& x, const Gm& gamma, const Bt& beta, float eps) {
    auto xe = as_expr(x);
    auto ge = as_expr(gamma);
    auto be = as_expr(beta);
    using XS = typename decltype(xe)::shape_type;
    static_assert(XS::rank >= 1, "layer_norm needs an operand of rank >= 1");
    // gamma and beta must broadcast to x without growing it.
    (void)broadcast_extents<broadcast_shape_t<XS, typename decltype(ge)::shape_type>>(
        xe.shape(), ge.shape(), "layer_norm gamma");
    (void)broadcast_extents<broadcast_shape_t<XS, typename decltype(be)::shape_type>>(
        xe.shape(), be.shape(), "layer_norm beta");
    static_assert(broadcast_shape_t<XS, typename decltype(ge)::shape_type>::rank == XS::rank &&
                      broadcast_shape_t<XS, typename decltype(be)::shape_type>::rank == XS::rank,
                  "layer_norm: gamma and beta cannot have a higher rank than x");
    return LayerNorm<decltype(xe), decltype(ge), decltype(be)>{{}, xe, ge, be, eps};
}

// Numerically safe exp(x - max): 0 for x = -inf, so a row of -inf gives a zero sum, not NaN.
struct exp_shifted {
    float max;
    SINTER_HD float operator()(float v) const {
        return v == -f32_inf ? 0.f : ::expf(v - max);
    }
};

// softmax over the last axis of x (X already holds the mask as -inf where masked). A row with no
// finite entry (fully masked) gives zeros.
template <class X>
struct Softmax : OperandFacts<X> {
    static constexpr bool has_reduction = true;
    using shape_type = typename X::shape_type;

    X x_;
    float max_ = 0.f, inv_sum_ = 0.f;

    SINTER_HD const shape_type& shape() const { return x_.shape(); }
    template <class G, int R>
    SINTER_HD void prepare(G& g, const Index<R>& row) {
        if constexpr (X::has_reduction) x_.prepare(g, row);
        max_ = row_reduce(g, x_, row, op::identity{}, op::max{},
                          -f32_inf);
        const float sum = row_reduce(g, x_, row, exp_shifted{max_}, op::add{}, 0.f);
        inv_sum_ = sum > 0.f ? 1.f / sum : 0.f;
    }
    template <int N, int R>
    SINTER_HD Vec<N> load(const Index<R>& i) const {
        Vec<N> x = x_.template load<N>(i);
SINTER_UNROLL
        for (int k = 0; k < N; ++k) x[k] = exp_shifted{max_}(x[k]) * inv_sum_;
        return x;
    }
    template <int N>
    bool vectorizable() const {
        return x_.shape().cols() % N == 0 && x_.template vectorizable<N>();
    }
};

template <NodeOperand X>
auto softmax(const X& x) {
    auto e = as_expr(x);
    static_assert(decltype(e)::shape_type::rank >= 1, "softmax needs an operand of rank >= 1");
    return Softmax<decltype(e)>{{}, e};
}

// softmax over the positions where mask != 0; masked positions get 0, a fully masked row zeros.
// The mask broadcasts: (B, S) keys against (B, NH, S, S) scores, say, as a (B, 1, 1, S) view.
template <NodeOperand X, NodeOperand M>
auto masked_softmax(const X& x, const M& mask) {
    return softmax(where(mask, x, -f32_inf));
}

}  // namespace sinter::expr
