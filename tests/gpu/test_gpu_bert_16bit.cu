// bert::Session<tiny, half> and <tiny, bf16> against Hugging Face's outputs and the host path of
// the same dtype (test_gpu_bert.cu has f32 and the input checks).
#include "session_check.cuh"

using namespace sinter;

TEST_CASE("Session<tiny, half> and <tiny, bf16> match within their tolerances") {
    SINTER_REQUIRE_GPU();
    test::check_session<half>("bert_tiny", 1.5e-2);  // the tanh-GELU epilogue (the 16-bit default)
    test::check_session<half>("bert_tiny", 1.5e-2, {.max_tokens = 512, .max_batch = 16, .tanh_gelu_epilogue = false});
    test::check_session<half>("bert_tiny_cls", 1.5e-2);
    test::check_session<bf16>("bert_tiny", 1e-1);
}
