"""A small character CRF for person names (python-crfsuite), used by cnai.corpus.names.

The model tags each character B (first of a name), I (inside), E (last) or O. Its features are
table-driven so that a few thousand training sentences are enough:
- the character and its neighbours (one and two either side) and the bigrams around it;
- surname tables (single with its weight, compound), given-name character statistics and the
  transliteration character set from cnai.corpus.names;
- word-boundary features from data/names/lexicon.tsv.gz (jieba's dictionary, MIT): the longest word
  starting, ending or straddling the character, its frequency, and whether it is a name-tagged entry;
- optionally (USE_RULES) the rule recognizer's own candidate and its confidence; the shipped model does
  without them.

Trained by data/names/train_crf.py on text the project generates (data/names/namegen.py) plus the
development sentences of the realistic evaluation; the model file (data/names/names_crf.bin) ships.
No download at run time; without python-crfsuite (the `names` extra) the rules work alone.
"""

from __future__ import annotations

import gzip
import os
import re
import struct
import threading
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "names"
MODEL = DATA / "names_crf.bin"  # python-crfsuite model file (binary)
LABELS = ("B", "I", "E", "O")
# whether the shipped model was trained with the rules' candidates as features (train_crf.py --rules).
# It is not: on development CV the model without them did better on the sentences the rules were never
# tuned on (heldout4), the fairer proxy for new text (notes/issue-16-round3-names.md).
USE_RULES = False


@lru_cache(maxsize=1)
def lexicon() -> dict[str, tuple[int, bool]]:
    out: dict[str, tuple[int, bool]] = {}
    with gzip.open(DATA / "lexicon.tsv.gz", "rt", encoding="utf-8") as fh:
        for ln in fh:
            if ln.startswith("#"):
                continue
            w, f, tag = ln.rstrip("\n").split("\t")
            out[w] = (int(f), tag == "n")
    return out


def _words_file(name: str) -> list[str]:
    return [
        w
        for ln in (DATA / name).read_text("utf-8").splitlines()
        if not ln.startswith("#")
        for w in ln.split()
    ]


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, str]:
    """word -> kinds: F well-known person (famous.txt), R brand (brands.txt), P place (the address module's
    place table and the stems of its X市/X县/X区 entries), N listed negative (negatives.txt)."""
    from cnai.corpus import addresses

    g: dict[str, set[str]] = {}
    for w in addresses._places():
        if 2 <= len(w) <= 6:
            g.setdefault(w, set()).add("P")
            if w[-1] in "市县区州省" and len(w) >= 3:
                g.setdefault(w[:-1], set()).add("P")
    for kind, fname in (("F", "famous.txt"), ("R", "brands.txt"), ("N", "negatives.txt")):
        for w in _words_file(fname):
            if len(w) >= 2:
                g.setdefault(w, set()).add(kind)
    return {w: "".join(sorted(k)) for w, k in g.items()}


@lru_cache(maxsize=1)
def _gaz_maxlen() -> dict[str, int]:
    """First character -> longest gazetteer entry starting with it (most characters start none)."""
    out: dict[str, int] = {}
    for w in gazetteer():
        out[w[0]] = max(out.get(w[0], 0), len(w))
    return out


def _kind(c: str) -> str:
    if "\u4e00" <= c <= "\u9fff":
        return "H"
    if c.isdigit():
        return "D"
    if c.isascii() and c.isalpha():
        return "L"
    if c.isspace():
        return "W"
    return "P"


@lru_cache(maxsize=1)
def _static():
    """Per-character features that do not depend on context, computed once per character."""
    from cnai.corpus import names

    sur1, sur2, given, _words, _neg = names._tables()
    s2first = {s[0] for s in sur2}
    s2second = {s[1] for s in sur2}
    trans = set(names._TRANSLIT)
    cache: dict[str, tuple[str, ...]] = {}

    def feats(c: str) -> tuple[str, ...]:
        r = cache.get(c)
        if r is None:
            f = [f"k={_kind(c)}"]
            if c in sur1:
                f.append("s1=" + ("hi" if sur1[c] >= 1.0 else "lo"))
            if c in s2first:
                f.append("s2a")
            if c in s2second:
                f.append("s2b")
            g = given.get(c)
            f.append("g=" + ("x" if g is None else str(max(-3, min(3, round(g))))))
            if c in trans:
                f.append("tr")
            if c in names._STOP:
                f.append("stop")
            r = cache[c] = tuple(f)
        return r

    return feats


