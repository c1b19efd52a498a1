"""Cost of the issue-19 label additions: SM2 vs Ed25519 tokens, embed with SM2 signing or a C2PA manifest vs
plain labelling, and `conformance` throughput. Writes benchmarks/results/label-conformance.md.

    .venv/bin/python benchmarks/label_conformance_bench.py [--n 40]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CNAI = [sys.executable, "-m", "cnai.cli"] if not (ROOT / ".venv/bin/cnai").exists() else [str(ROOT / ".venv/bin/cnai")]
PRODUCER = "001191110102MACQD9K64010000"


def timed(cmd: list[str], env: dict | None = None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, **(env or {})})
    return time.perf_counter() - t


def tokens(n: int = 100) -> dict:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cnai.label import integrity as I

    d = I.digest_chunks([b"x" * 4096], "sm3")
    out = {}
    for name, key in (("sm2", I.SM2Key.generate()), ("ed25519", Ed25519PrivateKey.generate())):
        alg = I.token_digest_alg(key, "sha256")
        t = time.perf_counter()
        toks = [I.make_token(d, priv=key, label="1", who=PRODUCER, ident=str(i), alg=alg) for i in range(n)]
        sign = (time.perf_counter() - t) / n
        t = time.perf_counter()
        for i, tok in enumerate(toks):
            assert I.verify_token(tok, d, label="1", who=PRODUCER, ident=str(i)) == []
        out[name] = (sign * 1000, (time.perf_counter() - t) / n * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40, help="images of 1 MP")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    import numpy as np
    from PIL import Image
    from tests.label.test_c2pa_side import _pki

    from cnai.label import conformance as C
    from cnai.label.integrity import SM2Key

    rows = []
    tk = tokens()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        src = t / "in"
        src.mkdir()
        rng = np.random.default_rng(0)
        base = (rng.integers(0, 255, (1000, 1000, 3)) // 8 * 8).astype("uint8")
        for i in range(args.n):
            Image.fromarray(np.roll(base, i, axis=1)).save(src / f"{i}.jpg", quality=85)
        mb = sum(p.stat().st_size for p in src.iterdir()) / 1e6
        chain, key, ca = _pki(t)
        sm2 = "sm2:" + __import__("base64").b64encode(SM2Key.generate().secret_bytes()).decode()
        emb = [*CNAI, "label", "embed", str(src), "--producer", PRODUCER, "--produce-id", "b{n}"]
        plain = timed([*emb, "-o", str(t / "o1")])
        signed = timed([*emb, "--sign", "-o", str(t / "o2")], env={"CNAI_LABEL_SIGNING_KEY": sm2})
        c2 = timed([*emb, "--c2pa-cert", str(chain), "--c2pa-key", str(key), "-o", str(t / "o3")])
        size = lambda d: sum(p.stat().st_size for p in d.iterdir() if p.is_file()) / args.n  # noqa: E731
        chk_plain = timed([*CNAI, "label", "check", str(t / "o1")])
        chk_c2 = timed([*CNAI, "label", "check", str(t / "o3"), "--c2pa-trust", str(ca)])
        conf = timed([*CNAI, "label", "conformance", str(t / "o2")])
        corpus = t / "corpus"
        tw = time.perf_counter()
        res = C.write_corpus(str(corpus))
        tw = time.perf_counter() - tw
        tc = timed([*CNAI, "label", "conformance", str(corpus)])
        rows += [("embed, plain label", plain, size(t / "o1")), ("embed --sign (SM2)", signed, size(t / "o2")),
                 ("embed --c2pa-cert", c2, size(t / "o3")), ("check (plain)", chk_plain, None),
                 ("check --c2pa-trust (C2PA)", chk_c2, None), ("conformance (SM2-signed)", conf, None)]
    lines = [
        "# Label additions of issue 19: SM2, C2PA side by side, conformance",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}. "
        f"{args.n} JPEGs of 1 MP ({mb:.1f} MB in total), one process per command (start-up included).",
        "",
        "| operation | seconds | ms per file | mean output size (bytes) |",
        "|---|---|---|---|",
    ]
    for name, s, sz in rows:
        lines.append(f"| {name} | {s:.2f} | {s / args.n * 1000:.0f} | {'' if sz is None else f'{sz:.0f}'} |")
    lines += ["", "| token | sign (ms) | verify (ms) |", "|---|---|---|"]
    for k, (s, v) in tk.items():
        lines.append(f"| {k} | {s:.2f} | {v:.2f} |")
    lines += ["", f"Conformance corpus: {len(res['written'])} samples written in {tw:.2f} s, checked in {tc:.2f} s "
              f"(skipped: {len(res['skipped'])}).", ""]
    out = ROOT / "benchmarks/results/label-conformance.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
