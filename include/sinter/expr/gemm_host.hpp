#pragma once
// The host's GEMM engine: one GemmCall as plain loops, f32 accumulation (eight partial sums per
// dot product, so the compiler vectorises it), the epilogue applied per element. The host twin
// of cuBLASLt with its fused epilogues (blas/gemm.cuh).
#include <vector>

#include "contraction.hpp"

namespace sinter::expr {

SINTER_HD float activate(Activation a, float v) {
    switch (a) {
        case Activation::none: return v;
        case Activation::gelu: return op::gelu{}(v);
        case Activation::gelu_tanh: return op::gelu_tanh{}(v);
        case Activation::relu: return op::relu{}(v);
        case Activation::tanh: return op::tanh{}(v);
    }
    return v;
}

struct HostGemm {
    template <class T>
    void run(const GemmCall<T>& c) const {
        const index_t rows = c.rows, N = c.N, K = c.K;
        check_gemm_call(c, "expr::HostGemm");
        // W as (N, K) f32 rows, whichever way b is stored.
        std::vector<float> w(static_cast<std::size_t>(N * K)), x(static_cast<std::size_t>(K));
        for (index_t n = 0; n < N; ++n)
            for (index_t k = 0; k < K; ++k)
                w[std::size_t(n * K + k)] = to_float(c.b_transposed ? c.b[n * K + k] : c.b[k * N + n]);
        float* xr = x.data();
        const index_t K8 = K / 8 * 8;
        for (index_t t = 0; t < rows; ++t) {
            for (index_t k = 0; k < K; ++k) xr[k] = to_float(c.a[t * K + k]);
            for (index_t n = 0; n < N; ++n) {
                const float* wr = w.data() + n * K;
                float acc[8] = {};
                for (index_t k = 0; k < K8; k += 8)
                    for (int j = 0; j < 8; ++j) acc[j] += xr[k + j] * wr[k + j];
                for (index_t k = K8; k < K; ++k) acc[0] += xr[k] * wr[k];
                float v = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
                if (c.bias) v += to_float(c.bias[n]);
                v = activate(c.activation, v);
                if (c.residual) v += to_float(c.residual[t * N + n]);
                c.y[t * N + n] = from_float<T>(v);
            }
        }
    }
};

}  // namespace sinter::expr
