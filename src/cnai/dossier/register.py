"""The gap register: every field or statement the evidence could not support. Templates call
`fact(value, label, id, close)`; a missing value renders as a visible 【待补充：label】 and is recorded here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PLACEHOLDER = "【待补充"          # every placeholder starts with this; rendered documents are scanned for it
PLACEHOLDER_RE = re.compile(r"【待补充[^】]*】")


@dataclass
class Gap:
    id: str
    kind: str        # missing_fact | needs_info | missing_evidence | threshold_not_met | bank_below_minimum |
    #                  insufficient_sample | evidence_mismatch | route_undetermined | template_placeholder
    where: str
    what: str
    close: str
    status: str = "open"
    occurrences: int = 0

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "where": self.where, "what": self.what,
                "close": self.close, "status": self.status, "placeholders": self.occurrences}


@dataclass
class GapRegister:
    gaps: dict[str, Gap] = field(default_factory=dict)
    where: str = ""          # the document being rendered

    def add(self, id: str, kind: str, what: str, close: str, where: str | None = None) -> Gap:
        g = self.gaps.get(id)
        if g is None:
            g = self.gaps[id] = Gap(id, kind, where or self.where, what, close)
        elif where or self.where:
            w = where or self.where
            if w not in g.where.split(" | "):
                g.where = f"{g.where} | {w}" if g.where else w
        return g

    def placeholder(self, label: str, id: str, close: str, kind: str = "missing_fact") -> str:
        g = self.add(id, kind, f"{label}: no evidence or fact supports it", close)
        g.occurrences += 1
        return f"{PLACEHOLDER}：{label}】"

    def open(self) -> list[Gap]:
        return [g for g in self.gaps.values() if g.status == "open"]

    def to_list(self) -> list[dict]:
        return [g.to_dict() for g in self.gaps.values()]
