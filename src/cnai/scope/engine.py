"""The applicability engine: a service profile and a date in, the duties that apply out, with reasons.

Layering (after Catala/OpenFisca): profile facts -> concepts (defined once, cited) -> obligations (cited,
dated) -> filings and evidence.  Results are three-valued: `applies`, `not_applicable`, `needs_info`;
an omitted fact is never read as false.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from cnai.law.kb import KnowledgeBase
from cnai.law.kb import load as load_kb
from cnai.law.models import Deadline, Instrument, Obligation
from cnai.scope.expr import Evaluator, Trace
from cnai.scope.profile import Profile, with_implied

APPLIES, NOT_APPLICABLE, NEEDS_INFO = "applies", "not_applicable", "needs_info"
_STATUS = {True: APPLIES, False: NOT_APPLICABLE, None: NEEDS_INFO}
# Instrument statuses under which its duties bind on the as-of date.
_BINDING = {"in_force", "non_binding"}


@dataclass
class ObligationResult:
    id: str
    instrument: str
    citations: list[str]
    actor: str
    title: str
    status: str
    reasons: list[str]
    missing: list[str]
    confidence: str
    duty: str = ""
    source: str | None = None
    filing: str | None = None
    deadline: str | None = None
    due: str | None = None
    evidence: list[str] = field(default_factory=list)
    penalty: list[str] = field(default_factory=list)
    note: str | None = None
    hortatory: bool = False
    effective: str | None = None
    until: str | None = None
    # Set when the due date lies before the as-of date: days since it passed (overdue unless already done).
    days_overdue: int | None = None


@dataclass
class ScopeResult:
    as_of: dt.date
    profile: dict[str, Any]
    obligations: list[ObligationResult]
    filings: list[dict[str, Any]]
    upcoming: list[dict[str, Any]]
    concepts: list[dict[str, Any]]
    ceased: list[dict[str, Any]]
    instruments: dict[str, dict[str, Any]]

    def summary(self) -> dict[str, Any]:
        counts = {APPLIES: 0, NEEDS_INFO: 0, NOT_APPLICABLE: 0}
        for o in self.obligations:
            counts[o.status] += 1
        missing: dict[str, int] = {}
        for o in self.obligations:
            if o.status == NEEDS_INFO:
                for m in o.missing:
                    missing[m] = missing.get(m, 0) + 1
        return {
            "counts": counts,
            "filings_applying": sum(1 for f in self.filings if f["status"] == APPLIES),
            "filings_needing_info": sum(1 for f in self.filings if f["status"] == NEEDS_INFO),
            "upcoming": len(self.upcoming),
            "overdue": sum(1 for o in self.obligations if o.days_overdue is not None),
            "missing_facts": dict(sorted(missing.items(), key=lambda kv: (-kv[1], kv[0]))),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "profile": self.profile,
            "summary": self.summary(),
            "obligations": [asdict(o) for o in self.obligations],
            "filings": self.filings,
            "upcoming": self.upcoming,
            "concepts": self.concepts,
            "ceased": self.ceased,
            "instruments": self.instruments,
        }


def add_working_days(start: dt.date, n: int) -> dt.date:
    """Add n Monday-to-Friday days (public holidays and make-up workdays are not modelled)."""
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _due(deadline: Deadline | None, ev: Evaluator) -> tuple[str | None, str | None]:
    if deadline is None:
        return None, None
    if not deadline.after:
        return deadline.text, None
    base = ev.fact(deadline.after)
    if not isinstance(base, dt.date):
        return deadline.text, None
    if deadline.before:
        return deadline.text, base.isoformat()
    if deadline.working_days:
        return deadline.text, add_working_days(base, deadline.working_days).isoformat()
    if deadline.days:
        return deadline.text, (base + dt.timedelta(days=deadline.days)).isoformat()
    return deadline.text, None


def _window(ins: Instrument, ob: Obligation) -> tuple[dt.date | None, dt.date | None]:
    """When the duty binds: its own from/until, else the instrument's effective date and end of force."""
    # An amended law binds from when it first entered into force; articles added later carry their own `from`.
    first_in_force = min((c.from_ for c in ins.status_history if c.status == "in_force" and c.from_), default=None)
    start = ob.from_ or first_in_force or ins.effective
    end = ob.until
    if end is None:
        for ch in sorted(ins.status_history, key=lambda c: c.from_ or dt.date.min):
            if ch.status in ("superseded", "repealed") and ch.from_ and (start is None or ch.from_ > start):
                end = ch.from_ - dt.timedelta(days=1)
                break
    return start, end


