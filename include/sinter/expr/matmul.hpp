#pragma once
// Contractions (tier 3). matmul(a, b) of a (M, K) and a (K, N) operand; transpose(w) views a
// (N, K) nn.Linear weight as (K, N). A Matmul node only describes the product: eval hands it, with
// the epilogue around it, to a GEMM engine (contraction.hpp), never to the element-wise loop.
#include "node.hpp"

namespace sinter::expr {

// A rank-2 tensor read with its axes swapped.
template <class T, class S, class Space>
struct Transposed : TerminalFacts<int(sizeof(T)), Space> {
    using shape_type = Shape<S::static_extents[1], S::static_extents[0]>;

    const T* data_;
    S source_shape_;  // (N, K) as stored
    shape_type shape_;

    SINTER_HD const shape_type& shape() const { return shape_; }
    template <int N, int R>
    SINTER_HD Vec<N> load(const Index<R>& i) const {
        const index_t k = shape_.extent(0) == 1 ? 0 : i[R - 2];
        const index_t n0 = i[R - 1];
        const index_t ld = source_shape_.extent(1);
        Vec<N> v;
SINTER_UNROLL
        for (int l = 0; l < N; ++l)
            v[l] = to_float(data_[(shape_.extent(1) == 1 ? 0 : n0 + l) * ld + k]);
        return v;
    }
    template <int N>
    bool vectorizable() const {
        return true;  // strided scalar loads
    }
};

template <class V>
    requires is_tensor_v<V>
auto transpose(const V& w) {
    using S = typename V::shape_type;
    static_assert(diag::check<diag::matmul_operands_must_have_rank_2, S, S, S::rank == 2>::value);
    using X = Transposed<std::remove_const_t<typename V::value_type>, S, typename V::space>;
    typename X::shape_type shape(std::array<index_t, 2>{w.extent(1), w.extent(0)});
    return X{{}, w.data(), w.shape(), shape};
}

template <class A, class B>
struct Matmul : OperandFacts<A, B> {
    static constexpr bool has_contraction = true;
    using shape_type =
        Shape<A::shape_type::static_extents[0], B::shape_type::static_extents[1]>;

    A a_;
    B b_;
    shape_type shape_;

    SINTER_HD const shape_type& shape() const { return shape_; }
};

template <NodeOperand X, NodeOperand Y>
auto matmul(const X& x, const Y& y) {
    auto a = as_expr(x);
    auto b = as_expr(y);
    using SA = typename decltype(a)::shape_type;
    using SB = typename decltype(b)::shape_type;
    static_assert(diag::check<diag::matmul_operands_must_have_rank_2, SA, SB,
                              SA::rank == 2 && SB::rank == 2>::value);
    constexpr index_t ka = SA::static_extent(SA::rank - 1), kb = SB::static_extent(0);
    static_assert(diag::check<diag::matmul_inner_extents_must_match, SA, SB,
                              ka == dyn || kb == dyn || ka == kb>::value);
    if (a.shape().extent(1) != b.shape().extent(0))
        throw shape_error("matmul: inner extents differ: " + a.shape().str() + " x " +
                          b.shape().str() + " (" + std::to_string(a.shape().extent(1)) + " vs " +
                          std::to_string(b.shape().extent(0)) + ")");
    if (a.shape().extent(1) == 0)
        throw shape_error("matmul: the inner extent of " + a.shape().str() + " x " + b.shape().str() + " is 0");
    using M = Matmul<decltype(a), decltype(b)>;
    typename M::shape_type shape(std::array<index_t, 2>{a.shape().extent(0), b.shape().extent(1)});
    return M{{}, a, b, shape};
}

}  // namespace sinter::expr
