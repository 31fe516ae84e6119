#!/usr/bin/env python3
"""Writes the tokenizer parity data that tests/text checks sinter against.

    pip install tokenizers
    python3 tools/make_tokenizer_golden.py [--check-against tokenizer.json]

Outputs (in tests/golden/text/):
- tokenizer_golden.txt: a deterministic corpus (fixed seed) of single texts, truncated pairs,
  padded batches, other option sets and invalid UTF-8, with the ids, type ids and masks Hugging
  Face `tokenizers` gives, for bert-base-uncased's vocabulary (vocab.txt, committed beside it).
- unicode_sweep.txt: for every block of 256 code points, a hash of what tokenizers' normaliser
  and pre-tokeniser do with each code point on its own (see sweep_descriptor).

The tokenizer is built the way transformers' BertTokenizerFast builds it (and as MiniLM's
tokenizer.json stores it): BertNormalizer + BertPreTokenizer + WordPiece("[UNK]", "##", 100) +
TemplateProcessing "[CLS] $A [SEP]" / "[CLS] $A [SEP] $B:1 [SEP]:1", with [PAD] [UNK] [CLS] [SEP]
[MASK] as special added tokens. --check-against compares that construction with a real
tokenizer.json on the whole corpus first.

File format (UTF-8, one record per line, fields separated by tabs; texts escape backslash as \\\\,
and tab, LF, CR and other bytes below 0x20, 0x7F and invalid UTF-8 as \\t \\n \\r \\xHH; each id is
three base-64 digits, alphabet A-Z a-z 0-9 + /, most significant first, with no separator; a C
field that is "=" repeats the U field(s) before it):
  T  max_length  text  ids(U)  ids(C)            single text; type ids all 0, mask all 1
  P  max_length  a  b  ids(U)  n0(U)  ids(C)  n0(C)  pair: the first n0 type ids are 0, the rest 1
  O  config  text  ids                         single text under another option set
  B  config  max_length  pad_to_max  pair  rows  a padded batch, followed by `rows` lines:
  R  a  b  ids  type_ids  mask                 (b empty for single texts; type ids and mask as 0/1 strings)
  Z  bytes  first_bad_offset  replaced  ids(U)  invalid UTF-8; replaced = bytes.decode("utf-8", "replace")
max_length 0 means no truncation. Configs: U = bert-base-uncased (lowercase, accents stripped);
C = cased (no lowercase, accents kept); L = lowercase, accents kept; S = accents stripped, no
lowercase; N = as U but tokenize_chinese_chars off.
"""
import argparse
import os
import random
import sys
import unicodedata

import tokenizers
from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_unicode_tables as gen  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "golden", "text")
VOCAB = os.path.join(OUT, "vocab.txt")
SEED = 20261128
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CONFIGS = {  # lowercase, strip_accents, handle_chinese_chars
    "U": (True, None, True),
    "C": (False, False, True),
    "L": (True, False, True),
    "S": (False, True, True),
    "N": (True, None, False),
}


