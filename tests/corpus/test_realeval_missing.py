"""A realistic-set file that is not there (a clone taken while the next held-out set is being written) gives a
one-line error naming the file, not a traceback."""

from cnai.corpus import realeval


def test_missing_set_file_is_named(cnai, monkeypatch, tmp_path):
    gone = tmp_path / "heldout99.txt"
    monkeypatch.setattr(realeval, "HELDOUT", gone)
    r = cnai("corpus", "eval", "--set", "realistic")
    assert r.returncode == 1
    assert str(gone) in r.stderr and "not found" in r.stderr and "Traceback" not in r.stderr
    # and what to run instead: the development sets, or the last scored held-out set alone
    assert "--split dev" in r.stderr and f"--split {list(realeval.EARLIER_HELDOUT)[-1]}" in r.stderr


def test_malformed_set_line_is_named(cnai, monkeypatch, tmp_path):
    bad = tmp_path / "heldout99.txt"
    bad.write_text("# header\nnews\t〔王建华|N〕昨日发言。\nno tab on this line\n", encoding="utf-8")
    monkeypatch.setattr(realeval, "HELDOUT", bad)
    r = cnai("corpus", "eval", "--set", "realistic")
    assert r.returncode == 1 and f"{bad}:3" in r.stderr
