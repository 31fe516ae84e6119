// cuBLASLt linear layers (blas::Gemm) against the host twin (nn::linear): every epilogue, with and
// without a residual, f32/f16/bf16, BERT's shapes and awkward ones.
#include "../support/gpu.cuh"
#include "sinter/blas/gemm.cuh"
#include "sinter/nn/linear_host.hpp"

using namespace sinter;
using blas::Epilogue;

namespace {

template <class T>
void check_linear(index_t rows, index_t N, index_t K, Epilogue epilogue, bool residual) {
    Tensor<T, Shape<dyn, dyn>> x(rows, K), w(N, K), r(rows, N), want(rows, N);
    Tensor<T, Shape<dyn>> b(N);
    test::fill_uniform(x.view());
    test::fill_uniform(w.view(), -0.1f, 0.1f);
    test::fill_uniform(b.view());
    test::fill_uniform(r.view());
    nn::linear(want.view(), TensorView<const T, Shape<dyn, dyn>>(x), TensorView<const T, Shape<dyn, dyn>>(w),
               TensorView<const T, Shape<dyn>>(b), epilogue, residual ? r.data() : nullptr);
    const auto dx = test::to_device(x), dw = test::to_device(w), dr = test::to_device(r);
    const auto db = test::to_device(b);
    Tensor<T, Shape<dyn, dyn>, device_space> y(rows, N);
    test::poison(y.view());
    blas::Gemm gemm;
    sinter::cuda::Stream s;
    gemm.linear(y.data(), dx.data(), dw.data(), db.data(), rows, N, K, epilogue, residual ? dr.data() : nullptr, s);
    s.synchronize();
    const auto got = test::to_host(y);
    // A K-long f32 dot product of 16-bit inputs: the host and cuBLASLt differ in order only.
    // cuBLASLt's GELU epilogue is the tanh form, as is Epilogue::bias_gelu_tanh on the host.
    // Its tanh may be the tanh.approx instruction (about 2^-11 relative): looser in f32 only.
    const bool approx = std::is_same_v<T, float> && epilogue == Epilogue::bias_gelu_tanh;
    test::compare(got.data(), want.data(), got.size(), approx ? 1e-3 : test::tolerance<T>::rel,
                  approx ? 1e-3 : test::tolerance<T>::abs,
                  "linear " + std::to_string(rows) + "x" + std::to_string(N) + "x" + std::to_string(K) +
                      " epilogue " + std::to_string(int(epilogue)) + (residual ? " + residual" : ""));
}

}  // namespace

TEST_CASE_TEMPLATE("blas::Gemm::linear matches nn::linear", T, float, half, bf16) {
    SINTER_REQUIRE_GPU();
    for (Epilogue e : {Epilogue::bias, Epilogue::bias_gelu, Epilogue::bias_gelu_tanh, Epilogue::bias_relu, Epilogue::bias_tanh}) {
        check_linear<T>(77, 384, 128, e, false);
    }
    check_linear<T>(128, 768, 768, Epilogue::bias, true);   // output projection + residual
    check_linear<T>(33, 2304, 768, Epilogue::bias, false);  // BERT-base QKV
    check_linear<T>(5, 3, 64, Epilogue::bias, false);       // a classifier
}
