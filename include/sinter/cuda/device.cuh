#pragma once
// Device presence and properties. device_count() never throws: on a machine with no GPU or no
// driver at all it returns 0 (the runtime then reports cudaErrorNoDevice or
// cudaErrorInsufficientDriver, which is cleared).
#include <string>

#include "error.cuh"

namespace sinter::cuda {

inline int device_count() noexcept {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return n;
}

// Cheap after the first call.
inline bool gpu_available() noexcept {
    static const bool available = device_count() > 0;
    return available;
}

// The current device.
inline int current_device() {
    int device = 0;
    SINTER_CUDA_CHECK(cudaGetDevice(&device));
    return device;
}

// Makes `device` the calling thread's current device for the scope's lifetime, the previous one
// current again after: for objects whose stream, memory and graphs belong to one device and which
// may be used from any thread (a new thread starts on device 0).
class DeviceScope {
public:
    explicit DeviceScope(int device) : previous_(current_device()), device_(device) {
        if (device_ != previous_) SINTER_CUDA_CHECK(cudaSetDevice(device_));
    }
    ~DeviceScope() {
        if (device_ != previous_) discard(cudaSetDevice(previous_));
    }
    DeviceScope(const DeviceScope&) = delete;
    DeviceScope& operator=(const DeviceScope&) = delete;

private:
    int previous_, device_;
};

struct DeviceInfo {
    std::string name;
    int sm_major = 0, sm_minor = 0, multiprocessors = 0;
    std::size_t global_memory = 0, l2_bytes = 0;
};

inline DeviceInfo device_info(int device = 0) {
    cudaDeviceProp p{};
    SINTER_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
    return {p.name, p.major, p.minor, p.multiProcessorCount, p.totalGlobalMem,
            static_cast<std::size_t>(p.l2CacheSize)};
}

}  // namespace sinter::cuda
