// sinter::io::SafetensorsFile and SafetensorsCheckpoint: valid files (every dtype known, odd header
// lengths, f16/bf16 conversion) and each rejection, on files written by the test itself.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <set>
#include <string>

#include "io_test_util.hpp"
#include "sinter/io/safetensors.hpp"

using namespace sinter;
using io::SafetensorsFile;
using test::RawTensor;
using test::TempDir;

namespace {

std::string u16_bytes(const std::vector<std::uint16_t>& v) {
    std::string s(v.size() * 2, '\0');
    std::memcpy(s.data(), v.data(), s.size());
    return s;
}

// The message of the format_error that opening `header` + `data` gives.
std::string open_error(const std::string& header, const std::string& data = {}) {
    TempDir dir;
    test::write_raw_safetensors(dir / "bad.safetensors", header, data);
    try {
        SafetensorsFile f(dir / "bad.safetensors");
    } catch (const format_error& e) {
        const std::string m = e.what();
        CHECK_MESSAGE(m.find("bad.safetensors") != std::string::npos, "no file name in: " << m);
        return m;
    }
    return "(no error)";
}

std::string tensor(const std::string& name, const std::string& dtype, const std::string& shape, int begin,
                   int end) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
           std::to_string(begin) + "," + std::to_string(end) + "]}";
}

}  // namespace

TEST_CASE("safetensors: a valid file reads back, at every header alignment") {
    std::mt19937 rng(42);
    const auto a = test::random_floats(6, rng);
    const auto b = test::random_floats(5 * 7, rng);
    const std::vector<std::int32_t> ids{3, -1, 70000};
    std::set<std::uint64_t> residues;            // of b's offset in the file, mod 4
    for (std::size_t pad = 0; pad < 8; ++pad) {  // header lengths of every residue mod 8
        CAPTURE(pad);
        TempDir dir;
        test::write_safetensors(dir / "m.safetensors",
                                {{"a", "F32", {2, 3}, test::f32_bytes(a)},
                                 {"ids", "I32", {3}, test::i32_bytes(ids)},
                                 {"odd", "U8", {3}, "abc"},  // b starts off a 4-byte boundary
                                 {"empty", "F32", {0, 5}, ""},
                                 {"scalar", "F32", {}, test::f32_bytes(std::vector<float>{2.5f})},
                                 {"b", "F32", {5, 7}, test::f32_bytes(b)}},
                                pad, "{\"format\":\"pt\",\"note\":\"\\u00e9\"}");
        const SafetensorsFile f(dir / "m.safetensors");
        REQUIRE(f.tensors().size() == 6);
        CHECK(f.read("a") == a);
        CHECK(f.read("b") == b);
        CHECK(f.at("b").begin % 4 != 0);  // the case a pointer cast would get wrong
        residues.insert((f.data_begin() + f.at("b").begin) % 4);
        CHECK(f.read_bytes(f.at("odd")) ==
              std::vector<std::byte>{std::byte('a'), std::byte('b'), std::byte('c')});
        CHECK(test::read_i32(f, "ids") == ids);
        CHECK(f.read("empty").empty());
        CHECK(f.at("empty").shape == std::vector<index_t>{0, 5});
        CHECK(f.read("scalar") == std::vector<float>{2.5f});
        CHECK(f.at("scalar").shape.empty());
        CHECK(f.at("scalar").numel == 1);
        CHECK(f.metadata().at("format") == "pt");
        CHECK(f.metadata().at("note") == "\xc3\xa9");
        CHECK(f.find("nope") == nullptr);
        CHECK_THROWS_WITH_AS(f.at("nope"), doctest::Contains("no tensor named 'nope'"), format_error);
    }
    CHECK(residues.size() == 4);
}

TEST_CASE("safetensors: the header may list tensors in any order") {
    const std::string header =
        "{" + tensor("second", "F32", "[1]", 4, 8) + "," + tensor("first", "F32", "[1]", 0, 4) + "}";
    TempDir dir;
    test::write_raw_safetensors(dir / "m.safetensors", header,
                                test::f32_bytes(std::vector<float>{1.0f, 2.0f}));
    const SafetensorsFile f(dir / "m.safetensors");
    CHECK(f.tensors()[0].name == "first");
    CHECK(f.read("second") == std::vector<float>{2.0f});
}

