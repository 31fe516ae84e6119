#pragma once
// Element-wise op functors, the nodes that apply them (Map, Zip, Select), and the operators and
// factories users write. A new op is a functor and a factory: a few lines.
#include <cmath>

#include "node.hpp"

namespace sinter::expr {

namespace op {

struct add { SINTER_HD float operator()(float a, float b) const { return a + b; } };
struct sub { SINTER_HD float operator()(float a, float b) const { return a - b; } };
struct mul { SINTER_HD float operator()(float a, float b) const { return a * b; } };
struct div { SINTER_HD float operator()(float a, float b) const { return a / b; } };
struct max { SINTER_HD float operator()(float a, float b) const { return a > b ? a : b; } };
struct min { SINTER_HD float operator()(float a, float b) const { return a < b ? a : b; } };
struct neg { SINTER_HD float operator()(float a) const { return -a; } };
struct exp { SINTER_HD float operator()(float a) const { return ::expf(a); } };
struct tanh { SINTER_HD float operator()(float a) const { return ::tanhf(a); } };
struct sqrt { SINTER_HD float operator()(float a) const { return ::sqrtf(a); } };
struct square { SINTER_HD float operator()(float a) const { return a * a; } };
struct relu { SINTER_HD float operator()(float a) const { return a > 0.f ? a : 0.f; } };
struct identity { SINTER_HD float operator()(float a) const { return a; } };

struct rsqrt {
    SINTER_HD float operator()(float a) const {
#if defined(__CUDA_ARCH__)
        return ::rsqrtf(a);
#else
        return 1.f / std::sqrt(a);
#endif
    }
};

// BERT's GELU: 0.5 x (1 + erf(x / sqrt 2)).
struct gelu {
    SINTER_HD float operator()(float x) const { return 0.5f * x * (1.f + ::erff(x * 0.70710678118654752f)); }
};

// The tanh approximation ("gelu_new", "gelu_pytorch_tanh"): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
struct gelu_tanh {
    SINTER_HD float operator()(float x) const {
        return 0.5f * x * (1.f + ::tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    }
};

// Rounds through T: what storing in T and reading back gives.
template <class T>
struct cast {
    SINTER_HD float operator()(float a) const { return to_float(from_float<T>(a)); }
};

// a != 0 ? b : c
struct select {
    SINTER_HD float operator()(float a, float b, float c) const { return a != 0.f ? b : c; }
};

}  // namespace op

template <class Op, class A>
struct Map : OperandFacts<A> {
    using shape_type = typename A::shape_type;

    Op op_;
    A a_;

    SINTER_HD shape_type shape() const { return a_.shape(); }
    template <int N, int R>
    SINTER_HD Vec<N> load(const Index<R>& i) const {
        Vec<N> v = a_.template load<N>(i);
SINTER_UNROLL
        for (int k = 0; k < N; ++k) v[k] = op_(v[k]);
        return v;
    }
    template <class G, int R>
    SINTER_HD void prepare(G& g, const Index<R>& row) {
        if constexpr (A::has_reduction) a_.prepare(g, row);
    }
    template <int N>
    bool vectorizable() const {
        return a_.template vectorizable<N>();
    }
};

template <class Op, class A, class B>
struct Zip : OperandFacts<A, B> {
    using shape_type = broadcast_shape_t<typename A::shape_type, typename B::shape_type>;

    Op op_;
    A a_;
    B b_;
    shape_type shape_;

    SINTER_HD const shape_type& shape() const { return shape_; }
    template <int N, int R>
    SINTER_HD Vec<N> load(const Index<R>& i) const {
        Vec<N> x = a_.template load<N>(i);
        const Vec<N> y = b_.template load<N>(i);
SINTER_UNROLL
        for (int k = 0; k < N; ++k) x[k] = op_(x[k], y[k]);
        return x;
    }
    template <class G, int R>
    SINTER_HD void prepare(G& g, const Index<R>& row) {
        if constexpr (A::has_reduction) a_.prepare(g, row);
        if constexpr (B::has_reduction) b_.prepare(g, row);
    }
    template <int N>
    bool vectorizable() const {
        return a_.template vectorizable<N>() && b_.template vectorizable<N>();
    }
};

template <class C, class A, class B>
struct Select : OperandFacts<C, A, B> {
    using shape_type = broadcast_shape_t<typename C::shape_type,
                                         broadcast_shape_t<typename A::shape_type, typename B::shape_type>>;

    C c_;
    A a_;
    B b_;
    shape_type shape_;

