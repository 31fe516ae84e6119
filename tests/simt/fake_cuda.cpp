// The fake CUDA runtime and cuBLASLt of simt/fake_cuda.hpp: what they model is stated there. The
// C functions are the runtime's and cuBLASLt's own declarations (their headers are included), so
// a signature that drifts from CUDA's does not compile.
#include <simt/fake_cuda.hpp>

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <simt/runtime.hpp>

#include <cxxabi.h>
#include <dlfcn.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace sinter::simt::fake {
namespace {

constexpr int device_count = 2;  // identical ones: enough to see which device work and memory belong to
constexpr int shared_optin = 227 * 1024;
constexpr int shared_default = 48 * 1024;

// Device and pinned memory come from an arena of address space reserved once. Each allocation has
// pages of its own, ends flush against a page that is never accessible (a guard), and its addresses
// are never handed out again: a freed one's pages become inaccessible for good. A live device
// allocation's pages are accessible only while device work runs or the fake copies (DeviceAccess),
// so a kernel that runs past the end of an allocation, work that uses freed memory, and host code
// that dereferences a device pointer all fault; the fault is explained (explain_fault) and then
// handed to the handler that was there before (doctest's, which names the test case).
constexpr std::size_t arena_bytes = std::size_t(1) << 40;

struct Allocation {
    std::byte* begin;
    std::size_t bytes;
    std::byte* pages;  // [pages, pages + span) holds the allocation, flush at its end; a guard page follows
    std::size_t span;
    bool pinned, freed;
    int device;  // current at the allocation (pinned memory: every device's)
};

struct Item {
    Work work;
    std::string what;
};

struct Graph {
    std::vector<Item> items;
};

struct Stream {
    int device = 0;  // current at its creation: kernels go to it only from there
    std::deque<Item> queue;
    bool capturing = false, invalidated = false;
    std::vector<Item> captured;
};

struct Event {
    bool recorded = false, done = false, captured = false;
    unsigned generation = 0;  // of the latest record: an earlier one still queued does not count
    double time_ms = 0;
    Stream* stream = nullptr;
};

struct Runtime {
    std::map<std::uintptr_t, Allocation*> allocations;  // the live ones: begin -> allocation in `made`
    Stream legacy;
    std::set<Stream*> streams;
    cudaError_t pending = cudaSuccess, sticky = cudaSuccess;
    int current_device = 0;  // cudaSetDevice's (one host thread)
    std::map<const void*, int> max_dynamic_shared;
    std::map<const Event*, std::shared_ptr<Event>> events;  // a destroyed one lives while queued work holds it
    std::byte* arena = nullptr;
    std::size_t arena_used = 0;
    std::map<std::uintptr_t, Allocation> made;  // every allocation ever, freed too: first page -> allocation
    int device_access = 0;                   // DeviceAccess scopes open: live device pages accessible
    const std::string* running = nullptr;    // the work item running, for a fault's explanation
    double clock_ms = 0;
    Counters counters;
    EpilogueRefusal refuse_epilogues = EpilogueRefusal::none;  // refuse_fused_epilogues
};

Runtime& rt() {
    static Runtime r;
    return r;
}

Stream& stream_of(cudaStream_t s) {
    if (s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread) return rt().legacy;
    return *reinterpret_cast<Stream*>(s);
}

// The event behind a handle, or null (a destroyed or foreign handle) with the pending error set.
std::shared_ptr<Event> event_of(cudaEvent_t event) {
    const auto it = rt().events.find(reinterpret_cast<const Event*>(event));
    if (it != rt().events.end()) return it->second;
    rt().pending = cudaErrorInvalidResourceHandle;
    return nullptr;
}

bool sticky(cudaError_t e) {
    return e == cudaErrorIllegalAddress || e == cudaErrorLaunchFailure || e == cudaErrorMisalignedAddress;
}

void raise(cudaError_t e, const std::string& what, const std::string& why) {
    std::fprintf(stderr, "fake CUDA: %s: %s (%s)\n", what.c_str(), why.c_str(), cudaGetErrorName(e));
    if (sticky(e)) rt().sticky = e;
    else rt().pending = e;
}

// ---- device memory (see Allocation) ----
std::size_t page_bytes() {
    static const std::size_t page = std::size_t(sysconf(_SC_PAGESIZE));
    return page;
}

void protect(std::byte* pages, std::size_t span, int access) {
    if (mprotect(pages, span, access) != 0) {
        std::perror("fake CUDA: mprotect");
        std::abort();
    }
}

void ensure_fault_handler();

// Makes every live device allocation accessible (or not) to the process.
void expose_device_memory(bool accessible) {
    for (const auto& [begin, a] : rt().allocations)
        if (!a->pinned) protect(a->pages, a->span, accessible ? PROT_READ | PROT_WRITE : PROT_NONE);
}

// While one is alive, device memory is accessible: the scope of device work and of the fake's copies.
class DeviceAccess {
public:
    DeviceAccess() {
        if (rt().device_access++ == 0) {
            ensure_fault_handler();
            expose_device_memory(true);
        }
    }
    ~DeviceAccess() {
        if (--rt().device_access == 0) expose_device_memory(false);
    }
    DeviceAccess(const DeviceAccess&) = delete;
    DeviceAccess& operator=(const DeviceAccess&) = delete;
};

// Where `a` (in the arena) lies: in which allocation, before or past its bytes. An address in the
// guard page between two allocations is told by the nearer of the two.
std::string locate(std::uintptr_t a) {
    const auto& made = rt().made;
    auto next = made.upper_bound(a);
    if (next == made.begin()) return "no allocation there";
    auto it = std::prev(next);
    if (a >= it->first + it->second.span + page_bytes()) return "no allocation there";
    const auto start = [](const Allocation& c) { return reinterpret_cast<std::uintptr_t>(c.begin); };
    if (a >= it->first + it->second.span && next != made.end() &&
        start(next->second) - a < a - (start(it->second) + it->second.bytes))
        it = next;  // a guard page, nearer the next allocation's start
    const Allocation& c = it->second;
    const std::uintptr_t begin = start(c), end = begin + c.bytes;
    char text[200];
    const char* kind = c.freed ? "freed" : c.pinned ? "pinned" : "live";
    const auto bytes = [](std::size_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); };
    if (a < begin)
        std::snprintf(text, sizeof text, "%s before the start of a %s %zu-byte allocation at %p",
                      bytes(begin - a).c_str(), kind, c.bytes, static_cast<const void*>(c.begin));
    else if (a >= end)
        std::snprintf(text, sizeof text, "%s past the end of a %s %zu-byte allocation at %p", bytes(a - end).c_str(),
                      kind, c.bytes, static_cast<const void*>(c.begin));
    else
        std::snprintf(text, sizeof text, "byte %zu of a %s %zu-byte allocation at %p", std::size_t(a - begin), kind,
                      c.bytes, static_cast<const void*>(c.begin));
    return text;
}

