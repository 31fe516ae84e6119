// The fake CUDA device (simt/fake_cuda.hpp) against its own rules, so that the GPU tests run on it
// (test_simt_gpu_*) test sinter and not the fake: cuBLASLt's column-major matmul and epilogues
// against a plain loop written from the documentation; queued work that runs only when waited
// for; what a stream capture refuses; launch limits; device memory that faults where a GPU's
// would (past an allocation's end, once freed, from host code); and that bert::Session replays
// its graphs.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <simt/device.hpp>

#include "../support/golden.hpp"
#include "../support/gpu.cuh"

using namespace sinter;

// out[i] = in.data[i] for i < n: the pointer inside a struct, as the evaluator passes its operands
// (the launch checks only pointers that are arguments themselves). External linkage: the fake
// names the function of a faulting access from the exported symbols.
struct Operand {
    const float* data;
};
__global__ void read_operand_kernel(Operand in, float* out, int n) {
    const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
    if (i < n) out[i] = in.data[i];
}

namespace {

// Runs `body` in a child process, with SIGSEGV handled by default there (not by doctest): whether
// it died of SIGSEGV, and what it wrote to stderr.
struct Death {
    bool segfault;
    std::string message;
};
template <class Body>
Death run_in_child(Body body) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    std::fflush(nullptr);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        dup2(fds[1], 2);
        std::freopen("/dev/null", "w", stdout);
        body();
        _exit(0);
    }
    close(fds[1]);
    std::string message;
    char buffer[4096];
    for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) message.append(buffer, std::size_t(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return {WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, message};
}

float* device_floats(int n) {
    void* p = nullptr;
    SINTER_CUDA_CHECK(cudaMalloc(&p, std::size_t(n) * sizeof(float)));
    return static_cast<float*>(p);
}

void launch_read(const float* in, float* out, int n) {
    cuda::launch(&read_operand_kernel, dim3(1), dim3(128), 0, nullptr, Operand{in}, out, n);
    (void)cudaDeviceSynchronize();
}

// D (m x n, column-major, ld m) = act(op(A) op(B) + beta C + bias), each from its definition.
std::vector<float> reference(bool ta, bool tb, int m, int n, int k, const std::vector<float>& a,
                             const std::vector<float>& b, const std::vector<float>& c, float beta,
                             const std::vector<float>& bias, bool gelu) {
    std::vector<float> d(std::size_t(m * n));
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
            double s = 0;
            for (int p = 0; p < k; ++p) {
                const double x = ta ? a[std::size_t(i * k + p)] : a[std::size_t(p * m + i)];  // A: k x m if ta
                const double y = tb ? b[std::size_t(p * n + j)] : b[std::size_t(j * k + p)];  // B: n x k if tb
                s += x * y;
            }
            s += beta * c[std::size_t(j * m + i)] + (bias.empty() ? 0.0 : bias[std::size_t(i)]);
            if (gelu) s = 0.5 * s * (1 + std::tanh(std::sqrt(2 / M_PI) * (s + 0.044715 * s * s * s)));
            d[std::size_t(j * m + i)] = float(s);
        }
    return d;
}

float* device_copy(const std::vector<float>& v) {
    float* p = device_floats(int(v.size()));
    SINTER_CUDA_CHECK(cudaMemcpy(p, v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice));
    return p;
}

std::vector<float> random(std::size_t n) {
    std::vector<float> v(n);
    test::fill_uniform(v.data(), index_t(n), -1, 1);
    return v;
}

}  // namespace

