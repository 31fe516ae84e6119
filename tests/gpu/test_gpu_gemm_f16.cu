// Tier 3 on the GPU in f16: every linear form through cuBLASLt against the host (f32, the
// fallbacks and aliasing: test_gpu_gemm.cu; bf16: test_gpu_gemm_bf16.cu).
#include "gemm_check.cuh"

using namespace sinter;
using namespace sinter::test;

TEST_CASE_TEMPLATE("every linear form through cuBLASLt matches the host", T, half) {
    SINTER_REQUIRE_GPU();
    check_every_form<T>();
}

