// Tier 3 on the host: eval lowers contractions to GEMM calls. Against naive double loops, for
// every linear form and the expressions around them; a recording engine checks what reaches the
// GEMM (the epilogue fused or not, operands read in place or through scratch): the same lowering
// the CUDA evaluator hands to cuBLASLt.
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "sinter/sinter.hpp"
#include "../support/check.hpp"

using namespace sinter;
using expr::Activation;
using test::compare_as;
using test::fill_uniform;

namespace {

// The instruction sets this CPU runs, widest first, each once (HostIsa; SINTER_HOST_ISA caps them).
std::vector<expr::HostIsa> host_isas() {
    std::vector<expr::HostIsa> isas;
    for (const auto want : {expr::HostIsa::avx512, expr::HostIsa::avx2, expr::HostIsa::portable})
        if (expr::resolve(want) == want) isas.push_back(want);
    return isas;
}

const char* isa_name(expr::HostIsa isa) {
    switch (isa) {
        case expr::HostIsa::avx512: return "AVX-512";
        case expr::HostIsa::avx2: return "AVX2";
        default: return "portable";
    }
}

// HostGemm that keeps a copy of every call it runs.
struct RecordingGemm {
    std::vector<int> activations;
    std::vector<bool> bias, residual, transposed;
    std::vector<const void*> y, a, b;
    template <class T>
    void run(const expr::GemmCall<T>& c) {
        activations.push_back(int(c.activation));
        bias.push_back(c.bias != nullptr);
        residual.push_back(c.residual != nullptr);
        transposed.push_back(c.b_transposed);
        y.push_back(c.y);
        a.push_back(c.a);
        b.push_back(c.b);
        expr::HostGemm{}.run(c);
    }
    std::size_t calls() const { return y.size(); }
};

double act_ref(Activation a, double v) {
    switch (a) {
        case Activation::none: return v;
        case Activation::gelu: return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
        case Activation::gelu_tanh: return 0.5 * v * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
        case Activation::relu: return v > 0 ? v : 0;
        case Activation::tanh: return std::tanh(v);
    }
    return v;
}

// want (rows, N) = act(x W^T + bias) + residual, in double from the stored values.
template <class X, class W>
std::vector<float> linear_ref(const X& x, const W& w, const float* bias, Activation act, const float* residual) {
    const index_t rows = x.extent(0), K = x.extent(1), N = w.extent(0);
    std::vector<float> want(std::size_t(rows * N));
    for (index_t t = 0; t < rows; ++t)
        for (index_t n = 0; n < N; ++n) {
            double v = bias ? bias[n] : 0.0;
            for (index_t k = 0; k < K; ++k) v += double(to_float(x(t, k))) * to_float(w(n, k));
            v = act_ref(act, v);
            if (residual) v += residual[t * N + n];
            want[std::size_t(t * N + n)] = float(v);
        }
    return want;
}

template <class V>
std::vector<float> widened(const V& v) {
    std::vector<float> f(std::size_t(v.size()));
    for (index_t i = 0; i < v.size(); ++i) f[std::size_t(i)] = to_float(v.data()[i]);
    return f;
}

template <class T>
struct Problem {
    static constexpr index_t K = 40, N = 24;
    index_t rows;
    Tensor<T, Shape<dyn, K>> x;
    Tensor<T, Shape<N, K>> w{Shape<N, K>{}};
    Tensor<T, Shape<N>> b{Shape<N>{}};
    Tensor<T, Shape<dyn, N>> r, out;
    explicit Problem(index_t rows_) : rows(rows_), x(rows_), r(rows_), out(rows_) {
        fill_uniform(x.view());
        fill_uniform(w.view(), -0.2f, 0.2f);
        fill_uniform(b.view());
        fill_uniform(r.view());
        fill_uniform(out.view(), 999.f, 1000.f);  // stale values must not leak into the result
    }
    std::vector<float> want(bool bias, Activation act, bool residual) const {
        const auto bf = widened(b), rf = widened(r);
        return linear_ref(x, w, bias ? bf.data() : nullptr, act, residual ? rf.data() : nullptr);
    }
};

template <class T>
void check_one_call(const RecordingGemm& g, const Problem<T>& p, bool bias, Activation act, bool residual) {
    REQUIRE(g.calls() == 1);
    CHECK(g.bias[0] == bias);
    CHECK(g.residual[0] == residual);
    CHECK(g.activations[0] == int(act));
    CHECK(g.transposed[0]);
    CHECK(g.y[0] == p.out.data());  // straight into the output
    CHECK(g.a[0] == p.x.data());    // operands read in place
    CHECK(g.b[0] == p.w.data());
}

}  // namespace

