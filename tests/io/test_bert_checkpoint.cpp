// sinter::io::BertCheckpoint: name mapping (prefix, gamma/beta), ignored tensors, the
// classification head, and a missing, wrongly shaped, wrongly typed or ambiguous tensor named in
// the error; a checkpoint without a pooler. Broken checkpoints are the golden bert_tiny rewritten
// into a temp folder.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <tuple>

#include "../support/errors.hpp"
#include "io_test_util.hpp"
#include "sinter/io/bert_checkpoint.hpp"
#include "sinter/ref/bert.hpp"
#include "sinter/nn/bert/encoder.hpp"

using namespace sinter;
using test::RawTensor;
using test::TempDir;

namespace {

std::filesystem::path golden(const char* model) { return test::golden_dir() / model; }

// The golden bert_tiny's tensors, as raw bytes under their names.
std::vector<RawTensor> tiny_tensors() {
    const io::SafetensorsFile f(golden("bert_tiny") / "model.safetensors");
    std::vector<RawTensor> out;
    for (const io::TensorInfo& t : f.tensors()) {
        const auto bytes = f.read_bytes(t);
        out.push_back({t.name,
                       std::string(io::name(t.dtype)),
                       {t.shape.begin(), t.shape.end()},
                       std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size())});
    }
    return out;
}

// A checkpoint folder: bert_tiny's config.json and its tensors after `edit`.
void write_tiny(const TempDir& dir, const std::function<void(std::vector<RawTensor>&)>& edit) {
    std::filesystem::copy_file(golden("bert_tiny") / "config.json", dir / "config.json");
    auto tensors = tiny_tensors();
    edit(tensors);
    test::write_safetensors(dir / "model.safetensors", tensors, 5);
}

RawTensor& find(std::vector<RawTensor>& ts, const std::string& name) {
    const auto it = std::find_if(ts.begin(), ts.end(), [&](const RawTensor& t) { return t.name == name; });
    REQUIRE(it != ts.end());
    return *it;
}

template <class E>
std::string error_of(const std::filesystem::path& dir, io::BertHead head = io::BertHead::automatic) {
    return test::error_message<E>([&] { io::BertCheckpoint c(dir, head); });
}

}  // namespace

TEST_CASE("checkpoint: canonical names") {
    CHECK(io::canonical_bert_name("bert.embeddings.LayerNorm.gamma") == "embeddings.LayerNorm.weight");
    CHECK(io::canonical_bert_name("encoder.layer.3.output.LayerNorm.beta") ==
          "encoder.layer.3.output.LayerNorm.bias");
    CHECK(io::canonical_bert_name("bert.pooler.dense.weight") == "pooler.dense.weight");
    CHECK(io::canonical_bert_name("classifier.weight") == "classifier.weight");
    CHECK(io::canonical_bert_name("cls.predictions.bias") == "cls.predictions.bias");
    CHECK(io::canonical_bert_name("bertx.pooler.dense.weight") == "bertx.pooler.dense.weight");
    CHECK(io::canonical_bert_name("encoder.layer.0.attention.self.query.gamma") ==
          "encoder.layer.0.attention.self.query.gamma");
}

TEST_CASE("checkpoint: for_each_tensor lists exactly what save_pretrained writes") {
    const io::SafetensorsFile f(golden("bert_tiny") / "model.safetensors");
    std::set<std::string> in_file, listed;
    for (const auto& t : f.tensors()) in_file.insert(t.name);
    const auto skeleton = ref::bert_weights_skeleton(bert::tiny);
    ref::for_each_tensor(skeleton,
                         [&](const std::string& name, const std::vector<index_t>& shape, const auto& data) {
                             CHECK(data.empty());  // a skeleton allocates nothing
                             CHECK(f.at(name).shape == shape);
                             CHECK(listed.insert(name).second);
                         });
    CHECK(listed == in_file);
    CHECK(listed.size() == 39);
}

