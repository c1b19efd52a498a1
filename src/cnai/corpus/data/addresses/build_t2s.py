"""Derive t2s_chars.txt (traditional character -> simplified character, one to one) from OpenCC's t2s
conversion (Apache-2.0), so that addresses.py reads 香港九龍彌敦道 688號 without a runtime dependency.

Run once by a developer; the output is shipped. Only pairs that change one character into one other character
are kept (spans stay where they are).
"""

from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    import opencc

    chars = "".join(map(chr, range(0x4E00, 0xA000)))
    simp = opencc.OpenCC("t2s").convert(chars)
    if len(simp) != len(chars):
        raise SystemExit("OpenCC changed the length of the character run; cannot pair characters")
    pairs = [f"{a}\t{b}" for a, b in zip(chars, simp, strict=True) if a != b]
    (HERE / "t2s_chars.txt").write_text(
        f"# traditional -> simplified, one character each; OpenCC {opencc.__version__} t2s (Apache-2.0)\n"
        + "\n".join(pairs)
        + "\n",
        "utf-8",
    )
    print(len(pairs))


if __name__ == "__main__":
    main()
