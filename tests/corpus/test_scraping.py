"""Scraping risk per source (issue #16 item 4): every finding of the fixture tested one by one.

Expectations come from the fixture files (tests/corpus/fixtures/scraping/) and the rules stated in
cnai/corpus/scraping.py, not from the engine's output.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cnai.corpus.scraping import check_sources

FIX = Path(__file__).parent / "fixtures" / "scraping"


@pytest.fixture(scope="module")
def report():
    res = check_sources(FIX / "register.yaml")
    return {r["name"]: r for r in res["sources"]}


def codes(r):
    return sorted(f["code"] for f in r["findings"])


def finding(r, code):
    return next(f for f in r["findings"] if f["code"] == code)


def test_news_site_one_disallowed_fetch_and_a_bad_log_row(report):
    r = report["news-site"]
    # 21 good rows, 1 under /private/ (Disallow: /private/); 1 row with a bad time is skipped and counted
    assert r["stats"]["fetches"] == 21 and r["stats"]["crawl_log_rows_skipped"] == 1
    f = finding(r, "robots.disallowed_fetches")
    assert f["severity"] == "medium" and f["evidence"] == ["https://news.example.cn/private/staff.html"]
    # Crawl-delay: 2 -> 0.5/s; fetches 3 s apart stay under it
    host = r["stats"]["hosts"]["news.example.cn"]
    assert host["limit_rps"] == 0.5 and "robots.txt" in host["limit_basis"]
    assert "load.rate_over_limit" not in codes(r)
    assert r["risk"] == "medium"


def test_forum_ai_block_terms_and_burst(report):
    r = report["forum"]
    assert "GPTBot" in finding(r, "robots.ai_crawlers_blocked")["message"]
    terms = [f for f in r["findings"] if f["code"].startswith("terms.")]
    lines = sorted((f["code"], f["message"].split()[2]) for f in terms)
    # line 3 of the file is Art. 9 (no crawlers), line 4 is Art. 10 (no AI training); no copyright clause
    assert lines == [("terms.no_ai_training", "4"), ("terms.no_scraping", "3")]
    # 30 requests in 5 s against the default 1/s (no Crawl-delay for '*'): 6-7 in one second
    load = finding(r, "load.rate_over_limit")
    assert load["severity"] == "medium" and "cnai default" in r["stats"]["hosts"]["bbs.example.com"]["limit_basis"]
    assert r["stats"]["hosts"]["bbs.example.com"]["max_per_second"] in (6, 7)
    assert r["risk"] == "medium"


def test_shop_circumvention(report):
    r = report["shop"]
    assert finding(r, "circumvention.login_wall")["evidence"] == ["https://shop.example.com/user/login?next=/orders"]
    assert finding(r, "circumvention.captcha")["severity"] == "high"
    assert "3 refusals" in finding(r, "circumvention.blocked_then_continued")["message"]
    assert "5 different user agents" in finding(r, "circumvention.rotating_ua")["message"]
    assert "4 different IP addresses" in finding(r, "circumvention.rotating_ip")["message"]
    assert "competition.competitor" in codes(r)
    assert "robots.disallowed_fetches" not in codes(r)  # robots allows everything
    assert r["risk"] == "high"


def test_blog_english_terms_and_copyright(report):
    r = report["blog-en"]
    assert codes(r) == ["copyright.no_licence", "records.no_crawl_log", "terms.no_ai_training",
                        "terms.no_scraping", "terms.rights_reserved"]
    assert r["risk"] == "medium"


def test_licensed_and_unrecorded_sources(report):
    assert report["licensed-corpus"]["findings"] == [] and report["licensed-corpus"]["risk"] == "low"
    r = report["scraped-no-records"]
    assert codes(r) == ["records.no_crawl_log", "records.no_robots_snapshot"] and r["risk"] == "unknown"


def test_unreadable_snapshot_is_reported_for_its_source_only(report):
    r = report["broken-snapshot"]
    assert r["risk"] == "error" and "no such file" in r["error"] and "missing.robots.txt" in r["error"]


def test_every_citation_resolves_in_the_knowledge_base(report):
    from cnai.law.kb import load

    kb = load()
    cites = {c for r in report.values() for f in r["findings"] for c in f["citations"]}
    assert cites
    for c in cites:
        if c.startswith("topic:"):
            assert c[6:] in kb.topics, c
        else:
            kb.resolve(c)  # raises on an unknown instrument or article


def test_audit_personal_information_rate(tmp_path):
    d = tmp_path / "audit"
    d.mkdir()
    (d / "summary.json").write_text(json.dumps({"sources": {"forum": {"docs": 200, "pi_doc_rate": 0.08}}}))
    res = check_sources(FIX / "register.yaml", audit_dir=d, only=["forum"])
    f = finding(res["sources"][0], "personal_information.found")
    assert f["severity"] == "high" and "8.00%" in f["message"]


def test_cli_exit_codes_and_formats(tmp_path, cnai):
    r = cnai("corpus", "sources", "check", str(FIX / "register.yaml"), "--format", "json")
    assert r.returncode == 1  # shop is high risk, broken-snapshot could not be read
    assert json.loads(r.stdout)["counts"]["high"] == 1
    r = cnai("corpus", "sources", "check", str(FIX / "register.yaml"), "--source", "licensed-corpus")
    assert r.returncode == 0
    md = tmp_path / "risk.md"
    r = cnai("corpus", "sources", "check", str(FIX / "register.yaml"), "--format", "md", "-o", str(md))
    assert "| shop | high |" in md.read_text()
    copy = tmp_path / "reg.yaml"
    shutil.copy(FIX / "register.yaml", copy)
    r = cnai("corpus", "sources", "check", str(copy), "-o", str(copy))
    assert r.returncode == 2 and "overwrite the input" in r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: {a: 1}\n")
    r = cnai("corpus", "sources", "check", str(bad))
    assert r.returncode == 2 and "expected a list of sources" in r.stderr
