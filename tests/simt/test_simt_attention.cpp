// The CUDA attention kernels (flash, wmma, simt), run on the host by the SIMT emulator
// (tests/simt/include) through kernels::attention on the fake device, against their host twin
// nn::attention, under both of the emulator's interleavings and with ldmatrix's bank conflicts
// counted (test_simt_gpu_attention runs tests/gpu/test_gpu_attention.cu itself, in one).
// The emulator's own checks are tested first: its tensor-core operations against a plain matrix
// product, and that it reports divergence, deadlock and reads of data a kernel never waited for.
#include <algorithm>
#include <numeric>
#include <utility>

#include <simt/device.hpp>

#include "../support/gpu.cuh"
#include "sinter/nn/attention_host.hpp"

using namespace sinter;

namespace {

template <class T>
std::vector<T> random_values(std::size_t n, float lo, float hi) {
    std::vector<T> v(n);
    test::fill_uniform(v.data(), index_t(n), lo, hi);
    return v;
}

// ---- the emulator's tensor-core operations against C = A B --------------------------------------

// One warp: A (16 x 16) and B (16 x 8) row-major in shared memory, fragments by ldmatrix (B by
// .trans), one mma.m16n8k16, C written from the accumulators by the (g, 2t) layout mma.cuh states.
template <class T>
void one_mma_kernel(float* c, const T* a, const T* b) {
    unsigned char* const smem = simt::shared_memory();
    T* sa = reinterpret_cast<T*>(smem);  // (16, 16), rows padded to 24 elements (48 bytes)
    T* sb = sa + 16 * 24;                 // (16, 8) as the first 8 columns of (16, 24) rows
    const int lane = int(threadIdx.x), g = lane / 4, t = lane % 4;
    for (int i = lane; i < 16 * 16; i += 32) sa[i / 16 * 24 + i % 16] = a[i];
    for (int i = lane; i < 16 * 8; i += 32) sb[i / 8 * 24 + i % 8] = b[i];
    for (int i = lane; i < 16 * 16; i += 32) sb[i / 16 * 24 + 8 + i % 16] = from_float<T>(0.f);
    __syncwarp();
    std::uint32_t fa[4], fb[4];
    // A: matrices (rows 0-7 | 8-15) x (cols 0-7 | 8-15) in the order a0..a3; B: rows 0-7, 8-15.
    kernels::mma::ldmatrix_x4(fa, sa + ((lane / 8) % 2 * 8 + lane % 8) * 24 + (lane / 16) * 8);
    kernels::mma::ldmatrix_x4_trans(fb, sb + ((lane / 8) % 2 * 8 + lane % 8) * 24 + (lane / 16) * 8);
    float d[4] = {1.f, 2.f, 3.f, 4.f};  // C = 1, 2, 3, 4 by position: the accumulate is tested too
    kernels::mma::mma_16816<T>(d, fa, fb[0], fb[1]);
    c[g * 8 + 2 * t] = d[0];
    c[g * 8 + 2 * t + 1] = d[1];
    c[(g + 8) * 8 + 2 * t] = d[2];
    c[(g + 8) * 8 + 2 * t + 1] = d[3];
}

// The two 16 x 16 operands copied into shared memory by one warp: WMMA loads from there.
template <class T>
std::pair<T*, T*> stage_operands(const T* a, const T* b) {
    T* sa = reinterpret_cast<T*>(simt::shared_memory());
    T* sb = sa + 256;
    for (int i = int(threadIdx.x); i < 256; i += 32) {
        sa[i] = a[i];
        sb[i] = b[i];
    }
    __syncwarp();
    return {sa, sb};
}

// One warp: C (16 x 16) = A (16 x 16 row-major) B (16 x 16, row- or column-major) by WMMA.
template <class T, class LayoutB>
void one_wmma_kernel(float* c, const T* a, const T* b) {
    using namespace nvcuda;
    const auto [sa, sb] = stage_operands(a, b);
    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, T, LayoutB> fb;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.5f);
    wmma::load_matrix_sync(fa, sa, 16);
    wmma::load_matrix_sync(fb, sb, 16);
    wmma::mma_sync(acc, fa, fb, acc);
    wmma::store_matrix_sync(c, acc, 16, wmma::mem_row_major);
}

