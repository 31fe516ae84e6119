#pragma once
// A fake CUDA device for the SIMT emulator: the CUDA runtime and cuBLASLt calls sinter makes,
// defined on the host (tests/simt/fake_cuda.cpp, linked instead of libcudart and libcublasLt), so
// that the library's device code runs whole where no GPU is lent: bert::Session, blas::Gemm,
// expr::eval and kernels::attention with their launch code, graphs and error paths. Kernels run on
// the emulator (runtime.hpp); cuBLASLt's matmul is computed from its documented semantics.
// Test code only.
//
// What it models, each rule from the CUDA Runtime API or cuBLASLt documentation:
//   - memory: cudaMalloc'd and pinned allocations are registered; device memory starts as 0xff
//     bytes (NaN in every float type: it is uninitialised on a GPU); copies and memsets check that
//     each side is where their kind says and in bounds; a kernel's pointer arguments must point to
//     device or pinned memory (else an illegal-address fault when it runs); cudaFree does not wait
//     for queued work (CUDA does not promise to): a freed block leaves the registry at once;
//     cudaMalloc's blocks are 256-byte aligned, as documented, cudaMallocAsync's only 16 (its
//     documentation promises no alignment);
//   - addresses, as a GPU's memory protection enforces them (and compute-sanitizer reports): each
//     allocation has pages of its own, ends against an inaccessible guard page (one of whole
//     pages also starts against one), and is never reused; freed pages become inaccessible;
//     device pages are accessible only while device work runs. So a kernel that reads or writes
//     past the end of an allocation (through any pointer, an expression's operands too), work
//     that touches freed memory, and host code that dereferences a device pointer all fault, and
//     the fault is explained on stderr (the allocation, the offset, the work and the emulator's
//     block and thread, the function) before the test dies of it;
//   - streams: work is queued and runs when the host waits for it (stream, event or device
//     synchronisation, a copy to pageable memory), not when it is enqueued, so a missing wait
//     shows as stale data; a copy from pageable memory is staged at the call; the synchronous
//     cudaMemcpy returns before a pageable-to-device or device-to-device copy lands, as the
//     runtime's "API synchronization behavior" allows;
//   - faults: a kernel that fails on the emulator, an illegal or misaligned access, poisons the
//     context (a sticky error, returned by every later call that enqueues, allocates or waits, and
//     by cudaGetLastError); a bad launch configuration is a pending error that cudaGetLastError
//     returns and clears;
//   - launches: block size, grid limits, and dynamic shared memory over 48 KiB without the
//     kernel's cudaFuncAttributeMaxDynamicSharedMemorySize opt-in;
//   - stream capture: work on a capturing stream is recorded, not run; a graph replays it (reading
//     pinned inputs when it runs); calls that are unsafe during a capture (synchronisation,
//     cudaMalloc, cudaFree, synchronous copies), and pageable copies into a capture, fail with
//     cudaErrorStreamCaptureUnsupported and invalidate it; work on an invalidated capture is
//     refused (cudaErrorStreamCaptureInvalidated); an event recorded in a capture cannot be waited
//     for (cudaErrorCapturedEvent);
//   - cuBLASLt: column-major layouts, op(A) and op(B), D = epilogue(alpha op(A) op(B) + beta C
//     [+ bias]) with C not read when beta is 0, in-place only with C's layout equal to D's, the
//     BIAS, RELU and GELU (tanh form) epilogues, f32 accumulation in k order; the heuristic returns
//     up to four algorithms, each assuming the operand alignment the preference states (256 bytes
//     by default) and the bias alignment of the descriptor's bias pointer at that moment (256 for
//     none; 16 at the least), and a matmul whose pointers break that faults with a misaligned
//     address; autotuning timings make the heuristic's last candidate the fastest.
// Two identical devices, each sm_90 with 132 multiprocessors and 227 KiB of opt-in shared memory
// per block (cudaSetDevice; memory and streams belong to the device current when they are made; a
// kernel goes only to a stream of the current device, and faults on another device's memory in a
// pointer argument: no peer access); one host thread.
//
// What it does not model: streams running at the same time (queued work runs when waited for,
// one stream at a time, so a race between streams shows only as stale data); the legacy default
// stream's implicit ordering with blocking streams (sinter makes non-blocking ones); accesses
// within an allocation's rounding (to 256 bytes; 16 for cudaMallocAsync) or, unless it fills whole pages, before its start
// on its first page, and accesses outside the part of an allocation a kernel was meant to use
// (bounds are an allocation's, as on a GPU); cuBLASLt's real kernels, their summation order,
// workspace use and which configurations they refuse; time (a fake clock advances per
// operation); stream-ordered allocations inside a graph (made once at the capture and kept).
#include <cuda_runtime.h>

