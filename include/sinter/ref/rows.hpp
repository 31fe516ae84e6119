#pragma once
// Reference row operations: plain loops in double over row-major (rows, cols) arrays of floats.
// The readable specification the expression evaluators are tested against.
#include <cmath>
#include <cstddef>
#include <limits>

namespace sinter::ref {

// y = (x - mean) / sqrt(var + eps) * gamma + beta per row; var biased, two-pass; y may be x.
inline void layer_norm(const float* x, const float* gamma, const float* beta, float eps, float* y,
                       std::size_t rows, std::size_t cols) {
    for (std::size_t r = 0; r < rows; ++r) {
        const float* xr = x + r * cols;
        double mean = 0, var = 0;
        for (std::size_t c = 0; c < cols; ++c) mean += xr[c];
        mean /= double(cols);
        for (std::size_t c = 0; c < cols; ++c) var += (xr[c] - mean) * (xr[c] - mean);
        var /= double(cols);
        const double rstd = 1.0 / std::sqrt(var + double(eps));
        for (std::size_t c = 0; c < cols; ++c)
            y[r * cols + c] = float((xr[c] - mean) * rstd * gamma[c] + beta[c]);
    }
}

// softmax over each row, counting only positions with mask[c] != 0 (mask per row, or null for
// none); masked positions and rows with no finite unmasked entry give 0.
inline void softmax(const float* x, const float* mask, float* y, std::size_t rows, std::size_t cols,
                    bool mask_per_row = true) {
    for (std::size_t r = 0; r < rows; ++r) {
        const float* xr = x + r * cols;
        const float* mr = mask ? mask + (mask_per_row ? r * cols : 0) : nullptr;
        auto live = [&](std::size_t c) { return (!mr || mr[c] != 0.f) && xr[c] != -INFINITY; };
        double max = -INFINITY;
        for (std::size_t c = 0; c < cols; ++c)
            if (live(c) && xr[c] > max) max = xr[c];
        double sum = 0;
        for (std::size_t c = 0; c < cols; ++c)
            if (live(c)) sum += std::exp(xr[c] - max);
        for (std::size_t c = 0; c < cols; ++c)
            y[r * cols + c] = (live(c) && sum > 0) ? float(std::exp(xr[c] - max) / sum) : 0.f;
    }
}

}  // namespace sinter::ref
