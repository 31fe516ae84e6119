// bert::Encoder's host path on the golden checkpoints (tools/make_golden.py) against Hugging
// Face's outputs: f32 within 1e-4 relative, f16/bf16 within their documented tolerances. Padded
// positions are not computed (the padding is removed once), so only tokens with mask 1 compare.
#include <cstring>
#include <filesystem>

#include <doctest/doctest.h>

#include "sinter/nn/bert/encoder.hpp"
#include "../support/check.hpp"
#include "../support/golden.hpp"

using namespace sinter;

namespace {

using test::golden;
using test::Golden;

// Relative error against the output's RMS as the floor (values near zero carry rounding noise).
void check_close(const std::string& what, const std::vector<float>& got, const std::vector<float>& want,
                 const std::vector<std::int32_t>* mask, index_t row, double tolerance) {
    REQUIRE(got.size() == want.size());
    double rms = 0;
    for (float v : want) rms += double(v) * v;
    rms = std::sqrt(rms / double(want.size()));
    double worst = 0;
    std::size_t at = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (mask && !(*mask)[i / std::size_t(row)]) continue;
        const double err = std::abs(double(got[i]) - want[i]) / std::max(std::abs(double(want[i])), rms);
        if (!(err <= worst)) worst = err, at = i;
    }
    MESSAGE(what << ": worst relative error " << worst << " (" << 100 * worst / tolerance
                 << "% of " << tolerance << ") at " << at << ": " << got[at] << " vs HF " << want[at]);
    CHECK(worst <= tolerance);
}

template <class T>
void run(const std::string& model, double tolerance) {
    const Golden g(model);
    const auto enc = bert::Encoder<bert::tiny, T, host_space>::load(golden(model));
    const bert::Outputs out = enc.forward(g.inputs());
    const index_t H = bert::tiny.hidden;
    const std::string name = model + " " + std::string(sinter::name(dtype_of<T>));
    check_close(name + " last_hidden_state", out.last_hidden_state, g.file.read<float>("last_hidden_state"),
                &g.mask, H, tolerance);
    check_close(name + " pooler_output", out.pooled, g.file.read<float>("pooler_output"), nullptr, H, tolerance);
    check_close(name + " sentence_embedding", out.sentence_embedding, g.file.read<float>("sentence_embedding"),
                nullptr, H, tolerance);
    if (g.file.find("logits"))
        check_close(name + " logits", out.logits, g.file.read<float>("logits"), nullptr, 3, tolerance);
    // Padded positions are zeros, not stale values.
    for (std::size_t i = 0; i < out.last_hidden_state.size(); ++i)
        if (!g.mask[i / std::size_t(H)]) REQUIRE(out.last_hidden_state[i] == 0.f);
}

}  // namespace

// Tolerances: f32 matches HF to rounding (1e-4). f16 and bf16 store every activation in 16 bits
// (HF's f32 does not): over 2 layers that is a few units of the 16-bit epsilon (2^-11, 2^-8).
TEST_CASE("Encoder<tiny, float> on the host matches Hugging Face BertModel") { run<float>("bert_tiny", 1e-4); }
TEST_CASE("Encoder<tiny, half> on the host") { run<half>("bert_tiny", 1e-2); }
TEST_CASE("Encoder<tiny, bf16> on the host") { run<bf16>("bert_tiny", 8e-2); }

TEST_CASE("sequence classification (sharded f16 checkpoint, legacy names): logits and labels") {
    run<float>("bert_tiny_cls", 1e-4);
    const auto enc = bert::Encoder<bert::tiny, float, host_space>::load(golden("bert_tiny_cls"));
    CHECK(enc.labels().size() == 3);
}

