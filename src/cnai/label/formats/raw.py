"""Containers cnai recognises but cannot write a label into (ZIP): a bare AIGC JSON object is looked for in
the first and last 4 MiB, so a label another tool put there is still reported."""

from __future__ import annotations

import os

from cnai.label.formats.base import Found, FunctionCarrier, Scan


def raw_scan(path: str) -> Scan:
    from cnai.label.model import find_json_blobs

    scan = Scan()
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(4 << 20)
        tail = b""
        if size > 8 << 20:
            f.seek(size - (4 << 20))
            tail = f.read()
    for off, js in find_json_blobs(head) + find_json_blobs(tail):
        scan.found.append(Found("raw-json", js, off))
    return scan


ZIP = FunctionCarrier("zip", sniff=lambda h, p: h.startswith(b"PK\x03\x04"), extensions=(".zip",),
                      media_types=("application/zip",), priority=70, read_path=raw_scan)
