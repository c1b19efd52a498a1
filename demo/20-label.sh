#!/usr/bin/env bash
# GB 45438 AI-content labels: provider code, implicit labels (embed/read/check), platform side
# (classify/propagate), integrity signature, explicit labels. Run from the repo root.
set -euo pipefail
CNAI=.venv/bin/cnai
OUT=demo-output/label
rm -rf "$OUT" && mkdir -p "$OUT"

echo "== 1. provider code from a Unified Social Credit Code (GB 32100 check character verified)"
$CNAI label code 91110102MACQD9K640 | tee "$OUT/code.json"
CODE=001191110102MACQD9K64010000
PLATFORM=001191440300MA5G49LC9K2PLT1

echo "== 2. sample media generated locally (images, audio, video, PDF, DOCX, Markdown)"
.venv/bin/python -m cnai.label.samples "$OUT/in" > /dev/null
ls "$OUT/in"

echo "== 3. embed the implicit label into every file (copies in $OUT/labelled; originals untouched)"
$CNAI label embed "$OUT/in" --producer "$CODE" -o "$OUT/labelled" --no-progress > "$OUT/embed.jsonl"
head -c 400 "$OUT/embed.jsonl"; echo " ..."

echo "== 4. read it back; where was it found?"
$CNAI label read "$OUT/labelled" --format table --no-progress | cut -c1-140

echo "== 5. tools nobody here wrote see it"
if command -v exiftool > /dev/null; then
  exiftool -s -XMP-TC260:AIGC "$OUT/labelled/sample.jpg" | cut -c1-140
  exiftool -s -Keys:AIGC "$OUT/labelled/sample.mp4" | cut -c1-140
fi
if command -v ffprobe > /dev/null; then
  ffprobe -v error -show_entries format_tags=AIGC -of compact "$OUT/labelled/sample.mkv" | cut -c1-140
fi

echo "== 6. provider-side check: labelled files pass (exit 0), unlabelled fail (exit 1)"
$CNAI label check "$OUT/labelled" --no-progress > "$OUT/check-labelled.jsonl"
set +e
$CNAI label check "$OUT/in/sample.png" --format table --no-progress; rc=$?
set -e
echo "exit code for the unlabelled file: $rc"

echo "== 7. platform side: classify uploads and add propagation fields"
mkdir -p "$OUT/uploads"
cp "$OUT/labelled/sample.png" "$OUT/uploads/labelled.png"
cp "$OUT/in/sample.jpg" "$OUT/uploads/declared.jpg"
cp "$OUT/in/sample.gif" "$OUT/uploads/plain.gif"
printf '以下内容由AI生成。\n\n今天天气很好。\n' > "$OUT/uploads/note.md"
$CNAI label classify "$OUT/uploads" --declared declared.jpg --format table --no-progress | cut -c1-160
$CNAI label propagate "$OUT/uploads" --propagator "$PLATFORM" --declared declared.jpg -o "$OUT/published" \
  --no-progress > "$OUT/propagate.jsonl"
$CNAI label read "$OUT/published/labelled.png" --no-progress | cut -c1-300

echo "== 8. integrity (cnai extension): Ed25519 signature over label + content hash; tampering detected"
rm -f "$OUT/key.b64"
PUB=$($CNAI label keygen -o "$OUT/key.b64")
echo "$PUB" > "$OUT/pub.txt"
CNAI_LABEL_SIGNING_KEY=$(cat "$OUT/key.b64") $CNAI label embed "$OUT/in/sample.md" --producer "$CODE" --sign \
  -o "$OUT/signed" --no-progress > /dev/null
$CNAI label check "$OUT/signed/sample.md" --trust "$OUT/pub.txt" --format table --no-progress
sed -i 's/Generated text./Edited text./' "$OUT/signed/sample.md"
set +e
$CNAI label check "$OUT/signed/sample.md" --trust "$OUT/pub.txt" --format table --no-progress; rc=$?
set -e
echo "exit code after editing the content: $rc"

echo "== 9. explicit labels: image text, audio rhythm, video burn-in, text prefix"
.venv/bin/python -c "from cnai.label.samples import image; image(640, 400).save('$OUT/in-big.jpg', quality=90)"
$CNAI label visible "$OUT/in-big.jpg" "$OUT/in/sample.wav" "$OUT/in/sample.mp4" "$OUT/in/sample.md" \
  -o "$OUT/visible" --no-progress | cut -c1-220
head -5 "$OUT/visible/sample.md"
echo "== 10. damaged media: refused per file with the reason, or labelled with --allow-damaged (damage recorded)"
mkdir -p "$OUT/damaged"
head -c -300 "$OUT/in/sample.jpg" > "$OUT/damaged/cut.jpg"        # image data cut short: no EOI marker
cp "$OUT/in/sample.png" "$OUT/damaged/ok.png"
set +e
$CNAI label embed "$OUT/damaged" --producer "$CODE" -o "$OUT/damaged-out" --no-progress > /dev/null; rc=$?
set -e
echo "exit code with one damaged file in the batch: $rc (the good file is labelled: $(ls "$OUT/damaged-out"))"
$CNAI label embed "$OUT/damaged/cut.jpg" --producer "$CODE" -o "$OUT/damaged-allowed" --allow-damaged \
  --no-progress | cut -c1-400

echo "== 11. the same from Python, and the carriers registered on the cnai.carriers extension point"
.venv/bin/python - "$OUT" "$CODE" <<'PY'
import sys
from cnai.label import check, embed
out, code = sys.argv[1], sys.argv[2]
res = embed([f"{out}/in/sample.png"], producer=code, out=f"{out}/library")
print(res.exit_code, res.tally.line(), "| check exit", check([f"{out}/library"]).exit_code)
PY
$CNAI plugins --format json | .venv/bin/python -c "import json,sys; d=json.load(sys.stdin); d=d if isinstance(d,list) else d.get('points',d); print('carriers:', ', '.join(r['name'] for p in d if p['point']=='carriers' for r in p['registered']))"
echo "done: outputs in $OUT"
