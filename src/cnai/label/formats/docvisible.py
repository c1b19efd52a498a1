"""Explicit (visible) text labels inside PDF and PowerPoint files.

GB 45438 for text (reference section 1, Measures Art. 4(1) and GB 45438 5.1 as summarised; secondary): a
text prompt with an AI element and a generation element, at the start, the end or a suitable middle
position. The rules give no size, colour or page placement for documents; our choices (docs/label-speed.md):

- PDF: the label goes in a band ADDED above the first page (prefix) and/or below the last page (suffix), so
  no original content is covered or moved: the page box grows by the band, the page's own content stream is
  left as it was, and the label is drawn by a new content stream appended after it. Font size 3% of the
  page's shorter side (at least 9 pt), black on light grey, in the CJK font the image labels use (embedded
  subset, with a ToUnicode map so the text can be searched and copied). Page rotation is honoured: "above"
  is above as the page is displayed. Text is drawn by reportlab, the page edited with pikepdf (qpdf).
- PPTX: a text box at the top of the first slide (prefix) and/or the bottom of the last slide (suffix),
  spanning the slide width, font size 3% of the slide height (at least 10 pt), via python-pptx. Existing
  shapes are not changed. Its name (`cnai AIGC label`) makes a second run replace rather than add.
"""

from __future__ import annotations

import io
import math
import os

from cnai.errors import InputError

RATIO = 0.03        # our choice: the standard sets no size for document labels
MIN_PT_PDF, MIN_PT_PPTX = 9.0, 10.0
SHAPE_NAME = "cnai AIGC label"


def _need(module: str, pip: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(f"{pip} is not installed (pip install 'cnai[label-docs]')", field="visible") from None


# ------------------------------------------------------------------ PDF
def _display_matrix(box: list[float], rotate: int) -> tuple[float, ...]:
    """cm matrix mapping displayed-page coordinates (origin bottom-left as the viewer shows the page) to the
    page's own coordinates, for /Rotate 0, 90, 180, 270 (clockwise)."""
    x0, y0, x1, y1 = box
    return {0: (1, 0, 0, 1, x0, y0), 90: (0, 1, -1, 0, x1, y0), 180: (-1, 0, 0, -1, x1, y1),
            270: (0, -1, 1, 0, x0, y1)}[rotate]


def _apply(m: tuple[float, ...], u: float, v: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return a * u + c * v + e, b * u + d * v + f


def _band_pdf(width: float, height: float, band: float, text: str, y_text: float, size: float) -> bytes:
    """A one-page PDF (display orientation) with the label band; reportlab embeds a font subset."""
    _need("reportlab", "reportlab")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from cnai.label.visible import find_font

    font = find_font()
    name = "cnaiLabelCJK"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, font, subfontIndex=0) if font.endswith(".ttc")
                                else TTFont(name, font))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height), pageCompression=1)
    c.setTitle("cnai visible label")
    c.setFillColorRGB(0.93, 0.93, 0.93)
    c.rect(0, y_text, width, band, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    c.setFont(name, size)
    c.drawCentredString(width / 2, y_text + (band - size) / 2 + size * 0.15, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def _label_page(pdf, page, text: str, where: str) -> dict:
    import pikepdf

    box = [float(x) for x in (page.cropbox if "/CropBox" in page.obj else page.mediabox)]
    box = [min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3])]
    rotate = int(page.obj.get("/Rotate", 0)) % 360
    if rotate not in (0, 90, 180, 270):
        rotate = 0
    w, h = box[2] - box[0], box[3] - box[1]
    dw, dh = (w, h) if rotate in (0, 180) else (h, w)
    size = max(MIN_PT_PDF, round(RATIO * min(dw, dh), 1))
    band = math.ceil(size * 1.8)
    below = band if where == "bottom" else 0.0
    m = _display_matrix(box, rotate)
    # display coordinates after growing: the old page sits at v in [below, below + dh]
    a, b, c, d, e, f = m
    shifted = (a, b, c, d, e - c * below, f - d * below)
    corners = [_apply(shifted, u, v) for u in (0, dw) for v in (0, dh + band)]
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    new_box = [min(xs), min(ys), max(xs), max(ys)]
    media = [float(x) for x in page.mediabox]
    media = [min(media[0], media[2], new_box[0]), min(media[1], media[3], new_box[1]),
             max(media[0], media[2], new_box[2]), max(media[1], media[3], new_box[3])]
    page.obj.MediaBox = pikepdf.Array(media)
    page.obj.CropBox = pikepdf.Array(new_box)
    band_pdf = pikepdf.open(io.BytesIO(_band_pdf(dw, dh + band, band, text, 0.0 if where == "bottom" else dh,
                                                 size)))
    form = pdf.copy_foreign(band_pdf.pages[0].as_form_xobject())
    fname = page.add_resource(form, pikepdf.Name.XObject, prefix="CnaiLabel")
    # the page's own content is wrapped in q/Q so its graphics state cannot leak into the label
    page.contents_coalesce()
    page.contents_add(pdf.make_stream(b"q\n"), prepend=True)
    cm = " ".join(f"{x:.4f}".rstrip("0").rstrip(".") for x in shifted)
    page.contents_add(pdf.make_stream(f"Q\nq {cm} cm {fname} Do Q\n".encode()))
    return {"where": where, "font_size_pt": size, "band_pt": band, "rotate": rotate}


