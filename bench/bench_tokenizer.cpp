// Tokenizer throughput on one core: tokens/s and bytes/s (rate counters, per CPU second).
// tools/bench_hf_tokenizer.py measures Hugging Face `tokenizers` on the same corpora, one thread;
// run both pinned to the same core (taskset -c 1 ...) to compare.
//
// Corpora, both read from tests/golden/text/tokenizer_golden.txt (the parity corpus: English,
// punctuation, numbers, URLs, accented Latin, a dozen scripts, CJK, emoji, control characters...):
//   mixed: every untruncated single text (20,000 texts, 1.3 MB);
//   ascii: those made of printable ASCII only (English-like text, numbers, URLs).
// SINTER_TOKENIZER_CORPUS=file adds "file": one text per line, raw UTF-8.
// In the benchmark names, corpus:0 is mixed, corpus:1 ascii, corpus:2 file.
// The corpus is read through tests/text/golden.hpp, which finds the source tree through
// $SINTER_SOURCE_DIR (else ".": run from the repository root).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "sinter/text/tokenizer.hpp"

#include "../tests/text/golden.hpp"

namespace {

bool printable_ascii(std::string_view s) {
    for (const char c : s)
        if (c < 0x20 || c > 0x7E) return false;
    return true;
}

struct Corpora {
    std::vector<std::string> mixed, ascii, file;
};

const Corpora& corpora() {
    static const Corpora c = [] {
        Corpora c;
        for (const auto& line : golden::read_lines("tokenizer_golden.txt")) {
            const auto f = golden::split(line);
            if (f[0] != "T" || f[1] != "0") continue;  // untruncated single texts
            c.mixed.push_back(golden::unescape(f[2]));
            if (printable_ascii(c.mixed.back())) c.ascii.push_back(c.mixed.back());
        }
        if (const char* extra = std::getenv("SINTER_TOKENIZER_CORPUS")) {
            std::ifstream f(extra, std::ios::binary);
            for (std::string line; std::getline(f, line);) c.file.push_back(line);
        }
        return c;
    }();
    return c;
}

const sinter::text::Tokenizer& tokenizer() {
    static const sinter::text::Tokenizer t(golden::vocab());
    return t;
}

// With one normalised added token (as a fine-tuned checkpoint may add): every text takes the
// buffered pass, normalised into a buffer before it is searched for the token.
const sinter::text::Tokenizer& tokenizer_with_added_token() {
    static const sinter::text::Tokenizer t(golden::vocab(), {.added_tokens = {{.content = "covid19"}}});
    return t;
}

const std::vector<std::string>& corpus(int which) {
    const auto& c = corpora();
    return which == 0 ? c.mixed : which == 1 ? c.ascii : c.file;
}

void set_rates(benchmark::State& state, std::size_t tokens, std::size_t bytes) {
    state.counters["tokens"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
    state.counters["bytes"] = benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kIsRate);
}

// One text at a time, [CLS] text [SEP]: what `tokenizer.encode(text)` does.
void encode_texts(benchmark::State& state, const sinter::text::Tokenizer& t) {
    const auto& texts = corpus(static_cast<int>(state.range(0)));
    if (texts.empty()) return state.SkipWithError("empty corpus (SINTER_TOKENIZER_CORPUS unset?)");
    std::size_t tokens = 0, bytes = 0;
    for (auto _ : state) {
        for (const auto& text : texts) {
            auto e = t.encode(text);
            tokens += e.size();
            bytes += text.size();
            benchmark::DoNotOptimize(e.ids.data());
        }
    }
    set_rates(state, tokens, bytes);
}

void BM_encode(benchmark::State& state) { encode_texts(state, tokenizer()); }
void BM_encode_added_token(benchmark::State& state) { encode_texts(state, tokenizer_with_added_token()); }

// Batches of state.range(1) texts padded to the longest; tokens counted without the padding.
void BM_encode_batch(benchmark::State& state) {
    const auto& texts = corpus(static_cast<int>(state.range(0)));
    if (texts.empty()) return state.SkipWithError("empty corpus (SINTER_TOKENIZER_CORPUS unset?)");
    const auto batch = static_cast<std::size_t>(state.range(1));
    std::vector<std::vector<std::string_view>> batches;
    for (std::size_t i = 0; i < texts.size(); i += batch)
        batches.emplace_back(texts.begin() + static_cast<std::ptrdiff_t>(i),
                             texts.begin() + static_cast<std::ptrdiff_t>(std::min(texts.size(), i + batch)));
    const auto& t = tokenizer();
    std::size_t tokens = 0, bytes = 0;
    for (auto _ : state) {
        for (const auto& b : batches) {
            auto e = t.encode_batch(b);
            for (const auto n : e.lengths) tokens += static_cast<std::size_t>(n);
            for (const auto s : b) bytes += s.size();
            benchmark::DoNotOptimize(e.ids.data());
        }
    }
    set_rates(state, tokens, bytes);
}

void corpus_names(benchmark::internal::Benchmark* b) {
    b->ArgNames({"corpus"});
    b->Arg(0)->Arg(1);
    if (std::getenv("SINTER_TOKENIZER_CORPUS")) b->Arg(2);
}

}  // namespace

BENCHMARK(BM_encode)->Apply(corpus_names)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_encode_added_token)->Apply(corpus_names)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_encode_batch)
    ->ArgNames({"corpus", "batch"})
    ->Args({0, 32})
    ->Args({1, 32})
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