TEST_CASE("fake cuBLASLt: D = epilogue(op(A) op(B) + beta C + bias), column-major, against a plain loop") {
    const int m = 5, n = 7, k = 3;
    for (const bool ta : {false, true})
        for (const bool tb : {false, true})
            for (const bool epilogue : {false, true}) {
                const auto a = random(m * k), b = random(k * n), c = random(m * n), bias = random(m);
                const float beta = epilogue ? 0.5f : 0.f;
                const auto want = reference(ta, tb, m, n, k, a, b, c, beta, epilogue ? bias : std::vector<float>{}, epilogue);
                float *da = device_copy(a), *db = device_copy(b), *dc = device_copy(c),
                      *dbias = device_copy(bias);
                cublasLtHandle_t handle;
                cublasLtMatmulDesc_t desc;
                cublasLtMatrixLayout_t la, lb, lc;
                REQUIRE(cublasLtCreate(&handle) == CUBLAS_STATUS_SUCCESS);
                REQUIRE(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F) == CUBLAS_STATUS_SUCCESS);
                const cublasOperation_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
                const cublasLtEpilogue_t ep = epilogue ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
                cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa);
                cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb);
                cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &ep, sizeof ep);
                cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &dbias, sizeof dbias);
                REQUIRE(cublasLtMatrixLayoutCreate(&la, CUDA_R_32F, ta ? k : m, ta ? m : k, ta ? k : m) == 0);
                REQUIRE(cublasLtMatrixLayoutCreate(&lb, CUDA_R_32F, tb ? n : k, tb ? k : n, tb ? n : k) == 0);
                REQUIRE(cublasLtMatrixLayoutCreate(&lc, CUDA_R_32F, m, n, m) == 0);
                cublasLtMatmulPreference_t pref;
                cublasLtMatmulPreferenceCreate(&pref);
                cublasLtMatmulHeuristicResult_t result{};
                int returned = 0;
                REQUIRE(cublasLtMatmulAlgoGetHeuristic(handle, desc, la, lb, lc, lc, pref, 1, &result, &returned) == 0);
                REQUIRE(returned == 1);
                const float alpha = 1.f;
                // In place (C = D): C is read before D is written.
                REQUIRE(cublasLtMatmul(handle, desc, &alpha, da, la, db, lb, &beta, dc, lc, dc, lc, &result.algo, nullptr, 0,
                                       nullptr) == CUBLAS_STATUS_SUCCESS);
                std::vector<float> got(std::size_t(m * n));
                SINTER_CUDA_CHECK(cudaMemcpy(got.data(), dc, got.size() * sizeof(float), cudaMemcpyDeviceToHost));
                test::compare(got.data(), want.data(), index_t(got.size()), 1e-6, 1e-6,
                              std::string("op(A) ") + (ta ? "T" : "N") + ", op(B) " + (tb ? "T" : "N") +
                                  (epilogue ? ", GELU_BIAS, beta 0.5" : ""));
                // A layout whose shape does not make the product is refused.
                cublasLtMatrixLayout_t wrong;
                REQUIRE(cublasLtMatrixLayoutCreate(&wrong, CUDA_R_32F, m + 1, n, m + 1) == 0);
                CHECK(cublasLtMatmulAlgoGetHeuristic(handle, desc, la, lb, wrong, wrong, pref, 1, &result, &returned) ==
                      CUBLAS_STATUS_INVALID_VALUE);
                for (auto l : {la, lb, lc, wrong}) cublasLtMatrixLayoutDestroy(l);
                cublasLtMatmulPreferenceDestroy(pref);
                cublasLtMatmulDescDestroy(desc);
                cublasLtDestroy(handle);
                for (float* p : {da, db, dc, dbias}) SINTER_CUDA_CHECK(cudaFree(p));
            }
}

TEST_CASE("fake runtime: queued work runs when waited for; captures refuse what CUDA refuses; launch limits") {
    cuda::Stream s;
    Tensor<float, Shape<dyn>, device_space> d(4);
    float* pinned = nullptr;
    SINTER_CUDA_CHECK(cudaMallocHost(&pinned, 4 * sizeof(float)));
    const std::vector<float> ones(4, 1.f);
    SINTER_CUDA_CHECK(cudaMemcpyAsync(d.data(), ones.data(), 16, cudaMemcpyHostToDevice, s));  // pageable: staged
    SINTER_CUDA_CHECK(cudaMemcpyAsync(pinned, d.data(), 16, cudaMemcpyDeviceToHost, s));
    CHECK(std::isnan(pinned[0]));  // not waited for: the pinned buffer still holds what it held
    s.synchronize();
    CHECK(pinned[3] == 1.f);
    SINTER_CUDA_CHECK(cudaFreeHost(pinned));

    // During a capture: a synchronisation, an allocation or a pageable copy fails and invalidates it.
    for (int refused = 0; refused < 3; ++refused) {
        SINTER_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
        void* p = nullptr;
        const cudaError_t e = refused == 0   ? cudaStreamSynchronize(s)
                              : refused == 1 ? cudaMalloc(&p, 16)
                                             : cudaMemcpyAsync(d.data(), ones.data(), 16, cudaMemcpyHostToDevice, s);
        CHECK(e == cudaErrorStreamCaptureUnsupported);
        cudaGraph_t graph = nullptr;
        CHECK(cudaStreamEndCapture(s, &graph) == cudaErrorStreamCaptureInvalidated);
        CHECK(graph == nullptr);
        (void)cudaGetLastError();
    }
    // A copy whose sides are not where its kind says.
    CHECK(cudaMemcpyAsync(d.data(), ones.data(), 16, cudaMemcpyDeviceToHost, s) == cudaErrorInvalidValue);
    (void)cudaGetLastError();
    // Over 48 KiB of dynamic shared memory needs the kernel's opt-in; over 1024 threads never runs.
    const void* kernel = reinterpret_cast<const void*>(&kernels::detail::flash_attention_kernel<half, 64>);
    CHECK(simt::fake::check_launch(kernel, dim3(1), dim3(128), 64 * 1024) == cudaErrorInvalidValue);
    SINTER_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024));
    CHECK(simt::fake::check_launch(kernel, dim3(1), dim3(128), 64 * 1024) == cudaSuccess);
    CHECK(simt::fake::check_launch(kernel, dim3(1), dim3(2048), 0) == cudaErrorInvalidConfiguration);
    CHECK(simt::fake::check_launch(kernel, dim3(1, 70000), dim3(128), 0) == cudaErrorInvalidConfiguration);
    CHECK_FALSE(cuda::context_poisoned());
}

