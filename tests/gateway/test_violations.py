"""Violation counters and suspensions are shared by every worker on one log directory (SQLite, WAL)."""

from __future__ import annotations

import threading

from cnai.gateway.app import Violations
from cnai.gateway.chainlog import export
from cnai.gateway.policy import DEFAULT_POLICY_YAML, Suspension

from .test_proxy import chat

RULE = Suspension(violations=3, window_hours=1, suspend_hours=2)


def test_two_gateway_instances_share_counters_and_suspension(start_gateway, client, tmp_path):
    pol = DEFAULT_POLICY_YAML.replace("violations: 5", "violations: 2")
    shared = str(tmp_path / "shared-logs")
    a, gw_a, _ = start_gateway(pol, log_dir=shared)
    b, gw_b, _ = start_gateway(pol, log_dir=shared)
    assert {gw_a.worker, gw_b.worker} == {"w0", "w1"}          # two chains, one counter store
    h = {"x-cnai-user": "u7"}
    # one violation on each instance: neither alone reaches 2, together they do
    assert chat(client, a, "x", model="say:自制炸药", headers=h).json()["choices"][0]["finish_reason"] == "content_filter"
    assert chat(client, a, "hello", headers=h).status_code == 200
    assert chat(client, b, "x", model="say:自制炸药", headers=h).json()["choices"][0]["finish_reason"] == "content_filter"
    for base in (a, b):                                        # both instances now refuse the user
        r = chat(client, base, "hello", headers=h)
        assert r.status_code == 403 and r.json()["error"]["code"] == "user_suspended"
    assert chat(client, a, "hello", headers={"x-cnai-user": "someone-else"}).status_code == 200
    events = [x for x in export(shared) if x["data"].get("event") == "user_suspended"]
    assert len(events) == 1 and events[0]["worker"] == gw_b.worker


def test_window_expiry_and_restart(tmp_path):
    v = Violations(str(tmp_path))
    t = 1_000_000.0
    assert not v.add("u", RULE, t) and not v.add("u", RULE, t + 10)
    assert not v.add("u", RULE, t + 3601)                      # the first one left the 1-hour window
    v.close()
    v = Violations(str(tmp_path))                              # a restarted worker keeps the counts
    assert v.add("u", RULE, t + 3602)
    assert v.suspended("u", t + 3603) == t + 3602 + 7200
    assert v.suspended("u", t + 3602 + 7201) is None           # the suspension ends
    assert v.suspended("other", t) is None


def test_concurrent_counting_loses_no_event(tmp_path):
    """Many threads on separate connections (like workers) count one user: exactly one suspension."""
    rule = Suspension(violations=40, window_hours=1, suspend_hours=1)
    stores = [Violations(str(tmp_path)) for _ in range(4)]
    hits = []

    def work(v):
        for _ in range(10):
            hits.append(v.add("u", rule, 5000.0))

    ts = [threading.Thread(target=work, args=(v,)) for v in stores]
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    assert hits.count(True) == 1 and stores[0].suspended("u", 5001.0)


def _selects(v: Violations) -> list[str]:
    seen: list[str] = []
    v.db.set_trace_callback(lambda sql: seen.append(sql) if sql.startswith("SELECT until") else None)
    return seen


def test_suspension_check_is_cached_and_sees_another_connection(tmp_path):
    """Repeated checks read SQLite once; a suspension counted on another connection (as another worker) is
    seen by the very next check."""
    a, b = Violations(str(tmp_path)), Violations(str(tmp_path))
    sel = _selects(a)
    for _ in range(5):
        assert a.suspended("u", 100.0) is None
    assert len(sel) == 1                                        # cached, including "not suspended"
    for i in range(3):
        b.add("u", RULE, 100.0 + i)
    assert a.suspended("u", 103.0) == 102.0 + 7200             # the next check after b's commit
    assert len(sel) == 2
    assert a.suspended("u", 103.0 + 7200) is None              # the cached value still expires by time
    a.add("v", RULE, 200.0)                                    # own count: cache dropped as well
    assert a.suspended("u", 104.0) == 102.0 + 7200 and len(sel) == 3


def test_suspension_recorded_by_another_process_is_seen(tmp_path):
    import subprocess
    import sys
    a = Violations(str(tmp_path))
    assert a.suspended("p", 100.0) is None
    code = ("from cnai.gateway.app import Violations\nfrom cnai.gateway.policy import Suspension\n"
            f"v = Violations({str(tmp_path)!r})\n"
            "r = Suspension(violations=2, window_hours=1, suspend_hours=2)\n"
            "v.add('p', r, 100.0)\nassert v.add('p', r, 101.0)\nv.close()\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert a.suspended("p", 102.0) == 101.0 + 7200
