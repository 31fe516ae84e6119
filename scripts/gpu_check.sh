#!/usr/bin/env bash
# The GPU machine's one script: configure for this card, build with all cores, run the gpu-labelled
# tests (failing if any was skipped), run the benchmarks and the PyTorch baseline beside them, and
# print a short summary table last.
#
# Built for a lent machine's limits: the whole run keeps to a deadline (GPU_CHECK_BUDGET seconds,
# default 540) and bounds each step by what is left; whatever happens, the summary prints on exit
# and at most 7 files come back under $OUT (default: build-gpu/out): card.txt, summary.txt, the
# four benchmark JSONs and logs.tgz (every log, CTest's LastTest.log with each test's "worst N% of
# tolerance" lines). doctest and Google Benchmark come from .deps/ when it exists (carry it:
# tools/prepare_gpu_deps.sh makes it on a machine with Debian's packages), else from the system.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export PATH=/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1
OUT=${OUT:-$PWD/build-gpu/out}
LOGS=$PWD/build-gpu/logs
BUDGET=${GPU_CHECK_BUDGET:-540}
mkdir -p "$OUT" "$LOGS"
status=0

left() { echo $((BUDGET - SECONDS)); }
# bounded SECONDS CMD...: runs CMD for at most SECONDS and at most what the deadline leaves.
bounded() {
    local limit=$1
    shift
    local rest=$(($(left) - 15))
    ((rest < limit)) && limit=$rest
    if ((limit <= 0)); then
        echo "gpu_check: out of time, skipped: $*"
        return 124
    fi
    timeout "$limit" "$@"
}
# The logs so far into $OUT: after each stage, so that a run killed from outside still returns them.
snap() { tar -czf "$OUT/logs.tgz" -C "$LOGS" . 2>/dev/null; }
finish() {
    [ -f build-gpu/Testing/Temporary/LastTest.log ] && cp build-gpu/Testing/Temporary/LastTest.log "$LOGS/"
    echo "gpu_check: summary ($(date -u +%T), ${SECONDS}s)"
    python3 tools/summarize_bench.py "$OUT" 2>&1 | tee "$OUT/summary.txt" || status=1
    tar -czf "$OUT/logs.tgz" -C "$LOGS" . 2>/dev/null
    echo "gpu_check: status $status"
    exit $status
}
trap finish EXIT

cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
card=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
[ -n "$cap" ] || { echo "gpu_check: no GPU visible (nvidia-smi)"; status=1; exit; }
echo "gpu_check: $card (sm_$cap), $(date -u +%F), budget ${BUDGET}s" | tee "$OUT/card.txt"
{ command -v nvcc cmake ctest ninja python3 compute-sanitizer; nvcc --version; cmake --version; c++ --version; } \
    > "$LOGS/env.log" 2>&1

# The real model travels as an f16 copy (tools/make_f16_checkpoint.py; carry it): the GPU model test
# reads it. Without it that test fails, saying so.
if [ -f models/all-MiniLM-L6-v2-f16/model.safetensors ]; then
    export SINTER_MINILM_DIR=$PWD/models/all-MiniLM-L6-v2-f16
else
    echo "gpu_check: models/all-MiniLM-L6-v2-f16 missing (tools/make_f16_checkpoint.py; carry it): the GPU model test will fail"
fi

configure=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$cap")
command -v ninja >/dev/null && configure+=(-G Ninja)
if [ -d .deps/usr ]; then  # carried test and benchmark libraries (tools/prepare_gpu_deps.sh)
    configure+=(-DCMAKE_PREFIX_PATH="$PWD/.deps/usr" -DSINTER_FETCH_DEPENDENCIES=OFF
                -Ddoctest_DIR="$PWD/.deps/usr/lib/cmake/doctest"
                -Dbenchmark_DIR="$PWD/.deps/usr/lib/x86_64-linux-gnu/cmake/benchmark")
    export LD_LIBRARY_PATH=$PWD/.deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
else  # the machine has no network: the system's doctest and Google Benchmark, or none
    echo "gpu_check: no .deps (tools/prepare_gpu_deps.sh; carry it): doctest and Google Benchmark from the system"
    configure+=(-DSINTER_FETCH_DEPENDENCIES=OFF)
fi
keep_going=()  # build what builds: one file that fails does not stop the others
command -v ninja >/dev/null && keep_going=(-- -k 0)
bounded 120 cmake -S . -B build-gpu "${configure[@]}" > "$LOGS/configure.log" 2>&1 ||
    { tail -30 "$LOGS/configure.log"; status=1; exit; }
snap
if grep -q "doctest not found" "$LOGS/configure.log"; then
    echo "gpu_check: no doctest on this machine (carry .deps: tools/prepare_gpu_deps.sh): no GPU test can be built"
    status=1
    exit
