#pragma once
// The SIMT emulator's stand-in for CUB's WarpReduce (32-lane warps, Reduce only). As CUB documents,
// the result is valid in lane 0 only: the other lanes get NaN here, so a kernel that read it
// elsewhere would fail.
#include <cmath>
#include <source_location>

#include <simt/runtime.hpp>

namespace cub {

template <class T, int LogicalWarpThreads = 32>
class WarpReduce {
    static_assert(LogicalWarpThreads == 32, "the emulated WarpReduce has whole warps only");

public:
    struct TempStorage {};
    explicit WarpReduce(TempStorage&) {}

    template <class Op>
    T Reduce(T x, Op op, std::source_location site = std::source_location::current()) {
        return sinter::simt::detail::warp_collective<T>(x, [&](const T (&in)[32], T (&out)[32]) {
            T acc = in[0];
            for (int l = 1; l < 32; ++l) acc = op(acc, in[l]);
            out[0] = acc;
            for (int l = 1; l < 32; ++l) out[l] = T(NAN);
        }, site, "cub::WarpReduce::Reduce");
    }
};

}  // namespace cub
