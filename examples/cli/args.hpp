#pragma once
// The `sinter` command line: subcommand, options, and the lines given as arguments.
#include <charconv>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sinter/io/hf_config.hpp"
#include "sinter/io/sentence_transformers.hpp"
#include "sinter/io/sentence_transformers_config.hpp"

namespace sinter::cli {

// Bad arguments: main prints the message on one line, points at --help, and exits with 2.
class usage_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class Command { embed, classify, rerank, tokenize };

struct Options {
    Command command = Command::embed;
    bool help = false;
    std::filesystem::path model;     // --model DIR: a Hugging Face BERT checkpoint folder
    std::filesystem::path out;       // --out FILE.npy (embed): float32 (lines, hidden)
    bool similarity = false;         // --similarity (embed), or the `similarity` subcommand
    std::optional<io::Similarity> similarity_fn;  // --similarity-fn F; none: the folder's similarity_fn_name
    bool host = false;               // --host: stay on the host even where a GPU is present
    bool replace_invalid_utf8 = false;  // --replace-invalid-utf8: U+FFFD instead of an error
    std::size_t max_length = 0;      // --max-length N; 0: the model's own (see main)
    std::size_t batch_size = 32;     // --batch-size N: lines per forward
    std::optional<io::Pooling> pooling;  // --pooling MODE (embed); none: the folder's modules.json
    std::optional<bool> normalize;       // --normalize / --no-normalize (embed); none: the folder's
    bool pairs = false;                  // --pairs (classify, tokenize): two texts a line, tab-separated
    bool tokens = false;                 // --tokens (tokenize): the tokens as strings, not their ids
    std::optional<std::string> query;    // --query TEXT (rerank): the first text of every pair
    std::optional<io::ScoreFunction> scores;  // --scores F (classify, rerank); none: HfBertConfig::score_choice
    std::optional<std::string> prompt;       // --prompt TEXT (embed, tokenize): put before every line
    std::optional<std::string> prompt_name;  // --prompt-name NAME (embed, tokenize): one of the folder's
    std::vector<std::string> lines;  // the text arguments; none: lines come from stdin
};

inline constexpr std::string_view usage_text = R"(usage: sinter COMMAND --model DIR [options] [LINE...]

Runs a BERT checkpoint folder (config.json, model.safetensors, vocab.txt or tokenizer.json) on
lines of text: the LINE arguments, or else standard input, one text a line. Output goes to stdout
in input order (rerank: best first); progress and timings go to stderr.

commands:
  embed       sentence embeddings, one JSON array a line, pooled as the folder's
              sentence-transformers files say (modules.json, 1_Pooling/config.json); without
              them, the mean over tokens, L2-normalised; the folder's default prompt, if
              config_sentence_transformers.json names one, goes before every line
  similarity  the similarity matrix of the lines' embeddings (= embed --similarity): cosine, or
              the folder's similarity_fn_name (config_sentence_transformers.json)
  classify    label and scores per line, one JSON object a line (needs a
              BertForSequenceClassification checkpoint); scores as the checkpoint asks: a
              cross-encoder's activation (config_sentence_transformers.json, config.json), else
              as transformers' pipeline (softmax; a sigmoid for one label or a multi-label
              problem_type; none for regression)
  rerank      the lines (passages) ordered by a cross-encoder's score against --query, best
              first, one JSON object a line: index (in the input), score, text (needs a
              one-label BertForSequenceClassification checkpoint)
  tokenize    token ids per line, [CLS] and [SEP] included, one JSON array a line (--tokens:
              the tokens themselves)