TEST_CASE_TEMPLATE("each linear form is one GEMM call with its epilogue fused", T, float, half, bf16) {
    Problem<T> p(37);
    const auto W = transpose(p.w.view());
    auto run = [&](const char* what, const auto& e, bool bias, Activation act, bool residual) {
        RecordingGemm g;
        eval(p.out, e, host, g);
        check_one_call(g, p, bias, act, residual);
        const auto want = p.want(bias, act, residual);
        compare_as<T>(p.out.data(), want.data(), p.out.size(), what);
    };
    run("x W^T", matmul(p.x, W), false, Activation::none, false);
    run("x W^T + b", matmul(p.x, W) + p.b, true, Activation::none, false);
    run("gelu(x W^T + b)", gelu(matmul(p.x, W) + p.b), true, Activation::gelu, false);
    run("gelu_tanh(x W^T + b)", gelu_tanh(matmul(p.x, W) + p.b), true, Activation::gelu_tanh, false);
    run("relu(x W^T + b)", relu(matmul(p.x, W) + p.b), true, Activation::relu, false);
    run("tanh(x W^T + b)", sinter::tanh(matmul(p.x, W) + p.b), true, Activation::tanh, false);
    run("relu(x W^T)", relu(matmul(p.x, W)), false, Activation::relu, false);
    run("x W^T + b + r", matmul(p.x, W) + p.b + p.r, true, Activation::none, true);
    run("x W^T + r", matmul(p.x, W) + p.r, false, Activation::none, true);
}

TEST_CASE("a (K, N) right operand is read in place, not transposed") {
    const index_t rows = 9, K = 16, N = 12;
    Tensor<float, Shape<dyn, dyn>> x(rows, K), v(K, N), out(rows, N), w(N, K);
    fill_uniform(x.view());
    fill_uniform(v.view());
    for (index_t k = 0; k < K; ++k)
        for (index_t n = 0; n < N; ++n) w(n, k) = v(k, n);
    RecordingGemm g;
    eval(out, matmul(x, v), host, g);
    REQUIRE(g.calls() == 1);
    CHECK_FALSE(g.transposed[0]);
    CHECK(g.b[0] == v.data());
    const auto want = linear_ref(x, w, nullptr, Activation::none, nullptr);
    compare_as<float>(out.data(), want.data(), out.size(), "x V");
}

