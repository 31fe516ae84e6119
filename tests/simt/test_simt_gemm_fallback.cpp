// blas::Gemm where cuBLASLt refuses the fused epilogue, as the real one may for some types, shapes
// or alignments, in each way it can (simt::fake::refuse_fused_epilogues): its heuristic finds
// nothing (NOT_SUPPORTED), rejects the descriptor (INVALID_VALUE), or offers algorithms that the
// matmul then refuses. The plan falls back to a plain product, and one element-wise kernel adds the
// bias and applies the activation. Every linear form still matches the host in f32, f16 and bf16,
// the fallback costs exactly one launch more than the fused epilogue, and the refused plan is not
// tried again.
#include <simt/device.hpp>

#include "../gpu/gemm_check.cuh"

using namespace sinter;
using simt::fake::EpilogueRefusal;

namespace {

// Refuses fused epilogues, `how`, for its lifetime.
struct RefusedEpilogues {
    explicit RefusedEpilogues(EpilogueRefusal how) { simt::fake::refuse_fused_epilogues(how); }
    ~RefusedEpilogues() { simt::fake::refuse_fused_epilogues(EpilogueRefusal::none); }
    RefusedEpilogues(const RefusedEpilogues&) = delete;
    RefusedEpilogues& operator=(const RefusedEpilogues&) = delete;
};

constexpr EpilogueRefusal refusals[] = {EpilogueRefusal::heuristic_not_supported,
                                        EpilogueRefusal::heuristic_invalid_value, EpilogueRefusal::at_matmul};

const char* name(EpilogueRefusal how) {
    switch (how) {
        case EpilogueRefusal::heuristic_not_supported: return "the heuristic finds nothing";
        case EpilogueRefusal::heuristic_invalid_value: return "the heuristic rejects the descriptor";
        case EpilogueRefusal::at_matmul: return "the matmul refuses the algorithm";
        case EpilogueRefusal::heuristic_internal_error: return "the heuristic fails";
        case EpilogueRefusal::matmul_execution_failed: return "the matmul fails";
        default: return "none";
    }
}

// Kernel launches and (accepted) matmuls that `calls` evaluations of y = relu(x W^T + b) take on
// one fresh engine, and the plans it keeps.
struct Cost {
    long launches, matmuls;
    std::size_t plans;
};

Cost cost_of_relu_bias(int calls) {
    test::Operands<float> o(8, 16, 32);
    blas::Gemm gemm;
    Tensor<float, Shape<dyn, dyn>, device_space> y(o.rows, o.N);
    cuda::Stream s;
    const auto before = simt::fake::counters();
    for (int i = 0; i < calls; ++i) eval(y.view(), relu(matmul(o.dx.view(), transpose(o.dw.view())) + o.db.view()), s, gemm);
    s.synchronize();
    const auto after = simt::fake::counters();
    return {after.launches - before.launches, after.matmuls - before.matmuls, gemm.plans()};
}

}  // namespace

TEST_CASE("blas::Gemm without fused epilogues: every form matches the host, in every dtype") {
    for (const EpilogueRefusal how : refusals) {
        CAPTURE(name(how));
        const RefusedEpilogues refused(how);
        blas::Gemm gemm;
        test::check_forms(test::Operands<float>(77, 384, 128), gemm);
        test::check_forms(test::Operands<half>(5, 3, 64), gemm);
        test::check_forms(test::Operands<bf16>(33, 96, 64), gemm);
        blas::Gemm tuned(std::size_t(32) << 20, 8);  // the fallback's candidates, timed
        test::check_forms(test::Operands<half>(77, 384, 128), tuned);
    }
}

TEST_CASE("blas::Gemm without fused epilogues: one element-wise launch more, no more, and one plan") {
    const Cost fused = cost_of_relu_bias(1);
    CHECK(fused.matmuls == 1);
    CHECK(fused.launches == 0);  // bias and relu in cuBLASLt's epilogue
    for (const EpilogueRefusal how : refusals) {
        CAPTURE(name(how));
        const RefusedEpilogues refused(how);
        const Cost fallback = cost_of_relu_bias(3);
        CHECK(fallback.matmuls == 3);
        CHECK(fallback.launches == 3);  // bias and relu in one element-wise kernel per call
        CHECK(fallback.plans == 1);     // the plain plan, kept: the refused one is not tried again
    }
}

TEST_CASE("blas::Gemm autotuning times its candidates in stream-ordered scratch: no cudaMalloc, no cudaFree") {
    // cudaFree synchronises the whole device: once per tuned shape it would stall other streams.
    test::Operands<float> o(40, 96, 64);
    blas::Gemm tuned(std::size_t(32) << 20, 4);
    cuda::Stream s;
    Tensor<float, Shape<dyn, dyn>, device_space> y(o.rows, o.N);
    const auto before = simt::fake::counters();
    eval(y.view(), matmul(o.dx.view(), transpose(o.dw.view())) + o.db.view(), s, tuned);
    s.synchronize();
    const auto after = simt::fake::counters();
    CHECK(after.matmuls - before.matmuls > 1);  // the candidates ran: it did tune
    CHECK(after.mallocs == before.mallocs);
    CHECK(after.frees == before.frees);
    test::check_forms(std::move(o), tuned);  // and the tuned plan computes the product
}

TEST_CASE("blas::Gemm reports a cuBLASLt failure that is not a refusal, and keeps no fallback for it") {
    // INTERNAL_ERROR from the heuristic, EXECUTION_FAILED from the matmul: errors, not "cannot do
    // this epilogue". The shape must not be planned without its epilogue for good.
    for (const EpilogueRefusal how : {EpilogueRefusal::heuristic_internal_error, EpilogueRefusal::matmul_execution_failed}) {
        CAPTURE(name(how));
        test::Operands<float> o(8, 16, 32);
        blas::Gemm gemm;
        Tensor<float, Shape<dyn, dyn>, device_space> y(o.rows, o.N);
        cuda::Stream s;
        const auto relu_bias = [&] {
            eval(y.view(), relu(matmul(o.dx.view(), transpose(o.dw.view())) + o.db.view()), s, gemm);
        };
        {
            const RefusedEpilogues failing(how);
            const char* status = how == EpilogueRefusal::heuristic_internal_error ? "CUBLAS_STATUS_INTERNAL_ERROR"
                                                                                  : "CUBLAS_STATUS_EXECUTION_FAILED";
            CHECK_THROWS_WITH_AS(relu_bias(), doctest::Contains(status), cuda_error);
            CHECK(gemm.plans() == 0);
        }
        CHECK_FALSE(cuda::context_poisoned());
        const auto before = simt::fake::counters();
        relu_bias();
        s.synchronize();
        const auto after = simt::fake::counters();
        CHECK(after.matmuls - before.matmuls == 1);
        CHECK(after.launches - before.launches == 0);  // bias and relu fused again
        test::check_forms(std::move(o), gemm);
    }
}

TEST_CASE("blas::Gemm autotuning times into 256-byte aligned scratch, however the pool aligns it") {
    // The fake's cudaMallocAsync gives 16-byte alignment where the size allows no more (a (7, 24)
    // half output is 336 bytes); the candidates were chosen for 256-byte aligned operands, and a
    // matmul on a less aligned output faults with a misaligned address.
    blas::Gemm tuned(std::size_t(32) << 20, 4);
    test::check_forms(test::Operands<half>(7, 24, 64), tuned);
    test::check_forms(test::Operands<float>(3, 20, 32), tuned);
    CHECK_FALSE(cuda::context_poisoned());
}
