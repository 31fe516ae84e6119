// The f32 reference forward (ref::bert_forward) on the golden checkpoints of tools/make_golden.py
// against Hugging Face's outputs for the same inputs: within 1e-4 relative, worst element printed.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "io_test_util.hpp"
#include "sinter/io/bert_checkpoint.hpp"
#include "sinter/ref/bert.hpp"

namespace {

using namespace sinter;

constexpr double tolerance = 1e-4;

void check_output(const std::string& what, std::span<const float> got, std::span<const float> want) {
    const test::Worst w = test::compare(got, want);
    std::printf("%-40s worst rel %.3g (%.1f%% of 1e-4) abs %.3g at %zu: %.8g vs HF %.8g\n", what.c_str(),
                w.rel, 100 * w.rel / tolerance, w.abs, w.index, w.got, w.want);
    CHECK_MESSAGE(w.rel <= tolerance, what << ": worst relative error " << w.rel << " at element " << w.index
                                           << " (" << w.got << " vs " << w.want << ")");
}

struct Golden {
    io::SafetensorsFile file;
    std::vector<std::int32_t> ids, mask, types;
    index_t B, S;

    explicit Golden(const std::filesystem::path& p)
        : file(p),
          ids(test::read_i32(file, "input_ids")),
          mask(test::read_i32(file, "attention_mask")),
          types(test::read_i32(file, "token_type_ids")),
          B(file.at("input_ids").shape[0]),
          S(file.at("input_ids").shape[1]) {}
};

void run_golden(const std::string& model, const ref::BertWeights& w) {
    const Golden g(test::golden_dir() / model / "golden.safetensors");
    // The batch really is padded with different lengths: otherwise the mask proves nothing.
    REQUIRE(g.B >= 3);
    index_t shortest = g.S, longest = 0;
    for (index_t b = 0; b < g.B; ++b) {
        index_t n = 0;
        for (index_t s = 0; s < g.S; ++s) n += g.mask[b * g.S + s];
        shortest = std::min(shortest, n);
        longest = std::max(longest, n);
    }
    REQUIRE(shortest < longest);

    const ref::BertOutputs out = ref::bert_forward(w, g.B, g.S, g.ids, g.mask, g.types);
    check_output(model + " last_hidden_state", out.last_hidden_state, g.file.read("last_hidden_state"));
    check_output(model + " pooler_output", out.pooled, g.file.read("pooler_output"));
    check_output(model + " sentence_embedding", out.sentence_embedding, g.file.read("sentence_embedding"));
    if (g.file.find("logits")) {
        REQUIRE(w.num_labels == 3);
        check_output(model + " logits", out.logits, g.file.read("logits"));
    }
}

}  // namespace

TEST_CASE("ref::bert_forward matches Hugging Face BertModel (f32 checkpoint)") {
    run_golden("bert_tiny", io::load_bert_weights<bert::tiny>(test::golden_dir() / "bert_tiny"));
}

TEST_CASE("ref::bert_forward matches BertForSequenceClassification (f16, sharded, legacy names)") {
    const auto w = io::load_bert_weights<bert::tiny>(test::golden_dir() / "bert_tiny_cls");
    CHECK(w.num_labels == 3);
    run_golden("bert_tiny_cls", w);
}

TEST_CASE("activations match torch's gelu, tanh gelu and relu") {
    const io::SafetensorsFile f(test::golden_dir() / "activations.safetensors");
    const auto x = f.read("x");
    for (const auto& [n, act] :
         {std::pair{"gelu", bert::Activation::gelu}, std::pair{"gelu_tanh", bert::Activation::gelu_tanh},
          std::pair{"relu", bert::Activation::relu}}) {
        const std::string name = n;  // INFO captures it in a lambda: no structured binding there
        std::vector<float> got(x.size());
        for (std::size_t i = 0; i < x.size(); ++i) got[i] = ref::activate(act, x[i]);
        // torch evaluates in f32, where 1 + erf(x) cancels in the negative tail: compare against
        // max(|y|, 1), so that tail's absolute noise (~1e-7) is not read as a relative error.
        const test::Worst w = test::compare(got, f.read(name), 1.0);
        INFO(name << " worst error " << w.rel << " at x = " << x[w.index]);
        CHECK(w.rel <= 1e-6);
    }
    // The two GELUs differ measurably (~5e-4 at most): a test that swapped them would fail.
    const test::Worst diff = test::compare(f.read("gelu"), f.read("gelu_tanh"), 1e-3);
    CHECK(diff.abs > 1e-4);
}

