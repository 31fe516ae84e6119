#!/usr/bin/env python3
"""Golden checkpoints and Hugging Face outputs for sinter's BERT tests.

Writes, under tests/golden/ (or --out):
  bert_tiny/       BertModel, f32, exactly as save_pretrained writes it (config.json,
                   model.safetensors), a vocab.txt, and golden.safetensors: the inputs and
                   transformers' outputs (last hidden state, pooled output, sentence embedding).
  bert_tiny_cls/   BertForSequenceClassification (3 labels, id2label), stored in f16 and sharded
                   (model.safetensors.index.json + 2 shards), then rewritten the way old uploads
                   look: `bert.` prefix (as task models have), legacy LayerNorm gamma/beta names,
                   plus tensors a loader must ignore (embeddings.position_ids, cls.*). Its outputs
                   add the logits; they are computed in f32 from the f16-rounded weights.
  activations.safetensors  x and gelu / gelu_tanh / relu of x, from torch.
  bert_tiny_rerank/ a cross-encoder: BertForSequenceClassification with one label, stored in f16,
                   with pairs.tsv (query TAB passage a line) and golden.json: what transformers'
                   text-classification pipeline gives for each pair (sigmoid scores, as it applies
                   for one label; no sentence-transformers activation in its config), with the
                   pairs' token ids and the raw logits; and st6/, the files sentence-transformers
                   6 saves for it as a CrossEncoder with an Identity activation, and st6_prompt/,
                   the same with prompts (a default one), beside golden.json: what
                   CrossEncoder.predict and .rank give with each prompt
                   (`--only rerank_st6` writes these alone; needs sentence-transformers).

The model dimensions are sinter::bert::tiny's (include/sinter/nn/bert/config.hpp). Weights are
random (fixed seed) with larger spreads than BERT's initialiser, so attention is far from uniform
and every LayerNorm gamma/beta matters: a test on near-zero weights would prove little.

    pip install -r tools/requirements-golden.txt
    python tools/make_golden.py
"""
import argparse
import json
import math
import pathlib
import shutil

import safetensors
import torch
import torch.nn.functional as F
import transformers
from safetensors.torch import load_file, save_file
from transformers import BertConfig, BertForSequenceClassification, BertModel, BertTokenizerFast, pipeline

SEED = 20261128
TINY = dict(  # sinter::bert::tiny
    vocab_size=512,
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=128,
    max_position_embeddings=64,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
    hidden_act="gelu",
)
LABELS = ["negative", "neutral", "positive"]
PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4
LENGTHS = [16, 11, 5, 1]  # one batch, right-padded to 16; the last is [CLS] alone
SEQ = 16


def versions():
    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "safetensors": safetensors.__version__,
        "seed": str(SEED),
    }


