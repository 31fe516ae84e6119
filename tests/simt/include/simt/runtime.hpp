#pragma once
// A SIMT emulator: runs sinter's hand-written CUDA kernels, compiled by the host compiler, on the
// host, so that their index arithmetic, fragment layouts and synchronisation are tested where no
// GPU is lent. Test code only.
//
// A launch runs its blocks one after another. The threads of a block are fibers on the
// calling thread; they switch only where a CUDA thread would wait for others: __syncthreads, the
// warp collectives (shuffles, ldmatrix, mma, WMMA), __syncwarp. So the block's threads interleave
// deterministically, and the checks below are exact:
//   - every __syncthreads of a block, and every collective of a warp, is reached by all of its
//     live threads at the same source line (divergence is an error, not a hang);
//   - a warp collective with a lane that has exited is an error (full-mask collectives only);
//   - a deadlock (every live thread waiting, none released) is reported with where each waits;
//   - shared memory starts as 0xff bytes (NaN in every float type) in each block, so a read of
//     what no one wrote shows in the result; dynamic shared memory past the launch's size, and the
//     address rules of ldmatrix, cp.async and WMMA (alignment, shared-memory operands), are checked.
// Errors are thrown from launch() as simt::error, naming the block, thread and source line.
//
// What it does not model: memory is sequentially consistent, and a warp collective orders the
// lanes' plain loads and stores as a __syncwarp would (on hardware only __syncwarp and
// __syncthreads do), so a missing __syncwarp between lanes' shared-memory accesses that a shuffle
// or a WMMA call happens to separate goes unseen; lanes between two collectives run one after
// another in lane order; __shared__ variables other than the dynamic buffer are not poisoned;
// timing, and the rounding order of tensor-core sums (f32, k in order here).
//
// Use: include the host headers the kernels need, then simt/kernels.hpp-style glue that defines
// __CUDA_ARCH__ around the kernel headers; launch(kernel, grid, block, shared_bytes, args...).
#include <ucontext.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <source_location>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace sinter::simt {

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