// The function holding the faulting instruction, when the executable exports its symbols.
std::string faulting_function(void* context) {
#if defined(__x86_64__) && defined(__linux__)
    const auto* uc = static_cast<const ucontext_t*>(context);
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(uc->uc_mcontext.gregs[REG_RIP]), &info) && info.dli_sname) {
        int status = 0;
        char* name = abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
        std::string result = status == 0 ? name : info.dli_sname;
        std::free(name);
        if (result.size() > 300) result = result.substr(0, 300) + "...";
        return result;
    }
#else
    (void)context;
#endif
    return "a function without an exported name";
}

struct sigaction previous_fault_handler;

// SIGSEGV in the arena: says what touched which memory, then lets the access fault again under the
// handler that was installed before (the last message of a dying test; not async-signal-safe, and
// need not be).
void explain_fault(int, siginfo_t* info, void* context) {
    Runtime& r = rt();
    const auto a = reinterpret_cast<std::uintptr_t>(info->si_addr);
    const auto arena = reinterpret_cast<std::uintptr_t>(r.arena);
    if (info->si_code > 0 && a >= arena && a < arena + arena_bytes) {
        std::string who = "host code (device memory is not addressable from the host: copy it)";
        if (r.device_access > 0) {
            who = r.running ? *r.running : std::string("the fake's own copy");
            if (simt::detail::launch_state) who += ", " + simt::detail::who();
        }
        std::fprintf(stderr, "fake CUDA: illegal address %p, %s, by %s, in %s\n", info->si_addr, locate(a).c_str(),
                     who.c_str(), faulting_function(context).c_str());
    }
    sigaction(SIGSEGV, &previous_fault_handler, nullptr);
}

// Puts explain_fault in front of whatever handles SIGSEGV now. Called at each allocation and each
// opening of device access, since doctest installs its handler afresh for every test case.
void ensure_fault_handler() {
    struct sigaction now {};
    sigaction(SIGSEGV, nullptr, &now);
    if ((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == explain_fault) return;
    struct sigaction action {};
    action.sa_sigaction = explain_fault;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &previous_fault_handler);
}

void run(Item& item) {
    Runtime& r = rt();
    if (r.sticky != cudaSuccess) return;  // a dead context runs nothing
    cudaError_t e = cudaSuccess;
    std::string why = "failed";
    r.running = &item.what;
    try {
        e = item.work();
    } catch (const std::exception& x) {
        e = cudaErrorLaunchFailure;
        why = x.what();
    }
    r.running = nullptr;
    r.clock_ms += 0.001;
    if (e != cudaSuccess) raise(e, item.what, why);
}

// Runs the stream's queued work in order: all of it, or until *until turns true.
void drain(Stream& s, const bool* until = nullptr) {
    if (s.queue.empty() || (until && *until)) return;
    const DeviceAccess access;
    while (!s.queue.empty() && !(until && *until)) {
        Item item = std::move(s.queue.front());
        s.queue.pop_front();
        run(item);
    }
}

void drain_all() {
    drain(rt().legacy);
    for (Stream* s : rt().streams) drain(*s);
}

cudaError_t status() { return rt().sticky; }

// An unsafe call while a capture is in progress on this (the only) thread fails and invalidates
// the capture (the legacy stream cannot capture).
cudaError_t refuse_during_capture(const char* call) {
    bool refused = false;
    for (Stream* s : rt().streams)
        if (s->capturing) refused = s->invalidated = true;
    if (!refused) return cudaSuccess;
    std::fprintf(stderr, "fake CUDA: %s during a stream capture\n", call);
    return cudaErrorStreamCaptureUnsupported;
}

// The allocation [p, p + bytes) lies in, if any.
const Allocation* find(const void* p, std::size_t bytes) {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    auto it = rt().allocations.upper_bound(a);
    if (it == rt().allocations.begin()) return nullptr;
    --it;
    if (a + bytes > it->first + it->second->bytes) return nullptr;
    return it->second;
}

bool on_device(const void* p, std::size_t bytes) {
    const Allocation* a = find(p, bytes);
    return a && !a->pinned;
}

bool pinned(const void* p, std::size_t bytes) {
    const Allocation* a = find(p, bytes);
    return a && a->pinned;
}

