"""Authorship evidence (issue #17): importers on files written exactly as WebUI and ComfyUI write them,
the hash chain and its tamper detection, the label link, the report."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess

import pytest
from PIL import Image, PngImagePlugin

from cnai.provenance.importers import parse_webui, read_generation_record
from cnai.provenance.store import Store

PRODUCER = "001191110102MACQD9K64010000"
WEBUI = ("a castle on a hill at sunset, oil painting <lora:detail_tweaker:0.6>\n"
         "Negative prompt: blurry, lowres, watermark\n"
         "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567, Size: 768x512, "
         'Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Lora hashes: "detail_tweaker: 3e2a1b9c", Hires upscale: 2, Version: v1.7.0')


def comfy_prompt(seed: int, text: str, steps: int = 20) -> dict:
    # the API graph of ComfyUI's default text-to-image workflow, as SaveImage writes it into "prompt"
    return {
        "3": {"inputs": {"seed": seed, "steps": steps, "cfg": 8, "sampler_name": "euler", "scheduler": "normal",
                         "denoise": 1, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
                         "latent_image": ["5", 0]}, "class_type": "KSampler"},
        "4": {"inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}, "class_type": "CheckpointLoaderSimple"},
        "5": {"inputs": {"width": 512, "height": 512, "batch_size": 1}, "class_type": "EmptyLatentImage"},
        "6": {"inputs": {"text": text, "clip": ["4", 1]}, "class_type": "CLIPTextEncode"},
        "7": {"inputs": {"text": "text, watermark", "clip": ["4", 1]}, "class_type": "CLIPTextEncode"},
        "8": {"inputs": {"samples": ["3", 0], "vae": ["4", 2]}, "class_type": "VAEDecode"},
        "9": {"inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}, "class_type": "SaveImage"},
    }


def png(path, color, texts: dict[str, str] | None = None, size=(64, 48)):
    info = PngImagePlugin.PngInfo()
    for k, v in (texts or {}).items():
        info.add_text(k, v)  # what WebUI and ComfyUI call: tEXt, or iTXt for non-Latin-1 text
    img = Image.new("RGB", size, color)
    for x in range(0, size[0], 8):  # some structure so perceptual hashes differ between pictures
        for y in range(size[1]):
            img.putpixel((x, y), (color[0] // 2, 255 - color[1], y * 4 % 256))
    img.save(path, pnginfo=info)
    return path


@pytest.fixture
def store(tmp_path):
    with Store.init(tmp_path / "store", title="城堡系列", author="李华") as st:
        yield st


def test_webui_parameters_are_read_field_by_field():
    rec = parse_webui(WEBUI)
    assert rec["prompt"].startswith("a castle on a hill") and rec["negative_prompt"] == "blurry, lowres, watermark"
    assert (rec["steps"], rec["sampler"], rec["cfg"], rec["seed"]) == (28, "DPM++ 2M Karras", 7, 1234567)
    assert (rec["width"], rec["height"], rec["model"], rec["model_hash"]) == (768, 512, "v1-5-pruned-emaonly", "6ce0161689")
    assert rec["loras"] == [{"name": "detail_tweaker", "hash": "3e2a1b9c", "weight": 0.6}]
    assert rec["extra"] == {"Hires upscale": "2"} and rec["tool_version"] == "v1.7.0"


def test_png_chunks_from_webui_and_comfyui(tmp_path):
    a = png(tmp_path / "00001-1234567.png", (200, 80, 40), {"parameters": WEBUI})
    zh = WEBUI.replace("a castle on a hill at sunset", "山顶上的城堡，日落")  # non-Latin-1: Pillow writes iTXt
    b = png(tmp_path / "00002.png", (200, 80, 40), {"parameters": zh})
    c = png(tmp_path / "ComfyUI_00001_.png", (10, 90, 200), {
        "prompt": json.dumps(comfy_prompt(156680208700286, "beautiful scenery nature glass bottle")),
        "workflow": json.dumps({"last_node_id": 9, "nodes": [{"id": i} for i in range(1, 10)]})})
    ra, rb, rc = (read_generation_record(p) for p in (a, b, c))
    assert ra["record_source"] == "png:parameters" and ra["seed"] == 1234567
    assert rb["prompt"].startswith("山顶上的城堡")
    assert rc["tool"] == "comfyui" and rc["seed"] == 156680208700286 and rc["sampler"] == "euler"
    assert rc["prompt"] == "beautiful scenery nature glass bottle" and rc["negative_prompt"] == "text, watermark"
    assert (rc["model"], rc["width"], rc["steps"], rc["workflow_nodes"]) == ("v1-5-pruned-emaonly.safetensors", 512, 20, 9)


def test_folder_import_rebuilds_iterations_and_counts_skips(tmp_path, store, cnai):
    src = tmp_path / "outputs"
    src.mkdir()
    for i, (seed, steps) in enumerate([(1, 20), (2, 20), (2, 30)]):
        p = png(src / f"img{i}.png", (40 * i + 10, 100, 60),
                {"prompt": json.dumps(comfy_prompt(seed, "a quiet harbour at dawn, fishing boats", steps))})
        os.utime(p, (1_700_000_000 + i, 1_700_000_000 + i))
    png(src / "plain.png", (1, 2, 3))                                    # no metadata
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x10\x00tEXt")  # chunk runs past the end
    Image.new("RGB", (8, 8)).save(src / "side.jpg")
    (src / "side.jpg.json").write_text(json.dumps({"prompt": "sidecar prompt", "seed": 9, "model": "m"}))
    r = cnai("provenance", "import", str(store.root), str(src), "--format", "json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["counts"] == {"seen": 6, "imported": 4, "duplicate": 0, "no_record": 1, "error": 1}
    reasons = {os.path.basename(p["path"]): p["reason"] for p in res["problems"]}
    assert "no generation metadata" in reasons["plain.png"] and "runs past the end" in reasons["broken.png"]
    gens = [e.body for e in store.entries("generation") if e.body.get("tool") == "comfyui"]
    assert len({g["lineage"] for g in gens}) == 1
    assert [[c["field"] for c in g["changes_from_previous"]] for g in gens] == [[], ["seed"], ["steps"]]
    again = json.loads(cnai("provenance", "import", str(store.root), str(src), "--format", "json").stdout)
    assert again["counts"]["duplicate"] == 4 and again["counts"]["imported"] == 0
    assert store.verify().ok


def test_chain_detects_edits_deletions_and_refuses_updates(store, cnai):
    for i in range(5):
        store.add("note", {"note": f"step {i}"})
    assert cnai("provenance", "verify", str(store.root)).returncode == 0
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        with store.db:
            store.db.execute("UPDATE entries SET body = '{}' WHERE seq = 3")
    db = sqlite3.connect(store.root / "provenance.sqlite")
    db.executescript("DROP TRIGGER entries_no_update; UPDATE entries SET body = '{\"note\":\"step X\"}' WHERE seq = 4;")
    db.commit()
    r = cnai("provenance", "verify", str(store.root))
    assert r.returncode == 1 and "entry 4" in r.stderr and "does not match its hash" in r.stderr
    db.executescript("DROP TRIGGER entries_no_delete; DELETE FROM entries WHERE seq >= 3 AND seq <= 4;")
    db.commit()
    r = cnai("provenance", "verify", str(store.root), "--format", "json")
    assert r.returncode == 1 and json.loads(r.stdout)["first_broken_seq"] == 5
    assert "entry 3 is missing" in json.loads(r.stdout)["reason"]


def test_signed_entries_and_forged_signature(tmp_path, monkeypatch, cnai):
    import base64

    monkeypatch.setenv("CNAI_PROVENANCE_SIGNING_KEY", base64.b64encode(bytes(range(32))).decode())
    with Store.init(tmp_path / "s", title="t") as st:
        st.add("note", {"note": "signed"})
        st.add("note", {"note": "signed too"})
        assert st.verify(signatures="all").signed == 3
    monkeypatch.delenv("CNAI_PROVENANCE_SIGNING_KEY")
    assert cnai("provenance", "verify", str(tmp_path / "s")).returncode == 0  # public key is in the store
    db = sqlite3.connect(tmp_path / "s" / "provenance.sqlite")
    sig = db.execute("SELECT sig FROM entries WHERE seq = 1").fetchone()[0]
    db.executescript("DROP TRIGGER entries_no_update")
    db.execute("UPDATE entries SET sig = ? WHERE seq = 2", (sig,))
    db.commit()
    assert cnai("provenance", "verify", str(tmp_path / "s")).returncode == 0  # the last signature is intact
    r = cnai("provenance", "verify", str(tmp_path / "s"), "--signatures", "all")
    assert r.returncode == 1 and "entry 2" in r.stderr and "signature does not verify" in r.stderr
    db.execute("UPDATE entries SET sig = ? WHERE seq = 3", (sig,))
    db.commit()
    r = cnai("provenance", "verify", str(tmp_path / "s"))  # now the newest signature is the forged one
    assert r.returncode == 1 and "signature does not verify" in r.stderr


def test_label_link_and_trace(tmp_path, store, cnai):
    out = png(tmp_path / "final.png", (90, 30, 30), {"parameters": WEBUI})
    assert cnai("provenance", "import", str(store.root), str(out)).returncode == 0
    r = cnai("provenance", "label", str(store.root), str(out), "--producer", PRODUCER, "-o", str(tmp_path / "lab"))
    assert r.returncode == 0, r.stderr
    labelled = tmp_path / "lab" / "final.png"
    read = json.loads(cnai("label", "read", str(labelled), "--format", "json").stdout)
    rec = read[0] if isinstance(read, list) else read
    assert rec["label"]["ReservedCode1"].startswith("cnaiprov1:")
    t = json.loads(cnai("provenance", "trace", str(store.root), str(labelled), "--format", "json").stdout)
    assert t["found"] and t["via"] == "label ReservedCode1" and t["origin"]["body"]["seed"] == 1234567
    assert any(e["kind"] == "label" for e in t["related"])
    # the original, unlabelled output is found by its hash; an unknown file is not found (exit 1)
    assert json.loads(cnai("provenance", "trace", str(store.root), str(out), "--format", "json").stdout)["via"] == "file SHA-256"
    other = png(tmp_path / "other.png", (1, 1, 1))
    assert cnai("provenance", "trace", str(store.root), str(other)).returncode == 1


def test_report_sections_escaping_and_pdf(tmp_path, store, cnai):
    a = png(tmp_path / "a.png", (200, 10, 10), {"parameters": WEBUI.replace("a castle", "<script>alert(1)</script> castle")})
    b = png(tmp_path / "b.png", (10, 200, 10), {"parameters": WEBUI.replace("Seed: 1234567", "Seed: 7")})
    assert cnai("provenance", "import", str(store.root), str(a), str(b)).returncode == 0
    assert cnai("provenance", "select", str(store.root), str(a), "--discard", "--reason", "构图太满").returncode == 0
    assert cnai("provenance", "select", str(store.root), str(b), "--final", "--reason", "光线更好").returncode == 0
    edited = png(tmp_path / "b-edit.png", (10, 180, 40))
    assert cnai("provenance", "edit", str(store.root), "--before", str(b), "--after", str(edited),
                "--tool", "GIMP 2.10", "--description", "去掉右下角杂物").returncode == 0
    r = cnai("provenance", "report", str(store.root), "-o", str(tmp_path / "r.html"), "--pdf", str(tmp_path / "r.pdf"))
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "r.html").read_text()
    for heading in ("模型与参数的选择", "提示词的设计与演进", "迭代次数与每次的变化", "对候选结果的选择", "后期编辑",
                    "时间线", "如何自行校验", "本记录不能证明的内容", "不是法律意见"):
        assert heading in html, heading
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "保留 0，舍弃 1，定稿 1" in html and "(2023)京0491民初11279号" in html
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True).stdout
        assert "创作过程证据报告" in text and "后期编辑" in text


def test_report_says_when_a_factor_has_no_record(tmp_path, store):
    from cnai.provenance.report import render_html

    html = render_html(store)
    assert html.count("【记录中无此项】") == 5


@pytest.mark.parametrize("args, code, message", [
    (["verify", "{missing}"], 2, "no provenance store"),
    (["init", "{userdir}"], 2, "not made by cnai"),
    (["init", "{store}"], 2, "already exists"),
    (["select", "{store}", "{img}"], 2, "--keep, --discard or --final"),
    (["select", "{store}", "{img}", "--keep"], 2, "no entry for this file"),
    (["report", "{store}"], 2, "-o FILE.html"),
    (["report", "{store}", "-o", "{dbfile}"], 2, "overwrite the input"),
    (["label", "{store}", "{img}", "--producer", "123", "-o", "{out}"], 2, "--producer"),
    (["add", "{store}", "--prompt", "x", "--steps", "0"], 2, "--steps"),
    (["correct", "{store}", "ffff", "--note", "x"], 2, "no such entry"),
])
def test_bad_input(tmp_path, store, cnai, args, code, message):
    user = tmp_path / "userdir"
    user.mkdir()
    (user / "mine.txt").write_text("keep me")
    img = png(tmp_path / "x.png", (5, 5, 5))
    db = store.root / "provenance.sqlite"
    before = {p: p.read_bytes() for p in (user / "mine.txt", img, db)}
    subs = {"{missing}": str(tmp_path / "nope"), "{userdir}": str(user), "{store}": str(store.root), "{img}": str(img),
            "{dbfile}": str(db), "{out}": str(tmp_path / "o")}
    r = cnai("provenance", *[subs.get(a, a) for a in args])
    assert r.returncode == code, (r.stdout, r.stderr)
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert all(p.read_bytes() == b for p, b in before.items() if p != db)
    assert store.verify().ok


def test_hostile_chunks_are_per_file_errors(tmp_path, store):
    from cnai.provenance.importers import import_paths

    deep = png(tmp_path / "deep.png", (1, 1, 1), {"prompt": '{"a":' * 5000 + "1" + "}" * 5000})
    nosampler = png(tmp_path / "ns.png", (2, 2, 2), {"prompt": json.dumps({"1": {"class_type": "SaveImage", "inputs": {}}})})
    ok = png(tmp_path / "ok.png", (3, 3, 3), {"parameters": WEBUI})
    res = import_paths(store, [deep, nosampler, ok])
    assert res["counts"]["imported"] == 1 and res["counts"]["error"] == 2
    reasons = " | ".join(p["reason"] for p in res["problems"])
    assert "nested" in reasons and "no KSampler" in reasons


def test_trace_goes_from_an_edited_labelled_file_back_through_the_edit(tmp_path, store, cnai):
    from cnai.provenance.samples import edited, write_session

    outs = write_session(tmp_path / "s")
    assert cnai("provenance", "import", str(store.root), str(tmp_path / "s")).returncode == 0
    after = edited(outs[3], tmp_path / "after.png")
    assert cnai("provenance", "edit", str(store.root), "--before", str(outs[3]), "--after", str(after),
                "--tool", "GIMP", "--description", "lighter sky").returncode == 0
    assert cnai("provenance", "label", str(store.root), str(after), "--producer", PRODUCER,
                "-o", str(tmp_path / "lab")).returncode == 0
    t = json.loads(cnai("provenance", "trace", str(store.root), str(tmp_path / "lab" / "after.png"), "--format", "json").stdout)
    assert t["origin"]["kind"] == "edit"
    # the WebUI lineage up to the edited output: seeds 3301, 3302, 3302, 3302 (samples.STEPS[:4])
    assert [h["body"]["seed"] for h in t["history"]] == [3301, 3302, 3302, 3302]
    edit = next(e for e in store.entries("edit"))
    assert 0 < edit.body["dhash_distance"] <= 64


def test_store_on_read_only_media(tmp_path, cnai):
    mnt = tmp_path / "ro"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "none", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root): read-only media not simulated")
    try:
        with Store.init(mnt / "s", title="archived") as st:
            st.add("note", {"note": "before archiving"})
        assert subprocess.run(["mount", "-o", "remount,ro", str(mnt)]).returncode == 0
        assert cnai("provenance", "verify", str(mnt / "s")).returncode == 0
        assert cnai("provenance", "report", str(mnt / "s"), "-o", str(tmp_path / "r.html")).returncode == 0
        r = cnai("provenance", "attach", str(mnt / "s"), str(tmp_path / "r.html"))
        assert r.returncode == 2 and "read-only media" in r.stderr and "Traceback" not in r.stderr
    finally:
        subprocess.run(["umount", str(mnt)])


def test_import_of_a_file_labelled_by_cnai_label_embed_links_its_produce_id(tmp_path, store, cnai):
    (tmp_path / "in").mkdir()
    src = png(tmp_path / "in" / "a.png", (50, 60, 70), {"parameters": WEBUI})
    r = cnai("label", "embed", str(src), "--producer", PRODUCER, "--produce-id", "PID-0042", "-o", str(tmp_path / "lab"))
    assert r.returncode == 0, r.stderr
    assert cnai("provenance", "import", str(store.root), str(tmp_path / "lab")).returncode == 0
    assert store.entries("generation")[0].body["produce_id"] == "PID-0042"
    t = json.loads(cnai("provenance", "trace", str(store.root), str(tmp_path / "lab" / "a.png"), "--format", "json").stdout)
    assert t["found"] and t["origin"]["body"]["produce_id"] == "PID-0042"


def test_oversized_text_chunk_is_refused_per_file(tmp_path):
    from cnai.provenance.importers import RecordError, png_text_chunks

    p = png(tmp_path / "big.png", (1, 1, 1), {"workflow": "x" * 5000, "parameters": WEBUI})
    with pytest.raises(RecordError, match="over the 4,096 limit"):
        png_text_chunks(p, max_text=4096)
    assert "parameters" in png_text_chunks(p)
