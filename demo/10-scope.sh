#!/usr/bin/env bash
# Applicability engine on the built-in example profiles: Markdown, HTML and JSON reports.
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
      f"{c['not_applicable']} n/a; filings: {', '.join(sorted(set(f))) or 'none'}")
PY
done
echo "scope reports: $out/*.md, *.html, *.json"
