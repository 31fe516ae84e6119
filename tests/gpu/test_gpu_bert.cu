// The encoder on the GPU (bert::Session<tiny, float>) against Hugging Face's outputs (the golden
// checkpoints); CUDA graphs replayed, shared by batches of similar size and evicted when too many;
// bad inputs refused before any launch with the context still usable. The 16-bit dtypes:
// test_gpu_bert_f16.cu, test_gpu_bert_bf16.cu.
#include <map>

#include "../support/random_batch.hpp"
#include "session_check.cuh"

using namespace sinter;
using test::golden;

TEST_CASE("Session<tiny, float> matches Hugging Face") {
    SINTER_REQUIRE_GPU();
    test::check_session<float>("bert_tiny", 1e-4);
    test::check_session<float>("bert_tiny_cls", 1e-4);
}

TEST_CASE("bad inputs are refused before any launch; the context stays usable") {
    SINTER_REQUIRE_GPU();
    const auto enc = bert::Encoder<bert::tiny, float>::load(golden("bert_tiny"));
    bert::Session<bert::tiny, float> session(enc, {.max_tokens = 64, .max_batch = 4});
    std::vector<std::int32_t> ids = {1, 2, 600, 4};
    CHECK_THROWS_AS(session.forward({2, 2, ids, {}, {}}), value_error);
    std::vector<std::int32_t> many(5 * 20, 1);
    CHECK_THROWS_WITH_AS(session.forward({5, 20, many, {}, {}}), doctest::Contains("max_tokens"), value_error);
    const auto empty = session.forward({0, 0, {}, {}, {}});
    CHECK(empty.last_hidden_state.empty());
    const auto no_tokens = session.forward({2, 0, {}, {}, {}});  // S = 0: an empty result, no launch
    CHECK((no_tokens.batch == 2 && no_tokens.pooled.empty() && no_tokens.sentence_embedding.empty()));
    std::vector<std::int32_t> valid = {1, 2, 3, 4}, left = {1, 1, 0, 1};  // left padding is refused
    CHECK_THROWS_WITH_AS(session.forward({2, 2, valid, left, {}}), doctest::Contains("left padded"), value_error);
    // Every token padding: no token computed, each sequence pools the zero row: tanh(pooler bias).
    std::vector<std::int32_t> pad_ids = {1, 2, 3, 4}, no_mask = {0, 0, 0, 0};
    const auto padded = session.forward({2, 2, pad_ids, no_mask, {}});
    const auto bias = io::SafetensorsFile(golden("bert_tiny") / "model.safetensors").read<float>("pooler.dense.bias");
    std::vector<float> want;
    for (int b = 0; b < 2; ++b)
        for (float v : bias) want.push_back(std::tanh(v));
    REQUIRE(padded.pooled.size() == want.size());
    test::compare(padded.pooled.data(), want.data(), index_t(want.size()), 1e-5, 1e-5, "all-padding pooled");
    ids[2] = 3;
    const auto ok = session.forward({2, 2, ids, {}, {}});
    CHECK(ok.last_hidden_state.size() == 4 * 64);
    CHECK_FALSE(sinter::cuda::context_poisoned());
}

TEST_CASE("batches of similar size share a graph and match exact shapes run eagerly") {
    SINTER_REQUIRE_GPU();
    const auto enc = bert::Encoder<bert::tiny, float>::load(golden("bert_tiny"));
    const index_t B = 4, S = 32, H = bert::tiny.hidden;
    bert::Session<bert::tiny, float> exact(enc, {.max_tokens = 512, .max_batch = 16, .cuda_graphs = false,
                                                 .round_shapes = false});
    for (const std::size_t max_graphs : {std::size_t(64), std::size_t(2)}) {
        bert::Session<bert::tiny, float> rounded(enc, {.max_tokens = 512, .max_batch = 16, .max_graphs = max_graphs});
        std::map<bert::LaunchShape, int> seen;
        for (int i = 0; i < 16; ++i) {
            // 4 sequences of 24 to 32 tokens: 96 to 128 tokens, a few launch shapes seen repeatedly,
            // each replayed with token counts other than the one it was captured with.
            const test::RandomBatch batch(B, S, 24, bert::tiny.vocab);
            const bert::Inputs in = batch.inputs();
            ++seen[bert::launch_shape(bert::pack(in), B, true, 512, 16)];
            const bert::Outputs got = rounded.forward(in), want = exact.forward(in);
            const std::string what = "batch " + std::to_string(i) + ", max_graphs " + std::to_string(max_graphs);
            test::compare(got.last_hidden_state.data(), want.last_hidden_state.data(), B * S * H, 1e-5, 1e-5,
                          what + " hidden");
            test::compare(got.pooled.data(), want.pooled.data(), B * H, 1e-5, 1e-5, what + " pooled");
            test::compare(got.sentence_embedding.data(), want.sentence_embedding.data(), B * H, 1e-5, 1e-5,
                          what + " embeddings");
        }
        std::size_t repeated = 0;
        for (const auto& [shape, count] : seen) repeated += count >= 2;
        MESSAGE(seen.size() << " launch shapes in 16 batches; " << rounded.graphs() << " graphs held");
        CHECK(seen.size() < 8);
        if (max_graphs == 64) CHECK(rounded.graphs() == repeated);  // captured on a shape's second forward
        else CHECK(rounded.graphs() <= 2);
    }
    const auto no_graphs = [&] { bert::Session<bert::tiny, float> session(enc, {.max_graphs = 0}); };
    CHECK_THROWS_WITH_AS(no_graphs(), doctest::Contains("max_graphs"), value_error);
}