options:
  --model DIR       the checkpoint folder (required); tools/fetch_model.sh fetches all-MiniLM-L6-v2
  --out FILE.npy    embed: write a float32 (lines, hidden) .npy file instead of JSON lines
  --similarity      embed: print the similarity matrix instead of the embeddings
  --similarity-fn F similarity: cosine, dot, euclidean or manhattan (the negative distances), in
                    place of the folder's similarity_fn_name
  --max-length N    truncate to N tokens (default: sentence_bert_config.json's max_seq_length,
                    else tokenizer_config.json's model_max_length, else the model's
                    max_position_embeddings, which caps either)
  --batch-size N    lines per forward pass (default 32); lines are batched by length
  --pooling MODE    embed: mean, cls, max or mean_sqrt_len, in place of the folder's pooling
                    (for a checkpoint saved without its sentence-transformers files, e.g. BGE: cls)
  --normalize, --no-normalize
                    embed: L2-normalise the embeddings, or not, in place of the folder's choice
                    (given with --pooling, the folder's Pooling is not read: a prompt is then
                    pooled with the text)
  --pairs           classify, tokenize: each line is two texts separated by a tab, encoded as a
                    pair ([CLS] A [SEP] B [SEP], token types 0 through the first [SEP], then 1;
                    tokenize leaves the types out): a cross-encoder's query and passage, say
  --tokens          tokenize: print the tokens ("[CLS]", "hello", "##s"...) in place of their ids,
                    as transformers' convert_ids_to_tokens gives them
  --query TEXT      rerank (required): the query each line is paired with ([CLS] query [SEP]
                    line [SEP])
  --prompt TEXT     put TEXT before every line, or before the first text of every pair (the
                    query, for rerank), as sentence-transformers puts a prompt (E5's "query: ",
                    say), in place of the folder's default prompt
  --prompt-name NAME
                    the same with the folder's prompt NAME (its config_sentence_transformers.json
                    "prompts"; a default_prompt_name there applies unless --prompt or
                    --prompt-name is given)
  --scores F        classify, rerank: softmax, sigmoid, tanh or none (the logits), in place of
                    what the checkpoint asks for (a cross-encoder's activation, else
                    transformers' pipeline rule)
  --host            run on the host even when a GPU is present
  --replace-invalid-utf8
                    read invalid UTF-8 as U+FFFD (as Python's errors="replace"), not as an error
  -h, --help        this text

example:
  sinter similarity --model ~/.cache/sinter/models/all-MiniLM-L6-v2 "A man is eating food." "A man eats bread."
)";

namespace detail {

inline std::size_t positive(std::string_view option, std::string_view value) {
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc{} || end != value.data() + value.size() || n == 0)
        throw usage_error(std::string(option) + " needs a positive integer, not '" + std::string(value) + "'");
    return n;
}

inline io::Pooling pooling(std::string_view value) {
    for (const io::Pooling p : {io::Pooling::mean, io::Pooling::cls, io::Pooling::max, io::Pooling::mean_sqrt_len})
        if (value == io::name(p)) return p;
    throw usage_error("--pooling needs mean, cls, max or mean_sqrt_len, not '" + std::string(value) + "'");
}

inline io::Similarity similarity_fn(std::string_view value) {
    if (const auto s = io::similarity_named(value)) return *s;
    throw usage_error("--similarity-fn needs cosine, dot, euclidean or manhattan, not '" + std::string(value) + "'");
}

inline io::ScoreFunction score_function(std::string_view value) {
    for (const io::ScoreFunction f :
         {io::ScoreFunction::softmax, io::ScoreFunction::sigmoid, io::ScoreFunction::tanh, io::ScoreFunction::none})
        if (value == io::name(f)) return f;
    throw usage_error("--scores needs softmax, sigmoid, tanh or none, not '" + std::string(value) + "'");
}

}  // namespace detail

