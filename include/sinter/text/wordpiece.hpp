#pragma once
// WordPiece: one pre-tokenized word -> vocabulary ids, greedy longest-match-first.
//
// The rule (tokenizers' models/wordpiece, and Google's original BERT): a word of more than
// `max_input_chars_per_word` (100) code points is one [UNK]. Otherwise, from the start of the word,
// take the longest vocabulary token that is a prefix of what is left ("##"-prefixed after the first
// piece) and repeat; if at some point no token matches, the whole word is one [UNK].
//
// tokenizers finds each longest match by trying ever shorter substrings in a hash map, which is
// quadratic in the word length. A byte trie finds it in one walk: the deepest node passed that ends
// a token is the longest match. Every token is valid UTF-8, so a match always ends on a character
// boundary of the (valid UTF-8) word, as tokenizers' char-by-char shortening does.
#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "sinter/core/error.hpp"
#include "sinter/text/vocab.hpp"

namespace sinter::text {

class WordPiece {
public:
    static constexpr std::size_t default_max_input_chars_per_word = 100;

    // format_error if the vocabulary has no `unk_token`.
    explicit WordPiece(const Vocab& vocab, std::string_view unk_token = "[UNK]",
                       std::string_view continuing_prefix = "##",
                       std::size_t max_input_chars_per_word = default_max_input_chars_per_word)
        : max_chars_(max_input_chars_per_word) {
        const auto unk = vocab.find(unk_token);
        if (!unk) throw format_error(vocab.source() + " has no line \"" + std::string(unk_token) + "\"");
        unk_id_ = *unk;
        build(vocab.tokens());
        root_.fill(no_node);
        continuation_.fill(no_node);
        fill_table(root_, 0);
        std::uint32_t node = 0;
        for (const char c : continuing_prefix) {
            node = child(node, static_cast<unsigned char>(c));
            if (node == no_node) break;
        }
        if (node != no_node) fill_table(continuation_, node);
    }

    std::int32_t unk_id() const noexcept { return unk_id_; }
    std::size_t max_input_chars_per_word() const noexcept { return max_chars_; }

    // Appends the ids of one word: `word` is valid UTF-8 holding `n_chars` code points. A word over
    // the limit need not be passed whole: only its character count is looked at.
    void encode_word(std::string_view word, std::size_t n_chars, std::vector<std::int32_t>& ids) const {
        if (n_chars > max_chars_) {
            ids.push_back(unk_id_);
            return;
        }
        const auto* bytes = reinterpret_cast<const unsigned char*>(word.data());
        const std::size_t size = word.size(), first_id = ids.size();
        for (std::size_t start = 0; start < size;) {
            std::uint32_t node = (start == 0 ? root_ : continuation_)[bytes[start]];
            std::int32_t best_id = -1;
            std::size_t best_end = 0;
            for (std::size_t i = start + 1; node != no_node; ++i) {
                if (nodes_[node].id >= 0) {
                    best_id = nodes_[node].id;
                    best_end = i;
                }
                if (i == size) break;
                node = child(node, bytes[i]);
            }
            if (best_id < 0) {
                ids.resize(first_id);
                ids.push_back(unk_id_);
                return;
            }
            ids.push_back(best_id);
            start = best_end;
        }
    }

private:
    static constexpr std::uint32_t no_node = 0xFFFFFFFFu;

    struct Node {
        std::uint32_t first_child;  // children are nodes first_child .. first_child + child_count - 1
        std::int32_t id;            // the token ending here, or -1
        std::uint16_t child_count;
    };

    std::uint32_t child(std::uint32_t node, unsigned char byte) const noexcept {
        const Node& n = nodes_[node];
        const unsigned char* first = labels_.data() + n.first_child;
        const unsigned char* last = first + n.child_count;
        if (n.child_count <= 8) {
            for (const unsigned char* p = first; p != last; ++p)
                if (*p == byte) return n.first_child + static_cast<std::uint32_t>(p - first);
            return no_node;
        }
        const unsigned char* p = std::lower_bound(first, last, byte);
        return p != last && *p == byte ? n.first_child + static_cast<std::uint32_t>(p - first) : no_node;
    }

    void fill_table(std::array<std::uint32_t, 256>& table, std::uint32_t node) const {
        const Node& n = nodes_[node];
        for (std::uint32_t k = 0; k < n.child_count; ++k) table[labels_[n.first_child + k]] = n.first_child + k;
    }

    // Breadth-first over the sorted tokens, so that the children of a node are consecutive nodes
    // (sorted by their byte) and need no edge list.
    void build(const std::vector<std::string>& tokens) {
        std::vector<std::uint32_t> order(tokens.size());
        std::iota(order.begin(), order.end(), 0u);
        std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return tokens[a] < tokens[b]; });
        struct Pending {
            std::uint32_t node, lo, hi, depth;  // order[lo, hi) share the node's prefix of length depth
        };
        std::deque<Pending> queue{{0, 0, static_cast<std::uint32_t>(order.size()), 0}};
        nodes_.push_back({0, -1, 0});
        labels_.push_back(0);
        const auto byte_at = [&](std::uint32_t k, std::uint32_t depth) {
            return static_cast<unsigned char>(tokens[order[k]][depth]);
        };
        while (!queue.empty()) {
            auto [node, lo, hi, depth] = queue.front();
            queue.pop_front();
            if (lo < hi && tokens[order[lo]].size() == depth) nodes_[node].id = static_cast<std::int32_t>(order[lo++]);
            nodes_[node].first_child = static_cast<std::uint32_t>(nodes_.size());
            for (std::uint32_t group = lo; group < hi;) {
                std::uint32_t end = group + 1;
                while (end < hi && byte_at(end, depth) == byte_at(group, depth)) ++end;
                queue.push_back({static_cast<std::uint32_t>(nodes_.size()), group, end, depth + 1});
                nodes_.push_back({0, -1, 0});
                labels_.push_back(byte_at(group, depth));
                ++nodes_[node].child_count;
                group = end;
            }
        }
    }

    std::vector<Node> nodes_;               // node 0 is the root
    std::vector<unsigned char> labels_;     // the byte on the edge into each node
    std::array<std::uint32_t, 256> root_;          // first step of a word's first piece
    std::array<std::uint32_t, 256> continuation_;  // first step after the continuing prefix
    std::int32_t unk_id_ = 0;
    std::size_t max_chars_;
};

}  // namespace sinter::text
