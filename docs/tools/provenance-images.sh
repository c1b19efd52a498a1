#!/usr/bin/env bash
# Regenerate the report page images shown in docs/provenance.md from the demo's report.
set -euo pipefail
bash demo/70-provenance.sh > /dev/null
pdftoppm -r 70 -png -f 1 -l 2 demo-output/provenance/report.pdf docs/img/provenance-report
