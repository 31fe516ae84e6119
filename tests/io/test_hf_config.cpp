// sinter::io::HfBertConfig: Hugging Face's defaults, the classification fields (and the scores
// they imply: bert::scores), what is refused, and check_config's messages (field, config.json key
// and both values) for every field.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../support/errors.hpp"
#include "io_test_util.hpp"
#include "sinter/io/hf_config.hpp"
#include "sinter/nn/bert/scores.hpp"

using namespace sinter;
using io::parse_hf_config;
using io::parse_json;

namespace {

io::HfBertConfig parse(const std::string& json) { return parse_hf_config(parse_json(json), "config.json"); }

// config.json text of bert::tiny with one key's JSON value replaced (or added).
std::string tiny_with(const std::string& key, const std::string& value) {
    std::string s = "{";
    const std::pair<std::string, std::string> fields[] = {
        {"num_hidden_layers", "2"},   {"hidden_size", "64"},       {"num_attention_heads", "2"},
        {"intermediate_size", "128"}, {"vocab_size", "512"},       {"max_position_embeddings", "64"},
        {"type_vocab_size", "2"},     {"layer_norm_eps", "1e-12"}, {"hidden_act", "\"gelu\""},
        {"model_type", "\"bert\""}};
    bool replaced = false;
    for (const auto& [k, v] : fields) {
        if (s.size() > 1) s += ",";
        s += "\"" + k + "\":" + (k == key ? value : v);
        replaced = replaced || k == key;
    }
    if (!replaced && !key.empty()) s += ",\"" + key + "\":" + value;
    return s + "}";
}

std::string mismatch_of(const std::string& json, const bert::Config& want = bert::tiny) {
    return test::error_message<config_error>([&] { io::check_config(parse(json), want); });
}

}  // namespace

TEST_CASE("hf_config: missing keys take Hugging Face's defaults") {
    const auto c = parse("{}");
    CHECK(c.model_type == "bert");
    CHECK(c.vocab_size == 30522);
    CHECK(c.hidden_size == 768);
    CHECK(c.num_hidden_layers == 12);
    CHECK(c.num_attention_heads == 12);
    CHECK(c.intermediate_size == 3072);
    CHECK(c.hidden_act == "gelu");
    CHECK(c.activation == bert::Activation::gelu);
    CHECK(c.max_position_embeddings == 512);
    CHECK(c.type_vocab_size == 2);
    CHECK(c.layer_norm_eps == 1e-12);
    CHECK(c.pad_token_id == 0);
    CHECK(c.position_embedding_type == "absolute");
    CHECK(c.num_labels == 2);
    CHECK(c.id2label == std::vector<std::string>{"LABEL_0", "LABEL_1"});
    CHECK(c.dtype.empty());
    // The defaults are bert-base-uncased: check_config agrees field by field.
    CHECK_NOTHROW(io::check_config(c, bert::base_uncased));
}

TEST_CASE("hf_config: the golden checkpoints' config.json files") {
    const auto c = io::read_hf_config(test::golden_dir() / "bert_tiny" / "config.json");
    CHECK(c.architectures == std::vector<std::string>{"BertModel"});
    CHECK(c.dtype == "float32");
    CHECK_NOTHROW(io::check_config(c, bert::tiny));
    const bert::Config rt = c.to_config();
    CHECK(rt.layers == bert::tiny.layers);
    CHECK(rt.head_size() == 32);

    const auto cls = io::read_hf_config(test::golden_dir() / "bert_tiny_cls" / "config.json");
    CHECK(cls.architectures == std::vector<std::string>{"BertForSequenceClassification"});
    CHECK(cls.num_labels == 3);
    CHECK(cls.id2label == std::vector<std::string>{"negative", "neutral", "positive"});
    CHECK(cls.label2id.at("positive") == 2);
    CHECK(cls.dtype == "float16");
}

