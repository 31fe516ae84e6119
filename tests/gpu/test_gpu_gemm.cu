// Tier 3 on the GPU: eval(out, expression, stream) with contractions, through cuBLASLt
// (blas::Gemm), against the host evaluator on the same expression (itself checked against naive
// loops in tests/host/test_expr_contraction.cpp): every fused epilogue, with and without a bias
// and a residual, a (K, N) right operand, the fallbacks, a contraction inside a LayerNorm, the
// per-thread default engine, autotuned algorithms, BERT's shapes and awkward ones. f32 here;
// f16 and bf16 in test_gpu_gemm_f16.cu and test_gpu_gemm_bf16.cu.
#include "gemm_check.cuh"

using namespace sinter;
using namespace sinter::test;
using expr::Activation;

TEST_CASE_TEMPLATE("every linear form through cuBLASLt matches the host", T, float) {
    SINTER_REQUIRE_GPU();
    check_every_form<T>();
}

TEST_CASE("fallbacks and operands that are not tensors of the output dtype") {
    SINTER_REQUIRE_GPU();
    blas::Gemm gemm;
    Operands<half> o(50, 96, 72);
    check(o, "gelu(x W^T + b) + r", [](auto x, auto w, auto b, auto r) { return gelu(matmul(x, transpose(w)) + b) + r; },
          false, gemm);
    check(o, "(x / 2) W^T + b", [](auto x, auto w, auto b, auto) { return matmul(x * 0.5f, transpose(w)) + b; }, false,
          gemm);
    check(o, "x (W^T / 2) (a (K, N) operand evaluated first)",
          [](auto x, auto w, auto, auto) { return matmul(x, transpose(w) * 0.5f); }, false, gemm);
    // A bias that broadcasts (extent 1): the GEMM plain, the epilogue in a second kernel.
    Tensor<half, Shape<dyn>> one(1);
    one(0) = from_float<half>(0.25f);
    const auto done = test::to_device(one);
    Tensor<half, Shape<dyn, dyn>> want(o.rows, o.N);
    eval(want.view(), relu(matmul(o.x.view(), transpose(o.w.view())) + one.view()), host);
    Tensor<half, Shape<dyn, dyn>, device_space> y(o.rows, o.N);
    test::poison(y.view());
    sinter::cuda::Stream s;
    eval(y.view(), relu(matmul(o.dx.view(), transpose(o.dw.view())) + done.view()), s, gemm);
    s.synchronize();
    const auto got = test::to_host(y);
    test::compare_as<half>(got.data(), want.data(), got.size(), "relu(x W^T + broadcast bias)");
}

TEST_CASE("in place: x = x W^T + b + x, and an output that is an operand") {
    SINTER_REQUIRE_GPU();
    blas::Gemm gemm;
    const index_t rows = 40, H = 64;
    Tensor<float, Shape<dyn, dyn>> x(rows, H), w(H, H), want(rows, H);
    Tensor<float, Shape<dyn>> b(H);
    test::fill_uniform(x.view());
    test::fill_uniform(w.view(), -0.1f, 0.1f);
    test::fill_uniform(b.view());
    auto dx = test::to_device(x);
    const auto dw = test::to_device(w);
    const auto db = test::to_device(b);
    sinter::cuda::Stream s;
    eval(want.view(), matmul(x.view(), transpose(w.view())) + b.view() + x.view(), host);
    eval(dx.view(), matmul(dx.view(), transpose(dw.view())) + db.view() + dx.view(), s, gemm);
    s.synchronize();
    auto got = test::to_host(dx);
    test::compare_as<float>(got.data(), want.data(), got.size(), "x = x W^T + b + x");
}

TEST_CASE("blas::Gemm refuses a residual after an activation") {
    SINTER_REQUIRE_GPU();
    blas::Gemm gemm;
    Tensor<float, Shape<dyn>, device_space> y(16);
    const expr::GemmCall<float> call{y.data(), y.data(), y.data(), true, nullptr, y.data(), 4, 4, 4, Activation::relu};
    CHECK_THROWS_WITH_AS(gemm.run(call, nullptr), doctest::Contains("relu"), value_error);
}

