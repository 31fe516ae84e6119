#pragma once
// The device's GEMM engine (tier 3): one expr::GemmCall, y (rows, N) = act(a (rows, K) op(b) + bias)
// [+ residual], as one cuBLASLt call. In cuBLASLt's column-major terms D (N x rows) = op(A) B with
// A = b (K x N, ld K, transposed, for an (N, K) nn.Linear weight; N x K, ld N, for a (K, N) b),
// B = a (K x rows, ld K), C = D's layout (N x rows, ld N); the bias broadcasts over D's columns.
//   bias, relu, gelu_tanh: fused epilogues (BIAS, RELU[_BIAS], GELU[_BIAS]; cuBLASLt's GELU is
//     the tanh form), except a bias under 16-byte alignment (detail::split_epilogue);
//   residual: beta = 1 with C = residual (which may be D: in place), in the same call;
//   gelu (exact erf) and tanh: the GEMM, then one element-wise kernel over y (with the bias when
//     it could not be fused).
// Where cuBLASLt refuses a shape with the fused epilogue (its heuristic finds no algorithm or
// rejects the descriptor, or the matmul refuses the algorithm it chose), the plan falls back to
// none and the element-wise kernel does bias and activation (Plan::epilogue_fused); only a shape it
// cannot multiply at all is an error, and a plan that failed is not kept.
// f32 accumulation (CUBLAS_COMPUTE_32F) for every dtype. The algorithm is chosen once per (dtype,
// shape, epilogue, operand and bias alignment) and cached: cuBLASLt's heuristic's first choice, or, with
// autotuning, the fastest of its first few candidates timed on the first call of that shape made
// outside a stream capture. One workspace per Gemm. expr::eval(out, expression, stream[, gemm])
// is how layers use it.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include <cublasLt.h>

#include "../core/dtype.hpp"
#include "../core/lru_cache.hpp"
#include "../cuda/device.cuh"
#include "../cuda/error.cuh"
#include "../cuda/memory.cuh"
#include "../cuda/stream.cuh"
#include "../expr/eval_cuda.cuh"

namespace sinter::blas {

// A failed cuBLASLt call; when a sticky CUDA fault is behind it (EXECUTION_FAILED after an illegal
// address, say) it is reported, and recorded, as that fault. A pending non-sticky CUDA error (a
// launch the call made, or an earlier unchecked one) is cleared, so that no later check blames
// another call for it, and named in the message.
inline void check(cublasStatus_t status, const char* call, const char* file, int line) {
    if (status == CUBLAS_STATUS_SUCCESS) return;
    std::string what = std::string(call) + ": " + cublasLtGetStatusName(status) + " (" +
                       cublasLtGetStatusString(status) + ")";
    if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess) {
        if (cuda::is_sticky(e)) cuda::check(e, what.c_str(), file, line);
        what += std::string(" with CUDA error ") + cudaGetErrorName(e) + " pending";
    }
    throw cuda_error(what + " at " + file + ":" + std::to_string(line), static_cast<int>(status), false);
}

}  // namespace sinter::blas

#define SINTER_CUBLAS_CHECK(call) ::sinter::blas::check((call), #call, __FILE__, __LINE__)

