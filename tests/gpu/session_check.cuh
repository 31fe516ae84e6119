#pragma once
// One golden check of bert::Session<tiny, T> against Hugging Face's outputs (hidden states,
// embeddings, pooled output, logits), eagerly and then from the captured graph, with another
// batch of the same launch shape run in between. Shared by
// test_gpu_bert*.cu (split by dtype to keep each file's compile time under a minute).
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "../support/gpu.cuh"
#include "../support/golden.hpp"
#include "sinter/nn/bert/session.cuh"

namespace sinter::test {

template <class T>
void check_session(const std::string& model, double tolerance,
                   const bert::SessionOptions& options = {.max_tokens = 512, .max_batch = 16}) {
    const test::Golden golden_data(model);
    const io::SafetensorsFile& g = golden_data.file;
    const index_t B = golden_data.B;
    const auto& mask = golden_data.mask;
    const bert::Inputs in = golden_data.inputs();

    const auto enc = bert::Encoder<bert::tiny, T>::load(golden(model));
    bert::Session<bert::tiny, T> session(enc, options);
    // Another batch of the same launch shape (other token ids, the same mask) runs between the
    // golden ones, checked against a session without graphs: a replay that ran nothing, or ran
    // with the inputs it was captured with, would leave earlier outputs behind.
    std::vector<std::int32_t> other_ids = golden_data.ids;
    for (auto& id : other_ids) id = (id * 7 + 3) % bert::tiny.vocab;
    const bert::Inputs other{B, golden_data.S, other_ids, mask, golden_data.types};
    bert::SessionOptions eager_options = options;
    eager_options.cuda_graphs = false;
    const bert::Outputs other_want = bert::Session<bert::tiny, T>(enc, eager_options).forward(other);
    for (int replay = 0; replay < 3; ++replay) {  // eager, then captured graph replays
        if (replay > 0) {
            const bert::Outputs got = session.forward(other);
            test::compare(got.last_hidden_state.data(), other_want.last_hidden_state.data(),
                          index_t(got.last_hidden_state.size()), tolerance, tolerance,
                          model + " another batch, run " + std::to_string(replay));
        }
        const bert::Outputs out = session.forward(in);
        const std::string what = model + " " + std::string(name(dtype_of<T>)) + " run " + std::to_string(replay);
        const auto hf = g.read<float>("last_hidden_state");
        std::vector<float> hf_masked(hf.size(), 0.f);
        for (std::size_t i = 0; i < hf.size(); ++i) hf_masked[i] = mask[i / std::size_t(bert::tiny.hidden)] ? hf[i] : 0.f;
        test::compare(out.last_hidden_state.data(), hf_masked.data(), index_t(hf.size()), tolerance, tolerance, what + " vs HF");
        const auto hf_embedding = g.read<float>("sentence_embedding");
        test::compare(out.sentence_embedding.data(), hf_embedding.data(), B * bert::tiny.hidden, tolerance, tolerance,
                      what + " embeddings vs HF");
        // Unit vectors of ~0.1 components: the element-wise bound is loose there, the direction is
        // not. 1 - cosine is about half the mean squared relative error: tolerance^2 leaves room
        // for errors of a fraction of the worst element's, which is what rounding gives.
        double worst = 0;
        for (index_t b = 0; b < B; ++b) {
            double dot = 0, got_norm = 0, want_norm = 0;
            for (index_t h = 0; h < bert::tiny.hidden; ++h) {
                const double x = out.sentence_embedding[std::size_t(b * bert::tiny.hidden + h)];
                const double y = hf_embedding[std::size_t(b * bert::tiny.hidden + h)];
                dot += x * y;
                got_norm += x * x;
                want_norm += y * y;
            }
            if (want_norm == 0) continue;  // an empty sequence: zeros on both sides (compared above)
            worst = std::max(worst, 1 - dot / std::sqrt(got_norm * want_norm));
        }
        MESSAGE(what << " embeddings: worst 1 - cosine " << worst << " (limit " << tolerance * tolerance << ")");
        CHECK(worst <= tolerance * tolerance);
        test::compare(out.pooled.data(), g.read<float>("pooler_output").data(), B * bert::tiny.hidden, tolerance,
                      tolerance, what + " pooled vs HF");
        if (g.find("logits"))
            test::compare(out.logits.data(), g.read<float>("logits").data(), index_t(out.logits.size()), tolerance,
                          tolerance, what + " logits vs HF");
    }
}

}  // namespace sinter::test