TEST_CASE("an epilogue the GEMM cannot take runs after the plain GEMM") {
    Problem<half> p(21);
    const auto W = transpose(p.w.view());
    SUBCASE("a bias that broadcasts") {
        Tensor<half, Shape<dyn>> one(1);
        one(0) = from_float<half>(0.75f);
        RecordingGemm g;
        eval(p.out, gelu(matmul(p.x, W) + one), host, g);
        REQUIRE(g.calls() == 1);
        CHECK_FALSE(g.bias[0]);
        CHECK(g.activations[0] == int(Activation::none));
        std::vector<float> b(std::size_t(p.N), 0.75f);
        const auto want = linear_ref(p.x, p.w, b.data(), Activation::gelu, nullptr);
        compare_as<half>(p.out.data(), want.data(), p.out.size(), "gelu(x W^T + broadcast scalar)");
    }
    SUBCASE("a bias of another dtype") {
        Tensor<float, Shape<Problem<half>::N>> bf{Shape<Problem<half>::N>{}};
        fill_uniform(bf.view());
        RecordingGemm g;
        eval(p.out, matmul(p.x, W) + bf + p.r, host, g);
        REQUIRE(g.calls() == 1);
        CHECK_FALSE(g.bias[0]);
        CHECK_FALSE(g.residual[0]);
        const auto rf = widened(p.r);
        const auto want = linear_ref(p.x, p.w, bf.data(), Activation::none, rf.data());
        compare_as<half>(p.out.data(), want.data(), p.out.size(), "x W^T + f32 bias + r");
    }
    SUBCASE("an activation before a residual") {
        RecordingGemm g;
        eval(p.out, gelu(matmul(p.x, W) + p.b) + p.r, host, g);
        REQUIRE(g.calls() == 1);
        CHECK(g.activations[0] == int(Activation::gelu));
        CHECK_FALSE(g.residual[0]);
        CHECK(g.y[0] != p.out.data());  // into scratch, then the addition
        std::vector<float> want = p.want(true, Activation::gelu, false);
        const auto rf = widened(p.r);
        for (std::size_t i = 0; i < want.size(); ++i) want[i] = to_float(from_float<half>(want[i])) + rf[i];
        compare_as<half>(p.out.data(), want.data(), p.out.size(), "gelu(x W^T + b) + r");
    }
}

TEST_CASE("the output may be the residual or an operand of the product") {
    SUBCASE("in place: r = x W^T + b + r") {
        Problem<float> p(13);
        const auto before = widened(p.r);
        RecordingGemm g;
        eval(p.r, matmul(p.x, transpose(p.w.view())) + p.b + p.r, host, g);
        REQUIRE(g.calls() == 1);
        CHECK(g.residual[0]);
        CHECK(g.y[0] == p.r.data());
        const auto bf = widened(p.b);
        const auto want = linear_ref(p.x, p.w, bf.data(), Activation::none, before.data());
        compare_as<float>(p.r.data(), want.data(), p.r.size(), "r = x W^T + b + r");
    }
    SUBCASE("x = x W^T + b, W square") {
        const index_t rows = 11, H = 32;
        Tensor<float, Shape<dyn, H>> x(rows), x0(rows);
        Tensor<float, Shape<H, H>> w{Shape<H, H>{}};
        Tensor<float, Shape<H>> b{Shape<H>{}};
        fill_uniform(x.view());
        fill_uniform(w.view(), -0.2f, 0.2f);
        fill_uniform(b.view());
        std::copy(x.data(), x.data() + x.size(), x0.data());
        RecordingGemm g;
        eval(x, relu(matmul(x, transpose(w.view())) + b), host, g);
        REQUIRE(g.calls() == 1);
        CHECK(g.y[0] != x.data());  // the GEMM cannot write what it reads
        const auto want = linear_ref(x0, w, b.data(), Activation::relu, nullptr);
        compare_as<float>(x.data(), want.data(), x.size(), "x = relu(x W^T + b)");
    }
}

