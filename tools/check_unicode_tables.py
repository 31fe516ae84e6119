#!/usr/bin/env python3
"""Checks the tables of tools/gen_unicode_tables.py against Hugging Face `tokenizers` itself.

    pip install tokenizers && python3 tools/check_unicode_tables.py

For every code point and each of the four (lowercase, strip_accents) settings, a Python model of
sinter's normaliser built on the generated tables must give what tokenizers' BertNormalizer gives,
and the model's pre-tokeniser classes must match BertPreTokenizer's splits. Canonical reordering is
checked on every pair of kept combining characters, and the word characters (regex \w) on every
code point, through a single_word added token placed after it. Prints the first mismatches and
exits non-zero.
"""
import os
import sys

import tokenizers
from tokenizers import AddedToken, Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import WordLevel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_unicode_tables as gen  # noqa: E402

SETTINGS = [(True, True), (True, False), (False, False), (False, True)]  # (lowercase, strip_accents)


def tokenizers_word_characters():
    """Per code point, whether tokenizers' single_word check takes it for regex \\w: a single_word
    token right after it (right before it, for the token's own characters) matches only if not.
    Surrogates, which Python cannot hand to Rust, are False."""
    probe = Tokenizer(WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    probe.add_tokens([AddedToken("<w>", single_word=True, normalized=False)])
    w = probe.token_to_id("<w>")
    word = [False] * 0x110000
    code_points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for i in range(0, len(code_points), 50000):
        chunk = code_points[i:i + 50000]
        texts = [("<w>" + chr(c)) if chr(c) in "<w>" else (chr(c) + "<w>") for c in chunk]
        for c, e in zip(chunk, probe.encode_batch(texts, add_special_tokens=False)):
            word[c] = w not in e.ids
    return word


class Model:
    def __init__(self, ucd, tables):
        self.ucd, self.t = ucd, tables
        self.lower = {c: [c + d] for a, b, d, s in tables.lowercase_runs for c in range(a, b + 1, s)}
        self.lower.update({c: list(l) for c, l in tables.special_lowercase})
        self.nfd = dict(tables.decompositions)
        self.ccc = dict(tables.combining)

    def decompose(self, c):
        if gen.HANGUL_FIRST <= c <= gen.HANGUL_LAST:
            return self.ucd.nfd(c)  # algorithmic
        return self.nfd.get(c, [c])

    def normalize(self, text, lowercase, strip):
        cls = self.t.class_of
        out = []
        for ch in text:
            c = ord(ch)
            k = cls[c]
            if k == gen.REMOVE:
                continue
            out += [32] if k == gen.SPACE else [32, c, 32] if k == gen.CJK else [c]
        if strip:
            out = [d for c in out for d in self.decompose(c)]
            # Mark-class characters are dropped, so only the combining class matters for the order.
            out = gen.canonical_order([c for c in out if cls[c] != gen.MARK], lambda c: self.ccc.get(c, 0))
        if lowercase:
            out = [d for c in out for d in self.lower.get(c, [c])]
        return "".join(map(chr, out))

    def pre_tokenize(self, text):
        words, word = [], ""
        for ch in text:
            c = ord(ch)
            if c in self.ucd.white_space or self.t.class_of[c] == gen.PUNCT:
                if word:
                    words.append(word)
                word = ""
                if self.t.class_of[c] == gen.PUNCT:
                    words.append(ch)
            else:
                word += ch
        return words + ([word] if word else [])


def main():
    ucd = gen.Ucd()
    model = Model(ucd, gen.Tables(ucd))
    hf = {s: normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=s[1],
                                        lowercase=s[0]) for s in SETTINGS}
    pre = pre_tokenizers.BertPreTokenizer()
    failures = []

    def check(what, text, expected, got):
        if expected != got:
            failures.append(f"{what} {ascii(text)}: tokenizers {ascii(expected)}, tables {ascii(got)}")

    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue  # not a str Python can hand to Rust
        text = "a" + chr(c) + "b"
        for s in SETTINGS:
            check(f"normalize{s}", text, hf[s].normalize_str(text), model.normalize(text, *s))
        check("pre_tokenize", text, [w for w, _ in pre.pre_tokenize_str(text)], model.pre_tokenize(text))
        if len(failures) > 20:
            break

    # Reordering: every kept combining character against every other, both orders.
    kept = [c for c, _ in model.t.combining] + [0x0301, 0x0316]
    for x in kept:
        for y in kept:
            text = "a" + chr(x) + chr(y)
            check("reorder", text, hf[(False, True)].normalize_str(text), model.normalize(text, False, True))

    # \w, from the runs of word_starts.
    word_start = set(model.t.word_starts)
    in_word = False
    for c, word in enumerate(tokenizers_word_characters()):
        in_word ^= c in word_start
        if word != in_word:
            failures.append(f"U+{c:04X} a word character: tokenizers {word}, tables {in_word}")

    print(f"tokenizers {tokenizers.__version__}, UCD {gen.ucd_version()}: "
          f"{len(failures)} mismatches over every code point")
    for f in failures[:20]:
        print("  " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
