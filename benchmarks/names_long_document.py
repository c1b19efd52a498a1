"""names.find on one long document with many names (a novel chapter, minutes, a roster): CPU time as the document
and its number of names double. Before round 10 several steps compared each span with every other (the final
overlap check, the list, dotted-name, well-known-name, title and address checks), so the time grew with the square
of the number of names; now it should grow in proportion. --shapes runs hostile shapes of 15,000-25,000 names
(a 、 list, dotted transliterations, @-handles, spaced characters, a roster, titles of works).

    .venv/bin/python benchmarks/names_long_document.py [--names 1500,3000,6000,12000] [--shapes]
"""

from __future__ import annotations

import argparse
import random
import time


def document(n: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    sur = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    giv = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红"
    return "".join(f"{rng.choice(sur)}{rng.choice(giv)}{rng.choice(giv)}说今天的会议推迟到下午。" for _ in range(n))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--names", default="1500,3000,6000,12000")
    ap.add_argument("--shapes", action="store_true")
    a = ap.parse_args()
    from cnai.corpus import names

    names.find(document(10))  # load the model and tables
    print("| names in the document | characters | names found | CPU s | CPU µs per name |\n|---|---|---|---|---|")
    for n in (int(x) for x in a.names.split(",")):
        text = document(n)
        t0 = time.process_time()
        found = names.find(text)
        dt = time.process_time() - t0
        print(f"| {n:,} | {len(text):,} | {len(found):,} | {dt:.2f} | {dt / n * 1e6:.0f} |")
    if a.shapes:
        shapes = {
            "、 list": "、".join(["王伟", "李娜"] * 20000),
            "dotted transliterations": "玛丽·居里、" * 15000,
            "@-handles": "@阿珍 " * 20000,
            "spaced characters": "王 李 张 刘 " * 25000,
            "roster lines": "\n".join(f"{i} 周婷婷 周一" for i in range(20000)),
            "titles of works": "《王伟传》李娜" * 15000,
            "Latin names in Chinese": "David Chen和王伟，" * 10000,
        }
        print("\n| shape | characters | names found | CPU s |\n|---|---|---|---|")
        for label, text in shapes.items():
            t0 = time.process_time()
            found = names.find(text)
            print(f"| {label} | {len(text):,} | {len(found):,} | {time.process_time() - t0:.2f} |")


if __name__ == "__main__":
    main()