struct error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The most dynamic shared memory a block may ask for (sm_90's opt-in limit, 227 KiB).
inline constexpr std::size_t shared_capacity = 227 * 1024;

// When cp.async's 16 bytes land: at the issue (as early as hardware may) or at the wait that
// retires their group (as late as it may). A kernel correct in both modes neither reads a tile
// before its wait nor overwrites one that other warps still read.
enum class CopyTiming { at_issue, at_wait };

// Which waiting thread runs next: the one after the last to run (the warps of a block advance
// together, a collective at a time), or the lowest-numbered (warp 0 runs until it waits for the
// block, then warp 1, ...: as far apart as the barriers allow). With copies landing at the issue,
// the second exposes a buffer overwritten while another warp still reads it.
enum class Schedule { round_robin, lowest_first };

namespace detail {

struct Barrier {
    unsigned arrived = 0, generation = 0;
    std::source_location site;  // where, and at what, the first arrival of this generation waits
    const char* what = "";
};

struct Copy16 {
    void* dst;
    const void* src;
    bool valid;
};

// A fiber's saved context. On x86-64 Linux a switch saves the stack pointer, the six callee-saved
// registers, MXCSR and the x87 control word (sinter_simt_switch, below): a few nanoseconds. Elsewhere
// ucontext, whose swapcontext also saves the signal mask: a system call per switch.
#if defined(__x86_64__) && defined(__linux__)
#define SINTER_SIMT_FAST_SWITCH 1
struct Context {
    void* sp = nullptr;
};
#else
#define SINTER_SIMT_FAST_SWITCH 0
struct Context {
    ucontext_t uc{};
};
#endif

struct Thread {
    Context context;
    dim3 index;
    unsigned linear = 0;
    bool done = false;
    const Barrier* waiting_on = nullptr;  // blocked while waiting_on->generation == waiting_generation
    unsigned waiting_generation = 0;
    std::vector<Copy16> open_group;  // cp.async issued since the last commit
    std::deque<std::vector<Copy16>> committed;
};

inline constexpr std::size_t slot_bytes = 128;
inline constexpr std::size_t stack_bytes = 256 * 1024;  // per thread

struct Warp {
    Barrier barrier;
    unsigned exited = 0;
    // Each lane's input to a collective, then its output; two sets, alternating by barrier
    // generation, so a lane can enter the next collective while others still read this one's.
    alignas(16) std::byte slots[2][32][slot_bytes];
};

struct Launch {
    dim3 grid, block, block_index;
    std::size_t shared_bytes = 0;
    CopyTiming copy_timing = CopyTiming::at_wait;
    Schedule schedule = Schedule::round_robin;
    std::vector<Thread> threads;
    std::vector<Warp> warps;
    Barrier block_barrier;
    unsigned alive = 0;
    std::vector<std::unique_ptr<char[]>> stacks;
    Context scheduler;
    std::function<void()> body;
    std::string failure;
};

// What the emulated shared-memory instructions cost, summed over launches until reset.
struct Counters {
    // 8x8 matrices loaded by ldmatrix, and the shared-memory wavefronts they took: one per matrix
    // when its 8 rows of 16 bytes fall in 32 distinct banks, more with bank conflicts.
    std::uint64_t ldmatrix_matrices = 0, ldmatrix_wavefronts = 0;
};
inline Counters counters;

#if SINTER_SIMT_FAST_SWITCH
// sinter_simt_switch(&from->sp, to->sp): saves this fiber's registers on its stack and its stack
// pointer in *from, then resumes `to` where it switched away (or, the first time, enters its
// function: start_context lays out a frame that this returns into). Weak and in a COMDAT section:
// every test that includes this header defines it, the linker keeps one.
extern "C" void sinter_simt_switch(void** from, void* to);
__asm__(
    ".pushsection .text.sinter_simt_switch,\"axG\",@progbits,sinter_simt_switch,comdat\n"
    ".weak sinter_simt_switch\n"
    ".type sinter_simt_switch,@function\n"
    "sinter_simt_switch:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    subq $8, %rsp\n"
    "    stmxcsr (%rsp)\n"
    "    fnstcw 4(%rsp)\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    ldmxcsr (%rsp)\n"
    "    fldcw 4(%rsp)\n"
    "    addq $8, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".size sinter_simt_switch, .-sinter_simt_switch\n"
    ".popsection\n");
#endif

inline void switch_context(Context& from, Context& to) {
#if SINTER_SIMT_FAST_SWITCH
    sinter_simt_switch(&from.sp, to.sp);
#else
    swapcontext(&from.uc, &to.uc);
#endif
}

// Makes `c` start fn() (which must never return) on [stack, stack + bytes) when first switched to.
inline void start_context(Context& c, char* stack, std::size_t bytes, void (*fn)()) {
#if SINTER_SIMT_FAST_SWITCH
    // From the 16-byte aligned top down: fn's return address (none: 0), where the switch returns
    // to (fn), six zero registers, MXCSR and the x87 control word as they are now. fn is entered
    // with the stack as a call leaves it (8 mod 16).
    auto* slot = reinterpret_cast<std::uint64_t*>(reinterpret_cast<std::uintptr_t>(stack + bytes) & ~std::uintptr_t(15));
    *--slot = 0;
    *--slot = reinterpret_cast<std::uint64_t>(fn);
    for (int r = 0; r < 6; ++r) *--slot = 0;
    std::uint32_t mxcsr = 0;
    std::uint16_t fpu_control = 0;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fpu_control));
    *--slot = 0;
    std::memcpy(slot, &mxcsr, 4);
    std::memcpy(reinterpret_cast<char*>(slot) + 4, &fpu_control, 2);
    c.sp = slot;
#else
    getcontext(&c.uc);
    c.uc.uc_stack.ss_sp = stack;
    c.uc.uc_stack.ss_size = bytes;
    c.uc.uc_link = nullptr;
    makecontext(&c.uc, fn, 0);
#endif
}

inline Launch* launch_state = nullptr;
inline Thread* current = nullptr;
inline CopyTiming default_copy_timing = CopyTiming::at_wait;
inline Schedule default_schedule = Schedule::round_robin;

inline std::string where(const std::source_location& s) {
    std::string f = s.file_name();
    if (const auto slash = f.rfind('/'); slash != std::string::npos) f = f.substr(slash + 1);
    return f + ":" + std::to_string(s.line());
}

inline std::string block_name(const dim3& b) {
    return "block (" + std::to_string(b.x) + ", " + std::to_string(b.y) + ", " + std::to_string(b.z) + ")";
}

