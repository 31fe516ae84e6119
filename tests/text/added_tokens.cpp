// Added tokens: matched whole, in the raw or the normalised text, numbered as Hugging Face numbers
// them; read from the three ways a folder stores them; and every way a folder's are refused.
// Golden: tests/golden/text/added, written by tools/make_added_tokens_golden.py with transformers 5.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "../support/errors.hpp"
#include "golden.hpp"
#include "sinter/text/tokenizer.hpp"

using namespace sinter::text;
using ids_t = std::vector<std::int32_t>;
namespace fs = std::filesystem;

namespace {

using sinter::test::error_message;

// A checkpoint folder of the golden's added-token files for `variant` (v4, v5, legacy...), or of
// vocab.txt alone for a variant the golden lacks.
golden::Folder Folder(const std::string& variant) { return golden::Folder("added/" + variant); }

std::string loading_error(const golden::Folder& f) {
    return error_message<sinter::error>([&] { Tokenizer::from_directory(f.dir()); });
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Checks that two tokenizers, one taking the streaming pass and one the buffered pass, give the
// same ids for every text of the golden folder `variant`; returns how many texts it checked.
std::size_t passes_agree(const std::string& variant, const Tokenizer& streaming, const Tokenizer& buffered) {
    std::size_t checked = 0;
    for (const auto& line : golden::read_lines("added/cases.tsv")) {
        const auto f = golden::split(line);
        if (f[1] != variant) continue;
        for (std::size_t k = 2; k < f.size() - 1; ++k) {
            ++checked;
            CHECK_MESSAGE(streaming.tokenize(f[k]) == buffered.tokenize(f[k]), golden::printable(f[k]));
        }
    }
    return checked;
}

}  // namespace

TEST_CASE("folders with added tokens tokenize as transformers 5 (golden)") {
    const auto lines = golden::read_lines("added/cases.tsv");
    REQUIRE(lines.size() == 5 * 339 + 329 + 324);
    for (const std::string variant : {"v4", "v5", "legacy", "legacy_map", "config_extras", "single_word", "split_special"}) {
        CAPTURE(variant);
        const auto folder = Folder(variant);
        const Tokenizer t = Tokenizer::from_directory(folder.dir());
        std::size_t checked = 0, wrong = 0;
        for (const auto& line : lines) {
            const auto f = golden::split(line);
            if (f[1] != variant) continue;
            const bool pair = f[0] == "P";
            const ids_t want = golden::decimal_ids(f[pair ? 4 : 3]);
            const ids_t got = pair ? t.encode(f[2], f[3]).ids : t.encode(f[2]).ids;
            ++checked;
            if (got != want && wrong++ < 5)
                FAIL_CHECK(variant << ": \"" << golden::printable(f[2]) << "\"" << (pair ? " + \"" + golden::printable(f[3]) + "\"" : "")
                                   << "\n  sinter:       " << golden::show(t.vocab(), got)
                                   << "\n  transformers: " << golden::show(t.vocab(), want));
        }
        MESSAGE(variant << ": " << checked << " texts, " << wrong << " differ");
        CHECK(checked == (variant == "single_word" ? 329u : variant == "split_special" ? 324u : 339u));
        CHECK(wrong == 0);
    }
}

TEST_CASE("the golden folders' tokens and ids") {
    const auto folder = Folder("v4");
    const Tokenizer t = Tokenizer::from_directory(folder.dir());
    CHECK(t.size() == 30522 + 11);  // the vocabulary, then the added tokens it lacks
    CHECK(t.token_to_id("covid19") == 30522);
    CHECK(t.token_to_id("<e") == 30532);
    CHECK(t.token_to_id("hello") == 7592);  // in the vocabulary: its id
    CHECK(t.token_to_id("[MASK]") == 103);
    CHECK(t.token_to_id("nothing-like-this") == std::nullopt);
    // A batch takes the same path as one text; so do the buffered pass's invalid UTF-8 rules.
    const std::vector<std::string> texts = {"NEW YORK covid19", "<ent>Café", ""};
    const auto batch = t.encode_batch(texts);
    for (std::size_t r = 0; r < texts.size(); ++r) {
        const auto one = t.encode(texts[r]).ids;
        CHECK(ids_t(batch.ids.begin() + std::ptrdiff_t(r * std::size_t(batch.length)),
                    batch.ids.begin() + std::ptrdiff_t(r * std::size_t(batch.length) + one.size())) == one);
    }
    CHECK(error_message<sinter::format_error>([&] { t.tokenize("covid19 \xC3"); }) ==
          "invalid UTF-8 in the input text at byte 8 (0xc3); pass InvalidUtf8::replace to substitute U+FFFD instead");
    CHECK(error_message<sinter::format_error>([&] { t.tokenize("[CLS]<ent>\xE2<ent>"); }).find("at byte 10") != std::string::npos);
    TokenizerOptions lenient = t.options();
    lenient.invalid_utf8 = InvalidUtf8::replace;
    const Tokenizer replacing(t.vocab(), lenient);
    CHECK(replacing.tokenize("cov\xFFid19 \xE2<ent>") == ids_t{30522, 30527});  // U+FFFD leaves no trace
}

TEST_CASE("added tokens given to the constructor") {
    const Vocab& vocab = golden::vocab();
    // Raw (normalized = false) tokens match exactly, before normalisation; normalised ones match
    // their normalised content; the vocabulary's tokens keep their ids, new ones follow it in order.
    const Tokenizer t(vocab, {.added_tokens = {{.content = "Foo-Bar"},
                                               {.content = "<X>", .special = true, .normalized = false},
                                               {.content = "the"},
                                               {.content = "ÀB", .normalized = false}}});
    CHECK(t.token_to_id("Foo-Bar") == 30522);
    CHECK(t.token_to_id("<X>") == 30523);
    CHECK(t.token_to_id("the") == 1996);
    CHECK(t.token_to_id("ÀB") == 30524);
    CHECK(t.size() == 30525);
    CHECK(t.tokenize("foo-bar FOO-BAR Foo-Barx foo bar") == ids_t{30522, 30522, 30522, 1060, 29379, 3347});
    CHECK(t.tokenize("<X> <x> a<X>b") == ids_t{30523, 1026, 1060, 1028, 1037, 30523, 1038});
    CHECK(t.tokenize("ÀB àb xÀBy") == ids_t{30524, 11113, 1060, 30524, 1061});
    CHECK(t.tokenize("theater") == ids_t{1996, 8823, 2099});  // a match ends the word: the + ate ##r
    // BERT's five come after the list, unless it has them; [MASK] stays raw.
    REQUIRE(t.added_tokens().size() == 9);
    CHECK(t.added_tokens()[4].token.content == "[UNK]");
    CHECK(t.added_tokens()[8].token.content == "[MASK]");
    CHECK(t.tokenize("[mask][MASK]") == ids_t{1031, 7308, 1033, 103});
    // Listing a named token changes how it matches: here [MASK] normalised, so [mask] is one too.
    const Tokenizer lowered_mask(vocab, {.added_tokens = {{.content = "[MASK]", .special = true, .normalized = true}}});
    CHECK(lowered_mask.tokenize("[mask][MASK]") == ids_t{103, 103});
    CHECK(lowered_mask.added_tokens()[0].token.content == "[MASK]");

    const auto refused = [&](std::vector<AddedToken> added) {
        return error_message<sinter::error>([&] { Tokenizer(vocab, {.added_tokens = std::move(added)}); });
    };
    CHECK(refused({{.content = ""}}) == "an added token is empty");
    CHECK(refused({{.content = "x1"}, {.content = "x1", .normalized = false}}) == "added token \"x1\" is listed twice");
    CHECK(refused({{.content = "\x01\x02"}}) == "added token \"\x01\x02\" normalises to nothing, so it cannot be matched");
    CHECK(refused({{.content = "a\xFF"}}) == "added token \"a\xFF\" is not valid UTF-8 (byte 1)");
    // Two normalised tokens with one normalised text: tokenizers would pick either, run by run.
    CHECK(refused({{.content = "Hello"}, {.content = "HELLO"}}) ==
          "added token \"HELLO\" and added token \"Hello\" normalise to the same text, which Hugging Face "
          "matches as either, from one run to the next");
    CHECK(refused({{.content = "Hello"}, {.content = "hello", .normalized = false}}) == "(no error)");  // a raw one
    try {
        Tokenizer(vocab, {.added_tokens = {{.content = "ok1"}, {.content = "\x01"}}});
        FAIL("no error");
    } catch (const added_token_error& e) {
        CHECK(e.index() == 1);  // which entry, for a loader to name its file
    }
}

TEST_CASE("added tokens in a folder that are refused") {
    SUBCASE("an id that transformers would not give") {
        const auto f = Folder("v4");
        std::ifstream in(f.dir() / "tokenizer_config.json");
        std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto at = config.find("\"30522\"");
        REQUIRE(at != std::string::npos);
        config.replace(at, 7, "\"40000\"");  // covid19 moves after the others: they all shift down
        f.write("tokenizer_config.json", config);
        CHECK(loading_error(f) == (f.dir() / "tokenizer_config.json").string() +
                                      ": added token \"New York\" has id 30523, but Hugging Face's tokenizer gives "
                                      "it 30522 (a token of the vocabulary keeps its id; the others take 30522, "
                                      "30523... in id order)");
    }
    SUBCASE("a vocabulary token under another id") {
        const auto f = Folder("legacy");
        f.write("added_tokens.json", R"({"hello": 30522})");
        CHECK(contains(loading_error(f), "added_tokens.json: added token \"hello\" has id 30522, but Hugging Face's "
                                         "tokenizer gives it 7592"));
    }
    SUBCASE("another named special token") {
        const auto f = Folder("none");
        f.write("tokenizer_config.json", R"({"cls_token": {"__type": "AddedToken", "content": "<s>", "special": true}})");
        CHECK(loading_error(f) == (f.dir() / "tokenizer_config.json").string() +
                                      " \"cls_token\" is \"<s>\": sinter's tokenizer is BERT's, whose cls_token is [CLS]");
        f.write("tokenizer_config.json", R"({"mask_token": null})");
        CHECK(contains(loading_error(f), "\"mask_token\" is null: sinter's tokenizer is BERT's"));
        // transformers refuses an object without "__type" there (a TypeError): so does sinter.
        f.write("tokenizer_config.json", R"({"mask_token": {"content": "[MASK]"}})");
        CHECK(contains(loading_error(f), "\"mask_token\": expected a string, null or an AddedToken object"));
        // special_tokens_map.json (read for an older save) overrides tokenizer_config.json.
        f.write("tokenizer_config.json", R"({"cls_token": "[CLS]"})");
        f.write("special_tokens_map.json", R"({"cls_token": {"content": "<cls>"}})");
        CHECK(loading_error(f) == (f.dir() / "special_tokens_map.json").string() +
                                      " \"cls_token\" is \"<cls>\": sinter's tokenizer is BERT's, whose cls_token is [CLS]");
    }
    SUBCASE("malformed entries") {
        const auto f = Folder("none");
        f.write("tokenizer_config.json", R"({"added_tokens_decoder": {"x": {"content": "a"}}})");
        CHECK(contains(loading_error(f), "\"added_tokens_decoder\" entry \"x\": the key must be a token id"));
        f.write("tokenizer_config.json", R"({"added_tokens_decoder": {"30522": {"lstrip": true}}})");
        CHECK(contains(loading_error(f), "\"added_tokens_decoder\" entry \"30522\": has no \"content\""));
        f.write("tokenizer_config.json", R"({"added_tokens_decoder": {"30522": {"content": "a1", "normalized": 1}}})");
        CHECK(contains(loading_error(f), "\"added_tokens_decoder\" entry \"30522\" \"normalized\": expected a boolean"));
        f.write("tokenizer_config.json", R"({"added_tokens_decoder": {"30522": {"content": "a1"}, "30523": {"content": "a1"}}})");
        CHECK(contains(loading_error(f), "tokenizer_config.json: added token \"a1\" is listed twice"));
        f.write("tokenizer_config.json", R"({"added_tokens_decoder": {"30522": {"content": ""}}})");
        CHECK(contains(loading_error(f), "tokenizer_config.json: an added token (id 30522) is empty"));
        // The tokenizer's own refusals name the file that listed the token.
        f.write("tokenizer_config.json", R"({"added_tokens_decoder": {"30522": {"content": "\u0001\u0002"}}})");
        CHECK(loading_error(f) == (f.dir() / "tokenizer_config.json").string() +
                                      ": added token \"\x01\x02\" normalises to nothing, so it cannot be matched");
        f.write("tokenizer_config.json", R"({"tokenizer_class": "BertTokenizer"})");
        f.write("added_tokens.json", R"({"a1": 30522})");
        f.write("tokenizer.json", R"({"added_tokens": [{"id": 30523, "content": "a1"}]})");
        CHECK(loading_error(f) == (f.dir() / "tokenizer.json").string() + ": added token \"a1\" is listed twice (also in " +
                                      (f.dir() / "added_tokens.json").string() + ")");
        fs::remove(f.dir() / "added_tokens.json");
        fs::remove(f.dir() / "tokenizer_config.json");
        f.write("tokenizer.json", R"({"model": {"type": "WordPiece", "vocab": {}}, "added_tokens": [{"content": "q1"}]})");
        CHECK(contains(loading_error(f), "tokenizer.json \"added_tokens\" entry 0: has no \"id\""));
        // One id for two tokens in one file (transformers keeps one, and flags from the other).
        f.write("tokenizer.json", R"({"added_tokens": [{"id": 100, "content": "[CLS]"}, {"id": 100, "content": "[UNK]"}]})");
        CHECK(contains(loading_error(f), "tokenizer.json \"added_tokens\" entry 1: id 100 is entry 0's too"));
        fs::remove(f.dir() / "tokenizer.json");
        f.write("added_tokens.json", R"({"a1": 30522, "b1": 30522})");
        CHECK(contains(loading_error(f), "added_tokens.json: \"a1\" and \"b1\" have the same id 30522"));
    }
}

TEST_CASE("which added tokens are special, and normalised, as transformers 5 decides") {
    // Each folder's flags, and ids, as transformers 5.25 loads it (BertTokenizer).
    const auto flags = [](const Tokenizer& t, std::string_view content) {
        for (const auto& a : t.added_tokens())
            if (a.token.content == content) return std::pair{a.token.special, a.token.normalized};
        FAIL("no added token " << content);
        return std::pair{false, false};
    };
    const auto f = Folder("none");
    // A named token (any *_token key) is special whatever its object says; a missing "normalized"
    // is then false.
    f.write("tokenizer_config.json", R"({"tokenizer_class": "BertTokenizer",
        "ent_token": {"__type": "AddedToken", "content": "New York", "special": false}})");
    Tokenizer t = Tokenizer::from_directory(f.dir());
    CHECK(flags(t, "New York") == std::pair{true, false});
    CHECK(t.encode("A NEW YORK END").ids == ids_t{101, 1037, 2047, 2259, 2203, 102});  // raw: case matters
    // A listed token that a named one names is special, however it is listed.
    f.write("tokenizer_config.json", R"({"tokenizer_class": "BertTokenizer", "bos_token": "<X>",
        "added_tokens_decoder": {"30522": {"content": "<X>", "special": false, "normalized": true},
                                 "103": {"content": "[MASK]", "special": false, "normalized": false}}})");
    t = Tokenizer::from_directory(f.dir());
    CHECK(flags(t, "<X>") == std::pair{true, true});
    CHECK(flags(t, "[MASK]") == std::pair{true, false});
    CHECK(t.decode(ids_t{101, 30522, 103, 102}, {.skip_special_tokens = true}) == "<x>");  // normalised: "<x>"
    // An extra AddedToken object keeps its "special": false, unless a named token has its content.
    f.write("tokenizer_config.json", R"({"tokenizer_class": "BertTokenizer", "additional_special_tokens": [
        {"__type": "AddedToken", "content": "<q>", "special": false, "normalized": false},
        {"__type": "AddedToken", "content": "[CLS]", "normalized": true}]})");
    t = Tokenizer::from_directory(f.dir());
    CHECK(flags(t, "<q>") == std::pair{false, false});
    CHECK(flags(t, "[CLS]") == std::pair{true, true});
    CHECK(t.decode(ids_t{101, 30522}, {.skip_special_tokens = true}) == "[cls] <q>");  // normalised: "[cls]"
    // special_tokens_map.json makes its tokens special: a missing "normalized" is then false.
    f.write("tokenizer_config.json", R"({"tokenizer_class": "BertTokenizer"})");
    f.write("special_tokens_map.json", R"({"bos_token": {"content": "<x>", "special": false}})");
    t = Tokenizer::from_directory(f.dir());
    CHECK(flags(t, "<x>") == std::pair{true, false});
    CHECK(t.encode("a <X> b").ids == ids_t{101, 1037, 1026, 1060, 1028, 1038, 102});
    // added_tokens.json: special (and not normalised) only where a standard named token or an
    // extra one is written as a string; transformers compares the others' str() of a dict.
    fs::remove(f.dir() / "special_tokens_map.json");
    f.write("added_tokens.json", R"({"<e1>": 30522, "<e2>": 30523})");
    f.write("tokenizer_config.json", R"({"tokenizer_class": "BertTokenizer",
        "additional_special_tokens": ["<e1>", {"__type": "AddedToken", "content": "<e2>"}]})");
    t = Tokenizer::from_directory(f.dir());
    CHECK(flags(t, "<e1>") == std::pair{true, false});
    CHECK(flags(t, "<e2>") == std::pair{false, true});
    CHECK(t.encode("a <E2> <e2> b").ids == ids_t{101, 1037, 30523, 30523, 1038, 102});
    f.write("added_tokens.json", R"({"[SEP]": 102})");
    f.write("tokenizer_config.json", R"({"tokenizer_class": "BertTokenizer",
        "sep_token": {"__type": "AddedToken", "content": "[SEP]", "normalized": false}})");
    t = Tokenizer::from_directory(f.dir());
    CHECK(flags(t, "[SEP]") == std::pair{true, true});  // made special after, still normalised
    CHECK(t.encode("a [sep] b").ids == ids_t{101, 1037, 102, 1038, 102});
}

