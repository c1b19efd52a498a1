"""Evasion-proof keyword matching: text and keywords are folded into the same forms before one automaton.

Users dodge keyword filters by writing a term in traditional characters, in full-width forms, with symbols or
spaces between its characters, with characters of the same sound (homophones), in pinyin or pinyin initials,
or with a character split into its parts. One library entry should catch all of these.

How (one pass per text, or per batch of texts):

1. Every character goes through one lookup table (numpy, over the UTF-32 code points): full-width ->
   half-width, ASCII lower case, traditional -> simplified (OpenCC's character table), and each CJK character
   -> a private-use code for its toneless pinyin syllable (its most common reading, from pypinyin's table).
   This is the `sound` view; the same table without the last step gives the `folded` view (kept for checks).
2. Separator runs (spaces, punctuation, symbols, emoji) *between two CJK characters* are removed, as are runs
   of 1-3 separators between two Latin letters; zero-width characters are always removed. The positions kept
   are the offset map back to the original text (one integer array, no segment lists).
3. One Aho-Corasick automaton (cnai.core.matcher, the project's one keyword engine) holds, per library entry: its sound
   form (catches the literal term and its homophones), the sound forms of its split-character spellings
   (SPLIT_FORMS: 法 -> 氵去), its full pinyin (>= 6 letters; phrase-aware via pypinyin) and its pinyin
   initials (>= 3 characters; whole Latin tokens only).
4. Each automaton hit is checked against the `folded` view and labelled with how it was caught: `folded`
   (the literal term after folding), `split`, `sound` (a homophone; only for entries of >= 2 CJK characters,
   one syllable alone matches far too much), `pinyin`, `initials`. ASCII entries match whole words only.

`EvasionMatcher.find_many(texts)` folds a batch in one pass (the per-call cost of numpy and the automaton is
paid once per batch, not per text); `find(text)` is the one-text form. Speed: benchmarks/results/
keyword-normalize.md.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{CJK}]")
SYLLABLE_BASE = 0xE000  # private-use code points stand for syllables in the `sound` view
_LUT_SIZE = 0x30000     # code points above map to themselves and count as separators
_BOUNDARY = 0           # U+0000 joins the texts of a batch; never removed, never inside a match

# character classes (what may be removed between what)
_SEP, _CJKC, _LAT, _DIG, _HARD, _DROP = 0, 1, 2, 3, 4, 5

# Split-character forms seen in evasion (a character written as its parts, left to right); our own table.
SPLIT_FORMS = {
    "弓长": "张", "木子": "李", "耳东": "陈", "口天": "吴", "言午": "许", "立早": "章", "古月": "胡",
    "日月": "明", "女子": "好", "亻尔": "你", "氵去": "法", "车仑": "轮", "工力": "功", "彐习": "习",
    "火火": "炎", "木木": "林", "石皮": "破", "扌仓": "抢", "氵肖": "消", "讠川": "训", "氵由": "油",
    "钅艮": "银", "贝才": "财", "亻弋": "代", "纟且": "组", "禾火": "秋", "亻本": "体",
    "扌丁": "打", "犭句": "狗", "饣反": "饭", "口阿": "啊", "月半": "胖", "讠某": "谋",
    "辶反": "返", "忄青": "情", "扌巴": "把", "口乞": "吃", "虫也": "蛇", "米斗": "料",
    "亻壬": "任", "扌丸": "执", "亻言": "信", "讠仑": "论", "讠己": "记", "纟充": "统",
    "钅本": "钵", "氵每": "海", "氵先": "洗", "扌殳": "投", "讠正": "证", "亻更": "便",
}
_SPLITS_OF: dict[str, list[str]] = {}
for _parts, _char in SPLIT_FORMS.items():
    _SPLITS_OF.setdefault(_char, []).append(_parts)
_INVISIBLE = (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD, 0x180E)


@lru_cache(maxsize=1)
def _tables():
    """(fold LUT, sound LUT, class LUT, syllable names) over code points < _LUT_SIZE; built once (~0.3 s)."""
    import opencc
    from pypinyin.pinyin_dict import pinyin_dict

    idx = np.arange(_LUT_SIZE, dtype=np.uint32)
    fold = idx.copy()
    fold[0xFF01:0xFF5F] = idx[0xFF01:0xFF5F] - 0xFEE0           # full-width ASCII
    fold[0x3000] = 0x20
    fold[0x41:0x5B] += 32
    fold[0xFF21:0xFF3B] += 32                                     # full-width capitals -> a-z
    lo, hi = (0x4E00, 0xA000), (0x3400, 0x4DC0)
    chars = "".join(map(chr, range(*lo))) + "".join(map(chr, range(*hi)))
    simp = opencc.OpenCC("t2s").convert(chars)
    if len(simp) == len(chars):
        for a, b in zip(chars, simp, strict=True):
            if a != b and ord(b) < _LUT_SIZE:
                fold[ord(a)] = ord(b)
    for cp in range(0xF900, 0xFB00):                              # CJK compatibility ideographs
        n = unicodedata.normalize("NFKC", chr(cp))
        if len(n) == 1 and ord(n) < _LUT_SIZE:
            fold[cp] = fold[ord(n)]
    syll_index: dict[str, int] = {}
    code_of = np.zeros(_LUT_SIZE, dtype=np.uint32)
    for cp, readings in pinyin_dict.items():
        if cp >= _LUT_SIZE:
            continue
        base = "".join(c for c in unicodedata.normalize("NFD", readings.split(",")[0]) if not unicodedata.combining(c))
        code_of[cp] = SYLLABLE_BASE + syll_index.setdefault(base.replace("ü", "v"), len(syll_index))
    snd = fold.copy()
    mapped = code_of[fold]
    snd[mapped != 0] = mapped[mapped != 0]
    cls = np.full(_LUT_SIZE, _SEP, dtype=np.uint8)
    f = fold
    cls[(f >= 0x61) & (f <= 0x7A)] = _LAT
    cls[(f >= 0x30) & (f <= 0x39)] = _DIG
    for a, b in ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00)):
        cls[a:b] = _CJKC
    for parts in SPLIT_FORMS:                                     # radicals used in split spellings
        for c in parts:
            cls[ord(c)] = _CJKC
    # other letters (Greek, Cyrillic, kana, hangul, accented Latin ...) are never separators
    for cp in range(0x80, _LUT_SIZE):
        if cls[cp] == _SEP and chr(cp).isalnum():
            cls[cp] = _DIG
    cls[_BOUNDARY] = _HARD
    for cp in _INVISIBLE:
        cls[cp] = _DROP
    return fold, snd, cls, {v: k for k, v in syll_index.items()}


class Folded:
    """A folded view of a text with the map back to the original offsets."""

    __slots__ = ("text", "_pos", "_n")

    def __init__(self, text: str, pos: np.ndarray, n: int):
        self.text, self._pos, self._n = text, pos, n

    def orig(self, i: int) -> int:
        """Original offset of folded position i (len(text) maps to the end of the original)."""
        return int(self._pos[i]) if i < len(self._pos) else self._n


def _arrays(text: str):
    """(folded code points, sound code points, kept positions) of a text (U+0000 = batch boundary)."""
    fold_t, snd_t, cls_t, _ = _tables()
    cp = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    big = cp >= _LUT_SIZE
    has_big = bool(big.any())
    safe = np.where(big, 0x20, cp) if has_big else cp
    cls = cls_t[safe]
    keep = cls != _DROP
    sep = cls == _SEP
    if sep.any():
        n = len(cp)
        idx = np.arange(n, dtype=np.int32)
        solid = ~sep & keep                                        # a character a separator run sits between
        prev = np.maximum.accumulate(np.where(solid, idx, -1))
        nxt = np.minimum.accumulate(np.where(solid, idx, n)[::-1])[::-1]
        s = np.flatnonzero(sep)
        p, q = prev[s], nxt[s]
        ok = (p >= 0) & (q < n)
        pc = np.where(ok, cls[np.clip(p, 0, n - 1)], _HARD)
        qc = np.where(ok, cls[np.clip(q, 0, n - 1)], _HARD)
        drop = ((pc == _CJKC) & (qc == _CJKC)) | ((pc == _LAT) & (qc == _LAT) & (q - p - 1 <= 3))
        keep[s[drop]] = False
    pos = np.flatnonzero(keep)
    whole = len(pos) == len(cp)
    kept = safe if whole else safe[pos]
    snd, fo = snd_t[kept], fold_t[kept]
    if has_big:                                                    # characters outside the tables: themselves
        hb = big if whole else big[pos]
        orig = cp if whole else cp[pos]
        snd[hb] = orig[hb]
        fo[hb] = orig[hb]
    return fo, snd, pos


def _views(text: str, *, want_fold: bool = True):
    """(folded str, sound str, kept-position array) of one text."""
    fo, snd, pos = _arrays(text)
    dec = lambda a: a.astype(np.uint32).tobytes().decode("utf-32-le")  # noqa: E731
    return (dec(fo) if want_fold else None), dec(snd), pos


def _hay16(snd: np.ndarray) -> bytes:
    """The sound view as UTF-16-LE code units for the byte automaton (astral characters -> U+FFFF)."""
    return np.minimum(snd, 0xFFFF).astype("<u2").tobytes()


def fold(text: str) -> Folded:
    """Folded text (see the module docstring) and its offset map."""
    f, _, pos = _views(text)
    return Folded(f, pos, len(text))


def sound(text: str) -> str:
    """The `sound` view of a text: CJK characters -> syllable codes (after folding)."""
    return _views(text, want_fold=False)[1]


def _syllables(text: str) -> list[str]:
    names = _tables()[3]
    return [names[ord(c) - SYLLABLE_BASE] for c in sound(text) if ord(c) - SYLLABLE_BASE in names]


def pinyin_forms(keyword: str) -> tuple[str, str]:
    """(full toneless pinyin, initials) of a keyword's CJK characters, e.g. ('falungong', 'flg'); phrase-aware."""
    from pypinyin import lazy_pinyin

    f = fold(keyword).text
    syl = [s for s in lazy_pinyin("".join(_CJK_RE.findall(f)), errors="ignore")]
    syl = [s.replace("ü", "v") for s in syl if s.isalpha()]
    return "".join(syl), "".join(s[0] for s in syl)