namespace sinter::blas {

template <class T>
constexpr cudaDataType_t cuda_type() {
    if constexpr (std::is_same_v<T, float>) return CUDA_R_32F;
    else if constexpr (std::is_same_v<T, half>) return CUDA_R_16F;
    else return CUDA_R_16BF;
}

// A cuBLASLt handle. Creating and destroying one is expensive (destroy may synchronise): keep it.
class Handle {
public:
    Handle() {
        cuda::ensure_usable("cublasLtCreate");
        SINTER_CUBLAS_CHECK(cublasLtCreate(&handle_));
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() {
        if (handle_ && !cuda::context_poisoned()) (void)cublasLtDestroy(handle_);
    }
    cublasLtHandle_t get() const { return handle_; }

private:
    cublasLtHandle_t handle_ = nullptr;
};

namespace detail {

template <class F, class D>
struct Owned {  // a cuBLASLt descriptor, destroyed with its destroy function
    D d = nullptr;
    F destroy;
    explicit Owned(F f) : destroy(f) {}
    Owned(const Owned&) = delete;
    Owned& operator=(const Owned&) = delete;
    ~Owned() { reset(); }
    void reset() {
        if (d) (void)destroy(d);
        d = nullptr;
    }
};

// The cuBLASLt epilogue for (bias?, activation); gelu (erf) and tanh finish in a second kernel.
inline cublasLtEpilogue_t fused_epilogue(bool bias, expr::Activation act) {
    switch (act) {
        case expr::Activation::relu: return bias ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU;
        case expr::Activation::gelu_tanh: return bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
        default: return bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
    }
}

// What cuBLASLt's epilogue does for a call and what one element-wise kernel after it finishes.
// gelu (erf) and tanh have no epilogue. The heuristic takes the bias's alignment from the pointer
// in the descriptor (cublasLt.h, CUBLASLT_MATMUL_DESC_BIAS_POINTER), so plans are chosen with the
// call's bias and kept per bias alignment; but kernels have been seen to read a bias 16 bytes at a
// time whatever it said (a misaligned-address fault, which is sticky): a bias less aligned than
// that is added by the second kernel, and then the activation must follow it there.
struct EpilogueSplit {
    bool fused_bias;
    expr::Activation fused_activation;
    bool second_kernel, bias_in_second;
};

inline EpilogueSplit split_epilogue(const void* bias, expr::Activation act) {
    const bool bias_fusable = bias == nullptr || reinterpret_cast<std::uintptr_t>(bias) % 16 == 0;
    const bool act_fusable = act != expr::Activation::gelu && act != expr::Activation::tanh;
    if (bias_fusable && act_fusable) return {bias != nullptr, act, false, false};
    if (bias_fusable) return {bias != nullptr, expr::Activation::none, true, false};
    return {false, expr::Activation::none, true, true};
}

// How cuBLASLt says that it cannot do a descriptor (an epilogue, a type, an alignment) rather than
// that something failed: only these make blas::Gemm plan a shape again without its epilogue;
// any other status (INTERNAL_ERROR, ALLOC_FAILED, EXECUTION_FAILED...) is reported as it is, and
// no fallback is kept for the shape.
inline bool is_refusal(cublasStatus_t status) {
    return status == CUBLAS_STATUS_NOT_SUPPORTED || status == CUBLAS_STATUS_INVALID_VALUE ||
           status == CUBLAS_STATUS_ARCH_MISMATCH;
}

// The largest power of two (up to 256) that divides every non-null address.
template <class... P>
std::uint32_t common_alignment(const P*... pointers) {
    const std::uintptr_t bits = (std::uintptr_t(256) | ... | reinterpret_cast<std::uintptr_t>(pointers));
    return std::uint32_t(bits & (~bits + 1));  // the lowest set bit; a null pointer sets none
}

// Most candidates an autotuning Gemm times per shape.
inline constexpr int max_candidates = 16;

// One planned GEMM shape: descriptors and the chosen algorithm (and, until timed, the candidates;
// arrays, not vectors: nvcc 13's front end fails on std::vector of these C structs).
struct Plan {
    std::array<cublasLtMatmulAlgo_t, max_candidates> candidates{};
    int candidate_count = 0;
    Owned<cublasStatus_t (*)(cublasLtMatmulDesc_t), cublasLtMatmulDesc_t> desc{cublasLtMatmulDescDestroy};
    Owned<cublasStatus_t (*)(cublasLtMatrixLayout_t), cublasLtMatrixLayout_t> a{cublasLtMatrixLayoutDestroy},
        b{cublasLtMatrixLayoutDestroy}, c{cublasLtMatrixLayoutDestroy};
    cublasLtMatmulAlgo_t algo{};
    // false: cuBLASLt had no algorithm with the call's epilogue, so the plan has none and the
    // element-wise kernel after the GEMM adds the bias and applies the activation.
    bool epilogue_fused = true;
};

}  // namespace detail

// GEMMs with fused epilogues on one workspace; not thread-safe (one per session). The workspace
// is shared by every call: calls on different streams must be ordered by the caller (one Gemm per
// stream, as bert::Session and expr::eval's default engines have), or two matmuls running at once
// would use it together.
class Gemm {
public:
    // autotune: how many of the heuristic's candidates to time per shape (0 or 1: take its first).
    // max_plans: the planned shapes kept (least recently used evicted; a caller of ever new row
    // counts holds bounded memory, and a graph captured from a plan does not need it afterwards).
    explicit Gemm(std::size_t workspace_bytes = std::size_t(32) << 20, int autotune = 0, std::size_t max_plans = 1024)
        : workspace_(index_t(workspace_bytes)), autotune_(autotune), plans_(max_plans) {}

