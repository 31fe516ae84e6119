// expect: output_extents_must_match_expression
// The output's static extent 8 differs from the expression's 16.
#include <sinter/sinter.hpp>
using namespace sinter;
void f(TensorView<float, Shape<dyn, 8>> out, TensorView<float, Shape<dyn, 16>> x) { eval(out, gelu(x), host); }
