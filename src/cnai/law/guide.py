"""The country guide, live: the 22 questions of docs/spec/guide-questions.md answered from the knowledge base.

law/data/guide.yaml maps each question to knowledge-base entries (instruments, articles, concepts, topics,
cases, regulators) or to a class of them (`select`). No answer is stored: each is assembled, on an as-of
date, from the entries valid on that date, in their own (paraphrased) words, each with its citation and
confidence, so changing an entry changes the answer. Each answer also lists what changed since `since`
(default: the 2024 guide edition date) among the entries it rests on, and answers that are assessments
(adoption, challenges, outlook) are marked as opinion.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from cnai.errors import InputError

PATH = Path(__file__).parent / "data" / "guide.yaml"
FALLBACK_ZH = "[仅有英文]"  # marks English text shown where a Chinese summary is still missing


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


EntryKind = Literal["instrument", "article", "concept", "topic", "case", "regulator"]


class GuideEntry(RootModel[dict[EntryKind, str]]):
    """What one guide answer rests on: a one-key mapping from the kind of knowledge-base entry to its id, e.g.
    {instrument: generative-ai}, {article: "generative-ai:7"}, {concept: ...}, {case: ...}, {regulator: cac}.
    Each id is checked against the knowledge base when the guide is loaded."""
    model_config = ConfigDict(strict=True)

    @model_validator(mode="after")
    def _one(self) -> GuideEntry:
        if len(self.root) != 1:
            raise ValueError(f"name exactly one of instrument/article/concept/topic/case/regulator "
                             f"(got {sorted(self.root)})")
        return self

    @property
    def kind(self) -> str:
        return next(iter(self.root))

    @property
    def ref(self) -> str:
        return self.root[self.kind]


class GuideQuestion(_Strict):
    n: int = Field(ge=1, le=22)
    en: str
    zh: str
    opinion: bool = False
    entries: list[GuideEntry] = []
    select: list[Literal["binding_instruments", "upcoming_instruments", "cases", "regulators"]] = []
    gap: str | None = None  # what the knowledge base cannot answer: shown and counted, never papered over


class GuideFile(_Strict):
    """law/data/guide.yaml"""

    schema_: Literal["cnai/law-guide/v1"] = Field(alias="schema")
    edition_date: dt.date = Field(strict=False)
    questions: list[GuideQuestion]

    @model_validator(mode="after")
    def _all_22(self) -> GuideFile:
        if sorted(q.n for q in self.questions) != list(range(1, 23)):
            raise ValueError("questions must be numbered 1..22, once each")
        return self


@lru_cache(maxsize=1)
def guide_file() -> GuideFile:
    from cnai.core.loaders import load_yaml, validate

    return validate(GuideFile, load_yaml(PATH, dates_as_strings=True), source=str(PATH), what="guide")


@dataclass
class Part:
    """One cited entry of an answer, as it stands on the as-of date."""

    kind: str
    ref: str
    cited_as: str
    title: str
    text: str
    confidence: str
    valid_from: str | None
    valid_until: str | None = None
    status: str | None = None
    fallback: bool = False  # Chinese asked for, English shown


@dataclass
class Answer:
    n: int
    question: str
    opinion: bool
    parts: list[Part]
    changed_since: list[dict[str, Any]]
    gaps: list[str] = field(default_factory=list)

    def citations(self) -> list[dict[str, Any]]:
        return [{"ref": p.cited_as, "kind": p.kind, "valid_from": p.valid_from, "valid_until": p.valid_until,
                 "confidence": p.confidence} for p in self.parts]

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "question": self.question, "opinion": self.opinion,
                "answer": [asdict(p) for p in self.parts], "citations": self.citations(),
                "changed_since": self.changed_since, "gaps": self.gaps}


@dataclass
class Guide:
    as_of: dt.date
    since: dt.date
    edition_date: dt.date
    lang: str
    answers: list[Answer]

    def to_dict(self) -> dict[str, Any]:
        fallbacks = sum(p.fallback for a in self.answers for p in a.parts)
        return {"as_of": self.as_of.isoformat(), "since": self.since.isoformat(),
                "edition_date": self.edition_date.isoformat(), "lang": self.lang,
                "note": "Assembled from the cnai knowledge base on the as-of date: paraphrases, not official "
                        "text; not legal advice. Answers marked opinion are assessments, not statements of law. "
                        "The date selects which entries, statuses, article numbers and changes are shown; each "
                        "entry's summary is the knowledge base's current one.",
                "chinese_fallbacks": fallbacks if self.lang == "zh" else None,
                "answers": [a.to_dict() for a in self.answers]}


def _first_date(ins) -> dt.date | None:
    dates = [d for d in (ins.issued, ins.published, ins.effective) if d]
    dates += [c.from_ for c in ins.status_history if c.from_]
    return min(dates) if dates else None


def _text(rec, lang: str, en_attr: str, zh_attr: str) -> tuple[str, bool]:
    en = " ".join(str(getattr(rec, en_attr, "") or "").split())
    if lang != "zh":
        return en, False
    zh = getattr(rec, zh_attr, None)
    if zh:
        return " ".join(zh.split()), False
    return f"{FALLBACK_ZH} {en}", True


class _Builder:
    def __init__(self, kb, as_of: dt.date, lang: str):
        self.kb, self.as_of, self.lang = kb, as_of, lang

    def _exists(self, day: dt.date | None) -> bool:
        return day is None or day <= self.as_of

    def instrument(self, iid: str) -> Part | None:
        ins = self.kb.instruments[iid]
        first = _first_date(ins)
        if not self._exists(first):
            return None
        status, by = ins.status_on(self.as_of)
        text, fb = _text(ins, self.lang, "summary_en", "summary_zh")
        nxt = next((c for c in sorted(ins.status_history, key=lambda c: c.from_ or dt.date.min)
                    if c.from_ and c.from_ > self.as_of), None)
        if nxt is not None:
            text += f" (next: {nxt.status.replace('_', ' ')} from {nxt.from_})"
        title = ins.title_zh if self.lang == "zh" else f"{ins.short_en or ins.title_en} ({ins.title_zh})"
        return Part("instrument", iid, iid, title, text, ins.confidence, first.isoformat() if first else None,
                    status=status + (f" (by {by})" if by else ""), fallback=fb)

    def article(self, cite: str) -> Part | None:
        ins, art = self.kb.resolve(cite)
        in_force = [c.from_ for c in ins.status_history if c.status == "in_force" and c.from_]
        first = art.from_ or (min(in_force) if in_force else _first_date(ins))
        if not self._exists(_first_date(ins)) or (art.from_ and art.from_ > self.as_of) or (
                art.until and art.until < self.as_of):
            return None
        text, fb = _text(art, self.lang, "summary_en", "summary_zh")
        cited = self.kb.cite_on(cite, self.as_of)
        head = ins.title_zh if self.lang == "zh" else (ins.short_en or ins.title_en)
        status, _ = ins.status_on(self.as_of)
        return Part("article", cite, cited, f"{head} Art. {cited.split(':')[1]}" + (f" — {art.title}" if art.title
                                                                                 and self.lang != "zh" else ""),
                    text, art.confidence, first.isoformat() if first else None,
                    art.until.isoformat() if art.until else None, status=status, fallback=fb)

    def concept(self, cid: str) -> Part | None:
        c = self.kb.concepts[cid]
        ins, _ = self.kb.resolve(c.citations[0])
        first = _first_date(ins)
        if not self._exists(first):
            return None
        text, fb = _text(c, self.lang, "definition", "definition_zh")
        title = (c.name_zh or c.name_en) if self.lang == "zh" else c.name_en
        return Part("concept", cid, ", ".join(self.kb.cite_on(x, self.as_of) for x in c.citations), title, text,
                    c.confidence, first.isoformat() if first else None, fallback=fb)

    def topic(self, tid: str) -> Part | None:
        t = self.kb.topics[tid]
        dates = []
        for cite in t.citations:
            try:
                ins, _ = self.kb.resolve(cite)
            except KeyError:
                continue
            dates.append(_first_date(ins))
        dates += [self.kb.cases[c].decided for c in t.cases if c in self.kb.cases]
        known = [d for d in dates if d]
        first = min(known) if known else None
        if not self._exists(first):
            return None
        text, fb = _text(t, self.lang, "summary_en", "summary_zh")
        if t.points and self.lang != "zh":
            text += " " + " ".join(" ".join(p.split()) for p in t.points)
        cites = [self.kb.cite_on(c, self.as_of) for c in t.citations]
        title = (t.title_zh or t.title_en) if self.lang == "zh" else t.title_en
        return Part("topic", tid, f"topic {tid}" + (f" ({', '.join(cites)})" if cites else ""), title, text,
                    t.confidence, first.isoformat() if first else None, fallback=fb)

    def case(self, cid: str) -> Part | None:
        c = self.kb.cases[cid]
        if not self._exists(c.decided):
            return None
        text, fb = _text(c, self.lang, "holding_en", "holding_zh")
        when = c.decided.isoformat() if c.decided else (c.date_note or "date not recorded")
        title = (c.title_zh or c.title_en) if self.lang == "zh" else c.title_en
        return Part("case", cid, cid, f"{title} ({c.court}, {when})", text, c.confidence,
                    c.decided.isoformat() if c.decided else None, fallback=fb)

    def regulator(self, rid: str) -> Part | None:
        r = self.kb.regulators[rid]
        text, fb = _text(r, self.lang, "remit", "remit_zh")
        title = r.name_zh if self.lang == "zh" else f"{r.name_en} ({r.name_zh})"
        return Part("regulator", rid, rid, title, text, r.confidence, None, fallback=fb)

    def select(self, what: str) -> list[Part]:
        kb, day = self.kb, self.as_of
        if what == "binding_instruments":
            ids = [i.id for i in kb.instruments.values() if i.status_on(day)[0] in ("in_force", "non_binding")]
            return [p for i in sorted(ids) if (p := self.instrument(i))]
        if what == "upcoming_instruments":
            horizon = day + dt.timedelta(days=365)
            ids = []
            for ins in kb.instruments.values():
                status, _ = ins.status_on(day)
                soon = any(c.from_ and day < c.from_ <= horizon for c in ins.status_history)
                if status in ("not_yet_in_force", "draft", "planned") or soon:
                    ids.append(ins.id)
            return [p for i in sorted(ids) if (p := self.instrument(i))]
        if what == "cases":
            return [p for c in kb.cases if (p := self.case(c))]
        return [p for r in kb.regulators if (p := self.regulator(r))]


def guide(as_of: dt.date | None = None, since: dt.date | None = None, question: int | None = None,
          lang: Literal["en", "zh"] = "en", *, kb=None) -> Guide:
    """Answer the guide's questions (one, or all 22) from the knowledge base as it stands on `as_of`."""
    from cnai.law.changes import changes

    if kb is None:
        from cnai.law.kb import load

        kb = load()
    gf = guide_file()
    as_of = as_of or dt.date.today()
    since = since or gf.edition_date
    if question is not None and not 1 <= question <= 22:
        raise InputError(f"{question} is not a question number (1..22)", field="--question")
    if since > as_of:
        raise InputError(f"{since} is after the as-of date {as_of}", field="--since")
    events = changes(since, as_of, kb=kb)
    b = _Builder(kb, as_of, lang)
    answers = []
    for q in sorted(gf.questions, key=lambda q: q.n):
        if question is not None and q.n != question:
            continue
        parts: list[Part] = []
        seen: set[tuple[str, str]] = set()
        for what in q.select:
            for p in b.select(what):
                if (p.kind, p.ref) not in seen:
                    seen.add((p.kind, p.ref))
                    parts.append(p)
        for e in q.entries:
            if (e.kind, e.ref) in seen:
                continue
            p = getattr(b, e.kind)(e.ref)
            if p is not None:
                seen.add((e.kind, e.ref))
                parts.append(p)
        instruments = {p.ref.split(":")[0] for p in parts if p.kind in ("instrument", "article")}
        instruments |= {c.split(":")[0] for p in parts if p.kind == "concept" for c in kb.concepts[p.ref].citations}
        instruments |= {c.split(":")[0] for p in parts if p.kind == "topic"
                        for c in kb.topics[p.ref].citations}
        refs = {p.ref for p in parts}
        changed = [c.to_dict() for c in events if c.instrument in instruments or c.ref in refs]
        gaps = [q.gap] if q.gap else []
        if not parts:
            gaps.append(f"No entry this question rests on was in force or decided on {as_of}.")
        answers.append(Answer(q.n, q.zh if lang == "zh" else q.en, q.opinion, parts, changed, gaps))
    return Guide(as_of, since, gf.edition_date, lang, answers)