def make_tokenizer(lowercase, strip_accents, chinese):
    tok = Tokenizer(WordPiece.from_file(VOCAB, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=chinese,
                                                strip_accents=strip_accents, lowercase=lowercase)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    vocab = tok.get_vocab()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tok.add_special_tokens(SPECIALS)
    return tok


# ---------------------------------------------------------------------------------------------
# The corpus


class Chars:
    """Pools of code points by kind, from the UCD (15.0) that gen_unicode_tables reads."""

    def __init__(self):
        ucd = gen.Ucd()
        self.ucd = ucd
        cats = {}
        for c, gc in ucd.category.items():
            if not 0xD800 <= c <= 0xDFFF:
                cats.setdefault(gc, []).append(c)
        self.cat = {k: sorted(v) for k, v in cats.items()}
        self.punct = sorted(c for k, v in cats.items() if k.startswith("P") for c in v)
        self.symbols = sorted(c for k, v in cats.items() if k.startswith("S") for c in v)
        self.marks = sorted(c for k in ("Mn", "Mc", "Me") for c in cats.get(k, []))
        self.after_8_0 = sorted(c for c, a in ucd.age.items() if a > (8, 0) and c in ucd.category
                                and not 0xD800 <= c <= 0xDFFF)
        self.assigned = sorted(c for c in ucd.category if not 0xD800 <= c <= 0xDFFF)
        self.kept_combining = sorted(c for c, v in ucd.ccc.items() if ucd.category_8_0(c) != "Mn")
        self.with_lower = sorted(c for c in ucd.lower)
        self.decomposable = sorted(c for c in ucd.decomposition)

    def block(self, lo, hi):
        return [c for c in range(lo, hi + 1) if c in self.ucd.category]


SCRIPTS = {
    "latin1": (0x00C0, 0x00FF), "latin_ext": (0x0100, 0x024F), "greek": (0x0370, 0x03FF),
    "greek_ext": (0x1F00, 0x1FFF), "cyrillic": (0x0400, 0x04FF), "armenian": (0x0531, 0x058A),
    "hebrew": (0x0591, 0x05F4), "arabic": (0x0600, 0x06FF), "devanagari": (0x0900, 0x097F),
    "bengali": (0x0980, 0x09FF), "thai": (0x0E01, 0x0E5B), "georgian": (0x10A0, 0x10FF),
    "hangul_jamo": (0x1100, 0x11FF), "hiragana": (0x3041, 0x309F), "katakana": (0x30A0, 0x30FF),
    "cjk": (0x4E00, 0x9FFF), "cjk_ext_a": (0x3400, 0x4DBF), "cjk_compat": (0xF900, 0xFAFF),
    "hangul": (0xAC00, 0xD7A3), "fullwidth": (0xFF01, 0xFF5E), "cjk_ext_b": (0x20000, 0x2A6DF),
    "cjk_compat_sup": (0x2F800, 0x2FA1F), "math_alnum": (0x1D400, 0x1D7FF), "emoji": (0x1F300, 0x1F64F),
    "latin_ext_add": (0x1E00, 0x1EFF), "general_punct": (0x2000, 0x206F), "letterlike": (0x2100, 0x214F),
}

ENGLISH = ("the quick brown fox jumps over lazy dog it was best of times worst age wisdom "
           "foolishness we hold these truths to be self evident that all men are created equal "
           "transformer models tokenize text into word pieces before embedding them in vectors "
           "unaffable unbelievable tokenization preprocessing hyperparameters GPU CUDA kernels").split()

ACCENTED = ("café naïve résumé Éclair façade über Straße Ærøskøbing crème brûlée São Paulo "
            "Kraków Łódź Dvořák Ångström jalapeño Nguyễn Việt Nam İstanbul ıi ǅemal ﬁnal ﬂow "
            "Ὀδυσσεύς ΣΊΣΥΦΟΣ Ǆ ǲ ϐ ẞ Ω K Å ≠ ≮ ≯ ῭ ΐ ǖ Ǘ ḉ ṩ ệ").split()

EMOJI = ["😀", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "❤️", "🇫🇷", "🇯🇵", "#️⃣", "1️⃣",
         "👩🏿\u200d💻", "🧑\u200d🤝\u200d🧑", "☺︎", "🤷\u200d♂️", "🫠", "🪿", "🐈\u200d⬛", "👁️\u200d🗨️"]

CONTROL = [chr(c) for c in list(range(0, 32)) + [0x7F] + list(range(0x80, 0xA0))] + [
    "\u00AD", "\u200B", "\u200C", "\u200D", "\u200E", "\u200F", "\u2028", "\u2029", "\u2060",
    "\u2066", "\u2069", "\uFEFF", "\uFFF9", "\uFFFB", "\uFFFD", "\U000E0001", "\U000E0020",
    "\U000E007F", "\u180E", "\u061C", "\u0600", "\u0890", "\U000110BD", "\U0001BCA0", "\U0001D173",
    "\uFFFE", "\uFFFF", "\U0001FFFE", "\u0378", "\U000E0000"]

PRIVATE = [chr(c) for c in (0xE000, 0xE001, 0xF8FF, 0xF0000, 0xFFFFD, 0x100000, 0x10FFFD)]

WHITESPACE = [" ", "\t", "\n", "\r", "\v", "\f", "\x85", "\u00A0", "\u1680", "\u2000", "\u2001",
              "\u2002", "\u2007", "\u200A", "\u2028", "\u2029", "\u202F", "\u205F", "\u3000"]


class Corpus:
    def __init__(self, vocab_tokens, rng):
        self.rng = rng
        self.chars = Chars()
        self.words = [t for t in vocab_tokens[1996:] if t.isalpha() and t.isascii()]
        self.pieces = [t for t in vocab_tokens if t.startswith("##")]
        self.vocab_any = [t for t in vocab_tokens[999:] if not t.startswith("##")]

    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def zipf_word(self):
        # Lower ids are the more frequent words in BERT's vocabulary.
        return self.words[min(int(self.rng.paretovariate(0.4)) - 1, len(self.words) - 1)]

    def english(self):
        r = self.rng
        words = []
        for _ in range(r.randint(1, 16)):
            w = self.zipf_word() if r.random() < 0.8 else self.pick(ENGLISH)
            x = r.random()
            if x < 0.1:
                w = w.capitalize()
            elif x < 0.13:
                w = w.upper()
            elif x < 0.2:
                w += self.pick(self.pieces)[2:]
            words.append(w)
            if r.random() < 0.15:
                words[-1] += self.pick([",", ".", ";", ":", "!", "?", "'s", "n't", ")", "\"", "..."])
        s = " ".join(words)
        return s[0].upper() + s[1:] + self.pick([".", "!", "?", "", "...", " :)"])

    def punctuation(self):
        r = self.rng
        pool = [chr(c) for c in range(33, 127) if not chr(c).isalnum()]
        out = []
        for _ in range(r.randint(1, 12)):
            x = r.random()
            if x < 0.4:
                out.append("".join(self.pick(pool) for _ in range(r.randint(1, 6))))
            elif x < 0.6:
                out.append(chr(self.pick(self.chars.punct)))
            elif x < 0.75:
                out.append(chr(self.pick(self.chars.symbols)))
            else:
                out.append(self.zipf_word())
        return self.pick(["", " "]).join(out)

    def numbers(self):
        r = self.rng
        forms = [lambda: str(r.randint(0, 10 ** r.randint(1, 12))),
                 lambda: f"{r.uniform(-1e6, 1e6):.{r.randint(0, 6)}f}",
                 lambda: f"{r.randint(1, 999)},{r.randint(0, 999):03d},{r.randint(0, 999):03d}",
                 lambda: f"{r.randint(1900, 2100)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                 lambda: f"+1 ({r.randint(200, 999)}) {r.randint(200, 999)}-{r.randint(0, 9999):04d}",
                 lambda: f"{r.uniform(0, 100):.1f}%", lambda: f"{r.uniform(1, 9):.3e}",
                 lambda: f"${r.randint(0, 10**6):,}.{r.randint(0, 99):02d}", lambda: f"v{r.randint(0, 9)}.{r.randint(0, 99)}.{r.randint(0, 9)}",
                 lambda: "".join(chr(self.pick([0x0660, 0x06F0, 0x0966, 0xFF10, 0x1D7CE]) + r.randint(0, 9)) for _ in range(r.randint(1, 8)))]
        return " ".join(self.pick(forms)() for _ in range(r.randint(1, 6)))

    def url(self):
        r = self.rng
        host = ".".join(self.zipf_word() for _ in range(r.randint(1, 3)))
        path = "/".join(self.zipf_word() for _ in range(r.randint(0, 4)))
        forms = [f"https://www.{host}.com/{path}?q={self.zipf_word()}&n={r.randint(0, 99)}#top",
                 f"http://{host}.org/{path}.html", f"{self.zipf_word()}.{self.zipf_word()}@{host}.net",
                 f"ftp://{host}:{r.randint(1, 65535)}/{path}", f"C:\\Users\\{self.zipf_word()}\\{path}",
                 f"/usr/local/{path}/file_{r.randint(0, 9)}.tar.gz", f"@{self.zipf_word()} #{self.zipf_word()}"]
        return self.pick(["See ", "", "Visit "]) + self.pick(forms)

    def accented(self):
        r = self.rng
        words = []
        for _ in range(r.randint(1, 10)):
            x = r.random()
            if x < 0.5:
                w = self.pick(ACCENTED)
            elif x < 0.8:
                w = "".join(chr(self.pick(self.chars.block(*SCRIPTS[self.pick(["latin1", "latin_ext", "latin_ext_add"])])))
                            for _ in range(r.randint(1, 8)))
            else:
                w = "".join(chr(self.pick(self.chars.decomposable)) for _ in range(r.randint(1, 5)))
            if r.random() < 0.3:
                w = w.upper()
            words.append(w)
        s = " ".join(words)
        return unicodedata.normalize(self.pick(["NFC", "NFD", "NFKC", "NFKD"]), s) if r.random() < 0.7 else s

    def combining(self):
        """Bases followed by runs of combining marks in random (often non-canonical) order."""
        r = self.rng
        out = []
        for _ in range(r.randint(1, 8)):
            base = self.pick(["a", "e", "o", "A", "ı", "α", "ж", "\u3042", " ", "1", "-", "ᄀ", "가"])
            marks = [self.pick(self.chars.kept_combining if r.random() < 0.4 else self.chars.marks)
                     for _ in range(r.randint(0, 5))]
            out.append(base + "".join(map(chr, marks)))
        return "".join(out)

    def script(self):
        r = self.rng
        name = self.pick(sorted(SCRIPTS))
        pool = self.chars.block(*SCRIPTS[name])
        words = ["".join(chr(self.pick(pool)) for _ in range(r.randint(1, 7))) for _ in range(r.randint(1, 8))]
        sep = self.pick([" ", " ", "", "、", "。", ", "])
        s = sep.join(words)
        return unicodedata.normalize("NFD", s) if r.random() < 0.2 else s

    def emoji(self):
        r = self.rng
        parts = [self.pick(EMOJI) if r.random() < 0.6 else chr(self.pick(self.chars.block(*SCRIPTS["emoji"])))
                 for _ in range(r.randint(1, 6))]
        if r.random() < 0.5:
            parts.insert(r.randint(0, len(parts)), self.zipf_word())
        return self.pick(["", " "]).join(parts)

    def control(self):
        r = self.rng
        parts = []
        for _ in range(r.randint(1, 10)):
            x = r.random()
            parts.append(self.pick(CONTROL) if x < 0.4 else self.pick(PRIVATE) if x < 0.55
                         else self.pick(WHITESPACE) if x < 0.7 else self.zipf_word())
        return "".join(parts)

    def after_8_0(self):
        r = self.rng
        parts = []
        for _ in range(r.randint(1, 8)):
            w = "".join(chr(self.pick(self.chars.after_8_0)) for _ in range(r.randint(1, 4)))
            parts.append(self.pick(["x", "", "A"]) + w + self.pick(["y", "", "."]))
        return " ".join(parts)

    def long_word(self):
        r = self.rng
        n = self.pick([98, 99, 100, 101, 102, 150, 500, r.randint(1, 300)])
        kind = r.randrange(6)
        if kind == 0:
            w = "".join(self.pick("abcdefghij") for _ in range(n))
        elif kind == 1:
            w = "é" * n  # 2n characters after NFD: over the limit only when accents are kept
        elif kind == 2:
            w = unicodedata.normalize("NFD", "é" * n)
        elif kind == 3:
            w = "".join(self.zipf_word() for _ in range(max(1, n // 6)))[:n]
        elif kind == 4:
            w = "a\u0301" * (n // 2)  # marks dropped by stripping: the count changes with the option
        else:
            w = "x" * n + "-" + "y" * (n // 3)
        return self.pick(["", "word "]) + w + self.pick(["", " end", "."])

    def special(self):
        r = self.rng
        pool = SPECIALS + ["[mask]", "[Mask]", "[MASK", "MASK]", "[[MASK]]", "[ MASK ]", "[unused1]",
                           "[UNK][UNK]", "[SEP][CLS]", "[MASKED]", "[MAS", "［MASK］", "[\u200bMASK]"]
        parts = [self.pick(pool) if r.random() < 0.5 else self.zipf_word() for _ in range(r.randint(1, 8))]
        return self.pick(["", " "]).join(parts)

    def blank(self):
        r = self.rng
        return "".join(self.pick(WHITESPACE + ["", "\u200b", "\x00"]) for _ in range(r.randint(0, 6)))

    def random_chars(self):
        r = self.rng
        out = []
        for _ in range(r.randint(0, 30)):
            x = r.random()
            if x < 0.4:
                out.append(chr(r.randint(32, 126)))
            elif x < 0.7:
                out.append(chr(self.pick(self.chars.assigned)))
            elif x < 0.8:
                c = r.randint(0, 0x10FFFF)
                out.append(chr(c) if not 0xD800 <= c <= 0xDFFF else "?")
            else:
                out.append(chr(self.pick(self.chars.with_lower)))
        return "".join(out)

    def mixed(self):
        gens = [self.english, self.punctuation, self.numbers, self.url, self.accented, self.script, self.emoji]
        return " ".join(self.pick(gens)() for _ in range(self.rng.randint(2, 3)))

    def singles(self, n):
        weighted = [(self.english, 20), (self.punctuation, 6), (self.numbers, 5), (self.url, 4),
                    (self.accented, 8), (self.combining, 5), (self.script, 14), (self.emoji, 4),
                    (self.control, 5), (self.after_8_0, 4), (self.long_word, 3), (self.special, 4),
                    (self.blank, 2), (self.random_chars, 8), (self.mixed, 8)]
        pool = [g for g, w in weighted for _ in range(w)]
        fixed = ["", " ", "\t\n", "[MASK]", "[CLS] [SEP]", "a" * 100, "a" * 101, "é" * 100, "\u0130", "ǅ",
                 "Hello, World!", "北京", "\U0002B820\U0002B920", "\u0345", "\u1FEF", "a\u2260b", "x\U00011938y"]
        return fixed + [self.pick(pool)() for _ in range(n - len(fixed))]

    def pair_text(self):
        r = self.rng
        g = self.pick([self.english, self.english, self.mixed, self.script, self.accented, self.special, self.blank])
        s = g()
        while r.random() < 0.15:
            s += " " + g()
        return s


def invalid_utf8(rng):
    valid = ["a", "é".encode(), "€".encode(), "😀".encode(), b" ", b"[MASK]", "北".encode(), "e\u0301".encode()]
    bad = [b"\x80", b"\xbf", b"\xc0\xaf", b"\xc1\xbf", b"\xc2", b"\xdf", b"\xe0\x80\x80", b"\xe0\x9f\xbf",
           b"\xe2\x82", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xef\xbf", b"\xf0\x80\x80\x80", b"\xf0\x8f\xbf\xbf",
           b"\xf0\x9f\x98", b"\xf0\x9f", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xf8\x88\x80\x80\x80",
           b"\xfc\x84\x80\x80\x80\x80", b"\xfe", b"\xff", b"\xe2\x28\xa1", b"\xe2\x82\x28", b"\xf0\x28\x8c\xbc"]
    out = []
    for _ in range(600):
        parts = [rng.choice(valid if rng.random() < 0.6 else bad) for _ in range(rng.randint(1, 10))]
        parts = [p.encode() if isinstance(p, str) else p for p in parts]
        data = b"".join(parts)
        if rng.random() < 0.2:
            data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            out.append(data)
    return out


# ---------------------------------------------------------------------------------------------
# Writing


def escape(data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    out = []
    i = 0
    while i < len(data):
        b = data[i]
        if b == 0x5C:
            out.append("\\\\")
        elif b == 9:
            out.append("\\t")
        elif b == 10:
            out.append("\\n")
        elif b == 13:
            out.append("\\r")
        elif b < 0x20 or b == 0x7F:
            out.append(f"\\x{b:02x}")
        elif b < 0x80:
            out.append(chr(b))
        else:
            # Copy a valid multi-byte sequence as is; escape the bytes of an invalid one.
            for n in (2, 3, 4):
                try:
                    out.append(data[i:i + n].decode("utf-8"))
                    i += n
                    break
                except UnicodeDecodeError:
                    continue
            else:
                out.append(f"\\x{b:02x}")
                i += 1
            continue
        i += 1
    return "".join(out)


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def unescape(text):
    """The bytes escape() wrote, decoded as UTF-8."""
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] != "\\":
            out += text[i].encode()
            i += 1
        elif text[i + 1] == "x":
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            out += {"t": b"\t", "n": b"\n", "r": b"\r", "\\": b"\\"}[text[i + 1]]
            i += 2
    return out.decode("utf-8")


def ids_text(ids):
    """Each id as three base-64 digits (most significant first): half the size of decimal."""
    assert all(0 <= i < 64 ** 3 for i in ids)
    return "".join(B64[i >> 12] + B64[(i >> 6) & 63] + B64[i & 63] for i in ids)


def type_split(enc):
    """n0 such that type ids are n0 zeros then ones, and the mask is all ones (asserted)."""
    t = enc.type_ids
    n0 = t.index(1) if 1 in t else len(t)
    assert t == [0] * n0 + [1] * (len(t) - n0), t
    assert enc.attention_mask == [1] * len(t)
    return n0


def bits(values):
    return "".join(map(str, values))


def sweep_descriptor(c, norms, pre):
    """What tokenizers does with code point c alone: each normaliser's output and the pre-tokeniser's
    class (W: a split, P: a piece of its own, O: part of a word). The C++ test rebuilds it."""
    s = chr(c)
    parts = [n.normalize_str(s) for n in norms]
    words = [w for w, _ in pre.pre_tokenize_str("a" + s + "b")]
    parts.append("W" if words == ["a", "b"] else "P" if words == ["a", s, "b"] else "O")
    return "\x01".join(parts).encode("utf-8") + b"\x02"


def fnv1a(data, h=0xcbf29ce484222325):
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


SWEEP_SETTINGS = [(True, None, True), (True, False, True), (False, False, True), (False, True, True),
                  (True, None, False)]


def write_sweep(path):
    norms = [normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=z, strip_accents=y, lowercase=x)
             for x, y, z in SWEEP_SETTINGS]
    pre = pre_tokenizers.BertPreTokenizer()
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# tokenizers {tokenizers.__version__}: FNV-1a 64 of sweep_descriptor() over each block of "
                "256 code points (surrogates skipped), settings (lowercase, strip_accents, chinese) "
                f"{SWEEP_SETTINGS}; written by tools/make_tokenizer_golden.py\n")
        for block in range(0x110000 // 256):
            h = 0xcbf29ce484222325
            for c in range(block * 256, block * 256 + 256):
                if not 0xD800 <= c <= 0xDFFF:
                    h = fnv1a(sweep_descriptor(c, norms, pre), h)
            f.write(f"{block * 256:06X} {h:016x}\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check-against", help="a tokenizer.json to compare the U configuration with")
    parser.add_argument("--singles", type=int, default=20000)
    parser.add_argument("--no-sweep", action="store_true")
    args = parser.parse_args()

    rng = random.Random(SEED)
    with open(VOCAB, encoding="utf-8") as f:
        vocab_tokens = [line.rstrip() for line in f]
    tok = {k: make_tokenizer(*v) for k, v in CONFIGS.items()}
    corpus = Corpus(vocab_tokens, rng)
    singles = corpus.singles(args.singles)
    pairs = [(corpus.pair_text(), corpus.pair_text(), rng.choice([0, 0, rng.randint(3, 12), rng.randint(8, 64)]))
             for _ in range(2000)]
    # Ties: equal lengths on both sides, odd and even budgets.
    for n in range(1, 13):
        a = " ".join(["word"] * n)
        for m in (n - 1, n, n + 1):
            b = " ".join(["thing"] * max(m, 0))
            pairs += [(a, b, ml) for ml in range(3, 2 * n + 6)]
    truncated_singles = [(corpus.pair_text(), rng.randint(2, 40)) for _ in range(1000)]

    if args.check_against:
        ref = Tokenizer.from_file(args.check_against)
        ref.no_padding()
        ref.no_truncation()
        for s in singles:
            assert ref.encode(s).ids == tok["U"].encode(s).ids, ascii(s)
        for a, b, _ in pairs:
            assert ref.encode(a, b).ids == tok["U"].encode(a, b).ids, ascii((a, b))
        print(f"{args.check_against} agrees with the U configuration on {len(singles) + len(pairs)} inputs")

    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "tokenizer_golden.txt")
    lines = [f"# tokenizers {tokenizers.__version__}; vocab: bert-base-uncased vocab.txt; seed {SEED}; "
             "written by tools/make_tokenizer_golden.py (its docstring describes the format)"]

    def encode(config, a, b=None, max_length=0, add_special_tokens=True):
        t = tok[config]
        if max_length:
            t.enable_truncation(max_length, strategy="longest_first")
        else:
            t.no_truncation()
        return t.encode(a, b, add_special_tokens=add_special_tokens) if b is not None else t.encode(a)

    for s in singles:
        u, c = encode("U", s), encode("C", s)
        type_split(u), type_split(c)
        lines.append(f"T\t0\t{escape(s)}\t{ids_text(u.ids)}\t{ids_text(c.ids)}")
    for s, ml in truncated_singles:
        u, c = encode("U", s, max_length=ml), encode("C", s, max_length=ml)
        type_split(u), type_split(c)
        lines.append(f"T\t{ml}\t{escape(s)}\t{ids_text(u.ids)}\t{ids_text(c.ids) if c.ids != u.ids else '='}")
    for a, b, ml in pairs:
        u, c = encode("U", a, b, ml), encode("C", a, b, ml)
        same = c.ids == u.ids and type_split(c) == type_split(u)
        lines.append(f"P\t{ml}\t{escape(a)}\t{escape(b)}\t{ids_text(u.ids)}\t{type_split(u)}\t"
                     + ("=\t=" if same else f"{ids_text(c.ids)}\t{type_split(c)}"))
    for config in ("L", "S", "N"):
        for s in singles[::16]:
            lines.append(f"O\t{config}\t{escape(s)}\t{ids_text(encode(config, s).ids)}")
    for k in range(200):
        config = "UCLSN"[k % 5]
        rows = rng.randint(1, 12)
        is_pair = k % 3 == 0
        ml = rng.choice([0, rng.randint(4, 48)])
        pad_to_max = ml > 0 and rng.random() < 0.5
        texts = [(corpus.pair_text(), corpus.pair_text() if is_pair else None) for _ in range(rows)]
        t = tok[config]
        t.enable_truncation(ml, strategy="longest_first") if ml else t.no_truncation()
        t.enable_padding(pad_id=0, pad_token="[PAD]", length=ml if pad_to_max else None)
        encs = t.encode_batch([(a, b) if b is not None else a for a, b in texts])
        t.no_padding()
        lines.append(f"B\t{config}\t{ml}\t{int(pad_to_max)}\t{int(is_pair)}\t{rows}")
        for (a, b), e in zip(texts, encs):
            lines.append(f"R\t{escape(a)}\t{escape(b) if b is not None else ''}\t{ids_text(e.ids)}\t"
                         f"{bits(e.type_ids)}\t{bits(e.attention_mask)}")
    for data in invalid_utf8(rng):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as e:
            first_bad = e.start
        replaced = data.decode("utf-8", "replace")
        lines.append(f"Z\t{escape(data)}\t{first_bad}\t{escape(replaced)}\t{ids_text(encode('U', replaced).ids)}")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {path}: {len(singles)} texts, {len(truncated_singles)} truncated texts, {len(pairs)} pairs, "
          f"{os.path.getsize(path)} bytes")
    if not args.no_sweep:
        sweep = os.path.join(OUT, "unicode_sweep.txt")
        write_sweep(sweep)
        print(f"wrote {sweep}")


if __name__ == "__main__":
    main()
