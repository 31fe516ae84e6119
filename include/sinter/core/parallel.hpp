#pragma once
// Host parallelism for the host path's heavy loops (GEMM, attention): plain std::threads, started
// per call (tens of microseconds, against the milliseconds of work that earns them), as many as
// host_threads() (SINTER_NUM_THREADS, else the CPUs the process may run on).
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

#include "config.hpp"

namespace sinter {

namespace detail {
// SINTER_NUM_THREADS's value: a whole number from 1 to 4096, else 0 (not set, or not a count).
inline unsigned parse_thread_count(const char* text) {
    if (!text || !*text) return 0;
    unsigned n = 0;
    for (const char* c = text; *c; ++c) {
        if (*c < '0' || *c > '9' || n > 4096) return 0;
        n = n * 10 + unsigned(*c - '0');
    }
    return n <= 4096 ? n : 0;
}
}  // namespace detail

// The threads the host path uses when a call asks for none in particular, decided once per
// process: $SINTER_NUM_THREADS when set to a count; else, on Linux, the CPUs this process may run
// on (its affinity: taskset, cpusets), as OpenMP counts them; else the hardware's.
inline unsigned host_threads() {
    static const unsigned threads = [] {
        if (const unsigned n = detail::parse_thread_count(std::getenv("SINTER_NUM_THREADS"))) return n;
#if defined(__linux__)
        cpu_set_t cpus;
        if (sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) > 0) return unsigned(CPU_COUNT(&cpus));
#endif
        return std::max(1u, std::thread::hardware_concurrency());
    }();
    return threads;
}

// How many threads `work` multiply-adds over `items` independent items deserve: `requested`
// (0 = host_threads()), at most one per item and one per 2M multiply-adds.
inline unsigned host_workers(unsigned requested, index_t items, double work) {
    const index_t limit = std::min<index_t>({index_t(requested ? requested : host_threads()), items,
                                             index_t(work / double(1 << 21)) + 1});
    return unsigned(std::max<index_t>(limit, 1));
}

// fn(first, last) over [0, count) in `workers` contiguous parts: workers - 1 new threads and this
// one. Where no thread can be started, this one does that part too. An exception from any part is
// rethrown here after every thread has finished.
template <class F>
void host_parallel_for(index_t count, unsigned workers, const F& fn) {
    if (workers <= 1 || count <= 1) return fn(index_t(0), count);
    std::vector<std::exception_ptr> errors(workers);
    const auto part = [&](unsigned w) {
        try {
            fn(count * w / workers, count * (w + 1) / workers);
        } catch (...) {
            errors[w] = std::current_exception();
        }
    };
    std::vector<std::thread> pool;
    for (unsigned w = 1; w < workers; ++w) {
        try {
            pool.emplace_back(part, w);
        } catch (const std::system_error&) {
            part(w);
        }
    }
    part(0);
    for (auto& t : pool) t.join();
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace sinter
