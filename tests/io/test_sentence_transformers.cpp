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
#include "sinter/io/sentence_transformers_config.hpp"
#include "sinter/io/transformer_settings.hpp"
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

// What sentence-transformers 6 computes from (B, S, H) hidden states and their mask, in f64
// (Pooling._forward_padded): positions before `prompt_length` masked out; [CLS] pooling takes the
// first position left (position 0 when none is); max of none left is sinter's 0 (-inf there).
std::vector<float> st_pooling(const std::vector<float>& hidden, const std::vector<std::int32_t>& mask, index_t B,
                              index_t S, index_t H, io::Pooling pooling, bool normalize, index_t prompt_length) {
    std::vector<float> out(std::size_t(B * H));
    for (index_t b = 0; b < B; ++b) {
        std::vector<double> v(std::size_t(H), pooling == io::Pooling::max ? -INFINITY : 0.0);
        double count = 0;
        index_t first = -1;
        for (index_t s = 0; s < S; ++s) {
            if (!mask[std::size_t(b * S + s)] || s < prompt_length) continue;
            count += 1;
            if (first < 0) first = s;
            for (index_t h = 0; h < H; ++h) {
                const double x = hidden[std::size_t((b * S + s) * H + h)];
                double& e = v[std::size_t(h)];
                e = pooling == io::Pooling::max ? std::max(e, x) : e + x;
            }
        }
        for (index_t h = 0; h < H; ++h) {
            double& e = v[std::size_t(h)];
            if (pooling == io::Pooling::cls) e = hidden[std::size_t((b * S + std::max<index_t>(first, 0)) * H + h)];
            if (pooling == io::Pooling::max && count == 0) e = 0;
            if (pooling == io::Pooling::mean) e /= std::max(count, 1e-9);
            if (pooling == io::Pooling::mean_sqrt_len) e /= std::sqrt(std::max(count, 1e-9));
        }
        double norm = 0;
        for (double e : v) norm += e * e;
        norm = normalize ? std::max(std::sqrt(norm), 1e-12) : 1.0;
        for (index_t h = 0; h < H; ++h) out[std::size_t(b * H + h)] = float(v[std::size_t(h)] / norm);
    }
    return out;
}

