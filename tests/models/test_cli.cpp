// The `sinter` command-line tool, run as a user runs it (SINTER_CLI is the built binary): one-line
// errors and exit codes for bad arguments, a missing folder, a config no compiled-in one matches
// and a checkpoint without a classifier; tokenize, embed (JSON lines, .npy, similarity) and
// classify against the library called directly, and against sentence-transformers on MiniLM.
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sinter/io/json.hpp"
#include "sinter/nn/bert/encoder.hpp"
#include "sinter/text/tokenizer.hpp"
#include "minilm_golden.hpp"
#include "../support/golden.hpp"

namespace fs = std::filesystem;
using namespace sinter;

namespace {

struct Run {
    int status = -1;
    std::string out, err;
};

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A scratch folder per process, removed at exit.
const fs::path& scratch() {
    static const struct Dir {
        fs::path path = fs::temp_directory_path() / ("sinter_test_cli_" + std::to_string(::getpid()));
        Dir() { fs::create_directories(path); }
        ~Dir() {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    } dir;
    return dir.path;
}

// Runs `BINARY ARGS [< stdin_file]`; stderr goes to a file so both streams come back.
Run run_tool(const char* binary, const std::vector<std::string>& args, const fs::path& stdin_file = {}) {
    std::string cmd = quote(binary);
    // Appended piece by piece: g++ 12 warns (-Wrestrict, falsely) on `literal + std::string` here.
    for (const auto& a : args) cmd.append(" ").append(quote(a));
    cmd.append(" < ").append(quote(stdin_file.empty() ? std::string("/dev/null") : stdin_file.string()));
    const fs::path err = scratch() / "stderr.txt";
    cmd.append(" 2> ").append(quote(err.string()));
    Run r;
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
    const int status = ::pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = read_file(err);
    return r;
}

// The host build of `sinter`.
Run sinter_cli(const std::vector<std::string>& args, const fs::path& stdin_file = {}) {
    return run_tool(SINTER_CLI, args, stdin_file);
}

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> v;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
}

// A failure: the exit code, and exactly one line on stderr that contains `needle`.
void check_error(const Run& r, int status, const std::string& needle) {
    INFO("stderr: " << r.err);
    CHECK(r.status == status);
    CHECK(r.out.empty());
    CHECK(lines_of(r.err).size() == 1);
    CHECK(r.err.find(needle) != std::string::npos);
}

fs::path golden(const char* model) { return fs::path(SINTER_SOURCE_DIR) / "tests" / "golden" / model; }

// A copy of a golden checkpoint folder, to edit without touching the committed one.
fs::path model_copy(const char* model) {
    const fs::path dir = scratch() / model;
    if (!fs::exists(dir)) fs::copy(golden(model), dir, fs::copy_options::recursive);
    return dir;
}

std::vector<io::Json> json_lines(const std::string& out) {
    std::vector<io::Json> v;
    for (const auto& l : lines_of(out)) v.push_back(io::parse_json(l, "sinter's output"));
    return v;
}

std::vector<float> floats(const io::Json& a) {
    std::vector<float> v;
    for (const auto& x : a.as_array()) v.push_back(float(x.as_double()));
    return v;
}

// The values of a similarity table (a header line, then per text its index, n values and the text).
std::vector<std::vector<double>> table_values(const std::string& out, std::size_t n) {
    const auto table = lines_of(out);
    REQUIRE(table.size() == 1 + n);
    std::vector<std::vector<double>> values(n, std::vector<double>(n));
    for (std::size_t i = 0; i < n; ++i) {
        std::istringstream row(table[1 + i]);
        std::size_t index = 0;
        row >> index;
        CHECK(index == i);
        for (double& v : values[i]) row >> v;
        REQUIRE(!row.fail());
    }
    return values;
}

// The smallest cosine between the embeddings `sinter embed` printed and `want` (rows x H).
double worst_cosine(const std::string& out, const std::vector<float>& want, index_t H) {
    const auto rows = json_lines(out);
    REQUIRE(rows.size() * std::size_t(H) == want.size());
    double worst = 1;
    for (std::size_t b = 0; b < rows.size(); ++b) {
        const auto v = floats(rows[b]);
        REQUIRE(index_t(v.size()) == H);
        worst = std::min(worst, test::cosine(v.data(), want.data() + b * std::size_t(H), H));
    }
    return worst;
}

}  // namespace

TEST_CASE("sinter: bad arguments are one line on stderr and exit 2") {
    const std::string tiny = golden("bert_tiny").string();
    check_error(sinter_cli({}), 2, "no command");
    check_error(sinter_cli({"frobnicate", "--model", tiny}), 2, "unknown command 'frobnicate'");
    check_error(sinter_cli({"embed"}), 2, "--model DIR is required");
    check_error(sinter_cli({"embed", "--model"}), 2, "--model needs a value");
    check_error(sinter_cli({"embed", "--model", tiny, "--colour"}), 2, "unknown option '--colour'");
    check_error(sinter_cli({"embed", "--model", tiny, "--batch-size", "0"}), 2, "positive integer");
    check_error(sinter_cli({"tokenize", "--model", tiny, "--out", "x.npy"}), 2, "--out is for embed only");
    const Run help = sinter_cli({"--help"});
    CHECK(help.status == 0);
    CHECK(help.out.find("usage: sinter") == 0);
}

TEST_CASE("sinter: a missing model folder says how to fetch one") {
    check_error(sinter_cli({"embed", "--model", (scratch() / "no-such-model").string(), "hello"}), 1,
                "tools/fetch_model.sh");
    check_error(sinter_cli({"tokenize", "--model", scratch().string(), "hello"}), 1, "has no vocab.txt");
}

TEST_CASE("sinter: a config that no compiled-in config matches is refused") {
    const fs::path dir = scratch() / "three_layers";
    fs::create_directories(dir);
    for (const char* f : {"model.safetensors", "vocab.txt"}) fs::copy_file(model_copy("bert_tiny") / f, dir / f);
    std::string config = read_file(golden("bert_tiny") / "config.json");
    const std::string layers = "\"num_hidden_layers\": 2";
    REQUIRE(config.find(layers) != std::string::npos);
    config.replace(config.find(layers), layers.size(), "\"num_hidden_layers\": 3");
    std::ofstream(dir / "config.json") << config;
    const Run r = sinter_cli({"embed", "--model", dir.string(), "hello"});
    check_error(r, 1, "matches none of the configs compiled into sinter");
    CHECK(r.err.find("3 layers") != std::string::npos);
    CHECK(r.err.find("examples/cli/models.hpp") != std::string::npos);
}