TEST_CASE("safetensors: every listed dtype is known; only floats convert") {
    const char* names[] = {"BOOL",    "U8",      "I8",      "I16",     "U16",     "F16", "BF16",
                           "I32",     "U32",     "F32",     "F64",     "I64",     "U64", "C64",
                           "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4"};
    std::vector<RawTensor> tensors;
    for (const char* n : names) {
        const auto dt = io::parse_st_dtype(n);
        REQUIRE(dt);
        CHECK(io::name(*dt) == n);
        tensors.push_back({std::string("t_") + n, n, {8}, std::string(io::bits_of(*dt), 'x')});  // 8 elements
    }
    TempDir dir;
    test::write_safetensors(dir / "all.safetensors", tensors, 3);
    const SafetensorsFile f(dir / "all.safetensors");
    CHECK(f.tensors().size() == 20);
    CHECK(f.at("t_F4").size_bytes() == 4);
    CHECK(f.read_bytes(f.at("t_I64")).size() == 64);
    CHECK_THROWS_WITH_AS(f.read("t_I64"),
                         doctest::Contains("tensor 't_I64' is I64; only F32, F16 and BF16 convert"),
                         format_error);
    CHECK_THROWS_AS(f.read("t_F8_E4M3"), format_error);
    CHECK(!io::parse_st_dtype("F17"));
    CHECK(!io::parse_st_dtype("f32"));  // names are case-sensitive
}

TEST_CASE("safetensors: F16 and BF16 convert to float, and any float to f16/bf16") {
    // f16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), -0, inf; bf16: 1, -2.5, 3.0e38-ish, 2^-133.
    const std::vector<std::uint16_t> h{0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00};
    const std::vector<float> h_want{1.0f, -2.0f, 65504.0f, 5.9604645e-8f, -0.0f, INFINITY};
    const std::vector<std::uint16_t> bf{0x3f80, 0xc020, 0x7f61, 0x0001};
    std::vector<float> bf_want;
    for (auto bits : bf) bf_want.push_back(detail::float_of(std::uint32_t(bits) << 16));
    std::mt19937 rng(5);
    std::vector<float> f = test::random_floats(70000, rng, 3.0f);  // past the 65536-element chunk
    f[0] = 1.0f + 1.0f / 2048;                                     // a tie: rounds to even in f16
    TempDir dir;
    test::write_safetensors(dir / "c.safetensors",
                            {{"h", "F16", {6}, u16_bytes(h)},
                             {"bf", "BF16", {2, 2}, u16_bytes(bf)},
                             {"f", "F32", {70000}, test::f32_bytes(f)}},
                            1);
    const SafetensorsFile file(dir / "c.safetensors");
    const auto h_got = file.read("h");
    for (std::size_t i = 0; i < h.size(); ++i) {
        CHECK(h_got[i] == h_want[i]);
        CHECK(std::signbit(h_got[i]) == std::signbit(h_want[i]));
    }
    CHECK(file.read("bf") == bf_want);
    // Storage to storage: f16 stays bit-exact, f32 rounds to nearest even.
    const auto h_as_half = file.read<half>("h");
    for (std::size_t i = 0; i < h.size(); ++i) CHECK(detail::raw_bits(h_as_half[i]) == h[i]);
    const auto f_as_half = file.read<half>("f");
    const auto f_as_bf16 = file.read<bf16>("f");
    CHECK(detail::raw_bits(f_as_half[0]) == 0x3c00);  // the tie went to even
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < f.size(); ++i) {
        mismatches += detail::raw_bits(f_as_half[i]) != detail::raw_bits(from_float<half>(f[i]));
        mismatches += detail::raw_bits(f_as_bf16[i]) != detail::raw_bits(from_float<bf16>(f[i]));
    }
    CHECK(mismatches == 0);
    const auto bf_as_half = file.read<half>("bf");
    CHECK(to_float(bf_as_half[0]) == 1.0f);
    CHECK(to_float(bf_as_half[1]) == -2.5f);
    std::vector<float> wrong(5);
    CHECK_THROWS_AS(file.read_into<float>(file.at("h"), wrong), shape_error);
}

