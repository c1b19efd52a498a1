"""Tamper-evident request log: per worker one hash chain, stored as a series of SQLite segments.

hash(n) = sha256(hash(n-1) || canonical JSON of [seq, ts, worker, kind, data]); record 1 chains to 64 zeros
(cnai.core.chain). SQLite in WAL mode commits each record before the response completes, so a kill -9 loses at
most the request in flight and never leaves a half-written record (synchronous=NORMAL is durable against
process crashes; CNAI_GATEWAY_SYNC=FULL against power loss too).

Files in the log directory, per worker W:
- chain-W.000001.sqlite, chain-W.000002.sqlite ...: segments. A new segment starts when the current one
  reaches rotate_records records, rotate_bytes bytes or rotate_seconds of age; numbering and hashes run on
  across segments (the first record of a segment is a segment_start event naming the previous head).
  A chain-W.sqlite from before rotation existed is read as segment 0.
- chain-W.pruned.json: the tombstone of segments deleted after the retention period: which records (numbers,
  times, head hash) were removed, when and why; its own hash (and signature) covers all of that. Verification
  resumes from its last hash, so pruning is stated, not mistaken for tampering.
- chain-W.head.json: with CNAI_GATEWAY_SIGNING_KEY (Ed25519) set, the signed head (number + hash of the newest
  record), refreshed at most every head_every_s seconds, on rotation and on shutdown.

Limits: without signed heads, deleting the newest records (or the newest segment) leaves a valid shorter chain,
and anyone with write access can rewrite a whole chain and its tombstone consistently. A signed head makes both
detectable against a pinned public key, except the records written after the last signed head.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson

from cnai.core.chain import GENESIS, LinkChecker, canonical, sha256_hex

SIGNING_ENV = "CNAI_GATEWAY_SIGNING_KEY"
_SCHEMA = """CREATE TABLE IF NOT EXISTS records (
  seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, worker TEXT NOT NULL, kind TEXT NOT NULL,
  data TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL)"""
_SEGMENT = re.compile(r"^chain-(?P<worker>.+?)(?:\.(?P<n>\d{6}))?\.sqlite$")
_PROBLEMS = {"link": "prev hash does not match the previous record",
             "content": "content does not match its hash (edited)",
             "malformed": "record data is not valid JSON (edited)"}


# a number token orjson writes differently from json.dumps: 0.00001 (json: 1e-05) or an exponent (json: e-07,
# e+16; orjson: e-7, e16). Matching only after , : [ means a string rarely matches; when one does, json is used.
_ORJSON_DIFFERS = re.compile(rb"[:,\[]-?(?:0\.0000|[0-9.]+[eE])").search


def _literal_differs(out: bytes) -> bool:
    """The same test by two substring searches (~3x cheaper than the regex) where orjson writes positive
    exponents as json does (1e+16): then only 0.0000x and negative exponents differ. "e-" and "0.0000" in a
    string also match (json is then used, same text); SHA-256 hex never holds "e-"."""
    return b"0.0000" in out or b"e-" in out


# checked once at import, so an orjson that writes positive exponents otherwise keeps the regex
if all(orjson.dumps(x) == json.dumps(x).encode() for x in (1e16, 1.5e300, -2.5e22, 1.2345678901234568e+17)):
    _ORJSON_DIFFERS = _literal_differs  # noqa: F811


def _dumps(obj) -> str:
    """Canonical JSON (cnai.core.chain.canonical's text). orjson writes the same bytes ~3x cheaper for what a
    record holds (str, int, bool, None, short floats, dicts, lists), sorted by the same order (UTF-8 byte order
    is code-point order); json is used for what orjson refuses (ints beyond 64 bits, non-str keys, lone
    surrogates) or writes differently (the number forms above). NaN/inf become null (json would write NaN,
    which is not JSON); either way the stored text re-canonicalises to itself, which is what the hash needs."""
    try:
        out = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        out = None
    if out is None or _ORJSON_DIFFERS(out):
        return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return out.decode()


def record_hash(prev: str, seq: int, ts: str, worker: str, kind: str, data: str) -> str:
    return sha256_hex(prev.encode() + canonical([seq, ts, worker, kind, json.loads(data)]))


_PLAIN = re.compile(r"[0-9A-Za-z_.:+\- ]*").fullmatch


def _q(s: str) -> str:
    """_dumps of a str: a string of only these characters needs no escaping, so it is just quoted."""
    return f'"{s}"' if _PLAIN(s) else _dumps(s)


_QUOTED: dict[str, str] = {}      # worker and kind names: a handful per process


def _fast_hash(prev: str, seq: int, ts: str, worker: str, kind: str, body: str, ts_plain: bool = False) -> str:
    """record_hash for a body that is already canonical JSON (what append writes): same bytes, no re-parse.
    ts_plain: ts is iso()'s output (digits, - : . + T only), which needs no escaping."""
    qw = _QUOTED.get(worker)
    if qw is None:
        qw = _QUOTED[worker] = _q(worker)
    qk = _QUOTED.get(kind)
    if qk is None:
        qk = _QUOTED[kind] = _q(kind)
    if len(_QUOTED) > 1024:
        _QUOTED.clear()
    qt = f'"{ts}"' if ts_plain else _q(ts)
    return sha256_hex(f"{prev}[{seq},{qt},{qw},{qk},{body}]".encode())


_ISO_SECOND: list = [None, ""]       # [whole second, its "YYYY-MM-DDTHH:MM:SS" text]


def second_text(whole: float) -> str:
    """"YYYY-MM-DDTHH:MM:SS" (UTC) of a whole second since 1970, the last one cached: records and log lines
    are stamped many times a second, and strftime per stamp was a measurable share of a request."""
    c = _ISO_SECOND
    if c[0] != whole:
        c[1], c[0] = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S"), whole
    return c[1]


def iso(t: float) -> str:
    """datetime.fromtimestamp(t, UTC).isoformat(timespec="microseconds"), the date and time text of the
    second cached: the same rounding (modf, then microseconds rounded half to even, as datetime does)."""
    frac, whole = math.modf(t)
    us = round(frac * 1e6)
    if us >= 1_000_000 or frac < 0:       # rounded up to the next second, or before 1970: the general way
        return datetime.fromtimestamp(t, UTC).isoformat(timespec="microseconds")
    return f"{second_text(whole)}.{us:06d}+00:00"


def now_iso() -> str:
    return iso(time.time())


def segment_path(log_dir: str, worker: str, n: int) -> str:
    return os.path.join(log_dir, f"chain-{worker}.sqlite" if n == 0 else f"chain-{worker}.{n:06d}.sqlite")


def head_path(log_dir: str, worker: str) -> str:
    return os.path.join(log_dir, f"chain-{worker}.head.json")


def tombstone_path(log_dir: str, worker: str) -> str:
    return os.path.join(log_dir, f"chain-{worker}.pruned.json")


def segments(log_dir: str) -> dict[str, list[tuple[int, str]]]:
    """{worker: [(segment number, path), ...] oldest first}."""
    out: dict[str, list[tuple[int, str]]] = {}
    try:
        names = os.listdir(log_dir)
    except OSError:
        return out
    for name in names:
        m = _SEGMENT.match(name)
        if m:
            out.setdefault(m["worker"], []).append((int(m["n"] or 0), os.path.join(log_dir, name)))
    return {w: sorted(v) for w, v in sorted(out.items())}


def chains(log_dir: str) -> list[str]:
    """Every segment file of every chain."""
    return [p for segs in segments(log_dir).values() for _n, p in segs]


# ---------------------------------------------------------------------------------------------- signing
def load_signer():
    """The Ed25519 head-signing key from CNAI_GATEWAY_SIGNING_KEY, or None when it is not set."""
    if not os.environ.get(SIGNING_ENV):
        return None
    from cnai.errors import InputError
    from cnai.label.integrity import key_alg, load_private_key
    priv = load_private_key(SIGNING_ENV)
    if key_alg(priv) != "ed25519":
        raise InputError("chain heads are signed with Ed25519 only", field=SIGNING_ENV)
    return priv


def _head_message(h: dict) -> bytes:
    return f"cnai-gateway-head|{h['worker']}|{h['seq']}|{h['hash']}|{h['ts']}".encode()


def _sign(priv, msg: bytes) -> dict:
    from cnai.label.integrity import b64u, public_b64
    return {"alg": "ed25519", "public_key": public_b64(priv), "sig": b64u(priv.sign(msg))}


def _sig_ok(public_key: str, sig: str, msg: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from cnai.label.integrity import unb64u
    try:
        Ed25519PublicKey.from_public_bytes(unb64u(public_key)).verify(unb64u(sig), msg)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def _write_json(path: str, obj: dict) -> None:
    from cnai.core.safeio import atomic_writer
    with atomic_writer(path, checked=True) as f:
        f.write(json.dumps(obj, ensure_ascii=False, indent=1))


def _read_json(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
        return obj if isinstance(obj, dict) else {"_unreadable": "not a JSON object"}
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        return {"_unreadable": str(e)}


# ---------------------------------------------------------------------------------------------- writing
class ChainLog:
    """The writer of one worker's chain (one process per worker: see claim_worker)."""

    def __init__(self, log_dir: str, worker: str, *, rotate_records: int = 1_000_000,
                 rotate_bytes: int = 256 << 20, rotate_seconds: float = 86400.0, head_every_s: float = 1.0,
                 retention_days: int | None = None, signer=None, clock=time.time):
        os.makedirs(log_dir, exist_ok=True)
        self.log_dir, self.worker, self.clock = log_dir, worker, clock
        self.rotate_records, self.rotate_bytes, self.rotate_seconds = rotate_records, rotate_bytes, rotate_seconds
        self.head_every_s, self.retention_days = head_every_s, retention_days
        self.signer = load_signer() if signer is None else (signer or None)   # False: never sign
        self._signed_at = 0.0
        self._signed_seq = -1
        self.pruned: list[dict] = []          # prune results of this process (for health / tests)
        # group commit: with on_pending set (the app schedules flush() at the end of the event-loop turn),
        # records are inserted into an open transaction and committed together; None: one commit per record
        self.on_pending = None
        self._pending = 0
        self._rows: list[tuple] = []
        self._committed: tuple[int, str] = (0, GENESIS)
        segs = segments(log_dir).get(worker, [])
        self.seq, self.head = 0, GENESIS
        for _n, path in reversed(segs):       # the newest record (the newest segment may still be empty)
            s = _segment_summary(path)
            if s:
                self.seq, self.head = s["last_seq"], s["head"]
                break
        else:
            tomb = _read_json(tombstone_path(log_dir, worker))
            if tomb and "last_seq" in tomb:   # only the tombstone is left: continue after it
                self.seq, self.head = int(tomb["last_seq"]), str(tomb["last_hash"])
        self._open(segs[-1][0] if segs else 1)

    def _open(self, n: int) -> None:
        self.segment = n
        self.path = segment_path(self.log_dir, self.worker, n)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={os.environ.get('CNAI_GATEWAY_SYNC', 'NORMAL')}")
        self.db.execute(_SCHEMA)
        last = self.db.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        if last:
            self.seq, self.head = last
        first = self.db.execute("SELECT ts, (SELECT count(*) FROM records) FROM records ORDER BY seq LIMIT 1"
                                ).fetchone()
        self.seg_records = first[1] if first else 0
        self.seg_started = datetime.fromisoformat(first[0]).timestamp() if first else self.clock()
        self.seg_bytes = os.path.getsize(self.path)

    def append(self, kind: str, data: dict) -> dict:
        now = self.clock()
        if self.seg_records and (self.seg_records >= self.rotate_records or self.seg_bytes >= self.rotate_bytes
                                 or now - self.seg_started >= self.rotate_seconds):
            self.rotate()
            now = self.clock()                # after the segment_start record: times stay in order
        rec = self._insert(kind, data, now)
        if not self._pending:                 # committed already: the head may be signed
            self._maybe_sign(now)
        return rec

    def _maybe_sign(self, now: float) -> None:
        if self.signer is not None and now - self._signed_at >= self.head_every_s:
            self.sign_head()

    def _insert(self, kind: str, data: dict, now: float) -> dict:
        seq, ts, body = self.seq + 1, iso(now), _dumps(data)
        h = _fast_hash(self.head, seq, ts, self.worker, kind, body, ts_plain=True)
        row = (seq, ts, self.worker, kind, body, self.head, h)
        if self.on_pending is not None:
            # group commit: the rows wait in memory and go in with one executemany in the commit's transaction
            if not self._pending:
                self._committed = (self.seq, self.head)
                self._rows = [row]
                self._pending = 1
                self.on_pending()
            else:
                self._rows.append(row)
                self._pending += 1
        else:
            self.db.execute("INSERT INTO records VALUES (?,?,?,?,?,?,?)", row)
        self.seq, self.head = seq, h
        self.seg_records += 1
        self.seg_bytes += len(body) + len(kind) + 200     # estimate: row + index overhead; no stat per request
        return {"seq": seq, "ts": ts, "hash": h}

    def flush(self) -> None:
        """Commit the records of a group commit (no-op when none is pending). If the write fails, none of them
        is in the chain and the next record links to the last committed one (the chain stays whole)."""
        if self._pending:
            rows, self._rows, self._pending = self._rows, [], 0
            try:
                self.db.execute("BEGIN")
                self.db.executemany("INSERT INTO records VALUES (?,?,?,?,?,?,?)", rows)
                self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self.db.execute("ROLLBACK")
                self.seq, self.head = self._committed
                self.seg_records -= len(rows)
                raise
            self._maybe_sign(self.clock())    # only committed records are named by a signed head

    def rotate(self) -> None:
        """Close the current segment and start the next; the chain runs on. Prunes past retention if set."""
        self.flush()
        old, head, seq = os.path.basename(self.path), self.head, self.seq
        if self.signer is not None:
            self.sign_head()
        self.db.close()
        self._open(self.segment + 1)
        self._insert("event", {"event": "segment_start", "segment": self.segment, "previous_segment": old,
                               "previous_seq": seq, "previous_head": head}, self.clock())
        if self.retention_days is not None:
            try:
                res = prune(self.log_dir, self.retention_days, now=self.clock(), workers=[self.worker],
                            clamp=True, signer=self.signer)
            except Exception as e:  # pruning must never stop the log
                res = [{"worker": self.worker, "error": str(e)}]
            for r in res:
                if r.get("segments") or r.get("error"):
                    self.pruned.append(r)
                    self._insert("event", {"event": "pruned" if r.get("segments") else "prune_failed", **r},
                                 self.clock())

    def sign_head(self) -> None:
        if self.signer is None or self._signed_seq == self.seq or self._pending:
            return
        h = {"worker": self.worker, "seq": self.seq, "hash": self.head, "ts": iso(self.clock()),
             "segment": os.path.basename(self.path)}
        h.update(_sign(self.signer, _head_message(h)))
        _write_json(head_path(self.log_dir, self.worker), h)
        self._signed_at, self._signed_seq = self.clock(), self.seq

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.flush()
        with contextlib.suppress(Exception):
            self.sign_head()
        with contextlib.suppress(sqlite3.Error):
            self.db.close()


# ---------------------------------------------------------------------------------------------- reading
def _rows(path: str) -> Iterator[tuple]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'records'").fetchone():
            return      # a segment being created this instant (its writer has not made the table yet)
        yield from db.execute("SELECT seq, ts, worker, kind, data, prev, hash FROM records ORDER BY seq")
    finally:
        db.close()


def _trusted(public_key: str | None) -> str | None:
    """A pinned public key: base64url of the raw key, or a file holding that or a PEM."""
    if not public_key:
        return None
    if os.path.isfile(public_key):
        from cnai.label.integrity import load_trusted
        return next(iter(load_trusted([public_key])))
    return public_key.strip()


def _tombstone_body(t: dict) -> dict:
    return {k: v for k, v in t.items() if k not in ("hash", "alg", "public_key", "sig")}


def _check_signed(obj: dict, msg: bytes, pinned: str | None) -> str | None:
    """None if the object's signature is good (against the pinned key when one is given), else the problem."""
    if "sig" not in obj:
        return "not signed" if pinned else None
    if pinned and obj.get("public_key") != pinned:
        return "signed with another key than the pinned public key"
    if not _sig_ok(str(obj.get("public_key")), str(obj.get("sig")), msg):
        return "signature does not verify"
    return None


def verify(log_dir: str, public_key: str | None = None) -> dict:
    """Check every worker's chain over all its segments, its tombstone and its signed head.

    public_key pins the head-signing key: then every chain must have a signed head by that key. The result
    names the first broken record of each chain, and what was pruned."""
    if not os.path.isdir(log_dir):
        from cnai.errors import InputError
        raise InputError("no such log directory", path=log_dir)
    pinned = _trusted(public_key)
    out = {"log_dir": log_dir, "ok": True, "pinned_key": pinned, "chains": []}
    for worker, segs in segments(log_dir).items():
        res = _verify_chain(log_dir, worker, segs, pinned)
        out["ok"] = out["ok"] and res["ok"]
        out["chains"].append(res)
    return out


def _verify_chain(log_dir: str, worker: str, segs: list[tuple[int, str]], pinned: str | None) -> dict:
    res = {"chain": worker, "segments": [os.path.basename(p) for _n, p in segs], "records": 0, "ok": True,
           "head": GENESIS, "head_seq": 0, "broken": None, "pruned": None, "signed_head": None}
    checker = LinkChecker()
    tomb = _read_json(tombstone_path(log_dir, worker))

    def fail(seq, problem, segment=None):
        res.update(ok=False, broken={"seq": seq, "problem": problem, "segment": segment})

    if tomb is not None:
        t_problem = tomb.get("_unreadable")
        if not t_problem:
            try:
                if sha256_hex(canonical(_tombstone_body(tomb))) != tomb.get("hash"):
                    t_problem = "tombstone content does not match its hash (edited)"
                else:
                    t_problem = _check_signed(tomb, str(tomb["hash"]).encode(), pinned)
                    t_problem = t_problem and f"tombstone {t_problem}"
                checker = LinkChecker(str(tomb["last_hash"]), int(tomb["last_seq"]) + 1)
            except (KeyError, TypeError, ValueError) as e:
                t_problem = f"tombstone lacks a field: {e}"
        if t_problem:
            fail(1, f"{os.path.basename(tombstone_path(log_dir, worker))}: {t_problem}")
            return res
        res["pruned"] = {"records": tomb["records"], "first_seq": tomb["first_seq"], "last_seq": tomb["last_seq"],
                         "last_hash": tomb["last_hash"], "first_ts": tomb["segments"][0]["first_ts"],
                         "last_ts": tomb["segments"][-1]["last_ts"], "segments": len(tomb["segments"]),
                         "prunes": [{k: p[k] for k in ("at", "retention_days", "cutoff", "basis")}
                                    for p in tomb["prunes"]]}
    # a crash between writing the tombstone and deleting its segments leaves records it already covers
    covered = checker.expect - 1
    cover_hash = checker.prev
    hashes_at: dict[int, str] = {}
    head = _read_json(head_path(log_dir, worker))
    want = int(head["seq"]) if isinstance(head, dict) and str(head.get("seq", "")).isdigit() else None
    for _n, path in segs:
        name = os.path.basename(path)
        try:
            for seq, ts, w, kind, data, p, h in _rows(path):
                if seq <= covered:
                    if seq == covered and h != cover_hash:
                        fail(seq, "record covered by the tombstone does not match its head hash", name)
                        return res
                    continue
                code = checker.check(seq, p, h, record_hash, p, seq, ts, w, kind, data)
                if code:
                    fail(checker.expect if code == "missing" else seq,
                         f"record {checker.expect} missing (next is {seq})" if code == "missing" else _PROBLEMS[code],
                         name)
                    return res
                res["records"] += 1
                if seq == want:
                    hashes_at[seq] = h
        except sqlite3.DatabaseError as e:
            fail(checker.expect, f"unreadable database: {e}", name)
            return res
    res["head"], res["head_seq"] = checker.prev, checker.expect - 1
    if head is None:
        if pinned:
            fail(res["head_seq"], "no signed head (chain-*.head.json) although a public key is pinned")
        return res
    if head.get("_unreadable") or not {"seq", "hash", "ts", "worker"} <= head.keys():
        fail(res["head_seq"], f"signed head unreadable: {head.get('_unreadable') or 'fields missing'}")
        return res
    problem = _check_signed(head, _head_message(head), pinned)
    res["signed_head"] = {"seq": head["seq"], "ts": head["ts"], "public_key": head.get("public_key"),
                          "pinned": bool(pinned), "ok": problem is None}
    if problem:
        fail(head["seq"], f"signed head: {problem}")
    elif head["worker"] != worker:
        fail(head["seq"], f"signed head belongs to worker {head['worker']!r}")
    elif want is not None and want > res["head_seq"]:
        fail(res["head_seq"] + 1, f"truncated: the signed head names record {want} but the chain ends at "
                                  f"record {res['head_seq']} (records removed from the end)")
    elif want is not None and want > covered and hashes_at.get(want) != head["hash"]:
        fail(want, "record named by the signed head does not match its hash (chain rewritten)")
    return res


def export(log_dir: str, since: str | None = None, until: str | None = None) -> Iterator[dict]:
    """All records of all chains with since <= ts < until (ISO dates or times, UTC), oldest first."""
    recs = []
    for worker, segs in segments(log_dir).items():
        for _n, path in segs:
            for seq, ts, w, kind, data, p, h in _rows(path):
                if since and ts < since:
                    continue
                if until and ts >= until:
                    continue
                recs.append({"chain": worker, "segment": os.path.basename(path), "seq": seq, "ts": ts, "worker": w,
                             "kind": kind, "data": json.loads(data), "prev": p, "hash": h})
    recs.sort(key=lambda r: (r["ts"], r["chain"], r["seq"]))
    yield from recs


# ---------------------------------------------------------------------------------------------- pruning
def prune(log_dir: str, retention_days: int, *, now: float | None = None, workers: list[str] | None = None,
          clamp: bool = False, signer=None) -> list[dict]:
    """Delete whole segments whose newest record is older than retention_days, leaving a tombstone.

    Never the newest segment of a chain, never a segment that does not verify, never below the legal
    minimum (cnai.gateway.retention): below it, raise InputError, or with clamp=True keep the minimum.
    The tombstone is written before any file is deleted; a crash in between leaves records it covers,
    which verify accepts when they match."""
    from cnai.errors import InputError
    from cnai.gateway.retention import legal_minimum_days
    minimum = legal_minimum_days()
    if retention_days < minimum:
        if not clamp:
            raise InputError(f"retention {retention_days} days is below the legal minimum of {minimum} days "
                             "(cybersecurity-law:23); nothing pruned", field="retention_days")
        retention_days = minimum
    now = time.time() if now is None else now
    cutoff = iso(now - retention_days * 86400)
    signer = load_signer() if signer is None else (signer or None)
    out = []
    for worker, segs in segments(log_dir).items():
        if workers is not None and worker not in workers:
            continue
        with _prune_lock(log_dir, worker):
            out.append(_prune_chain(log_dir, worker, segs, retention_days, minimum, cutoff, iso(now), signer))
    return out


@contextlib.contextmanager
def _prune_lock(log_dir: str, worker: str):
    with open(os.path.join(log_dir, f".{worker}.prune.lock"), "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _segment_summary(path: str) -> dict | None:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'records'").fetchone():
            return None
        first = db.execute("SELECT seq, ts FROM records ORDER BY seq LIMIT 1").fetchone()
        last = db.execute("SELECT seq, ts, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        n = db.execute("SELECT count(*) FROM records").fetchone()[0]
    finally:
        db.close()
    if not first:
        return None
    return {"file": os.path.basename(path), "first_seq": first[0], "last_seq": last[0], "first_ts": first[1],
            "last_ts": last[1], "records": n, "head": last[2]}


def _prune_chain(log_dir, worker, segs, retention_days, minimum, cutoff, at, signer) -> dict:
    res = {"worker": worker, "retention_days": retention_days, "cutoff": cutoff, "segments": [], "records": 0}
    victims = []
    for _n, path in segs[:-1]:                   # the newest segment is never pruned (it may be live)
        s = _segment_summary(path)
        if s is None or s["last_ts"] >= cutoff:
            break
        victims.append((path, s))
    if not victims:
        return res
    v = _verify_chain(log_dir, worker, segs, None)
    last_victim = victims[-1][1]["last_seq"]
    if v["broken"] and v["broken"]["seq"] <= last_victim + 1:   # never destroy evidence of tampering
        res["skipped"] = f"chain does not verify at record {v['broken']['seq']}: {v['broken']['problem']}"
        return res
    old = _read_json(tombstone_path(log_dir, worker)) or {}
    summaries = [s for _p, s in victims]
    tomb = {"worker": worker, "first_seq": old.get("first_seq", summaries[0]["first_seq"]),
            "last_seq": summaries[-1]["last_seq"], "last_hash": summaries[-1]["head"],
            "records": old.get("records", 0) + sum(s["records"] for s in summaries),
            "segments": old.get("segments", []) + summaries,
            "prunes": old.get("prunes", []) + [{
                "at": at, "retention_days": retention_days, "cutoff": cutoff, "legal_minimum_days": minimum,
                "basis": "retention period ended (pipl:47); kept at least the legal minimum (cybersecurity-law:23)",
                "segments": [s["file"] for s in summaries]}],
            "previous_tombstone_hash": old.get("hash")}
    tomb["hash"] = sha256_hex(canonical(tomb))
    if signer is not None:
        tomb.update(_sign(signer, tomb["hash"].encode()))
    _write_json(tombstone_path(log_dir, worker), tomb)
    for path, s in victims:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path + suffix)
        res["segments"].append(s["file"])
        res["records"] += s["records"]
    res.update(last_seq=tomb["last_seq"], tombstone_hash=tomb["hash"])
    return res


def claim_worker(log_dir: str, max_workers: int = 256) -> tuple[str, object]:
    """Claim the first free worker slot (w0, w1, ...) with an exclusive lock, so a restarted worker
    continues its own chain and two live processes never share one."""
    os.makedirs(log_dir, exist_ok=True)
    host = os.environ.get("CNAI_GATEWAY_NODE") or ""
    for i in range(max_workers):
        name = f"{host + '-' if host else ''}w{i}"
        f = open(os.path.join(log_dir, f".{name}.lock"), "a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return name, f
        except OSError:
            f.close()
    raise RuntimeError("no free worker slot")

