"""Scope reports: JSON contract, Markdown and HTML a compliance lead can hand on, escaping."""

import json

import pytest
from tests.conftest import ROOT, json_out

CHATBOT = str(ROOT / "examples" / "chatbot-startup.yaml")


def test_json_contract(cnai):
    r = json_out(cnai("scope", CHATBOT, "--as-of", "2026-11-28", "--format", "json"))
    assert r["as_of"] == "2026-11-28" and r["profile"]["name"] == "智答 ZhiDa Chat"
    for o in r["obligations"]:
        assert {"id", "instrument", "citations", "actor", "title", "status", "reasons", "missing",
                "confidence"} <= set(o)
        assert o["status"] in ("applies", "not_applicable", "needs_info")
        assert o["reasons"], o["id"]
        assert (o["status"] == "needs_info") == bool(o["missing"]), o["id"]
    kinds = {"algorithm_filing", "generative_ai_filing", "generative_ai_registration", "security_assessment",
             "ethics_review", "pipia", "cross_border_security_assessment",
             "cross_border_standard_contract_or_certification", "pi_compliance_audit", "other"}
    assert r["filings"] and all(f["kind"] in kinds for f in r["filings"])
    for f in r["filings"]:
        assert {"id", "kind", "status", "citations", "deadline"} <= set(f)
    for u in r["upcoming"]:
        assert {"instrument", "effective", "summary"} <= set(u)


def test_reasons_name_concepts_and_facts(cnai):
    r = json_out(cnai("scope", CHATBOT, "--format", "json"))
    o = next(o for o in r["obligations"] if o["id"] == "generative-ai.security-assessment-and-filing")
    text = " ".join(o["reasons"])
    assert "generative-ai:2" in text  # the concept's citation
    assert "capabilities.public_opinion_features" in text or "public-opinion" in text.lower()


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_reports_written_to_file(cnai, tmp_path, fmt):
    out = tmp_path / f"r.{fmt}"
    proc = cnai("scope", CHATBOT, "--format", fmt, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    for needle in ("智答 ZhiDa Chat", "generative-ai:17", "Filings", "Summary"):
        assert needle in text
    assert "algorithm-recommendation:24" in text


def test_html_escapes_profile_text(cnai, tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text('schema: cnai/profile/v1\nservice: {name: "<script>alert(1)</script>"}\n'
                 'organization: {name: "A & B <b>"}\nroles: [provider]\n', encoding="utf-8")
    proc = cnai("scope", str(p), "--format", "html")
    assert proc.returncode == 0
    assert "<script>alert" not in proc.stdout and "&lt;script&gt;alert(1)&lt;/script&gt;" in proc.stdout
    assert "A &amp; B &lt;b&gt;" in proc.stdout


def test_stdout_json_is_one_document(cnai):
    proc = cnai("scope", CHATBOT, "--format", "json")
    json.loads(proc.stdout)