TEST_CASE("sinter tokenize: known ids, and sentence-transformers' ids on MiniLM") {
    const Run r = sinter_cli({"tokenize", "--model", model_copy("bert_tiny").string(), "The word, on hot!", "Zebra"});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out == "[2,87,115,6,99,114,7,3]\n[2,40,45,42,58,41,3]\n");  // Hugging Face's, for this vocab
    const Run tokens = sinter_cli({"tokenize", "--tokens", "--model", model_copy("bert_tiny").string(), "The word, on hot!"});
    REQUIRE(tokens.status == 0);
    CHECK(tokens.out == "[\"[CLS]\",\"the\",\"word\",\",\",\"on\",\"hot\",\"!\",\"[SEP]\"]\n");
    check_error(sinter_cli({"embed", "--tokens", "--model", model_copy("bert_tiny").string(), "x"}), 2,
                "--tokens is for tokenize only");

    // Invalid UTF-8 (on stdin, line 2): an error naming the line, or U+FFFD, which clean-up drops.
    const fs::path bad = scratch() / "bad_utf8.txt";
    std::ofstream(bad, std::ios::binary) << "the word\nhot \xff what\n";
    check_error(sinter_cli({"tokenize", "--model", model_copy("bert_tiny").string()}, bad), 1,
                "line 2 is not valid UTF-8 (byte 4)");
    const Run replaced =
        sinter_cli({"tokenize", "--replace-invalid-utf8", "--model", model_copy("bert_tiny").string()}, bad);
    CHECK(replaced.status == 0);
    CHECK(replaced.out == "[2,87,115,3]\n[2,114,117,3]\n");

    // The golden sentences through stdin: every id as sentence-transformers has them.
    const fs::path dir = test::require_minilm();
    const test::MinilmGolden g;
    const Run m = sinter_cli({"tokenize", "--model", dir.string()}, test::minilm_golden_dir() / "sentences.txt");
    REQUIRE(m.status == 0);
    const auto rows = json_lines(m.out);
    REQUIRE(index_t(rows.size()) == g.batch);
    for (index_t b = 0; b < g.batch; ++b) {
        const auto& ids = rows[std::size_t(b)].as_array();
        INFO("sentence " << b);
        for (index_t s = 0; s < g.length; ++s) {
            const auto i = std::size_t(b * g.length + s);
            if (!g.mask[i]) {
                CHECK(std::size_t(s) == ids.size());
                break;
            }
            REQUIRE(std::size_t(s) < ids.size());
            CHECK(ids[std::size_t(s)].as_int() == g.ids[i]);
        }
    }
}

TEST_CASE("sinter embed on the tiny model: JSON lines, .npy and similarity agree with the library") {
    const fs::path dir = model_copy("bert_tiny");
    const std::vector<std::string> texts = {"the word, on hot!", "what", "some people were there when I called"};
    // The library directly, on the same folder, as one padded batch.
    const auto tokenizer = text::Tokenizer::from_directory(dir);
    const auto batch = tokenizer.encode_batch(texts, {.max_length = 64});
    const auto want = bert::Encoder<bert::tiny, float, host_space>::load(dir, io::BertHead::none)
                          .forward({batch.batch, batch.length, batch.ids, batch.attention_mask, batch.type_ids})
                          .sentence_embedding;
    constexpr std::size_t H = 64;

    std::vector<std::string> args = {"embed", "--model", dir.string()};
    args.insert(args.end(), texts.begin(), texts.end());
    const Run r = sinter_cli(args);
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("running on the host") != std::string::npos);
    CHECK(r.err.find("embedded 3 lines") != std::string::npos);
    CHECK(r.err.find("sentence embeddings: mean pooling, L2-normalised (no modules.json: the default)") !=
          std::string::npos);
    CHECK(r.err.find('\r') == std::string::npos);  // no progress bar: stderr is not a terminal
    const auto rows = json_lines(r.out);
    REQUIRE(rows.size() == texts.size());
    std::vector<float> got;
    for (const auto& row : rows) {
        const auto v = floats(row);
        REQUIRE(v.size() == H);
        got.insert(got.end(), v.begin(), v.end());
    }
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));

    // --out: the same numbers as float32 in a .npy file.
    const fs::path npy = scratch() / "tiny.npy";
    args.insert(args.begin() + 3, {"--out", npy.string()});
    REQUIRE(sinter_cli(args).status == 0);
    const std::string file = read_file(npy);
    REQUIRE(file.size() > 10);
    CHECK(file.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    const std::size_t header = std::size_t(std::uint8_t(file[8])) | std::size_t(std::uint8_t(file[9])) << 8;
    CHECK((10 + header) % 64 == 0);
    CHECK(file.find("'descr': '<f4', 'fortran_order': False, 'shape': (3, 64)") != std::string::npos);
    REQUIRE(file.size() == 10 + header + texts.size() * H * 4);
    std::vector<float> data(texts.size() * H);
    std::memcpy(data.data(), file.data() + 10 + header, data.size() * 4);
    CHECK(data == got);

    // The similarity matrix: a header line, then one row per text with 1 on the diagonal.
    args.erase(args.begin() + 3, args.begin() + 5);
    args.insert(args.begin() + 3, "--similarity");
    const Run s = sinter_cli(args);
    REQUIRE(s.status == 0);
    const auto values = table_values(s.out, texts.size());
    const auto table = lines_of(s.out);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        CHECK(values[i][i] == doctest::Approx(1.0).epsilon(1e-3));
        CHECK(table[1 + i].find(texts[i].substr(0, 4)) != std::string::npos);
    }

    // The other similarities sentence-transformers defines, on embeddings not normalised (so dot
    // differs from cosine): --similarity-fn, or the folder's similarity_fn_name.
    std::vector<std::string> raw_args = {"embed", "--model", dir.string(), "--no-normalize"};
    raw_args.insert(raw_args.end(), texts.begin(), texts.end());
    const Run raw = sinter_cli(raw_args);
    REQUIRE(raw.status == 0);
    std::vector<std::vector<double>> e;
    for (const auto& row : json_lines(raw.out)) {
        const auto v = floats(row);
        e.emplace_back(v.begin(), v.end());
    }
    const auto expected = [&](const std::string& fn, std::size_t a, std::size_t b) {
        double dot = 0, l2 = 0, l1 = 0, na = 0, nb = 0;
        for (std::size_t h = 0; h < H; ++h) {
            dot += e[a][h] * e[b][h], na += e[a][h] * e[a][h], nb += e[b][h] * e[b][h];
            l2 += (e[a][h] - e[b][h]) * (e[a][h] - e[b][h]), l1 += std::abs(e[a][h] - e[b][h]);
        }
        return fn == "cosine" ? dot / std::sqrt(na * nb) : fn == "dot" ? dot : fn == "euclidean" ? -std::sqrt(l2) : -l1;
    };
    for (const std::string fn : {"cosine", "dot", "euclidean", "manhattan"}) {
        for (const bool from_folder : {false, true}) {
            CAPTURE(fn);
            CAPTURE(from_folder);
            std::vector<std::string> a = raw_args;
            a.insert(a.begin() + 3, "--similarity");
            if (from_folder)
                std::ofstream(dir / "config_sentence_transformers.json") << R"({"similarity_fn_name": ")" << fn << "\"}";
            else a.insert(a.begin() + 3, {"--similarity-fn", fn});
            const Run t = sinter_cli(a);
            INFO("stderr: " << t.err);
            REQUIRE(t.status == 0);
            const std::string why = from_folder ? "config_sentence_transformers.json's similarity_fn_name" : "--similarity-fn";
            CHECK(t.err.find("sinter: similarity: " + fn + " (" + why) != std::string::npos);
            const auto values = table_values(t.out, texts.size());
            for (std::size_t i = 0; i < texts.size(); ++i)
                for (std::size_t j = 0; j < texts.size(); ++j)
                    CHECK(values[i][j] == doctest::Approx(expected(fn, i, j)).epsilon(1e-3).scale(1));
            if (fn == "dot") CHECK(std::abs(expected("dot", 0, 1) - expected("cosine", 0, 1)) > 0.01);
        }
    }
    std::ofstream(dir / "config_sentence_transformers.json") << R"({"similarity_fn_name": "maxsim"})";
    args.insert(args.begin() + 3, "--similarity");
    check_error(sinter_cli(args), 1, "similarity_fn_name 'maxsim' is not one sinter computes");
    check_error(sinter_cli({"embed", "--model", dir.string(), "--similarity-fn", "dot", "x"}), 2,
                "--similarity-fn is for similarity");
    check_error(sinter_cli({"similarity", "--model", dir.string(), "--similarity-fn", "l2", "x"}), 2,
                "--similarity-fn needs cosine, dot, euclidean or manhattan, not 'l2'");
    fs::remove(dir / "config_sentence_transformers.json");
}

