"""Batch plumbing: expand paths (recursively), map output paths, run in parallel workers, count skips."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def expand(paths: Iterable[str], outdir: str | None = None) -> list[tuple[str, str | None]]:
    """[(file, output path or None)] in a stable order. Directories are walked recursively; hidden entries
    and our own temp files are skipped; an output directory inside an input directory is not re-read."""
    out: list[tuple[str, str | None]] = []
    skip_dir = os.path.abspath(outdir) if outdir else None
    seen_dst: set[str] = set()
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and
                                 os.path.abspath(os.path.join(root, d)) != skip_dir)
                for f in sorted(files):
                    if f.startswith("."):
                        continue
                    src = os.path.join(root, f)
                    dst = os.path.join(outdir, os.path.relpath(src, p)) if outdir else None
                    out.append((src, dst))
        else:
            out.append((p, os.path.join(outdir, os.path.basename(p)) if outdir else None))
    res = []
    for src, dst in out:
        if dst is not None:
            key = os.path.abspath(dst)
            if key in seen_dst:
                dst = "\x00duplicate"
            seen_dst.add(key)
        res.append((src, dst))
    return res


def _call(args):
    fn, item = args
    return fn(item)


def run(items: list, fn: Callable, *, workers: int = 1, progress: bool | None = None,
        desc: str = "files") -> Iterable[dict]:
    """Yield fn(item) for each item, in input order, with an optional rich progress bar on stderr."""
    if progress is None:
        progress = sys.stderr.isatty()
    bar = None
    if progress and items:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(TextColumn(desc), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       console=Console(stderr=True), transient=True)
        task = bar.add_task(desc, total=len(items))
        bar.start()
    try:
        if workers > 1 and len(items) > 1:
            import multiprocessing as mp

            with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as ex:
                for rec in ex.map(_call, [(fn, it) for it in items], chunksize=max(1, min(16, len(items) //
                                                                                          (workers * 4) or 1))):
                    if bar:
                        bar.advance(task)
                    yield rec
        else:
            for it in items:
                rec = fn(it)
                if bar:
                    bar.advance(task)
                yield rec
    finally:
        if bar:
            bar.stop()


class Tally:
    def __init__(self, verb: str):
        self.verb = verb
        self.n = 0
        self.status: Counter = Counter()
        self.skips: Counter = Counter()

    def add(self, rec: dict, status: str | None = None) -> None:
        self.n += 1
        if rec.get("error"):
            self.status["errors"] += 1
            self.skips[rec.get("skip_reason") or "error"] += 1
        elif rec.get("skip_reason"):
            self.status["skipped"] += 1
            self.skips[rec["skip_reason"]] += 1
        else:
            self.status[status or rec.get("status") or "ok"] += 1

    def line(self) -> str:
        parts = [f"{v} {k}" for k, v in sorted(self.status.items())]
        s = f"summary: {self.verb}: {self.n} files" + (": " + ", ".join(parts) if parts else "")
        if self.skips:
            s += " (skips by reason: " + ", ".join(f"{k}: {v}" for k, v in sorted(self.skips.items())) + ")"
        return s


def same_dir_outputs(outdir: str) -> None:
    Path(outdir).mkdir(parents=True, exist_ok=True)
