#pragma once
// bert::Encoder<C, T, Space>: a BERT of compile-time config C (dimensions checked by the
// compiler), storage dtype T (float, half, bf16; f32 math), weights in Space (device by default).
// The weights are immutable and shared: copies of an Encoder, and the sessions made from it, all
// use the one allocation.
//
//     auto enc = sinter::bert::Encoder<sinter::bert::minilm_l6, float, sinter::host_space>::load(dir);
//     sinter::bert::Outputs out = enc.forward({B, S, ids, mask, types});
#include <filesystem>
#include <memory>
#include <optional>

#include "host_forward.hpp"
#include "scores.hpp"
#include "weights.hpp"

namespace sinter::bert {

template <Config C, class T, class Space = device_space>
class Encoder {
    static_assert(is_float_dtype_v<T>, "bert::Encoder: T must be float, half or bf16");
    static_assert(sizeof(Model<C>) > 0);  // instantiates Model<C>: its rules name what C breaks

public:
    using model = Model<C>;
    using weights_type = Weights<C, T, Space>;
    using value_type = T;
    using space = Space;
    static constexpr Config config = C;

    // A host encoder packs its linear weights for the host GEMM here, once (pack_host_weights:
    // 4 bytes more per weight, shared by copies); prepack = false packs in every GEMM instead.
    // Null weights are a value_error.
    explicit Encoder(std::shared_ptr<const weights_type> weights, bool prepack = true) : weights_(std::move(weights)) {
        if (!weights_) throw value_error("bert::Encoder: the weights are null (load_weights or random_weights makes them)");
        if constexpr (std::is_same_v<Space, host_space>)
            if (prepack) packed_ = pack_host_weights(weights_);
        (void)prepack;
    }

    // Reads a Hugging Face checkpoint folder; see load_weights for what is checked. `pooling`, when
    // given, replaces what the folder's modules.json says of the sentence embedding (say, [CLS] for
    // a BGE checkpoint saved without its sentence-transformers files).
    static Encoder load(const std::filesystem::path& dir, io::BertHead head = io::BertHead::automatic,
                        std::optional<io::SentenceEmbedding> pooling = std::nullopt) {
        return Encoder(load_weights<C, T, Space>(dir, head, pooling));
    }

    const weights_type& weights() const { return *weights_; }
    const std::shared_ptr<const weights_type>& shared_weights() const { return weights_; }
    const std::vector<std::string>& labels() const { return weights_->labels; }
    // How the classifier's logits become scores, as the checkpoint folder asks (io::read_score_choice;
    // bert::scores applies it).
    io::ScoreFunction score_function() const { return weights_->score_function; }

    // The whole forward on the host (host_space encoders). Throws on bad inputs before computing.
    Outputs forward(const Inputs& in) const
        requires std::is_same_v<Space, host_space>
    {
        return bert::forward<C, T>(*weights_, in, packed_.get());
    }

private:
    std::shared_ptr<const weights_type> weights_;
    std::shared_ptr<const expr::HostPackedSet> packed_;  // host encoders
};

}  // namespace sinter::bert
