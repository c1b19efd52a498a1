"""Personal-information detectors and risk-keyword screening in one pass per document.

Two scans per document, each compiled (cnai/corpus/_wordscan.c) with a Python reference path:
1. the token scan finds ASCII "tokens" (runs of letters, digits and separators around a digit or '@');
   each is split into e-mail, IPv4, IPv6 and alphanumeric pieces, and every piece is validated against the
   token table checks.TOKEN_RULES (check digits and formats of IDs, USCC, cards, phones, passports, permits,
   plates). Compiled: _wordscan.Tokens; reference: Detector._scan_tokens_py. House numbers (N号) and
   city + district + street trigger the address detector (Python);
2. one Aho-Corasick automaton (_wordscan.Scanner, else cnai.core.matcher's Python twin) finds the risk
   keywords of the shared keyword library (cnai.assess.keywords, folded the same way as its matcher),
   sensitive-PI signal words and name cue words in a single pass.

A finding is a tuple (type, start, end, confidence, reason) with character offsets into the text.
"""

from __future__ import annotations

import ipaddress
import operator
import re
from collections.abc import Callable

from cnai.assess.keywords import fold
from cnai.corpus import checks
from cnai.corpus.lexicon import (
    ADDRESS_CUES,
    ADDRESS_STREET,
    CONTEXT_WORDS,
    NAME_BOUNDARY,
    NAME_END,
    NAME_PREFIX_CUES,
    NAME_STOP,
    NAME_SUFFIX_CUES,
    NAME_VERB_CUES,
    PLACE_STARTS,
    SENSITIVE_SIGNALS,
    SURNAMES_1,
    SURNAMES_2,
    WEAK_NAME_PREFIX_CUES,
)
from cnai.corpus.screening import KeywordList, RiskScreener

PI_TYPES = [
    "cn_resident_id", "cn_mobile", "cn_landline", "email", "bank_card", "uscc", "passport",
    "hk_macao_permit", "ip_address", "license_plate", "person_name", "address",
]
PI_TYPES += sorted({r.type for r in checks.TOKEN_RULES} - set(PI_TYPES))  # a type added to the token table
SENSITIVE_TYPES = [f"sensitive:{k}" for k in SENSITIVE_SIGNALS]

Finding = tuple[str, int, int, float, str]

_TOKEN = re.compile(r"(?<![0-9A-Za-z])[+0-9A-Za-z](?:[0-9A-Za-z._%@:+\-]|(?<=[0-9]) (?=[0-9])){4,}")
_EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}")
_IPV4 = re.compile(r"(?<![0-9.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
                   r"(?![0-9]|\.[0-9])")
_IPV6 = re.compile(r"[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*")
_DIGIT_RUN = re.compile(r"[0-9@][0-9@]*")
_TOKCH = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._%@:+-")
_PIECE = re.compile(r"[0-9A-Za-z]+(?:[\- ][0-9A-Za-z]+)*")
# the token-type table, split by piece kind (all digits / with letters), in table order
_RULES_BY_KIND = {d: [r for r in checks.TOKEN_RULES if r.digits == d] for d in (True, False)}
_CJK = re.compile(r"[\u4e00-\u9fff]")
# "本市", "全县", "城市" ...: administrative words in ordinary prose, not the city part of an address
_GENERIC_ADMIN = frozenset(
    "本市 全市 该市 各市 此市 我市 城市 都市 本县 全县 该县 我县 各县 县城 城县 全州 本州 该州".split())
_ADDR_STOP = frozenset("的了是在和与及或对向给把被从到为于说也都就又还很这那你我他她它们个之")
# the street words an address without a house number ends in; also words of the keyword automaton, so that a
# text holding none of them (most prose) skips that scan (see detect)
_ADMIN_STREETS = ("路", "街", "大道", "巷", "胡同", "弄")
_ADMIN_ADDR = re.compile(r"(?:(?![的了是在和与及或对向给把被从到为于说也都就又还很这那])[\u4e00-\u9fff]){1,10}?"
                         r"(?:" + "|".join(_ADMIN_STREETS) + ")")


