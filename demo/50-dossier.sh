#!/usr/bin/env bash
# Filing dossier from the demo's own evidence: the example chatbot profile (scope engine), the assessment
# run and its bank (30-assess), the corpus audit and its human review (40-corpus), a label check of the
# labelled files (20-label). Signed manifest, verify, gaps, tamper detection. Outputs: demo-output/dossier/
set -euo pipefail
CNAI=.venv/bin/cnai
OUT=demo-output/dossier
rm -rf "$OUT" && mkdir -p "$OUT"
PROFILE=examples/chatbot-startup.yaml
args=()
if [ -f demo-output/assess/run/run.sqlite ]; then
  args+=(--run demo-output/assess/run --questions demo-output/assess/augmented.jsonl)
  args+=(--keywords src/cnai/assess/data/banks/keywords.yaml)    # the library the run's keyword judge used
else echo "  (no assessment run: run demo/30-assess.sh first; the dossier records the gap)"; fi
if [ -f demo-output/corpus/audit/summary.json ]; then
  args+=(--audit demo-output/corpus/audit)
  [ -f demo-output/corpus/review.json ] && args+=(--review demo-output/corpus/review.json)
else echo "  (no corpus audit: run demo/40-corpus.sh first; the dossier records the gap)"; fi
if [ -d demo-output/label/labelled ]; then
  $CNAI label check demo-output/label/labelled --format jsonl --no-progress > "$OUT/label-check.jsonl" || true
  args+=(--label-check "$OUT/label-check.jsonl")
fi
[ -f demo-output/scope/chatbot-startup.json ] && args+=(--evidence other=demo-output/scope/chatbot-startup.json)

echo "== filing facts the profile does not hold (some left out on purpose: they become gaps)"
cat > "$OUT/facts.yaml" <<'YAML'
schema: cnai/dossier-facts/v1
service_name: 智答 ZhiDa Chat
legal_representative: 张三
assessment_lead: 李四
contacts: [{role: 安全负责人, name: 王五, phone: "010-00000000"}]
model: {name: 智答大模型, version: "2.1"}
domain: general
service_forms: [app, web, api]
corpus: {storage_size: 1.2 TB, tokens: 300000000000}
annotation: {count: 120000, annotators: 40, annotator_type: both, manual_verification_ratio: 0.2}
algorithm: {name: 智答生成合成算法, basic_principle: 基于Transformer的大语言模型，按上下文逐词生成回复}
YAML
printf '智答服务协议（演示文本）\n' > "$OUT/agreement.txt"

echo "== signing key (Ed25519, from the environment only)"
rm -f "$OUT/key.b64"
$CNAI label keygen -o "$OUT/key.b64" > "$OUT/pub.txt"

echo "== build (route auto: the scope engine decides; --lang en adds an English working copy)"
CNAI_LABEL_SIGNING_KEY=$(cat "$OUT/key.b64") $CNAI dossier build "$PROFILE" -o "$OUT/dossier" "${args[@]}" \
  --facts "$OUT/facts.yaml" --evidence "service-agreement=$OUT/agreement.txt" --lang en --sign 2> "$OUT/build.log"
find "$OUT/dossier" -type f -not -path '*/en/*' | sort | sed 's/^/  /'

echo "== verify: every hash and the signature (exit 0)"
$CNAI dossier verify "$OUT/dossier" --trust "$OUT/pub.txt"

echo "== gaps (exit 1 while any is open; first 12 shown)"
rc=0
$CNAI dossier gaps "$OUT/dossier" --format json > "$OUT/gaps.json" || rc=$?
test "$rc" -eq 1
.venv/bin/python - "$OUT/gaps.json" <<'PY'
import json, sys
from collections import Counter
d = json.load(open(sys.argv[1]))
print(f"  {d['open']} open gaps by kind: {dict(Counter(g['kind'] for g in d['gaps']))}")
for g in d["gaps"][:12]:
    print(f"  - [{g['kind']}] {g['what'][:110]}")
PY

echo "== the PDF has real Chinese text"
pdftotext -l 1 "$OUT/dossier/filing/附件1-安全评估报告.pdf" - | head -8

echo "== tampering: edit one byte of a copy's keyword annex -> verify exits 1 naming the file"
cp -r "$OUT/dossier" "$OUT/tampered"
printf 'x' >> "$OUT/tampered/filing/附件4-拦截关键词列表.xlsx"
rc=0
$CNAI dossier verify "$OUT/tampered" || rc=$?
test "$rc" -eq 1
rm -rf "$OUT/tampered"
echo "done: open $OUT/dossier/差距清单.docx and $OUT/dossier/filing/附件1-安全评估报告.pdf"

# Page images for docs/dossier.md (DOSSIER_DOC_IMAGES=1 bash demo/50-dossier.sh regenerates them)
if [ "${DOSSIER_DOC_IMAGES:-0}" = 1 ]; then
  PDF="$OUT/dossier/filing/附件1-安全评估报告.pdf"
  n=$(pdfinfo "$PDF" | awk '/^Pages:/ {print $2}')
  page_of() { for i in $(seq 1 "$n"); do pdftotext -f "$i" -l "$i" "$PDF" - | grep -q "^$1" && { echo "$i"; return; }; done; }
  rm -f docs/img/dossier-report-*.png
  pdftoppm -png -r 60 -f 1 -l 1 -singlefile "$PDF" docs/img/dossier-report-evidence
  p=$(page_of "三、语料安全评估"); pdftoppm -png -r 60 -f "$p" -l "$p" -singlefile "$PDF" docs/img/dossier-report-corpus
  p=$(page_of "四、模型安全评估"); pdftoppm -png -r 60 -f "$p" -l "$p" -singlefile "$PDF" docs/img/dossier-report-model
  echo "page images: docs/img/dossier-report-{evidence,corpus,model}.png"
fi
