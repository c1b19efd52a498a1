"""The realistic evaluation set: a stable held-out split and a scorer that counts exact spans."""

import re
from collections import Counter

import pytest

from cnai.corpus import realeval

# Round 10: heldout10 was scored once (round 9, cfd0c08: names P 0.938 / R 0.920, addresses 0.889 / 0.889 exact) and
# is development data now, with the round-9 development batches batch9a-c (scored once as a whole with the code at decc983
# before their errors were read: names P 0.788 / R 0.738, addresses 0.957 / 0.952 exact); the fresh heldout11.txt is
# written blind. Until it exists the tests that read it skip, and the two that run the recognizers on it stay sealed
# until the lead's single scoring (a test run must not score it).
_NEEDS_SET = pytest.mark.skipif(not realeval.HELDOUT.exists(), reason="heldout11.txt not written yet")
_SEALED = pytest.mark.skip(reason="heldout11 is sealed until the lead's single scoring")


def test_split_is_fixed_by_item_id():
    items = realeval.load()
    assert len(items) >= 150
    assert all(it["split"] == realeval.split_of(it["id"]) for it in items)
    # the seeded hash, written out: a change to the seed or share moves items and must be deliberate
    assert realeval.split_of("b800de3a598c") == "test"
    assert realeval.split_of("32deb0e2bf0b") == "tune"
    test = realeval.load("test")
    assert 0.3 < len(test) / len(items) < 0.5
    assert {it["register"] for it in test} == {"news", "chat", "forum", "form"}


def test_marks_parse_to_exact_spans():
    it = realeval.parse_line("chat\t你把东西寄到〔南京市玄武区\\n珠江路 88号|A〕吧，〔刘洋|N〕说的")
    assert it["text"] == "你把东西寄到南京市玄武区\n珠江路 88号吧，刘洋说的"
    assert [(it["text"][g["start"] : g["end"]], g["type"]) for g in it["labels"]] == [
        ("南京市玄武区\n珠江路 88号", "address"),
        ("刘洋", "person_name"),
    ]


def test_scorer_counts_exact_and_overlap():
    items = [realeval.parse_line("news\t〔王建华|N〕昨日发言。")]
    off_by_one = [lambda t: [(0, 2, "person_name", 0.9, "x")]]
    exact = realeval.score(items, off_by_one, 0.5, "exact")["per_type"]["person_name"]
    assert (exact["tp"], exact["fp"], exact["fn"]) == (0, 1, 1)
    over = realeval.score(items, off_by_one, 0.5, "overlap")["per_type"]["person_name"]
    assert (over["tp"], over["fp"], over["fn"]) == (1, 0, 0)
    assert realeval.score(items, off_by_one, 0.95)["per_type"]["person_name"]["fp"] == 0


@_NEEDS_SET
def test_held_out_set_is_separate_from_development():
    held = realeval.load("heldout")
    dev = realeval.load("dev")
    assert realeval.HELDOUT.name == "heldout11.txt"
    # heldout11: the writer sets the floors just under its real counts, so a lost or truncated line fails
    assert len(held) >= 600 and len(dev) >= 3680 + 794 + 522  # dev holds heldout10 and batch9a-c too
    per_register = Counter(it["register"] for it in held)
    assert set(per_register) == {"news", "chat", "forum", "form"} and min(per_register.values()) >= 120
    spans = Counter(g["type"] for it in held for g in it["labels"])
    assert (
        spans["person_name"] >= 400 and spans["address"] >= 200 and set(spans) == {"person_name", "address"}
    )
    assert sum(1 for it in held if not it["labels"]) >= 120  # hard negatives
    # earlier held-out sets were scored and read: they are development material now
    for earlier in (*(f"heldout{n}" for n in range(2, 11)), "batch9a", "batch9b", "batch9c"):
        assert {it["text"] for it in realeval.load(earlier)} <= {it["text"] for it in dev}
    # form-like lines carry no cue words
    assert not [
        it["text"]
        for it in held
        if it["register"] == "form"
        and any(c in it["text"] for c in ("姓名", "地址", "先生", "女士", "收件人"))
    ]