TEST_CASE("hf_config: each mismatch names the field, its key and both values") {
    CHECK(mismatch_of(tiny_with("", "")) == "(no error)");
    struct Case {
        std::string key, value, message;
    };
    const Case cases[] = {
        {"num_hidden_layers", "3",
         "layers (\"num_hidden_layers\") is 3 in the checkpoint but 2 in the compile-time bert::Config"},
        {"hidden_size", "128", "hidden (\"hidden_size\") is 128 in the checkpoint but 64"},
        {"num_attention_heads", "4", "heads (\"num_attention_heads\") is 4 in the checkpoint but 2"},
        {"intermediate_size", "256", "intermediate (\"intermediate_size\") is 256 in the checkpoint but 128"},
        {"vocab_size", "30522", "vocab (\"vocab_size\") is 30522 in the checkpoint but 512"},
        {"max_position_embeddings", "512",
         "max_positions (\"max_position_embeddings\") is 512 in the checkpoint but 64"},
        {"type_vocab_size", "1", "type_vocab (\"type_vocab_size\") is 1 in the checkpoint but 2"},
        {"layer_norm_eps", "1e-5",
         "layer_norm_eps (\"layer_norm_eps\") is 1e-05 in the checkpoint but 1e-12"},
        {"hidden_act", "\"gelu_new\"",
         "activation (\"hidden_act\") is \"gelu_new\" (gelu_tanh) in the checkpoint but gelu"},
        {"hidden_act", "\"relu\"",
         "activation (\"hidden_act\") is \"relu\" (relu) in the checkpoint but gelu"},
    };
    for (const Case& c : cases) {
        INFO(c.key << " = " << c.value);
        const std::string e = mismatch_of(tiny_with(c.key, c.value));
        CHECK_MESSAGE(e.find(c.message) != std::string::npos, "message was: " << e);
        CHECK(e.find("config.json") != std::string::npos);
    }
    // A missing key takes the default, which then mismatches tiny.
    CHECK(mismatch_of("{\"num_hidden_layers\":2}").find("hidden (\"hidden_size\") is 768") !=
          std::string::npos);
    // The f32 value of eps is what is compared: 1e-12 written with more digits still matches.
    CHECK(mismatch_of(tiny_with("layer_norm_eps", "1.0000000000000001e-12")) == "(no error)");
}

TEST_CASE("hf_config: activations") {
    CHECK(parse("{\"hidden_act\":\"gelu_pytorch_tanh\"}").activation == bert::Activation::gelu_tanh);
    CHECK(parse("{\"hidden_act\":\"gelu_fast\"}").activation == bert::Activation::gelu_tanh);
    CHECK(parse("{\"hidden_act\":\"relu\"}").activation == bert::Activation::relu);
    CHECK_THROWS_WITH_AS(parse("{\"hidden_act\":\"swish\"}"),
                         doctest::Contains("hidden_act 'swish' is not one sinter runs"), config_error);
}

TEST_CASE("hf_config: what sinter refuses") {
    CHECK_THROWS_WITH_AS(parse("{\"position_embedding_type\":\"relative_key\"}"),
                         doctest::Contains("position_embedding_type 'relative_key' is not supported"),
                         config_error);
    CHECK_THROWS_WITH_AS(parse("{\"model_type\":\"roberta\"}"), doctest::Contains("model_type is 'roberta'"),
                         config_error);
    CHECK_THROWS_WITH_AS(parse("{\"is_decoder\":true}"), doctest::Contains("'is_decoder' is true"),
                         config_error);
    CHECK_THROWS_WITH_AS(parse("{\"hidden_size\":100,\"num_attention_heads\":3}"),
                         doctest::Contains("hidden_size 100 is not a multiple of num_attention_heads 3"),
                         config_error);
    CHECK_THROWS_WITH_AS(parse("{\"hidden_size\":0}"),
                         doctest::Contains("'hidden_size' is 0, must be at least 1"), config_error);
    CHECK_THROWS_WITH_AS(parse("{\"vocab_size\":4294967296}"), doctest::Contains("'vocab_size' is 4294967296, over"),
                         config_error);
    // layer_norm_eps is added in f32: 1e300 would not even convert, 1e-300 would become 0.
    for (const char* eps : {"0", "-1e-12", "1e300", "1e-300"})
        CHECK_THROWS_WITH_AS(parse(std::string("{\"layer_norm_eps\":") + eps + "}"),
                             doctest::Contains("must be positive and finite in f32"), config_error);
    // Wrong JSON types name the key and the file.
    CHECK_THROWS_WITH_AS(parse("{\"hidden_size\":\"64\"}"),
                         "sinter: key 'hidden_size' of config.json: expected an integer, found a string",
                         format_error);
    CHECK_THROWS_WITH_AS(parse("{\"num_hidden_layers\":2.5}"), doctest::Contains("key 'num_hidden_layers'"),
                         format_error);
    CHECK_THROWS_AS(parse("[]"), format_error);
    // Unknown keys are normal.
    CHECK_NOTHROW(parse("{\"some_future_key\":[1,{\"x\":null}],\"torch_dtype\":\"bfloat16\"}"));
    CHECK(parse("{\"torch_dtype\":\"bfloat16\"}").dtype == "bfloat16");
    CHECK(parse("{\"torch_dtype\":\"bfloat16\",\"dtype\":\"float16\"}").dtype == "float16");
}

