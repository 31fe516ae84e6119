// expect: matmul_inner_extents_must_match
// (T, 768) x (3072, 512)^T... here (T, 768) x W^T with W of shape (512, 3072): K differs.
#include <sinter/sinter.hpp>
using namespace sinter;
void f(TensorView<float, Shape<dyn, 768>> x, TensorView<float, Shape<512, 3072>> w) {
    (void)matmul(x, transpose(w));
}
