"""Provenance benchmark (issue #17).

1. Import N PNGs of about 1 MB, each carrying a WebUI `parameters` chunk (or ComfyUI `prompt`), with
   `cnai provenance import` (the library call it wraps), side by side with `exiftool -j` reading the same
   chunks from the same files (exiftool -fast2 -PNG:all, one process, like our one process).
2. `verify` of a 100,000-entry log: hash chain only, and with Ed25519 signatures (all / last).

Files are built from one noisy ~1 MB image body with a different text chunk per file (byte-level, so the set
is quick to make); the page cache is warm for both tools (each reads the set once before timing).

Usage: python benchmarks/provenance_bench.py [--files 10000] [--entries 100000] [--out benchmarks/results/provenance.md]
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path


def chunk(typ: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + typ + body + struct.pack(">I", zlib.crc32(typ + body) & 0xFFFFFFFF)


def make_files(folder: Path, n: int) -> int:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    img = Image.fromarray(rng.integers(0, 256, (580, 580, 3), dtype=np.uint8))
    tmp = folder / "_base.png"
    img.save(tmp, compress_level=1)
    data = tmp.read_bytes()
    tmp.unlink()
    head, rest = data[:33], data[33:]  # signature + IHDR, then the image data and IEND
    for i in range(n):
        text = (f"portrait of a scholar in a bamboo grove, ink wash, variant {i % 50}\n"
                f"Negative prompt: blurry, lowres\nSteps: {20 + i % 10}, Sampler: Euler a, CFG scale: 7, "
                f"Seed: {1000 + i}, Size: 580x580, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly")
        (folder / f"{i:05d}.png").write_bytes(head + chunk(b"tEXt", b"parameters\x00" + text.encode()) + rest)
    return len(data)


def bench_import(n: int) -> dict:
    from cnai.provenance.importers import import_paths
    from cnai.provenance.store import Store

    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as d:
        d = Path(d)
        src = d / "png"
        src.mkdir()
        size = make_files(src, n)
        for f in src.iterdir():  # warm the page cache for both tools alike
            f.read_bytes()
        st = Store.init(d / "store")
        t0, c0 = time.perf_counter(), time.process_time()
        res = import_paths(st, [src], keep_files=False)
        t_cnai, cpu_cnai = time.perf_counter() - t0, time.process_time() - c0
        st.close()
        assert res["counts"]["imported"] == n, res["counts"]
        ex = None
        if shutil.which("exiftool"):
            t0 = time.perf_counter()
            out = subprocess.run(["exiftool", "-j", "-fast2", "-PNG:Parameters", "-r", str(src)],
                                 capture_output=True, text=True)
            ex = time.perf_counter() - t0
            assert out.stdout.count('"Parameters"') == n, "exiftool did not read every chunk"
        return {"files": n, "file_bytes": size, "cnai_s": t_cnai, "cnai_cpu_s": cpu_cnai, "exiftool_s": ex}


def bench_verify(n: int) -> dict:
    from cnai.provenance.store import Store

    out = {}
    for signed in (False, True):
        with tempfile.TemporaryDirectory() as d:
            if signed:
                os.environ["CNAI_PROVENANCE_SIGNING_KEY"] = base64.b64encode(os.urandom(32)).decode()
            else:
                os.environ.pop("CNAI_PROVENANCE_SIGNING_KEY", None)
            st = Store.init(Path(d) / "s")
            st.db.execute("PRAGMA synchronous=OFF")  # building the fixture only; verify reads it
            t0 = time.perf_counter()
            for i in range(n - 1):
                st.add("note", {"note": f"entry {i}", "seed": i})
            build = time.perf_counter() - t0
            for mode in (("none", "all", "last") if signed else ("all",)):
                t0 = time.perf_counter()
                res = st.verify(signatures=mode)
                out[f"verify_{'signed' if signed else 'unsigned'}_{mode}_s"] = time.perf_counter() - t0
                assert res.ok and res.entries == n
            out[f"build_{'signed' if signed else 'unsigned'}_s"] = build
            st.close()
    os.environ.pop("CNAI_PROVENANCE_SIGNING_KEY", None)
    out["entries"] = n
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--entries", type=int, default=100000)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    imp = bench_import(a.files)
    ver = bench_verify(a.entries)
    rate = imp["files"] / imp["cnai_s"]
    lines = [
        "# Provenance benchmark",
        "",
        f"Run {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
        f"`python benchmarks/provenance_bench.py --files {a.files} --entries {a.entries}`.",
        "",
        "| measure | result |",
        "|---|---|",
        f"| import {imp['files']:,} PNGs of {imp['file_bytes'] / 1e6:.2f} MB (WebUI parameters chunk), cnai | "
        f"{imp['cnai_s']:.1f} s wall, {imp['cnai_cpu_s']:.1f} CPU-s = **{rate:,.0f} files/s** |",
    ]
    if imp["exiftool_s"]:
        er = imp["files"] / imp["exiftool_s"]
        lines.append(f"| same files, `exiftool -j -fast2 -PNG:Parameters -r` | {imp['exiftool_s']:.1f} s = "
                     f"{er:,.0f} files/s → cnai is **{rate / er:.1f}×** |")
    lines += [
        f"| verify {ver['entries']:,} entries, unsigned (hash chain) | **{ver['verify_unsigned_all_s']:.2f} s** |",
        f"| verify {ver['entries']:,} signed entries, hash chain only (`--signatures none`) | {ver['verify_signed_none_s']:.2f} s |",
        f"| verify {ver['entries']:,} signed entries, last signature (`--signatures last`, default) | {ver['verify_signed_last_s']:.2f} s |",
        f"| verify {ver['entries']:,} signed entries, every signature (`--signatures all`) | {ver['verify_signed_all_s']:.2f} s |",
        "",
        "cnai's import includes the SHA-256 of every file (the evidence link), the chunk parse and one SQLite transaction per file; exiftool only reads the chunk. "
        "The import here runs with `keep_files=False` (the CLI default copies each file into the store's "
        "blobs/, which adds a file copy per image).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
