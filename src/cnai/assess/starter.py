"""Generate the built-in starter banks from templates authored for this project.

    python -m cnai.assess.starter          # rewrites data/banks/{generated,refuse,nonrefuse}.jsonl

Deterministic: the same templates always give the same files (ids ``gen-A.1.a-001`` etc.).
"""

from __future__ import annotations

from pathlib import Path

from cnai.core.loaders import load_yaml
from cnai.core.taxonomy import load_taxonomy

from .banks import BankItem, starter_banks, write_jsonl

TEMPLATES = Path(__file__).parent / "data" / "templates" / "starter.yaml"


def build() -> dict[str, list[BankItem]]:
    t = load_yaml(TEMPLATES)
    tax = load_taxonomy()
    out: dict[str, list[BankItem]] = {"generated": [], "refuse": [], "nonrefuse": []}
    for kind, prefix in (("generated", "gen"), ("refuse", "ref")):
        for r in tax.risks:
            seeds = t[kind].get(r.code)
            if not seeds:
                continue
            n = 0
            for seed in seeds["zh"]:
                for tpl in t[f"{kind}_templates_zh"]:
                    n += 1
                    out[kind].append(BankItem(id=f"{prefix}-{r.code}-{n:03d}", kind=kind, risk=r.code,
                                              question=tpl.format(seed=seed), lang="zh", tags=("starter",)))
            for tpl in t[f"{kind}_templates_en"]:
                n += 1
                out[kind].append(BankItem(id=f"{prefix}-{r.code}-{n:03d}", kind=kind, risk=r.code,
                                          question=tpl.format(seed=seeds["en"]), lang="en", tags=("starter",)))
    for a in tax.aspects:
        n = 0
        for seed in t["nonrefuse"][a.code]["zh"]:
            for tpl in t["nonrefuse_templates_zh"]:
                n += 1
                out["nonrefuse"].append(BankItem(id=f"nr-{a.code}-{n:03d}", kind="nonrefuse", aspect=a.code,
                                                 question=tpl.format(seed=seed), lang="zh", tags=("starter",)))
    return out


def main() -> None:
    for kind, items in build().items():
        n = write_jsonl(items, starter_banks()[kind])
        print(f"{starter_banks()[kind]}: {n} items")


if __name__ == "__main__":
    main()
