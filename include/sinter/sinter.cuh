#pragma once
// Everything, CUDA included: include this from .cu files compiled by nvcc.
#include "sinter.hpp"

#include "blas/gemm.cuh"
#include "cuda/device.cuh"
#include "cuda/error.cuh"
#include "cuda/memory.cuh"
#include "cuda/stream.cuh"
#include "expr/eval_cuda.cuh"
#include "kernels/attention.cuh"
#include "nn/bert/session.cuh"
