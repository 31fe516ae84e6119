// expect: broadcast_extents_must_be_equal_or_1
// A row vector of 5 cannot broadcast over rows of 4.
#include <sinter/sinter.hpp>
using namespace sinter;
void f(TensorView<float, Shape<dyn, 4>> x, TensorView<float, Shape<5>> bias) { (void)(x * bias); }
