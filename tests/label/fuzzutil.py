"""Parser fuzz harness: every reader/writer must either succeed or raise a CnaiError -- never crash or hang."""

from __future__ import annotations

import io
import os
import tempfile

from cnai.errors import CnaiError
from cnai.label.formats.base import WriteOpts
from cnai.label.registry import CARRIERS

JS = '{"Label":"1","ContentProducer":"x","ProduceID":"y"}'


def exercise(fmt: str, data: bytes) -> None:
    """Raises AssertionError (with the original exception) on anything but clean success or CnaiError."""
    car = CARRIERS[fmt]
    try:
        if car.read_path:
            with tempfile.NamedTemporaryFile(delete=False) as f:
                f.write(data)
            try:
                for fn in (lambda: car.read_path(f.name), lambda: car.write_path(f.name, io.BytesIO(), JS, WriteOpts()),
                           lambda: list(car.essence_path(f.name) if car.essence_path else car.essence(data))):
                    try:
                        fn()
                    except CnaiError:
                        pass
            finally:
                os.unlink(f.name)
            return
        for fn in (lambda: car.read(data), lambda: car.write(data, JS, WriteOpts()), lambda: list(car.essence(data))):
            try:
                out = fn()
            except CnaiError:
                continue
            if fn is not None and isinstance(out, bytes) and out:
                try:
                    car.read(out)  # what we wrote must parse again
                except CnaiError as e:
                    raise AssertionError(f"{fmt}: our own output does not parse: {e}") from e
    except CnaiError:
        pass
    except Exception as e:  # noqa: BLE001 - this is what the fuzzer looks for
        raise AssertionError(f"{fmt}: {type(e).__name__}: {e}") from e
