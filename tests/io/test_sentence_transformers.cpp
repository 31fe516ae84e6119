// sentence-transformers' pooling (io/sentence_transformers.hpp): modules.json and the Pooling
// config read as sentence-transformers reads them, what sinter cannot compute refused by name, and
// bert::Encoder's sentence embeddings for each pooling against the embeddings that Hugging Face's
// hidden states give (the tiny golden's last_hidden_state and mask, pooled here in f64).
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "io_test_util.hpp"
#include "sinter/io/sentence_transformers.hpp"
#include "sinter/nn/bert/encoder.hpp"
#include "../support/golden.hpp"

using namespace sinter;
namespace fs = std::filesystem;

namespace {

using TinyOnHost = bert::Encoder<bert::tiny, float, host_space>;

// The pooling config keys sinter computes, and what each gives.
const std::pair<const char*, io::Pooling> modes[] = {{"pooling_mode_cls_token", io::Pooling::cls},
                                                     {"pooling_mode_mean_tokens", io::Pooling::mean},
                                                     {"pooling_mode_max_tokens", io::Pooling::max},
                                                     {"pooling_mode_mean_sqrt_len_tokens", io::Pooling::mean_sqrt_len}};

// modules.json of Transformer, Pooling ("1_Pooling") and, with `normalize`, Normalize.
std::string modules_json(bool normalize, const std::string& third = "sentence_transformers.models.Normalize") {
    std::string s = R"([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
 {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"})";
    if (normalize) s += R"(, {"idx": 2, "name": "2", "path": "2_X", "type": ")" + third + R"("})";
    return s + "]";
}

// A pooling config with `mode` true and every other mode false, as sentence-transformers writes it.
std::string pooling_json(const std::string& mode, int dimension = 32) {
    std::string s = "{\"word_embedding_dimension\": " + std::to_string(dimension);
    for (const char* m : {"pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens",
                          "pooling_mode_mean_sqrt_len_tokens"})
        s += std::string(", \"") + m + "\": " + (mode == m ? "true" : "false");
    return s + "}";
}

// A model folder `dir` for sentence-transformers: modules.json and 1_Pooling/config.json.
void write_pipeline(const fs::path& dir, const std::string& modules, const std::string& pooling) {
    fs::create_directories(dir / "1_Pooling");
    test::write_file(dir / "modules.json", modules);
    test::write_file(dir / "1_Pooling" / "config.json", pooling);
}

io::SentenceEmbedding read(const std::string& modules, const std::string& pooling) {
    const test::TempDir dir;
    write_pipeline(dir.path(), modules, pooling);
    return io::read_sentence_embedding(dir.path());
}

}  // namespace

TEST_CASE("sentence-transformers pipelines: the pooling mode and whether it normalises") {
    {
        const test::TempDir empty;  // no modules.json: the mean, normalised
        const io::SentenceEmbedding s = io::read_sentence_embedding(empty.path());
        CHECK((s.pooling == io::Pooling::mean && s.normalize && s.dimension == 0));
    }
    // all-MiniLM-L6-v2's files as they are (mean, Normalize; 2_Normalize has no folder).
    const fs::path minilm = test::golden_dir() / "minilm" / "pipeline";
    const io::SentenceEmbedding m = io::read_sentence_embedding(minilm);
    CHECK((m.pooling == io::Pooling::mean && m.normalize && m.dimension == 384));

    for (const auto& [key_text, pooling] : modes)
        for (const bool normalize : {false, true}) {
            const std::string key = key_text;
            CAPTURE(key);
            CAPTURE(normalize);
            const io::SentenceEmbedding s = read(modules_json(normalize), pooling_json(key));
            CHECK(s.pooling == pooling);
            CHECK(s.normalize == normalize);
            CHECK(s.dimension == 32);
        }
    // Missing keys take models.Pooling's defaults (mean true); "pooling_mode" overrides the flags.
    CHECK(read(modules_json(true), R"({"word_embedding_dimension": 8})").pooling == io::Pooling::mean);
    CHECK(read(modules_json(true), R"({"pooling_mode": "cls", "pooling_mode_mean_tokens": true})").pooling ==
          io::Pooling::cls);
    CHECK(read(modules_json(true), R"({"pooling_mode_max_tokens": true, "pooling_mode_mean_tokens": false,
                                      "include_prompt": true})")
              .pooling == io::Pooling::max);
    // The module type may be written without its package.
    CHECK(read(R"([{"path": "", "type": "Transformer"}, {"path": "1_Pooling", "type": "Pooling"}])",
               pooling_json("pooling_mode_cls_token"))
              .pooling == io::Pooling::cls);
}