// The largest error of `got` against `want`, relative to max(|want|, want's RMS).
double worst_relative(const std::vector<float>& got, const std::vector<float>& want) {
    REQUIRE(got.size() == want.size());
    double rms = 0, worst = 0;
    for (float w : want) rms += double(w) * w;
    rms = std::max(std::sqrt(rms / double(want.size())), 1e-30);
    for (std::size_t i = 0; i < want.size(); ++i)
        worst = std::max(worst, std::abs(double(got[i]) - want[i]) / std::max(std::abs(double(want[i])), rms));
    return worst;
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
    // Missing keys take models.Pooling's defaults (the mean); "pooling_mode" overrides the flags.
    CHECK(read(modules_json(true), R"({"word_embedding_dimension": 8})").pooling == io::Pooling::mean);
    CHECK(read(modules_json(true), R"({"pooling_mode": "cls", "pooling_mode_mean_tokens": true})").pooling ==
          io::Pooling::cls);
    CHECK(read(modules_json(true), R"({"pooling_mode_max_tokens": true, "pooling_mode_mean_tokens": false,
                                      "include_prompt": true})")
              .pooling == io::Pooling::max);
    // sentence-transformers 6 reads the flags set (the mean when none is) and writes
    // "pooling_mode", a name or a list of names, "embedding_dimension" and "include_prompt".
    CHECK(read(modules_json(true), R"({"pooling_mode_cls_token": true})").pooling == io::Pooling::cls);
    CHECK(read(modules_json(true), R"({"pooling_mode_mean_tokens": false})").pooling == io::Pooling::mean);
    {
        const io::SentenceEmbedding s =
            read(modules_json(false), R"({"embedding_dimension": 16, "pooling_mode": ["max"], "include_prompt": false})");
        CHECK((s.pooling == io::Pooling::max && !s.normalize && s.dimension == 16 && !s.include_prompt));
        CHECK(read(modules_json(true), R"({"pooling_mode": "mean_sqrt_len_tokens"})").pooling ==
              io::Pooling::mean_sqrt_len);
        CHECK(read(modules_json(true), "{}").include_prompt);
    }
    // A folder sentence-transformers 6.2 saved (its module class names, its Pooling config).
    {
        const io::SentenceEmbedding s = io::read_sentence_embedding(test::golden_dir() / "minilm" / "prompt");
        CHECK((s.pooling == io::Pooling::mean && s.normalize && s.dimension == 384 && !s.include_prompt));
        CHECK(s.from_pooling_module);
    }
    // The Transformer alone (a cross-encoder, as version 6 saves one): no Pooling, the default.
    {
        const io::SentenceEmbedding s = io::read_sentence_embedding(test::golden_dir() / "bert_tiny_rerank" / "st6");
        CHECK((s.pooling == io::Pooling::mean && s.normalize && !s.from_pooling_module));
    }
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
            "module 2 is sentence_transformers.models.Dense, where sinter expects sentence-transformers' Normalize");
    refused(modules_json(true, "sentence_transformers.sentence_transformer.modules.dense.Dense"),
            pooling_json("pooling_mode_mean_tokens"), "where sinter expects sentence-transformers' Normalize");
    refused(modules_json(true, "my_package.Normalize"), pooling_json("pooling_mode_mean_tokens"),
            "module 2 is my_package.Normalize, where");
    refused("[]", "{}", "0 modules; sinter computes Transformer, Pooling and optionally Normalize");
    refused(R"([{"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])", "{}",
            "module 0 is sentence_transformers.models.Pooling, where sinter expects sentence-transformers' Transformer");
    refused(R"([{"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                {"path": "", "type": "sentence_transformers.models.Transformer"}])",
            "{}", "module 0 is sentence_transformers.models.Pooling, where sinter expects sentence-transformers' Transformer");
    // Two modes: sentence-transformers concatenates them (2H).
    refused(modules_json(true), R"({"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true})",
            "pooling modes cls, mean are all set (the pooling_mode_* flags)");
    refused(modules_json(true), R"({"pooling_mode": ["mean", "max"]})", "pooling modes mean, max are all set (pooling_mode)");
    refused(modules_json(true), R"({"pooling_mode": []})", "pooling_mode is an empty list");
    refused(modules_json(true), R"({"pooling_mode_mean_tokens": false, "pooling_mode_weightedmean_tokens": true})",
            "pooling mode 'weightedmean' ('pooling_mode_weightedmean_tokens') is one sinter does not compute");
    refused(modules_json(true), R"({"pooling_mode_mean_tokens": false, "pooling_mode_lasttoken": true})",
            "pooling mode 'lasttoken' ('pooling_mode_lasttoken') is one sinter does not compute");
    refused(modules_json(true), R"({"pooling_mode_mean_tokens": false, "pooling_mode_future": true})",
            "'pooling_mode_future' is a pooling mode sinter does not compute");
    refused(modules_json(true), R"({"pooling_mode": "weightedmean"})", "'pooling_mode_weightedmean_tokens'");
    refused(modules_json(true), R"({"pooling_mode": "median"})", "pooling_mode 'median' is not one");
    refused(modules_json(true), R"({"pooling_mode": ["cls", "median"]})", "pooling_mode 'median' is not one");
    refused(modules_json(true), R"({"word_embedding_dimension": 0})", "'word_embedding_dimension' is 0");
    refused(modules_json(true), R"({"embedding_dimension": -2})", "'embedding_dimension' is -2");

    // Malformed files: the file and the key named.
    CHECK_THROWS_WITH_AS(read(R"({"not": "an array"})", "{}"), doctest::Contains("modules.json"), format_error);
    CHECK_THROWS_WITH_AS(read(R"([{"path": ""}, {"path": "1_Pooling", "type": "Pooling"}])", "{}"),
                         doctest::Contains("module 0 has no 'type'"), format_error);
    CHECK_THROWS_WITH_AS(read(modules_json(true), R"({"pooling_mode_cls_token": "yes"})"),
                         doctest::Contains("pooling_mode_cls_token"), format_error);
    CHECK_THROWS_WITH_AS(read(modules_json(true), R"({"include_prompt": 0})"), doctest::Contains("include_prompt"),
                         format_error);
    CHECK_THROWS_WITH_AS(read(modules_json(true), R"({"pooling_mode": 3})"), doctest::Contains("pooling_mode"),
                         format_error);
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
    const auto expected = [&](io::Pooling pooling, bool normalize) {
        return st_pooling(hidden, g.mask, B, S, H, pooling, normalize, 0);
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
                         doctest::Contains("embedding dimension is 384 but the model's hidden size is 64"),
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
                         doctest::Contains("the pooling given: the Pooling module's embedding dimension is 8"),
                         config_error);
}

