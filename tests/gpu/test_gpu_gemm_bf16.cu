// Tier 3 on the GPU in bf16: every linear form through cuBLASLt against the host (f32, the
// fallbacks and aliasing: test_gpu_gemm.cu; f16: test_gpu_gemm_f16.cu).
#include "gemm_check.cuh"

using namespace sinter;
using namespace sinter::test;

TEST_CASE_TEMPLATE("every linear form through cuBLASLt matches the host", T, bf16) {
    SINTER_REQUIRE_GPU();
    blas::Gemm gemm;
    check_forms(Operands<T>(77, 384, 128), gemm);
    check_forms(Operands<T>(5, 3, 64), gemm);  // a classifier: N = 3, odd sizes
    blas::Gemm tuned(std::size_t(32) << 20, 8);  // the fastest of 8 candidates, timed on first use
    check_forms(Operands<T>(77, 384, 128), tuned);
    check_forms(Operands<T>(77, 384, 128), tuned);  // the tuned plans, reused
    Operands<T> qkv(33, 2304, 768);      // BERT-base QKV, on the default engine
    check(qkv, "QKV", [](auto x, auto w, auto b, auto) { return matmul(x, transpose(w)) + b; }, false);
    Operands<T> out(128, 768, 768);  // output projection + residual + LayerNorm
    check(out, "layer_norm(x W^T + b + r)", [](auto x, auto w, auto b, auto r) {
        return layer_norm(matmul(x, transpose(w)) + b + r, b, b, 1e-12f);
    }, false);
}