def _cjk_run(text: str, a: int, b: int) -> bool:
    """text[a:b] is 1-8 CJK characters without function words."""
    return 1 <= b - a <= 8 and all(_CJK.match(c) and c not in _ADDR_STOP for c in text[a:b])


_TITLES = frozenset(w for w in NAME_SUFFIX_CUES if len(w) == 2)
_CN_NUM = set("一二三四五六七八九十百零〇")
_ADDR_TAIL = re.compile(r"[0-9A-Za-z\-一二三四五六七八九十号楼栋幢单元室层座]{0,12}")


class Detector:
    """Finds PI and risk keywords in text. Picklable recipe: (keywords, types, min_confidence)."""

    def __init__(self, keywords: KeywordList | None = None, *, types: set[str] | None = None,
                 min_confidence: float = 0.0, classifier: Callable | None = None,
                 screener: RiskScreener | None = None, recognizers: list | None = None):
        self.keywords = keywords or KeywordList()
        self.recognizers = recognizers or []  # [(name, Recognizer, min confidence)] from the registry
        self.types = types
        self.min_confidence = min_confidence
        self.classifier = classifier
        self.screener = screener  # an extra RiskScreener (e.g. a custom matcher), run after the automaton
        # One automaton for risk keywords + PI cue words, over text folded exactly like the shared
        # matcher (cnai.assess.keywords.fold: full-width -> ASCII, lower case; same length).
        table: dict[str, list] = {}
        for kw, codes in self.keywords.entries.items():
            for c in sorted(codes):
                table.setdefault(fold(kw), []).append(("risk", c, kw))
        for cat, words in SENSITIVE_SIGNALS.items():
            for w in words:
                table.setdefault(fold(w), []).append(("sens", cat, w))
        for kind, words in (("npre", NAME_PREFIX_CUES), ("nsuf", NAME_SUFFIX_CUES), ("nverb", NAME_VERB_CUES)):
            for w in words:
                table.setdefault(fold(w), []).append((kind, "", w))
        # gate words, no finding of their own: a text without 号 skips the house-number scan, one without a
        # street word the admin-address scan (their events come from the one automaton pass)
        for w in _ADMIN_STREETS:
            table.setdefault(w, []).append(("street", "", w))
        table.setdefault("号", []).append(("house", "", "号"))
        words = [w for w in table if w.strip()]
        self._vals = [(len(w), _ascii_word(w), tuple(table[w])) for w in words]
        self._full_fold = any(not c.isalnum() for w in words for c in w)
        self._words = words
        self._fast = _compiled_scanner(words, self._vals)
        self._tok = _compiled_tokens()
        # the Python automaton is built only when needed: always without the compiled scanner, else on the
        # first text the scanner leaves to Python
        self._auto = _build_automaton(words) if words and self._fast is None else None
        # per word: the (type, reason) of its risk/sensitive findings, in table order (both paths), and its
        # cue words by kind (compiled events). Table order puts every word's risk/sensitive entries before
        # its cue entries, so appending these first keeps the findings' order.
        self._word_findings = [tuple(((f"risk:{v}", f"keyword {w}") if k == "risk" else
                                      (f"sensitive:{v}", f"signal word {w}"))
                                     for k, v, w in vals if k in ("risk", "sens")) for _l, _a, vals in self._vals]
        self._cue_words = [{k: w for k, _v, w in vals if k in _CUE_KINDS} for _l, _a, vals in self._vals]
        self._street_idx = frozenset(i for i, (_l, _a, vals) in enumerate(self._vals) if vals[-1][0] == "street")
        self._house_idx = frozenset(i for i, (_l, _a, vals) in enumerate(self._vals) if vals[-1][0] == "house")

    @property
    def scanner(self) -> str:
        """Which keyword/name-cue pass runs: "compiled" (cnai/corpus/_wordscan.c) or "python"."""
        return "compiled" if self._fast is not None else "python"

    def __reduce__(self):
        return (_rebuild, (self.keywords, self.types, self.min_confidence, self.classifier, self.screener,
                           self.recognizers))

    # ------------------------------------------------------------------ public
    def detect(self, text: str) -> list[Finding]:
        out: list[Finding] = []
        if not text:
            return out
        # fast: None without the compiled scanner or for a text whose case folding it leaves to Python,
        # else (keyword/name-cue events, whether the text has a digit or '@')
        fast = self._fast.scan(text) if self._fast is not None else None
        if fast is None or fast[1]:  # every token-based type needs a digit or '@'
            self._scan_tokens(text, out)
        if fast is None:
            self._scan_house_numbers(text, out)
            self._scan_admin_addresses(text, out)
            self._scan_words(text, out)
        elif fast[0]:
            # a house number needs a 号 and an admin address ends in a street word: without their gate words
            # among the automaton's events (most prose) those scans cannot match (on ordinary text they
            # cost ~0.8 ms per MB, a text.find per 号 / 区 / 县 and a regex per 区)
            ev = fast[0]
            gate = self._house_idx
            if any(e[1] in gate for e in ev):
                self._scan_house_numbers(text, out)
            gate = self._street_idx
            if any(e[1] in gate for e in ev):
                self._scan_admin_addresses(text, out)
            self._add_events(ev, out)
        if self.screener is not None:
            for m in self.screener.find_all(text):
                out.append((f"risk:{m[3]}", m[0], m[1], 0.5, f"keyword {m[2]}"))
        for _name, rec, floor in self.recognizers:  # registered recognizers (plug-ins and cnai's own extras)
            for start, end, conf, reason in rec.find(text):
                if conf >= floor:
                    out.append((rec.type, start, end, float(conf), reason))
        if self.classifier is not None:
            for code, score in self.classifier(text) or []:
                out.append((f"risk:{code}", 0, len(text), float(score), "classifier"))
        if self.types is not None:
            out = [f for f in out if f[0] in self.types or (f[0].startswith("risk:") and "risk" in self.types)]
        if self.min_confidence:
            out = [f for f in out if f[3] >= self.min_confidence]
        if len(out) > 1:
            out.sort(key=_sort_key)
            return _dedupe(out)
        return out

    # ------------------------------------------------------------------ tokens
    def _scan_house_numbers(self, text: str, out: list[Finding]) -> None:
        k = text.find("号", 1)  # from 1: a 号 opening the text has no number before it (and ended the walk)
        while k > 0:
            e = k
            s = k
            while s > 0 and s > k - 6 and (text[s - 1].isdigit() or text[s - 1] in _CN_NUM):
                s -= 1
            if s < e:
                self._address(text, s, e, out)
            k = text.find("号", k + 1)

    def _iter_tokens(self, text: str):
        """Tokens that contain a digit or '@' (every token-based PI type does).

        A cheap regex finds digit/@ runs (about 4x faster than the token regex over CJK text); each run
        is widened to its token. Gives the same tokens as _TOKEN.finditer filtered to digit/@ tokens.
        """
        last = 0
        for m in _DIGIT_RUN.finditer(text):
            i = m.start()
            if i < last:
                continue
            while i > last and (text[i - 1] in _TOKCH or (text[i - 1] == " " and i >= 2 and text[i - 2].isdigit()
                                                             and text[i].isdigit())):
                i -= 1
            tm = _TOKEN.search(text, i, m.end() + 4096)
            if tm is None or tm.start() > m.start():
                last = m.end()
                continue
            last = tm.end()
            yield tm

    def _scan_admin_addresses(self, text: str, out: list[Finding]) -> None:
        """Addresses without a house number: ...市/州/盟/县 X 区/县 Y 路/街/大道/巷/胡同 (each part 1-10 CJK
        characters, no function words), widened back to a province or place name."""
        for marker in ("区", "县"):
            k = text.find(marker, 1)  # from 1: one opening the text has no city before it (and ended the walk)
            while k > 0:
                m = _ADMIN_ADDR.match(text, k + 1)
                if m:
                    city = max(text.rfind(c, max(0, k - 9), k - 1) for c in "市州盟县")
                    if (city > 1 and _cjk_run(text, city + 1, k) and k - city >= 3
                            and text[city - 1:city + 1] not in _GENERIC_ADMIN and m.end() - k >= 3):
                        start = city
                        lo = max(0, city - 10)
                        while start > lo and _CJK.match(text[start - 1]) and text[start - 1] not in _ADDR_STOP:
                            start -= 1
                        seg = text[start:city]
                        cue = max((seg.rfind(c) + len(c) for c in ADDRESS_CUES if c in seg), default=-1)
                        place = min((seg.find(p) for p in PLACE_STARTS if p in seg), default=-1)
                        if place >= 0 and place >= cue:
                            start += place
                        elif cue >= 0:
                            start += cue
                        if city - start <= 8 and start < city - 1:
                            conf = 0.7 if ("省" in text[start:city] or place >= 0) else 0.5
                            out.append(("address", start, m.end(), conf,
                                        "city + district/county + street (no house number)"))
                k = text.find(marker, k + 1)

    def _scan_tokens(self, text: str, out: list[Finding]) -> None:
        if self._tok is not None:  # the compiled pass (cnai/corpus/_wordscan.c, Tokens)
            out.extend(self._tok.scan(text))
            return
        self._scan_tokens_py(text, out)

    def _scan_tokens_py(self, text: str, out: list[Finding]) -> None:
        """Reference path of the token scan (the compiled pass, _wordscan.Tokens, must give the same)."""
        for m in self._iter_tokens(text):
            self._scan_token(text, m.start(), m.group(), out)

    def _scan_token(self, text: str, base: int, tok: str, out: list[Finding]) -> None:
        taken: list[tuple[int, int]] = []
        if "@" in tok:
            for em in _EMAIL.finditer(tok):
                out.append(("email", base + em.start(), base + em.end(), 0.95, "e-mail address syntax"))
                taken.append((em.start(), em.end()))
        if "." in tok:
            for im in _IPV4.finditer(tok):
                if _inside(im.start(), im.end(), taken):
                    continue
                s, e = base + im.start(), base + im.end()
                conf = 0.9 if _ctx(text, s, "ip_address") else 0.75
                out.append(("ip_address", s, e, conf, "dotted IPv4 address, octets <= 255"))
                taken.append((im.start(), im.end()))
        if tok.count(":") >= 2:
            for im in _IPV6.finditer(tok):
                cand = im.group().strip(":.") if im.group().startswith(":::") else im.group().rstrip(".")
                if len(cand) < 6 or _inside(im.start(), im.end(), taken):
                    continue
                try:
                    ipaddress.IPv6Address(cand)
                except ValueError:
                    continue
                st = base + im.start() + im.group().find(cand)
                out.append(("ip_address", st, st + len(cand), 0.85, "valid IPv6 address"))
                taken.append((im.start(), im.end()))
        for pm in _PIECE.finditer(tok):
            if _inside(pm.start(), pm.end(), taken):
                continue
            self._classify(text, base + pm.start(), pm.group(), out)

    def _classify(self, text: str, start: int, piece: str, out: list[Finding]) -> bool:
        norm = piece.replace(" ", "").replace("-", "") if (" " in piece or "-" in piece) else piece
        end = start + len(piece)
        if self._classify_norm(text, start, end, norm, piece, out):
            return True
        for sep in (" ", "-"):
            if sep in piece:
                pos = 0
                found = False
                for part in piece.split(sep):
                    if part and len(part) >= 5:
                        found |= self._classify(text, start + pos, part, out)
                    pos += len(part) + 1
                return found
        return False

    def _classify_norm(self, text: str, s: int, e: int, n: str, raw: str, out: list[Finding]) -> bool:
        """The first rule of checks.TOKEN_RULES that matches the piece n (separators removed) adds a finding."""
        digits = n.isdigit()
        L = len(n)
        for rule in _RULES_BY_KIND[digits]:
            if L not in rule.lengths:
                continue
            if rule.check is None:  # license plate: looks at the characters before the piece
                if (digits and not (s > 2 and text[s - 1] in "·• ")) or s == 0:
                    return False
                return self._plate(text, s, e, n, out)
            r = rule.check(n, raw)
            if r is None:
                continue
            conf = r[0]
            if rule.context is not None and _ctx(text, s, rule.type):
                conf = rule.context[1] if rule.context[0] == "set" else min(rule.context[2], conf + rule.context[1])
            out.append((rule.type, s, e, conf, r[1]))
            return True
        return False

    def _plate(self, text: str, s: int, e: int, n: str, out: list[Finding]) -> bool:
        p = s - 1
        tail = n
        if text[p] in "·• " and p > 1 and text[p - 1].isascii() and text[p - 1].isalpha():
            tail = text[p - 1].upper() + n  # 粤B·D12345: the issuing letter sits before the dot
            p -= 2
        elif text[p] in "·• " and p > 0:
            p -= 1
        if text[p] in checks.PLATE_PROVINCES and checks.plate_tail(tail):
            out.append(("license_plate", p, e, 0.9, "province abbreviation + plate number format"))
            return True
        return False

    # ------------------------------------------------------------------ addresses
    def _address(self, text: str, s: int, e: int, out: list[Finding]) -> None:
        i = s
        lo = max(0, s - 40)
        while i > lo and (_CJK.match(text[i - 1]) or text[i - 1].isdigit()):
            i -= 1
        seg = text[i:s]
        if not any(st in seg for st in ADDRESS_STREET):
            return
        start = i
        best = -1
        for cue in ADDRESS_CUES:
            k = seg.rfind(cue)
            if k >= 0:
                best = max(best, k + len(cue))
        place = min((k for k in (seg.find(p) for p in PLACE_STARTS) if k >= 0), default=-1)
        if place >= 0 and place >= best:
            start = i + place
        elif best >= 0:
            start = i + best
        tail = _ADDR_TAIL.match(text, e + 1)
        end = tail.end() if tail else e + 1
        span = text[start:end]
        if len(span) < 6:
            return
        admin = sum(1 for mk in ("省", "市", "区", "县", "镇", "乡") if mk in span)
        conf = 0.8 if admin >= 2 else (0.65 if admin == 1 else 0.5)
        out.append(("address", start, end, conf, f"street + house number with {admin} administrative markers"))

    # ------------------------------------------------------------------ words
    def _add_events(self, events, out: list[Finding]) -> None:
        """Findings from the compiled pass (cnai/corpus/_wordscan.c), same as _scan_words gives."""
        for kind, idx, s, e in events:
            if kind == 0:
                for typ, reason in self._word_findings[idx]:
                    out.append((typ, s, e, 0.5, reason))
            else:
                ck = _CUE_KINDS[kind - 1]
                out.append(("person_name", s, e, _CUE_CONF[ck], _CUE_REASON[ck] + self._cue_words[idx][ck]))

    def _scan_words(self, text: str, out: list[Finding]) -> None:
        """Reference path of the keyword and name-cue pass (used without the compiled scanner)."""
        if self._auto is None:
            if not self._words:
                return
            self._auto = _build_automaton(self._words)
        ft = fast_fold(text, self._full_fold)
        n = len(ft)
        table = self._vals
        for idx, s, e in self._auto(ft):
            _length, ascii_word, vals = table[idx]
            if ascii_word and ((s > 0 and _is_word_char(ft[s - 1])) or (e < n and _is_word_char(ft[e]))):
                continue
            for typ, reason in self._word_findings[idx]:
                out.append((typ, s, e, 0.5, reason))
            for kind, _val, word in vals:
                if kind == "npre":
                    _name_after(text, e, out, word)
                elif kind == "nsuf":
                    _name_before(text, s, out, word)
                elif kind == "nverb":
                    _name_before(text, s, out, word, boundary=True)


