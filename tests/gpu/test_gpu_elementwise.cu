// Tier-1 expressions on the device against the host evaluator: fresh random inputs, the output
// poisoned first, per-dtype tolerances, vector and scalar paths, all the awkward extents.
#include "../support/device_vs_host.cuh"

using namespace sinter;
using test::device_matches_host;
using test::fill_uniform;

namespace {
const index_t extents[] = {1, 3, 63, 65, 767, 768, 769};

template <class T>
Tensor<T, Shape<dyn, dyn>> random(index_t r, index_t c, float lo = -2, float hi = 2) {
    Tensor<T, Shape<dyn, dyn>> t(r, c);
    fill_uniform(t.view(), lo, hi);
    return t;
}
template <class T>
Tensor<T, Shape<dyn>> random_row(index_t c, float lo = -1, float hi = 1) {
    Tensor<T, Shape<dyn>> t(c);
    fill_uniform(t.view(), lo, hi);
    return t;
}
}  // namespace

TEST_CASE_TEMPLATE("bias + GELU + residual, and every unary op, on the device", T, float, half, bf16) {
    SINTER_REQUIRE_GPU();
    for (index_t C : extents) {
        const index_t R = 37;
        const auto x = random<T>(R, C), res = random<T>(R, C);
        const auto bias = random_row<T>(C);
        const auto shape = Shape<dyn, dyn>::from_dynamic({R, C});
        const std::string c = " C=" + std::to_string(C);
        device_matches_host<T>("gelu(x + b) + r" + c, shape,
                               [](auto x, auto b, auto r) { return gelu(x + b) + r; }, x, bias, res);
        device_matches_host<T>("gelu_tanh / relu / tanh / exp" + c, shape,
                               [](auto x, auto b) { return gelu_tanh(x) - relu(b) * tanh(x) + exp(x) * 0.1f; }, x, bias);
        device_matches_host<T>("sqrt / rsqrt / neg / square / max" + c, shape,
                               [](auto x, auto b) { return sqrt(square(x) + 1.f) * rsqrt(maximum(b, 0.5f)) - x; }, x, bias);
    }
}

TEST_CASE("mixed precision: f16 and bf16 in, f32 math, any dtype out") {
    SINTER_REQUIRE_GPU();
    const index_t R = 129, C = 768;
    const auto a = random<half>(R, C);
    const auto b = random<bf16>(R, C);
    const auto s = random<float>(R, 1);
    const auto shape = Shape<dyn, dyn>::from_dynamic({R, C});
    auto f = [](auto a, auto b, auto s) { return a * b + s - cast<half>(a / (b + 3.f)); };
    device_matches_host<float>("f16*bf16 -> f32", shape, f, a, b, s);
    device_matches_host<half>("f16*bf16 -> f16", shape, f, a, b, s);
    device_matches_host<bf16>("f16*bf16 -> bf16", shape, f, a, b, s);
}

TEST_CASE("broadcasting on the device: columns, scalars, rank 3") {
    SINTER_REQUIRE_GPU();
    const index_t B = 5, S = 33, H = 64;
    Tensor<half, Shape<dyn, dyn, H>> x(B, S);
    Tensor<float, Shape<dyn, H>> pos(S);
    Tensor<float, Shape<dyn, 1, 1>> per_batch(B);
    Tensor<half, Shape<dyn, dyn, 1>> per_token(B, S);
    fill_uniform(x.view());
    fill_uniform(pos.view());
    fill_uniform(per_batch.view());
    fill_uniform(per_token.view());
    device_matches_host<half>("rank 3", x.shape(),
                              [](auto x, auto p, auto b, auto t) { return (x + p) * b - t * 2.f; },
                              x, pos, per_batch, per_token);
}

TEST_CASE("gather on the device: the embedding sum") {
    SINTER_REQUIRE_GPU();
    const index_t V = 1000, T = 300, H = 384;
    const auto word = random<half>(V, H), pos = random<half>(512, H), type = random<half>(2, H);
    Tensor<int, Shape<dyn>> ids(T), p(T), tt(T);
    for (index_t t = 0; t < T; ++t) {
        ids(t) = int(test::rng()() % V);
        p(t) = int(t % 128);
        tt(t) = int(t % 3 == 0);
    }
    device_matches_host<half>("word[ids] + pos[p] + type[t]", Shape<dyn, dyn>::from_dynamic({T, H}),
                              [](auto w, auto p, auto ty, auto i, auto pi, auto ti) {
                                  return gather(w, i) + gather(p, pi) + gather(ty, ti);
                              },
                              word, pos, type, ids, p, tt);
}

TEST_CASE("views at unaligned offsets take the scalar path and agree") {
    SINTER_REQUIRE_GPU();
    const index_t R = 33, C = 768;
    auto storage = random_row<half>(R * C + 1);
    auto bias = random_row<half>(C);
    // Build both sides from shifted views by hand (device_matches_host takes whole tensors).
    Tensor<half, Shape<dyn, dyn>> want(R, C);
    TensorView<const half, Shape<dyn, dyn>> xh(storage.data() + 1, R, C);
    eval(want.view(), gelu(xh) + bias, host);
    const auto sd = test::to_device(storage);
    const auto bd = test::to_device(bias);
    TensorView<const half, Shape<dyn, dyn>, device_space> xd(sd.data() + 1, R, C);
    REQUIRE_FALSE(expr::as_expr(xd).vectorizable<8>());
    Tensor<half, Shape<dyn>, device_space> out_storage(R * C + 1);
    TensorView<half, Shape<dyn, dyn>, device_space> out(out_storage.data() + 1, R, C);
    SINTER_CUDA_CHECK(cudaMemset(out_storage.data(), 0xff, out_storage.bytes()));
    eval(out, gelu(xd) + bd, nullptr);
    Tensor<half, Shape<dyn>> back(R * C + 1);
    copy(back.view(), out_storage.view());
    test::compare_as<half>(back.data() + 1, want.data(), R * C, "unaligned gelu(x) + b");
}
