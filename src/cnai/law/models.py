"""The law as data: typed records for instruments, articles, concepts, obligations and knowledge.

One YAML file per instrument lives in `law/data/instruments/<id>.yaml`; concepts defined once in
`law/data/concepts.yaml`; practitioner knowledge (liability, IP, scraping, regulators, ...) in
`law/data/topics.yaml`; cases in `law/data/cases.yaml`.  Every record carries citations and an
honest confidence marker.  Summaries are our own words, never the official text.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Confidence = Literal["verified", "secondary", "unverified"]
Status = Literal["in_force", "not_yet_in_force", "superseded", "repealed", "draft", "planned", "non_binding"]
Kind = Literal[
    "law", "administrative_regulation", "departmental_rule", "normative_document", "judicial_interpretation",
    "mandatory_national_standard", "recommended_national_standard", "technical_document",
    "practice_guideline", "policy", "policy_framework", "local_regulation", "planned_law",
]
Depth = Literal["core", "key", "meta"]
Actor = Literal[
    "provider", "technical_supporter", "content_platform", "app_store", "user", "any",
    "personal_information_handler", "network_operator", "research_institution", "vehicle_operator",
]
FilingKind = Literal[
    "algorithm_filing", "generative_ai_filing", "generative_ai_registration", "security_assessment",
    "ethics_review", "pipia", "cross_border_security_assessment",
    "cross_border_standard_contract_or_certification", "pi_compliance_audit", "other",
]

CITATION_RE = re.compile(r"^(?P<instrument>[a-z0-9][a-z0-9-]*):(?P<article>[0-9A-Za-z.\-]+)"
                         r"(?P<rest>(\([0-9a-z]+\))*)$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class StatusChange(Strict):
    """From `from_` on, the instrument has `status` (e.g. superseded by another instrument)."""

    status: Status
    from_: dt.date | None = Field(default=None, alias="from")
    by: str | None = None  # superseding instrument id
    note: str | None = None


class Numbering(Strict):
    """An earlier (or later) number of the same article, valid for a date window."""

    number: str
    from_: dt.date | None = Field(default=None, alias="from")
    until: dt.date | None = None
    version: str | None = None  # e.g. "2019 text"


class Article(Strict):
    number: str  # the number in the current version, e.g. "7", "17", "5.3", "253-1"
    title: str | None = None
    summary_en: str
    summary_zh: str | None = None
    keywords: list[str] = []  # search aids, English and Chinese
    confidence: Confidence
    numbering: list[Numbering] = []  # other numbers this article had/has in other versions
    from_: dt.date | None = Field(default=None, alias="from")  # article added later than the instrument
    until: dt.date | None = None
    operative: bool = True  # False for promotional/definitional/state-only articles
    note: str | None = None  # e.g. "article number to verify against the official text"


class Deadline(Strict):
    text: str  # e.g. "within 10 working days of launch"
    after: str | None = None  # fact path the period runs from, e.g. service.launch_date
    working_days: int | None = None
    days: int | None = None
    before: bool = False  # True: the deadline is a period *before* the `after` date (e.g. before launch)
    recurring: str | None = None  # e.g. "every 2 years"
    retention: str | None = None  # a minimum keeping period (e.g. "6 months"), not a due date


class Obligation(Strict):
    id: str  # "<instrument>.<slug>", stable
    actor: Actor
    title: str  # short English title
    title_zh: str | None = None
    duty: str  # what must be done, in our own words
    summary_zh: str | None = None  # Chinese summary of the duty (our own words), from law/data/zh/<instrument>.yaml
    applies_if: str = "true"  # trigger expression (see cnai.scope.expr)
    citations: list[str]
    from_: dt.date | None = Field(default=None, alias="from")  # defaults to instrument effective date
    until: dt.date | None = None
    deadline: Deadline | None = None
    filing: FilingKind | None = None  # this duty is a filing/assessment the scope report lists
    evidence: list[str] = []  # what shows compliance
    penalty: list[str] = []  # citations of penalty articles
    confidence: Confidence
    source: str | None = None  # URL; defaults to the instrument's first source
    note: str | None = None  # what could not be formalised, ambiguities
    hortatory: bool = False  # "encouraged"/"should" duties without sanction

    @field_validator("citations", "penalty")
    @classmethod
    def _citations(cls, v: list[str]) -> list[str]:
        for c in v:
            if not CITATION_RE.match(c):
                raise ValueError(f"citation {c!r} is not INSTRUMENT:ARTICLE[(PARA)[(ITEM)]]")
        return v


class Concept(Strict):
    """A legal concept derived from profile facts, defined once and cited."""

    id: str  # python identifier, e.g. genai_public_service
    name_en: str
    name_zh: str | None = None
    definition: str  # our own words
    when: str  # expression over facts and other concepts
    citations: list[str]
    confidence: Confidence
    note: str | None = None



class Instrument(Strict):
    id: str
    title_zh: str
    title_en: str
    short_en: str | None = None
    kind: Kind
    depth: Depth
    issuers: list[str]
    document_number: str | None = None
    issued: dt.date | None = None
    published: dt.date | None = None
    effective: dt.date | None = None
    status_history: list[StatusChange]
    sources: list[str]
    confidence: Confidence  # of the metadata
    summary_en: str
    summary_zh: str | None = None
    keywords: list[str] = []
    notes: str | None = None
    articles: list[Article] = []
    concepts: list[Concept] = []  # concepts this instrument defines (next to the article that defines them)
    obligations: list[Obligation] = []

    def status_on(self, day: dt.date) -> tuple[Status, str | None]:
        """Status on `day` from the history (last change on or before the day)."""
        current: Status = "not_yet_in_force"
        by: str | None = None
        for ch in sorted(self.status_history, key=lambda c: c.from_ or dt.date.min):
            if ch.from_ is None or ch.from_ <= day:
                current, by = ch.status, ch.by
        return current, by

    def article(self, number: str, on: dt.date | None = None) -> Article | None:
        """Find an article by its current number, or by a number it had on `on`."""
        for a in self.articles:
            if a.number == number and not (on and a.numbering and _number_on(a, on) != number):
                return a
        for a in self.articles:
            for n in a.numbering:
                if n.number == number and (on is None or _in_window(on, n.from_, n.until)):
                    return a
        return None


def _in_window(day: dt.date, start: dt.date | None, end: dt.date | None) -> bool:
    return (start is None or start <= day) and (end is None or day <= end)


def _number_on(article: Article, day: dt.date) -> str:
    for n in article.numbering:
        if _in_window(day, n.from_, n.until):
            return n.number
    return article.number


class Topic(Strict):
    """Practitioner knowledge: liability, IP, scraping, regulators, upcoming law..."""

    id: str
    category: Literal["liability", "ip", "data_scraping", "regulators", "upcoming", "workplace", "insurance",
                      "burden_of_proof", "autonomous_vehicles", "criminal", "practice", "other"]
    title_en: str
    title_zh: str | None = None
    summary_en: str
    summary_zh: str | None = None
    points: list[str] = []
    citations: list[str] = []
    cases: list[str] = []
    keywords: list[str] = []
    confidence: Confidence
    sources: list[str] = []


class Case(Strict):
    id: str  # "case-..."
    title_en: str
    title_zh: str | None = None
    court: str
    case_number: str | None = None
    decided: dt.date | None = None
    date_note: str | None = None
    holding_en: str
    holding_zh: str | None = None
    citations: list[str] = []
    keywords: list[str] = []
    confidence: Confidence
    sources: list[str] = []


class Regulator(Strict):
    id: str
    name_en: str
    name_zh: str
    remit: str
    citations: list[str] = []
    confidence: Confidence
