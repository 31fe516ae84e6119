#pragma once
// What the host and CUDA evaluators share: the checks on (out, expression) and the row indexing.
#include <string>

#include "node.hpp"

namespace sinter::expr::detail {

template <class OutView, class E, class Space>
void check_eval(const OutView& out, const E& e) {
    using SO = typename OutView::shape_type;
    using SE = typename E::shape_type;
    static_assert(diag::check<diag::output_rank_must_match_expression_rank, SO, SE,
                              SO::rank == SE::rank>::value);
    constexpr bool extents_agree = [] {
        for (int d = 0; d < SO::rank && d < SE::rank; ++d) {
            const index_t a = SO::static_extent(d), b = SE::static_extent(d);
            if (a != dyn && b != dyn && a != b) return false;
        }
        return true;
    }();
    static_assert(diag::check<diag::output_extents_must_match_expression, SO, SE, extents_agree>::value);
    static_assert(diag::check<diag::operands_must_live_in_the_evaluation_space, typename OutView::space,
                              Space, std::is_same_v<typename OutView::space, Space> &&
                                         E::template lives_in<Space>>::value);
    for (int d = 0; d < SO::rank; ++d)
        if (out.extent(d) != e.shape().extent(d))
            throw shape_error("eval: output " + out.shape().str() + " and expression " +
                              e.shape().str() + " differ on axis " + std::to_string(d) + " (" +
                              std::to_string(out.extent(d)) + " vs " +
                              std::to_string(e.shape().extent(d)) + ")");
}

// The index of element 0 of row `row` (all but the last axis, row-major) of a rank-R shape.
template <int R, class S>
SINTER_HD Index<R> row_start(const S& shape, index_t row) {
    Index<R> i;
    i[R > 0 ? R - 1 : 0] = 0;
SINTER_UNROLL
    for (int d = R - 2; d >= 0; --d) {
        const index_t e = shape.extent(d);
        i[d] = row % e;
        row /= e;
    }
    return i;
}

// The widest lane count the element types allow: 16 bytes of the narrowest one.
template <class TOut, class E>
inline constexpr int vector_width =
    16 / (int(sizeof(TOut)) < E::min_elem_bytes ? int(sizeof(TOut)) : E::min_elem_bytes);

}  // namespace sinter::expr::detail
