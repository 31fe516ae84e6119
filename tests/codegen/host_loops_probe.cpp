// The host path's hot loops, emitted out of line so that cmake/SinterCodegenCheck.cmake can read
// their instructions (CTest host_codegen): built at -O2 (CMake's RelWithDebInfo), by g++, Clang
// and nvcc (as CUDA, -x cu: its host pass), each must keep its vectors in registers.
#include <sinter/expr/gemm_host.hpp>

namespace probe = sinter::expr::detail;
#if defined(SINTER_HOST_VECTOR_LANES)
[[gnu::used]] void (*const sinter_probe_out_portable)(const float*, const probe::HostTileOut&) =
    &probe::host_tile_out_portable;
#endif
#if defined(SINTER_HOST_ISA_DISPATCH)
[[gnu::used]] void (*const sinter_probe_tile_avx512)(float*, const float*, const float*, sinter::index_t, bool,
                                                     const float*, sinter::index_t) = &probe::host_gemm_tile_avx512;
[[gnu::used]] void (*const sinter_probe_tile_avx2)(float*, const float*, const float*, sinter::index_t, bool,
                                                   const float*, sinter::index_t) = &probe::host_gemm_tile_avx2;
[[gnu::used]] void (*const sinter_probe_gelu_avx512)(float*, sinter::index_t) = &probe::host_gelu_avx512;
[[gnu::used]] void (*const sinter_probe_gelu_avx2)(float*, sinter::index_t) = &probe::host_gelu_avx2;
[[gnu::used]] void (*const sinter_probe_exp_avx512)(float*, sinter::index_t, float, float) =
    &probe::host_exp_shifted_avx512;
[[gnu::used]] void (*const sinter_probe_exp_avx2)(float*, sinter::index_t, float, float) =
    &probe::host_exp_shifted_avx2;
[[gnu::used]] void (*const sinter_probe_out_avx512)(const float*, const probe::HostTileOut&) =
    &probe::host_tile_out_avx512;
[[gnu::used]] void (*const sinter_probe_out_avx2)(const float*, const probe::HostTileOut&) = &probe::host_tile_out_avx2;
#endif