# --- rendering ------------------------------------------------------------------------------------------
_MD = """\
# {{ "中国人工智能法律指南" if zh else "China AI law guide" }} — {{ g.as_of }}

{% if zh %}根据 cnai 知识库在 {{ g.as_of }} 有效的条目自动组成（释义，非官方文本；非法律意见）。"自 {{ g.since }} 以来的变化"以{{ g.since }}为基准（指南 2024 年版日期为 {{ g.edition_date }}）。标注"观点"的回答是评估，不是法律规定。{% else %}Assembled from the entries of the cnai knowledge base valid on {{ g.as_of }} (paraphrases, not official text; not legal advice). "Changed since" compares with {{ g.since }} (the 2024 guide edition date is {{ g.edition_date }}). Answers marked opinion are assessments, not statements of law. The date selects which entries, statuses, article numbers and changes are shown; each entry's summary is the knowledge base's current one.{% endif %}


{% for a in g.answers %}
## {{ a.n }}. {{ a.question }}

{% if a.opinion %}
> **{{ "观点" if zh else "Opinion" }}** — {{ "以下为基于所引条目的评估，不是法律规定。" if zh else "an assessment drawn from the entries cited below, not a statement of law." }}

{% endif %}
{% for p in a.parts %}
- **{{ p.title }}** [{{ p.cited_as }}; {{ p.confidence }}{% if p.status %}; {{ p.status }}{% endif %}]: {{ p.text }}
{% endfor %}
{% for gap in a.gaps %}
- _{{ "缺口" if zh else "Gap" }}: {{ gap }}_
{% endfor %}

{% if a.changed_since %}
{{ "自" ~ g.since ~ "以来的变化" if zh else "Changed since " ~ g.since }} ({{ a.changed_since|length }}):
{% for c in a.changed_since[:15] %}
- {{ c.date }} · {{ c.kind.replace("_", " ") }} · `{{ c.ref }}`{% if c.detail %} — {{ c.detail }}{% endif %}

{% endfor %}
{% if a.changed_since|length > 15 %}
- … {{ a.changed_since|length - 15 }} more (`--format json` lists all)
{% endif %}
{% else %}
{{ "自" ~ g.since ~ "以来，所引条目无变化。" if zh else "No change since " ~ g.since ~ " in the entries cited." }}
{% endif %}

{% endfor %}
cnai {{ version }}
"""

