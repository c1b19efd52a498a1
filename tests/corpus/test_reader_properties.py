"""Property test for the JSONL reader (issue #10): a valid record next to any garbage is still read (the
any-bytes-never-raise properties are in tests/hostile/test_corpus.py)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnai.corpus.pipeline import iter_rows
from cnai.corpus.readers import Doc, ReadOptions

GOOD = json.dumps({"id": "good", "text": "正常的一行"}, ensure_ascii=False).encode() + b"\n"
_pieces = st.one_of(st.binary(max_size=40), st.sampled_from([
    b"{", b"}", b"[", b"]", b'"text"', b":", b",", b"\n", b"\r\n", b"\xef\xbb\xbf", b"\xff\xfe", b"\x00",
    b'{"text": 1}', b'{"text": null}', b'{"text": "x"}', b"[" * 300, b'"\\ud800"', b"\xe4\xb8", b"text,id\n",
    b'"a,b",c\n', b'"unterminated', b"\t", b"id\ttext\n"]))
_content = st.lists(_pieces, max_size=30).map(b"".join)


def _read(name: str, data: bytes):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / name
        p.write_bytes(data)
        return list(iter_rows([p], ReadOptions(max_line_bytes=4096, shard_bytes=64)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_content)
def test_a_valid_line_survives_garbage_around_it(garbage):
    garbage = garbage.replace(b"\n", b" ").replace(b"\r", b" ")  # the garbage stays on its own lines
    items = _read("a.jsonl", garbage + b"\n" + GOOD + garbage + b"\n")
    assert [d.id for d in items if isinstance(d, Doc)].count("good") == 1