// A kernel that takes WMMA's unspecified fragment layouts for granted: S = A B^T, then S fed back as
// a matrix_a element by element (P.x[j] = S.x[j], as if an accumulator and a matrix_a held the same
// elements), then C = P B^T. Legal C++; on a GPU it computes whatever the layouts make of it.
template <class T>
void accumulator_as_matrix_a_kernel(float* c, const T* a, const T* b) {
    using namespace nvcuda;
    const auto [sa, sb] = stage_operands(a, b);
    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> fb;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.f);
    wmma::load_matrix_sync(fa, sa, 16);
    wmma::load_matrix_sync(fb, sb, 16);
    wmma::mma_sync(acc, fa, fb, acc);
    for (int j = 0; j < acc.num_elements; ++j) fa.x[j] = from_float<T>(acc.x[j]);
    wmma::fill_fragment(acc, 0.f);
    wmma::mma_sync(acc, fa, fb, acc);
    wmma::store_matrix_sync(c, acc, 16, wmma::mem_row_major);
}

}  // namespace

TEST_CASE_TEMPLATE("simt emulator: a kernel that assumes WMMA's fragment layouts fails", T, half, bf16) {
    const auto a = random_values<T>(256, -1, 1), b = random_values<T>(256, -1, 1);
    alignas(32) float c[256];
    if constexpr (std::is_same_v<T, half>) {
        // f16 matrix_a fragments have 16 elements, each operand element twice: 8 written, 8 stale.
        CHECK_THROWS_WITH_AS(simt::launch(accumulator_as_matrix_a_kernel<T>, {1, 1, 1}, {32, 1, 1}, 1024, c, a.data(),
                                          b.data()),
                             doctest::Contains("the two copies of a matrix_a element differ"), simt::error);
    } else {
        // bf16 fragments have 8 elements, but the accumulator's are other elements than matrix_a's.
        simt::launch(accumulator_as_matrix_a_kernel<T>, {1, 1, 1}, {32, 1, 1}, 1024, c, a.data(), b.data());
        double worst = 0;  // against what the kernel meant: P = S, rounded to T
        for (int m = 0; m < 16; ++m)
            for (int n = 0; n < 16; ++n) {
                double want = 0;
                for (int k = 0; k < 16; ++k) {
                    double s = 0;
                    for (int i = 0; i < 16; ++i) s += double(to_float(a[m * 16 + i])) * to_float(b[k * 16 + i]);
                    want += double(to_float(from_float<T>(float(s)))) * to_float(b[n * 16 + k]);
                }
                worst = std::max(worst, std::abs(double(c[m * 16 + n]) - want));
            }
        MESSAGE("a layout-assuming kernel is off by up to " << worst);
        CHECK(worst > 0.5);
    }
}

TEST_CASE_TEMPLATE("simt emulator: ldmatrix and mma.m16n8k16 compute A B + C", T, half, bf16) {
    const auto a = random_values<T>(16 * 16, -1, 1), b = random_values<T>(16 * 8, -1, 1);
    std::vector<float> c(16 * 8, f32_nan), want(16 * 8);
    for (int m = 0; m < 16; ++m)
        for (int n = 0; n < 8; ++n) {
            double s = 1 + (m >= 8 ? 2 : 0) + n % 2;  // the initial accumulators: 1 2 | 3 4
            for (int k = 0; k < 16; ++k) s += double(to_float(a[m * 16 + k])) * to_float(b[k * 8 + n]);
            want[m * 8 + n] = float(s);
        }
    simt::launch(one_mma_kernel<T>, {1, 1, 1}, {32, 1, 1}, 2 * 16 * 24 * sizeof(T), c.data(), a.data(), b.data());
    test::compare(c.data(), want.data(), index_t(c.size()), 1e-6, 1e-6, "mma.m16n8k16 " + std::string(name(dtype_of<T>)));
}