TEST_CASE("ref::bert_forward: masking, a fully masked row, and input checks") {
    const auto w = io::load_bert_weights<bert::tiny>(test::golden_dir() / "bert_tiny");
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> id(5, 511);
    const index_t S = 9, H = 64;
    std::vector<std::int32_t> ids(2 * S), mask(2 * S, 1), types(2 * S, 0);
    for (auto& i : ids) i = id(rng);
    for (index_t s = 6; s < S; ++s) mask[s] = 0;  // sequence 0 has 6 tokens

    SUBCASE("padding changes nothing in the unpadded tokens") {
        auto out = ref::bert_forward(w, 2, S, ids, mask, types);
        auto ids2 = ids;
        for (index_t s = 6; s < S; ++s) ids2[s] = id(rng);  // different padding tokens
        auto out2 = ref::bert_forward(w, 2, S, ids2, mask, types);
        const auto n = static_cast<std::size_t>(6 * H);
        CHECK(test::compare(std::span(out.last_hidden_state).first(n),
                            std::span(out2.last_hidden_state).first(n))
                  .abs == 0);
        // The same 6 tokens alone give the same states (up to summation order: none here).
        auto alone = ref::bert_forward(w, 1, 6, std::span(ids).first(6));
        CHECK(test::compare(std::span(out.last_hidden_state).first(n), alone.last_hidden_state).rel < 1e-6);
        CHECK(test::compare(std::span(out.sentence_embedding).first(H), alone.sentence_embedding).rel < 1e-6);
    }
    SUBCASE("a row whose keys are all masked gives zeros from attention, no NaN") {
        std::vector<float> q = test::random_floats(4 * H, rng), k = q, v = test::random_floats(4 * H, rng);
        std::vector<float> ctx(4 * H, 1.0f);
        const std::vector<std::int32_t> m{0, 0, 1, 1};
        ref::attention(ctx, q, k, v, m, 2, 2, 2, 32);
        for (index_t i = 0; i < 2 * H; ++i) CHECK(ctx[i] == 0.0f);
        for (index_t i = 2 * H; i < 4 * H; ++i) CHECK(std::isfinite(ctx[i]));
        auto out = ref::bert_forward(w, 1, 3, std::span(ids).first(3), std::vector<std::int32_t>{0, 0, 0});
        for (float e : out.last_hidden_state) CHECK(std::isfinite(e));
        for (float e : out.sentence_embedding) CHECK(e == 0.0f);  // count clamped to 1e-9, sum 0
    }
    SUBCASE("bad inputs are typed errors") {
        auto bad = ids;
        bad[3] = 512;
        CHECK_THROWS_AS(ref::bert_forward(w, 2, S, bad, mask, types), value_error);
        auto bad_types = types;
        bad_types[1] = 2;
        CHECK_THROWS_AS(ref::bert_forward(w, 2, S, ids, mask, bad_types), value_error);
        CHECK_THROWS_AS(ref::bert_forward(w, 2, S, std::span(ids).first(5)), shape_error);
        std::vector<std::int32_t> long_ids(65, 5);
        CHECK_THROWS_AS(ref::bert_forward(w, 1, 65, long_ids), value_error);
        const auto empty = ref::bert_forward(w, 0, S, std::span<const std::int32_t>{});
        CHECK(empty.last_hidden_state.empty());
    }
}