TEST_CASE("a prompt's tokens are left out of the sentence embedding when the Pooling says include_prompt false") {
    const test::Golden g("bert_tiny");  // sequences of 16, 11, 5 and 1 tokens
    const index_t H = bert::tiny.hidden;
    const std::vector<float> hidden = g.file.read<float>("last_hidden_state");
    const test::TempDir dir;
    for (const char* file : {"config.json", "model.safetensors", "vocab.txt"})
        fs::copy_file(test::golden("bert_tiny") / file, dir / file);
    for (const auto& [key_text, pooling] : modes)
        for (const bool include : {true, false}) {
            std::string config = pooling_json(key_text, int(H));
            config.insert(1, std::string("\"include_prompt\": ") + (include ? "true" : "false") + ", ");
            write_pipeline(dir.path(), modules_json(true), config);
            const auto enc = TinyOnHost::load(dir.path());
            REQUIRE(enc.weights().sentence_embedding.include_prompt == include);
            // 3: [CLS] and two prompt tokens (the 1-token sequence keeps none); 20: longer than all.
            for (const index_t prompt_length : {0, 3, 20}) {
                const std::string key = key_text;
                CAPTURE(key);
                CAPTURE(include);
                CAPTURE(prompt_length);
                bert::Inputs in = g.inputs();
                in.prompt_length = prompt_length;
                const bert::Outputs out = enc.forward(in);
                const auto want = st_pooling(hidden, g.mask, g.B, g.S, H, pooling, true, include ? 0 : prompt_length);
                const double worst = worst_relative(out.sentence_embedding, want);
                MESSAGE(key << ", include_prompt " << include << ", prompt_length " << prompt_length
                             << ": worst relative error " << worst);
                CHECK(worst <= 1e-4);
                if (!include && prompt_length == 3 && pooling != io::Pooling::max) {  // leaving it out matters
                    const auto with = st_pooling(hidden, g.mask, g.B, g.S, H, pooling, true, 0);
                    CHECK(worst_relative(out.sentence_embedding, with) > 1e-2);
                }
            }
        }
    bert::Inputs in = g.inputs();
    in.prompt_length = -1;
    CHECK_THROWS_WITH_AS(TinyOnHost::load(dir.path()).forward(in), doctest::Contains("prompt_length -1 must be >= 0"),
                         value_error);
}

