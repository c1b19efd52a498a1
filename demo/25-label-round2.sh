#!/usr/bin/env bash
# Labels, round 2: an invisible watermark that survives metadata stripping, the conformance report over every
# label variant found in the wild, and SM2-signed labels. Run from the repo root.
set -euo pipefail
PY=.venv/bin/python
CNAI=.venv/bin/cnai
OUT=demo-output/label-round2
rm -rf "$OUT" && mkdir -p "$OUT/in"
CODE=001191110102MACQD9K64010000

echo "== 1. a photo-like picture, watermarked (and labelled in its metadata with the same fields)"
$PY - "$OUT/in/photo.png" <<'PY'
import sys
import numpy as np
from PIL import Image
rng = np.random.default_rng(7)
y, x = np.mgrid[0:768, 0:1024]
base = np.stack([120 + 60 * np.sin(x / 90.0), 110 + 50 * np.cos(y / 70.0), 100 + 40 * np.sin((x + y) / 130.0)], -1)
img = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype("uint8")
Image.fromarray(img).save(sys.argv[1])
PY
$CNAI label watermark embed "$OUT/in/photo.png" --producer "$CODE" --produce-id demo-0001 -o "$OUT/marked" \
  --no-progress | cut -c1-300

echo "== 2. an upload platform strips the metadata: screenshot-like re-encode, 50% resize, 10% crop, JPEG q75"
$PY - "$OUT/marked/photo.png" "$OUT/reupload.jpg" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
im = im.resize((im.width // 2, im.height // 2), Image.LANCZOS)
w, h = im.size
im.crop((w // 20, h // 20, w - w // 20, h - h // 20)).save(sys.argv[2], quality=75)   # no metadata kept
PY
echo "   metadata label left: $($CNAI label read "$OUT/reupload.jpg" --format jsonl | $PY -c 'import json,sys; print(json.load(sys.stdin)["label"])')"

echo "== 3. the watermark still decodes, and classify confirms the file as AI-generated (Labeling Measures Art. 6)"
$CNAI label watermark detect "$OUT/reupload.jpg" --produce-id demo-0001 --no-progress | cut -c1-300
$CNAI label classify "$OUT/reupload.jpg" --format jsonl | cut -c1-300

echo "== 4. conformance: one sample per label variant found in the wild, each read and judged"
$CNAI label conformance --write-corpus "$OUT/variants" 2>&1 | tail -1
rc=0
$CNAI label conformance "$OUT/variants" --format table --no-progress > "$OUT/conformance.tsv" 2>"$OUT/conformance.err" || rc=$?
echo "   exit $rc (on the corpus folder: 0 when every reading matches corpus_expected.yaml); first rows:"
head -6 "$OUT/conformance.tsv" | cut -c1-160
tail -1 "$OUT/conformance.err"

echo "== 5. SM2-signed label (SM3withSM2): verifies, and a changed pixel is detected"
$CNAI label keygen --alg sm2 -o "$OUT/sm2.key" > "$OUT/sm2.pub"
CNAI_LABEL_SIGNING_KEY="$(cat "$OUT/sm2.key")" $CNAI label embed "$OUT/in/photo.png" --producer "$CODE" --sign \
  -o "$OUT/signed" --no-progress > /dev/null
$CNAI label check "$OUT/signed/photo.png" --trust "$OUT/sm2.pub" --format jsonl | cut -c1-200
$PY - "$OUT/signed/photo.png" "$OUT/tampered.png" <<'PY'
# change one pixel value inside the image data, keeping a well-formed PNG (valid CRCs) and the label chunk as it is
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
chunks, pos = [], 8
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    chunks.append((kind, data[pos + 8:pos + 8 + n]))
    pos += 12 + n
raw = bytearray(zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT")))
raw[5000] ^= 0x01                                   # a sample byte, not a row's filter byte
out, done = [data[:8]], False
for kind, body in chunks:
    if kind == b"IDAT":
        if done:
            continue
        kind, body, done = b"IDAT", zlib.compress(bytes(raw)), True
    out.append(struct.pack(">I4s", len(body), kind) + body + struct.pack(">I", zlib.crc32(kind + body)))
open(sys.argv[2], "wb").write(b"".join(out))
PY
rc=0
$CNAI label check "$OUT/tampered.png" --trust "$OUT/sm2.pub" --format jsonl > "$OUT/tampered-check.json" 2>/dev/null || rc=$?
echo "   one pixel changed: exit $rc; $($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["problems"], "damage:", d.get("damage") or "none")' "$OUT/tampered-check.json")"
test "$rc" -eq 1
echo "done: outputs in $OUT (docs/label-watermark.md, docs/label-conformance.md)"
