#pragma once
// Helpers shared by the io tests: a temporary folder, a safetensors writer that can also write
// malformed files, golden-file paths, and a comparison that reports the worst element.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "sinter/io/safetensors.hpp"

#ifndef SINTER_SOURCE_DIR
#define SINTER_SOURCE_DIR "."
#endif

namespace sinter::test {

inline std::filesystem::path golden_dir() {
    return std::filesystem::path(SINTER_SOURCE_DIR) / "tests" / "golden";
}

// A fresh folder under the system temp dir, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() /
                ("sinter-io-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

inline std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE(in.good());
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_file(const std::filesystem::path& p, std::string_view bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

inline std::string le64(std::uint64_t n) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(n >> (8 * i) & 0xff);
    return s;
}

// A safetensors file from a header text and a data section, both exactly as given.
inline void write_raw_safetensors(const std::filesystem::path& p, std::string_view header,
                                  std::string_view data = {}) {
    write_file(p, le64(header.size()) + std::string(header) + std::string(data));
}

struct RawTensor {
    std::string name;
    std::string dtype;  // "F32", "F16", ...
    std::vector<std::int64_t> shape;
    std::string bytes;
};

inline std::string f32_bytes(std::span<const float> v) {
    std::string s(v.size() * 4, '\0');
    std::memcpy(s.data(), v.data(), s.size());
    return s;
}

inline std::string i32_bytes(std::span<const std::int32_t> v) {
    std::string s(v.size() * 4, '\0');
    std::memcpy(s.data(), v.data(), s.size());
    return s;
}

// A well-formed file: tensors laid out in the given order. `pad` spaces after the JSON make the
// header length odd or even at will (nothing after it is aligned then).
inline void write_safetensors(const std::filesystem::path& p, const std::vector<RawTensor>& tensors,
                              std::size_t pad = 0, const std::string& metadata_json = "") {
    std::string header = "{";
    std::string data;
    if (!metadata_json.empty()) header += "\"__metadata__\":" + metadata_json;
    for (const RawTensor& t : tensors) {
        if (header.size() > 1) header += ",";
        header += "\"" + t.name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
        for (std::size_t i = 0; i < t.shape.size(); ++i) {
            if (i) header += ',';
            header += std::to_string(t.shape[i]);  // (appended alone: g++ 12's -Wrestrict misfires on "," + string)
        }
        header += "],\"data_offsets\":[" + std::to_string(data.size()) + "," +
                  std::to_string(data.size() + t.bytes.size()) + "]}";
        data += t.bytes;
    }
    header += "}" + std::string(pad, ' ');
    write_raw_safetensors(p, header, data);
}

inline std::vector<float> random_floats(std::size_t n, std::mt19937& rng, float scale = 1.0f) {
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

inline std::vector<std::int32_t> read_i32(const io::SafetensorsFile& f, std::string_view name) {
    const io::TensorInfo& t = f.at(name);
    REQUIRE(t.dtype == io::StDtype::i32);
    const auto bytes = f.read_bytes(t);
    std::vector<std::int32_t> v(bytes.size() / 4);
    std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
}

// Worst element of |got - want| / max(|want|, floor): relative error, with the floor (by default
// the root mean square of `want`) keeping values near zero from turning rounding noise into huge
// ratios. A NaN anywhere is reported as an infinite error.
struct Worst {
    double rel = 0, abs = 0;  // worst relative error and, separately, worst absolute error
    std::size_t index = 0;    // where the worst relative error is
    float got = 0, want = 0;
};

inline double rms(std::span<const float> v) {
    double s = 0;
    for (float x : v) s += double(x) * x;
    return v.empty() ? 0.0 : std::sqrt(s / double(v.size()));
}

inline Worst compare(std::span<const float> got, std::span<const float> want, double floor = -1) {
    REQUIRE(got.size() == want.size());
    if (floor < 0) floor = rms(want);
    Worst w;
    for (std::size_t i = 0; i < got.size(); ++i) {
        double d = std::abs(double(got[i]) - want[i]);
        if (std::isnan(d)) d = INFINITY;
        const double r = d / std::max(std::abs(double(want[i])), floor);
        if (r > w.rel) {
            w.rel = r;
            w.index = i;
            w.got = got[i];
            w.want = want[i];
        }
        w.abs = std::max(w.abs, d);
    }
    return w;
}

}  // namespace sinter::test
