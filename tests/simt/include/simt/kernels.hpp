#pragma once
// sinter's attention kernels, compiled by the host compiler for the SIMT emulator: the host
// headers first, then the kernel headers with __CUDA_ARCH__ at 900 (so their sm_80+ paths are the
// ones compiled, as on an H100/H200), then __CUDA_ARCH__ undefined again. The kernels' PTX
// primitives and WMMA come from tests/simt/include (sinter/kernels/mma.cuh, mma.h).
#include <vector_functions.h>
#include <vector_types.h>

#include <mma.h>
#include <simt/runtime.hpp>
#include <sinter/kernels/mma.cuh>

#include "sinter/core/dtype.hpp"

#define __CUDA_ARCH__ 900
#include "sinter/kernels/attention_simt.cuh"
#include "sinter/kernels/attention_wmma.cuh"
#include "sinter/kernels/flash_attention.cuh"
#undef __CUDA_ARCH__
