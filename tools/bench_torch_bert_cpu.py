#!/usr/bin/env python3
"""PyTorch CPU baseline for bench/bench_bert_host.cpp: transformers BertModel in f32 (SDPA
attention, random weights, inference mode, every core), the same models and shapes, full-length
sequences, median of --runs forwards. Prints one line per case and, with --sinter (the JSON of
bench_bert_host --benchmark_format=json), PyTorch's median over sinter's beside it. Writes
{"median_ms": {name: ms}} with --out.

    build/bench/bench_bert_host --benchmark_format=json > host.json
    python3 tools/bench_torch_bert_cpu.py --sinter host.json
"""
import argparse
import json
import time

import torch
from transformers import BertConfig, BertModel

MODELS = {
    "bert::base_uncased": dict(),
    "bert::minilm_l6": dict(num_hidden_layers=6, hidden_size=384, num_attention_heads=12, intermediate_size=1536),
}
SHAPES = {"bert::base_uncased": [(1, 128), (8, 128), (1, 512)], "bert::minilm_l6": [(1, 128), (32, 128)]}


def median_ms(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out")
    ap.add_argument("--sinter", help="bench_bert_host's JSON output, to print the ratios")
    args = ap.parse_args()
    torch.manual_seed(0)
    sinter = {}
    if args.sinter:
        # With --benchmark_repetitions, the median of the repetitions; else the one run.
        runs = json.load(open(args.sinter)).get("benchmarks", [])
        medians = {b["run_name"]: b for b in runs if b.get("aggregate_name") == "median"}
        for b in runs:
            if b.get("run_type") == "aggregate":
                continue
            chosen = medians.get(b.get("run_name"), b)
            sinter[b["name"].replace("/manual_time", "")] = chosen.get("latency_ms")
    results = {}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for model_name, overrides in MODELS.items():
        model = BertModel(BertConfig(attn_implementation="sdpa", **overrides), add_pooling_layer=True).eval()
        for B, S in SHAPES[model_name]:
            ids = torch.randint(0, 30522, (B, S), generator=torch.Generator().manual_seed(7))
            mask = torch.ones(B, S, dtype=torch.long)
            with torch.inference_mode():
                ms = median_ms(lambda: model(input_ids=ids, attention_mask=mask), args.runs)
            name = f"forward<{model_name}>/{B}/{S}"
            results[name] = ms
            mine = sinter.get(name)
            ratio = f"  sinter {mine:.1f} ms, PyTorch / sinter {ms / mine:.2f}x" if mine else ""
            print(f"{name}: PyTorch {ms:.1f} ms{ratio}", flush=True)
    if args.out:
        json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "median_ms": results},
                  open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
