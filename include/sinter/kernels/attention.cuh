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
#include <mma.h>

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <type_traits>

#include "../core/dtype.hpp"
#include "../cuda/error.cuh"
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

// The wmma kernel's shared memory. The rows the softmax pass walks element by element (scores,
// probabilities, output) are padded 16 bytes: the 16 rows a warp touches at once then start in 8
// different banks, a 2-way conflict where unpadded rows of 128 or 256 bytes put all 32 lanes in
// one bank; the padded strides keep WMMA's rules: ldm a multiple of 16 bytes, every fragment
// pointer 32-byte aligned.
template <class T, int HD>
struct AttentionTiles {
    // 32-key tiles from head size 64: 47.5 KiB at 32 and 64 (within the 64 KiB of an sm_75
    // block), 79.5 KiB at 128.
    static constexpr int BQ = 64, BK = HD >= 64 ? 32 : 64, warps = 4, threads = 32 * warps;
    static constexpr int SLD = BK + 4, PLD = BK + 8, OLD = HD + 4;  // padded row strides, in elements
    static constexpr std::size_t round(std::size_t b) { return (b + 127) / 128 * 128; }
    static constexpr std::size_t q = 0;                                       // (BQ, HD) T
    static constexpr std::size_t k = q + round(BQ * HD * sizeof(T));         // (BK, HD) T
    static constexpr std::size_t v = k + round(BK * HD * sizeof(T));         // (BK, HD) T
    static constexpr std::size_t s = v + round(BK * HD * sizeof(T));         // (BQ, SLD) f32 scores
    static constexpr std::size_t p = s + round(BQ * SLD * sizeof(float));    // (BQ, PLD) T probabilities
    static constexpr std::size_t o = p + round(BQ * PLD * sizeof(T));        // (BQ, OLD) f32 output
    static constexpr std::size_t stats = o + round(BQ * OLD * sizeof(float)); // (BQ) max, sum
    static constexpr std::size_t bytes = stats + round(2 * BQ * sizeof(float));
    static_assert(SLD % 4 == 0 && PLD % 8 == 0 && OLD % 4 == 0, "WMMA: ldm a multiple of 16 bytes");
    static_assert(16 * SLD * 4 % 32 == 0 && 16 * PLD * sizeof(T) % 32 == 0 && 16 * OLD * 4 % 32 == 0,
                  "WMMA: each warp's 16-row block 32-byte aligned");
};

// Copies rows [row0, row0 + rows) of one head's HD columns at column `col` of qkv into shared
// memory, 16 bytes at a time; rows past `len` are zeros (never garbage: 0 * NaN is NaN).
template <class T, int HD, int Rows>
__device__ __forceinline__ void load_tile(T* dst, const T* qkv, index_t ld, index_t first_row, int row0, int len,
                                          index_t col) {
    constexpr int per_row = HD * int(sizeof(T)) / 16;
    for (int i = threadIdx.x; i < Rows * per_row; i += blockDim.x) {
        const int r = i / per_row, c = i % per_row;
        uint4 val = make_uint4(0, 0, 0, 0);
        if (row0 + r < len) val = reinterpret_cast<const uint4*>(qkv + (first_row + row0 + r) * ld + col)[c];
        reinterpret_cast<uint4*>(dst + r * HD)[c] = val;
    }
}

