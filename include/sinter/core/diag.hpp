#pragma once
// Compile-time shape rules. Each rule is a tag type named as a sentence; a failed rule
// instantiates `check<Rule, A, B, false>`, whose static_assert makes g++ and nvcc print the rule
// and both shapes in the first lines of the error, e.g.
//   error: static assertion failed: ... check<sinter::diag::elementwise_extents_must_match,
//          sinter::Shape<3, 4>, sinter::Shape<3, 5>, false>
namespace sinter::diag {

struct elementwise_extents_must_match {};
struct broadcast_extents_must_be_equal_or_1 {};
struct output_rank_must_match_expression_rank {};
struct output_extents_must_match_expression {};
struct matmul_inner_extents_must_match {};
struct matmul_operands_must_have_rank_2 {};
struct gather_table_must_have_rank_2 {};
struct gather_indices_must_have_rank_1 {};
struct view_extent_count_must_match_dynamic_extents {};
struct static_extent_must_match_given_extent {};
struct contractions_on_the_gpu_need_sinter_blas_gemm_cuh {};
struct operands_must_live_in_the_evaluation_space {};

template <class Rule, class A, class B, bool Holds>
struct check {
    static_assert(Holds, "sinter shape rule violated: the rule and both shapes are the template "
                         "arguments of this sinter::diag::check");
    static constexpr bool value = Holds;
};

}  // namespace sinter::diag
