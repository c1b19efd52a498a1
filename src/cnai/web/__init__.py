"""Web workspace and REST API (`cnai serve`): `create_app(data_dir, token=None)` returns the ASGI app."""

from __future__ import annotations


def create_app(*args, **kwargs):
    from .app import create_app as _create

    return _create(*args, **kwargs)
