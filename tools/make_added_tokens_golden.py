#!/usr/bin/env python3
"""Writes tests/golden/text/added/: checkpoint folders with added tokens, and the ids transformers
gives texts that use them, for sinter's Tokenizer::from_directory to match.

    pip install -r tools/requirements-golden.txt    # transformers 5, tokenizers
    python3 tools/make_added_tokens_golden.py

Three folders, each read by transformers 5 from its own files plus bert-base-uncased's vocab.txt
(tests/golden/text/vocab.txt, which the test copies in beside them):
- v4/: tokenizer_config.json with "added_tokens_decoder", as transformers 4 saves it;
- v5/: what transformers 5's save_pretrained writes for the same tokenizer: tokenizer_config.json
  and tokenizer.json, whose "added_tokens" hold the tokens. Its "model.vocab" is removed to keep
  the file small (the ids were computed from the whole file), so sinter falls back on vocab.txt,
  as transformers does for a tokenizer.json without one;
- legacy/: added_tokens.json with "additional_special_tokens" in tokenizer_config.json, as
  transformers 3 saved them (special if named there, normalised if not special);
- legacy_map/: added_tokens.json beside special_tokens_map.json, whose additional special tokens
  ([unused1], an entity marker [E1]) and [MASK] (an object, normalised) transformers 5 takes in
  its own way: [E1] is listed, so it stays a normalised token; [unused1] is added, raw;
- config_extras/: tokenizer_config.json alone, with empty extra_special_tokens, so its
  additional_special_tokens count (a string and an AddedToken object, normalised), a bos_token
  and a model-specific ent_token;
- single_word/: tokenizer_config.json with "added_tokens_decoder" whose tokens are mostly
  single_word (raw and normalised), beside plain ones that overlap them, with texts of their own
  (SINGLE_WORD_HANDWRITTEN and random ones of SINGLE_WORD_PIECES) that put word and non-word
  characters of every kind next to them: letters, digits, marks, "_" and U+203F (Pc), the zero
  width joiner, a letter Unicode 16.0 added, punctuation, symbols and spaces;
- split_special/: tokenizer_config.json with "split_special_tokens": true, so that no special token
  is matched ("[SEP]" typed in a text is "[", "sep", "]"), and "added_tokens_decoder" with the first
  five's tokens plus ones that overlap the special ones: "[SEP]x" (longer, not special, so it
  matches), "EP]" (inside "[SEP]", not tried: the refused match is skipped whole) and a normalised
  "sp>" (inside the raw special "<sp>", which, refused, stays in the normalised pass's text).
The tokens of the first five: normalised ones ("covid19", "New York", "Café", "中文", "e-mail", "Ωmega"), raw ones
("<ent>" with lstrip and rstrip, "<e", "→x"), special ones ("<sp>" raw, "[Z]" normalised), and
ones the vocabulary already has ("hello", "ab", "abc"), which keep their ids.

word_characters.txt: the runs of code points that tokenizers' regex \w matches, one "first last"
(hexadecimal) per line, found by placing a single_word token after each code point.

cases.tsv: one line per text and folder, tab-separated (the texts have no tabs or line breaks):
  S  folder  text  ids          ids: the input_ids with [CLS] and [SEP], space-separated
  P  folder  a  b  ids          a pair
"""
import json
import os
import random
import shutil
import sys
import tempfile

from transformers import AutoTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_unicode_tables import tokenizers_word_characters  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "golden", "text", "added")
VOCAB = os.path.join(ROOT, "tests", "golden", "text", "vocab.txt")
SEED = 20261206


def token(content, special=False, normalized=None, lstrip=False, rstrip=False, single_word=False):
    return {"content": content, "lstrip": lstrip, "normalized": (not special) if normalized is None else normalized,
            "rstrip": rstrip, "single_word": single_word, "special": special}


SPECIALS = {0: token("[PAD]", True), 100: token("[UNK]", True), 101: token("[CLS]", True),
            102: token("[SEP]", True), 103: token("[MASK]", True)}
NEW = [token("covid19"), token("New York"), token("Café"), token("中文"), token("e-mail"),
       token("<ent>", normalized=False, lstrip=True, rstrip=True), token("<sp>", True), token("→x", normalized=False),
       token("[Z]", True, normalized=True), token("Ωmega"), token("<e", normalized=False)]
IN_VOCAB = {7592: token("hello"), 11113: token("ab"), 5925: token("abc")}
BASE = {"do_lower_case": True, "tokenizer_class": "BertTokenizer", "unk_token": "[UNK]", "sep_token": "[SEP]",
        "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]", "model_max_length": 512}

