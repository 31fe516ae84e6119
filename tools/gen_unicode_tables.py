#!/usr/bin/env python3
"""Generates include/sinter/text/unicode_tables.hpp from Debian's `unicode-data` package.

    python3 tools/gen_unicode_tables.py            # rewrite the header
    python3 tools/gen_unicode_tables.py --check    # fail if the committed header is stale

The tables describe the Unicode data that Hugging Face `tokenizers`' BERT normaliser and
pre-tokeniser actually use, which is not one Unicode version (tools/check_unicode_tables.py
verifies every code point against `tokenizers` itself):

- General categories (punctuation P*, non-spacing marks Mn, "other" Cc/Cf/Co) come from the
  `unicode_categories` Rust crate, frozen at Unicode 8.0: a character assigned later is not
  punctuation, not a mark and is never removed. We select age <= 8.0 from DerivedAge.txt and
  undo the six category changes made since then (CATEGORY_8_0_EXCEPTIONS).
- NFD (decompositions and canonical combining classes) comes from the
  `unicode-normalization-alignments` crate, frozen at Unicode 9.0: we select age <= 9.0.
- White_Space and lowercasing come from Rust's standard library, which follows a recent Unicode
  (17.0 in tokenizers 0.23). Debian bookworm ships UCD 15.0, so the lowercase mappings added in
  16.0 and 17.0 are listed by hand in LOWERCASE_AFTER_15_0.
- The CJK ranges are the ones hard-coded in tokenizers' BertNormalizer (`is_chinese_char`).
- Word characters (what regex `\w` matches, which decides where a single_word added token may
  match) come from the `regex-syntax` crate, at Unicode 16.0 in tokenizers 0.23.3 (regex-syntax
  0.8.11): Alphabetic, M*, Nd, Pc and Join_Control. The characters 16.0 added are listed by hand
  in WORD_AFTER_15_0.
"""
import os
import sys

UCD = os.environ.get("SINTER_UCD_DIR", "/usr/share/unicode")
HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "include", "sinter", "text",
                      "unicode_tables.hpp")

CATEGORY_AGE = (8, 0)
NFD_AGE = (9, 0)

# Category changes since Unicode 8.0 among the categories that matter here: into or out of P* or
# Mn (tools/check_unicode_tables.py finds any that is missing).
CATEGORY_8_0_EXCEPTIONS = {
    0x166D: "Po",   # CANADIAN SYLLABICS CHI SIGN: Po until Unicode 12.0, So since
    0x111C9: "Po",  # SHARADA SANDHI MARK: Po until Unicode 11.0, Mn since
    0x1734: "Mn",   # HANUNOO SIGN PAMUDPOD: Mn until Unicode 14.0, Mc since
    0x1885: "Lo",   # MONGOLIAN LETTER ALI GALI BALUDA: Lo until Unicode 9.0, Mn since
    0x1886: "Lo",   # MONGOLIAN LETTER ALI GALI THREE BALUDA: likewise
    0xA9BD: "Mc",   # JAVANESE CONSONANT SIGN KERET: Mc until Unicode 12.0, Mn since
}

# (first, last, delta, step): simple lowercase mappings of characters that are unassigned in UCD 15.0,
# from the Unicode 16.0 and 17.0 UnicodeData.txt, which Rust's char::to_lowercase already follows.
LOWERCASE_AFTER_15_0 = [
    (0x1C89, 0x1C89, 1, 1),           # CYRILLIC CAPITAL LETTER TJE (16.0)
    (0xA7CB, 0xA7CB, 0x0264 - 0xA7CB, 1),  # LATIN CAPITAL LETTER RAMS HORN (16.0)
    (0xA7CC, 0xA7CE, 1, 2),           # LATIN CAPITAL LETTER S WITH DIAGONAL STROKE (16.0), PHARYNGEAL VOICED FRICATIVE (17.0)
    (0xA7D2, 0xA7D4, 1, 2),           # LATIN CAPITAL LETTER DOUBLE THORN, DOUBLE WYNN (17.0)
    (0xA7DA, 0xA7DA, 1, 1),           # LATIN CAPITAL LETTER LAMBDA (16.0)
    (0xA7DC, 0xA7DC, 0x019B - 0xA7DC, 1),  # LATIN CAPITAL LETTER LAMBDA WITH STROKE (16.0)
    (0x10D50, 0x10D65, 0x20, 1),      # GARAY CAPITAL LETTERS (16.0)
    (0x16EA0, 0x16EB8, 0x1B, 1),      # BERIA ERFE CAPITAL LETTERS (17.0)
]