def _all_pinyin_forms(keyword: str) -> set[tuple[str, str]]:
    """Phrase-aware pinyin and the character-by-character most common readings (they can differ)."""
    out = {pinyin_forms(keyword)}
    syl = _syllables("".join(_CJK_RE.findall(fold(keyword).text)))
    out.add(("".join(syl), "".join(s[0] for s in syl)))
    return out


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    """Two-character words of jieba's dictionary with frequency >= 50 (empty without jieba)."""
    try:
        import jieba
    except ImportError:  # pragma: no cover - the assess extra installs it
        return frozenset()
    import os

    out = set()
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 2 and len(parts[0]) == 2 and parts[1].isdigit() and int(parts[1]) >= 50:
                out.add(parts[0])
    return frozenset(out)


def _inside_a_word(text: str, a: int, b: int) -> bool:
    """The span's first character ends a common word that begins just before it, or its last character starts
    one that ends just after it (家新闻 in 国家新闻): a homophone match there is most likely ordinary text."""
    words = _common_words()
    return bool(words) and ((a > 0 and text[a - 1:a + 1] in words) or (b < len(text) and text[b - 1:b + 1] in words))


def _split_spellings(folded: str, limit: int = 15) -> list[str]:
    """The keyword with any non-empty subset of its splittable characters written as parts (at most `limit`)."""
    out = [""]
    any_split = False
    for c in folded:
        alts = [c, *_SPLITS_OF.get(c, ())]
        any_split = any_split or len(alts) > 1
        out = [o + a for o in out for a in alts][: limit + 1]
    return [o for o in out if o != folded] if any_split else []