class Engine:
    def __init__(self, kb: KnowledgeBase | None = None):
        self.kb = kb or load_kb()
        self.concept_exprs = {cid: c.when for cid, c in self.kb.concepts.items()}
        # What does not depend on the profile or the date is worked out once per engine.
        self._windows = {ob.id: _window(ins, ob) for ins in self.kb.instruments.values() for ob in ins.obligations}
        self._duties = {ob.id: " ".join(ob.duty.split()) for ob in self.kb.obligations}
        self._window_iso = {k: (a.isoformat() if a else None, b.isoformat() if b else None)
                            for k, (a, b) in self._windows.items()}
        # What depends only on the date (citations as numbered that day, concept reasons), by date; a
        # server asks about a handful of dates, so this stays small (cleared past 64 dates).
        self._by_day: dict[dt.date, dict[Any, Any]] = {}

    def _day(self, as_of: dt.date) -> dict[Any, Any]:
        memo = self._by_day.get(as_of)
        if memo is None:
            if len(self._by_day) >= 64:
                self._by_day.clear()
            memo = self._by_day[as_of] = {}
        return memo

    def _cited(self, ob: Obligation, as_of: dt.date, memo: dict[Any, Any]) -> tuple[list[str], list[str]]:
        """The duty's citations and penalty citations as the articles were numbered on `as_of` (fresh lists)."""
        cites = memo.get(ob.id)
        if cites is None:
            cites = memo[ob.id] = ([self.kb.cite_on(c, as_of) for c in ob.citations],
                                   [self.kb.cite_on(c, as_of) for c in ob.penalty])
        return list(cites[0]), list(cites[1])

    def _explain(self, value: bool | None, trace: Trace, as_of: dt.date, implied: dict[str, str],
                 memo: dict[Any, Any]) -> list[str]:
        reasons: list[str] = []
        for cid, cval in trace.concepts.items():
            text = memo.get((cid, cval))
            if text is None:
                c = self.kb.concepts[cid]
                cites = ", ".join(self.kb.cite_on(x, as_of) for x in c.citations)
                word = {True: "holds", False: "does not hold", None: "cannot be decided yet"}[cval]
                text = memo[(cid, cval)] = f"{c.name_en} {word} ({cites})"
            reasons.append(text)
        if trace.params:
            from cnai.law.params import parameters

            table = parameters()
            for name, pval in trace.params.items():
                period = table[name].period_on(as_of)
                shown = f"{pval:,}" if isinstance(pval, int) else str(pval)
                reasons.append(f"threshold {name} = {shown} on {as_of} "
                               f"({self.kb.cite_on(period.citation, as_of)})")
        for path, fval in trace.facts.items():
            if fval is None:
                reasons.append(f"{path} is not given in the profile")
            elif path in implied:
                reasons.append(f"{path} = {_show(fval)} (implied by {implied[path]})")
            else:
                reasons.append(f"{path} = {_show(fval)}")
        if not reasons and value is True:
            reasons.append("applies to every provider in scope of this instrument")
        return reasons

    def run(self, profile: Profile, as_of: dt.date) -> ScopeResult:
        facts, implied = with_implied(profile.facts())
        ev = Evaluator(facts, self.concept_exprs, as_of)
        others: dict[dt.date, Evaluator] = {as_of: ev}

        def at(day: dt.date) -> Evaluator:
            if day not in others:
                others[day] = Evaluator(facts, self.concept_exprs, day)
            return others[day]

        results: list[ObligationResult] = []
        upcoming: dict[str, dict[str, Any]] = {}
        ceased: list[dict[str, Any]] = []
        instruments: dict[str, dict[str, Any]] = {}
        memo = self._day(as_of)

        for ins in self.kb.instruments.values():
            status, by = ins.status_on(as_of)
            instruments[ins.id] = {"title_en": ins.title_en, "title_zh": ins.title_zh,
                                   "short_en": ins.short_en, "status": status, "superseded_by": by,
                                   "effective": ins.effective.isoformat() if ins.effective else None,
                                   "sources": ins.sources}
            for ob in ins.obligations:
                start, end = self._windows[ob.id]
                value, trace = ev.evaluate(ob.applies_if)
                if start is not None and as_of < start:
                    # What will apply is judged by the law as it stands on the start date (its thresholds).
                    value, trace = at(start).evaluate(ob.applies_if)
                    # Only adopted law has start dates to announce; drafts and planned laws do not bind.
                    if value is not False and status not in ("draft", "planned"):
                        entry = upcoming.setdefault(f"{ins.id}@{start}", {
                            "instrument": ins.id, "effective": start.isoformat(),
                            "title": ins.short_en or ins.title_en, "days_until": (start - as_of).days,
                            "summary": ins.summary_en.strip(), "obligations": []})
                        entry["obligations"].append({"id": ob.id, "title": ob.title, "status": _STATUS[value],
                                                     "starts": start.isoformat(), "missing": trace.missing,
                                                     "citations": list(ob.citations)})
                    continue
                ended = (end is not None and as_of > end) or status in ("superseded", "repealed")
                if ended and end is not None:
                    value, trace = at(end).evaluate(ob.applies_if)  # did it bind on its last day?
                if ended or status not in _BINDING:
                    if ended and value is not False:
                        ceased.append({"id": ob.id, "instrument": ins.id,
                                       "until": end.isoformat() if end else None, "superseded_by": by})
                    continue
                text, due = _due(ob.deadline, ev)
                citations, penalty = self._cited(ob, as_of, memo)
                start_iso, end_iso = self._window_iso[ob.id]
                if due and start_iso and due < start_iso:
                    # The service predates the duty: the period cannot end before the duty exists.
                    text = f"{text} — the service predates this duty, which took effect {start}"
                    due = start_iso
                results.append(ObligationResult(
                    id=ob.id, instrument=ins.id,
                    citations=citations,
                    actor=ob.actor, title=ob.title, status=_STATUS[value],
                    reasons=self._explain(value, trace, as_of, implied, memo),
                    missing=list(trace.missing) if value is None else [],
                    confidence=ob.confidence, duty=self._duties[ob.id],
                    source=ob.source or (ins.sources[0] if ins.sources else None),
                    filing=ob.filing, deadline=text, due=due, evidence=ob.evidence,
                    penalty=penalty, note=ob.note,
                    hortatory=ob.hortatory,
                    effective=start_iso, until=end_iso,
                    days_overdue=_days_overdue(due, as_of) if value is True else None))

        filings = [{"id": r.id, "kind": r.filing, "title": r.title, "status": r.status,
                    "citations": r.citations, "deadline": r.deadline, "due": r.due, "missing": r.missing,
                    "confidence": r.confidence, "days_overdue": r.days_overdue}
                   for r in results if r.filing]
        concepts = []
        for cid, c in self.kb.concepts.items():
            val, tr = ev.concept(cid)
            concepts.append({"id": cid, "name_en": c.name_en, "name_zh": c.name_zh, "value": val,
                             "citations": [self.kb.cite_on(x, as_of) for x in c.citations],
                             "facts": {k: _jsonable(v) for k, v in tr.facts.items()},
                             "missing": tr.missing if val is None else [], "confidence": c.confidence})
        order = {APPLIES: 0, NEEDS_INFO: 1, NOT_APPLICABLE: 2}
        results.sort(key=lambda r: (r.instrument, order[r.status], r.id))
        return ScopeResult(
            as_of=as_of,
            profile={"name": profile.service.name, "organization": profile.organization.name
                     if profile.organization else None},
            obligations=results, filings=filings,
            upcoming=sorted(upcoming.values(), key=lambda u: (u["effective"], u["instrument"])),
            concepts=concepts, ceased=ceased, instruments=instruments)


def _days_overdue(due: str | None, as_of: dt.date) -> int | None:
    """Days since a one-off due date passed; None when it has not (or there is none)."""
    if not due:
        return None
    days = (as_of - dt.date.fromisoformat(due)).days
    return days if days > 0 else None


def _jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]"
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def scope(profile: Profile, as_of: dt.date | None = None) -> ScopeResult:
    """Library entry point: which duties apply to `profile` on `as_of` (default today)."""
    return Engine().run(profile, as_of or dt.date.today())
