// The `sinter` tool built as CUDA: the same source, with the GPU path of models.hpp compiled in
// (runs on the GPU where one is present, otherwise on the host, and says which).
#include "sinter_cli.cpp"
