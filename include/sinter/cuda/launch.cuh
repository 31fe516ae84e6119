#pragma once
// Every kernel launch in sinter goes through cuda::launch: the one place that spells <<< >>>.
// Included by the include path (<sinter/cuda/launch.cuh>), not beside its users, so that the SIMT
// emulator (tests/simt) can put its own in its place and run the library's launch code, the grids
// and shared-memory sizes it computes included, on the host.
#include <cstddef>
#include <utility>

#include <cuda_runtime_api.h>

namespace sinter::cuda {

// Enqueues kernel<<<grid, block, shared_bytes, stream>>>(args...). Like <<< >>>, it reports
// nothing itself: check cudaGetLastError() after it (SINTER_CHECK_LAUNCH).
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes, cudaStream_t stream,
            Args&&... args) {
    kernel<<<grid, block, shared_bytes, stream>>>(std::forward<Args>(args)...);
}

}  // namespace sinter::cuda
