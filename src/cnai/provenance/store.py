"""The creative log: an append-only, hash-chained SQLite store.

Each entry is canonical JSON {seq, kind, recorded_at, body, prev}; its hash is SHA-256 over those bytes and
`prev` is the previous entry's hash, so changing, removing or reordering any entry breaks every later link.
The entry id is the first 20 hex digits of its hash. SQLite triggers refuse UPDATE and DELETE: a correction
is a new entry that names the one it corrects. Entries may be signed (Ed25519 over the hash, key from the
environment only: CNAI_PROVENANCE_SIGNING_KEY, same forms as the label signing key); the public key is kept
in the store so a reader can verify without the private key.

Evidence files (attachments, thumbnails) are copied into blobs/<sha256> inside the store, so the record
stays complete when the originals move.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from cnai.core.chain import GENESIS, LinkChecker, canonical
from cnai.errors import CnaiError, InputError

DB_NAME = "provenance.sqlite"
SCHEMA_VERSION = 1
ENV_KEY = "CNAI_PROVENANCE_SIGNING_KEY"
KINDS = ("project", "generation", "selection", "edit", "attachment", "label", "correction", "note")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, recorded_at TEXT NOT NULL,
    body TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL, sig TEXT);
CREATE INDEX IF NOT EXISTS entries_kind ON entries(kind);
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT NOT NULL, entry TEXT NOT NULL, role TEXT NOT NULL, name TEXT, produce_id TEXT,
    PRIMARY KEY (sha256, entry, role));
CREATE INDEX IF NOT EXISTS files_produce ON files(produce_id);
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
    BEGIN SELECT RAISE(ABORT, 'provenance entries are append-only; record a correction instead'); END;
CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
    BEGIN SELECT RAISE(ABORT, 'provenance entries are append-only; record a correction instead'); END;
"""
class ChainError(CnaiError):
    """The log does not verify (exit 1): names the first broken entry."""

    exit_code = 1


def entry_hash(seq: int, kind: str, recorded_at: str, body: str, prev: str) -> str:
    payload = canonical({"seq": seq, "kind": kind, "recorded_at": recorded_at, "body": json.loads(body),
                         "prev": prev})
    return hashlib.sha256(payload).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Entry:
    seq: int
    id: str
    kind: str
    recorded_at: str
    body: dict
    prev: str
    hash: str
    sig: str | None = None

    def to_dict(self) -> dict:
        return {"seq": self.seq, "id": self.id, "kind": self.kind, "recorded_at": self.recorded_at,
                "body": self.body, "prev": self.prev, "hash": self.hash, "signed": bool(self.sig)}


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    signed: int = 0
    first_broken: int | None = None
    entry_id: str | None = None
    reason: str | None = None
    public_key: str | None = None
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "signed": self.signed, "first_broken_seq": self.first_broken,
                "first_broken_id": self.entry_id, "reason": self.reason, "public_key": self.public_key}


def _load_key():
    from cnai.label.integrity import load_private_key

    return load_private_key(ENV_KEY)


