"""SQLite run store: every item, attempt, response, judgement, error, timing and human review."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from cnai.errors import InputError

SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
  id TEXT PRIMARY KEY, seq INTEGER NOT NULL, kind TEXT NOT NULL, risk TEXT, aspect TEXT,
  question TEXT NOT NULL, messages TEXT NOT NULL, lang TEXT, tags TEXT, parent TEXT, bank_source TEXT,
  reference_answer TEXT);
CREATE TABLE IF NOT EXISTS results (
  item_id TEXT PRIMARY KEY REFERENCES items(id), status TEXT NOT NULL, response TEXT,
  error_kind TEXT, error_message TEXT, attempts INTEGER NOT NULL, latency_ms REAL,
  started_at REAL, finished_at REAL, session INTEGER);
CREATE TABLE IF NOT EXISTS attempts (
  item_id TEXT NOT NULL, attempt INTEGER NOT NULL, session INTEGER, ok INTEGER NOT NULL,
  error_kind TEXT, error_message TEXT, latency_ms REAL, at REAL);
CREATE TABLE IF NOT EXISTS judgements (
  item_id TEXT NOT NULL, judge TEXT NOT NULL, refused INTEGER, unsafe INTEGER, score REAL,
  detail TEXT, at REAL, PRIMARY KEY (item_id, judge));
CREATE TABLE IF NOT EXISTS reviews (
  n INTEGER PRIMARY KEY AUTOINCREMENT, item_id TEXT NOT NULL, reviewer TEXT, verdict TEXT NOT NULL,
  machine_verdict TEXT, note TEXT, source_file TEXT, source_sha256 TEXT, at REAL);
CREATE TABLE IF NOT EXISTS sessions (
  n INTEGER PRIMARY KEY AUTOINCREMENT, started_at REAL, finished_at REAL, resumed INTEGER, pid INTEGER,
  asked INTEGER DEFAULT 0);
"""

DB_NAME = "run.sqlite"


TABLES = frozenset({"meta", "items", "results", "attempts", "judgements", "reviews", "sessions"})


def connect(run_dir: Path, *, create: bool = False) -> sqlite3.Connection:
    """Open a run store. Without `create`, the file must exist and be a cnai run store: nothing is
    created or changed in a file that is not one; a corrupt file is a one-line InputError (exit 2)."""
    run_dir = Path(run_dir)
    p = run_dir / DB_NAME
    if not create and not p.is_file():
        if run_dir.exists() and not run_dir.is_dir():
            raise InputError("not a run directory (a file)", path=str(run_dir))
        raise InputError("not a run directory (run.sqlite missing)", path=str(run_dir))
    db = None
    try:
        db = sqlite3.connect(p, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout=5000")
        if create:
            db.executescript(SCHEMA)
        else:
            have = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not TABLES <= have:
                raise InputError(f"not a cnai run store (missing tables: {', '.join(sorted(TABLES - have))})",
                                 path=str(p))
            db.execute("SELECT COUNT(*) FROM results").fetchone()   # reads pages: corruption shows here
        db.execute("PRAGMA synchronous=NORMAL")
        return db
    except sqlite3.DatabaseError as exc:
        if db is not None:
            db.close()
        raise InputError(f"run store is corrupt or not SQLite ({exc})", path=str(p)) from None
    except BaseException:
        if db is not None:
            db.close()
        raise


@contextlib.contextmanager
def guard(run_dir: Path) -> Iterator[None]:
    """Turn an SQLite failure met while reading or writing a run store into a one-line InputError."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise InputError(f"run store is corrupt or unreadable ({exc})", path=str(Path(run_dir) / DB_NAME)) from None


def set_meta(db: sqlite3.Connection, key: str, value) -> None:
    db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
               (key, json.dumps(value, ensure_ascii=False, sort_keys=True)))


def get_meta(db: sqlite3.Connection, key: str, default=None):
    row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return json.loads(row[0]) if row else default


def now() -> float:
    return time.time()