TEST_CASE("named and extra tokens from hand-written files, as transformers 5 adds them") {
    // Files transformers does not write itself; each expectation is transformers 5.25's (BertTokenizer).
    struct Flags {
        std::int32_t id;
        bool special, normalized, lstrip;
        bool operator==(const Flags&) const = default;
    };
    const auto flags = [](const Tokenizer& t, std::string_view content) {
        for (const auto& a : t.added_tokens())
            if (a.token.content == content) return Flags{a.id, a.token.special, a.token.normalized, a.token.lstrip};
        FAIL("no added token " << content);
        return Flags{};
    };
    const auto has = [](const Tokenizer& t, std::string_view content) {
        return std::any_of(t.added_tokens().begin(), t.added_tokens().end(),
                           [&](const AddedTokenId& a) { return a.token.content == content; });
    };
    const auto f = Folder("none");
    SUBCASE("a listed token with no \"normalized\" that a named token makes special is not normalised") {
        f.write("tokenizer.json", R"({"added_tokens": [{"id": 100, "content": "[UNK]"}]})");
        const Tokenizer t = Tokenizer::from_directory(f.dir());
        CHECK(flags(t, "[UNK]") == Flags{100, true, false, false});
        CHECK(t.encode("a [unk] end").ids == ids_t{101, 1037, 1031, 4895, 2243, 1033, 2203, 102});
    }
    SUBCASE("a token named twice: its first id, its last flags") {
        // mask_token's default "[MASK]" comes after eos_token.
        f.write("tokenizer_config.json", R"({"eos_token": {"__type": "AddedToken", "content": "[MASK]",
            "normalized": false, "lstrip": true}})");
        CHECK(flags(Tokenizer::from_directory(f.dir()), "[MASK]") == Flags{103, true, false, false});
        // An extra one comes after the named ones (and is special, as a named one has its text).
        f.write("tokenizer_config.json", R"({"bos_token": "ab", "extra_special_tokens": [
            {"__type": "AddedToken", "content": "ab", "normalized": true, "lstrip": true}]})");
        CHECK(flags(Tokenizer::from_directory(f.dir()), "ab") == Flags{11113, true, true, true});
        // Two equal before either is made special are added once: the first, made special, and so
        // not normalised, as it gives no "normalized".
        f.write("tokenizer_config.json", R"({"eos_token": {"__type": "AddedToken", "content": "[UNK]"},
            "unk_token": {"__type": "AddedToken", "content": "[UNK]", "special": false, "normalized": true}})");
        CHECK(flags(Tokenizer::from_directory(f.dir()), "[UNK]") == Flags{100, true, false, false});
        // Once special, special for decode and split_special_tokens (tokenizers' set of special
        // contents), though transformers reports the last flags, special: false.
        f.write("tokenizer_config.json", R"({"extra_special_tokens": ["<x>",
            {"__type": "AddedToken", "content": "<x>", "special": false}]})");
        const Tokenizer t = Tokenizer::from_directory(f.dir());
        CHECK(flags(t, "<x>") == Flags{30522, true, true, false});
        CHECK(t.decode(ids_t{101, 1037, 30522, 102}, {.skip_special_tokens = true}) == "a");
    }
    SUBCASE("model-specific named tokens: objects first, then strings, which override the older file's") {
        f.write("tokenizer_config.json", R"({"ent_token": "<s>", "foo_token": {"__type": "AddedToken", "content": "<x>",
            "normalized": false}})");
        Tokenizer t = Tokenizer::from_directory(f.dir());
        CHECK(flags(t, "<x>") == Flags{30522, true, false, false});
        CHECK(flags(t, "<s>") == Flags{30523, true, false, false});
        CHECK(t.encode("a <s> Big <x> end").ids == ids_t{101, 1037, 30523, 2502, 30522, 2203, 102});
        f.write("tokenizer_config.json", R"({"foo_token": "ab"})");
        f.write("special_tokens_map.json", R"({"foo_token": "[E1]"})");
        t = Tokenizer::from_directory(f.dir());
        CHECK(t.size() == 30522);
        CHECK(flags(t, "ab") == Flags{11113, true, false, false});
        CHECK(!has(t, "[E1]"));
    }
    SUBCASE("extra_special_tokens as a dict, beside additional_special_tokens") {
        // The dict's tokens are named ones; additional_special_tokens are then the extra ones.
        f.write("tokenizer_config.json", R"({"extra_special_tokens": {"img_token": "<x>"},
            "additional_special_tokens": ["<y>"]})");
        Tokenizer t = Tokenizer::from_directory(f.dir());
        CHECK(flags(t, "<x>") == Flags{30522, true, false, false});
        CHECK(flags(t, "<y>") == Flags{30523, true, false, false});
        // An empty dict leaves room for special_tokens_map.json's additional_special_tokens.
        f.write("tokenizer_config.json", R"({"extra_special_tokens": {}})");
        f.write("special_tokens_map.json", R"({"additional_special_tokens": ["<y>"]})");
        t = Tokenizer::from_directory(f.dir());
        CHECK(flags(t, "<y>") == Flags{30522, true, false, false});
        // special_tokens_map.json's dict replaces the configuration's list.
        f.write("tokenizer_config.json", R"({"extra_special_tokens": ["<x>"]})");
        f.write("special_tokens_map.json", R"({"extra_special_tokens": {}})");
        t = Tokenizer::from_directory(f.dir());
        CHECK(t.size() == 30522);
        CHECK(t.encode("a <x> end").ids == ids_t{101, 1037, 1026, 1060, 1028, 2203, 102});
        f.write("tokenizer_config.json", R"({"tokenizer_class": "BertTokenizer"})");
        f.write("special_tokens_map.json", R"({"extra_special_tokens": {"img_token": "<x>"}})");
        t = Tokenizer::from_directory(f.dir());
        CHECK(flags(t, "<x>") == Flags{30522, true, false, false});
    }
    SUBCASE("values transformers refuses") {
        f.write("tokenizer_config.json", R"({"extra_special_tokens": "<x>"})");
        CHECK(contains(loading_error(f), "tokenizer_config.json \"extra_special_tokens\": expected a list of tokens or a dict of named ones"));
        f.write("tokenizer_config.json", R"({"extra_special_tokens": {"img_token": 3}})");
        CHECK(contains(loading_error(f), "\"extra_special_tokens\" \"img_token\": expected a string or an AddedToken object"));
        f.write("tokenizer_config.json", R"({"extra_special_tokens": ["<x>", {"content": "<y>"}]})");
        CHECK(contains(loading_error(f), "\"extra_special_tokens\" entry 1: expected a string or an AddedToken object"));
    }
}