TEST_CASE("sinter embed --pooling / --normalize / --no-normalize replace the folder's pooling") {
    const fs::path dir = model_copy("bert_tiny");
    const std::vector<std::string> texts = {"the word, on hot!", "some people were there when I called"};
    const auto tokenizer = text::Tokenizer::from_directory(dir);
    const auto batch = tokenizer.encode_batch(texts, {.max_length = 64});
    const bert::Inputs inputs{batch.batch, batch.length, batch.ids, batch.attention_mask, batch.type_ids};
    constexpr std::size_t H = 64;
    const auto embed = [&](std::vector<std::string> options) {
        std::vector<std::string> args = {"embed", "--model", dir.string()};
        args.insert(args.end(), options.begin(), options.end());
        args.insert(args.end(), texts.begin(), texts.end());
        const Run r = sinter_cli(args);
        INFO("stderr: " << r.err);
        REQUIRE(r.status == 0);
        std::vector<float> got;
        for (const auto& row : json_lines(r.out)) {
            const auto v = floats(row);
            REQUIRE(v.size() == H);
            got.insert(got.end(), v.begin(), v.end());
        }
        REQUIRE(got.size() == texts.size() * H);
        return std::pair(got, r.err);
    };
    const auto worst_difference = [](const std::vector<float>& got, const std::vector<float>& want) {
        REQUIRE(got.size() == want.size());
        double worst = 0;
        for (std::size_t i = 0; i < got.size(); ++i)
            worst = std::max(worst, std::abs(double(got[i]) - want[i]) / std::max(1.0, std::abs(double(want[i]))));
        return worst;
    };

    // Both given: [CLS], not normalised, is the last hidden state at position 0, as it is.
    const auto hidden = bert::Encoder<bert::tiny, float, host_space>::load(dir, io::BertHead::none)
                            .forward(inputs)
                            .last_hidden_state;
    std::vector<float> first_tokens;
    for (std::size_t b = 0; b < texts.size(); ++b) {
        const auto row = hidden.begin() + std::ptrdiff_t(b * std::size_t(batch.length) * H);
        first_tokens.insert(first_tokens.end(), row, row + std::ptrdiff_t(H));
    }
    const auto [cls, cls_err] = embed({"--pooling", "cls", "--no-normalize"});
    CHECK(cls_err.find("sentence embeddings: cls pooling, not normalised (--pooling and --no-normalize)") !=
          std::string::npos);
    MESSAGE("--pooling cls --no-normalize against the first hidden states: worst "
            << worst_difference(cls, first_tokens));
    CHECK(worst_difference(cls, first_tokens) <= 1e-5);

    // One given: the other from the folder (here none: normalised). Max pooling, unit length.
    const auto [max, max_err] = embed({"--pooling=max"});
    CHECK(max_err.find("max pooling, L2-normalised (--pooling; the rest: no modules.json: the default)") !=
          std::string::npos);
    const auto want_max = bert::Encoder<bert::tiny, float, host_space>::load(
                              dir, io::BertHead::none, io::SentenceEmbedding{.pooling = io::Pooling::max})
                              .forward(inputs)
                              .sentence_embedding;
    CHECK(worst_difference(max, want_max) <= 1e-5);
    for (std::size_t b = 0; b < texts.size(); ++b) {
        double norm = 0;
        for (std::size_t h = 0; h < H; ++h) norm += double(max[b * H + h]) * max[b * H + h];
        CHECK(std::sqrt(norm) == doctest::Approx(1.0).epsilon(1e-5));
    }
    const auto [mean, mean_err] = embed({"--no-normalize"});
    CHECK(mean_err.find("mean pooling, not normalised (--no-normalize; the rest: no modules.json") !=
          std::string::npos);
    const auto want_mean = bert::Encoder<bert::tiny, float, host_space>::load(
                               dir, io::BertHead::none, io::SentenceEmbedding{.normalize = false})
                               .forward(inputs)
                               .sentence_embedding;
    CHECK(worst_difference(mean, want_mean) <= 1e-5);
    CHECK(worst_difference(mean, max) > 1e-2);  // the options did change something

    // A modules.json sinter cannot compute: refused for one option, not read given both.
    const fs::path dense = scratch() / "tiny_dense";
    fs::copy(dir, dense, fs::copy_options::recursive | fs::copy_options::skip_existing);
    std::ofstream(dense / "modules.json")
        << R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},)"
           R"({"idx":1,"name":"1","path":"1_Dense","type":"sentence_transformers.models.Dense"}])";
    check_error(sinter_cli({"embed", "--model", dense.string(), "--pooling", "cls", "hello"}), 1,
                "given both --pooling and --normalize or --no-normalize, sinter does not read it");
    const Run both = sinter_cli({"embed", "--model", dense.string(), "--pooling", "cls", "--normalize", "hello"});
    INFO("stderr: " << both.err);
    CHECK(both.status == 0);

    check_error(sinter_cli({"embed", "--model", dir.string(), "--pooling", "median", "hello"}), 2,
                "--pooling needs mean, cls, max or mean_sqrt_len, not 'median'");
    check_error(sinter_cli({"embed", "--model", dir.string(), "--normalize=yes", "hello"}), 2,
                "--normalize takes no value");
    check_error(sinter_cli({"classify", "--model", dir.string(), "--no-normalize", "hello"}), 2,
                "--no-normalize is for embed only");
}

TEST_CASE("sinter classify: labels and softmax scores; refused without a classifier") {
    const Run r = sinter_cli({"classify", "--model", model_copy("bert_tiny_cls").string(), "the word", "hot water"});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    const auto rows = json_lines(r.out);
    REQUIRE(rows.size() == 2);
    for (const auto& row : rows) {
        const std::string& label = row.at("label").as_string();
        double sum = 0, best = -1;
        std::string best_label;
        for (const auto& [name, score] : row.at("scores").as_object()) {
            sum += score.as_double();
            if (score.as_double() > best) best = score.as_double(), best_label = name;
        }
        CHECK(row.at("scores").as_object().size() == 3);
        CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
        CHECK(label == best_label);
    }
    check_error(sinter_cli({"classify", "--model", model_copy("bert_tiny").string(), "the word"}), 1,
                "has no sequence-classification head");
}

