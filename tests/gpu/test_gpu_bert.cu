// The encoder on the GPU (bert::Session) against Hugging Face's outputs (the golden checkpoints)
// and against the host path of the same dtype; CUDA graphs replayed; bad inputs refused before
// any launch with the context still usable.
#include <filesystem>

#include "../support/gpu.cuh"
#include "../support/golden.hpp"
#include "sinter/nn/bert/session.cuh"

using namespace sinter;

namespace {

using test::golden;

template <class T>
void run(const std::string& model, double tolerance) {
    const test::Golden golden_data(model);
    const io::SafetensorsFile& g = golden_data.file;
    const index_t B = golden_data.B;
    const auto& mask = golden_data.mask;
    const bert::Inputs in = golden_data.inputs();

    const auto enc = bert::Encoder<bert::tiny, T>::load(golden(model));
    bert::Session<bert::tiny, T> session(enc, {.max_tokens = 512, .max_batch = 16});
    const auto host = bert::Encoder<bert::tiny, T, host_space>::load(golden(model)).forward(in);
    for (int replay = 0; replay < 3; ++replay) {  // eager, then captured graph replays
        const bert::Outputs out = session.forward(in);
        const std::string what = model + " " + std::string(name(dtype_of<T>)) + " run " + std::to_string(replay);
        const auto hf = g.read<float>("last_hidden_state");
        std::vector<float> hf_masked(hf.size(), 0.f);
        for (std::size_t i = 0; i < hf.size(); ++i) hf_masked[i] = mask[i / std::size_t(bert::tiny.hidden)] ? hf[i] : 0.f;
        test::compare(out.last_hidden_state.data(), hf_masked.data(), index_t(hf.size()), tolerance, tolerance, what + " vs HF");
        test::compare(out.sentence_embedding.data(), g.read<float>("sentence_embedding").data(), B * bert::tiny.hidden,
                      tolerance, tolerance, what + " embeddings vs HF");
        test::compare(out.pooled.data(), host.pooled.data(), index_t(host.pooled.size()), tolerance, tolerance,
                      what + " pooled vs host");
        if (g.find("logits"))
            test::compare(out.logits.data(), g.read<float>("logits").data(), index_t(out.logits.size()), tolerance,
                          tolerance, what + " logits vs HF");
    }
}

}  // namespace

TEST_CASE("Session<tiny, float> matches Hugging Face") {
    SINTER_REQUIRE_GPU();
    run<float>("bert_tiny", 1e-4);
    run<float>("bert_tiny_cls", 1e-4);
}

TEST_CASE("Session<tiny, half> and <tiny, bf16> match within their tolerances") {
    SINTER_REQUIRE_GPU();
    run<half>("bert_tiny", 1.5e-2);
    run<bf16>("bert_tiny", 1e-1);
}

TEST_CASE("bad inputs are refused before any launch; the context stays usable") {
    SINTER_REQUIRE_GPU();
    const auto enc = bert::Encoder<bert::tiny, half>::load(golden("bert_tiny"));
    bert::Session<bert::tiny, half> session(enc, {.max_tokens = 64, .max_batch = 4});
    std::vector<std::int32_t> ids = {1, 2, 600, 4};
    CHECK_THROWS_AS(session.forward({2, 2, ids, {}, {}}), value_error);
    std::vector<std::int32_t> many(5 * 20, 1);
    CHECK_THROWS_WITH_AS(session.forward({5, 20, many, {}, {}}), doctest::Contains("max_tokens"), value_error);
    const auto empty = session.forward({0, 0, {}, {}, {}});
    CHECK(empty.last_hidden_state.empty());
    // Every token padding: no token computed, each sequence pools the zero row, as on the host.
    std::vector<std::int32_t> pad_ids = {1, 2, 3, 4}, no_mask = {0, 0, 0, 0};
    const auto padded = session.forward({2, 2, pad_ids, no_mask, {}});
    const auto host = bert::Encoder<bert::tiny, half, host_space>::load(golden("bert_tiny")).forward({2, 2, pad_ids, no_mask, {}});
    test::compare(padded.pooled.data(), host.pooled.data(), index_t(host.pooled.size()), 1e-2, 1e-2, "all-padding pooled");
    ids[2] = 3;
    const auto ok = session.forward({2, 2, ids, {}, {}});
    CHECK(ok.last_hidden_state.size() == 4 * 64);
    CHECK_FALSE(sinter::cuda::context_poisoned());
}
