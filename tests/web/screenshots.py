"""Screenshots of every page for docs/ (docs/img/web-*.png), taken in headless Debian chromium.

    .venv/bin/python tests/web/screenshots.py [--out docs/img]

Uses `cnai serve --demo` data (the example services and two mock runs), plus one labelled image, one corpus
audit and one dossier so every page has something to show.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.web.conftest import wait_job  # noqa: E402
from tests.web.e2e import LiveServer, make_driver  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    a = ap.parse_args()
    import httpx
    from PIL import Image

    from cnai.label.codes import build_provider_code
    from cnai.web.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="cnai-shots-"))
    app = create_app(tmp / "ws", demo=True)
    (tmp / "dl").mkdir()
    a.out.mkdir(parents=True, exist_ok=True)
    with LiveServer(app) as url:
        c = httpx.Client(base_url=url, timeout=60)
        runs = [j["id"] for j in c.get("/api/v1/assessments").json()]
        for r in runs:
            wait_job(c, r, 120)
        img = tmp / "poster.png"
        Image.new("RGB", (320, 200), (30, 90, 160)).save(img)
        up = c.post("/api/v1/labels", files={"file": ("poster.png", img.read_bytes(), "image/png")}).json()[0]
        c.post(f"/api/v1/labels/{up['id']}/embed", json={"producer": build_provider_code("91110108MA01C4K7XK")})
        c.post("/api/v1/labels", files={"file": ("unlabelled.png", img.read_bytes(), "image/png")})
        lines = [json.dumps({"text": f"客户{i}的电话 1381234{i:04d}", "source": "crm-export"}, ensure_ascii=False)
                 for i in range(30)] + [json.dumps({"text": f"公开新闻 {i}", "source": "news"}, ensure_ascii=False)
                                        for i in range(60)]
        audit = c.post("/api/v1/corpus/audits", files={"file": ("corpus.jsonl", "\n".join(lines).encode(), "text/plain")},
                       data={"source_field": "source", "sample": "10"}).json()
        wait_job(c, audit["id"], 120)
        dossier = None
        if c.get("/api/v1/dossier").json()["available"]:
            dossier = c.post("/api/v1/dossiers", json={"service_id": 1, "runs": runs[:1], "audits": [audit["id"]]}).json()
            wait_job(c, dossier["id"], 180)
        pages = {
            "services": "/services", "service": "/services/1", "service-form": "/services/1/edit",
            "duties": "/services/1/duties", "duties-zh": "/services/2/duties?lang=zh", "law": "/law?lang=en",
            "law-search": "/law?q=训练数据+个人信息", "law-instrument": "/law/generative-ai",
            "labels": "/labels", "assessments": "/assessments", "assessment": f"/assessments/{runs[-1]}",
            "compare": f"/assessments/compare?a={runs[0]}&b={runs[-1]}", "corpus": "/corpus",
            "audit": f"/corpus/{audit['id']}", "dossier": "/dossier",
        }
        if dossier:
            pages["dossier-gaps"] = f"/dossier/{dossier['id']}"
        driver = make_driver(tmp / "profile", tmp / "dl", 1280, 1000)
        try:
            for name, path in pages.items():
                driver.get(url + path)
                time.sleep(0.2)
                out = a.out / f"web-{name}.png"
                driver.save_screenshot(str(out))
                print(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out)
            driver.get(url + "/services/1/duties?lang=en")  # leave the language cookie as English
        finally:
            driver.quit()
            app.fastapi.state.jobs.shutdown()


if __name__ == "__main__":
    main()
