#!/usr/bin/env bash
# Training-data audit demo: a small generated Chinese corpus in three formats and two encodings with
# bad lines, PI scan, audit with redaction and a source register, the XLSX review round trip, and the
# detector accuracy table. Outputs: demo-output/corpus/
set -euo pipefail
CNAI=.venv/bin/cnai
PY=.venv/bin/python
OUT=demo-output/corpus
rm -rf "$OUT"
mkdir -p "$OUT/data/forum" "$OUT/data/news"

echo "== generating a small corpus (Faker zh_CN + PI sentences + a few harmful lines + bad input)"
$PY - "$OUT/data" <<'PY'
import gzip, json, random, sys
from pathlib import Path
from faker import Faker
from cnai.corpus.evalset import generate

root = Path(sys.argv[1])
fk = Faker("zh_CN"); fk.seed_instance(1); rnd = random.Random(1)
pi = [i["text"] for i in generate(400, seed=2)]
def doc():
    parts = [fk.paragraph(nb_sentences=3).replace(".", "。") for _ in range(rnd.randint(1, 3))]
    if rnd.random() < 0.3:
        parts.append(rnd.choice(pi))
    return "".join(parts)
# forum: 8% harmful -> breaks the 5% source rule; gzip JSONL with a malformed line and a GBK line
with gzip.open(root / "forum" / "posts.jsonl.gz", "wt", encoding="utf-8") as fh:
    for i in range(600):
        text = "有人在帖子里煽动颠覆国家政权。" if rnd.random() < 0.08 else doc()
        fh.write(json.dumps({"id": f"forum-{i}", "text": text}, ensure_ascii=False) + "\n")
    fh.write("{broken json\n")
    fh.write(json.dumps({"id": "forum-nofield", "body": "没有text字段"}, ensure_ascii=False) + "\n")
with open(root / "forum" / "legacy-gbk.jsonl", "wb") as fh:
    for i in range(50):
        fh.write(json.dumps({"id": f"gbk-{i}", "text": doc()}, ensure_ascii=False).encode("gb18030") + b"\n")
    fh.write(b'{"id": "bad-bytes", "text": "\xff\xfe\xff"}\n')
# news: clean CSV
import csv
with open(root / "news" / "articles.csv", "w", encoding="utf-8", newline="") as fh:
    w = csv.writer(fh); w.writerow(["id", "text"])
    for i in range(400):
        w.writerow([f"news-{i}", doc()])
print("  forum: 600 + 50 GBK docs (+3 bad lines); news: 400 CSV rows")
PY

echo "== scan (first 3 documents with findings; offsets are characters)"
$CNAI corpus scan "$OUT/data/forum" --only-hits --workers 2 > "$OUT/scan.jsonl" 2> "$OUT/scan.log"
head -3 "$OUT/scan.jsonl" | cut -c1-200
tail -1 "$OUT/scan.log"

echo "== source register"
cat > "$OUT/register.yaml" <<'YAML'
sources:
  - name: forum
    origin: scraped
    collected_from: 2025-01-01
    collected_to: 2025-06-30
    share_outside_mainland: 0.02
    pre_collection_check: "4,000-post sample screened before crawling"
    collection_records: "crawl logs archived"
    robots_terms_notes: "robots.txt honoured"
    ip_review: "forum terms allow research use"
    contains_personal_information: true
    pi_legal_basis: "publicly disclosed by the posters; PI redacted before training"
  - name: news
    origin: purchased
    collected_from: 2025-02-01
    collected_to: 2025-02-01
    share_outside_mainland: 0.0
    pre_collection_check: "vendor sample reviewed"
    contract_evidence: "contract 2025-017"
    ip_review: "licensed for model training"
YAML

echo "== audit: 2 workers, mask redaction, review sample of 300 (exit 1 expected: forum breaks the 5% rule)"
rc=0
$CNAI corpus audit "$OUT/data/forum" "$OUT/data/news" --out "$OUT/audit" --sample 300 --sample-per-source 100 \
  --redact mask --register "$OUT/register.yaml" --workers 2 > "$OUT/audit-summary.json" 2> "$OUT/audit.log" || rc=$?
