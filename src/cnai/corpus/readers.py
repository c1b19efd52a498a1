"""Streaming corpus readers: JSONL, Parquet, CSV/TSV, plain text; directories; gzip and zstd.

Work is cut into *shards* (a byte range of an uncompressed line-oriented file, one Parquet row group,
or one whole compressed/CSV/text file) so it can run in parallel and resume shard by shard.
Reading a shard yields `Doc` records and `Skip` records; a skip names the file, the line/row or byte
offset and a reason, so nothing is dropped silently.

Encodings: UTF-8 is tried first, then GB18030 (a superset of GBK and GB2312), per line; `encoding=`
forces one codec. Lines longer than `max_line_bytes` are skipped (reason `line_too_long`) without
being held in memory.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from cnai.errors import InputError

JSONL_EXT = (".jsonl", ".ndjson", ".json")
TEXT_EXT = (".txt", ".text", ".md")
CSV_EXT = (".csv", ".tsv")
PARQUET_EXT = (".parquet", ".pq")
COMP_EXT = (".gz", ".zst", ".zstd")
DEFAULT_SHARD_BYTES = 32 * 1024 * 1024
DEFAULT_MAX_LINE = 16 * 1024 * 1024

SKIP_REASONS = (
    "invalid_encoding", "malformed_json", "not_an_object", "missing_field", "bad_field_type", "empty_text",
    "line_too_long", "empty_file", "unreadable_file", "unsupported_format", "decompression_error",
    "malformed_csv", "malformed_parquet", "processing_error", "cnai_output",
)


@dataclass(frozen=True)
class Shard:
    path: str
    fmt: str  # jsonl | text-lines | text-file | csv | tsv | parquet
    comp: str  # "" | gz | zst
    start: int  # byte offset, or row group index for parquet
    end: int  # byte end (exclusive), -1 for whole file
    first_line: int  # 1-based line number of the first line in the range
    source: str
    fingerprint: str  # size + mtime of the file, so a changed file is re-read on resume
    lines: int = -1  # lines (or Parquet rows) in the shard when known at planning time, else -1

    @property
    def id(self) -> str:
        h = hashlib.sha1(f"{self.path}|{self.start}|{self.end}|{self.fingerprint}".encode()).hexdigest()
        return h[:16]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Doc:
    id: str
    source: str
    text: str
    nbytes: int
    record: dict | None = None  # the original JSON object / row, for redacted output


@dataclass
class Skip:
    where: str
    reason: str
    detail: str = ""


@dataclass
class ReadOptions:
    text_field: str = "text"
    id_field: str | None = "id"
    source_field: str | None = None
    encoding: str | None = None
    text_unit: str = "file"  # for .txt: "file" (one doc per file) or "line"
    max_line_bytes: int = DEFAULT_MAX_LINE
    shard_bytes: int = DEFAULT_SHARD_BYTES


def _split_ext(path: Path) -> tuple[str, str]:
    name = path.name.lower()
    comp = ""
    for c in COMP_EXT:
        if name.endswith(c):
            comp = "gz" if c == ".gz" else "zst"
            name = name[: -len(c)]
            break
    ext = os.path.splitext(name)[1]
    return ext, comp


def _fmt_for(ext: str, opts: ReadOptions) -> str | None:
    if ext in JSONL_EXT:
        return "jsonl"
    if ext in CSV_EXT:
        return ext[1:]
    if ext in PARQUET_EXT:
        return "parquet"
    if ext in TEXT_EXT or ext == "":
        return "text-lines" if opts.text_unit == "line" else "text-file"
    return None


def expand_inputs(paths: list[str | Path], exclude: list[str | Path] = (),
                  skipped: list | None = None) -> list[tuple[Path, str]]:
    """(file, source name) for every input; a directory is walked recursively, in sorted order.

    Directories named in `exclude` (the command's own output) and any directory holding a cnai output
    marker are passed over, so outputs never become inputs; each is appended to `skipped` as a Skip."""
    from cnai.core.safeio import is_cnai_output_dir, is_within

    out: list[tuple[Path, str]] = []

    def excluded(d: Path) -> str | None:
        if any(is_within(d, e) for e in exclude if Path(e).exists()):
            return "this command's own output folder"
        if is_cnai_output_dir(d):
            return "a folder of cnai outputs (holds .cnai-output.json)"
        return None

    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputError("no such file or directory", path=str(p))
        source = p.name if p.is_dir() else p.name.split(".")[0]
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs.sort()
                kept = []
                for d in dirs:
                    if d.startswith("."):
                        continue
                    why = excluded(Path(root) / d)
                    if why:
                        if skipped is not None:
                            skipped.append(Skip(str(Path(root) / d), "cnai_output", f"skipped: {why}"))
                        continue
                    kept.append(d)
                dirs[:] = kept
                for f in sorted(files):
                    if not f.startswith("."):
                        out.append((Path(root) / f, source))
        else:
            out.append((p, source))
    return out


def plan_shards(paths: list[str | Path], opts: ReadOptions,
                exclude: list[str | Path] = ()) -> tuple[list[Shard], list[Skip]]:
    shards: list[Shard] = []
    skips: list[Skip] = []
    for path, source in expand_inputs(paths, exclude, skips):
        ext, comp = _split_ext(path)
        fmt = _fmt_for(ext, opts)
        try:
            st = path.stat()
        except OSError as exc:
            skips.append(Skip(str(path), "unreadable_file", str(exc)))
            continue
        fp = f"{st.st_size}:{int(st.st_mtime_ns)}"
        if fmt is None:
            skips.append(Skip(str(path), "unsupported_format", f"extension {ext or '(none)'}"))
            continue
        if st.st_size == 0:
            skips.append(Skip(str(path), "empty_file"))
            continue
        spath = str(path)
        if fmt == "parquet" and not comp:
            try:
                import pyarrow.parquet as pq

                n = pq.ParquetFile(spath).num_row_groups
            except Exception as exc:  # noqa: BLE001 - any parse failure is a bad file, not a crash
                skips.append(Skip(spath, "malformed_parquet", (str(exc).splitlines() or [""])[0][:200]))
                continue
            meta = pq.ParquetFile(spath).metadata
            for rg in range(n):
                shards.append(Shard(spath, fmt, "", rg, rg + 1, 1, source, fp, meta.row_group(rg).num_rows))
            continue
        if comp or fmt in ("csv", "tsv", "text-file", "parquet"):
            shards.append(Shard(spath, fmt, comp, 0, -1, 1, source, fp))
            continue
        # uncompressed line-oriented: cut at newlines every shard_bytes, counting lines on the way
        size = st.st_size
        start, line = 0, 1
        with open(spath, "rb") as fh:
            while start < size:
                target = start + opts.shard_bytes
                if target >= size:
                    end = size
                else:
                    fh.seek(target)
                    fh.readline()  # bounded by the file; finishes the current line
                    end = min(fh.tell(), size)
                nl = _count_newlines(fh, start, end)
                if end == size:  # a last line without a newline
                    fh.seek(size - 1)
                    nl += fh.read(1) != b"\n"
                shards.append(Shard(spath, fmt, "", start, end, line, source, fp, nl))
                line += nl
                start = end
    return shards, skips


def _count_newlines(fh, start: int, end: int) -> int:
    fh.seek(start)
    n, left = 0, end - start
    while left > 0:
        buf = fh.read(min(left, 8 * 1024 * 1024))
        if not buf:
            break
        n += buf.count(b"\n")
        left -= len(buf)
    return n


def _open_binary(shard: Shard):
    if shard.comp == "gz":
        return gzip.open(shard.path, "rb")
    if shard.comp == "zst":
        import zstandard

        fh = open(shard.path, "rb")
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh, closefd=True))
    return open(shard.path, "rb")


def _decode(raw: bytes, encoding: str | None) -> tuple[str | None, str]:
    """Decode one line: forced codec, or UTF-8 then GB18030. Returns (text or None, detail)."""
    if encoding:
        try:
            return raw.decode(encoding), ""
        except UnicodeDecodeError as exc:
            return None, f"not {encoding} at byte {exc.start}"
        except LookupError:
            raise InputError(f"unknown encoding {encoding!r}", field="--encoding") from None
    try:
        return raw.decode("utf-8"), ""
    except UnicodeDecodeError as exc:
        first = exc.start
    try:
        return raw.decode("gb18030"), ""
    except UnicodeDecodeError:
        return None, f"neither UTF-8 nor GB18030 (first bad UTF-8 byte at {first})"


def _iter_lines(shard: Shard, opts: ReadOptions) -> Iterator[tuple[int, int, bytes | None]]:
    """(line number, byte offset, raw line without newline | None when too long)."""
    limit = opts.max_line_bytes
    with _open_binary(shard) as fh:
        if shard.start and not shard.comp:
            fh.seek(shard.start)
        pos = shard.start if not shard.comp else 0
        lineno = shard.first_line
        end = shard.end
        while end < 0 or pos < end:
            raw = fh.readline(limit + 1)
            if not raw:
                break
            off = pos
            pos += len(raw)
            if len(raw) > limit and not raw.endswith(b"\n"):
                while True:  # drain the rest of an over-long line without keeping it
                    more = fh.readline(1024 * 1024)
                    pos += len(more)
                    if not more or more.endswith(b"\n"):
                        break
                yield lineno, off, None
            else:
                if raw.endswith(b"\n"):
                    raw = raw[:-1]
                    if raw.endswith(b"\r"):
                        raw = raw[:-1]
                yield lineno, off, raw
            lineno += 1


def _get_field(obj: dict, dotted: str):
    if "." not in dotted:
        return obj.get(dotted) if isinstance(obj, dict) else None
    cur = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def read_shard(shard: Shard, opts: ReadOptions) -> Iterator[Doc | Skip]:
    try:
        if shard.fmt == "jsonl":
            yield from _read_jsonl(shard, opts)
        elif shard.fmt == "text-lines":
            yield from _read_text_lines(shard, opts)
        elif shard.fmt == "text-file":
            yield from _read_text_file(shard, opts)
        elif shard.fmt in ("csv", "tsv"):
            yield from _read_csv(shard, opts)
        elif shard.fmt == "parquet":
            yield from _read_parquet(shard, opts)
    except (OSError, EOFError) as exc:
        reason = "decompression_error" if shard.comp else "unreadable_file"
        yield Skip(shard.path, reason, str(exc)[:200])
    except Exception as exc:
        if type(exc).__name__ == "ZstdError":
            yield Skip(shard.path, "decompression_error", str(exc)[:200])
        else:
            raise


def _fast_loads():
    """orjson.loads (about 3x faster) when installed; it takes UTF-8 bytes directly."""
    try:
        import orjson

        return orjson.loads, orjson.JSONDecodeError
    except ImportError:
        return None, ValueError


def _read_jsonl(shard: Shard, opts: ReadOptions) -> Iterator[Doc | Skip]:
    fast, fast_err = _fast_loads()
    if opts.encoding and codecs.lookup(opts.encoding).name != "utf-8":
        fast = None
    for item in _nonblank_lines(shard, opts):
        if isinstance(item, Skip):
            yield item
            continue
        where, off, raw = item
        if off == 0 and raw.startswith(b"\xef\xbb\xbf"):  # UTF-8 byte-order mark
            raw = raw[3:]
        obj = None
        if fast is not None:
            try:
                obj = fast(raw)
            except fast_err:
                obj = None  # not UTF-8, lone surrogates, or malformed: the exact path below decides
        if obj is None:
            line, detail = _decode(raw, opts.encoding)
            if line is None:
                yield Skip(where, "invalid_encoding", f"byte offset {off}: {detail}")
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                yield Skip(where, "malformed_json", f"byte offset {off}: {str(exc)[:120]}")
                continue
            except RecursionError:  # one hostile line is one bad line; the rest of the file is read
                yield Skip(where, "malformed_json", f"byte offset {off}: JSON nested too deeply")
                continue
        if not isinstance(obj, dict):
            yield Skip(where, "not_an_object", f"got {type(obj).__name__}")
            continue
        text = _get_field(obj, opts.text_field)
        if text is None:
            yield Skip(where, "missing_field", f"no field {opts.text_field!r}")
            continue
        yield _record_doc(where, obj, text, shard, opts, len(raw), obj)


def _nonblank_lines(shard: Shard, opts: ReadOptions) -> Iterator[tuple[str, int, bytes] | Skip]:
    """(where, byte offset, raw line) for every non-blank line; a Skip for a line over the size limit."""
    for lineno, off, raw in _iter_lines(shard, opts):
        where = f"{shard.path}:{lineno}"
        if raw is None:
            yield Skip(where, "line_too_long", f"line at byte {off} longer than {opts.max_line_bytes} bytes")
        elif raw.strip():
            yield where, off, raw


def _read_text_lines(shard: Shard, opts: ReadOptions) -> Iterator[Doc | Skip]:
    for item in _nonblank_lines(shard, opts):
        if isinstance(item, Skip):
            yield item
            continue
        where, off, raw = item
        line, detail = _decode(raw, opts.encoding)
        if line is None:
            yield Skip(where, "invalid_encoding", f"byte offset {off}: {detail}")
            continue
        yield Doc(where, shard.source, line, len(raw))


def _read_text_file(shard: Shard, opts: ReadOptions) -> Iterator[Doc | Skip]:
    with _open_binary(shard) as fh:
        raw = fh.read(opts.max_line_bytes + 1)
    if len(raw) > opts.max_line_bytes:
        yield Skip(shard.path, "line_too_long", f"file larger than {opts.max_line_bytes} bytes; use --text-unit line")
        return
    if not raw.strip():
        yield Skip(shard.path, "empty_file")
        return
    text, detail = _decode(raw, opts.encoding)
    if text is None and not opts.encoding:
        text = _guess_decode(raw)  # e.g. UTF-16 with a BOM, Big5: charset-normalizer's best guess
    if text is None:
        yield Skip(shard.path, "invalid_encoding", detail)
        return
    if text.startswith("\ufeff"):
        text = text[1:]
    yield Doc(shard.path, shard.source, text, len(raw))


def _read_csv(shard: Shard, opts: ReadOptions) -> Iterator[Doc | Skip]:
    csv.field_size_limit(opts.max_line_bytes)
    bad_rows: set[int] = set()
    state = {"line": 0}

    def lines():
        for lineno, _off, raw in _iter_lines(shard, opts):
            state["line"] = lineno
            if raw is None:
                bad_rows.add(lineno)
                yield ""
                continue
            text, _ = _decode(raw, opts.encoding)
            if text is None:
                bad_rows.add(lineno)
                text = raw.decode("utf-8", "replace")
            yield text.lstrip("\ufeff") if lineno == 1 else text

    reader = csv.reader(lines(), delimiter="\t" if shard.fmt == "tsv" else ",")
    try:
        header = next(reader)
    except StopIteration:
        yield Skip(shard.path, "empty_file")
        return
    except csv.Error as exc:
        yield Skip(shard.path, "malformed_csv", str(exc))
        return
    if opts.text_field not in header:
        yield Skip(shard.path, "missing_field", f"no column {opts.text_field!r} (columns: {', '.join(header)[:200]})")
        return
    ti = header.index(opts.text_field)
    ii = header.index(opts.id_field) if opts.id_field and opts.id_field in header else None
    si = header.index(opts.source_field) if opts.source_field and opts.source_field in header else None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield Skip(f"{shard.path}:{state['line']}", "malformed_csv", str(exc)[:200])
            continue
        lineno = state["line"]
        where = f"{shard.path}:{lineno}"
        if lineno in bad_rows:
            yield Skip(where, "invalid_encoding", "row is neither UTF-8 nor GB18030, or too long")
            continue
        if not row:
            continue
        if len(row) <= ti:
            yield Skip(where, "missing_field", f"row has {len(row)} columns")
            continue
        text = row[ti]
        if not text.strip():
            yield Skip(where, "empty_text")
            continue
        rec = dict(zip(header, row, strict=False))
        doc_id = row[ii] if ii is not None and ii < len(row) and row[ii] else where
        src = row[si] if si is not None and si < len(row) and row[si] else shard.source
        yield Doc(doc_id, src, text, len(text.encode("utf-8")), rec)


def _read_parquet(shard: Shard, opts: ReadOptions) -> Iterator[Doc | Skip]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(shard.path)
    names = pf.schema_arrow.names
    top = opts.text_field.split(".")[0]
    if top not in names:
        n = pf.metadata.row_group(shard.start).num_rows
        yield Skip(f"{shard.path}#rg{shard.start}", "missing_field",
                   f"no column {opts.text_field!r} in {n} rows (columns: {', '.join(names)[:200]})")
        return
    row0 = sum(pf.metadata.row_group(i).num_rows for i in range(shard.start))
    table = pf.read_row_group(shard.start)
    for batch in table.to_batches(max_chunksize=2048):
        for rec in batch.to_pylist():
            row0 += 1
            where = f"{shard.path}:{row0}"
            text = _get_field(rec, opts.text_field)
            if text is None:
                yield Skip(where, "missing_field", f"null {opts.text_field!r}")
                continue
            if isinstance(text, bytes):
                dec, detail = _decode(text, opts.encoding)
                if dec is None:
                    yield Skip(where, "invalid_encoding", detail)
                    continue
                text = dec
            yield _record_doc(where, rec, text, shard, opts, None, None)


def _record_doc(where: str, rec: dict, text: object, shard: Shard, opts: ReadOptions, nbytes: int | None,
                payload: dict | None) -> Doc | Skip:
    """The checks and Doc every record reader shares, once the text field has been pulled out.

    `nbytes`/`payload` None: count the text's UTF-8 bytes and keep a JSON-safe copy of the record.
    """
    if not isinstance(text, str):
        return Skip(where, "bad_field_type", f"field {opts.text_field!r} is {type(text).__name__}")
    if not text.strip():
        return Skip(where, "empty_text")
    doc_id = _get_field(rec, opts.id_field) if opts.id_field else None
    src = _get_field(rec, opts.source_field) if opts.source_field else None
    return Doc(str(doc_id) if doc_id is not None else where, str(src) if src else shard.source, text,
               len(text.encode("utf-8")) if nbytes is None else nbytes,
               _jsonable(rec) if payload is None else payload)


def _jsonable(rec: dict) -> dict:
    out = {}
    for k, v in rec.items():
        if isinstance(v, (str, int, float, bool)) or v is None:
            out[k] = v
        elif isinstance(v, bytes):
            out[k] = v.decode("utf-8", "replace")
        else:
            out[k] = str(v)
    return out


def _guess_decode(raw: bytes) -> str | None:
    """Whole-file fallback when neither UTF-8 nor GB18030 fits: charset-normalizer's best guess."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:
        return None
    best = from_bytes(raw).best()
    return str(best) if best is not None else None
