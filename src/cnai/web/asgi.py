"""ASGI entry for multi-process serving (`cnai serve --workers N`): settings come from the environment.

Only the first process recovers interrupted jobs (cnai serve did it before forking); the workers share
the workspace through SQLite.
"""

from __future__ import annotations

import os

from cnai.web.app import create_app
from cnai.web.services import warm_up

app = create_app(os.environ.get("CNAI_WEB_DATA_DIR", "cnai-workspace"), token=os.environ.get("CNAI_TOKEN") or None,
                 recover=False)
warm_up()
