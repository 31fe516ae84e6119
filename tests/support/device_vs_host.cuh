#pragma once
// Runs the same expression on the host evaluator and on the device, from the same random inputs,
// and compares: `build` is called with host tensors, then with their device copies.
#include <tuple>

#include "gpu.cuh"

namespace sinter::test {

template <class T, class S, class Build, class... HostTensors>
void device_matches_host(const std::string& what, const S& out_shape, Build build,
                         const HostTensors&... inputs) {
    Tensor<T, S> want(out_shape);
    eval(want.view(), build(inputs.view()...), host);
    const auto device_inputs = std::make_tuple(to_device(inputs)...);
    Tensor<T, S, device_space> got(out_shape);
    poison(got.view());  // every element must be written
    sinter::cuda::Stream stream;
    std::apply([&](const auto&... d) { eval(got.view(), build(d.view()...), stream); }, device_inputs);
    stream.synchronize();
    const auto back = to_host(got);
    compare_as<T>(back.data(), want.data(), back.size(), what);
}

}  // namespace sinter::test
