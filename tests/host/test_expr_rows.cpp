// Tier-2 expressions (row reductions inside element-wise trees) on the host evaluator, against the
// ref:: loops: sums, maxima, means, variances, layer_norm and (masked) softmax, with the hard rows.
#include <algorithm>
#include <cmath>
#include <vector>

#include <doctest/doctest.h>

#include "sinter/ref/rows.hpp"
#include "sinter/sinter.hpp"
#include "../support/check.hpp"

using namespace sinter;
using test::compare;
using test::compare_as;
using test::fill_uniform;

namespace {
// Rows that the host evaluator reads 8 elements at a time (64, 768) and one at a time (the rest).
const index_t extents[] = {1, 3, 63, 64, 65, 767, 768, 769};

std::vector<float> as_floats(const auto& t) {
    std::vector<float> v(std::size_t(t.size()));
    for (index_t i = 0; i < t.size(); ++i) v[std::size_t(i)] = to_float(t.data()[i]);
    return v;
}

// How many elements of two tensors of one size differ in their bits.
index_t count_differing(const auto& a, const auto& b) {
    index_t differing = 0;
    for (index_t i = 0; i < a.size(); ++i) differing += a.data()[i] != b.data()[i];
    return differing;
}
}  // namespace

TEST_CASE_TEMPLATE("row_sum, row_max, row_mean, row_var against loops", T, float, half, bf16) {
    for (index_t C : extents) {
        const index_t R = 6;
        Tensor<T, Shape<dyn, dyn>> x(R, C);
        fill_uniform(x.view(), -2, 3);
        Tensor<float, Shape<dyn, 4>> out(R), want(R);
        Tensor<float, Shape<4>> onehot[4];
        for (int k = 0; k < 4; ++k) {
            onehot[k] = Tensor<float, Shape<4>>(Shape<4>{});
            for (int j = 0; j < 4; ++j) onehot[k](j) = j == k ? 1.f : 0.f;
        }
        // Four reductions in one expression, each broadcast into its own column.
        eval(out, row_sum(x) * onehot[0] + row_max(x) * onehot[1] + row_mean(x) * onehot[2] +
                      row_var(x) * onehot[3], host);
        for (index_t r = 0; r < R; ++r) {
            double sum = 0, max = -INFINITY, var = 0;
            for (index_t c = 0; c < C; ++c) {
                sum += to_float(x(r, c));
                max = std::max(max, double(to_float(x(r, c))));
            }
            for (index_t c = 0; c < C; ++c) var += std::pow(to_float(x(r, c)) - sum / C, 2);
            want(r, 0) = float(sum);
            want(r, 1) = float(max);
            want(r, 2) = float(sum / C);
            want(r, 3) = float(var / C);
        }
        compare(out.data(), want.data(), out.size(), 1e-5, 1e-4, "reductions C=" + std::to_string(C));
    }
}

TEST_CASE("reductions over rows of no element: sum 0, max -inf, mean and variance NaN, nothing read") {
    Tensor<float, Shape<dyn, dyn>> x(4, 0);
    Tensor<float, Shape<dyn, 1>> sum(4), max(4), mean(4), var(4);
    eval(sum, row_sum(x), host);
    eval(max, row_max(x), host);
    eval(mean, row_mean(x), host);
    eval(var, row_var(x), host);
    for (index_t r = 0; r < 4; ++r) {
        CHECK(sum(r, 0) == 0.f);
        CHECK(max(r, 0) == -INFINITY);
        CHECK(std::isnan(mean(r, 0)));
        CHECK(std::isnan(var(r, 0)));
    }
}

TEST_CASE("a reduction broadcast back over its row: x - row_mean(x), x / row_sum(x)") {
    const index_t R = 5, C = 65;
    Tensor<float, Shape<dyn, dyn>> x(R, C), out(R, C), want(R, C);
    fill_uniform(x.view(), 0.1f, 1.f);
    eval(out, (x - row_mean(x)) / row_sum(x), host);
    for (index_t r = 0; r < R; ++r) {
        double s = 0;
        for (index_t c = 0; c < C; ++c) s += x(r, c);
        for (index_t c = 0; c < C; ++c) want(r, c) = float((x(r, c) - s / C) / s);
    }
    compare_as<float>(out.data(), want.data(), out.size(), "centred / sum");
}