TEST_CASE("contractions inside larger expressions: one GEMM each, then one pass") {
    Problem<float> p(19);
    const auto W = transpose(p.w.view());
    SUBCASE("layer_norm(x W^T + b + r): the residual fused, LayerNorm after") {
        Tensor<float, Shape<Problem<float>::N>> gamma{Shape<Problem<float>::N>{}}, beta{Shape<Problem<float>::N>{}};
        fill_uniform(gamma.view());
        fill_uniform(beta.view());
        RecordingGemm g;
        eval(p.out, layer_norm(matmul(p.x, W) + p.b + p.r, gamma, beta, 1e-12f), host, g);
        REQUIRE(g.calls() == 1);
        CHECK(g.bias[0]);
        CHECK(g.residual[0]);
        std::vector<float> want = p.want(true, Activation::none, true);
        const index_t N = p.N;
        for (index_t t = 0; t < p.rows; ++t) {
            float* row = want.data() + t * N;
            double mean = 0, var = 0;
            for (index_t n = 0; n < N; ++n) mean += row[n];
            mean /= double(N);
            for (index_t n = 0; n < N; ++n) var += (row[n] - mean) * (row[n] - mean);
            var /= double(N);
            for (index_t n = 0; n < N; ++n)
                row[n] = float((row[n] - mean) / std::sqrt(var + 1e-12) * gamma(n) + beta(n));
        }
        compare_as<float>(p.out.data(), want.data(), p.out.size(), "layer_norm(x W^T + b + r)");
    }
    SUBCASE("relu(x W^T + b) * 2 - 1") {
        RecordingGemm g;
        eval(p.out, relu(matmul(p.x, W) + p.b) * 2.f - 1.f, host, g);
        REQUIRE(g.calls() == 1);
        CHECK(g.activations[0] == int(Activation::relu));
        auto want = p.want(true, Activation::relu, false);
        for (auto& v : want) v = v * 2 - 1;
        compare_as<float>(p.out.data(), want.data(), p.out.size(), "relu(x W^T + b) * 2 - 1");
    }
    SUBCASE("a product of a product, and an expression as the left operand") {
        Tensor<float, Shape<Problem<float>::K, Problem<float>::N>> w3{Shape<Problem<float>::K, Problem<float>::N>{}};
        fill_uniform(w3.view(), -0.2f, 0.2f);
        Tensor<float, Shape<dyn, Problem<float>::K>> out(p.rows);
        RecordingGemm g;
        // (x * 0.5) W^T, then that times W3^T: (rows, N) (N, K)
        eval(out, matmul(matmul(p.x * 0.5f, W), transpose(w3.view())), host, g);
        REQUIRE(g.calls() == 2);
        CHECK(g.a[0] != p.x.data());  // x * 0.5 evaluated into scratch first
        std::vector<float> inner = p.want(false, Activation::none, false);
        for (auto& v : inner) v *= 0.5f;
        const TensorView<float, Shape<dyn, Problem<float>::N>> iv(inner.data(), p.rows);
        const auto want = linear_ref(iv, w3, nullptr, Activation::none, nullptr);
        compare_as<float>(out.data(), want.data(), out.size(), "((x / 2) W^T) W3^T");
    }
}

TEST_CASE("contraction errors") {
    Tensor<float, Shape<dyn, dyn>> x(3, 0), w(4, 0), out(3, 4);
    CHECK_THROWS_WITH_AS((void)matmul(x, transpose(w)), doctest::Contains("inner extent"), shape_error);
    Tensor<float, Shape<dyn, dyn>> a(3, 5), b(4, 5), y(3, 4);
    fill_uniform(a.view());
    fill_uniform(b.view());
    const expr::GemmCall<float> call{y.data(), a.data(), b.data(), true, nullptr, y.data(), 3, 4, 5, Activation::relu};
    CHECK_THROWS_WITH_AS(expr::HostGemm{}.run(call), doctest::Contains("relu"), value_error);
    Tensor<float, Shape<dyn, dyn>> zero_rows(0, 5), none(0, 4);
    RecordingGemm g;
    eval(none, matmul(zero_rows, transpose(b)), host, g);
    CHECK(g.calls() == 0);  // nothing to compute, nothing launched
}

TEST_CASE("a product smaller than its expression (the epilogue broadcasts it)") {
    const index_t R = 6, K = 16, N = 10;
    Tensor<float, Shape<dyn, dyn>> x1(1, K), w(N, K), r(R, N), out(R, N);
    fill_uniform(x1.view());
    fill_uniform(w.view(), -0.2f, 0.2f);
    fill_uniform(r.view());
    RecordingGemm g;
    eval(out, matmul(x1, transpose(w)) + r, host, g);  // (1, N) + (R, N)
    REQUIRE(g.calls() == 1);
    CHECK(g.y[0] != out.data());
    const auto row = linear_ref(x1, w, nullptr, Activation::none, nullptr);
    std::vector<float> want(std::size_t(R * N));
    for (index_t i = 0; i < R; ++i)
        for (index_t n = 0; n < N; ++n) want[std::size_t(i * N + n)] = row[std::size_t(n)] + r(i, n);
    compare_as<float>(out.data(), want.data(), out.size(), "x1 W^T + r, broadcast over rows");
}