TEST_CASE("sentence-transformers pipelines sinter does not compute are refused by name") {
    const auto refused = [](const std::string& modules, const std::string& pooling, const std::string& message) {
        CAPTURE(message);
        CHECK_THROWS_WITH_AS(read(modules, pooling), doctest::Contains(message.c_str()), config_error);
    };
    refused(modules_json(true, "sentence_transformers.models.Dense"), pooling_json("pooling_mode_mean_tokens"),
            "module 2 is sentence_transformers.models.Dense, where sinter expects sentence_transformers.models.Normalize");
    refused(R"([{"path": "", "type": "sentence_transformers.models.Transformer"}])", "{}",
            "1 modules; sinter computes Transformer, Pooling and optionally Normalize");
    refused(R"([{"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                {"path": "", "type": "sentence_transformers.models.Transformer"}])",
            "{}", "module 0 is sentence_transformers.models.Pooling, where sinter expects sentence_transformers.models.Transformer");
    // Two modes: sentence-transformers concatenates them (2H); the cls flag alone keeps mean's default.
    refused(modules_json(true), R"({"pooling_mode_cls_token": true})",
            "pooling modes pooling_mode_cls_token, pooling_mode_mean_tokens are all set");
    refused(modules_json(true), R"({"pooling_mode_mean_tokens": false, "pooling_mode_weightedmean_tokens": true})",
            "'pooling_mode_weightedmean_tokens' is a pooling mode sinter does not compute");
    refused(modules_json(true), R"({"pooling_mode_mean_tokens": false, "pooling_mode_lasttoken": true})",
            "'pooling_mode_lasttoken' is a pooling mode sinter does not compute");
    refused(modules_json(true), R"({"pooling_mode_mean_tokens": false, "pooling_mode_future": true})",
            "'pooling_mode_future' is a pooling mode sinter does not compute");
    refused(modules_json(true), R"({"pooling_mode_mean_tokens": false})", "no pooling mode is set");
    refused(modules_json(true), R"({"pooling_mode": "weightedmean"})", "'pooling_mode_weightedmean_tokens'");
    refused(modules_json(true), R"({"pooling_mode": "median"})", "pooling_mode 'median' is not one");
    refused(modules_json(true), R"({"word_embedding_dimension": 0})", "'word_embedding_dimension' is 0");

    // Malformed files: the file and the key named.
    CHECK_THROWS_WITH_AS(read(R"({"not": "an array"})", "{}"), doctest::Contains("modules.json"), format_error);
    CHECK_THROWS_WITH_AS(read(R"([{"path": ""}, {"path": "1_Pooling", "type": "Pooling"}])", "{}"),
                         doctest::Contains("module 0 has no 'type'"), format_error);
    CHECK_THROWS_WITH_AS(read(modules_json(true), R"({"pooling_mode_cls_token": "yes"})"),
                         doctest::Contains("pooling_mode_cls_token"), format_error);
    {
        const test::TempDir dir;
        test::write_file(dir / "modules.json", modules_json(true));  // no 1_Pooling/config.json
        CHECK_THROWS_WITH_AS(io::read_sentence_embedding(dir.path()), doctest::Contains("1_Pooling"), io_error);
    }
}

