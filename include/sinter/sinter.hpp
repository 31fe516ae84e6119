#pragma once
// Everything host-side: compiles with a plain C++20 compiler (the CUDA Toolkit's headers are used
// only for the f16/bf16 types).
#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/shape.hpp"
#include "core/tensor.hpp"
#include "expr.hpp"
#include "io/bert_checkpoint.hpp"
#include "io/safetensors.hpp"
#include "io/sentence_transformers.hpp"
#include "io/sentence_transformers_config.hpp"
#include "io/transformer_settings.hpp"
#include "nn/bert/encoder.hpp"
#include "text/tokenizer.hpp"
#include "version.hpp"
