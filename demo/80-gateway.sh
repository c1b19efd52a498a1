#!/usr/bin/env bash
# Compliance gateway in front of a model API: prompts redacted before the upstream sees them, replies with
# keyword-library terms blocked (also when split across stream chunks), the explicit text label added, a
# complaint ticket, a registered user receiving a reply without the visible label (ai-labeling:9) while an
# unregistered one is refused, and the hash-chained log verified. The "model" here is cnai's local mock upstream.
# Run from the repo root; everything listens on 127.0.0.1 and is stopped at the end.
set -euo pipefail
PY=.venv/bin/python
CNAI=.venv/bin/cnai
OUT=demo-output/gateway
rm -rf "$OUT" && mkdir -p "$OUT"
free_port() { $PY -c 'from cnai.core.mockhttp import free_port; print(free_port())'; }
UP=$(free_port); GW=$(free_port)

# the mock upstream: model "echo" answers with the prompt it received, "say:TEXT" answers TEXT
$PY - "$UP" <<'PY' &
import asyncio, sys
from cnai.gateway.mock import MockUpstream
async def main():
    await MockUpstream().start(int(sys.argv[1]))
    await asyncio.Event().wait()
asyncio.run(main())
PY
MOCK_PID=$!
# the default policy, with the ai-labeling:9 switch on and one registered user (agreement reference + date)
$CNAI gateway policy init -o "$OUT/policy.yaml" >/dev/null
printf 'user,agreement,agreed\nnewsroom-7,TOS v3 section 7 (labelling duties),2026-01-05\n' > "$OUT/agreements.csv"
sed -i 's/^    enabled: false /    enabled: true  /; s/^    register_file: null /    register_file: agreements.csv /' \
  "$OUT/policy.yaml"
$CNAI gateway policy check "$OUT/policy.yaml" | tail -1
$CNAI gateway serve --upstream "http://127.0.0.1:$UP/v1" --listen "127.0.0.1:$GW" --log-dir "$OUT/log" \
  --policy "$OUT/policy.yaml" 2> "$OUT/gateway.log" &
GW_PID=$!
trap 'kill $GW_PID $MOCK_PID 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  $PY -c "import httpx,sys; httpx.get('http://127.0.0.1:$GW/cnai/health').raise_for_status()" 2>/dev/null && break
  sleep 0.1
done

$PY - "$GW" <<'PY'
import json, sys
import httpx
base = f"http://127.0.0.1:{sys.argv[1]}"
c = httpx.Client(base_url=base, timeout=10, headers={"x-cnai-user": "demo-user"})
def chat(text, model="echo", **extra):
    return c.post("/v1/chat/completions", json={"model": model, "messages": [{"role": "user", "content": text}],
                                                 **extra})

print("== 1. a prompt with a resident ID and a mobile number: the upstream only sees placeholders")
r = chat("我的身份证号是11010519491231002X，手机13800138000，帮我写一封求职信").json()
print("   the model received and echoed:", r["choices"][0]["message"]["content"])

print("== 2. a reply containing a keyword-library term is blocked (generative-ai:14)")
r = chat("hi", model="say:下面教你自制炸药的步骤").json()
print("   finish_reason:", r["choices"][0]["finish_reason"], "| text:", r["choices"][0]["message"]["content"])

print("== 3. the same term split across 2-character SSE chunks: still caught, never forwarded")
with c.stream("POST", "/v1/chat/completions", json={"model": "say:好的，下面教你自制炸药的步骤", "stream": True,
              "mock_chunk": 2, "messages": [{"role": "user", "content": "x"}]}) as s:
    text = "".join(json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
                   for line in s.iter_lines() if line.startswith("data: {"))
print("   client received:", text)
assert "炸药" not in text

print("== 4. an ordinary reply passes, with the explicit label (ai-labeling:4) at the end")
r = chat("hi", model="say:明天北京晴，最高气温12度。").json()
print("  ", r["choices"][0]["message"]["content"])

print("== 5. a complaint gets a ticket and a handling deadline (generative-ai:15)")
print("  ", c.post("/cnai/complaints", json={"text": "回答里有不实信息"}).json())

print("== 6. 'no visible label' asked (ai-labeling:9): granted to a registered user, refused to anyone else")
for user in ("newsroom-7", "demo-user"):
    r = c.post("/v1/chat/completions", headers={"x-cnai-user": user, "x-cnai-no-visible-label": "1"},
               json={"model": "say:明天北京晴。", "messages": [{"role": "user", "content": "x"}]}).json()
    print(f"   {user}: {r['choices'][0]['message']['content']}")
PY

kill $GW_PID && wait $GW_PID 2>/dev/null || true
echo "== 7. the hash-chained log: one record per request, hashes of prompt and output (no text by default)"
$CNAI gateway log verify "$OUT/log"
$CNAI gateway log export "$OUT/log" > "$OUT/log-export.jsonl"
echo "   exported $(wc -l < "$OUT/log-export.jsonl") records to $OUT/log-export.jsonl"
$PY - "$OUT/log-export.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(line).get("data", {})
    if "label_opt_out" in d:
        o = d["label_opt_out"]
        print(f"   {d['user']}: granted={o['granted']} " + (f"agreement={o['agreement']!r}" if o["granted"] else
                                                          f"reason={o['reason']!r}"))
PY
echo "done: outputs in $OUT (docs/gateway.md)"