TEST_CASE("an epilogue operand that overlaps the output other than exactly") {
    // buffer rows 0..R: the residual is rows [0, R), the output rows [1, R + 1): shifted by one.
    const index_t R = 8, K = 24, N = 16;
    Tensor<half, Shape<dyn, dyn>> x(R, K), w(N, K), buffer(R + 1, N);
    Tensor<half, Shape<dyn>> b(N);
    Tensor<float, Shape<dyn>> bf(N);
    fill_uniform(x.view());
    fill_uniform(w.view(), -0.2f, 0.2f);
    fill_uniform(b.view());
    fill_uniform(bf.view());
    for (const bool fused : {true, false}) {
        fill_uniform(buffer.view());
        const auto residual = buffer.view().rows(0, R), y = buffer.view().rows(1, R);
        const auto rf = widened(residual);
        RecordingGemm g;
        if (fused) eval(y, matmul(x, transpose(w)) + b + residual, host, g);
        else eval(y, matmul(x, transpose(w)) + bf + residual, host, g);  // an f32 bias: not fused
        REQUIRE(g.calls() == 1);
        CHECK(g.residual[0] == fused);
        const auto bias = fused ? widened(b) : std::vector<float>(bf.data(), bf.data() + N);
        const auto want = linear_ref(x, w, bias.data(), Activation::none, rf.data());
        compare_as<half>(y.data(), want.data(), y.size(), fused ? "shifted residual, fused" : "shifted residual, epilogue pass");
    }
}