// `granule`: the alignment of the block (its start is the end of its pages less its size rounded
// up to the granule).
void* allocate(std::size_t bytes, bool pinned_memory, std::size_t granule = 256) {
    Runtime& r = rt();
    if (!r.arena) {  // address space only, no memory
        void* base = mmap(nullptr, arena_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED) return nullptr;
        r.arena = static_cast<std::byte*>(base);
    }
    ensure_fault_handler();
    const std::size_t page = page_bytes();
    const std::size_t rounded = (std::max<std::size_t>(bytes, 1) + granule - 1) / granule * granule;
    const std::size_t span = (rounded + page - 1) / page * page;
    if (r.arena_used + page + span > arena_bytes) return nullptr;
    std::byte* pages = r.arena + r.arena_used + page;  // after a guard page (the arena starts with one)
    r.arena_used += page + span;
    protect(pages, span, PROT_READ | PROT_WRITE);
    std::memset(pages, 0xff, span);
    if (!pinned_memory && r.device_access == 0) protect(pages, span, PROT_NONE);
    std::byte* p = pages + span - rounded;
    Allocation& a = r.made[reinterpret_cast<std::uintptr_t>(pages)] = {p, bytes, pages, span, pinned_memory, false,
                                                                       r.current_device};
    r.allocations[reinterpret_cast<std::uintptr_t>(p)] = &a;
    return p;
}

// A freed block leaves the registry (work that still uses it faults: cudaFree does not promise to
// wait for it); its pages become inaccessible, their memory is returned, and its addresses are not
// handed out again.
cudaError_t release(void* p, bool pinned_memory) {
    if (!p) return cudaSuccess;
    Runtime& r = rt();
    const auto it = r.allocations.find(reinterpret_cast<std::uintptr_t>(p));
    if (it == r.allocations.end() || it->second->pinned != pinned_memory) return cudaErrorInvalidValue;
    Allocation& a = *it->second;
    r.allocations.erase(it);
    protect(a.pages, a.span, PROT_NONE);
    madvise(a.pages, a.span, MADV_DONTNEED);
    a.freed = true;
    return cudaSuccess;
}

// Whether a copy's sides are where `kind` says (pinned memory counts as host memory).
cudaError_t check_copy(void* dst, const void* src, std::size_t n, cudaMemcpyKind kind) {
    if (kind == cudaMemcpyDefault) return cudaSuccess;
    const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if (dst_device != on_device(dst, n) || src_device != on_device(src, n)) {
        std::fprintf(stderr, "fake CUDA: a %zu-byte copy whose sides are not where its kind (%d) says\n", n, int(kind));
        return cudaErrorInvalidValue;
    }
    return cudaSuccess;
}

}  // namespace

cudaError_t enqueue(cudaStream_t stream, Work work, std::string what) {
    if (status()) return status();
    Stream& s = stream_of(stream);
    if (s.capturing && s.invalidated) return cudaErrorStreamCaptureInvalidated;
    if (s.capturing) s.captured.push_back({std::move(work), std::move(what)});
    else s.queue.push_back({std::move(work), std::move(what)});
    return cudaSuccess;
}

cudaError_t check_launch(const void* kernel, ::dim3 grid, ::dim3 block, std::size_t shared_bytes) {
    if (status()) return status();
    const unsigned long threads = std::size_t(block.x) * block.y * block.z;
    if (threads == 0 || threads > 1024 || block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
        grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535)
        return cudaErrorInvalidConfiguration;
    if (shared_bytes > std::size_t(shared_default)) {
        const auto it = rt().max_dynamic_shared.find(kernel);
        if (it == rt().max_dynamic_shared.end() || shared_bytes > std::size_t(it->second)) return cudaErrorInvalidValue;
    }
    ++rt().counters.launches;
    return cudaSuccess;
}

void fail_launch(cudaStream_t stream, cudaError_t error) {
    Stream& s = stream_of(stream);
    if (s.capturing) s.invalidated = true;
    raise(error, "kernel launch", "refused");
}

bool device_accessible(const void* p, std::size_t bytes) { return find(p, bytes) != nullptr; }

int memory_device(const void* p) {
    const Allocation* a = find(p, 1);
    return a && !a->pinned ? a->device : -1;
}

int current_device() { return rt().current_device; }

cudaError_t check_launch_stream(cudaStream_t stream) {
    if (status()) return status();
    const Stream& s = stream_of(stream);  // the legacy stream is the current device's
    return &s == &rt().legacy || s.device == rt().current_device ? cudaSuccess : cudaErrorInvalidResourceHandle;
}

Counters counters() { return rt().counters; }

void refuse_fused_epilogues(EpilogueRefusal how) { rt().refuse_epilogues = how; }

}  // namespace sinter::simt::fake

using namespace sinter::simt::fake;

// ---- the CUDA runtime ------------------------------------------------------------------------------
extern "C" {

cudaError_t cudaGetDeviceCount(int* count) {
    *count = device_count;
    return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
    *device = rt().current_device;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
    if (device < 0 || device >= device_count) return rt().pending = cudaErrorInvalidDevice;
    rt().current_device = device;
    return cudaSuccess;
}

cudaError_t cudaPointerGetAttributes(struct cudaPointerAttributes* attributes, const void* p) {
    *attributes = cudaPointerAttributes{};
    const Allocation* a = find(p, 1);
    attributes->type = !a ? cudaMemoryTypeUnregistered : a->pinned ? cudaMemoryTypeHost : cudaMemoryTypeDevice;
    attributes->device = a && !a->pinned ? a->device : rt().current_device;
    attributes->devicePointer = a ? const_cast<void*>(p) : nullptr;
    attributes->hostPointer = a && a->pinned ? const_cast<void*>(p) : nullptr;
    return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, enum cudaDeviceAttr attr, int device) {
    if (device < 0 || device >= device_count) return rt().pending = cudaErrorInvalidDevice;
    switch (attr) {
        case cudaDevAttrComputeCapabilityMajor: *value = 9; break;
        case cudaDevAttrComputeCapabilityMinor: *value = 0; break;
        case cudaDevAttrMultiProcessorCount: *value = 132; break;
        case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = shared_optin; break;
        case cudaDevAttrMaxSharedMemoryPerBlock: *value = shared_default; break;
        case cudaDevAttrL2CacheSize: *value = 60 << 20; break;
        default: return cudaErrorInvalidValue;  // not modelled: a test that needs it says so
    }
    return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp* prop, int device) {
    if (device < 0 || device >= device_count) return rt().pending = cudaErrorInvalidDevice;
    *prop = cudaDeviceProp{};
    std::snprintf(prop->name, sizeof prop->name, "sinter SIMT emulator (fake sm_90)");
    prop->major = 9;
    prop->minor = 0;
    prop->multiProcessorCount = 132;
    prop->totalGlobalMem = std::size_t(141) << 30;
    prop->l2CacheSize = 60 << 20;
    prop->sharedMemPerBlockOptin = shared_optin;
    prop->sharedMemPerBlock = shared_default;
    prop->warpSize = 32;
    prop->maxThreadsPerBlock = 1024;
    return cudaSuccess;
}

cudaError_t cudaFuncGetAttributes(struct cudaFuncAttributes* attr, const void* func) {
    *attr = cudaFuncAttributes{};
    attr->ptxVersion = 90;
    attr->binaryVersion = 90;
    attr->maxThreadsPerBlock = 1024;
    const auto it = rt().max_dynamic_shared.find(func);
    attr->maxDynamicSharedSizeBytes = it == rt().max_dynamic_shared.end() ? shared_default : it->second;
    return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* func, enum cudaFuncAttribute attr, int value) {
    if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
        if (value < 0 || value > shared_optin) return rt().pending = cudaErrorInvalidValue;
        rt().max_dynamic_shared[func] = value;
    }
    return cudaSuccess;
}

