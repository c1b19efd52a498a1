"""Format detection (by content, not by extension) and the table of carriers."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from cnai.label.formats import audio, avi, docs, heif, images, mkv, mp4


@dataclass(frozen=True)
class Carrier:
    name: str
    read: Callable | None = None  # bytes -> Scan
    write: Callable | None = None  # (bytes, json, opts) -> bytes
    essence: Callable | None = None  # bytes -> iterable[bytes]
    read_path: Callable | None = None  # streaming variants
    write_path: Callable | None = None
    essence_path: Callable | None = None
    standard: str = ""  # where the label goes and whether that placement is from the standard/guides

    @property
    def streaming(self) -> bool:
        return self.write_path is not None or self.read_path is not None


CARRIERS: dict[str, Carrier] = {
    "jpeg": Carrier("jpeg", images.jpeg_read, images.jpeg_write, images.jpeg_essence,
                    read_path=images.jpeg_read_path, write_path=images.jpeg_write_path,
                    standard="XMP TC260:AIGC in APP1 (image guide)"),
    "png": Carrier("png", images.png_read, images.png_write, images.png_essence,
                   standard="XMP TC260:AIGC in iTXt XML:com.adobe.xmp (image guide)"),
    "webp": Carrier("webp", images.webp_read, images.webp_write, images.webp_essence,
                    standard="XMP TC260:AIGC in the 'XMP ' chunk (image guide)"),
    "tiff": Carrier("tiff", images.tiff_read, images.tiff_write, images.tiff_essence,
                    standard="XMP TC260:AIGC in tag 700 (image guide)"),
    "gif": Carrier("gif", images.gif_read, images.gif_write, images.gif_essence,
                   standard="XMP TC260:AIGC in the XMP application extension (image guide)"),
    "heif": Carrier("heif", heif.heif_read, heif.heif_write, heif.heif_essence,
                    standard="XMP item (mime application/rdf+xml) with TC260:AIGC (image guide: ISO/IEC 23008-12)"),
    "wav": Carrier("wav", audio.wav_read, audio.wav_write, audio.wav_essence,
                   standard="RIFF chunk 'AIGC' (audio guide)"),
    "mp3": Carrier("mp3", audio.mp3_read, audio.mp3_write, audio.mp3_essence,
                   standard="ID3v2 TXXX 'AIGC' (audio guide)"),
    "flac": Carrier("flac", audio.flac_read, audio.flac_write, audio.flac_essence,
                    standard="Vorbis comment AIGC= (our choice; guide annex not seen)"),
    "ogg": Carrier("ogg", audio.ogg_read, audio.ogg_write, audio.ogg_essence,
                   standard="Vorbis comment AIGC= (our choice; guide annex not seen)"),
    "mp4": Carrier("mp4", read_path=mp4.read_path, write_path=mp4.write_path, essence_path=mp4.essence_path,
                   standard="moov/udta/meta keys 'AIGC' + ilst (video guide 6.1.1)"),
    "mkv": Carrier("mkv", read_path=mkv.read_path, write_path=mkv.write_path, essence_path=mkv.essence_path,
                   standard="Tags/Tag/SimpleTag TagName=AIGC (video guide)"),
    "avi": Carrier("avi", read_path=avi.read_path, write_path=avi.write_path, essence_path=avi.essence_path,
                   standard="LIST/INFO sub-chunk 'AIGC' (video guide Annex D)"),
    "pdf": Carrier("pdf", docs.pdf_read, docs.pdf_write, docs.pdf_essence,
                   standard="Info dictionary /AIGC (text guide 6.3, secondary)"),
    "ooxml": Carrier("ooxml", docs.ooxml_read, docs.ooxml_write, docs.ooxml_essence,
                     standard="docProps/custom.xml property AIGC (text guide)"),
    "text": Carrier("text", docs.text_read, docs.text_write, docs.text_essence,
                    standard="YAML front matter AIGC mapping (text guide for Markdown; ours for .txt)"),
}

TEXT_EXT = {".md", ".markdown", ".txt", ".text", ".mdx"}
EXT_FORMAT = {
    ".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".webp": "webp", ".tif": "tiff", ".tiff": "tiff",
    ".gif": "gif", ".heic": "heif", ".heif": "heif", ".avif": "heif", ".wav": "wav", ".mp3": "mp3", ".flac": "flac", ".ogg": "ogg", ".opus": "ogg", ".oga": "ogg",
    ".avi": "avi", ".mp4": "mp4", ".m4a": "mp4", ".m4v": "mp4", ".mov": "mp4", ".mkv": "mkv", ".webm": "mkv", ".pdf": "pdf",
    ".docx": "ooxml", ".xlsx": "ooxml", ".pptx": "ooxml", ".dotx": "ooxml", ".potx": "ooxml", ".xltx": "ooxml",
    **{e: "text" for e in TEXT_EXT},
}


def sniff(head: bytes, path: str) -> str | None:
    """Content-based format name (or None when unknown)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"ID3"):
        # ID3 can precede FLAC too
        if len(head) >= 10:
            sz = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
            if head[10 + sz:14 + sz] == b"fLaC":
                return "flac"
        return "mp3"
    if head.startswith(b"OggS"):
        return "ogg"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"avif",
                                               b"avis", b"hevc", b"hevx"):
        return "heif"
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"pnot"):
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "mkv"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "ooxml" if os.path.splitext(path)[1].lower() in EXT_FORMAT and \
            EXT_FORMAT[os.path.splitext(path)[1].lower()] == "ooxml" or b"[Content_Types].xml" in head else "zip"
    if head.startswith(b"FLV"):
        return "flv"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and os.path.splitext(path)[1].lower() == ".mp3":
        return "mp3"
    ext = os.path.splitext(path)[1].lower()
    if ext in TEXT_EXT and b"\x00" not in head:
        return "text"
    return None


def detect(path: str) -> tuple[str | None, list[str]]:
    """(format, warnings) for a file."""
    with open(path, "rb") as f:
        head = f.read(64 * 1024)
    fmt = sniff(head, path)
    warnings = []
    ext = os.path.splitext(path)[1].lower()
    want = EXT_FORMAT.get(ext)
    if fmt and want and want != fmt and not (fmt == "zip" and want == "ooxml"):
        warnings.append(f"extension {ext} says {want}, content is {fmt}")
    return fmt, warnings