TEST_CASE("sinter classify --pairs on a cross-encoder matches transformers' pipeline") {
    const fs::path dir = model_copy("bert_tiny_rerank");
    const io::Json golden = io::read_json_file(dir / "golden.json");
    const auto& want_scores = golden.at("scores").as_array();
    const auto& want_logits = golden.at("logits").as_array();
    const fs::path pairs = dir / "pairs.tsv";

    // The pairs' ids as transformers' tokenizer has them: [CLS] query [SEP] passage [SEP].
    const Run ids = sinter_cli({"tokenize", "--pairs", "--model", dir.string()}, pairs);
    INFO("stderr: " << ids.err);
    REQUIRE(ids.status == 0);
    const auto id_rows = json_lines(ids.out);
    REQUIRE(id_rows.size() == want_scores.size());
    for (std::size_t i = 0; i < id_rows.size(); ++i) {
        const auto& got = id_rows[i].as_array();
        const auto& want = golden.at("input_ids").as_array()[i].as_array();
        REQUIRE(got.size() == want.size());
        for (std::size_t k = 0; k < got.size(); ++k) CHECK(got[k].as_int() == want[k].as_int());
    }

    // One label: the pipeline's sigmoid; with --scores none, the logits.
    const Run r = sinter_cli({"classify", "--pairs", "--model", dir.string(), "--batch-size", "4"}, pairs);
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("sinter: scores: sigmoid (config.json: one label)") != std::string::npos);
    const Run raw = sinter_cli({"classify", "--pairs", "--scores", "none", "--model", dir.string()}, pairs);
    REQUIRE(raw.status == 0);
    CHECK(raw.err.find("sinter: scores: none (--scores)") != std::string::npos);
    const auto rows = json_lines(r.out), raw_rows = json_lines(raw.out);
    REQUIRE(rows.size() == want_scores.size());
    REQUIRE(raw_rows.size() == want_scores.size());
    double worst_score = 0, worst_logit = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        CHECK(rows[i].at("label").as_string() == "LABEL_0");
        worst_score = std::max(worst_score, std::abs(rows[i].at("scores").at("LABEL_0").as_double() -
                                                     want_scores[i].as_double()));
        const double logit = want_logits[i].as_double();  // relative to the larger of 1 and |logit|
        worst_logit = std::max(worst_logit, std::abs(raw_rows[i].at("scores").at("LABEL_0").as_double() - logit) /
                                                std::max(1.0, std::abs(logit)));
    }
    MESSAGE("cross-encoder through the CLI against transformers' pipeline: worst score error " << worst_score
            << ", worst logit error " << worst_logit);
    CHECK(worst_logit <= 1e-4);   // the host f32 path's tolerance against transformers
    CHECK(worst_score <= 2.5e-5);  // a sigmoid's slope is at most 1/4

    // The passage's token types matter: the same ids with every type 0 score otherwise.
    const auto tokenizer = text::Tokenizer::from_directory(dir);
    const auto encoder = bert::Encoder<bert::tiny, float, host_space>::load(dir);
    CHECK(encoder.score_function() == io::ScoreFunction::sigmoid);
    const auto e = tokenizer.encode("what is hot water", "Water is hot when you heat it.");
    const index_t n = index_t(e.size());
    const auto typed = encoder.forward({1, n, e.ids, e.attention_mask, e.type_ids}).logits;
    const auto untyped = encoder.forward({1, n, e.ids, e.attention_mask, {}}).logits;
    CHECK(std::abs(double(typed[0]) - want_logits[0].as_double()) <= 1e-4);
    MESSAGE("the first pair's logit with its token types " << typed[0] << ", all types 0 " << untyped[0]);
    CHECK(std::abs(double(untyped[0]) - want_logits[0].as_double()) > 1);

    // Lines that are not pairs, and the options where they do not belong.
    const fs::path bad = scratch() / "not_pairs.tsv";
    std::ofstream(bad) << "what\tis\nhot water\n";
    check_error(sinter_cli({"classify", "--pairs", "--model", dir.string()}, bad), 1,
                "line 2 has no tab: --pairs reads two texts a line, separated by one tab");
    check_error(sinter_cli({"classify", "--pairs", "--model", dir.string(), "a\tb\tc"}), 1,
                "line 1 has more than one tab");
    check_error(sinter_cli({"embed", "--pairs", "--model", dir.string(), "a\tb"}), 2,
                "--pairs is for classify and tokenize");
    check_error(sinter_cli({"embed", "--scores", "none", "--model", dir.string(), "a"}), 2,
                "--scores is for classify and rerank");
    check_error(sinter_cli({"classify", "--scores", "exp", "--model", dir.string(), "a"}), 2,
                "--scores needs softmax, sigmoid, tanh or none, not 'exp'");
    check_error(sinter_cli({"classify", "--pairs", "--max-length", "2", "--model", dir.string(), "a\tb"}), 2,
                "--max-length 2 is under the 3 special tokens of a pair");
}

// The same cross-encoder as sentence-transformers 6 saves it with an Identity activation
// (golden/bert_tiny_rerank/st6): the activation in config_sentence_transformers.json, not in
// config.json, and a modules.json of the Transformer alone.
TEST_CASE("sinter classify / rerank on a cross-encoder sentence-transformers 6 saved: its activation, its scores") {
    const fs::path dir = scratch() / "rerank_st6";
    fs::copy(golden("bert_tiny_rerank"), dir, fs::copy_options::recursive);
    for (const char* f : {"config_sentence_transformers.json", "modules.json", "sentence_bert_config.json"})
        fs::copy_file(dir / "st6" / f, dir / f);
    const io::Json golden_json = io::read_json_file(dir / "golden.json");
    const auto& want_logits = golden_json.at("logits").as_array();
    const Run r = sinter_cli({"classify", "--pairs", "--model", dir.string()}, dir / "pairs.tsv");
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("sinter: scores: none (config_sentence_transformers.json's cross-encoder activation)") !=
          std::string::npos);
    const auto rows = json_lines(r.out);
    REQUIRE(rows.size() == want_logits.size());
    double worst = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const double logit = want_logits[i].as_double();
        worst = std::max(worst, std::abs(rows[i].at("scores").at("LABEL_0").as_double() - logit) /
                                    std::max(1.0, std::abs(logit)));
    }
    MESSAGE("scores (the logits, as CrossEncoder.predict gives them with Identity): worst error " << worst);
    CHECK(worst <= 1e-4);
    CHECK(bert::Encoder<bert::tiny, float, host_space>::load(dir).score_function() == io::ScoreFunction::none);
    // It embeds too (no Pooling module: the default mean), and says so.
    const Run e = sinter_cli({"embed", "--model", dir.string(), "hello"});
    REQUIRE(e.status == 0);
    CHECK(e.err.find("mean pooling, L2-normalised (modules.json has no Pooling: the default)") != std::string::npos);
    // An activation sinter does not compute is refused, naming it and the file.
    std::ofstream(dir / "config_sentence_transformers.json") << R"({"activation_fn": "torch.nn.modules.activation.GELU"})";
    check_error(sinter_cli({"classify", "--pairs", "--model", dir.string(), "a\tb"}), 1,
                "config_sentence_transformers.json: 'activation_fn' is torch.nn.modules.activation.GELU, an activation "
                "sinter does not compute");
}

