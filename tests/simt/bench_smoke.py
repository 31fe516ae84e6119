#!/usr/bin/env python3
"""The device benchmarks' smoke run on the fake CUDA device (bench/CMakeLists.txt), so that the one
GPU session's scripts/gpu_check.sh does not meet their set-up code for the first time:

  1. bench_bert_fake (every case, on the tiny config) and bench_expr_fake (each kernel's smallest
     case) run one timed iteration each with one buffer set; no case may report an error (a
     CUDA error, a refused kernel, a result that differs from the host) and each reports its
     counters;
  2. tools/summarize_bench.py, which gpu_check.sh prints last, reads their JSON beside PyTorch
     baselines written here at known ratios (2x sinter's time, 3x eager), and must show every case
     with those ratios and no error.

The timings are the fake device's clock, not a GPU's: nothing here measures speed.
Usage: bench_smoke.py BENCH_EXPR_FAKE BENCH_BERT_FAKE (from the repository root)."""
import json
import os
import subprocess
import sys
import tempfile

EXPR_FILTER = r"^[a-z_/]+/(1/)?128/manual_time$"  # T = 128 and attention at 1 x 128
EXPR_COUNTERS = ("median_us", "bytes_per_second", "copy_fraction", "copy_bw_GBps")
BERT_COUNTERS = ("latency_ms", "tokens_per_second", "model_TFLOPs", "graphs")


def fail(message):
    print("bench_smoke: FAILED:", message)
    sys.exit(1)


def run_benchmark(binary, folder, name, extra=()):
    out = os.path.join(folder, name + ".json")
    env = dict(os.environ, SINTER_BENCH_SETS="1")
    cmd = [binary, "--benchmark_min_time=0", f"--benchmark_out={out}", "--benchmark_out_format=json", *extra]
    print("bench_smoke:", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, env=env)
    if done.returncode != 0:
        fail(f"{name} exited with {done.returncode}")
    return json.load(open(out))["benchmarks"]


def check_cases(name, cases, counters, at_least):
    if len(cases) < at_least:
        fail(f"{name}: {len(cases)} cases, expected at least {at_least}")
    for b in cases:
        if b.get("error_occurred"):
            fail(f"{b['name']}: {b.get('error_message')}")
        for c in counters:
            if not b.get(c, 0) > 0:
                fail(f"{b['name']}: counter {c} missing or not positive ({b.get(c)})")


def main(bench_expr, bench_bert):
    with tempfile.TemporaryDirectory() as folder:
        expr = run_benchmark(bench_expr, folder, "bench_expr", [f"--benchmark_filter={EXPR_FILTER}"])
        bert = run_benchmark(bench_bert, folder, "bench_bert")
        check_cases("bench_expr", expr, EXPR_COUNTERS, 11)  # 5 linear, 2 bias_gelu, layer_norm, softmax, 2 attention
        check_cases("bench_bert", bert, BERT_COUNTERS, 7)  # f16 and bf16 x 3 modes, autotuned
        for b in expr:
            if b["name"].startswith(("linear/", "attention/")):
                for c in ("flops_per_second", "gemm_fraction", "gemm_TFLOPs"):
                    if not b.get(c, 0) > 0:
                        fail(f"{b['name']}: counter {c} missing or not positive ({b.get(c)})")

        # PyTorch's side as gpu_check.sh's baselines write it, at known ratios to sinter's times.
        name = lambda b: b["name"].replace("/manual_time", "")
        json.dump({"median_us": {name(b): 2 * b["median_us"] for b in expr}},
                  open(os.path.join(folder, "torch_expr.json"), "w"))
        json.dump({"median_ms": {**{name(b) + "/eager": 3 * b["latency_ms"] for b in bert},
                                 **{name(b) + "/cudagraph": 2 * b["latency_ms"] for b in bert}}},
                  open(os.path.join(folder, "torch_bert.json"), "w"))
        done = subprocess.run([sys.executable, "tools/summarize_bench.py", folder], capture_output=True, text=True)
        print(done.stdout, done.stderr)
        if done.returncode != 0:
            fail(f"summarize_bench.py exited with {done.returncode}")
        lines = done.stdout.splitlines()
        for b in expr + bert:
            row = next((l for l in lines if l.startswith(name(b) + " ")), None)
            if row is None:
                fail(f"the summary has no row for {name(b)}")
            if "ERROR" in row or "2.00x" not in row.split():
                fail(f"the summary's row for {name(b)} lacks PyTorch's 2.00x: {row}")
            ceiling = "GEMM" if "flops_per_second" in b else "copy" if b in expr else None
            if ceiling and f"% {ceiling}" not in row:
                fail(f"the summary's row for {name(b)} lacks its fraction of the {ceiling} ceiling: {row}")
        if not any(l.startswith("ceilings, measured in this run: copy ") for l in lines):
            fail("the summary does not state the measured ceilings")
    print("bench_smoke: every case ran and the summary shows them with PyTorch's ratios")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        fail("usage: bench_smoke.py BENCH_EXPR_FAKE BENCH_BERT_FAKE")
    main(sys.argv[1], sys.argv[2])
