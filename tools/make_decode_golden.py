#!/usr/bin/env python3
"""Writes tests/golden/text/decode/: a checkpoint folder and the text transformers 5 decodes id
sequences to, for sinter's Tokenizer::decode to match.

    pip install -r tools/requirements-golden.txt    # transformers 5, tokenizers
    python3 tools/make_decode_golden.py

The folder is added/v4's (bert-base-uncased's vocab.txt, which the test copies in beside it, and
added tokens: normalised, raw, special, some the vocabulary has) with "clean_up_tokenization_spaces":
true in its tokenizer_config.json, as transformers 4 saved BERT tokenizers (transformers 5's
default is false).

The id sequences: the encodings of texts built of words, punctuation, contractions ("it's",
"don't") and the added tokens; then random ids biased to what the decoder treats specially:
"##" pieces (also first), the punctuation and contraction pieces the clean-up joins, "do" "not",
special tokens, added tokens (one holds a space: "new york").

Then, for each folder of added/ but v5 (which marks its tokens special in its own way), random
ids decoded with skip_special_tokens, and without, under the folder's clean-up (false: none sets
it). v5's tokenizer.json lacks its vocabulary (removed to keep it small), so transformers cannot
load that folder as it was written; v4 is the same tokenizer.

Three folders of decode/ then try which added tokens transformers 5 makes special, which is what
skip_special_tokens (and split_special_tokens) go by: specials/ (tokenizer_config.json lists
"[MASK]", and tokens that bos_token and a model-specific ent_token name, as not special, and has
extra AddedToken objects with "special" false and true), legacy_specials/ (added_tokens.json with
named and extra tokens) and json_specials/ (tokenizer.json lists "[MASK]" as not special, and
bos_token names one of its tokens; its model.vocab is removed once the ids are computed, as in
added/v5). Each: random ids and one sequence of every added id, with skip_special_tokens and
without.

tokenizers 0.23 decodes a normalised added token as its normalised content ("New York" is "new
york", "中文" is " 中  文 "), and skip_special_tokens leaves out a special token only where that
text is a special token's content: a normalised special "[Z]" decodes as "[z]", and stays.

cases.tsv: one line per sequence and option pair, tab-separated:
  folder  skip  clean  ids  text
folder: decode, decode/NAME or added/NAME; skip: skip_special_tokens (0 or 1); clean:
clean_up_tokenization_spaces (0, 1, or - for the folder's); ids space-separated; text as
transformers' decode returns it (no tabs or line breaks).
"""
import json
import os
import random
import shutil
import tempfile

from transformers import AutoTokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
GOLDEN = os.path.join(ROOT, "tests", "golden", "text")
OUT = os.path.join(GOLDEN, "decode")
SEED = 20261207

WORDS = ["hello", "world", "it's", "don't", "I'm", "we've", "they're", "do not", "naïve", "unbelievable",
         "tokenization", "日本", "covid19", "New York", "<sp>", "[Z]", "[MASK]", "<ent>", "e-mail", "!", "?", ".",
         ",", "'", "' s", "n't", "ok", "x", "42", "3.5", "(a)", "\"q\""]
SPECIAL_PIECES = ["##s", "##ing", "##t", "'", "s", "t", "n", "m", "ve", "re", "do", "not", ".", "?", "!", ",",
                  "[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]", "[unused4]", "a", "the", "##ly", "-", ";", "##."]


def load(folder):
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(folder, tmp, dirs_exist_ok=True)
        shutil.copy(os.path.join(GOLDEN, "vocab.txt"), tmp)
        return AutoTokenizer.from_pretrained(tmp)


def random_ids(rng, tok, n):
    piece_ids = [tok.convert_tokens_to_ids(p) for p in SPECIAL_PIECES]
    added_ids = sorted(tok.added_tokens_decoder)
    out = []
    for _ in range(n):
        seq = []
        for _ in range(rng.randint(1, 12)):
            r = rng.random()
            seq.append(rng.choice(piece_ids) if r < 0.5 else rng.choice(added_ids) if r < 0.7 else rng.randrange(len(tok)))
        out.append(seq)
    return out


def added_object(content, special, normalized=False):
    return {"__type": "AddedToken", "content": content, "lstrip": False, "normalized": normalized, "rstrip": False,
            "single_word": False, "special": special}