TEST_CASE("safetensors: each malformed file is refused with a message that says why") {
    const std::string f32x4(16, '\0');
    const std::string ok = tensor("w", "F32", "[2,2]", 0, 16);
    struct Case {
        std::string header, data, message;
    };
    const Case cases[] = {
        {"", "", "JSON error at byte 0: expected a JSON value, found end of input"},
        {"{", "", "expected a string key"},
        {"[]", "", "the header is an array, not a JSON object"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}} x", f32x4,
         "expected end of input"},
        {"{\"a\":\"\xff\"}", "", "expected valid UTF-8"},
        {"{" + tensor("w", "F17", "[2,2]", 0, 16) + "}", f32x4, "tensor 'w': unknown dtype 'F17'"},
        {"{" + tensor("w", "f32", "[2,2]", 0, 16) + "}", f32x4, "unknown dtype 'f32'"},
        {"{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,16]}}", f32x4, "tensor 'w': missing field 'shape'"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2]}}", f32x4, "missing field 'data_offsets'"},
        {"{\"w\":{\"shape\":[2,2],\"data_offsets\":[0,16]}}", f32x4, "missing field 'dtype'"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16],\"strides\":[2,1]}}", f32x4,
         "tensor 'w': unknown field 'strides'"},
        {"{\"w\":[1]}", "", "tensor 'w': expected an object, found an array"},
        {"{\"w\":{\"dtype\":7,\"shape\":[2,2],\"data_offsets\":[0,16]}}", f32x4,
         "expected a string, found an integer"},
        {"{" + tensor("w", "F32", "[-2,-2]", 0, 16) + "}", f32x4,
         "expected a non-negative integer, found -2"},
        {"{" + tensor("w", "F32", "[2.0,2]", 0, 16) + "}", f32x4,
         "shape extent: expected an integer, found a number"},
        {"{" + tensor("w", "F32", "4", 0, 16) + "}", f32x4, "shape: expected an array, found an integer"},
        {"{" + tensor("w", "F32", "[2,2]", -16, 0) + "}", f32x4,
         "data_offsets[0]: expected a non-negative integer"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,8,16]}}", f32x4,
         "data_offsets must be [begin, end]"},
        {"{" + tensor("w", "F32", "[2,2]", 16, 0) + "}", f32x4, "data_offsets end 0 is before begin 16"},
        {"{" + tensor("w", "F32", "[2,2]", 0, 12) + "}", f32x4.substr(0, 12),
         "tensor 'w': shape [2, 2] of F32 is 16 bytes, but data_offsets [0, 12] span 12"},
        {"{" + tensor("w", "F16", "[2,2]", 0, 16) + "}", f32x4, "shape [2, 2] of F16 is 8 bytes"},
        {"{" + tensor("w", "F32", "[4294967296,4294967296]", 0, 16) + "}", f32x4,
         "the element count of its shape overflows"},
        {"{" + tensor("w", "F64", "[4611686018427387904]", 0, 16) + "}", f32x4,
         "the byte size of its shape overflows"},
        {"{" + tensor("w", "F32", "[18446744073709551616]", 0, 16) + "}", f32x4,
         "found an integer outside int64"},
        {"{" + tensor("w", "F4", "[3]", 0, 2) + "}", "xx",
         "3 elements of F4 are not a whole number of bytes"},
        {"{" + tensor("w", "F32", "[2,2]", 8, 24) + "}", f32x4,
         "tensor 'w' ends at byte 24 past the data section of 16 bytes"},
        {"{" + tensor("w", "F32", "[2,2]", 4, 20) + "}", f32x4 + "....",
         "a gap of 4 bytes before tensor 'w'"},
        {"{" + tensor("a", "F32", "[1]", 0, 4) + "," + tensor("b", "F32", "[2]", 8, 16) + "}", f32x4,
         "a gap of 4 bytes before tensor 'b'"},
        {"{" + tensor("a", "F32", "[2]", 0, 8) + "," + tensor("b", "F32", "[2]", 4, 12) + "}",
         f32x4.substr(0, 12), "tensor 'b' overlaps tensor 'a'"},
        {"{" + ok + "}", f32x4 + "x", "1 trailing bytes after the last tensor"},
        {"{}", "abc", "3 trailing bytes after the last tensor"},
        {"{" + ok + "," + ok + "}", f32x4, "expected a key not seen before in this object"},
        {"{\"__metadata__\":{\"a\":1}," + ok + "}", f32x4,
         "__metadata__ 'a' must be a string, found an integer"},
        {"{\"__metadata__\":[\"a\"]," + ok + "}", f32x4, "__metadata__ must be an object of strings"},
    };
    for (const Case& c : cases) {
        INFO("header: " << c.header);
        const std::string e = open_error(c.header, c.data);
        CHECK_MESSAGE(e.find(c.message) != std::string::npos, "message was: " << e);
    }
}

TEST_CASE("safetensors: header length, file size and opening") {
    TempDir dir;
    test::write_file(dir / "short.safetensors", "12345");
    CHECK_THROWS_WITH_AS(SafetensorsFile(dir / "short.safetensors"),
                         doctest::Contains("the file is 5 bytes, under the 8 of a header length"),
                         format_error);
    test::write_file(dir / "cap.safetensors", test::le64(100'000'001) + "{}");
    CHECK_THROWS_WITH_AS(SafetensorsFile(dir / "cap.safetensors"),
                         doctest::Contains("header length 100000001 is over the cap of 100000000 bytes"),
                         format_error);
    test::write_file(dir / "huge.safetensors", test::le64(~0ull) + "{}");
    CHECK_THROWS_WITH_AS(SafetensorsFile(dir / "huge.safetensors"), doctest::Contains("over the cap"),
                         format_error);
    test::write_file(dir / "past.safetensors", test::le64(100) + "{}");
    CHECK_THROWS_WITH_AS(SafetensorsFile(dir / "past.safetensors"),
                         doctest::Contains("header length 100 runs past the end of the file (10 bytes)"),
                         format_error);
    test::write_file(dir / "empty.safetensors", test::le64(2) + "{}");
    CHECK(SafetensorsFile(dir / "empty.safetensors").tensors().empty());
    CHECK_THROWS_WITH_AS(SafetensorsFile(dir / "missing.safetensors"),
                         doctest::Contains("missing.safetensors"), io_error);
    // A folder is not a file.
    CHECK_THROWS_AS(SafetensorsFile(dir.path()), io_error);
}