TEST_CASE("checkpoint: the f32 golden loads whole, and reads as any dtype") {
    const io::BertCheckpoint ckpt(golden("bert_tiny"));
    CHECK(ckpt.num_labels() == 0);
    CHECK(ckpt.sources().size() == 39);
    const auto w = ckpt.load_weights();
    const io::SafetensorsFile f(golden("bert_tiny") / "model.safetensors");
    CHECK(w.word_embeddings == f.read("embeddings.word_embeddings.weight"));
    CHECK(w.layers[1].output_norm.beta == f.read("encoder.layer.1.output.LayerNorm.bias"));
    CHECK(w.layers[0].intermediate.weight.size() == 128 * 64);
    CHECK(w.classifier.weight.empty());
    std::vector<half> h(64 * 128);
    ckpt.read_into<half>("encoder.layer.0.output.dense.weight", std::span<half>(h));
    const auto want = f.read("encoder.layer.0.output.dense.weight");
    for (std::size_t i = 0; i < h.size(); ++i)
        REQUIRE(detail::raw_bits(h[i]) == detail::raw_bits(from_float<half>(want[i])));
    CHECK_THROWS_AS(ckpt.at("cls.predictions.bias"), value_error);
    CHECK(error_of<format_error>(golden("bert_tiny"), io::BertHead::sequence_classification)
              .find("has no tensor 'classifier.weight'") != std::string::npos);
}

TEST_CASE("checkpoint: sharded f16 classifier with bert. prefix, gamma/beta and extra tensors") {
    const io::BertCheckpoint ckpt(golden("bert_tiny_cls"));
    CHECK(ckpt.num_labels() == 3);
    CHECK(ckpt.sources().size() == 41);
    // The names in the file are the legacy ones; the canonical ones map onto them.
    CHECK(ckpt.at("embeddings.LayerNorm.weight").info->name == "bert.embeddings.LayerNorm.gamma");
    CHECK(ckpt.at("classifier.bias").info->name == "classifier.bias");
    CHECK(ckpt.at("encoder.layer.1.output.dense.weight").info->dtype == io::StDtype::f16);
    const auto w = ckpt.load_weights();
    CHECK(w.classifier.weight.size() == 3 * 64);
    // f16 -> f32 is exact: the values are the stored halves.
    const auto& src = ckpt.at("encoder.layer.1.output.LayerNorm.weight");
    CHECK(w.layers[1].output_norm.gamma == src.file->read(*src.info));
    CHECK(std::any_of(w.layers[1].output_norm.gamma.begin(), w.layers[1].output_norm.gamma.end(),
                      [](float g) { return g != 1.0f; }));  // random, not the initialiser's ones
    // BertModel only: the head is left out.
    const io::BertCheckpoint body(golden("bert_tiny_cls"), io::BertHead::none);
    CHECK(body.num_labels() == 0);
    CHECK(body.sources().size() == 39);
}

TEST_CASE("checkpoint: unused tensors are ignored, aliases accepted") {
    TempDir dir;
    write_tiny(dir, [](std::vector<RawTensor>& ts) {
        for (RawTensor& t : ts) t.name = "bert." + io::canonical_bert_name(t.name);
        for (RawTensor& t : ts)
            if (t.name.ends_with("LayerNorm.weight")) t.name.replace(t.name.size() - 6, 6, "gamma");
        ts.push_back({"bert.embeddings.position_ids", "I64", {1, 64}, std::string(64 * 8, '\0')});
        ts.push_back({"cls.predictions.bias", "F32", {512}, std::string(512 * 4, '\0')});
        ts.push_back({"cls.predictions.transform.LayerNorm.gamma", "F32", {64}, std::string(64 * 4, '\0')});
        ts.push_back({"something.else", "U8", {3}, "abc"});
        // An ambiguity among unused tensors does not matter.
        ts.push_back({"cls.predictions.transform.LayerNorm.weight", "F32", {64}, std::string(64 * 4, '\0')});
    });
    const auto w = io::load_bert_weights<bert::tiny>(dir.path());
    const auto want = io::load_bert_weights(golden("bert_tiny"));
    CHECK(w.embedding_norm.gamma == want.embedding_norm.gamma);
    CHECK(w.layers[1].attention_norm.gamma == want.layers[1].attention_norm.gamma);
    CHECK(w.pooler.weight == want.pooler.weight);
}

TEST_CASE("checkpoint: BF16 storage converts") {
    TempDir dir;
    write_tiny(dir, [](std::vector<RawTensor>& ts) {
        for (RawTensor& t : ts) {
            std::string b;
            for (std::size_t i = 0; i < t.bytes.size(); i += 4) {
                float f;
                std::memcpy(&f, t.bytes.data() + i, 4);
                const std::uint16_t bits = detail::raw_bits(from_float<bf16>(f));
                b += static_cast<char>(bits & 0xff);
                b += static_cast<char>(bits >> 8);
            }
            t.dtype = "BF16";
            t.bytes = b;
        }
    });
    const auto w = io::load_bert_weights<bert::tiny>(dir.path());
    const auto f32 = io::load_bert_weights(golden("bert_tiny"));
    REQUIRE(w.layers[0].query.weight.size() == f32.layers[0].query.weight.size());
    for (std::size_t i = 0; i < w.layers[0].query.weight.size(); ++i)
        REQUIRE(w.layers[0].query.weight[i] == to_float(from_float<bf16>(f32.layers[0].query.weight[i])));
}

