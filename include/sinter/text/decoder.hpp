#pragma once
// Ids back to text, as transformers 5's BERT tokenizer decodes them (Tokenizer::decode):
//   1. each id's token (Tokenizer::id_to_token): an added token's content, normalised if it is
//      matched normalised (as tokenizers 0.23 gives it: "New York" is "new york"), else the
//      vocabulary's; where asked (skip_special_tokens), those that are a special added token's
//      content are left out (a normalised special token whose text the normaliser changed stays);
//   2. tokenizers' WordPiece decoder: every token after the first is joined with a space before
//      it, or, if it starts with "##", without the space and the "##"; each token so prefixed then
//      goes through tokenizers' clean-up (wordpiece_cleanup), which transformers always turns on;
//   3. where clean_up_tokenization_spaces is set (tokenizer_config.json's key; transformers 5's
//      default is false), transformers' clean-up of the whole text (clean_up_tokenization), which
//      joins what spans tokens: "it ' s" is "it's", "don ' t" is "don't".
// Decoding does not invert encoding: the normaliser lowercased, stripped accents and dropped
// whitespace, and "[UNK]" stands for a whole word.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace sinter::text {

struct DecodeOptions {
    // Leave out the special added tokens: [CLS], [SEP], [PAD], [UNK], [MASK] and any a checkpoint
    // marks special.
    bool skip_special_tokens = false;
    // transformers' clean-up of the text (step 3 above); nullopt: the tokenizer's
    // (TokenizerOptions::clean_up_tokenization_spaces).
    std::optional<bool> clean_up_tokenization_spaces = std::nullopt;
};

namespace detail {

// text with every occurrence of each `from` replaced by its `to`, one pair after another, each
// pass left to right without overlaps (Python's str.replace, Rust's str::replace).
template <std::size_t N>
void replace_each(std::string& text, const std::array<std::pair<std::string_view, std::string_view>, N>& rules) {
    std::string out;
    for (const auto& [from, to] : rules) {
        std::size_t at = text.find(from);
        if (at == std::string::npos) continue;
        out.clear();
        std::size_t kept = 0;
        for (; at != std::string::npos; at = text.find(from, kept)) {
            out.append(text, kept, at - kept).append(to);
            kept = at + from.size();
        }
        out.append(text, kept);
        text.swap(out);
    }
}

// tokenizers' decoders::wordpiece::cleanup, applied to each token with the space put before it.
// Its " do not" -> " don't" is not in transformers' list.
inline void wordpiece_cleanup(std::string& token) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 11> rules{{
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"}, {" 'm", "'m"},
        {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}}};
    replace_each(token, rules);
}

// transformers' PreTrainedTokenizerBase.clean_up_tokenization, applied to the whole text.
inline void clean_up_tokenization(std::string& text) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> rules{{
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"}, {" 'm", "'m"},
        {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}}};
    replace_each(text, rules);
}

}  // namespace detail

}  // namespace sinter::text
