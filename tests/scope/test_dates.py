"""Time: duties start and stop on the dates the law gives."""

from tests.scope.helpers import run, status, statuses, upcoming_instruments


def test_labeling_measures_start_2025_09_01():
    before = run("chatbot-startup", "2025-08-31")
    after = run("chatbot-startup", "2025-09-01")
    # ai-labeling:14 — in force 2025-09-01; before that only the deep-synthesis label duties bind
    assert statuses(before, "ai-labeling:4") == set()
    assert upcoming_instruments(before).get("ai-labeling") == "2025-09-01"
    assert "applies" in statuses(before, "deep-synthesis:16")
    assert "applies" in statuses(after, "ai-labeling:4")
    assert "ai-labeling" not in upcoming_instruments(after)


def test_scope_2025_06_01_vs_2026_11_28_differ_for_labels_and_human_like_ai():
    early = run("companion-app-teens", "2025-06-01")
    late = run("companion-app-teens", "2026-11-28")
    up = upcoming_instruments(early)
    assert up.get("ai-labeling") == "2025-09-01" and up.get("anthropomorphic-ai") == "2026-07-15"
    assert status(early, "anthropomorphic-ai.security-assessment") is None
    assert status(late, "anthropomorphic-ai.security-assessment") == "applies"
    assert "applies" in statuses(late, "ai-labeling:5")


def test_anthropomorphic_measures_start_2026_07_15():
    assert status(run("companion-app-teens", "2026-07-14"), "anthropomorphic-ai.security-assessment") is None
    assert status(run("companion-app-teens", "2026-07-15"), "anthropomorphic-ai.security-assessment") == "applies"


def test_cross_border_thresholds_change_2024_03_22():
    # Order 11 (data-export-assessment:4): >= 100k individuals' PI abroad -> CAC security assessment.
    # From 2024-03-22, cross-border-data:8: 100k..1M -> standard contract or certification instead.
    before = run("foreign-api-provider", "2024-03-21")
    after = run("foreign-api-provider", "2024-03-22")
    assert status(before, "data-export-assessment.security-assessment") == "applies"
    assert status(before, "cross-border-data.standard-contract-or-certification") is None
    assert upcoming_instruments(before).get("cross-border-data") == "2024-03-22"
    assert status(after, "data-export-assessment.security-assessment") is None
    assert any(c["id"] == "data-export-assessment.security-assessment" for c in after["ceased"])
    assert status(after, "cross-border-data.standard-contract-or-certification") == "applies"


def test_generative_ai_measures_start_2023_08_15():
    assert status(run("chatbot-startup", "2023-08-14"), "generative-ai.security-assessment-and-filing") is None
    assert status(run("chatbot-startup", "2023-08-15"), "generative-ai.security-assessment-and-filing") == "applies"


def test_renumbered_citations_follow_the_date():
    # A scraping duty under the AUCL internet article is cited as Art. 12 before 2025-10-15, Art. 13 after.
    import datetime as dt

    from cnai.law.kb import load

    kb = load()
    assert kb.cite_on("anti-unfair-competition-law:13", dt.date(2025, 6, 1)).endswith(":12")
    assert kb.cite_on("anti-unfair-competition-law:13", dt.date(2026, 11, 28)).endswith(":13")


def test_due_dates_never_precede_the_duty():
    # The companion app launched 2025-05-12; the Anthropomorphic Measures bind from 2026-07-15, so the
    # launch-time assessment cannot have been due before that day.
    from tests.scope.helpers import ob

    r = run("companion-app-teens", "2026-11-28")
    o = ob(r, "anthropomorphic-ai.security-assessment")
    assert o["due"] is None or o["due"] >= "2026-07-15"
    # The algorithm filing (in force since 2022) keeps its 10-working-day period from launch.
    assert ob(r, "algorithm-recommendation.filing")["due"] == "2025-05-26"


def test_overdue_due_dates_are_marked_with_days():
    # algorithm-recommendation:24(1): filing within 10 working days of launch. The chatbot launched 2025-03-03,
    # so the filing was due 2025-03-17; on 2025-03-20 that is 3 days past, on 2025-03-17 not yet overdue.
    from tests.scope.helpers import ob

    assert ob(run("chatbot-startup", "2025-03-20"), "algorithm-recommendation.filing")["days_overdue"] == 3
    assert ob(run("chatbot-startup", "2025-03-17"), "algorithm-recommendation.filing")["days_overdue"] is None
    r = run("chatbot-startup", "2025-03-20")
    f = next(f for f in r["filings"] if f["id"] == "algorithm-recommendation.filing")
    assert f["days_overdue"] == 3 and r["summary"]["overdue"] >= 1
    # a duty that does not apply is never overdue
    assert all(o["days_overdue"] is None for o in r["obligations"] if o["status"] != "applies")


def test_upcoming_duties_carry_their_start_date_and_days_until():
    # Anthropomorphic AI Measures (adopted, published 2026-04-10) take effect 2026-07-15.
    r = run("companion-app-teens", "2026-07-01")
    u = next(u for u in r["upcoming"] if u["instrument"] == "anthropomorphic-ai")
    assert u["effective"] == "2026-07-15" and u["days_until"] == 14
    assert all(o["starts"] == "2026-07-15" for o in u["obligations"])
    # the planned AI Law is not adopted: it is never listed as upcoming
    assert "ai-law" not in upcoming_instruments(r)


def test_overdue_and_upcoming_in_the_reports():
    from tests.scope.helpers import ROOT

    from cnai.scope import render, scope
    from cnai.scope.profile import load_profile

    res = scope(load_profile(ROOT / "examples" / "chatbot-startup.yaml"), as_of=__import__("datetime").date(2025, 3, 20))
    md = render(res, "md")
    assert "**overdue by 3 days** unless done" in md
    assert "overdue: passed 3 days ago" in render(res, "html")