TEST_CASE_TEMPLATE("simt emulator: WMMA computes A B + C", T, half, bf16) {
    const auto a = random_values<T>(256, -1, 1), b = random_values<T>(256, -1, 1);
    for (bool column_major : {false, true}) {
        alignas(32) float c[256];  // WMMA's pointers are 256-bit aligned, in global memory too
        std::fill(std::begin(c), std::end(c), f32_nan);
        std::vector<float> want(256);
        for (int m = 0; m < 16; ++m)
            for (int n = 0; n < 16; ++n) {
                double s = 0.5;
                for (int k = 0; k < 16; ++k)
                    s += double(to_float(a[m * 16 + k])) * to_float(column_major ? b[n * 16 + k] : b[k * 16 + n]);
                want[m * 16 + n] = float(s);
            }
        if (column_major)
            simt::launch(one_wmma_kernel<T, nvcuda::wmma::col_major>, {1, 1, 1}, {32, 1, 1}, 1024, c, a.data(), b.data());
        else
            simt::launch(one_wmma_kernel<T, nvcuda::wmma::row_major>, {1, 1, 1}, {32, 1, 1}, 1024, c, a.data(), b.data());
        test::compare(c, want.data(), 256, 1e-6, 1e-6, std::string("wmma, B ") + (column_major ? "column" : "row") + "-major");
    }
}

namespace {

void divergent_barrier_kernel(int* out) {
    if (threadIdx.x < 64) __syncthreads();
    else __syncthreads();
    out[threadIdx.x] = 1;
}

void deadlock_kernel(int*) {
    if (threadIdx.x == 0 || threadIdx.x >= 32) __syncthreads();  // waits for lanes 1-31 of warp 0,
    else __syncwarp();                                            // which wait for lane 0
}

void early_exit_shuffle_kernel(float* out) {
    if (threadIdx.x % 32 == 5) return;
    out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.f, 1);
}

// Reads its copy before waiting for it: NaN (the shared memory's initial 0xff bytes) where the
// copy lands late.
void unwaited_copy_kernel(float* out, const float* in) {
    float* tile = reinterpret_cast<float*>(simt::shared_memory());
    kernels::mma::cp_async_16(tile + 4 * threadIdx.x, in + 4 * threadIdx.x, true);
    kernels::mma::cp_async_commit();
    out[threadIdx.x] = tile[4 * threadIdx.x];
    kernels::mma::cp_async_wait<0>();
}

// Thread 0 writes 1, and 2 after two collectives of warp 0, with no barrier before warp 1 reads.
void overwrite_without_barrier_kernel(float* out) {
    float* cell = reinterpret_cast<float*>(simt::shared_memory());
    if (threadIdx.x == 0) *cell = 1.f;
    __syncthreads();
    if (threadIdx.x < 32) {
        __syncwarp();
        __syncwarp();
        if (threadIdx.x == 0) *cell = 2.f;  // a race: warp 1 may not have read yet
    }
    out[threadIdx.x] = *cell;
}

void throwing_kernel(int* out) {
    if (threadIdx.x == 3) throw value_error("thread 3 refuses");
    out[threadIdx.x] = 1;
}

void ldmatrix_rows_kernel(int row_bytes) {
    std::uint32_t r[4];
    kernels::mma::ldmatrix_x4(r, simt::shared_memory() + row_bytes * threadIdx.x);
}

void ldmatrix_at_kernel(int offset) {
    std::uint32_t r[4];
    kernels::mma::ldmatrix_x4(r, simt::shared_memory() + offset + 16 * threadIdx.x);
}

}  // namespace

