#pragma once
// sinter whole (sinter.cuh), compiled by the host compiler for the fake CUDA device
// (simt/fake_cuda.hpp): the CUDA and cuBLASLt headers and the host library first, then the
// kernels with the emulator's built-ins (simt/kernels.hpp, simt/eval_kernels.hpp), then the launch
// stand-in and the device code that launches them. A GPU test (.cu) included after this compiles
// as C++ and runs on the host: tests/simt/device/*.cpp.
#include <cublasLt.h>
#include <cuda_runtime.h>

#include "sinter/expr.hpp"
#include "sinter/sinter.hpp"

#include <simt/eval_kernels.hpp>
#include <simt/kernels.hpp>

#include <simt/fake_cuda.hpp>
#include <sinter/cuda/launch.cuh>

#include "sinter/sinter.cuh"
