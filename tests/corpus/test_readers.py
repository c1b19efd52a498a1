"""Streaming readers on real files: formats, compression, encodings, shards and bad input."""

from __future__ import annotations

import gzip
import json

import pytest

from cnai.corpus.readers import Doc, ReadOptions, Skip, plan_shards, read_shard


def read_all(paths, **kw):
    opts = ReadOptions(**kw)
    shards, skips = plan_shards([str(p) for p in paths], opts)
    items = list(skips)
    for sh in shards:
        items.extend(read_shard(sh, opts))
    docs = [i for i in items if isinstance(i, Doc)]
    bad = [i for i in items if isinstance(i, Skip)]
    return docs, bad, shards


def jsonl(rows):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def test_jsonl_plain_gzip_zstd_same_docs(tmp_path):
    import zstandard

    rows = [{"id": f"d{i}", "text": f"第{i}条：手机1380013{i:04d}"} for i in range(50)]
    data = jsonl(rows).encode()
    (tmp_path / "a.jsonl").write_bytes(data)
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress(data))
    (tmp_path / "c.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    for name in ("a.jsonl", "b.jsonl.gz", "c.jsonl.zst"):
        docs, bad, _ = read_all([tmp_path / name])
        assert [d.text for d in docs] == [r["text"] for r in rows], name
        assert [d.id for d in docs] == [r["id"] for r in rows]
        assert not bad


def test_small_shards_give_the_same_documents_and_line_numbers(tmp_path):
    rows = [{"text": "文本" * (i % 7 + 1) + str(i)} for i in range(400)]
    p = tmp_path / "big.jsonl"
    p.write_text(jsonl(rows), encoding="utf-8")
    one, _, s1 = read_all([p], shard_bytes=1 << 30)
    many, _, s2 = read_all([p], shard_bytes=1000)
    assert len(s1) == 1 and len(s2) > 5
    assert [(d.id, d.text) for d in one] == [(d.id, d.text) for d in many]
    assert many[123].id == f"{p}:124"


def test_gbk_gb18030_and_mixed_encodings(tmp_path):
    p = tmp_path / "mixed.jsonl"
    with open(p, "wb") as fh:
        fh.write(json.dumps({"text": "简体中文UTF-8"}, ensure_ascii=False).encode() + b"\n")
        fh.write(json.dumps({"text": "国标编码的文本"}, ensure_ascii=False).encode("gbk") + b"\n")
        fh.write(json.dumps({"text": "㐀扩展字符"}, ensure_ascii=False).encode("gb18030") + b"\n")
        fh.write(b'{"text": "\xff\xff\xff"}\n')
    docs, bad, _ = read_all([p])
    assert [d.text for d in docs] == ["简体中文UTF-8", "国标编码的文本", "㐀扩展字符"]
    assert [(b.reason, b.where) for b in bad] == [("invalid_encoding", f"{p}:4")]
    assert "byte offset" in bad[0].detail
    # forced codec: the UTF-8 line is now an error, reported not crashed
    docs, bad, _ = read_all([p], encoding="gbk")
    assert "国标编码的文本" in [d.text for d in docs]
    assert {b.reason for b in bad} == {"invalid_encoding"}


def test_bad_input_reasons(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_bytes(b'{"text": "ok"}\nnot json\n[1,2]\n{"other": 1}\n{"text": 5}\n{"text": "   "}\n'
                  + b'{"text": "' + b"x" * 3000 + b'"}\n' + b'{"text": "last"}')
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    docs, bad, _ = read_all([tmp_path], max_line_bytes=1000)
    assert [d.text for d in docs] == ["ok", "last"]
    assert sorted(b.reason for b in bad) == sorted(["malformed_json", "not_an_object", "missing_field",
                                                    "bad_field_type", "empty_text", "line_too_long",
                                                    "empty_file", "unsupported_format"])


def test_csv_gbk_and_tsv(tmp_path):
    p = tmp_path / "rows.csv"
    p.write_bytes("id,content\n1,\"第一行，带逗号\"\n2,第二行\n3,\n".encode("gbk"))
    docs, bad, _ = read_all([p], text_field="content")
    assert [(d.id, d.text) for d in docs] == [("1", "第一行，带逗号"), ("2", "第二行")]
    assert [b.reason for b in bad] == ["empty_text"]
    t = tmp_path / "rows.tsv"
    t.write_text("text\tsrc\n你好\tA\n", encoding="utf-8")
    docs, _, _ = read_all([t], source_field="src")
    assert docs[0].text == "你好" and docs[0].source == "A"
    docs, bad, _ = read_all([p], text_field="nope")
    assert not docs and bad[0].reason == "missing_field"


def test_parquet_row_groups(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    texts = [f"文档{i}" for i in range(100)] + [None]
    table = pa.table({"id": list(range(101)), "text": texts})
    p = tmp_path / "c.parquet"
    pq.write_table(table, p, row_group_size=30)
    docs, bad, shards = read_all([p])
    assert len(shards) == 4
    assert [d.text for d in docs] == texts[:100]
    assert [b.reason for b in bad] == ["missing_field"]
    (tmp_path / "broken.parquet").write_bytes(b"PAR1garbage")
    _, bad, _ = read_all([tmp_path / "broken.parquet"])
    assert bad[0].reason == "malformed_parquet"


def test_text_files_and_directories(tmp_path):
    d = tmp_path / "src"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("第一篇\n第二行", encoding="utf-8")
    (d / "sub" / "b.txt").write_bytes("国标文本".encode("gbk"))
    docs, bad, _ = read_all([d])
    assert [d_.text for d_ in docs] == ["第一篇\n第二行", "国标文本"]
    assert {d_.source for d_ in docs} == {"src"}
    docs, _, _ = read_all([d], text_unit="line")
    assert [d_.text for d_ in docs] == ["第一篇", "第二行", "国标文本"]


def test_corrupt_gzip_is_reported(tmp_path):
    p = tmp_path / "x.jsonl.gz"
    p.write_bytes(gzip.compress(b'{"text": "a"}\n' * 100)[:40])
    docs, bad, _ = read_all([p])
    assert bad and bad[-1].reason == "decompression_error"


def test_multi_megabyte_line_bounded(tmp_path):
    p = tmp_path / "long.jsonl"
    with open(p, "wb") as fh:
        fh.write(b'{"text": "' + b"a" * (5 * 1024 * 1024) + b'"}\n{"text": "after"}\n')
    docs, bad, _ = read_all([p], max_line_bytes=1024 * 1024)
    assert [d.text for d in docs] == ["after"]
    assert bad[0].reason == "line_too_long"


def test_bom_null_and_surrogates_in_jsonl(tmp_path):
    p = tmp_path / "bom.jsonl"
    p.write_bytes(b'\xef\xbb\xbf{"text": "first"}\nnull\n{"text": "lone \\ud800 surrogate"}\n')
    docs, bad, _ = read_all([p])
    assert [d.text for d in docs] == ["first", "lone \ud800 surrogate"]
    assert [b.reason for b in bad] == ["not_an_object"]


def test_text_file_in_utf16_is_detected(tmp_path):
    p = tmp_path / "u16.txt"
    p.write_bytes("这是一段UTF-16编码的中文文本，联系电话13800138000。".encode("utf-16"))
    docs, bad, _ = read_all([p])
    assert not bad and docs[0].text == "这是一段UTF-16编码的中文文本，联系电话13800138000。"
