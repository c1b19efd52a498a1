"""The request log over time: rotation into segments, pruning past retention with a tombstone, signed heads."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
from datetime import UTC, datetime

import pytest

from cnai.gateway.chainlog import ChainLog, export, prune, segments, verify

DAY = 86400.0
T0 = datetime(2025, 1, 1, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, t=T0):
        self.t = t

    def __call__(self):
        return self.t


def fill(log, n, clock=None, step=0.0):
    for i in range(n):
        log.append("request", {"i": i, "outcome": "ok"})
        if clock:
            clock.t += step


def seg_names(d, worker="w0"):
    return [os.path.basename(p) for _n, p in segments(str(d))[worker]]


def test_rotation_by_records_keeps_one_chain_over_segments(tmp_path):
    log = ChainLog(str(tmp_path), "w0", rotate_records=5, signer=False)
    fill(log, 12)
    log.close()
    assert seg_names(tmp_path) == ["chain-w0.000001.sqlite", "chain-w0.000002.sqlite", "chain-w0.000003.sqlite"]
    res = verify(str(tmp_path))
    c = res["chains"][0]
    assert res["ok"] and c["records"] == 14 and c["head_seq"] == 14     # 12 requests + 2 segment_start events
    recs = list(export(str(tmp_path)))
    assert [r["seq"] for r in recs] == list(range(1, 15))
    starts = [r for r in recs if r["data"].get("event") == "segment_start"]
    assert [s["data"]["previous_segment"] for s in starts] == ["chain-w0.000001.sqlite", "chain-w0.000002.sqlite"]
    # the first record of segment 2 links to the last record of segment 1
    assert starts[0]["prev"] == recs[starts[0]["seq"] - 2]["hash"] == starts[0]["data"]["previous_head"]
    # reopening continues the newest segment and the numbering
    log = ChainLog(str(tmp_path), "w0", rotate_records=5, signer=False)
    assert log.seq == 14 and log.path.endswith("000003.sqlite")
    log.append("request", {"i": 99})
    log.close()
    assert verify(str(tmp_path))["chains"][0]["head_seq"] == 15


def test_rotation_by_size_and_by_age(tmp_path):
    log = ChainLog(str(tmp_path / "size"), "w0", rotate_bytes=20_000, signer=False)
    for i in range(200):
        log.append("request", {"i": i, "pad": "x" * 200})
    log.close()
    assert len(seg_names(tmp_path / "size")) >= 2
    clock = Clock()
    log = ChainLog(str(tmp_path / "age"), "w0", rotate_seconds=3600, clock=clock, signer=False)
    fill(log, 10, clock, step=900)        # 15 minutes apart: a new segment every hour
    log.close()
    assert len(seg_names(tmp_path / "age")) == 3
    assert verify(str(tmp_path / "size"))["ok"] and verify(str(tmp_path / "age"))["ok"]


def test_a_deleted_segment_is_named(tmp_path):
    log = ChainLog(str(tmp_path), "w0", rotate_records=5, signer=False)
    fill(log, 14)
    log.close()
    os.unlink(tmp_path / "chain-w0.000002.sqlite")
    c = verify(str(tmp_path))["chains"][0]
    assert not c["ok"] and c["broken"]["seq"] == 6 and "missing" in c["broken"]["problem"]
    assert c["broken"]["segment"] == "chain-w0.000003.sqlite"


def _year_of_logs(d, clock=None):
    """Records every 2 days over a year, a new segment every 30 days."""
    clock = clock or Clock()
    log = ChainLog(str(d), "w0", rotate_seconds=30 * DAY, clock=clock, signer=False)
    fill(log, 183, clock, step=2 * DAY)
    log.close()
    return clock


def test_prune_past_retention_leaves_a_tombstone_and_verify_passes(tmp_path, cnai):
    clock = _year_of_logs(tmp_path)
    before = list(export(str(tmp_path)))
    n_before = len(seg_names(tmp_path))
    res = prune(str(tmp_path), 190, now=clock.t)
    r = res[0]
    assert r["segments"] and r["records"] > 0
    cutoff = datetime.fromtimestamp(clock.t - 190 * DAY, UTC).isoformat()
    after = list(export(str(tmp_path)))
    # every record younger than the retention period is still there; the pruned ones are all older
    assert [x["seq"] for x in before if x["ts"] >= cutoff] == [x["seq"] for x in after if x["ts"] >= cutoff]
    assert len(after) == len(before) - r["records"] and len(seg_names(tmp_path)) == n_before - len(r["segments"])
    pruned_ts = {x["ts"] for x in before} - {x["ts"] for x in after}
    assert max(pruned_ts) < cutoff
    v = verify(str(tmp_path))
    c = v["chains"][0]
    assert v["ok"], v
    assert c["pruned"]["first_seq"] == 1 and c["pruned"]["last_seq"] == after[0]["seq"] - 1
    assert c["pruned"]["records"] == r["records"] and c["pruned"]["prunes"][0]["retention_days"] == 190
    out = cnai("gateway", "log", "verify", str(tmp_path))
    assert out.returncode == 0 and "pruned: records 1-" in out.stdout
    # a second prune later extends the same tombstone
    res2 = prune(str(tmp_path), 190, now=clock.t + 90 * DAY)
    assert res2[0]["records"] > 0
    c = verify(str(tmp_path))["chains"][0]
    assert c["ok"] and len(c["pruned"]["prunes"]) == 2 and c["pruned"]["records"] == r["records"] + res2[0]["records"]


def test_prune_never_below_the_legal_minimum_nor_the_newest_segment(tmp_path, cnai):
    from cnai.errors import InputError
    clock = _year_of_logs(tmp_path)
    with pytest.raises(InputError, match="legal minimum of 184 days"):
        prune(str(tmp_path), 100, now=clock.t)
    assert len(seg_names(tmp_path)) == 13                   # nothing deleted
    r = cnai("gateway", "log", "prune", str(tmp_path), "--retention-days", "30")
    assert r.returncode == 2 and "legal minimum" in r.stderr
    # clamped (what the live gateway does): keeps 184 days
    res = prune(str(tmp_path), 30, now=clock.t, clamp=True)
    assert res[0]["retention_days"] == 184
    # far in the future everything is old, but the newest segment stays
    prune(str(tmp_path), 190, now=clock.t + 5000 * DAY)
    assert len(seg_names(tmp_path)) == 1 and verify(str(tmp_path))["ok"]


def test_tombstone_edit_and_tampered_chain_are_refused(tmp_path):
    clock = _year_of_logs(tmp_path / "a")
    prune(str(tmp_path / "a"), 190, now=clock.t)
    t = tmp_path / "a" / "chain-w0.pruned.json"
    data = json.loads(t.read_text())
    data["records"] -= 5                                    # hide that more was pruned
    t.write_text(json.dumps(data))
    c = verify(str(tmp_path / "a"))["chains"][0]
    assert not c["ok"] and "tombstone content does not match its hash" in c["broken"]["problem"]
    # a chain that does not verify is never pruned: the evidence of tampering stays
    clock = _year_of_logs(tmp_path / "b")
    db = sqlite3.connect(tmp_path / "b" / "chain-w0.000001.sqlite")
    db.execute("UPDATE records SET data = '{\"i\":0,\"outcome\":\"no\"}' WHERE seq = 2")
    db.commit()
    db.close()
    n = len(seg_names(tmp_path / "b"))
    r = prune(str(tmp_path / "b"), 190, now=clock.t)[0]
    assert r["skipped"].startswith("chain does not verify at record 2") and len(seg_names(tmp_path / "b")) == n


def test_crash_between_tombstone_and_delete_still_verifies(tmp_path):
    clock = _year_of_logs(tmp_path)
    keep = tmp_path / "copy"
    keep.mkdir()
    shutil.copy(tmp_path / "chain-w0.000002.sqlite", keep)
    prune(str(tmp_path), 190, now=clock.t)
    shutil.copy(keep / "chain-w0.000002.sqlite", tmp_path)  # as if the delete had not happened yet
    assert verify(str(tmp_path))["ok"]


def test_live_rotation_prunes_and_records_it(tmp_path):
    clock = Clock()
    log = ChainLog(str(tmp_path), "w0", rotate_seconds=30 * DAY, retention_days=190, clock=clock, signer=False)
    fill(log, 250, clock, step=2 * DAY)
    log.close()
    assert log.pruned and all(p["segments"] for p in log.pruned)
    ev = [x["data"] for x in export(str(tmp_path)) if x["data"].get("event") == "pruned"]
    assert ev and ev[-1]["tombstone_hash"] == json.loads((tmp_path / "chain-w0.pruned.json").read_text())["hash"]
    assert verify(str(tmp_path))["ok"]


# ------------------------------------------------------------------------------------------- signed heads
@pytest.fixture
def key(monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cnai.label.integrity import public_b64
    priv = Ed25519PrivateKey.generate()
    raw = priv.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    monkeypatch.setenv("CNAI_GATEWAY_SIGNING_KEY", base64.b64encode(raw).decode())
    return public_b64(priv)


def _signed_log(d, n=10, **kw):
    log = ChainLog(str(d), "w0", head_every_s=0, **kw)
    fill(log, n)
    log.close()
    return log


def _truncate(d, keep_upto):
    for _n, p in segments(str(d))["w0"]:
        db = sqlite3.connect(p)
        db.execute("DELETE FROM records WHERE seq > ?", (keep_upto,))
        db.commit()
        db.close()


def test_signed_head_verifies_and_detects_tail_truncation(tmp_path, key, cnai, monkeypatch):
    _signed_log(tmp_path)
    res = verify(str(tmp_path), public_key=key)
    assert res["ok"] and res["chains"][0]["signed_head"]["seq"] == 10 and res["chains"][0]["signed_head"]["pinned"]
    assert res["chains"][0]["signed_head"]["ok"]
    head = json.loads((tmp_path / "chain-w0.head.json").read_text())
    assert "CNAI_GATEWAY_SIGNING_KEY" not in json.dumps(head) and os.environ["CNAI_GATEWAY_SIGNING_KEY"] not in \
        json.dumps(head)                                       # only the public key is stored
    _truncate(tmp_path, 7)
    c = verify(str(tmp_path), public_key=key)["chains"][0]
    assert not c["ok"] and c["broken"]["problem"].startswith("truncated: the signed head names record 10")
    r = cnai("gateway", "log", "verify", str(tmp_path), "--public-key", key)
    assert r.returncode == 1 and "truncated" in r.stdout


def test_without_signed_heads_tail_truncation_is_not_detectable(tmp_path, monkeypatch):
    monkeypatch.delenv("CNAI_GATEWAY_SIGNING_KEY", raising=False)
    _signed_log(tmp_path)
    _truncate(tmp_path, 7)
    res = verify(str(tmp_path))
    assert res["ok"] and res["chains"][0]["head_seq"] == 7   # the stated limit: a shorter chain is valid


def test_signed_head_tamper_cases(tmp_path, key):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cnai.gateway import chainlog
    # the head file edited to hide the truncation
    _signed_log(tmp_path / "a")
    _truncate(tmp_path / "a", 7)
    h = json.loads((tmp_path / "a" / "chain-w0.head.json").read_text())
    h["seq"] = 7
    (tmp_path / "a" / "chain-w0.head.json").write_text(json.dumps(h))
    c = verify(str(tmp_path / "a"), public_key=key)["chains"][0]
    assert not c["ok"] and "signature does not verify" in c["broken"]["problem"]
    # the head file deleted: caught only with a pinned key
    _signed_log(tmp_path / "b")
    os.unlink(tmp_path / "b" / "chain-w0.head.json")
    assert verify(str(tmp_path / "b"))["ok"]
    c = verify(str(tmp_path / "b"), public_key=key)["chains"][0]
    assert not c["ok"] and "no signed head" in c["broken"]["problem"]
    # re-signed with another key after a truncation
    _signed_log(tmp_path / "c")
    _truncate(tmp_path / "c", 7)
    rows = list(export(str(tmp_path / "c")))
    h = {"worker": "w0", "seq": 7, "hash": rows[-1]["hash"], "ts": rows[-1]["ts"], "segment": "x"}
    h.update(chainlog._sign(Ed25519PrivateKey.generate(), chainlog._head_message(h)))
    (tmp_path / "c" / "chain-w0.head.json").write_text(json.dumps(h))
    assert verify(str(tmp_path / "c"))["ok"]                       # unpinned: a forger's key is not known bad
    c = verify(str(tmp_path / "c"), public_key=key)["chains"][0]
    assert not c["ok"] and "another key than the pinned" in c["broken"]["problem"]
    # the whole chain rewritten consistently (every hash recomputed after an edit)
    _signed_log(tmp_path / "d")
    p = segments(str(tmp_path / "d"))["w0"][0][1]
    db = sqlite3.connect(p)
    prev = "0" * 64
    for seq, ts, w, kind, data in db.execute("SELECT seq, ts, worker, kind, data FROM records ORDER BY seq").fetchall():
        data = data.replace('"outcome":"ok"', '"outcome":"no"')
        h2 = chainlog.record_hash(prev, seq, ts, w, kind, data)
        db.execute("UPDATE records SET data=?, prev=?, hash=? WHERE seq=?", (data, prev, h2, seq))
        prev = h2
    db.commit()
    db.close()
    c = verify(str(tmp_path / "d"), public_key=key)["chains"][0]
    assert not c["ok"] and "chain rewritten" in c["broken"]["problem"]


def test_tombstone_is_signed_with_the_head_key(tmp_path, key):
    clock = _year_of_logs(tmp_path)
    prune(str(tmp_path), 190, now=clock.t)
    t = json.loads((tmp_path / "chain-w0.pruned.json").read_text())
    assert t["public_key"] == key and t["sig"]
    # no head was signed for this chain (written without the key): pinned verify says so; tombstone is good
    c = verify(str(tmp_path), public_key=key)["chains"][0]
    assert "no signed head" in c["broken"]["problem"]
    log = ChainLog(str(tmp_path), "w0", head_every_s=0, clock=clock)
    log.append("request", {"i": "late"})
    log.close()
    assert verify(str(tmp_path), public_key=key)["ok"]


def test_cli_prune_then_verify(tmp_path, cnai):
    _year_of_logs(tmp_path)                       # records from 2025: all past 190 days by now
    r = cnai("gateway", "log", "prune", str(tmp_path), "--retention-days", "190", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)["chains"][0]
    assert out["records"] > 0 and len(out["segments"]) == 12          # all but the newest segment
    r = cnai("gateway", "log", "verify", str(tmp_path), "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["chains"][0]["pruned"]["records"] == out["records"]
    assert cnai("gateway", "log", "prune", str(tmp_path / "nope")).returncode == 2


def test_group_commit_and_signed_head_name_only_committed_records(tmp_path, key):
    log = ChainLog(str(tmp_path), "w0", head_every_s=0)
    log.on_pending = lambda: None                 # the app schedules flush(); here we call it by hand
    fill(log, 3)
    assert not (tmp_path / "chain-w0.head.json").exists()
    assert list(export(str(tmp_path))) == []      # nothing committed yet: other readers see nothing
    log.flush()
    assert json.loads((tmp_path / "chain-w0.head.json").read_text())["seq"] == 3
    assert [r["seq"] for r in export(str(tmp_path))] == [1, 2, 3]
    log.close()
    assert verify(str(tmp_path), public_key=key)["ok"]


def test_fast_hash_equals_record_hash_for_any_strings():
    """The append path quotes plain strings itself; any worker/kind/time string must hash as verify does."""
    import random

    from cnai.gateway.chainlog import _dumps, _fast_hash, iso, record_hash
    rnd = random.Random(5)
    alphabet = 'abcXYZ019_.:+- "\\\n\t\u00e9中\u2028/'
    body = _dumps({"a": 1, "b": "中", "c": [1.5, None]})
    for _ in range(3000):
        w, k = ("".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 10))) for _ in range(2))
        ts = iso(rnd.uniform(0, 2e9))
        assert _fast_hash("ab" * 32, 7, ts, w, k, body) == record_hash("ab" * 32, 7, ts, w, k, body), (w, k)


ODD_VALUES = [1.234, 0.001, 1e-05, -3.22e-08, 1e16, 1.5e300, 5e-324, -0.0, float("nan"), float("inf"), 2**63 - 1,
              2**70, -(2**64), True, None, "", "请求 é \x00\x1f\x7f\u2028 \"\\ ,0.00001 :1e5", {"z": 1, "a": [1.5, {}]},
              {1: "int key"}, {"é": 1, "e": 2, "请": 3, "\U0001f600": 4}, [[], [0.1, 0.2, 0.30000000000000004]]]


@pytest.mark.parametrize("value", ODD_VALUES, ids=range(len(ODD_VALUES)))
def test_record_text_is_canonical_for_odd_values(value):
    """_dumps (orjson where it writes json.dumps's bytes, json otherwise) gives text that re-canonicalises to
    itself, which is what the record hash covers; for valid-JSON values it is json.dumps's canonical text."""
    from cnai.core.chain import canonical
    from cnai.gateway.chainlog import _dumps
    text = _dumps({"v": value, "outcome": "ok"})
    assert canonical(json.loads(text)).decode() == text
    if not (isinstance(value, float) and value != value or value in (float("inf"),)):
        assert text == json.dumps({"v": value, "outcome": "ok"}, ensure_ascii=False, sort_keys=True,
                                  separators=(",", ":"))


def test_chain_with_odd_values_verifies(tmp_path):
    log = ChainLog(str(tmp_path), "w0", signer=False)
    for v in ODD_VALUES:
        log.append("request", {"model": v, "outcome": "ok"})
    log.close()
    res = verify(str(tmp_path))
    assert res["ok"], res
    assert [r["data"]["model"] for r in export(str(tmp_path))][:3] == [1.234, 0.001, 1e-05]


class _FailingDB:
    """A connection whose group insert fails (disk full, I/O error), delegating everything else."""

    def __init__(self, db):
        self.db = db

    def executemany(self, *a):
        raise sqlite3.OperationalError("database or disk is full")

    def __getattr__(self, name):
        return getattr(self.db, name)


def test_failed_group_commit_leaves_a_whole_chain(tmp_path):
    """The rows of a group commit go in at flush(); if that write fails, none of them is in the chain and the
    next record links to the last committed one, so the chain still verifies."""
    log = ChainLog(str(tmp_path), "w0")
    log.on_pending = lambda: None
    fill(log, 2)
    log.flush()
    real = log.db
    log.db = _FailingDB(real)
    fill(log, 3)
    with pytest.raises(sqlite3.OperationalError):
        log.flush()
    assert not real.in_transaction
    log.db = real
    assert log.seq == 2
    fill(log, 2)
    log.flush()
    log.close()
    assert [r["seq"] for r in export(str(tmp_path))] == [1, 2, 3, 4]
    assert verify(str(tmp_path))["ok"]


def test_orjson_number_check_catches_every_differing_float():
    """_dumps writes json's canonical text for any float: orjson's output is used only when the cheap check
    says it cannot differ."""
    import random
    import struct

    from cnai.gateway.chainlog import _dumps
    rnd = random.Random(8)
    for i in range(40000):
        if i % 2:
            x = struct.unpack("d", struct.pack("Q", rnd.getrandbits(64)))[0]
        else:
            x = rnd.uniform(-1, 1) * 10.0 ** rnd.randint(-325, 307)
        if x != x or x in (float("inf"), float("-inf")):
            continue
        assert _dumps({"v": x, "w": [x]}) == json.dumps({"v": x, "w": [x]}, sort_keys=True, separators=(",", ":"))


def test_iso_with_the_cached_second_equals_datetime():
    """Record times: the cached-second text is datetime's own isoformat, rounding edges included."""
    import random

    from cnai.gateway.chainlog import iso
    rnd = random.Random(9)
    edges = [0.0, 0.4999995, 0.5000005, 0.9999994, 0.9999995, 0.9999996, 0.0000005, 0.0000015, 0.999999]
    for i in range(60000):
        t = rnd.uniform(0, 4e9) if i % 2 else int(rnd.uniform(0, 4e9)) + rnd.choice(edges)
        assert iso(t) == datetime.fromtimestamp(t, UTC).isoformat(timespec="microseconds"), t
    assert iso(-1.5) == datetime.fromtimestamp(-1.5, UTC).isoformat(timespec="microseconds")
