"""Derive lexicon.tsv.gz (the word table of the name model's features) from jieba's bundled dictionary (MIT).

Run once by a developer (`python src/cnai/corpus/data/names/build_lexicon.py`); the output ships, so cnai
needs no jieba at run time. One line per 2-4 character all-CJK word with frequency >= 5:
word, frequency bucket (round(log10 f)), and "n" when jieba tags it as a person name (nr/nrfg/nrt).
The model uses it for word-boundary features (does a word start/end/straddle this character?), which
is what tells 高明 in 提高明显 or 方便 from names without learning every word from our small data.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    import jieba

    rows = []
    for line in (Path(jieba.__file__).parent / "dict.txt").read_text("utf-8").splitlines():
        parts = line.split(" ")
        if len(parts) != 3:
            continue
        w, f, tag = parts[0], int(parts[1]), parts[2]
        if 2 <= len(w) <= 4 and f >= 5 and all("\u4e00" <= c <= "\u9fff" for c in w):
            rows.append(f"{w}\t{round(math.log10(f))}\t{'n' if tag in ('nr', 'nrfg', 'nrt') else ''}\n")
    rows.sort()
    # mtime=0: the same input gives a byte-identical file
    with gzip.GzipFile(HERE / "lexicon.tsv.gz", "wb", mtime=0) as fh:
        fh.write(
            b"# word\tlog10 frequency\tn = tagged as a person name  (derived from jieba 0.42.1 dict.txt, MIT)\n"
        )
        fh.write("".join(rows).encode("utf-8"))
    print(len(rows), "words")


if __name__ == "__main__":
    main()
