// Tier-1 expressions on the host evaluator, against naive loops: every op, every broadcasting
// rule, gather, matmul, dtype sweeps, unaligned views and the N-wide load path.
#include <cmath>
#include <functional>

#include <doctest/doctest.h>

#include "sinter/sinter.hpp"
#include "../support/check.hpp"

using namespace sinter;
using test::compare_as;
using test::fill_uniform;

namespace {

double gelu_ref(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }
double gelu_tanh_ref(double x) {
    return 0.5 * x * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

// out(r, c) = f(x(r, c)) for a unary expression builder, against the reference function.
template <class T, class Build>
void check_unary(const char* what, Build build, std::function<double(double)> ref, float lo, float hi) {
    for (index_t cols : {1, 3, 64, 769}) {
        Tensor<T, Shape<dyn, dyn>> x(5, cols);
        fill_uniform(x.view(), lo, hi);
        Tensor<float, Shape<dyn, dyn>> out(5, cols), want(5, cols);
        eval(out, build(x.view()), host);
        for (index_t i = 0; i < x.size(); ++i) want.data()[i] = float(ref(to_float(x.data()[i])));
        compare_as<float>(out.data(), want.data(), out.size(), std::string(what) + " cols " + std::to_string(cols));
    }
}

}  // namespace

TEST_CASE_TEMPLATE("unary ops against the naive loop", T, float, half, bf16) {
    check_unary<T>("exp", [](auto x) { return sinter::exp(x); }, [](double v) { return std::exp(v); }, -4, 4);
    check_unary<T>("tanh", [](auto x) { return sinter::tanh(x); }, [](double v) { return std::tanh(v); }, -4, 4);
    check_unary<T>("sqrt", [](auto x) { return sinter::sqrt(x); }, [](double v) { return std::sqrt(v); }, 0.01f, 9);
    check_unary<T>("rsqrt", [](auto x) { return sinter::rsqrt(x); }, [](double v) { return 1 / std::sqrt(v); }, 0.01f, 9);
    check_unary<T>("relu", [](auto x) { return sinter::relu(x); }, [](double v) { return v > 0 ? v : 0; }, -2, 2);
    check_unary<T>("neg", [](auto x) { return -x; }, [](double v) { return -v; }, -2, 2);
    check_unary<T>("square", [](auto x) { return sinter::square(x); }, [](double v) { return v * v; }, -3, 3);
    check_unary<T>("gelu", [](auto x) { return sinter::gelu(x); }, gelu_ref, -6, 6);
    check_unary<T>("gelu_tanh", [](auto x) { return sinter::gelu_tanh(x); }, gelu_tanh_ref, -6, 6);
    check_unary<T>("cast<half>", [](auto x) { return sinter::cast<half>(x * 3.f); },
                   [](double v) { return to_float(from_float<half>(float(v * 3))); }, -2, 2);
    check_unary<T>("cast<bf16>", [](auto x) { return sinter::cast<bf16>(x * 3.f); },
                   [](double v) { return to_float(from_float<bf16>(float(v * 3))); }, -2, 2);
}

TEST_CASE("exact and tanh GELU differ by up to ~5e-4 (the cost of cuBLASLt's epilogue form)") {
    double worst = 0;
    for (double x = -8; x <= 8; x += 1e-3) worst = std::max(worst, std::abs(gelu_ref(x) - gelu_tanh_ref(x)));
    CHECK(worst > 1e-4);
    CHECK(worst < 1e-3);
}

TEST_CASE_TEMPLATE("binary ops and broadcasting: (R,C) op (C), (R,1), scalar, and (R,1) op (C)", T, float, half, bf16) {
    const index_t R = 7, C = 65;
    Tensor<T, Shape<dyn, dyn>> a(R, C);
    Tensor<T, Shape<dyn>> row(C);
    Tensor<float, Shape<dyn, 1>> col(R);
    fill_uniform(a.view());
    fill_uniform(row.view(), 0.5f, 2.f);
    fill_uniform(col.view(), 0.5f, 2.f);
    Tensor<float, Shape<dyn, dyn>> out(R, C), want(R, C);
    auto A = [&](index_t r, index_t c) { return double(to_float(a(r, c))); };
    auto W = [&](index_t, index_t c) { return double(to_float(row(c))); };
    auto K = [&](index_t r) { return double(col(r, 0)); };

    auto expect = [&](const char* what, auto f) {
        for (index_t r = 0; r < R; ++r)
            for (index_t c = 0; c < C; ++c) want(r, c) = float(f(r, c));
        compare_as<float>(out.data(), want.data(), out.size(), what);
    };
    eval(out, a + row, host);
    expect("a + row", [&](auto r, auto c) { return A(r, c) + W(r, c); });
    eval(out, a - col, host);
    expect("a - col", [&](auto r, auto c) { return A(r, c) - K(r); });
    eval(out, a * row, host);
    expect("a * row", [&](auto r, auto c) { return A(r, c) * W(r, c); });
    eval(out, a / col, host);
    expect("a / col", [&](auto r, auto c) { return A(r, c) / K(r); });
    eval(out, 2.5f * a - 1, host);
    expect("2.5 a - 1", [&](auto r, auto c) { return 2.5 * A(r, c) - 1; });
    eval(out, col * row, host);  // outer product by broadcasting
    expect("col * row", [&](auto r, auto c) { return K(r) * W(r, c); });
    eval(out, maximum(a, 0.25f) + minimum(a, row), host);
    expect("max/min", [&](auto r, auto c) { return std::max(A(r, c), 0.25) + std::min(A(r, c), W(r, c)); });
    eval(out, where(a, row, col), host);  // a != 0 almost surely
    expect("where", [&](auto r, auto c) { return A(r, c) != 0 ? W(r, c) : K(r); });
    eval(out, gelu(a * row + col) + a, host);  // bias + GELU + residual
    expect("gelu(a*row+col)+a", [&](auto r, auto c) { return gelu_ref(A(r, c) * W(r, c) + K(r)) + A(r, c); });
}

TEST_CASE("rank-3 broadcasting: (B, S, H) with (S, H), (B, 1, H) and (H)") {
    const index_t B = 3, S = 5, H = 8;
    Tensor<float, Shape<dyn, dyn, H>> x(B, S);
    Tensor<float, Shape<dyn, H>> pos(S);
    Tensor<float, Shape<dyn, 1, H>> per_batch(B);
    Tensor<half, Shape<H>> bias(Shape<H>{});
    fill_uniform(x.view());
    fill_uniform(pos.view());
    fill_uniform(per_batch.view());
    fill_uniform(bias.view());
    Tensor<float, Shape<dyn, dyn, H>> out(B, S), want(B, S);
    eval(out, x + pos * per_batch - bias, host);
    for (index_t b = 0; b < B; ++b)
        for (index_t s = 0; s < S; ++s)
            for (index_t h = 0; h < H; ++h)
                want(b, s, h) = x(b, s, h) + pos(s, h) * per_batch(b, 0, h) - to_float(bias(h));
    compare_as<float>(out.data(), want.data(), out.size(), "rank 3");
}

TEST_CASE("output dtype sweep: f32 math, rounding once at the store") {
    Tensor<float, Shape<dyn, 16>> x(9);
    fill_uniform(x.view(), -3, 3);
    Tensor<half, Shape<dyn, 16>> h(9);
    Tensor<bf16, Shape<dyn, 16>> b(9);
    eval(h, x * x + 1.f, host);
    eval(b, x * x + 1.f, host);
    for (index_t i = 0; i < x.size(); ++i) {
        const float v = x.data()[i] * x.data()[i] + 1.f;
        REQUIRE(detail::raw_bits(h.data()[i]) == detail::raw_bits(from_float<half>(v)));
        REQUIRE(detail::raw_bits(b.data()[i]) == detail::raw_bits(from_float<bf16>(v)));
    }
}

TEST_CASE("gather: rows of a table, summed like BERT's embeddings; ids checked") {
    const index_t V = 50, H = 24, T = 11;
    Tensor<half, Shape<dyn, H>> word(V), type(2);
    Tensor<float, Shape<dyn, H>> pos(T);
    fill_uniform(word.view());
    fill_uniform(type.view());
    fill_uniform(pos.view());
    Tensor<int, Shape<dyn>> ids(T), types(T), positions(T);
    for (index_t t = 0; t < T; ++t) {
        ids(t) = int((t * 37 + 5) % V);
        types(t) = int(t % 2);
        positions(t) = int(t);
    }
    Tensor<float, Shape<dyn, H>> out(T), want(T);
    eval(out, gather(word.view(), ids.view()) + gather(pos.view(), positions.view()) + gather(type.view(), types.view()), host);
    for (index_t t = 0; t < T; ++t)
        for (index_t h = 0; h < H; ++h)
            want(t, h) = to_float(word(ids(t), h)) + pos(positions(t), h) + to_float(type(types(t), h));
    compare_as<float>(out.data(), want.data(), out.size(), "embedding sum");

    ids(4) = int(V);
    CHECK_THROWS_WITH_AS(eval(out, gather(word.view(), ids.view()), host),
                         doctest::Contains("index 50 at position 4"), value_error);
    ids(4) = -1;
    CHECK_THROWS_AS(eval(out, gather(word.view(), ids.view()), host), value_error);
}

TEST_CASE("matmul on the host: x W^T + b against the naive loop") {
    const index_t T = 6, K = 33, N = 17;
    Tensor<float, Shape<dyn, K>> x(T);
    Tensor<half, Shape<N, K>> w{Shape<N, K>{}};
    Tensor<float, Shape<N>> b{Shape<N>{}};
    fill_uniform(x.view());
    fill_uniform(w.view());
    fill_uniform(b.view());
    Tensor<float, Shape<dyn, N>> out(T), want(T);
    eval(out, matmul(x, transpose(w.view())) + b, host);
    for (index_t t = 0; t < T; ++t)
        for (index_t n = 0; n < N; ++n) {
            double acc = b(n);
            for (index_t k = 0; k < K; ++k) acc += double(x(t, k)) * to_float(w(n, k));
            want(t, n) = float(acc);
        }
    compare_as<float>(out.data(), want.data(), out.size(), "x W^T + b");

    Tensor<float, Shape<dyn, dyn>> y(4, 5);
    Tensor<float, Shape<dyn, dyn>> z(6, 3);
    CHECK_THROWS_WITH_AS(matmul(y, z), doctest::Contains("5 vs 6"), shape_error);
}

TEST_CASE("run-time shape errors name both sizes") {
    Tensor<float, Shape<dyn, dyn>> a(3, 4), b(3, 5), out(3, 4), out2(2, 4);
    fill_uniform(a.view());
    fill_uniform(b.view());
    CHECK_THROWS_WITH_AS((void)(a + b), doctest::Contains("4 vs 5"), shape_error);
    CHECK_THROWS_WITH_AS(eval(out2, a * 2.f, host), doctest::Contains("2 vs 3"), shape_error);
}

TEST_CASE("views at unaligned offsets give the same results") {
    const index_t R = 5, C = 63;
    Tensor<half, Shape<dyn>> storage(R * C + 3);
    fill_uniform(storage.view());
    TensorView<half, Shape<dyn, dyn>> x(storage.data() + 1, R, C);  // 2-byte aligned only
    Tensor<float, Shape<dyn>> bias(C);
    fill_uniform(bias.view());
    Tensor<float, Shape<dyn>> out_storage(R * C + 1);
    TensorView<float, Shape<dyn, dyn>> out(out_storage.data() + 1, R, C);
    eval(out, gelu(x + bias), host);
    for (index_t r = 0; r < R; ++r)
        for (index_t c = 0; c < C; ++c)
            REQUIRE(std::abs(out(r, c) - gelu_ref(to_float(x(r, c)) + bias(c))) < 1e-5);
}

TEST_CASE("the N-wide load path agrees with N single loads (the code path the GPU vectorises)") {
    const index_t R = 4, C = 64;
    Tensor<half, Shape<dyn, C>> x(R);
    Tensor<float, Shape<C>> w{Shape<C>{}};
    Tensor<float, Shape<dyn, 1>> col(R);
    Tensor<int, Shape<dyn>> ids(R);
    fill_uniform(x.view());
    fill_uniform(w.view());
    fill_uniform(col.view());
    for (index_t r = 0; r < R; ++r) ids(r) = int(R - 1 - r);
    const auto e = gelu(x * w + col) - gather(x.view(), ids.view()) * 0.5f;
    REQUIRE(e.vectorizable<8>());
    for (index_t r = 0; r < R; ++r)
        for (index_t c = 0; c < C; c += 8) {
            const auto v = e.load<8>(Index<2>{{r, c}});
            for (int k = 0; k < 8; ++k) REQUIRE(v[k] == e.load<1>(Index<2>{{r, c + k}})[0]);
        }
    TensorView<half, Shape<dyn, C>> shifted(x.data() + 1, R - 1);
    CHECK_FALSE(expr::as_expr(shifted).vectorizable<8>());
    Tensor<float, Shape<dyn, 60>> odd(2);
    CHECK_FALSE(expr::as_expr(odd).vectorizable<8>());
    CHECK(expr::as_expr(odd).vectorizable<4>());
}
