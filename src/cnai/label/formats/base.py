"""Shared types for the per-format label carriers."""

from __future__ import annotations

import abc
import os
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

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


# ---------------------------------------------------------------- the carrier interface
MAX_IN_MEMORY = 2 << 30  # formats edited in memory refuse files above this size


class Carrier(abc.ABC):
    """One handler per container family (the c2pa-rs habit): everything cnai needs to know about a container
    to find, write and hash a GB 45438 implicit label, and whether it can take an explicit (visible) label.

    Register an instance on the `cnai.carriers` entry-point group (cnai's own carriers register there too).
    Paths, never whole files, cross this interface, so a handler may stream (MP4, MKV) or load the file.
    """

    name: str = ""
    extensions: tuple[str, ...] = ()    # lower-case, with the dot; used to warn when content and name disagree
    media_types: tuple[str, ...] = ()
    where: str | None = None            # Found.where of the place the standard puts the label; None = read only
    standard: str = ""                  # that place in words, with how sure we are of the source
    visible: str | None = None          # explicit-label kind (cnai.label.visible.KINDS) or None
    priority: int = 50                  # sniff order, lower first: specific containers before generic ones

    @property
    def writable(self) -> bool:
        return self.where is not None

    @abc.abstractmethod
    def sniff(self, head: bytes, path: str) -> bool:
        """True when the first bytes (up to 64 KiB) are this container. `path` only breaks ties (ZIP vs OOXML)."""

    @abc.abstractmethod
    def read(self, path: str) -> Scan:
        """Every label-like item in the file. Raise FormatError (with the byte offset) on broken structure."""

    def write(self, src: str, out: BinaryIO, label_json: str, opts: WriteOpts) -> None:
        """Write src with `label_json` at `where` (replacing older copies) to the open binary `out`."""
        raise FormatError(f"writing labels into {self.name} files is not supported (read only)")

    def essence(self, path: str) -> Iterable[bytes]:
        """The bytes a content hash covers: everything except the metadata a label write changes."""
        raise FormatError(f"no content digest for {self.name} files")

    def damage(self, path: str) -> list[str]:
        """Structural damage that does not stop reading or writing (truncated image data, bad checksums)."""
        return []

    def add_visible(self, src: str, dst: str, **opts) -> dict:
        """Explicit label; the default hands the file to the generic writer for this carrier's `visible` kind."""
        from cnai.label.visible import add_visible_by_kind

        return add_visible_by_kind(self, src, dst, **opts)

    def describe(self) -> dict:
        return {"name": self.name, "extensions": list(self.extensions), "media_types": list(self.media_types),
                "where": self.where, "standard": self.standard, "visible": self.visible,
                "priority": self.priority}


def _load(path: str, name: str) -> bytes:
    size = os.path.getsize(path)
    if size > MAX_IN_MEMORY:
        raise FormatError(f"{name} file of {size} bytes is over the {MAX_IN_MEMORY}-byte limit")
    with open(path, "rb") as f:
        return f.read()


class FunctionCarrier(Carrier):
    """A carrier built from plain functions: `*_bytes` ones take the whole file in memory, `*_path` ones stream.
    A path variant, when given, is preferred."""

    def __init__(self, name: str, *, sniff: Callable[[bytes, str], bool], extensions: tuple[str, ...] = (),
                 media_types: tuple[str, ...] = (), where: str | None = None, standard: str = "",
                 visible: str | None = None, priority: int = 50,
                 read_bytes: Callable[[bytes], Scan] | None = None, write_bytes: Callable | None = None,
                 essence_bytes: Callable | None = None, damage_bytes: Callable[[bytes], list[str]] | None = None,
                 read_path: Callable[[str], Scan] | None = None, write_path: Callable | None = None,
                 essence_path: Callable | None = None, damage_path: Callable[[str], list[str]] | None = None):
        self.name, self.extensions, self.media_types = name, extensions, media_types
        self.where, self.standard, self.visible, self.priority = where, standard, visible, priority
        self._sniff = sniff
        self._rb, self._wb, self._eb, self._db = read_bytes, write_bytes, essence_bytes, damage_bytes
        self._rp, self._wp, self._ep, self._dp = read_path, write_path, essence_path, damage_path

    def __repr__(self) -> str:
        return f"<carrier {self.name}>"

    def sniff(self, head: bytes, path: str) -> bool:
        return bool(self._sniff(head, path))

    def read(self, path: str) -> Scan:
        if self._rp:
            return self._rp(path)
        data = _load(path, self.name)
        scan = self._rb(data)
        if b"c2pa" in data[:16 << 20] and "c2pa-jumbf" not in scan.traces:
            scan.traces.append("c2pa-bytes")  # only a hint: worth asking c2pa-python, not a trace by itself
        return scan

    def write(self, src: str, out: BinaryIO, label_json: str, opts: WriteOpts) -> None:
        if self._wp:
            return self._wp(src, out, label_json, opts)
        if self._wb is None:
            return super().write(src, out, label_json, opts)
        out.write(self._wb(_load(src, self.name), label_json, opts))
        return None

    def essence(self, path: str) -> Iterable[bytes]:
        if self._ep:
            return self._ep(path)
        if self._eb is None:
            return super().essence(path)
        return self._eb(_load(path, self.name))

    def damage(self, path: str) -> list[str]:
        if self._dp:
            return self._dp(path)
        if self._db:
            return self._db(_load(path, self.name))
        return []


# ---------------------------------------------------------------- XMP padding (in-place relabelling)
XMP_PADDING = 2048  # whitespace left in every packet cnai writes (the XMP spec suggests 2-4 KB) so a later
#                     relabel or propagation can rewrite the packet where it is (cnai.label.inplace)
_XMP_END = b"<?xpacket end"


def fit_xmp(packet: bytes, size: int) -> bytes | None:
    """`packet` padded with whitespace before its `<?xpacket end` trailer to exactly `size` bytes (XMP's own
    padding rule), or None when it does not fit or has no trailer."""
    end = packet.rfind(_XMP_END)
    if end < 0:
        return None
    body, trailer = packet[:end].rstrip(b" \t\r\n") + b"\n", packet[end:]
    room = size - len(body) - len(trailer)
    if room < 0:
        return None
    return body + (b" " * 99 + b"\n") * (room // 100) + b" " * (room % 100) + trailer


def pad_xmp(packet: bytes, limit: int | None = None) -> bytes:
    """The packet with XMP_PADDING bytes of whitespace (less when `limit`, the container's maximum, is near)."""
    end = packet.rfind(_XMP_END)
    if end < 0:
        return packet
    core = len(packet[:end].rstrip(b" \t\r\n")) + 1 + len(packet) - end
    want = core + XMP_PADDING
    if limit is not None:
        want = min(want, limit)
    return fit_xmp(packet, want) or packet
