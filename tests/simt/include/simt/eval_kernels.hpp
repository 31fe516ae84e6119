#pragma once
// The CUDA evaluator's kernels (expr/eval_cuda_kernels.cuh), compiled by the host compiler for the
// SIMT emulator. The expression nodes come first, as host code (their few device-only branches,
// 16-byte vector copies and the like, are not what runs here); then the kernels with __CUDA_ARCH__
// at 900 and `__shared__` as `static`: a block-scope static is one object for every thread, which
// is what a __shared__ variable is while the emulator runs one block at a time. CUB's reductions
// come from tests/simt/include/cub.
#include "sinter/expr.hpp"  // first: the runtime's macros (threadIdx, gridDim, ...) would break CUDA's headers

#include <cub/block/block_reduce.cuh>
#include <cub/warp/warp_reduce.cuh>
#include <simt/runtime.hpp>

#pragma push_macro("__shared__")
#undef __shared__
#define __shared__ static
#define __CUDA_ARCH__ 900
#include "sinter/expr/eval_cuda_kernels.cuh"
#undef __CUDA_ARCH__
#pragma pop_macro("__shared__")