TEST_CASE("checkpoint: a missing tensor is named") {
    TempDir dir;
    write_tiny(dir, [](std::vector<RawTensor>& ts) {
        ts.erase(std::find_if(ts.begin(), ts.end(),
                              [](auto& t) { return t.name == "encoder.layer.1.output.dense.bias"; }));
    });
    CHECK(error_of<format_error>(dir.path())
              .find("has no tensor 'encoder.layer.1.output.dense.bias' (nor "
                    "'bert.encoder.layer.1.output.dense.bias'), expected with shape [64]") !=
          std::string::npos);
}

TEST_CASE("checkpoint: a wrongly shaped tensor is named with both shapes") {
    TempDir dir;
    write_tiny(dir, [](std::vector<RawTensor>& ts) {
        find(ts, "encoder.layer.0.intermediate.dense.weight").shape = {64, 128};
    });
    const std::string e = error_of<shape_error>(dir.path());
    CHECK_MESSAGE(
        e.find("model.safetensors: tensor 'encoder.layer.0.intermediate.dense.weight' has shape [64, 128], "
               "expected [128, 64]") != std::string::npos,
        e);
}

TEST_CASE("checkpoint: a classifier whose rows disagree with num_labels") {
    TempDir dir;
    write_tiny(dir, [](std::vector<RawTensor>& ts) {
        ts.push_back({"classifier.weight", "F32", {2, 64}, std::string(2 * 64 * 4, '\0')});
        ts.push_back({"classifier.bias", "F32", {2}, std::string(2 * 4, '\0')});
    });
    // bert_tiny's config.json has no id2label: num_labels is 2 and this loads (asked for: the
    // config names BertModel, so automatic would ignore the classifier)...
    CHECK(io::BertCheckpoint(dir.path(), io::BertHead::sequence_classification).num_labels() == 2);
    // ...but with three labels the shapes disagree.
    test::write_file(
        dir / "config.json",
        R"({"num_hidden_layers":2,"hidden_size":64,"num_attention_heads":2,"intermediate_size":128,)"
        R"("vocab_size":512,"max_position_embeddings":64,"id2label":{"0":"a","1":"b","2":"c"}})");
    CHECK(error_of<shape_error>(dir.path()).find("'classifier.weight' has shape [2, 64], expected [3, 64]") !=
          std::string::npos);
}

TEST_CASE("checkpoint: a non-float tensor, and two names for one tensor") {
    TempDir dir;
    write_tiny(dir, [](std::vector<RawTensor>& ts) { find(ts, "pooler.dense.bias").dtype = "I32"; });
    CHECK(error_of<format_error>(dir.path())
              .find("tensor 'pooler.dense.bias' is I32; expected F32, F16 or BF16") != std::string::npos);
    TempDir dir2;
    write_tiny(dir2, [](std::vector<RawTensor>& ts) {
        RawTensor copy = find(ts, "embeddings.LayerNorm.weight");
        copy.name = "bert.embeddings.LayerNorm.gamma";
        ts.push_back(copy);
    });
    const std::string e = error_of<format_error>(dir2.path());
    CHECK_MESSAGE(e.find("are both embeddings.LayerNorm.weight") != std::string::npos, e);
}

TEST_CASE("checkpoint: config.json is checked against the compile-time config first") {
    CHECK_THROWS_WITH_AS(io::load_bert_weights<bert::minilm_l6>(golden("bert_tiny")),
                         doctest::Contains("layers (\"num_hidden_layers\") is 2 in the checkpoint but 6"),
                         config_error);
    TempDir dir;
    std::filesystem::copy_file(golden("bert_tiny") / "model.safetensors", dir / "model.safetensors");
    CHECK_THROWS_WITH_AS(io::load_bert_weights(dir.path()), doctest::Contains("config.json"), io_error);
}

