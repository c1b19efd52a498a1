"""Evasion-proof keyword matching: text and keywords are folded into the same forms before the automaton.

Users dodge keyword filters by writing a term in traditional characters, in full-width forms, with symbols or
spaces between its characters, with characters of the same sound (homophones), in pinyin or pinyin initials,
or with a character split into its parts. One library entry should catch all of these. Four views:

- `folded`: NFKC-like full-width -> half-width, ASCII lower case, traditional -> simplified (OpenCC's
  character table), split characters re-joined (our table SPLIT_FORMS), and separator runs (spaces,
  punctuation, symbols, emoji, zero-width characters) removed *between two CJK characters*;
- `sound`: every CJK character of the folded text replaced by a code for its toneless pinyin syllable (the
  character's most common reading, from pypinyin's table), so homophone substitutions meet the keyword;
  only keywords of >= 2 characters are matched here (one syllable alone matches far too much);
- `pinyin`: Latin letter runs of the text (separators between letters removed) against each keyword's full
  pinyin (>= 6 letters), for keywords of >= 2 characters;
- `initials`: whole Latin tokens against each keyword's pinyin initials, for keywords of >= 3 characters.

Offsets of every hit are mapped back to the original text. Matching runs on str.translate and one automaton per
view, so the cost per byte stays close to plain matching (benchmarks/results/assess.md).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{CJK}]")
# separators a user can slip between two characters of a term (not letters, digits or CJK)
_SEP_BETWEEN_CJK = re.compile(f"(?<=[{CJK}])[^{CJK}0-9A-Za-z]+(?=[{CJK}])")
_SEP_BETWEEN_LATIN = re.compile(r"(?<=[a-z])[^a-z0-9\u3400-\u9fff]{1,3}(?=[a-z])")
_LATIN_RUN = re.compile(r"[a-z]+")
_TOKEN = re.compile(r"(?<![a-z0-9])[a-z]{3,}(?![a-z0-9])")
SYLLABLE_BASE = 0xE000  # private-use code points stand for syllables in the `sound` view

# Split-character forms seen in evasion (a character written as its parts, left to right); our own table.
SPLIT_FORMS = {
    "弓长": "张", "木子": "李", "耳东": "陈", "口天": "吴", "言午": "许", "立早": "章", "古月": "胡",
    "日月": "明", "女子": "好", "亻尔": "你", "氵去": "法", "车仑": "轮", "工力": "功", "彐习": "习",
    "火火": "炎", "木木": "林", "石皮": "破", "扌仓": "抢", "氵肖": "消", "讠川": "训", "氵由": "油",
    "钅艮": "银", "贝才": "财", "亻弋": "代", "纟且": "组", "幺": "幺", "禾火": "秋", "亻本": "体",
    "扌丁": "打", "犭句": "狗", "饣反": "饭", "口阿": "啊", "毛几": "毛", "月半": "胖", "讠某": "谋",
    "辶反": "返", "忄青": "情", "扌巴": "把", "口乞": "吃", "虫也": "蛇", "米斗": "料",
}


@lru_cache(maxsize=1)
def _tables() -> tuple[dict, dict]:
    """(fold table for str.translate, syllable table) built once per process (about 0.3 s)."""
    import opencc
    from pypinyin.pinyin_dict import pinyin_dict

    fold: dict[int, str | int] = {}
    for cp in range(0xFF01, 0xFF5F):  # full-width ASCII
        fold[cp] = chr(cp - 0xFEE0).lower()
    fold[0x3000] = " "
    for cp in range(0x41, 0x5B):
        fold[cp] = cp + 32
    for cp in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD):  # invisible characters: dropped
        fold[cp] = None
    chars = "".join(chr(cp) for cp in range(0x4E00, 0xA000)) + "".join(chr(cp) for cp in range(0x3400, 0x4DC0))
    simp = opencc.OpenCC("t2s").convert(chars)
    if len(simp) == len(chars):
        for a, b in zip(chars, simp, strict=True):
            if a != b:
                fold[ord(a)] = b
    syll_index: dict[str, int] = {}
    sound: dict[int, str] = {}
    for cp, readings in pinyin_dict.items():
        first = readings.split(",")[0]
        base = "".join(c for c in unicodedata.normalize("NFD", first) if not unicodedata.combining(c))
        base = base.replace("ü", "v")
        idx = syll_index.setdefault(base, len(syll_index))
        sound[cp] = chr(SYLLABLE_BASE + idx)
    return fold, {"sound": sound, "names": {v: k for k, v in syll_index.items()}}


def _split_re():
    return re.compile("|".join(sorted((re.escape(k) for k in SPLIT_FORMS if len(k) > 1), key=len, reverse=True)))


_SPLIT_RE = None


class Folded:
    """A folded view of a text with the map back to the original offsets."""

    __slots__ = ("text", "_starts", "_origs")

    def __init__(self, text: str, starts: list[int], origs: list[int]):
        self.text, self._starts, self._origs = text, starts, origs

    def orig(self, i: int) -> int:
        """Original offset of folded position i (a position inside a dropped run maps to the run's end)."""
        k = bisect.bisect_right(self._starts, i) - 1
        return self._origs[k] + (i - self._starts[k])


def fold(text: str) -> Folded:
    """Folded text (see the module docstring) and its offset map."""
    global _SPLIT_RE
    table, _ = _tables()
    t = text.translate(table)
    # translate() keeps one char per char except dropped invisibles: map those first
    starts, origs = [0], [0]
    if len(t) != len(text):
        t, starts, origs = _remove(text, [m.span() for m in re.finditer("[\u200b\u200c\u200d\u2060\ufeff\u00ad]+", text)])
        t = t.translate(table)
    if _SPLIT_RE is None:
        _SPLIT_RE = _split_re()
    spans = [m.span() for m in _SPLIT_RE.finditer(t)]
    if spans:  # two parts -> one character: drop the second part and replace the first
        chars = list(t)
        for a, b in spans:
            chars[a] = SPLIT_FORMS[t[a:b]]
            for j in range(a + 1, b):
                chars[j] = ""
        drops = [(a + 1, b) for a, b in spans]
        t2, s2, o2 = _remove("".join(c if c else "\0" for c in chars), drops)
        t, starts, origs = t2, *_compose(starts, origs, s2, o2, len(t2))
    seps = [m.span() for m in _SEP_BETWEEN_CJK.finditer(t)] + [m.span() for m in _SEP_BETWEEN_LATIN.finditer(t)]
    if seps:
        seps.sort()
        t2, s2, o2 = _remove(t, seps)
        t, starts, origs = t2, *_compose(starts, origs, s2, o2, len(t2))
    return Folded(t, starts, origs)


def _remove(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[int], list[int]]:
    """Text without the spans; segment starts in the new text and their offsets in the old one."""
    out, starts, origs, pos, new = [], [], [], 0, 0
    for a, b in spans:
        if a > pos:
            out.append(text[pos:a])
            starts.append(new)
            origs.append(pos)
            new += a - pos
        pos = max(pos, b)
    if pos <= len(text):
        out.append(text[pos:])
        starts.append(new)
        origs.append(pos)
    return "".join(out), starts, origs


def _compose(s1, o1, s2, o2, n2: int) -> tuple[list[int], list[int]]:
    """Map of a second removal applied on top of the first (new position -> original), split wherever a
    segment of the second map crosses a boundary of the first. n2: length of the newest text."""
    out_s, out_o = [], []
    for k, start in enumerate(s2):
        end = s2[k + 1] if k + 1 < len(s2) else n2
        q0 = o2[k]
        q1 = q0 + (end - start)
        j = bisect.bisect_right(s1, q0) - 1
        q = q0
        while True:
            out_s.append(start + (q - q0))
            out_o.append(o1[j] + (q - s1[j]))
            nxt = s1[j + 1] if j + 1 < len(s1) else None
            if nxt is None or nxt >= q1:
                break
            q, j = nxt, j + 1
    return out_s, out_o


def sound(folded: str) -> str:
    """The `sound` view: CJK characters -> syllable codes; everything else unchanged."""
    return folded.translate(_tables()[1]["sound"])


def pinyin_forms(keyword: str) -> tuple[str, str]:
    """(full toneless pinyin, initials) of a keyword's CJK characters, e.g. ('falungong', 'flg')."""
    names = _tables()[1]["names"]
    codes = sound(fold(keyword).text)
    syl = [names[ord(c) - SYLLABLE_BASE] for c in codes if SYLLABLE_BASE <= ord(c) < SYLLABLE_BASE + len(names)]
    return "".join(syl), "".join(s[0] for s in syl)


@dataclass(frozen=True)
class Hit:
    keyword: str
    start: int          # offsets in the original text
    end: int
    how: str            # folded | sound | pinyin | initials


class _Automaton:
    """Aho-Corasick over one view: pyahocorasick (C)."""

    def __init__(self, words: dict[str, list[int]]):
        import ahocorasick

        self.a = ahocorasick.Automaton()
        for w, ids in words.items():
            self.a.add_word(w, ids)
        self.empty = not words
        if words:
            self.a.make_automaton()

    def iter(self, text: str):
        if self.empty:
            return
        for end, ids in self.a.iter(text):
            yield end + 1, ids


class EvasionMatcher:
    """One keyword library, matched in all four views; `find(text)` -> hits with original offsets."""

    def __init__(self, keywords: list[str], *, sound_min_chars: int = 2, pinyin_min_letters: int = 6,
                 initials_min_chars: int = 3):
        self.keywords = list(dict.fromkeys(k for k in keywords if k.strip()))
        folded: dict[str, list[int]] = {}
        snd: dict[str, list[int]] = {}
        py: dict[str, list[int]] = {}
        ini: dict[str, list[int]] = {}
        self._len: list[int] = []
        for i, k in enumerate(self.keywords):
            f = fold(k).text
            self._len.append(len(f))
            folded.setdefault(f, []).append(i)
            n_cjk = len(_CJK_RE.findall(f))
            if n_cjk >= sound_min_chars and n_cjk == len(f):
                snd.setdefault(sound(f), []).append(i)
                full, initials = pinyin_forms(f)
                if len(full) >= pinyin_min_letters:
                    py.setdefault(full, []).append(i)
                if n_cjk >= initials_min_chars:
                    ini.setdefault(initials, []).append(i)
        self._folded, self._sound, self._pinyin = _Automaton(folded), _Automaton(snd), _Automaton(py)
        self._initials = ini

    def find(self, text: str) -> list[Hit]:
        f = fold(text)
        hits: dict[tuple[int, int, int], Hit] = {}

        def add(ids, a, b, how):
            s = f.orig(a)
            e = f.orig(b) if b < len(f.text) else len(text)
            while e > s + 1 and not (text[e - 1].isalnum()):  # separators after the term are not part of it
                e -= 1
            for i in ids:
                hits.setdefault((i, s, e), Hit(self.keywords[i], s, e, how))

        for end, ids in self._folded.iter(f.text):
            add(ids, end - self._len[ids[0]], end, "folded")
        if not self._sound.empty:
            for end, ids in self._sound.iter(sound(f.text)):
                add([i for i in ids], end - self._len[ids[0]], end, "sound")
        if not self._pinyin.empty or self._initials:
            for m in _LATIN_RUN.finditer(f.text):
                run = m.group()
                if len(run) >= 6:
                    for end, ids in self._pinyin.iter(run):
                        n = len(self._pinyin_len(ids[0]))
                        add(ids, m.start() + end - n, m.start() + end, "pinyin")
            for m in _TOKEN.finditer(f.text):
                ids = self._initials.get(m.group())
                if ids:
                    add(ids, m.start(), m.end(), "initials")
        out = sorted(hits.values(), key=lambda h: (h.start, h.end, h.keyword))
        # one hit per keyword and place: the most literal view wins
        rank = {"folded": 0, "sound": 1, "pinyin": 2, "initials": 3}
        best: dict[tuple[str, int, int], Hit] = {}
        for h in out:
            k = (h.keyword, h.start, h.end)
            if k not in best or rank[h.how] < rank[best[k].how]:
                best[k] = h
        return sorted(best.values(), key=lambda h: (h.start, h.end, h.keyword))

    def _pinyin_len(self, i: int) -> str:
        return pinyin_forms(self.keywords[i])[0]


def expand(keyword: str) -> dict[str, list[str]]:
    """The forms one entry catches, for the filing annex (`cnai bank keywords expand`)."""
    f = fold(keyword).text
    full, initials = pinyin_forms(f)
    n = len(_CJK_RE.findall(f))
    return {"folded": [f], "pinyin": [full] if n >= 2 and len(full) >= 6 else [],
            "initials": [initials] if n >= 3 else [], "homophones": ["(any characters with these syllables: "
                                                                      f"{' '.join(_syllables(f))})"] if n >= 2 else []}


def _syllables(folded: str) -> list[str]:
    names = _tables()[1]["names"]
    return [names[ord(c) - SYLLABLE_BASE] for c in sound(folded) if SYLLABLE_BASE <= ord(c) < SYLLABLE_BASE + len(names)]