// The same cross-encoder with prompts (golden/bert_tiny_rerank/st6_prompt): sentence-transformers 6
// puts the prompt before the first text of each pair (the query), the default one unless told
// otherwise; tools/make_golden.py wrote what CrossEncoder.predict and .rank then give.
TEST_CASE("sinter classify / rerank / tokenize with a cross-encoder's prompts match sentence-transformers 6") {
    const fs::path dir = scratch() / "rerank_st6_prompt";
    fs::copy(golden("bert_tiny_rerank"), dir, fs::copy_options::recursive);
    for (const char* f : {"modules.json", "sentence_bert_config.json"}) fs::copy_file(dir / "st6" / f, dir / f);
    fs::copy_file(dir / "st6_prompt" / "config_sentence_transformers.json", dir / "config_sentence_transformers.json");
    const io::Json g = io::read_json_file(dir / "st6_prompt" / "golden.json");
    const auto relative_error = [](double got, double want) { return std::abs(got - want) / std::max(1.0, std::abs(want)); };
    const auto check_scores = [&](std::vector<std::string> args, const char* key, const std::string& note) {
        args.insert(args.begin(), {"classify", "--pairs", "--model", dir.string()});
        const Run r = sinter_cli(args, dir / "pairs.tsv");
        INFO("stderr: " << r.err);
        REQUIRE(r.status == 0);
        if (note.empty()) CHECK(r.err.find("sinter: prompt") == std::string::npos);
        else CHECK(r.err.find(note) != std::string::npos);
        const auto rows = json_lines(r.out);
        const auto& want = g.at(key).as_array();
        REQUIRE(rows.size() == want.size());
        double worst = 0;
        for (std::size_t i = 0; i < rows.size(); ++i)
            worst = std::max(worst, relative_error(rows[i].at("scores").at("LABEL_0").as_double(), want[i].as_double()));
        MESSAGE(std::string(key) << " (CrossEncoder.predict): worst error " << worst);
        CHECK(worst <= 1e-4);
    };
    check_scores({}, "predict_default",
                 R"(sinter: prompt "what is the answer to: " before the first text of every pair )"
                 R"((config_sentence_transformers.json's default_prompt_name query))");
    check_scores({"--prompt-name", "judge"}, "predict_judge", "before the first text of every pair (--prompt-name judge)");
    check_scores({"--prompt", "Q: "}, "predict_text", R"(sinter: prompt "Q: " before the first text of every pair (--prompt))");
    check_scores({"--prompt", ""}, "predict_none", "");  // the empty prompt: none at all

    // rerank: the prompt goes before the query; the order and scores are CrossEncoder.rank's.
    std::vector<std::string> args = {"rerank", "--model", dir.string(), "--query", g.at("rank_query").as_string()};
    for (const auto& line : lines_of(read_file(dir / "pairs.tsv"))) args.push_back(line.substr(line.find('\t') + 1));
    const Run r = sinter_cli(args);
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("before the query (config_sentence_transformers.json's default_prompt_name query)") != std::string::npos);
    const auto rows = json_lines(r.out);
    const auto& ranked = g.at("rank_default").as_array();
    REQUIRE(rows.size() == ranked.size());
    for (std::size_t k = 0; k < rows.size(); ++k) {
        CAPTURE(k);
        CHECK(rows[k].at("index").as_int() == ranked[k].as_array()[0].as_int());
        CHECK(relative_error(rows[k].at("score").as_double(), ranked[k].as_array()[1].as_double()) <= 1e-4);
    }

    // tokenize --pairs shows what classify feeds the model: the prompt's pieces before the query's.
    const Run t = sinter_cli({"tokenize", "--pairs", "--model", dir.string()}, dir / "pairs.tsv");
    REQUIRE(t.status == 0);
    const auto ids = json_lines(t.out);
    const auto& want_ids = g.at("input_ids_default").as_array();
    REQUIRE(ids.size() == want_ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        CAPTURE(i);
        const auto& got = ids[i].as_array();
        const auto& want = want_ids[i].as_array();
        REQUIRE(got.size() == want.size());
        for (std::size_t j = 0; j < got.size(); ++j) CHECK(got[j].as_int() == want[j].as_int());
    }
}

// A checkpoint whose tokenizer adds a token the model has no embedding for (fine-tuned without
// resizing them): the line is named before the model loads; tokenize still shows the id.
TEST_CASE("sinter classify: an added token past the model's vocabulary names its line") {
    const fs::path dir = scratch() / "added_past_vocab";
    fs::copy(golden("bert_tiny_rerank"), dir, fs::copy_options::recursive);
    std::ofstream(dir / "tokenizer_config.json")
        << R"({"added_tokens_decoder": {"512": {"content": "newtok", "normalized": true, "special": false}}})";
    const Run ok = sinter_cli({"classify", "--pairs", "--model", dir.string(), "what is hot water\tWater is hot."});
    INFO("stderr: " << ok.err);
    CHECK(ok.status == 0);
    check_error(sinter_cli({"classify", "--pairs", "--model", dir.string(), "a\tb", "a NEWTOK\tb"}), 1,
                "line 2 has the added token \"newtok\" (id 512), past config.json's vocab_size 512: the model has no "
                "embedding for it");
    const Run t = sinter_cli({"tokenize", "--model", dir.string(), "newtok"});
    REQUIRE(t.status == 0);
    CHECK(t.out == "[2,512,3]\n");
}

TEST_CASE("sinter rerank: passages ordered by a cross-encoder's score against the query") {
    const fs::path dir = model_copy("bert_tiny_rerank");
    const io::Json expected = io::read_json_file(dir / "golden.json");
    // Golden pairs 0 and 1 share the query; given in the other order, pair 0's passage comes first.
    const double score0 = expected.at("scores").as_array()[0].as_double();
    const double score1 = expected.at("scores").as_array()[1].as_double();
    REQUIRE(score0 > score1 + 1e-3);
    const std::string passage0 = "Water is hot when you heat it.", passage1 = "The people were there when I called.";
    const Run r = sinter_cli({"rerank", "--model", dir.string(), "--query", "what is hot water", passage1, passage0});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("reranked 2 lines") != std::string::npos);
    const auto rows = json_lines(r.out);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].at("index").as_int() == 1);
    CHECK(rows[0].at("text").as_string() == passage0);
    CHECK(std::abs(rows[0].at("score").as_double() - score0) <= 2.5e-5);
    CHECK(rows[1].at("index").as_int() == 0);
    CHECK(rows[1].at("text").as_string() == passage1);
    CHECK(std::abs(rows[1].at("score").as_double() - score1) <= 2.5e-5);

    check_error(sinter_cli({"rerank", "--model", dir.string(), "a passage"}), 2, "rerank needs --query TEXT");
    check_error(sinter_cli({"classify", "--model", dir.string(), "--query", "q", "a"}), 2,
                "--query is for rerank only");
    check_error(sinter_cli({"rerank", "--model", model_copy("bert_tiny_cls").string(), "--query", "q", "a"}), 1,
                "classifier has 3 labels: rerank needs a cross-encoder with one");
}

