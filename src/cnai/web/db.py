"""The workspace: one SQLite file (workspace.sqlite) plus folders for uploads, runs and audits.

Schema changes are numbered migrations applied in order inside a transaction, so a workspace made by an
older cnai opens in a newer one and a half-applied migration never sticks. Secrets are never stored here.
"""

from __future__ import annotations

import json
import random
import secrets
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cnai.errors import InputError

DB_NAME = "workspace.sqlite"
MARKER = ".cnai-workspace"

MIGRATIONS: list[str] = [
    # 1: services with optimistic versions, full history, duty status, jobs, uploads
    """
    CREATE TABLE services (
      id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, data TEXT NOT NULL,
      version INTEGER NOT NULL DEFAULT 1, created REAL NOT NULL, updated REAL NOT NULL);
    CREATE TABLE service_history (
      n INTEGER PRIMARY KEY AUTOINCREMENT, service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
      version INTEGER NOT NULL, data TEXT NOT NULL, author TEXT, note TEXT, at REAL NOT NULL);
    CREATE TABLE duty_status (
      service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE, duty_id TEXT NOT NULL,
      done_on TEXT NOT NULL, owner TEXT, evidence_upload TEXT, note TEXT, at REAL NOT NULL,
      PRIMARY KEY (service_id, duty_id));
    CREATE TABLE jobs (
      id TEXT PRIMARY KEY, kind TEXT NOT NULL, title TEXT, service_id INTEGER, params TEXT NOT NULL,
      status TEXT NOT NULL, progress TEXT, result TEXT, error TEXT, pid INTEGER,
      created REAL NOT NULL, updated REAL NOT NULL);
    CREATE TABLE uploads (
      id TEXT PRIMARY KEY, purpose TEXT NOT NULL, filename TEXT NOT NULL, stored TEXT NOT NULL,
      size INTEGER NOT NULL, sha256 TEXT NOT NULL, result TEXT, created REAL NOT NULL);
    """,
]

TERMINAL = ("done", "failed", "cancelled")


class NotFound(Exception):
    def __init__(self, what: str, ident: Any):
        self.what, self.ident = what, ident
        super().__init__(f"no {what} with id {ident!r}")


class Conflict(Exception):
    pass


def _locked(exc: sqlite3.Error) -> bool:
    """Another process holds the database (SQLITE_BUSY / SQLITE_LOCKED), as opposed to a damaged file."""
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


