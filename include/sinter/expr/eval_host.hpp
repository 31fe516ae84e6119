#pragma once
// The host evaluator: eval(out, expression, sinter::host). Plain loops, one row at a time (rows
// split over threads when there are many), f32 math: the reference the CUDA evaluator is tested
// against, and a usable CPU path. Contractions
// go to a GEMM engine first (contraction.hpp): HostGemm unless one is given.
#include <algorithm>
#include <deque>

#include "../core/parallel.hpp"
#include "contraction.hpp"
#include "eval_common.hpp"
#include "gemm_host.hpp"

namespace sinter::expr {

template <class T, class S, Operand X, class Engine>
void eval(const TensorView<T, S, host_space>& out, const X& x, host_space, Engine& gemm);

namespace detail {

// What one element of an expression costs on the host, in multiply-adds (host_workers' unit, a
// thread per 2M): a loop through the expression's loads with index arithmetic, ~3 ns an element,
// so a thread per ~60k elements.
inline constexpr double host_work_per_element = 32.0;

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

inline constexpr int host_eval_width = 8;

// out's rows [first, last) = e's, N elements at a time (N divides the row).
template <int N, class OutView, class E>
void host_eval_rows(const OutView& out, const E& e, index_t first, index_t last) {
    constexpr int R = OutView::shape_type::rank;
    const index_t cols = out.shape().cols();
    SerialGroup<N> group;
    for (index_t r = first; r < last; ++r) {
        Index<R> i = row_start<R>(out.shape(), r);
        E row_expr = e;  // holds this row's reductions
        if constexpr (E::has_reduction) row_expr.prepare(group, i);
        auto* dst = out.data() + r * cols;
        for (index_t c = 0; c < cols; c += N) {
            if constexpr (R > 0) i[R - 1] = c;
            store_vec<N>(dst + c, row_expr.template load<N>(i));
        }
    }
}

}  // namespace detail

// Evaluates x into out; a contraction in x runs on `gemm` (anything with run(GemmCall<T>)).
template <class T, class S, Operand X, class Engine>
void eval(const TensorView<T, S, host_space>& out, const X& x, host_space, Engine& gemm) {
    const auto e = as_expr(x);
    using E = std::remove_const_t<decltype(e)>;
    detail::check_eval<TensorView<T, S, host_space>, E, host_space>(out, e);
    if (out.size() == 0) return;
    if constexpr (E::has_contraction) {
        detail::HostContext<T, Engine> ctx{gemm, {}};
        eval_contraction(ctx, out, e);
    } else {
        const index_t rows = out.shape().rows();
        // 8 elements a load where the output and every operand allow it, else 1: the same
        // element-wise bits either way (a reduction's partial sums differ, row_reduce).
        const bool wide = detail::vectorizable<detail::host_eval_width>(out, e);
        const auto row_range = [&](index_t first, index_t last) {
            if (wide)
                detail::host_eval_rows<detail::host_eval_width>(out, e, first, last);
            else
                detail::host_eval_rows<1>(out, e, first, last);
        };
        // Rows split over threads when there are enough elements (a row's values do not depend on
        // it), as many as the engine's `threads` when it has them (0: host_threads()).
        unsigned threads = 0;
        if constexpr (requires { unsigned(gemm.threads); }) threads = unsigned(gemm.threads);
        const double work = double(out.size()) * detail::host_work_per_element;
        host_parallel_for(rows, host_workers(threads, rows, work), row_range);
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
