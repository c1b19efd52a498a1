"""The evidence report: the creative record laid out along the factors courts have weighed.

The factors follow the Beijing Internet Court's 2023 AI-image judgment as summarised in the knowledge
base (case-bjic-2023-ai-image-copyright): choice of model and parameters, development of the prompts,
iterations and what changed, selection among candidates, later editing. Every statement in the report is
a count or a value read from the log; where the log holds nothing for a factor, the report says so.
The report is evidence, not a legal opinion, and has a section on what the record cannot show.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from pathlib import Path

from cnai import __version__
from cnai.provenance.store import Store
from cnai.provenance.thumbs import distance, thumbnail_data_uri

CASE_ID = "case-bjic-2023-ai-image-copyright"

FACTORS = [  # (key, zh, en): the order of the report's sections
    ("model", "模型与参数的选择", "Choice of model and parameters"),
    ("prompts", "提示词的设计与演进", "Design and development of the prompts"),
    ("iterations", "迭代次数与每次的变化", "Iterations and what changed each time"),
    ("selection", "对候选结果的选择", "Selection among candidates"),
    ("editing", "后期编辑", "Later editing"),
]

LIMITS_ZH = [
    "记录只能证明录入时间之后未被改动；录入本身是否真实、完整，取决于录入者。",
    "导入的生成参数来自图片中的元数据，元数据可被生成工具以外的程序写入；本报告不能证明某一参数确实被使用过。",
    "哈希链可发现修改、删除和重排，但不能发现从未录入的步骤，也不能证明录入者就是创作者本人。",
    "若未配置签名密钥，记录时间来自本机时钟，未经第三方时间戳机构确认。",
    "是否构成作品、谁是作者，由法院依个案事实判断；本报告只整理证据，不构成法律意见。",
]
LIMITS_EN = [
    "The record proves only that entries were not changed after they were recorded; whether they are true "
    "and complete depends on the person who recorded them.",
    "Imported parameters come from image metadata, which programs other than the generator can write; the "
    "report cannot prove that a setting was actually used.",
    "The hash chain reveals changes, deletions and reordering, but not steps that were never recorded, and it "
    "does not prove that the recorder is the author.",
    "Without a signing key, recording times come from this computer's clock, not from a trusted time-stamping "
    "authority.",
    "Whether a work is protected and who its author is are for a court to decide on the facts; this report "
    "organises evidence and is not a legal opinion.",
]


def _case() -> dict | None:
    try:
        from cnai.law.kb import load

        c = load().cases.get(CASE_ID)
    except Exception:  # noqa: BLE001 - the report still stands without the citation
        return None
    if c is None:
        return None
    return {"id": c.id, "title_zh": c.title_zh, "title_en": c.title_en, "court": c.court,
            "case_number": c.case_number, "decided": c.decided.isoformat() if c.decided else None,
            "sources": list(c.sources)}


def build_context(store: Store, *, lang: str = "zh") -> dict:
    entries = store.entries()
    project = next((e.body for e in entries if e.kind == "project"), {})
    gens = [e for e in entries if e.kind == "generation"]
    selections = [e for e in entries if e.kind == "selection"]
    edits = [e for e in entries if e.kind == "edit"]
    attachments = [e for e in entries if e.kind == "attachment"]
    labels = [e for e in entries if e.kind == "label"]
    corrections = [e for e in entries if e.kind == "correction"]
    verify = store.verify()

    models = Counter(g.body.get("model") for g in gens if g.body.get("model"))
    samplers = Counter(g.body.get("sampler") for g in gens if g.body.get("sampler"))
    prompts: list[dict] = []
    seen_prompts: set[tuple] = set()
    for g in gens:
        key = (g.body.get("prompt"), g.body.get("negative_prompt"))
        if key not in seen_prompts:
            seen_prompts.add(key)
            prompts.append({"entry": g.id, "at": g.recorded_at, "prompt": g.body.get("prompt"),
                            "negative": g.body.get("negative_prompt")})
    lineages: dict[str, list] = {}
    for g in gens:
        lineages.setdefault(g.body.get("lineage", "-"), []).append(g)
    changes = Counter(c["field"] for g in gens for c in g.body.get("changes_from_previous", []))

    thumbs: dict[str, str | None] = {}

    def thumb(digest: str | None) -> str | None:
        if not digest:
            return None
        if digest not in thumbs:
            p = store.blob_path(digest)
            thumbs[digest] = thumbnail_data_uri(p) if p else None
        return thumbs[digest]

    candidates = []
    kept = {s.body.get("sha256"): s.body for s in selections}
    for g in gens:
        for o in g.body.get("outputs", []):
            sel = kept.get(o.get("sha256"))
            candidates.append({"entry": g.id, "name": o.get("name"), "sha256": o.get("sha256"),
                               "thumb": thumb(o.get("sha256")),
                               "decision": sel.get("decision") if sel else None,
                               "reason": sel.get("reason") if sel else None})
    edit_rows = []
    for e in edits:
        b = e.body
        edit_rows.append({"entry": e.id, "at": e.recorded_at, "tool": b.get("tool"), "description": b.get("description"),
                          "before": b.get("before_sha256"), "after": b.get("after_sha256"),
                          "distance": distance(b.get("before_dhash"), b.get("after_dhash")),
                          "thumb_before": thumb(b.get("before_sha256")), "thumb_after": thumb(b.get("after_sha256"))})
    finals = [c for c in candidates if c["decision"] == "final"] + [
        {"name": e["tool"], "sha256": e["after"], "thumb": e["thumb_after"]} for e in edit_rows[-1:]]
    factor_facts = {
        "model": {"models": models.most_common(), "samplers": samplers.most_common(),
                  "steps": sorted({g.body.get("steps") for g in gens if g.body.get("steps") is not None}),
                  "cfg": sorted({g.body.get("cfg") for g in gens if g.body.get("cfg") is not None}),
                  "loras": sorted({lo.get("name") for g in gens for lo in g.body.get("loras", []) or [] if lo.get("name")}),
                  "controlnets": sum(len(g.body.get("controlnets", []) or []) for g in gens)},
        "prompts": prompts,
        "iterations": {"generations": len(gens), "lineages": len(lineages), "changes": changes.most_common()},
        "selection": {"kept": sum(1 for s in selections if s.body.get("decision") == "keep"),
                      "discarded": sum(1 for s in selections if s.body.get("decision") == "discard"),
                      "final": sum(1 for s in selections if s.body.get("decision") == "final")},
        "editing": edit_rows,
    }
    empty = {"model": not models and not samplers, "prompts": not prompts, "iterations": not gens,
             "selection": not selections, "editing": not edit_rows}
    return {
        "lang": lang, "project": project, "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "version": __version__, "store": str(store.root), "entries": entries, "verify": verify.to_dict(),
        "factors": FACTORS, "facts": factor_facts, "empty": empty, "candidates": candidates, "finals": finals,
        "attachments": attachments, "labels": labels, "corrections": corrections, "case": _case(),
        "limits_zh": LIMITS_ZH, "limits_en": LIMITS_EN, "head": entries[-1].hash if entries else None,
        "public_key": store.meta("public_key"),
    }


def render_html(store: Store, *, lang: str = "zh") -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(**build_context(store, lang=lang))


def write_report(store: Store, html_out: str | os.PathLike | None = None, *, pdf: str | os.PathLike | None = None,
                 lang: str = "zh") -> dict:
    """Write the HTML and/or PDF report atomically; returns {"html": path, "pdf": path}."""
    from cnai.core.safeio import atomic_writer, write_text

    html = render_html(store, lang=lang)
    out: dict = {}
    inputs = [store.root / "provenance.sqlite"]
    if html_out:
        write_text(html_out, html, inputs=inputs)
        out["html"] = str(html_out)
    if pdf:
        from weasyprint import HTML

        with atomic_writer(pdf, inputs=inputs, binary=True) as fh:
            HTML(string=html, base_url=str(store.root)).write_pdf(fh)
        out["pdf"] = str(pdf)
    return out
