#pragma once
// Lines -> token ids -> batches of lines of similar length -> forward -> results in input order.
// Sorting by length first keeps the padding of each (B, S) batch small on any backend.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "sinter/text/tokenizer.hpp"
#include "models.hpp"
#include "progress.hpp"

namespace sinter::cli {

struct Tokenized {
    std::vector<std::vector<std::int32_t>> ids;    // per line: [CLS] pieces [SEP] (pieces [SEP]), truncated
    std::vector<std::vector<std::int32_t>> types;  // per line, for pairs: 0 up to the first [SEP], then 1
    std::size_t tokens = 0;
    index_t prompt_length = 0;  // with a prompt: [CLS] and its pieces (bert::Inputs::prompt_length)
};

// Invalid UTF-8 is an error naming the line and byte, unless the tokenizer replaces it. `pairs`:
// each line is two texts separated by a tab, encoded as a pair (tokenizers' longest_first
// truncation); a line with no tab or with more than one is an error naming it. `query`: each line
// is the second text of a pair whose first is the query. `prompt`: put before each line, or before
// the first text of each pair, as sentence-transformers does (prompt + text, tokenized whole); for
// single texts, its length in tokens is the prompt's tokenized alone, less [SEP].
inline Tokenized tokenize_lines(const text::Tokenizer& tokenizer, const std::vector<std::string>& lines,
                                std::size_t max_length, bool pairs = false, const std::string* query = nullptr,
                                std::string_view prompt = {}) {
    const auto check_utf8 = [&](std::string_view text, const std::string& name) {
        if (tokenizer.options().invalid_utf8 == text::InvalidUtf8::reject)
            if (const auto at = text::find_invalid_utf8(text); at != std::string::npos)
                throw format_error(name + " is not valid UTF-8 (byte " + std::to_string(at) +
                                   "): fix the input, or pass --replace-invalid-utf8");
    };
    if (query) check_utf8(*query, "--query");
    Tokenized t;
    std::string prompted;  // prompt + line (or + the pair's first text)
    if (!prompt.empty()) {
        check_utf8(prompt, "the prompt");
        if (!pairs && !query)
            t.prompt_length = index_t(tokenizer.encode(prompt, {.max_length = max_length}).ids.size()) - 1;
    }
    t.ids.reserve(lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string_view line = lines[i];
        const std::string name = "line " + std::to_string(i + 1);
        check_utf8(line, name);
        if (!query && !pairs) {
            if (!prompt.empty()) prompted.assign(prompt).append(line);
            t.ids.push_back(tokenizer.encode(prompt.empty() ? line : prompted, {.max_length = max_length}).ids);
        } else {  // a pair: the query and the line, or the line's two halves
            std::string_view first = query ? std::string_view(*query) : line, second = line;
            if (!query) {
                const auto tab = line.find('\t');
                if (tab == line.npos || line.find('\t', tab + 1) != line.npos)
                    throw format_error(name + " has " + (tab == line.npos ? "no tab" : "more than one tab") +
                                       ": --pairs reads two texts a line, separated by one tab");
                first = line.substr(0, tab), second = line.substr(tab + 1);
            }
            if (!prompt.empty()) first = prompted.assign(prompt).append(first);
            auto e = tokenizer.encode(first, second, {.max_length = max_length});
            t.ids.push_back(std::move(e.ids));
            t.types.push_back(std::move(e.type_ids));
        }
        t.tokens += t.ids.back().size();
    }
    return t;
}

struct Results {
    std::size_t hidden = 0, labels = 0;
    std::vector<float> embedding;  // (lines, hidden): pooled as the model folder says (or --pooling)
    std::vector<float> logits;     // (lines, labels); empty without a classifier
};

inline Results run_batches(Backend& model, const Tokenized& t, std::int32_t pad_id, std::size_t hidden,
                           std::size_t batch_size, Progress& progress) {
    const std::size_t n = t.ids.size();
    Results r;
    r.hidden = hidden;
    r.labels = model.labels().size();
    r.embedding.resize(n * r.hidden);
    r.logits.resize(n * r.labels);

    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return t.ids[a].size() < t.ids[b].size(); });

    const bool pairs = !t.types.empty();
    std::vector<std::int32_t> ids, mask, types;
    for (std::size_t first = 0; first < n; first += batch_size) {
        const std::size_t B = std::min(batch_size, n - first);
        const std::size_t S = t.ids[order[first + B - 1]].size();  // the longest: sorted
        ids.assign(B * S, pad_id);
        mask.assign(B * S, 0);
        types.assign(pairs ? B * S : 0, 0);
        std::size_t tokens = 0;
        for (std::size_t b = 0; b < B; ++b) {
            const auto& row = t.ids[order[first + b]];
            std::copy(row.begin(), row.end(), ids.begin() + std::ptrdiff_t(b * S));
            std::fill_n(mask.begin() + std::ptrdiff_t(b * S), row.size(), 1);
            if (pairs) std::ranges::copy(t.types[order[first + b]], types.begin() + std::ptrdiff_t(b * S));
            tokens += row.size();
        }
        const bert::Outputs out = model.forward({index_t(B), index_t(S), ids, mask, types, t.prompt_length});
        if (out.sentence_embedding.empty()) continue;  // S = 0: an empty result (never with [CLS] and [SEP])
        for (std::size_t b = 0; b < B; ++b) {
            const std::size_t line = order[first + b];
            std::copy_n(out.sentence_embedding.begin() + std::ptrdiff_t(b * r.hidden), r.hidden,
                        r.embedding.begin() + std::ptrdiff_t(line * r.hidden));
            if (r.labels)
                std::copy_n(out.logits.begin() + std::ptrdiff_t(b * r.labels), r.labels,
                            r.logits.begin() + std::ptrdiff_t(line * r.labels));
        }
        progress.advance(B, tokens);
    }
    return r;
}

}  // namespace sinter::cli
