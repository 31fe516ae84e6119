// The CUDA evaluator's kernels (expr/eval_cuda_kernels.cuh), run on the host by the SIMT emulator
// against the host evaluator: tier 1 (element-wise, a grid-stride loop over vectors) and tier 2 (a
// warp or a block of 256 per row, CUB reductions). The row cases are test_gpu_rows.cu's
// (support/row_cases.hpp, on fewer rows), the element-wise ones test_gpu_elementwise.cu's; both
// row groups for every expression, whatever eval would pick, and grids smaller than the work so
// that every loop takes several turns.
#include <algorithm>

#include <simt/eval_kernels.hpp>

#include "../support/check.hpp"
#include "../support/row_cases.hpp"

using namespace sinter;
using test::fill_uniform;
namespace cases = test::row_cases;

namespace {

enum class RowGroup { warp, block };

// eval(out, e, stream)'s launch of its kernel with vectors of N, the row group given, and at most
// `max_blocks` blocks.
template <int N, class T, class S, class E>
void emulate_launch(T* out, const S& shape, const E& e, RowGroup group, unsigned max_blocks) {
    const auto grid = [&](index_t items, int per_block) {
        return simt::dim3{unsigned(expr::detail::blocks_for(items, per_block, max_blocks)), 1, 1};
    };
    if constexpr (!E::has_reduction) {
        simt::launch(expr::detail::elementwise_kernel<N, T, S, E>, grid(shape.size() / N, 256), {256, 1, 1}, 0, out,
                     shape, e);
    } else if (group == RowGroup::warp) {
        using G = expr::detail::WarpGroup<N, 8>;
        simt::launch(expr::detail::rowwise_kernel<G, T, S, E>, grid(shape.rows(), G::rows_per_block),
                     {G::threads, 1, 1}, 0, out, shape, e);
    } else {
        using G = expr::detail::BlockGroup<N, 256>;
        simt::launch(expr::detail::rowwise_kernel<G, T, S, E>, grid(shape.rows(), 1), {G::threads, 1, 1}, 0, out, shape, e);
    }
}

// The vector width eval would use for (out, e): 16 bytes of the narrowest type where every operand
// allows it, else 1.
template <class T, class S, class E>
void emulate_eval(const TensorView<T, S, host_space>& out, const E& e, RowGroup group, unsigned max_blocks) {
    constexpr int N = expr::detail::vector_width<T, E>;
    if (expr::detail::vectorizable<N>(out, e))
        emulate_launch<N>(out.data(), out.shape(), e, group, max_blocks);
    else
        emulate_launch<1>(out.data(), out.shape(), e, group, max_blocks);
}

// `build(views...)` evaluated by the host evaluator and by the emulated kernels (both row groups
// for an expression with reductions), from the same random inputs.
template <class T, class S, class Build, class... Inputs>
void emulated_matches_host(const std::string& what, const S& out_shape, Build build, const Inputs&... inputs) {
    Tensor<T, S> want(out_shape);
    eval(want.view(), build(inputs.view()...), host);
    const auto e = expr::as_expr(build(inputs.view()...));
    for (const RowGroup group : {RowGroup::warp, RowGroup::block}) {
        if (group == RowGroup::block && !std::remove_const_t<decltype(e)>::has_reduction) continue;
        Tensor<T, S> got(out_shape);
        std::fill(got.data(), got.data() + got.size(), from_float<T>(f32_nan));  // every element must be written
        emulate_eval(got.view(), e, group, 3);
        test::compare_as<T>(got.data(), want.data(), got.size(),
                            what + (std::remove_const_t<decltype(e)>::has_reduction
                                        ? group == RowGroup::warp ? ", a warp per row" : ", a block per row"
                                        : ""));
    }
}

// Runs a case's expression through the emulated kernels; compares with the host evaluator.
const auto emulated = [](auto out, const std::string& what, const auto& shape, auto build, const auto&... inputs) {
    emulated_matches_host<typename decltype(out)::type>(what, shape, build, inputs...);
};

}  // namespace

TEST_CASE_TEMPLATE("emulated: layer_norm(x + residual)", T, float, half, bf16) {
    cases::layer_norm_of_sum<T>(emulated, 11);
}

TEST_CASE_TEMPLATE("emulated: row reductions inside element-wise trees", T, float, half) {
    cases::reductions_in_trees<T>(emulated, 9);
}

TEST_CASE_TEMPLATE("emulated: softmax with -inf entries and rows of -inf", T, float, half, bf16) {
    cases::softmax_with_infinities<T>(emulated, 5);
}

TEST_CASE("emulated: masked softmax over (B, NH, S, S) scores, (B, 1, 1, S) mask, one sequence fully masked") {
    cases::masked_softmax_of_scores(emulated, 2, {128, 77});
}

TEST_CASE("emulated: the embedding layer, layer_norm(word[ids] + pos[p] + type[t])") {
    cases::embedding_layer(emulated, 300, 70);
}

TEST_CASE_TEMPLATE("emulated: element-wise trees, broadcasting, mixed precision", T, float, half, bf16) {
    for (index_t C : {index_t(1), index_t(7), index_t(64), index_t(770)}) {
        const index_t R = 13;
        Tensor<T, Shape<dyn, dyn>> x(R, C), r(R, C);
        Tensor<T, Shape<dyn>> bias(C);
        fill_uniform(x.view(), -3, 3);
        fill_uniform(r.view());
        fill_uniform(bias.view());
        const std::string c = " C=" + std::to_string(C);
        emulated_matches_host<T>("gelu(x + b) + r" + c, x.shape(), [](auto x, auto b, auto r) { return gelu(x + b) + r; },
                                 x, bias, r);
        emulated_matches_host<T>("gelu_tanh / relu / tanh / exp" + c, x.shape(),
                                 [](auto x, auto b) { return gelu_tanh(x) - relu(b) * tanh(x) + exp(x) * 0.1f; }, x,
                                 bias);
        emulated_matches_host<float>("f16 * T -> f32" + c, x.shape(),
                                     [](auto x, auto r) { return cast<half>(x) * r - x / (r + 3.f); }, x, r);
    }
}
