"""Library API = CLI: `cnai.corpus.audit` gives the summary `cnai corpus audit --format json` prints."""

from __future__ import annotations

import json

import pytest


def test_audit_function_matches_the_cli(tmp_path, cnai):
    from cnai.corpus import audit

    corp = tmp_path / "c.jsonl"
    corp.write_text("".join(json.dumps({"id": f"d{i}", "text": f"联系电话138001380{i:02d}，谢谢。"}, ensure_ascii=False) + "\n"
                            for i in range(20)), encoding="utf-8")
    lib = audit([corp], tmp_path / "a", sample_n=5, workers=1)
    cli = json.loads(cnai("corpus", "audit", str(corp), "--out", str(tmp_path / "b"), "--sample", "5",
                          "--workers", "1").stdout)
    for s in (lib, cli):
        s.pop("run")
        s.pop("review_sample")
    assert lib == cli and lib["documents"] == 20
    assert lib["findings"]["by_type"]["cn_mobile"] == 20


def test_audit_function_raises_on_bad_input(tmp_path):
    from cnai.corpus import audit
    from cnai.errors import InputError

    with pytest.raises(InputError, match="overwrite the input"):
        audit([tmp_path], tmp_path)


def test_library_scan_equals_cli(tmp_path, cnai):
    """cnai.corpus.scan() yields exactly the records `cnai corpus scan` prints; skips are counted by reason."""
    import json as _json

    import pytest as _pytest

    from cnai.corpus import scan
    from cnai.errors import InputError

    p = tmp_path / "d.jsonl"
    p.write_text('{"id": "a", "text": "手机13800138000"}\nnot json\n{"id": "b", "text": "今天天气不错"}\n',
                 encoding="utf-8")
    stats: dict = {}
    lib = list(scan([p], stats=stats))
    r = cnai("corpus", "scan", str(p), "--workers", "1")
    assert r.returncode == 0, r.stderr
    assert lib == [_json.loads(line) for line in r.stdout.splitlines()]
    assert [x["doc"] for x in lib] == ["a", "b"] and lib[0]["findings"][0]["type"] == "cn_mobile"
    assert stats["docs"] == 2 and stats["with_findings"] == 1 and sum(stats["skips"].values()) == 1
    with _pytest.raises(InputError, match="nope"):
        list(scan([p], text_field="nope"))
