// expect: contractions_are_evaluated_by_cublaslt_not_by_the_elementwise_kernel
// matmul on the device goes through cuBLASLt (blas/), not the element-wise kernel.
#include <sinter/sinter.cuh>
using namespace sinter;
void f(TensorView<float, Shape<dyn, 8>, device_space> out, TensorView<float, Shape<dyn, 4>, device_space> x,
       TensorView<float, Shape<8, 4>, device_space> w, cudaStream_t s) {
    eval(out, matmul(x, transpose(w)), s);
}
