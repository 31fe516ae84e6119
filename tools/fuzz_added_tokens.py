#!/usr/bin/env python3
"""Differential fuzz of the added tokens of a checkpoint folder: sinter against transformers.

Writes random tokenizer folders (tokenizer_config.json with added_tokens_decoder, named, model-
specific and extra special tokens; the older added_tokens.json and special_tokens_map.json;
tokenizer.json's added_tokens; flags left out or contradictory), loads each with transformers'
AutoTokenizer and with sinter (tools/added_tokens_probe.cpp, built here against include/), and
compares the added tokens with their flags and ids, the tokenizer's size, split_special_tokens and
clean_up_tokenization_spaces, the added ids decoded with and without skip_special_tokens, and four
texts' ids. Each folder that differs, or that one side refuses, is a line of --log (JSON).

Kinds: "ok"; "a:<fields>" both load and differ (a bug, or a quirk the header of
include/sinter/text/added_tokens_config.hpp names); "b" only sinter refuses (its deliberate
refusals: unk/sep/pad/cls/mask other than BERT's, two tokens that normalise to one text, ids other
than transformers'...); "c" only transformers refuses; "both".

  python3 tools/fuzz_added_tokens.py --seconds 300            # fields left out, exotic keys
  python3 tools/fuzz_added_tokens.py --seconds 300 --clean    # files as transformers writes them

Needs transformers (tools/requirements-golden.txt) and a C++20 compiler. Last run (transformers
5.25, tokenizers 0.23.3, 2026-12-06): 4,747 folders, 0 differences but 40 decodings (the stale
normalised decoding the header names); clean mode 0.
"""
import argparse
import collections
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")
os.environ["TRANSFORMERS_VERBOSITY"] = "error"
from transformers import AutoTokenizer  # noqa: E402
from transformers.utils import logging as transformers_logging  # noqa: E402

transformers_logging.set_verbosity_error()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB_FILE = os.path.join(ROOT, "tests", "golden", "text", "vocab.txt")
VOCAB = {w.rstrip("\n"): i for i, w in enumerate(open(VOCAB_FILE, encoding="utf-8"))}
PROBE = None  # built by main()
TPL_JSON = None  # a tokenizer.json for the golden vocabulary, made by main()

BERT5 = {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103}
BERT_NAMED = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"}
NEW = ["<x>", "<y>", "Foo", "foo", "New York", "<ent>", "[E1]", "Ωmega", "<s>", "</s>", "e-mail", "Café", "中文",
       "Hello", "HELLO", "x y", "<X>"]
IN_VOCAB = ["hello", "world", "ab", "abc", "[unused1]", "the"]
POOL = NEW + IN_VOCAB
MODEL_KEYS = ["ent_token", "image_token", "foo_token"]


def rflag(rng, p=0.15):
    return rng.random() < p


def tok_obj(rng, content, special=None, omit=0.1):
    """A token dict (no id); fields sometimes omitted (never in --clean)."""
    if CLEAN:
        omit = 0
    if special is None:
        special = rng.random() < 0.4
    d = {"content": content}
    fields = {"special": special, "normalized": (not special) if rng.random() < 0.6 else rng.random() < 0.5,
              "lstrip": rflag(rng), "rstrip": rflag(rng), "single_word": rflag(rng, 0.1)}
    for k, v in fields.items():
        if rng.random() >= omit:
            d[k] = v
    return d


def named_value(rng, content, form):
    r = rng.random()
    if r < 0.5:
        return content
    d = tok_obj(rng, content, special=rng.choice([True, False, None]), omit=0.2)
    if rng.random() < 0.3 and not CLEAN:
        d.pop("special", None)
    if CLEAN and form == "config" and "added_tokens.json" in CUR:
        return content
    if form == "config":
        if rng.random() < 0.95:
            d = dict({"__type": "AddedToken"}, **d)
    return d


CLEAN = False
CUR = {}