def features(text: str, rule_spans=None) -> list[list[str]]:
    """One feature list per character of text. rule_spans: [(start, end, conf)] from the rules."""
    feats = _static()
    lex = lexicon()
    n = len(text)
    pad = "^^" + text + "$$"
    st = [feats(c) for c in text]
    # longest lexicon word starting / ending at each position, and whether one straddles it
    wb = [None] * n
    we = [None] * n
    inside = [0] * n
    for i in range(n):
        for L in (4, 3, 2):
            w = text[i : i + L]
            if len(w) == L and w in lex:
                if wb[i] is None:
                    wb[i] = (L, *lex[w])
                if we[i + L - 1] is None or we[i + L - 1][0] < L:
                    we[i + L - 1] = (L, *lex[w])
                for k in range(i + 1, i + L - 1):
                    inside[k] = max(inside[k], L)
    gaz = gazetteer()
    glen = _gaz_maxlen()
    gz: list[list[str]] = [[] for _ in range(n)]
    for i in range(n):
        for L in range(2, glen.get(text[i], 0) + 1):
            w = text[i : i + L]
            if len(w) < L:
                break
            kinds = gaz.get(w)
            if kinds:
                for k in kinds:
                    gz[i].append(f"gB{k}")
                    gz[i + L - 1].append(f"gE{k}")
                    for j in range(i + 1, i + L - 1):
                        gz[j].append(f"gI{k}")
                    if i > 0:
                        gz[i - 1].append(f"gN{k}")  # the next character starts one
                    if i + L < n:
                        gz[i + L].append(f"gP{k}")  # the previous character ended one
    rl = [None] * n
    for s, e, conf in rule_spans or ():
        b = str(min(9, int(conf * 10)))
        for k in range(s, e):
            rl[k] = ("RB" if k == s else "RE" if k == e - 1 else "RI") + b
    pre = _prefixed()
    lf = [("L:bos",)] + [pre(c)[0] for c in text[:-1]]  # the left neighbour's static features
    rf = [pre(c)[1] for c in text[1:]] + [("R:eos",)]
    out = []
    for i in range(n):
        p = i + 2
        c0, cl, cr = text[i], pad[p - 1], pad[p + 1]
        f = [
            "c=" + c0,
            "c-1=" + cl,
            "c+1=" + cr,
            "c-2=" + pad[p - 2],
            "c+2=" + pad[p + 2],
            "b-=" + cl + c0,
            "b+=" + c0 + cr,
            "b--=" + pad[p - 2] + cl,
            "b++=" + cr + pad[p + 2],
            *st[i],
            *lf[i],
            *rf[i],
        ]
        if i > 1:
            f.extend(pre(text[i - 2])[2])
        if i + 2 < n:
            f.extend(pre(text[i + 2])[3])
        x = wb[i]
        if x:
            f.append(f"wb{x[0]}f{x[1]}{'n' if x[2] else ''}")
        x = we[i]
        if x:
            f.append(f"we{x[0]}f{x[1]}{'n' if x[2] else ''}")
        if inside[i]:
            f.append(f"win{inside[i]}")
        if i > 0 and we[i - 1]:
            f.append(f"pwe{we[i - 1][0]}")  # a word ends just before: a boundary on the left
        if i + 1 < n and wb[i + 1]:
            f.append(f"nwb{wb[i + 1][0]}")
        if gz[i]:
            f.extend(gz[i])
        if rl[i]:
            f.append(rl[i])
            f.append(rl[i][:2])
        out.append(f)
    return out


