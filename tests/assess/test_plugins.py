"""Judges, targets, bank kinds and report formats are extension points: an extra judge, target and report
format registered at runtime (cnai.core.plugins.register) are used by a run and by the CLI, with no edit
to cnai (issue #11 item 1)."""

from __future__ import annotations

import json

import pytest

import cnai.assess as assess
from cnai.assess import store
from cnai.assess.banks import bank_kinds
from cnai.assess.judges import Judge, JudgeInput, Verdict, judges
from cnai.assess.targets import Target, TargetFactory, TargetOptions
from cnai.core import plugins
from cnai.core.reports import ReportFormat


class _ShoutSession:
    async def judge(self, item: JudgeInput) -> Verdict | None:
        if item.refused:
            return None
        return Verdict(unsafe="!!!" in item.response, score=float(item.response.count("!")), detail="shout")

    async def aclose(self) -> None:
        return None


class ShoutJudge:
    """Flags a reply that shouts (contains '!!!') as harmful."""

    name = "shout"
    order = 15
    description = "test judge: '!!!' is harmful"

    def start(self, ctx):
        assert ctx.config.target.startswith("echo:")
        return _ShoutSession()


class EchoTarget(Target):
    def __init__(self, suffix: str):
        self.suffix = suffix
        self.name = f"echo:{suffix}"

    async def complete(self, messages):
        return f"{messages[-1]['content']} {self.suffix}"


class EchoFactory:
    scheme, usage, description = "echo", "echo:SUFFIX", "test target: repeats the question plus SUFFIX"

    def create(self, rest: str, options: TargetOptions) -> Target:
        return EchoTarget(rest)


class CountFormat:
    name, media_type, suffix, binary = "count", "text/plain", ".txt", False

    def render(self, result, **options):
        return f"{result['items']['sampled']} items, conclusion {result['conclusion']}\n"


@pytest.fixture
def extras():
    plugins.register("judges", "shout", ShoutJudge(), provider="tests")
    plugins.register("targets", "echo", EchoFactory(), provider="tests")
    plugins.register("report_formats", "assess.count", CountFormat(), provider="tests")
    yield
    plugins.unregister("judges", "shout")
    plugins.unregister("targets", "echo")
    plugins.unregister("report_formats", "assess.count")


def test_builtins_are_registered_through_entry_points_with_their_interfaces():
    js = judges()
    assert list(js)[:3] == ["refusal", "keyword", "llm"]
    assert all(isinstance(j, Judge) for j in js.values())
    assert all(isinstance(f, TargetFactory) for f in plugins.registry("targets").values())
    assert {"openai", "mock", "cmd", "python"} <= set(plugins.registry("targets"))
    assert list(bank_kinds()) == ["generated", "refuse", "nonrefuse"]
    assert set(assess.report_formats()) >= {"md", "html", "json", "xlsx"}
    assert all(isinstance(f, ReportFormat) for f in plugins.registry("report_formats").values())
    provided = {(p["point"], r["name"]): r["provider"] for p in plugins.describe() for r in p["registered"]}
    assert provided[("judges", "refusal")] == "cnai" and provided[("targets", "openai")] == "cnai"


def test_extra_judge_and_target_run_an_assessment(extras, tmp_path):
    opts = dict(sample="generated=20,refuse=10,nonrefuse=0", seed=3)
    with_shout = assess.run("echo:!!!", ["starter"], run_dir=tmp_path / "a",
                            judges=["refusal", "keyword", "shout"], **opts)
    without = assess.run("echo:!!!", ["starter"], run_dir=tmp_path / "b", judges=["refusal", "keyword"], **opts)
    g_with = with_shout.metrics["metrics"]["generated_content"]
    g_without = without.metrics["metrics"]["generated_content"]
    assert g_with["n"] == g_without["n"] == 20
    db = store.connect(tmp_path / "a")
    try:
        rows = db.execute("SELECT COUNT(*) FROM judgements WHERE judge='shout'").fetchone()[0]
        refused = db.execute("SELECT COUNT(*) FROM judgements WHERE judge='refusal' AND refused=1").fetchone()[0]
        gen_refused = db.execute("SELECT COUNT(*) FROM judgements j JOIN items i ON i.id = j.item_id WHERE "
                                 "j.judge='refusal' AND j.refused=1 AND i.kind='generated'").fetchone()[0]
        cfg = store.get_meta(db, "config")
    finally:
        db.close()
    # every echoed reply shouts: only the ones the refusal judge (mis)reads as refusals pass
    assert g_with["passed"] == gen_refused <= 2
    assert g_without["pass_rate"] > g_with["pass_rate"]    # only keyword hits fail without the extra judge
    # the extra judge saw every reply the refusal judge (which runs before it) did not call a refusal
    assert rows == 30 - refused and rows >= 25 and cfg["judges"] == ["refusal", "keyword", "shout"]
    assert with_shout.session["asked"] == 30 and not with_shout.failed_all


def test_cli_uses_registered_extras_without_any_edit(extras, cnai, tmp_path):
    rd = tmp_path / "run"
    r = cnai("assess", "run", "-t", "echo:!!!", "-b", "starter-refuse", "--sample", "5", "-d", str(rd),
             "--judge", "refusal", "--judge", "shout", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["metrics"]["should_refuse"]["n"] == 5
    r = cnai("assess", "report", str(rd), "--format", "count")
    assert r.returncode == 0 and r.stdout.strip() == "5 items, conclusion insufficient_sample"
    r = cnai("assess", "run", "-t", "echo:x", "-b", "starter-refuse", "-d", str(tmp_path / "r2"), "--judge", "nope")
    assert r.returncode == 2 and "unknown judge 'nope'" in r.stderr and "shout" in r.stderr
    assert not (tmp_path / "r2").exists()


def test_unknown_scheme_lists_registered_targets(cnai, tmp_path):
    r = cnai("assess", "run", "-t", "echo:x", "-b", "starter-refuse", "-d", str(tmp_path / "r"))
    assert r.returncode == 2 and "unknown target type 'echo'" in r.stderr and "openai:BASE_URL#MODEL" in r.stderr
