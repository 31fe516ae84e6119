// blas::Gemm where cuBLASLt has no algorithm with the fused epilogue, as the real one may for some
// types, shapes or alignments (here the fake refuses every epilogue:
// simt::fake::refuse_fused_epilogues): the plan falls back to a plain product, and one element-wise
// kernel adds the bias and applies the activation. Every linear form still matches the host in
// f32, f16 and bf16, and the fallback costs exactly one launch more than the fused epilogue.
#include <simt/device.hpp>

#include "../gpu/gemm_check.cuh"

using namespace sinter;

namespace {

// Refuses fused epilogues for its lifetime.
struct RefusedEpilogues {
    RefusedEpilogues() { simt::fake::refuse_fused_epilogues(true); }
    ~RefusedEpilogues() { simt::fake::refuse_fused_epilogues(false); }
    RefusedEpilogues(const RefusedEpilogues&) = delete;
    RefusedEpilogues& operator=(const RefusedEpilogues&) = delete;
};

// Kernel launches and matmuls that y = relu(x W^T + b) takes on a fresh engine.
simt::fake::Counters cost_of_relu_bias() {
    test::Operands<float> o(8, 16, 32);
    blas::Gemm gemm;
    Tensor<float, Shape<dyn, dyn>, device_space> y(o.rows, o.N);
    cuda::Stream s;
    const auto before = simt::fake::counters();
    eval(y.view(), relu(matmul(o.dx.view(), transpose(o.dw.view())) + o.db.view()), s, gemm);
    s.synchronize();
    const auto after = simt::fake::counters();
    return {after.launches - before.launches, after.matmuls - before.matmuls, 0};
}

}  // namespace

TEST_CASE("blas::Gemm without fused epilogues: every form matches the host, in every dtype") {
    const RefusedEpilogues refused;
    blas::Gemm gemm;
    test::check_forms(test::Operands<float>(77, 384, 128), gemm);
    test::check_forms(test::Operands<half>(5, 3, 64), gemm);
    test::check_forms(test::Operands<bf16>(33, 96, 64), gemm);
    blas::Gemm tuned(std::size_t(32) << 20, 8);  // the fallback's candidates, timed
    test::check_forms(test::Operands<half>(77, 384, 128), tuned);
}

TEST_CASE("blas::Gemm without fused epilogues: one element-wise launch more, no more") {
    const auto fused = cost_of_relu_bias();
    CHECK(fused.matmuls == 1);
    CHECK(fused.launches == 0);  // bias and relu in cuBLASLt's epilogue
    const RefusedEpilogues refused;
    const auto fallback = cost_of_relu_bias();
    CHECK(fallback.matmuls == 1);
    CHECK(fallback.launches == 1);  // bias and relu in one element-wise kernel
}
