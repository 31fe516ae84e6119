#pragma once
// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON describing each
// tensor (dtype, shape, byte span in the data section), then the data section. Opening a file
// validates the whole header before any tensor is read; tensors are then copied out with reads,
// never by casting pointers into the file (real headers have odd lengths, so nothing is aligned).
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "sinter/core/config.hpp"
#include "sinter/core/dtype.hpp"
#include "sinter/core/error.hpp"
#include "sinter/io/json.hpp"

namespace sinter::io {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian: a big-endian host would need byte swaps");

// Every dtype the format defines. All are *known* (a file holding them is valid and its bytes are
// readable); only f32, f16 and bf16 convert to floating-point values.
enum class StDtype : std::uint8_t {
    boolean,
    u8,
    i8,
    i16,
    u16,
    f16,
    bf16,
    i32,
    u32,
    f32,
    f64,
    i64,
    u64,
    c64,
    f8_e4m3,
    f8_e5m2,
    f8_e8m0,
    f6_e2m3,
    f6_e3m2,
    f4,
};

}  // namespace sinter::io

namespace sinter::detail {
struct StDtypeEntry {
    std::string_view name;
    io::StDtype dtype;
    int bits;  // F6 and F4 pack below a byte: a tensor's bit count must still be whole bytes
};
inline constexpr StDtypeEntry st_dtypes[] = {
    {"BOOL", io::StDtype::boolean, 8},    {"U8", io::StDtype::u8, 8},
    {"I8", io::StDtype::i8, 8},           {"I16", io::StDtype::i16, 16},
    {"U16", io::StDtype::u16, 16},        {"F16", io::StDtype::f16, 16},
    {"BF16", io::StDtype::bf16, 16},      {"I32", io::StDtype::i32, 32},
    {"U32", io::StDtype::u32, 32},        {"F32", io::StDtype::f32, 32},
    {"F64", io::StDtype::f64, 64},        {"I64", io::StDtype::i64, 64},
    {"U64", io::StDtype::u64, 64},        {"C64", io::StDtype::c64, 64},
    {"F8_E4M3", io::StDtype::f8_e4m3, 8}, {"F8_E5M2", io::StDtype::f8_e5m2, 8},
    {"F8_E8M0", io::StDtype::f8_e8m0, 8}, {"F6_E2M3", io::StDtype::f6_e2m3, 6},
    {"F6_E3M2", io::StDtype::f6_e3m2, 6}, {"F4", io::StDtype::f4, 4},
};
}  // namespace sinter::detail

