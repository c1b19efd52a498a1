"""A made-up container, "CNTX" (not a real format), to prove that an outside package can add a label carrier:

    b"CNTX1\n" + header lines b"key: value\n" ... + b"\n" + payload

The label is the header line `AIGC: <json>`; the payload is the content a hash covers."""

from __future__ import annotations

from cnai.label.formats.base import Carrier, Found, Scan, bad

MAGIC = b"CNTX1\n"


def _split(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    if not data.startswith(MAGIC):
        raise bad("not a CNTX file (no CNTX1 magic)", 0)
    end = data.find(b"\n\n", len(MAGIC) - 1)
    if end < 0:
        raise bad("CNTX header has no blank line before the payload", len(MAGIC))
    lines, p = [], len(MAGIC)
    for line in data[p:end].split(b"\n"):
        if line and b": " not in line:
            raise bad("CNTX header line without ': '", p)
        lines.append((p, line))
        p += len(line) + 1
    return lines, end + 2


class CntxCarrier(Carrier):
    name = "cntx"
    extensions = (".cntx",)
    media_types = ("application/x-cntx",)
    where = "cntx-header"
    standard = "header line 'AIGC: <json>' (test format, not from any standard)"
    visible = None

    def sniff(self, head: bytes, path: str) -> bool:
        return head.startswith(MAGIC)

    def read(self, path: str) -> Scan:
        with open(path, "rb") as f:
            data = f.read()
        scan = Scan()
        lines, _ = _split(data)
        for off, line in lines:
            key, _, value = line.partition(b": ")
            if key == b"AIGC":
                scan.found.append(Found(self.where, value.decode("utf-8", "replace"), off))
        return scan

    def write(self, src, out, label_json, opts) -> None:
        with open(src, "rb") as f:
            data = f.read()
        lines, body = _split(data)
        out.write(MAGIC)
        for _off, line in lines:
            if line and not line.startswith(b"AIGC: "):
                out.write(line + b"\n")
        out.write(b"AIGC: " + label_json.encode("utf-8") + b"\n\n")
        out.write(data[body:])

    def essence(self, path: str):
        with open(path, "rb") as f:
            data = f.read()
        yield data[_split(data)[1]:]


CNTX = CntxCarrier()
