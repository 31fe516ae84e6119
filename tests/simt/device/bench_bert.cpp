// bench/bench_bert.cu, unchanged but for its smoke registrations (SINTER_BENCH_SMOKE), on the fake
// CUDA device (simt/device.hpp): bench/CMakeLists.txt runs it as a smoke test.
#include <simt/device.hpp>

#include "../../../bench/bench_bert.cu"
