#pragma once
// The host evaluator: eval(out, expression, sinter::host). Plain loops, one row at a time, f32
// math: the reference the CUDA evaluator is tested against, and a usable CPU path.
#include "eval_common.hpp"
#include "gather.hpp"
#include "matmul.hpp"
#include "normalize.hpp"

namespace sinter::expr {

template <class T, class S, Operand X>
void eval(const TensorView<T, S, host_space>& out, const X& x, host_space) {
    const auto e = as_expr(x);
    using E = std::remove_const_t<decltype(e)>;
    constexpr int R = S::rank;
    detail::check_eval<TensorView<T, S, host_space>, E, host_space>(out, e);
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

template <class T, class S, Operand X>
void eval(const Tensor<T, S, host_space>& out, const X& x, host_space on) {
    eval(out.view(), x, on);
}

}  // namespace sinter::expr