TEST_CASE("safetensors: a checkpoint folder, single or sharded") {
    const std::vector<float> a{1, 2, 3}, b{4, 5}, c{6};
    SUBCASE("sharded through model.safetensors.index.json") {
        TempDir dir;
        test::write_safetensors(
            dir / "s1.safetensors",
            {{"a", "F32", {3}, test::f32_bytes(a)}, {"b", "F32", {2}, test::f32_bytes(b)}}, 3);
        test::write_safetensors(dir / "s2.safetensors", {{"c", "F32", {1}, test::f32_bytes(c)}});
        test::write_file(
            dir / "model.safetensors.index.json",
            R"({"metadata":{"total_size":24},"weight_map":{"a":"s1.safetensors","b":"s1.safetensors","c":"s2.safetensors"}})");
        const io::SafetensorsCheckpoint ckpt(dir.path());
        CHECK(ckpt.sharded());
        REQUIRE(ckpt.entries().size() == 3);
        const auto* e = ckpt.find("c");
        REQUIRE(e);
        CHECK(e->file->read(*e->info) == c);
        CHECK(ckpt.find("a")->file->read(*ckpt.find("a")->info) == a);

        const auto index_error = [&](const std::string& index) {
            test::write_file(dir / "model.safetensors.index.json", index);
            try {
                io::SafetensorsCheckpoint bad(dir.path());
            } catch (const format_error& err) { return std::string(err.what()); }
            return std::string("(no error)");
        };
        CHECK(index_error(R"({"weight_map":{"a":"../s1.safetensors"}})")
                  .find("shard file name '../s1.safetensors' for tensor 'a' leaves the checkpoint folder") !=
              std::string::npos);
        CHECK(index_error(R"({"weight_map":{"a":"sub/../../x.safetensors"}})")
                  .find("leaves the checkpoint folder") != std::string::npos);
        CHECK(index_error(R"({"weight_map":{"a":"/etc/passwd"}})").find("leaves the checkpoint folder") !=
              std::string::npos);
        CHECK(index_error(R"({"weight_map":{"a":""}})").find("leaves the checkpoint folder") !=
              std::string::npos);
        CHECK(
            index_error(R"({"weight_map":{"a":"s2.safetensors","b":"s1.safetensors","c":"s2.safetensors"}})")
                .find("tensor 'a' is not in its shard s2.safetensors") != std::string::npos);
        CHECK(index_error(R"({"weight_map":{"a":"s1.safetensors","c":"s2.safetensors"}})")
                  .find("shard s1.safetensors holds tensor 'b', which the weight_map does not map to it") !=
              std::string::npos);
        CHECK(index_error(R"({"metadata":{}})").find("expected a 'weight_map' object") != std::string::npos);
        CHECK(index_error(R"({"weight_map":{"a":3}})").find("weight_map 'a': expected a string") !=
              std::string::npos);
        CHECK(index_error(R"({"weight_map":{"a":"s1.safetensors","a":"s1.safetensors"}})")
                  .find("not seen before") != std::string::npos);
    }
    SUBCASE("model.safetensors is preferred, as transformers does") {
        TempDir dir;
        test::write_safetensors(dir / "model.safetensors", {{"a", "F32", {3}, test::f32_bytes(a)}});
        test::write_file(dir / "model.safetensors.index.json",
                         R"({"weight_map":{"zz":"nowhere.safetensors"}})");
        const io::SafetensorsCheckpoint ckpt(dir.path());
        CHECK(!ckpt.sharded());
        CHECK(ckpt.entries().size() == 1);
    }
    SUBCASE("an empty folder, or one with only a pickle") {
        TempDir dir;
        test::write_file(dir / "pytorch_model.bin", "not opened");
        CHECK_THROWS_WITH_AS(
            io::SafetensorsCheckpoint(dir.path()),
            doctest::Contains("has neither model.safetensors nor model.safetensors.index.json"), io_error);
    }
    SUBCASE("a shard that does not exist") {
        TempDir dir;
        test::write_file(dir / "model.safetensors.index.json", R"({"weight_map":{"a":"gone.safetensors"}})");
        CHECK_THROWS_WITH_AS(io::SafetensorsCheckpoint(dir.path()), doctest::Contains("gone.safetensors"),
                             io_error);
    }
}