TEST_CASE("checkpoint: no pooler (add_pooling_layer=False) loads; pooled output empty, the rest unchanged") {
    TempDir dir;
    write_tiny(dir, [](std::vector<RawTensor>& ts) {
        std::erase_if(ts, [](const RawTensor& t) { return t.name.starts_with("pooler."); });
    });
    const io::BertCheckpoint ckpt(dir.path());
    CHECK_FALSE(ckpt.has_pooler());
    CHECK(ckpt.sources().size() == 37);
    const std::vector<std::int32_t> ids = {2, 17, 99, 3, 2, 40, 3, 0}, mask = {1, 1, 1, 1, 1, 1, 1, 0};
    const auto without = ref::bert_forward(ckpt.load_weights(), 2, 4, ids, mask);
    const auto with = ref::bert_forward(io::load_bert_weights(golden("bert_tiny")), 2, 4, ids, mask);
    CHECK(without.pooled.empty());
    CHECK(without.last_hidden_state == with.last_hidden_state);
    const bert::Inputs in{2, 4, ids, mask, {}};
    const auto out = bert::Encoder<bert::tiny, float, host_space>::load(dir.path()).forward(in);
    CHECK(out.pooled.empty());
    const auto full = bert::Encoder<bert::tiny, float, host_space>::load(golden("bert_tiny")).forward(in);
    CHECK(out.last_hidden_state == full.last_hidden_state);
    CHECK(out.sentence_embedding == full.sentence_embedding);
    CHECK(without.sentence_embedding == with.sentence_embedding);  // the reference's too
    CHECK_FALSE(without.sentence_embedding.empty());

    // A sequence classifier reads the pooled output: without a pooler it is refused by name.
    TempDir cls;
    write_tiny(cls, [](std::vector<RawTensor>& ts) {
        std::erase_if(ts, [](const RawTensor& t) { return t.name.starts_with("pooler."); });
        ts.push_back({"classifier.weight", "F32", {2, 64}, std::string(2 * 64 * 4, '\0')});
        ts.push_back({"classifier.bias", "F32", {2}, std::string(2 * 4, '\0')});
    });
    CHECK(error_of<format_error>(cls.path(), io::BertHead::sequence_classification).find("needs the pooler") !=
          std::string::npos);
    // Automatic: bert_tiny's config names BertModel, so the classifier is not this model's head.
    CHECK(io::BertCheckpoint(cls.path()).num_labels() == 0);
}

TEST_CASE("checkpoint: the head follows config.json's architectures") {
    // A token-classification export: classifier.* (num_labels, H), no pooler. It loads as a
    // BertModel; a sequence-classification config with the same tensors is refused by name.
    const auto write = [](const TempDir& dir, const std::string& architecture) {
        write_tiny(dir, [](std::vector<RawTensor>& ts) {
            std::erase_if(ts, [](const RawTensor& t) { return t.name.starts_with("pooler."); });
            ts.push_back({"classifier.weight", "F32", {2, 64}, std::string(2 * 64 * 4, '\0')});
            ts.push_back({"classifier.bias", "F32", {2}, std::string(2 * 4, '\0')});
        });
        std::string config = test::read_text(dir / "config.json");
        const auto at = config.find("\"BertModel\"");
        REQUIRE(at != std::string::npos);
        config.replace(at, 11, "\"" + architecture + "\"");
        std::ofstream(dir / "config.json", std::ios::trunc) << config;
    };
    TempDir token, sequence;
    write(token, "BertForTokenClassification");
    const io::BertCheckpoint ckpt(token.path());
    CHECK(ckpt.num_labels() == 0);
    CHECK_FALSE(ckpt.has_pooler());
    CHECK(bert::Encoder<bert::tiny, float, host_space>::load(token.path()).labels().empty());
    write(sequence, "BertForSequenceClassification");
    CHECK(error_of<format_error>(sequence.path()).find("needs the pooler") != std::string::npos);
}

TEST_CASE("checkpoint: a num_hidden_layers past the tensors is named before anything is sized by it") {
    TempDir dir;
    write_tiny(dir, [](std::vector<RawTensor>&) {});
    std::string config = test::read_text(dir / "config.json");
    const auto at = config.find("\"num_hidden_layers\": 2");
    REQUIRE(at != std::string::npos);
    config.replace(at, 22, "\"num_hidden_layers\": 2000000000");
    std::ofstream(dir / "config.json", std::ios::trunc) << config;
    CHECK(error_of<format_error>(dir.path()).find("num_hidden_layers 2000000000, and the checkpoint has no tensor of "
                                                  "layer 1999999999") != std::string::npos);
}

