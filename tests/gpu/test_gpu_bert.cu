// The encoder on the GPU (bert::Session<tiny, float>) against Hugging Face's outputs (the golden
// checkpoints); CUDA graphs replayed; bad inputs refused before any launch with
// the context still usable. The 16-bit dtypes: test_gpu_bert_f16.cu, test_gpu_bert_bf16.cu.
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