TEST_CASE_TEMPLATE("layer_norm against ref::layer_norm", T, float, half, bf16) {
    for (index_t C : extents) {
        const index_t R = 7;
        Tensor<T, Shape<dyn, dyn>> x(R, C), residual(R, C), out(R, C);
        Tensor<T, Shape<dyn>> gamma(C), beta(C);
        fill_uniform(x.view(), -3, 3);
        fill_uniform(residual.view(), -1, 1);
        fill_uniform(gamma.view(), 0.5f, 1.5f);
        fill_uniform(beta.view(), -0.5f, 0.5f);
        eval(out, layer_norm(x + residual, gamma, beta, 1e-12f), host);
        auto xs = as_floats(x), rs = as_floats(residual), g = as_floats(gamma), b = as_floats(beta);
        for (std::size_t i = 0; i < xs.size(); ++i) xs[i] += rs[i];
        std::vector<float> want(xs.size());
        ref::layer_norm(xs.data(), g.data(), b.data(), 1e-12f, want.data(), std::size_t(R), std::size_t(C));
        if (C == 1) {  // a single element normalises to 0: the output is beta
            for (index_t r = 0; r < R; ++r) REQUIRE(to_float(out(r, 0)) == to_float(beta(0)));
        }
        compare_as<T>(out.data(), want.data(), out.size(), "layer_norm C=" + std::to_string(C));
    }
}

TEST_CASE("layer_norm on rows with a large mean (1e4): two-pass variance keeps the precision") {
    const index_t R = 4, C = 768;
    Tensor<float, Shape<dyn, dyn>> x(R, C), out(R, C);
    Tensor<float, Shape<dyn>> gamma(C), beta(C);
    fill_uniform(x.view(), -1, 1);
    for (index_t i = 0; i < x.size(); ++i) x.data()[i] += 1e4f;
    for (index_t c = 0; c < C; ++c) x(0, c) = 1e4f;  // a constant row: variance 0, output beta
    fill_uniform(gamma.view(), 0.5f, 1.f);
    fill_uniform(beta.view(), -0.5f, 0.5f);
    eval(out, layer_norm(x, gamma, beta, 1e-5f), host);
    std::vector<float> want(std::size_t(x.size()));
    ref::layer_norm(x.data(), gamma.data(), beta.data(), 1e-5f, want.data(), R, C);
    for (index_t c = 0; c < C; ++c) REQUIRE(out(0, c) == beta(c));
    // The f32 mean itself is off by up to half an ulp of 1e4 (4.9e-4); times rstd (1.73) and gamma
    // (<= 1): 8.6e-4, under the 1.3e-3 allowed. A one-pass or unshifted f32 sum is off by ~1e-2 here.
    compare(out.data(), want.data(), out.size(), 0, 1.3e-3, "layer_norm mean 1e4");
}

TEST_CASE_TEMPLATE("softmax against ref::softmax, with -inf entries and rows of -inf", T, float, half, bf16) {
    for (index_t C : extents) {
        const index_t R = 6;
        Tensor<T, Shape<dyn, dyn>> x(R, C);
        fill_uniform(x.view(), -8, 8);
        for (index_t c = 0; c < C; c += 3) x(1, c) = from_float<T>(-INFINITY);  // some -inf
        for (index_t c = 0; c < C; ++c) x(2, c) = from_float<T>(-INFINITY);     // all -inf
        Tensor<float, Shape<dyn, dyn>> out(R, C);
        eval(out, softmax(x), host);
        auto xs = as_floats(x);
        std::vector<float> want(xs.size());
        ref::softmax(xs.data(), nullptr, want.data(), R, C);
        compare_as<float>(out.data(), want.data(), out.size(), "softmax C=" + std::to_string(C));
        for (index_t c = 0; c < C; ++c) REQUIRE(out(2, c) == 0.f);
        for (index_t r = 0; r < R; ++r) {
            bool finite = false;
            for (index_t c = 0; c < C; ++c) finite |= std::isfinite(to_float(x(r, c)));
            if (!finite) continue;  // rows of -inf: zeros, checked above
            double s = 0;
            for (index_t c = 0; c < C; ++c) s += out(r, c);
            REQUIRE(std::abs(s - 1) < 1e-5);
        }
    }
}

