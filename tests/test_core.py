"""The shared core: safe output, loaders with limits, check characters, statistics, plug-in discovery."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from cnai.core import checkdigit, loaders, plugins, safeio, stats
from cnai.errors import InputError

SITE = Path(__file__).parent / "plugins" / "site"


def test_output_refuses_input_symlink_and_device(tmp_path):
    src = tmp_path / "p.yaml"
    src.write_text("a: 1\n")
    with pytest.raises(safeio.OutputError, match="overwrite the input"):
        safeio.write_text(src, "x", inputs=[src])
    link = tmp_path / "l"
    link.symlink_to(src)
    with pytest.raises(safeio.OutputError, match="symbolic link"):
        safeio.write_text(link, "x")
    with pytest.raises(safeio.OutputError, match="not a regular file"):
        safeio.write_text("/dev/null", "x")
    assert src.read_text() == "a: 1\n" and link.is_symlink()


def test_atomic_write_honours_umask_and_keeps_existing_mode(tmp_path):
    old = os.umask(0o027)
    try:
        p = safeio.write_text(tmp_path / "new.txt", "hi")
        assert stat.S_IMODE(p.stat().st_mode) == 0o640
        os.chmod(p, 0o604)
        safeio.write_text(p, "again")
        assert stat.S_IMODE(p.stat().st_mode) == 0o604 and p.read_text() == "again"
    finally:
        os.umask(old)
    assert not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]


def test_atomic_writer_leaves_old_file_on_error(tmp_path):
    p = tmp_path / "keep.txt"
    p.write_text("old")
    with pytest.raises(RuntimeError), safeio.atomic_writer(p) as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert p.read_text() == "old" and len(list(tmp_path.iterdir())) == 1


def test_output_dir_marker(tmp_path):
    d = safeio.prepare_output_dir(tmp_path / "out", kind="audit")
    assert safeio.is_cnai_output_dir(d)
    assert safeio.prepare_output_dir(d, kind="audit") == d
    with pytest.raises(safeio.OutputError, match="holds a cnai audit"):
        safeio.prepare_output_dir(d, kind="dossier")
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("user data")
    with pytest.raises(safeio.OutputError, match="not made by cnai"):
        safeio.prepare_output_dir(other, kind="audit")


@pytest.mark.parametrize("text, message", [
    ("a: &a [1,2,3]\nb: [*a, *a]\n", "aliases"),
    ("a: 1\nb: 2\na: 3\n", "line 3: duplicate key 'a' (first at line 1)"),
    ("x: " + "[" * 200 + "]" * 200, "nested deeper than 64"),
    ("a: [1, 2\n", "malformed YAML: line"),
])
def test_yaml_limits(text, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        loaders.parse_yaml(text, source="f.yaml")


def test_yaml_alias_cap_stops_a_billion_laughs():
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    bomb = "\n".join(levels) + "\n"
    with pytest.raises(InputError, match="line 2: YAML aliases"):
        loaders.parse_yaml(bomb, source="bomb.yaml")
    with pytest.raises(InputError, match="more than 1,000,000 nodes"):
        loaders.parse_yaml(bomb, source="bomb.yaml", aliases=True)
    assert loaders.parse_yaml("a: &a [1]\nb: *a\n", aliases=True) == {"a": [1], "b": [1]}


def test_yaml_dates_can_stay_strings():
    assert loaders.parse_yaml("d: 2026-01-01\n", dates_as_strings=True) == {"d": "2026-01-01"}


def test_json_limits(tmp_path):
    with pytest.raises(InputError, match="nested"):
        loaders.parse_json("[" * 3000 + "]" * 3000, source="deep.json")
    with pytest.raises(InputError, match="line 1, column 7"):
        loaders.parse_json('{"a":1', source="bad.json")
    big = tmp_path / "big.json"
    big.write_text("[" + "1," * 100 + "1]")
    with pytest.raises(InputError, match="over the 100-byte limit"):
        loaders.load_json(big, max_bytes=100)


def test_check_characters_from_the_standards():
    # GB 32100: real codes cited in the reference (Doubao, Honor)
    assert checkdigit.uscc_check_char("91110102MACQD9K64") == "0"
    assert checkdigit.uscc_check_char("91440300MA5G49LC9") == "K"
    # GB 11643 example number published with the standard: 11010519491231002X
    assert checkdigit.resident_id_check_char("11010519491231002") == "X"
    assert checkdigit.luhn_ok("4111111111111111") and not checkdigit.luhn_ok("4111111111111112")
    with pytest.raises(ValueError, match="position 3"):
        checkdigit.uscc_check_char("91I10102MACQD9K64")


def test_wilson_interval():
    assert stats.wilson(0, 0) is None
    lo, hi = stats.wilson(5, 100)
    assert lo == pytest.approx(0.02154, abs=1e-4) and hi == pytest.approx(0.11175, abs=1e-4)


def test_outside_plugin_package_is_discovered(monkeypatch):
    monkeypatch.syspath_prepend(str(SITE))
    plugins.reset()
    try:
        points = {p["point"]: p for p in plugins.describe()}
        assert {"carriers", "recognizers", "judges", "targets", "report_formats", "schemas"} <= set(points)
    finally:
        plugins.reset()
        sys.modules.pop("cnai_testplugin", None)
