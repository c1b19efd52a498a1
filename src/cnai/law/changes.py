"""What changed in the law in a period: a change log built from the knowledge base's own dates.

Sources, all already in the data: each instrument's status history (adopted, in force, superseded,
repealed, drafts), duties and articles with their own start or end dates, renumbering, dated law
parameters (thresholds), and decided cases. `cnai law changes --from --to` prints it; the JSON form is a
list of events a user's tooling can subscribe to (stable keys: date, kind, ref).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from cnai.errors import InputError

# status-history entries as change kinds
_STATUS_KIND = {"in_force": "entered_into_force", "not_yet_in_force": "adopted", "superseded": "superseded",
                "repealed": "repealed", "draft": "draft_published", "planned": "planned",
                "non_binding": "issued_non_binding"}


@dataclass
class Change:
    date: str
    kind: str          # entered_into_force | adopted | superseded | repealed | draft_published | planned |
    #                    issued_non_binding | duty_starts | duty_ends | article_added | article_ends |
    #                    in_force_as_changed | renumbered | parameter_set | parameter_changed |
    #                    parameter_restated | case_decided
    ref: str           # instrument id, obligation id, citation, parameter name or case id
    instrument: str | None
    title: str
    detail: str
    confidence: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def changes(start: dt.date, end: dt.date, *, kb=None) -> list[Change]:
    """Every dated change with start <= date <= end, oldest first."""
    if start > end:
        raise InputError(f"{start} is after --to {end}", field="--from")
    if kb is None:
        from cnai.law.kb import load

        kb = load()
    out: list[Change] = []

    def within(day: dt.date | None) -> bool:
        return day is not None and start <= day <= end

    for ins in kb.instruments.values():
        name = ins.short_en or ins.title_en
        first_in_force = min((c.from_ for c in ins.status_history if c.status == "in_force" and c.from_),
                             default=ins.effective)
        for ch in ins.status_history:
            if within(ch.from_):
                detail = ch.note or ""
                if ch.by:
                    detail = f"by {ch.by}" + (f"; {detail}" if detail else "")
                kind = _STATUS_KIND[ch.status]
                if kind == "entered_into_force" and ch.from_ != first_in_force:
                    kind = "in_force_as_changed"  # a later entry: amended text, or displaced in part (see note)
                out.append(Change(ch.from_.isoformat(), kind, ins.id, ins.id, f"{ins.title_zh} — {name}",
                                  detail, ins.confidence))
        for a in ins.articles:
            cite = f"{ins.id}:{a.number}"
            if within(a.from_):
                out.append(Change(a.from_.isoformat(), "article_added", cite, ins.id, a.title or f"Art. {a.number}",
                                  " ".join(a.summary_en.split()), a.confidence))
            if within(a.until):
                out.append(Change(a.until.isoformat(), "article_ends", cite, ins.id, a.title or f"Art. {a.number}",
                                  "last day in force", a.confidence))
            for n in a.numbering:
                # an earlier number ends: the article carries its current number from the next day
                day = n.until + dt.timedelta(days=1) if n.until is not None else None
                if within(day) and n.number != a.number:
                    out.append(Change(day.isoformat(), "renumbered", cite, ins.id, a.title or f"Art. {a.number}",
                                      f"Art. {n.number} ({n.version or 'earlier text'}) is Art. {a.number} from "
                                      f"{day}", a.confidence))
        for ob in ins.obligations:
            # Duties with their own dates (added by an amendment, or ending): the instrument's own start is
            # reported once above, not once per duty.
            if within(ob.from_) and ob.from_ != first_in_force:
                out.append(Change(ob.from_.isoformat(), "duty_starts", ob.id, ins.id, ob.title,
                                  ", ".join(ob.citations), ob.confidence))
            if within(ob.until):
                out.append(Change(ob.until.isoformat(), "duty_ends", ob.id, ins.id, ob.title,
                                  "last day the duty binds", ob.confidence))
    from cnai.law.params import parameters

    for p in parameters().values():
        for prev, cur in zip([None, *p.values[:-1]], p.values, strict=True):
            if within(cur.from_):
                was = f"{prev.value:,}" if prev is not None and isinstance(prev.value, int) else (
                    str(prev.value) if prev is not None else "none")
                now = f"{cur.value:,}" if isinstance(cur.value, int) else str(cur.value)
                kind = ("parameter_set" if prev is None else
                        "parameter_restated" if prev.value == cur.value else "parameter_changed")
                out.append(Change(cur.from_.isoformat(), kind, p.name, cur.citation.split(":")[0],
                                  p.description, f"{was} -> {now} {p.unit} ({cur.citation})", cur.confidence))
    for c in kb.cases.values():
        if within(c.decided):
            out.append(Change(c.decided.isoformat(), "case_decided", c.id, None, c.title_en,
                              f"{c.court}" + (f", {c.case_number}" if c.case_number else ""), c.confidence))
    order = {k: i for i, k in enumerate(["adopted", "draft_published", "planned", "issued_non_binding",
                                         "entered_into_force", "in_force_as_changed", "article_added",
                                         "renumbered", "duty_starts", "parameter_set", "parameter_changed", "parameter_restated", "superseded",
                                         "repealed", "article_ends", "duty_ends", "case_decided"])}
    out.sort(key=lambda c: (c.date, order.get(c.kind, 99), c.ref))
    return out
