"""SQLite run store: every item, attempt, response, judgement, error, timing and human review."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

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


def connect(run_dir: Path) -> sqlite3.Connection:
    db = sqlite3.connect(Path(run_dir) / DB_NAME, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout=5000")
    db.executescript(SCHEMA)
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def set_meta(db: sqlite3.Connection, key: str, value) -> None:
    db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
               (key, json.dumps(value, ensure_ascii=False, sort_keys=True)))


def get_meta(db: sqlite3.Connection, key: str, default=None):
    row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return json.loads(row[0]) if row else default


def now() -> float:
    return time.time()
