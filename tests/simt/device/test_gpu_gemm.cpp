// tests/gpu/test_gpu_gemm.cu, unchanged, on the fake CUDA device (simt/device.hpp).
#include <simt/device.hpp>

#include "../../gpu/test_gpu_gemm.cu"
