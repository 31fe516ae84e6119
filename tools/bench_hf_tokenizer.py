#!/usr/bin/env python3
"""Hugging Face `tokenizers` throughput on one thread, on the corpora of bench/bench_tokenizer.cpp.

    taskset -c 1 python3 tools/bench_hf_tokenizer.py [--tokenizer-json tokenizer.json]

Corpora (read from tests/golden/text/tokenizer_golden.txt, as the C++ benchmark reads them):
mixed = every untruncated single text; ascii = those of printable ASCII only. Modes:
- encode: tokenizer.encode(text) per text, from Python (what a Python caller pays);
- encode_batch/32: encode_batch of 32 texts, padded to the longest (tokens counted without padding);
- encode_batch/all: one encode_batch over the whole corpus (Python's overhead amortised away: the
  closest to the Rust tokenizer alone).
Each mode runs for at least --seconds; the best of --repeats runs is reported. Rates are per CPU
second, as Google Benchmark's counters are; the last column is per wall-clock second.
"""
import os

# Before tokenizers is imported: one thread for its Rayon pool.
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import tokenizers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_tokenizer_golden import CONFIGS, OUT, make_tokenizer, unescape  # noqa: E402


def corpora():
    mixed = []
    with open(os.path.join(OUT, "tokenizer_golden.txt"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("T\t0\t"):
                mixed.append(unescape(line.rstrip("\n").split("\t")[2]))
    ascii_only = [t for t in mixed if all(0x20 <= ord(c) <= 0x7E for c in t)]
    return {"mixed": mixed, "ascii": ascii_only}


def measure(run, seconds, repeats):
    """Best tokens/s and bytes/s over `repeats` runs of at least `seconds` each, per CPU second of
    this process (as Google Benchmark's rate counters, so that a busy machine hurts neither side),
    and tokens/s per wall-clock second."""
    best = (0.0, 0.0, 0.0)
    for _ in range(repeats):
        tokens = nbytes = 0
        wall, cpu = time.perf_counter(), time.process_time()
        while True:
            t, b = run()
            tokens += t
            nbytes += b
            if time.perf_counter() - wall >= seconds:
                break
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        best = max(best, (tokens / cpu, nbytes / cpu, tokens / wall))
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokenizer-json", help="use this tokenizer.json instead of building bert-base-uncased's")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    if args.tokenizer_json:
        tok = Tokenizer.from_file(args.tokenizer_json)
        tok.no_truncation()
    else:
        tok = make_tokenizer(*CONFIGS["U"])
    tok.no_padding()
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"tokenizers {tokenizers.__version__}, RAYON_NUM_THREADS=1, cpus allowed: {affinity}")
    print(f"{'corpus':8} {'mode':18} {'texts':>7} {'Mtokens/s':>10} {'MB/s':>8} {'Mtokens/s (wall)':>17}")

    for name, texts in corpora().items():
        nbytes = sum(len(t.encode()) for t in texts)
        batches = [texts[i:i + 32] for i in range(0, len(texts), 32)]

        def encode():
            return sum(len(tok.encode(t).ids) for t in texts), nbytes

        def encode_batch_32():
            tok.enable_padding(pad_id=0, pad_token="[PAD]")
            n = sum(sum(e.attention_mask) for b in batches for e in tok.encode_batch(b))
            tok.no_padding()
            return n, nbytes

        def encode_batch_all():
            return sum(len(e.ids) for e in tok.encode_batch(texts)), nbytes

        for mode, run in (("encode", encode), ("encode_batch/32", encode_batch_32), ("encode_batch/all", encode_batch_all)):
            tps, bps, wall_tps = measure(run, args.seconds, args.repeats)
            print(f"{name:8} {mode:18} {len(texts):7d} {tps / 1e6:10.3f} {bps / 1e6:8.2f} {wall_tps / 1e6:17.3f}")


if __name__ == "__main__":
    main()
