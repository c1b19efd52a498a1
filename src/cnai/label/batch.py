"""Batch plumbing: expand paths (recursively), map output paths, run in parallel workers, count skips."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
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
    """One item; outputs it staged for the group commit travel with its record (dropped if it failed)."""
    from cnai.label import inplace

    fn, item = args
    rec = fn(item)
    staged = inplace.take_pending()
    if staged:
        if isinstance(rec, dict) and not rec.get("error"):
            rec["_staged"] = staged
        else:
            inplace.discard(staged)
    return rec


class Interrupted(Exception):  # noqa: N818 - a stop request, not a failure
    """SIGINT/SIGTERM arrived: the batch stopped between files (finished files are kept, none half-written)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class _StopFlag:
    """SIGINT/SIGTERM handlers that only note the signal; the batch loop stops at the next file boundary, so no
    output is left half-written and worker processes are shut down, not orphaned."""

    def __init__(self):
        self.signum: int | None = None
        self._old: dict[int, object] = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._note)
        return self

    def _note(self, signum, _frame):
        if self.signum is None:
            self.signum = signum

    def __exit__(self, *exc):
        for sig, h in self._old.items():
            signal.signal(sig, h)
        return False


def _worker_init() -> None:
    # workers leave stopping to the main process (a terminal's Ctrl-C reaches the whole process group)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def run(items: list, fn: Callable, *, workers: int = 1, progress: bool | None = None,
        desc: str = "files", threads: bool = False) -> Iterable[dict]:
    """Yield fn(item) for each item, in input order, with an optional rich progress bar on stderr.
    Raises Interrupted at a file boundary when SIGINT/SIGTERM arrives.

    workers > 1 runs items in forked worker processes, or on worker threads when `threads` (for item
    functions that are thread-safe: labelling a new copy spends most of its time in system calls -- file
    creation, the in-kernel copy -- that release the GIL, so two threads keep two cores busy without the
    processes' start-up and record pickling)."""
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
    from cnai.core.safeio import new_file_mode
    from cnai.label import inplace

    group = inplace.GroupCommit()
    inplace.staging(True, file_mode=new_file_mode())
    with _StopFlag() as stop:
        if threads and workers > 1 and len(items) > 1:
            results = _threaded(items, fn, workers, stop)
        elif workers > 1 and len(items) > 1:
            results = _processes(items, fn, workers, stop)
        else:
            results = _serial(items, fn, stop)
        done = 0
        try:
            # one tail for every way of running: each results iterator stops yielding after a stop request
            # (having reported what it started), so the batch ends at a file boundary
            for rec in results:
                done += 1
                if bar:
                    bar.advance(task)
                yield from group.add(rec)
            yield from group.flush()
            if stop.signum is not None and done < len(items):
                raise Interrupted(stop.signum)
        finally:
            results.close()  # shuts a pool down (its unstarted items cancelled) before the commit below
            inplace.staging(False)
            # a generator closed early (or an error) still puts finished outputs in place, never half of one
            inplace.commit([s for r in group.records for s in r.pop("_staged", ())])
            if bar:
                bar.stop()


def _serial(items: list, fn: Callable, stop: _StopFlag) -> Iterator[dict]:
    for it in items:
        if stop.signum is not None:
            return
        yield _call((fn, it))


def _processes(items: list, fn: Callable, workers: int, stop: _StopFlag) -> Iterator[dict]:
    """Items in forked worker processes, results in input order; after a stop request no further result is
    taken (the pool's unstarted items are cancelled on shutdown)."""
    # imported here: concurrent.futures.process costs ~20 ms of start-up that -j1 does not need
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ex = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork"), initializer=_worker_init)
    try:
        chunk = max(1, min(16, len(items) // (workers * 4) or 1))
        for rec in ex.map(_call, [(fn, it) for it in items], chunksize=chunk):
            yield rec
            if stop.signum is not None:
                return
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


_END = object()


def _threaded(items: list, fn: Callable, workers: int, stop: _StopFlag) -> Iterator[dict]:
    """Items on `workers` threads, results in input order; a bounded window of submitted items keeps memory
    flat. On SIGINT/SIGTERM items not yet started are cancelled, running ones finish and are yielded (an
    in-place edit that happened is never left unreported)."""
    import itertools
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    todo = iter(items)
    ex = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cnai-item")
    try:
        window = deque(ex.submit(_call, (fn, it)) for it in itertools.islice(todo, workers * 4))
        while window:
            fut = window.popleft()
            if stop.signum is not None:
                for f in window:
                    f.cancel()
            elif (nxt := next(todo, _END)) is not _END:
                window.append(ex.submit(_call, (fn, nxt)))
            if not fut.cancelled():
                yield fut.result()
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


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
