"""Generate small sample media for tests, demos and benchmarks (no downloads: Pillow, numpy, ffmpeg).

    python -m cnai.label.samples OUTDIR
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import sys
import wave
import zipfile
from pathlib import Path

from cnai.core import safeio


def image(w: int = 96, h: int = 64, seed: int = 0):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) * 3) % 256], -1)
    arr = (arr + rng.integers(0, 40, arr.shape)).clip(0, 255).astype("uint8")
    return Image.fromarray(arr, "RGB")


def write_images(d: Path, w: int = 96, h: int = 64) -> list[Path]:
    im = image(w, h)
    out = []
    for name, kw in [("sample.jpg", {"quality": 90}), ("sample.png", {}), ("sample.tif", {}),
                     ("sample.gif", {}), ("sample-lossy.webp", {"quality": 80}),
                     ("sample-lossless.webp", {"lossless": True})]:
        p = d / name
        (im.convert("P") if name.endswith(".gif") else im).save(p, **kw)
        out.append(p)
    if register_heif():
        im.save(d / "sample.heic", quality=80)
        out.append(d / "sample.heic")
    from PIL import features

    if features.check("avif"):
        im.save(d / "sample.avif", quality=80)
        out.append(d / "sample.avif")
    return out


def register_heif() -> bool:
    """HEIC support for Pillow via pillow-heif, when installed (optional: tests and visible labels only)."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def write_wav(p: Path, seconds: float = 0.5, rate: int = 16000) -> Path:
    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    s = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(s.tobytes())
    return p


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def write_av(d: Path, seconds: float = 1.0) -> list[Path]:
    if not shutil.which("ffmpeg"):
        return []
    out = []
    a = ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    for name, codec in [("sample.mp3", ["-c:a", "libmp3lame", "-b:a", "64k"]), ("sample.flac", ["-c:a", "flac"]),
                        ("sample.ogg", ["-c:a", "libvorbis"]), ("sample.opus", ["-c:a", "libopus"]),
                        ("sample.m4a", ["-c:a", "aac", "-b:a", "64k"])]:
        ffmpeg(*a, *codec, str(d / name))
        out.append(d / name)
    v = ["-f", "lavfi", "-i", f"testsrc=size=160x120:rate=10:duration={seconds}"]
    for name, codec in [("sample.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]),
                        ("sample-end.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p"]),
                        ("sample.mov", ["-c:v", "mpeg4"]), ("sample.mkv", ["-c:v", "libx264"]),
                        ("sample.webm", ["-c:v", "libvpx", "-b:v", "200k"]), ("sample.avi", ["-c:v", "mpeg4"]),
                        ("sample.flv", ["-c:v", "flv1", "-flvflags", "add_keyframe_index", "-g", "5"])]:
        ffmpeg(*v, *codec, str(d / name))
        out.append(d / name)
    return out


def _pdf_objects(header: bytes, objs: list[bytes]) -> tuple[bytearray, list[int]]:
    """The header and objects 1..n written one after another, and the byte offset of each (for the xref)."""
    out, offs = bytearray(header), []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    return out, offs


def pdf_bytes(title: str = "Sample") -> bytes:
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
            None, b"<< /Title (" + title.encode() + b") /Producer (cnai samples) >>"]
    content = b"0 0 1 rg 10 10 50 50 re f"
    objs[3] = b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
    out, offs = _pdf_objects(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", objs)
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offs)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
    return bytes(out)


def pdf_xref_stream_bytes() -> bytes:
    """A PDF 1.5 file whose cross-reference section is an (uncompressed) xref stream."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>", b"<< /Title (XRef stream sample) >>"]
    out, offs = _pdf_objects(b"%PDF-1.5\n", objs)
    x = len(out)
    rows = struct.pack(">BIH", 0, 0, 65535) + b"".join(struct.pack(">BIH", 1, o, 0) for o in offs) + \
        struct.pack(">BIH", 1, x, 0)
    n = len(objs) + 2
    out += b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Info 4 0 R /Length %d >>\nstream\n" % (
        n - 1, n, len(rows)) + rows + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % x
    return bytes(out)


def docx_bytes(text: str = "Hello from cnai") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxml'
                   'formats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
                   'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocu'
                   'ment.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.open'
                   'xmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
                   '</Relationships>')
        z.writestr("word/document.xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="http://schemas.'
                   'openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>' + text +
                   '</w:t></w:r></w:p></w:body></w:document>')
    return buf.getvalue()


def write_all(d: Path, *, av: bool = True) -> list[Path]:
    d.mkdir(parents=True, exist_ok=True)
    out = write_images(d)
    out.append(write_wav(d / "sample.wav"))
    if av:
        out += write_av(d)
    for name, data in [("sample.pdf", pdf_bytes()), ("sample-xref-stream.pdf", pdf_xref_stream_bytes()),
                       ("sample.docx", docx_bytes())]:
        safeio.write_bytes(d / name, data)
        out.append(d / name)
    safeio.write_text(d / "sample.md", "---\ntitle: Sample\n---\n# Hello\n\nGenerated text.\n")
    safeio.write_text(d / "sample.txt", "Plain text output of a model.\n")
    out += [d / "sample.md", d / "sample.txt"]
    return out


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "samples")):
        print(p)