TEST_CASE("the buffered pass and the streaming pass agree with Hugging Face on the 20,000-text corpus") {
    // A normalised token that no text holds sends every text through the buffered pass, which must
    // then give the corpus's golden ids under all five option sets.
    const std::vector<AddedToken> never = {{.content = "qqqzzzqqq"}};
    std::map<char, Tokenizer> buffered;
    for (const char c : std::string("UCLSN")) {
        TokenizerOptions o = golden::tokenizer(c).options();
        o.added_tokens = never;
        buffered.emplace(c, Tokenizer(golden::vocab(), o));
    }
    // Raw tokens only (one starting with a non-ASCII byte) stream; the same plus `never` buffer.
    const std::vector<AddedToken> raw = {{.content = "→x", .normalized = false}, {.content = "<ent>", .normalized = false},
                                         {.content = "Ωé", .normalized = false}};
    const Tokenizer streaming(golden::vocab(), {.added_tokens = raw});
    std::vector<AddedToken> raw_and_never = raw;
    raw_and_never.push_back(never[0]);
    const Tokenizer raw_buffered(golden::vocab(), {.added_tokens = raw_and_never});

    std::size_t checked = 0, wrong = 0;
    const auto expect = [&](char config, const std::string& text, const ids_t& got, const ids_t& want) {
        ++checked;
        if (got != want && wrong++ < 5)
            FAIL_CHECK(config << ": \"" << golden::printable(text) << "\"\n  got:  " << golden::show(golden::vocab(), got)
                              << "\n  want: " << golden::show(golden::vocab(), want));
    };
    for (const auto& line : golden::read_lines("tokenizer_golden.txt")) {
        const auto f = golden::split(line);
        if (f[0] == "T") {
            const EncodeOptions o{.max_length = std::stoul(std::string(f[1]))};
            const auto text = golden::unescape(f[2]);
            const auto u = golden::ids(f[3]);
            expect('U', text, buffered.at('U').encode(text, o).ids, u);
            expect('C', text, buffered.at('C').encode(text, o).ids, f[4] == "=" ? u : golden::ids(f[4]));
            const std::string spliced = "→x" + text + "<ent>Ωé" + text + "→x";
            expect('U', spliced, streaming.tokenize(spliced), raw_buffered.tokenize(spliced));
        } else if (f[0] == "O") {
            const auto text = golden::unescape(f[2]);
            expect(f[1][0], text, buffered.at(f[1][0]).encode(text).ids, golden::ids(f[3]));
        }
    }
    MESSAGE(checked << " encodings, " << wrong << " differ");
    CHECK(checked > 40000);
    CHECK(wrong == 0);
}