TEST_CASE("HostGemm: any shape, both layouts of b, every tile, the same bits on any number of threads") {
    // Ragged shapes: rows not a multiple of the tile's 3, 6 or 12 rows, N not a multiple of its 12,
    // 16 or 32 columns, K = 1; the largest is over the size at which the rows split across threads;
    // K = 3000 is 12 or 24 slices of K (the last partial) and rows in chunks of several tiles;
    // K = 0 is act(bias) + residual; (130, 301, 77) splits its panels over 2 threads and (60, 160,
    // 700) rows and panels 2 x 2 over 4 (detail::host_gemm_grid), on every tile. The tiles: each instruction set this
    // CPU has (HostIsa); the AVX2 and AVX-512 tiles give the same bits.
    const index_t shapes[][3] = {{1, 1, 1},     {2, 13, 1},     {7, 25, 9},     {130, 301, 77},
                                 {64, 48, 33},  {50, 30, 3000}, {60, 160, 700}, {4, 30, 0}};
    for (const auto& [rows, N, K] : shapes)
        for (const bool transposed : {true, false}) {
            std::vector<float> a(std::size_t(rows * K)), b(std::size_t(N * K)), bias(static_cast<std::size_t>(N)),
                residual(std::size_t(rows * N));
            for (auto* v : {&a, &b, &bias, &residual})
                for (float& x : *v) x = std::uniform_real_distribution<float>(-1, 1)(test::rng());
            std::vector<float> want(std::size_t(rows * N));
            // The f32 sum's rounding is a random walk: each addition rounds by up to half an ulp of
            // its partial sum (sigma u |partial| / sqrt 3, u = 2^-24), each product too on the
            // portable tile. The tolerance is 6 sigma of the longest walk (a fixed 1e-5 sqrt(K /
            // 100) failed about one run in twenty at K = 3000).
            double walk = 0;  // the largest sum of squared partial sums and products
            for (index_t t = 0; t < rows; ++t)
                for (index_t n = 0; n < N; ++n) {
                    double v = bias[std::size_t(n)], squares = 0;
                    for (index_t k = 0; k < K; ++k) {
                        const double p = double(a[std::size_t(t * K + k)]) *
                                         (transposed ? b[std::size_t(n * K + k)] : b[std::size_t(k * N + n)]);
                        v += p;
                        squares += v * v + p * p;
                    }
                    walk = std::max(walk, squares);
                    want[std::size_t(t * N + n)] = float(v + residual[std::size_t(t * N + n)]);
                }
            std::vector<float> fused_multiply_adds;  // the first result of the AVX2 or AVX-512 tile
            for (const expr::HostIsa isa : host_isas()) {
                std::vector<std::vector<float>> got;
                for (const unsigned threads : {1u, 2u, 3u, 4u, 0u}) {
                    std::vector<float> y(std::size_t(rows * N), f32_nan);
                    expr::HostGemm{threads, isa}.run(expr::GemmCall<float>{
                        y.data(), a.data(), b.data(), transposed, bias.data(), residual.data(), rows, N, K, Activation::none});
                    got.push_back(std::move(y));
                }
                std::string what = "(";  // appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "(" + ...
                what += std::to_string(rows);
                what += ", ";
                what += std::to_string(N);
                what += ", ";
                what += std::to_string(K);
                what += transposed ? ") b (N, K)" : ") b (K, N)";
                what += ", ";
                what += isa_name(isa);
                // Absolute: the walk does not shrink with the result (cancellation); relative: the
                // last roundings (the residual's addition, the f32 result).
                const double tol = 6 * 0x1p-24 * std::sqrt(walk / 3);
                test::compare(got[0].data(), want.data(), rows * N, 1e-6, tol, what);
                for (std::size_t i = 1; i < got.size(); ++i) CHECK_MESSAGE(got[i] == got[0], what << ": threads differ");
                if (isa != expr::HostIsa::portable) {
                    if (fused_multiply_adds.empty()) fused_multiply_adds = got[0];
                    CHECK_MESSAGE(got[0] == fused_multiply_adds, what << ": differs from the other FMA tile");
                }
                // b packed beforehand: the same bits. A pack for the other layout is not used.
                for (const bool flip : {false, true}) {
                    expr::HostPackedSet only;
                    only.add(expr::HostPackedB::pack(b.data(), flip ? !transposed : transposed, N, K, isa));
                    std::vector<float> y(std::size_t(rows * N), f32_nan);
                    expr::HostGemm{2, isa, &only}.run(expr::GemmCall<float>{
                        y.data(), a.data(), b.data(), transposed, bias.data(), residual.data(), rows, N, K, Activation::none});
                    CHECK_MESSAGE(y == got[0], what << (flip ? ": a pack of the other layout was used" : ": prepacked b differs"));
                }
            }
        }
}

