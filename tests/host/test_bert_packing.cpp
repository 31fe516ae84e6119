// What a GPU forward runs at, checked on the host: packing, the launch shape (rounded so that
// batches of similar size share a CUDA graph), the staged int32 inputs, and the bounded cache that
// holds one entry per launch shape. Random batches, fresh each run (SINTER_TEST_SEED replays).
#include <set>

#include <doctest/doctest.h>

#include "sinter/core/lru_cache.hpp"
#include "sinter/nn/bert/packing.hpp"
#include "../support/check.hpp"
#include "../support/random_batch.hpp"

using namespace sinter;
using bert::LaunchShape;

using test::RandomBatch;

TEST_CASE("round_up_geometric: at most 1/16 more, monotonic, idempotent, 16 sizes per octave") {
    CHECK(bert::round_up_geometric(0, 16) == 0);
    index_t previous = 0, worst_n = 0;
    double worst = 0;
    std::set<index_t> sizes;
    for (index_t n = 1; n <= 70000; ++n) {
        const index_t r = bert::round_up_geometric(n, 16);
        REQUIRE(r >= n);
        REQUIRE(r >= previous);
        REQUIRE(bert::round_up_geometric(r, 16) == r);
        REQUIRE(r % 16 == 0);
        if (n >= 256) {
            REQUIRE(double(r - n) < double(n) / 16);
            if (double(r - n) / double(n) > worst) worst = double(r - n) / double(n), worst_n = n;
        }
        if (n <= 16384) sizes.insert(r);
        previous = r;
    }
    MESSAGE("worst extra from 256 to 70000 tokens: " << 100 * worst << "% at " << worst_n << "; " << sizes.size()
                                                     << " sizes up to 16384 tokens");
    CHECK(sizes.size() <= 16 * 10 + 16);
    CHECK(bert::round_up_geometric(1, 8) == 8);
    CHECK(bert::round_up_geometric(2240, 16) == 2304);
}

TEST_CASE("launch_shape covers the packed batch, rounded within the session's limits") {
    for (int trial = 0; trial < 200; ++trial) {
        auto& g = test::rng();
        const index_t B = 1 + index_t(g() % 40), S = 1 + index_t(g() % 512);
        const RandomBatch batch(B, S, 0, 1000);  // empty sequences included
        const bert::Packed p = bert::pack(batch.inputs());
        index_t longest = 0, tokens = 0;
        for (index_t b = 0; b < B; ++b) {
            index_t n = 0;
            for (index_t s = 0; s < S; ++s) n += batch.mask[std::size_t(b * S + s)];
            longest = std::max(longest, n);
            tokens += n;
        }
        REQUIRE(p.tokens == tokens);
        const LaunchShape exact = bert::launch_shape(p, B, false, 1 << 20, 1 << 10);
        CHECK(exact == LaunchShape{B, longest, tokens});
        const LaunchShape r = bert::launch_shape(p, B, true, 1 << 20, 1 << 10);
        CHECK(r.batch >= B);
        CHECK(r.batch % 8 == 0);
        CHECK(r.length >= longest);
        CHECK(r.length % 64 == 0);
        CHECK(r.length < longest + 64);
        CHECK(r.tokens == bert::round_up_geometric(tokens, 16));
        // A session exactly as large as the batch: the rounding stops at its limits.
        const LaunchShape tight = bert::launch_shape(p, B, true, tokens, B);
        CHECK(tight.batch == B);
        CHECK(tight.tokens == tokens);
    }
}

TEST_CASE("batches of similar size share a few launch shapes") {
    // 32 sequences, lengths uniform in [16, 128]: the ANCHORS padded case, a new batch each time.
    std::set<LaunchShape> rounded, exact;
    double extra = 0, real = 0;
    for (int i = 0; i < 1000; ++i) {
        const RandomBatch batch(32, 128, 16, 1000);
        const bert::Packed p = bert::pack(batch.inputs());
        const LaunchShape r = bert::launch_shape(p, 32, true, 32 * 128, 256);
        rounded.insert(r);
        exact.insert(bert::launch_shape(p, 32, false, 32 * 128, 256));
        extra += double(r.tokens - p.tokens);
        real += double(p.tokens);
    }
    MESSAGE("1000 batches: " << exact.size() << " exact shapes, " << rounded.size() << " rounded ones, "
                             << 100 * extra / real << "% extra tokens computed");
    CHECK(exact.size() > 100);
    CHECK(rounded.size() <= 16);
    CHECK(extra / real < 0.0625);
}

