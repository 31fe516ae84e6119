#pragma once
// The expression library, host side. User-facing names are also available in namespace sinter.
#include "expr/eval_host.hpp"
#include "expr/gather.hpp"
#include "expr/matmul.hpp"
#include "expr/normalize.hpp"
#include "expr/ops.hpp"
#include "expr/reduce.hpp"

namespace sinter {
using expr::operator+;
using expr::operator-;
using expr::operator*;
using expr::operator/;
using expr::cast;
using expr::eval;
using expr::exp;
using expr::gather;
using expr::gelu;
using expr::gelu_tanh;
using expr::layer_norm;
using expr::map;
using expr::masked_softmax;
using expr::matmul;
using expr::maximum;
using expr::minimum;
using expr::relu;
using expr::row_max;
using expr::row_mean;
using expr::row_sum;
using expr::row_var;
using expr::rsqrt;
using expr::softmax;
using expr::sqrt;
using expr::square;
using expr::tanh;
using expr::transpose;
using expr::where;
using expr::zip;
}  // namespace sinter
