// expect: contractions_on_the_gpu_need_sinter_blas_gemm_cuh
// A matmul on the device runs on a GEMM engine; the default one (cuBLASLt) comes with
// sinter/blas/gemm.cuh, which this file does not include.
#include <sinter/expr.hpp>
#include <sinter/expr/eval_cuda.cuh>
using namespace sinter;
void f(TensorView<float, Shape<dyn, 8>, device_space> out, TensorView<float, Shape<dyn, 4>, device_space> x,
       TensorView<float, Shape<8, 4>, device_space> w, cudaStream_t s) {
    eval(out, matmul(x, transpose(w)), s);
}