TEST_CASE("bert::Encoder's sentence embeddings pool as the folder says, matching Hugging Face's hidden states") {
    const test::Golden g("bert_tiny");
    const index_t B = g.B, S = g.S, H = bert::tiny.hidden;
    const std::vector<float> hidden = g.file.read<float>("last_hidden_state");  // HF's (B, S, H)
    // What sentence-transformers computes from HF's hidden states, in f64.
    const auto expected = [&](io::Pooling pooling, bool normalize) {
        std::vector<float> out(std::size_t(B * H));
        for (index_t b = 0; b < B; ++b) {
            std::vector<double> v(std::size_t(H), pooling == io::Pooling::max ? -1e9 : 0.0);
            double count = 0;
            for (index_t s = 0; s < S; ++s) {
                if (!g.mask[std::size_t(b * S + s)]) continue;
                count += 1;
                for (index_t h = 0; h < H; ++h) {
                    const double x = hidden[std::size_t((b * S + s) * H + h)];
                    double& e = v[std::size_t(h)];
                    if (pooling == io::Pooling::max) e = std::max(e, x);
                    else if (pooling == io::Pooling::cls) e = s == 0 ? x : e;
                    else e += x;
                }
            }
            for (double& e : v)
                e /= pooling == io::Pooling::mean ? count : pooling == io::Pooling::mean_sqrt_len ? std::sqrt(count) : 1.0;
            double norm = 0;
            for (double e : v) norm += e * e;
            norm = normalize ? std::max(std::sqrt(norm), 1e-12) : 1.0;
            for (index_t h = 0; h < H; ++h) out[std::size_t(b * H + h)] = float(v[std::size_t(h)] / norm);
        }
        return out;
    };
    const test::TempDir dir;
    for (const char* file : {"config.json", "model.safetensors", "vocab.txt"})
        fs::copy_file(test::golden("bert_tiny") / file, dir / file);
    for (const auto& [key_text, pooling] : modes)
        for (const bool normalize : {false, true}) {
            const std::string key = key_text;
            CAPTURE(key);
            CAPTURE(normalize);
            write_pipeline(dir.path(), modules_json(normalize), pooling_json(key, int(H)));
            const auto enc = TinyOnHost::load(dir.path());
            CHECK(enc.weights().sentence_embedding.pooling == pooling);
            const bert::Outputs out = enc.forward(g.inputs());
            const std::vector<float> want = expected(pooling, normalize);
            REQUIRE(out.sentence_embedding.size() == want.size());
            double rms = 0, worst = 0;
            for (float w : want) rms += double(w) * w;
            rms = std::sqrt(rms / double(want.size()));
            std::size_t at = 0;
            for (std::size_t i = 0; i < want.size(); ++i) {
                const double err = std::abs(double(out.sentence_embedding[i]) - want[i]) / std::max(std::abs(double(want[i])), rms);
                if (err > worst) worst = err, at = i;
            }
            MESSAGE(key << std::string(normalize ? ", normalised" : "") << ": worst relative error " << worst << " at " << at << ": "
                        << out.sentence_embedding[at] << " vs " << want[at]);
            CHECK(worst <= 1e-4);  // the host f32 tolerance against Hugging Face
        }
    // A Pooling module for another width than the model's: refused at load, naming both.
    write_pipeline(dir.path(), modules_json(true), pooling_json("pooling_mode_cls_token", 384));
    CHECK_THROWS_WITH_AS(TinyOnHost::load(dir.path()),
                         doctest::Contains("word_embedding_dimension is 384 but the model's hidden size is 64"),
                         config_error);
}

TEST_CASE("a pooling given to Encoder::load replaces the folder's") {
    const test::Golden g("bert_tiny");
    const index_t H = bert::tiny.hidden;
    const std::vector<float> hidden = g.file.read<float>("last_hidden_state");
    // The folder says mean (no modules.json); [CLS], normalised, is asked for: each sequence's
    // first hidden state over its norm, as Hugging Face's hidden states give it.
    const auto enc = TinyOnHost::load(test::golden("bert_tiny"), io::BertHead::automatic,
                                      io::SentenceEmbedding{.pooling = io::Pooling::cls, .normalize = true});
    const bert::Outputs out = enc.forward(g.inputs());
    const double worst = test::worst_from_normalised_cls(out.sentence_embedding, hidden.data(), g.B, g.S, H);
    MESSAGE("[CLS], normalised, against Hugging Face's first hidden states: worst abs error " << worst);
    CHECK(worst < 1e-5);
    // The folder's files are not read: a broken modules.json does not matter then.
    const test::TempDir dir;
    for (const char* file : {"config.json", "model.safetensors", "vocab.txt"})
        fs::copy_file(test::golden("bert_tiny") / file, dir / file);
    test::write_file(dir / "modules.json", "not JSON");
    CHECK_THROWS_AS(TinyOnHost::load(dir.path()), format_error);
    CHECK(TinyOnHost::load(dir.path(), io::BertHead::automatic, io::SentenceEmbedding{.pooling = io::Pooling::max})
              .weights()
              .sentence_embedding.pooling == io::Pooling::max);
    CHECK_THROWS_WITH_AS(TinyOnHost::load(dir.path(), io::BertHead::automatic, io::SentenceEmbedding{.dimension = 8}),
                         doctest::Contains("the pooling given: the Pooling module's word_embedding_dimension is 8"),
                         config_error);
}
