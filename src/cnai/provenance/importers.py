"""Read the generation records that image tools already write, and import folders of outputs.

- Stable Diffusion WebUI (AUTOMATIC1111 and forks): a PNG text chunk `parameters` holding the prompt, an
  optional "Negative prompt:" part, and a last line of "Key: value" pairs (Steps, Sampler, CFG scale, Seed,
  Size, Model hash, Model, Lora hashes, ...). JPEG/WebP outputs carry the same text in EXIF UserComment.
- ComfyUI: PNG text chunks `prompt` (the API graph: node id -> class_type + inputs, links as
  [node id, output index]) and `workflow` (the editor graph). The sampler, checkpoint, LoRA, ControlNet and
  the prompt texts wired to the sampler's positive/negative inputs are read from the API graph.
- A JSON sidecar `<image>.json` (or `<image>.<ext>.json`) with the fields of a generation entry.

Chunks are found by walking the PNG chunk headers and seeking past image data, so a 1 MB image costs a few
reads. Text is capped (MAX_TEXT) and JSON is parsed with depth limits; a bad record is reported per file.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cnai.core.loaders import parse_json
from cnai.errors import InputError

PNG_SIG = b"\x89PNG\r\n\x1a\n"
MAX_TEXT = 8 * 1024 * 1024
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
PARAM_KEYS = ("prompt", "negative_prompt", "model", "model_version", "model_hash", "sampler", "scheduler",
              "steps", "seed", "cfg", "width", "height", "denoise", "loras", "controlnets", "tool")


class RecordError(InputError):
    """A generation record that is present but cannot be read."""


def png_text_chunks(path: str | os.PathLike, *, max_text: int = MAX_TEXT) -> dict[str, str]:
    """{keyword: text} of every tEXt/iTXt/zTXt chunk, reading only chunk headers and text chunks."""
    from cnai.label.formats.images import _png_text  # one decoder for tEXt/iTXt/zTXt bodies

    out: dict[str, str] = {}
    with open(path, "rb") as fh:
        if fh.read(8) != PNG_SIG:
            raise RecordError("not a PNG (bad signature)", path=str(path))
        size = os.fstat(fh.fileno()).st_size
        pos = 8
        while pos + 8 <= size:
            head = fh.read(8)
            if len(head) < 8:
                break
            length, typ = struct.unpack(">I4s", head)
            if pos + 12 + length > size:
                raise RecordError(f"PNG chunk {typ.decode('latin-1')!r} at byte {pos} runs past the end of the file",
                                  path=str(path))
            if typ in (b"tEXt", b"iTXt", b"zTXt"):
                if length > max_text:
                    raise RecordError(f"text chunk at byte {pos} is {length:,} bytes, over the {max_text:,} limit",
                                      path=str(path))
                kv = _png_text(typ, fh.read(length))
                fh.seek(4, os.SEEK_CUR)
                if kv:
                    out[kv[0]] = kv[1].decode("utf-8", "replace")
            else:
                fh.seek(length + 4, os.SEEK_CUR)
            pos += 12 + length
            if typ == b"IEND":
                break
    return out


# ---------------------------------------------------------------- WebUI "parameters"
_PARAM_RE = re.compile(r'\s*([A-Za-z][\w \-/]*?):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')
_WEBUI_MAP = {"steps": "steps", "sampler": "sampler", "schedule type": "scheduler", "cfg scale": "cfg",
              "seed": "seed", "model": "model", "model hash": "model_hash", "denoising strength": "denoise",
              "version": "tool_version"}


def _number(v: str) -> Any:
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


def parse_webui(text: str) -> dict:
    """A WebUI `parameters` text -> generation fields (unknown keys kept under `extra`)."""
    lines = text.strip("\n").split("\n")
    params_line = ""
    if lines and re.match(r"\s*Steps:\s*\d", lines[-1]):
        params_line = lines.pop()
    neg_at = next((i for i, ln in enumerate(lines) if ln.startswith("Negative prompt:")), None)
    if neg_at is None:
        prompt, negative = "\n".join(lines), ""
    else:
        prompt = "\n".join(lines[:neg_at])
        negative = "\n".join(lines[neg_at:])[len("Negative prompt:"):].strip()
    rec: dict[str, Any] = {"tool": "sd-webui", "prompt": prompt.strip(), "negative_prompt": negative}
    extra: dict[str, Any] = {}
    for key, value in _PARAM_RE.findall(params_line):
        key, value = key.strip(), value.strip()
        if value.startswith('"') and value.endswith('"'):
            try:
                value = parse_json(value, source="parameters")
            except InputError:
                value = value[1:-1]
        k = key.lower()
        if k == "size" and re.fullmatch(r"\d+x\d+", str(value)):
            rec["width"], rec["height"] = (int(x) for x in str(value).split("x"))
        elif k in _WEBUI_MAP:
            rec[_WEBUI_MAP[k]] = _number(value) if isinstance(value, str) else value
        elif k == "lora hashes":
            rec["loras"] = [{"name": p.split(":")[0].strip(), "hash": p.split(":")[-1].strip()}
                            for p in str(value).split(",") if p.strip()]
        elif k.startswith("controlnet"):
            rec.setdefault("controlnets", []).append({"unit": key, "settings": value})
        else:
            extra[key] = value
    # <lora:name:weight> tags in the prompt carry the weights the hashes line lacks
    tags = re.findall(r"<lora:([^:>]+):([\d.]+)>", prompt)
    if tags:
        by_name = {lo["name"]: lo for lo in rec.get("loras", [])}
        for name, weight in tags:
            by_name.setdefault(name, {"name": name})["weight"] = float(weight)
        rec["loras"] = list(by_name.values())
    if extra:
        rec["extra"] = extra
    if not params_line and neg_at is None:
        raise RecordError("the parameters text has no settings line (Steps: ...)")
    return rec


# ---------------------------------------------------------------- ComfyUI
def _resolve_text(graph: dict, ref: Any, depth: int = 0) -> str:
    """Follow a link [node, idx] to the text of a CLIPTextEncode (or a string primitive)."""
    if isinstance(ref, str):
        return ref
    if not (isinstance(ref, list) and ref and depth < 16):
        return ""
    node = graph.get(str(ref[0]))
    if not isinstance(node, dict):
        return ""
    inputs = node.get("inputs") or {}
    for key in ("text", "text_g", "string", "value", "conditioning", "conditioning_1"):
        if key in inputs:
            return _resolve_text(graph, inputs[key], depth + 1)
    return ""


def parse_comfy(prompt_json: str, workflow_json: str | None = None) -> dict:
    graph = parse_json(prompt_json, source="ComfyUI prompt chunk", max_depth=64)
    if not isinstance(graph, dict):
        raise RecordError("ComfyUI prompt chunk is not a JSON object of nodes")
    rec: dict[str, Any] = {"tool": "comfyui"}
    samplers, loras, controls = [], [], []
    for nid, node in sorted(graph.items(), key=lambda kv: str(kv[0])):
        if not isinstance(node, dict):
            continue
        ctype, inputs = str(node.get("class_type", "")), node.get("inputs") or {}
        if not isinstance(inputs, dict):
            continue
        if ctype.startswith("KSampler"):
            samplers.append((nid, inputs))
        elif "CheckpointLoader" in ctype or ctype == "UNETLoader":
            rec["model"] = inputs.get("ckpt_name") or inputs.get("unet_name")
        elif ctype.startswith("LoraLoader"):
            loras.append({"name": inputs.get("lora_name"), "weight": inputs.get("strength_model")})
        elif ctype.startswith("ControlNetLoader"):
            controls.append({"model": inputs.get("control_net_name")})
        elif ctype in ("EmptyLatentImage", "EmptySD3LatentImage"):
            rec["width"], rec["height"] = inputs.get("width"), inputs.get("height")
        elif ctype == "LoadImage":
            rec.setdefault("reference_images", []).append(inputs.get("image"))
    if not samplers:
        raise RecordError("ComfyUI prompt graph has no KSampler node")
    _nid, s = samplers[0]
    for src, dst in (("seed", "seed"), ("noise_seed", "seed"), ("steps", "steps"), ("cfg", "cfg"),
                     ("sampler_name", "sampler"), ("scheduler", "scheduler"), ("denoise", "denoise")):
        if src in s and not isinstance(s[src], list):
            rec[dst] = s[src]
    rec["prompt"] = _resolve_text(graph, s.get("positive"))
    rec["negative_prompt"] = _resolve_text(graph, s.get("negative"))
    if loras:
        rec["loras"] = loras
    if controls:
        rec["controlnets"] = controls
    if len(samplers) > 1:
        rec["extra"] = {"samplers": len(samplers)}
    if workflow_json:
        try:
            wf = parse_json(workflow_json, source="ComfyUI workflow chunk", max_depth=64)
            rec["workflow_nodes"] = len(wf.get("nodes", [])) if isinstance(wf, dict) else None
        except InputError:
            rec["workflow_nodes"] = None  # the API graph is what counts; a broken editor graph is noted
            rec.setdefault("warnings", []).append("workflow chunk is not valid JSON")
    return rec


# ---------------------------------------------------------------- any file
def _sidecar(path: Path) -> Path | None:
    for cand in (path.with_suffix(path.suffix + ".json"), path.with_suffix(".json")):
        if cand.is_file() and cand != path:
            return cand
    return None


def _exif_user_comment(path: Path) -> str | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            exif = im.getexif().get_ifd(0x8769)
            raw = exif.get(0x9286)
    except Exception:  # noqa: BLE001 - an unreadable image simply has no comment
        return None
    if isinstance(raw, bytes):
        head, body = raw[:8], raw[8:]
        return body.decode("utf-16-be" if head.startswith(b"UNICODE") else "utf-8", "replace").strip("\x00")
    return raw if isinstance(raw, str) else None


def read_generation_record(path: str | os.PathLike) -> dict | None:
    """The generation record an image carries (or its sidecar), or None when it has none."""
    p = Path(path)
    side = _sidecar(p)
    if side is not None:
        from cnai.core.loaders import load_json

        data = load_json(side, max_depth=32)
        if not isinstance(data, dict):
            raise RecordError("sidecar JSON is not an object", path=str(side))
        rec = {k: data[k] for k in PARAM_KEYS if k in data}
        rec.setdefault("tool", "sidecar")
        rec["record_source"] = side.name
        return rec
    with open(p, "rb") as fh:
        head = fh.read(8)
    if head == PNG_SIG:
        chunks = png_text_chunks(p)
        if "prompt" in chunks and chunks["prompt"].lstrip().startswith("{"):
            rec = parse_comfy(chunks["prompt"], chunks.get("workflow"))
            rec["record_source"] = "png:prompt"
            return rec
        if "parameters" in chunks:
            rec = parse_webui(chunks["parameters"])
            rec["record_source"] = "png:parameters"
            return rec
        return None
    text = _exif_user_comment(p)
    if text and "Steps:" in text:
        rec = parse_webui(text)
        rec["record_source"] = "exif:UserComment"
        return rec
    return None


def _label_produce_id(path: Path) -> str | None:
    """The ProduceID of a GB 45438 label already in the file (e.g. written by `cnai label embed`), so the
    log and the label point at each other; the full label reader runs only when a label is likely there."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
        if b"AIGC" not in head:
            return None
        from cnai.label.api import read_file

        lab = read_file(str(path), with_c2pa=False).get("label") or {}
    except Exception:  # noqa: BLE001 - a label we cannot read is simply not linked
        return None
    return lab.get("ProduceID") or None