TEST_CASE("sinter classify: a cross-encoder's activation in config.json decides its scores") {
    const io::Json expected = io::read_json_file(model_copy("bert_tiny_rerank") / "golden.json");
    const auto& logits = expected.at("logits").as_array();
    // The folder with `extra` added to its config.json.
    const auto variant = [&](const std::string& name, const std::string& extra) {
        const fs::path dir = scratch() / name;
        fs::copy(model_copy("bert_tiny_rerank"), dir, fs::copy_options::recursive | fs::copy_options::skip_existing);
        std::string config = read_file(golden("bert_tiny_rerank") / "config.json");
        config.insert(config.rfind('}'), "," + extra + "\n");
        std::ofstream(dir / "config.json") << config;
        return dir;
    };
    struct Case {
        const char* name;
        std::string extra;
        double (*want)(double);
        const char* function;
    };
    const Case cases[] = {
        {"ce_identity", R"("sbert_ce_default_activation_function": "torch.nn.modules.linear.Identity")",
         [](double z) { return z; }, "none"},
        {"ce_tanh_v4",
         R"("sbert_ce_default_activation_function": "torch.nn.modules.linear.Identity", )"
         R"("sentence_transformers": {"activation_fn": "torch.nn.modules.activation.Tanh", "version": "4.1.0"})",
         [](double z) { return std::tanh(z); }, "tanh"},
    };
    for (const Case& c : cases) {
        INFO(c.name);
        const fs::path dir = variant(c.name, c.extra);
        const Run r = sinter_cli({"classify", "--pairs", "--model", dir.string()}, dir / "pairs.tsv");
        INFO("stderr: " << r.err);
        REQUIRE(r.status == 0);
        CHECK(r.err.find(std::string("scores: ") + c.function + " (config.json's cross-encoder activation)") !=
              std::string::npos);
        const auto rows = json_lines(r.out);
        REQUIRE(rows.size() == logits.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const double want = c.want(logits[i].as_double());
            const double got = rows[i].at("scores").at("LABEL_0").as_double();
            CHECK(std::abs(got - want) <= 1e-4 * std::max(1.0, std::abs(want)));
        }
    }
    const fs::path softmax =
        variant("ce_softmax", R"("sentence_transformers": {"activation_fn": "torch.nn.modules.activation.Softmax"})");
    check_error(sinter_cli({"classify", "--pairs", "--model", softmax.string(), "a\tb"}), 1,
                "'sentence_transformers.activation_fn' is torch.nn.modules.activation.Softmax");
}

TEST_CASE("sinter classify: a multi-label problem_type scores each label by a sigmoid") {
    const fs::path dir = scratch() / "tiny_cls_multi_label";
    fs::copy(model_copy("bert_tiny_cls"), dir, fs::copy_options::recursive | fs::copy_options::skip_existing);
    std::string config = read_file(dir / "config.json");
    const auto brace = config.rfind('}');
    REQUIRE(brace != std::string::npos);
    config.insert(brace, ",\"problem_type\": \"multi_label_classification\"\n");
    std::ofstream(dir / "config.json") << config;
    const std::vector<std::string> texts = {"the word", "hot water"};
    const auto encoder = bert::Encoder<bert::tiny, float, host_space>::load(dir);
    CHECK(encoder.score_function() == io::ScoreFunction::sigmoid);
    const auto batch = text::Tokenizer::from_directory(dir).encode_batch(texts);
    const auto logits =
        encoder.forward({batch.batch, batch.length, batch.ids, batch.attention_mask, batch.type_ids}).logits;

    std::vector<std::string> args = {"classify", "--model", dir.string()};
    args.insert(args.end(), texts.begin(), texts.end());
    const Run r = sinter_cli(args);
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("scores: sigmoid (config.json's problem_type multi_label_classification)") != std::string::npos);
    const auto rows = json_lines(r.out);
    REQUIRE(rows.size() == 2);
    const auto& labels = encoder.labels();
    double sum0 = 0;
    for (std::size_t i = 0; i < rows.size(); ++i)
        for (std::size_t k = 0; k < labels.size(); ++k) {
            const double want = 1 / (1 + std::exp(-double(logits[i * labels.size() + k])));
            CHECK(rows[i].at("scores").at(labels[k]).as_double() == doctest::Approx(want).epsilon(1e-5));
            if (i == 0) sum0 += want;
        }
    CHECK(std::abs(sum0 - 1) > 1e-3);  // not a softmax
}

TEST_CASE("sinter embed on all-MiniLM-L6-v2 matches sentence-transformers (cosine >= 0.9999)") {
    const fs::path dir = test::require_minilm();
    const test::MinilmGolden g;
    const Run r = sinter_cli({"embed", "--model", dir.string()}, test::minilm_golden_dir() / "sentences.txt");
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    MESSAGE(r.err);
    const double worst = worst_cosine(r.out, g.embedding, 384);
    MESSAGE("worst cosine through the CLI: " << worst);
    CHECK(worst >= 0.9999);
}

// all-MiniLM-L6-v2 with the prompt files sentence-transformers 6.2 saved for it (golden/minilm/prompt:
// prompts "query" (the default), "instruct" and "none"; its Pooling with include_prompt false).
fs::path minilm_with_prompts(const std::string& name, bool include_prompt = false) {
    const fs::path model = test::require_minilm(), prompts = test::minilm_golden_dir() / "prompt";
    const fs::path dir = scratch() / name;
    fs::create_directories(dir / "1_Pooling");
    for (const auto& e : fs::directory_iterator(model))
        if (e.is_regular_file() && e.path().filename() != "modules.json" &&
            e.path().filename() != "config_sentence_transformers.json")
            fs::create_symlink(e.path(), dir / e.path().filename());
    for (const char* f : {"modules.json", "config_sentence_transformers.json", "1_Pooling/config.json"})
        fs::copy_file(prompts / f, dir / f);
    if (include_prompt) {
        std::ofstream(dir / "1_Pooling" / "config.json")
            << R"({"embedding_dimension": 384, "pooling_mode": "mean", "include_prompt": true})";
    }
    return dir;
}