// One block's work in the wmma kernel below.
template <class T, int HD>
__device__ __forceinline__ void attention_mma_block(T* __restrict__ ctx, const T* __restrict__ qkv,
                                                    const std::int32_t* __restrict__ offsets, int heads, float scale) {
    using namespace nvcuda;
    using Tiles = AttentionTiles<T, HD>;
    constexpr int BQ = Tiles::BQ, BK = Tiles::BK, SLD = Tiles::SLD, PLD = Tiles::PLD, OLD = Tiles::OLD;
    extern __shared__ __align__(128) unsigned char smem[];
    T* sq = reinterpret_cast<T*>(smem + Tiles::q);
    T* sk = reinterpret_cast<T*>(smem + Tiles::k);
    T* sv = reinterpret_cast<T*>(smem + Tiles::v);
    float* ss = reinterpret_cast<float*>(smem + Tiles::s);
    T* sp = reinterpret_cast<T*>(smem + Tiles::p);
    float* so = reinterpret_cast<float*>(smem + Tiles::o);
    float* row_max = reinterpret_cast<float*>(smem + Tiles::stats);
    float* row_sum = row_max + BQ;

    const int b = blockIdx.z, h = blockIdx.y, q0 = blockIdx.x * BQ;
    const index_t first = offsets[b];
    const int len = offsets[b + 1] - int(first);
    if (q0 >= len) return;  // uniform over the block
    const index_t H = index_t(heads) * HD, ld = 3 * H;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

    load_tile<T, HD, BQ>(sq, qkv, ld, first, q0, len, index_t(h) * HD);
    for (int i = threadIdx.x; i < BQ * OLD; i += blockDim.x) so[i] = 0.f;
    for (int i = threadIdx.x; i < BQ; i += blockDim.x) {
        row_max[i] = -f32_inf;
        row_sum[i] = 0.f;
    }

    for (int k0 = 0; k0 < len; k0 += BK) {
        __syncthreads();  // the previous tile's K and V are no longer read
        load_tile<T, HD, BK>(sk, qkv, ld, first, k0, len, H + index_t(h) * HD);
        load_tile<T, HD, BK>(sv, qkv, ld, first, k0, len, 2 * H + index_t(h) * HD);
        __syncthreads();

        // S (16 x BK per warp) = Q K^T: K stored (BK, HD) row-major is K^T column-major.
        {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[BK / 16];
            for (int j = 0; j < BK / 16; ++j) wmma::fill_fragment(acc[j], 0.f);
            for (int kk = 0; kk < HD; kk += 16) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
                wmma::load_matrix_sync(a, sq + warp * 16 * HD + kk, HD);
                for (int j = 0; j < BK / 16; ++j) {
                    wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> kt;
                    wmma::load_matrix_sync(kt, sk + j * 16 * HD + kk, HD);
                    wmma::mma_sync(acc[j], a, kt, acc[j]);
                }
            }
            for (int j = 0; j < BK / 16; ++j)
                wmma::store_matrix_sync(ss + warp * 16 * SLD + j * 16, acc[j], SLD, wmma::mem_row_major);
        }
        __syncwarp();

        // Online softmax: two lanes per row, one the even columns, one the odd.
        {
            const int r = warp * 16 + lane / 2, c0 = lane % 2;
            const float* srow = ss + r * SLD;
            float tile_max = -f32_inf;
            for (int c = c0; c < BK; c += 2)
                if (k0 + c < len) tile_max = fmaxf(tile_max, srow[c] * scale);
            tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
            const float old_max = row_max[r];
            const float new_max = fmaxf(old_max, tile_max);  // finite: key k0 is valid
            float sum = 0.f;
            T* prow = sp + r * PLD;
            for (int c = c0; c < BK; c += 2) {
                const float e = k0 + c < len ? __expf(srow[c] * scale - new_max) : 0.f;
                prow[c] = from_float<T>(e);
                sum += e;
            }
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            const float alpha = __expf(old_max - new_max);  // 0 on the first tile
            float* orow = so + r * OLD;
            for (int d = c0; d < HD; d += 2) orow[d] *= alpha;
            __syncwarp();
            if (lane % 2 == 0) {
                row_max[r] = new_max;
                row_sum[r] = row_sum[r] * alpha + sum;
            }
        }
        __syncwarp();

        // O (16 x HD per warp) += P V.
        for (int j = 0; j < HD / 16; ++j) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> o;
            wmma::load_matrix_sync(o, so + warp * 16 * OLD + j * 16, OLD, wmma::mem_row_major);
            for (int kk = 0; kk < BK; kk += 16) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> pa;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> vb;
                wmma::load_matrix_sync(pa, sp + warp * 16 * PLD + kk, PLD);
                wmma::load_matrix_sync(vb, sv + kk * HD + j * 16, HD);
                wmma::mma_sync(o, pa, vb, o);
            }
            wmma::store_matrix_sync(so + warp * 16 * OLD + j * 16, o, OLD, wmma::mem_row_major);
        }
    }
    __syncthreads();
    for (int i = threadIdx.x; i < BQ * HD; i += blockDim.x) {
        const int r = i / HD, d = i % HD;
        if (q0 + r >= len) continue;
        const float l = row_sum[r];
        ctx[(first + q0 + r) * H + index_t(h) * HD + d] = from_float<T>(l > 0.f ? so[r * OLD + d] / l : 0.f);
    }
}