TEST_CASE("word characters are regex \\w as tokenizers sees it, on every code point") {
    // added/word_characters.txt: the runs tokenizers' single_word check takes for word characters.
    std::vector<bool> word(0x110000, false);
    for (const auto& line : golden::read_lines("added/word_characters.txt")) {
        std::size_t at = 0;
        const auto first = std::stoul(line, &at, 16), last = std::stoul(line.substr(at), nullptr, 16);
        for (auto c = first; c <= last; ++c) word[c] = true;
    }
    int wrong = 0;
    for (char32_t c = 0; c < 0x110000; ++c) {
        if ((c >= 0xD800 && c <= 0xDFFF) || sinter::text::detail::is_word_char(c) == word[c]) continue;
        if (++wrong <= 5) FAIL_CHECK("U+" << std::hex << std::uppercase << static_cast<std::uint32_t>(c) << ": tokenizers "
                                          << word[c] << ", sinter " << !word[c]);
    }
    CHECK(wrong == 0);
    CHECK(std::count(word.begin(), word.end(), true) > 140000);  // the file was read
}

TEST_CASE("single_word raw tokens: the streaming pass agrees with the buffered one") {
    // Raw tokens alone take the streaming pass; with a normalised token no text holds, the same
    // ones take the buffered pass, which the single_word golden checks against transformers.
    std::vector<AddedToken> raw = {{.content = "<m>", .normalized = false, .single_word = true},
                                   {.content = "m>x", .normalized = false},
                                   {.content = "→y", .normalized = false, .single_word = true},
                                   {.content = "[S]", .special = true, .normalized = false, .single_word = true}};
    const Tokenizer streaming(golden::vocab(), {.added_tokens = raw});
    raw.push_back({.content = "qqqzzzqqq"});
    const Tokenizer buffered(golden::vocab(), {.added_tokens = raw});
    CHECK(passes_agree("single_word", streaming, buffered) == 349);
    // What transformers 5.25 gives for the same tokens (BertTokenizerFast + add_tokens).
    CHECK(streaming.tokenize("<m> a<m>x x→y →y. [S]_ [S]") == ids_t{30522, 1037, 1026, 1049, 1028, 1060, 1060, 30113,
                                                                     2100, 30524, 1012, 1031, 1055, 1033, 1035, 30525});
    CHECK(streaming.tokenize("é<m> <m>é") == ids_t{1041, 1026, 1049, 1028, 1026, 1049, 1028, 1041});
    // Invalid UTF-8 beside a token is U+FFFD, not a word character: the token matches.
    TokenizerOptions lenient = streaming.options();
    lenient.invalid_utf8 = InvalidUtf8::replace;
    const Tokenizer replacing(golden::vocab(), lenient);
    CHECK(replacing.tokenize("\xC3<m>\xA9 \xE2\x82<m> \xF0\x9F\x98<m>") == ids_t{30522, 30522, 30522});
    CHECK(replacing.tokenize("\xC3\xA9<m> <m>\xC3\xA9") == streaming.tokenize("é<m> <m>é"));  // valid: words
}

