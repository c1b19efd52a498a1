"""Duties with their deadline state, and the action list (XLSX/CSV) and deadline calendar (iCalendar)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

COLUMNS = ["id", "title", "instrument", "citations", "actor", "status", "state", "due", "deadline", "done_on",
           "owner", "evidence", "confidence", "source"]


def duty_rows(scope: dict, done: dict[str, dict], today: dt.date) -> list[dict[str, Any]]:
    """One row per duty with state: done / overdue / due / no_date (applies) or needs_info / not_applicable."""
    rows = []
    for o in scope["obligations"]:
        mark = done.get(o["id"])
        if o["status"] == "applies":
            if mark:
                state = "done"
            elif o.get("due"):
                state = "overdue" if dt.date.fromisoformat(o["due"]) < today else "due"
            else:
                state = "no_date"
        else:
            state = o["status"]
        rows.append({**o, "state": state, "done_on": mark["done_on"] if mark else None,
                     "owner": mark["owner"] if mark else None,
                     "evidence_upload": mark["evidence_upload"] if mark else None})
    return rows


def _flat(r: dict) -> list[str]:
    vals = {**r, "citations": "; ".join(r.get("citations") or []), "evidence": r.get("evidence_upload") or ""}
    return ["" if vals.get(c) is None else str(vals.get(c)) for c in COLUMNS]


def _safe_cell(v: str) -> str:
    """Spreadsheet formula injection: a cell starting with = + - @ is shown as text."""
    return "'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v


def actions_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([_safe_cell(v) for v in _flat(r)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM so Excel reads UTF-8 Chinese


def actions_xlsx(rows: list[dict], title: str) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "actions"
    ws.append(COLUMNS)
    for r in rows:
        ws.append([_safe_cell(v) for v in _flat(r)])
    for col, width in zip("ABCDEFGHIJKLMN", (34, 40, 16, 28, 12, 12, 10, 12, 30, 12, 14, 20, 12, 30), strict=False):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    wb.properties.title = title[:200]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _ics_text(s: str) -> str:
    return s.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r", "").replace("\n", "\\n")


def _fold(line: str) -> str:
    """RFC 5545 3.1: lines longer than 75 octets are folded (never inside a UTF-8 character)."""
    out, cur = [], b""
    for ch in line:
        b = ch.encode("utf-8")
        if len(cur) + len(b) > 74:
            out.append(cur.decode("utf-8"))
            cur = b" " + b
        else:
            cur += b
    out.append(cur.decode("utf-8"))
    return "\r\n".join(out)


def deadlines_ics(rows: list[dict], service_id: int, service_name: str, now: dt.datetime | None = None) -> bytes:
    now = now or dt.datetime.now(dt.UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//cnai//web workspace//EN", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{_ics_text('cnai deadlines — ' + service_name)}"]
    for r in rows:
        if r["status"] != "applies" or not r.get("due"):
            continue
        day = dt.date.fromisoformat(r["due"])
        summary = f"[{r['state']}] {r['title']}"
        desc = f"{r.get('deadline') or ''}\nCitations: {', '.join(r.get('citations') or [])}\n" \
               f"Confidence: {r['confidence']}\nSource: {r.get('source') or ''}"
        lines += ["BEGIN:VEVENT", f"UID:{r['id']}@service-{service_id}.cnai", f"DTSTAMP:{stamp}",
                  f"DTSTART;VALUE=DATE:{day.strftime('%Y%m%d')}",
                  f"DTEND;VALUE=DATE:{(day + dt.timedelta(days=1)).strftime('%Y%m%d')}",
                  f"SUMMARY:{_ics_text(summary)}", f"DESCRIPTION:{_ics_text(desc)}",
                  f"STATUS:{'CONFIRMED' if r['state'] != 'done' else 'CANCELLED'}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(_fold(x) for x in lines) + "\r\n").encode("utf-8")