    // Enqueues `call` on `stream` (see expr::GemmCall for what it computes and may alias).
    template <class T>
    void run(const expr::GemmCall<T>& call, cudaStream_t stream) {
        if (call.rows == 0 || call.N == 0) return;
        if (call.K == 0) throw value_error("blas::Gemm: an inner extent of 0");
        // cuBLASLt applies its epilogue to alpha A B + beta C: an activation would see the residual.
        expr::check_gemm_call(call, "blas::Gemm");
        cuda::ensure_usable("blas::Gemm");
        const detail::EpilogueSplit split = detail::split_epilogue(call.bias, call.activation);
        const std::uint32_t alignment = detail::common_alignment(call.y, call.a, call.b, call.residual);
        // The heuristic reads the bias pointer's alignment from the descriptor: a plan holds for
        // biases aligned as the one it was chosen with.
        const std::uint32_t bias_alignment = split.fused_bias ? detail::common_alignment(call.bias) : 0;
        const Key key{int(cuda_type<T>()), call.rows, call.N, call.K, call.b_transposed, split.fused_bias,
                      int(split.fused_activation), call.residual != nullptr, alignment, bias_alignment};
        const T* const fused_bias = split.fused_bias ? call.bias : nullptr;
        detail::Plan* plan = &plan_for<T>(key, fused_bias, true);
        cublasStatus_t status = matmul(*plan, call, fused_bias, stream);
        if (detail::is_refusal(status) && plan->epilogue_fused && has_epilogue(key) && !sticky_fault_pending()) {
            // The matmul refused the algorithm the heuristic chose with the epilogue: the shape is
            // planned again without one, once.
            plans_.erase(key);
            plan = &plan_for<T>(key, fused_bias, false);
            status = matmul(*plan, call, fused_bias, stream);
        }
        if (status != CUBLAS_STATUS_SUCCESS) {
            plans_.erase(key);  // not kept: the next call of this shape plans again
            const std::string what = "cublasLtMatmul of (rows, N, K) = (" + std::to_string(call.rows) + ", " +
                                     std::to_string(call.N) + ", " + std::to_string(call.K) + ")";
            check(status, what.c_str(), __FILE__, __LINE__);
        }
        if (!plan->epilogue_fused)
            finish(call, call.bias != nullptr, stream);
        else if (split.second_kernel)
            finish(call, split.bias_in_second, stream);
    }

    Handle& handle() { return handle_; }
    std::size_t plans() const { return plans_.size(); }  // shapes planned and kept now

private:
    // (dtype, rows, N, K, b transposed, bias, activation, residual, operand alignment, bias alignment)
    using Key = std::tuple<int, index_t, index_t, index_t, bool, bool, int, bool, std::uint32_t, std::uint32_t>;

    static bool has_epilogue(const Key& key) {
        return std::get<5>(key) || expr::Activation(std::get<6>(key)) != expr::Activation::none;
    }

    // Enqueues the call's matmul with plan p (timing its candidates first, when it has them and the
    // stream is not capturing): cuBLASLt's status.
    template <class T>
    cublasStatus_t matmul(detail::Plan& p, const expr::GemmCall<T>& call, const T* fused_bias, cudaStream_t stream) {
        const float alpha = 1.f, beta = call.residual ? 1.f : 0.f;
        // The bias pointer is an attribute of the descriptor: set per call (cheap, host-side).
        if (p.epilogue_fused && fused_bias)
            SINTER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc.d, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &fused_bias,
                                                               sizeof fused_bias));
        if (p.candidate_count > 0 && !capturing(stream)) time_candidates(p, call, alpha, beta, stream);
        return cublasLtMatmul(handle_.get(), p.desc.d, &alpha, call.b, p.a.d, call.a, p.b.d, &beta,
                              call.residual ? call.residual : call.y, p.c.d, call.y, p.c.d, &p.algo, workspace_.data(),
                              std::size_t(workspace_.bytes()), stream);
    }

