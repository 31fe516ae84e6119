#pragma once
// Linear layers through cuBLASLt (tier 3): y (T, N) = epilogue(x (T, K) W (N, K)^T + b) [+ r].
// In cuBLASLt's column-major terms: D (N x T) = op(A) B with A = W (K x N, ld K, transposed),
// B = x (K x T, ld K), C = D's layout (N x T, ld N); the bias broadcasts over D's columns.
//   bias, bias_relu, bias_gelu_tanh: fused epilogues (BIAS, RELU_BIAS, GELU_BIAS; cuBLASLt's GELU
//     is the tanh form);
//   residual: beta = 1 with C = r, fused in the same call;
//   bias_gelu (exact erf) and bias_tanh: BIAS epilogue, then one element-wise kernel.
// f32 accumulation (CUBLAS_COMPUTE_32F) for every dtype. The algorithm is chosen by cuBLASLt's
// heuristic once per (dtype, T, N, K, epilogue, residual) and cached; one workspace per Gemm.
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include <cublasLt.h>

#include "../core/dtype.hpp"
#include "../cuda/error.cuh"
#include "../cuda/memory.cuh"
#include "../expr/eval_cuda.cuh"
#include "epilogue.hpp"

namespace sinter::blas {

// A failed cuBLASLt call; when a sticky CUDA fault is behind it (EXECUTION_FAILED after an illegal
// address, say) it is reported, and recorded, as that fault.
inline void check(cublasStatus_t status, const char* call, const char* file, int line) {
    if (status == CUBLAS_STATUS_SUCCESS) return;
    const std::string what = std::string(call) + ": " + cublasLtGetStatusName(status) + " (" +
                             cublasLtGetStatusString(status) + ")";
    if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess && cuda::is_sticky(e))
        cuda::check(e, what.c_str(), file, line);
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
    ~Owned() {
        if (d) (void)destroy(d);
    }
};

inline cublasLtEpilogue_t fused_epilogue(Epilogue e) {
    switch (e) {
        case Epilogue::bias_relu: return CUBLASLT_EPILOGUE_RELU_BIAS;
        case Epilogue::bias_gelu_tanh: return CUBLASLT_EPILOGUE_GELU_BIAS;
        default: return CUBLASLT_EPILOGUE_BIAS;  // bias; gelu and tanh finish in a second kernel
    }
}

// One planned GEMM shape: descriptors and the chosen algorithm.
struct Plan {
    Owned<cublasStatus_t (*)(cublasLtMatmulDesc_t), cublasLtMatmulDesc_t> desc{cublasLtMatmulDescDestroy};
    Owned<cublasStatus_t (*)(cublasLtMatrixLayout_t), cublasLtMatrixLayout_t> a{cublasLtMatrixLayoutDestroy},
        b{cublasLtMatrixLayoutDestroy}, c{cublasLtMatrixLayoutDestroy};
    cublasLtMatmulAlgo_t algo{};
};

}  // namespace detail

// GEMMs with fused epilogues on one workspace; not thread-safe (one per session).
class Gemm {
public:
    explicit Gemm(std::size_t workspace_bytes = std::size_t(32) << 20)
        : workspace_(index_t(workspace_bytes)) {}