def pdf_add_text_label(src: str, dst_tmp: str, text: str, mode: str) -> dict:
    """Write src with a visible label band to dst_tmp; returns what was done."""
    pikepdf = _need("pikepdf", "pikepdf")
    try:
        pdf = pikepdf.open(src)
    except pikepdf.PasswordError:
        raise InputError("the PDF is encrypted; cannot add a visible label", path=src) from None
    except pikepdf.PdfError as e:
        raise InputError(f"cannot parse the PDF: {str(e).splitlines()[0][:200]}", path=src) from None
    with pdf:
        if pdf.is_encrypted:  # opened with an empty user password; saving would drop the owner's restrictions
            raise InputError("the PDF is encrypted; cannot add a visible label", path=src)
        if len(pdf.pages) == 0:
            raise InputError("the PDF has no pages", path=src)
        placed = []
        if mode in ("prefix", "both"):
            placed.append({"page": 1, **_label_page(pdf, pdf.pages[0], text, "top")})
        if mode in ("suffix", "both"):
            n = len(pdf.pages)
            placed.append({"page": n, **_label_page(pdf, pdf.pages[n - 1], text, "bottom")})
        # object streams and the original Info/XMP are kept; the implicit label, if any, is in the Info dict
        pdf.save(dst_tmp, preserve_pdfa=True, deterministic_id=True)
    return {"kind": "document", "format": "pdf", "mode": mode, "text": text, "placed": placed}


# ------------------------------------------------------------------ PPTX
def pptx_add_text_label(src: str, dst_tmp: str, text: str, mode: str) -> dict:
    _need("pptx", "python-pptx")
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Pt

    try:
        prs = Presentation(src)
    except Exception as e:  # noqa: BLE001 - python-pptx raises several types for a broken package
        raise InputError(f"cannot open the presentation: {type(e).__name__}: {str(e)[:200]}", path=src) from None
    slides = list(prs.slides)
    if not slides:
        raise InputError("the presentation has no slides", path=src)
    sw, sh = prs.slide_width or 9144000, prs.slide_height or 6858000
    size = max(MIN_PT_PPTX, round(RATIO * sh / 12700, 1))  # 12,700 EMU per point
    box_h = int(size * 1.8 * 12700)
    placed = []
    targets = ([(0, "top")] if mode in ("prefix", "both") else []) + \
        ([(len(slides) - 1, "bottom")] if mode in ("suffix", "both") else [])
    for idx, where in targets:
        slide = slides[idx]
        for shp in list(slide.shapes):  # a previous run's label is replaced, not stacked
            if shp.name == f"{SHAPE_NAME} ({where})":
                shp._element.getparent().remove(shp._element)
        top = 0 if where == "top" else sh - box_h
        tb = slide.shapes.add_textbox(0, top, sw, box_h)
        tb.name = f"{SHAPE_NAME} ({where})"
        tb.fill.solid()
        tb.fill.fore_color.rgb = RGBColor(0xEE, 0xEE, 0xEE)
        tf = tb.text_frame
        tf.word_wrap = True
        p = tf.paragraphs[0]
        p.alignment = PP_ALIGN.CENTER
        run = p.add_run()
        run.text = text
        run.font.size = Pt(size)
        run.font.color.rgb = RGBColor(0, 0, 0)
        placed.append({"slide": idx + 1, "where": where, "font_size_pt": size})
    prs.save(dst_tmp)
    return {"kind": "document", "format": "pptx", "mode": mode, "text": text, "placed": placed}


def is_pptx(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in (".pptx", ".potx")
