#pragma once
// The models `sinter` can run: a checkpoint's config.json is matched against the configs compiled
// in below, and the match is loaded into a Backend that runs the forward on the GPU (CUDA builds,
// where a device is present) or on the host. To run another architecture, add its bert::Config
// to `compiled_configs` and rebuild.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sinter/io/hf_config.hpp"
#include "sinter/io/sentence_transformers.hpp"
#include "sinter/nn/bert/encoder.hpp"

// SINTER_CLI_GPU: whether the GPU path is compiled in. By default in a CUDA build; the tests also
// build it against the fake CUDA device of tests/simt.
#if !defined(SINTER_CLI_GPU) && defined(__CUDACC__)
#define SINTER_CLI_GPU 1
#endif

#if defined(SINTER_CLI_GPU)
#include "sinter/cuda/device.cuh"
#include "sinter/nn/bert/session.cuh"
#endif

namespace sinter::cli {

struct NamedConfig {
    std::string_view name;
    bert::Config config;
};

inline constexpr NamedConfig compiled_configs[] = {
    {"minilm_l6", bert::minilm_l6},
    {"base_uncased", bert::base_uncased},
    {"large_uncased", bert::large_uncased},
    {"tiny", bert::tiny},
};

constexpr bool same_config(const bert::Config& a, const bert::Config& b) {
    return a.layers == b.layers && a.hidden == b.hidden && a.heads == b.heads && a.intermediate == b.intermediate &&
           a.vocab == b.vocab && a.max_positions == b.max_positions && a.type_vocab == b.type_vocab &&
           a.layer_norm_eps == b.layer_norm_eps && a.activation == b.activation;
}

inline std::string describe(const bert::Config& c) {
    char eps[32];
    std::snprintf(eps, sizeof eps, "%g", double(c.layer_norm_eps));
    return std::to_string(c.layers) + " layers, hidden " + std::to_string(c.hidden) + ", " +
           std::to_string(c.heads) + " heads, intermediate " + std::to_string(c.intermediate) + ", vocab " +
           std::to_string(c.vocab) + ", " + std::to_string(c.max_positions) + " positions, " +
           std::to_string(c.type_vocab) + " token types, eps " + eps + ", " + std::string(bert::name(c.activation));
}

// The index in compiled_configs of the config that `hf` describes; config_error otherwise.
inline std::size_t match_config(const io::HfBertConfig& hf, const std::filesystem::path& config_file) {
    const bert::Config want = hf.to_config();
    std::string names;
    for (std::size_t i = 0; i < std::size(compiled_configs); ++i) {
        if (same_config(compiled_configs[i].config, want)) return i;
        names += (i ? ", " : "") + std::string(compiled_configs[i].name);
    }
    throw config_error(config_file.string() + " describes a BERT (" + describe(want) +
                       ") that matches none of the configs compiled into sinter (" + names +
                       "): add its bert::Config to compiled_configs in examples/cli/models.hpp and rebuild");
}

// The largest forward the CLI will ask for (a device session sizes its buffers by it).
struct Limits {
    index_t max_batch;   // lines per forward
    index_t max_tokens;  // lines per forward x the longest line
};

// How to load it: the head, and a pooling that replaces the folder's (none: the folder's).
struct LoadOptions {
    io::BertHead head = io::BertHead::automatic;
    std::optional<io::SentenceEmbedding> pooling;
};

// One loaded model, on whichever side runs it.
class Backend {
public:
    virtual ~Backend() = default;
    virtual bert::Outputs forward(const bert::Inputs& in) = 0;
    virtual const std::vector<std::string>& labels() const = 0;  // id2label; empty: no classifier
};

template <bert::Config C>
class HostBackend final : public Backend {
public:
    HostBackend(const std::filesystem::path& dir, const LoadOptions& how)
        : encoder_(bert::Encoder<C, float, host_space>::load(dir, how.head, how.pooling)) {}
    bert::Outputs forward(const bert::Inputs& in) override { return encoder_.forward(in); }
    const std::vector<std::string>& labels() const override { return encoder_.labels(); }

private:
    bert::Encoder<C, float, host_space> encoder_;
};

// ==== The GPU path: the only CUDA in the CLI, compiled when the CLI is built as CUDA ==========
#if defined(SINTER_CLI_GPU)
template <bert::Config C>
class DeviceBackend final : public Backend {
public:
    // Batches by length have a different (B, S) almost every time: a CUDA graph captured per shape
    // would seldom be replayed, so the session runs without them.
    DeviceBackend(const std::filesystem::path& dir, const LoadOptions& how, const Limits& limits)
        : encoder_(bert::Encoder<C, half>::load(dir, how.head, how.pooling)),
          session_(encoder_, {.max_tokens = limits.max_tokens, .max_batch = limits.max_batch, .cuda_graphs = false}) {}
    bert::Outputs forward(const bert::Inputs& in) override { return session_.forward(in); }
    const std::vector<std::string>& labels() const override { return encoder_.labels(); }

private:
    bert::Encoder<C, half> encoder_;
    bert::Session<C, half> session_;
};
#endif
// ==== end of the GPU path ======================================================================

struct Loaded {
    std::unique_ptr<Backend> backend;
    std::string where;  // "host, f32" or "GPU 0, f16": ends the throughput line
    std::string why;    // the host: why not a GPU; a GPU: its name
};

namespace detail {

template <std::size_t I = 0>
Loaded load(std::size_t which, const std::filesystem::path& dir, const LoadOptions& how, const Limits& limits,
            bool force_host) {
    if constexpr (I < std::size(compiled_configs)) {
        if (which != I) return load<I + 1>(which, dir, how, limits, force_host);
        constexpr bert::Config C = compiled_configs[I].config;
#if defined(SINTER_CLI_GPU)
        if (!force_host && cuda::gpu_available())
            return {std::make_unique<DeviceBackend<C>>(dir, how, limits), "GPU 0, f16", cuda::device_info().name};
        const char* why = force_host ? "--host" : "no CUDA device found";
#else
        const char* why = force_host ? "--host" : "this build has no CUDA";
#endif
        return {std::make_unique<HostBackend<C>>(dir, how), "host, f32", why};
    } else {
        throw value_error("no compiled-in config number " + std::to_string(which));
    }
}

}  // namespace detail

// Loads the checkpoint in `dir` as compiled_configs[which].
inline Loaded load_model(std::size_t which, const std::filesystem::path& dir, const LoadOptions& how,
                         const Limits& limits, bool force_host) {
    return detail::load(which, dir, how, limits, force_host);
}

}  // namespace sinter::cli
