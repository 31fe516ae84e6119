#pragma once
// Tier 3: how eval() evaluates an expression that holds a contraction. A matmul is never computed
// element by element: before evaluating, eval lowers the expression. A *linear form* is
//
//     matmul(a, b) [+ bias] [+ residual]   or   act(matmul(a, b) [+ bias])
//                                               act: gelu, gelu_tanh, relu or tanh
//
// (bias a tensor of N, residual a (rows, N) tensor, b an (K, N) tensor or transpose(W) of an
// nn.Linear weight W (N, K)) becomes one GemmCall on the evaluator's GEMM engine, the epilogue
// fused into it: cuBLASLt on a GPU (blas/gemm.cuh), a loop on the host (gemm_host.hpp). A linear
// form inside a larger expression is computed into a scratch tensor of the output's dtype, which
// the rest of the expression (tier 1 or 2) reads: layer_norm(matmul(x, transpose(W)) + b + r, g,
// beta, eps) is one GEMM with bias and residual fused, then one LayerNorm kernel. An epilogue the
// GEMM cannot take (a bias of another dtype or one that broadcasts, a residual that is not (rows,
// N)) runs as the plain GEMM plus one element-wise pass. GEMM operands that are not tensors of the
// output's dtype are first evaluated into scratch.
//
// The evaluator supplies a context: value_type, space, scratch(n) (memory that outlives the
// evaluation), gemm(GemmCall), copy(dst, src, n) and eval(view, expression).
#include <cstdint>
#include <string>

#include "gather.hpp"
#include "matmul.hpp"
#include "normalize.hpp"

