// What sinter makes of a checkpoint folder's added tokens, for tools/fuzz_added_tokens.py: one
// line per added token, "id\tcontent\tspecial\tnormalized\tlstrip\trstrip\tsingle_word", then
// "size\tN", "split\t<0|1>\tclean\t<0|1>", and "decode\t<skip>\t<text>" (the added ids, in their
// order, decoded without and with skip_special_tokens); then "ids\t<text>\t<ids>" for each further
// argument (encoded with [CLS] and [SEP]). A refused folder prints "error\t<message>" and exits 1.
// Built by the script: c++ -std=c++20 -O1 -I include tools/added_tokens_probe.cpp
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "sinter/text/tokenizer.hpp"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs("usage: added_tokens_probe FOLDER [TEXT...]\n", stderr);
        return 2;
    }
    try {
        const auto t = sinter::text::Tokenizer::from_directory(argv[1]);
        std::vector<std::int32_t> all;
        for (const auto& a : t.added_tokens()) {
            std::printf("%d\t%s\t%d\t%d\t%d\t%d\t%d\n", a.id, a.token.content.c_str(), a.token.special,
                        a.token.normalized, a.token.lstrip, a.token.rstrip, a.token.single_word);
            all.push_back(a.id);
        }
        std::printf("size\t%zu\n", t.size());
        std::printf("split\t%d\tclean\t%d\n", t.options().split_special_tokens, t.options().clean_up_tokenization_spaces);
        std::printf("decode\t0\t%s\n", t.decode(all).c_str());
        std::printf("decode\t1\t%s\n", t.decode(all, {.skip_special_tokens = true}).c_str());
        for (int i = 2; i < argc; ++i) {
            std::string ids;
            for (const auto id : t.encode(argv[i]).ids) ids += (ids.empty() ? "" : " ") + std::to_string(id);
            std::printf("ids\t%s\t%s\n", argv[i], ids.c_str());
        }
    } catch (const std::exception& e) {
        std::printf("error\t%s\n", e.what());
        return 1;
    }
}