// Throws usage_error naming the bad argument.
inline Options parse_args(int argc, const char* const* argv) {
    Options o;
    if (argc < 2) throw usage_error("no command given (embed, similarity, classify, rerank or tokenize)");
    const std::string_view command = argv[1];
    if (command == "-h" || command == "--help" || command == "help") {
        o.help = true;
        return o;
    }
    if (command == "embed") o.command = Command::embed;
    else if (command == "similarity") o.command = Command::embed, o.similarity = true;
    else if (command == "classify") o.command = Command::classify;
    else if (command == "rerank") o.command = Command::rerank;
    else if (command == "tokenize") o.command = Command::tokenize;
    else
        throw usage_error("unknown command '" + std::string(command) +
                          "' (embed, similarity, classify, rerank or tokenize)");

    bool options_done = false;
    for (int i = 2; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (options_done || !arg.starts_with("-") || arg == "-") {
            o.lines.emplace_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        // --name VALUE or --name=VALUE
        const auto eq = arg.find('=');
        const std::string_view name = arg.substr(0, eq);
        bool used_inline_value = false;
        const auto value = [&]() -> std::string_view {
            if (eq != std::string_view::npos) {
                used_inline_value = true;
                return arg.substr(eq + 1);
            }
            if (i + 1 >= argc) throw usage_error(std::string(name) + " needs a value");
            return argv[++i];
        };
        if (name == "-h" || name == "--help") o.help = true;
        else if (name == "--model") o.model = value();
        else if (name == "--out") o.out = value();
        else if (name == "--max-length") o.max_length = detail::positive(name, value());
        else if (name == "--batch-size") o.batch_size = detail::positive(name, value());
        else if (name == "--pooling") o.pooling = detail::pooling(value());
        else if (name == "--normalize") o.normalize = true;
        else if (name == "--no-normalize") o.normalize = false;
        else if (name == "--pairs") o.pairs = true;
        else if (name == "--tokens") o.tokens = true;
        else if (name == "--query") o.query = std::string(value());
        else if (name == "--prompt") o.prompt = std::string(value());
        else if (name == "--prompt-name") o.prompt_name = std::string(value());
        else if (name == "--scores") o.scores = detail::score_function(value());
        else if (name == "--similarity") o.similarity = true;
        else if (name == "--similarity-fn") o.similarity_fn = detail::similarity_fn(value());
        else if (name == "--host") o.host = true;
        else if (name == "--replace-invalid-utf8") o.replace_invalid_utf8 = true;
        else throw usage_error("unknown option '" + std::string(arg) + "' (put -- before a line that starts with -)");
        if (eq != std::string_view::npos && !used_inline_value)
            throw usage_error(std::string(name) + " takes no value");
    }
    if (o.help) return o;
    if (o.model.empty()) throw usage_error("--model DIR is required (tools/fetch_model.sh fetches all-MiniLM-L6-v2)");
    if (o.command != Command::embed && !o.out.empty()) throw usage_error("--out is for embed only");
    if (o.command != Command::embed && o.similarity) throw usage_error("--similarity is for embed only");
    if (!o.similarity && o.similarity_fn) throw usage_error("--similarity-fn is for similarity (embed --similarity)");
    if (o.command != Command::classify && o.command != Command::tokenize && o.pairs)
        throw usage_error("--pairs is for classify and tokenize");
    if (o.command != Command::tokenize && o.tokens) throw usage_error("--tokens is for tokenize only");
    if (o.command == Command::rerank && !o.query) throw usage_error("rerank needs --query TEXT");
    if (o.command != Command::rerank && o.query) throw usage_error("--query is for rerank only");
    if (const std::size_t special = o.pairs || o.query ? 3 : 2; o.max_length && o.max_length < special)
        throw usage_error("--max-length " + std::to_string(o.max_length) + " is under the " +
                          std::to_string(special) + " special tokens of " +
                          (special == 3 ? "a pair ([CLS] A [SEP] B [SEP])" : "a text ([CLS] and [SEP])"));
    if (o.command != Command::classify && o.command != Command::rerank && o.scores)
        throw usage_error("--scores is for classify and rerank");
    if (o.command != Command::embed && (o.pooling || o.normalize))
        throw usage_error(std::string(o.pooling ? "--pooling" : *o.normalize ? "--normalize" : "--no-normalize") +
                          " is for embed only");
    if (o.prompt && o.prompt_name) throw usage_error("--prompt and --prompt-name: give one");
    return o;
}

}  // namespace sinter::cli
