#pragma once
// Added tokens: strings a tokenizer matches whole, before WordPiece sees the text. Every BERT
// tokenizer has five ([PAD] [UNK] [CLS] [SEP] [MASK]); a fine-tuned one may add more ("covid19",
// "<ent>"), with ids after the vocabulary's.
//
// Hugging Face `tokenizers` (AddedVocabulary::extract_and_normalize) finds them in two passes:
//   1. tokens with normalized = false, in the raw text, exactly;
//   2. tokens with normalized = true, in the normalised text of each piece pass 1 left, against
//      their own normalised content ("New York" matches "new york" and "NEW YORK").
// Each pass takes, scanning left to right, the longest token that starts at the first position
// where any does (Aho-Corasick, leftmost-longest), and the text between matches goes on to the
// pre-tokeniser: a match always ends the word before it ("covid19x" is covid19 + x).
//
// lstrip and rstrip let a match swallow the whitespace (regex \s) beside it, up to the previous
// match. The pre-tokeniser drops whitespace anyway, so that only changes ids when a raw token
// swallows whitespace that a normalised token would otherwise start or end with.
//
// A single_word token matches only where the characters on both sides (in the text of its pass) are
// not word characters, as regex \w sees them (unicode.hpp's is_word_char); the beginning and end of
// that text count as non-word. A match it refuses is skipped whole, as the Aho-Corasick iterator
// has already moved past it: no shorter token starting inside it is tried ("xab" with single_word
// "ab" and plain "b" matches neither). With split_special_tokens (transformers' option of that
// name, tokenizers' encode_special_tokens), every match of a special token is refused in that way:
// "[SEP]" typed in a text becomes the pieces of "[", "sep" and "]".
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sinter/core/error.hpp"

namespace sinter::text {

struct AddedToken {
    std::string content;
    bool special = false;     // [CLS], [MASK], "<sp>": kept out of decoding; not matched at all
                              // where TokenizerOptions::split_special_tokens is set
    bool normalized = true;   // matched in the normalised text; false: in the raw text, exactly.
                              // Hugging Face's default is !special: set it false for special tokens.
    bool single_word = false;  // matched only between non-word characters (or the text's ends)
    bool lstrip = false;      // swallows the whitespace on its left
    bool rstrip = false;      // swallows the whitespace on its right
};

// An added token with the id the tokenizer gave it: its vocabulary id if the vocabulary has the
// content, else the next id after the vocabulary and the added tokens before it.
struct AddedTokenId {
    AddedToken token;
    std::int32_t id;
};

// A value_error about the added token at `index` of the list given to the tokenizer (so a loader
// can name the file that listed it).
class added_token_error : public value_error {
public:
    added_token_error(std::size_t index, const std::string& what) : value_error(what), index_(index) {}
    std::size_t index() const noexcept { return index_; }

private:
    std::size_t index_;
};

namespace detail {

// Keys (byte or code point strings) -> the index of the added token each was inserted with, for
// the longest key that starts a text. The edges sit in one hash map: a node may have thousands of
// children (the normalised CJK tokens all start with a space), and a look-up stays O(1) per
// character.
template <class Char>
class TokenTrie {
public:
    struct Match {
        std::size_t token;   // the index the key was inserted with
        std::size_t length;  // in Chars
    };

    bool empty() const noexcept { return tokens_.size() == 1; }

    // key must be non-empty; a repeated key keeps its first index.
    void insert(std::basic_string_view<Char> key, std::size_t token) {
        std::uint32_t node = 0;
        for (const Char c : key) {
            const auto [it, added] = edges_.try_emplace(edge(node, c), static_cast<std::uint32_t>(tokens_.size()));
            if (added) tokens_.push_back(none);
            node = it->second;
        }
        if (tokens_[node] == none) tokens_[node] = token;
    }

    // The longest key that is a prefix of [p, end), if any.
    std::optional<Match> longest_prefix(const Char* p, const Char* end) const {
        std::optional<Match> best;
        std::uint32_t node = 0;
        for (const Char* q = p; q < end;) {
            const auto it = edges_.find(edge(node, *q++));
            if (it == edges_.end()) break;
            node = it->second;
            if (tokens_[node] != none) best = Match{tokens_[node], static_cast<std::size_t>(q - p)};
        }
        return best;
    }

private:
    static constexpr std::size_t none = static_cast<std::size_t>(-1);  // no key ends at the node

    static std::uint64_t edge(std::uint32_t node, Char c) noexcept {
        return (std::uint64_t(node) << 32) | std::uint64_t(static_cast<std::make_unsigned_t<Char>>(c));
    }

    std::unordered_map<std::uint64_t, std::uint32_t> edges_;  // (node, character) -> child
    std::vector<std::size_t> tokens_ = std::vector<std::size_t>(1, none);  // per node
};

}  // namespace detail

}  // namespace sinter::text