# Word characters (\w) that Unicode 16.0 assigned, unassigned in UCD 15.0; tools/check_unicode_tables.py
# found them by asking tokenizers 0.23.3 about every code point (its regex-syntax 0.8.11 follows 16.0).
WORD_AFTER_15_0 = [
    (0x00897, 0x00897), (0x01C89, 0x01C8A), (0x0A7CB, 0x0A7CD), (0x0A7DA, 0x0A7DC), (0x105C0, 0x105F3),
    (0x10D40, 0x10D65), (0x10D69, 0x10D6D), (0x10D6F, 0x10D85), (0x10EC2, 0x10EC4), (0x10EFC, 0x10EFC),
    (0x11380, 0x11389), (0x1138B, 0x1138B), (0x1138E, 0x1138E), (0x11390, 0x113B5), (0x113B7, 0x113C0),
    (0x113C2, 0x113C2), (0x113C5, 0x113C5), (0x113C7, 0x113CA), (0x113CC, 0x113D3), (0x113E1, 0x113E2),
    (0x116D0, 0x116E3), (0x11BC0, 0x11BE0), (0x11BF0, 0x11BF9), (0x11F5A, 0x11F5A), (0x13460, 0x143FA),
    (0x16100, 0x16139), (0x16D40, 0x16D6C), (0x16D70, 0x16D79), (0x18CFF, 0x18CFF), (0x1CCF0, 0x1CCF9),
    (0x1E5D0, 0x1E5FA), (0x2EBF0, 0x2EE5D),
]

# tokenizers' is_chinese_char (normalizers/bert.rs): note 0x2B920, where the Python BasicTokenizer had 0x2B820.
CJK_RANGES = [
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
]

# Character classes, in the order the pipeline tests them (the first match wins).
OTHER, REMOVE, SPACE, CJK, PUNCT, MARK, COMBINING = range(7)
CLASS_NAMES = ["other", "remove", "space", "cjk", "punct", "mark", "combining"]

HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3