TEST_CASE("split_special_tokens: the streaming pass agrees with the buffered one") {
    // The golden's split_special folder has normalised tokens, so it takes the buffered pass; its
    // raw tokens alone take the streaming pass.
    std::vector<AddedToken> raw = {{.content = "[SEP]x", .normalized = false}, {.content = "EP]", .normalized = false},
                                   {.content = "<sp>", .special = true, .normalized = false}};
    const Tokenizer streaming(golden::vocab(), {.added_tokens = raw, .split_special_tokens = true});
    raw.push_back({.content = "qqqzzzqqq"});
    const Tokenizer buffered(golden::vocab(), {.added_tokens = raw, .split_special_tokens = true});
    CHECK(passes_agree("split_special", streaming, buffered) == 344);
    // transformers 5.25 (the golden's first text): [SEP] is "[", "sep", "]"; the longer "[SEP]x"
    // matches; "EP]" is not tried inside a refused "[SEP]".
    CHECK(streaming.tokenize("[CLS] a [SEP]xy [SEP] EP]") ==
          ids_t{1031, 18856, 2015, 1033, 1037, 30522, 1061, 1031, 19802, 1033, 30523});
    CHECK(streaming.encode("[SEP]").ids == ids_t{101, 1031, 19802, 1033, 102});  // the template still adds them
    const Tokenizer matching(golden::vocab(), {.added_tokens = {{.content = "EP]", .normalized = false}}});
    CHECK(matching.tokenize("[SEP] EP]") == ids_t{102, 30522});
}