def randomize(model, gen):
    """Every parameter drawn afresh: embeddings N(0, 0.5), linear weights N(0, 1/in), biases
    N(0, 0.1), LayerNorm gamma 1 + N(0, 0.2) and beta N(0, 0.1)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.2 * noise)
            elif "embeddings" in name:
                p.copy_(0.5 * noise)
            elif name.endswith(".weight"):
                p.copy_(noise / math.sqrt(p.shape[1]))
            else:
                p.copy_(0.1 * noise)


def make_inputs(gen):
    ids = torch.zeros(len(LENGTHS), SEQ, dtype=torch.int32)
    mask = torch.zeros_like(ids)
    types = torch.zeros_like(ids)
    for b, n in enumerate(LENGTHS):
        ids[b, :n] = torch.randint(MASK + 1, TINY["vocab_size"], (n,), generator=gen, dtype=torch.int32)
        ids[b, 0] = CLS
        if n > 1:
            ids[b, n - 1] = SEP
        mask[b, :n] = 1
        if n > 4:  # a pair: the second segment (and its SEP) has type 1
            types[b, n // 2 : n] = 1
    return ids, mask, types


@torch.no_grad()
def run(model, ids, mask, types):
    model.eval()
    out = model(input_ids=ids.long(), attention_mask=mask.long(), token_type_ids=types.long(),
                output_hidden_states=True)
    base = out if hasattr(out, "last_hidden_state") else None
    hidden = base.last_hidden_state if base is not None else out.hidden_states[-1]
    m = mask.unsqueeze(-1).float()  # sentence-transformers' mean pooling, then L2 normalisation
    emb = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    emb = F.normalize(emb, p=2, dim=1, eps=1e-12)
    result = {
        "input_ids": ids,
        "attention_mask": mask,
        "token_type_ids": types,
        "last_hidden_state": hidden.float().contiguous(),
        "sentence_embedding": emb.float().contiguous(),
    }
    if base is not None:
        result["pooler_output"] = base.pooler_output.float().contiguous()
    else:
        result["logits"] = out.logits.float().contiguous()
        pooled = model.bert.pooler(hidden)
        result["pooler_output"] = pooled.float().contiguous()
    return result


def write_vocab(path):
    words = ("the of and to a in is it you that he was for on are with as I his they be at one "
             "have this from or had by hot word but what some we can out other were all there "
             "when up use your how said an each she which do their time if will way about many "
             "then them write would like so these her long make thing see him two has look more "
             "day could go come did number sound no most people my over know water than call "
             "first who may down side been now find").split()
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list(".,!?'-;:()") + letters
    tokens += ["##" + c for c in letters] + [str(d) for d in range(10)] + ["##" + str(d) for d in range(10)]
    tokens += [w.lower() for w in words if w.lower() not in tokens]
    tokens += ["##" + w for w in ("s", "ed", "ing", "er", "est", "ly", "tion") if "##" + w not in tokens]
    tokens += [f"[unused{i}]" for i in range(TINY["vocab_size"] - len(tokens))]
    assert len(tokens) == TINY["vocab_size"] and len(set(tokens)) == len(tokens)  # a vocab has no repeats
    path.write_text("\n".join(tokens) + "\n")


def legacy_names(name):
    return name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")


def rewrite_legacy(folder, gen):
    """Renames LayerNorm weights to gamma/beta in each shard and the index, and adds tensors that
    a loader must ignore."""
    index_path = folder / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    shards = sorted(set(index["weight_map"].values()))
    assert len(shards) >= 2, "the sharded variant needs at least two shards"
    weight_map = {}
    for i, shard in enumerate(shards):
        tensors = {legacy_names(k): v for k, v in load_file(folder / shard).items()}
        if i == 0:
            tensors["bert.embeddings.position_ids"] = torch.arange(TINY["max_position_embeddings"]).unsqueeze(0)
            tensors["cls.seq_relationship.weight"] = torch.randn(2, TINY["hidden_size"], generator=gen).half()
            tensors["cls.seq_relationship.bias"] = torch.randn(2, generator=gen).half()
        save_file(tensors, folder / shard, metadata={"format": "pt"})
        weight_map.update({k: shard for k in tensors})
    index["weight_map"] = dict(sorted(weight_map.items()))
    index_path.write_text(json.dumps(index, indent=2) + "\n")


# Query and passage pairs for the cross-encoder: words of the vocab, a word outside it ([UNK]
# or pieces), mixed case and punctuation; each pair well under the 64 positions.
PAIRS = [
    ("what is hot water", "Water is hot when you heat it."),
    ("what is hot water", "The people were there when I called."),
    ("who said that", "He said that the word was long, but she did not know it."),
    ("how many days", "Some days there is more water than we can use."),
    ("Zebra crossing?", "a zebra has stripes"),
    ("one", "two"),
]


@torch.no_grad()
def make_rerank(out, meta):
    gen = torch.Generator().manual_seed(SEED + 4)  # its own stream: the other goldens stay as they are
    config = BertConfig(**TINY, num_labels=1, attn_implementation="eager")
    model = BertForSequenceClassification(config).eval()
    randomize(model, gen)
    model.classifier.weight.data *= 30  # the pairs' pooled outputs are alike: spread their logits over units
    model = model.half().float()  # the f16-rounded weights, computed in f32
    d = out / "bert_tiny_rerank"
    shutil.rmtree(d, ignore_errors=True)
    model.half().save_pretrained(d)
    model = model.float()
    write_vocab(d / "vocab.txt")
    (d / "pairs.tsv").write_text("".join(f"{q}\t{p}\n" for q, p in PAIRS))
    tokenizer = BertTokenizerFast.from_pretrained(d)  # from its vocab.txt, lower-casing as BERT does
    classify = pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")
    results = classify([{"text": q, "text_pair": p} for q, p in PAIRS])
    encoded = tokenizer([q for q, _ in PAIRS], [p for _, p in PAIRS], padding=True, return_tensors="pt")
    logits = model(**encoded).logits[:, 0]
    golden = {
        "versions": meta,
        "labels": [r["label"] for r in results],
        "scores": [r["score"] for r in results],  # the pipeline's: sigmoid(logit)
        "logits": logits.tolist(),
        "input_ids": [tokenizer(q, p)["input_ids"] for q, p in PAIRS],
        "token_type_ids": [tokenizer(q, p)["token_type_ids"] for q, p in PAIRS],
    }
    (d / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")
    make_rerank_st6(d)


def make_rerank_st6(d):
    """The small files sentence-transformers 6 writes when it saves that model as a CrossEncoder
    whose activation is Identity (ms-marco's): config_sentence_transformers.json (which now holds
    the activation, config.json no longer does), modules.json (the Transformer alone) and
    sentence_bert_config.json, under bert_tiny_rerank/st6/. Needs sentence-transformers."""
    import tempfile

    from sentence_transformers import CrossEncoder

    st6 = d / "st6"
    shutil.rmtree(st6, ignore_errors=True)
    st6.mkdir()
    model = CrossEncoder(str(d), device="cpu", activation_fn=torch.nn.Identity())
    with tempfile.TemporaryDirectory() as tmp:
        model.save(tmp)
        assert "sentence_transformers" not in json.loads((pathlib.Path(tmp) / "config.json").read_text())
        for name in ("config_sentence_transformers.json", "modules.json", "sentence_bert_config.json"):
            shutil.copyfile(pathlib.Path(tmp) / name, st6 / name)

    # With prompts: sentence-transformers puts the prompt before the first text of each pair (the
    # query), and applies the default one unless told otherwise.
    prompted = d / "st6_prompt"
    shutil.rmtree(prompted, ignore_errors=True)
    prompted.mkdir()
    prompts = {"query": "what is the answer to: ", "judge": "Is this relevant? "}
    model = CrossEncoder(str(d), device="cpu", activation_fn=torch.nn.Identity(), prompts=prompts,
                         default_prompt_name="query", model_kwargs={"dtype": torch.float32})  # f32 math, as sinter's
    with tempfile.TemporaryDirectory() as tmp:
        model.save(tmp)
        shutil.copyfile(pathlib.Path(tmp) / "config_sentence_transformers.json",
                        prompted / "config_sentence_transformers.json")
    query, passages = PAIRS[0][0], [p for _, p in PAIRS]
    golden = {
        "predict_default": model.predict(PAIRS).tolist(),
        "predict_judge": model.predict(PAIRS, prompt_name="judge").tolist(),
        "predict_text": model.predict(PAIRS, prompt="Q: ").tolist(),
        "predict_none": model.predict(PAIRS, prompt="").tolist(),
        "rank_query": query,
        "rank_default": [[r["corpus_id"], float(r["score"])] for r in model.rank(query, passages)],
        "input_ids_default": [model.tokenizer(prompts["query"] + q, p)["input_ids"] for q, p in PAIRS],
    }
    (prompted / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = pathlib.Path(__file__).resolve().parent.parent
    parser.add_argument("--out", type=pathlib.Path, default=root / "tests" / "golden")
    parser.add_argument("--only", choices=["rerank", "rerank_st6"],
                        help="write only this golden (the others stay as they are)")
    args = parser.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.only == "rerank":
        make_rerank(out, versions())
        return
    if args.only == "rerank_st6":
        make_rerank_st6(out / "bert_tiny_rerank")
        return
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    meta = versions()

    ids, mask, types = make_inputs(gen)

    # 1. BertModel, f32, as save_pretrained writes it.
    config = BertConfig(**TINY, attn_implementation="eager")
    model = BertModel(config).eval()
    randomize(model, gen)
    d = out / "bert_tiny"
    shutil.rmtree(d, ignore_errors=True)
    model.save_pretrained(d)
    write_vocab(d / "vocab.txt")
    save_file(run(model, ids, mask, types), d / "golden.safetensors", metadata=meta)

    # 2. BertForSequenceClassification, f16 storage, sharded, legacy names.
    config = BertConfig(**TINY, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
                        label2id={l: i for i, l in enumerate(LABELS)}, attn_implementation="eager")
    model = BertForSequenceClassification(config).eval()
    randomize(model, gen)
    model = model.half()
    d = out / "bert_tiny_cls"
    shutil.rmtree(d, ignore_errors=True)
    model.save_pretrained(d, max_shard_size="150KB")
    rewrite_legacy(d, gen)
    shutil.copy(out / "bert_tiny" / "vocab.txt", d / "vocab.txt")
    save_file(run(model.float(), ids, mask, types), d / "golden.safetensors", metadata=meta)

    # 3. Activations at points that cover both tails and the curved middle.
    x = torch.cat([torch.linspace(-8, 8, 161), 3 * torch.randn(64, generator=gen)])
    save_file({"x": x, "gelu": F.gelu(x), "gelu_tanh": F.gelu(x, approximate="tanh"), "relu": F.relu(x)},
              out / "activations.safetensors", metadata=meta)

    # 4. A cross-encoder (one label) on query and passage pairs, scored by the pipeline.
    make_rerank(out, meta)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