def gen(rng):
    used = set()
    def pick(pool):
        if not CLEAN:
            return rng.choice(pool)
        for _ in range(20):
            c = rng.choice([p for p in pool if p not in BERT5])
            if c not in used:
                used.add(c); return c
        return None
    layout = rng.choice(["v4", "legacy", "v5"])
    files = {}
    cfg = {"tokenizer_class": "BertTokenizer", "do_lower_case": True}
    # listed tokens
    k = rng.randint(0, 6)
    contents = rng.sample(POOL, k)
    bert_listed = [c for c in BERT5 if rng.random() < (0.8 if layout != "legacy" else 0.2)]
    listed = bert_listed + contents
    rng.shuffle(listed)
    nxt = 30522
    ids = {}
    for c in listed:
        if c in VOCAB:
            ids[c] = VOCAB[c]
        else:
            ids[c] = nxt
            nxt += 1
    if listed and rng.random() < 0.04:  # perturb an id
        c = rng.choice(listed)
        ids[c] = ids[c] + rng.choice([1, 2, -1, 30522])
    if CLEAN and len(set(ids.values())) < len(ids):
        ids = {c: VOCAB.get(c, 0) for c in listed}; listed = [c for c in listed if c in VOCAB]
    if listed and rng.random() < 0.03:  # a duplicate content at another id
        c = rng.choice(listed)
        listed.append(c + "")
    if layout == "v4":
        dec = {}
        for c in listed:
            t = tok_obj(rng, c, special=True if c in BERT5 and rng.random() < 0.8 else None)
            dec[str(ids[c])] = t
        items = list(dec.items())
        rng.shuffle(items)
        cfg["added_tokens_decoder"] = dict(items)
    elif layout == "legacy":
        files["added_tokens.json"] = {c: ids[c] for c in listed}
    else:
        tj = []
        for c in listed:
            t = tok_obj(rng, c, special=True if c in BERT5 and rng.random() < 0.8 else None, omit=0.05)
            t = dict({"id": ids[c]}, **t)
            tj.append(t)
        rng.shuffle(tj)
        files["tokenizer.json"] = {"added_tokens": tj}
        if rng.random() < 0.25:
            files["added_tokens.json"] = {c: ids[c] for c in listed if rng.random() < 0.5}
        # v5 save style config
        if rng.random() < 0.5:
            for k2, v in BERT_NAMED.items():
                cfg[k2] = v
    CUR.clear(); CUR.update(files)
    if CLEAN: used.update(listed)
    # named / extras in config and map
    use_map = layout == "legacy" and rng.random() < 0.6 or rng.random() < 0.1
    targets = [("config", cfg)]
    smap = {}
    if use_map:
        targets.append(("map", smap))
    for form, d in targets:
        for key in ["bos_token", "eos_token"]:
            if rng.random() < 0.3:
                c = pick(POOL + list(BERT5))
                if c: d[key] = named_value(rng, c, form)
        for key, val in BERT_NAMED.items():
            r = rng.random()
            if r < 0.3:
                d[key] = named_value(rng, val, form)
            elif r < 0.31:
                d[key] = rng.choice([None, "<unk>", "[unk]"])
        for key in (MODEL_KEYS[:1] if CLEAN else MODEL_KEYS):
            if rng.random() < 0.15 and not (CLEAN and form == "map"):
                c = pick(POOL)
                if c: d[key] = named_value(rng, c, form)
        for key in ["extra_special_tokens", "additional_special_tokens"]:
            r = rng.random()
            if CLEAN and key == "additional_special_tokens" and isinstance(d.get("extra_special_tokens"), dict):
                continue
            if r < 0.25:
                n = rng.randint(0, 3)
                if CLEAN:
                    cs = [pick(POOL) for _ in range(n)]
                    d[key] = [named_value(rng, c, form) for c in cs if c]
                else:
                    d[key] = [named_value(rng, c, form) for c in rng.sample(POOL + list(BERT5), n)]
            elif r < 0.3 and key == "extra_special_tokens" and not (CLEAN and form == "config" or CLEAN and (form == "map" or "additional_special_tokens" in d)):
                n = rng.randint(0, 2)
                cs = [pick(POOL) for _ in range(n)] if CLEAN else rng.sample(POOL, n)
                d[key] = {rng.choice(["img_token", "aud_token", "vid_token", "x"]) + str(i): named_value(rng, c, form)
                          for i, c in enumerate(cs) if c}
    if use_map:
        files["special_tokens_map.json"] = smap
    for key in ["split_special_tokens", "clean_up_tokenization_spaces"]:
        if rng.random() < 0.3:
            cfg[key] = rng.random() < 0.5
    files["tokenizer_config.json"] = cfg
    return files