    SINTER_HD const shape_type& shape() const { return shape_; }
    template <int N, int R>
    SINTER_HD Vec<N> load(const Index<R>& i) const {
        const Vec<N> c = c_.template load<N>(i);
        Vec<N> x = a_.template load<N>(i);
        const Vec<N> y = b_.template load<N>(i);
SINTER_UNROLL
        for (int k = 0; k < N; ++k) x[k] = op::select{}(c[k], x[k], y[k]);
        return x;
    }
    template <class G, int R>
    SINTER_HD void prepare(G& g, const Index<R>& row) {
        if constexpr (C::has_reduction) c_.prepare(g, row);
        if constexpr (A::has_reduction) a_.prepare(g, row);
        if constexpr (B::has_reduction) b_.prepare(g, row);
    }
    template <int N>
    bool vectorizable() const {
        return c_.template vectorizable<N>() && a_.template vectorizable<N>() &&
               b_.template vectorizable<N>();
    }
};

// ---- factories ---------------------------------------------------------------------------------

template <class Op, Operand X>
auto map(Op op, const X& x) {
    return Map<Op, as_expr_t<X>>{{}, op, as_expr(x)};
}

template <class Op, Operand X, Operand Y>
auto zip(Op op, const X& x, const Y& y) {
    auto a = as_expr(x);
    auto b = as_expr(y);
    using Z = Zip<Op, decltype(a), decltype(b)>;
    return Z{{}, op, a, b,
             broadcast_extents<typename Z::shape_type>(a.shape(), b.shape(), "element-wise op")};
}

// where(c, a, b): a where c != 0, else b (c broadcasts like any operand: a mask).
template <Operand C, Operand X, Operand Y>
auto where(const C& c, const X& x, const Y& y) {
    auto ce = as_expr(c);
    auto a = as_expr(x);
    auto b = as_expr(y);
    using S = Select<decltype(ce), decltype(a), decltype(b)>;
    using AB = broadcast_shape_t<typename decltype(a)::shape_type, typename decltype(b)::shape_type>;
    const auto ab = broadcast_extents<AB>(a.shape(), b.shape(), "where");
    return S{{}, ce, a, b, broadcast_extents<typename S::shape_type>(ce.shape(), ab, "where")};
}

// At least one side of a binary operator must be a sinter expression or tensor.
template <class X, class Y>
concept BinaryOperands = Operand<X> && Operand<Y> &&
                         !(std::is_arithmetic_v<std::remove_cvref_t<X>> &&
                           std::is_arithmetic_v<std::remove_cvref_t<Y>>);

template <class X, class Y> requires BinaryOperands<X, Y>
auto operator+(const X& x, const Y& y) { return zip(op::add{}, x, y); }
template <class X, class Y> requires BinaryOperands<X, Y>
auto operator-(const X& x, const Y& y) { return zip(op::sub{}, x, y); }
template <class X, class Y> requires BinaryOperands<X, Y>
auto operator*(const X& x, const Y& y) { return zip(op::mul{}, x, y); }
template <class X, class Y> requires BinaryOperands<X, Y>
auto operator/(const X& x, const Y& y) { return zip(op::div{}, x, y); }
template <NodeOperand X>
auto operator-(const X& x) { return map(op::neg{}, x); }

template <class X, class Y> requires BinaryOperands<X, Y>
auto maximum(const X& x, const Y& y) { return zip(op::max{}, x, y); }
template <class X, class Y> requires BinaryOperands<X, Y>
auto minimum(const X& x, const Y& y) { return zip(op::min{}, x, y); }

template <NodeOperand X> auto exp(const X& x) { return map(op::exp{}, x); }
template <NodeOperand X> auto tanh(const X& x) { return map(op::tanh{}, x); }
template <NodeOperand X> auto sqrt(const X& x) { return map(op::sqrt{}, x); }
template <NodeOperand X> auto rsqrt(const X& x) { return map(op::rsqrt{}, x); }
template <NodeOperand X> auto square(const X& x) { return map(op::square{}, x); }
template <NodeOperand X> auto relu(const X& x) { return map(op::relu{}, x); }
template <NodeOperand X> auto gelu(const X& x) { return map(op::gelu{}, x); }
template <NodeOperand X> auto gelu_tanh(const X& x) { return map(op::gelu_tanh{}, x); }
template <FloatDtype T, NodeOperand X> auto cast(const X& x) { return map(op::cast<T>{}, x); }

}  // namespace sinter::expr