TEST_CASE("sentence-transformers prompts: config_sentence_transformers.json, chosen as encode() chooses") {
    // Saved by sentence-transformers 6.2: query (the default), instruct, and none (empty); and
    // document, empty, which every SentenceTransformer has.
    const io::Prompts p = io::read_prompts(test::golden_dir() / "minilm" / "prompt");
    REQUIRE(p.named.size() == 4);
    CHECK(p.default_name == std::optional<std::string>("query"));
    CHECK(p.names() == "'query', 'document', 'instruct', 'none'");
    CHECK(p.resolve(std::nullopt, std::nullopt) == std::optional<std::string>("query: "));
    CHECK(p.resolve(std::nullopt, "instruct") ==
          std::optional<std::string>("Represent this sentence for searching relevant passages: "));
    CHECK(p.resolve(std::nullopt, "none") == std::nullopt);  // an empty prompt is none
    CHECK(p.resolve("passage: ", std::nullopt) == std::optional<std::string>("passage: "));
    CHECK(p.resolve("passage: ", "instruct") == std::optional<std::string>("passage: "));  // the text wins
    CHECK(p.resolve("", std::nullopt) == std::nullopt);  // "" overrides the default
    CHECK(p.resolve(std::nullopt, "document") == std::nullopt);
    CHECK_THROWS_WITH_AS(p.resolve(std::nullopt, "passage"),
                         doctest::Contains("config_sentence_transformers.json: no prompt is named 'passage' (the "
                                           "prompts: 'query', 'document', 'instruct', 'none')"),
                         config_error);

    const test::TempDir dir;
    CHECK(io::read_prompts(dir.path()).named.size() == 2);  // no file: query and document, empty
    CHECK(io::read_prompts(dir.path()).resolve(std::nullopt, std::nullopt) == std::nullopt);
    CHECK(io::read_prompts(dir.path()).resolve(std::nullopt, "query") == std::nullopt);
    CHECK_THROWS_WITH_AS(io::read_prompts(dir.path()).resolve(std::nullopt, "passage"),
                         doctest::Contains("config_sentence_transformers.json (absent): no prompt is named 'passage'"),
                         config_error);
    const auto write = [&](const std::string& json) {
        test::write_file(dir / "config_sentence_transformers.json", json);
        return io::read_prompts(dir.path());
    };
    const io::Prompts nulls = write(R"({"prompts": {"query": null, "passage": "passage: "}, "default_prompt_name": null})");
    CHECK((nulls.named.size() == 3 && nulls.named[0].second.empty() && !nulls.default_name));
    CHECK(*nulls.find("passage") == "passage: ");
    CHECK(write(R"({"__version__": {"sentence_transformers": "2.0.0"}})").named.size() == 2);  // older files
    CHECK(write(R"({"default_prompt_name": "document"})").resolve(std::nullopt, std::nullopt) == std::nullopt);
    CHECK_THROWS_WITH_AS(write(R"({"prompts": {"query": "q: "}, "default_prompt_name": "passage"})"),
                         doctest::Contains("default_prompt_name 'passage' names none of its prompts ('query', 'document')"),
                         config_error);
    CHECK_THROWS_WITH_AS(write(R"({"prompts": {"query": 3}})"), doctest::Contains("prompt 'query'"), format_error);
    CHECK_THROWS_WITH_AS(write(R"({"prompts": ["query: "]})"), doctest::Contains("'prompts' of"), format_error);
    CHECK_THROWS_WITH_AS(write("[]"), doctest::Contains("config_sentence_transformers.json"), format_error);
}