def _ranges(path, want=None):
    """Yields (first, last, value) from a UCD file of `XXXX..YYYY ; value # comment` lines."""
    with open(os.path.join(UCD, path), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            span, value = (x.strip() for x in line.split(";")[:2])
            if want is not None and value != want:
                continue
            first, _, last = span.partition("..")
            yield int(first, 16), int(last or first, 16), value


def ucd_version():
    with open(os.path.join(UCD, "DerivedAge.txt"), encoding="utf-8") as f:
        first = f.readline().strip()  # "# DerivedAge-15.0.0.txt"
    return first.split("-", 1)[1].rsplit(".", 1)[0]


class Ucd:
    """The parts of the UCD the tokenizer needs, one dict per property."""

    def __init__(self):
        self.category, self.ccc, self.decomposition, self.lower = {}, {}, {}, {}
        with open(os.path.join(UCD, "UnicodeData.txt"), encoding="utf-8") as f:
            first = None
            for line in f:
                field = line.rstrip("\n").split(";")
                cp = int(field[0], 16)
                if field[1].endswith(", First>"):
                    first = cp
                    continue
                span = range(first, cp + 1) if field[1].endswith(", Last>") else (cp,)
                for c in span:
                    self.category[c] = field[2]
                    if int(field[3]):
                        self.ccc[c] = int(field[3])
                if field[5] and not field[5].startswith("<"):
                    self.decomposition[cp] = [int(x, 16) for x in field[5].split()]
                if field[13]:
                    self.lower[cp] = [int(field[13], 16)]
        self.age = {}
        for first, last, value in _ranges("DerivedAge.txt"):
            for c in range(first, last + 1):
                self.age[c] = tuple(int(x) for x in value.split("."))
        self.word = set()
        for first, last, _ in _ranges("DerivedCoreProperties.txt", "Alphabetic"):
            self.word.update(range(first, last + 1))
        for first, last, _ in _ranges("PropList.txt", "Join_Control"):
            self.word.update(range(first, last + 1))
        self.word.update(c for c, gc in self.category.items() if gc in ("Mn", "Mc", "Me", "Nd", "Pc"))
        for first, last in WORD_AFTER_15_0:
            assert all(c not in self.category for c in range(first, last + 1)), f"U+{first:04X}: assigned in this UCD"
            self.word.update(range(first, last + 1))
        self.white_space = set()
        for first, last, _ in _ranges("PropList.txt", "White_Space"):
            self.white_space.update(range(first, last + 1))
        with open(os.path.join(UCD, "SpecialCasing.txt"), encoding="utf-8") as f:
            for line in f:
                field = [x.strip() for x in line.split("#", 1)[0].split(";")]
                # Unconditional mappings only: char::to_lowercase ignores the context-dependent ones
                # (final sigma, Lithuanian, Turkish).
                if len(field) == 5 and field[4] == "":
                    cp, lower = int(field[0], 16), [int(x, 16) for x in field[1].split()]
                    if lower != [cp]:
                        self.lower[cp] = lower
        for first, last, delta, step in LOWERCASE_AFTER_15_0:
            for c in range(first, last + 1, step):
                assert c not in self.category, f"U+{c:04X} is assigned in this UCD: drop it from the list"
                self.lower[c] = [c + delta]

    def category_8_0(self, c):
        if c in CATEGORY_8_0_EXCEPTIONS:
            return CATEGORY_8_0_EXCEPTIONS[c]
        if self.age.get(c, (99, 0)) > CATEGORY_AGE:
            return "Cn"
        return self.category.get(c, "Cn")

    def ccc_9_0(self, c):
        return self.ccc.get(c, 0) if self.age.get(c, (99, 0)) <= NFD_AGE else 0

    def nfd(self, c):
        """The full canonical decomposition of c, canonically ordered, as tokenizers computes it."""
        if HANGUL_FIRST <= c <= HANGUL_LAST:
            s = c - HANGUL_FIRST
            out = [0x1100 + s // 588, 0x1161 + (s % 588) // 28]
            return out + [0x11A7 + s % 28] if s % 28 else out
        if c not in self.decomposition or self.age[c] > NFD_AGE:
            return [c]
        out = [d for part in self.decomposition[c] for d in self.nfd(part)]
        return canonical_order(out, self.ccc_9_0)

    def char_class(self, c):
        gc = self.category_8_0(c)
        if c in (0, 0xFFFD) or (gc in ("Cc", "Cf", "Co") and c not in (0x09, 0x0A, 0x0D)):
            return REMOVE
        if c in self.white_space:
            return SPACE
        if any(first <= c <= last for first, last in CJK_RANGES):
            return CJK
        if 33 <= c <= 47 or 58 <= c <= 64 or 91 <= c <= 96 or 123 <= c <= 126 or gc.startswith("P"):
            return PUNCT
        if gc == "Mn":
            return MARK
        if self.ccc_9_0(c):
            return COMBINING
        return OTHER


def canonical_order(cps, ccc):
    """Stable-sorts every run of non-starters by combining class (Unicode 3.11, D109)."""
    out, run = [], []
    for c in cps:
        if ccc(c):
            run.append(c)
        else:
            out += sorted(run, key=ccc) + [c]
            run = []
    return out + sorted(run, key=ccc)


class Tables:
    def __init__(self, ucd):
        classes = [ucd.char_class(c) for c in range(0x110000)]
        self.class_of = classes
        self.class_starts = [(0, classes[0])]
        for c in range(1, 0x110000):
            if classes[c] != classes[c - 1]:
                self.class_starts.append((c, classes[c]))

        self.combining = [(c, ucd.ccc_9_0(c)) for c in range(0x110000) if classes[c] == COMBINING]

        self.decompositions = []  # (cp, [cps]) outside the algorithmic Hangul block
        for c in sorted(ucd.decomposition):
            d = ucd.nfd(c)
            if d != [c]:
                self.decompositions.append((c, d))

        simple = sorted((c, l[0]) for c, l in ucd.lower.items() if len(l) == 1 and l[0] != c)
        self.special_lowercase = sorted((c, l) for c, l in ucd.lower.items() if len(l) > 1)
        assert all(len(l) == 2 for _, l in self.special_lowercase)
        # Where \w membership changes: word characters from word_starts[2k] to word_starts[2k + 1] - 1.
        self.word_starts = [c for c in range(0x110000) if (c in ucd.word) != (c - 1 in ucd.word)]
        # Runs of code points first, first + step, ... that all map by the same delta; step 2 catches
        # the alternating upper/lower pairs of Latin Extended and Cyrillic.
        self.lowercase_runs = []
        i = 0
        while i < len(simple):
            c, l = simple[i]
            best = (c, c, l - c, 1)
            for step in (1, 2):
                j = i
                while (j + 1 < len(simple) and simple[j + 1][0] == simple[j][0] + step
                       and simple[j + 1][1] - simple[j + 1][0] == l - c):
                    j += 1
                if j > i and simple[j][0] > best[1]:
                    best = (c, simple[j][0], l - c, step)
            self.lowercase_runs.append(best)
            while i < len(simple) and simple[i][0] <= best[1]:
                i += 1
        self._check(ucd)

    def _check(self, ucd):
        # What the C++ side relies on: a decomposition or a lowercase mapping never produces a
        # character that clean-up would remove or turn into a space, so those two steps can run
        # once, on the input, as they do in tokenizers.
        for c, d in self.decompositions:
            if self.class_of[c] not in (REMOVE, SPACE):
                assert all(self.class_of[x] not in (REMOVE, SPACE) for x in d), hex(c)
        # A lowercase mapping keeps the class the pre-tokeniser sees (never punctuation or space).
        for c, l in ucd.lower.items():
            if self.class_of[c] not in (REMOVE, SPACE):
                assert all(self.class_of[x] not in (REMOVE, SPACE, PUNCT) for x in l), hex(c)
                assert self.class_of[c] != PUNCT, hex(c)
        # Only marks reorder: the C++ side looks combining classes up for CharClass::combining alone.
        assert all(self.class_of[c] in (MARK, COMBINING) for c in range(0x110000) if ucd.ccc_9_0(c))
        assert max(len(d) for _, d in self.decompositions) <= 4
        assert len(self.decompositions) < 4096 and sum(len(d) for _, d in self.decompositions) < 65536


def _rows(items, per_line, indent="    "):
    lines, row = [], []
    for item in items:
        row.append(item)
        if len(row) == per_line:
            lines.append(indent + ", ".join(row) + ",")
            row = []
    if row:
        lines.append(indent + ", ".join(row) + ",")
    return "\n".join(lines)


def render(t):
    pool, entries = [], []
    for c, d in t.decompositions:
        entries.append(f"{{0x{c:05X}, {len(pool)}, {len(d)}}}")
        pool += d
    out = [
        "// GENERATED by tools/gen_unicode_tables.py from Debian's unicode-data (UCD "
        f"{ucd_version()}): do not edit.",
        "// What each table holds, and which Unicode version each one follows, is explained in the script.",
        "#pragma once",
        "#include <cstdint>",
        "",
        "namespace sinter::text::detail {",
        "",
        "// The class that decides what the BERT pipeline does with a character; see char_class().",
        "enum class CharClass : std::uint8_t {",
        "    other = 0,      // kept as part of a word",
        "    remove = 1,     // U+0000, U+FFFD, Cc/Cf/Co (Unicode 8.0) except tab, LF, CR: dropped",
        "    space = 2,      // White_Space: a word boundary",
        "    cjk = 3,        // tokenizers' CJK ideograph ranges: a word of its own",
        "    punct = 4,      // ASCII punctuation or P* (Unicode 8.0): a word of its own",
        "    mark = 5,       // Mn (Unicode 8.0): dropped when accents are stripped",
        "    combining = 6,  // any other non-zero combining class (Unicode 9.0): reordered by NFD",
        "};",
        "",
        "// (first << 3) | class: the class holds from `first` to the next entry's first - 1.",
        f"inline constexpr std::uint32_t class_ranges[{len(t.class_starts)}] = {{",
        _rows((f"0x{(c << 3) | k:07X}" for c, k in t.class_starts), 8),
        "};",
        "",
        "// Word characters (regex \\w, Unicode 16.0): from word_starts[2k] to word_starts[2k + 1] - 1.",
        f"inline constexpr std::uint32_t word_starts[{len(t.word_starts)}] = {{",
        _rows((f"0x{c:05X}" for c in t.word_starts), 10),
        "};",
        "",
        "struct CombiningClass {",
        "    std::uint32_t cp;",
        "    std::uint8_t ccc;",
        "};",
        "// Canonical combining class of every CharClass::combining character.",
        f"inline constexpr CombiningClass combining_classes[{len(t.combining)}] = {{",
        _rows((f"{{0x{c:05X}, {k}}}" for c, k in t.combining), 6),
        "};",
        "",
        "struct LowercaseRun {",
        "    std::uint32_t first, last;  // code points first, first + step, ..., last",
        "    std::int32_t delta;         // lowercase = cp + delta",
        "    std::uint32_t step;",
        "};",
        f"inline constexpr LowercaseRun lowercase_runs[{len(t.lowercase_runs)}] = {{",
        _rows((f"{{0x{a:05X}, 0x{b:05X}, {d}, {s}}}" for a, b, d, s in t.lowercase_runs), 4),
        "};",
        "",
        "struct SpecialLowercase {",
        "    std::uint32_t cp;",
        "    char32_t lower[2];",
        "};",
        "// Unconditional lowercase mappings to two characters (SpecialCasing.txt).",
        f"inline constexpr SpecialLowercase special_lowercase[{len(t.special_lowercase)}] = {{",
        _rows((f"{{0x{c:05X}, {{0x{l[0]:05X}, 0x{l[1]:05X}}}}}" for c, l in t.special_lowercase), 4),
        "};",
        "",
        "struct Decomposition {",
        "    std::uint32_t cp;",
        "    std::uint16_t offset;  // into decomposition_pool",
        "    std::uint8_t length;",
        "};",
        "// Full canonical decompositions (Unicode 9.0), already canonically ordered, Hangul excluded.",
        f"inline constexpr Decomposition decompositions[{len(entries)}] = {{",
        _rows(entries, 6),
        "};",
        f"inline constexpr char32_t decomposition_pool[{len(pool)}] = {{",
        _rows((f"0x{c:05X}" for c in pool), 10),
        "};",
        "",
        "}  // namespace sinter::text::detail",
        "",
    ]
    return "\n".join(out)


def main():
    text = render(Tables(Ucd()))
    if sys.argv[1:] == ["--check"]:
        with open(HEADER, encoding="utf-8") as f:
            if f.read() != text:
                sys.exit(f"{HEADER} is stale: run tools/gen_unicode_tables.py")
        print("unicode_tables.hpp is up to date")
        return
    with open(HEADER, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {HEADER}")


if __name__ == "__main__":
    main()
