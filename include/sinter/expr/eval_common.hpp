#pragma once
// What the host and CUDA evaluators share: the checks on (out, expression) and the row indexing;
// and, for the CUDA evaluator and its emulation in tests/simt, the vector width and block counts.
#include <algorithm>
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

// Blocks of `per_block` work items for `items` of them: at least 1, at most `cap`.
inline index_t blocks_for(index_t items, index_t per_block, index_t cap) {
    return std::clamp<index_t>((items + per_block - 1) / per_block, 1, cap);
}

// Whether out = e can be evaluated N elements at a time: the output's and every operand's extents
// and alignment allow N-wide loads and stores.
template <int N, class OutView, class E>
bool vectorizable(const OutView& out, const E& e) {
    return view_vectorizable<N>(out) && out.shape().cols() % N == 0 && e.template vectorizable<N>();
}

}  // namespace sinter::expr::detail