TEST_CASE("the longest input: sentence_bert_config.json's max_seq_length, else the tokenizer's model_max_length") {
    const test::TempDir dir;
    const auto settings = [&](std::int64_t positions = 512) { return io::read_transformer_settings(dir.path(), positions); };
    {
        const io::TransformerSettings t = settings();  // no files: the positions
        CHECK((t.max_seq_length == 512 && t.why == "the model's max_position_embeddings" && !t.do_lower_case));
        CHECK(settings(0).max_seq_length == 0);  // unknown positions: no limit
    }
    // sentence-transformers 6 saves the limit in tokenizer_config.json (its model_max_length).
    test::write_file(dir / "tokenizer_config.json", R"({"do_lower_case": true, "model_max_length": 256})");
    CHECK(settings().max_seq_length == 256);
    CHECK(settings().why == "tokenizer_config.json's model_max_length");
    CHECK(settings(0).max_seq_length == 256);
    // transformers' "no limit" (int(1e30)) and limits over the positions are capped.
    test::write_file(dir / "tokenizer_config.json", R"({"model_max_length": 1000000000000000019884624838656})");
    CHECK(settings().max_seq_length == 512);
    CHECK(settings().why == "tokenizer_config.json's model_max_length (unbounded) capped at the model's 512 positions");
    CHECK(settings(0).max_seq_length == 0);  // unknown positions: no limit
    CHECK(settings(0).why == "tokenizer_config.json's model_max_length (unbounded)");
    test::write_file(dir / "tokenizer_config.json", R"({"model_max_length": Infinity})");
    CHECK((settings(0).max_seq_length == 0 && settings().max_seq_length == 512));
    test::write_file(dir / "tokenizer_config.json", R"({"model_max_length": 1024})");
    CHECK(settings().why == "tokenizer_config.json's model_max_length (1024) capped at the model's 512 positions");
    // sentence_bert_config.json's max_seq_length (older versions' files) comes first.
    test::write_file(dir / "sentence_bert_config.json", R"({"max_seq_length": 128, "do_lower_case": true})");
    CHECK(settings().max_seq_length == 128);
    CHECK(settings().why == "sentence_bert_config.json's max_seq_length");
    CHECK(settings().do_lower_case);
    test::write_file(dir / "sentence_bert_config.json", R"({"max_seq_length": null, "do_lower_case": false})");
    CHECK(settings().max_seq_length == 512);  // from tokenizer_config.json again, capped
    CHECK(!settings().do_lower_case);
    // The real files: all-MiniLM-L6-v2 as published (256 in sentence_bert_config.json) and as
    // sentence-transformers 6.2 saves it (256 in tokenizer_config.json).
    const io::TransformerSettings saved = io::read_transformer_settings(test::golden_dir() / "minilm" / "saved", 512);
    CHECK((saved.max_seq_length == 256 && saved.why == "tokenizer_config.json's model_max_length"));

    // do_lower_case on a tokenizer's normaliser: lowercase first, the accents as they were.
    {
        io::TransformerSettings lower;
        lower.do_lower_case = true;
        text::NormalizerOptions cased;
        cased.lowercase = false;
        CHECK((lower.normalizer(cased).lowercase && !lower.normalizer(cased).strips_accents()));
        cased.strip_accents = true;
        CHECK((lower.normalizer(cased).lowercase && lower.normalizer(cased).strips_accents()));
        CHECK(lower.normalizer(text::NormalizerOptions{}).strips_accents());  // uncased already: as it was
        lower.do_lower_case = false;
        cased.lowercase = false;
        CHECK(!lower.normalizer(cased).lowercase);
    }
    test::write_file(dir / "sentence_bert_config.json", R"({"max_seq_length": 0})");
    CHECK_THROWS_WITH_AS(settings(), doctest::Contains("sentence_bert_config.json: max_seq_length is 0, must be at least 1"), config_error);
    test::write_file(dir / "sentence_bert_config.json", R"({"max_seq_length": "256"})");
    CHECK_THROWS_WITH_AS(settings(), doctest::Contains("max_seq_length"), format_error);
    test::write_file(dir / "sentence_bert_config.json", R"({"do_lower_case": 1})");
    CHECK_THROWS_WITH_AS(settings(), doctest::Contains("do_lower_case"), format_error);
    test::write_file(dir / "sentence_bert_config.json", "{}");
    test::write_file(dir / "tokenizer_config.json", R"({"model_max_length": "long"})");
    CHECK_THROWS_WITH_AS(settings(), doctest::Contains("'model_max_length' of"), format_error);
    test::write_file(dir / "tokenizer_config.json", R"({"model_max_length": NaN})");
    CHECK_THROWS_WITH_AS(settings(), doctest::Contains("tokenizer_config.json: model_max_length is nan, must be at least 1"),
                         config_error);
}