TEST_CASE("the prepacked weights give the same bits as packing in every GEMM") {
    const auto enc = bert::Encoder<bert::tiny, float, host_space>::load(golden("bert_tiny_cls"));
    const bert::Encoder<bert::tiny, float, host_space> unpacked(enc.shared_weights(), /*prepack=*/false);
    std::vector<std::int32_t> ids(3 * 20), mask(ids.size(), 1);
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = std::int32_t(i * 37 % 500 + 5);
    std::fill(mask.begin() + 47, mask.end(), 0);  // a padded third sequence
    const bert::Inputs in{3, 20, ids, mask, {}};
    const auto a = enc.forward(in), b = unpacked.forward(in);
    CHECK(a.last_hidden_state == b.last_hidden_state);
    CHECK(a.pooled == b.pooled);
    CHECK(a.logits == b.logits);
    const auto packs = bert::pack_host_weights(enc.shared_weights());
    CHECK(packs->size() == 2 * 4 + 2);  // 2 layers of 4 linear layers, the pooler and the classifier
    // And a forward's GEMM finds its pack (so that the equality above is not packing per call twice).
    const auto& qkv = enc.weights().layers[1].qkv_weight;
    const expr::GemmCall<float> call{nullptr, nullptr, qkv.data(), true, nullptr, nullptr, 5, 3 * 64, 64, expr::Activation::none};
    CHECK(packs->find(call, expr::detail::host_tile_kernel(expr::HostIsa::best).cols) != nullptr);
    CHECK(packs->find(call, expr::detail::host_tile_kernel(expr::HostIsa::best).cols + 1) == nullptr);  // another tile width
}

TEST_CASE("bad inputs are typed errors named before any work") {
    const auto enc = bert::Encoder<bert::tiny, float, host_space>::load(golden("bert_tiny"));
    std::vector<std::int32_t> ids = {1, 2, 3, 4}, mask = {1, 1, 1, 0}, types = {0, 0, 1, 1};
    CHECK_NOTHROW(enc.forward({2, 2, ids, mask, types}));
    std::vector<std::int32_t> bad_ids = {1, 2, 512, 4};
    CHECK_THROWS_WITH_AS(enc.forward({2, 2, bad_ids, mask, types}), doctest::Contains("input_ids 512 at (1, 0)"), value_error);
    std::vector<std::int32_t> bad_types = {0, 2, 0, 0};
    CHECK_THROWS_WITH_AS(enc.forward({2, 2, ids, mask, bad_types}), doctest::Contains("token_type_ids 2"), value_error);
    CHECK_THROWS_WITH_AS(enc.forward({3, 2, ids, mask, types}), doctest::Contains("needs 6"), shape_error);
    std::vector<std::int32_t> long_ids(65, 1);
    CHECK_THROWS_WITH_AS(enc.forward({1, 65, long_ids, {}, {}}), doctest::Contains("max_positions 64"), value_error);
    const auto empty = enc.forward({0, 0, {}, {}, {}});
    CHECK(empty.last_hidden_state.empty());
    const auto no_tokens = enc.forward({2, 0, {}, {}, {}});  // an empty result, every output
    CHECK(no_tokens.batch == 2);
    CHECK((no_tokens.last_hidden_state.empty() && no_tokens.pooled.empty() && no_tokens.sentence_embedding.empty()));
    CHECK_THROWS_WITH_AS(enc.forward({index_t(1) << 40, 64, {}, {}, {}}),
                         doctest::Contains("more than 2^31 - 1 tokens"), value_error);
    // Left padding is refused (the pooler reads position 0); a masked position later is fine.
    std::vector<std::int32_t> left = {1, 1, 0, 1};
    CHECK_THROWS_WITH_AS(enc.forward({2, 2, ids, left, types}), doctest::Contains("attention_mask row 1 is left padded"),
                         value_error);
    std::vector<std::int32_t> hole = {1, 0, 1, 1};
    CHECK_NOTHROW(enc.forward({1, 4, ids, hole, {}}));
    using Tiny = bert::Encoder<bert::tiny, float, host_space>;
    CHECK_THROWS_WITH_AS(Tiny(nullptr), doctest::Contains("weights are null"), value_error);
}

