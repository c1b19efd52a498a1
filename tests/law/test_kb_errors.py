"""A broken knowledge-base file gives one error naming the file and line, not a traceback."""

import pytest

from cnai.errors import InputError
from cnai.law import kb as kbmod


def test_malformed_yaml_names_file_and_line(tmp_path, monkeypatch):
    d = tmp_path / "data"
    (d / "instruments").mkdir(parents=True)
    bad = d / "instruments" / "x.yaml"
    bad.write_text("id: x\ntitle_zh: [unclosed\n", encoding="utf-8")
    monkeypatch.setattr(kbmod, "DATA", d)
    with pytest.raises(InputError) as exc:
        kbmod._parse()
    assert str(bad) in str(exc.value) and "line" in str(exc.value)


def test_invalid_record_names_the_field(tmp_path, monkeypatch):
    d = tmp_path / "data"
    (d / "instruments").mkdir(parents=True)
    (d / "instruments" / "x.yaml").write_text("id: x\ntitle_zh: t\n", encoding="utf-8")
    monkeypatch.setattr(kbmod, "DATA", d)
    with pytest.raises(InputError) as exc:
        kbmod._parse()
    assert "title_en" in str(exc.value)