template <class T, int HD>
__global__ void __launch_bounds__(128)
attention_mma_kernel(T* __restrict__ ctx, const T* __restrict__ qkv, const std::int32_t* __restrict__ offsets,
                     int heads, float scale) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
    if constexpr (std::is_same_v<T, bf16>)
        __trap();  // bf16 WMMA needs sm_80: never launched from code compiled for less
    else
#endif
        attention_mma_block<T, HD>(ctx, qkv, offsets, heads, scale);
}

// A warp per (query, head): the SIMT path for f32 (and a readable statement of the algorithm).
template <class T, int HD>
__global__ void __launch_bounds__(128)
attention_simt_kernel(T* __restrict__ ctx, const T* __restrict__ qkv, const std::int32_t* __restrict__ offsets,
                      int heads, float scale) {
    constexpr int per_lane = HD / 32;
    const int b = blockIdx.z, h = blockIdx.y, q = blockIdx.x * 4 + threadIdx.x / 32, lane = threadIdx.x % 32;
    const index_t first = offsets[b];
    const int len = offsets[b + 1] - int(first);
    if (q >= len) return;  // uniform over the warp
    const index_t H = index_t(heads) * HD, ld = 3 * H;
    float qv[per_lane], acc[per_lane];
    for (int i = 0; i < per_lane; ++i) {
        qv[i] = to_float(qkv[(first + q) * ld + index_t(h) * HD + lane + 32 * i]);
        acc[i] = 0.f;
    }
    float m = -f32_inf, l = 0.f;
    for (int j = 0; j < len; ++j) {
        const T* kv = qkv + (first + j) * ld + index_t(h) * HD + lane;
        float dot = 0.f;
        for (int i = 0; i < per_lane; ++i) dot += qv[i] * to_float(kv[H + 32 * i]);
        for (int o = 16; o > 0; o /= 2) dot += __shfl_xor_sync(0xffffffffu, dot, o);
        const float s = dot * scale, m_new = fmaxf(m, s);
        const float alpha = __expf(m - m_new), p = __expf(s - m_new);
        l = l * alpha + p;
        for (int i = 0; i < per_lane; ++i) acc[i] = acc[i] * alpha + p * to_float(kv[2 * H + 32 * i]);
        m = m_new;
    }
    for (int i = 0; i < per_lane; ++i)
        ctx[(first + q) * H + index_t(h) * HD + lane + 32 * i] = from_float<T>(l > 0.f ? acc[i] / l : 0.f);
}

// One block of Tiles::threads per Tiles::BQ queries of a (sequence, head), Tiles::bytes of shared
// memory: the launch of both tensor-core kernels. Over 48 KiB needs an opt-in, per device: cheap,
// host-side, capturable.
template <class Tiles, class T>
void launch_tiled(void (*kernel)(T*, const T*, const std::int32_t*, int, float), const char* launch_name, T* ctx,
                  const T* qkv, const std::int32_t* offsets, index_t batch, index_t max_len, int heads, float scale,
                  cudaStream_t stream) {
    SINTER_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(Tiles::bytes)));
    const dim3 grid(unsigned((max_len + Tiles::BQ - 1) / Tiles::BQ), unsigned(heads), unsigned(batch));
    kernel<<<grid, Tiles::threads, Tiles::bytes, stream>>>(ctx, qkv, offsets, heads, scale);
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
        int device = 0;
        SINTER_CUDA_CHECK(cudaGetDevice(&device));
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
        attention_simt_kernel<T, HD><<<grid, 128, 0, stream>>>(ctx, qkv, offsets, heads, scale);
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
// (batch + 1 device int32 prefix sums; no sequence longer than max_len). `kernel`: automatic picks
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