cudaError_t cudaGetLastError(void) {
    Runtime& r = rt();
    if (r.sticky != cudaSuccess) return r.sticky;
    const cudaError_t e = r.pending;
    r.pending = cudaSuccess;
    return e;
}

cudaError_t cudaPeekAtLastError(void) { return rt().sticky != cudaSuccess ? rt().sticky : rt().pending; }

const char* cudaGetErrorName(cudaError_t error) {
    switch (error) {
        case cudaSuccess: return "cudaSuccess";
        case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
        case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
        case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
        case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
        case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
        case cudaErrorNotReady: return "cudaErrorNotReady";
        case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
        case cudaErrorMisalignedAddress: return "cudaErrorMisalignedAddress";
        case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
        case cudaErrorIllegalState: return "cudaErrorIllegalState";
        case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
        case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
        case cudaErrorCapturedEvent: return "cudaErrorCapturedEvent";
        case cudaErrorNoDevice: return "cudaErrorNoDevice";
        default: return "cudaError(fake: unnamed)";
    }
}

const char* cudaGetErrorString(cudaError_t error) { return cudaGetErrorName(error); }

cudaError_t cudaMalloc(void** p, size_t bytes) {
    *p = nullptr;
    ++rt().counters.mallocs;
    if (const cudaError_t e = refuse_during_capture("cudaMalloc")) return rt().pending = e;
    if (status()) return status();
    *p = allocate(bytes, false);
    return *p ? cudaSuccess : (rt().pending = cudaErrorMemoryAllocation);
}

cudaError_t cudaFree(void* p) {
    ++rt().counters.frees;
    if (const cudaError_t e = refuse_during_capture("cudaFree")) return rt().pending = e;
    if (status()) return status();
    if (release(p, false) != cudaSuccess) return rt().pending = cudaErrorInvalidValue;
    return status();
}

cudaError_t cudaMallocHost(void** p, size_t bytes) {
    *p = nullptr;
    if (const cudaError_t e = refuse_during_capture("cudaMallocHost")) return rt().pending = e;
    if (status()) return status();
    *p = allocate(bytes, true);
    return *p ? cudaSuccess : (rt().pending = cudaErrorMemoryAllocation);
}

cudaError_t cudaHostAlloc(void** p, size_t bytes, unsigned int) { return cudaMallocHost(p, bytes); }

cudaError_t cudaFreeHost(void* p) {
    if (const cudaError_t e = refuse_during_capture("cudaFreeHost")) return rt().pending = e;
    if (status()) return status();
    if (release(p, true) != cudaSuccess) return rt().pending = cudaErrorInvalidValue;
    return status();
}

// Stream-ordered allocation: the block exists from the call (a captured one until its graph goes,
// which this fake does not track: it is kept); the free is ordered on the stream.
cudaError_t cudaMallocAsync(void** p, size_t bytes, cudaStream_t stream) {
    *p = nullptr;
    if (status()) return status();
    if (stream_of(stream).capturing && stream_of(stream).invalidated) return cudaErrorStreamCaptureInvalidated;
    // cudaMalloc promises 256-byte alignment; the stream-ordered allocator's documentation
    // promises none: 16 bytes here (what a kernel's 16-byte loads need) where the size allows no more.
    *p = allocate(bytes, false, 16);
    return *p ? cudaSuccess : (rt().pending = cudaErrorMemoryAllocation);
}

cudaError_t cudaFreeAsync(void* p, cudaStream_t stream) {
    if (status()) return status();
    if (!on_device(p, 1)) return rt().pending = cudaErrorInvalidValue;
    if (stream_of(stream).capturing) return cudaSuccess;  // kept: the graph may replay
    return enqueue(stream, [p] { return release(p, false); }, "cudaFreeAsync");
}

