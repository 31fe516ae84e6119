// Sentence embeddings (mean pooling + L2 normalisation, as sentence-transformers) and their cosine
// similarities, from a checkpoint folder, on the GPU when there is one, otherwise on the host.
//   embed DIR "first sentence" "second sentence" ...
// Default DIR: tests/golden/bert_tiny (random weights: the numbers mean nothing, the path is real).
#include <cstdio>
#include <string>
#include <vector>

#include <sinter/sinter.cuh>

int main(int argc, char** argv) try {
    using namespace sinter;
    constexpr bert::Config C = bert::tiny;
    const std::string dir = argc > 1 ? argv[1] : std::string(SINTER_SOURCE_DIR) + "/tests/golden/bert_tiny";
    std::vector<std::string> texts(argv + std::min(argc, 2), argv + argc);
    if (texts.empty()) texts = {"the cat sat on the mat", "a cat was sitting on a mat", "stock prices fell sharply"};
    const auto tokenizer = text::Tokenizer::from_directory(dir);
    const auto batch = tokenizer.encode_batch(texts, {.max_length = std::size_t(C.max_positions)});
    const bert::Inputs in{batch.batch, batch.length, batch.ids, batch.attention_mask, batch.type_ids};
    bert::Outputs out;
    if (sinter::cuda::gpu_available()) {
        std::fprintf(stderr, "embed: on the GPU (%s)\n", sinter::cuda::device_info().name.c_str());
        bert::Session<C, half> session(bert::Encoder<C, half>::load(dir), {.max_tokens = 4096, .max_batch = 64});
        out = session.forward(in);
    } else {
        std::fprintf(stderr, "embed: no GPU, on the host\n");
        out = bert::Encoder<C, float, host_space>::load(dir).forward(in);
    }
    const auto H = std::size_t(out.hidden);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        for (std::size_t j = 0; j < texts.size(); ++j) {
            float dot = 0;
            for (std::size_t h = 0; h < H; ++h) dot += out.sentence_embedding[i * H + h] * out.sentence_embedding[j * H + h];
            std::printf("%6.3f ", dot);
        }
        std::printf("  %s\n", texts[i].c_str());
    }
} catch (const sinter::error& e) {
    std::fprintf(stderr, "embed: %s\n", e.what());
    return 1;
}
