// The tokenizer's rules one at a time: special tokens, options, truncation, padding and batches,
// and every way a vocabulary or a config can be refused.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../support/errors.hpp"
#include "golden.hpp"
#include "sinter/text/tokenizer.hpp"

using namespace sinter::text;
using ids_t = std::vector<std::int32_t>;

namespace {

const Tokenizer& uncased() {
    static const Tokenizer t(golden::vocab());
    return t;
}

std::vector<std::string> tokens(const Tokenizer& t, std::string_view text) {
    std::vector<std::string> out;
    for (const auto id : t.tokenize(text)) out.push_back(t.vocab().token(id));
    return out;
}

using strings = std::vector<std::string>;

using sinter::test::error_message;

}  // namespace

TEST_CASE("bert-base-uncased ids") {
    const auto& t = uncased();
    CHECK(t.pad_id() == 0);
    CHECK(t.unk_id() == 100);
    CHECK(t.cls_id() == 101);
    CHECK(t.sep_id() == 102);
    CHECK(t.encode("Hello, world!").ids == ids_t{101, 7592, 1010, 2088, 999, 102});
    CHECK(t.encode("").ids == ids_t{101, 102});
    CHECK(t.encode(" \t\n\u3000").ids == ids_t{101, 102});
    CHECK(tokens(t, "unaffable") == strings{"una", "##ffa", "##ble"});
}

TEST_CASE("special tokens are found in the raw text, before normalisation") {
    const auto& t = uncased();
    CHECK(t.tokenize("[MASK]") == ids_t{103});
    CHECK(tokens(t, "a[MASK]b") == strings{"a", "[MASK]", "b"});
    CHECK(tokens(t, "[mask]") == strings{"[", "mask", "]"});            // lowercasing comes later
    CHECK(tokens(t, "[[MASK]]") == strings{"[", "[MASK]", "]"});
    CHECK(tokens(t, "[MASKED]") == strings{"[", "masked", "]"});  // not a special token
    CHECK(tokens(t, "[CLS][SEP][PAD][UNK]") == strings{"[CLS]", "[SEP]", "[PAD]", "[UNK]"});
    CHECK(tokens(t, "[\u200bMASK]") == strings{"[", "mask", "]"});      // the removed character still splits the match
    CHECK(tokens(t, "[unused1]") == strings{"[", "unused", "##1", "]"});
    const Tokenizer cased(golden::vocab(), {.normalizer = {.lowercase = false, .strip_accents = false, .handle_chinese_chars = true}});
    CHECK(tokens(cased, "[MASK] [CLS]") == strings{"[MASK]", "[CLS]"});
}

TEST_CASE("words: the 100-character limit counts normalised characters") {
    const auto& t = uncased();
    const std::string a100(100, 'a'), a101(101, 'a');
    CHECK(t.tokenize(a100).size() > 1);
    CHECK(t.tokenize(a101) == ids_t{100});
    std::string e100;  // e + U+0301, 100 times: 200 code points, 100 once the accents are stripped
    for (int i = 0; i < 100; ++i) e100 += "e\xCC\x81";
    CHECK(t.tokenize(e100) != ids_t{100});
    const Tokenizer keep(golden::vocab(), {.normalizer = {.lowercase = true, .strip_accents = false, .handle_chinese_chars = true}});
    CHECK(keep.tokenize(e100) == ids_t{100});
    CHECK(tokens(t, "xyzzyq\xE2\x82\xAC") == strings{"x", "##y", "##zzy", "##q", "##€"});  // greedy, not best
    CHECK(tokens(t, "a\xF0\x9F\xAB\xA0z") == strings{"[UNK]"});  // one piece missing: the whole word
}

