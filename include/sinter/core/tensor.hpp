#pragma once
// TensorView<T, S, Space>: a pointer plus the extents, nothing else; contiguous, row-major.
// Tensor<T, S, Space>: owns its memory (RAII, move-only) and hands out views.
// Space is `host_space` or `device_space`; nothing ever copies between them implicitly.
#include <array>
#include <concepts>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "error.hpp"
#include "shape.hpp"

namespace sinter {

struct host_space {
    static constexpr const char* name = "host";
};
struct device_space {
    static constexpr const char* name = "device";
};

// `sinter::host` is both the host memory space and the host evaluation target: eval(out, e, host).
inline constexpr host_space host{};
inline constexpr device_space device{};

template <class Space>
struct space_traits;  // allocate / deallocate; device_space's lives in cuda/memory.cuh

template <>
struct space_traits<host_space> {
    // 256-byte alignment, like cudaMalloc, so host and device take the same vector paths.
    static void* allocate(std::size_t bytes) {
        return ::operator new(bytes ? bytes : 1, std::align_val_t{256});
    }
    static void deallocate(void* p) noexcept { ::operator delete(p, std::align_val_t{256}); }
};

template <class T, ShapeType S, class Space = host_space>
class TensorView {
public:
    using value_type = T;
    using shape_type = S;
    using space = Space;
    static constexpr int rank = S::rank;

    TensorView() = default;
    SINTER_HD TensorView(T* data, const S& shape) : data_(data), shape_(shape) {}

    // Only the dynamic extents: TensorView<float, Shape<dyn, 768>>(p, rows).
    template <std::integral... I>
        requires(sizeof...(I) == S::dynamic_count && S::dynamic_count > 0)
    TensorView(T* data, I... dynamic_extents)
        : data_(data), shape_(S::from_dynamic({static_cast<index_t>(dynamic_extents)...})) {}

    // A view of const T from a view of T.
    template <class U>
        requires(std::is_same_v<const U, T> && !std::is_same_v<U, T>)
    SINTER_HD TensorView(const TensorView<U, S, Space>& other)
        : data_(other.data()), shape_(other.shape()) {}

    SINTER_HD T* data() const { return data_; }
    SINTER_HD const S& shape() const { return shape_; }
    SINTER_HD index_t extent(int d) const { return shape_.extent(d); }
    SINTER_HD index_t size() const { return shape_.size(); }
    SINTER_HD std::size_t bytes() const { return static_cast<std::size_t>(size()) * sizeof(T); }
    SINTER_HD bool empty() const { return size() == 0; }

    // Element access; meaningful only where the memory is addressable (the host, or in a kernel).
    template <std::integral... I>
        requires(sizeof...(I) == S::rank)
    SINTER_HD T& operator()(I... i) const {
        const index_t idx[] = {static_cast<index_t>(i)..., 0};
        index_t off = 0;
        for (int d = 0; d < rank; ++d) off = off * shape_.extent(d) + idx[d];
        return data_[off];
    }

    // Rows [begin, begin + count) of the first axis, as a view whose first extent is dynamic.
    auto rows(index_t begin, index_t count) const {
        static_assert(S::rank >= 1, "rows() needs a rank >= 1 view");
        if (begin < 0 || count < 0 || begin + count > extent(0))
            throw shape_error("TensorView::rows: [" + std::to_string(begin) + ", " +
                              std::to_string(begin + count) + ") is outside the " +
                              std::to_string(extent(0)) + " rows of " + shape_.str());
        return rows_impl(begin, count, std::make_index_sequence<S::rank - 1>{});
    }

private:
    template <std::size_t... I>
    auto rows_impl(index_t begin, index_t count, std::index_sequence<I...>) const {
        using Rows = Shape<dyn, S::static_extents[I + 1]...>;
        return TensorView<T, Rows, Space>(
            data_ + begin * shape_.stride(0),
            Rows(std::array<index_t, S::rank>{count, shape_.extent(int(I) + 1)...}));
    }

    T* data_ = nullptr;
    S shape_{};
};

template <class T, ShapeType S, class Space = host_space>
class Tensor {
public:
    using value_type = T;
    using shape_type = S;
    using space = Space;
    static constexpr int rank = S::rank;

    Tensor() = default;
    explicit Tensor(const S& shape) : shape_(shape) {
        data_ = static_cast<T*>(space_traits<Space>::allocate(bytes()));
    }
    template <std::integral... I>
        requires(sizeof...(I) == S::dynamic_count)
    explicit Tensor(I... dynamic_extents)
        : Tensor(S::from_dynamic({static_cast<index_t>(dynamic_extents)...})) {}

    Tensor(const Tensor&) = delete;
    Tensor& operator=(const Tensor&) = delete;
    Tensor(Tensor&& o) noexcept : data_(std::exchange(o.data_, nullptr)), shape_(o.shape_) {}
    Tensor& operator=(Tensor&& o) noexcept {
        if (this != &o) {
            release();
            data_ = std::exchange(o.data_, nullptr);
            shape_ = o.shape_;
        }
        return *this;
    }
    ~Tensor() { release(); }

    T* data() const { return data_; }
    const S& shape() const { return shape_; }
    index_t extent(int d) const { return shape_.extent(d); }
    index_t size() const { return shape_.size(); }
    std::size_t bytes() const { return static_cast<std::size_t>(size()) * sizeof(T); }

    TensorView<T, S, Space> view() const { return {data_, shape_}; }
    operator TensorView<T, S, Space>() const { return view(); }
    operator TensorView<const T, S, Space>() const { return {data_, shape_}; }

    template <std::integral... I>
        requires(sizeof...(I) == S::rank && std::is_same_v<Space, host_space>)
    T& operator()(I... i) const {
        return view()(i...);
    }

private:
    void release() noexcept {
        if (data_) space_traits<Space>::deallocate(data_);
        data_ = nullptr;
    }
    T* data_ = nullptr;
    S shape_{};
};

template <class T>
inline constexpr bool is_tensor_v = false;
template <class T, class S, class Sp>
inline constexpr bool is_tensor_v<TensorView<T, S, Sp>> = true;
template <class T, class S, class Sp>
inline constexpr bool is_tensor_v<Tensor<T, S, Sp>> = true;

namespace detail {
template <class A, class B>
void check_same_extents(const A& a, const B& b, const char* what) {
    bool same = A::rank == B::rank;
    for (int d = 0; same && d < A::rank; ++d) same = a.extent(d) == b.extent(d);
    if (!same)
        throw shape_error(std::string(what) + ": destination " + a.str() + " and source " +
                          b.str() + " differ");
}
}  // namespace detail

// Host to host copy. Host <-> device copies live in cuda/memory.cuh.
template <class T, class U, class SD, class SS>
    requires std::is_same_v<std::remove_const_t<U>, T>
void copy(const TensorView<T, SD, host_space>& dst, const TensorView<U, SS, host_space>& src) {
    detail::check_same_extents(dst.shape(), src.shape(), "copy");
    if (src.size()) std::memmove(dst.data(), src.data(), src.bytes());
}

}  // namespace sinter
