#pragma once
// RAII streams and events. Destructors never throw: a failure there is ignored (the handle is
// gone either way), and a poisoned context is not touched.
#include <utility>

#include "error.cuh"

namespace sinter::cuda {

class Stream {
public:
    Stream() {
        ensure_usable("cuda::Stream");
        SINTER_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    Stream(Stream&& o) noexcept : stream_(std::exchange(o.stream_, nullptr)) {}
    Stream& operator=(Stream&& o) noexcept {
        if (this != &o) {
            destroy();
            stream_ = std::exchange(o.stream_, nullptr);
        }
        return *this;
    }
    ~Stream() { destroy(); }

    cudaStream_t get() const { return stream_; }
    operator cudaStream_t() const { return stream_; }
    void synchronize() const { SINTER_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

private:
    void destroy() noexcept {
        if (stream_ && !context_poisoned()) discard(cudaStreamDestroy(stream_));
        stream_ = nullptr;
    }
    cudaStream_t stream_ = nullptr;
};

class Event {
public:
    Event() {
        ensure_usable("cuda::Event");
        SINTER_CUDA_CHECK(cudaEventCreate(&event_));
    }
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    ~Event() {
        if (event_ && !context_poisoned()) discard(cudaEventDestroy(event_));
    }
    void record(cudaStream_t s) { SINTER_CUDA_CHECK(cudaEventRecord(event_, s)); }
    void synchronize() const { SINTER_CUDA_CHECK(cudaEventSynchronize(event_)); }
    cudaEvent_t get() const { return event_; }

    // Milliseconds between two recorded events.
    static float elapsed_ms(const Event& start, const Event& stop) {
        float ms = 0.f;
        SINTER_CUDA_CHECK(cudaEventElapsedTime(&ms, start.event_, stop.event_));
        return ms;
    }

private:
    cudaEvent_t event_ = nullptr;
};

}  // namespace sinter::cuda
