#pragma once
// A session runs an Encoder on the GPU: its own stream, cuBLASLt handle and workspace, activation
// buffers sized for a maximum token count, pinned staging for inputs and outputs, and CUDA graphs.
// Sessions share the encoder's weights, so several can run on several streams. Not thread-safe:
// one session per thread. A session belongs to the device that was current when it was made,
// which must be its encoder's (else a value_error naming both); forward() and launch() make that
// device current while they run, from whichever thread calls them.
//
// One forward: the padding is removed on the host (pack), then embedding (one fused expression),
// per layer QKV GEMM (bias epilogue) -> fused attention -> output GEMM (bias + residual through
// beta = 1) -> LayerNorm -> intermediate GEMM (bias + activation) -> output GEMM (bias + residual)
// -> LayerNorm; pooler and classifier on the first tokens; outputs copied back once. Each GEMM is
// an expression (tier 3: eval issues the cuBLASLt call with its epilogue) on the session's engine.
//
// Graphs: a forward runs at a launch shape (packing.hpp), its batch, longest sequence and token
// count rounded up so that batches of similar size share one graph and one set of GEMM plans. The
// first forward of a shape runs eagerly (and chooses the GEMM algorithms), the second captures the
// graph and launches it, later ones replay it. At most max_graphs shapes are remembered; the least
// recently used is dropped, so a server that sees ever new shapes holds bounded memory.
#include <limits>
#include <optional>
#include <span>

#include "../../blas/gemm.cuh"
#include "../../core/lru_cache.hpp"
#include "../../cuda/device.cuh"
#include "../../cuda/memory.cuh"
#include "../../cuda/stream.cuh"
#include "../../expr/eval_cuda.cuh"
#include "../../kernels/attention.cuh"
#include "encoder.hpp"

