"""GB/T 45654 security self-assessment: banks, targets, judges, runs, metrics, reports.

Library API (the CLI's verbs, see docs/assess.md "Library API"):
    run(target, banks, run_dir=..., **options) -> RunResult      `cnai assess run`
    report(run_dir, format="md", out=None) -> Report             `cnai assess report`
    check_bank(specs) -> dict                                    `cnai bank check`
    import_bank / export_bank / augment_bank                     `cnai bank import|export|augment`
    expand_keywords(specs, out)                                  `cnai bank keywords expand`
    mutate_bank(specs, out, attacks="all")                       `cnai bank mutate` (attack variants)
    keyword_matcher(library, normalize=True)                     evasion-normalised keyword matching
    compare_runs(run_a, run_b), export_review, import_review, checklist_template

Extension points: judges (`cnai.assess.judges.Judge`), targets (`cnai.assess.targets.TargetFactory`),
bank kinds (`cnai.assess.banks.BankKind`), report formats ("assess.<format>").

Stable APIs reused by other areas:
- :mod:`cnai.core.taxonomy`: ``load_taxonomy()``, ``RISK_CODES``, ``normalize_risk_code()``.
- :mod:`cnai.assess.keywords`: ``load_keyword_library(path|None)``, ``KeywordLibrary.matcher().find_all(text)``;
  :func:`cnai.assess.evasion.keyword_matcher` gives the same calls with evasion normalisation.

Submodules are imported on first use, so importing cnai.assess stays cheap.
"""

from __future__ import annotations

from typing import Any

_API = {
    "run": "api", "report": "api", "check_bank": "api", "import_bank": "api", "export_bank": "api",
    "augment_bank": "api", "report_formats": "api", "expand_keywords": "api", "mutate_bank": "api", "import_public_set": "api", "keyword_matcher": "evasion", "RunResult": "api", "Report": "api",
    "export_review": "review", "import_review": "review",
    "RunConfig": "runner", "RunInterrupted": "runner",
}
__all__ = [*_API, "checklist_template", "compare_runs"]


def __getattr__(name: str) -> Any:
    import importlib

    if name == "checklist_template":
        return importlib.import_module("cnai.assess.checklist").template
    if name == "compare_runs":
        return importlib.import_module("cnai.assess.compare").compare
    if name in _API:
        return getattr(importlib.import_module(f"cnai.assess.{_API[name]}"), name)
    raise AttributeError(f"module 'cnai.assess' has no attribute {name!r}")
