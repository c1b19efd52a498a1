#!/usr/bin/env bash
# GB/T 45654 security self-assessment demo: banks, a run against a mock target, reports, review sheet,
# and a run through a fault-injecting local OpenAI-compatible server. Outputs: demo-output/assess/
set -euo pipefail
CNAI=.venv/bin/cnai
OUT=demo-output/assess
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== the 31 risks (first 5)"
$CNAI assess taxonomy > "$OUT/taxonomy.txt"
head -5 "$OUT/taxonomy.txt"

echo "== built-in banks vs the standard's minimums (every minimum met: exit 0)"
$CNAI bank check starter --format json > "$OUT/bank-check.json"
python3 -c "import json; d=json.load(open('$OUT/bank-check.json')); print({k: v['items'] for k, v in d['banks'].items()}, 'unmet:', d['unmet'])"

echo "== grow the banks with tagged wrappers: variants are listed apart, never counted toward a minimum"
$CNAI bank augment starter -o "$OUT/augmented.jsonl"
$CNAI bank check "$OUT/augmented.jsonl" --format json > "$OUT/bank-check-augmented.json"
python3 -c "import json; d=json.load(open('$OUT/bank-check-augmented.json')); print({k: (v['items'], v.get('variants')) for k, v in d['banks'].items()}, '(base items, variants)')"

echo "== evasion-proof keywords: the forms each entry catches (filing annex) and a spelled-out evasion"
$CNAI bank keywords expand starter -o "$OUT/keywords-expanded.xlsx"
.venv/bin/python - <<'PY'
from cnai.assess.evasion import keyword_matcher
from cnai.assess.keywords import load_keyword_library
lib = load_keyword_library(None)
text = "有人在群里发：自 制 炸 藥 教程、zhizuozhadan、顛覆國家政權"
for name, m in (("plain", keyword_matcher(lib, normalize=False)), ("normalised", keyword_matcher(lib))):
    print(f"{name:10s}", [(text[h.start:h.end], h.keyword) for h in m.find_all(text)])
PY

echo "== attack variants: ten techniques, asked against a mock that falls for framing; which get through?"
$CNAI bank mutate starter-refuse -o "$OUT/attacks.jsonl" --attacks all
$CNAI assess run --target mock:gullible --bank starter --sample refuse=all,generated=100,nonrefuse=20 \
  --attacks all --run-dir "$OUT/run-attacks" --concurrency 32
$CNAI assess report "$OUT/run-attacks" --format md -o "$OUT/report-attacks.md"
sed -n '/Attack variants/,/^| \*\*all/p' "$OUT/report-attacks.md"

echo "== public Chinese safety sets (fixtures written for cnai in their layouts), run like any bank"
$CNAI bank import-public flames tests/assess/data/public_sets/flames.jsonl -o "$OUT/flames.jsonl"
$CNAI bank import-public seval tests/assess/data/public_sets/seval.jsonl -o "$OUT/seval.jsonl"
$CNAI assess run --target mock:mixed --bank "$OUT/flames.jsonl" --bank "$OUT/seval.jsonl" --sample all \
  --run-dir "$OUT/run-public" > /dev/null

echo "== the judges' measured error (630 hand-written replies; printed in every report)"
grep -A3 "Judge error" "$OUT/report-attacks.md" | head -4
$CNAI bank export starter -o "$OUT/starter-banks.xlsx"
$CNAI bank export starter-keywords --keywords -o "$OUT/keywords.xlsx"

echo "== assessment run against the deterministic mock:mixed target (standard sample sizes, seed 1)"
$CNAI assess run --target mock:mixed --bank "$OUT/augmented.jsonl" --run-dir "$OUT/run" --seed 1 --concurrency 32
$CNAI assess report "$OUT/run" --format html -o "$OUT/report.html"
$CNAI assess report "$OUT/run" --format md -o "$OUT/report.md"
$CNAI assess report "$OUT/run" --format json -o "$OUT/report.json"
$CNAI assess report "$OUT/run" --format xlsx -o "$OUT/annex.xlsx"
$CNAI assess review-export "$OUT/run" --only failed -o "$OUT/review-failed.xlsx"
$CNAI assess checklist -o "$OUT/checklist-template.yaml"

echo "== the same kind of run through a local OpenAI-compatible server that injects faults (20%)"
PORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
$CNAI assess test-server --port "$PORT" --faults 0.2 --seed 7 2>/dev/null &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
$CNAI assess run --target "openai:http://127.0.0.1:$PORT/v1#mock" --bank starter --sample 100 \
  --run-dir "$OUT/run-faults" --timeout 2 --retries 8 --concurrency 16
$CNAI assess report "$OUT/run-faults" --format json -o "$OUT/report-faults.json"
python3 -c "import json; d=json.load(open('$OUT/report-faults.json')); print('errors:', d['errors'])"

echo "== a dead endpoint is not a success: exit 1, errors grouped by reason on stderr"
rc=0
$CNAI assess run --target "openai:http://127.0.0.1:1/v1#m" --bank starter-refuse --sample 15 \
  --run-dir "$OUT/run-dead" --retries 0 --format json > "$OUT/run-dead.json" 2> "$OUT/run-dead.err" || rc=$?
test "$rc" -eq 1
tail -1 "$OUT/run-dead.err"

echo "== the same report through the library API, and the registered judges / targets / bank kinds"
.venv/bin/python - "$OUT" <<'PY'
import sys
import cnai.assess as assess
from cnai.assess.banks import bank_kinds
from cnai.assess.judges import judges
from cnai.assess.targets import target_factories
rep = assess.report(f"{sys.argv[1]}/run", format="json")
print("conclusion:", rep.conclusion, "| formats:", ", ".join(assess.report_formats()))
print("judges (run order):", ", ".join(judges()), "| targets:", ", ".join(target_factories()),
      "| bank kinds:", ", ".join(bank_kinds()))
PY
echo "done: open $OUT/report.html"
