"""Per-JPEG CPU of each step of the one-descriptor copy (cnai.label.fastcopy), in process, modules loaded.

    .venv/bin/python benchmarks/label_stages.py [DIR_OF_JPEGS]

Without DIR, 200 copies of the benchmark's 1.1 MB JPEG are generated in a temporary folder. Prints
microseconds of process CPU per file for each step (the steps the batch runs for a new labelled copy,
without the kernel copy itself), then the whole batch in process (user / sys CPU-s per run), so the
Python share can be told from the kernel's. Used in issue 19 round 6 to decide what a C extension could
still save (notes/issue-19-round6.md).
"""

from __future__ import annotations

import io
import os
import resource
import shutil
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _per_file(name: str, files: list, fn) -> None:
    t0 = time.process_time()
    for f in files:
        fn(f)
    print(f"  {name:36s} {(time.process_time() - t0) / len(files) * 1e6:7.1f} us/file")


def main() -> None:
    from cnai.cli import main as cnai_main
    from cnai.cli._common import emit_jsonl
    from cnai.label import fastcopy, inplace
    from cnai.label.api import AIGCLabel, _labels, new_produce_id
    from cnai.label.formats.base import WriteOpts
    from cnai.label.formats.images import jpeg_read, jpeg_write

    work = Path(tempfile.mkdtemp(prefix="cnai-label-stages-"))
    try:
        if len(sys.argv) > 1:
            src = Path(sys.argv[1])
        else:
            from label_speed import make_inputs

            src, _ = make_inputs(work, 200, 0)
        files = sorted(str(p) for p in src.iterdir() if p.is_file())[:300]
        fastcopy.open_source(files[0]).close()  # carriers loaded once (start-up, not per file)
        print(f"{len(files)} files from {src}, load {os.getloadavg()[0]:.2f}")
        _per_file("open + fstat + sniff + header", files, lambda f: fastcopy.open_source(f).close())
        srcs = [fastcopy.open_source(f) for f in files]
        try:
            it = iter(srcs)
            _per_file("label scan of the header", files, lambda f: next(it).scan())
            it = iter(srcs)
            _per_file("damage check (tail pread)", files, lambda f: next(it).damage())
            scans = [s.scan() for s in srcs]
            it = iter(scans)
            _per_file("old label from the scan", files, lambda f: _labels("jpeg", next(it)))
            _per_file(
                "new ProduceID + label JSON",
                files,
                lambda f: AIGCLabel(Label="1", ContentProducer="b", ProduceID=new_produce_id()).to_json(),
            )
            js = AIGCLabel(Label="1", ContentProducer="b", ProduceID=new_produce_id()).to_json()
            it = iter(srcs)
            _per_file(
                "header-only plan", files, lambda f: inplace.plan_jpeg_head(next(it).head, js, WriteOpts())
            )
            it = iter(srcs)
            _per_file(
                "header rewrite (jpeg_write)",
                files,
                lambda f: jpeg_write(next(it).head + b"\xff\xda", js, WriteOpts()),
            )
            new = iter([jpeg_write(s.head + b"\xff\xda", js, WriteOpts()) for s in srcs])
            _per_file(
                "read-back parse of the label",
                files,
                lambda f: _labels("jpeg", jpeg_read(next(new), traces=False)),
            )
            rec = {
                "path": files[0],
                "output": "o",
                "format": "jpeg",
                "label": {"Label": "1"},
                "status": "labelled",
            }
            with redirect_stdout(io.StringIO()):
                t0 = time.process_time()
                for _ in files:
                    emit_jsonl(rec)
                dt = time.process_time() - t0
            print(f"  {'record line (jsonl)':36s} {dt / len(files) * 1e6:7.1f} us/file")
        finally:
            for s in srcs:
                s.close()
        print("whole batch in process (`embed DIR -o OUT`), user / sys / wall s per run:")
        for i in range(4):
            out = work / f"out{i}"
            os.sync()
            r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            with redirect_stdout(io.StringIO()):
                try:
                    cnai_main(
                        ["label", "embed", str(src), "--producer", "b", "-o", str(out), "--no-progress"]
                    )
                except SystemExit:
                    pass
            r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            shutil.rmtree(out)
            print(
                f"  run {i}: {r1.ru_utime - r0.ru_utime:.3f} / {r1.ru_stime - r0.ru_stime:.3f} / {t1 - t0:.3f}"
                f"{'  (warm-up)' if i == 0 else ''}  load {os.getloadavg()[0]:.2f}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
