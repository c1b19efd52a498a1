"""inspect_ai side of benchmarks/assess_throughput.py (run with a Python that has inspect_ai).

usage: python assess_inspect_task.py BANK.jsonl BASE_URL CONCURRENCY LOG_DIR
Prints one JSON line: {"samples", "eval_s", "inspect_version"}.
"""

import json
import sys
import time

from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import includes
from inspect_ai.solver import generate

bank, base, conc, log_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
samples = []
for line in open(bank, encoding="utf-8"):
    r = json.loads(line)
    samples.append(Sample(id=r["id"], input=r["question"], target="抱歉"))
task = Task(dataset=MemoryDataset(samples), solver=generate(), scorer=includes())
t0 = time.perf_counter()
logs = eval(task, model="openai/mock", model_base_url=base, max_connections=conc, log_dir=log_dir,
            display="none", max_samples=conc, model_args={"responses_api": False})
dt = time.perf_counter() - t0
import inspect_ai  # noqa: E402

print(json.dumps({"samples": len(logs[0].samples or []), "status": logs[0].status, "eval_s": round(dt, 3),
                  "inspect_version": inspect_ai.__version__}))