_NEEDS_FW = re.compile("[\uff01-\uff5e\u3000]")
_NEEDS_FW_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff3f\uff41-\uff5a]")  # incl. ＿ -> _ (a word char)


def fast_fold(text: str, full: bool = True) -> str:
    """Same matches as cnai.assess.keywords.fold, without the slow translate() when it cannot matter.

    With full=False (no keyword contains punctuation or spaces) only full-width letters and digits
    need folding: full-width punctuation such as ， is a non-word character folded or not.
    """
    if not (_NEEDS_FW if full else _NEEDS_FW_ALNUM).search(text):
        low = text.lower()
        if len(low) == len(text):
            return low
    return fold(text)


_CUE_KINDS = ("npre", "nsuf", "nverb")  # compiled event kinds 1, 2, 3
_CUE_CONF = {"npre": 0.7, "nsuf": 0.65, "nverb": 0.6}
_CUE_REASON = {"npre": "surname after cue ", "nsuf": "surname before title ", "nverb": "surname before verb "}


def _compiled_scanner(words: list[str], vals: list[tuple]):
    """The compiled keyword + name-cue pass (cnai/corpus/_wordscan.c), or None.

    None when the extension is not built, when CNAI_CORPUS_MATCHER names a Python engine, or when a
    folded word carries two cue entries of one kind (the compiled pass reports one per kind).
    """
    import os

    if not words or os.environ.get("CNAI_CORPUS_MATCHER", "") not in ("", "c"):
        return None
    try:
        from cnai.corpus import _wordscan
    except ImportError:
        if os.environ.get("CNAI_CORPUS_MATCHER") == "c":
            raise
        return None
    flags = []
    for _len, ascii_word, entries in vals:
        kinds = [k for k, _v, _w in entries]
        if any(kinds.count(k) > 1 for k in _CUE_KINDS):
            return None
        f = _wordscan.F_ASCII if ascii_word else 0
        if "risk" in kinds or "sens" in kinds or "street" in kinds or "house" in kinds:  # gates: an event only
            f |= _wordscan.F_VALS
        if "npre" in kinds:
            f |= _wordscan.F_NPRE
            if any(k == "npre" and cue in WEAK_NAME_PREFIX_CUES for k, _v, cue in entries):
                f |= _wordscan.F_WEAK
        if "nsuf" in kinds:
            f |= _wordscan.F_NSUF
        if "nverb" in kinds:
            f |= _wordscan.F_NVERB
        flags.append(f)
    return _wordscan.Scanner(words, flags, "".join(SURNAMES_1), sorted(SURNAMES_2), "".join(NAME_STOP),
                             "".join(NAME_END), "".join(NAME_BOUNDARY), sorted(_TITLES))