TEST_CASE("masked softmax: (B, NH, S, S) scores with a (B, 1, 1, S) key mask; fully masked rows give 0") {
    const index_t B = 3, NH = 2, S = 65;
    Tensor<half, Shape<dyn, NH, dyn, dyn>> scores(B, S, S);
    fill_uniform(scores.view(), -6, 6);
    Tensor<std::int32_t, Shape<dyn, 1, 1, dyn>> mask(B, S);
    const index_t lengths[] = {S, 17, 0};  // the last sequence is fully masked
    for (index_t b = 0; b < B; ++b)
        for (index_t s = 0; s < S; ++s) mask(b, 0, 0, s) = s < lengths[b];
    Tensor<float, Shape<dyn, NH, dyn, dyn>> out(B, S, S);
    eval(out, masked_softmax(scores * 0.125f, mask), host);
    for (index_t b = 0; b < B; ++b) {
        std::vector<float> xs(std::size_t(NH * S * S)), m(static_cast<std::size_t>(S)), want(xs.size());
        for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = to_float(scores.data()[b * NH * S * S + index_t(i)]) * 0.125f;
        for (index_t s = 0; s < S; ++s) m[std::size_t(s)] = float(mask(b, 0, 0, s));
        ref::softmax(xs.data(), m.data(), want.data(), std::size_t(NH * S), std::size_t(S), false);
        compare_as<float>(out.data() + b * NH * S * S, want.data(), NH * S * S,
                          "masked softmax batch " + std::to_string(b));
    }
    for (index_t i = 0; i < NH * S * S; ++i) REQUIRE(out.data()[2 * NH * S * S + i] == 0.f);
}

TEST_CASE("the embedding layer as one expression: layer_norm(word[ids] + pos[p] + type[t])") {
    const index_t V = 40, T = 9, H = 64;
    Tensor<bf16, Shape<dyn, H>> word(V), pos(16), type(2);
    Tensor<bf16, Shape<H>> gamma{Shape<H>{}}, beta{Shape<H>{}};
    for (auto* t : {&word, &pos, &type}) fill_uniform(t->view());
    fill_uniform(gamma.view(), 0.5f, 1.5f);
    fill_uniform(beta.view());
    Tensor<int, Shape<dyn>> ids(T), p(T), tt(T);
    for (index_t t = 0; t < T; ++t) {
        ids(t) = int((7 * t + 3) % V);
        p(t) = int(t % 5);
        tt(t) = int(t > 4);
    }
    Tensor<bf16, Shape<dyn, H>> out(T);
    eval(out, layer_norm(gather(word.view(), ids.view()) + gather(pos.view(), p.view()) + gather(type.view(), tt.view()), gamma, beta, 1e-12f), host);
    std::vector<float> sum(std::size_t(T * H)), want(sum.size());
    for (index_t t = 0; t < T; ++t)
        for (index_t h = 0; h < H; ++h)
            sum[std::size_t(t * H + h)] = to_float(word(ids(t), h)) + to_float(pos(p(t), h)) + to_float(type(tt(t), h));
    const auto g = as_floats(gamma), b = as_floats(beta);
    ref::layer_norm(sum.data(), g.data(), b.data(), 1e-12f, want.data(), T, H);
    compare_as<bf16>(out.data(), want.data(), out.size(), "embedding layer");
}

TEST_CASE("in place: x = layer_norm(x + r) reads each row before writing it") {
    const index_t R = 5, C = 96;
    Tensor<float, Shape<dyn, dyn>> x(R, C), r(R, C), copy_of_x(R, C), want(R, C);
    Tensor<float, Shape<dyn>> g(C), b(C);
    fill_uniform(x.view());
    fill_uniform(r.view());
    fill_uniform(g.view());
    fill_uniform(b.view());
    eval(copy_of_x, x + r, host);
    ref::layer_norm(copy_of_x.data(), g.data(), b.data(), 1e-6f, want.data(), R, C);
    eval(x, layer_norm(x + r, g, b, 1e-6f), host);
    compare_as<float>(x.data(), want.data(), x.size(), "in-place layer_norm");
}