    // y = act(y [+ bias]): the part of the epilogue cuBLASLt did not do (detail::split_epilogue).
    template <class T>
    static void finish(const expr::GemmCall<T>& call, bool add_bias, cudaStream_t stream) {
        const expr::op::activation act{call.activation};
        TensorView<T, Shape<dyn, dyn>, device_space> y(call.y, call.rows, call.N);
        if (add_bias)
            expr::eval(y, expr::map(act, y + TensorView<const T, Shape<dyn>, device_space>(call.bias, call.N)), stream);
        else
            expr::eval(y, expr::map(act, y), stream);
    }

    // Whether a sticky fault is behind a failure (then nothing is retried: check reports it).
    static bool sticky_fault_pending() {
        return cuda::context_poisoned() || cuda::is_sticky(cudaPeekAtLastError());
    }

    static bool capturing(cudaStream_t stream) {
        cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
        if (cudaStreamIsCapturing(stream, &status) != cudaSuccess) {
            (void)cudaGetLastError();
            return true;  // unknown: do not risk work that would break a capture
        }
        return status != cudaStreamCaptureStatusNone;
    }

    // Times each candidate algorithm on this call's operands (three runs after a warm-up, into a
    // scratch output so that y and an in-place residual are untouched) and keeps the fastest.
    template <class T>
    void time_candidates(detail::Plan& p, const expr::GemmCall<T>& call, float alpha, float beta,
                         cudaStream_t stream) {
        // From the stream-ordered allocator: cudaMalloc and cudaFree (which synchronises the
        // device) would stall every other stream's work once per tuned shape.
        // 256 bytes more than the output, which starts at the first 256-byte boundary: the
        // candidates were chosen for the call's alignment (up to 256 bytes), and the pool's
        // documentation promises none.
        constexpr index_t slack = 256 / index_t(sizeof(T));
        const cuda::StreamBuffer<T> scratch(call.rows * call.N + slack, stream);
        const auto address = reinterpret_cast<std::uintptr_t>(scratch.data());
        T* const d = scratch.data() + index_t((std::uintptr_t(0) - address) % 256 / sizeof(T));
        const void* c = call.residual ? static_cast<const void*>(call.residual) : static_cast<const void*>(d);
        cuda::Event start, stop;
        float best = INFINITY;
        for (int i = 0; i < p.candidate_count; ++i) {
            const cublasLtMatmulAlgo_t& algo = p.candidates[std::size_t(i)];
            const auto launch = [&] {
                return cublasLtMatmul(handle_.get(), p.desc.d, &alpha, call.b, p.a.d, call.a, p.b.d, &beta, c, p.c.d,
                                      d, p.c.d, &algo, workspace_.data(), std::size_t(workspace_.bytes()), stream);
            };
            // One that refuses these operands is skipped; a launch error it left pending is cleared
            // (reported if it is a sticky fault) so that no later check blames another kernel.
            const auto clear_failure = [] {
                if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess && cuda::is_sticky(e))
                    cuda::check(e, "blas::Gemm autotuning", __FILE__, __LINE__);
            };
            if (launch() != CUBLAS_STATUS_SUCCESS) {
                clear_failure();
                continue;
            }
            bool ok = true;
            start.record(stream);
            for (int r = 0; r < 3 && ok; ++r) ok = launch() == CUBLAS_STATUS_SUCCESS;
            stop.record(stream);
            stop.synchronize();
            if (!ok) clear_failure();
            const float ms = cuda::Event::elapsed_ms(start, stop);
            if (ok && ms < best) {
                best = ms;
                p.algo = algo;
            }
        }
        p.candidate_count = 0;  // timed once
    }

    // The key's plan, made on first use; `try_epilogue` false: made without the fused epilogue.
    template <class T>
    detail::Plan& plan_for(const Key& key, const T* bias, bool try_epilogue) {
        if (plans_.peek(key)) return plans_[key];  // now the most recently used
        detail::Plan& p = plans_[key];
        try {
            build_plan<T>(p, key, bias, try_epilogue);
        } catch (...) {
            plans_.erase(key);
            throw;
        }
        return p;
    }

    // The bias pointer is set before the heuristic runs: it takes the expected alignment from it.
    // With no algorithm for the fused epilogue, the plan is built again without one.
    template <class T>
    void build_plan(detail::Plan& p, const Key& key, const T* bias_pointer, bool try_epilogue) {
        [[maybe_unused]] const auto [type_id, rows, N, K, b_transposed, bias, activation, residual, alignment,
                                     bias_alignment] = key;
        if (has_epilogue(key)) {
            if (try_epilogue && try_build_plan<T>(p, key, bias, expr::Activation(activation), bias_pointer)) return;
            for (auto* layout : {&p.a, &p.b, &p.c}) layout->reset();
            p.desc.reset();
            p.epilogue_fused = false;
        }
        if (!try_build_plan<T>(p, key, false, expr::Activation::none, nullptr))
            throw cuda_error("cuBLASLt has no algorithm for (rows, N, K) = (" + std::to_string(rows) + ", " +
                                 std::to_string(N) + ", " + std::to_string(K) + "), " + std::to_string(alignment) +
                                 "-byte aligned operands",
                             int(CUBLAS_STATUS_NOT_SUPPORTED), false);
    }

    // Descriptors and the heuristic's candidates for `key` with the epilogue (bias, activation);
    // false if it has none.
    template <class T>
    bool try_build_plan(detail::Plan& p, const Key& key, bool bias, expr::Activation activation, const T* bias_pointer) {
        // The key's (bias, activation) give way to the epilogue tried.
        [[maybe_unused]] const auto [type_id, rows, N, K, b_transposed, key_bias, key_activation, residual, alignment,
                                     bias_alignment] = key;
        const cudaDataType_t type = cuda_type<T>();
        SINTER_CUBLAS_CHECK(cublasLtMatmulDescCreate(&p.desc.d, CUBLAS_COMPUTE_32F, CUDA_R_32F));
        const cublasOperation_t transa = b_transposed ? CUBLAS_OP_T : CUBLAS_OP_N, transb = CUBLAS_OP_N;
        SINTER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc.d, CUBLASLT_MATMUL_DESC_TRANSA, &transa, sizeof transa));
        SINTER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc.d, CUBLASLT_MATMUL_DESC_TRANSB, &transb, sizeof transb));
        const cublasLtEpilogue_t ep = detail::fused_epilogue(bias, activation);
        SINTER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc.d, CUBLASLT_MATMUL_DESC_EPILOGUE, &ep, sizeof ep));
        if (bias) {
            SINTER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc.d, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &type, sizeof type));
            SINTER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc.d, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias_pointer,
                                                               sizeof bias_pointer));
        }
        if (b_transposed)
            SINTER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.a.d, type, std::uint64_t(K), std::uint64_t(N), K));
        else
            SINTER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.a.d, type, std::uint64_t(N), std::uint64_t(K), N));
        SINTER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.b.d, type, std::uint64_t(K), std::uint64_t(rows), K));
        SINTER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.c.d, type, std::uint64_t(N), std::uint64_t(rows), N));

        detail::Owned<cublasStatus_t (*)(cublasLtMatmulPreference_t), cublasLtMatmulPreference_t> pref{
            cublasLtMatmulPreferenceDestroy};
        SINTER_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref.d));
        const std::uint64_t ws = std::uint64_t(workspace_.bytes());  // the attribute's type (cublasLt.h)
        SINTER_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.d, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
        // The heuristic assumes 256-byte aligned operands unless told otherwise.
        for (const auto attribute : {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                     CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES})
            SINTER_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.d, attribute, &alignment, sizeof alignment));
        std::array<cublasLtMatmulHeuristicResult_t, detail::max_candidates> results{};
        const int wanted = std::clamp(autotune_, 1, detail::max_candidates);
        int returned = 0;
        const cublasStatus_t heuristic = cublasLtMatmulAlgoGetHeuristic(
            handle_.get(), p.desc.d, p.a.d, p.b.d, p.c.d, p.c.d, pref.d, wanted, results.data(), &returned);
        // With an epilogue, a refusal (NOT_SUPPORTED, or INVALID_VALUE for an epilogue and type it
        // does not take) means: try without. Without one, NOT_SUPPORTED is how cuBLASLt usually says
        // that nothing fits (the shape's error in build_plan); anything else is reported as it is.
        const bool with_epilogue = bias || activation != expr::Activation::none;
        if (detail::is_refusal(heuristic) && with_epilogue && !sticky_fault_pending()) return false;
        if (heuristic != CUBLAS_STATUS_NOT_SUPPORTED) SINTER_CUBLAS_CHECK(heuristic);
        int found = 0;  // the usable results, first ones first
        for (int i = 0; i < returned; ++i)
            if (results[std::size_t(i)].state == CUBLAS_STATUS_SUCCESS) results[std::size_t(found++)] = results[std::size_t(i)];
        if (found == 0) return false;
        p.algo = results[0].algo;
        if (found > 1)
            for (int i = 0; i < found; ++i) p.candidates[std::size_t(p.candidate_count++)] = results[std::size_t(i)].algo;
        return true;
    }

    Handle handle_;
    Tensor<std::uint8_t, Shape<dyn>, device_space> workspace_;
    int autotune_;
    LruCache<Key, detail::Plan> plans_;
};

}  // namespace sinter::blas

