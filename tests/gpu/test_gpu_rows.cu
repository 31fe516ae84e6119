// Tier-2 expressions on the device (a warp or a block per row, CUB reductions) against the host
// evaluator: reductions, layer_norm, softmax and masked softmax with the hard rows.
#include "../support/device_vs_host.cuh"

using namespace sinter;
using test::device_matches_host;
using test::fill_uniform;

namespace {
// Short rows take the warp path, long ones (over 128 vectors) the block path.
const index_t extents[] = {1, 3, 63, 65, 767, 768, 769, 4096};
}  // namespace

TEST_CASE_TEMPLATE("layer_norm(x + residual) on the device", T, float, half, bf16) {
    SINTER_REQUIRE_GPU();
    for (index_t C : extents) {
        const index_t R = 67;
        Tensor<T, Shape<dyn, dyn>> x(R, C), r(R, C);
        Tensor<T, Shape<dyn>> g(C), b(C);
        fill_uniform(x.view(), -3, 3);
        fill_uniform(r.view());
        fill_uniform(g.view(), 0.5f, 1.5f);
        fill_uniform(b.view());
        for (index_t c = 0; c < C; ++c) {  // row 0: constant with a large mean
            x(0, c) = from_float<T>(1e4f);
            r(0, c) = from_float<T>(0.f);
        }
        device_matches_host<T>("layer_norm C=" + std::to_string(C), x.shape(),
                               [](auto x, auto r, auto g, auto b) { return layer_norm(x + r, g, b, 1e-12f); },
                               x, r, g, b);
    }
}

TEST_CASE_TEMPLATE("row reductions inside element-wise trees on the device", T, float, half) {
    SINTER_REQUIRE_GPU();
    for (index_t C : extents) {
        const index_t R = 45;
        Tensor<T, Shape<dyn, dyn>> x(R, C);
        fill_uniform(x.view(), 0.f, 2.f);
        device_matches_host<float>("reductions C=" + std::to_string(C), x.shape(),
                                   [](auto x) {
                                       return (x - row_mean(x)) * rsqrt(row_var(x) + 1e-5f) +
                                              row_max(x) - row_sum(x) * 0.01f;
                                   },
                                   x);
    }
}

TEST_CASE_TEMPLATE("softmax with -inf entries and rows of -inf on the device", T, float, half, bf16) {
    SINTER_REQUIRE_GPU();
    for (index_t C : extents) {
        const index_t R = 40;
        Tensor<T, Shape<dyn, dyn>> x(R, C);
        fill_uniform(x.view(), -10, 10);
        for (index_t c = 0; c < C; c += 3) x(1, c) = from_float<T>(-INFINITY);
        for (index_t c = 0; c < C; ++c) x(2, c) = from_float<T>(-INFINITY);
        device_matches_host<T>("softmax C=" + std::to_string(C), x.shape(),
                               [](auto x) { return softmax(x); }, x);
    }
}

TEST_CASE("masked softmax over (B, NH, S, S) scores, (B, 1, 1, S) mask, one sequence fully masked") {
    SINTER_REQUIRE_GPU();
    for (index_t S : {index_t(128), index_t(512), index_t(77)}) {
        const index_t B = 3, NH = 4;
        Tensor<half, Shape<dyn, dyn, dyn, dyn>> scores(B, NH, S, S);
        fill_uniform(scores.view(), -8, 8);
        Tensor<std::int32_t, Shape<dyn, 1, 1, dyn>> mask(B, S);
        const index_t lengths[] = {S, S / 3, 0};
        for (index_t b = 0; b < B; ++b)
            for (index_t s = 0; s < S; ++s) mask(b, 0, 0, s) = s < lengths[b];
        device_matches_host<half>("masked softmax S=" + std::to_string(S), scores.shape(),
                                  [](auto x, auto m) { return masked_softmax(x * 0.125f, m); }, scores, mask);
    }
}

TEST_CASE("the embedding layer in one kernel: layer_norm(word[ids] + pos[p] + type[t])") {
    SINTER_REQUIRE_GPU();
    const index_t V = 3000, T = 1000, H = 768;
    Tensor<half, Shape<dyn, H>> word(V), pos(512), type(2);
    Tensor<half, Shape<H>> g{Shape<H>{}}, b{Shape<H>{}};
    for (auto* t : {&word, &pos, &type}) fill_uniform(t->view());
    fill_uniform(g.view(), 0.5f, 1.5f);
    fill_uniform(b.view());
    Tensor<int, Shape<dyn>> ids(T), p(T), tt(T);
    for (index_t t = 0; t < T; ++t) {
        ids(t) = int(test::rng()() % V);
        p(t) = int(t % 512);
        tt(t) = int(t % 2);
    }
    device_matches_host<half>("embedding layer", Shape<dyn, H>::from_dynamic({T}),
                              [](auto w, auto p, auto ty, auto g, auto b, auto i, auto pi, auto ti) {
                                  return layer_norm(gather(w, i) + gather(p, pi) + gather(ty, ti), g, b, 1e-12f);
                              },
                              word, pos, type, g, b, ids, p, tt);
}