def _compiled_tokens():
    """The compiled token pass (_wordscan.Tokens), or None: not built, CNAI_CORPUS_MATCHER names a Python
    engine, or checks.TOKEN_RULES holds an entry the C pass does not implement (a newly added type runs on
    the Python path until _wordscan.c learns it)."""
    import datetime
    import os

    if os.environ.get("CNAI_CORPUS_MATCHER", "") not in ("", "c"):
        return None
    try:
        from cnai.corpus import _wordscan
    except ImportError:
        return None
    table = tuple((r.type, r.digits) for r in checks.TOKEN_RULES)
    if table != getattr(_wordscan, "TOKEN_RULE_ORDER", None) or not all(r.compiled for r in checks.TOKEN_RULES):
        return None
    today = int(datetime.date.today().strftime("%Y%m%d"))
    return _wordscan.Tokens(sorted(checks.PROVINCES), sorted(checks.region_prefixes()), today,
                            "".join(sorted(checks.PLATE_PROVINCES)), dict(CONTEXT_WORDS))


def _build_automaton(words: list[str]):
    """A callable text -> [(word index, start, end)] with character offsets, overlapping matches.

    The pure-Python automaton of cnai.core.matcher (the one fallback of the one keyword engine); it runs
    when the compiled scanner is not built or CNAI_CORPUS_MATCHER=python. The Hyperscan, ahocorasick-rs
    and pyahocorasick paths were removed: the compiled pass is faster than all three (benchmarks/results/
    corpus.md), and the fallback is the reference the parity tests compare the compiled pass with.
    """
    from cnai.core.matcher import _PythonAutomaton

    return _PythonAutomaton(words)


