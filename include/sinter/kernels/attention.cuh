#pragma once
// Fused multi-head attention over packed variable-length sequences, the one hand-written kernel
// (three variants).
//
// Layout: qkv (T, 3H) holds Q | K | V of every token, sequences laid end to end (no padding):
// sequence b is rows offsets[b] .. offsets[b+1]-1 and head h owns columns h*HD .. h*HD+HD-1 of each
// third. Output ctx (T, H). A query sees the keys of its own sequence only: the mask is that
// predicate. softmax(Q K^T / sqrt(HD)) V is computed flash-attention style, one tile of keys at a
// time with running f32 row maxima and sums, so the score matrix never reaches device memory.
//
// Kernels (AttentionKernel):
//   flash  f16/bf16 on sm_80+: mma.sync with scores, probabilities and output in registers, K and V
//          double-buffered by cp.async (flash_attention.cuh). The default there.
//   wmma   f16/bf16: WMMA 16x16x16 with the scores and the output accumulator in shared memory;
//          simpler, slower; the default for f16 before sm_80 (bf16 needs sm_80).
// "sm_80" means both the device and the code it runs: a binary compiled only for older
// architectures falls back (automatic) or is refused (an explicit choice) rather than trapping.
//   simt   any dtype: a warp per query, no tensor cores; the f32 path, correct rather than fast.
// Host twin: nn/attention_host.hpp.
#include <array>
#include <map>
#include <mutex>
#include <string>
#include <type_traits>

#include "../core/dtype.hpp"
#include "../cuda/device.cuh"
#include "../cuda/error.cuh"
// By the include path: the SIMT emulator (tests/simt) has its own.
#include <sinter/cuda/launch.cuh>
#include "attention_simt.cuh"
#include "attention_wmma.cuh"
#include "flash_attention.cuh"

namespace sinter::kernels {

enum class AttentionKernel : unsigned char { automatic, flash, wmma, simt };

constexpr const char* name(AttentionKernel k) {
    switch (k) {
        case AttentionKernel::automatic: return "automatic";
        case AttentionKernel::flash: return "flash";
        case AttentionKernel::wmma: return "wmma";
        case AttentionKernel::simt: return "simt";
    }
    return "?";
}

namespace detail {

// One block of Tiles::threads per Tiles::BQ queries of a (sequence, head), Tiles::bytes of shared
// memory: the launch of both tensor-core kernels. Over 48 KiB needs an opt-in, per device: cheap,
// host-side, capturable.
template <class Tiles, class T>
void launch_tiled(void (*kernel)(T*, const T*, const std::int32_t*, int, float), const char* launch_name, T* ctx,
                  const T* qkv, const std::int32_t* offsets, index_t batch, index_t max_len, int heads, float scale,
                  cudaStream_t stream) {
    SINTER_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(Tiles::bytes)));
    const dim3 grid(unsigned((max_len + Tiles::BQ - 1) / Tiles::BQ), unsigned(heads), unsigned(batch));
    cuda::launch(kernel, grid, Tiles::threads, Tiles::bytes, stream, ctx, qkv, offsets, heads, scale);
    sinter::cuda::check(cudaGetLastError(), launch_name, __FILE__, __LINE__);
}

// The virtual architecture (10 * major + minor) of the code the current device runs for `kernel`:
// its own where the binary holds code for it, less where the driver JIT-compiles older PTX (a
// library built for "75;90" running on an sm_86 runs compute_75 code, without the sm_80 paths).
template <class... Args>
int compiled_arch(void (*kernel)(Args...)) {
    cudaFuncAttributes attributes{};
    SINTER_CUDA_CHECK(cudaFuncGetAttributes(&attributes, kernel));
    return attributes.ptxVersion;
}

