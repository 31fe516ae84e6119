// bench/bench_expr.cu, unchanged, on the fake CUDA device (simt/device.hpp): bench/CMakeLists.txt
// runs it as a smoke test.
#include <simt/device.hpp>

#include "../../../bench/bench_expr.cu"
