"""FLV: the label in onMetaData (key AIGC, AMF0 string), read back by cnai and by ffprobe; media untouched;
index offsets moved; damaged files give one line naming the byte offset."""

from __future__ import annotations

import json
import struct
import subprocess

import pytest
from tests.label.conftest import PRODUCER, decoded_md5, ffprobe_tags, needs_ffmpeg

from cnai.label.api import check_file, content_digest, embed_file, read_file
from cnai.label.formats import flv as F

pytestmark = needs_ffmpeg


def _tags(path) -> list[tuple[int, int, int]]:
    """(offset, type, size) of every tag, walked independently of the carrier (FLV spec: 9-byte header,
    PreviousTagSize0, then 11-byte tag headers each followed by a 4-byte PreviousTagSize)."""
    b = path.read_bytes()
    p, out = struct.unpack(">I", b[5:9])[0] + 4, []
    while p + 11 <= len(b):
        size = int.from_bytes(b[p + 1:p + 4], "big")
        out.append((p, b[p] & 0x1F, size))
        assert struct.unpack(">I", b[p + 11 + size:p + 15 + size])[0] == 11 + size  # PreviousTagSize
        p += 15 + size
    assert p == len(b)
    return out


def _meta(path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True)
    assert out.stderr == ""
    return json.loads(out.stdout)["format"]


def _embed(src, dst, **kw) -> dict:
    rec = embed_file(str(src), str(dst), producer=PRODUCER, **kw)
    assert rec["error"] is None, rec
    return rec


def test_round_trip_ffprobe_and_media_unchanged(sample_dir, tmp_path):
    src, out = sample_dir / "sample.flv", tmp_path / "out.flv"
    rec = _embed(src, out, hash_only=True)
    assert rec["format"] == "flv" and rec["status"] == "labelled"
    got = read_file(str(out))
    assert got["found_in"] == ["flv-onmetadata"] and got["label"] == rec["label"]
    # ffmpeg's own FLV demuxer sees the key in onMetaData, as a format tag
    assert json.loads(ffprobe_tags(out)["AIGC"]) == rec["label"]
    # every audio/video tag keeps its bytes; decoding gives the same frames
    a, b = src.read_bytes(), out.read_bytes()
    media = lambda data, tags: [data[o:o + 11 + s] for o, t, s in tags if t != 18]  # noqa: E731
    assert media(a, _tags(src)) == media(b, _tags(out))
    assert decoded_md5(out) == decoded_md5(src)
    assert content_digest(str(src), "flv") == content_digest(str(out), "flv")
    assert check_file(str(out))["ok"] and check_file(str(out))["integrity"] == {"ReservedCode1": "ok"}


def test_index_offsets_and_filesize_follow_the_bigger_tag(sample_dir, tmp_path):
    src, out = sample_dir / "sample.flv", tmp_path / "out.flv"
    before = _meta(src)["tags"]
    assert "lastkeyframelocation" in before  # the sample has an index (-flvflags add_keyframe_index)
    _embed(src, out)
    tags = _meta(out)["tags"]
    delta = out.stat().st_size - src.stat().st_size
    assert delta > 100
    assert int(tags["lastkeyframelocation"]) == int(before["lastkeyframelocation"]) + delta
    data, old = out.read_bytes(), src.read_bytes()
    # ffmpeg's own value is not always a tag start; what matters is that it names the same bytes as before
    loc = int(before["lastkeyframelocation"])
    assert data[loc + delta:loc + delta + 64] == old[loc:loc + 64]
    # keyframes.filepositions: each must point at a video keyframe tag (frame type 1 in the high nibble)
    with open(out, "rb") as f:
        meta = next(e for t, name, _c, e, _b in F._head_scripts(f, len(data)) if name == "onMetaData")
    kf = {k: v for k, _t, v, _s, _e in meta}["keyframes"]
    positions = [v for _t, v in {k: v for k, _t, v, _s, _e in kf}["filepositions"]]
    assert len(positions) >= 2
    for p in positions:
        p = int(p)
        assert data[p] & 0x1F == 9 and data[p + 11] >> 4 == 1, p
    # filesize (hidden by ffprobe): the new size, as it was the old size before
    with open(src, "rb") as f:
        old_meta = next(e for t, name, _c, e, _b in F._head_scripts(f, len(old)) if name == "onMetaData")
    size_of = lambda m: {k: v for k, _t, v, _s, _e in m}["filesize"]  # noqa: E731
    assert size_of(old_meta) == len(old) and size_of(meta) == len(data)


def test_relabel_replaces_and_ffmpeg_written_label_is_replaced(sample_dir, tmp_path):
    js = '{"Label":"1","ContentProducer":"ffmpeg-wrote-this","ProduceID":"x"}'
    ff = tmp_path / "ff.flv"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(sample_dir / "sample.flv"), "-c", "copy",
                    "-metadata", f"AIGC={js}", str(ff)], check=True)
    assert read_file(str(ff))["found_in"] == ["flv-onmetadata"]
    out = tmp_path / "out.flv"
    rec = _embed(ff, out, produce_id="id-1")
    assert rec["status"] == "relabelled"
    body = out.read_bytes()
    assert body.count(b"AIGC") == 1 and b"ffmpeg-wrote-this" not in body
    # in place, a second time: one label, same media
    again = embed_file(str(out), str(out), producer=PRODUCER, produce_id="id-2", in_place=True)
    assert again["error"] is None and read_file(str(out))["label"]["ProduceID"] == "id-2"
    assert out.read_bytes().count(b"AIGC") == 1 and decoded_md5(out) == decoded_md5(ff)