TEST_CASE("HostGemm's activations: the whole-tile epilogue gives the general epilogue's bits") {
    // act(x W^T + bias) is finished per whole tile in the tile's instruction set for GELU and ReLU
    // (detail::HostTileOut), by the general epilogue elsewhere (partial tiles: 130 rows are 10
    // blocks of 12 and 10 rows, 21 of 6 and 4; 301 columns 9 panels of 32 and 13, 18 of 16 and
    // 13) and for the other activations. Each must equal the activation applied to the plain
    // GEMM's result, bit for bit, and AVX2 and AVX-512 agree; a row of NaN (a NaN in a) stays NaN
    // under GELU and becomes 0 under ReLU.
    const index_t rows = 130, N = 301, K = 77;
    std::vector<float> a(std::size_t(rows * K)), b(std::size_t(N * K)), bias(static_cast<std::size_t>(N));
    for (auto* v : {&a, &b, &bias})
        for (float& x : *v) x = std::uniform_real_distribution<float>(-1, 1)(test::rng());
    a[std::size_t(5 * K + 3)] = f32_nan;
    const auto first_difference = [](const std::vector<float>& x, const std::vector<float>& y) {
        for (std::size_t i = 0; i < x.size(); ++i)
            if (std::bit_cast<std::uint32_t>(x[i]) != std::bit_cast<std::uint32_t>(y[i])) return std::ptrdiff_t(i);
        return std::ptrdiff_t(-1);
    };
    for (const Activation act : {Activation::gelu, Activation::relu, Activation::gelu_tanh, Activation::tanh}) {
        std::vector<float> fused_multiply_adds;  // the first result of the AVX2 or AVX-512 tile
        for (const expr::HostIsa isa : host_isas()) {
            const auto gemm = [&](Activation with) {
                std::vector<float> y(std::size_t(rows * N), -1.f);
                expr::HostGemm{2, isa}.run(
                    expr::GemmCall<float>{y.data(), a.data(), b.data(), true, bias.data(), nullptr, rows, N, K, with});
                return y;
            };
            std::vector<float> want = gemm(Activation::none);
            expr::detail::host_activate(act, want.data(), index_t(want.size()), isa);
            const std::vector<float> got = gemm(act);
            const std::string what = std::string(name(act)) + ", " + isa_name(isa);
            const std::ptrdiff_t at = first_difference(got, want);
            CHECK_MESSAGE(at < 0, what << ": element " << at << " is " << got[std::size_t(std::max<std::ptrdiff_t>(at, 0))]
                                       << ", act after the GEMM gives " << want[std::size_t(std::max<std::ptrdiff_t>(at, 0))]);
            const float nan_row = got[std::size_t(5 * N + 40)];
            if (act == Activation::relu) CHECK(nan_row == 0.f);
            else CHECK(std::isnan(nan_row));
            if (isa != expr::HostIsa::portable) {
                if (fused_multiply_adds.empty()) fused_multiply_adds = got;
                CHECK_MESSAGE(first_difference(got, fused_multiply_adds) < 0, what << ": differs from the other FMA tile");
            }
        }
    }
}

TEST_CASE("HostGemm's split over threads: the fewest tiles in the largest part, then the least data read") {
    using expr::detail::host_gemm_grid;
    using Grid = std::pair<index_t, index_t>;  // (row groups, panel groups)
    // The AVX-512 tile: blocks of 12 rows, panels of 32 columns, chunks of 16 blocks.
    const auto grid = [](index_t blocks, index_t panels, unsigned workers) {
        const auto g = host_gemm_grid(blocks, panels, workers, 16, 12, 32);
        return Grid{g.row_groups, g.panel_groups};
    };
    // One 128-token sequence x BERT-base's 768 columns (11 blocks, 24 panels): the panels split
    // 12 + 12, where the rows would split 5 + 6 blocks (6 x 24 = 144 tiles, against 11 x 12 = 132).
    CHECK(grid(11, 24, 2) == Grid{1, 2});
    // Eight sequences (86 blocks): 1032 tiles a part either way; split by rows, a part reads
    // 43 x 12 + 3 x 24 x 32 = 2820 floats per k, by panels 86 x 12 + 6 x 12 x 32 = 3336.
    CHECK(grid(86, 24, 2) == Grid{2, 1});
    CHECK(grid(86, 24, 4) == Grid{2, 2});  // 43 x 12 = 516 tiles a part, against 22 x 24 = 528
    CHECK(grid(5, 1, 3) == Grid{3, 1});   // one panel: rows only
    CHECK(grid(1, 24, 4) == Grid{1, 4});  // one block: panels only
    CHECK(grid(2, 2, 3) == Grid{1, 2});   // 3 threads for 4 tiles: 2 parts of 2, the one reading less
    CHECK(grid(11, 24, 1) == Grid{1, 1});
    CHECK(grid(5, 5, 4) == Grid{2, 2});   // 3 x 3 tiles a part, against 2 x 5 or 5 x 2
    // Every part non-empty and at most `workers` of them, whatever the inputs.
    for (index_t blocks = 1; blocks <= 20; ++blocks)
        for (index_t panels = 1; panels <= 20; ++panels)
            for (unsigned workers = 1; workers <= 9; ++workers) {
                const auto g = host_gemm_grid(blocks, panels, workers, 4, 6, 16);
                const bool fits = g.row_groups >= 1 && g.panel_groups >= 1 && g.row_groups <= blocks &&
                                  g.panel_groups <= panels && g.row_groups * g.panel_groups <= index_t(workers);
                CHECK_MESSAGE(fits, "(" << blocks << ", " << panels << ", " << workers << ") -> (" << g.row_groups
                                        << ", " << g.panel_groups << ")");
            }
}