TEST_CASE("stage_inputs lays out ids, types, positions, offsets and first rows at the launch shape") {
    for (int trial = 0; trial < 100; ++trial) {
        auto& g = test::rng();
        const index_t B = 1 + index_t(g() % 20), S = 1 + index_t(g() % 100);
        const RandomBatch batch(B, S, 0, 1000);
        const bert::Packed p = bert::pack(batch.inputs());
        const LaunchShape shape = bert::launch_shape(p, B, true, 1 << 20, 1 << 10);
        std::vector<std::int32_t> staged(std::size_t(shape.input_count()) + 3, -7);
        bert::stage_inputs(p, shape, staged);
        const auto at = [&](index_t i) { return staged[std::size_t(i)]; };
        index_t t = 0;
        for (index_t b = 0; b < B; ++b) {
            CHECK(at(shape.offsets_at() + b) == t);
            const index_t first = t;
            for (index_t s = 0; s < S; ++s) {
                const std::size_t i = std::size_t(b * S + s);
                if (!batch.mask[i]) continue;
                REQUIRE(at(shape.ids_at() + t) == batch.ids[i]);
                REQUIRE(at(shape.types_at() + t) == batch.types[i]);
                REQUIRE(at(shape.positions_at() + t) == s);
                ++t;
            }
            // An empty sequence pools the zero row, the one after the launch shape's tokens.
            CHECK(at(shape.first_rows_at() + b) == (t > first ? first : shape.tokens));
        }
        for (index_t x = p.tokens; x < shape.tokens; ++x) {  // extra tokens: valid for every model
            REQUIRE(at(shape.ids_at() + x) == 0);
            REQUIRE(at(shape.types_at() + x) == 0);
            REQUIRE(at(shape.positions_at() + x) == 0);
        }
        for (index_t b = B; b < shape.batch; ++b) {  // extra sequences: empty
            CHECK(at(shape.offsets_at() + b + 1) == p.tokens);
            CHECK(at(shape.first_rows_at() + b) == shape.tokens);
        }
        CHECK(at(shape.offsets_at() + shape.batch) == p.tokens);
        CHECK(at(shape.input_count()) == -7);  // nothing written past the shape's inputs
    }
    const RandomBatch batch(4, 8, 1, 1000);
    const bert::Packed p = bert::pack(batch.inputs());
    const LaunchShape shape = bert::launch_shape(p, 4, true, 1 << 20, 1 << 10);
    std::vector<std::int32_t> small(std::size_t(shape.input_count() - 1));
    CHECK_THROWS_WITH_AS(bert::stage_inputs(p, shape, small), doctest::Contains("launch shape"), value_error);
    CHECK_THROWS_AS(bert::stage_inputs(p, LaunchShape{4, 8, p.tokens - 1}, small), value_error);
}

namespace {

// Neither copyable nor movable, like a CUDA graph's owner; counts how many are alive.
struct Immovable {
    static inline int alive = 0;
    int value = 0;
    Immovable() { ++alive; }
    Immovable(const Immovable&) = delete;
    Immovable& operator=(const Immovable&) = delete;
    ~Immovable() { --alive; }
};

}  // namespace

TEST_CASE("LruCache keeps the most recently used entries and destroys the one it drops") {
    CHECK_THROWS_AS((LruCache<int, Immovable>(0)), value_error);
    {
        LruCache<int, Immovable> cache(3);
        for (int k = 1; k <= 3; ++k) cache[k].value = 10 * k;
        CHECK(Immovable::alive == 3);
        CHECK(cache[1].value == 10);  // 1 is now the most recent: 2 is the oldest
        cache[4].value = 40;          // drops 2
        CHECK(Immovable::alive == 3);
        CHECK(cache.size() == 3);
        CHECK(cache.peek(2) == nullptr);
        REQUIRE(cache.peek(3) != nullptr);
        CHECK(cache.peek(3)->value == 30);  // peek does not refresh: 3 is still the oldest
        cache[5];
        CHECK(cache.peek(3) == nullptr);
        std::vector<int> order;
        for (const auto& entry : cache) order.push_back(entry.first);
        CHECK(order == std::vector<int>{5, 4, 1});
        CHECK(cache[5].value == 0);  // made by the lookup above, default-constructed
        cache.erase(4);
        cache.erase(99);  // absent: nothing happens
        CHECK(cache.size() == 2);
        CHECK(Immovable::alive == 2);
    }
    CHECK(Immovable::alive == 0);
}
