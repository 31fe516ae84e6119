#pragma once
// The tier-2 (row reduction) cases that both the GPU tests (tests/gpu/test_gpu_rows.cu) and the
// SIMT emulator's (tests/simt/test_simt_eval.cpp) run: each case makes fresh random inputs, with the
// hard rows (a large constant mean, -inf entries, rows of -inf, a fully masked sequence), and calls
// check(out_type<T>{}, what, out_shape, build, inputs...), which evaluates build(views of inputs...)
// its way and compares with the host evaluator. `rows` sizes the batch.
#include <cmath>
#include <string>

#include "check.hpp"
#include "sinter/expr.hpp"

namespace sinter::test::row_cases {

template <class T>
struct out_type {
    using type = T;
};

// Row lengths: short rows take eval's warp-per-row path, long ones (over 128 vectors) its block path.
inline constexpr index_t extents[] = {1, 3, 63, 65, 767, 768, 769, 4096};

template <class T, class Check>
void layer_norm_of_sum(Check&& check, index_t rows) {
    for (index_t C : extents) {
        Tensor<T, Shape<dyn, dyn>> x(rows, C), r(rows, C);
        Tensor<T, Shape<dyn>> g(C), b(C);
        fill_uniform(x.view(), -3, 3);
        fill_uniform(r.view());
        fill_uniform(g.view(), 0.5f, 1.5f);
        fill_uniform(b.view());
        for (index_t c = 0; c < C; ++c) {  // row 0: constant with a large mean
            x(0, c) = from_float<T>(1e4f);
            r(0, c) = from_float<T>(0.f);
        }
        check(out_type<T>{}, "layer_norm C=" + std::to_string(C), x.shape(),
              [](auto x, auto r, auto g, auto b) { return layer_norm(x + r, g, b, 1e-12f); }, x, r, g, b);
    }
}

template <class T, class Check>
void reductions_in_trees(Check&& check, index_t rows) {
    for (index_t C : extents) {
        Tensor<T, Shape<dyn, dyn>> x(rows, C);
        fill_uniform(x.view(), 0.f, 2.f);
        check(out_type<float>{}, "reductions C=" + std::to_string(C), x.shape(),
              [](auto x) { return (x - row_mean(x)) * rsqrt(row_var(x) + 1e-5f) + row_max(x) - row_sum(x) * 0.01f; }, x);
    }
}

template <class T, class Check>
void softmax_with_infinities(Check&& check, index_t rows) {
    for (index_t C : extents) {
        Tensor<T, Shape<dyn, dyn>> x(rows, C);
        fill_uniform(x.view(), -10, 10);
        for (index_t c = 0; c < C; c += 3) x(1, c) = from_float<T>(-INFINITY);
        for (index_t c = 0; c < C; ++c) x(2, c) = from_float<T>(-INFINITY);
        check(out_type<T>{}, "softmax C=" + std::to_string(C), x.shape(), [](auto x) { return softmax(x); }, x);
    }
}

// (B, heads, S, S) f16 scores and a (B, 1, 1, S) mask; the third sequence fully masked.
template <class Check>
void masked_softmax_of_scores(Check&& check, index_t heads, std::initializer_list<index_t> lengths) {
    for (index_t S : lengths) {
        const index_t B = 3;
        Tensor<half, Shape<dyn, dyn, dyn, dyn>> scores(B, heads, S, S);
        fill_uniform(scores.view(), -8, 8);
        Tensor<std::int32_t, Shape<dyn, 1, 1, dyn>> mask(B, S);
        const index_t real[] = {S, S / 3, 0};
        for (index_t b = 0; b < B; ++b)
            for (index_t s = 0; s < S; ++s) mask(b, 0, 0, s) = s < real[b];
        check(out_type<half>{}, "masked softmax S=" + std::to_string(S), scores.shape(),
              [](auto x, auto m) { return masked_softmax(x * 0.125f, m); }, scores, mask);
    }
}

// BERT's embedding layer in one expression: layer_norm(word[ids] + pos[p] + type[t]), H = 768.
template <class Check>
void embedding_layer(Check&& check, index_t vocab, index_t tokens) {
    constexpr index_t H = 768;
    Tensor<half, Shape<dyn, H>> word(vocab), pos(512), type(2);
    Tensor<half, Shape<H>> g{Shape<H>{}}, b{Shape<H>{}};
    for (auto* t : {&word, &pos, &type}) fill_uniform(t->view());
    fill_uniform(g.view(), 0.5f, 1.5f);
    fill_uniform(b.view());
    Tensor<int, Shape<dyn>> ids(tokens), p(tokens), tt(tokens);
    for (index_t t = 0; t < tokens; ++t) {
        ids(t) = int(rng()() % std::uint64_t(vocab));
        p(t) = int(t % 512);
        tt(t) = int(t % 2);
    }
    check(out_type<half>{}, "embedding layer", Shape<dyn, H>::from_dynamic({tokens}),
          [](auto w, auto p, auto ty, auto g, auto b, auto i, auto pi, auto ti) {
              return layer_norm(gather(w, i) + gather(p, pi) + gather(ty, ti), g, b, 1e-12f);
          },
          word, pos, type, g, b, ids, p, tt);
}

}  // namespace sinter::test::row_cases
