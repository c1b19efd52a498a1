"""`cnai serve --demo`: fill an empty workspace with the example profiles and two mock assessment runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from . import services
from .db import Workspace
from .jobs import JobManager

FALLBACK = {
    "schema": "cnai/profile/v1",
    "service": {"name": "Demo chatbot", "launch_date": "2025-03-03"},
    "roles": ["provider"],
    "audience": {"public_in_mainland": True},
    "capabilities": {"generates": ["text"], "dialogue_simulating_person": True},
}


def example_files() -> list[Path]:
    """The repository's examples/ (next to src/ in a checkout); none in an installed wheel."""
    here = Path(__file__).resolve()
    for root in (Path.cwd(), *here.parents):
        d = root / "examples"
        if d.is_dir() and any(d.glob("*.yaml")):
            return sorted(d.glob("*.yaml"))
    return []


def load_demo(ws: Workspace, jobs: JobManager) -> int:
    """Idempotent: does nothing when the workspace already has services. Returns services added."""
    if ws.list_services():
        return 0
    added = 0
    for path in example_files():
        try:
            data = services.parse_profile_yaml(path.read_text(encoding="utf-8"), path.name)
        except Exception:  # noqa: BLE001 - a broken example must not stop the demo
            continue
        ws.create_service(data, author="demo", note=f"imported {path.name}")
        added += 1
    if not added:
        ws.create_service(dict(FALLBACK), author="demo", note="demo profile")
        added = 1
    # one duty marked done, so the due / overdue / done states all show
    first = ws.list_services()[0]
    res = services.scope_dict(ws.get_service(first["id"])["data"])
    applying = [o for o in res["obligations"] if o["status"] == "applies"]
    if applying:
        ws.mark_done(first["id"], applying[0]["id"], dt.date.today().isoformat(), "compliance lead", None,
                     "demo: marked done")
    for target in ("mock:mixed", "mock:refuse"):
        job = ws.add_job("assess", f"demo {target}", {"target": target, "banks": ["starter"], "sample": "200",
                                                      "seed": 1, "concurrency": 16})
        jobs.start(job)
    return added
