"""Shared types for the per-format label carriers."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from cnai.errors import InputError


class FormatError(InputError):
    """The file's structure is broken at a given byte offset."""


def bad(msg: str, offset: int | None = None) -> FormatError:
    return FormatError(msg, field=f"byte {offset}" if offset is not None else None)


@dataclass
class Found:
    where: str  # carrier, e.g. "xmp", "png-text", "exif-usercomment", "riff-chunk", "id3-txxx"
    text: str  # the JSON text as stored
    offset: int | None = None


@dataclass
class Scan:
    found: list[Found] = field(default_factory=list)
    digital_source_type: str | None = None
    traces: list[str] = field(default_factory=list)  # generator metadata hints, C2PA markers, ...
    warnings: list[str] = field(default_factory=list)


@dataclass
class WriteOpts:
    digital_source_type: str | None = None  # also write IPTC DigitalSourceType next to TC260:AIGC


def u16be(b: bytes, o: int) -> int:
    return struct.unpack_from(">H", b, o)[0]


def u32be(b: bytes, o: int) -> int:
    return struct.unpack_from(">I", b, o)[0]


def u32le(b: bytes, o: int) -> int:
    return struct.unpack_from("<I", b, o)[0]


GENERATOR_HINTS = (
    b"Stable Diffusion", b"stable-diffusion", b"Midjourney", b"DALL-E", b"DALL\xc2\xb7E", b"ComfyUI",
    b"NovelAI", b"Firefly", b"Imagen", b"Doubao", b"Jimeng", b"Kling", b"Sora", b"Negative prompt:",
)


def generator_traces(data: bytes, limit: int = 4 * 1024 * 1024) -> list[str]:
    """Known generator / provenance strings in the metadata region (first `limit` bytes)."""
    head = data[:limit]
    out = []
    for h in GENERATOR_HINTS:
        if h in head:
            out.append(h.decode("utf-8", "replace").replace("\x00", " "))
    return out
