#pragma once
// The host evaluator: eval(out, expression, sinter::host). Plain loops, one row at a time, f32
// math: the reference the CUDA evaluator is tested against, and a usable CPU path. Contractions
// go to a GEMM engine first (contraction.hpp): HostGemm unless one is given.
#include <algorithm>
#include <deque>

#include "contraction.hpp"
#include "eval_common.hpp"
#include "gemm_host.hpp"

namespace sinter::expr {

template <class T, class S, Operand X, class Engine>
void eval(const TensorView<T, S, host_space>& out, const X& x, host_space, Engine& gemm);

namespace detail {

// What lowering a contraction needs on the host: scratch that lives until eval returns, the engine.
template <class T, class Engine>
struct HostContext {
    using value_type = T;
    using space = host_space;

    Engine& engine;
    std::deque<Tensor<T, Shape<dyn>, host_space>> scratch_;

    T* scratch(index_t n) { return scratch_.emplace_back(n).data(); }
    void gemm(const GemmCall<T>& call) { engine.run(call); }
    void copy(T* dst, const T* src, index_t n) { std::copy(src, src + n, dst); }
    template <class V, class X>
    void eval(const V& out, const X& x) {
        expr::eval(out, x, host, engine);
    }
};

}  // namespace detail

// Evaluates x into out; a contraction in x runs on `gemm` (anything with run(GemmCall<T>)).
template <class T, class S, Operand X, class Engine>
void eval(const TensorView<T, S, host_space>& out, const X& x, host_space, Engine& gemm) {
    const auto e = as_expr(x);
    using E = std::remove_const_t<decltype(e)>;
    constexpr int R = S::rank;
    detail::check_eval<TensorView<T, S, host_space>, E, host_space>(out, e);
    if (out.size() == 0) return;
    if constexpr (E::has_contraction) {
        detail::HostContext<T, Engine> ctx{gemm, {}};
        eval_contraction(ctx, out, e);
    } else {
        const index_t rows = out.shape().rows(), cols = out.shape().cols();
        SerialGroup group;
        for (index_t r = 0; r < rows; ++r) {
            Index<R> i = detail::row_start<R>(out.shape(), r);
            E row_expr = e;  // holds this row's reductions
            if constexpr (E::has_reduction) row_expr.prepare(group, i);
            T* dst = out.data() + r * cols;
            for (index_t c = 0; c < cols; ++c) {
                if constexpr (R > 0) i[R - 1] = c;
                dst[c] = from_float<T>(row_expr.template load<1>(i)[0]);
            }
        }
    }
}

template <class T, class S, Operand X>
void eval(const TensorView<T, S, host_space>& out, const X& x, host_space on) {
    HostGemm gemm;
    eval(out, x, on, gemm);
}

template <class T, class S, Operand X, class... Engine>
void eval(const Tensor<T, S, host_space>& out, const X& x, host_space on, Engine&... gemm) {
    eval(out.view(), x, on, gemm...);
}

}  // namespace sinter::expr
