#pragma once
// The statistic every benchmark reports: the median of its iteration times, as the PyTorch
// baselines report medians (Google Benchmark's own time column is the mean). Host-only, so that
// the host benchmarks and the CUDA harness share it.
#include <algorithm>
#include <cstddef>
#include <vector>

namespace sinter::bench {

// The median of `times` (the mean of the two middle ones for an even count); 0 for none.
inline double median_seconds(std::vector<double> times) {
    if (times.empty()) return 0;
    const std::size_t mid = times.size() / 2;
    std::nth_element(times.begin(), times.begin() + std::ptrdiff_t(mid), times.end());
    if (times.size() % 2) return times[mid];
    return (times[mid] + *std::max_element(times.begin(), times.begin() + std::ptrdiff_t(mid))) / 2;
}

}  // namespace sinter::bench
