// `sinter`: sentence embeddings, similarity, classification and token ids from the command line.
//
//     tools/fetch_model.sh
//     sinter similarity --model ~/.cache/sinter/models/all-MiniLM-L6-v2 "A man is eating food." "A man eats bread."
//
// Everything goes through the library's public pieces: text::Tokenizer, io::read_hf_config and
// bert::Encoder (or, in a CUDA build with a device, bert::Session: see models.hpp). Results go to
// stdout in input order; what runs where, progress and throughput go to stderr. Any error is one
// line on stderr and a non-zero exit: 2 for bad arguments, 1 for everything else.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "sinter/io/hf_config.hpp"
#include "sinter/io/json.hpp"
#include "sinter/io/sentence_transformers.hpp"
#include "sinter/io/sentence_transformers_config.hpp"
#include "sinter/io/transformer_settings.hpp"
#include "sinter/nn/bert/scores.hpp"
#include "sinter/text/tokenizer.hpp"
#include "args.hpp"
#include "batches.hpp"
#include "models.hpp"
#include "output.hpp"
#include "progress.hpp"

namespace fs = std::filesystem;
using namespace sinter;
using namespace sinter::cli;

namespace {

std::vector<std::string> read_stdin_lines() {
    if (::isatty(STDIN_FILENO) == 1) std::fputs("sinter: reading lines from stdin (end with Ctrl-D)\n", stderr);
    std::vector<std::string> lines;
    for (std::string line; std::getline(std::cin, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF files
        lines.push_back(std::move(line));
    }
    return lines;
}

// Writes out in large pieces; a failed write (a full disk, a closed pipe) is an error.
class Stdout {
public:
    std::string& buffer() { return buffer_; }
    void line_done() {
        buffer_ += '\n';
        if (buffer_.size() > (1u << 20)) flush();
    }
    void flush() {
        if (std::fwrite(buffer_.data(), 1, buffer_.size(), stdout) != buffer_.size() || std::fflush(stdout) != 0)
            throw io_error("cannot write to stdout");
        buffer_.clear();
    }

private:
    std::string buffer_;
};

void check_model_folder(const fs::path& dir, bool needs_weights) {
    if (!fs::is_directory(dir))
        throw io_error("model folder " + dir.string() +
                       " does not exist: run tools/fetch_model.sh to fetch all-MiniLM-L6-v2, or pass --model DIR "
                       "with a Hugging Face BERT checkpoint folder");
    const bool has_vocab = fs::exists(dir / "vocab.txt") || fs::exists(dir / "tokenizer.json");
    const char* missing = !has_vocab                                            ? "vocab.txt or tokenizer.json"
                          : needs_weights && !fs::exists(dir / "config.json") ? "config.json"
                                                                              : nullptr;
    if (missing)
        throw io_error(dir.string() + " has no " + missing +
                       ": --model needs a Hugging Face BERT checkpoint folder (config.json, model.safetensors, "
                       "vocab.txt or tokenizer.json)");
}

// The folder's pooling, for an option to change one part of it.
io::SentenceEmbedding folder_sentence_embedding(const fs::path& dir) {
    try {
        return io::read_sentence_embedding(dir);
    } catch (const config_error& e) {
        throw config_error(std::string(e.what()) +
                           " (given both --pooling and --normalize or --no-normalize, sinter does not read it)");
    }
}

int run(const Options& o) {
    if (o.help) {
        std::fputs(usage_text.data(), stdout);
        return 0;
    }
    const bool needs_model = o.command != Command::tokenize;
    check_model_folder(o.model, needs_model);
    std::optional<io::HfBertConfig> hf;
    if (fs::exists(o.model / "config.json")) hf = io::read_hf_config(o.model / "config.json");
    // As sentence-transformers: its max_seq_length (else the tokenizer's model_max_length), and
    // its do_lower_case (lowercase the text first: no accent stripping follows from it).
    const io::TransformerSettings settings =
        io::read_transformer_settings(o.model, hf ? hf->max_position_embeddings : 0);
    const std::size_t max_length = o.max_length ? o.max_length : std::size_t(settings.max_seq_length);
    if (hf && max_length > std::size_t(hf->max_position_embeddings))
        throw value_error("--max-length " + std::to_string(max_length) + " is over the model's " +
                          std::to_string(hf->max_position_embeddings) + " positions");
    text::Tokenizer tokenizer = text::Tokenizer::from_directory(
        o.model, o.replace_invalid_utf8 ? text::InvalidUtf8::replace : text::InvalidUtf8::reject);
    if (settings.do_lower_case && !tokenizer.options().normalizer.lowercase) {
        text::TokenizerOptions lowered = tokenizer.options();
        lowered.normalizer = settings.normalizer(lowered.normalizer);
        tokenizer = text::Tokenizer(tokenizer.vocab(), lowered);
    }
    // What the inputs became, said once they are read and the model loaded (an error stays one line).
    std::string notes;
    if (max_length)
        notes += "sinter: inputs truncated to " + std::to_string(max_length) + " tokens (" +
                 (o.max_length ? std::string("--max-length") : settings.why) + ")\n";
    // How --similarity compares the embeddings (read now: a bad file fails before any work).
    std::optional<io::Similarity> similarity;
    if (o.similarity) similarity = o.similarity_fn ? *o.similarity_fn : io::read_similarity(o.model);
    // Fail on an unwritable --out now, not after the whole run.
    if (!o.out.empty() && !std::ofstream(o.out, std::ios::binary | std::ios::app))
        throw io_error("cannot write " + o.out.string());
    const std::vector<std::string> lines = o.lines.empty() ? read_stdin_lines() : o.lines;
    Stdout out;
    // The prompt: --prompt, --prompt-name, else the folder's default_prompt_name, as
    // sentence-transformers chooses it. It goes before every line, or before the first text of each
    // pair (a cross-encoder's query), where sentence-transformers' CrossEncoder puts it.
    std::optional<std::string> prompt;
    {
        const io::Prompts prompts = io::read_prompts(o.model);
        prompt = prompts.resolve(o.prompt, o.prompt_name);
        if (prompt) {
            const std::string source = o.prompt        ? std::string("--prompt")
                                       : o.prompt_name ? "--prompt-name " + *o.prompt_name
                                                       : "config_sentence_transformers.json's default_prompt_name " +
                                                             *prompts.default_name;
            notes += "sinter: prompt ";
            append_json(notes, *prompt);
            notes += std::string(o.query ? " before the query" : o.pairs ? " before the first text of every pair"
                                                                         : " before every line") +
                     " (" + source + ")\n";
        }
    }
    // Tokenized before the model loads: a bad line is reported at once, on its own.
    Progress tokenizing("tokenized", lines.size());
    const Tokenized t = tokenize_lines(tokenizer, lines, max_length, o.pairs, o.query ? &*o.query : nullptr,
                                       prompt ? std::string_view(*prompt) : std::string_view());

    // An added token past the model's embeddings (a fine-tune that did not resize them) is named
    // here, with its line, before the model loads.
    if (hf && o.command != Command::tokenize && tokenizer.size() > std::size_t(hf->vocab_size)) {
        for (std::size_t i = 0; i < t.ids.size(); ++i) {
            for (const std::int32_t id : t.ids[i]) {
                if (id < hf->vocab_size) continue;
                std::string token = "?";
                for (const auto& a : tokenizer.added_tokens())
                    if (a.id == id) token = a.token.content;
                throw value_error("line " + std::to_string(i + 1) + " has the added token \"" + token + "\" (id " +
                                  std::to_string(id) + "), past config.json's vocab_size " +
                                  std::to_string(hf->vocab_size) + ": the model has no embedding for it");
            }
        }
    }

    if (o.command == Command::tokenize) {
        std::fputs(notes.c_str(), stderr);
        tokenizing.advance(lines.size(), t.tokens);
        for (const auto& ids : t.ids) {
            if (o.tokens)
                append_array<std::int32_t>(out.buffer(), ids, [&](std::int32_t id) { return *tokenizer.id_to_token(id); });
            else
                append_array<std::int32_t>(out.buffer(), ids);
            out.line_done();
        }
        out.flush();
        tokenizing.finish("host");
        return 0;
    }

    const std::size_t which = match_config(*hf, o.model / "config.json");
    const auto t0 = std::chrono::steady_clock::now();
    const bool rerank = o.command == Command::rerank, classify = o.command == Command::classify || rerank;
    const Limits limits{index_t(o.batch_size), index_t(o.batch_size * max_length)};
    // --pooling / --no-normalize replace what the folder says; given both, its files are not read.
    LoadOptions how{.head = classify ? io::BertHead::automatic : io::BertHead::none, .pooling = std::nullopt};
    if (o.pooling || o.normalize) {
        how.pooling = o.pooling && o.normalize ? io::SentenceEmbedding{} : folder_sentence_embedding(o.model);
        if (o.pooling) how.pooling->pooling = *o.pooling;
        if (o.normalize) how.pooling->normalize = *o.normalize;
    }
    Loaded model = load_model(which, o.model, how, limits, o.host);
    if (classify && model.backend->labels().empty())
        throw config_error(o.model.string() +
                           " has no sequence-classification head: classify needs classifier.* tensors and a "
                           "config.json whose architectures, if listed, include BertForSequenceClassification; use "
                           "embed for sentence embeddings");
    if (rerank && model.backend->labels().size() != 1)
        throw config_error(o.model.string() + "'s classifier has " + std::to_string(model.backend->labels().size()) +
                           " labels: rerank needs a cross-encoder with one (a relevance score); classify --pairs "
                           "scores pairs on any classifier");
    std::fprintf(stderr, "sinter: %s (%s) loaded in %.2f s; running on the %s (%s)\n", o.model.string().c_str(),
                 compiled_configs[which].name.data(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), model.where.c_str(),
                 model.why.c_str());
    std::fputs(notes.c_str(), stderr);
    if (!classify) {  // how the embeddings pool (the loader has read and checked these files)
        const io::SentenceEmbedding e = how.pooling ? *how.pooling : io::read_sentence_embedding(o.model);
        const std::string folder = e.from_pooling_module           ? "modules.json"
                                   : fs::exists(o.model / "modules.json") ? "modules.json has no Pooling: the default"
                                                                          : "no modules.json: the default";
        std::string source = o.pooling ? "--pooling" : "";
        if (o.normalize)
            source += std::string(source.empty() ? "" : " and ") + (*o.normalize ? "--normalize" : "--no-normalize");
        if (!(o.pooling && o.normalize)) source += source.empty() ? folder : "; the rest: " + folder;
        const std::string prompt_part =
            !prompt ? ""
            : e.include_prompt
                ? ", the prompt's tokens included"
                : ", the first " + std::to_string(t.prompt_length) + " tokens ([CLS] and the prompt) left out";
        std::fprintf(stderr, "sinter: sentence embeddings: %s pooling%s, %s (%s)\n", io::name(e.pooling),
                     prompt_part.c_str(), e.normalize ? "L2-normalised" : "not normalised", source.c_str());
    }

    const io::ScoreChoice score = !classify  ? io::ScoreChoice{io::ScoreFunction::none, "embed"}
                                  : o.scores ? io::ScoreChoice{*o.scores, "--scores"}
                                             : io::read_score_choice(o.model, *hf);
    if (classify) std::fprintf(stderr, "sinter: scores: %s (%s)\n", io::name(score.function), score.why.c_str());

    Progress progress(rerank ? "reranked" : classify ? "classified" : "embedded", lines.size());
    const Results r = run_batches(*model.backend, t, tokenizer.pad_id(), std::size_t(hf->hidden_size), o.batch_size,
                                  progress);
    progress.finish(model.where.c_str());

    const std::vector<float> scores = bert::scores(r.logits, index_t(r.labels), score.function);
    if (rerank) {  // best first; ties keep the input order
        std::vector<std::size_t> order(lines.size());
        std::iota(order.begin(), order.end(), std::size_t(0));
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
        for (const std::size_t i : order) {
            std::string& s = out.buffer();
            s += "{\"index\":" + std::to_string(i) + ",\"score\":";
            append_json(s, scores[i]);
            s += ",\"text\":";
            append_json(s, lines[i]);
            s += '}';
            out.line_done();
        }
    } else if (classify) {
        const auto& labels = model.backend->labels();
        for (std::size_t i = 0; i < lines.size(); ++i) {
            const float* z = r.logits.data() + i * r.labels;
            const std::size_t best = std::size_t(std::max_element(z, z + r.labels) - z);
            std::string& s = out.buffer();
            s += "{\"label\":";
            append_json(s, labels[best]);
            s += ",\"scores\":{";
            for (std::size_t k = 0; k < r.labels; ++k) {
                if (k) s += ',';
                append_json(s, labels[k]);
                s += ':';
                append_json(s, scores[i * r.labels + k]);
            }
            s += "}}";
            out.line_done();
        }
    } else {
        if (!o.out.empty()) {
            write_npy(o.out, r.embedding, lines.size(), r.hidden);
            std::fprintf(stderr, "sinter: wrote %s (float32, %zu x %zu)\n", o.out.string().c_str(), lines.size(),
                         r.hidden);
        }
        if (o.similarity) {
            const io::Similarity fn = *similarity;
            std::fprintf(stderr, "sinter: similarity: %s (%s)\n", io::name(fn),
                         o.similarity_fn ? "--similarity-fn"
                         : fs::exists(o.model / "config_sentence_transformers.json")
                             ? "config_sentence_transformers.json's similarity_fn_name, cosine when absent"
                             : "cosine: no config_sentence_transformers.json");
            out.buffer() += similarity_table(r.embedding, lines.size(), r.hidden, lines, fn);
        } else if (o.out.empty()) {
            for (std::size_t i = 0; i < lines.size(); ++i) {
                append_array<float>(out.buffer(), std::span(r.embedding).subspan(i * r.hidden, r.hidden));
                out.line_done();
            }
        }
    }
    out.flush();
    return 0;
}

// sinter's messages often start with "sinter: " already, and may hold line breaks.
std::string one_line(std::string m) {
    if (m.starts_with("sinter: ")) m.erase(0, 8);
    for (char& c : m)
        if (c == '\n' || c == '\r') c = ' ';
    return m;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse_args(argc, argv));
    } catch (const usage_error& e) {
        std::fprintf(stderr, "sinter: %s (sinter --help shows the usage)\n", one_line(e.what()).c_str());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sinter: %s\n", one_line(e.what()).c_str());
        return 1;
    }
}