@dataclass(frozen=True)
class Hit:
    keyword: str
    start: int          # offsets in the original text
    end: int
    how: str            # folded | split | sound | pinyin | initials


class _Automaton:
    """Overlapping Aho-Corasick over the sound view, on cnai's one keyword engine (cnai.core.matcher: the
    compiled automaton, pure-Python fallback). The sound view is already folded and its boundaries are
    checked here, so the engine's ASCII whole-word rule is off."""

    def __init__(self, patterns: list[str]):
        from cnai.core.matcher import KeywordAutomaton

        self.empty = not patterns
        self._ka = KeywordAutomaton(patterns, whole_words=False)
        self.engine = f"cnai.core.matcher ({self._ka.engine})"

    def matches(self, snd: np.ndarray) -> list[tuple[int, int, int]]:
        """(pattern index, start, end) in characters of every (overlapping) match in a sound view."""
        if self.empty:
            return []
        return self._ka.find(snd.astype(np.uint32).tobytes().decode("utf-32-le"))


_ASCII_WORD = re.compile(r"[0-9a-z]")


class EvasionMatcher:
    """One keyword library, matched with every evasion folded away; hits carry original offsets."""

    def __init__(self, keywords: list[str], *, sound_min_chars: int = 2, pinyin_min_letters: int = 6,
                 initials_min_chars: int = 3, word_guard: bool = True):
        self.keywords = list(dict.fromkeys(k for k in keywords if k.strip()))
        self.sound_min_chars = sound_min_chars
        self.word_guard = word_guard            # drop homophone matches that cut through a common word
        pats: dict[str, list[tuple[int, str, str]]] = {}   # pattern -> [(keyword id, family, folded check)]

        def add(p: str, i: int, family: str, check: str) -> None:
            if p:
                pats.setdefault(p, []).append((i, family, check))

        for i, k in enumerate(self.keywords):
            f, s, _ = _views(k)
            n_cjk = len(_CJK_RE.findall(f))
            add(s, i, "cjk" if n_cjk else "literal", f)
            for v in _split_spellings(f):
                fv, sv, _ = _views(v)
                add(sv, i, "split", fv)
            if n_cjk >= 2 and n_cjk == len(f):
                for full, ini in _all_pinyin_forms(f):
                    if len(full) >= pinyin_min_letters:
                        add(full, i, "pinyin", full)
                    if n_cjk >= initials_min_chars:
                        add(ini, i, "initials", ini)
        self._patterns = list(pats)
        self._targets = [pats[p] for p in self._patterns]
        self._auto = _Automaton(self._patterns)
        self._ascii = [bool(k.isascii() and _ASCII_WORD.search(k.lower())) for k in self.keywords]

    @property
    def engine(self) -> str:
        return getattr(self._auto, "engine", "none")

    def find(self, text: str) -> list[Hit]:
        return self.find_many([text])[0]

    def find_many(self, texts: list[str]) -> list[list[Hit]]:
        """Hits of each text (one fold and one automaton pass for the whole batch)."""
        texts = list(texts)
        out: list[list[Hit]] = [[] for _ in texts]
        if not texts or self._auto.empty:
            return out
        joined = "\0".join(t.replace("\0", " ") for t in texts)
        starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]])
        fo, snd, pos = _arrays(joined)
        matches = self._auto.matches(snd)
        if not matches:
            return out
        f = fo.astype(np.uint32).tobytes().decode("utf-32-le")
        best: dict[tuple[int, int, int, int], str] = {}
        rank = {"folded": 0, "split": 1, "sound": 2, "pinyin": 3, "initials": 4}
        n = len(joined)
        for pi, a, b in matches:
            seg = f[a:b]
            oa = int(pos[a])
            ob = int(pos[b - 1]) + 1
            for ki, family, check in self._targets[pi]:
                if family in ("cjk", "literal"):
                    if seg == check:
                        how = "folded"
                    elif family == "cjk" and len(_CJK_RE.findall(check)) >= self.sound_min_chars \
                            and len(check) == len(seg):
                        how = "sound"
                    else:
                        continue
                elif family == "split":
                    if seg != check:
                        continue
                    how = "split"
                else:
                    how = family
                if (how == "initials" or self._ascii[ki]) and not _word_bounded(joined, oa, ob, n):
                    continue
                if how == "sound" and self.word_guard and _inside_a_word(joined, oa, ob):
                    continue
                d = int(np.searchsorted(starts, oa, side="right")) - 1
                key = (d, ki, oa - int(starts[d]), ob - int(starts[d]))
                if key not in best or rank[how] < rank[best[key]]:
                    best[key] = how
        for (d, ki, a, b), how in best.items():
            out[d].append(Hit(self.keywords[ki], a, b, how))
        for lst in out:
            lst.sort(key=lambda h: (h.start, h.end, h.keyword))
        return out


def _word_bounded(text: str, a: int, b: int, n: int) -> bool:
    """No ASCII letter or digit right before a or right after b (full-width forms count as ASCII)."""
    def wordish(c: str) -> bool:
        o = ord(c)
        if 0xFF10 <= o <= 0xFF5A:
            o -= 0xFEE0
        return o < 128 and chr(o).isalnum()

    return not (a > 0 and wordish(text[a - 1])) and not (b < n and wordish(text[b]))


def expand(keyword: str) -> dict[str, list[str]]:
    """The forms one entry catches, for the filing annex (`cnai bank keywords expand`)."""
    import opencc

    f = fold(keyword).text
    n = len(_CJK_RE.findall(f))
    forms = sorted(_all_pinyin_forms(f)) if n >= 2 and n == len(f) else []
    trad = opencc.OpenCC("s2t").convert(f)
    splits = _split_spellings(f)
    return {"folded": [f],
            "traditional": [trad] if trad != f else [],
            "split": splits,
            "pinyin": sorted({p for p, _ in forms if len(p) >= 6}),
            "initials": sorted({i for _, i in forms}) if n >= 3 else [],
            "homophones": [f"(any characters read: {' '.join(_syllables(f))})"] if n >= 2 else []}
