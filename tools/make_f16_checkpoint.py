#!/usr/bin/env python3
"""Writes a half-size copy of a checkpoint folder: every F32 tensor of model.safetensors stored as
F16 (round to nearest even, as sinter's own conversion does when it loads F32 into half), every
other tensor and the small files (config.json, vocab.txt, tokenizer_config.json...) copied.

Why: the GPU machine has no network and takes at most 64 MiB of working tree, so the f32
all-MiniLM-L6-v2 (88 MB) cannot travel, but its f16 copy (45 MB) can:

    tools/make_f16_checkpoint.py "$(tools/fetch_model.sh)" models/all-MiniLM-L6-v2-f16

then `run` with carry ["models/all-MiniLM-L6-v2-f16"]; scripts/gpu_check.sh finds it there and
runs the GPU model test on it. Loading it into a half model gives bit-identical weights to
loading the f32 file. Pure Python (no numpy, no torch)."""
import json
import os
import shutil
import struct
import sys
from array import array


def main(src, dest):
    with open(os.path.join(src, "model.safetensors"), "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", None)
    out_header, chunks, offset = {}, [], 0
    for name, t in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = t["data_offsets"]
        raw = data[begin:end]
        dtype = t["dtype"]
        if dtype == "F32":
            values = array("f")
            values.frombytes(raw)
            if sys.byteorder != "little":
                values.byteswap()
            raw = struct.pack("<%de" % len(values), *values)
            dtype = "F16"
        out_header[name] = {"dtype": dtype, "shape": t["shape"], "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if meta is not None:
        out_header["__metadata__"] = meta
    blob = json.dumps(out_header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)  # 8-byte aligned data, as safetensors writers do
    os.makedirs(dest, exist_ok=True)
    tmp = os.path.join(dest, "model.safetensors.tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for c in chunks:
            f.write(c)
    os.replace(tmp, os.path.join(dest, "model.safetensors"))
    # The small files, those of sub-folders too (sentence-transformers' 1_Pooling/config.json,
    # which modules.json names: sinter reads it for the sentence embedding's pooling).
    for root, _, names in os.walk(src):
        for name in names:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)
            if rel != "model.safetensors" and os.path.getsize(path) < (1 << 20):
                os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
                shutil.copy(path, os.path.join(dest, rel))
    print(dest)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: make_f16_checkpoint.py SRC_FOLDER DEST_FOLDER")
    main(sys.argv[1], sys.argv[2])