def _strip_script_tags(src, dst) -> None:
    b = src.read_bytes()
    start = struct.unpack(">I", b[5:9])[0] + 4
    out = bytearray(b[:start])
    for o, t, s in _tags(src):
        if t != 18:
            out += b[o:o + 15 + s]
    dst.write_bytes(bytes(out))


def test_file_without_onmetadata_gets_one(sample_dir, tmp_path):
    bare, out = tmp_path / "bare.flv", tmp_path / "out.flv"
    _strip_script_tags(sample_dir / "sample.flv", bare)
    assert read_file(str(bare))["label"] is None
    _embed(bare, out)
    first = _tags(out)[0]
    assert first[1] == 18 and first[0] == 13  # the first tag, right after the header and PreviousTagSize0
    assert "AIGC" in ffprobe_tags(out) and decoded_md5(out) == decoded_md5(bare)
    assert content_digest(str(bare), "flv") == content_digest(str(out), "flv")


def test_digest_sees_a_changed_media_byte(sample_dir, tmp_path):
    out = tmp_path / "out.flv"
    _embed(sample_dir / "sample.flv", out, hash_only=True)
    o, _t, s = [x for x in _tags(out) if x[1] == 9][3]
    data = bytearray(out.read_bytes())
    data[o + 11 + s // 2] ^= 0xFF
    out.write_bytes(bytes(data))
    rec = check_file(str(out))
    assert not rec["ok"] and rec["integrity"]["ReservedCode1"] == "failed"


def test_damaged_onmetadata_is_one_line_naming_the_offset(sample_dir, tmp_path, cnai):
    data = bytearray((sample_dir / "sample.flv").read_bytes())
    o, t, s = _tags(sample_dir / "sample.flv")[0]
    assert t == 18 and o == 13
    # a bad AMF0 type byte right after the "onMetaData" name: offset 13 + 11 + 13
    bad_at = o + 11 + 13
    data[bad_at] = 0x42
    p = tmp_path / "bad.flv"
    p.write_bytes(bytes(data))
    r = cnai("label", "read", str(p))
    rec = json.loads(r.stdout)
    assert r.returncode == 1 and f"byte {bad_at}" in rec["error"] and "AMF0" in rec["error"]
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) <= 2
    # nothing written, original untouched
    before = p.read_bytes()
    r = cnai("label", "embed", str(p), "--producer", PRODUCER, "-o", str(tmp_path / "o"))
    assert r.returncode == 1 and f"byte {bad_at}" in json.loads(r.stdout)["error"]
    assert p.read_bytes() == before and not (tmp_path / "o" / "bad.flv").exists()


def test_tag_running_past_the_end(sample_dir, tmp_path):
    data = bytearray((sample_dir / "sample.flv").read_bytes())
    data[14:17] = (len(data)).to_bytes(3, "big")  # onMetaData claims more bytes than the file has
    p = tmp_path / "long.flv"
    p.write_bytes(bytes(data))
    rec = embed_file(str(p), str(tmp_path / "o.flv"), producer=PRODUCER)
    assert rec["skip_reason"] == "damaged file" and "byte 13" in rec["error"]


def test_truncated_recording_is_damage_not_a_crash(sample_dir, tmp_path):
    data = (sample_dir / "sample.flv").read_bytes()
    p = tmp_path / "cut.flv"
    p.write_bytes(data[:len(data) - 500])
    rec = embed_file(str(p), str(tmp_path / "o.flv"), producer=PRODUCER)
    assert rec["skip_reason"] == "damaged file" and "runs past the end" in rec["error"]
    assert "--allow-damaged" in rec["error"]
    rec = embed_file(str(p), str(tmp_path / "o.flv"), producer=PRODUCER, allow_damaged=True)
    assert rec["error"] is None and read_file(str(tmp_path / "o.flv"))["label"]["ContentProducer"] == PRODUCER


@pytest.mark.parametrize("cut", [4, 9, 12])
def test_short_headers(tmp_path, cut):
    p = tmp_path / "h.flv"
    p.write_bytes(b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00"[:cut])
    rec = read_file(str(p))
    assert rec["error"] and "byte" in rec["error"]


def test_fuzzed_flv_gives_a_reading_or_the_documented_error(sample_dir):
    """Mutations of a real FLV (the harness of test_fuzz.py): read/write/essence/damage either work or raise
    the documented CnaiError naming an offset -- never another exception."""
    from hypothesis import HealthCheck, given, settings
    from tests.label.fuzzutil import exercise
    from tests.label.test_fuzz import mutated

    seed = (sample_dir / "sample.flv").read_bytes()

    @settings(max_examples=80, deadline=3000, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(mutated(seed))
    def run(data):
        exercise("flv", data)

    run()


def test_visible_label_on_flv_keeps_the_implicit_label(sample_dir, tmp_path):
    from cnai.label.visible import visible_file

    lab = tmp_path / "l.flv"
    rec = _embed(sample_dir / "sample.flv", lab)
    out = tmp_path / "o" / "v.flv"
    v = visible_file((str(lab), str(out)), text="AI生成")
    assert v["error"] is None and v["visible"]["kind"] == "video" and v["visible"]["implicit_label_kept"]
    assert read_file(str(out))["label"] == rec["label"] and "AIGC" in ffprobe_tags(out)
