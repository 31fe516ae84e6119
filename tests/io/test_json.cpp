// sinter::io::parse_json: valid documents, every kind of malformation (with the byte offset in the
// message), duplicate keys, the nesting bound, UTF-8 validation, and numbers as strtod reads them.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include <cstdlib>
#include <random>
#include <string>

#include "../support/errors.hpp"
#include "sinter/io/json.hpp"

using sinter::format_error;
using sinter::io::Json;
using sinter::io::parse_json;

namespace {

std::string error_of(std::string_view text, std::string_view source = {}) {
    return sinter::test::error_message<format_error>([&] { parse_json(text, source); });
}

}  // namespace

TEST_CASE("json: valid documents") {
    const Json j = parse_json(
        " {\"a\": [1, -2, 3.5, -0.25e2, 1E+2, 0, -0, true, false, null],\n"
        "\t\"b\": {\"nested\": {\"deep\": \"x\"}}, \"c\": \"\", \"d\": [], \"e\": {}}\r\n");
    REQUIRE(j.is_object());
    const auto& a = j.at("a").as_array();
    REQUIRE(a.size() == 10);
    CHECK(a[0].kind() == Json::Kind::integer);
    CHECK(a[0].as_int() == 1);
    CHECK(a[1].as_int() == -2);
    CHECK(a[2].kind() == Json::Kind::number);
    CHECK(a[2].as_double() == 3.5);
    CHECK(a[3].as_double() == -25.0);
    CHECK(a[4].kind() == Json::Kind::number);  // an exponent makes it a double, even when integral
    CHECK(a[4].as_double() == 100.0);
    CHECK(a[5].as_int() == 0);
    CHECK(a[6].as_int() == 0);
    CHECK(a[7].as_bool() == true);
    CHECK(a[8].as_bool() == false);
    CHECK(a[9].is_null());
    CHECK(j.at("b").at("nested").at("deep").as_string() == "x");
    CHECK(j.at("c").as_string().empty());
    CHECK(j.at("d").as_array().empty());
    CHECK(j.at("e").as_object().empty());
    // Document order is kept.
    const auto& members = j.as_object();
    REQUIRE(members.size() == 5);
    CHECK(members[0].first == "a");
    CHECK(members[4].first == "e");
    CHECK(j.find("zz") == nullptr);
    CHECK(parse_json("7").as_int() == 7);
    CHECK(parse_json("\"top\"").as_string() == "top");
}

TEST_CASE("json: string escapes, surrogate pairs and raw UTF-8") {
    CHECK(parse_json(R"("\"\\\/\b\f\n\r\t")").as_string() == "\"\\/\b\f\n\r\t");
    CHECK(parse_json(R"("\u0041\u00e9\u20AC")").as_string() == "A\xc3\xa9\xe2\x82\xac");
    CHECK(parse_json(R"("\ud83d\ude00")").as_string() == "\xf0\x9f\x98\x80");  // U+1F600
    CHECK(parse_json(R"("\uDBFF\uDFFF")").as_string() == "\xf4\x8f\xbf\xbf");  // U+10FFFF
    CHECK(parse_json(R"("\u0000")").as_string() == std::string(1, '\0'));
    const std::string raw = "\"h\xc3\xa9llo \xe4\xb8\xad \xf0\x9f\x98\x80\"";
    CHECK(parse_json(raw).as_string() == raw.substr(1, raw.size() - 2));
}

TEST_CASE("json: integers are exact int64, others doubles") {
    CHECK(parse_json("9223372036854775807").as_int() == INT64_MAX);
    CHECK(parse_json("-9223372036854775808").as_int() == INT64_MIN);
    const Json big = parse_json("9223372036854775808");
    CHECK(big.kind() == Json::Kind::number);
    CHECK(big.as_double() == 9223372036854775808.0);
    CHECK_THROWS_WITH_AS(big.as_int("shape[0]"),
                         doctest::Contains("shape[0]: expected an integer, found an integer outside int64"),
                         format_error);
    CHECK(parse_json("1e-400").as_double() == 0.0);  // underflow: 0, as strtod
    CHECK(std::signbit(parse_json("-1e-400").as_double()));
    CHECK(parse_json("4.9406564584124654e-324").as_double() == 4.9406564584124654e-324);
}

