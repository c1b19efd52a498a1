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