TEST_CASE("a raw token holding U+FFFD matches the U+FFFD that replaces invalid UTF-8") {
    // Python's errors="replace" turns each invalid sequence into U+FFFD, which a raw token written
    // with it then matches in transformers; the normaliser removes any other U+FFFD.
    const std::vector<AddedToken> raw = {{.content = "<\uFFFD>", .normalized = false}};
    const Tokenizer strict(golden::vocab(), {.added_tokens = raw});
    const Tokenizer lenient(golden::vocab(), {.invalid_utf8 = InvalidUtf8::replace, .added_tokens = raw});
    CHECK(lenient.tokenize("a<\xFF>b <\xE2\x82> <\uFFFD> <\xFF\xFF>") ==
          ids_t{1037, 30522, 1038, 30522, 30522, 1026, 1028});  // two U+FFFD: not the token
    CHECK(lenient.tokenize("a<\xFF>b") == strict.tokenize("a<\uFFFD>b"));
    CHECK_THROWS_AS(strict.tokenize("a<\xFF>b"), sinter::format_error);
    // The normalised tokens' pass, and a batch, see the same.
    std::vector<AddedToken> both = raw;
    both.push_back({.content = "Bé"});
    const Tokenizer buffered(golden::vocab(), {.invalid_utf8 = InvalidUtf8::replace, .added_tokens = both});
    CHECK(buffered.tokenize("a\xCC<\xC3>BE\xCC\x81") == ids_t{1037, 30522, 30523});
    const auto batch = buffered.encode_batch({"x<\xF0\x9F\x98>", "be\xCC\x81"});
    CHECK(batch.ids == std::vector<std::int32_t>{101, 1060, 30522, 102, 101, 30523, 102, 0});
}