namespace sinter::blas {

namespace detail {
inline std::map<std::pair<int, cudaStream_t>, std::unique_ptr<Gemm>>& thread_gemms() {
    thread_local std::map<std::pair<int, cudaStream_t>, std::unique_ptr<Gemm>> engines;
    return engines;
}
}  // namespace detail

// This thread's engine for `stream` on the current device: what expr::eval(out, x, stream) runs
// contractions on when it is given no blas::Gemm. Created on first use (a cuBLASLt handle and
// 32 MiB of workspace), kept until the thread exits, release_thread_gemm(stream) or
// release_thread_gemms(). Work on one stream
// is ordered, so its engine's workspace is never used twice at once. The first use for a stream
// allocates, so it cannot happen inside a stream capture (run eagerly once first, or pass your
// own blas::Gemm, as bert::Session does). Release the engines of a stream before destroying it
// if another stream may reuse its handle while its work is still pending.
inline Gemm& thread_gemm(cudaStream_t stream) {
    const int device = cuda::current_device();
    std::unique_ptr<Gemm>& g = detail::thread_gemms()[{device, stream}];
    if (!g) {
        cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
        SINTER_CUDA_CHECK(cudaStreamIsCapturing(stream, &capturing));
        if (capturing != cudaStreamCaptureStatusNone) {
            detail::thread_gemms().erase({device, stream});
            throw value_error("sinter::eval: the first contraction on a stream creates its GEMM engine, which "
                              "allocates, so it cannot run inside a stream capture: evaluate once before "
                              "capturing, or pass a blas::Gemm to eval");
        }
        g = std::make_unique<Gemm>();
    }
    return *g;
}

// Frees this thread's default engine for `stream` on the current device, if it has one: call it
// before destroying a stream that carried contractions, or engines (32 MiB each) accumulate as
// streams come and go.
inline void release_thread_gemm(cudaStream_t stream) {
    const int device = cuda::current_device();
    detail::thread_gemms().erase({device, stream});
}

// Frees this thread's default engines (all devices and streams): their workspaces and handles.
inline void release_thread_gemms() { detail::thread_gemms().clear(); }

}  // namespace sinter::blas

namespace sinter::expr {
template <class T>
struct default_gemm_engine<T, void> {
    static constexpr bool available = true;
    static blas::Gemm& get(cudaStream_t stream) { return blas::thread_gemm(stream); }
};
}  // namespace sinter::expr