TEST_CASE("options: lowercase, strip_accents and tokenize_chinese_chars") {
    const auto& v = golden::vocab();
    const Tokenizer u(v);
    const Tokenizer lower_keep(v, {.normalizer = {.lowercase = true, .strip_accents = false, .handle_chinese_chars = true}});
    const Tokenizer no_cjk(v, {.normalizer = {.lowercase = true, .strip_accents = std::nullopt, .handle_chinese_chars = false}});
    CHECK(tokens(u, "Café") == strings{"cafe"});
    CHECK(tokens(lower_keep, "Café") == strings{"[UNK]"});  // bert-base-uncased has no "##é"
    CHECK(tokens(u, "北京") == strings{"北", "京"});
    CHECK(tokens(no_cjk, "北京") == strings{"北", "##京"});
}

TEST_CASE("tokenizer_config.json options") {
    auto c = parse_tokenizer_config(R"({"do_lower_case": false, "strip_accents": null, "model_max_length": 512,
        "added_tokens_decoder": {"0": {"content": "[PAD]", "lstrip": false, "special": true}},
        "never_split": ["a\"b", {"x": [1, 2.5e3, true]}], "tokenize_chinese_chars": false})");
    NormalizerOptions o = c.normalizer;
    CHECK(o.lowercase == false);
    CHECK(o.strip_accents.has_value() == false);
    CHECK(o.strips_accents() == false);
    CHECK(o.handle_chinese_chars == false);
    CHECK(c.split_special_tokens == false);
    o = parse_tokenizer_config(R"({"strip_accents": true})").normalizer;
    CHECK((o.lowercase && o.strip_accents == true && o.handle_chinese_chars));
    o = parse_tokenizer_config("{}").normalizer;
    CHECK((o.lowercase && !o.strip_accents && o.strips_accents()));
    c = parse_tokenizer_config(R"({"split_special_tokens": true})");
    CHECK((c.split_special_tokens && c.normalizer.lowercase));
    CHECK(parse_tokenizer_config(R"({"split_special_tokens": false})").split_special_tokens == false);
    CHECK(error_message<sinter::config_error>([] { parse_tokenizer_config(R"({"split_special_tokens": 1})", "cfg.json"); }) ==
          "cfg.json: \"split_special_tokens\" must be true or false");
    CHECK(parse_tokenizer_config(R"({"clean_up_tokenization_spaces": true})").clean_up_tokenization_spaces);
    CHECK_FALSE(parse_tokenizer_config(R"({"clean_up_tokenization_spaces": null})").clean_up_tokenization_spaces);
    CHECK_FALSE(parse_tokenizer_config("{}").clean_up_tokenization_spaces);
    CHECK(error_message<sinter::config_error>([] { parse_tokenizer_config(R"({"clean_up_tokenization_spaces": 0})", "cfg.json"); }) ==
          "cfg.json: \"clean_up_tokenization_spaces\" must be true or false or null");
    CHECK(error_message<sinter::config_error>([] { parse_tokenizer_config(R"({"do_lower_case": "yes"})", "cfg.json"); })
              .find("cfg.json: \"do_lower_case\" must be true or false") == 0);
    CHECK(error_message<sinter::format_error>([] { parse_tokenizer_config(R"({"a": [1, 2)", "cfg.json"); })
              .find("cfg.json: JSON error at byte 11") != std::string::npos);
    CHECK(error_message<sinter::format_error>([] { parse_tokenizer_config("[]", "cfg.json"); }).find("expected a JSON object") != std::string::npos);
    // Python's json writes NaN and Infinity for non-finite floats: read, in keys sinter ignores.
    o = parse_tokenizer_config(R"({"do_lower_case": false, "x": NaN, "model_max_length": Infinity, "y": [-Infinity]})").normalizer;
    CHECK(o.lowercase == false);
    // Strict JSON: mismatched brackets, trailing bytes and duplicate keys are refused, not skipped.
    for (const char* broken : {R"({"a":[},"do_lower_case":false})", R"({"do_lower_case":false} x)",
                               R"({"do_lower_case":true,"do_lower_case":false})"}) {
        INFO(broken);
        CHECK(error_message<sinter::format_error>([&] { parse_tokenizer_config(broken, "cfg.json"); }).find("cfg.json: JSON error") !=
              std::string::npos);
    }
}

