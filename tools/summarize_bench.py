#!/usr/bin/env python3
"""Prints the summary table of scripts/gpu_check.sh from the benchmark JSON files in a folder:
sinter's time, bandwidth and fraction of copy bandwidth, PyTorch's time and the ratio. Times are
medians on both sides."""
import glob
import json
import os
import sys


def load(path, what):
    """A JSON file, or None (said) when it is missing or was cut short by a crash or a timeout."""
    if not os.path.exists(path):
        return None
    try:
        return json.load(open(path))
    except json.JSONDecodeError as e:
        print(f"summarize_bench: {what} ({os.path.basename(path)}) is truncated: {e}")
        return None


def bert_table(folder):
    """sinter's end-to-end BERT-base latency beside PyTorch's (eager and CUDA graph)."""
    path = os.path.join(folder, "bench_bert.json")
    sinter = load(path, "sinter's BERT benchmark")
    if sinter is None:
        return [("bench_bert.json", "ERROR: truncated output (crash or timeout)", "", "", "", "", "", "")] \
            if os.path.exists(path) else []
    torch_ms = (load(os.path.join(folder, "torch_bert.json"), "PyTorch's BERT baseline") or {}).get("median_ms", {})
    rows = []
    for b in sinter.get("benchmarks", []):
        name = b["name"].replace("/manual_time", "")
        if b.get("error_occurred"):
            rows.append((name, "ERROR: " + b.get("error_message", ""), "", "", "", "", "", ""))
            continue
        ms = b.get("latency_ms", 0)
        eager, graph = torch_ms.get(name + "/eager"), torch_ms.get(name + "/cudagraph")
        best = min((t for t in (eager, graph) if t), default=None)  # PyTorch's best, as ANCHORS compares
        rows.append((name, f"{ms:.3f}", f"{b.get('tokens_per_second', 0) / 1e3:.0f}k", f"{b.get('model_TFLOPs', 0):.0f}",
                     f"{eager:.3f}" if eager else "-", f"{graph:.3f}" if graph else "-",
                     f"{best / ms:.2f}x" if best and ms else "-", b.get("label", "")))
    return rows


def print_table(header, rows):
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    print()
    for r in [header] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def main(folder):
    bert = bert_table(folder)
    torch_us = (load(os.path.join(folder, "torch_expr.json"), "PyTorch's kernel baselines") or {}).get("median_us", {})
    rows, all_benchmarks = [], []
    for path in sorted(glob.glob(os.path.join(folder, "bench_*.json"))):
        if path.endswith("bench_bert.json"):
            continue
        data = load(path, "a sinter benchmark")
        if data is None:
            rows.append((os.path.basename(path), "ERROR: truncated output (crash or timeout)", "", "", "", ""))
            continue
        all_benchmarks += data.get("benchmarks", [])
        for b in data.get("benchmarks", []):
            name = b["name"].replace("/manual_time", "")
            if b.get("error_occurred"):
                rows.append((name, "ERROR: " + b.get("error_message", ""), "", "", "", ""))
                continue
            # The median (as PyTorch's baselines report); Google Benchmark's real_time is the mean.
            us = b.get("median_us") or (b["real_time"] * {"ns": 1e-3, "us": 1, "ms": 1e3, "s": 1e6}[b["time_unit"]])
            gbps = b.get("bytes_per_second", 0) / 1e9
            frac = b.get("copy_fraction", 0)
            t = torch_us.get(name)
            # A contraction is compute-bound: its rate is FLOP/s, its ceiling the measured dense f16
            # GEMM rate; the others' is the measured copy bandwidth.
            if "flops_per_second" in b:
                rate = f"{b['flops_per_second'] / 1e12:.0f} TFLOP/s"
                share = f"{100 * b['gemm_fraction']:.0f}% GEMM" if "gemm_fraction" in b else "-"
            else:
                rate, share = f"{gbps:.0f} GB/s", f"{100 * frac:.0f}% copy"
            rows.append((name, f"{us:.1f}", rate, share, f"{t:.1f}" if t else "-", f"{t / us:.2f}x" if t else "-"))
    print_table(("case", "sinter us", "rate", "of ceiling", "torch us", "torch/sinter"), rows)
    copy_bw = next((b["copy_bw_GBps"] for b in all_benchmarks if b.get("copy_bw_GBps")), None)
    gemm = next((b["gemm_TFLOPs"] for b in all_benchmarks if b.get("gemm_TFLOPs")), None)
    if copy_bw or gemm:
        print("ceilings, measured in this run: " +
              (f"copy {copy_bw:.0f} GB/s (read + write)" if copy_bw else "copy -") + ", " +
              (f"dense f16 GEMM {gemm:.0f} TFLOP/s" if gemm else "dense f16 GEMM -"))
    if bert:
        print_table(("bert (B/S/padded)", "sinter ms", "tokens/s", "model TFLOP/s", "torch eager ms", "torch graph ms",
                     "best torch/sinter", "card, attention"), bert)
    return 0 if all(not str(r[1]).startswith("ERROR") for r in rows + bert) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
