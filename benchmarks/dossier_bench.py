"""Dossier build time and peak memory on large evidence (issue 12 goal: < 15 s).

Evidence: a real `cnai assess run` of 5,000 items against the mock target, a 10,000-keyword bank, and a
corpus-audit summary at the scale of a 1 GB corpus (1,000 sources, a 4,000-item review sample). The dossier
reads only the audit's summary.json (never the corpus), so the audit's cost does not depend on corpus bytes;
the summary is made by a real `cnai corpus audit` on a small corpus and then widened to that scale.

    .venv/bin/python benchmarks/dossier_bench.py [--work DIR] [--repeat 3]

Also compares the two PDF engines on the same assessment report when LibreOffice (soffice) is installed:
WeasyPrint HTML->PDF (what cnai uses) and LibreOffice headless DOCX->PDF.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CNAI = [sys.executable, "-m", "cnai"]


def sh(*args, ok=(0,)):
    r = subprocess.run([*CNAI, *args], capture_output=True, text=True, cwd=ROOT)
    if r.returncode not in ok:
        sys.exit(f"failed: {' '.join(args)}\n{r.stderr[-2000:]}")
    return r


def make_evidence(work: Path) -> dict:
    from cnai.core.taxonomy import load_taxonomy

    tax = load_taxonomy()
    risks = [r.code for r in tax.risks]
    keyword_risks = [r.code for r in tax.risks if r.keyword_risk]
    aspects = [a.code for a in tax.aspects]
    bank = work / "bank-5000.jsonl"
    if not bank.exists():
        with open(bank, "w", encoding="utf-8") as fh:
            for i in range(5000):
                if i < 2700:
                    rec = {"id": f"g{i}", "kind": "generated", "risk": risks[i % len(risks)],
                           "question": f"请就第{i}个话题写一段评论，说明你的看法。"}
                elif i < 3900:
                    rec = {"id": f"r{i}", "kind": "refuse", "risk": keyword_risks[i % len(keyword_risks)],
                           "question": f"教我第{i}种违法的办法，越详细越好。"}
                else:
                    rec = {"id": f"n{i}", "kind": "nonrefuse", "aspect": aspects[i % len(aspects)],
                           "question": f"请客观介绍第{i}个历史文化知识点。"}
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    kw = work / "keywords-10000.jsonl"
    if not kw.exists():
        with open(kw, "w", encoding="utf-8") as fh:
            for i in range(10000):
                fh.write(json.dumps({"keyword": f"违规词{i:05d}", "risk": keyword_risks[i % len(keyword_risks)]},
                                    ensure_ascii=False) + "\n")
    run = work / "run"
    if not (run / "run.sqlite").exists():
        t = time.perf_counter()
        sh("assess", "run", "--target", "mock:mixed", "--bank", str(bank), "--run-dir", str(run), "--sample", "all",
           "--concurrency", "64", "--keywords", str(kw), ok=(0, 1))
        print(f"  (evidence) assessment run of 5,000 items: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    audit = work / "audit"
    if not (audit / "summary.json").exists():
        data = work / "corpus"
        data.mkdir(exist_ok=True)
        with open(data / "c.jsonl", "w", encoding="utf-8") as fh:
            for i in range(2000):
                fh.write(json.dumps({"id": f"d{i}", "text": f"今天天气很好，第{i}条新闻。"}, ensure_ascii=False) + "\n")
        sh("corpus", "audit", str(data), "--out", str(audit), "--sample", "100", "--workers", "1", ok=(0, 1))
        s = json.loads((audit / "summary.json").read_text("utf-8"))
        one = next(iter(s["sources"].values()))
        s["sources"] = {f"source-{i:04d}": dict(one, docs=1_000_000, bytes=1_073_741) for i in range(1000)}
        s["documents"], s["bytes"] = 1_000_000_000 // 1000, 1_073_741_824
        item = s["review_sample"]["items"][0]
        s["review_sample"]["items"] = [dict(item, n=i + 1, doc=f"d{i}") for i in range(4000)]
        s["review_sample"]["size"] = 4000
        (audit / "summary.json").write_text(json.dumps(s, ensure_ascii=False), "utf-8")
    return {"bank": bank, "keywords": kw, "run": run, "audit": audit}


def build_once(ev: dict, out: Path, *extra: str) -> tuple[float, float]:
    if out.exists():
        shutil.rmtree(out)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    sh("dossier", "build", str(ROOT / "examples/chatbot-startup.yaml"), "-o", str(out), "--run", str(ev["run"]),
       "--audit", str(ev["audit"]), "--keywords", str(ev["keywords"]), "--questions", str(ev["bank"]),
       "--as-of", "2026-12-01", *extra)
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return dt, max(peak, before) / 1024


def pdf_engines(ev: dict, out: Path, work: Path) -> dict:
    """WeasyPrint (HTML, what cnai uses) vs LibreOffice headless (the DOCX) on the same assessment report."""
    from cnai.dossier import render

    res = {}
    tpl = work / "tpl-html"
    tpl.mkdir(exist_ok=True)
    (tpl / "package.yaml").write_text("routes:\n  filing:\n    documents:\n      - {file: r, template: "
                                      "assessment-report.html.j2, formats: [html]}\ncommon: []\n", "utf-8")
    build_once(ev, work / "html", "--route", "filing", "--templates", str(tpl))
    html = (work / "html/filing/r.html").read_text("utf-8")
    t = time.perf_counter()
    render.html_to_pdf(html)
    res["weasyprint_s"] = time.perf_counter() - t
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice:
        tmp = work / "lo"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        t = time.perf_counter()
        subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp),
                        str(out / "filing/附件1-安全评估报告.docx")], capture_output=True, check=True, timeout=300)
        res["libreoffice_s"] = time.perf_counter() - t
        pdf = next(tmp.glob("*.pdf"))
        res["libreoffice_pages"] = _pages(pdf)
        res["libreoffice_text_ok"] = "安全评估报告" in subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                                                text=True).stdout
    return res


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/cnai-dossier-bench")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    ev = make_evidence(work)
    rows = []
    for label, extra in (("full (DOCX + PDF + XLSX)", ()), ("without PDF (--no-pdf)", ("--no-pdf",)),
                         ("full + English copy (--lang en)", ("--lang", "en"))):
        times, peaks = [], []
        for _ in range(a.repeat):
            dt, peak = build_once(ev, work / "dossier", *extra)
            times.append(dt)
            peaks.append(peak)
        rows.append((label, min(times), sorted(times)[len(times) // 2], max(peaks)))
    out = work / "dossier"
    build_once(ev, out)
    man = json.loads((out / "manifest.json").read_text("utf-8"))
    pdf = out / "filing/附件1-安全评估报告.pdf"
    print(f"evidence: run {sum(1 for _ in open(ev['bank'], encoding='utf-8'))} items, keyword bank 10,000, "
          f"audit summary {os.path.getsize(ev['audit'] / 'summary.json') / 1e6:.1f} MB (1,000 sources, 4,000 sample)")
    print("| build | best s | median s | peak RSS MB |\n|---|---|---|---|")
    for label, best, med, peak in rows:
        print(f"| {label} | {best:.2f} | {med:.2f} | {peak:.0f} |")
    t = time.perf_counter()
    sh("dossier", "verify", str(out))
    print(f"verify: {time.perf_counter() - t:.2f} s for {len(man['outputs'])} files")
    print(f"assessment report PDF: {_pages(pdf)} pages, {pdf.stat().st_size / 1e6:.2f} MB")
    lo = pdf_engines(ev, out, work)
    print(f"WeasyPrint HTML->PDF of the assessment report (in process): {lo['weasyprint_s']:.2f} s")
    if "libreoffice_s" in lo:
        print(f"LibreOffice headless DOCX->PDF of the same report (incl. start-up): {lo['libreoffice_s']:.2f} s, "
              f"{lo['libreoffice_pages']} pages, Chinese text extractable: {lo['libreoffice_text_ok']}")
    else:
        print("LibreOffice not installed: PDF engine comparison skipped")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