TEST_CASE("the softmax's vectorised exp against exp in double, every 2^-8 over [-150, 0]") {
    // exp(v scale - shift) by a 2^m split and a degree-7 polynomial: within 4 f32 ulp down to -87,
    // exp(-87) below (a bound, not zero); a NaN stays NaN.
    std::vector<float> x;
    for (int i = -100 * 256; i <= 0; ++i) x.push_back(float(i) / 256.f);
    for (const expr::HostIsa isa : host_isas()) {
        std::vector<float> got = x;
        expr::detail::host_exp_shifted(got.data(), index_t(got.size()), 1.5f, 0.f, isa);  // exp(1.5 x)
        double worst = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double y = double(float(x[i] * 1.5f));
            const double want = std::exp(std::max(y, -87.0));
            const double err = std::abs(got[i] - want) / (4 * 0x1p-23 * want);
            if (!(err <= worst)) worst = err;
        }
        const std::string build = isa_name(isa);
        MESSAGE("worst exp error " << worst << " of its bound (" << build << ")");
        CHECK(worst <= 1.0);
        float special[] = {f32_nan, -f32_inf, -1e30f};
        expr::detail::host_exp_shifted(special, 3, 1.f, 0.f, isa);
        CHECK(std::isnan(special[0]));
        CHECK((special[1] > 0.f && special[1] < 2e-38f));  // clamped at exp(-87)
        CHECK((special[2] > 0.f && special[2] < 2e-38f));
    }
}

TEST_CASE("HostGemm's vectorised GELU against erfc in double, every 2^-10 over [-16, 16]") {
    // x (1 - h) or x h, h = erfc(|x| / sqrt 2) / 2 (Numerical Recipes' Chebyshev erfc, fractional
    // error 1.2e-7) with exp's argument split: within 8 f32 ulp of GELU's value for |x| < 13,
    // within 1e-36 past it (where h is 0). Every instruction set this CPU has.
    std::vector<float> x;
    for (int i = -16 * 1024; i <= 16 * 1024; ++i) x.push_back(float(i) / 1024.f);
    x.insert(x.end(), {1e-30f, -1e-30f, 1e30f, -1e30f, 0.f, -0.f, 1e-45f, -1e-45f, -3.f});
    for (const expr::HostIsa isa : host_isas()) {
        std::vector<float> got = x;
        expr::detail::host_gelu(got.data(), index_t(got.size()), isa);
        double worst = 0;
        float worst_at = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double xd = x[i], h = 0.5 * std::erfc(std::abs(xd) / std::sqrt(2.0));
            const double want = xd < 0 ? xd * h : xd * (1 - h);
            const double bound = std::abs(xd) < 13 ? 8 * 0x1p-23 * std::abs(want) + 1e-44 : 1e-36;
            const double err = std::abs(got[i] - want) / bound;
            if (!(err <= worst)) worst = err, worst_at = x[i];  // a NaN is the worst
        }
        const std::string build = isa_name(isa);
        MESSAGE("worst GELU error " << worst << " of its bound, at x = " << worst_at << " (" << build << ")");
        CHECK(worst <= 1.0);
        float special[] = {f32_nan, -f32_inf, f32_inf};  // NaN stays NaN; -inf * 0 is NaN, as x/2 (1 + erf(x/sqrt 2))
        expr::detail::host_gelu(special, 3, isa);
        CHECK(std::isnan(special[0]));
        CHECK(std::isnan(special[1]));
        CHECK(special[2] == f32_inf);
    }
}