TEST_CASE("a failed cuBLASLt call names a pending non-sticky CUDA error and clears it") {
    // Pending: cudaErrorInvalidValue, from an opt-in past the device's limit.
    const void* kernel = reinterpret_cast<const void*>(&kernels::detail::flash_attention_kernel<half, 64>);
    REQUIRE(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 1 << 30) == cudaErrorInvalidValue);
    REQUIRE(cudaPeekAtLastError() == cudaErrorInvalidValue);
    try {
        blas::check(CUBLAS_STATUS_NOT_SUPPORTED, "cublasLtMatmul(...)", "here.cu", 7);
        FAIL("blas::check did not throw");
    } catch (const cuda_error& e) {
        const std::string what = e.what();
        CHECK(what.find("cublasLtMatmul(...): CUBLAS_STATUS_NOT_SUPPORTED") != std::string::npos);
        CHECK(what.find("with CUDA error cudaErrorInvalidValue pending") != std::string::npos);
        CHECK(what.find("here.cu:7") != std::string::npos);
        CHECK_FALSE(e.sticky());
    }
    CHECK(cudaPeekAtLastError() == cudaSuccess);  // not left for the next check to report
    // Nothing pending: the message is cuBLASLt's alone.
    try {
        blas::check(CUBLAS_STATUS_INVALID_VALUE, "call", "f.cu", 1);
        FAIL("blas::check did not throw");
    } catch (const cuda_error& e) {
        const std::string what = e.what();
        CHECK(what.rfind("call: CUBLAS_STATUS_INVALID_VALUE", 0) == 0);
        CHECK(what.find("pending") == std::string::npos);
    }
    CHECK_FALSE(cuda::context_poisoned());
}

TEST_CASE("fake device memory faults where a GPU's would, and says which allocation and who") {
    // In bounds it runs.
    float *in = device_floats(64), *out = device_floats(128);
    launch_read(in, out, 64);
    CHECK_FALSE(cuda::context_poisoned());

    const Death host = run_in_child([] {
        const float* p = device_floats(64);
        std::printf("%f\n", double(*static_cast<const volatile float*>(p)));
    });
    INFO(host.message);
    CHECK(host.segfault);
    CHECK(host.message.find("byte 0 of a live 256-byte allocation") != std::string::npos);
    CHECK(host.message.find("by host code") != std::string::npos);

    const Death past_end = run_in_child([] { launch_read(device_floats(64), device_floats(128), 65); });
    INFO(past_end.message);
    CHECK(past_end.segfault);
    CHECK(past_end.message.find("0 bytes past the end of a live 256-byte allocation") != std::string::npos);
    CHECK(past_end.message.find("kernel launch, block (0, 0, 0) thread 64") != std::string::npos);
    CHECK(past_end.message.find("read_operand_kernel") != std::string::npos);

    // An allocation of whole pages starts against a guard too (reading in[-1]).
    const int page_floats = int(sysconf(_SC_PAGESIZE)) / 4;
    const Death before_start = run_in_child([page_floats] {
        float* p = device_floats(page_floats);
        launch_read(p - 1, device_floats(1), 1);
    });
    INFO(before_start.message);
    CHECK(before_start.segfault);
    CHECK(before_start.message.find("4 bytes before the start of a live " + std::to_string(4 * page_floats) +
                                    "-byte allocation") != std::string::npos);

    const Death freed = run_in_child([] {
        float* p = device_floats(64);
        SINTER_CUDA_CHECK(cudaFree(p));
        launch_read(p, device_floats(64), 64);
    });
    INFO(freed.message);
    CHECK(freed.segfault);
    CHECK(freed.message.find("byte 0 of a freed 256-byte allocation") != std::string::npos);
    SINTER_CUDA_CHECK(cudaFree(in));
    SINTER_CUDA_CHECK(cudaFree(out));
}

