"""`cnai law changes`: a change log from the knowledge base's own dates."""

import datetime as dt
import json

from cnai.law.changes import changes


def _kinds(start, end):
    return {(c.kind, c.ref) for c in changes(dt.date.fromisoformat(start), dt.date.fromisoformat(end))}


def test_march_2024_cross_border_provisions():
    # cross-border-data (CAC Order 16) in force 2024-03-22 and raises the assessment threshold (Art. 7)
    k = _kinds("2024-03-01", "2024-03-31")
    assert ("entered_into_force", "cross-border-data") in k
    assert ("parameter_changed", "pi_export.assessment_individuals") in k
    assert ("parameter_restated", "pi_export.assessment_sensitive_individuals") in k  # 10,000 both times
    assert ("duty_ends", "data-export-assessment.security-assessment") in k
    assert not any(kind == "entered_into_force" and ref == "ai-labeling" for kind, ref in k)


def test_labeling_measures_and_aucl_renumbering_2025():
    k = _kinds("2025-09-01", "2025-10-31")
    assert ("entered_into_force", "ai-labeling") in k  # ai-labeling:14 effective 2025-09-01
    # AUCL 2025 revision (in force 2025-10-15): the internet article 12 became 13
    assert ("renumbered", "anti-unfair-competition-law:13") in k


def test_events_are_in_the_period_and_sorted():
    ev = changes(dt.date(2023, 1, 1), dt.date(2026, 12, 31))
    dates = [c.date for c in ev]
    assert dates == sorted(dates) and all("2023-01-01" <= d <= "2026-12-31" for d in dates)
    assert changes(dt.date(1990, 1, 1), dt.date(1990, 12, 31)) == []


def test_cli_json_and_errors(cnai):
    r = cnai("law", "changes", "--from", "2024-03-01", "--to", "2024-03-31", "--format", "json")
    assert r.returncode == 0, r
    doc = json.loads(r.stdout)
    assert doc["from"] == "2024-03-01" and doc["to"] == "2024-03-31"
    assert all({"date", "kind", "ref", "instrument", "title", "detail"} <= set(c) for c in doc["changes"])
    r = cnai("law", "changes", "--from", "2026-01-01", "--to", "2025-01-01")
    assert r.returncode == 2 and "--from" in r.stderr
    r = cnai("law", "changes", "--from", "2025-09-01", "--to", "2025-09-01", "--format", "md")
    assert r.returncode == 0 and "ai-labeling" in r.stdout