    // y (rows, N) = epilogue(x (rows, K) w (N, K)^T + b (N)) [+ residual (rows, N), may not alias y].
    // Preconditions: contiguous row-major operands, 256-byte aligned (what cuBLASLt's heuristic
    // assumes by default; cudaMalloc and Weights give it).
    template <class T>
    void linear(T* y, const T* x, const T* w, const T* b, index_t rows, index_t N, index_t K, Epilogue epilogue,
                const T* residual, cudaStream_t stream) {
        if (rows == 0) return;
        // cuBLASLt applies its epilogue to alpha A B + beta C: an activation would see the residual.
        if (residual && epilogue != Epilogue::bias)
            throw value_error("blas::Gemm::linear: a residual goes with the plain bias epilogue only");
        for (const void* p : {static_cast<const void*>(y), static_cast<const void*>(x), static_cast<const void*>(w),
                              static_cast<const void*>(b), static_cast<const void*>(residual)})
            if (reinterpret_cast<std::uintptr_t>(p) % 256)
                throw value_error("blas::Gemm::linear: operands must be 256-byte aligned");
        cuda::ensure_usable("blas::Gemm::linear");
        const detail::Plan& plan = plan_for<T>(rows, N, K, epilogue, residual != nullptr);
        const float alpha = 1.f, beta = residual ? 1.f : 0.f;
        // The bias pointer is an attribute of the descriptor: set per call (cheap, host-side).
        SINTER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.desc.d, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &b, sizeof b));
        SINTER_CUBLAS_CHECK(cublasLtMatmul(handle_.get(), plan.desc.d, &alpha, w, plan.a.d, x, plan.b.d, &beta,
                                           residual ? residual : y, plan.c.d, y, plan.c.d, &plan.algo,
                                           workspace_.data(), std::size_t(workspace_.bytes()), stream));
        if (epilogue == Epilogue::bias_gelu || epilogue == Epilogue::bias_tanh) {  // not in cuBLASLt
            TensorView<T, Shape<dyn>, device_space> v(y, rows * N);
            if (epilogue == Epilogue::bias_gelu) expr::eval(v, expr::gelu(v), stream);
            else expr::eval(v, expr::tanh(v), stream);
        }
    }

    Handle& handle() { return handle_; }

private:
    using Key = std::tuple<int, index_t, index_t, index_t, int, bool>;

    template <class T>
    const detail::Plan& plan_for(index_t rows, index_t N, index_t K, Epilogue epilogue, bool residual) {
        const Key key{int(cuda_type<T>()), rows, N, K, int(epilogue), residual};
        if (auto it = plans_.find(key); it != plans_.end()) return it->second;
        detail::Plan& p = plans_[key];
        try {
            build_plan<T>(p, rows, N, K, epilogue);
        } catch (...) {
            plans_.erase(key);
            throw;
        }
        return p;
    }

    template <class T>
    void build_plan(detail::Plan& p, index_t rows, index_t N, index_t K, Epilogue epilogue) {
        const cudaDataType_t type = cuda_type<T>();
        SINTER_CUBLAS_CHECK(cublasLtMatmulDescCreate(&p.desc.d, CUBLAS_COMPUTE_32F, CUDA_R_32F));
        const cublasOperation_t transa = CUBLAS_OP_T, transb = CUBLAS_OP_N;
        SINTER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc.d, CUBLASLT_MATMUL_DESC_TRANSA, &transa, sizeof transa));
        SINTER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc.d, CUBLASLT_MATMUL_DESC_TRANSB, &transb, sizeof transb));
        const cublasLtEpilogue_t ep = detail::fused_epilogue(epilogue);
        SINTER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc.d, CUBLASLT_MATMUL_DESC_EPILOGUE, &ep, sizeof ep));
        SINTER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc.d, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &type, sizeof type));
        SINTER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.a.d, type, std::uint64_t(K), std::uint64_t(N), K));
        SINTER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.b.d, type, std::uint64_t(K), std::uint64_t(rows), K));
        SINTER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.c.d, type, std::uint64_t(N), std::uint64_t(rows), N));

        detail::Owned<cublasStatus_t (*)(cublasLtMatmulPreference_t), cublasLtMatmulPreference_t> pref{
            cublasLtMatmulPreferenceDestroy};
        SINTER_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref.d));
        const std::size_t ws = std::size_t(workspace_.bytes());
        SINTER_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.d, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
        cublasLtMatmulHeuristicResult_t result{};
        int found = 0;
        SINTER_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(handle_.get(), p.desc.d, p.a.d, p.b.d, p.c.d, p.c.d,
                                                           pref.d, 1, &result, &found));
        if (found == 0)
            throw cuda_error("cuBLASLt has no algorithm for (T, N, K) = (" + std::to_string(rows) + ", " +
                                 std::to_string(N) + ", " + std::to_string(K) + ")",
                             int(CUBLAS_STATUS_NOT_SUPPORTED), false);
        p.algo = result.algo;
    }

    Handle handle_;
    Tensor<std::uint8_t, Shape<dyn>, device_space> workspace_;
    std::map<Key, detail::Plan> plans_;
};

}  // namespace sinter::blas