TEST_CASE("a checkpoint that does not match the compile-time config is a config_error naming the field") {
    using Wrong = bert::Encoder<bert::Config{2, 64, 2, 128, 512, 128, 2, 1e-12f, bert::Activation::gelu}, float, host_space>;
    CHECK_THROWS_WITH_AS(Wrong::load(golden("bert_tiny")), doctest::Contains("max_position_embeddings"), config_error);
}

TEST_CASE("the host attention twin matches softmax attention in double, on any number of threads") {
    // Lengths 0 to 250 (an empty sequence; 130 and 250: two and three blocks of queries, the last
    // partial), a head size that is no multiple of the GEMM tile's width (20) and BERT's 64;
    // enough work for the pairs to split across threads.
    for (const index_t HD : {20, 64}) {
        const index_t heads = 3, H = heads * HD;
        const std::vector<std::int32_t> lengths = {17, 0, 1, 130, 64, 250};
        std::vector<std::int32_t> offsets = {0};
        for (auto l : lengths) offsets.push_back(offsets.back() + l);
        const index_t T = offsets.back(), B = index_t(lengths.size());
        std::vector<float> qkv(std::size_t(T * 3 * H));
        for (float& x : qkv) x = std::uniform_real_distribution<float>(-2, 2)(test::rng());
        std::vector<float> want(std::size_t(T * H));
        for (index_t b = 0; b < B; ++b)
            for (index_t h = 0; h < heads; ++h)
                for (index_t i = offsets[b]; i < offsets[b + 1]; ++i) {
                    std::vector<double> p;
                    double max = -INFINITY, sum = 0;
                    for (index_t j = offsets[b]; j < offsets[b + 1]; ++j) {
                        double dot = 0;
                        for (index_t d = 0; d < HD; ++d)
                            dot += double(qkv[std::size_t(i * 3 * H + h * HD + d)]) * qkv[std::size_t(j * 3 * H + H + h * HD + d)];
                        p.push_back(dot / std::sqrt(double(HD)));
                        max = std::max(max, p.back());
                    }
                    for (double& e : p) sum += (e = std::exp(e - max));
                    for (index_t d = 0; d < HD; ++d) {
                        double o = 0;
                        for (index_t j = offsets[b]; j < offsets[b + 1]; ++j)
                            o += p[std::size_t(j - offsets[b])] / sum * qkv[std::size_t(j * 3 * H + 2 * H + h * HD + d)];
                        want[std::size_t(i * H + h * HD + d)] = float(o);
                    }
                }
        std::vector<std::vector<float>> got;
        for (const unsigned threads : {1u, 2u, 0u}) {
            std::vector<float> ctx(std::size_t(T * H), f32_nan);
            nn::attention(ctx.data(), qkv.data(), offsets.data(), B, heads, HD, threads);
            got.push_back(std::move(ctx));
        }
        test::compare(got[0].data(), want.data(), T * H, 1e-5, 1e-5, "attention twin, head size " + std::to_string(HD));
        CHECK(got[1] == got[0]);
        CHECK(got[2] == got[0]);
        // A NaN in a query makes its row NaN, and only its row (the softmax does not hide it).
        qkv[std::size_t(offsets[3] * 3 * H)] = f32_nan;  // sequence 3's first query, head 0
        std::vector<float> ctx(std::size_t(T * H));
        nn::attention(ctx.data(), qkv.data(), offsets.data(), B, heads, HD);
        CHECK(std::isnan(ctx[std::size_t(offsets[3] * H)]));
        CHECK(std::isnan(ctx[std::size_t(offsets[3] * H + HD - 1)]));
        CHECK_FALSE(std::isnan(ctx[std::size_t(offsets[3] * H + HD)]));        // head 1
        CHECK_FALSE(std::isnan(ctx[std::size_t((offsets[3] + 1) * H)]));       // the next query
    }
}