class Store:
    """A provenance project directory: provenance.sqlite + blobs/."""

    def __init__(self, root: str | os.PathLike, db: sqlite3.Connection):
        self.root = Path(root)
        self.db = db
        self.readonly = False

    # ------------------------------------------------------------------ opening
    @classmethod
    def init(cls, root: str | os.PathLike, *, title: str = "", author: str = "", note: str = "") -> Store:
        from cnai.core.safeio import prepare_output_dir

        p = Path(root)
        if (p / DB_NAME).exists():
            raise InputError("a provenance store already exists here", path=str(p))
        prepare_output_dir(p, kind="provenance-store")
        st = cls._connect(p, create=True)
        with st.db:
            st.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        st.add("project", {"title": title, "author": author, "note": note})
        return st

    @classmethod
    def open(cls, root: str | os.PathLike) -> Store:
        p = Path(root)
        if not (p / DB_NAME).is_file():
            raise InputError(f"no provenance store (missing {DB_NAME}); create one with `cnai provenance init`",
                             path=str(p))
        return cls._connect(p, create=False)

    @classmethod
    def _connect(cls, p: Path, *, create: bool) -> Store:
        db_path = p / DB_NAME
        # a store on read-only media (an archive disc, a read-only mount) can still be verified and reported:
        # SQLite opens it as immutable, and every write is refused with a clear error
        readonly = not create and not os.access(p, os.W_OK)
        try:
            if readonly:
                db = sqlite3.connect(f"{db_path.resolve().as_uri()}?immutable=1", uri=True)
            else:
                db = sqlite3.connect(db_path, isolation_level="DEFERRED")
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
            if create:
                db.executescript(_SCHEMA)
            else:
                db.execute("SELECT count(*) FROM entries").fetchone()
        except sqlite3.DatabaseError as exc:
            msg = str(exc)
            if "readonly" in msg or "unable to open" in msg:
                raise InputError(f"cannot open the store: {msg}", path=str(db_path)) from None
            raise InputError(f"not a readable provenance store: {msg}", path=str(db_path)) from None
        st = cls(p, db)
        st.readonly = readonly
        return st

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ writing
    def add(self, kind: str, body: dict, *, files: list[dict] | None = None, sign: bool | None = None) -> Entry:
        """Append one entry (and its file links) in one transaction; returns it.

        files: [{"sha256", "role" (output|reference|before|after|attachment|final), "name", "produce_id"}].
        sign: None signs when the signing key is in the environment.
        """
        if kind not in KINDS:
            raise InputError(f"unknown entry kind {kind!r}; known: {', '.join(KINDS)}", field="kind")
        self._writable()
        priv = None
        if sign is not False and os.environ.get(ENV_KEY):
            priv = _load_key()
        elif sign:
            raise InputError(f"signing asked for but {ENV_KEY} is not set", field=ENV_KEY)
        text = canonical(body).decode("utf-8")
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                row = self.db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
                now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
                h = entry_hash(seq, kind, now, text, prev)
                sig = None
                if priv is not None:
                    from cnai.label.integrity import b64u, public_b64

                    sig = b64u(priv.sign(bytes.fromhex(h)))
                    self.db.execute("INSERT OR IGNORE INTO meta VALUES ('public_key', ?)", (public_b64(priv),))
                eid = h[:20]
                self.db.execute("INSERT INTO entries VALUES (?,?,?,?,?,?,?,?)", (seq, eid, kind, now, text, prev, h, sig))
                for f in files or []:
                    self.db.execute("INSERT OR IGNORE INTO files VALUES (?,?,?,?,?)",
                                    (f["sha256"], eid, f["role"], f.get("name"), f.get("produce_id")))
        except sqlite3.OperationalError as exc:
            raise InputError(f"cannot write to the store: {exc}", path=str(self.root / DB_NAME)) from None
        return Entry(seq, eid, kind, now, body, prev, h, sig)

    def keep_blob(self, path: str | os.PathLike, digest: str | None = None) -> str:
        """Copy a file into blobs/ (once per content); returns its SHA-256."""
        self._writable()
        digest = digest or sha256_file(path)
        dst = self.root / "blobs" / digest[:2] / digest
        if not dst.exists():
            from cnai.core.safeio import atomic_writer

            try:
                dst.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(f"cannot write to the store: {exc.strerror}", path=str(dst.parent)) from None
            with open(path, "rb") as src, atomic_writer(dst, binary=True, checked=True) as out:
                shutil.copyfileobj(src, out, 1 << 20)
        return digest

    def _writable(self) -> None:
        if self.readonly:
            raise InputError("the store is on read-only media: it can be verified and reported, not added to",
                             path=str(self.root))

    def blob_path(self, digest: str) -> Path | None:
        p = self.root / "blobs" / digest[:2] / digest
        return p if p.is_file() else None

    # ------------------------------------------------------------------ reading
    def entries(self, kind: str | None = None) -> list[Entry]:
        q = "SELECT seq, id, kind, recorded_at, body, prev, hash, sig FROM entries"
        rows = self.db.execute(q + (" WHERE kind = ?" if kind else "") + " ORDER BY seq", (kind,) if kind else ())
        return [Entry(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7]) for r in rows]

    def entry(self, ident: str) -> Entry:
        rows = self.db.execute("SELECT seq, id, kind, recorded_at, body, prev, hash, sig FROM entries "
                               "WHERE id LIKE ? ORDER BY seq", (ident + "%",)).fetchall()
        if len(rows) != 1:
            raise InputError("no such entry" if not rows else "entry id prefix is ambiguous", field=ident)
        r = rows[0]
        return Entry(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7])

    def entries_for_file(self, digest: str | None = None, produce_id: str | None = None) -> list[tuple[str, str]]:
        """[(entry id, role)] linked to a file by content hash or by the ProduceID of its label."""
        rows = self.db.execute("SELECT entry, role FROM files WHERE sha256 = ? OR (produce_id IS NOT NULL AND "
                               "produce_id = ?)", (digest or "", produce_id or "\x00")).fetchall()
        return [(r[0], r[1]) for r in rows]

    def producer_of(self, digest: str) -> Entry | None:
        """The generation or edit entry that recorded this file as its output (the latest, if several)."""
        row = self.db.execute("SELECT f.entry FROM files f JOIN entries e ON e.id = f.entry WHERE f.sha256 = ? "
                              "AND ((e.kind = 'generation' AND f.role = 'output') OR (e.kind = 'edit' AND f.role = 'after')) "
                              "ORDER BY e.seq DESC LIMIT 1", (digest,)).fetchone()
        return self.entry(row[0]) if row else None

    def files(self) -> list[dict]:
        return [{"sha256": r[0], "entry": r[1], "role": r[2], "name": r[3], "produce_id": r[4]}
                for r in self.db.execute("SELECT sha256, entry, role, name, produce_id FROM files")]

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    # ------------------------------------------------------------------ verification
    def verify(self, *, signatures: str = "last") -> VerifyResult:
        """Recompute every hash and link; check signatures ('last', 'all' or 'none').

        Every hash covers the previous one, so the last signature alone authenticates every entry up to it
        (the default: fast on long logs); 'all' checks each entry's own signature as well. Neither can see
        entries cut off the end of the log: keep the head hash somewhere else (the report prints it).
        """
        pub = self.meta("public_key")
        res = VerifyResult(ok=True, entries=0, public_key=pub)
        verify_sig = None
        if pub:
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

            from cnai.label.integrity import unb64u

            key = Ed25519PublicKey.from_public_bytes(unb64u(pub))

            def verify_sig(sig: str, h: str) -> bool:
                try:
                    key.verify(unb64u(sig), bytes.fromhex(h))
                    return True
                except (InvalidSignature, ValueError):
                    return False

        chain, last_signed = LinkChecker(), None
        try:
            cur = self.db.execute("SELECT seq, id, kind, recorded_at, body, prev, hash, sig FROM entries ORDER BY seq")
            for seq, eid, kind, at, body, p, h, sig in cur:
                res.entries += 1
                problem = None
                expect_seq = chain.expect
                code = chain.check(seq, p, h, entry_hash, seq, kind, at, body, p)
                if code == "missing":
                    problem = f"entry {expect_seq} is missing (next is {seq})"
                elif code == "link":
                    problem = "its link to the previous entry does not match (an entry before it was changed or removed)"
                elif code:
                    problem = "its content does not match its hash (edited after it was recorded)"
                elif eid != h[:20]:
                    problem = "its id does not match its hash"
                if problem is None and sig:
                    res.signed += 1
                    if verify_sig is None:
                        problem = "it is signed but the store holds no public key"
                    elif signatures == "all" and not verify_sig(sig, h):
                        problem = "its signature does not verify"
                    last_signed = (seq, eid, sig, h)
                if problem:
                    res.ok, res.first_broken, res.entry_id, res.reason = False, seq, eid, problem
                    return res
        except sqlite3.DatabaseError as exc:
            res.ok, res.reason = False, f"the store cannot be read: {exc}"
            return res
        if signatures == "last" and last_signed and not verify_sig(last_signed[2], last_signed[3]):
            res.ok, res.first_broken, res.entry_id, res.reason = (False, last_signed[0], last_signed[1],
                                                                  "its signature does not verify")
        return res