#include <cstddef>
#include <functional>
#include <string>

// The runtime's C++ overloads that take a kernel itself; cuda_runtime.h declares them for nvcc only.
template <class T>
cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attributes, T* kernel) {
    return ::cudaFuncGetAttributes(attributes, reinterpret_cast<const void*>(kernel));
}

template <class T>
cudaError_t cudaFuncSetAttribute(T* kernel, cudaFuncAttribute attribute, int value) {
    return ::cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel), attribute, value);
}

namespace sinter::simt::fake {

// Work a stream runs in order; a non-success result is the error the work raised.
using Work = std::function<cudaError_t()>;

// Enqueues `work` on `stream` (or records it into the capture in progress there); `what` names it
// in messages. A work item that throws is a launch failure, reported with the exception's text.
cudaError_t enqueue(cudaStream_t stream, Work work, std::string what);

// The runtime's checks of a launch configuration (not of its arguments).
cudaError_t check_launch(const void* kernel, ::dim3 grid, ::dim3 block, std::size_t shared_bytes);
// A kernel goes only to a stream of the current device (else cudaErrorInvalidResourceHandle, as
// the programming guide's "Stream and Event Behavior" states).
cudaError_t check_launch_stream(cudaStream_t stream);
int current_device();
// The device whose memory p is (cudaMalloc'd while it was current); -1 for pinned or unknown memory.
int memory_device(const void* p);

// Records a launch's error as the pending one (what cudaGetLastError returns next); invalidates a
// capture in progress on `stream`.
void fail_launch(cudaStream_t stream, cudaError_t error);

// Whether [p, p + bytes) lies in one device or pinned allocation.
bool device_accessible(const void* p, std::size_t bytes = 1);

// Kernel launches and cuBLASLt matmuls issued so far (into a capture too), graph launches (a
// replayed graph's work counts there only), and calls of cudaMalloc and cudaFree (cudaFree waits
// for the whole device; the stream-ordered pair is not counted).
struct Counters {
    long launches = 0, matmuls = 0, graph_launches = 0, mallocs = 0, frees = 0;
};
Counters counters();

// How cuBLASLt refuses descriptors with an epilogue (bias, activation), as the real one may for
// some types, shapes or alignments; plain products are never refused. For the fallback of
// blas::Gemm.
enum class EpilogueRefusal {
    none,
    heuristic_not_supported,  // the heuristic finds no algorithm: CUBLAS_STATUS_NOT_SUPPORTED
    heuristic_invalid_value,  // the heuristic rejects the descriptor: CUBLAS_STATUS_INVALID_VALUE
    at_matmul,                // the heuristic offers algorithms; cublasLtMatmul refuses them (NOT_SUPPORTED)
    // Not refusals but failures, which blas::Gemm must report rather than plan around:
    heuristic_internal_error,  // the heuristic fails: CUBLAS_STATUS_INTERNAL_ERROR
    matmul_execution_failed,   // cublasLtMatmul fails: CUBLAS_STATUS_EXECUTION_FAILED (no CUDA fault behind it)
};
void refuse_fused_epilogues(EpilogueRefusal how);

}  // namespace sinter::simt::fake