HANDWRITTEN = [
    "I had COVID19 and covid19x, e-mail NEW YORK new  york NewYork",
    "Café CAFE cafe café 中文 中 文 x中文y",
    "a <ent> b<ent>c <sp>x <SP> →x →X abcd ab abab",
    "hello Hello HELLO hellos [Z] [z] [MASK][mask]",
    "→xcovid19<ent>New York",
    "<e <ex <en <ent <ent> <ent>> ΩMEGA ωmega Ωmegas",
    "e-mails E-MAIL e - mail email",
    "",
    "[CLS][SEP] [PAD][UNK]",
]
PIECES = ["covid19", "COVID19", "Covid19", "new york", "New York", "NEW YORK", "new  york", "café", "Café", "CAFÉ",
          "cafe", "中文", "中", "文", "e-mail", "E-Mail", "<ent>", "<ENT>", "<e", "<sp>", "→x", "→X", "[Z]", "[z]",
          "Ωmega", "ΩMEGA", "hello", "HeLLo", "ab", "abc", "abab", "[MASK]", "[mask]", "[CLS]", "the", "running",
          "naïve", "日本", "😀", "!", "-", "'", "x", "Y", "42", "\u00a0", "\u0301", "e\u0301", "[E1]", "[e1]",
          "[/E1]", "[unused1]", "<s>", "</s>", "<x>", "<X>", "<Y>", "<y>"]


# Single-word tokens (sw) beside plain ones that overlap them: "m>x" starts inside "<m>", "k9" inside
# "ak"; a refused match is skipped whole, so "a<m>x" and "xak9" match neither.
SINGLE_WORD_NEW = [token("<m>", normalized=False, single_word=True), token("m>x", normalized=False),
                   token("→y", normalized=False, single_word=True), token("Ta", single_word=True),
                   token("New Town", single_word=True), token("Ök", single_word=True), token("k9"), token("_q", single_word=True), token("[S]", True, single_word=True)]
SINGLE_WORD_IN_VOCAB = {11113: token("ab", single_word=True), 17712: token("ak", single_word=True)}
SINGLE_WORD_HANDWRITTEN = [
    "<m> a<m> <m>a <m>. (<m>) <m>_ <m>1 1<m> <m>\u200d \u200d<m> <m>\u0301 é<m> 中<m> <m>😀",
    "a<m>x <m>x m>x xm>x <M> <m><m> <m>→y →y →yy x→y →y.",
    "Ta ta TA tax xta Ta1 1ta ta_ _ta ta\u200d ta\u0301 tá ta‿ ta٣ ta.ta ta-ta Ta!",
    "New Town new  town NEW TOWN newtown New Towns a New Town, New\u00a0Town",
    "Ök ök OK ok ÖK ok\u0301 \u0301ok ök1 xök Ökx",
    "ak xak ak9 xak9 k9 xk9 ak_ ak.k9 ab abc xab ab! [S] x[S] [S]x [s]",
    "_q a_q _qa _q _q_ __q",
    "ta\U0001E5D0 \U0001E5D0ta ta\u0897 taꟍ ta\u0378 ta\U000E0001 taⅫ ta²",
    "",
]
SINGLE_WORD_PIECES = ["<m>", "<M>", "m>x", "→y", "Ta", "ta", "TA", "New Town", "new town", "NEW  TOWN", "Ök", "ok", "ÖK",
                      "ok\u0301", "ak", "k9", "ak9", "_q", "_", "ab", "abc", "[S]", "[s]", "x", "Z", "1", "٣", "中", "é",
                      "\u0301", "\u200d", "\u203f", "\U0001E5D0", "ꟍ", "-", ".", "!", "😀", "²", "Ⅻ", "ß", "İ"]


SPLIT_NEW = [token("[SEP]x", normalized=False), token("EP]", normalized=False), token("sp>")]
SPLIT_HANDWRITTEN = [
    "[CLS] a [SEP] b [SEP]x [SEP]xy x[SEP] [SEP][SEP] [sep] [MASK]ed EP] xEP]",
    "<sp> <SP> <sp>> sp> x<sp [Z] [z] [Z]x <ent> <e hello",
    "[PAD][UNK][CLS] [UNK]",
    "",
]
SPLIT_PIECES = PIECES + ["[SEP]x", "[SEP]", "[sep]", "EP]", "ep]", "sp>", "SP>", "[PAD]", "[UNK]"]


def random_texts(rng, n, pieces=PIECES):
    out = []
    for _ in range(n):
        parts = [rng.choice(pieces) for _ in range(rng.randint(1, 8))]
        seps = [rng.choice(["", "", " ", " ", "  ", "\u3000"] if pieces is SINGLE_WORD_PIECES else
                           ["", " ", " ", "  ", "\u3000"]) for _ in parts]
        out.append("".join(p + s for p, s in zip(parts, seps)))
    return out


def write(folder, files):
    os.makedirs(folder, exist_ok=True)
    for name, content in files.items():
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            json.dump(content, f, indent=2, ensure_ascii=False)
            f.write("\n")


def load(folder):
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(folder, tmp, dirs_exist_ok=True)
        shutil.copy(VOCAB, tmp)
        return AutoTokenizer.from_pretrained(tmp)


