"""Derive the name tables in this folder from jieba's bundled dictionary (MIT licence).

Run once by a developer (`python src/cnai/corpus/data/names/build_tables.py`); the outputs are
shipped, so cnai needs no jieba at run time. Outputs:
- given_chars.tsv: char, count as a given-name character (2-3 character words tagged nr/nrfg whose
  first character is a surname in surnames.txt), count in general words (frequency-weighted);
- common_words.tsv: word, frequency for 2-3 character words of ordinary text that start or end with a
  surname character (the "高明 / 方便 / 文明" hard negatives), excluding rare person-name entries.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    import jieba

    dict_path = Path(jieba.__file__).parent / "dict.txt"
    surnames = {
        ln.split("\t")[0]
        for ln in (HERE / "surnames.txt").read_text("utf-8").splitlines()
        if ln and not ln.startswith("#")
    }
    single = {s for s in surnames if len(s) == 1}
    given, general = Counter(), Counter()
    words: dict[str, int] = {}
    for line in dict_path.read_text("utf-8").splitlines():
        parts = line.split(" ")
        if len(parts) != 3:
            continue
        w, f, tag = parts[0], int(parts[1]), parts[2]
        if not all("\u4e00" <= c <= "\u9fff" for c in w):
            continue
        for c in w:
            general[c] += math.log1p(f)
        is_name = tag in ("nr", "nrfg", "nrt")
        if is_name and len(w) in (2, 3) and w[0] in single:
            for c in w[1:]:
                given[c] += 1
        # ordinary words: any non-name tag, or a name-tagged entry frequent enough to be a word (文明 6584)
        # words that touch a surname character, and any frequent 2-character word (a given part such as
        # 愚昧 in 都愚昧 that is an ordinary word)
        if (2 <= len(w) <= 3 and (w[0] in single or w[-1] in single or w[:2] in surnames)) or (
            len(w) == 2 and f >= 100 and not is_name
        ):
            if not is_name and f >= 3:
                words[w] = f
            elif (
                is_name and f >= 60
            ):  # jieba tags many words nr (段子 132, 武侠 81); famous names too (李娜 438)
                words[w] = -f  # negative: a name-tagged word, penalised less
    with open(HERE / "given_chars.tsv", "w", encoding="utf-8") as fh:
        fh.write("# char\tgiven_count\tgeneral_weight  (derived from jieba 0.42.1 dict.txt, MIT)\n")
        for c in sorted(set(given) | {c for c, v in general.items() if v >= 5}):
            fh.write(f"{c}\t{given[c]}\t{general[c]:.1f}\n")
    with open(HERE / "common_words.tsv", "w", encoding="utf-8") as fh:
        fh.write(
            "# word\tfrequency, negative for entries jieba tags as a name  (derived from jieba 0.42.1 dict.txt, MIT)\n"
        )
        for w in sorted(words):
            fh.write(f"{w}\t{words[w]}\n")
    print(f"given chars {len(given)}, common words {len(words)}", file=sys.stderr)


if __name__ == "__main__":
    main()
