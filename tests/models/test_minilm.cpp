// all-MiniLM-L6-v2, the real model, against sentence-transformers (tests/golden/minilm, made by
// tools/make_minilm_golden.py): sinter's tokenizer must give Hugging Face's ids exactly, and the
// host encoder's sentence embeddings a cosine of at least 0.9999 with sentence-transformers' for
// every sentence. The model folder comes from tools/fetch_model.sh; without it the test fails.
#include <chrono>
#include <cmath>

#include <doctest/doctest.h>

#include "sinter/nn/bert/encoder.hpp"
#include "sinter/text/tokenizer.hpp"
#include "minilm_golden.hpp"

using namespace sinter;

TEST_CASE("all-MiniLM-L6-v2: sinter's tokenizer gives sentence-transformers' ids") {
    const auto dir = test::require_minilm();
    const auto sentences = test::minilm_sentences();
    const test::MinilmGolden golden;
    REQUIRE(index_t(sentences.size()) == golden.batch);

    const auto tokenizer = text::Tokenizer::from_directory(dir);
    const auto batch = tokenizer.encode_batch(sentences, {.max_length = 256});  // max_seq_length
    REQUIRE(batch.batch == golden.batch);
    REQUIRE(batch.length == golden.length);  // the long sentence is truncated to 256
    for (index_t b = 0; b < batch.batch; ++b) {
        INFO("sentence " << b << ": " << sentences[std::size_t(b)]);
        for (index_t s = 0; s < batch.length; ++s) {
            const auto i = std::size_t(b * batch.length + s);
            INFO("position " << s);
            REQUIRE(batch.ids[i] == golden.ids[i]);
            REQUIRE(batch.type_ids[i] == golden.types[i]);
            REQUIRE(batch.attention_mask[i] == golden.mask[i]);
        }
    }
}

// The golden ids (not sinter's) go in, so a tokenizer fault cannot hide here or show up here.
TEST_CASE("all-MiniLM-L6-v2: host f32 embeddings match sentence-transformers (cosine >= 0.9999)") {
    const auto dir = test::require_minilm();
    const test::MinilmGolden golden;
    const auto sentences = test::minilm_sentences();

    const auto t0 = std::chrono::steady_clock::now();
    const auto encoder = bert::Encoder<bert::minilm_l6, float, host_space>::load(dir);
    const auto t1 = std::chrono::steady_clock::now();
    const bert::Outputs out = encoder.forward({golden.batch, golden.length, golden.ids, golden.mask, golden.types});
    const auto t2 = std::chrono::steady_clock::now();
    const auto seconds = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    index_t tokens = 0;
    for (auto m : golden.mask) tokens += m;
    MESSAGE("load " << seconds(t0, t1) << " s; host forward of " << golden.batch << " sentences (" << tokens
                    << " tokens) " << seconds(t1, t2) << " s");

    constexpr index_t H = bert::minilm_l6.hidden;
    REQUIRE(out.sentence_embedding.size() == std::size_t(golden.batch * H));
    double worst = 1;
    index_t worst_at = 0;
    for (index_t b = 0; b < golden.batch; ++b) {
        const double c = test::cosine(out.sentence_embedding.data() + b * H, golden.embedding.data() + b * H, H);
        INFO("sentence " << b << ": " << sentences[std::size_t(b)] << ": cosine " << c);
        CHECK(c >= 0.9999);
        if (!(c >= worst)) worst = c, worst_at = b;
    }
    MESSAGE("worst cosine " << worst << " (1 - cosine = " << 1 - worst << ") for sentence " << worst_at << ": "
                            << sentences[std::size_t(worst_at)]);
}
