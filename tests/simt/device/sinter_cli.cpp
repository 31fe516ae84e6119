// The `sinter` tool (examples/cli/sinter_cli.cpp) with its GPU path, on the fake CUDA device
// (simt/device.hpp): test_cli runs it beside the host build.
#include <simt/device.hpp>

#define SINTER_CLI_GPU 1
#include "../../../examples/cli/sinter_cli.cpp"