TEST_CASE("from_directory reads vocab.txt and tokenizer_config.json") {
    const golden::Folder folder("none");  // vocab.txt alone
    const auto& dir = folder.dir();
    folder.write("tokenizer_config.json", R"({"do_lower_case": false, "tokenize_chinese_chars": true})");
    const auto t = Tokenizer::from_directory(dir);
    CHECK(t.options().normalizer.lowercase == false);
    CHECK(tokens(t, "Hello") == strings{"[UNK]"});
    std::filesystem::remove(dir / "vocab.txt");
    CHECK(error_message<sinter::io_error>([&] { Tokenizer::from_directory(dir); }).find("has no vocab.txt or tokenizer.json") !=
          std::string::npos);

    // Without vocab.txt, the vocabulary of tokenizer.json (transformers 5 saves only that): the
    // same tokens as the vocab.txt it was made from, in the same order, so the same ids.
    const Vocab& words = golden::vocab();
    std::string json = R"({"version": "1.0", "normalizer": {"type": "BertNormalizer", "lowercase": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "vocab": {)";
    for (std::size_t i = words.size(); i-- > 0;) {  // in reverse: the ids, not the order, number the tokens
        std::string escaped;
        for (const char c : words.token(std::int32_t(i))) escaped += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
        json += "\"" + escaped + "\": " + std::to_string(i) + (i ? ", " : "");
    }
    std::ofstream(dir / "tokenizer.json") << json << "}}}";
    const auto from_json = Tokenizer::from_directory(dir);
    REQUIRE(from_json.vocab().size() == words.size());
    CHECK(from_json.vocab().tokens() == words.tokens());
    CHECK(from_json.options().normalizer.lowercase == false);  // tokenizer_config.json's, as transformers 5
    const std::string text = "Hello, unaffable [MASK] world!";
    CHECK(from_json.encode(text).ids == Tokenizer(words, from_json.options()).encode(text).ids);
}

