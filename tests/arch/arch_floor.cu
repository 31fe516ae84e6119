// Built for sm_75, the oldest architecture CUDA 13 compiles for (a T4), beside the project's own
// architectures: every device path must compile there, the sm_80-only instructions (bf16 WMMA,
// mma.m16n8k16, cp.async) behind their guards. Nothing runs: the dispatcher keeps code compiled for
// sm_75 off the sm_80 kernels (it asks cudaFuncGetAttributes what the device runs; see
// kernels::attention_kernel_for, whose choice on an sm_90 build test_gpu_attention checks).
#include "sinter/sinter.cuh"

namespace sinter::test {

// Session<tiny, T>::forward instantiates every kernel a BERT forward launches in T.
template <class T>
void forward_in(const bert::Encoder<bert::tiny, T, device_space>& encoder, const bert::Inputs& in) {
    bert::Session<bert::tiny, T> session(encoder);
    (void)session.forward(in);
}

template void forward_in<half>(const bert::Encoder<bert::tiny, half, device_space>&, const bert::Inputs&);
template void forward_in<bf16>(const bert::Encoder<bert::tiny, bf16, device_space>&, const bert::Inputs&);
template void forward_in<float>(const bert::Encoder<bert::tiny, float, device_space>&, const bert::Inputs&);

}  // namespace sinter::test