TEST_CASE("rows split over threads: the bits of one thread, in place too, and a row's error arrives") {
    const index_t R = 3001, C = 128;  // 384k elements: enough for several threads
    Tensor<float, Shape<dyn, dyn>> x(R, C), r(R, C), one(R, C), many(R, C), want(R, C);
    Tensor<float, Shape<dyn>> g(C), b(C);
    fill_uniform(x.view(), -3, 3);
    fill_uniform(r.view());
    fill_uniform(g.view(), 0.5f, 1.5f);
    fill_uniform(b.view());
    expr::HostGemm one_thread{1}, eight_threads{8};
    REQUIRE(host_workers(8, R, double(R * C) * expr::detail::host_work_per_element) > 1);
    eval(one.view(), layer_norm(x + r, g, b, 1e-6f), host, one_thread);
    eval(many.view(), layer_norm(x + r, g, b, 1e-6f), host, eight_threads);
    CHECK(count_differing(one, many) == 0);
    eval(want, x + r, host, one_thread);
    ref::layer_norm(want.data(), g.data(), b.data(), 1e-6f, want.data(), R, C);
    compare_as<float>(many.data(), want.data(), many.size(), "layer_norm on 8 threads");
    eval(x.view(), layer_norm(x + r, g, b, 1e-6f), host, eight_threads);  // in place: each row read before written
    CHECK(count_differing(x, one) == 0);

    // An id out of range in the last rows (another thread's part) throws here, naming it.
    Tensor<float, Shape<dyn, dyn>> table(50, C);
    fill_uniform(table.view());
    Tensor<int, Shape<dyn>> ids(R);
    for (index_t t = 0; t < R; ++t) ids(t) = int(t % 50);
    ids(R - 2) = 50;
    CHECK_THROWS_WITH_AS(eval(many.view(), gather(table.view(), ids.view()) * 2.f, host, eight_threads),
                         doctest::Contains("index 50 at position 2999 is outside the table's 50 rows"), value_error);
}

TEST_CASE("the host evaluator's 8-wide rows: element-wise bits of single loads, reductions within rounding") {
    // The same rows twice: in aligned storage (8 elements a load) and one float further on (every
    // load single). Element-wise expressions give the same bits; a reduction keeps 8 partial
    // results, so its last bits may differ.
    const index_t R = 9, C = 768;
    Tensor<float, Shape<dyn>> storage(2 * R * C + 1), g(C), b(C);
    fill_uniform(storage.view(), -3, 3);
    fill_uniform(g.view(), 0.5f, 1.5f);
    fill_uniform(b.view());
    TensorView<float, Shape<dyn, dyn>> wide(storage.data(), R, C), single(storage.data() + R * C + 1, R, C);
    std::copy(wide.data(), wide.data() + wide.size(), single.data());
    Tensor<float, Shape<dyn, dyn>> out_wide(R, C), out_single(R, C);
    const auto elementwise = [](const auto& x, const auto& g, const auto& b) { return gelu(x * g + b) - x * 0.25f; };
    REQUIRE(expr::detail::vectorizable<expr::detail::host_eval_width>(out_wide.view(), expr::as_expr(elementwise(wide, g, b))));
    REQUIRE_FALSE(expr::detail::vectorizable<expr::detail::host_eval_width>(out_single.view(), expr::as_expr(elementwise(single, g, b))));
    eval(out_wide, elementwise(wide, g, b), host);
    eval(out_single, elementwise(single, g, b), host);
    CHECK(count_differing(out_wide, out_single) == 0);

    eval(out_wide, layer_norm(wide, g, b, 1e-12f), host);
    eval(out_single, layer_norm(single, g, b, 1e-12f), host);
    // The row's statistics summed in another order: up to ~16 ulps of outputs of up to ~5 in size.
    compare(out_wide.data(), out_single.data(), out_wide.size(), 1e-6, 8e-6, "layer_norm, 8 vs 1 elements a load");
    eval(out_wide, softmax(wide), host);
    eval(out_single, softmax(single), host);
    // Each output divided by a sum of 768 terms rounded in another order: relative, a few ulps.
    compare(out_wide.data(), out_single.data(), out_wide.size(), 4e-6, 1e-9, "softmax, 8 vs 1 elements a load");
}
