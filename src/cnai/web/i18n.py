"""UI strings in English and Chinese, from the table i18n.tsv (key, English, Chinese). Legal content (duty
summaries, titles) stays as the knowledge base has it."""

from __future__ import annotations

from pathlib import Path

LANGS = ("en", "zh")
TABLE = Path(__file__).with_name("i18n.tsv")


def load_table(path: Path = TABLE) -> dict[str, tuple[str, str]]:
    """key -> (English, Chinese); a malformed line or a key given twice is an error naming the line."""
    table: dict[str, tuple[str, str]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise ValueError(f"{path.name}:{n}: expected key<TAB>English<TAB>Chinese")
        if parts[0] in table:
            raise ValueError(f"{path.name}:{n}: key {parts[0]!r} is given twice")
        table[parts[0]] = (parts[1], parts[2])
    return table


STRINGS = load_table()


def translate(key: str, lang: str) -> str:
    pair = STRINGS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "zh" else pair[0]


def pick_lang(query: str | None, cookie: str | None, accept: str | None) -> str:
    for v in (query, cookie):
        if v in LANGS:
            return v
    if accept and accept.lower().startswith("zh"):
        return "zh"
    return "en"