namespace sinter::bert {

struct SessionOptions {
    index_t max_tokens = 16384;  // B x S (tokens with mask 1) per forward
    index_t max_batch = 256;
    bool cuda_graphs = true;
    // For "gelu" (exact erf) models, whether the feed-forward GELU is cuBLASLt's fused epilogue,
    // which is the tanh form: one kernel and one (T, I) round trip through memory less per layer.
    // The forms differ by at most 4.7e-4 (at x = -2.70; all-MiniLM-L6-v2, f32: embeddings within cosine
    // 1 - 2.1e-6), below f16/bf16 storage error but not f32's. Unset: on for f16 and bf16
    // sessions, off (exact) for f32.
    std::optional<bool> tanh_gelu_epilogue;
    std::size_t workspace_bytes = std::size_t(32) << 20;
    // Launch shapes rounded up (at most 1/16 more tokens, 3% on average; batch to a multiple of 8,
    // the longest sequence to 64) so that graphs and GEMM plans are reused across batches of
    // similar size. false: every distinct (batch, longest sequence, tokens) is its own shape.
    bool round_shapes = true;
    std::size_t max_graphs = 64;  // launch shapes remembered (graph or not), least recently used dropped
    // GEMM algorithms: 0 takes cuBLASLt's heuristic's first choice; n > 1 times its first n
    // candidates on the first (eager) forward of each launch shape and keeps the fastest.
    int gemm_autotune = 0;
    // The attention kernel (kernels/attention.cuh): automatic is flash for f16/bf16 on sm_80+.
    kernels::AttentionKernel attention = kernels::AttentionKernel::automatic;
};

namespace detail {

// Pinned host memory: copies from it are truly asynchronous, and a captured graph may read it.
template <class T>
class Pinned {
public:
    explicit Pinned(index_t n) : n_(n) {
        cuda::ensure_usable("pinned allocation");
        if (n) SINTER_CUDA_CHECK(cudaMallocHost(&p_, std::size_t(n) * sizeof(T)));
    }
    Pinned(const Pinned&) = delete;
    Pinned& operator=(const Pinned&) = delete;
    ~Pinned() {
        if (p_ && !cuda::context_poisoned()) cuda::discard(cudaFreeHost(p_));
    }
    T* data() const { return p_; }
    index_t size() const { return n_; }

private:
    T* p_ = nullptr;
    index_t n_;
};

class Graph {
public:
    Graph() = default;
    Graph(const Graph&) = delete;
    Graph& operator=(const Graph&) = delete;
    ~Graph() { reset(); }
    // Destroys what was made; an in-flight launch still completes (CUDA frees it afterwards).
    void reset() {
        if (context_ok()) {
            if (exec_) cuda::discard(cudaGraphExecDestroy(exec_));
            if (graph_) cuda::discard(cudaGraphDestroy(graph_));
        }
        exec_ = nullptr;
        graph_ = nullptr;
    }
    cudaGraph_t graph_ = nullptr;
    cudaGraphExec_t exec_ = nullptr;

private:
    static bool context_ok() { return !cuda::context_poisoned(); }
};

// What a session remembers of one launch shape.
struct ShapeRecord {
    bool ran_eagerly = false;  // the GEMMs are planned: the next forward may capture
    bool eager_only = false;  // its capture failed (without poisoning the context): stays eager
    Graph graph;
};

}  // namespace detail

template <Config C, class T>
class Session {
    using M = Model<C>;
    static constexpr index_t H = M::H, I = M::I;

public:
    Session(const Encoder<C, T, device_space>& encoder, SessionOptions options = {})
        : weights_(on_device(encoder.shared_weights(), device_)), options_(checked(options)),
          gemm_(options.workspace_bytes, options.gemm_autotune, plans_kept(options.max_graphs)),
          x_(options.max_tokens + 1), tmp_(options.max_tokens),
          ctx_(options.max_tokens), qkv_(options.max_tokens), inner_(options.max_tokens),
          ints_(3 * options.max_tokens + 2 * options.max_batch + 1), first_(options.max_batch),
          pooled_(options.max_batch), logits_(options.max_batch * std::max(weights_->num_labels(), 1)),
          ints_host_(ints_.size()), x_host_(x_.size()), pooled_host_(pooled_.size()), logits_host_(logits_.size()),
          shapes_(options.max_graphs) {
        // Attention writes the context of real tokens only: the rows of a launch shape's extra
        // tokens keep what they hold, which must be finite (they pass through the GEMMs).
        SINTER_CUDA_CHECK(cudaMemsetAsync(ctx_.data(), 0, ctx_.bytes(), stream_));
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    // Waits for a forward still in flight (launch() returns without waiting) before its buffers go.
    ~Session() {
        if (!cuda::context_poisoned()) cuda::discard(cudaStreamSynchronize(stream_));
    }

    int device() const { return device_; }

    cudaStream_t stream() const { return stream_; }
    const SessionOptions& options() const { return options_; }

    // Runs the model on (B, S) host inputs; returns host outputs (f32). Throws before launching
    // anything when the inputs are invalid or larger than the session.
    Outputs forward(const Inputs& in) {
        const cuda::DeviceScope on_device(device_);
        Outputs out;
        out.batch = in.batch;
        out.length = in.length;
        out.labels = weights_->num_labels();
        out.hidden = H;
        const Packed p = launch(in);
        if (in.empty()) return out;  // nothing was launched
        const index_t B = in.batch, L = out.labels;
        const cudaStream_t s = stream_;
        if (p.tokens > 0)
            SINTER_CUDA_CHECK(cudaMemcpyAsync(x_host_.data(), x_.data(), std::size_t(p.tokens * H) * sizeof(T),
                                              cudaMemcpyDeviceToHost, s));
        if (weights_->has_pooler())
            SINTER_CUDA_CHECK(cudaMemcpyAsync(pooled_host_.data(), pooled_.data(), std::size_t(B * H) * sizeof(T),
                                              cudaMemcpyDeviceToHost, s));
        if (L > 0)
            SINTER_CUDA_CHECK(cudaMemcpyAsync(logits_host_.data(), logits_.data(), std::size_t(B * L) * sizeof(T),
                                              cudaMemcpyDeviceToHost, s));
        stream_.synchronize();
        finish_outputs(out, p, x_host_.data(), H, weights_->sentence_embedding, in.prompt_length);
        if (weights_->has_pooler()) out.pooled = widen(pooled_host_.data(), B * H);
        out.logits = widen(logits_host_.data(), B * L);
        return out;
    }

    // Enqueues the forward on stream() and returns without waiting; the results stay on the
    // device (packed hidden state, pooled output, logits) until the next launch. Returns the
    // packing (tokens, offsets). What forward() and the benchmarks time.
    Packed launch(const Inputs& in) {
        const cuda::DeviceScope on_device(device_);
        check_inputs(in, C);
        if (in.empty()) return Packed{};  // nothing to launch
        const auto too_large = [&](const std::string& what) {
            return value_error("bert::Session: " + what + " exceed the session's max_tokens " +
                               std::to_string(options_.max_tokens) + " / max_batch " + std::to_string(options_.max_batch));
        };
        if (in.batch > options_.max_batch)  // refused before packing it
            throw too_large(std::to_string(in.batch) + " sequences of " + std::to_string(in.length) + " positions");
        Packed p = pack(in);
        if (p.tokens > options_.max_tokens)
            throw too_large(std::to_string(p.tokens) + " tokens in " + std::to_string(in.batch) + " sequences");
        // With no token at all, every sequence pools the zero row, as on the host.
        const LaunchShape shape =
            launch_shape(p, in.batch, options_.round_shapes, options_.max_tokens, options_.max_batch);
        stream_.synchronize();  // the pinned staging may still be read by the previous launch
        stage_inputs(p, shape, std::span(ints_host_.data(), std::size_t(ints_host_.size())));
        if (!options_.cuda_graphs) {
            run(shape);
            return p;
        }
        detail::ShapeRecord& record = shapes_[shape];
        if (!record.graph.exec_ && !record.eager_only && record.ran_eagerly) {
            try {
                capture(record.graph, shape);
            } catch (const cuda_error& e) {
                if (e.sticky()) throw;
                record.eager_only = true;  // this shape stays eager
            }
        }
        if (record.graph.exec_) {
            SINTER_CUDA_CHECK(cudaGraphLaunch(record.graph.exec_, stream_));
        } else {
            run(shape);  // eager: also plans the GEMMs for this shape
            record.ran_eagerly = true;
        }
        return p;
    }

    // Captured graphs held now (at most options().max_graphs).
    std::size_t graphs() const {
        std::size_t n = 0;
        for (const auto& entry : shapes_) n += entry.second.graph.exec_ != nullptr;
        return n;
    }

private:
    // The encoder's weights, refused unless they are on `device` (the session's, current now): a
    // kernel reading another device's memory faults, and the fault would end the process's CUDA.
    static std::shared_ptr<const Weights<C, T, device_space>> on_device(
        std::shared_ptr<const Weights<C, T, device_space>> weights, int device) {
        cudaPointerAttributes where{};
        SINTER_CUDA_CHECK(cudaPointerGetAttributes(&where, weights->storage.data()));
        if (where.type == cudaMemoryTypeDevice && where.device != device)
            throw value_error("bert::Session: the encoder's weights are on device " + std::to_string(where.device) +
                              ", the current device is " + std::to_string(device) +
                              ": make the weights' device current (cudaSetDevice) before making the session");
        return weights;
    }

    static const SessionOptions& checked(const SessionOptions& o) {
        if (o.max_tokens <= 0 || o.max_batch <= 0 || o.max_graphs == 0)
            throw value_error("bert::Session: max_tokens (" + std::to_string(o.max_tokens) + "), max_batch (" +
                              std::to_string(o.max_batch) + ") and max_graphs (" + std::to_string(o.max_graphs) +
                              ") must be positive");
        return o;
    }

    // Everything the GPU does for one forward at `shape`, enqueued on stream_ (captured too).
    void run(const LaunchShape& shape) {
        const cudaStream_t s = stream_;
        const auto& w = *weights_;
        const index_t B = shape.batch, S = shape.length, n = shape.tokens;
        std::int32_t* ints = ints_.data();
        SINTER_CUDA_CHECK(cudaMemcpyAsync(ints, ints_host_.data(), std::size_t(shape.input_count()) * sizeof(std::int32_t),
                                          cudaMemcpyHostToDevice, s));
        using Ids = TensorView<const std::int32_t, Shape<dyn>, device_space>;
        const Ids ids_v(ints + shape.ids_at(), n), types_v(ints + shape.types_at(), n),
            positions_v(ints + shape.positions_at(), n), first_v(ints + shape.first_rows_at(), B);
        const std::int32_t* offsets = ints + shape.offsets_at();
        auto x = x_.view().rows(0, n);
        auto tmp = tmp_.view().rows(0, n);
        SINTER_CUDA_CHECK(cudaMemsetAsync(x_.data() + n * H, 0, std::size_t(H) * sizeof(T), s));  // the zero row
        expr::eval(x, expr::layer_norm(expr::gather(w.word_embeddings, ids_v) + expr::gather(w.position_embeddings, positions_v) +
                                           expr::gather(w.token_type_embeddings, types_v),
                                       w.embedding_norm.gamma, w.embedding_norm.beta, C.layer_norm_eps),
                   s);
        const auto tokens = [n](auto& t) { return t.view().rows(0, n); };
        const auto qkv = tokens(qkv_);
        const auto ctx = tokens(ctx_);
        const auto inner = tokens(inner_);
        for (const auto& l : w.layers) {
            using namespace expr;
            eval(qkv, matmul(x, transpose(l.qkv_weight)) + l.qkv_bias, s, gemm_);
            kernels::attention(ctx.data(), qkv.data(), offsets, B, S, int(M::NH), int(M::HD), s, options_.attention);
            eval(tmp, matmul(ctx, transpose(l.attention_output_weight)) + l.attention_output_bias + x, s, gemm_);
            eval(x, layer_norm(tmp, l.attention_norm.gamma, l.attention_norm.beta, C.layer_norm_eps), s);
            const auto up = matmul(x, transpose(l.intermediate_weight)) + l.intermediate_bias;
            if (C.activation == Activation::gelu && options_.tanh_gelu_epilogue.value_or(!std::is_same_v<T, float>))
                eval(inner, gelu_tanh(up), s, gemm_);  // cuBLASLt's fused GELU epilogue
            else
                eval(inner, activation<C.activation>(up), s, gemm_);
            eval(tmp, matmul(inner, transpose(l.output_weight)) + l.output_bias + x, s, gemm_);
            eval(x, layer_norm(tmp, l.output_norm.gamma, l.output_norm.beta, C.layer_norm_eps), s);
        }
        if (!w.has_pooler()) return;  // no pooled output, so no classifier (the loader's rule)
        auto first = first_.view().rows(0, B), pooled = pooled_.view().rows(0, B);
        expr::eval(first, expr::gather(TensorView<const T, Shape<dyn, H>, device_space>(x_.data(), n + 1), first_v), s);
        expr::eval(pooled, expr::tanh(expr::matmul(first, expr::transpose(w.pooler_weight)) + w.pooler_bias), s, gemm_);
        if (const index_t L = w.num_labels(); L > 0)
            expr::eval(TensorView<T, Shape<dyn, dyn>, device_space>(logits_.data(), B, L),
                       expr::matmul(pooled, expr::transpose(w.classifier_weight)) + w.classifier_bias, s, gemm_);
    }

    void capture(detail::Graph& g, const LaunchShape& shape) {
        try {
            SINTER_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
            try {
                run(shape);
            } catch (...) {
                cudaGraph_t broken = nullptr;
                cuda::discard(cudaStreamEndCapture(stream_, &broken));  // cudaErrorStreamCaptureInvalidated, likely
                if (broken) cuda::discard(cudaGraphDestroy(broken));
                (void)cudaGetLastError();  // not left pending for the eager forward's first launch check
                throw;
            }
            SINTER_CUDA_CHECK(cudaStreamEndCapture(stream_, &g.graph_));
            SINTER_CUDA_CHECK(cudaGraphInstantiate(&g.exec_, g.graph_, 0));
        } catch (...) {
            g.reset();
            throw;
        }
    }

    // GEMM plans kept. A launch shape plans at most 6 GEMM shapes (4 a layer, the pooler, the
    // classifier); between its eager forward and its capture fewer than max_graphs other shapes ran
    // (or it would have been dropped, and would run eagerly again). With room for 6 plans per
    // remembered shape, its plans are still there when it is captured: a capture never plans, so
    // cuBLASLt's heuristic and the autotuning stay outside captures.
    static std::size_t plans_kept(std::size_t max_graphs) {
        constexpr std::size_t per_shape = 6;
        return max_graphs > std::numeric_limits<std::size_t>::max() / per_shape ? std::numeric_limits<std::size_t>::max()
                                                               : std::max<std::size_t>(1024, per_shape * max_graphs);
    }

    int device_ = cuda::current_device();  // first: current while every other member is made
    std::shared_ptr<const Weights<C, T, device_space>> weights_;
    SessionOptions options_;
    cuda::Stream stream_;
    blas::Gemm gemm_;
    Tensor<T, typename M::Hidden, device_space> x_, tmp_, ctx_;  // (T + 1, H): row T is zeros
    Tensor<T, typename M::Packed, device_space> qkv_;            // (T, 3H)
    Tensor<T, typename M::Inner, device_space> inner_;           // (T, I)
    Tensor<std::int32_t, Shape<dyn>, device_space> ints_;
    Tensor<T, Shape<dyn, H>, device_space> first_, pooled_;      // (B, H)
    Tensor<T, Shape<dyn>, device_space> logits_;                 // (B * labels)
    detail::Pinned<std::int32_t> ints_host_;
    detail::Pinned<T> x_host_, pooled_host_, logits_host_;
    LruCache<LaunchShape, detail::ShapeRecord> shapes_;
};

}  // namespace sinter::bert
