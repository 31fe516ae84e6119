#pragma once
// gather(table, ids): row ids[t] of a (V, C) table for each t, a (T, C) operand: the embedding
// lookup. ids out of [0, V) throw on the host; on a device they read as NaN (a device cannot
// throw, and an out-of-range read would poison the context): check ids on the host first.
#include <limits>
#include <string>

#include "node.hpp"

namespace sinter::expr {

template <class T, class TS, class I, class IS, class Space>
struct Gather : TerminalFacts<int(sizeof(T)), Space> {
    using shape_type = Shape<IS::static_extents[0], TS::static_extents[1]>;

    const T* table_;
    TS table_shape_;
    const I* ids_;
    shape_type shape_;

    SINTER_HD const shape_type& shape() const { return shape_; }
    template <int N, int R>
    SINTER_HD Vec<N> load(const Index<R>& i) const {
        const index_t rows = shape_.extent(0), cols = shape_.extent(1);
        const index_t t = rows == 1 ? 0 : i[R - 2];
        const index_t id = static_cast<index_t>(ids_[t]);
        if (id < 0 || id >= table_shape_.extent(0)) {
#if defined(__CUDA_ARCH__)
            return splat<N>(f32_nan);
#else
            throw value_error("gather: index " + std::to_string(id) + " at position " +
                              std::to_string(t) + " is outside the table's " +
                              std::to_string(table_shape_.extent(0)) + " rows");
#endif
        }
        const T* row = table_ + id * cols;
        if (cols == 1) return splat<N>(to_float(row[0]));
        return detail::load_vec<N>(row + i[R - 1]);
    }
    template <int N>
    bool vectorizable() const {
        return detail::view_vectorizable<N>(TensorView<const T, TS, Space>(table_, table_shape_));
    }
};

template <class TV, class IV>
    requires(is_tensor_v<TV> && is_tensor_v<IV>)
auto gather(const TV& table, const IV& ids) {
    using T = std::remove_const_t<typename TV::value_type>;
    using I = std::remove_const_t<typename IV::value_type>;
    using TS = typename TV::shape_type;
    using IS = typename IV::shape_type;
    static_assert(diag::check<diag::gather_table_must_have_rank_2, TS, IS, TS::rank == 2>::value);
    static_assert(diag::check<diag::gather_indices_must_have_rank_1, TS, IS, IS::rank == 1>::value);
    static_assert(std::is_integral_v<I>, "gather: ids must be integers");
    static_assert(std::is_same_v<typename TV::space, typename IV::space>,
                  "gather: the table and the ids must live in the same space");
    using G = Gather<T, TS, I, IS, typename TV::space>;
    typename G::shape_type shape(std::array<index_t, 2>{ids.extent(0), table.extent(1)});
    return G{{}, table.data(), table.shape(), ids.data(), shape};
}

}  // namespace sinter::expr