TEST_CASE("sinter embed with prompts on all-MiniLM-L6-v2 matches sentence-transformers 6.2") {
    const fs::path golden_dir = test::minilm_golden_dir() / "prompt";
    const io::SafetensorsFile g(golden_dir / "golden.safetensors");
    const fs::path sentences = golden_dir / "sentences.txt";
    const fs::path dir = minilm_with_prompts("minilm_prompts");
    constexpr index_t H = 384;
    const auto check_against = [&](const std::vector<std::string>& args, const char* tensor, const fs::path& model,
                                   const std::string& said) {
        std::vector<std::string> all = {"embed", "--model", model.string()};
        all.insert(all.end(), args.begin(), args.end());
        const Run r = sinter_cli(all, sentences);
        INFO("stderr: " << r.err);
        REQUIRE(r.status == 0);
        CHECK(r.err.find(said) != std::string::npos);
        const double worst = worst_cosine(r.out, g.read<float>(tensor), H);
        MESSAGE(std::string(tensor) << " (" << (args.empty() ? "the default prompt" : args[0])
                                    << "): worst 1 - cosine " << 1 - worst);
        CHECK(worst >= 0.9999);
    };
    // The folder's default prompt, its tokens left out of the mean.
    const std::string query_length = g.metadata().at("prompt_length_query");
    CHECK(query_length == "3");  // [CLS] query :
    check_against({}, "sentence_embedding_query", dir,
                  "mean pooling, the first 3 tokens ([CLS] and the prompt) left out");
    check_against({}, "sentence_embedding_query", dir,
                  R"(prompt "query: " before every line (config_sentence_transformers.json's default_prompt_name query))");
    check_against({"--prompt", "query: "}, "sentence_embedding_query", dir, "(--prompt)");
    check_against({"--prompt-name", "instruct"}, "sentence_embedding_instruct", dir,
                  "the first " + g.metadata().at("prompt_length_instruct") + " tokens ([CLS] and the prompt) left out");
    // The prompt pooled with the text (include_prompt true).
    check_against({}, "sentence_embedding_included", minilm_with_prompts("minilm_prompts_included", true),
                  "mean pooling, the prompt's tokens included");

    // tokenize shows what embed feeds the model: the prompt's pieces, then the line's.
    const Run t = sinter_cli({"tokenize", "--model", dir.string()}, sentences);
    REQUIRE(t.status == 0);
    const auto ids = test::read_ints(g, "input_ids");
    const index_t S = g.at("input_ids").shape[1];
    const auto rows = json_lines(t.out);
    REQUIRE(index_t(rows.size()) == g.at("input_ids").shape[0]);
    for (std::size_t b = 0; b < rows.size(); ++b) {
        const auto& row = rows[b].as_array();
        CAPTURE(b);
        REQUIRE(index_t(row.size()) <= S);
        for (std::size_t i = 0; i < row.size(); ++i) CHECK(row[i].as_int() == ids[b * std::size_t(S) + i]);
        if (index_t(row.size()) < S) CHECK(ids[b * std::size_t(S) + row.size()] == 0);  // then padding
    }

    // "none" is the empty prompt: the embeddings then are the plain ones (mean over every token).
    const Run none = sinter_cli({"embed", "--model", dir.string(), "--prompt-name", "none", "A man is eating food."});
    REQUIRE(none.status == 0);
    CHECK(none.err.find("before every line") == std::string::npos);
    const test::MinilmGolden plain;
    const auto v = floats(json_lines(none.out).at(0));
    CHECK(test::cosine(v.data(), plain.embedding.data(), H) >= 0.9999);

    check_error(sinter_cli({"embed", "--model", dir.string(), "--prompt-name", "passage", "x"}), 1,
                "config_sentence_transformers.json: no prompt is named 'passage' (the prompts: 'query', 'document', "
                "'instruct', 'none')");
    check_error(sinter_cli({"embed", "--model", dir.string(), "--prompt", "a", "--prompt-name", "query", "x"}), 2,
                "--prompt and --prompt-name: give one");
}

// all-MiniLM-L6-v2 as sentence-transformers 6.2 saves it: the weights, config.json and
// tokenizer.json, no vocab.txt, and its small files (golden/minilm/saved): the 256-token limit in
// tokenizer_config.json, version 6's module names and Pooling keys.
TEST_CASE("sinter embed on a folder sentence-transformers 6 saved (no vocab.txt) matches sentence-transformers") {
    const fs::path model = test::require_minilm(), saved = test::minilm_golden_dir() / "saved";
    const fs::path dir = scratch() / "minilm_saved_by_st6";
    fs::create_directories(dir / "1_Pooling");
    fs::create_directories(dir / "2_Normalize");
    for (const char* f : {"model.safetensors", "config.json", "tokenizer.json"}) fs::create_symlink(model / f, dir / f);
    for (const char* f : {"sentence_bert_config.json", "tokenizer_config.json", "config_sentence_transformers.json",
                          "modules.json", "1_Pooling/config.json", "2_Normalize/config.json"})
        fs::copy_file(saved / f, dir / f);
    REQUIRE(!fs::exists(dir / "vocab.txt"));
    const test::MinilmGolden g;
    const Run r = sinter_cli({"embed", "--model", dir.string()}, test::minilm_golden_dir() / "sentences.txt");
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("inputs truncated to 256 tokens (tokenizer_config.json's model_max_length)") != std::string::npos);
    CHECK(r.err.find("mean pooling, L2-normalised (modules.json)") != std::string::npos);
    constexpr index_t H = 384;
    const double worst = worst_cosine(r.out, g.embedding, H);
    MESSAGE("saved by sentence-transformers 6: worst 1 - cosine " << 1 - worst);
    CHECK(worst >= 0.9999);  // the 371-token sentence only if truncated at 256, not at 512
    // --max-length 512 shows the limit matters: the long sentence's embedding moves.
    const Run longer = sinter_cli({"embed", "--model", dir.string(), "--max-length", "512"},
                                  test::minilm_golden_dir() / "sentences.txt");
    REQUIRE(longer.status == 0);
    const auto last = floats(json_lines(longer.out).back());
    CHECK(test::cosine(last.data(), g.embedding.data() + (g.batch - 1) * H, H) < 0.999);
}

// sentence_bert_config.json's do_lower_case: sentence-transformers lowercases the text before a
// cased tokenizer (accents stay). The ids are what sentence-transformers 6.2 gave for this
// folder: "hello", then [UNK] for the accented words, which the uncased vocabulary lacks.
TEST_CASE("sinter tokenize: sentence_bert_config.json's do_lower_case lowercases before a cased tokenizer") {
    const fs::path model = test::require_minilm();
    const fs::path dir = scratch() / "minilm_lowercased";
    fs::create_directories(dir);
    for (const char* f : {"vocab.txt", "config.json"}) fs::create_symlink(model / f, dir / f);
    std::ofstream(dir / "tokenizer_config.json") << R"({"do_lower_case": false})";
    const std::string text = "HELLO Héllo Wörld ÅNGSTRÖM";
    const Run cased = sinter_cli({"tokenize", "--model", dir.string(), text});
    REQUIRE(cased.status == 0);
    CHECK(cased.out == "[101,100,100,100,100,102]\n");  // cased: "HELLO" is not in the vocabulary
    std::ofstream(dir / "sentence_bert_config.json") << R"({"max_seq_length": 128, "do_lower_case": true})";
    const Run lowered = sinter_cli({"tokenize", "--model", dir.string(), text});
    INFO("stderr: " << lowered.err);
    REQUIRE(lowered.status == 0);
    CHECK(lowered.out == "[101,7592,100,100,100,102]\n");
    CHECK(lowered.err.find("inputs truncated to 128 tokens (sentence_bert_config.json's max_seq_length)") !=
          std::string::npos);
}

