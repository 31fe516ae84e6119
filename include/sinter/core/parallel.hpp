#pragma once
// Host parallelism for the host path's heavy loops (GEMM, attention, row expressions): a pool of
// std::threads kept for the process, as many as host_threads() (SINTER_NUM_THREADS, else the CPUs
// the process may run on), the calling thread one of them.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#include <unistd.h>
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

namespace detail {

// The threads host_parallel_for hands parts to: host_threads() - 1 of them, started on first use
// and kept (a std::thread started per call cost ~35 us, a tenth of a small forward's time across
// its ~45 parallel regions). One job at a time: a caller publishes its parts, runs them itself
// with whichever workers wake, and returns when every part has finished. The caller pulls parts
// too, so a job finishes even if no worker ever wakes; a caller that finds a job already running
// (another thread's, or its own: a nested call) runs its parts alone. After a fork() the child
// starts a pool of its own (the parent's threads do not exist there).
class HostPool {
public:
    // A job: parts 0 .. parts-1 of run(part).
    struct Job {
        void (*run)(const void* context, unsigned part);
        const void* context;
        unsigned parts;
        std::atomic<unsigned> next{0}, done{0}, users{0};

        // Runs parts until none is left.
        void work() {
            for (unsigned part; (part = next.fetch_add(1, std::memory_order_relaxed)) < parts;) {
                run(context, part);
                done.fetch_add(1, std::memory_order_release);
            }
        }
    };

    // The process's pool. Never destroyed (its workers wait until the process ends), so that host
    // work in a static destructor still finds it.
    static HostPool& instance() {
        static std::mutex guard;
        static HostPool* pool = nullptr;
        const std::lock_guard lock(guard);
        if (!pool || pool->forked()) pool = new HostPool(host_threads() > 1 ? host_threads() - 1 : 0);
        return *pool;
    }

    explicit HostPool(unsigned threads) {
#if defined(__linux__)
        pid_ = ::getpid();
#endif
        for (unsigned i = 0; i < threads; ++i) {
            try {
                threads_.emplace_back([this] { serve(); });
            } catch (const std::system_error&) {
                break;  // fewer workers: callers run more parts themselves
            }
        }
    }
    HostPool(const HostPool&) = delete;
    HostPool& operator=(const HostPool&) = delete;

    // Whether this process is a fork() of the one that made the pool (whose workers it lacks).
    bool forked() const {
#if defined(__linux__)
        return pid_ != ::getpid();
#else
        return false;
#endif
    }

    // Runs every part of `job` (on this thread and the workers); false if another job holds the
    // pool (nothing was run: the caller runs the parts itself).
    bool run(Job& job) {
        std::unique_lock busy(busy_, std::try_to_lock);
        if (!busy.owns_lock()) return false;
        {
            const std::lock_guard lock(mutex_);
            job_ = &job;
            ++generation_;
        }
        wake_.notify_all();
        job.work();
        while (job.done.load(std::memory_order_acquire) < job.parts) std::this_thread::yield();
        {
            const std::lock_guard lock(mutex_);  // from here on no worker picks the job up
            job_ = nullptr;
        }
        while (job.users.load(std::memory_order_acquire) != 0) std::this_thread::yield();
        return true;
    }

private:
    void serve() {
        std::uint64_t seen = 0;
        for (;;) {
            Job* job;
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, [&] { return job_ && generation_ != seen; });
                seen = generation_;
                job = job_;
                job->users.fetch_add(1, std::memory_order_relaxed);
            }
            job->work();
            job->users.fetch_sub(1, std::memory_order_release);
        }
    }

    std::mutex busy_;   // held by the caller whose job runs
    std::mutex mutex_;  // job_, generation_
    std::condition_variable wake_;
    Job* job_ = nullptr;
    std::uint64_t generation_ = 0;
    std::vector<std::thread> threads_;
#if defined(__linux__)
    pid_t pid_ = 0;
#endif
};

}  // namespace detail

// fn(first, last) over [0, count) in `workers` contiguous parts (part w: [count w / workers,
// count (w + 1) / workers)), on this thread and the process's pool of host threads
// (detail::HostPool); one call fn(0, count) when workers <= 1 or count <= 1. The parts are the
// same whoever runs them, so results do not depend on it.
// An exception from any part is rethrown here after every part has finished.
template <class F>
void host_parallel_for(index_t count, unsigned workers, const F& fn) {
    if (workers <= 1 || count <= 1) return fn(index_t(0), count);
    std::vector<std::exception_ptr> errors(workers);
    struct Context {
        const F* fn;
        index_t count;
        unsigned workers;
        std::exception_ptr* errors;
    } context{&fn, count, workers, errors.data()};
    detail::HostPool::Job job{[](const void* c, unsigned w) {
                                  const auto& x = *static_cast<const Context*>(c);
                                  try {
                                      (*x.fn)(x.count * w / x.workers, x.count * (w + 1) / x.workers);
                                  } catch (...) {
                                      x.errors[w] = std::current_exception();
                                  }
                              },
                              &context, workers};
    if (!detail::HostPool::instance().run(job)) job.work();  // the pool is busy: every part here
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace sinter