// Why the flash and the wmma kernel (T, HD) cannot run on `device` ("" where they can): the
// tensor-core kernels need sm_80 (bf16 WMMA, mma.m16n8k16, cp.async) both on the device and in
// the code it runs, and their tiles must fit its shared memory.
template <class T, int HD>
std::array<std::string, 2> attention_obstacles(int device) {
    int major = 0, shared_optin = 0;
    SINTER_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
    SINTER_CUDA_CHECK(cudaDeviceGetAttribute(&shared_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    const auto obstacle = [&](bool flash) -> std::string {
        const std::size_t bytes = flash ? FlashTiles<T, HD>::bytes : AttentionTiles<T, HD>::bytes;
        const int arch = flash ? compiled_arch(flash_attention_kernel<T, HD>) : compiled_arch(attention_mma_kernel<T, HD>);
        std::string why;
        if ((flash || std::is_same_v<T, bf16>) && (major < 8 || arch < 80)) {
            why = "needs sm_80 or later for " + std::string(sinter::name(dtype_of<T>)) + "; this device is sm_";
            why += std::to_string(major);
            why += "x";
            if (major >= 8) {
                why += " but runs code compiled for compute_";
                why += std::to_string(arch);
                why += " (add 80 or later to CMAKE_CUDA_ARCHITECTURES)";
            }
        } else if (bytes > std::size_t(shared_optin)) {
            why = "needs " + std::to_string(bytes) + " bytes of shared memory per block at head size ";
            why += std::to_string(HD);
            why += "; this device allows ";
            why += std::to_string(shared_optin);
        }
        return why;
    };
    return {obstacle(true), obstacle(false)};
}

// The kernel `automatic` stands for, or whether `kernel` can run. What a device allows is asked
// once per (T, HD, device) and kept: a forward resolves its attention kernel in every layer.
template <class T, int HD>
AttentionKernel resolve_attention_kernel(AttentionKernel kernel) {
    if constexpr (std::is_same_v<T, float>) {
        if (kernel != AttentionKernel::automatic && kernel != AttentionKernel::simt)
            throw value_error(std::string("kernels::attention: the ") + name(kernel) +
                              " kernel is for f16 and bf16; f32 uses simt");
        return AttentionKernel::simt;
    } else {
        const int device = cuda::current_device();
        static std::mutex mutex;
        static std::map<int, std::array<std::string, 2>> known;  // device -> obstacles (flash, wmma)
        const std::array<std::string, 2>* obstacles = nullptr;
        {
            const std::lock_guard<std::mutex> lock(mutex);
            auto it = known.find(device);
            if (it == known.end()) it = known.emplace(device, attention_obstacles<T, HD>(device)).first;
            obstacles = &it->second;  // map nodes stay where they are
        }
        const std::string& flash = (*obstacles)[0];
        const std::string& wmma = (*obstacles)[1];
        if (kernel == AttentionKernel::automatic)
            return flash.empty() ? AttentionKernel::flash : wmma.empty() ? AttentionKernel::wmma : AttentionKernel::simt;
        const std::string& why = kernel == AttentionKernel::flash ? flash : wmma;
        if (kernel != AttentionKernel::simt && !why.empty())
            throw value_error(std::string("kernels::attention: the ") + name(kernel) + " kernel " + why);
        return kernel;
    }
}

template <class T, int HD>
void launch_attention(T* ctx, const T* qkv, const std::int32_t* offsets, index_t batch, index_t max_len, int heads,
                      AttentionKernel requested, cudaStream_t stream) {
    const AttentionKernel kernel = resolve_attention_kernel<T, HD>(requested);
    const float scale = 1.f / sqrtf(float(HD));
    if (kernel == AttentionKernel::simt) {
        const dim3 grid(unsigned((max_len + 3) / 4), unsigned(heads), unsigned(batch));
        cuda::launch(attention_simt_kernel<T, HD>, grid, 128, 0, stream, ctx, qkv, offsets, heads, scale);
        SINTER_CHECK_LAUNCH("sinter::kernels::attention_simt_kernel");
        return;
    }
    if constexpr (!std::is_same_v<T, float>) {
        if (kernel == AttentionKernel::flash)  // log2(e) folded into the scale: the kernel uses exp2
            launch_tiled<FlashTiles<T, HD>>(flash_attention_kernel<T, HD>, "launch of sinter::kernels::flash_attention_kernel",
                                            ctx, qkv, offsets, batch, max_len, heads, scale * 1.4426950408889634f,
                                            stream);
        else
            launch_tiled<AttentionTiles<T, HD>>(attention_mma_kernel<T, HD>, "launch of sinter::kernels::attention_mma_kernel",
                                                ctx, qkv, offsets, batch, max_len, heads, scale, stream);
    }
}

// f(std::integral_constant<int, head_size>{}) for a supported head size; a value_error otherwise.
template <class F>
decltype(auto) with_head_size(int head_size, F&& f) {
    switch (head_size) {
        case 32: return f(std::integral_constant<int, 32>{});
        case 64: return f(std::integral_constant<int, 64>{});
        case 128: return f(std::integral_constant<int, 128>{});
        default:
            throw value_error("kernels::attention: head size " + std::to_string(head_size) +
                              " is not supported (32, 64 or 128)");
    }
}

}  // namespace detail

// The kernel attention<T>(..., head_size, ..., kernel) runs on the current device: what
// `automatic` stands for there; throws value_error where `kernel` cannot run.
template <class T>
AttentionKernel attention_kernel_for(int head_size, AttentionKernel kernel = AttentionKernel::automatic) {
    return detail::with_head_size(head_size, [&](auto hd) { return detail::resolve_attention_kernel<T, hd()>(kernel); });
}

// ctx (T, heads*head_size) = attention over qkv (T, 3*heads*head_size), sequences by `offsets`
// (batch + 1 device int32 prefix sums). max_len, the longest sequence's length, sizes the grid: a
// longer sequence is still computed in full, by fewer blocks (more slowly); max_len 0 says every
// sequence is empty, and nothing is launched. `kernel`: automatic picks
// flash for f16/bf16 where the device and the code it runs are sm_80+, else wmma where it can run
// (f16, or bf16 on sm_80+, and its tiles fit the device's shared memory), else simt;
// attention_kernel_for says which.
// Preconditions: head_size 32, 64 or 128; qkv and ctx 16-byte aligned; offsets on the device.
template <class T>
void attention(T* ctx, const T* qkv, const std::int32_t* offsets, index_t batch, index_t max_len, int heads,
               int head_size, cudaStream_t stream, AttentionKernel kernel = AttentionKernel::automatic) {
    detail::with_head_size(head_size, [&](auto hd) {  // the head size checked first, even with nothing to do
        if (batch < 0 || max_len < 0 || heads < 0)
            throw value_error("kernels::attention: a negative batch (" + std::to_string(batch) + "), max_len (" +
                              std::to_string(max_len) + ") or heads (" + std::to_string(heads) + ")");
        if (batch == 0 || max_len == 0 || heads == 0) return;
        if (reinterpret_cast<std::uintptr_t>(qkv) % 16 || reinterpret_cast<std::uintptr_t>(ctx) % 16)
            throw value_error("kernels::attention: qkv and ctx must be 16-byte aligned");
        if (batch > 65535 || heads > 65535)
            throw value_error("kernels::attention: batch " + std::to_string(batch) + " or heads " +
                              std::to_string(heads) + " over the grid's 65535");
        cuda::ensure_usable("kernels::attention");
        detail::launch_attention<T, hd()>(ctx, qkv, offsets, batch, max_len, heads, kernel, stream);
    });
}

}  // namespace sinter::kernels