namespace sinter::io {

constexpr std::string_view name(StDtype t) { return sinter::detail::st_dtypes[static_cast<int>(t)].name; }
constexpr int bits_of(StDtype t) { return sinter::detail::st_dtypes[static_cast<int>(t)].bits; }

inline std::optional<StDtype> parse_st_dtype(std::string_view s) {
    for (const auto& e : sinter::detail::st_dtypes)
        if (e.name == s) return e.dtype;
    return std::nullopt;
}

inline std::string shape_string(std::span<const index_t> shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

struct TensorInfo {
    std::string name;
    StDtype dtype = StDtype::f32;
    std::vector<index_t> shape;
    std::uint64_t begin = 0, end = 0;  // byte span in the data section, end exclusive
    index_t numel = 0;

    std::uint64_t size_bytes() const { return end - begin; }
};

struct SafetensorsLimits {
    std::uint64_t max_header_bytes = 100'000'000;  // the reference reader's cap
};

class SafetensorsFile {
public:
    explicit SafetensorsFile(std::filesystem::path path, SafetensorsLimits limits = {})
        : path_(std::move(path)) {
        std::error_code ec;
        const std::uint64_t size = std::filesystem::file_size(path_, ec);
        if (ec) throw io_error("sinter: cannot open " + path_.string() + ": " + ec.message());
        in_.open(path_, std::ios::binary);
        if (!in_) throw io_error("sinter: cannot open " + path_.string());
        if (size < 8) fail("the file is " + std::to_string(size) + " bytes, under the 8 of a header length");
        unsigned char len[8];
        read_at(0, len, 8);
        std::uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = n << 8 | len[i];
        if (n > limits.max_header_bytes)
            fail("header length " + std::to_string(n) + " is over the cap of " +
                 std::to_string(limits.max_header_bytes) + " bytes");
        if (n > size - 8)
            fail("header length " + std::to_string(n) + " runs past the end of the file (" +
                 std::to_string(size) + " bytes)");
        std::string header(n, '\0');
        read_at(8, header.data(), n);
        data_begin_ = 8 + n;
        parse_header(header, size - data_begin_);
    }

    const std::filesystem::path& path() const { return path_; }
    const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in data order
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    std::uint64_t data_begin() const { return data_begin_; }  // 8 + N

    const TensorInfo* find(std::string_view name) const {
        const auto it = index_.find(std::string(name));
        return it == index_.end() ? nullptr : &tensors_[it->second];
    }
    const TensorInfo& at(std::string_view name) const {
        if (const TensorInfo* t = find(name)) return *t;
        fail("no tensor named '" + std::string(name) + "'");
    }

    // The raw little-endian bytes of any tensor.
    void read_bytes_into(const TensorInfo& t, std::span<std::byte> out) const {
        if (out.size() != t.size_bytes())
            throw shape_error("sinter: " + path_.string() + ": tensor '" + t.name + "' is " +
                              std::to_string(t.size_bytes()) + " bytes, the destination " +
                              std::to_string(out.size()));
        read_at(data_begin_ + t.begin, out.data(), out.size());
    }
    std::vector<std::byte> read_bytes(const TensorInfo& t) const {
        std::vector<std::byte> out(t.size_bytes());
        read_bytes_into(t, out);
        return out;
    }

    // An F32, F16 or BF16 tensor converted (round to nearest even) to `T`, row-major.
    template <FloatDtype T>
    void read_into(const TensorInfo& t, std::span<T> out) const {
        if (t.dtype != StDtype::f32 && t.dtype != StDtype::f16 && t.dtype != StDtype::bf16)
            fail("tensor '" + t.name + "' is " + std::string(name(t.dtype)) +
                 "; only F32, F16 and BF16 convert to floating point");
        if (static_cast<index_t>(out.size()) != t.numel)
            throw shape_error("sinter: " + path_.string() + ": tensor '" + t.name + "' has " +
                              std::to_string(t.numel) + " elements, the destination " +
                              std::to_string(out.size()));
        const bool same = (t.dtype == StDtype::f32 && std::is_same_v<T, float>) ||
                          (t.dtype == StDtype::f16 && std::is_same_v<T, half>) ||
                          (t.dtype == StDtype::bf16 && std::is_same_v<T, bf16>);
        if (same) {
            read_at(data_begin_ + t.begin, out.data(), t.size_bytes());
            return;
        }
        // Convert through f32 in bounded chunks, so a large tensor needs no second full copy.
        const std::size_t elem = t.dtype == StDtype::f32 ? 4 : 2;
        constexpr std::size_t chunk = 1 << 16;
        std::vector<unsigned char> buf(chunk * elem);
        for (std::size_t i = 0; i < out.size(); i += chunk) {
            const std::size_t n = std::min(chunk, out.size() - i);
            read_at(data_begin_ + t.begin + i * elem, buf.data(), n * elem);
            for (std::size_t j = 0; j < n; ++j) {
                const unsigned char* p = buf.data() + j * elem;
                float f;
                if (t.dtype == StDtype::f32) {
                    std::memcpy(&f, p, 4);
                } else {
                    const auto bits = static_cast<std::uint16_t>(p[0] | p[1] << 8);
                    f = t.dtype == StDtype::f16 ? to_float(sinter::detail::half_from_bits(bits))
                                                : to_float(sinter::detail::bf16_from_bits(bits));
                }
                out[i + j] = from_float<T>(f);
            }
        }
    }
    template <FloatDtype T = float>
    std::vector<T> read(const TensorInfo& t) const {
        std::vector<T> out(static_cast<std::size_t>(t.numel));
        read_into<T>(t, out);
        return out;
    }
    template <FloatDtype T = float>
    std::vector<T> read(std::string_view name) const {
        return read<T>(at(name));
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw format_error("sinter: " + path_.string() + ": " + what);
    }

    void read_at(std::uint64_t offset, void* dst, std::uint64_t n) const {
        in_.clear();
        in_.seekg(static_cast<std::streamoff>(offset));
        in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
        if (!in_ || static_cast<std::uint64_t>(in_.gcount()) != n)
            throw io_error("sinter: cannot read " + std::to_string(n) + " bytes at offset " +
                           std::to_string(offset) + " of " + path_.string());
    }

    static std::uint64_t non_negative(const Json& v, const std::string& what) {
        const std::int64_t i = v.as_int(what);
        if (i < 0)
            throw format_error("sinter: " + what + ": expected a non-negative integer, found " +
                               std::to_string(i));
        return static_cast<std::uint64_t>(i);
    }

    TensorInfo parse_tensor(const std::string& tensor, const Json& entry) const {
        const std::string where = "tensor '" + tensor + "'";
        const std::string field = path_.string() + ": " + where;  // for the JSON accessors' errors
        if (!entry.is_object())
            fail(where + ": expected an object, found " + std::string(Json::kind_name(entry.kind())));
        for (const auto& [key, v] : entry.as_object())
            if (key != "dtype" && key != "shape" && key != "data_offsets")
                // An unknown field could change how the bytes read (strides, byte order): refuse.
                fail(where + ": unknown field '" + key + "'");
        for (const char* key : {"dtype", "shape", "data_offsets"})
            if (!entry.find(key)) fail(where + ": missing field '" + key + "'");
        TensorInfo t;
        t.name = tensor;
        const std::string& dt = entry.at("dtype").as_string(field + " dtype");
        const auto parsed = parse_st_dtype(dt);
        if (!parsed) fail(where + ": unknown dtype '" + dt + "'");
        t.dtype = *parsed;
        std::uint64_t numel = 1;
        for (const Json& d : entry.at("shape").as_array(field + " shape")) {
            const std::uint64_t e = non_negative(d, field + " shape extent");
            if (e != 0 && numel > static_cast<std::uint64_t>(INT64_MAX) / e)
                fail(where + ": the element count of its shape overflows");
            numel *= e;
            t.shape.push_back(static_cast<index_t>(e));
        }
        t.numel = static_cast<index_t>(numel);
        const auto& offs = entry.at("data_offsets").as_array(field + " data_offsets");
        if (offs.size() != 2) fail(where + ": data_offsets must be [begin, end]");
        t.begin = non_negative(offs[0], field + " data_offsets[0]");
        t.end = non_negative(offs[1], field + " data_offsets[1]");
        if (t.end < t.begin)
            fail(where + ": data_offsets end " + std::to_string(t.end) + " is before begin " +
                 std::to_string(t.begin));
        const auto bits = static_cast<std::uint64_t>(bits_of(t.dtype));
        if (numel > UINT64_MAX / bits) fail(where + ": the byte size of its shape overflows");
        if (numel * bits % 8 != 0)
            fail(where + ": " + std::to_string(numel) + " elements of " + std::string(name(t.dtype)) +
                 " are not a whole number of bytes");
        const std::uint64_t bytes = numel * bits / 8;
        if (bytes != t.size_bytes())
            fail(where + ": shape " + shape_string(t.shape) + " of " + std::string(name(t.dtype)) + " is " +
                 std::to_string(bytes) + " bytes, but data_offsets [" + std::to_string(t.begin) + ", " +
                 std::to_string(t.end) + "] span " + std::to_string(t.size_bytes()));
        return t;
    }

    void parse_header(const std::string& header, std::uint64_t data_size) {
        const Json root = parse_json(header, path_.string() + " (safetensors header)");
        if (!root.is_object())
            fail("the header is " + std::string(Json::kind_name(root.kind())) + ", not a JSON object");
        for (const auto& [key, v] : root.as_object()) {
            if (key == "__metadata__") {
                if (v.is_null()) continue;
                if (!v.is_object()) fail("__metadata__ must be an object of strings");
                for (const auto& [mk, mv] : v.as_object()) {
                    if (!mv.is_string())
                        fail("__metadata__ '" + mk + "' must be a string, found " +
                             std::string(Json::kind_name(mv.kind())));
                    metadata_.emplace(mk, mv.as_string());
                }
                continue;
            }
            tensors_.push_back(parse_tensor(key, v));  // duplicate names: the JSON parser refused them
        }
        std::stable_sort(tensors_.begin(), tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) {
            return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
        });
        // The spans must tile [0, data_size) exactly: no gap, no overlap, no trailing bytes.
        std::uint64_t expected = 0;
        const TensorInfo* previous = nullptr;
        for (const TensorInfo& t : tensors_) {
            if (t.end > data_size)
                fail("tensor '" + t.name + "' ends at byte " + std::to_string(t.end) +
                     " past the data section of " + std::to_string(data_size) + " bytes");
            if (t.begin > expected)
                fail("a gap of " + std::to_string(t.begin - expected) + " bytes before tensor '" + t.name +
                     "'");
            if (t.begin < expected) fail("tensor '" + t.name + "' overlaps tensor '" + previous->name + "'");
            expected = t.end;
            previous = &t;
        }
        if (expected != data_size)
            fail(std::to_string(data_size - expected) + " trailing bytes after the last tensor");
        for (std::size_t i = 0; i < tensors_.size(); ++i) index_.emplace(tensors_[i].name, i);
    }

    std::filesystem::path path_;
    mutable std::ifstream in_;  // reads seek first; a SafetensorsFile is not for concurrent reads
    std::uint64_t data_begin_ = 0;
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string, std::size_t> index_;
    std::map<std::string, std::string> metadata_;
};

// The tensors of a checkpoint folder: its `model.safetensors`, or else the shards that
// `model.safetensors.index.json` maps tensor names to (checked against what each shard holds).
class SafetensorsCheckpoint {
public:
    struct Entry {
        const SafetensorsFile* file;
        const TensorInfo* info;
    };

