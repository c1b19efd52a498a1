"""`cnai gateway`: the compliance gateway (thin layer over cnai.gateway)."""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from pathlib import Path

import click

from cnai.cli._common import emit_json, emit_jsonl
from cnai.errors import InputError


@click.group()
def gateway():
    """OpenAI-compatible compliance gateway: redact, block, label, log."""


def _parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"--listen must be HOST:PORT, got {value!r}", field="--listen")
    return host.strip("[]"), int(port)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@gateway.command()
@click.option("--upstream", required=True, help="Base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1")
@click.option("--listen", default="127.0.0.1:8787", show_default=True, help="HOST:PORT to bind.")
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False), default=None,
              help="Policy YAML (default: the built-in default policy).")
@click.option("--log-dir", default="gateway-logs", show_default=True, help="Folder for the hash-chained logs.")
@click.option("--keywords", multiple=True, type=click.Path(dir_okay=False),
              help="Extra blocked terms, keyword-bank format (repeatable).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option("--server", type=click.Choice(["lean", "uvicorn"]), default="lean", show_default=True,
              help="HTTP server: lean (asyncio + httptools, no ASGI on the proxy routes; less CPU per request) "
                   "or uvicorn.")
@click.option("--upstream-key-env", default="OPENAI_API_KEY", show_default=True,
              help="Environment variable holding the upstream API key (never logged).")
@click.option("--allow-remote", is_flag=True, help="Allow binding a non-loopback address (put auth in front).")
def serve(upstream, listen, policy_path, log_dir, keywords, workers, server, upstream_key_env, allow_remote):
    """Run the gateway in front of an OpenAI-compatible model API."""
    import httpx
    import uvicorn

    from cnai.gateway.engine import Engine
    from cnai.gateway.policy import load_policy

    host, port = _parse_listen(listen)
    if not _loopback(host) and not allow_remote:
        raise InputError("refusing to bind a non-loopback address without --allow-remote "
                         "(the gateway has no client authentication of its own)", field="--listen")
    try:
        u = httpx.URL(upstream)
        if u.scheme not in ("http", "https") or not u.host:
            raise ValueError
    except Exception:
        raise InputError(f"--upstream must be an http(s) URL, got {upstream!r}", field="--upstream") from None
    for k in keywords:
        if not Path(k).is_file():
            raise InputError("no such keyword file", path=k)
    Engine(load_policy(policy_path), list(keywords))  # validate everything before binding
    from cnai.gateway.chainlog import load_signer
    load_signer()                                     # a malformed CNAI_GATEWAY_SIGNING_KEY: exit 2 now
    settings = {"upstream": upstream, "policy_path": policy_path, "log_dir": os.path.abspath(log_dir),
                "keywords": [os.path.abspath(k) for k in keywords], "key_env": upstream_key_env}
    os.environ["CNAI_GATEWAY_SETTINGS"] = json.dumps(settings)
    click.echo(f"cnai gateway on http://{host}:{port} -> {upstream} ({workers} worker(s), {server} server, "
               f"logs in {log_dir})", err=True)
    if server == "lean":
        from cnai.gateway.app import app_factory
        from cnai.gateway.lean import serve_workers
        serve_workers(app_factory, host, port, workers)
        return
    uvicorn.run("cnai.gateway.app:app_factory", factory=True, host=host, port=port, workers=workers,
                log_level="warning", access_log=False, timeout_graceful_shutdown=30,
                proxy_headers=False, server_header=False, date_header=False)   # none of them is used


@gateway.group()
def policy():
    """The gateway policy file."""


@policy.command("init")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write here (default: stdout).")
def policy_init(output):
    """Write the commented default policy."""
    from cnai.cli._common import output as out
    from cnai.gateway.policy import DEFAULT_POLICY_YAML
    out(DEFAULT_POLICY_YAML, Path(output) if output else None)


@policy.command("check")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--keywords", multiple=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def policy_check(path, keywords, fmt):
    """Validate a policy and show the log-retention bounds it meets (exit 1 if below the legal minimum)."""
    from cnai.gateway.engine import Engine
    from cnai.gateway.policy import load_policy
    from cnai.gateway.retention import retention_report

    pol = load_policy(path)
    eng = Engine(pol, list(keywords))
    rep = retention_report(pol.logging.retention_days, pol.logging.store_text)
    rep["keywords"] = len(eng.keywords.library)
    nv = pol.labels.no_visible_label
    rep["no_visible_label"] = {"enabled": nv.enabled, "registered_users": len(nv.users), "basis": "ai-labeling:9",
                               "confidence": "secondary"}
    if fmt == "json":
        emit_json(rep)
    else:
        click.echo(f"{path}: valid; {rep['keywords']} keywords; retention {pol.logging.retention_days} days "
                   f"(legal minimum {rep['legal_minimum_days']}; maximum: {rep['legal_maximum']})")
        for b in rep["bounds"]:
            click.echo(f"  {b['bound']:7} {b['citation']:22} [{b.get('confidence')}] {b['meaning']}")
        nvr = rep["no_visible_label"]
        click.echo(f"  no visible label on request (ai-labeling:9 [secondary]): "
                   f"{'on' if nvr['enabled'] else 'off'}, {nvr['registered_users']} registered user(s)")
        for p in rep["problems"]:
            click.echo(f"  problem: {p}")
    sys.exit(0 if rep["ok"] else 1)