// cuBLASLt's alignment preferences do not cover the bias, which it may read 16 bytes at a time:
// a bias slice at an odd element is added by the element-wise kernel after the GEMM instead, with
// the activation after it (blas::detail::split_epilogue).
TEST_CASE_TEMPLATE("a bias under 16-byte alignment is added after the GEMM, before the activation", T, float, half) {
    SINTER_REQUIRE_GPU();
    blas::Gemm gemm;
    Operands<T> o(45, 96, 64);
    Tensor<T, Shape<dyn>> shifted(o.N + 1);
    for (index_t i = 0; i < o.N; ++i) shifted(i + 1) = o.b(i);
    const auto dshifted = test::to_device(shifted);
    const TensorView<const T, Shape<dyn>, device_space> bias(dshifted.data() + 1, o.N);  // 4 or 2 bytes past 256
    sinter::cuda::Stream s;
    const auto form = [&](const std::string& what, auto build) {
        Tensor<T, Shape<dyn, dyn>> want(o.rows, o.N);
        eval(want.view(), build(o.x.view(), o.w.view(), o.b.view(), o.r.view()), host);
        Tensor<T, Shape<dyn, dyn>, device_space> y(o.rows, o.N);
        test::poison(y.view());
        eval(y.view(), build(o.dx.view(), o.dw.view(), bias, o.dr.view()), s, gemm);
        s.synchronize();
        const auto got = test::to_host(y);
        test::compare_as<T>(got.data(), want.data(), got.size(), what + ", bias 1 element off");
    };
    form("x W^T + b", [](auto x, auto w, auto b, auto) { return matmul(x, transpose(w)) + b; });
    form("gelu(x W^T + b)", [](auto x, auto w, auto b, auto) { return gelu(matmul(x, transpose(w)) + b); });
    form("gelu_tanh(x W^T + b)", [](auto x, auto w, auto b, auto) { return gelu_tanh(matmul(x, transpose(w)) + b); });
    form("relu(x W^T + b)", [](auto x, auto w, auto b, auto) { return relu(matmul(x, transpose(w)) + b); });
    form("tanh(x W^T + b)", [](auto x, auto w, auto b, auto) { return sinter::tanh(matmul(x, transpose(w)) + b); });
    form("x W^T + b + r", [](auto x, auto w, auto b, auto r) { return matmul(x, transpose(w)) + b + r; });
}

// The heuristic takes the bias's alignment from the descriptor's bias pointer: a plan chosen with a
// 256-byte aligned bias must not serve one 16 or 32 bytes past 256 (blas::Gemm chooses each plan
// with the call's bias and keeps plans per bias alignment). All three are fused.
TEST_CASE("biases 256, 16 and 32 bytes aligned on one shape and engine each get their own plan") {
    SINTER_REQUIRE_GPU();
    blas::Gemm gemm;
    Operands<float> o(45, 96, 64);
    sinter::cuda::Stream s;
    Tensor<float, Shape<dyn, dyn>> want(o.rows, o.N);
    eval(want.view(), relu(matmul(o.x.view(), transpose(o.w.view())) + o.b.view()), host);
    for (const index_t offset : {0, 4, 8}) {  // in floats: 256-, 16- and 32-byte aligned
        Tensor<float, Shape<dyn>> shifted(o.N + offset);
        for (index_t i = 0; i < o.N; ++i) shifted(i + offset) = o.b(i);
        const auto dshifted = test::to_device(shifted);
        const TensorView<const float, Shape<dyn>, device_space> bias(dshifted.data() + offset, o.N);
        Tensor<float, Shape<dyn, dyn>, device_space> y(o.rows, o.N);
        test::poison(y.view());
        eval(y.view(), relu(matmul(o.dx.view(), transpose(o.dw.view())) + bias), s, gemm);
        s.synchronize();
        const auto got = test::to_host(y);
        test::compare_as<float>(got.data(), want.data(), got.size(),
                                "relu(x W^T + b), bias " + std::to_string(offset * 4) + " bytes past 256");
    }
    CHECK(gemm.plans() == 3);
}

TEST_CASE("the plan cache is bounded: shapes past max_plans evict the least recently used and come back") {
    SINTER_REQUIRE_GPU();
    blas::Gemm gemm(std::size_t(32) << 20, 0, /*max_plans=*/2);
    for (int round = 0; round < 2; ++round)
        for (const index_t rows : {7, 19, 33}) {  // three shapes through two plans, twice
            Operands<float> o(rows, 64, 32);
            check(o, "x W^T + b, plans bounded", [](auto x, auto w, auto b, auto) { return matmul(x, transpose(w)) + b; },
                  false, gemm);
            CHECK(gemm.plans() <= 2);
        }
}

TEST_CASE("a stream's default engine is made on first use, released on request, and made again") {
    SINTER_REQUIRE_GPU();
    Operands<float> o(12, 40, 24);
    Tensor<float, Shape<dyn, dyn>> want(o.rows, o.N);
    eval(want.view(), matmul(o.x.view(), transpose(o.w.view())) + o.b.view(), host);
    sinter::cuda::Stream s;
    int device = 0;
    SINTER_CUDA_CHECK(cudaGetDevice(&device));
    const auto engines = [&] { return blas::detail::thread_gemms().count({device, s.get()}); };
    blas::release_thread_gemm(s);  // none yet: nothing to do
    for (int round = 0; round < 2; ++round) {
        Tensor<float, Shape<dyn, dyn>, device_space> y(o.rows, o.N);
        test::poison(y.view());
        eval(y.view(), matmul(o.dx.view(), transpose(o.dw.view())) + o.db.view(), s);  // the default engine
        s.synchronize();
        CHECK(engines() == 1);
        const auto got = test::to_host(y);
        test::compare_as<float>(got.data(), want.data(), got.size(), "x W^T + b on the stream's default engine");
        blas::release_thread_gemm(s);
        CHECK(engines() == 0);
    }
}