def write(folder, files):
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    shutil.copy(VOCAB_FILE, folder)
    for name, content in files.items():
        if name == "tokenizer.json":
            full = dict(TPL_JSON)
            full["added_tokens"] = content["added_tokens"]
            content = full
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            json.dump(content, f, ensure_ascii=False)


def all_contents(files):
    out = set()

    def walk(v):
        if isinstance(v, str):
            out.add(v)
        elif isinstance(v, dict):
            if "content" in v and isinstance(v["content"], str):
                out.add(v["content"])
            for x in v.values():
                if isinstance(x, (dict, list)):
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    cfg = files.get("tokenizer_config.json", {})
    for k, v in cfg.items():
        if k.endswith("_token") or k.endswith("_tokens") or k == "added_tokens_decoder":
            walk(v)
    for k, v in files.get("special_tokens_map.json", {}).items():
        walk(v)
    out.update(files.get("added_tokens.json", {}).keys())
    walk(files.get("tokenizer.json", {}).get("added_tokens", []))
    return sorted(c for c in out if isinstance(c, str) and c and c not in ("AddedToken",))


def texts_for(files):
    """Four texts holding every token content the files name."""
    cs = [c for c in all_contents(files) if "\x00" not in c][:8]
    fill = ["a", "Big", "x", "hello", "WORLD"]
    t1 = " ".join(f"{fill[i % 5]} {c}" for i, c in enumerate(cs)) + " end"
    t2 = t1.upper()
    t3 = t1.lower()
    t4 = "Q" + "z".join(cs) + "!"
    return [t1, t2, t3, t4]


def hf_side(folder, texts, order):
    tok = AutoTokenizer.from_pretrained(folder)
    dec = tok.backend_tokenizer.get_added_tokens_decoder()
    toks = sorted((i, t.content, int(t.special), int(t.normalized), int(t.lstrip), int(t.rstrip), int(t.single_word))
                  for i, t in dec.items())
    res = {"tokens": toks, "size": len(tok), "split": int(bool(tok.split_special_tokens)),
           "clean": int(bool(tok.clean_up_tokenization_spaces))}
    if order is None:
        order = [t[0] for t in toks]
    res["decode0"] = tok.decode(order, skip_special_tokens=False)
    res["decode1"] = tok.decode(order, skip_special_tokens=True)
    res["ids"] = [" ".join(map(str, tok(t)["input_ids"])) for t in texts]
    return res


def sinter_side(folder, texts):
    p = subprocess.run([PROBE, folder] + texts, capture_output=True, text=True, timeout=20)
    lines = p.stdout.split("\n")
    if p.returncode != 0 or (lines and lines[0].startswith("error\t")):
        err = [l for l in lines if l.startswith("error\t")]
        return {"error": err[0][6:] if err else f"rc={p.returncode} {p.stderr[-300:]}"}
    toks, order, res = [], [], {"ids": []}
    for l in lines:
        if not l:
            continue
        f = l.split("\t")
        if f[0] == "size":
            res["size"] = int(f[1])
        elif f[0] == "split":
            res["split"] = int(f[1]); res["clean"] = int(f[3])
        elif f[0] == "decode":
            res["decode" + f[1]] = "\t".join(f[2:])
        elif f[0] == "ids":
            res["ids"].append(f[-1])
        else:
            t = (int(f[0]), f[1], *map(int, f[2:7]))
            toks.append(t); order.append(t[0])
    res["tokens"] = sorted(toks)
    res["order"] = order
    return res


