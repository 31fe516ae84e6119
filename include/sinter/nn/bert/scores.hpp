#pragma once
// A classifier's scores from its logits: softmax over the labels, a sigmoid or tanh per label, or
// the logits as they are (io::ScoreFunction; an Encoder's score_function() is what its config asks
// for: a cross-encoder's declared activation, else transformers' text-classification pipeline's).
//
//     const auto out = encoder.forward(inputs);
//     const std::vector<float> p = bert::scores(out, encoder.score_function());  // (B, labels)
#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "../../io/hf_config.hpp"
#include "inputs.hpp"

namespace sinter::bert {

// scores (rows, labels) of logits (rows, labels), in f64 then rounded (softmax is max-subtracted).
inline std::vector<float> scores(std::span<const float> logits, index_t labels, io::ScoreFunction f) {
    if (labels < 0 || (labels == 0 && !logits.empty()) || (labels > 0 && logits.size() % std::size_t(labels) != 0))
        throw shape_error("bert::scores: " + std::to_string(logits.size()) + " logits are not rows of " +
                          std::to_string(labels) + " labels");
    std::vector<float> out(logits.size());
    for (std::size_t row = 0; labels > 0 && row < logits.size(); row += std::size_t(labels)) {
        const auto z = logits.subspan(row, std::size_t(labels));
        float* p = out.data() + row;
        switch (f) {
            case io::ScoreFunction::softmax: {
                const double top = *std::max_element(z.begin(), z.end());
                double sum = 0;
                for (const float v : z) sum += std::exp(double(v) - top);
                for (std::size_t k = 0; k < z.size(); ++k) p[k] = float(std::exp(double(z[k]) - top) / sum);
                break;
            }
            case io::ScoreFunction::sigmoid:
                for (std::size_t k = 0; k < z.size(); ++k) p[k] = float(1.0 / (1.0 + std::exp(-double(z[k]))));
                break;
            case io::ScoreFunction::tanh:
                for (std::size_t k = 0; k < z.size(); ++k) p[k] = float(std::tanh(double(z[k])));
                break;
            case io::ScoreFunction::none: std::copy(z.begin(), z.end(), p); break;
        }
    }
    return out;
}

// The scores of a forward's logits (B, labels); empty without a classifier.
inline std::vector<float> scores(const Outputs& out, io::ScoreFunction f) {
    return scores(out.logits, out.labels, f);
}

}  // namespace sinter::bert
