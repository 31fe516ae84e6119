#!/usr/bin/env python3
"""Prints the summary table of scripts/gpu_check.sh from the benchmark JSON files in a folder:
sinter's time, bandwidth and fraction of copy bandwidth, PyTorch's time and the ratio."""
import glob
import json
import os
import sys


def main(folder):
    torch_us = {}
    tpath = os.path.join(folder, "torch_expr.json")
    if os.path.exists(tpath):
        torch_us = json.load(open(tpath))["median_us"]
    rows = []
    for path in sorted(glob.glob(os.path.join(folder, "bench_*.json"))):
        data = json.load(open(path))
        for b in data.get("benchmarks", []):
            if b.get("error_occurred"):
                rows.append((b["name"], "ERROR: " + b.get("error_message", ""), "", "", "", ""))
                continue
            name = b["name"].replace("/manual_time", "")
            us = b["real_time"] if b.get("time_unit") == "us" else b["real_time"] * {"ns": 1e-3, "ms": 1e3, "s": 1e6}[b["time_unit"]]
            gbps = b.get("bytes_per_second", 0) / 1e9
            frac = b.get("copy_fraction", 0)
            key = name.replace("bias_gelu_residual/fused", "bias_gelu_residual/fused")
            t = torch_us.get(key)
            rows.append((name, f"{us:.1f}", f"{gbps:.0f}", f"{100 * frac:.0f}%",
                         f"{t:.1f}" if t else "-", f"{t / us:.2f}x" if t else "-"))
    header = ("case", "sinter us", "GB/s", "% copy BW", "torch us", "torch/sinter")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    print()
    for r in [header] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    return 0 if all(not str(r[1]).startswith("ERROR") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