def word_character_runs():
    """The code points tokenizers' single_word check sees as regex \\w, as (first, last) runs."""
    runs = []
    for c, word in enumerate(tokenizers_word_characters()):
        if not word:
            continue
        if runs and runs[-1][1] == c - 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return runs


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    decoder = {str(i): t for i, t in SPECIALS.items()}
    decoder.update({str(30522 + i): t for i, t in enumerate(NEW)})
    decoder.update({str(i): t for i, t in IN_VOCAB.items()})
    write(os.path.join(OUT, "v4"), {"tokenizer_config.json": dict(BASE, added_tokens_decoder=decoder)})

    v4 = load(os.path.join(OUT, "v4"))
    saved = tempfile.mkdtemp()
    try:
        v4.save_pretrained(saved)
        v5 = AutoTokenizer.from_pretrained(saved)  # from its full tokenizer.json
        files = {}
        for name in sorted(os.listdir(saved)):
            with open(os.path.join(saved, name), encoding="utf-8") as f:
                files[name] = json.load(f)
        del files["tokenizer.json"]["model"]["vocab"]
    finally:
        shutil.rmtree(saved)
    write(os.path.join(OUT, "v5"), files)

    legacy = {t["content"]: 30522 + i for i, t in enumerate(NEW)}
    write(os.path.join(OUT, "legacy"), {"added_tokens.json": legacy,
                                        "tokenizer_config.json": dict(BASE, additional_special_tokens=["<sp>", "[Z]"])})

    special_map = {k: v for k, v in BASE.items() if k.endswith("_token")}
    special_map["mask_token"] = {"content": "[MASK]", "lstrip": True, "normalized": True, "rstrip": False,
                                 "single_word": False}
    special_map["additional_special_tokens"] = ["[unused1]", "[E1]", "[/E1]"]
    write(os.path.join(OUT, "legacy_map"), {"added_tokens.json": {"[E1]": 30522, "[/E1]": 30523},
                                            "special_tokens_map.json": special_map,
                                            "tokenizer_config.json": {"do_lower_case": True, "tokenizer_class": "BertTokenizer"}})
    extra_object = {"__type": "AddedToken", "content": "<Y>", "lstrip": False, "normalized": True, "rstrip": False,
                    "single_word": False, "special": False}
    write(os.path.join(OUT, "config_extras"), {"tokenizer_config.json": dict(
        BASE, extra_special_tokens=[], additional_special_tokens=["<x>", extra_object], bos_token="<s>",
        ent_token="<ent>")})

    sw_decoder = {str(i): t for i, t in SPECIALS.items()}
    sw_decoder.update({str(30522 + i): t for i, t in enumerate(SINGLE_WORD_NEW)})
    sw_decoder.update({str(i): t for i, t in SINGLE_WORD_IN_VOCAB.items()})
    write(os.path.join(OUT, "single_word"), {"tokenizer_config.json": dict(BASE, added_tokens_decoder=sw_decoder)})

    split_decoder = dict(decoder)
    split_decoder.update({str(30522 + len(NEW) + i): t for i, t in enumerate(SPLIT_NEW)})
    write(os.path.join(OUT, "split_special"),
          {"tokenizer_config.json": dict(BASE, split_special_tokens=True, added_tokens_decoder=split_decoder)})

    rng = random.Random(SEED)
    texts = HANDWRITTEN + random_texts(rng, 300)
    pairs = list(zip(random_texts(rng, 30), random_texts(rng, 30)))
    sw_rng = random.Random(SEED + 1)
    sw_texts = SINGLE_WORD_HANDWRITTEN + random_texts(sw_rng, 300, SINGLE_WORD_PIECES)
    sw_pairs = list(zip(random_texts(sw_rng, 20, SINGLE_WORD_PIECES), random_texts(sw_rng, 20, SINGLE_WORD_PIECES)))
    split_rng = random.Random(SEED + 2)
    split_texts = SPLIT_HANDWRITTEN + random_texts(split_rng, 300, SPLIT_PIECES)
    split_pairs = list(zip(random_texts(split_rng, 20, SPLIT_PIECES), random_texts(split_rng, 20, SPLIT_PIECES)))
    lines = []
    for name in ["v4", "v5", "legacy", "legacy_map", "config_extras", "single_word", "split_special"]:
        if name == "single_word":
            texts, pairs = sw_texts, sw_pairs
        if name == "split_special":
            texts, pairs = split_texts, split_pairs
        tok = v5 if name == "v5" else load(os.path.join(OUT, name))
        print(name, {i: (t.content, t.normalized) for i, t in tok.added_tokens_decoder.items() if i not in SPECIALS})
        for t in texts:
            lines.append("\t".join(["S", name, t, " ".join(map(str, tok(t)["input_ids"]))]))
        for a, b in pairs:
            lines.append("\t".join(["P", name, a, b, " ".join(map(str, tok(a, b)["input_ids"]))]))
    with open(os.path.join(OUT, "cases.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    runs = word_character_runs()
    with open(os.path.join(OUT, "word_characters.txt"), "w", encoding="utf-8") as f:
        f.write("".join(f"{a:X} {b:X}\n" for a, b in runs))
    print(f"wrote {len(lines)} cases and {len(runs)} runs of word characters to {OUT}")


if __name__ == "__main__":
    main()
