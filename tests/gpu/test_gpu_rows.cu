// Tier-2 expressions on the device (a warp or a block per row, CUB reductions) against the host
// evaluator: reductions, layer_norm, softmax and masked softmax with the hard rows, and the
// embedding layer (the cases in support/row_cases.hpp, which the SIMT emulator's test also runs).
#include "../support/device_vs_host.cuh"
#include "../support/row_cases.hpp"

using namespace sinter;
namespace cases = test::row_cases;

namespace {

// Runs a case's expression on the device; compares with the host evaluator.
const auto on_device = [](auto out, const std::string& what, const auto& shape, auto build, const auto&... inputs) {
    test::device_matches_host<typename decltype(out)::type>(what, shape, build, inputs...);
};

}  // namespace

TEST_CASE_TEMPLATE("layer_norm(x + residual) on the device", T, float, half, bf16) {
    SINTER_REQUIRE_GPU();
    cases::layer_norm_of_sum<T>(on_device, 67);
}

TEST_CASE_TEMPLATE("row reductions inside element-wise trees on the device", T, float, half) {
    SINTER_REQUIRE_GPU();
    cases::reductions_in_trees<T>(on_device, 45);
}

TEST_CASE_TEMPLATE("softmax with -inf entries and rows of -inf on the device", T, float, half, bf16) {
    SINTER_REQUIRE_GPU();
    cases::softmax_with_infinities<T>(on_device, 40);
}

TEST_CASE("masked softmax over (B, NH, S, S) scores, (B, 1, 1, S) mask, one sequence fully masked") {
    SINTER_REQUIRE_GPU();
    cases::masked_softmax_of_scores(on_device, 4, {128, 512, 77});
}

TEST_CASE("the embedding layer in one kernel: layer_norm(word[ids] + pos[p] + type[t])") {
    SINTER_REQUIRE_GPU();
    cases::embedding_layer(on_device, 3000, 1000);
}
