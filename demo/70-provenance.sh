#!/usr/bin/env bash
# Authorship evidence: a small creative session (WebUI/ComfyUI-style PNGs), imported into a hash-chained
# log, with selections, a later edit, a GB 45438 label linked to the log, a trace back, and the report.
set -euo pipefail
CNAI=.venv/bin/cnai
OUT=demo-output/provenance
rm -rf "$OUT" && mkdir -p "$OUT"

echo "== 1. a creative session: 5 WebUI outputs and 1 ComfyUI output with their generation records"
.venv/bin/python -m cnai.provenance.samples "$OUT/outputs" | sed 's/^/  /'

echo "== 2. a new log, then import the whole folder (iterations grouped, parameter changes listed)"
$CNAI provenance init "$OUT/store" --title "晨雾山寺" --author "李华" --note "水墨风格的山寺系列，反复调整构图与印章"
$CNAI provenance import "$OUT/store" "$OUT/outputs"

echo "== 3. selection and a later edit"
$CNAI provenance select "$OUT/store" "$OUT/outputs/00000-3301.png" --discard --reason "山体过于对称" > /dev/null
$CNAI provenance select "$OUT/store" "$OUT/outputs/00002-3302.png" --keep --reason "松树前景可用" > /dev/null
$CNAI provenance select "$OUT/store" "$OUT/outputs/00003-3302.png" --final --reason "印章位置与光线最好" > /dev/null
.venv/bin/python -c "from cnai.provenance.samples import edited; edited('$OUT/outputs/00003-3302.png', '$OUT/final-edited.png')"
$CNAI provenance edit "$OUT/store" --before "$OUT/outputs/00003-3302.png" --after "$OUT/final-edited.png" \
  --tool "GIMP 2.10" --description "提亮天空，裁去左侧边缘" > /dev/null

echo "== 4. label the final edit (ReservedCode1 names its log entry) and trace it back"
$CNAI provenance label "$OUT/store" "$OUT/final-edited.png" --producer 001191110102MACQD9K64010000 -o "$OUT/labelled"
$CNAI provenance trace "$OUT/store" "$OUT/labelled/final-edited.png" | sed 's/^/  /'

echo "== 5. verify the chain, then the evidence report (HTML and PDF)"
$CNAI provenance verify "$OUT/store"
$CNAI provenance report "$OUT/store" -o "$OUT/report.html" --pdf "$OUT/report.pdf" --lang en
echo "provenance: $OUT/report.html, $OUT/report.pdf"
