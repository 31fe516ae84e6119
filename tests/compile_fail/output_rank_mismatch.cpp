// expect: output_rank_must_match_expression_rank
// A rank-2 expression cannot be evaluated into a rank-1 output.
#include <sinter/sinter.hpp>
using namespace sinter;
void f(TensorView<float, Shape<dyn>> out, TensorView<float, Shape<dyn, 8>> x) { eval(out, x + 1.f, host); }
