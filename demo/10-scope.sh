#!/usr/bin/env bash
# Applicability engine on the built-in example profiles: Markdown, HTML and JSON reports; law parameters,
# change log and the country guide from the knowledge base.
set -euo pipefail
out=demo-output/scope
mkdir -p "$out"
for p in examples/*.yaml; do
  name=$(basename "$p" .yaml)
  .venv/bin/cnai scope "$p" --format md -o "$out/$name.md" 2>/dev/null
  .venv/bin/cnai scope "$p" --format html -o "$out/$name.html" 2>/dev/null
  .venv/bin/cnai scope "$p" --format json -o "$out/$name.json" 2>/dev/null
  .venv/bin/python - "$out/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["summary"]["counts"]
f = [x["kind"] for x in r["filings"] if x["status"] == "applies"]
print(f"  {r['profile']['name']}: {c['applies']} apply, {c['needs_info']} need info, "
      f"{c['not_applicable']} n/a, {r['summary']['overdue']} due dates passed; "
      f"filings: {', '.join(sorted(set(f))) or 'none'}")
PY
done
.venv/bin/cnai law params --format json > "$out/law-params.json"
.venv/bin/cnai law changes --from 2024-06-01 --format md > "$out/law-changes.md"
.venv/bin/cnai law guide --format md -o "$out/guide.md" 2>/dev/null
.venv/bin/cnai law guide --format html --lang zh -o "$out/guide-zh.html" 2>/dev/null
.venv/bin/cnai law guide --format json > "$out/guide.json"
.venv/bin/python - "$out/guide.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
print(f"  guide on {g['as_of']}: {len(g['answers'])} answers, "
      f"{sum(len(a['citations']) for a in g['answers'])} citations, "
      f"{sum(len(a['changed_since']) for a in g['answers'])} changes since {g['since']}")
PY
# hostile input is refused with one line and exit 2, the profile untouched
cp examples/chatbot-startup.yaml "$out/p.yaml"
if .venv/bin/cnai scope "$out/p.yaml" -o "$out/p.yaml" 2>"$out/refused.txt"; then echo "expected a refusal" >&2; exit 1; fi
cmp -s examples/chatbot-startup.yaml "$out/p.yaml" && echo "  refused: $(cat "$out/refused.txt")"
rm -f "$out/p.yaml"
echo "scope reports: $out/*.md, *.html, *.json; guide: $out/guide.md, $out/guide-zh.html"