@gateway.group("log")
def log_group():
    """The hash-chained request log."""


@log_group.command("verify")
@click.argument("log_dir", type=click.Path(file_okay=False))
@click.option("--public-key", default=None,
              help="Pin the head-signing key (base64url, or a file with it or a PEM): every chain must then "
                   "have a head signed by it, which also detects records cut off the end.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def log_verify(log_dir, public_key, fmt):
    """Check every chain in LOG_DIR over all segments; exit 1 naming the first broken record."""
    from cnai.gateway.chainlog import verify
    res = verify(log_dir, public_key=public_key)
    if not res["chains"]:
        raise InputError("no chain-*.sqlite files", path=log_dir)
    if fmt == "json":
        emit_json(res)
    else:
        for c in res["chains"]:
            segs = f"{len(c['segments'])} segment(s)"
            if c["ok"]:
                click.echo(f"{c['chain']}: ok, {c['records']} records in {segs}, head {c['head_seq']} "
                           f"{c['head'][:16]}")
            else:
                b = c["broken"]
                where = f" ({b['segment']})" if b.get("segment") else ""
                click.echo(f"{c['chain']}: BROKEN at record {b['seq']}{where}: {b['problem']}")
            if c["pruned"]:
                p = c["pruned"]
                click.echo(f"  pruned: records {p['first_seq']}-{p['last_seq']} ({p['records']} records, "
                           f"{p['first_ts'][:10]} to {p['last_ts'][:10]}) in {p['segments']} segment(s); last prune "
                           f"{p['prunes'][-1]['at'][:19]} at retention {p['prunes'][-1]['retention_days']} days")
            sh = c["signed_head"]
            if sh:
                click.echo(f"  signed head: record {sh['seq']} at {sh['ts'][:19]}, "
                           f"{'good' if sh['ok'] else 'BAD'} signature, key {sh['public_key'][:12]}... "
                           f"{'(pinned)' if sh['pinned'] else '(not pinned: pass --public-key to trust it)'}")
            elif c["ok"]:
                click.echo("  no signed head: records cut off the end would not be detected")
    sys.exit(0 if res["ok"] else 1)


@log_group.command("prune")
@click.argument("log_dir", type=click.Path(file_okay=False))
@click.option("--retention-days", type=int, default=None, help="Keep records this long (default: from --policy).")
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False), default=None)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def log_prune(log_dir, retention_days, policy_path, fmt):
    """Delete whole closed segments older than the retention period, leaving a hashed (signed) tombstone.

    Never below the legal minimum (exit 2), never the newest segment, never a chain that does not verify."""
    from cnai.gateway.chainlog import chains, prune
    from cnai.gateway.policy import load_policy
    if not os.path.isdir(log_dir) or not chains(log_dir):
        raise InputError("no chain-*.sqlite files", path=log_dir)
    if retention_days is None:
        retention_days = load_policy(policy_path).logging.retention_days
    res = prune(log_dir, retention_days)
    if fmt == "json":
        emit_json({"log_dir": log_dir, "chains": res})
    else:
        for r in res:
            if r.get("skipped"):
                click.echo(f"{r['worker']}: NOT pruned: {r['skipped']}")
            elif r["segments"]:
                click.echo(f"{r['worker']}: pruned {r['records']} records in {len(r['segments'])} segment(s) "
                           f"older than {r['cutoff'][:19]} (up to record {r['last_seq']})")
            else:
                click.echo(f"{r['worker']}: nothing older than {r['cutoff'][:19]} in a closed segment")
    sys.exit(1 if any(r.get("skipped") for r in res) else 0)


@log_group.command("export")
@click.argument("log_dir", type=click.Path(file_okay=False))
@click.option("--since", default=None, help="ISO date or time (UTC), inclusive.")
@click.option("--until", default=None, help="ISO date or time (UTC), exclusive.")
def log_export(log_dir, since, until):
    """All records of all chains between --since and --until as JSON lines (oldest first)."""
    from datetime import datetime

    from cnai.gateway.chainlog import chains, export
    for name, v in (("--since", since), ("--until", until)):
        if v:
            try:
                datetime.fromisoformat(v)
            except ValueError:
                raise InputError(f"not an ISO date/time: {v!r}", field=name) from None
    if not os.path.isdir(log_dir) or not chains(log_dir):
        raise InputError("no chain-*.sqlite files", path=log_dir)
    for rec in export(log_dir, since, until):
        emit_jsonl(rec)