TEST_CASE("hf_config: labels for sequence classification") {
    CHECK(parse("{\"num_labels\":4}").id2label.size() == 4);
    // Without an id2label each label is named here: a corrupt count is refused, not allocated.
    CHECK_THROWS_WITH_AS(parse("{\"num_labels\":2000000000}"),
                         doctest::Contains("'num_labels' is 2000000000, over sinter's limit of 1048576"), config_error);
    CHECK(parse("{\"id2label\":{\"1\":\"b\",\"0\":\"a\"}}").id2label == std::vector<std::string>{"a", "b"});
    CHECK(parse("{\"id2label\":{\"0\":\"a\"},\"num_labels\":1}").num_labels == 1);
    CHECK_THROWS_WITH_AS(parse("{\"id2label\":{\"0\":\"a\",\"1\":\"b\"},\"num_labels\":3}"),
                         doctest::Contains("num_labels is 3 but id2label has 2 labels"), config_error);
    for (const char* bad : {"{\"id2label\":{\"0\":\"a\",\"2\":\"b\"}}", "{\"id2label\":{\"x\":\"a\"}}",
                            "{\"id2label\":{\"00\":\"a\"}}", "{\"id2label\":{\"-1\":\"a\"}}"}) {
        INFO(bad);
        CHECK_THROWS_WITH_AS(parse(bad), doctest::Contains("is not one of the indices"), config_error);
    }
    CHECK_THROWS_AS(parse("{\"id2label\":{\"0\":1}}"), format_error);
    CHECK(parse("{\"label2id\":{\"a\":0,\"b\":1}}").label2id.at("b") == 1);
}

TEST_CASE("hf_config: problem_type decides how logits become scores, as transformers' pipeline") {
    using F = io::ScoreFunction;
    CHECK(parse("{}").problem_type.empty());
    CHECK(parse("{}").score_function() == F::softmax);                      // 2 labels by default
    CHECK(parse("{\"num_labels\":1}").score_function() == F::sigmoid);      // a cross-encoder
    CHECK(parse("{\"num_labels\":3,\"problem_type\":null}").score_function() == F::softmax);
    CHECK(parse("{\"num_labels\":3,\"problem_type\":\"multi_label_classification\"}").score_function() == F::sigmoid);
    CHECK(parse("{\"num_labels\":1,\"problem_type\":\"regression\"}").score_function() == F::none);
    CHECK(parse("{\"num_labels\":4,\"problem_type\":\"regression\"}").score_function() == F::none);
    CHECK(parse("{\"num_labels\":3,\"problem_type\":\"single_label_classification\"}").score_function() ==
          F::softmax);
    // The pipeline tests a single label before single_label_classification.
    CHECK(parse("{\"num_labels\":1,\"problem_type\":\"single_label_classification\"}").score_function() ==
          F::sigmoid);
    // A sentence-transformers cross-encoder's activation wins (v4's key over v3's); ms-marco's is Identity.
    CHECK(parse("{\"num_labels\":1,\"sbert_ce_default_activation_function\":\"torch.nn.modules.linear.Identity\"}")
              .score_function() == F::none);
    CHECK(parse("{\"num_labels\":1,\"sbert_ce_default_activation_function\":\"torch.nn.modules.linear.Identity\","
                "\"sentence_transformers\":{\"activation_fn\":\"torch.nn.modules.activation.Tanh\","
                "\"version\":\"4.1.0\"}}")
              .score_function() == F::tanh);
    CHECK(parse("{\"num_labels\":3,"
                "\"sentence_transformers\":{\"activation_fn\":\"torch.nn.modules.activation.Sigmoid\"}}")
              .score_function() == F::sigmoid);
    CHECK(parse("{\"num_labels\":3,\"sentence_transformers\":{\"version\":\"4.1.0\"}}").score_function() == F::softmax);
    CHECK_THROWS_WITH_AS(
        parse("{\"sentence_transformers\":{\"activation_fn\":\"torch.nn.modules.activation.Softmax\"}}"),
        doctest::Contains("'sentence_transformers.activation_fn' is torch.nn.modules.activation.Softmax, an activation "
                          "sinter does not compute"),
        config_error);
    CHECK_THROWS_WITH_AS(parse("{\"sbert_ce_default_activation_function\":\"os.system\"}"),
                         doctest::Contains("'sbert_ce_default_activation_function' is os.system"), config_error);
    CHECK_THROWS_WITH_AS(parse("{\"problem_type\":\"ranking\"}"),
                         doctest::Contains("problem_type 'ranking' is not one transformers defines"), config_error);
    CHECK_THROWS_AS(parse("{\"problem_type\":3}"), format_error);
}