@lru_cache(maxsize=1)
def _prefixed():
    """Per character: its static features as a left (L:), right (R:), second-left (LL:) and second-right
    (RR:) neighbour's, built once per character instead of once per position."""
    feats = _static()
    cache: dict[str, tuple] = {}

    def pre(c: str) -> tuple:
        r = cache.get(c)
        if r is None:
            st = feats(c)
            r = cache[c] = (
                tuple("L:" + x for x in st),
                tuple("R:" + x for x in st),
                tuple("LL:" + x for x in st[:3]),
                tuple("RR:" + x for x in st[:3]),
            )
        return r

    return pre


def to_spans(labels: list[str]) -> list[tuple[int, int]]:
    spans = []
    start = None
    for i, lab in enumerate(labels):
        if lab == "B":
            start = i
        elif lab == "E" and start is not None:
            spans.append((start, i + 1))
            start = None
        elif lab == "O":
            start = None
    return spans


_LOCAL = threading.local()  # a crfsuite Tagger holds the sequence it tags: one per thread


def tagger():
    """This thread's tagger for the shipped model, or None when python-crfsuite or the model file is missing."""
    t = getattr(_LOCAL, "tagger", False)
    if t is not False:
        return t
    try:
        import pycrfsuite
    except ImportError:
        t = None
    else:
        t = None
        if MODEL.exists():
            t = pycrfsuite.Tagger()
            try:
                t.open(str(MODEL))
            except Exception as exc:  # a damaged installation: say which file, do not guess without it
                raise RuntimeError(
                    f"{MODEL}: not a readable python-crfsuite model ({exc}); reinstall cnai"
                ) from None
    _LOCAL.tagger = t
    return t


def tag(text: str, rule_spans=None, model=None) -> list[tuple[int, int, float]]:
    """Names the model finds: [(start, end, confidence)]; confidence = smallest marginal of the span's labels.

    The shipped model without rule_spans runs compiled (cnai.corpus._namescan, same labels and the same
    marginals as python-crfsuite); another model, rule features, or no compiler: the Python path below."""
    t = model or tagger()
    if t is None or not text:
        return []
    if rule_spans is None and (model is None or model is getattr(_LOCAL, "tagger", None)):
        c = _compiled()
        if c is not None:
            return [(s, e, round(m, 3)) for s, e, m in c.tag(text)]
    return tag_python(text, rule_spans, t)


def tag_text(text: str, triggers=None, model=None, rules=None) -> list[tuple[int, int, float]]:
    """The model over every sentence piece of text (cnai.corpus.names._pieces), as names.find runs it:
    [(start, end, confidence)] in text offsets. Pieces without a Chinese character are skipped, and with
    triggers (sorted (start, end) pairs) pieces that none overlaps. rules: names.find_rules' output, read
    only when USE_RULES (candidates as features). The shipped model runs in one compiled call; otherwise
    (another model, rule features, no extension) the loop below, one tag() per piece: the same output."""
    return _tag_text(text, triggers, model, rules, False)[0]


def tag_text_upper(
    text: str, triggers=None, model=None, rules=None
) -> tuple[list[tuple[int, int, float]], bool]:
    """(tag_text(text, ...), whether text holds an ASCII capital A-Z): the compiled call answers both in one
    pass (names.find reads the second to decide whether the Latin-letter rules must run)."""
    spans, up = _tag_text(text, triggers, model, rules, True)
    return spans, (_UPPER.search(text) is not None) if up is None else up


_UPPER = re.compile("[A-Z]")  # the Python path's capital test (names.find reads the flag)


def _tag_text(
    text: str, triggers, model, rules, upper: bool
) -> tuple[list[tuple[int, int, float]], bool | None]:
    """tag_text's spans and, when `upper` and the compiled call ran, its capital flag (else None)."""
    t = model or tagger()
    if t is None:
        return [], None
    if not USE_RULES and (model is None or model is getattr(_LOCAL, "tagger", None)):
        c = _COMPILED.get("t", False)
        if c is False:
            c = _compiled()
        if c is not None:
            if upper:
                r, up = c.tag_text(text, _MAX_PIECE, triggers, True)
            else:
                r, up = c.tag_text(text, _MAX_PIECE, triggers), None
            return ([(s, e, round(m, 3)) for s, e, m in r] if r else r), up
    from cnai.corpus import names

    out = []
    for a, b in names._pieces(text):
        if (triggers is not None and not any(s < b and a < e for s, e in triggers)) or not names._CJK.search(
            text, a, b
        ):
            continue
        rs = (
            [(s - a, e - a, c) for s, e, _t, c, _r in rules or () if a <= s and e <= b] if USE_RULES else None
        )
        out += [(a + s, a + e, c) for s, e, c in tag(text[a:b], rs, t)]
    return out, None


