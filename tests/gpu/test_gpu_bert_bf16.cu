// bert::Session<tiny, bf16> against Hugging Face's outputs (test_gpu_bert.cu has f32 and the input
// checks, test_gpu_bert_f16.cu f16).
#include "session_check.cuh"

using namespace sinter;

TEST_CASE("Session<tiny, bf16> matches within its tolerance") {
    SINTER_REQUIRE_GPU();
    test::check_session<bf16>("bert_tiny", 1e-1);
    test::check_session<bf16>("bert_tiny_cls", 1e-1);
}
