#pragma once
// BERT model configurations as compile-time values. A `Config` is a structural type, so it is a
// template argument: `bert::Encoder<bert::base_uncased, half>`. Every dimension of the model is
// then a constant; only the batch and the sequence length are run-time values.
#include <string_view>

namespace sinter::bert {

enum class Activation : unsigned char {
    gelu,       // exact: 0.5 x (1 + erf(x / sqrt 2)); Hugging Face "gelu"
    gelu_tanh,  // tanh approximation; "gelu_new", "gelu_pytorch_tanh", "gelu_fast"
    relu,       // "relu"
};

constexpr std::string_view name(Activation a) {
    switch (a) {
        case Activation::gelu: return "gelu";
        case Activation::gelu_tanh: return "gelu_tanh";
        case Activation::relu: return "relu";
    }
    return "?";
}

struct Config {
    int layers;
    int hidden;
    int heads;
    int intermediate;
    int vocab;
    int max_positions;
    int type_vocab;
    float layer_norm_eps;
    Activation activation;

    constexpr int head_size() const { return hidden / heads; }
};

inline constexpr Config base_uncased{12, 768, 12, 3072, 30522, 512, 2, 1e-12f, Activation::gelu};
inline constexpr Config large_uncased{24, 1024, 16, 4096, 30522, 512, 2, 1e-12f, Activation::gelu};
// sentence-transformers/all-MiniLM-L6-v2
inline constexpr Config minilm_l6{6, 384, 12, 1536, 30522, 512, 2, 1e-12f, Activation::gelu};
// A small model for tests: head size 32, like MiniLM.
inline constexpr Config tiny{2, 64, 2, 128, 512, 64, 2, 1e-12f, Activation::gelu};

}  // namespace sinter::bert
