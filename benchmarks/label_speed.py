"""Benchmark (issue 19 item 5): labelling next to a plain copy, side by side in one run:

- `cp -r` (the I/O floor; coreutils cp uses reflink=auto and copy_file_range itself),
- `exiftool -stay_open` writing the same XMP property into new files,
- `cnai label embed -o OUT` (new copies: patched clones, group commit), with one worker and with `-j 2`
  (worker threads), once without a bytecode cache (how the earlier rounds ran it, see below), and once with
  round 5's one-descriptor JPEG copy turned off (`CNAI_LABEL_FASTCOPY=0`: the general route),
- `cnai label embed --in-place` twice: on files without room (first label: normal rewrite) and on files
  labelled before (relabel: header-only where the container has room),
- optionally the code of an earlier commit (`--before REV`, run from `git archive` of src/).

Inputs: the label benchmark's generated JPEGs (~1.1 MB) and MP4s (~50 MB; moov at the start, as
`+faststart` writes it, and a second MP4 set with moov at the end, as ffmpeg writes by default).
Every output is checked with `cnai label check`. Three measures per run: wall (until the tool exits),
durable (wall + `sync`), CPU (user+sys of the tool's processes). Best and median of --repeat runs,
interleaved; the load average is recorded before and after each set.

Bytecode: this machine's environment sets PYTHONDONTWRITEBYTECODE=1, so a cnai started there compiles all
of its modules from source on every run (~0.1 s of CPU). An installed cnai has its bytecode (pip compiles
it at install), so the cnai processes here run with PYTHONPYCACHEPREFIX=<work>/pycache (warmed up before
the clock starts; nothing is written into the source tree); one row keeps the old setting for comparison.

    .venv/bin/python benchmarks/label_speed.py [--jpegs 300] [--mp4s 10] [--repeat 5] [--before REV] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from label_bench import (  # noqa: E402 - the same inputs, exiftool set-up and timing helpers
    CNAI,
    EXIF_CFG,
    PRODUCER,
    ROOT,
    _done,
    _start,
    dir_bytes,
    make_inputs,
    run_cp,
    run_exiftool,
    sync,
    verify,
)


def _head() -> str:
    """The commit the measured code comes from (with '+changes' when the tree differs from it)."""
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"], capture_output=True,
                               text=True).stdout.strip()
        return rev + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def tool_env(work: Path, bytecode: bool = True, pythonpath: str | None = None) -> dict:
    """The environment of the cnai processes: with a bytecode cache outside the source tree (as an installed
    cnai has), or without one (every module compiled at start-up, as this machine's default makes it)."""
    env = dict(os.environ)
    env["CNAI_CACHE_DIR"] = str(work / "cnai-cache")
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / ("pycache-" + ("before" if pythonpath else "now")))
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def warm_up(env: dict, work: Path, sample: Path) -> None:
    """One untimed run: fills the bytecode and entry-point caches of this environment."""
    one = work / "warm-in"
    shutil.rmtree(one, ignore_errors=True)
    one.mkdir()
    shutil.copy(sample, one / sample.name)
    subprocess.run([*CNAI, "label", "embed", str(one), "--producer", PRODUCER, "-o", str(work / "warm-out"),
                    "--no-progress"], capture_output=True, env=env, check=True)
    shutil.rmtree(one)
    shutil.rmtree(work / "warm-out")


def run_cnai(src: Path, out: Path, env: dict | None = None, jobs: int = 1) -> tuple[float, float, float]:
    shutil.rmtree(out, ignore_errors=True)
    sync()
    t = _start()
    r = subprocess.run([*CNAI, "label", "embed", str(src), "--producer", PRODUCER, "-o", str(out),
                        "--no-progress", "-j", str(jobs)], capture_output=True, text=True, env=env)
    res = _done(t)
    if r.returncode != 0:
        raise SystemExit(f"cnai failed: {r.stderr[-500:]}")
    return res


def run_in_place(prepared: Path, work: Path, relabel: bool, env: dict | None = None) -> tuple[float, float, float]:
    """cnai --in-place on a fresh copy of `prepared` (the copy is made and synced before the clock starts)."""
    target = work / "inplace"
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(["cp", "-r", str(prepared), str(target)], check=True)
    sync()
    t = _start()
    args = ["--produce-id", "relabel-{n}"] if relabel else []
    r = subprocess.run([*CNAI, "label", "embed", str(target), "--producer", PRODUCER, "--in-place",
                        "--no-progress", *args], capture_output=True, text=True, env=env)
    res = _done(t)
    if r.returncode != 0:
        raise SystemExit(f"cnai --in-place failed: {r.stderr[-500:]}")
    return res