def iter_images(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            from cnai.core.safeio import is_cnai_output_dir

            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not is_cnai_output_dir(Path(root, d)))
                for f in sorted(files):
                    if Path(f).suffix.lower() in IMAGE_SUFFIXES:
                        yield Path(root, f)
        elif p.exists():
            yield p
        else:
            raise InputError("no such file or directory", path=str(p))


def import_paths(store, paths: Iterable[str | os.PathLike], *, keep_files: bool = True, progress=None) -> dict:
    """Import every image under paths as generation entries; returns counts and per-file problems.

    Files are taken in modification-time order (the order they were made). A file already in the store
    (same SHA-256) is skipped and counted; a file without a record is counted; a malformed record is
    reported with its reason, and the rest of the batch goes on. One transaction per file.
    """
    from cnai.provenance.lineage import describe_changes
    from cnai.provenance.store import sha256_file

    files = sorted(iter_images(paths), key=lambda f: (f.stat().st_mtime_ns, str(f)))
    known = {f["sha256"] for f in store.files()}
    counts = {"seen": len(files), "imported": 0, "duplicate": 0, "no_record": 0, "error": 0}
    problems: list[dict] = []
    prev_by_group: dict[str, dict] = {}
    for e in store.entries("generation"):  # continue lineages across imports
        prev_by_group[e.body.get("lineage", "")] = e.body
    for f in files:
        try:
            digest = sha256_file(f)
            if digest in known:
                counts["duplicate"] += 1
                problems.append({"path": str(f), "reason": "already in the store (same SHA-256)"})
                continue
            rec = read_generation_record(f)
            if rec is None:
                counts["no_record"] += 1
                problems.append({"path": str(f), "reason": "no generation metadata (no parameters/prompt chunk, "
                                                           "EXIF comment or JSON sidecar)"})
                continue
            from cnai.provenance.lineage import lineage_key

            rec["lineage"] = lineage_key(rec)
            before = prev_by_group.get(rec["lineage"])
            rec["changes_from_previous"] = describe_changes(before, rec) if before else []
            # no perceptual hash here: decoding every image would cost 2/3 of the import; `edit` computes it
            rec["outputs"] = [{"name": f.name, "sha256": digest}]
            rec["imported_from"] = str(f)
            produce_id = _label_produce_id(f)
            if produce_id:
                rec["produce_id"] = produce_id
            if keep_files:
                store.keep_blob(f, digest)
            store.add("generation", rec, files=[{"sha256": digest, "role": "output", "name": f.name,
                                                 "produce_id": produce_id}])
            prev_by_group[rec["lineage"]] = rec
            known.add(digest)
            counts["imported"] += 1
        except InputError as exc:
            counts["error"] += 1
            problems.append({"path": str(f), "reason": str(exc).removeprefix(f"{f}: ")})
        except OSError as exc:
            counts["error"] += 1
            problems.append({"path": str(f), "reason": exc.strerror or str(exc)})
        if progress:
            progress()
    return {"counts": counts, "problems": problems}