TEST_CASE("json: numbers round exactly as strtod") {
    std::mt19937_64 rng(1234);
    std::uniform_int_distribution<int> digits(1, 25), exp(-330, 310), d(0, 9);
    int checked = 0;
    for (int i = 0; i < 4000; ++i) {
        std::string s = (rng() & 1) ? "-" : "";
        const int n = digits(rng);
        const int dot = static_cast<int>(rng() % (n + 1));  // n: no fraction
        s += static_cast<char>('1' + d(rng) % 9);
        for (int k = 1; k < n; ++k) {
            if (k == dot) s += '.';
            s += static_cast<char>('0' + d(rng));
        }
        s += 'e';
        s += std::to_string(exp(rng));  // not "e" + ...: GCC 12 warns falsely there (-Wrestrict)
        const double want = std::strtod(s.c_str(), nullptr);
        if (std::isinf(want)) {
            CHECK_THROWS_AS(parse_json(s), format_error);
            continue;
        }
        INFO(s);
        const double got = parse_json(s).as_double();
        CHECK(std::memcmp(&got, &want, sizeof got) == 0);
        ++checked;
    }
    CHECK(checked > 3000);
}

TEST_CASE("json: every malformation names the byte offset and what was expected") {
    struct Case {
        std::string text;
        std::string message;
    };
    const Case cases[] = {
        {"", "at byte 0: expected a JSON value, found end of input"},
        {"   ", "at byte 3: expected a JSON value, found end of input"},
        {"[1,]", "at byte 3: expected a JSON value, found ']'"},
        {"[1 2]", "at byte 3: expected ',' or ']' in an array, found '2'"},
        {"[", "at byte 1: expected a JSON value, found end of input"},
        {"{\"a\" 1}", "at byte 5: expected ':' after an object key, found '1'"},
        {"{\"a\":1,}", "at byte 7: expected a string key in an object, found '}'"},
        {"{a:1}", "at byte 1: expected a string key in an object, found 'a'"},
        {"{\"a\":1", "at byte 6: expected ',' or '}' in an object, found end of input"},
        {"{\"a\":1 \"b\":2}", "at byte 7: expected ',' or '}' in an object, found '\"'"},
        {"01", "at byte 1: expected no leading zero in a number"},
        {"-01", "at byte 2: expected no leading zero in a number"},
        {"1.", "at byte 2: expected a digit after the decimal point, found end of input"},
        {"1.e5", "at byte 2: expected a digit after the decimal point, found 'e'"},
        {".5", "at byte 0: expected a JSON value, found '.'"},
        {"1e", "at byte 2: expected a digit in the exponent"},
        {"1e+", "at byte 3: expected a digit in the exponent"},
        {"+1", "at byte 0: expected a JSON value, found '+'"},
        {"-", "at byte 1: expected a digit in a number"},
        {"-a", "at byte 1: expected a digit in a number, found 'a'"},
        {"0x10", "at byte 1: expected end of input after the top-level value, found 'x'"},
        {"NaN", "at byte 0: expected a JSON value, found 'N'"},
        {"Infinity", "at byte 0: expected a JSON value, found 'I'"},
        {"1e400", "at byte 0: expected a number within the range of a double"},
        {"tru", "at byte 3: expected the literal 'true', found end of input"},
        {"nul", "at byte 3: expected the literal 'null'"},
        {"fals3", "at byte 4: expected the literal 'false', found '3'"},
        {"True", "at byte 0: expected a JSON value, found 'T'"},
        {"\"abc", "at byte 4: expected '\"' closing the string, found end of input"},
        {"\"a\nb\"", "at byte 2: expected a control character to be escaped in a string, found byte 0x0a"},
        {"\"a\tb\"", "at byte 2: expected a control character to be escaped"},
        {"\"\\x\"", "at byte 2: expected an escape"},
        {"\"\\", "expected an escape"},
        {"\"\\u12G4\"", "at byte 5: expected 4 hexadecimal digits after \\u, found 'G'"},
        {"\"\\u12\"", "at byte 5: expected 4 hexadecimal digits"},
        {"\"\\ud800\"", "at byte 7: expected a \\u low surrogate after a high surrogate, found '\"'"},
        {"\"\\ud800\\n\"", "at byte 7: expected a \\u low surrogate after a high surrogate"},
        {"\"\\ud800\\u0041\"", "at byte 7: expected a low surrogate (DC00-DFFF) after a high surrogate"},
        {"\"\\udc00\"", "at byte 1: expected no lone low surrogate"},
        {"1 2", "at byte 2: expected end of input after the top-level value, found '2'"},
        {"[1] x", "at byte 4: expected end of input after the top-level value, found 'x'"},
        {"{} {}", "at byte 3: expected end of input"},
        {"'a'", "at byte 0: expected a JSON value, found '''"},
        {"// c\n1", "at byte 0: expected a JSON value, found '/'"},
        {"\xef\xbb\xbf{}", "at byte 0: expected a JSON value, found byte 0xef"},  // no BOM
        {"[1,\v2]", "at byte 3: expected a JSON value, found byte 0x0b"},         // not JSON whitespace
        {std::string("[1\0]", 4), "at byte 2: expected ',' or ']' in an array, found byte 0x00"},
    };
    for (const Case& c : cases) {
        INFO("input: " << c.text);
        const std::string e = error_of(c.text);
        CHECK_MESSAGE(e.find(c.message) != std::string::npos, "message was: " << e);
    }
}

