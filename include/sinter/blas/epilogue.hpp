#pragma once
// What a linear layer applies after its GEMM: y = act(x W^T + b) (+ residual). The host and
// device paths share this list; on the device, cuBLASLt fuses what it can (blas/gemm.cuh).
namespace sinter::blas {

enum class Epilogue {
    bias,            // x W^T + b
    bias_gelu,       // exact GELU (erf), BERT's "gelu"
    bias_gelu_tanh,  // tanh GELU: "gelu_new", "gelu_pytorch_tanh"; cuBLASLt's GELU epilogue
    bias_relu,
    bias_tanh,       // the pooler
};

}  // namespace sinter::blas