TEST_CASE("tokenizer.json vocabularies that are refused") {
    const auto refused = [](const std::string& model) {
        return error_message<sinter::error>([&] { parse_tokenizer_json_vocab("{\"model\": " + model + "}", "t.json"); });
    };
    CHECK(refused(R"({"type": "BPE", "vocab": {"a": 0}, "merges": []})") ==
          "t.json: the tokenizer's model is BPE, not WordPiece: sinter tokenizes as BERT does");
    CHECK(refused(R"({"type": "WordPiece"})") == "t.json: model has no \"vocab\"");
    CHECK(refused(R"({"vocab": {"[PAD]": 0, "[UNK]": 2}})") ==
          "t.json: model.vocab gives \"[UNK]\" id 2, outside [0, 2): the ids must number its 2 tokens from 0");
    CHECK(refused(R"({"vocab": {"[PAD]": 1, "[UNK]": 1}})") ==
          "t.json: model.vocab gives \"[PAD]\" and \"[UNK]\" the same id 1");
    CHECK(refused(R"({"vocab": {"[PAD]": 0, "[PAD]": 1}})").find("(\"[PAD]\" repeats)") != std::string::npos);
    CHECK(refused(R"({"vocab": ["a", "b", "a"]})") == "t.json: model.vocab lists \"a\" twice (entries 0 and 2)");
    CHECK(refused(R"({"vocab": {"[PAD]": "0"}})").find("the id of \"[PAD]\"") != std::string::npos);
    CHECK(error_message<sinter::format_error>([] { parse_tokenizer_json_vocab("[]", "t.json"); }) ==
          "t.json: expected a JSON object ('{')");
    CHECK(error_message<sinter::format_error>([] { parse_tokenizer_json_vocab("{}", "t.json"); }) ==
          "t.json: has no \"model\" object");
    // A list: token i has id i.
    CHECK(parse_tokenizer_json_vocab(R"({"model": {"type": "WordPiece", "vocab": ["[PAD]", "a", "##b"]}})").find("##b") == 2);
}

TEST_CASE("truncation: longest_first with tokenizers' tie-breaking") {
    // (na, nb, budget) -> kept
    CHECK(truncate_longest_first(3, 4, 10) == std::pair<std::size_t, std::size_t>{3, 4});   // fits
    CHECK(truncate_longest_first(3, 20, 10) == std::pair<std::size_t, std::size_t>{3, 7});  // the longer gives way
    CHECK(truncate_longest_first(20, 3, 10) == std::pair<std::size_t, std::size_t>{7, 3});
    CHECK(truncate_longest_first(8, 9, 10) == std::pair<std::size_t, std::size_t>{5, 5});
    CHECK(truncate_longest_first(8, 9, 11) == std::pair<std::size_t, std::size_t>{5, 6});   // odd: the longer gets more
    CHECK(truncate_longest_first(9, 8, 11) == std::pair<std::size_t, std::size_t>{6, 5});
    CHECK(truncate_longest_first(9, 9, 11) == std::pair<std::size_t, std::size_t>{5, 6});   // tie: the first gets less
    CHECK(truncate_longest_first(2, 4, 1) == std::pair<std::size_t, std::size_t>{0, 1});
    CHECK(truncate_longest_first(5, 5, 0) == std::pair<std::size_t, std::size_t>{0, 0});

    const auto& t = uncased();
    const auto e = t.encode("a b c d e f g h i", "q r s t u v w x y", {.max_length = 14});  // 9 + 9 + 3 > 14
    CHECK(e.ids == ids_t{101, 1037, 1038, 1039, 1040, 1041, 102, 1053, 1054, 1055, 1056, 1057, 1058, 102});
    CHECK(e.type_ids == ids_t{0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1});
    CHECK(t.encode("a b c d", {.max_length = 4}).ids == ids_t{101, 1037, 1038, 102});
    CHECK(t.encode("a b", {.max_length = 2}).ids == ids_t{101, 102});
    CHECK(error_message<sinter::value_error>([&] { t.encode("a", "b", {.max_length = 2}); }).find("cannot hold the 3 special tokens") !=
          std::string::npos);
    CHECK(t.encode("a b c", {.max_length = 3, .add_special_tokens = false}).ids == ids_t{1037, 1038, 1039});
    CHECK(t.encode("a b c", {.add_special_tokens = false}).type_ids == ids_t{0, 0, 0});
}

TEST_CASE("padding and batches") {
    const auto& t = uncased();
    const auto one = t.encode("hello", {.max_length = 6, .pad_to_max_length = true});
    CHECK(one.ids == ids_t{101, 7592, 102, 0, 0, 0});
    CHECK(one.attention_mask == ids_t{1, 1, 1, 0, 0, 0});
    CHECK(error_message<sinter::value_error>([&] { t.encode("x", {.pad_to_max_length = true}); }).find("needs a max_length") !=
          std::string::npos);

    const std::vector<std::string> texts{"hello world", "a", "", "the quick brown fox"};
    const auto b = t.encode_batch(texts);
    CHECK(b.batch == 4);
    CHECK(b.length == 6);
    CHECK(b.ids.size() == 24);
    CHECK(b.lengths == ids_t{4, 3, 2, 6});
    CHECK(std::vector<std::int32_t>(b.row_ids(1).begin(), b.row_ids(1).end()) == ids_t{101, 1037, 102, 0, 0, 0});
    CHECK(std::vector<std::int32_t>(b.row_attention_mask(2).begin(), b.row_attention_mask(2).end()) == ids_t{1, 1, 0, 0, 0, 0});

    const auto fixed = t.encode_batch({"hello world", "a"}, {.max_length = 3, .pad_to_max_length = true});
    CHECK((fixed.batch == 2 && fixed.length == 3));
    CHECK(fixed.ids == ids_t{101, 7592, 102, 101, 1037, 102});

    const std::vector<std::string_view> first{"a b", "c"}, second{"d", "e f g"};
    const auto pairs = t.encode_batch(first, second);
    CHECK(pairs.length == 7);
    CHECK(std::vector<std::int32_t>(pairs.row_type_ids(1).begin(), pairs.row_type_ids(1).end()) == ids_t{0, 0, 0, 1, 1, 1, 1});
    CHECK(std::vector<std::int32_t>(pairs.row_type_ids(0).begin(), pairs.row_type_ids(0).end()) == ids_t{0, 0, 0, 0, 1, 1, 0});
    CHECK(error_message<sinter::value_error>([&] { t.encode_batch(first, std::vector<std::string>{"x"}); })
              .find("2 first texts but 1 second texts") != std::string::npos);

    const auto empty = t.encode_batch(std::vector<std::string>{});
    CHECK((empty.batch == 0 && empty.length == 0 && empty.ids.empty()));
}

TEST_CASE("invalid UTF-8 in a batch names the text and the byte") {
    const auto& t = uncased();
    const std::vector<std::string> texts{"fine", "also fine", "bad \xC3("};
    CHECK(error_message<sinter::format_error>([&] { t.encode_batch(texts); }).find("invalid UTF-8 in text 2 of the batch at byte 4 (0xc3)") == 0);
    const Tokenizer lenient(golden::vocab(), {.invalid_utf8 = InvalidUtf8::replace});
    CHECK(lenient.tokenize("ab\xFF" "cd") == t.tokenize("abcd"));  // U+FFFD is then removed by clean-up
}

TEST_CASE("vocabularies that are refused") {
    CHECK(error_message<sinter::format_error>([] { Tokenizer(Vocab::parse("[PAD]\n[UNK]\n[CLS]\nhello\n", "v.txt")); }) ==
          "v.txt has no line \"[SEP]\": a BERT vocabulary needs [UNK], [CLS], [SEP] and [PAD]");
    CHECK(error_message<sinter::format_error>([] { Tokenizer(Vocab::parse("[PAD]\n[CLS]\n[SEP]\n", "v.txt")); }) ==
          "v.txt has no line \"[UNK]\": a BERT vocabulary needs [UNK], [CLS], [SEP] and [PAD]");
    CHECK(error_message<sinter::format_error>([] { Tokenizer(Vocab::parse("[PAD]\n[UNK]\n[SEP]\n", "v.txt")); }).find("no line \"[CLS]\"") !=
          std::string::npos);
    CHECK(error_message<sinter::format_error>([] { Tokenizer(Vocab::parse("[UNK]\n[CLS]\n[SEP]\n", "v.txt")); }).find("[PAD]") !=
          std::string::npos);
    CHECK(error_message<sinter::format_error>([] { Vocab::parse("[PAD]\nok\nb\xE9\n", "v.txt"); }) ==
          "v.txt line 3: invalid UTF-8 at byte 1 of the line (0xe9)");
    CHECK(error_message<sinter::format_error>([] { Vocab::parse("[PAD]\nhello\nworld\nhello \r\n", "v.txt"); }) ==
          "v.txt line 4: token \"hello\" repeats line 2; every token must appear once");
    CHECK(error_message<sinter::io_error>([] { Vocab::load("/nonexistent/vocab.txt"); }).find("cannot open vocabulary /nonexistent/vocab.txt") == 0);

    // Trailing White_Space goes (as Rust's trim_end), leading stays; "\r\n" line ends work.
    const auto v = Vocab::parse("[PAD]\r\n[UNK]\t\n[CLS]\xE3\x80\x80\n[SEP]\n ##x\n");
    CHECK(v.size() == 5);
    CHECK(v.find("[CLS]") == 2);
    CHECK(v.find(" ##x") == 4);
    CHECK(v.token(1) == "[UNK]");
    CHECK(error_message<sinter::value_error>([&] { v.token(5); }).find("token id 5 is outside") == 0);
    const Tokenizer tiny(v);
    CHECK(tiny.encode("anything").ids == ids_t{2, 1, 3});
}
