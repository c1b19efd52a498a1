"""`cnai law list | show` per the CLI contract."""

from tests.conftest import json_out

STATUSES = {"in_force", "not_yet_in_force", "superseded", "repealed", "draft", "planned", "non_binding"}


def test_list_json_contract_and_dates(cnai):
    rows = json_out(cnai("law", "list", "--format", "json", "--as-of", "2026-11-28"))
    by_id = {r["id"]: r for r in rows}
    for r in rows:
        assert {"id", "title_zh", "title_en", "kind", "issued", "effective", "status", "superseded_by",
                "sources"} <= set(r)
        assert r["status"] in STATUSES
    # anthropomorphic-ai: effective 2026-07-15 (CAC, published 2026-04-10)
    assert by_id["anthropomorphic-ai"]["status"] == "in_force"
    assert by_id["ai-law"]["status"] == "planned"  # not adopted (NPCSC 2026 plan: preparatory item)
    early = {r["id"]: r for r in json_out(cnai("law", "list", "--format", "json", "--as-of", "2025-06-01"))}
    assert early["anthropomorphic-ai"]["status"] == "not_yet_in_force"
    assert early["ai-labeling"]["status"] == "not_yet_in_force"  # in force 2025-09-01
    # tc260-003 superseded in practice by gb-t-45654 (2025-11-01)
    assert by_id["tc260-003"]["status"] == "superseded" and by_id["tc260-003"]["superseded_by"] == "gb-t-45654"


def test_show_article_json(cnai):
    rec = json_out(cnai("law", "show", "generative-ai", "--article", "7", "--format", "json"))
    assert rec["instrument"] == "generative-ai" and rec["number"] == "7"
    assert rec["confidence"] in ("verified", "secondary", "unverified")
    assert rec["obligations"], "Art. 7 carries training-data duties"
    rec2 = json_out(cnai("law", "show", "generative-ai:7", "--format", "json"))
    assert rec2["number"] == "7"


def test_show_old_number_on_old_date(cnai):
    rec = json_out(cnai("law", "show", "anti-unfair-competition-law", "--article", "12", "--as-of", "2025-01-01",
                       "--format", "json"))
    assert rec["number"] == "13" and rec["cited_as"] == "anti-unfair-competition-law:12"


def test_show_instrument_text_and_case(cnai):
    proc = cnai("law", "show", "pipl")
    assert proc.returncode == 0 and "个人信息保护法" in proc.stdout
    rec = json_out(cnai("law", "show", "case-bjic-2023-ai-image-copyright", "--format", "json"))
    assert rec["type"] == "case" and "11279" in (rec.get("case_number") or "")


def test_unknown_ids_give_hints(cnai):
    proc = cnai("law", "show", "generative-aii")
    assert proc.returncode == 2 and "did you mean 'generative-ai'" in proc.stderr
    proc = cnai("law", "show", "generative-ai", "--article", "999")
    assert proc.returncode == 2 and "no article '999'" in proc.stderr


def test_version_and_fast_help(cli):
    proc = cli("--version")
    assert proc.returncode == 0 and "cnai" in proc.stdout
    proc = cli("--help")
    assert proc.returncode == 0
    for group in ("law", "scope", "profile", "label", "assess", "corpus"):
        assert group in proc.stdout


def test_help_imports_no_heavy_modules():
    # `cnai --help` must stay fast: the command groups (and pydantic, rich, the KB) load only when used.
    import subprocess
    import sys

    code = ("import sys\nfrom cnai.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('pydantic', 'rich', 'yaml', 'cnai.law.kb', 'cnai.cli.law') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out, out
