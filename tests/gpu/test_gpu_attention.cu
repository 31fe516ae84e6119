// The fused attention kernels (flash, wmma, simt; and what automatic picks) against their host twin
// (nn::attention): packed variable-length sequences (lengths 1, 15, 64, 65, 130, 201 and an empty
// one: one to four key tiles, partial ones), head sizes 32, 64, 128, all dtypes; BERT-base's heads
// at 128 and 512 tokens; grids sized for fewer queries than the sequences hold.
#include <numeric>

#include "../support/gpu.cuh"
#include "sinter/kernels/attention.cuh"
#include "sinter/nn/attention_host.hpp"

using namespace sinter;

namespace {

template <class T>
void check_attention(int heads, int head_size, const std::vector<std::int32_t>& lengths,
                     kernels::AttentionKernel kernel, index_t grid_len = 0) {  // grid_len: as in tests/simt
    std::vector<std::int32_t> offsets(1, 0);
    for (auto l : lengths) offsets.push_back(offsets.back() + l);
    const index_t tokens = offsets.back(), H = index_t(heads) * head_size, B = index_t(lengths.size());
    const index_t max_len = grid_len ? grid_len : *std::max_element(lengths.begin(), lengths.end());
    Tensor<T, Shape<dyn, dyn>> qkv(tokens, 3 * H), want(tokens, H);
    test::fill_uniform(qkv.view(), -2, 2);
    nn::attention(want.data(), qkv.data(), offsets.data(), B, heads, head_size);
    const auto dqkv = test::to_device(qkv);
    Tensor<std::int32_t, Shape<dyn>> off(B + 1);
    std::copy(offsets.begin(), offsets.end(), off.data());
    const auto doff = test::to_device(off);
    Tensor<T, Shape<dyn, dyn>, device_space> ctx(tokens, H);
    test::poison(ctx.view());
    kernels::attention(ctx.data(), dqkv.data(), doff.data(), B, max_len, heads, head_size, nullptr, kernel);
    SINTER_CUDA_CHECK(cudaDeviceSynchronize());
    const auto got = test::to_host(ctx);
    // Scores in f32 from 16-bit Q and K; probabilities rounded to T before P V (as FlashAttention):
    // one rounding of T more than the host twin, whose output is itself rounded to T.
    const double rel = std::is_same_v<T, float> ? 1e-5 : std::is_same_v<T, half> ? 4e-3 : 3e-2;
    test::compare(got.data(), want.data(), got.size(), rel, rel,
                  std::string(kernels::name(kernel)) + " attention, " + std::to_string(heads) + " heads of " +
                      std::to_string(head_size) + ", " + std::string(name(dtype_of<T>)) + ", grid for " +
                      std::to_string(max_len) + " queries");
}

}  // namespace

TEST_CASE_TEMPLATE("fused attention matches the host twin", T, float, half, bf16) {
    SINTER_REQUIRE_GPU();
    using K = kernels::AttentionKernel;
    std::vector<K> kernels_to_check = {K::automatic, K::simt};
    if constexpr (!std::is_same_v<T, float>) {
        REQUIRE(sinter::cuda::device_info().sm_major >= 8);  // flash needs sm_80; the GPU machines are sm_90
        kernels_to_check = {K::automatic, K::flash, K::wmma, K::simt};
    }
    const std::vector<std::int32_t> lengths = {1, 15, 64, 0, 65, 130, 201};  // 201: 4k + 1 queries
    for (const K kernel : kernels_to_check) {
        for (int hd : {32, 64, 128}) check_attention<T>(4, hd, lengths, kernel);
        check_attention<T>(12, 64, {128, 128}, kernel);  // BERT-base heads, full sequences
        check_attention<T>(2, 64, {1, 201, 130}, kernel, 65);  // grids for fewer queries than there are
        check_attention<T>(2, 32, {201, 64}, kernel, 1);
    }
    check_attention<T>(12, 64, {512, 300}, K::automatic);  // and at the longest BERT sequence
    CHECK_THROWS_AS(kernels::attention<T>(nullptr, nullptr, nullptr, 1, 1, 1, 48, nullptr), value_error);
    CHECK_NOTHROW(kernels::attention<T>(nullptr, nullptr, nullptr, 1, 1, 0, 64, nullptr));  // no head: no launch
    CHECK_THROWS_AS(kernels::attention<T>(nullptr, nullptr, nullptr, -1, 1, 1, 64, nullptr), value_error);
    // What automatic picks on this build (compiled for the device's sm_90) and device.
    for (int hd : {32, 64, 128})
        CHECK(kernels::attention_kernel_for<T>(hd) == (std::is_same_v<T, float> ? K::simt : K::flash));
    if constexpr (std::is_same_v<T, float>)
        CHECK_THROWS_WITH_AS(kernels::attention<float>(nullptr, nullptr, nullptr, 1, 1, 1, 64, nullptr, K::flash),
                             doctest::Contains("f16 and bf16"), value_error);
}
