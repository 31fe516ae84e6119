#!/usr/bin/env python3
"""PyTorch baseline for bench/bench_bert.cu: transformers BertModel (BERT-base shape, random
weights, SDPA attention) in fp16 and bf16, eager and captured in a CUDA graph, median of 50 runs
timed with CUDA events; inputs already on the GPU. Full-length batches also run without a mask,
and the faster of the two counts (PyTorch's best). Writes JSON {"median_ms": {name: ms}}."""
import argparse
import json

import torch
from transformers import BertConfig, BertModel

# (B, S, padding): 0 full-length; 1 lengths uniform in [16, S], one batch; 2 such batches, a new one
# every forward (64 cycled; the graph replays on static input buffers the new batch is copied into).
SHAPES = [(1, 128, 0), (8, 128, 0), (32, 128, 0), (128, 128, 0), (32, 512, 0), (32, 128, 1), (32, 128, 2)]


def median_ms(fn, runs=50):
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.manual_seed(0)
    results = {}

    def save():  # after every shape: a failure or a timeout keeps what was measured
        out = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "median_ms": results}
        json.dump(out, open(args.out, "w"), indent=1)

    for dtype, dname in ((torch.float16, "half"), (torch.bfloat16, "bf16")):
        model = BertModel(BertConfig(attn_implementation="sdpa")).to("cuda", dtype).eval()
        for B, S, padded in SHAPES:
            g = torch.Generator().manual_seed(7)
            batches = []
            for _ in range(64 if padded == 2 else 1):
                ids = torch.randint(0, 30522, (B, S), generator=g)
                mask = torch.ones(B, S, dtype=torch.long)
                if padded:
                    lengths = torch.randint(16, S + 1, (B,), generator=g)
                    mask = (torch.arange(S)[None, :] < lengths[:, None]).long()
                batches.append((ids.cuda(), mask.cuda()))
            ids, mask = (t.clone() for t in batches[0])  # the static inputs the graph reads
            turn = [0]

            def next_batch():
                turn[0] += 1
                new_ids, new_mask = batches[turn[0] % len(batches)]
                if len(batches) > 1:
                    ids.copy_(new_ids)
                    mask.copy_(new_mask)

            name = f"bert_base<{dname}>/{B}/{S}/{padded}"
            # Full-length batches run both with the all-ones mask and with none (what a caller
            # without padding may pass; SDPA can then take its unmasked kernels): the faster counts.
            for mask_arg in [mask] if padded else [mask, None]:
                variant = "" if mask_arg is not None else " (no mask)"
                with torch.inference_mode():
                    try:
                        t = median_ms(lambda: (next_batch(), model(input_ids=ids, attention_mask=mask_arg)))
                        print(name + variant, f"eager {t:.3f} ms", flush=True)
                        results[name + "/eager"] = min(t, results.get(name + "/eager", t))
                    except Exception as e:  # noqa: BLE001 - report and go on with the other shapes
                        print(name + variant, "eager run failed:", e, flush=True)
                    try:  # capture can fail if the model synchronises (e.g. inspects the mask on the host)
                        stream = torch.cuda.Stream()
                        stream.wait_stream(torch.cuda.current_stream())
                        with torch.cuda.stream(stream):
                            for _ in range(3):
                                model(input_ids=ids, attention_mask=mask_arg)
                        torch.cuda.current_stream().wait_stream(stream)
                        graph = torch.cuda.CUDAGraph()
                        with torch.cuda.graph(graph):
                            captured = model(input_ids=ids, attention_mask=mask_arg).last_hidden_state
                        # The graph may not be eager's computation (transformers builds the mask
                        # differently while a capture is under way): say how far apart they are.
                        graph.replay()
                        eager_out = model(input_ids=ids, attention_mask=mask_arg).last_hidden_state
                        keep = mask.bool()
                        diff = (captured[keep].float() - eager_out[keep].float()).abs().max().item()
                        t = median_ms(lambda: (next_batch(), graph.replay()))
                        print(name + variant, f"graph {t:.3f} ms; graph vs eager on real tokens: max |diff| {diff:.3g}",
                              flush=True)
                        results[name + "/cudagraph"] = min(t, results.get(name + "/cudagraph", t))
                    except Exception as e:  # noqa: BLE001 - report and go on with the other shapes
                        print(name + variant, "CUDA graph capture failed:", e, flush=True)
            print(name, {k: round(v, 3) for k, v in results.items() if k.startswith(name)}, flush=True)
            save()
        del model
        torch.cuda.empty_cache()
    save()


if __name__ == "__main__":
    main()
