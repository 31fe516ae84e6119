// all-MiniLM-L6-v2 on the GPU: bert::Session<minilm_l6, half> (the 16-bit defaults: tanh-GELU
// epilogue, CUDA graphs) against sentence-transformers' embeddings, cosine >= 0.999 for every
// sentence, eagerly and from the captured graph. The GPU machine has no network: carry an f16
// copy of the model (tools/make_f16_checkpoint.py, 45 MB) as models/all-MiniLM-L6-v2-f16, which
// scripts/gpu_check.sh points SINTER_MINILM_DIR at. (Host f16 with that copy: worst cosine
// 1 - 2.0e-6, the same embeddings as the f32 file loaded into half.)
#include "../support/gpu.cuh"
#include "minilm_golden.hpp"
#include "sinter/nn/bert/session.cuh"

using namespace sinter;

TEST_CASE("all-MiniLM-L6-v2 on the GPU in f16: cosine >= 0.999 with sentence-transformers") {
    SINTER_REQUIRE_GPU();
    const auto dir = test::require_minilm();
    const test::MinilmGolden golden;
    const auto sentences = test::minilm_sentences();
    const auto encoder = bert::Encoder<bert::minilm_l6, half>::load(dir);
    bert::Session<bert::minilm_l6, half> session(encoder, {.max_tokens = 8192, .max_batch = 64});
    constexpr index_t H = bert::minilm_l6.hidden;
    for (int run = 0; run < 3; ++run) {  // eager, captured, replayed
        const bert::Outputs out = session.forward({golden.batch, golden.length, golden.ids, golden.mask, golden.types});
        REQUIRE(out.sentence_embedding.size() == std::size_t(golden.batch * H));
        double worst = 1;
        for (index_t b = 0; b < golden.batch; ++b) {
            const double c = test::cosine(out.sentence_embedding.data() + b * H, golden.embedding.data() + b * H, H);
            INFO("run " << run << ", sentence " << b << ": " << sentences[std::size_t(b)] << ": cosine " << c);
            CHECK(c >= 0.999);
            worst = std::min(worst, c);
        }
        MESSAGE("run " << run << ": worst cosine " << worst << " (1 - cosine = " << 1 - worst << ")");
    }
}