inline std::string who() {
    return block_name(launch_state->block_index) + " thread " + std::to_string(current ? current->linear : 0);
}

// Records the first failure and leaves this fiber for good: the scheduler ends the launch.
[[noreturn]] inline void fail(const std::string& what) {
    if (launch_state->failure.empty()) launch_state->failure = who() + ": " + what;
    Thread* self = current;
    self->done = true;
    switch_context(self->context, launch_state->scheduler);
    std::abort();  // never resumed
}

inline void yield() { switch_context(current->context, launch_state->scheduler); }

// Waits until `participants` threads have arrived at `b`; the last to arrive runs `on_release` (the
// whole group's work, done once at the moment they are all there) and goes on without waiting.
template <class OnRelease>
void arrive(Barrier& b, unsigned participants, const std::source_location& site, const char* what,
            OnRelease&& on_release) {
    if (b.arrived == 0) {
        b.site = site;
        b.what = what;
    } else if (b.site.line() != site.line() || std::strcmp(b.site.file_name(), site.file_name()) != 0 ||
               std::strcmp(b.what, what) != 0) {
        fail(std::string(what) + " reached at " + where(site) + " while others wait at " + b.what + ", " +
             where(b.site) + " (divergent)");
    }
    if (++b.arrived >= participants) {
        on_release();
        b.arrived = 0;
        ++b.generation;
        return;
    }
    current->waiting_on = &b;
    current->waiting_generation = b.generation;
    yield();
    current->waiting_on = nullptr;
}

inline void arrive(Barrier& b, unsigned participants, const std::source_location& site, const char* what) {
    arrive(b, participants, site, what, [] {});
}

inline Warp& this_warp() { return launch_state->warps[current->linear / 32]; }
inline unsigned lane_id() { return current->linear % 32; }

// A warp-wide operation: every lane passes `mine`; once all 32 have arrived, the last runs
// all_lanes(inputs, outputs) once for the warp (so its memory accesses happen together, at one
// moment, as the instruction's do), and each lane gets its output.
template <class Out, class In, class AllLanes>
Out warp_collective(const In& mine, AllLanes&& all_lanes, const std::source_location& site, const char* what) {
    static_assert(std::is_trivially_copyable_v<In> && sizeof(In) <= slot_bytes, "warp_collective: small POD inputs");
    static_assert(std::is_trivially_copyable_v<Out> && sizeof(Out) <= slot_bytes, "warp_collective: small POD outputs");
    Warp& w = this_warp();
    if (w.exited != 0) fail(std::string(what) + " at " + where(site) + " in a warp with exited lanes");
    const unsigned set = w.barrier.generation % 2;
    std::memcpy(w.slots[set][lane_id()], &mine, sizeof(In));
    arrive(w.barrier, 32, site, what, [&] {
        In in[32];
        Out out[32];
        for (int l = 0; l < 32; ++l) std::memcpy(&in[l], w.slots[set][l], sizeof(In));
        all_lanes(in, out);
        for (int l = 0; l < 32; ++l) std::memcpy(w.slots[set][l], &out[l], sizeof(Out));
    });
    Out result;
    std::memcpy(&result, w.slots[set][lane_id()], sizeof(Out));
    return result;
}

struct Nothing {};

inline unsigned char* shared_base();

// [p, p + bytes) within the launch's dynamic shared memory.
inline bool in_shared(const void* p, std::size_t bytes) {
    const auto* c = static_cast<const unsigned char*>(p);
    return c >= shared_base() && c + bytes <= shared_base() + launch_state->shared_bytes;
}

inline void copy16(const Copy16& c) {
    if (c.valid) std::memcpy(c.dst, c.src, 16);
    else std::memset(c.dst, 0, 16);
}

inline void thread_exit() {
    Launch& l = *launch_state;
    Thread& t = *current;
    if (!t.open_group.empty() || !t.committed.empty())
        fail("exits with cp.async copies not waited for (" + std::to_string(t.committed.size()) +
             " committed groups, " + std::to_string(t.open_group.size()) + " uncommitted copies)");
    t.done = true;
    Warp& w = this_warp();
    ++w.exited;
    if (w.barrier.arrived != 0) fail("exits while its warp waits at " + where(w.barrier.site));
    --l.alive;
    if (l.block_barrier.arrived != 0 && l.block_barrier.arrived >= l.alive) {  // the rest all wait: release
        l.block_barrier.arrived = 0;
        ++l.block_barrier.generation;
    }
}

