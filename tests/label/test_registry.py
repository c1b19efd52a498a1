"""The carrier registry: built-ins register through cnai's own entry points; an outside package adds a container
through its own entry points, with no edit to cnai (tests/plugins/site/cnai_testplugin)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from tests.label.conftest import PRODUCER

from cnai.core import plugins
from cnai.label.formats.base import Carrier
from cnai.label.registry import carriers, sniff

SITE = Path(__file__).resolve().parents[1] / "plugins" / "site"
BUILTIN = {"jpeg", "png", "webp", "tiff", "gif", "heif", "wav", "mp3", "flac", "ogg", "mp4", "mkv", "avi", "pdf",
           "ooxml", "text", "zip", "flv"}


@pytest.fixture
def plugin_site(monkeypatch):
    monkeypatch.syspath_prepend(str(SITE))
    plugins.reset()
    yield SITE
    plugins.reset()
    for m in [m for m in sys.modules if m.startswith("cnai_testplugin")]:
        sys.modules.pop(m, None)


def test_builtins_are_typed_carriers_registered_by_entry_point():
    regs = {r.name: r for r in plugins.registrations("carriers")}
    assert BUILTIN <= set(regs)
    for name in BUILTIN:
        assert regs[name].provider == "cnai" and regs[name].error is None
        assert isinstance(regs[name].obj, Carrier) and regs[name].obj.name == name
    cars = carriers()
    # HEIF and MP4 are both ISO-BMFF: the more specific one must be asked first
    order = list(cars)
    assert order.index("heif") < order.index("mp4") and order.index("ooxml") < order.index("zip")
    # the writable ones say where the label goes; ZIP is read only
    assert cars["jpeg"].where == "xmp" and cars["wav"].where == "riff-chunk" and cars["zip"].where is None


def test_sniff_is_by_content_not_by_name():
    assert sniff(b"\xff\xd8\xff\xe0rest", "x.png") == "jpeg"
    assert sniff(b"\x00\x00\x00\x18ftypheic", "a.mp4") == "heif"
    assert sniff(b"\x00\x00\x00\x18ftypisom", "a.heic") == "mp4"
    assert sniff(b"ID3\x04\x00\x00\x00\x00\x00\x00fLaC", "x.mp3") == "flac"
    assert sniff(b"PK\x03\x04", "a.docx") == "ooxml" and sniff(b"PK\x03\x04", "a.zip") == "zip"
    assert sniff(b"just words", "a.md") == "text" and sniff(b"just words", "a.bin") is None


def _cntx(path: Path, payload: bytes = b"payload bytes\n") -> Path:
    path.write_bytes(b"CNTX1\ntitle: demo\n\n" + payload)
    return path


def test_outside_carrier_embed_read_check_without_editing_cnai(plugin_site, tmp_path, cnai):
    (tmp_path / "in").mkdir()
    src = _cntx(tmp_path / "in" / "a.cntx")
    before = src.read_bytes()
    out = tmp_path / "out"
    r = cnai("label", "embed", str(src), "--producer", PRODUCER, "--hash", "-o", str(out), "--format", "json")
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)[0]
    assert rec["format"] == "cntx" and rec["status"] == "labelled"
    assert src.read_bytes() == before
    data = (out / "a.cntx").read_bytes()
    assert data.startswith(b"CNTX1\ntitle: demo\nAIGC: {") and data.endswith(b"\n\npayload bytes\n")
    r = cnai("label", "read", str(out / "a.cntx"), "--format", "json")
    got = json.loads(r.stdout)[0]
    assert r.returncode == 0 and got["found_in"] == ["cntx-header"]
    assert got["label"]["ContentProducer"] == PRODUCER
    r = cnai("label", "check", str(out / "a.cntx"), "--format", "json")
    chk = json.loads(r.stdout)[0]
    assert r.returncode == 0 and chk["ok"] and chk["integrity"] == {"ReservedCode1": "ok"}, chk
    # the content hash covers the payload: change it and check fails
    bad = out / "a.cntx"
    bad.write_bytes(data.replace(b"payload bytes", b"payload BYTES"))
    r = cnai("label", "check", str(bad), "--format", "json")
    assert r.returncode == 1 and json.loads(r.stdout)[0]["integrity"] == {"ReservedCode1": "failed"}


def test_outside_carrier_is_listed_with_its_provider(plugin_site, cnai):
    r = cnai("plugins", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    points = doc if isinstance(doc, list) else doc.get("points", doc)
    car = next(p for p in points if p["point"] == "carriers")
    regs = {x["name"]: x for x in car["registered"]}
    assert regs["cntx"]["provider"] == "cnai-testplugin" and regs["cntx"]["loaded"]
    assert regs["jpeg"]["provider"] == "cnai"


def test_without_the_plugin_the_format_is_unsupported(tmp_path, cnai):
    plugins.reset()
    src = _cntx(tmp_path / "a.cntx")
    r = cnai("label", "read", str(src), "--format", "json")
    assert r.returncode == 1 and json.loads(r.stdout)[0]["skip_reason"] == "unsupported format"


def test_library_never_imports_the_cli():
    import ast

    root = Path(__file__).resolve().parents[2] / "src" / "cnai" / "label"
    for f in root.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text("utf-8"))):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            assert not any(n == "cnai.cli" or n.startswith("cnai.cli.") for n in names), f


def test_uscc_check_character_has_one_home():
    from cnai.core import checkdigit
    from cnai.label import codes

    # GB 32100 example from the reference: Doubao 91110102MACQD9K640
    assert codes.uscc_check_char("91110102MACQD9K64") == checkdigit.uscc_check_char("91110102MACQD9K64") == "0"
    with pytest.raises(Exception, match="uscc: character 'I' at position 3"):
        codes.uscc_check_char("91I10102MACQD9K64")
