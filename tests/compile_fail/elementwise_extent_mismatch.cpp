// expect: elementwise_extents_must_match
// Two operands of the same rank whose static extents differ cannot be added.
#include <sinter/sinter.hpp>
using namespace sinter;
void f(TensorView<float, Shape<3, 4>> a, TensorView<float, Shape<3, 5>> b) { (void)(a + b); }
