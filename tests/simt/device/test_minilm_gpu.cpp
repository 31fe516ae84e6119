// tests/models/test_minilm_gpu.cu, unchanged, on the fake CUDA device (simt/device.hpp): the real
// model (its f32 checkpoint, converted to half on load) through bert::Session<minilm_l6, half>.
#include <simt/device.hpp>

#include "../../models/test_minilm_gpu.cu"