TEST_CASE("bert::Session on the fake device: eager, then captured, then replayed") {
    const auto enc = bert::Encoder<bert::tiny, half>::load(test::golden("bert_tiny"));
    bert::Session<bert::tiny, half> session(enc, {.max_tokens = 256, .max_batch = 8});
    const test::Golden g("bert_tiny");
    const auto before = simt::fake::counters();
    (void)session.forward(g.inputs());
    const auto eager = simt::fake::counters();
    CHECK(eager.graph_launches == before.graph_launches);
    const long launches = eager.launches - before.launches, matmuls = eager.matmuls - before.matmuls;
    // Per layer four GEMMs (QKV, attention output, intermediate with the GELU epilogue, output)
    // and three kernels (attention, two LayerNorms); then the embedding, the first-token gather,
    // the pooler's GEMM and its tanh (cuBLASLt has no tanh epilogue). No classifier here.
    CHECK(matmuls == 4 * bert::tiny.layers + 1);
    CHECK(launches == 3 * bert::tiny.layers + 3);
    (void)session.forward(g.inputs());  // captured, then launched
    (void)session.forward(g.inputs());  // replayed
    const auto after = simt::fake::counters();
    CHECK(after.graph_launches - eager.graph_launches == 2);
    CHECK(session.graphs() == 1);
}

TEST_CASE("bert::Session belongs to its device: it runs there from any current device, and refuses weights elsewhere") {
    const test::Golden g("bert_tiny");
    const auto on_device_0 = bert::Encoder<bert::tiny, half>::load(test::golden("bert_tiny"));
    const bert::Outputs want = bert::Session<bert::tiny, half>(on_device_0, {.max_tokens = 256, .max_batch = 8}).forward(g.inputs());

    SINTER_CUDA_CHECK(cudaSetDevice(1));
    const auto on_device_1 = bert::Encoder<bert::tiny, half>::load(test::golden("bert_tiny"));
    bert::Session<bert::tiny, half> session(on_device_1, {.max_tokens = 256, .max_batch = 8});
    CHECK(session.device() == 1);
    // Weights on device 0 for a session on device 1: refused before anything is allocated or launched.
    const auto before = simt::fake::counters();
    CHECK_THROWS_WITH_AS((bert::Session<bert::tiny, half>(on_device_0)),
                         "bert::Session: the encoder's weights are on device 0, the current device is 1: make the "
                         "weights' device current (cudaSetDevice) before making the session",
                         value_error);
    CHECK(simt::fake::counters().mallocs == before.mallocs);

    // Used while device 0 is current (a new thread's device): its kernels go to its own stream on
    // device 1 (a launch into another device's stream fails), eagerly, captured, replayed.
    SINTER_CUDA_CHECK(cudaSetDevice(0));
    for (int run = 0; run < 3; ++run) {
        CAPTURE(run);
        const bert::Outputs got = session.forward(g.inputs());
        CHECK(cuda::current_device() == 0);  // made current again afterwards
        CHECK(got.last_hidden_state == want.last_hidden_state);
        CHECK(got.pooled == want.pooled);
    }
    CHECK(session.graphs() == 1);
    CHECK_FALSE(cuda::context_poisoned());
}

TEST_CASE("bert::Session pools sentence embeddings as its checkpoint folder's modules.json says") {
    // The tiny golden as a sentence-transformers folder taking the [CLS] token, normalised (as BGE).
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / "sinter-simt-pooling-";
    dir += std::to_string(::getpid());
    fs::remove_all(dir);
    fs::create_directories(dir / "1_Pooling");
    for (const char* file : {"config.json", "model.safetensors", "vocab.txt"})
        fs::copy_file(test::golden("bert_tiny") / file, dir / file);
    std::ofstream(dir / "modules.json") << R"([{"path": "", "type": "sentence_transformers.models.Transformer"},
        {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])";
    std::ofstream(dir / "1_Pooling" / "config.json") << R"({"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false})";
    const auto enc = bert::Encoder<bert::tiny, half>::load(dir);
    fs::remove_all(dir);
    const test::Golden g("bert_tiny");
    const bert::Outputs out = bert::Session<bert::tiny, half>(enc, {.max_tokens = 256, .max_batch = 8}).forward(g.inputs());
    const double worst = test::worst_from_normalised_cls(out.sentence_embedding, out.last_hidden_state.data(), g.B,
                                                         g.S, bert::tiny.hidden);
    MESSAGE("sentence embedding against the normalised [CLS] state: worst abs error " << worst);
    CHECK(worst < 1e-6);
}