class Workspace:
    def __init__(self, root: Path):
        self.root = Path(root).absolute()  # child processes run with cwd=root: paths handed to them are absolute
        self.path = self.root / DB_NAME
        self._open()

    # -- set-up -------------------------------------------------------------------------------
    def _open(self) -> None:
        root = self.root
        if root.exists() and not root.is_dir():
            raise InputError("not a folder", path=str(root), field="--data-dir")
        if root.exists() and any(root.iterdir()) and not (root / MARKER).exists() and not self.path.exists():
            raise InputError("folder is not empty and not a cnai workspace; choose an empty or new folder",
                             path=str(root), field="--data-dir")
        root.mkdir(parents=True, exist_ok=True)
        (root / MARKER).touch()
        for sub in ("uploads", "runs", "audits", "dossiers", "outputs"):
            (root / sub).mkdir(exist_ok=True)
        # Switching a new database to WAL takes an exclusive lock that SQLite does not always wait for (no busy
        # handler on that path), so processes opening a new workspace at once retry the (idempotent) set-up.
        deadline = time.monotonic() + 15
        while True:
            try:
                return self._set_up()
            except sqlite3.DatabaseError as exc:
                if not (_locked(exc) and time.monotonic() < deadline):
                    raise InputError(f"workspace database is corrupt or unreadable ({exc})",
                                     path=str(self.path)) from None
                time.sleep(0.05 + random.random() * 0.1)

    def _set_up(self) -> None:
        """Create or migrate the schema; sqlite3 errors propagate to _open (a lock is retried there)."""
        with self.connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > len(MIGRATIONS):
                raise InputError(f"workspace schema {version} is newer than this cnai understands "
                                 f"({len(MIGRATIONS)}); upgrade cnai", path=str(self.path))
            for n in range(version, len(MIGRATIONS)):
                con.execute("BEGIN IMMEDIATE")  # one process migrates; another waits, then skips
                row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                if row and int(row[0]) > n:
                    con.execute("COMMIT")
                    continue
                try:
                    for stmt in _statements(MIGRATIONS[n]):
                        con.execute(stmt)
                    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(n + 1),))
                    con.execute("COMMIT")
                except sqlite3.Error as exc:
                    con.execute("ROLLBACK")
                    if _locked(exc):
                        raise  # another process holds the database: _open retries
                    raise InputError(f"upgrading the workspace to schema {n + 1} failed ({exc}); it was left "
                                     f"unchanged at schema {n}", path=str(self.path)) from None
                except BaseException:
                    con.execute("ROLLBACK")
                    raise

    @contextmanager
    def connect(self):
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("PRAGMA busy_timeout=10000")
        try:
            yield con
        finally:
            con.close()

    def _one(self, table: str, key: Any, what: str) -> sqlite3.Row:
        """The row of `table` with this id, or NotFound naming `what`."""
        with self.connect() as con:
            row = con.execute(f"SELECT * FROM {table} WHERE id=?", (key,)).fetchone()  # noqa: S608 - fixed names
        if row is None:
            raise NotFound(what, key)
        return row

    def _all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self.connect() as con:
            return con.execute(sql, args).fetchall()

    def schema_version(self) -> int:
        with self.connect() as con:
            return int(con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])

    # -- services -----------------------------------------------------------------------------
    def list_services(self) -> list[dict]:
        with self.connect() as con:
            rows = con.execute("SELECT id, name, version, updated FROM services ORDER BY id").fetchall()
        return [dict(r) for r in rows]

    def get_service(self, sid: int) -> dict:
        return _decoded(self._one("services", sid, "service"), "data")

    def create_service(self, data: dict, author: str | None = None, note: str = "created") -> dict:
        now = time.time()
        with self.connect() as con:
            con.execute("BEGIN IMMEDIATE")
            cur = con.execute("INSERT INTO services(name, data, version, created, updated) VALUES (?,?,1,?,?)",
                              (data["service"]["name"], json.dumps(data, ensure_ascii=False), now, now))
            sid = cur.lastrowid
            con.execute("INSERT INTO service_history(service_id, version, data, author, note, at)"
                        " VALUES (?,?,?,?,?,?)", (sid, 1, json.dumps(data, ensure_ascii=False), author, note, now))
            con.execute("COMMIT")
        return self.get_service(sid)

    def update_service(self, sid: int, data: dict, expected_version: int | None, author: str | None = None,
                       note: str = "edited") -> dict:
        """Compare-and-swap on the version: a stale writer gets Conflict, never a silent overwrite."""
        now = time.time()
        with self.connect() as con:
            con.execute("BEGIN IMMEDIATE")
            row = con.execute("SELECT version FROM services WHERE id=?", (sid,)).fetchone()
            if row is None:
                con.execute("ROLLBACK")
                raise NotFound("service", sid)
            current = row[0]
            if expected_version is not None and expected_version != current:
                con.execute("ROLLBACK")
                raise Conflict(f"service {sid} was changed by someone else (you edited version {expected_version},"
                               f" it is now version {current}); reload, reapply your change and save again")
            new = current + 1
            text = json.dumps(data, ensure_ascii=False)
            con.execute("UPDATE services SET name=?, data=?, version=?, updated=? WHERE id=?",
                        (data["service"]["name"], text, new, now, sid))
            con.execute("INSERT INTO service_history(service_id, version, data, author, note, at)"
                        " VALUES (?,?,?,?,?,?)", (sid, new, text, author, note, now))
            con.execute("COMMIT")
        return self.get_service(sid)

    def delete_service(self, sid: int) -> None:
        with self.connect() as con:
            cur = con.execute("DELETE FROM services WHERE id=?", (sid,))
        if cur.rowcount == 0:
            raise NotFound("service", sid)

    def history(self, sid: int) -> list[dict]:
        self.get_service(sid)
        rows = self._all("SELECT version, data, author, note, at FROM service_history WHERE service_id=?"
                         " ORDER BY version DESC", sid)
        return [_decoded(r, "data") for r in rows]

    # -- duty status --------------------------------------------------------------------------
    def duty_status(self, sid: int) -> dict[str, dict]:
        with self.connect() as con:
            rows = con.execute("SELECT * FROM duty_status WHERE service_id=?", (sid,)).fetchall()
        return {r["duty_id"]: dict(r) for r in rows}

    def mark_done(self, sid: int, duty_id: str, done_on: str, owner: str, evidence_upload: str | None,
                  note: str) -> dict:
        self.get_service(sid)
        with self.connect() as con:
            con.execute("INSERT OR REPLACE INTO duty_status VALUES (?,?,?,?,?,?,?)",
                        (sid, duty_id, done_on, owner, evidence_upload, note, time.time()))
        return self.duty_status(sid)[duty_id]

    def unmark_done(self, sid: int, duty_id: str) -> None:
        with self.connect() as con:
            con.execute("DELETE FROM duty_status WHERE service_id=? AND duty_id=?", (sid, duty_id))

    # -- uploads ------------------------------------------------------------------------------
    def add_upload(self, purpose: str, filename: str, stored: str, size: int, sha256: str, uid: str) -> dict:
        with self.connect() as con:
            con.execute("INSERT INTO uploads VALUES (?,?,?,?,?,?,?,?)",
                        (uid, purpose, filename, stored, size, sha256, None, time.time()))
        return self.get_upload(uid)

    def get_upload(self, uid: str) -> dict:
        return _decoded(self._one("uploads", uid, "upload"), "result")

    def set_upload_result(self, uid: str, result: dict) -> None:
        with self.connect() as con:
            con.execute("UPDATE uploads SET result=? WHERE id=?", (json.dumps(result, ensure_ascii=False), uid))

    def list_uploads(self, purpose: str) -> list[dict]:
        rows = self._all("SELECT * FROM uploads WHERE purpose=? ORDER BY created DESC", purpose)
        return [_decoded(r, "result") for r in rows]

    # -- jobs ---------------------------------------------------------------------------------
    def add_job(self, kind: str, title: str, params: dict, service_id: int | None = None,
                jid: str | None = None) -> dict:
        jid = jid or new_id(kind.split("-")[0])
        now = time.time()
        with self.connect() as con:
            con.execute("INSERT INTO jobs(id, kind, title, service_id, params, status, created, updated)"
                        " VALUES (?,?,?,?,?,?,?,?)",
                        (jid, kind, title, service_id, json.dumps(params, ensure_ascii=False), "queued", now, now))
        return self.get_job(jid)

    def get_job(self, jid: str) -> dict:
        return _job(self._one("jobs", jid, "job"))

    def list_jobs(self, kind: str | None = None, limit: int = 500) -> list[dict]:
        with self.connect() as con:
            if kind:
                rows = con.execute("SELECT * FROM jobs WHERE kind=? ORDER BY created DESC LIMIT ?",
                                   (kind, limit)).fetchall()
            else:
                rows = con.execute("SELECT * FROM jobs ORDER BY created DESC LIMIT ?", (limit,)).fetchall()
        return [_job(r) for r in rows]

    def update_job(self, jid: str, **fields: Any) -> None:
        cols, vals = [], []
        for k, v in fields.items():
            if k in ("progress", "result", "params") and v is not None and not isinstance(v, str):
                v = json.dumps(v, ensure_ascii=False)
            cols.append(f"{k}=?")
            vals.append(v)
        cols.append("updated=?")
        vals.append(time.time())
        with self.connect() as con:
            con.execute(f"UPDATE jobs SET {', '.join(cols)} WHERE id=?", (*vals, jid))  # noqa: S608 - fixed names


def _decoded(row: sqlite3.Row, *json_columns: str) -> dict:
    """A row as a dict with its JSON columns parsed (an empty column is None)."""
    d = dict(row)
    for k in json_columns:
        d[k] = json.loads(d[k]) if d[k] else None
    return d


def _job(row: sqlite3.Row) -> dict:
    return _decoded(row, "params", "progress", "result")


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