TEST_CASE("simt emulator: reports divergence, deadlock, exited lanes, early reads, bad addresses, bank conflicts") {
    std::vector<int> out(128);
    CHECK_THROWS_WITH_AS(simt::launch(divergent_barrier_kernel, {1, 1, 1}, {128, 1, 1}, 0, out.data()),
                         doctest::Contains("divergent"), simt::error);
    CHECK_THROWS_WITH_AS(simt::launch(deadlock_kernel, {1, 1, 1}, {64, 1, 1}, 0, out.data()),
                         doctest::Contains("deadlock"), simt::error);
    CHECK_THROWS_WITH_AS(simt::launch(throwing_kernel, {1, 1, 1}, {32, 1, 1}, 0, out.data()),
                         doctest::Contains("thread 3: the kernel threw: thread 3 refuses"), simt::error);
    std::vector<float> f(128), in(128 * 4, 1.f);
    CHECK_THROWS_WITH_AS(simt::launch(early_exit_shuffle_kernel, {1, 1, 1}, {64, 1, 1}, 0, f.data()),
                         doctest::Contains("exit"), simt::error);
    CHECK_THROWS_WITH_AS(simt::launch(ldmatrix_at_kernel, {1, 1, 1}, {32, 1, 1}, 4096, 8),
                         doctest::Contains("not 16-byte aligned"), simt::error);
    CHECK_THROWS_WITH_AS(simt::launch(ldmatrix_at_kernel, {1, 1, 1}, {32, 1, 1}, 256, 0),  // rows 16-31 past 256
                         doctest::Contains("outside the block's shared memory"), simt::error);
    simt::reset_counters();
    CHECK_NOTHROW(simt::launch(ldmatrix_at_kernel, {1, 1, 1}, {32, 1, 1}, 512, 0));  // 32 rows of 16 bytes in a row
    CHECK(simt::counters().ldmatrix_wavefronts == 4);
    simt::reset_counters();
    simt::launch(ldmatrix_rows_kernel, {1, 1, 1}, {32, 1, 1}, 32 * 144, 128);  // rows 128 bytes apart: one bank
    CHECK(simt::counters().ldmatrix_wavefronts == 4 * 8);
    simt::reset_counters();
    simt::launch(ldmatrix_rows_kernel, {1, 1, 1}, {32, 1, 1}, 32 * 144, 144);  // padded by 16 bytes: 8 banks
    CHECK(simt::counters().ldmatrix_wavefronts == 4);
    simt::launch(unwaited_copy_kernel, {1, 1, 1}, {128, 1, 1}, 2048, f.data(), in.data());  // the default: late
    CHECK(std::all_of(f.begin(), f.end(), [](float x) { return std::isnan(x); }));
    {
        const simt::ScopedInterleaving early({simt::Schedule::round_robin, simt::CopyTiming::at_issue, "copies early"});
        simt::launch(unwaited_copy_kernel, {1, 1, 1}, {128, 1, 1}, 2048, f.data(), in.data());
        CHECK(std::all_of(f.begin(), f.end(), [](float x) { return x == 1.f; }));
    }
    // Warp 0 overwrites a tile warp 1 has yet to read, with no barrier between: seen only when the
    // warps run apart.
    for (const auto& mode : simt::interleavings) {
        const simt::ScopedInterleaving interleaving(mode);
        simt::launch(overwrite_without_barrier_kernel, {1, 1, 1}, {64, 1, 1}, 1024, f.data());
        CHECK_MESSAGE(f[32] == (mode.schedule == simt::Schedule::round_robin ? 1.f : 2.f), mode.name);
    }
}

// ---- the attention kernels -----------------------------------------------------------------------