test "$rc" -eq 1
$PY - "$OUT/audit-summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"  {s['documents']} docs, {s['bytes']} bytes, skipped {s['skipped']['by_reason']}")
for n, src in s["sources"].items():
    print(f"  source {n}: {src['docs']} docs, PI {src['pi_doc_rate']:.1%}, risk {src['risk_doc_rate']:.1%} -> {src['verdict']}")
print(f"  PI findings by type: {s['findings']['by_type']}")
print(f"  redaction: {s['redaction']['modified']} masked, {s['redaction']['dropped']} dropped {s['redaction']['dropped_by_reason']}")
for r in s["register"]["sources"]:
    miss = [i["requirement"] for i in r["requirements"] if i["missing"]]
    print(f"  register {r['name']}: {'complete' if r['complete'] else 'missing ' + ', '.join(miss)}")
PY
$CNAI corpus audit "$OUT/data/forum" "$OUT/data/news" --out "$OUT/audit" --sample 300 --sample-per-source 100 \
  --redact mask --register "$OUT/register.yaml" --workers 2 --format md > "$OUT/audit.md" 2>/dev/null || true
$CNAI corpus audit "$OUT/data/forum" "$OUT/data/news" --out "$OUT/audit" --sample 300 --sample-per-source 100 \
  --redact mask --register "$OUT/register.yaml" --workers 2 > /dev/null 2> "$OUT/audit-rerun.log" || true
echo "  rerun: $(grep -c '(resumed)' "$OUT/audit-rerun.log") of $(grep -c '^\[' "$OUT/audit-rerun.log") shards resumed from disk"

echo "== review round trip: a reviewer marks the sample in $OUT/audit/review-sample.xlsx"
$PY - "$OUT/audit/review-sample.xlsx" <<'PY'
import sys
from openpyxl import load_workbook
wb = load_workbook(sys.argv[1]); ws = wb["review"]
h = [c.value for c in ws[1]]; v = h.index("verdict") + 1; a = h.index("auto_findings") + 1; r = h.index("risk_code") + 1
for row in range(2, ws.max_row + 1):
    harmful = "risk:" in (ws.cell(row=row, column=a).value or "")
    ws.cell(row=row, column=v, value="unqualified" if harmful else "qualified")
    if harmful:
        ws.cell(row=row, column=r, value="A.1.a")
wb.save(sys.argv[1])
PY
rc=0
$CNAI corpus review import "$OUT/audit/review-sample.xlsx" --min-sample 300 > "$OUT/review.json" || rc=$?
$PY -c "import json; r=json.load(open('$OUT/review.json')); print(f\"  reviewed {r['reviewed']}: qualified {r['qualified_rate']:.1%}, 95% CI {r['ci95']}, verdict {r['verdict']} (exit $rc)\")"
echo "== per-source review sample (100 per source), marked the same way"
$PY - "$OUT/audit/review-sample-by-source.xlsx" <<'PY'
import sys
from openpyxl import load_workbook
wb = load_workbook(sys.argv[1]); ws = wb["review"]
h = [c.value for c in ws[1]]; v = h.index("verdict") + 1; a = h.index("auto_findings") + 1
for row in range(2, ws.max_row + 1):
    ws.cell(row=row, column=v, value="unqualified" if "risk:" in (ws.cell(row=row, column=a).value or "") else "qualified")
wb.save(sys.argv[1])
PY
$CNAI corpus review import "$OUT/audit/review-sample-by-source.xlsx" --min-sample 100 > "$OUT/review-by-source.json" || true
$PY -c "
import json; r=json.load(open('$OUT/review-by-source.json'))
for s, v in r['by_source'].items(): print(f\"  {s}: {v['unqualified']}/{v['qualified'] + v['unqualified']} unqualified, 95% CI {v['ci95']} -> {v['verdict']}\")"

echo "== detector accuracy on a generated labelled set (Faker zh_CN + hard negatives)"
$CNAI corpus eval --n 1500 --format md | tee "$OUT/eval.md" | sed -n '3,16p'
echo "outputs: $OUT/"