def write_json(folder, name, value):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def special_folders():
    """The folders of decode/ that try the special flags, as (name, tokenizer loaded from it)."""
    base = {"do_lower_case": True, "tokenizer_class": "BertTokenizer"}
    plain = {"lstrip": False, "rstrip": False, "single_word": False}
    decoder = {"0": dict(plain, content="[PAD]", normalized=False, special=True),
               "100": dict(plain, content="[UNK]", normalized=False, special=True),
               "101": dict(plain, content="[CLS]", normalized=False, special=True),
               "102": dict(plain, content="[SEP]", normalized=False, special=True),
               "103": dict(plain, content="[MASK]", normalized=False, special=False),
               "30522": dict(plain, content="<X>", normalized=False, special=False),
               "30523": dict(plain, content="<e1>", normalized=False, special=False),
               "30524": dict(plain, content="Plain", normalized=True, special=False)}
    write_json(os.path.join(OUT, "specials"), "tokenizer_config.json", dict(
        base, added_tokens_decoder=decoder, bos_token="<X>", ent_token="<e1>",
        additional_special_tokens=["<s1>", added_object("<q>", False), added_object("<r>", True)]))
    legacy = os.path.join(OUT, "legacy_specials")
    write_json(legacy, "added_tokens.json", {"<x>": 30522, "<e1>": 30523, "<s1>": 30524, "<p>": 30525})
    write_json(legacy, "tokenizer_config.json", dict(base, bos_token="<x>", ent_token="<e1>",
                                                     additional_special_tokens=["<s1>"]))
    out = [("specials", load(os.path.join(OUT, "specials"))), ("legacy_specials", load(legacy))]

    # json_specials: what transformers 5 saves (tokenizer.json and tokenizer_config.json), edited.
    saved = tempfile.mkdtemp()
    try:
        load(os.path.join(GOLDEN, "added", "v4")).save_pretrained(saved)
        with open(os.path.join(saved, "tokenizer.json"), encoding="utf-8") as f:
            tokenizer_json = json.load(f)
        with open(os.path.join(saved, "tokenizer_config.json"), encoding="utf-8") as f:
            config = json.load(f)
        for t in tokenizer_json["added_tokens"]:
            if t["content"] == "[MASK]":
                t["special"] = False
        config["bos_token"] = "covid19"
        write_json(saved, "tokenizer.json", tokenizer_json)
        write_json(saved, "tokenizer_config.json", config)
        out.append(("json_specials", AutoTokenizer.from_pretrained(saved)))
        folder = os.path.join(OUT, "json_specials")
        del tokenizer_json["model"]["vocab"]
        write_json(folder, "tokenizer.json", tokenizer_json)
        write_json(folder, "tokenizer_config.json", config)
    finally:
        shutil.rmtree(saved)
    return out


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    with open(os.path.join(GOLDEN, "added", "v4", "tokenizer_config.json"), encoding="utf-8") as f:
        config = json.load(f)
    config["clean_up_tokenization_spaces"] = True
    with open(os.path.join(OUT, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, ensure_ascii=False)
        f.write("\n")
    tok = load(OUT)
    assert tok.clean_up_tokenization_spaces is True
    rng = random.Random(SEED)
    sequences = []
    for _ in range(150):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 10)))
        sequences.append(tok(text)["input_ids"])
    sequences += random_ids(rng, tok, 150)
    sequences.append([])

    lines = []
    for ids in sequences:
        for skip in (False, True):
            for clean in (None, False, True):
                kwargs = {} if clean is None else {"clean_up_tokenization_spaces": clean}
                text = tok.decode(ids, skip_special_tokens=skip, **kwargs)
                assert "\t" not in text and "\n" not in text, text
                lines.append("\t".join(["decode", str(int(skip)), "-" if clean is None else str(int(clean)),
                                        " ".join(map(str, ids)), text]))
    for name, folder in special_folders():
        added_ids = sorted(folder.added_tokens_decoder)
        print(name, {i: (a.content, a.special) for i, a in folder.backend_tokenizer.get_added_tokens_decoder().items()})
        for ids in random_ids(rng, folder, 40) + [added_ids]:
            for skip in (False, True):
                text = folder.decode(ids, skip_special_tokens=skip)
                lines.append("\t".join(["decode/" + name, str(int(skip)), "-", " ".join(map(str, ids)), text]))
    added = os.path.join(GOLDEN, "added")
    for name in sorted(n for n in os.listdir(added) if os.path.isdir(os.path.join(added, n)) and n != "v5"):
        folder = load(os.path.join(added, name))
        assert folder.clean_up_tokenization_spaces is False
        for ids in random_ids(rng, folder, 40):
            for skip in (False, True):
                text = folder.decode(ids, skip_special_tokens=skip)
                assert "\t" not in text and "\n" not in text, text
                lines.append("\t".join(["added/" + name, str(int(skip)), "-", " ".join(map(str, ids)), text]))
    with open(os.path.join(OUT, "cases.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} cases to {OUT}")


if __name__ == "__main__":
    main()