def _is_word_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


def _ascii_word(w: str) -> bool:
    return all(_is_word_char(c) or c == " " for c in w)


_sort_key = operator.itemgetter(1, 2, 0)  # (start, end, type)
_TYPE = operator.itemgetter(0)


def _rebuild(keywords, types, min_confidence, classifier, screener, recognizers=None):
    return Detector(keywords, types=types, min_confidence=min_confidence, classifier=classifier, screener=screener,
                    recognizers=recognizers)


def _inside(s: int, e: int, spans: list[tuple[int, int]]) -> bool:
    return any(a < e and s < b for a, b in spans)


def _ctx(text: str, s: int, typ: str) -> bool:
    window = text[max(0, s - 12):s]
    return any(w in window for w in CONTEXT_WORDS.get(typ, ()))


def _is_given(ch: str) -> bool:
    return bool(_CJK.match(ch)) and ch not in NAME_STOP


def _name_after(text: str, j: int, out: list[Finding], cue: str) -> None:
    n = len(text)
    k = 0
    sep = False
    while j < n and k < 2 and text[j] in ":： 是为\t":
        sep = sep or text[j] in ":： \t"
        j += 1
        k += 1
    if j >= n:
        return
    if text[j:j + 2] in SURNAMES_2:
        sl = 2
    elif text[j] in SURNAMES_1:
        sl = 1
    else:
        return
    g = j + sl
    while g < n and g - (j + sl) < 2 and _is_given(text[g]):
        g += 1
    if g - (j + sl) == 0:
        return
    if cue in WEAK_NAME_PREFIX_CUES and not sep and not (g >= n or text[g] in NAME_END
                                                         or text[g:g + 2] in _TITLES):
        return
    out.append(("person_name", j, g, 0.7, f"surname after cue {cue}"))


