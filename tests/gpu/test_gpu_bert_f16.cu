// bert::Session<tiny, half> against Hugging Face's outputs, with the tanh-GELU epilogue (the 16-bit
// default) and with the exact form (test_gpu_bert.cu has f32 and the input checks,
// test_gpu_bert_bf16.cu bf16).
#include "session_check.cuh"

using namespace sinter;

TEST_CASE("Session<tiny, half> matches within its tolerance") {
    SINTER_REQUIRE_GPU();
    test::check_session<half>("bert_tiny", 1.5e-2);
    test::check_session<half>("bert_tiny", 1.5e-2, {.max_tokens = 512, .max_batch = 16, .tanh_gelu_epilogue = false});
    test::check_session<half>("bert_tiny_cls", 1.5e-2);
}
