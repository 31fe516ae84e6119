#pragma once
// The pre-tokeniser (tokenizers' BertPreTokenizer) fused with WordPiece: normalised characters in,
// ids out. BertPreTokenizer splits on White_Space (dropping it) and then isolates every punctuation
// character (ASCII 33-47, 58-64, 91-96, 123-126, or P* at Unicode 8.0); after clean-up the only
// White_Space left is U+0020. Each finished word goes straight to WordPiece: no list of words.
#include <cstdint>
#include <string>
#include <vector>

#include "sinter/text/unicode.hpp"
#include "sinter/text/utf8.hpp"
#include "sinter/text/wordpiece.hpp"

namespace sinter::text {

namespace detail {

// The sink of a Normalizer: sink(cp, class) per normalised character.
class WordSink {
public:
    WordSink(const WordPiece& model, std::string& word, std::vector<std::int32_t>& ids)
        : model_(model), word_(word), ids_(ids), limit_(model.max_input_chars_per_word()) {
        word_.clear();
    }

    void operator()(char32_t cp, CharClass k) {
        if (k == CharClass::space) {
            end_word();
        } else if (k == CharClass::punct) {
            end_word();
            append(cp);
            end_word();
        } else {
            append(cp);
        }
    }

    // Past the limit only the count matters: the word is [UNK] whatever its bytes.
    void append(char32_t cp) {
        if (++chars_ <= limit_) append_utf8(word_, cp);
    }
    void append_ascii(char c) {
        if (++chars_ <= limit_) word_.push_back(c);
    }
    void end_word() {
        if (chars_ == 0) return;
        model_.encode_word(word_, chars_, ids_);
        word_.clear();
        chars_ = 0;
    }
    void push_id(std::int32_t id) { ids_.push_back(id); }

private:
    const WordPiece& model_;
    std::string& word_;
    std::vector<std::int32_t>& ids_;
    std::size_t limit_, chars_ = 0;
};

}  // namespace detail

}  // namespace sinter::text