// As the runtime's "API synchronization behavior" states: from pageable host memory to the device
// the call may return once the source is staged, before the copy lands; device to device it does
// not wait at all (both queued on the legacy stream here); otherwise it returns once the copy is
// done. It orders itself after the legacy stream's earlier work only (sinter's streams do not block).
cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, enum cudaMemcpyKind kind) {
    if (const cudaError_t e = refuse_during_capture("cudaMemcpy")) return rt().pending = e;
    if (const cudaError_t e = check_copy(dst, src, n, kind)) return rt().pending = e;
    if (status()) return status();
    if (n == 0) return cudaSuccess;
    const bool src_device = on_device(src, n), dst_device = on_device(dst, n);
    if (dst_device && (src_device || !pinned(src, n))) return cudaMemcpyAsync(dst, src, n, kind, nullptr);
    drain(rt().legacy);
    if (status()) return status();
    const DeviceAccess access;
    std::memmove(dst, src, n);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, enum cudaMemcpyKind kind, cudaStream_t stream) {
    if (status()) return status();
    if (const cudaError_t e = check_copy(dst, src, n, kind)) return rt().pending = e;
    if (n == 0) return cudaSuccess;
    const bool from_pageable = !on_device(src, n) && !pinned(src, n);
    const bool to_pageable = !on_device(dst, n) && !pinned(dst, n);
    Stream& s = stream_of(stream);
    if ((from_pageable || to_pageable) && s.capturing) {
        s.invalidated = true;
        std::fprintf(stderr, "fake CUDA: cudaMemcpyAsync with pageable host memory during a stream capture\n");
        return rt().pending = cudaErrorStreamCaptureUnsupported;
    }
    if (to_pageable) {  // returns once the copy is done
        drain(s);
        if (status()) return status();
        const DeviceAccess access;
        std::memmove(dst, src, n);
        return cudaSuccess;
    }
    if (from_pageable) {  // staged at the call
        auto staged = std::make_shared<std::vector<unsigned char>>(static_cast<const unsigned char*>(src),
                                                                   static_cast<const unsigned char*>(src) + n);
        return enqueue(stream, [dst, staged] {
            std::memcpy(dst, staged->data(), staged->size());
            return cudaSuccess;
        }, "cudaMemcpyAsync");
    }
    return enqueue(stream, [dst, src, n] {
        std::memmove(dst, src, n);
        return cudaSuccess;
    }, "cudaMemcpyAsync");
}

cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t stream) {
    if (status()) return status();
    if (n && !on_device(p, n)) return rt().pending = cudaErrorInvalidValue;
    return enqueue(stream, [p, value, n] {
        std::memset(p, value, n);
        return cudaSuccess;
    }, "cudaMemsetAsync");
}

cudaError_t cudaMemset(void* p, int value, size_t n) {
    if (const cudaError_t e = refuse_during_capture("cudaMemset")) return rt().pending = e;
    return cudaMemsetAsync(p, value, n, nullptr);
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int) {
    if (status()) return status();
    auto* s = new Stream;
    s->device = rt().current_device;
    rt().streams.insert(s);
    *stream = reinterpret_cast<cudaStream_t>(s);
    return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, 0); }

// The stream's remaining work still runs (CUDA frees it once done).
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
    if (!stream) return cudaErrorInvalidResourceHandle;
    Stream* s = &stream_of(stream);
    if (!rt().streams.count(s)) return cudaErrorInvalidResourceHandle;
    drain(*s);
    rt().streams.erase(s);
    delete s;
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
    if (const cudaError_t e = refuse_during_capture("cudaStreamSynchronize")) return rt().pending = e;
    drain(stream_of(stream));
    return status();
}

cudaError_t cudaDeviceSynchronize(void) {
    if (const cudaError_t e = refuse_during_capture("cudaDeviceSynchronize")) return rt().pending = e;
    drain_all();
    return status();
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, enum cudaStreamCaptureMode) {
    Stream& s = stream_of(stream);
    if (&s == &rt().legacy) return rt().pending = cudaErrorStreamCaptureUnsupported;
    if (s.capturing) return rt().pending = cudaErrorIllegalState;
    s.capturing = true;
    s.invalidated = false;
    s.captured.clear();
    return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
    Stream& s = stream_of(stream);
    *graph = nullptr;
    if (!s.capturing) return rt().pending = cudaErrorIllegalState;
    s.capturing = false;
    if (s.invalidated) {
        s.captured.clear();
        return rt().pending = cudaErrorStreamCaptureInvalidated;
    }
    auto* g = new Graph{std::move(s.captured)};
    s.captured.clear();
    *graph = reinterpret_cast<cudaGraph_t>(g);
    return cudaSuccess;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t stream, enum cudaStreamCaptureStatus* capture) {
    const Stream& s = stream_of(stream);
    *capture = !s.capturing ? cudaStreamCaptureStatusNone
                            : s.invalidated ? cudaStreamCaptureStatusInvalidated : cudaStreamCaptureStatusActive;
    return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
    if (!graph) return rt().pending = cudaErrorInvalidValue;
    *exec = reinterpret_cast<cudaGraphExec_t>(new Graph(*reinterpret_cast<Graph*>(graph)));
    return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
    if (!exec) return rt().pending = cudaErrorInvalidValue;
    ++rt().counters.graph_launches;
    for (const Item& item : reinterpret_cast<Graph*>(exec)->items) enqueue(stream, item.work, item.what + " (graph)");
    return status();
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
    delete reinterpret_cast<Graph*>(graph);
    return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
    delete reinterpret_cast<Graph*>(exec);
    return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
    auto e = std::make_shared<Event>();
    rt().events[e.get()] = e;
    *event = reinterpret_cast<cudaEvent_t>(e.get());
    return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
    return rt().events.erase(reinterpret_cast<const Event*>(event)) ? cudaSuccess : cudaErrorInvalidResourceHandle;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
    if (status()) return status();
    const std::shared_ptr<Event> e = event_of(event);
    if (!e) return cudaErrorInvalidResourceHandle;
    Stream& s = stream_of(stream);
    e->recorded = true;
    e->done = false;
    e->captured = s.capturing;
    e->stream = &s;
    const unsigned generation = ++e->generation;
    return enqueue(stream, [e, generation] {
        if (e->generation == generation) {
            e->done = true;
            e->time_ms = rt().clock_ms;
        }
        return cudaSuccess;
    }, "cudaEventRecord");
}

