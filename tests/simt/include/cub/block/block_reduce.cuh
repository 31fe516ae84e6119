#pragma once
// The SIMT emulator's stand-in for CUB's BlockReduce (one-dimensional blocks, Reduce only). As CUB
// documents, the result is valid in thread 0 only (NaN elsewhere here), every thread of the block
// must call it, and reusing the storage needs a __syncthreads() between calls.
#include <cmath>
#include <source_location>

#include <simt/runtime.hpp>

namespace cub {

template <class T, int BlockDimX>
class BlockReduce {
public:
    struct TempStorage {
        T values[BlockDimX];
    };
    explicit BlockReduce(TempStorage& storage) : storage_(storage) {}

    template <class Op>
    T Reduce(T x, Op op, std::source_location site = std::source_location::current()) {
        if (blockDim.x != unsigned(BlockDimX) || blockDim.y != 1 || blockDim.z != 1)
            sinter::simt::detail::fail("cub::BlockReduce<" + std::to_string(BlockDimX) + "> in a block of " +
                                       std::to_string(blockDim.x) + " x " + std::to_string(blockDim.y) + " threads");
        storage_.values[threadIdx.x] = x;
        __syncthreads(site);
        if (threadIdx.x != 0) return T(NAN);
        T acc = storage_.values[0];
        for (int i = 1; i < BlockDimX; ++i) acc = op(acc, storage_.values[i]);
        return acc;
    }

private:
    TempStorage& storage_;
};

}  // namespace cub