TEST_CASE("lstrip and rstrip take whitespace from the normalised tokens' search") {
    // A raw token's stripped whitespace is not in the stretch searched for normalised tokens, so
    // one that starts or ends with a space cannot match there. ids: transformers 5.25.
    const Tokenizer right(golden::vocab(), {.added_tokens = {{.content = "<x>", .normalized = false, .rstrip = true},
                                                             {.content = " y"}}});
    CHECK(right.tokenize("<x> y") == ids_t{30522, 1061});
    CHECK(right.tokenize("<x>  y a y") == ids_t{30522, 1061, 1037, 30523});
    const Tokenizer left(golden::vocab(), {.added_tokens = {{.content = "<x>", .normalized = false, .lstrip = true},
                                                            {.content = "y "}}});
    CHECK(left.tokenize("y <x>") == ids_t{1061, 30522});
    CHECK(left.tokenize("y \u3000<x>y <x>") == ids_t{1061, 30522, 1061, 30522});
    const Tokenizer neither(golden::vocab(), {.added_tokens = {{.content = "<x>", .normalized = false}, {.content = " y"}}});
    CHECK(neither.tokenize("<x> y") == ids_t{30522, 30523});
}

TEST_CASE("a removed control character does not split a run of combining marks") {
    // Clean-up deletes U+0001 before NFD, which then orders U+1D16D (class 226) and U+1D165 (216)
    // on both sides of it as one run: x U+1D165 U+1D16D, what transformers 5.25 matches here.
    const std::string marks_apart = "x\U0001D16D\x01\U0001D165", ordered = "x\U0001D165\U0001D16D";
    const Tokenizer buffered(golden::vocab(), {.added_tokens = {{.content = ordered}}});
    CHECK(buffered.tokenize(marks_apart) == ids_t{30522});
    // The streaming pass, through a vocabulary that has the ordered word.
    const Tokenizer streaming(Vocab::parse("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n" + ordered + "\n", "v.txt"));
    CHECK(streaming.tokenize(marks_apart) == ids_t{5});
    CHECK(streaming.tokenize("x\U0001D16D \U0001D165") == ids_t{1, 1});  // a space does split it
}
