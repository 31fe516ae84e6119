// expect: operands_must_live_in_the_evaluation_space
// Device memory cannot be read by the host evaluator.
#include <sinter/sinter.hpp>
using namespace sinter;
void f(TensorView<float, Shape<dyn, 8>> out, TensorView<float, Shape<dyn, 8>, device_space> x) {
    eval(out, x * 2.f, host);
}