TEST_CASE("json: the source is named in errors") {
    CHECK(error_of("[1,", "dir/config.json") ==
          "sinter: dir/config.json: JSON error at byte 3: expected a JSON value, found end of input");
}

TEST_CASE("json: duplicate keys are refused, per object") {
    CHECK(error_of("{\"a\":1,\"b\":2,\"a\":3}")
              .find("at byte 13: expected a key not seen before in this object") != std::string::npos);
    // Escapes are decoded before comparing: "\u0061" is "a".
    CHECK(error_of("{\"a\":1,\"\\u0061\":2}").find("a key not seen before") != std::string::npos);
    // The same key in different objects is fine.
    CHECK(parse_json("{\"a\":{\"a\":1},\"b\":{\"a\":2},\"c\":[{\"a\":1},{\"a\":2}]}")
              .at("b")
              .at("a")
              .as_int() == 2);
}

TEST_CASE("json: nesting depth is bounded") {
    const auto nested = [](int n) { return std::string(n, '[') + std::string(n, ']'); };
    CHECK_NOTHROW(parse_json(nested(128)));
    CHECK(error_of(nested(129)).find("at byte 128: expected nesting no deeper than 128") !=
          std::string::npos);
    std::string objects;
    for (int i = 0; i < 129; ++i) objects += "{\"k\":";
    objects += "1" + std::string(129, '}');
    CHECK(error_of(objects).find("nesting no deeper than 128") != std::string::npos);
    // Far deeper input fails cleanly instead of exhausting the stack.
    CHECK(error_of(std::string(1'000'000, '[')).find("nesting no deeper than 128") != std::string::npos);
    CHECK_NOTHROW(parse_json(nested(10), {}, sinter::io::JsonOptions{10}));
    CHECK_THROWS_AS(parse_json(nested(11), {}, sinter::io::JsonOptions{10}), format_error);
}

