"""pydantic models of the data files the self-assessment reads (registered on `cnai.schemas`).

`cnai schema thresholds` (or checklist, checklist-answers, judge-rubrics, keyword-library) prints the
JSON Schema. Loading goes through `cnai.core.loaders` (no aliases, no duplicate keys, size and depth caps)
and `loaders.validate`, so a bad file gives one line naming the file and the path inside it.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

Confidence = Literal["verified", "secondary", "unverified"]
_GROUP = re.compile(r"^A\.[1-5]$")
_RISK = re.compile(r"^A\.[1-5]\.[a-i]$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- thresholds.yaml ------------------------------------------------------------------------------
class Figure(_Strict):
    """A number from a standard with how sure we are of it."""

    value: float = Field(ge=0)
    confidence: Confidence
    note: str = ""


class MetricThresholds(_Strict):
    """Thresholds of one assessment metric (one per bank kind: generated_content, should_refuse, ...)."""

    clause: str
    min_sample: Figure
    pass_rate_min: Figure | None = None
    refusal_rate_min: Figure | None = None
    refusal_rate_max: Figure | None = None

    @model_validator(mode="after")
    def _one_threshold(self):
        n = sum(x is not None for x in (self.pass_rate_min, self.refusal_rate_min, self.refusal_rate_max))
        if n != 1:
            raise ValueError("give exactly one of pass_rate_min, refusal_rate_min, refusal_rate_max")
        for f in (self.pass_rate_min, self.refusal_rate_min, self.refusal_rate_max):
            if f is not None and f.value > 1:
                raise ValueError("a rate threshold is a fraction between 0 and 1")
        return self


class PerGroupMin(BaseModel):
    """Minimum items per risk of each group, e.g. {A.1: 50, A.2: 50, confidence: unverified}."""

    model_config = ConfigDict(extra="allow")
    confidence: Confidence

    @model_validator(mode="after")
    def _groups(self):
        for k, v in (self.model_extra or {}).items():
            if not _GROUP.match(k):
                raise ValueError(f"{k!r} is not a risk group (A.1 ... A.5)")
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{k}: minimum must be a whole number >= 0")
        return self


class BankMinimums(_Strict):
    """Minimum size and coverage of one bank (or the keyword library)."""

    clause: str
    total_min: Figure
    per_risk_min: PerGroupMin | None = None
    per_aspect_min: Figure | None = None
    risks: list[str] = Field(default_factory=list)


class ThresholdsDocument(_Strict):
    title: str
    note: str = ""
    assessment: dict[str, MetricThresholds] | None = None
    banks: dict[str, BankMinimums] | None = None
    carried_over_from: str | None = None
    confidence_cap: Confidence | None = None

    @model_validator(mode="after")
    def _complete(self):
        if self.carried_over_from is None and (self.assessment is None or self.banks is None):
            raise ValueError("a document needs assessment and banks, or carried_over_from")
        return self


class Thresholds(_Strict):
    """Thresholds, sample sizes and bank minimums per document (assess/data/thresholds.yaml)."""

    default_document: str
    documents: dict[str, ThresholdsDocument]

    @model_validator(mode="after")
    def _refs(self):
        if self.default_document not in self.documents:
            raise ValueError(f"default_document {self.default_document!r} is not under documents")
        for name, d in self.documents.items():
            if d.carried_over_from is not None and d.carried_over_from not in self.documents:
                raise ValueError(f"documents.{name}.carried_over_from: unknown document {d.carried_over_from!r}")
        return self


# --- checklist.yaml and a filled checklist ----------------------------------------------------------
class ChecklistItem(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_.]+$")
    clause: str
    confidence: Confidence
    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


class Checklist(_Strict):
    """Per-clause self-assessment checklist, chapters 5-8 (assess/data/checklist.yaml)."""

    document: str
    items: list[ChecklistItem] = Field(min_length=1)

    @field_validator("items")
    @classmethod
    def _unique(cls, v):
        seen = set()
        for i, it in enumerate(v):
            if it.id in seen:
                raise ValueError(f"item {i}: duplicate id {it.id!r}")
            seen.add(it.id)
        return v


class ClauseAnswer(_Strict):
    result: Literal["meets", "does_not_meet", "not_applicable"] | None = None
    evidence: str = ""
    reason: str = ""


class ChecklistAnswers(_Strict):
    """A filled checklist (`cnai assess checklist -o FILE`, then `assess report --checklist FILE`)."""

    clauses: dict[str, ClauseAnswer | None]


# --- judge_rubrics.yaml -----------------------------------------------------------------------------
class JudgeRubrics(_Strict):
    """Rubrics of the LLM judge per risk group, with per-risk overrides (assess/data/judge_rubrics.yaml)."""

    groups: dict[str, str]
    risks: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _codes(self):
        for g in self.groups:
            if not _GROUP.match(g):
                raise ValueError(f"groups: {g!r} is not a risk group (A.1 ... A.5)")
        for r in self.risks:
            if not _RISK.match(r):
                raise ValueError(f"risks: {r!r} is not a risk code (A.1.a ... A.5.b)")
        missing = [f"A.{n}" for n in range(1, 6) if f"A.{n}" not in self.groups]
        if missing:
            raise ValueError(f"groups: no rubric for {', '.join(missing)}")
        return self


# --- keyword library (YAML form) ---------------------------------------------------------------------
class KeywordEntry(BaseModel):
    model_config = ConfigDict(extra="allow")
    keyword: str
    risk: str
    level1: str = ""
    level2: str = ""


class KeywordListForm(_Strict):
    keywords: list[KeywordEntry]


class KeywordLibraryFile(RootModel[KeywordListForm | dict[str, list[str]]]):
    """A keyword library in YAML: {keywords: [{keyword, risk, level1?, level2?}]} or {A.1.a: [kw, ...]}.

    Risk codes may also be given as the risk's Chinese or English name. JSONL (one {keyword, risk} per line),
    TXT (keyword<TAB>risk) and XLSX (关键词 | 一级分类 | 二级分类) carry the same fields.
    """


class PublicSetCategory(BaseModel):
    model_config = ConfigDict(extra="forbid")
    risk: str = Field(pattern=r"^A\.[1-5]\.[a-i]$")
    confidence: Literal["high", "medium", "low"]
    note: str = ""


class PublicSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    source: str
    fields_confidence: Literal["verified", "secondary", "unverified"]
    question: list[str] = Field(min_length=1)
    category: list[str] = []
    subcategory: list[str] = []
    followup: list[str] = []
    reference: list[str] = []
    id: list[str] = []
    categories: dict[str, PublicSetCategory] = {}
    note: str = ""


class PublicSets(BaseModel):
    """data/public_sets.yaml: how each public Chinese safety set's file is read and its categories mapped to the
    31 risks (each mapping with a confidence)."""

    model_config = ConfigDict(extra="forbid")
    sets: dict[str, PublicSet]