def routes(prepared: Path, work: Path) -> str:
    """How each file of a relabel was written (header-only vs rewrite), from the inode: an in-place edit keeps
    it, the atomic rewrite replaces the file."""
    target = work / "routes"
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(["cp", "-r", str(prepared), str(target)], check=True)
    before = {p.name: p.stat().st_ino for p in target.iterdir()}
    subprocess.run([*CNAI, "label", "embed", str(target), "--producer", PRODUCER, "--in-place", "--no-progress",
                    "--produce-id", "route-{n}"], capture_output=True, text=True, check=True)
    kept = sum(1 for p in target.iterdir() if before.get(p.name) == p.stat().st_ino)
    shutil.rmtree(target, ignore_errors=True)
    return f"{kept}/{len(before)} header-only"


def before_env(rev: str, work: Path) -> dict:
    old = work / f"src-{rev}"
    if not old.exists():
        old.mkdir(parents=True)
        tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=tar, check=True)
    return tool_env(work, pythonpath=str(old / "src"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jpegs", type=int, default=300)
    ap.add_argument("--mp4s", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--before", default=None, help="also run the code of this git revision")
    ap.add_argument("--sets", default="jpeg,mp4-first,mp4-last", help="which sets to run (comma-separated)")
    ap.add_argument("--work", default=None)
    ap.add_argument("--write", action="store_true", help="append the table to benchmarks/results/label.md")
    a = ap.parse_args()
    work = Path(a.work or tempfile.mkdtemp(prefix="cnai-label-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / "tc260.config"
    cfg.write_text(EXIF_CFG)
    jd, md = make_inputs(work, a.jpegs, a.mp4s)
    # moov-at-end copies of the MP4 set (ffmpeg's default layout)
    me = work / "mp4-end"
    if not me.exists():
        me.mkdir()
        one_end = work / "one-end.mp4"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(work / "one.mp4"), "-c", "copy",
                        str(one_end)], check=True)
        for i in range(a.mp4s):
            shutil.copy(one_end, me / f"vid{i:02d}.mp4")
    env_now = tool_env(work)
    env_nobc = tool_env(work, bytecode=False)
    env_general = {**env_now, "CNAI_LABEL_FASTCOPY": "0"}  # round 5's one-descriptor JPEG copy turned off
    env_old = before_env(a.before, work) if a.before else None
    for env in filter(None, (env_now, env_old)):
        warm_up(env, work, next(jd.iterdir()))
    rows = []
    sets = {"jpeg": ("JPEG ~1 MB", jd, a.jpegs), "mp4-first": ("MP4 ~50 MB, moov first", md, a.mp4s),
            "mp4-last": ("MP4 ~50 MB, moov last", me, a.mp4s)}
    for key in a.sets.split(","):
        name, d, n = sets[key]
        mb = dir_bytes(d) / 1024**2
        labelled = work / f"labelled-{d.name}"  # input for the relabel case: labelled once by cnai
        if not labelled.exists():
            run_cnai(d, labelled, env_now)
        def in_place(o: Path, src: Path, relabel: bool):
            o.mkdir(parents=True, exist_ok=True)
            return run_in_place(src, o, relabel, env_now)

        tools = [("cp -r", lambda o, d=d: run_cp(d, o)),
                 ("exiftool -stay_open", lambda o, d=d: run_exiftool(d, o, cfg)),
                 ("cnai copy (-o)", lambda o, d=d: run_cnai(d, o, env_now)),
                 ("cnai copy (-o) -j 2", lambda o, d=d: run_cnai(d, o, env_now, 2)),
                 ("cnai copy (-o), no bytecode cache", lambda o, d=d: run_cnai(d, o, env_nobc)),
                 ("cnai copy (-o), general route only", lambda o, d=d: run_cnai(d, o, env_general)),
                 ("cnai in-place, first label", lambda o, d=d: in_place(o, d, False)),
                 ("cnai in-place, relabel", lambda o, lab=labelled: in_place(o, lab, True))]
        if env_old:
            tools.insert(5, (f"cnai copy (-o), before ({a.before})", lambda o, d=d: run_cnai(d, o, env_old)))
        runs: dict[str, list] = {}
        load0 = os.getloadavg()[0]
        # Every tool writes into a folder of its own, and a round's outputs are deleted together before the
        # next round, followed by one untimed copy. Why: on this VM the first process to write after a large
        # delete paid up to ~1 CPU-s extra (a plain cp right after exiftool's outputs were deleted: 0.69-1.02
        # CPU-s instead of 0.13), and with a delete before every tool that cost fell on whichever tool came
        # next -- in earlier rounds usually the one-worker cnai row, which followed exiftool.
        rep_dir = work / "round"
        for rep in range(a.repeat):
            shutil.rmtree(rep_dir, ignore_errors=True)
            sync()
            rep_dir.mkdir()
            run_cp(d, rep_dir / "settle")  # untimed: absorbs the cost of reusing the memory just freed
            for i, (tool, fn) in enumerate(tools):
                o = rep_dir / f"t{i}"
                runs.setdefault(tool, []).append(fn(o))
                if rep == 0 and tool.startswith("cnai copy (-o)"):
                    verify(o, n)
        shutil.rmtree(rep_dir, ignore_errors=True)
        sync()
        load1 = os.getloadavg()[0]
        rows.append((name, n, mb, runs, routes(labelled, work), load0, load1))
    lines = [f"## Issue 19 (code at {_head()}): new copies next to cp ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             f"Script: `benchmarks/label_speed.py --jpegs {a.jpegs} --mp4s {a.mp4s} --repeat {a.repeat}"
             + (f" --before {a.before}" if a.before else "") + "`. Machine: "
             f"{os.cpu_count()} cores shared with other engineers' work, {platform.platform()}, file system "
             f"{_fstype(work)} ({_reflinks(work)}). {a.repeat} interleaved runs per tool; inputs in the page "
             "cache. **wall** = until the tool exits, **durable** = wall + `sync` (best and median of the runs), "
             "**CPU** = user+sys of the tool's processes (median). The ratios compare durable times with "
             "`cp -r` + `sync` of the same run (best with best, median with median). Each tool writes into a "
             "folder of its own; a round's outputs are deleted together before the next round, then one untimed "
             "copy runs (the first write after a large delete costs extra CPU on this VM). In-place runs work on a "
             "fresh copy made (and synced) before the clock starts. cnai runs with a bytecode cache unless the "
             "row says otherwise (see the script's docstring).", "",
             "| set | files | MB | tool | wall s (best) | durable s (best) | durable s (median) | CPU s (median) "
             "| durable / cp (best) | durable / cp (median) | load avg (1 min, start-end) |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for name, n, mb, runs, route, load0, load1 in rows:
        cp_best = min(d for _w, d, _c in runs["cp -r"])
        cp_med = statistics.median(d for _w, d, _c in runs["cp -r"])
        for tool, v in runs.items():
            w = min(x[0] for x in v)
            db, dm = min(x[1] for x in v), statistics.median(x[1] for x in v)
            cpu = statistics.median(x[2] for x in v)
            lines.append(f"| {name} | {n} | {mb:.0f} | {tool} | {w:.2f} | {db:.2f} | {dm:.2f} | {cpu:.2f} | "
                         f"{db / cp_best:.2f} | {dm / cp_med:.2f} | {load0:.1f}-{load1:.1f} |")
        lines.append(f"| {name} | | | relabel route (inode kept) | {route} | | | | | | |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.write:
        with open(ROOT / "benchmarks/results/label.md", "a", encoding="utf-8") as f:
            f.write("\n" + text)
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)


def _reflinks(work: Path) -> str:
    import fcntl

    a, b = work / ".reflink-probe-a", work / ".reflink-probe-b"
    a.write_bytes(b"x" * 4096)
    try:
        with open(a, "rb") as fa, open(b, "wb") as fb:
            fcntl.ioctl(fb.fileno(), 0x40049409, fa.fileno())  # FICLONE
        return "reflinks: cp and cnai share blocks instead of copying them"
    except OSError:
        return "no reflinks: copies fall back to copy_file_range"
    finally:
        a.unlink(missing_ok=True)
        b.unlink(missing_ok=True)


def _fstype(p: Path) -> str:
    r = subprocess.run(["stat", "-f", "-c", "%T", str(p)], capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


if __name__ == "__main__":
    sys.exit(main())