#if defined(SINTER_CLI_FAKE_DEVICE)
// The same tool with its GPU path compiled in (as sinter-cuda is), run on the fake CUDA device
// (tests/simt): bert::Session in f16 behind the CLI's batching, against the host build's f32.
TEST_CASE("sinter with its GPU path, on the fake device: f16 embeddings and labels as the host's") {
    const fs::path dir = model_copy("bert_tiny");
    std::vector<std::string> args = {"embed", "--model", dir.string(), "--batch-size", "2", "the word, on hot!",
                                     "what", "some people were there when I called"};
    const Run gpu = run_tool(SINTER_CLI_FAKE_DEVICE, args), host = sinter_cli(args);
    INFO("stderr (device): " << gpu.err);
    REQUIRE(gpu.status == 0);
    REQUIRE(host.status == 0);
    CHECK(gpu.err.find("running on the GPU 0, f16 (sinter SIMT emulator") != std::string::npos);
    const auto got = json_lines(gpu.out), want = json_lines(host.out);
    REQUIRE(got.size() == 3);
    REQUIRE(want.size() == 3);
    double worst = 1;
    for (std::size_t i = 0; i < got.size(); ++i) {
        const auto a = floats(got[i]), b = floats(want[i]);
        REQUIRE(a.size() == b.size());
        worst = std::min(worst, test::cosine(a.data(), b.data(), index_t(a.size())));
    }
    MESSAGE("worst cosine, device f16 vs host f32, through the CLI: " << worst);
    CHECK(worst >= 0.999);

    // A pooling given on the command line reaches the device session too: [CLS], not normalised.
    std::vector<std::string> cls_args = args;
    cls_args.insert(cls_args.begin() + 1, {"--pooling", "cls", "--no-normalize"});
    const Run gpu_cls = run_tool(SINTER_CLI_FAKE_DEVICE, cls_args), host_cls = sinter_cli(cls_args);
    INFO("stderr (device, cls): " << gpu_cls.err);
    REQUIRE(gpu_cls.status == 0);
    REQUIRE(host_cls.status == 0);
    const auto got_cls = json_lines(gpu_cls.out), want_cls = json_lines(host_cls.out);
    REQUIRE(got_cls.size() == 3);
    REQUIRE(want_cls.size() == 3);
    double worst_cls = 1, norm_ratio = 1;
    for (std::size_t i = 0; i < got_cls.size(); ++i) {
        const auto a = floats(got_cls[i]), b = floats(want_cls[i]);
        REQUIRE(a.size() == b.size());
        worst_cls = std::min(worst_cls, test::cosine(a.data(), b.data(), index_t(a.size())));
        double na = 0, nb = 0;
        for (std::size_t h = 0; h < a.size(); ++h) na += double(a[h]) * a[h], nb += double(b[h]) * b[h];
        norm_ratio = std::max(norm_ratio, std::max(na / nb, nb / na));
    }
    MESSAGE("--pooling cls --no-normalize, device f16 vs host f32: worst cosine " << worst_cls
            << ", worst squared-norm ratio " << norm_ratio);
    CHECK(worst_cls >= 0.999);
    CHECK(norm_ratio <= 1.01);

    // A prompt left out of the pooling (include_prompt false) on the device path as on the host's.
    const fs::path prompted = scratch() / "tiny_prompt_excluded";
    fs::create_directories(prompted / "1_Pooling");
    for (const char* f : {"config.json", "model.safetensors", "vocab.txt"}) fs::copy_file(dir / f, prompted / f);
    fs::copy_file(test::minilm_golden_dir() / "prompt" / "modules.json", prompted / "modules.json");
    const auto pooling_config = [&](bool include) {
        std::ofstream(prompted / "1_Pooling" / "config.json")
            << R"({"embedding_dimension": 64, "pooling_mode": "mean", "include_prompt": )" << (include ? "true}" : "false}");
    };
    const std::vector<std::string> prompt_args = {"embed", "--model", prompted.string(), "--prompt", "the word ",
                                                  "some people were there when I called", "what"};
    pooling_config(false);
    const Run gpu_prompt = run_tool(SINTER_CLI_FAKE_DEVICE, prompt_args), host_prompt = sinter_cli(prompt_args);
    pooling_config(true);
    const Run host_included = sinter_cli(prompt_args);
    INFO("stderr (device, prompt): " << gpu_prompt.err);
    REQUIRE(gpu_prompt.status == 0);
    REQUIRE(host_prompt.status == 0);
    REQUIRE(host_included.status == 0);
    CHECK(gpu_prompt.err.find("the first 3 tokens ([CLS] and the prompt) left out") != std::string::npos);
    const auto p_gpu = json_lines(gpu_prompt.out), p_host = json_lines(host_prompt.out),
               p_incl = json_lines(host_included.out);
    REQUIRE((p_gpu.size() == 2 && p_host.size() == 2 && p_incl.size() == 2));
    double worst_prompt = 1, closest_included = 0;
    for (std::size_t i = 0; i < 2; ++i) {
        const auto a = floats(p_gpu[i]), b = floats(p_host[i]), c = floats(p_incl[i]);
        worst_prompt = std::min(worst_prompt, test::cosine(a.data(), b.data(), index_t(a.size())));
        closest_included = std::max(closest_included, test::cosine(a.data(), c.data(), index_t(a.size())));
    }
    MESSAGE("prompt left out, device f16 vs host f32: worst cosine " << worst_prompt
            << "; vs the host with the prompt pooled in: at best " << closest_included);
    CHECK(worst_prompt >= 0.999);
    CHECK(closest_included < 0.998);  // the device did leave the prompt out

    args.insert(args.begin() + 1, "--host");  // forced onto the host: the host's numbers exactly
    const Run forced = run_tool(SINTER_CLI_FAKE_DEVICE, args);
    CHECK(forced.err.find("running on the host, f32 (--host)") != std::string::npos);
    CHECK(forced.out == host.out);

    const std::vector<std::string> classify = {"classify", "--model", model_copy("bert_tiny_cls").string(),
                                               "the word", "hot water", "some people"};
    const Run labels = run_tool(SINTER_CLI_FAKE_DEVICE, classify), host_labels = sinter_cli(classify);
    INFO("stderr (device, classify): " << labels.err);
    REQUIRE(labels.status == 0);
    const auto l = json_lines(labels.out), hl = json_lines(host_labels.out);
    REQUIRE(l.size() == 3);
    REQUIRE(hl.size() == 3);
    for (std::size_t i = 0; i < l.size(); ++i) {
        for (const auto& [name, score] : l[i].at("scores").as_object())
            CHECK(score.as_double() == doctest::Approx(hl[i].at("scores").at(name).as_double()).epsilon(1e-2));
        CHECK(l[i].at("label").as_string() == hl[i].at("label").as_string());
    }

    // Pairs reach the device session with their token types: the cross-encoder's logits as the host's.
    const fs::path rerank = model_copy("bert_tiny_rerank");
    const std::vector<std::string> pairs = {"classify", "--pairs", "--scores", "none", "--model", rerank.string()};
    const Run device_pairs = run_tool(SINTER_CLI_FAKE_DEVICE, pairs, rerank / "pairs.tsv"),
              host_pairs = sinter_cli(pairs, rerank / "pairs.tsv");
    INFO("stderr (device, pairs): " << device_pairs.err);
    REQUIRE(device_pairs.status == 0);
    REQUIRE(host_pairs.status == 0);
    const auto dp = json_lines(device_pairs.out), hp = json_lines(host_pairs.out);
    REQUIRE(dp.size() == 6);
    REQUIRE(hp.size() == 6);
    double worst_logit = 0;
    for (std::size_t i = 0; i < dp.size(); ++i) {
        const double host_logit = hp[i].at("scores").at("LABEL_0").as_double();
        worst_logit = std::max(worst_logit, std::abs(dp[i].at("scores").at("LABEL_0").as_double() - host_logit) /
                                                std::max(1.0, std::abs(host_logit)));
    }
    MESSAGE("cross-encoder logits, device f16 vs host f32, through the CLI: worst difference " << worst_logit
            << " (relative to the larger of 1 and |logit|)");
    CHECK(worst_logit <= 5e-2);  // f16 (the types ignored, the first logit moves by more than 1: above)
}
#endif