// Runs the event's stream until its latest record has run.
cudaError_t cudaEventSynchronize(cudaEvent_t event) {
    if (const cudaError_t e = refuse_during_capture("cudaEventSynchronize")) return rt().pending = e;
    const std::shared_ptr<Event> event_ptr = event_of(event);
    if (!event_ptr) return cudaErrorInvalidResourceHandle;
    Event& e = *event_ptr;
    if (e.captured) return rt().pending = cudaErrorCapturedEvent;
    if (!e.recorded) return cudaSuccess;
    if (e.stream == &rt().legacy || rt().streams.count(e.stream)) drain(*e.stream, &e.done);
    return status();
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
    if (status()) return status();
    const std::shared_ptr<Event> a = event_of(start), b = event_of(end);
    if (!a || !b) return cudaErrorInvalidResourceHandle;
    if (!a->recorded || !b->recorded) return rt().pending = cudaErrorInvalidResourceHandle;
    if (!a->done || !b->done) return rt().pending = cudaErrorNotReady;
    *ms = float(b->time_ms - a->time_ms);
    return cudaSuccess;
}

}  // extern "C"

// ---- cuBLASLt ------------------------------------------------------------------------------------
namespace {

struct MatmulDesc {
    cublasComputeType_t compute;
    cudaDataType_t scale;
    cublasOperation_t transa = CUBLAS_OP_N, transb = CUBLAS_OP_N;
    cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
    const void* bias = nullptr;
    std::int32_t bias_type = -1;
};

struct Layout {
    cudaDataType_t type;
    std::uint64_t rows, cols;
    std::int64_t ld;
    bool operator==(const Layout&) const = default;
};

struct Preference {
    std::uint64_t max_workspace = 0;
    std::uint32_t alignment[4] = {256, 256, 256, 256};  // A, B, C, D
};

// An algorithm of the fake heuristic: data[0] its rank, [1..4] the operand alignments it assumes,
// [5] the workspace it needs, [6] the bias alignment it assumes.
constexpr int fake_algorithms = 4;

float load(cudaDataType_t type, const void* base, std::size_t i) {
    switch (type) {
        case CUDA_R_32F: return static_cast<const float*>(base)[i];
        case CUDA_R_16F: return __half2float(static_cast<const __half*>(base)[i]);
        default: return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[i]);
    }
}

void store(cudaDataType_t type, void* base, std::size_t i, float v) {
    switch (type) {
        case CUDA_R_32F: static_cast<float*>(base)[i] = v; break;
        case CUDA_R_16F: static_cast<__half*>(base)[i] = __float2half_rn(v); break;
        default: static_cast<__nv_bfloat16*>(base)[i] = __float2bfloat16_rn(v); break;
    }
}

std::size_t element_bytes(cudaDataType_t type) { return type == CUDA_R_32F ? 4 : 2; }

bool supported_type(cudaDataType_t type) { return type == CUDA_R_32F || type == CUDA_R_16F || type == CUDA_R_16BF; }

bool has_bias(cublasLtEpilogue_t e) {
    return e == CUBLASLT_EPILOGUE_BIAS || e == CUBLASLT_EPILOGUE_RELU_BIAS || e == CUBLASLT_EPILOGUE_GELU_BIAS;
}

// Sets a descriptor's attribute from (buf, bytes), as the SetAttribute calls do.
template <class Field>
cublasStatus_t set_attribute(Field& field, const void* buf, std::size_t bytes) {
    if (!buf || bytes != sizeof field) return CUBLAS_STATUS_INVALID_VALUE;
    std::memcpy(&field, buf, bytes);
    return CUBLAS_STATUS_SUCCESS;
}

// The problem (m, n, k) of D = op(A) op(B), or why the layouts do not make one.
cublasStatus_t problem(const MatmulDesc& d, const Layout& a, const Layout& b, const Layout& c, const Layout& dl,
                       std::uint64_t& m, std::uint64_t& n, std::uint64_t& k) {
    if (d.compute != CUBLAS_COMPUTE_32F || d.scale != CUDA_R_32F) return CUBLAS_STATUS_NOT_SUPPORTED;
    if (!supported_type(a.type) || a.type != b.type || a.type != c.type || a.type != dl.type)
        return CUBLAS_STATUS_NOT_SUPPORTED;
    m = dl.rows;
    n = dl.cols;
    const std::uint64_t am = d.transa == CUBLAS_OP_N ? a.rows : a.cols, ak = d.transa == CUBLAS_OP_N ? a.cols : a.rows;
    const std::uint64_t bk = d.transb == CUBLAS_OP_N ? b.rows : b.cols, bn = d.transb == CUBLAS_OP_N ? b.cols : b.rows;
    k = ak;
    if (am != m || bn != n || bk != k || c.rows != m || c.cols != n) return CUBLAS_STATUS_INVALID_VALUE;
    if (has_bias(d.epilogue) && d.bias_type != -1 && d.bias_type != std::int32_t(dl.type)) return CUBLAS_STATUS_NOT_SUPPORTED;
    switch (d.epilogue) {
        case CUBLASLT_EPILOGUE_DEFAULT:
        case CUBLASLT_EPILOGUE_BIAS:
        case CUBLASLT_EPILOGUE_RELU:
        case CUBLASLT_EPILOGUE_RELU_BIAS:
        case CUBLASLT_EPILOGUE_GELU:
        case CUBLASLT_EPILOGUE_GELU_BIAS: return CUBLAS_STATUS_SUCCESS;
        default: return CUBLAS_STATUS_NOT_SUPPORTED;
    }
}

std::uint32_t alignment_of(const void* p) {
    const auto bits = reinterpret_cast<std::uintptr_t>(p) | 256;
    return std::uint32_t(bits & (~bits + 1));
}

}  // namespace

