"""Bilingual search over the knowledge base: BM25 over English words and Chinese character bigrams.

Chinese has no spaces, so CJK runs are indexed as overlapping character bigrams (plus single
characters at low weight); English is lower-cased, lightly stemmed and expanded with a few
practitioner synonyms.  The index is built in memory from the loaded KB (a few thousand short
documents), which takes milliseconds.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache

from cnai.law.kb import KnowledgeBase
from cnai.law.kb import load as load_kb
from cnai.law.models import CITATION_RE

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*|[\u3400-\u9fff\uf900-\ufaff]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_STOP = set(
    "a an the of to in on for and or is are be can may must what when who whom which how does do did by with as "
    "at from it its this that these those if any i we you our my your there their about into than then so such "
    "not no".split()
)
# Practitioner vocabulary that differs from the wording of the summaries.
_SYNONYMS = {
    "abroad": ["cross-border", "outside"], "overseas": ["cross-border", "abroad"],
    "liable": ["liability"], "crash": ["accident"], "crashes": ["accident"], "self-driving": ["autonomous"],
    "driverless": ["autonomous"], "scrape": ["scraping", "crawler"], "scraping": ["crawler", "crawling"],
    "crawl": ["crawler", "scraping"], "watermark": ["label"], "label": ["labeling"], "labelling": ["labeling"],
    "deepfake": ["deep", "synthesis", "face", "swap"], "chatbot": ["dialogue", "generative"],
    "gdpr": ["pipl"], "dpia": ["pipia", "impact", "assessment"], "export": ["cross-border"],
    "thresholds": ["threshold"], "kids": ["minors"], "children": ["minors"], "teenagers": ["minors"],
    "copyrightable": ["copyright", "work"], "author": ["authorship", "copyright"],
    "register": ["filing", "registration"], "filed": ["filing"], "file": ["filing"],
}


def _stem(w: str) -> str:
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith("ing"):
        return w[:-3]
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def tokens(text: str, *, query: bool = False) -> list[str]:
    out: list[str] = []
    for m in _WORD.finditer(text.lower()):
        tok = m.group(0)
        if _CJK.match(tok):
            if len(tok) == 1:
                out.append(tok)
            out.extend(tok[i:i + 2] for i in range(len(tok) - 1))
            continue
        if tok in _STOP:
            continue
        words = [tok, *(_SYNONYMS.get(tok, []) if query else [])]
        for w in words:
            out.extend(_stem(p) for p in re.split(r"[-']", w) if p and p not in _STOP)
    return out


@dataclass
class Doc:
    instrument: str
    article: str | None
    kind: str  # instrument | article | concept | topic | case
    ref: str
    title: str
    text: str
    snippet: str
    snippet_zh: str | None = None  # our Chinese summary, where the knowledge base has one


# Shown before English text when Chinese was asked for and the entry has no Chinese summary yet.
FALLBACK_ZH = "[仅有英文]"


@dataclass
class Hit:
    instrument: str
    article: str | None
    score: float
    snippet: str
    kind: str
    ref: str
    title: str
    lang: str = "en"
    fallback: bool = False  # Chinese asked for, English shown (marked)

    def to_dict(self) -> dict:
        return {"instrument": self.instrument, "article": self.article, "score": round(self.score, 3),
                "snippet": self.snippet, "kind": self.kind, "ref": self.ref, "title": self.title,
                "lang": self.lang, "fallback": self.fallback}


def _short(s: str, n: int = 220) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


def _zh(s: str | None) -> str | None:
    return _short(s, 120) if s else None


def _first_cite(citations: list[str]) -> tuple[str | None, str | None]:
    for c in citations:
        m = CITATION_RE.match(c)
        if m:
            return m["instrument"], m["article"]
    return None, None


def build_docs(kb: KnowledgeBase) -> list[Doc]:
    docs: list[Doc] = []
    for ins in kb.instruments.values():
        head = f"{ins.title_en} {ins.short_en or ''} {ins.title_zh}"
        docs.append(Doc(ins.id, None, "instrument", ins.id, ins.short_en or ins.title_en,
                        f"{head} {head} {ins.summary_en} {ins.summary_zh or ''} {' '.join(ins.keywords) * 2}",
                        _short(ins.summary_en), _zh(ins.summary_zh)))
        for a in ins.articles:
            kw = " ".join(a.keywords)
            docs.append(Doc(ins.id, a.number, "article", f"{ins.id}:{a.number}",
                            f"{ins.short_en or ins.title_en} Art. {a.number}" + (f" — {a.title}" if a.title else ""),
                            f"{ins.short_en or ins.title_en} {ins.title_zh} {a.title or ''} {a.title or ''} "
                            f"{a.summary_en} {a.summary_zh or ''} {kw} {kw}",
                            _short(a.summary_en), _zh(a.summary_zh)))
        for o in ins.obligations:
            i, art = _first_cite(o.citations)
            duty_zh = getattr(o, "summary_zh", None)
            docs.append(Doc(i or ins.id, art, "obligation", o.id, o.title,
                            f"{o.title} {o.title_zh or ''} {o.duty} {duty_zh or ''}", _short(o.duty), _zh(duty_zh)))
    for c in kb.concepts.values():
        i, art = _first_cite(c.citations)
        docs.append(Doc(i or "", art, "concept", c.id, c.name_en,
                        f"{c.name_en} {c.name_zh or ''} {c.name_en} {c.definition}", _short(c.definition)))
    for t in kb.topics.values():
        i, art = _first_cite(t.citations)
        kw = " ".join(t.keywords)
        docs.append(Doc(i or "", art, "topic", t.id, t.title_en,
                        f"{t.title_en} {t.title_zh or ''} {t.title_en} {t.summary_en} {t.summary_zh or ''} "
                        f"{' '.join(t.points)} {kw} {kw}", _short(t.summary_en), _zh(t.summary_zh)))
    for c in kb.cases.values():
        kw = " ".join(c.keywords)
        docs.append(Doc(c.id, None, "case", c.id, c.title_en,
                        f"{c.title_en} {c.title_zh or ''} {c.court} {c.case_number or ''} {c.holding_en} "
                        f"{c.holding_zh or ''} {kw} {kw}", _short(c.holding_en), _zh(c.holding_zh)))
    for r in kb.regulators.values():
        i, art = _first_cite(r.citations)
        docs.append(Doc(i or r.id, art, "regulator", r.id, f"{r.name_en} ({r.name_zh})",
                        f"{r.name_en} {r.name_zh} {r.name_en} regulator authority 监管 {r.remit}", _short(r.remit)))
    return docs


class Index:
    k1, b = 1.4, 0.6

    def __init__(self, docs: list[Doc]):
        self.docs = docs
        self.tf: list[Counter] = []
        self.df: Counter = Counter()
        self.postings: dict[str, list[int]] = defaultdict(list)
        for i, d in enumerate(docs):
            tf = Counter(tokens(d.text))
            self.tf.append(tf)
            for t in tf:
                self.df[t] += 1
                self.postings[t].append(i)
        self.lengths = [sum(tf.values()) for tf in self.tf]
        self.avg = sum(self.lengths) / max(1, len(self.lengths))

    def search(self, query: str, top: int = 10, kinds: set[str] | None = None, lang: str | None = None) -> list[Hit]:
        """`lang`: "zh" or "en"; None picks Chinese when the query contains Chinese characters."""
        if lang is None:
            lang = "zh" if _CJK.search(query) else "en"
        q = Counter(tokens(query, query=True))
        if not q:
            return []
        n = len(self.docs)
        scores: dict[int, float] = defaultdict(float)
        for term, qtf in q.items():
            df = self.df.get(term)
            if not df:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            for i in self.postings[term]:
                tf = self.tf[i][term]
                norm = tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg))
                scores[i] += idf * norm * (1 + 0.2 * (qtf - 1))
        # Matching many distinct query terms matters more than repeating one.
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        hits: list[Hit] = []
        for i, s in ranked:
            d = self.docs[i]
            if kinds and d.kind not in kinds:
                continue
            if lang == "zh":
                snippet, fallback = (d.snippet_zh, False) if d.snippet_zh else (f"{FALLBACK_ZH} {d.snippet}", True)
            else:
                snippet, fallback = d.snippet, False
            hits.append(Hit(d.instrument, d.article, s, snippet, d.kind, d.ref, d.title, lang, fallback))
            if len(hits) >= top:
                break
        return hits


@lru_cache(maxsize=1)
def index() -> Index:
    return Index(build_docs(load_kb()))


def search(query: str, top: int = 10, *, lang: str | None = None, kinds: set[str] | None = None) -> list[Hit]:
    """Search the knowledge base (Chinese or English). Chinese queries, or lang="zh", show our Chinese
    summaries, and English marked with FALLBACK_ZH where one is still missing."""
    return index().search(query, top, kinds=kinds, lang=lang)
