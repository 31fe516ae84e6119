#pragma once
// What the tier-3 GPU tests share: operands on both sides, one expression evaluated on the host
// and through cuBLASLt and compared, and every linear form in turn. test_gpu_gemm*.cu (split by
// dtype to keep each file's compile time under a minute).
#include "../support/gpu.cuh"
#include "sinter/blas/gemm.cuh"

namespace sinter::test {

template <class T>
struct Operands {
    index_t rows, N, K;
    Tensor<T, Shape<dyn, dyn>> x, w, r, want;
    Tensor<T, Shape<dyn>> b;
    Tensor<T, Shape<dyn, dyn>, device_space> dx, dw, dr;
    Tensor<T, Shape<dyn>, device_space> db;
    Operands(index_t rows_, index_t N_, index_t K_)
        : rows(rows_), N(N_), K(K_), x(rows_, K_), w(N_, K_), r(rows_, N_), want(rows_, N_), b(N_) {
        test::fill_uniform(x.view());
        test::fill_uniform(w.view(), -0.1f, 0.1f);
        test::fill_uniform(b.view());
        test::fill_uniform(r.view());
        dx = test::to_device(x);
        dw = test::to_device(w);
        dr = test::to_device(r);
        db = test::to_device(b);
    }
};

// Evaluates build(operands) on the host and on the device (on `gemm`, or the default engine).
template <class T, class Build, class... Engine>
void check(Operands<T>& o, const std::string& what, Build build, bool tanh_approx, Engine&... gemm) {
    eval(o.want.view(), build(o.x.view(), o.w.view(), o.b.view(), o.r.view()), host);
    Tensor<T, Shape<dyn, dyn>, device_space> y(o.rows, o.N);
    test::poison(y.view());
    sinter::cuda::Stream s;
    eval(y.view(), build(o.dx.view(), o.dw.view(), o.db.view(), o.dr.view()), s, gemm...);
    s.synchronize();
    if constexpr (sizeof...(Engine) == 0) blas::release_thread_gemm(s);  // s is destroyed here
    const auto got = test::to_host(y);
    // A K-long f32 dot product of the same inputs: the host and cuBLASLt differ in order only.
    // cuBLASLt's GELU epilogue is the tanh form, and its tanh may be the tanh.approx instruction
    // (about 2^-11 relative): looser in f32 there.
    const bool approx = std::is_same_v<T, float> && tanh_approx;
    test::compare(got.data(), o.want.data(), got.size(), approx ? 1e-3 : test::tolerance<T>::rel,
                  approx ? 1e-3 : test::tolerance<T>::abs,
                  what + " " + std::to_string(o.rows) + "x" + std::to_string(o.N) + "x" + std::to_string(o.K));
}

template <class T>
void check_forms(Operands<T>&& o, blas::Gemm& gemm) {
    check(o, "x W^T", [](auto x, auto w, auto, auto) { return matmul(x, transpose(w)); }, false, gemm);
    check(o, "x W^T + b", [](auto x, auto w, auto b, auto) { return matmul(x, transpose(w)) + b; }, false, gemm);
    check(o, "gelu(x W^T + b)", [](auto x, auto w, auto b, auto) { return gelu(matmul(x, transpose(w)) + b); }, false, gemm);
    check(o, "gelu_tanh(x W^T + b)", [](auto x, auto w, auto b, auto) { return gelu_tanh(matmul(x, transpose(w)) + b); },
          true, gemm);
    check(o, "relu(x W^T + b)", [](auto x, auto w, auto b, auto) { return relu(matmul(x, transpose(w)) + b); }, false, gemm);
    check(o, "tanh(x W^T + b)", [](auto x, auto w, auto b, auto) { return sinter::tanh(matmul(x, transpose(w)) + b); },
          false, gemm);
    check(o, "gelu_tanh(x W^T)", [](auto x, auto w, auto, auto) { return gelu_tanh(matmul(x, transpose(w))); }, true, gemm);
    check(o, "x W^T + b + r", [](auto x, auto w, auto b, auto r) { return matmul(x, transpose(w)) + b + r; }, false, gemm);
    check(o, "x W^T + r", [](auto x, auto w, auto, auto r) { return matmul(x, transpose(w)) + r; }, false, gemm);
}

// The whole per-dtype suite: every form at two shapes on a heuristic engine and on an autotuned
// one (timed, then reused), BERT-base's QKV on the default per-thread engine, and the output
// projection with residual and LayerNorm.
template <class T>
void check_every_form() {
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

}  // namespace sinter::test

