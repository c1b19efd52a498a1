"""`cnai serve`: the web workspace and REST API (thin layer over cnai.web)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import click

from cnai.errors import InputError


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("cnai-workspace"),
              show_default=True, help="Workspace folder (SQLite database, uploads, runs).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but loopback requires --token (or CNAI_TOKEN).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--token", default=None, help="Require this token on every request (default: $CNAI_TOKEN).")
@click.option("--demo", is_flag=True, help="Load the example services and two mock assessment runs.")
@click.option("--workers", type=click.IntRange(1, 16), default=1, show_default=True,
              help="Server processes (the workspace is shared through SQLite).")
def serve(data_dir: Path, host: str, port: int, token: str | None, demo: bool, workers: int) -> None:
    """Serve the web workspace: services, duties, law, labels, assessments, corpus audits.

    Pages at http://HOST:PORT/, REST API under /api/v1 (OpenAPI: /api/v1/openapi.json).

    \b
    Examples:
      cnai serve --demo
      cnai serve --data-dir team-workspace --port 8080
      CNAI_TOKEN=... cnai serve --host 0.0.0.0
    """
    import uvicorn

    token = token or os.environ.get("CNAI_TOKEN") or None
    if token is not None and len(token) < 16:
        raise InputError("a token must be at least 16 characters", field="--token")
    if not _is_loopback(host) and token is None:
        raise InputError(f"binding to {host} exposes the workspace to the network; set --token or CNAI_TOKEN",
                         field="--host")
    from cnai.web.app import create_app

    app = create_app(data_dir, token=token, demo=demo)  # validates the workspace before binding
    if workers == 1:
        from cnai.web.services import warm_up

        warm_up()  # (with several workers each one warms up in cnai.web.asgi)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"cnai workspace {data_dir.resolve()} at http://{shown}:{port}/ "
               f"(API: /api/v1, OpenAPI: /api/v1/openapi.json){' — token required' if token else ''}", err=True)
    if workers > 1:
        os.environ["CNAI_WEB_DATA_DIR"] = str(data_dir.resolve())
        if token:
            os.environ["CNAI_TOKEN"] = token
        uvicorn.run("cnai.web.asgi:app", host=host, port=port, workers=workers, access_log=False,
                    log_level="warning")
    else:
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")
