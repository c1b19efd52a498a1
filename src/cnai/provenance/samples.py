"""A small creative session for demos and docs: test-pattern images with the generation records a
Stable Diffusion WebUI or ComfyUI run would write (no model: Pillow draws the pictures).

    python -m cnai.provenance.samples OUTDIR      # writes 6 PNGs and prints their names
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

STEPS = [  # (prompt, negative, seed, steps, cfg): an artist refining one idea
    ("mountain temple in morning mist, ink wash painting", "photo, text", 3301, 20, 7.0),
    ("mountain temple in morning mist, ink wash painting", "photo, text", 3302, 20, 7.0),
    ("mountain temple in morning mist, ink wash painting, pine trees in the foreground", "photo, text, people", 3302, 28, 7.0),
    ("mountain temple in morning mist, ink wash painting, pine trees in the foreground, red seal", "photo, text, people", 3302, 28, 8.5),
    ("mountain temple in morning mist, ink wash painting, pine trees in the foreground, red seal", "photo, text, people", 3310, 28, 8.5),
]


def _picture(i: int, seed: int, size=(320, 240)):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (236, 232, 220))
    d = ImageDraw.Draw(img)
    w, h = size
    shift = seed % 40
    d.polygon([(0, h), (w // 3 + shift, h // 3), (2 * w // 3, h)], fill=(120, 120, 118))
    d.polygon([(w // 3, h), (2 * w // 3 + shift // 2, h // 4), (w, h)], fill=(80, 82, 80))
    d.rectangle([w // 2 - 18, h // 3 + 10, w // 2 + 18, h // 3 + 40], fill=(150, 60, 40))
    for k in range(i + 1):
        d.line([(20 + 25 * k, h), (30 + 25 * k, h - 60 - 5 * k)], fill=(40, 70, 40), width=4)
    if i >= 3:
        d.rectangle([w - 40, h - 40, w - 15, h - 15], fill=(190, 30, 30))
    return img


def write_session(folder: str | os.PathLike) -> list[Path]:
    from PIL import PngImagePlugin

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (prompt, neg, seed, steps, cfg) in enumerate(STEPS):
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", f"{prompt}\nNegative prompt: {neg}\nSteps: {steps}, Sampler: DPM++ 2M Karras, "
                                    f"CFG scale: {cfg}, Seed: {seed}, Size: 320x240, Model hash: 6ce0161689, "
                                    f"Model: v1-5-pruned-emaonly, Version: v1.7.0")
        p = out / f"{i:05d}-{seed}.png"
        _picture(i, seed).save(p, pnginfo=info)
        os.utime(p, (1_764_800_000 + 60 * i, 1_764_800_000 + 60 * i))
        paths.append(p)
    # one ComfyUI output of the same idea, as its SaveImage node writes it
    graph = {"3": {"class_type": "KSampler", "inputs": {"seed": 3302, "steps": 30, "cfg": 8.0, "sampler_name": "dpmpp_2m",
                                                       "scheduler": "karras", "denoise": 1, "model": ["4", 0],
                                                       "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
             "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
             "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 320, "height": 240, "batch_size": 1}},
             "6": {"class_type": "CLIPTextEncode", "inputs": {"text": STEPS[-1][0], "clip": ["4", 1]}},
             "7": {"class_type": "CLIPTextEncode", "inputs": {"text": STEPS[-1][1], "clip": ["4", 1]}},
             "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
             "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}}}
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(graph))
    info.add_text("workflow", json.dumps({"last_node_id": 9, "nodes": [{"id": int(k)} for k in graph]}))
    p = out / "ComfyUI_00001_.png"
    _picture(5, 3302).save(p, pnginfo=info)
    os.utime(p, (1_764_800_000 + 600, 1_764_800_000 + 600))
    paths.append(p)
    return paths


def edited(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """A later hand edit: a lighter sky and a cropped edge (what a retouching step might do)."""
    from PIL import Image, ImageEnhance

    with Image.open(src) as im:
        out = ImageEnhance.Brightness(im.convert("RGB")).enhance(1.12).crop((8, 0, im.width, im.height))
        out.save(dst)
    return Path(dst)


if __name__ == "__main__":
    for p in write_session(sys.argv[1] if len(sys.argv) > 1 else "provenance-samples"):
        print(p)