TEST_CASE("a cross-encoder's activation: config_sentence_transformers.json (version 6), then config.json") {
    // As sentence-transformers 6.2 saved the rerank golden with Identity.
    const fs::path st6 = test::golden_dir() / "bert_tiny_rerank" / "st6";
    CHECK(io::read_cross_encoder_activation(st6) == io::ScoreFunction::none);
    const test::TempDir dir;
    CHECK(io::read_cross_encoder_activation(dir.path()) == std::nullopt);  // no file
    io::HfBertConfig one_label;
    one_label.num_labels = 1;
    CHECK(io::read_score_choice(dir.path(), one_label).function == io::ScoreFunction::sigmoid);  // the pipeline's
    const auto write = [&](const std::string& json) {
        test::write_file(dir / "config_sentence_transformers.json", json);
    };
    write(R"({"activation_fn": "torch.nn.modules.activation.Tanh", "model_type": "CrossEncoder"})");
    CHECK(io::read_score_choice(dir.path(), one_label).function == io::ScoreFunction::tanh);
    CHECK(io::read_score_choice(dir.path(), one_label).why ==
          "config_sentence_transformers.json's cross-encoder activation");
    // It comes before config.json's (the order CrossEncoder loads them in).
    io::HfBertConfig declared = one_label;
    declared.cross_encoder_scores = io::ScoreFunction::none;
    CHECK(io::read_score_choice(dir.path(), declared).function == io::ScoreFunction::tanh);
    write(R"({"activation_fn": null, "prompts": {}})");  // none there: config.json's
    CHECK(io::read_score_choice(dir.path(), declared).function == io::ScoreFunction::none);
    CHECK(io::read_score_choice(dir.path(), declared).why == "config.json's cross-encoder activation");
    write(R"({"activation_fn": "my.Activation"})");
    CHECK_THROWS_WITH_AS(io::read_cross_encoder_activation(dir.path()),
                         doctest::Contains("'activation_fn' is my.Activation, an activation sinter does not compute"),
                         config_error);
    write(R"({"activation_fn": 1})");
    CHECK_THROWS_WITH_AS(io::read_cross_encoder_activation(dir.path()), doctest::Contains("'activation_fn' of"),
                         format_error);
}

TEST_CASE("how embeddings are compared: config_sentence_transformers.json's similarity_fn_name") {
    CHECK(io::read_similarity(test::golden_dir() / "minilm" / "prompt") == io::Similarity::cosine);  // ST 6.2 wrote it
    const test::TempDir dir;
    CHECK(io::read_similarity(dir.path()) == io::Similarity::cosine);  // no file
    const auto with = [&](const std::string& json) {
        test::write_file(dir / "config_sentence_transformers.json", json);
        return io::read_similarity(dir.path());
    };
    CHECK(with(R"({"similarity_fn_name": null})") == io::Similarity::cosine);
    CHECK(with(R"({"prompts": {}})") == io::Similarity::cosine);
    CHECK(with(R"({"similarity_fn_name": "dot"})") == io::Similarity::dot);
    CHECK(with(R"({"similarity_fn_name": "euclidean"})") == io::Similarity::euclidean);
    CHECK(with(R"({"similarity_fn_name": "manhattan"})") == io::Similarity::manhattan);
    CHECK_THROWS_WITH_AS(with(R"({"similarity_fn_name": "maxsim"})"),
                         doctest::Contains("similarity_fn_name 'maxsim' is not one sinter computes"), config_error);
    CHECK_THROWS_WITH_AS(with(R"({"similarity_fn_name": 2})"), doctest::Contains("'similarity_fn_name' of"),
                         format_error);
}
