"""Visible labels inside PDF and PPTX: the label text is found where it was put (first page/slide top, last
page/slide bottom), every original page and shape is still there, the implicit label is kept."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess

import pytest
from tests.label.conftest import PRODUCER

from cnai.label.api import embed_file, read_file
from cnai.label.visible import visible_file

pikepdf = pytest.importorskip("pikepdf")
pytest.importorskip("reportlab")
pptx = pytest.importorskip("pptx")
needs_pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")

LABEL = "【AI生成】"


def _pdf(path, pages=3, rotate=None, size=(595, 842)):
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=size)
    for i in range(pages):
        c.setFont("Helvetica", 14)
        c.drawString(72, size[1] - 72, f"Original heading {i + 1}")
        c.drawString(72, 72, f"Original footer {i + 1}")
        c.showPage()
    c.save()
    if rotate:
        with pikepdf.open(path, allow_overwriting_input=True) as p:
            for pg in p.pages:
                pg.obj.Rotate = rotate
            p.save(path)
    return path


def _words(path) -> list[list[tuple[str, float, float, float]]]:
    """Per page: (word, yMin, yMax, page height) from pdftotext -bbox (top-left origin, as displayed)."""
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for pm in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', out, re.S):
        h = float(pm.group(2))
        pages.append([(w, float(y0), float(y1), h) for y0, y1, w in
                      re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>',
                                 pm.group(3))])
    return pages


@needs_pdftotext
def test_pdf_label_at_start_and_end_content_kept(tmp_path):
    src = _pdf(tmp_path / "in.pdf")
    labelled = tmp_path / "labelled.pdf"
    assert embed_file(str(src), str(labelled), producer=PRODUCER)["error"] is None
    out = tmp_path / "o" / "out.pdf"
    rec = visible_file((str(labelled), str(out)), text="AI生成", text_mode="both")
    assert rec["error"] is None and rec["status"] == "labelled", rec
    assert [p["page"] for p in rec["visible"]["placed"]] == [1, 3]
    pages = _words(out)
    assert len(pages) == 3
    first, middle, last = pages
    # first page: the label is the topmost word, above the original heading
    top = min(first, key=lambda w: w[1])
    assert top[0] == LABEL
    heading = next(w for w in first if w[0] == "heading")
    assert top[2] <= heading[1]
    # last page: the label is the lowest word, below the original footer
    bottom = max(last, key=lambda w: w[2])
    assert bottom[0] == LABEL and bottom[1] >= next(w for w in last if w[0] == "footer")[2]
    assert LABEL not in [w[0] for w in middle]
    # every original word is still there, on its page
    for i, pg in enumerate(pages, 1):
        words = " ".join(w[0] for w in pg)
        assert f"Original heading {i}" in words and f"Original footer {i}" in words
    # the original content streams are inside the new ones, byte for byte; the implicit label is kept
    with pikepdf.open(src) as a, pikepdf.open(out) as b:
        for pa, pb in zip(a.pages, b.pages, strict=True):
            orig = b"".join(s.read_bytes() for s in ([pa.Contents] if isinstance(pa.Contents, pikepdf.Stream)
                                                    else pa.Contents))
            pb.contents_coalesce()
            assert orig.strip() in pb.Contents.read_bytes()
    assert read_file(str(out))["label"]["ContentProducer"] == PRODUCER


@needs_pdftotext
def test_pdf_prefix_only_and_rotated_page(tmp_path):
    src = _pdf(tmp_path / "rot.pdf", pages=2, rotate=90)
    out = tmp_path / "o" / "rot.pdf"
    rec = visible_file((str(src), str(out)), text="AI生成", text_mode="prefix")
    assert rec["error"] is None and rec["visible"]["placed"][0]["rotate"] == 90
    first, second = _words(out)
    # as displayed (rotated), the label is still the topmost, horizontal line of page 1
    top = min(first, key=lambda w: w[1])
    assert top[0] == LABEL and top[2] - top[1] < 40
    assert LABEL not in [w[0] for w in second]
    with pikepdf.open(src) as a, pikepdf.open(out) as b:
        assert list(a.pages[1].mediabox) == list(b.pages[1].mediabox)  # untouched page keeps its size


def test_pdf_bad_input_is_one_line_and_nothing_written(tmp_path, cnai):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\n")
    r = cnai("label", "visible", str(bad), "-o", str(tmp_path / "o"))
    rec = json.loads(r.stdout)
    assert r.returncode == 1 and rec["error"] and "Traceback" not in r.stderr
    assert not (tmp_path / "o" / "bad.pdf").exists()


def _pptx(path, n=3):
    from pptx import Presentation

    prs = Presentation()
    for i in range(n):
        s = prs.slides.add_slide(prs.slide_layouts[1])
        s.shapes.title.text = f"Title {i + 1}"
        s.placeholders[1].text = f"Body {i + 1}"
    prs.save(str(path))
    return path


def _shapes(path):
    from pptx import Presentation

    prs = Presentation(str(path))
    return prs, [[(s.name, s.has_text_frame and s.text_frame.text, s.top, s.height) for s in sl.shapes]
                 for sl in prs.slides]


def test_pptx_label_on_first_and_last_slide(tmp_path, cnai):
    src = _pptx(tmp_path / "deck.pptx")
    labelled = tmp_path / "l.pptx"
    assert embed_file(str(src), str(labelled), producer=PRODUCER)["error"] is None
    r = cnai("label", "visible", str(labelled), "-o", str(tmp_path / "o"), "--text-mode", "both")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "o" / "l.pptx"
    _p0, before = _shapes(src)
    prs, after = _shapes(out)
    for i, (b, a) in enumerate(zip(before, after, strict=True)):
        assert a[:len(b)] == b  # originals first, unchanged
        extra = a[len(b):]
        if i == 0:
            assert [e[1] for e in extra] == [LABEL] and extra[0][2] == 0  # top edge
        elif i == len(before) - 1:
            assert [e[1] for e in extra] == [LABEL] and extra[0][2] + extra[0][3] == prs.slide_height
        else:
            assert extra == []
    assert read_file(str(out))["label"]["ContentProducer"] == PRODUCER
    # a second run replaces its own label instead of stacking another
    again = tmp_path / "again.pptx"
    assert visible_file((str(out), str(again)), text="AI生成", text_mode="both")["error"] is None
    assert [len(s) for s in _shapes(again)[1]] == [len(s) for s in after]


def test_pptx_broken_package(tmp_path):
    bad = tmp_path / "bad.pptx"
    buf = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    bad.write_bytes(buf.getvalue())
    rec = visible_file((str(bad), str(tmp_path / "o.pptx")), text="AI生成", text_mode="prefix")
    assert rec["error"] and "\n" not in rec["error"] and not (tmp_path / "o.pptx").exists()


def test_encrypted_pdf_is_refused(tmp_path):
    src = _pdf(tmp_path / "plain.pdf", pages=1)
    enc = tmp_path / "enc.pdf"
    with pikepdf.open(src) as p:  # owner password only: opens without a password, but is encrypted
        p.save(enc, encryption=pikepdf.Encryption(owner="secret", user="", allow=pikepdf.Permissions(modify_other=False)))
    rec = visible_file((str(enc), str(tmp_path / "o" / "enc.pdf")), text="AI生成", text_mode="prefix")
    assert rec["error"] and "encrypted" in rec["error"] and not (tmp_path / "o" / "enc.pdf").exists()
