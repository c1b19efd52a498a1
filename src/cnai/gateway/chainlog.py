"""Tamper-evident request log: one SQLite file per worker chain, every record hashed over the previous one.

hash(n) = sha256(hash(n-1) || canonical JSON of (seq, ts, worker, kind, data)); the first record chains to
64 zeros. SQLite in WAL mode commits each record before the response completes, so a kill -9 loses at most
the request in flight and never leaves a half-written record (WAL with synchronous=NORMAL is durable
against process crashes; use synchronous=FULL via CNAI_GATEWAY_SYNC=FULL against power loss).
Limit: deleting the newest records leaves a valid shorter chain; ship chain heads elsewhere to detect that.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

GENESIS = "0" * 64
_SCHEMA = """CREATE TABLE IF NOT EXISTS records (
  seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, worker TEXT NOT NULL, kind TEXT NOT NULL,
  data TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL)"""


def canonical(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def record_hash(prev: str, seq: int, ts: str, worker: str, kind: str, data: str) -> str:
    body = canonical([seq, ts, worker, kind, json.loads(data)])
    return hashlib.sha256((prev + body).encode()).hexdigest()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def chain_path(log_dir: str, worker: str) -> str:
    return os.path.join(log_dir, f"chain-{worker}.sqlite")


class ChainLog:
    def __init__(self, log_dir: str, worker: str):
        os.makedirs(log_dir, exist_ok=True)
        self.worker = worker
        self.path = chain_path(log_dir, worker)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={os.environ.get('CNAI_GATEWAY_SYNC', 'NORMAL')}")
        self.db.execute(_SCHEMA)
        row = self.db.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        self.seq, self.head = (row[0], row[1]) if row else (0, GENESIS)

    def append(self, kind: str, data: dict) -> dict:
        seq = self.seq + 1
        ts = now_iso()
        body = canonical(data)
        h = record_hash(self.head, seq, ts, self.worker, kind, body)
        self.db.execute("INSERT INTO records VALUES (?,?,?,?,?,?,?)", (seq, ts, self.worker, kind, body, self.head, h))
        self.seq, self.head = seq, h
        return {"seq": seq, "ts": ts, "hash": h}

    def close(self) -> None:
        try:
            self.db.close()
        except sqlite3.Error:
            pass


def chains(log_dir: str) -> list[str]:
    return sorted(glob.glob(os.path.join(log_dir, "chain-*.sqlite")))


def _rows(path: str) -> Iterator[tuple]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        yield from db.execute("SELECT seq, ts, worker, kind, data, prev, hash FROM records ORDER BY seq")
    finally:
        db.close()


def verify(log_dir: str) -> dict:
    """Check every chain; the result names the first broken record of each chain."""
    if not os.path.isdir(log_dir):
        from cnai.errors import InputError
        raise InputError("no such log directory", path=log_dir)
    out = {"log_dir": log_dir, "ok": True, "chains": []}
    for path in chains(log_dir):
        res = {"chain": os.path.basename(path), "records": 0, "ok": True, "head": GENESIS, "broken": None}
        prev, expect = GENESIS, 1
        try:
            for seq, ts, worker, kind, data, p, h in _rows(path):
                problem = None
                if seq != expect:
                    problem = f"record {expect} missing (next is {seq})"
                elif p != prev:
                    problem = "prev hash does not match the previous record"
                else:
                    try:
                        if record_hash(prev, seq, ts, worker, kind, data) != h:
                            problem = "content does not match its hash (edited)"
                    except (ValueError, TypeError):
                        problem = "record data is not valid JSON (edited)"
                if problem:
                    res.update(ok=False, broken={"seq": expect if seq != expect else seq, "problem": problem})
                    break
                prev, expect = h, seq + 1
                res["records"] += 1
        except sqlite3.DatabaseError as e:
            res.update(ok=False, broken={"seq": expect, "problem": f"unreadable database: {e}"})
        res["head"] = prev
        out["ok"] = out["ok"] and res["ok"]
        out["chains"].append(res)
    return out


def export(log_dir: str, since: str | None = None, until: str | None = None) -> Iterator[dict]:
    """All records of all chains with since <= ts < until (ISO dates or times, UTC), oldest first."""
    recs = []
    for path in chains(log_dir):
        for seq, ts, worker, kind, data, p, h in _rows(path):
            if since and ts < since:
                continue
            if until and ts >= until:
                continue
            recs.append({"chain": os.path.basename(path), "seq": seq, "ts": ts, "worker": worker, "kind": kind,
                         "data": json.loads(data), "prev": p, "hash": h})
    recs.sort(key=lambda r: (r["ts"], r["chain"], r["seq"]))
    yield from recs


def claim_worker(log_dir: str, max_workers: int = 256) -> tuple[str, object]:
    """Claim the first free worker slot (w0, w1, ...) with an exclusive lock, so a restarted worker
    continues its own chain and two live processes never share one."""
    import fcntl
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