TEST_CASE("bert::scores: softmax, sigmoid, tanh and none over rows of logits") {
    // Random logits, wide enough that a naive exp would overflow in f32 (|z| up to 200).
    std::uint64_t x = 0x1234567;
    const auto uniform = [&] {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        return double(x >> 11) / double(1ull << 53);
    };
    for (const index_t labels : {1, 2, 3, 7}) {
        const index_t rows = 5;
        std::vector<float> z(std::size_t(rows * labels));
        for (auto& v : z) v = float((uniform() * 2 - 1) * (labels == 7 ? 200 : 6));
        const auto soft = bert::scores(z, labels, io::ScoreFunction::softmax);
        const auto sig = bert::scores(z, labels, io::ScoreFunction::sigmoid);
        const auto th = bert::scores(z, labels, io::ScoreFunction::tanh);
        const auto raw = bert::scores(z, labels, io::ScoreFunction::none);
        REQUIRE(soft.size() == z.size());
        CHECK(raw == z);
        double worst = 0;
        for (index_t r = 0; r < rows; ++r) {
            long double top = -1e300L, sum = 0;
            for (index_t k = 0; k < labels; ++k) top = std::max<long double>(top, z[std::size_t(r * labels + k)]);
            for (index_t k = 0; k < labels; ++k) sum += std::exp((long double)z[std::size_t(r * labels + k)] - top);
            for (index_t k = 0; k < labels; ++k) {
                const std::size_t i = std::size_t(r * labels + k);
                const long double want_soft = std::exp((long double)z[i] - top) / sum;
                const long double want_sig = 1 / (1 + std::exp(-(long double)z[i]));
                const long double want_tanh = std::tanh((long double)z[i]);
                worst = std::max({worst, double(std::abs(soft[i] - want_soft) / std::max(want_soft, 1e-30L)),
                                  double(std::abs(sig[i] - want_sig) / std::max(want_sig, 1e-30L)),
                                  double(std::abs(th[i] - want_tanh) / std::max(std::abs(want_tanh), 1e-30L))});
                CHECK(std::isfinite(soft[i]));
            }
        }
        MESSAGE(labels << " labels: worst relative error " << worst);
        CHECK(worst <= 2e-7);  // one f32 rounding of an f64 result; those under 1e-30 (0 in f32) absolutely
    }
    CHECK(bert::scores(std::vector<float>{}, 0, io::ScoreFunction::softmax).empty());
    CHECK_THROWS_WITH_AS(bert::scores(std::vector<float>(7), 3, io::ScoreFunction::softmax),
                         doctest::Contains("7 logits are not rows of 3 labels"), shape_error);
}

TEST_CASE("hf_config: Python's NaN and Infinity (json.dump's default) are read; where they matter, refused") {
    test::TempDir dir;
    const auto file = dir.path() / "config.json";
    test::write_file(file, tiny_with("initializer_range", "NaN"));
    CHECK(io::read_hf_config(file).hidden_size == 64);
    for (const char* eps : {"NaN", "Infinity", "-Infinity"}) {
        INFO(eps);
        test::write_file(file, tiny_with("layer_norm_eps", eps));
        CHECK_THROWS_WITH_AS(io::read_hf_config(file), doctest::Contains("must be positive and finite in f32"),
                             config_error);
    }
}

TEST_CASE("hf_config: a missing config.json is an io_error naming it") {
    CHECK_THROWS_WITH_AS(io::read_hf_config("/nonexistent/dir/config.json"),
                         doctest::Contains("/nonexistent/dir/config.json"), io_error);
}