def _name_before(text: str, s: int, out: list[Finding], cue: str, boundary: bool = False) -> None:
    for glen in (2, 1):
        for sl in (2, 1):
            st = s - glen - sl
            if st < 0:
                continue
            sur = text[st:st + sl]
            if (sl == 2 and sur in SURNAMES_2) or (sl == 1 and sur in SURNAMES_1):
                if all(_is_given(c) for c in text[st + sl:s]):
                    if boundary and st > 0 and text[st - 1] not in NAME_BOUNDARY:
                        continue
                    out.append(("person_name", st, s, 0.65 if not boundary else 0.6,
                                f"surname before {'verb' if boundary else 'title'} {cue}"))
                    return


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Drop exact duplicates and PI findings fully inside a stronger PI finding of another type.

    `findings` is sorted by (start, end, type), so findings with the same (type, start, end) are neighbours
    and the first of each run is kept."""
    if list(map(_TYPE, findings)).count("address") > 1:
        # an address found both with and without its house number: keep the longer one (a span inside another,
        # different address span is dropped); a sweep over the distinct spans by start, longest first, so a text
        # with thousands of addresses is not compared pair by pair
        inner_spans, reach = set(), -1
        for a, b in sorted({(f[1], f[2]) for f in findings if f[0] == "address"}, key=lambda sp: (sp[0], -sp[1])):
            if reach >= b:  # an earlier distinct span starts at or before a and ends at or after b
                inner_spans.add((a, b))
            reach = max(reach, b)
        if inner_spans:
            findings = [f for f in findings if f[0] != "address" or (f[1], f[2]) not in inner_spans]
    if _dedupe_sorted is not None:
        return _dedupe_sorted(findings)
    out: list[Finding] = [findings[0]] if findings else []
    prev = out[0] if out else None
    for f in findings:
        if f[1] != prev[1] or f[2] != prev[2] or f[0] != prev[0]:
            out.append(f)
            prev = f
    return out


try:  # the same loop compiled (cnai/corpus/_wordscan.c); the Python loop above is its reference
    from cnai.corpus._wordscan import dedupe_sorted as _dedupe_sorted
except ImportError:
    _dedupe_sorted = None
