// Sequence classification from a Hugging Face checkpoint folder (BertForSequenceClassification:
// config.json with id2label, model.safetensors, vocab.txt), tokenized by sinter, on the host.
//   classify DIR "first text" ["second text" ...]
// Default DIR: the small test checkpoint tests/golden/bert_tiny_cls (random weights, 3 labels).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <sinter/sinter.hpp>

int main(int argc, char** argv) try {
    using namespace sinter;
    const std::string dir = argc > 1 ? argv[1] : std::string(SINTER_SOURCE_DIR) + "/tests/golden/bert_tiny_cls";
    std::vector<std::string> texts(argv + std::min(argc, 2), argv + argc);
    if (texts.empty()) texts = {"a quiet day", "the cat sat on the mat"};
    const auto tokenizer = text::Tokenizer::from_directory(dir);
    const auto encoder = bert::Encoder<bert::tiny, float, host_space>::load(dir);
    if (encoder.labels().empty())
        throw config_error(dir + " has no sequence-classification head (classifier.* tensors, and config.json's "
                                 "architectures naming BertForSequenceClassification if it lists any)");
    const auto batch = tokenizer.encode_batch(texts, {.max_length = std::size_t(bert::tiny.max_positions)});
    const auto out = encoder.forward({batch.batch, batch.length, batch.ids, batch.attention_mask, batch.type_ids});
    // Scores as transformers' text-classification pipeline gives them: softmax over the labels here
    // (a single-label cross-encoder or a multi-label problem_type would get sigmoids).
    const std::vector<float> scores = bert::scores(out, encoder.score_function());
    const auto L = std::size_t(out.labels);
    for (std::size_t b = 0; b < texts.size(); ++b) {
        const float* p = scores.data() + b * L;
        const std::size_t best = std::size_t(std::max_element(p, p + L) - p);
        std::printf("%-30s %s (%s %.3f)\n", texts[b].c_str(), encoder.labels()[best].c_str(),
                    io::name(encoder.score_function()), p[best]);
    }
} catch (const sinter::error& e) {
    std::fprintf(stderr, "classify: %s\n", e.what());
    return 1;
}
