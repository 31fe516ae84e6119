#pragma once
// Host parallelism for the host path's heavy loops (GEMM, attention): plain std::threads, started
// per call (tens of microseconds, against the milliseconds of work that earns them).
#include <algorithm>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

#include "config.hpp"

namespace sinter {

// How many threads `work` multiply-adds over `items` independent items deserve: `requested`
// (0 = the hardware's), at most one per item and one per 2M multiply-adds.
inline unsigned host_workers(unsigned requested, index_t items, double work) {
    const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
    const index_t limit = std::min<index_t>({index_t(requested ? requested : hardware), items,
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
