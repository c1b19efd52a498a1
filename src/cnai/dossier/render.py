"""Renderers. Every document template is one restricted HTML file (h1-h3, p, b, table, ul/li, div.pagebreak):
WeasyPrint turns it into the PDF and a small converter into DOCX (python-docx), so a firm overrides one
file per document and both formats follow. An optional `reference.docx` in the template folder supplies
DOCX styles (fonts, margins, letterhead)."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path

CJK_FONT = "Noto Serif CJK SC"      # fonts-noto-cjk; WenQuanYi Zen Hei as fallback (deps/apt/dossier.txt)
CSS = """
@page { size: A4; margin: 22mm 20mm; @bottom-center { content: counter(page) " / " counter(pages);
  font-size: 9pt; } }
body { font-family: "Noto Serif CJK SC", "WenQuanYi Zen Hei", serif; font-size: 10.5pt; line-height: 1.5; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 12pt; }
h2 { font-size: 14pt; margin: 16pt 0 6pt; } h3 { font-size: 12pt; margin: 12pt 0 4pt; }
table { border-collapse: collapse; table-layout: fixed; width: 100%; margin: 6pt 0; font-size: 9pt; }
th, td { border: 0.6pt solid #444; padding: 2pt 4pt; vertical-align: top; overflow-wrap: anywhere; }
th { background: #eee; } .pagebreak { page-break-after: always; }
p.note { font-size: 9pt; color: #333; }
"""


class _Block:
    def __init__(self, tag: str):
        self.tag, self.runs, self.rows = tag, [], []     # runs: [(text, bold)]


class _Parser(HTMLParser):
    """Flattens the restricted HTML into blocks: headings, paragraphs, list items, tables, page breaks."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self.cur: _Block | None = None
        self.table: _Block | None = None
        self.row: list | None = None
        self.cell: list | None = None
        self.bold = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("h1", "h2", "h3", "p", "li"):
            self.cur = _Block(tag)
        elif tag == "table":
            self.table = _Block("table")
        elif tag == "tr" and self.table is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = [tag == "th", []]
        elif tag in ("b", "strong"):
            self.bold += 1
        elif tag == "br":
            self._text("\n")
        elif tag == "div" and "pagebreak" in (a.get("class") or ""):
            self.blocks.append(_Block("pagebreak"))

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3", "p", "li") and self.cur is not None:
            self.blocks.append(self.cur)
            self.cur = None
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append((self.cell[0], "".join(t for t, _ in self.cell[1]).strip()))
            self.cell = None
        elif tag == "tr" and self.row is not None and self.table is not None:
            self.table.rows.append(self.row)
            self.row = None
        elif tag == "table" and self.table is not None:
            self.blocks.append(self.table)
            self.table = None
        elif tag in ("b", "strong"):
            self.bold = max(0, self.bold - 1)

    def _text(self, data):
        if self.cell is not None:
            self.cell[1].append((data, self.bold > 0))
        elif self.cur is not None:
            self.cur.runs.append((data, self.bold > 0))

    def handle_data(self, data):
        if self.cur is None and self.cell is None:
            return
        self._text(" ".join(data.split()) if "\n" in data else data)


def _set_cjk(style, font: str = CJK_FONT) -> None:
    from docx.oxml.ns import qn

    style.font.name = font
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    for k in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        rfonts.set(qn(k), font)


def html_to_docx(html: str, reference: Path | None = None) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Pt

    doc = Document(str(reference)) if reference else Document()
    if reference is None:
        for name in ("Normal", "Heading 1", "Heading 2", "Heading 3", "Title"):
            _set_cjk(doc.styles[name])
        doc.styles["Normal"].font.size = Pt(10.5)
    p = _Parser()
    p.feed(html)
    p.close()
    for b in p.blocks:
        if b.tag in ("h1", "h2", "h3"):
            h = doc.add_heading("".join(t for t, _ in b.runs).strip(), level=int(b.tag[1]) - (b.tag == "h1"))
            if b.tag == "h1":
                h.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif b.tag in ("p", "li"):
            para = doc.add_paragraph(style="List Bullet" if b.tag == "li" else None)
            for text, bold in b.runs:
                para.add_run(text).bold = bold or None
        elif b.tag == "pagebreak":
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        elif b.tag == "table" and b.rows:
            ncol = max(len(r) for r in b.rows)
            t = doc.add_table(rows=len(b.rows), cols=ncol)
            t.style = "Table Grid"
            for i, row in enumerate(b.rows):
                cells = t.rows[i].cells
                for j, (is_head, text) in enumerate(row):
                    cells[j].text = text
                    if is_head:
                        for r in cells[j].paragraphs[0].runs:
                            r.bold = True
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def html_to_pdf(html: str, css: str | None = None) -> bytes:
    import logging

    from weasyprint import CSS as WCSS
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return HTML(string=html).write_pdf(stylesheets=[WCSS(string=css or CSS)])


def wrap_html(body: str, title: str, css: str | None = None) -> str:
    from html import escape

    return (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{css or CSS}</style></head><body>{body}</body></html>")


def xlsx(sheets: list[tuple[str, list[str], list[list]]]) -> bytes:
    """Editable workbook: one sheet per (title, header, rows); header row bold and frozen."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title[:31])
        ws.freeze_panes = "A2"
        head = []
        for h in header:
            c = WriteOnlyCell(ws, value=h)
            c.font = bold
            head.append(c)
        ws.append(head)
        for r in rows:
            ws.append([_cell(ws, v) for v in r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(ws, v):
    """Text from a bank or a model stays text: never a formula, control characters dropped (XML forbids them)."""
    if not isinstance(v, str):
        return v
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if v[:1] != "=" and not ILLEGAL_CHARACTERS_RE.search(v):
        return v                 # plain text: openpyxl writes it as a string (fast path)
    c = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", v))
    c.data_type = "s"
    return c