TEST_CASE("json: Python's NaN, Infinity and -Infinity only where asked for") {
    const sinter::io::JsonOptions python{.python_nonfinite = true};
    CHECK(error_of("[NaN]").find("at byte 1: expected a JSON value, found 'N'") != std::string::npos);
    CHECK(error_of("Infinity").find("at byte 0: expected a JSON value, found 'I'") != std::string::npos);
    CHECK(error_of("-Infinity").find("at byte 1: expected a digit in a number, found 'I'") != std::string::npos);
    const Json v = parse_json(R"({"a": NaN, "b": [Infinity, -Infinity, -2, 0.5]})", {}, python);
    CHECK(std::isnan(v.find("a")->as_double("a")));
    const auto& b = v.find("b")->as_array("b");
    CHECK(b.at(0).as_double("b") == INFINITY);
    CHECK(b.at(1).as_double("b") == -INFINITY);
    CHECK(b.at(2).as_int("b") == -2);
    CHECK(b.at(3).as_double("b") == 0.5);
    for (const char* broken : {"nan", "Nan", "Inf", "-Inf", "-infinity", "NaN1", "[-]"}) {
        INFO(broken);
        CHECK_THROWS_AS(parse_json(broken, {}, python), format_error);
    }
}

TEST_CASE("json: invalid UTF-8 is refused") {
    struct Case {
        std::string bytes;  // inside a string
        int bad_at;         // byte offset of the bad byte in the document
    };
    const Case cases[] = {
        {"\x80", 1},  // a continuation byte alone
        {"\xbf", 1},
        {"\xc0\x80", 1},      // overlong NUL
        {"\xc1\xbf", 1},      // overlong
        {"\xe0\x80\x80", 2},  // overlong 3-byte
        {"\xe0\x9f\xbf", 2},
        {"\xed\xa0\x80", 2},  // an encoded surrogate (U+D800)
        {"\xed\xbf\xbf", 2},
        {"\xf0\x80\x80\x80", 2},  // overlong 4-byte
        {"\xf4\x90\x80\x80", 2},  // past U+10FFFF
        {"\xf5\x80\x80\x80", 1},
        {"\xff", 1},
        {"\xfe", 1},
        {"\xc3", 2},  // truncated by the closing quote
        {"\xe2\x82", 3},
        {"\xe2\x28\xa1", 2},  // a bad second byte
        {"\xf0\x9f\x98", 4},
    };
    for (const Case& c : cases) {
        const std::string doc = "\"" + c.bytes + "\"";
        INFO("bytes: " << doc);
        const std::string e = error_of(doc);
        CHECK_MESSAGE(
            e.find("at byte " + std::to_string(c.bad_at) + ": expected valid UTF-8") != std::string::npos,
            "message was: " << e);
    }
    // Valid edges: U+0080, U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF, U+D7FF, U+E000.
    for (const std::string ok : {"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80",
                                 "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80"})
        CHECK(parse_json("\"" + ok + "\"").as_string() == ok);
    // Outside strings non-ASCII is no JSON at all.
    CHECK(error_of("[\xc3\xa9]").find("at byte 1: expected a JSON value, found byte 0xc3") !=
          std::string::npos);
}

TEST_CASE("json: typed accessors name the value on a wrong type") {
    const Json j = parse_json("{\"n\": \"12\", \"a\": [1]}");
    CHECK_THROWS_WITH_AS(j.at("n").as_int("key 'n'"), "sinter: key 'n': expected an integer, found a string",
                         format_error);
    CHECK_THROWS_WITH_AS(j.at("a").as_object("key 'a'"),
                         "sinter: key 'a': expected an object, found an array", format_error);
    CHECK_THROWS_WITH_AS(j.at("a").as_array()[0].as_string("a[0]"),
                         "sinter: a[0]: expected a string, found an integer", format_error);
    CHECK_THROWS_WITH_AS(j.at("missing"), doctest::Contains("no key 'missing'"), format_error);
    CHECK_THROWS_WITH_AS(parse_json("2.0").as_int("x"), "sinter: x: expected an integer, found a number",
                         format_error);
    CHECK_THROWS_AS(j.at("n").as_double(), format_error);
    CHECK_THROWS_AS(j.at("n").as_bool(), format_error);
    CHECK_THROWS_AS(parse_json("[]").at("x"), format_error);
}

TEST_CASE("json: reading a file that does not exist is an io_error naming it") {
    CHECK_THROWS_WITH_AS(sinter::io::read_json_file("/nonexistent/sinter/config.json"),
                         doctest::Contains("/nonexistent/sinter/config.json"), sinter::io_error);
}
