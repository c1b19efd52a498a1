"""Parser fuzz harness: every carrier's read/write/essence/damage must either succeed or raise a CnaiError (the
documented error: a FormatError naming the byte offset) -- never another exception, never a hang."""

from __future__ import annotations

import io
import os
import tempfile

from cnai.errors import CnaiError
from cnai.label.formats.base import WriteOpts
from cnai.label.registry import carriers

JS = '{"Label":"1","ContentProducer":"x","ProduceID":"y"}'


def exercise(fmt: str, data: bytes) -> None:
    """Raises AssertionError (with the original exception) on anything but clean success or CnaiError."""
    car = carriers()[fmt]
    with tempfile.NamedTemporaryFile(delete=False, suffix=(car.extensions or ("",))[0]) as f:
        f.write(data)
    try:
        written = None
        for step in ("read", "write", "essence", "damage"):
            try:
                if step == "read":
                    car.read(f.name)
                elif step == "write":
                    buf = io.BytesIO()
                    car.write(f.name, buf, JS, WriteOpts())
                    written = buf.getvalue()
                elif step == "essence":
                    list(car.essence(f.name))
                else:
                    car.damage(f.name)
            except CnaiError:
                continue
            except Exception as e:  # noqa: BLE001 - this is what the fuzzer looks for
                raise AssertionError(f"{fmt}.{step}: {type(e).__name__}: {e}") from e
        if written:  # what we wrote must parse again
            with open(f.name, "wb") as g:
                g.write(written)
            try:
                car.read(f.name)
            except CnaiError as e:
                raise AssertionError(f"{fmt}: our own output does not parse: {e}") from e
    finally:
        os.unlink(f.name)
