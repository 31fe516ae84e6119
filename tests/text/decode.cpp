// Decoding: ids back to text as transformers 5 decodes them (Tokenizer::decode, decoder.hpp).
// Golden: tests/golden/text/decode, written by tools/make_decode_golden.py with transformers 5.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "../support/errors.hpp"
#include "golden.hpp"
#include "sinter/text/tokenizer.hpp"

using namespace sinter::text;
using ids_t = std::vector<std::int32_t>;
using sinter::test::error_message;

TEST_CASE("decode gives the text transformers 5 gives (golden)") {
    const auto lines = golden::read_lines("decode/cases.tsv");
    REQUIRE(lines.size() == 2532);
    std::map<std::string, Tokenizer, std::less<>> tokenizers;  // by golden folder
    std::map<std::string, std::size_t, std::less<>> checked;
    std::size_t wrong = 0;
    for (const auto& line : lines) {
        const auto f = golden::split(line);
        REQUIRE(f.size() == 5);
        auto it = tokenizers.find(f[0]);
        if (it == tokenizers.end()) {
            const golden::Folder folder{std::string(f[0])};
            it = tokenizers.emplace(std::string(f[0]), Tokenizer::from_directory(folder.dir())).first;
        }
        const DecodeOptions options{.skip_special_tokens = f[1] == "1",
                                    .clean_up_tokenization_spaces =
                                        f[2] == "-" ? std::nullopt : std::optional<bool>(f[2] == "1")};
        const ids_t ids = golden::decimal_ids(f[3]);
        const std::string got = it->second.decode(ids, options);
        ++checked[std::string(f[0])];
        if (got != f[4] && wrong++ < 5)
            FAIL_CHECK(f[0] << " skip " << f[1] << " clean " << f[2] << ": " << golden::show(it->second.vocab(), ids)
                            << "\n  sinter:       \"" << got << "\"\n  transformers: \"" << f[4] << "\"");
    }
    for (const auto& [folder, n] : checked) MESSAGE(folder << ": " << n << " decodings");
    CHECK(checked.size() == 10);  // decode/, its three folders of special flags, and added/ but v5
    CHECK(checked["decode"] == 301 * 6);
    CHECK(wrong == 0);
}

TEST_CASE("id_to_token, the folder's clean-up option, and ids outside the tokenizer") {
    const golden::Folder cleaning("decode"), plain("added/v4");
    const Tokenizer t = Tokenizer::from_directory(cleaning.dir());
    CHECK(t.options().clean_up_tokenization_spaces);  // its tokenizer_config.json says so
    CHECK_FALSE(Tokenizer::from_directory(plain.dir()).options().clean_up_tokenization_spaces);  // the default
    CHECK(t.id_to_token(30522) == "covid19");   // an added token
    CHECK(t.id_to_token(30523) == "new york");  // normalised, as tokenizers 0.23 gives it
    CHECK(t.id_to_token(30525) == " 中  文 ");
    CHECK(t.id_to_token(30528) == "<sp>");      // raw: its content
    CHECK(t.id_to_token(30530) == "[z]");       // special, normalised: skip_special_tokens keeps it
    CHECK(t.decode(ids_t{30528, 30530, 30523}, {.skip_special_tokens = true}) == "[z] new york");
    CHECK(t.id_to_token(7592) == "hello");
    CHECK(t.id_to_token(2015) == "##s");
    CHECK(t.id_to_token(-1) == std::nullopt);
    CHECK(t.id_to_token(std::int32_t(t.size())) == std::nullopt);
    CHECK(t.decode(ids_t{}).empty());
    // A word piece first keeps its "##"; later ones join the token before them.
    CHECK(t.decode(ids_t{2015, 2003, 2015, 2003}) == "##s iss is");
    CHECK(t.decode(ids_t{101, 2009, 1005, 1055, 102}) == "[CLS] it's [SEP]");
    CHECK(t.decode(ids_t{101, 2009, 1005, 1055, 102}, {.clean_up_tokenization_spaces = false}) == "[CLS] it ' s [SEP]");
    CHECK(t.decode(ids_t{101, 2009, 1005, 1055, 102}, {.skip_special_tokens = true}) == "it's");
    CHECK(error_message<sinter::value_error>([&] { t.decode(ids_t{101, 30533, 102}); }) ==
          "decode: id 30533 (position 1) is outside the tokenizer's 30533 ids");
    CHECK(error_message<sinter::value_error>([&] { t.decode(ids_t{-4}); }) ==
          "decode: id -4 (position 0) is outside the tokenizer's 30533 ids");
}

TEST_CASE("the clean-ups work within a token, and across tokens") {
    // tokenizers' WordPiece clean-up sees one token at a time, with the space put before it, and
    // also turns " do not" into " don't"; transformers' sees the whole text, without that rule.
    // ids and texts: transformers 5.25 (BertTokenizer + add_tokens).
    const Tokenizer t(golden::vocab(), {.added_tokens = {{.content = "x do not y"}, {.content = "q ."}}});
    const ids_t ids{1037, 30522, 30523, 2009, 1005, 1055};
    CHECK(t.decode(ids) == "a x don't y q. it ' s");
    CHECK(t.decode(ids, {.clean_up_tokenization_spaces = true}) == "a x don't y q. it's");
    CHECK(t.decode(t.encode("Hello, world! It's 3.5 naïve").ids, {.skip_special_tokens = true, .clean_up_tokenization_spaces = true}) ==
          "hello, world! it's 3. 5 naive");
    // Each rule is applied to the whole text before the next; a replacement is not scanned again.
    std::string s = " ' ' x do not";  // " ' " at 0; the "' " left after it is not a match
    detail::wordpiece_cleanup(s);
    CHECK(s == "'' x don't");
    s = " ' ' x do not";
    detail::clean_up_tokenization(s);
    CHECK(s == "'' x do not");
}