namespace {

// A checkpoint of config C with random weights (LayerNorm gammas near 1): every tensor
// ref::for_each_tensor lists, and a config.json naming `act`.
template <bert::Config C>
void write_random_checkpoint(const TempDir& dir, const char* act, std::uint32_t seed) {
    auto w = ref::bert_weights_skeleton(C);
    std::vector<RawTensor> tensors;
    std::mt19937 rng(seed);
    ref::for_each_tensor(w, [&](const std::string& name, const std::vector<index_t>& shape, auto&) {
        std::size_t n = 1;
        for (const index_t e : shape) n *= std::size_t(e);
        std::vector<float> v = test::random_floats(n, rng, 0.1f);
        if (name.ends_with("LayerNorm.weight"))
            for (float& x : v) x += 1.f;
        tensors.push_back({name, "F32", {shape.begin(), shape.end()}, test::f32_bytes(v)});
    });
    test::write_safetensors(dir / "model.safetensors", tensors);
    test::write_file(dir / "config.json",
                     "{\"model_type\":\"bert\",\"num_hidden_layers\":" + std::to_string(C.layers) +
                         ",\"hidden_size\":" + std::to_string(C.hidden) +
                         ",\"num_attention_heads\":" + std::to_string(C.heads) +
                         ",\"intermediate_size\":" + std::to_string(C.intermediate) +
                         ",\"vocab_size\":" + std::to_string(C.vocab) +
                         ",\"max_position_embeddings\":" + std::to_string(C.max_positions) +
                         ",\"type_vocab_size\":" + std::to_string(C.type_vocab) +
                         ",\"layer_norm_eps\":" + io::shortest_text(C.layer_norm_eps) + ",\"hidden_act\":\"" + act + "\"}");
}

// The host encoder of config C against ref::bert_forward on the same checkpoint: a padded batch
// of three sequences (lengths 19, 7, 1) with token types.
template <bert::Config C>
void check_against_reference(const char* act) {
    TempDir dir;
    write_random_checkpoint<C>(dir, act, 1234);
    const index_t B = 3, S = 19;
    std::vector<std::int32_t> ids(std::size_t(B * S)), mask(ids.size()), types(ids.size());
    const index_t lengths[] = {19, 7, 1};
    for (index_t b = 0; b < B; ++b)
        for (index_t s = 0; s < S; ++s) {
            const auto i = std::size_t(b * S + s);
            ids[i] = std::int32_t((b * 31 + s * 17) % C.vocab);
            mask[i] = s < lengths[b];
            types[i] = std::int32_t(s >= 5 ? 1 : 0);
        }
    const auto want = ref::bert_forward(io::load_bert_weights(dir.path()), B, S, ids, mask, types);
    const auto got = bert::Encoder<C, float, host_space>::load(dir.path()).forward({B, S, ids, mask, types});
    // Padded positions: zeros on sinter's side, computed on the reference's; compare the tokens.
    std::vector<float> got_tokens, want_tokens;
    for (std::size_t i = 0; i < mask.size(); ++i)
        if (mask[i])
            for (index_t h = 0; h < C.hidden; ++h) {
                got_tokens.push_back(got.last_hidden_state[i * std::size_t(C.hidden) + std::size_t(h)]);
                want_tokens.push_back(want.last_hidden_state[i * std::size_t(C.hidden) + std::size_t(h)]);
            }
    const std::string what = "head size " + std::to_string(C.hidden / C.heads) + ", " + act;
    using Output = std::tuple<const char*, const std::vector<float>*, const std::vector<float>*>;
    for (const auto& [name, g, w] : {Output{"last_hidden_state", &got_tokens, &want_tokens},
                                     Output{"pooled", &got.pooled, &want.pooled},
                                     Output{"sentence_embedding", &got.sentence_embedding, &want.sentence_embedding}}) {
        const test::Worst worst = test::compare(*g, *w);
        MESSAGE(what << " " << std::string(name) << ": worst relative error " << worst.rel << " at " << worst.index << ": "
                     << worst.got << " vs " << worst.want);
        CHECK(worst.rel < 1e-4);
    }
}

}  // namespace

TEST_CASE("the host encoder matches the reference at head sizes 64 and 128, with tanh GELU and ReLU") {
    using bert::Activation;
    check_against_reference<bert::Config{2, 128, 2, 256, 101, 32, 2, 1e-12f, Activation::gelu_tanh}>("gelu_new");
    check_against_reference<bert::Config{2, 256, 2, 320, 101, 32, 2, 1e-5f, Activation::relu}>("relu");
}