_HTML = """\
<!doctype html>
<html lang="{{ 'zh' if zh else 'en' }}"><head><meta charset="utf-8">
<title>{{ "中国人工智能法律指南" if zh else "China AI law guide" }} {{ g.as_of }}</title>
<style>body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
line-height:1.5}.opinion{background:#fff6dd;border-left:4px solid #d9a400;padding:.3rem .8rem}.cite{color:#555;
font-size:.9em}.gap{color:#a00}</style></head><body>
<h1>{{ "中国人工智能法律指南" if zh else "China AI law guide" }} — {{ g.as_of }}</h1>
<p>{{ "根据 cnai 知识库自动组成；释义，非官方文本；非法律意见。" if zh else "Assembled from the cnai knowledge base on the as-of date; paraphrases, not official text; not legal advice." }}
{{ "比较基准日" if zh else "Changes compared with" }} {{ g.since }}.</p>
{% for a in g.answers %}
<h2 id="q{{ a.n }}">{{ a.n }}. {{ a.question }}</h2>
{% if a.opinion %}<p class="opinion"><b>{{ "观点" if zh else "Opinion" }}</b> — {{ "评估，不是法律规定。" if zh else "an assessment, not a statement of law." }}</p>{% endif %}
<ul>{% for p in a.parts %}<li><b>{{ p.title }}</b> <span class="cite">[{{ p.cited_as }}; {{ p.confidence }}{% if p.status %}; {{ p.status }}{% endif %}]</span> {{ p.text }}</li>{% endfor %}
{% for gap in a.gaps %}<li class="gap">{{ "缺口" if zh else "Gap" }}: {{ gap }}</li>{% endfor %}</ul>
{% if a.changed_since %}<details><summary>{{ "变化" if zh else "Changed since" }} {{ g.since }} ({{ a.changed_since|length }})</summary><ul>
{% for c in a.changed_since %}<li>{{ c.date }} · {{ c.kind }} · <code>{{ c.ref }}</code> {{ c.detail }}</li>{% endfor %}</ul></details>{% endif %}
{% endfor %}
<p class="cite">cnai {{ version }}</p></body></html>
"""


def render(g: Guide, fmt: str = "md") -> str:
    """The guide as md, html (everything escaped) or json."""
    if fmt == "json":
        from cnai.core.jsonutil import dumps

        return dumps(g.to_dict())
    from jinja2 import Environment

    from cnai import __version__

    env = Environment(autoescape=(fmt == "html"), trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    template = env.from_string(_HTML if fmt == "html" else _MD)
    return template.render(g=g, zh=g.lang == "zh", version=__version__)