def compare(files, folder):
    write(folder, files)
    texts = texts_for(files)
    s = sinter_side(folder, texts)
    try:
        h = hf_side(folder, texts, s.get("order"))
    except Exception as e:
        h = {"error": f"{type(e).__name__}: {str(e)[:200]}"}
    if "error" in s and "error" in h:
        return "both", s, h, texts
    if "error" in s:
        return "b", s, h, texts
    if "error" in h:
        return "c", s, h, texts
    diffs = []
    for k in ["tokens", "size", "split", "clean", "decode0", "decode1", "ids"]:
        if s[k] != h[k]:
            diffs.append(k)
    return ("a:" + ",".join(diffs) if diffs else "ok"), s, h, texts


def template_tokenizer_json(workdir):
    """The golden vocabulary's tokenizer.json as transformers saves it (its added_tokens replaced per folder)."""
    folder = os.path.join(workdir, "template")
    os.makedirs(folder)
    shutil.copy(VOCAB_FILE, folder)
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizer_class": "BertTokenizer", "do_lower_case": True}, f)
    tpl = json.loads(AutoTokenizer.from_pretrained(folder).backend_tokenizer.to_str())
    assert len(tpl["model"]["vocab"]) == len(VOCAB), "the template tokenizer.json lacks the vocabulary"
    return tpl


def build_probe(workdir):
    probe = os.path.join(workdir, "added_tokens_probe")
    cxx = os.environ.get("CXX", "c++")
    subprocess.run([cxx, "-std=c++20", "-O1", "-I", os.path.join(ROOT, "include"),
                    os.path.join(ROOT, "tools", "added_tokens_probe.cpp"), "-o", probe], check=True)
    return probe


def main():
    global CLEAN, PROBE, TPL_JSON
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=1, help="folder i uses random.Random(seed * 100000 + i)")
    p.add_argument("--count", type=int, default=100000, help="at most this many folders")
    p.add_argument("--seconds", type=float, default=300, help="stop after this long")
    p.add_argument("--clean", action="store_true", help="only files as transformers writes them")
    p.add_argument("--log", default="fuzz_added_tokens.jsonl", help="the folders that differ or are refused")
    a = p.parse_args()
    CLEAN = a.clean
    workdir = tempfile.mkdtemp(prefix="sinter_fuzz_")
    PROBE = build_probe(workdir)
    TPL_JSON = template_tokenizer_json(workdir)
    t0 = time.time()
    counts = collections.Counter()
    refused_sinter, refused_hf = collections.Counter(), collections.Counter()
    i = -1
    with open(a.log, "w", encoding="utf-8") as out:
        for i in range(a.count):
            if time.time() - t0 > a.seconds:
                break
            seed = a.seed * 100000 + i
            rng = random.Random(seed)
            files = gen(rng)
            kind, s, h, texts = compare(files, os.path.join(workdir, "folder"))
            counts[kind.split(":")[0]] += 1
            if kind != "ok":
                rec = {"i": i, "seed": seed, "kind": kind, "files": files, "texts": texts,
                       "sinter": {k: v for k, v in s.items() if k != "order"}, "hf": h}
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                out.flush()
            if kind == "b":
                refused_sinter[re.sub(r"\"[^\"]*\"", "Q", s["error"].replace(workdir, ""))[:150]] += 1
            if kind == "c":
                refused_hf[h["error"][:150]] += 1
            if kind.startswith("a"):
                counts[kind] += 1
    shutil.rmtree(workdir, ignore_errors=True)
    print("done", i + 1, "folders in", round(time.time() - t0), "s; log:", a.log)
    for k, v in counts.most_common():
        print(v, k)
    print("--- refused by sinter only")
    for k, v in refused_sinter.most_common():
        print(v, k)
    print("--- refused by transformers only")
    for k, v in refused_hf.most_common():
        print(v, k)
    return 1 if any(k.startswith("a:") for k in counts) else 0


if __name__ == "__main__":
    sys.exit(main())
