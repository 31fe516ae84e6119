#pragma once
// Linear layers on the host: y = act(x W^T + b) (+ residual), the host twin of the cuBLASLt GEMM
// with its fused epilogue (blas/). f32 accumulation; W converted to f32 once per call.
#include <vector>

#include "../blas/epilogue.hpp"
#include "../core/tensor.hpp"
#include "../expr/ops.hpp"

namespace sinter::nn {

using blas::Epilogue;

SINTER_HD float apply_epilogue(Epilogue e, float v) {
    switch (e) {
        case Epilogue::bias: return v;
        case Epilogue::bias_gelu: return expr::op::gelu{}(v);
        case Epilogue::bias_gelu_tanh: return expr::op::gelu_tanh{}(v);
        case Epilogue::bias_relu: return expr::op::relu{}(v);
        case Epilogue::bias_tanh: return expr::op::tanh{}(v);
    }
    return v;
}

// y (T, N) = epilogue(x (T, K) W (N, K)^T + b (N)) [+ residual (T, N)]; residual may alias y.
template <class T, class SY, class SX, class SW, class SB>
void linear(const TensorView<T, SY, host_space>& y, const TensorView<const T, SX, host_space>& x,
            const TensorView<const T, SW, host_space>& w, const TensorView<const T, SB, host_space>& b,
            Epilogue epilogue, const T* residual = nullptr) {
    const index_t rows = x.extent(0), K = x.extent(1), N = w.extent(0);
    if (w.extent(1) != K || y.extent(0) != rows || y.extent(1) != N || b.extent(0) != N)
        throw shape_error("linear: x " + x.shape().str() + ", W " + w.shape().str() + ", b " + b.shape().str() +
                          " and y " + y.shape().str() + " do not make y = x W^T + b");
    std::vector<float> wf(static_cast<std::size_t>(N * K)), xf(static_cast<std::size_t>(K));
    for (index_t i = 0; i < N * K; ++i) wf[std::size_t(i)] = to_float(w.data()[i]);
    for (index_t t = 0; t < rows; ++t) {
        for (index_t k = 0; k < K; ++k) xf[std::size_t(k)] = to_float(x.data()[t * K + k]);
        for (index_t n = 0; n < N; ++n) {
            const float* wr = wf.data() + n * K;
            float acc[8] = {};
            index_t k = 0;
            for (; k + 8 <= K; k += 8)
                for (int j = 0; j < 8; ++j) acc[j] += xf[std::size_t(k + j)] * wr[k + j];
            for (; k < K; ++k) acc[0] += xf[std::size_t(k)] * wr[k];
            const float dot = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
            float v = apply_epilogue(epilogue, dot + to_float(b.data()[n]));
            if (residual) v += to_float(residual[t * N + n]);
            y.data()[t * N + n] = from_float<T>(v);
        }
    }
}

}  // namespace sinter::nn