inline void entry() {
    std::string thrown;  // an exception cannot unwind past a fiber's first frame: it fails the launch
    try {
        launch_state->body();
    } catch (const std::exception& e) {
        thrown = e.what();
    }
    if (!thrown.empty()) fail("the kernel threw: " + thrown);  // outside the handler: it is finished
    thread_exit();
    switch_context(current->context, launch_state->scheduler);  // for good: the thread is done
    std::abort();
}

}  // namespace detail

// The block's dynamic shared memory (one buffer: blocks run one at a time). Kernels name it by
// `extern __shared__ unsigned char smem[]` in sinter::kernels::detail, which is this array.
}  // namespace sinter::simt

namespace sinter::kernels::detail {
alignas(128) inline unsigned char smem[sinter::simt::shared_capacity + 1024];
}  // namespace sinter::kernels::detail

namespace sinter::simt {

inline unsigned char* detail::shared_base() { return sinter::kernels::detail::smem; }

namespace detail {

// Runs launch.block_index's threads to the end. GCC takes swapcontext for setjmp and warns that
// locals may be clobbered; they are not: the scheduler's registers and frame are saved by the
// switch away and restored as they were by the switch back.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wclobbered"
inline void run_block(Launch& state) {
    const unsigned threads = unsigned(state.stacks.size());
    const dim3 block = state.block;
    std::memset(kernels::detail::smem, 0xff, state.shared_bytes);  // the rest: once per launch
    state.threads.assign(threads, {});
    state.warps.assign(threads / 32, {});
    state.block_barrier = {};
    state.alive = threads;
    for (unsigned i = 0; i < threads; ++i) {
        Thread& t = state.threads[i];
        t.linear = i;
        t.index = {i % block.x, i / block.x % block.y, i / (block.x * block.y)};
        start_context(t.context, state.stacks[i].get(), stack_bytes, entry);
    }
    for (unsigned cursor = 0;;) {
        Thread* next = nullptr;
        bool all_done = true;
        for (unsigned k = 0; k < threads && !next; ++k) {
            Thread& t = state.threads[(cursor + k) % threads];
            if (t.done) continue;
            all_done = false;
            if (!(t.waiting_on && t.waiting_on->generation == t.waiting_generation)) next = &t;
        }
        if (all_done) return;
        if (!next) {
            std::string waits;
            for (const Thread& t : state.threads)
                if (!t.done && waits.size() < 400) waits += " thread " + std::to_string(t.linear) + " at " + where(t.waiting_on->site) + ";";
            throw error("simt::launch: deadlock in " + block_name(state.block_index) + ":" + waits);
        }
        current = next;
        switch_context(state.scheduler, next->context);
        if (!state.failure.empty()) throw error(state.failure);
        cursor = state.schedule == Schedule::round_robin ? (next->linear + 1) % threads : 0;
    }
}
#pragma GCC diagnostic pop

}  // namespace detail

// Runs kernel(args...) over `grid` blocks of `block` threads with `shared_bytes` of dynamic shared
// memory; throws simt::error on the first misuse, divergence or deadlock.
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes, Args&&... args) {
    const unsigned threads = block.x * block.y * block.z;
    if (threads == 0 || threads > 1024 || threads % 32 != 0)
        throw error("simt::launch: " + std::to_string(threads) + " threads per block (a multiple of 32 up to 1024)");
    if (shared_bytes > shared_capacity)
        throw error("simt::launch: " + std::to_string(shared_bytes) + " bytes of shared memory over " +
                    std::to_string(shared_capacity));
    detail::Launch state;
    state.grid = grid;
    state.block = block;
    state.shared_bytes = shared_bytes;
    state.copy_timing = detail::default_copy_timing;
    state.schedule = detail::default_schedule;
    state.body = [&] { kernel(Params(args)...); };
    for (unsigned i = 0; i < threads; ++i) state.stacks.emplace_back(new char[detail::stack_bytes]);
    std::memset(kernels::detail::smem, 0xff, sizeof kernels::detail::smem);
    detail::launch_state = &state;
    struct Reset {
        ~Reset() {
            detail::launch_state = nullptr;
            detail::current = nullptr;
        }
    } reset;
    for (unsigned z = 0; z < grid.z; ++z)
        for (unsigned y = 0; y < grid.y; ++y)
            for (unsigned x = 0; x < grid.x; ++x) {
                state.block_index = {x, y, z};
                detail::run_block(state);
            }
}