namespace {

using Kernel = kernels::AttentionKernel;

// grid_len: the max_len given to the kernel (0: the longest length, as the session passes); a
// shorter one gives a grid that covers only part of the longer sequences.
template <class T, int HD>
void check_attention(Kernel kernel, int heads, const std::vector<std::int32_t>& lengths, index_t grid_len = 0) {
    std::vector<std::int32_t> offsets(1, 0);
    for (auto l : lengths) offsets.push_back(offsets.back() + l);
    const index_t tokens = offsets.back(), H = index_t(heads) * HD, B = index_t(lengths.size());
    const index_t max_len = grid_len ? grid_len : *std::max_element(lengths.begin(), lengths.end());
    Tensor<T, Shape<dyn, dyn>> qkv(tokens, 3 * H), want(tokens, H);
    test::fill_uniform(qkv.view(), -2, 2);
    Tensor<std::int32_t, Shape<dyn>> off(B + 1);
    std::copy(offsets.begin(), offsets.end(), off.data());
    nn::attention(want.data(), qkv.data(), offsets.data(), B, heads, HD);
    const auto dqkv = test::to_device(qkv);
    const auto doff = test::to_device(off);
    Tensor<T, Shape<dyn, dyn>, device_space> ctx(tokens, H);  // the fake device's memory starts as NaN
    kernels::attention(ctx.data(), dqkv.data(), doff.data(), B, max_len, heads, HD, nullptr, kernel);
    const auto got = test::to_host(ctx);
    // As the GPU test: probabilities rounded to T before P V, one rounding of T more than the twin.
    const double rel = std::is_same_v<T, float> ? 1e-5 : std::is_same_v<T, half> ? 4e-3 : 3e-2;
    test::compare(got.data(), want.data(), got.size(), rel, rel,
                  std::string(kernels::name(kernel)) + " attention (emulated), " + std::to_string(heads) +
                      " heads of " + std::to_string(HD) + ", " + std::string(sinter::name(dtype_of<T>)) +
                      ", grid for " + std::to_string(max_len) + " queries");
}

template <class T>
void check_head_sizes(Kernel kernel, int heads, const std::vector<std::int32_t>& lengths) {
    check_attention<T, 32>(kernel, heads, lengths);
    check_attention<T, 64>(kernel, heads, lengths);
    check_attention<T, 128>(kernel, heads, lengths);
}

}  // namespace

// Lengths: one token, a partial tile, exactly a tile, an empty sequence, a tile and one, and up to
// four key tiles with a partial last one.
TEST_CASE_TEMPLATE("flash attention kernel (emulated) matches the host twin", T, half, bf16) {
    for (const auto& mode : simt::interleavings) {
        INFO(mode.name);
        const simt::ScopedInterleaving interleaving(mode);
        simt::reset_counters();
        check_head_sizes<T>(Kernel::flash, 2, {1, 15, 64, 0, 65, 201});
        check_attention<T, 64>(Kernel::flash, 12, {128, 128});  // BERT-base's heads, full sequences
        // A grid for fewer queries than the sequences hold: each block takes every other tile, or all.
        check_attention<T, 32>(Kernel::flash, 2, {1, 201, 130}, 65);
        check_attention<T, 64>(Kernel::flash, 2, {201, 64}, 1);
        // The shared tiles' rows are padded by 16 bytes so that every ldmatrix is conflict-free.
        const auto c = simt::counters();
        CHECK(c.ldmatrix_matrices > 0);
        CHECK_MESSAGE(c.ldmatrix_wavefronts == c.ldmatrix_matrices, c.ldmatrix_wavefronts, " wavefronts for ",
                      c.ldmatrix_matrices, " matrices");
    }
}

TEST_CASE_TEMPLATE("wmma attention kernel (emulated) matches the host twin", T, half, bf16) {
    for (const auto& mode : simt::interleavings) {
        INFO(mode.name);
        const simt::ScopedInterleaving interleaving(mode);
        check_head_sizes<T>(Kernel::wmma, 2, {1, 15, 64, 0, 65, 130});
        check_attention<T, 64>(Kernel::wmma, 12, {128, 128});
        check_attention<T, 32>(Kernel::wmma, 2, {1, 130, 65}, 65);  // grids for fewer queries
        check_attention<T, 64>(Kernel::wmma, 2, {130, 64}, 1);
    }
}

TEST_CASE_TEMPLATE("simt attention kernel (emulated) matches the host twin", T, float, half, bf16) {
    check_head_sizes<T>(Kernel::simt, 2, {1, 15, 0, 41});  // 41: 4k + 1 queries, a partial block of warps
    check_attention<T, 32>(Kernel::simt, 2, {1, 41, 9}, 5);     // grids for fewer queries
    check_attention<T, 64>(Kernel::simt, 2, {41, 3}, 1);
}