extern "C" {

cublasStatus_t cublasLtCreate(cublasLtHandle_t* handle) {
    *handle = reinterpret_cast<cublasLtHandle_t>(new int(0));
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtDestroy(cublasLtHandle_t handle) {
    delete reinterpret_cast<int*>(handle);
    return CUBLAS_STATUS_SUCCESS;
}

const char* cublasLtGetStatusName(cublasStatus_t status) {
    switch (status) {
        case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
        case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
        case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
        default: return "CUBLAS_STATUS_(fake: unnamed)";
    }
}

const char* cublasLtGetStatusString(cublasStatus_t status) { return cublasLtGetStatusName(status); }

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* desc, cublasComputeType_t compute, cudaDataType_t scale) {
    *desc = reinterpret_cast<cublasLtMatmulDesc_t>(new MatmulDesc{compute, scale});
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t desc) {
    delete reinterpret_cast<MatmulDesc*>(desc);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr,
                                              const void* buf, size_t bytes) {
    auto& d = *reinterpret_cast<MatmulDesc*>(desc);
    switch (attr) {
        case CUBLASLT_MATMUL_DESC_TRANSA: return set_attribute(d.transa, buf, bytes);
        case CUBLASLT_MATMUL_DESC_TRANSB: return set_attribute(d.transb, buf, bytes);
        case CUBLASLT_MATMUL_DESC_EPILOGUE: return set_attribute(d.epilogue, buf, bytes);
        case CUBLASLT_MATMUL_DESC_BIAS_POINTER: return set_attribute(d.bias, buf, bytes);
        case CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE: return set_attribute(d.bias_type, buf, bytes);
        default: return CUBLAS_STATUS_NOT_SUPPORTED;  // not modelled
    }
}

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* layout, cudaDataType type, uint64_t rows,
                                          uint64_t cols, int64_t ld) {
    *layout = nullptr;
    if (ld < std::int64_t(std::max<std::uint64_t>(rows, 1))) return CUBLAS_STATUS_INVALID_VALUE;  // column-major
    *layout = reinterpret_cast<cublasLtMatrixLayout_t>(new Layout{type, rows, cols, ld});
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t layout) {
    delete reinterpret_cast<Layout*>(layout);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* pref) {
    *pref = reinterpret_cast<cublasLtMatmulPreference_t>(new Preference);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t pref) {
    delete reinterpret_cast<Preference*>(pref);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t pref,
                                                    cublasLtMatmulPreferenceAttributes_t attr, const void* buf,
                                                    size_t bytes) {
    auto& p = *reinterpret_cast<Preference*>(pref);
    switch (attr) {
        case CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES: return set_attribute(p.max_workspace, buf, bytes);
        case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES: return set_attribute(p.alignment[0], buf, bytes);
        case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES: return set_attribute(p.alignment[1], buf, bytes);
        case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES: return set_attribute(p.alignment[2], buf, bytes);
        case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES: return set_attribute(p.alignment[3], buf, bytes);
        default: return CUBLAS_STATUS_NOT_SUPPORTED;
    }
}

cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t, cublasLtMatmulDesc_t desc, cublasLtMatrixLayout_t a,
                                              cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t c,
                                              cublasLtMatrixLayout_t d, cublasLtMatmulPreference_t pref,
                                              int requested, cublasLtMatmulHeuristicResult_t results[],
                                              int* returned) {
    *returned = 0;
    if (requested <= 0) return CUBLAS_STATUS_INVALID_VALUE;
    std::uint64_t m, n, k;
    const auto& dd = *reinterpret_cast<const MatmulDesc*>(desc);
    const auto& al = *reinterpret_cast<const Layout*>(a);
    const auto& bl = *reinterpret_cast<const Layout*>(b);
    const auto& cl = *reinterpret_cast<const Layout*>(c);
    const auto& dl = *reinterpret_cast<const Layout*>(d);
    if (const cublasStatus_t s = problem(dd, al, bl, cl, dl, m, n, k)) return s;
    const auto& p = *reinterpret_cast<const Preference*>(pref);
    if (dd.epilogue != CUBLASLT_EPILOGUE_DEFAULT) {
        if (rt().refuse_epilogues == EpilogueRefusal::heuristic_not_supported) return CUBLAS_STATUS_NOT_SUPPORTED;
        if (rt().refuse_epilogues == EpilogueRefusal::heuristic_invalid_value) return CUBLAS_STATUS_INVALID_VALUE;
        if (rt().refuse_epilogues == EpilogueRefusal::heuristic_internal_error) return CUBLAS_STATUS_INTERNAL_ERROR;
    }
    const std::size_t e = element_bytes(al.type);
    for (std::uint32_t x : p.alignment)
        if (x < e) return CUBLAS_STATUS_NOT_SUPPORTED;  // under the element size: nothing fits
    for (int i = 0; i < fake_algorithms && *returned < requested; ++i) {
        const std::uint64_t workspace = std::uint64_t(i) << 20;
        if (workspace > p.max_workspace) continue;
        cublasLtMatmulHeuristicResult_t& r = results[*returned];
        r = {};
        r.algo.data[0] = std::uint64_t(i);
        for (int j = 0; j < 4; ++j) r.algo.data[1 + j] = p.alignment[j];
        r.algo.data[5] = workspace;
        // The bias's alignment as the descriptor's pointer shows it (a null pointer: 256 bytes).
        r.algo.data[6] = dd.bias ? alignment_of(dd.bias) : 256;
        r.workspaceSize = workspace;
        r.state = CUBLAS_STATUS_SUCCESS;
        r.wavesCount = 1.f;
        ++*returned;
    }
    return *returned ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_SUPPORTED;
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t, cublasLtMatmulDesc_t desc, const void* alpha, const void* A,
                              cublasLtMatrixLayout_t adesc, const void* B, cublasLtMatrixLayout_t bdesc,
                              const void* beta, const void* C, cublasLtMatrixLayout_t cdesc, void* D,
                              cublasLtMatrixLayout_t ddesc, const cublasLtMatmulAlgo_t* algo, void* workspace,
                              size_t workspace_bytes, cudaStream_t stream) {
    const MatmulDesc d = *reinterpret_cast<const MatmulDesc*>(desc);  // as at the call
    const Layout al = *reinterpret_cast<const Layout*>(adesc), bl = *reinterpret_cast<const Layout*>(bdesc),
                 cl = *reinterpret_cast<const Layout*>(cdesc), dl = *reinterpret_cast<const Layout*>(ddesc);
    std::uint64_t m, n, k;
    if (const cublasStatus_t s = problem(d, al, bl, cl, dl, m, n, k)) return s;
    if (!algo || algo->data[0] >= std::uint64_t(fake_algorithms)) return CUBLAS_STATUS_INVALID_VALUE;
    if (d.epilogue != CUBLASLT_EPILOGUE_DEFAULT && rt().refuse_epilogues == EpilogueRefusal::at_matmul)
        return CUBLAS_STATUS_NOT_SUPPORTED;
    if (d.epilogue != CUBLASLT_EPILOGUE_DEFAULT && rt().refuse_epilogues == EpilogueRefusal::matmul_execution_failed)
        return CUBLAS_STATUS_EXECUTION_FAILED;
    if (algo->data[5] > workspace_bytes) return CUBLAS_STATUS_INVALID_VALUE;
    if (C == D && !(cl == dl)) return CUBLAS_STATUS_INVALID_VALUE;  // in place needs Cdesc == Ddesc
    const float a_scale = *static_cast<const float*>(alpha), b_scale = *static_cast<const float*>(beta);
    const int rank = int(algo->data[0]);
    const std::uint64_t workspace_needed = algo->data[5];
    const std::uint32_t bias_assumed = std::max<std::uint32_t>(std::uint32_t(algo->data[6]), 16);
    if (workspace_bytes && alignment_of(workspace) < 256) return CUBLAS_STATUS_INVALID_VALUE;
    if (status()) return CUBLAS_STATUS_EXECUTION_FAILED;
    std::uint32_t assumed[4];
    for (int j = 0; j < 4; ++j) assumed[j] = std::uint32_t(algo->data[1 + j]);
    ++rt().counters.matmuls;
    auto work = [=]() -> cudaError_t {
        const std::size_t e = element_bytes(dl.type);
        const auto extent = [](const Layout& l) { return (l.cols - 1) * std::uint64_t(l.ld) + l.rows; };
        const bool bias = has_bias(d.epilogue);
        if (!on_device(A, extent(al) * e) || !on_device(B, extent(bl) * e) || !on_device(D, extent(dl) * e) ||
            (b_scale != 0.f && !on_device(C, extent(cl) * e)) || (bias && !on_device(d.bias, m * e)) ||
            (workspace_needed && !on_device(workspace, workspace_needed))) {
            std::fprintf(stderr, "fake cuBLASLt: an operand outside device memory\n");
            return cudaErrorIllegalAddress;
        }
        if (alignment_of(A) < assumed[0] || alignment_of(B) < assumed[1] || alignment_of(C) < assumed[2] ||
            alignment_of(D) < assumed[3] || (bias && alignment_of(d.bias) < bias_assumed)) {
            std::fprintf(stderr, "fake cuBLASLt: operands less aligned than the algorithm assumes\n");
            return cudaErrorMisalignedAddress;
        }
        const auto at = [](const Layout& l, std::uint64_t r, std::uint64_t c) { return c * std::uint64_t(l.ld) + r; };
        // op(A) as rows of k and op(B) as columns of k, in f32: each output a contiguous dot product.
        std::vector<float> a_rows(m * k), b_cols(n * k), out(m * n);
        for (std::uint64_t i = 0; i < m; ++i)
            for (std::uint64_t kk = 0; kk < k; ++kk)
                a_rows[i * k + kk] = load(al.type, A, d.transa == CUBLAS_OP_N ? at(al, i, kk) : at(al, kk, i));
        for (std::uint64_t j = 0; j < n; ++j)
            for (std::uint64_t kk = 0; kk < k; ++kk)
                b_cols[j * k + kk] = load(bl.type, B, d.transb == CUBLAS_OP_N ? at(bl, kk, j) : at(bl, j, kk));
        for (std::uint64_t j = 0; j < n; ++j)
            for (std::uint64_t i = 0; i < m; ++i) {
                const float* x = &a_rows[i * k];
                const float* y = &b_cols[j * k];
                float acc = 0.f;
                for (std::uint64_t kk = 0; kk < k; ++kk) acc += x[kk] * y[kk];
                float v = a_scale * acc;
                if (b_scale != 0.f) v += b_scale * load(cl.type, C, at(cl, i, j));
                if (bias) v += load(dl.type, d.bias, i);
                switch (d.epilogue) {
                    case CUBLASLT_EPILOGUE_RELU:
                    case CUBLASLT_EPILOGUE_RELU_BIAS: v = std::max(v, 0.f); break;
                    case CUBLASLT_EPILOGUE_GELU:
                    case CUBLASLT_EPILOGUE_GELU_BIAS:
                        v = 0.5f * v * (1.f + std::tanh(0.7978845608028654f * (v + 0.044715f * v * v * v)));
                        break;
                    default: break;
                }
                out[j * m + i] = v;
            }
        for (std::uint64_t j = 0; j < n; ++j)  // D written after C is read: in place is safe
            for (std::uint64_t i = 0; i < m; ++i) store(dl.type, D, at(dl, i, j), out[j * m + i]);
        rt().clock_ms += 0.001 * double(fake_algorithms - rank);  // the last candidate is the fastest
        return cudaSuccess;
    };
    if (const cudaError_t e = enqueue(stream, std::move(work), "cublasLtMatmul")) {
        if (e == cudaErrorStreamCaptureInvalidated) rt().pending = e;
        return CUBLAS_STATUS_EXECUTION_FAILED;
    }
    return CUBLAS_STATUS_SUCCESS;
}

}  // extern "C"