// The counters of the launches since the last reset_counters().
inline detail::Counters counters() { return detail::counters; }
inline void reset_counters() { detail::counters = {}; }

// The running block's dynamic shared memory, for kernels written in tests.
inline unsigned char* shared_memory() { return detail::shared_base(); }

// How a block's threads interleave (see Schedule and CopyTiming).
struct Interleaving {
    Schedule schedule;
    CopyTiming timing;
    const char* name;
};

// The two extremes: warps in step with copies landing late (exposes reads before a wait), and
// warps apart with copies landing early (exposes overwrites before a barrier). The first is the
// default.
inline constexpr Interleaving interleavings[] = {
    {Schedule::round_robin, CopyTiming::at_wait, "warps in step, copies land at the wait"},
    {Schedule::lowest_first, CopyTiming::at_issue, "warps apart, copies land at the issue"}};

// While it lives, launches interleave a block's threads as `mode` says; then as before (also when
// a launch throws).
class ScopedInterleaving {
public:
    explicit ScopedInterleaving(const Interleaving& mode)
        : schedule_(detail::default_schedule), timing_(detail::default_copy_timing) {
        detail::default_schedule = mode.schedule;
        detail::default_copy_timing = mode.timing;
    }
    ~ScopedInterleaving() {
        detail::default_schedule = schedule_;
        detail::default_copy_timing = timing_;
    }
    ScopedInterleaving(const ScopedInterleaving&) = delete;
    ScopedInterleaving& operator=(const ScopedInterleaving&) = delete;

private:
    Schedule schedule_;
    CopyTiming timing_;
};

}  // namespace sinter::simt

// ---- the CUDA built-ins the kernels use, for the host compiler ------------------------------------
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif
#define threadIdx (::sinter::simt::detail::current->index)
#define blockIdx (::sinter::simt::detail::launch_state->block_index)
#define blockDim (::sinter::simt::detail::launch_state->block)
#define gridDim (::sinter::simt::detail::launch_state->grid)

inline void __syncthreads(std::source_location site = std::source_location::current()) {
    using namespace sinter::simt::detail;
    arrive(launch_state->block_barrier, launch_state->alive, site, "__syncthreads");
}

inline void __syncwarp(unsigned mask = 0xffffffffu, std::source_location site = std::source_location::current()) {
    using namespace sinter::simt::detail;
    if (mask != 0xffffffffu) fail("__syncwarp with a partial mask (not emulated)");
    warp_collective<Nothing>(Nothing{}, [](const auto&, auto&) {}, site, "__syncwarp");
}

namespace sinter::simt::detail {
// Every lane's `value`; each gets the one of the lane `source_of(its lane)` names.
template <class Source>
float shuffle(unsigned mask, float value, int width, Source source_of, const std::source_location& site, const char* what) {
    if (mask != 0xffffffffu || width != 32) fail(std::string(what) + " with a partial mask or width (not emulated)");
    return warp_collective<float>(value, [&](const float (&in)[32], float (&out)[32]) {
        for (unsigned l = 0; l < 32; ++l) out[l] = in[source_of(l) % 32];
    }, site, what);
}
}  // namespace sinter::simt::detail

inline float __shfl_xor_sync(unsigned mask, float value, int lane_mask, int width = 32,
                             std::source_location site = std::source_location::current()) {
    return sinter::simt::detail::shuffle(mask, value, width, [&](unsigned lane) { return lane ^ unsigned(lane_mask); },
                                         site, "__shfl_xor_sync");
}

inline float __shfl_sync(unsigned mask, float value, int source_lane, int width = 32,
                         std::source_location site = std::source_location::current()) {
    return sinter::simt::detail::shuffle(mask, value, width, [&](unsigned) { return unsigned(source_lane); }, site,
                                         "__shfl_sync");
}

inline float __expf(float x) { return std::exp(x); }

[[noreturn]] inline void __trap() { sinter::simt::detail::fail("__trap()"); }
