#pragma once
// Progress and throughput on stderr. The bar is drawn only when stderr is a terminal (a log file
// or a pipe gets no carriage returns), and only once a run has lasted a moment, so short runs do
// not flicker; the throughput line at the end is always printed.
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

#include <unistd.h>

namespace sinter::cli {

class Progress {
public:
    using clock = std::chrono::steady_clock;

    Progress(std::string verb, std::size_t total_lines)
        : verb_(std::move(verb)), total_(total_lines), terminal_(::isatty(STDERR_FILENO) == 1) {}

    void advance(std::size_t lines, std::size_t tokens) {
        lines_ += lines;
        tokens_ += tokens;
        if (!terminal_) return;
        const double t = seconds();
        if (t < 0.3 || (t - drawn_at_ < 0.1 && lines_ < total_)) return;
        drawn_at_ = t;
        drawn_ = true;
        constexpr std::size_t width = 30;
        const std::size_t filled = total_ ? width * lines_ / total_ : width;
        std::fprintf(stderr, "\r[%s%s] %zu/%zu lines, %.1f lines/s", std::string(filled, '#').c_str(),
                     std::string(width - filled, '.').c_str(), lines_, total_, double(lines_) / t);
        std::fflush(stderr);
    }

    // Clears the bar and prints the throughput line.
    void finish(const char* where) {
        const double t = seconds();
        if (drawn_) std::fputs("\r\033[2K", stderr);
        std::fprintf(stderr, "sinter: %s %zu line%s (%zu tokens) in %.3f s: %.1f lines/s, %.0f tokens/s (%s)\n",
                     verb_.c_str(), lines_, lines_ == 1 ? "" : "s", tokens_, t, t > 0 ? double(lines_) / t : 0.0,
                     t > 0 ? double(tokens_) / t : 0.0, where);
    }

private:
    double seconds() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

    std::string verb_;
    std::size_t total_, lines_ = 0, tokens_ = 0;
    bool terminal_, drawn_ = false;
    double drawn_at_ = 0;
    clock::time_point start_ = clock::now();
};

}  // namespace sinter::cli
