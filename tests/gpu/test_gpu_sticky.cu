// A sticky CUDA error (here: an illegal address) poisons the context for the whole process. sinter
// reports it as such and refuses later device work with a clear error instead of crashing.
// Its own binary: nothing else can run on the device after it.
#include "../support/gpu.cuh"

using namespace sinter;

namespace {
__global__ void write_through(float* p) { *p = 1.f; }
}  // namespace

TEST_CASE("an illegal address is reported as sticky, and later work is refused") {
    SINTER_REQUIRE_GPU();
    write_through<<<1, 1>>>(reinterpret_cast<float*>(0x10));
    bool sticky = false;
    try {
        SINTER_CHECK_LAUNCH("write_through");
        SINTER_CUDA_CHECK(cudaDeviceSynchronize());
    } catch (const cuda_error& e) {
        sticky = e.sticky();
        MESSAGE(e.what());
        CHECK(std::string(e.what()).find("sticky") != std::string::npos);
    }
    REQUIRE(sticky);
    CHECK(sinter::cuda::context_poisoned());
    using DeviceVector = Tensor<float, Shape<dyn>, device_space>;
    CHECK_THROWS_WITH_AS(DeviceVector(4), doctest::Contains("poisoned"), cuda_error);
    // Destructors of objects created before the fault do not throw or abort (checked by exiting).
}