def tag_python(text: str, rule_spans=None, model=None) -> list[tuple[int, int, float]]:
    """The reference path: feature strings + python-crfsuite."""
    t = model or tagger()
    if t is None or not text:
        return []
    f = features(text, rule_spans)
    # a lone surrogate cannot be encoded for crfsuite (it raised before); no model attribute holds one
    if _SURROGATE.search(text):
        f = [[x for x in fs if not _SURROGATE.search(x)] for fs in f]
    t.set(f)
    labels = t.tag()
    out = []
    for s, e in to_spans(labels):
        m = [t.marginal(labels[k], k) for k in range(s, e)]
        out.append((s, e, round(min(m), 3)))
    return out


_SURROGATE = re.compile("[\ud800-\udfff]")
# attribute templates of features() (rule templates RB/RI/RE only with rule_spans: the Python path)
_ATTR = re.compile(
    r"(?:c(?:[-+][12])?=.|b(?:-|\+|--|\+\+)=..|(?:(?:L|R|LL|RR):)?(?:k=.|s1=(?:hi|lo)|s2a|s2b|g=(?:x|-?\d)|tr|stop)"
    r"|L:bos|R:eos|w[be][234]f-?\d+n?|win[234]|pwe[234]|nwb[234]|g[BEINP][A-Z]|R[BIE]\d?)",
    re.S,
)


def read_model(path: Path) -> tuple[list[str], dict[str, list[float]], list[list[float]]]:
    """crfsuite's binary model file (crf1d "FOMC"): labels, attribute -> weight per label, transitions
    [from][to]. Read directly because Tagger.info() parses a text dump with 6 decimals (and fails on some
    attribute strings); the compiled tagger needs the exact doubles to give the same marginals."""
    b = Path(path).read_bytes()

    def fail(off: int, what: str):
        raise ValueError(f"{path}: byte {off}: {what}; not a crfsuite model file (reinstall cnai)")

    if len(b) < 48 or b[:4] != b"lCRF" or b[8:12] != b"FOMC":
        fail(0, "bad header")
    _nf, nl, na, off_f, off_l, off_a = struct.unpack_from("<IIIIII", b, 16)

    def cqdb(off: int, n: int) -> list[str]:
        if off + 24 > len(b) or b[off : off + 4] != b"CQDB":
            fail(off, "bad string table")
        bsize, boff = struct.unpack_from("<II", b, off + 16)
        if bsize != n or off + boff + 4 * n > len(b):
            fail(off, "bad string table size")
        out = [""] * n
        for i, ro in enumerate(struct.unpack_from(f"<{n}I", b, off + boff)):
            if not ro or off + ro + 8 > len(b):
                fail(off + boff + 4 * i, "bad string offset")
            rid, ks = struct.unpack_from("<II", b, off + ro)
            if rid != i or ks < 1 or off + ro + 8 + ks > len(b):
                fail(off + ro, "bad string record")
            out[i] = b[off + ro + 8 : off + ro + 7 + ks].decode("utf-8")
        return out

    labels = cqdb(off_l, nl)
    names = cqdb(off_a, na)
    if b[off_f : off_f + 4] != b"FEAT":
        fail(off_f, "bad feature chunk")
    (num,) = struct.unpack_from("<I", b, off_f + 8)
    if off_f + 12 + 20 * num > len(b):
        fail(off_f, "feature chunk runs past the end")
    attrs: dict[str, list[float]] = {}
    trans = [[0.0] * nl for _ in range(nl)]
    for k in range(num):
        typ, src, dst, w = struct.unpack_from("<IIId", b, off_f + 12 + 20 * k)
        if dst >= nl or (typ == 0 and src >= na) or (typ == 1 and src >= nl) or typ > 1:
            fail(off_f + 12 + 20 * k, "bad feature")
        if typ == 0:
            attrs.setdefault(names[src], [0.0] * nl)[dst] = w
        else:
            trans[src][dst] = w
    return labels, attrs, trans


