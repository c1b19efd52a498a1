#!/usr/bin/env bash
# Web workspace: shows the API on a demo workspace, then prints how to open it in a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
CNAI=${CNAI:-.venv/bin/cnai}
OUT=demo-output/web
rm -rf "$OUT" && mkdir -p "$OUT"
PORT=${CNAI_DEMO_PORT:-$(.venv/bin/python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")}

"$CNAI" serve --demo --data-dir "$OUT/workspace" --port "$PORT" 2>"$OUT/serve.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "== services in the demo workspace (GET /api/v1/services)"
curl -fsS "http://127.0.0.1:$PORT/api/v1/services" | .venv/bin/python -c \
  'import json,sys; [print("  #%(id)s v%(version)s %(name)s" % s) for s in json.load(sys.stdin)]'
echo "== duties of service 1 that are overdue (GET /api/v1/services/1/duties?state=overdue)"
curl -fsS "http://127.0.0.1:$PORT/api/v1/services/1/duties?state=overdue" | .venv/bin/python -c \
  'import json,sys; [print("  %s %s (%s)" % (d["due"], d["id"], ", ".join(d["citations"]))) for d in json.load(sys.stdin)["duties"]]'
echo "== action list and calendar"
curl -fsS -o "$OUT/actions-service-1.xlsx" "http://127.0.0.1:$PORT/api/v1/services/1/actions.xlsx"
curl -fsS -o "$OUT/deadlines-service-1.ics" "http://127.0.0.1:$PORT/api/v1/services/1/deadlines.ics"
ls -1 "$OUT"/*.xlsx "$OUT"/*.ics | sed 's/^/  /'
echo "== a stale edit is refused (409), not silently overwritten"
curl -sS -o /dev/null -w "  PUT with If-Match \"v0\": HTTP %{http_code}\n" -X PUT -H 'If-Match: "v0"' \
  -H 'content-type: application/json' --data '{"schema":"cnai/profile/v1","service":{"name":"x"}}' \
  "http://127.0.0.1:$PORT/api/v1/services/1"

cat <<MSG

Open the workspace with the demo data in a browser:

    $CNAI serve --demo            # then open http://127.0.0.1:8000/

(data in ./cnai-workspace; --data-dir DIR for another folder; API docs: http://127.0.0.1:8000/api/v1/openapi.json)
Screenshots of every page: docs/img/web-*.png (docs/web.md).
MSG