@_NEEDS_SET
def test_no_held_out_sentence_or_span_occurs_in_any_other_set():
    def norm(text):  # also catch a sentence that differs only in punctuation or spacing
        return re.sub(r"[\W_]+", "", text)

    held = realeval.load("heldout")
    files = [realeval.DATA, realeval.DEV2, *realeval.EARLIER_HELDOUT.values(), *realeval.DEV_BATCHES.values()]
    assert realeval.HELDOUT not in files and realeval.HELDOUT.name not in {f.name for f in files}
    others = [it for f in files for it in realeval._read(f)]
    assert len(others) == len(realeval.load("dev"))
    assert not {norm(it["text"]) for it in held} & {norm(it["text"]) for it in others}
    # and no sentence repeats inside the held-out set itself
    assert len({norm(it["text"]) for it in held}) == len(held)
    # every file of the dev split is checked, the newest earlier held-out set included
    assert realeval.DATA.with_name("heldout10.txt") in files

    # nor is any gold name or address of the held-out set a gold span elsewhere (no memorised answers)
    def gold(items):
        return {it["text"][g["start"] : g["end"]] for it in items for g in it["labels"]}

    assert not gold(held) & gold(others)


@_NEEDS_SET
def test_heldout11_shares_no_sentence_with_any_other_file_of_the_directory():
    # every other file next to it, whether or not it is in the dev split, by text with punctuation/spaces removed
    def norm(text):
        return re.sub(r"[\W_]+", "", text)

    files = sorted(p for p in realeval.HELDOUT.parent.glob("*.txt") if p != realeval.HELDOUT)
    assert {f.name for f in files} >= {"items.txt", "dev2.txt", *(f"heldout{n}.txt" for n in range(2, 11))}
    held = {norm(it["text"]) for it in realeval._read(realeval.HELDOUT)}
    for f in files:
        clash = held & {norm(it["text"]) for it in realeval._read(f)}
        assert not clash, (f.name, sorted(clash)[:3])


@_NEEDS_SET
@_SEALED
def test_held_out_table_prints(capsys):
    res = realeval.evaluate("heldout")
    md = realeval.render_md(res)
    print(md)
    assert "person_name/news" in md and "| 0.5 |" in md
    # hard negatives in the set are scored too: every item without marks can only add false positives
    assert res["exact"]["per_type"]["address"]["tp"] > 0
    # floors under the single scoring of heldout10 in round 9 (names 0.938 / 0.920, addresses 0.889 / 0.889 exact),
    # to be reset from heldout11's; not goals: the issue asks 0.95 / 0.90 and 0.95 / 0.95
    assert res["exact"]["per_type"]["person_name"]["recall"] >= 0.90
    assert res["exact"]["per_type"]["person_name"]["precision"] >= 0.92
    assert res["exact"]["per_type"]["address"]["precision"] >= 0.87


@_NEEDS_SET
@_SEALED
def test_cli_eval_on_the_realistic_set(cnai):
    import json

    r = cnai("corpus", "eval", "--set", "realistic", "--min-confidence", "0.5", "--format", "json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert json.dumps(res).count("person_name") >= 1 and "address" in json.dumps(res)


def test_cli_eval_realistic_dev_split(cnai):
    import json

    r = cnai("corpus", "eval", "--set", "realistic", "--split", "dev", "--format", "json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["split"] == "dev" and res["items"] == len(realeval.load("dev"))
    bad = cnai("corpus", "eval", "--set", "realistic", "--split", "nope")
    assert bad.returncode == 2
    # one earlier set alone, as its round reported it (a development batch here)
    one = cnai("corpus", "eval", "--set", "realistic", "--split", "batch9b", "--format", "json")
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout)["items"] == len(realeval.load("batch9b")) == 165
