"""CLI contract: policy init/check, bad input exit 2 with one line, retention below the legal minimum exit 1."""

from __future__ import annotations

import json

from cnai.gateway.policy import DEFAULT_POLICY_YAML, Policy


def test_policy_init_is_the_valid_default(cnai, tmp_path):
    out = tmp_path / "p.yaml"
    r = cnai("gateway", "policy", "init", "-o", str(out))
    assert r.returncode == 0 and out.read_text(encoding="utf-8") == DEFAULT_POLICY_YAML
    from cnai.gateway.policy import load_policy
    assert load_policy(str(out)) == Policy()          # the commented file says what the built-in default does
    r = cnai("gateway", "policy", "check", str(out), "--format", "json")
    rep = json.loads(r.stdout)
    assert r.returncode == 0 and rep["legal_minimum_days"] == 184
    assert {b["citation"] for b in rep["bounds"]} >= {"cybersecurity-law:23", "generative-ai:11"}


def test_retention_below_minimum_fails(cnai, tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text(DEFAULT_POLICY_YAML.replace("retention_days: 190", "retention_days: 90"), encoding="utf-8")
    r = cnai("gateway", "policy", "check", str(p))
    assert r.returncode == 1 and "below the legal minimum" in r.stdout


def test_bad_policy_is_one_line_exit_2(cnai, tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text(DEFAULT_POLICY_YAML.replace("cn_mobile: redact", "cn_mobile: shred"), encoding="utf-8")
    r = cnai("gateway", "policy", "check", str(p))
    assert r.returncode == 2 and "input.pi.cn_mobile" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    p.write_text(DEFAULT_POLICY_YAML.replace("cn_mobile: redact", "cn_mobil: redact"), encoding="utf-8")
    r = cnai("gateway", "policy", "check", str(p))
    assert r.returncode == 2 and "cn_mobil" in r.stderr


def test_serve_refuses_bad_input_before_binding(cnai, tmp_path):
    r = cnai("gateway", "serve", "--upstream", "ftp://x")
    assert r.returncode == 2 and "--upstream" in r.stderr
    r = cnai("gateway", "serve", "--upstream", "http://127.0.0.1:1/v1", "--listen", "0.0.0.0:8787")
    assert r.returncode == 2 and "--allow-remote" in r.stderr
    r = cnai("gateway", "serve", "--upstream", "http://127.0.0.1:1/v1", "--keywords", str(tmp_path / "none.txt"))
    assert r.returncode == 2


def test_verify_empty_dir_is_bad_input(cnai, tmp_path):
    r = cnai("gateway", "log", "verify", str(tmp_path))
    assert r.returncode == 2


def test_serve_refuses_a_malformed_signing_key_before_binding(cnai, monkeypatch):
    monkeypatch.setenv("CNAI_GATEWAY_SIGNING_KEY", "not-a-key")
    r = cnai("gateway", "serve", "--upstream", "http://127.0.0.1:9/v1", "--listen", "127.0.0.1:9")
    assert r.returncode == 2 and "CNAI_GATEWAY_SIGNING_KEY" in r.stderr and "not-a-key" not in r.stderr