fi
# Only what runs here: the GPU tests, then the device benchmarks (host tests run in CI). The tests
# come first so that a machine without Google Benchmark still checks correctness.
targets=$(for f in tests/gpu/test_*.cu tests/models/*.cu; do basename "$f" .cu; done)
echo "gpu_check: building $(echo $targets | wc -w) GPU tests ($(date -u +%T))"
bounded 300 cmake --build build-gpu -j"$(nproc)" --target $targets "${keep_going[@]}" > "$LOGS/build.log" 2>&1
build_rc=$?
snap
if ((build_rc == 124)); then
    echo "gpu_check: the build ran out of time"
    status=1
    exit
elif ((build_rc != 0)); then  # the tests that built still run; the others show as "Not Run"
    echo "gpu_check: some GPU tests did not build"
    grep -m20 -A5 "error" "$LOGS/build.log"
    status=1
fi
benchmarks=""
if grep -q "Google Benchmark not found" "$LOGS/configure.log"; then
    echo "gpu_check: no Google Benchmark on this machine (carry .deps): benchmarks not built"
    status=1
else
    # Beside the tests, on half the cores: their host references need the rest.
    (bounded 200 cmake --build build-gpu -j"$(( $(nproc) / 2 + 1 ))" --target bench_expr bench_bert "${keep_going[@]}" \
        > "$LOGS/build_bench.log" 2>&1) &
    bench_build=$!
fi

# cuBLASLt logs its errors (a refused descriptor or algorithm: the fallbacks of blas::Gemm) into
# the tests' logs.
export CUBLASLT_LOG_LEVEL=1
# The attention test first and alone: a hung kernel there would hang every session test after it.
echo "gpu_check: running the GPU tests ($(date -u +%T))"
bounded 90 ctest --test-dir build-gpu -R '^test_gpu_attention$' --output-on-failure --timeout 80 \
    > "$LOGS/ctest_attention.log" 2>&1
attention_rc=$?
cp build-gpu/Testing/Temporary/LastTest.log "$LOGS/LastTest_attention.log" 2>/dev/null  # the next ctest overwrites it
((attention_rc != 0)) && status=1
if ((attention_rc == 124)) || grep -q "Timeout" "$LOGS/ctest_attention.log"; then
    echo "gpu_check: test_gpu_attention timed out (a hung kernel?): the session tests are not run"
    status=1
else
    bounded 240 ctest --test-dir build-gpu -L gpu -E '^test_gpu_attention$' --output-on-failure --timeout 60 \
        > "$LOGS/ctest_gpu.log" 2>&1 || status=1
fi
cat "$LOGS"/ctest_attention.log "$LOGS"/ctest_gpu.log 2>/dev/null | grep -E "tests passed|Failed|Timeout|Not Run" | head -20
# Every failed check with its worst element, and the seed to replay it.
cat "$LOGS"/ctest_*.log 2>/dev/null | grep -E "ERROR|FATAL|worst element|SINTER_TEST_SEED|what\(\)|exception" | head -40
if cat "$LOGS"/ctest_*.log 2>/dev/null | grep -q "SINTER_SKIP_NO_GPU\|\*\*\*Skipped"; then
    echo "gpu_check: a GPU test was skipped on a GPU machine"
    status=1
fi

snap
if [ -n "${bench_build:-}" ]; then
    wait "$bench_build" || { grep -m10 -A5 error "$LOGS/build_bench.log"; status=1; }
    for name in bench_expr bench_bert; do [ -x "build-gpu/bench/$name" ] && benchmarks+=" $name"; done
fi
echo "gpu_check: benchmarks ($(date -u +%T))"
for name in $benchmarks; do
    bounded 150 build-gpu/bench/$name --benchmark_out="$OUT/$name.json" --benchmark_out_format=json \
        > "$LOGS/$name.log" 2>&1 || { echo "gpu_check: $name failed or timed out"; tail -5 "$LOGS/$name.log"; status=1; }
done
snap
echo "gpu_check: PyTorch baselines ($(date -u +%T))"
if bounded 60 python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
    for script in expr bert; do
        bounded 120 python3 tools/bench_torch_$script.py --out "$OUT/torch_$script.json" > "$LOGS/torch_$script.log" 2>&1 ||
            { echo "gpu_check: the PyTorch $script baseline failed or timed out"; tail -5 "$LOGS/torch_$script.log"; status=1; }
    done
    grep -h "graph vs eager\|failed" "$LOGS/torch_bert.log" 2>/dev/null | head -8
else
    echo "gpu_check: PyTorch with CUDA not available: no baseline"
fi

# Last, with what time is left: the attention kernels under compute-sanitizer. Shared-memory races
# and barrier misuse are what the CPU emulator (tests/simt) cannot see: it orders memory at every
# warp collective. A tool that runs out of time says so and fails nothing.
if command -v compute-sanitizer >/dev/null && [ -x build-gpu/tests/test_gpu_attention ]; then
    for tool in racecheck synccheck memcheck; do
        bounded 60 compute-sanitizer --tool "$tool" --print-limit 5 --error-exitcode 99 \
            build-gpu/tests/test_gpu_attention > "$LOGS/sanitizer_$tool.log" 2>&1
        case $? in
            0) echo "gpu_check: compute-sanitizer $tool on test_gpu_attention: clean" ;;
            124) echo "gpu_check: compute-sanitizer $tool on test_gpu_attention: out of time, incomplete" ;;
            *) if grep -q "Device not supported" "$LOGS/sanitizer_$tool.log"; then
                   echo "gpu_check: compute-sanitizer $tool: this device (or its virtualisation) is not supported: not run"
                   continue
               fi
               echo "gpu_check: compute-sanitizer $tool on test_gpu_attention: FAILED (hazards or a failing test)"
               grep -m12 -E "=========" "$LOGS/sanitizer_$tool.log"
               status=1 ;;
        esac
    done
else
    echo "gpu_check: no compute-sanitizer (or no test_gpu_attention): the sanitizer checks are not run"
fi