    explicit SafetensorsCheckpoint(const std::filesystem::path& dir) : dir_(dir) {
        const auto single = dir / "model.safetensors";
        const auto index = dir / "model.safetensors.index.json";
        if (std::filesystem::exists(single)) {  // transformers prefers it too
            add_file(single);
            add_single_entries();
        } else if (std::filesystem::exists(index)) {
            open_shards(index);
        } else {
            // Pickles (pytorch_model.bin) can run code when loaded: sinter never opens them.
            throw io_error("sinter: " + dir.string() +
                           " has neither model.safetensors nor model.safetensors.index.json");
        }
    }

    const std::filesystem::path& dir() const { return dir_; }
    bool sharded() const { return sharded_; }
    const std::map<std::string, Entry>& entries() const { return entries_; }  // by name
    const Entry* find(std::string_view name) const {
        const auto it = entries_.find(std::string(name));
        return it == entries_.end() ? nullptr : &it->second;
    }

private:
    const SafetensorsFile& add_file(const std::filesystem::path& path) {
        files_.push_back(std::make_unique<SafetensorsFile>(path));
        return *files_.back();
    }

    void open_shards(const std::filesystem::path& index_path) {
        sharded_ = true;
        const std::string where = "sinter: " + index_path.string() + ": ";
        const Json root = read_json_file(index_path);
        const Json* map = root.find("weight_map");
        if (!map || !map->is_object()) throw format_error(where + "expected a 'weight_map' object");
        std::map<std::string, std::string> shard_of;  // tensor -> shard file name
        for (const auto& [tensor, file] : map->as_object()) {
            const std::string& name = file.as_string(index_path.string() + ": weight_map '" + tensor + "'");
            // Lexical check only: a Hugging Face cache folder holds symlinks into ../../blobs,
            // so resolving links would refuse every cached model.
            const std::filesystem::path p(name);
            bool leaves = name.empty() || p.has_root_name() || p.has_root_directory();
            for (const auto& part : p) leaves = leaves || part == "..";
            if (leaves)
                throw format_error(where + "shard file name '" + name + "' for tensor '" + tensor +
                                   "' leaves the checkpoint folder");
            shard_of.emplace(tensor, name);
        }
        std::map<std::string, const SafetensorsFile*> shards;
        for (const auto& [tensor, name] : shard_of)
            if (!shards.count(name)) shards.emplace(name, &add_file(dir_ / name));
        for (const auto& [tensor, name] : shard_of) {
            const SafetensorsFile& f = *shards.at(name);
            const TensorInfo* t = f.find(tensor);
            if (!t) throw format_error(where + "tensor '" + tensor + "' is not in its shard " + name);
            entries_.emplace(tensor, Entry{&f, t});
        }
        for (const auto& [name, f] : shards)
            for (const TensorInfo& t : f->tensors()) {
                const auto it = shard_of.find(t.name);
                if (it == shard_of.end() || it->second != name)
                    throw format_error(where + "shard " + name + " holds tensor '" + t.name +
                                       "', which the weight_map does not map to it");
            }
    }

    void add_single_entries() {
        for (const TensorInfo& t : files_.front()->tensors())
            entries_.emplace(t.name, Entry{files_.front().get(), &t});
    }

    std::filesystem::path dir_;
    bool sharded_ = false;
    std::vector<std::unique_ptr<SafetensorsFile>> files_;  // pointers: entries point into them
    std::map<std::string, Entry> entries_;
};

}  // namespace sinter::io