namespace sinter::expr {

enum class Activation { none, gelu, gelu_tanh, relu, tanh };

inline const char* name(Activation a) {
    constexpr const char* names[] = {"none", "gelu", "gelu_tanh", "relu", "tanh"};
    return names[int(a)];
}

namespace op {
// An Activation chosen at run time: the one element-wise kernel with which a GEMM engine finishes
// any epilogue it could not fuse.
struct activation {
    Activation a;
    SINTER_HD float operator()(float x) const {
        switch (a) {
            case Activation::gelu: return gelu{}(x);
            case Activation::gelu_tanh: return gelu_tanh{}(x);
            case Activation::relu: return relu{}(x);
            case Activation::tanh: return tanh{}(x);
            default: return x;
        }
    }
};
}  // namespace op

// y (rows, N) = act(a (rows, K) op(b) + bias) + residual, op(b) = b^T for an (N, K) b
// (b_transposed) and b for a (K, N) one; row-major, contiguous. bias (N) and residual (rows, N)
// may be null; a residual goes with Activation::none only (cuBLASLt would apply the activation
// after adding it). residual may be y itself; no other operand overlaps y.
template <class T>
struct GemmCall {
    T* y;
    const T* a;
    const T* b;
    bool b_transposed;
    const T* bias;
    const T* residual;
    index_t rows, N, K;
    Activation activation;
};

// The precondition every engine checks before it runs `call` (`engine` names it in the error).
template <class T>
void check_gemm_call(const GemmCall<T>& call, const char* engine) {
    if (call.residual && call.activation != Activation::none)
        throw value_error(std::string(engine) + ": a residual goes with no activation, not " + name(call.activation));
}

namespace detail {

template <class Op> inline constexpr Activation activation_of = Activation::none;
template <> inline constexpr Activation activation_of<op::gelu> = Activation::gelu;
template <> inline constexpr Activation activation_of<op::gelu_tanh> = Activation::gelu_tanh;
template <> inline constexpr Activation activation_of<op::relu> = Activation::relu;
template <> inline constexpr Activation activation_of<op::tanh> = Activation::tanh;

template <class X> inline constexpr bool is_leaf = false;
template <class T, class S, class Sp> inline constexpr bool is_leaf<Leaf<T, S, Sp>> = true;
template <class X, class T> inline constexpr bool is_leaf_of = false;
template <class T, class S, class Sp> inline constexpr bool is_leaf_of<Leaf<T, S, Sp>, T> = true;
template <class X, class T> inline constexpr bool is_transposed_of = false;
template <class T, class S, class Sp> inline constexpr bool is_transposed_of<Transposed<T, S, Sp>, T> = true;
template <class X> inline constexpr bool is_matmul = false;
template <class A, class B> inline constexpr bool is_matmul<Matmul<A, B>> = true;

template <class X, int Rank>
concept LeafOfRank = is_leaf<X> && X::shape_type::rank == Rank;

// Which linear form E is, if any: whether it adds a bias, a residual, and its activation.
template <class E>
struct linear_form {
    static constexpr bool value = false;
};
template <class A, class B>
struct linear_form<Matmul<A, B>> {
    static constexpr bool value = true, bias = false, residual = false;
    static constexpr Activation act = Activation::none;
};
template <class A, class B, class L>  // + bias (a vector) or + residual (a matrix)
    requires LeafOfRank<L, 1> || LeafOfRank<L, 2>
struct linear_form<Zip<op::add, Matmul<A, B>, L>> {
    static constexpr bool value = true, bias = L::shape_type::rank == 1, residual = !bias;
    static constexpr Activation act = Activation::none;
};
template <class Op, class X>  // act(core [+ bias])
    requires(activation_of<Op> != Activation::none && linear_form<X>::value && !linear_form<X>::residual &&
             linear_form<X>::act == Activation::none)
struct linear_form<Map<Op, X>> {
    static constexpr bool value = true, bias = linear_form<X>::bias, residual = false;
    static constexpr Activation act = activation_of<Op>;
};
template <class X, class L>  // core + bias + residual
    requires(!is_matmul<X> && LeafOfRank<L, 2> && linear_form<X>::value && linear_form<X>::bias &&
             !linear_form<X>::residual && linear_form<X>::act == Activation::none)
struct linear_form<Zip<op::add, X, L>> {
    static constexpr bool value = true, bias = true, residual = true;
    static constexpr Activation act = Activation::none;
};

// The parts of a linear form.
template <class E>
const auto& matmul_of(const E& e) {
    if constexpr (is_matmul<E>) return e;
    else return matmul_of(e.a_);
}
template <class E>
const auto& bias_of(const E& e) {  // requires linear_form<E>::bias
    if constexpr (is_matmul<decltype(e.a_)>) return e.b_;
    else return bias_of(e.a_);
}

// The linear form with its matmul replaced by `core` (the GEMM's plain result): the epilogue as
// an element-wise expression.
template <class E, class Core>
auto with_core(const E& e, const Core& core) {
    if constexpr (is_matmul<E>) {
        return core;
    } else if constexpr (requires { e.b_; }) {
        auto a = with_core(e.a_, core);
        return Zip<op::add, decltype(a), std::remove_cvref_t<decltype(e.b_)>>{{}, e.op_, a, e.b_, e.shape_};
    } else {
        auto a = with_core(e.a_, core);
        return Map<std::remove_cvref_t<decltype(e.op_)>, decltype(a)>{{}, e.op_, a};
    }
}

// Whether the types alone guarantee that the GEMM takes all of e's epilogue: a bias of the
// output's dtype whose extent is N in both static shapes, no residual (its rows are run-time).
template <class E, class T>
constexpr bool always_fused() {
    using Form = linear_form<E>;
    if constexpr (Form::residual) {
        return false;
    } else if constexpr (Form::bias) {
        using Bias = std::remove_cvref_t<decltype(bias_of(std::declval<const E&>()))>;
        using MM = std::remove_cvref_t<decltype(matmul_of(std::declval<const E&>()))>;
        constexpr index_t n = MM::shape_type::static_extents[1];
        return is_leaf_of<Bias, T> && n != dyn && Bias::shape_type::static_extents[0] == n;
    } else {
        return true;
    }
}

// Whether n elements at p and m elements at q share a byte (any element types).
template <class T, class U>
bool overlap(const T* p, index_t n, const U* q, index_t m) {
    if (!p || !q || n <= 0 || m <= 0) return false;
    const auto a = reinterpret_cast<std::uintptr_t>(p), b = reinterpret_cast<std::uintptr_t>(q);
    return a < b + std::uintptr_t(m) * sizeof(U) && b < a + std::uintptr_t(n) * sizeof(T);
}

// Whether an epilogue operand (a bias or residual tensor) shares memory with y (`size` elements),
// other than by being y itself element for element (which an element-wise pass may read in place).
template <class T, class L>
bool overlaps_inexactly(const T* y, index_t size, const L& leaf) {
    const bool exact = static_cast<const void*>(leaf.data_) == static_cast<const void*>(y) &&
                       sizeof(*leaf.data_) == sizeof(T) && leaf.shape().size() == size;
    return !exact && overlap(y, size, leaf.data_, leaf.shape().size());
}

// x as a contiguous array of T: read in place when it is a tensor of T, else evaluated into scratch.
template <class Ctx, class X>
const typename Ctx::value_type* gemm_operand(Ctx& ctx, const X& x) {
    using T = typename Ctx::value_type;
    if constexpr (is_leaf_of<X, T>) {
        return x.data_;
    } else {
        T* s = ctx.scratch(x.shape().size());
        ctx.eval(TensorView<T, typename X::shape_type, typename Ctx::space>(s, x.shape()), x);
        return s;
    }
}

}  // namespace detail

template <class X>
inline constexpr bool is_linear_form = detail::linear_form<X>::value;

// Evaluates the linear form e into y (e's shape, contiguous); y may overlap any operand.
template <class Ctx, class E>
    requires is_linear_form<E>
void eval_linear(Ctx& ctx, typename Ctx::value_type* y, const E& e) {
    using T = typename Ctx::value_type;
    using Form = detail::linear_form<E>;
    using Space = typename Ctx::space;
    const auto& mm = detail::matmul_of(e);
    const index_t rows = mm.shape().extent(0), N = mm.shape().extent(1), K = mm.a_.shape().extent(1);
    GemmCall<T> call{y, nullptr, nullptr, false, nullptr, nullptr, rows, N, K, Form::act};
    call.a = detail::gemm_operand(ctx, mm.a_);
    if constexpr (detail::is_transposed_of<std::remove_cvref_t<decltype(mm.b_)>, T>) {
        call.b = mm.b_.data_;  // transpose(W): W (N, K) as stored
        call.b_transposed = true;
    } else {
        call.b = detail::gemm_operand(ctx, mm.b_);
    }
    bool fused = true;  // whether the GEMM takes the whole epilogue
    if constexpr (Form::bias) {
        const auto& bias = detail::bias_of(e);
        if constexpr (detail::is_leaf_of<std::remove_cvref_t<decltype(bias)>, T>) {
            call.bias = bias.data_;
            fused = fused && bias.shape().extent(0) == N;
        } else {
            fused = false;
        }
    }
    if constexpr (Form::residual) {
        if constexpr (detail::is_leaf_of<decltype(e.b_), T>) {
            call.residual = e.b_.data_;
            fused = fused && e.b_.shape().extent(0) == rows && e.b_.shape().extent(1) == N;
        } else {
            fused = false;
        }
    }
    const index_t size = rows * N, y_size = e.shape().size();  // y_size > size: e broadcasts the product
    fused = fused && y_size == size;
    // What the GEMM reads while it writes: y must not overlap it (an exact in-place residual aside).
    const bool y_overlaps_input = detail::overlap(y, y_size, call.a, rows * K) ||
                                  detail::overlap(y, y_size, call.b, N * K) || detail::overlap(y, y_size, call.bias, N);
    if (fused && !y_overlaps_input && (call.residual == y || !detail::overlap(y, size, call.residual, size))) {
        ctx.gemm(call);
        return;
    }
    if (fused) {  // only the destination was in the way: the GEMM into scratch, then a copy
        call.y = ctx.scratch(size);
        ctx.gemm(call);
        ctx.copy(y, call.y, size);
        return;
    }
    if constexpr (!detail::always_fused<E, T>()) {  // (else no kernel for this is compiled)
        // The plain GEMM, then the epilogue element-wise. The GEMM's result goes to scratch when
        // y is smaller than e, is read by the GEMM, or holds an epilogue operand; the epilogue's
        // result goes to scratch (then y) when an operand overlaps y other than exactly.
        bool epilogue_reads_y = false, y_holds_operand = false;
        if constexpr (Form::bias) {
            const auto& bias = detail::bias_of(e);
            y_holds_operand = detail::overlap(y, y_size, bias.data_, bias.shape().size());
            epilogue_reads_y = detail::overlaps_inexactly(y, y_size, bias);
        }
        if constexpr (Form::residual) {
            y_holds_operand = y_holds_operand || detail::overlap(y, y_size, e.b_.data_, e.b_.shape().size());
            epilogue_reads_y = epilogue_reads_y || detail::overlaps_inexactly(y, y_size, e.b_);
        }
        if (y_size != size || y_overlaps_input || y_holds_operand) call.y = ctx.scratch(size);
        call.bias = call.residual = nullptr;
        call.activation = Activation::none;
        ctx.gemm(call);
        using Core = Leaf<T, typename std::remove_cvref_t<decltype(mm)>::shape_type, Space>;
        const auto epilogue = detail::with_core(e, Core{{}, call.y, mm.shape()});
        T* out = epilogue_reads_y ? ctx.scratch(y_size) : y;
        ctx.eval(TensorView<T, typename E::shape_type, Space>(out, e.shape()), epilogue);
        if (out != y) ctx.copy(y, out, y_size);
    }
}

// e with every linear form in it replaced by a tensor holding its value (evaluated on ctx).
template <class Ctx, class E>
auto lower(Ctx& ctx, const E& e);

namespace detail {

template <class Ctx, class Op, class A>
auto lower_operands(Ctx& c, const Map<Op, A>& e) {
    auto a = lower(c, e.a_);
    return Map<Op, decltype(a)>{{}, e.op_, a};
}
template <class Ctx, class Op, class A, class B>
auto lower_operands(Ctx& c, const Zip<Op, A, B>& e) {
    auto a = lower(c, e.a_);
    auto b = lower(c, e.b_);
    return Zip<Op, decltype(a), decltype(b)>{{}, e.op_, a, b, e.shape_};
}
template <class Ctx, class C, class A, class B>
auto lower_operands(Ctx& c, const Select<C, A, B>& e) {
    auto s = lower(c, e.c_);
    auto a = lower(c, e.a_);
    auto b = lower(c, e.b_);
    return Select<decltype(s), decltype(a), decltype(b)>{{}, s, a, b, e.shape_};
}
template <class Ctx, RowKind Kind, class X>
auto lower_operands(Ctx& c, const RowReduce<Kind, X>& e) {
    auto x = lower(c, e.x_);
    return RowReduce<Kind, decltype(x)>{{}, x, e.shape_};
}
template <class Ctx, class X, class Gm, class Bt>
auto lower_operands(Ctx& c, const LayerNorm<X, Gm, Bt>& e) {
    auto x = lower(c, e.x_);
    auto g = lower(c, e.gamma_);
    auto b = lower(c, e.beta_);
    return LayerNorm<decltype(x), decltype(g), decltype(b)>{{}, x, g, b, e.eps_};
}
template <class Ctx, class X>
auto lower_operands(Ctx& c, const Softmax<X>& e) {
    auto x = lower(c, e.x_);
    return Softmax<decltype(x)>{{}, x};
}

}  // namespace detail

template <class Ctx, class E>
auto lower(Ctx& ctx, const E& e) {
    if constexpr (!E::has_contraction) {
        return e;
    } else if constexpr (is_linear_form<E>) {
        using T = typename Ctx::value_type;
        T* y = ctx.scratch(e.shape().size());
        eval_linear(ctx, y, e);
        return Leaf<T, typename E::shape_type, typename Ctx::space>{{}, y, e.shape()};
    } else {
        return detail::lower_operands(ctx, e);
    }
}

// Evaluates e, which holds a contraction, into out: the GEMMs first, then at most one kernel.
template <class Ctx, class View, class E>
void eval_contraction(Ctx& ctx, const View& out, const E& e) {
    if constexpr (is_linear_form<E> && std::is_same_v<typename View::value_type, typename Ctx::value_type>)
        eval_linear(ctx, out.data(), e);
    else
        ctx.eval(out, lower(ctx, e));
}

}  // namespace sinter::expr
