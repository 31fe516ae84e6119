// A model of your own dimensions, declared at compile time: every shape in it is a constant the
// compiler checks (an unsupported head size fails to compile, naming the rule). Random weights,
// run on the host.
#include <cstdio>
#include <vector>

#include <sinter/sinter.hpp>

// 4 layers, hidden 256, 4 heads of 64, intermediate 1024, a 1000-token vocabulary.
constexpr sinter::bert::Config my_config{4, 256, 4, 1024, 1000, 128, 2, 1e-12f, sinter::bert::Activation::gelu_tanh};

int main() {
    using namespace sinter;
    using Model = bert::Encoder<my_config, float, host_space>;
    static_assert(Model::model::HD == 64);
    const Model encoder(bert::random_weights<my_config, float, host_space>(/*seed=*/1));
    const std::vector<std::int32_t> ids = {101, 7, 8, 9, 102, 0, 101, 5, 102, 0, 0, 0};
    const std::vector<std::int32_t> mask = {1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0};
    const bert::Outputs out = encoder.forward({/*B=*/2, /*S=*/6, ids, mask, {}});
    std::printf("custom BERT (L=%d, H=%d, NH=%d): sentence embedding 0 starts %+.4f %+.4f %+.4f\n", my_config.layers,
                my_config.hidden, my_config.heads, out.sentence_embedding[0], out.sentence_embedding[1],
                out.sentence_embedding[2]);
}
