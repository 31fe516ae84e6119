#!/usr/bin/env bash
# The GPU machine's one script: configure for this card, build with all cores, run the gpu-labelled
# tests (failing if any was skipped), run the benchmarks and the PyTorch baseline beside them, and
# print a short summary table last. Logs and JSON go under $OUT (default: build-gpu/out).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/cuda/bin:$PATH
OUT=${OUT:-$PWD/build-gpu/out}
mkdir -p "$OUT"
status=0

cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
card=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
[ -n "$cap" ] || { echo "gpu_check: no GPU visible (nvidia-smi)"; exit 1; }
echo "gpu_check: $card (sm_$cap), $(date -u +%F)" | tee "$OUT/card.txt"

# The real model travels as an f16 copy (tools/make_f16_checkpoint.py; carry it): the GPU model test
# reads it. Without it that test fails, saying so.
if [ -f models/all-MiniLM-L6-v2-f16/model.safetensors ]; then
    export SINTER_MINILM_DIR=$PWD/models/all-MiniLM-L6-v2-f16
else
    echo "gpu_check: models/all-MiniLM-L6-v2-f16 missing (tools/make_f16_checkpoint.py; carry it): the GPU model test will fail"
fi

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$cap" \
    > "$OUT/configure.log" 2>&1 || { tail -30 "$OUT/configure.log"; exit 1; }
# Only what runs here: the GPU tests, then the device benchmarks (host tests run in CI). The tests
# come first so that a machine without Google Benchmark still checks correctness.
targets=$(for f in tests/gpu/test_*.cu tests/models/*.cu; do basename "$f" .cu; done)
echo "gpu_check: building $(echo $targets | wc -w) GPU tests ($(date -u +%T))"
cmake --build build-gpu -j"$(nproc)" --target $targets > "$OUT/build.log" 2>&1 ||
    { grep -m20 -A5 error "$OUT/build.log"; exit 1; }
benchmarks=""
if grep -q "sinter: Google Benchmark not found" "$OUT/configure.log"; then
    echo "gpu_check: no Google Benchmark on this machine: benchmarks not built"; status=1
else
    cmake --build build-gpu -j"$(nproc)" --target bench_expr bench_bert > "$OUT/build_bench.log" 2>&1 &&
        benchmarks="bench_expr bench_bert" || { grep -m10 -A5 error "$OUT/build_bench.log"; status=1; }
fi
echo "gpu_check: running the GPU tests ($(date -u +%T))"

# A hung kernel must not eat the machine's whole budget: each test, benchmark and baseline is bounded.
ctest --test-dir build-gpu -L gpu --output-on-failure --timeout 120 > "$OUT/ctest_gpu.log" 2>&1 || status=1
tail -15 "$OUT/ctest_gpu.log"
if grep -q "SINTER_SKIP_NO_GPU\|\*\*\*Skipped" "$OUT/ctest_gpu.log"; then
    echo "gpu_check: a GPU test was skipped on a GPU machine"; status=1
fi

echo "gpu_check: benchmarks ($(date -u +%T))"
for name in $benchmarks; do
    timeout 240 build-gpu/bench/$name --benchmark_out="$OUT/$name.json" --benchmark_out_format=json \
        > "$OUT/$name.log" 2>&1 || { echo "gpu_check: $name failed or timed out"; tail -5 "$OUT/$name.log"; status=1; }
done
echo "gpu_check: PyTorch baselines ($(date -u +%T))"
if python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
    timeout 180 python3 tools/bench_torch_expr.py --out "$OUT/torch_expr.json" > "$OUT/torch_expr.log" 2>&1 || status=1
    timeout 240 python3 tools/bench_torch_bert.py --out "$OUT/torch_bert.json" > "$OUT/torch_bert.log" 2>&1 || status=1
else
    echo "gpu_check: PyTorch with CUDA not available: no baseline"
fi

python3 tools/summarize_bench.py "$OUT" || status=1
exit $status