_COMPILED: dict = {}
_MAX_PIECE = 300  # names._MAX_PIECE (a test checks they agree; importing names here would be circular)


def _compiled():
    """The compiled tagger for the shipped model (cnai.corpus._namescan.Tagger), or None: no extension
    built, CNAI_NAMES_PYTHON=1, no model file, or a model attribute outside the known templates (then the
    Python path keeps the results right). Built once from the same model file and tables as the Python path."""
    if "t" in _COMPILED:
        return _COMPILED["t"]
    with _BUILD_LOCK:
        if "t" not in _COMPILED:
            _COMPILED["t"] = _build_compiled()
    return _COMPILED["t"]


_BUILD_LOCK = threading.Lock()


def _build_compiled():
    if os.environ.get("CNAI_NAMES_PYTHON", "") not in ("", "0") or not MODEL.exists():
        return None
    try:
        from cnai.corpus import _namescan
    except ImportError:
        return None
    from cnai.corpus import names

    labels, attrs, trans = read_model(MODEL)
    if sorted(labels) != sorted(LABELS) or any(not _ATTR.fullmatch(a) for a in attrs):
        return None  # a model this port does not know: the Python path
    vid: dict[str, int] = {}
    vecs: list[float] = []
    for a, w in attrs.items():
        vid[a] = len(vid)
        vecs.extend(w)

    def ids(feats) -> list[int]:
        return [vid[x] for x in feats if x in vid]

    feats, pre = _static(), _prefixed()
    sur1, sur2, given, _words, _neg = names._tables()
    gaz = gazetteer()
    special = set(sur1) | {c for s in sur2 for c in s} | set(given) | set(names._TRANSLIT) | set(names._STOP)
    special |= {c for a in attrs if a.startswith(("c", "b")) for c in a.split("=", 1)[1]}
    special |= {w[0] for w in gaz} | {"^", "$"}
    chars = {}
    for c in special:
        if len(c) != 1:
            continue
        p = pre(c)
        chars[ord(c)] = (
            [vid.get(f"{t}={c}", -1) for t in ("c", "c-1", "c+1", "c-2", "c+2")],
            ids(feats(c)),
            *map(ids, p),
        )
    kinds = []
    for k in "HDLWP":  # a character in no table: its kind and no given-name statistic (see _static)
        st = (f"k={k}", "g=x")
        kinds.append(
            (
                ids(st),
                ids("L:" + x for x in st),
                ids("R:" + x for x in st),
                ids("LL:" + x for x in st[:3]),
                ids("RR:" + x for x in st[:3]),
            )
        )
    bigrams = {}
    for a, i in vid.items():
        m = re.fullmatch(r"b(-|\+|--|\+\+)=(.)(.)", a, re.S)
        if m:
            bigrams[({"-": 0, "+": 1, "--": 2, "++": 3}[m.group(1)], ord(m.group(2)), ord(m.group(3)))] = i
    lex = [
        (
            w,
            vid.get(f"wb{len(w)}f{f}{'n' if n else ''}", -1),
            vid.get(f"we{len(w)}f{f}{'n' if n else ''}", -1),
        )
        for w, (f, n) in lexicon().items()
        if 2 <= len(w) <= 4
    ]
    lexfeat = tuple([vid.get(f"{t}{L}", -1) for L in range(5)] for t in ("win", "pwe", "nwb"))
    gz = [(w, [[vid.get(f"g{p}{k}", -1) for p in "BEINP"] for k in kinds_]) for w, kinds_ in gaz.items()]
    return _namescan.Tagger(
        "".join(labels),
        struct.pack(f"<{len(labels) ** 2}d", *(x for row in trans for x in row)),
        struct.pack(f"<{len(vecs)}d", *vecs),
        chars,
        kinds,
        ids(["L:bos"]),
        ids(["R:eos"]),
        bigrams,
        lex,
        lexfeat,
        gz,
    )
