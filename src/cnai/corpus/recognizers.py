"""Personal-information recognizers as an extension point (`cnai.recognizers`, the Presidio habit).

A recognizer is any object with a `type` (the finding type it reports, e.g. "employee_id") and
`find(text) -> iterable of (start, end, confidence, reason)`. It is registered under an entry-point name in a
package's pyproject.toml; cnai's own extra recognizers register the same way. Which recognizers run, and from
what confidence, is set in a YAML file like data/recognizers.yaml (`--recognizers FILE` on scan and audit):

    recognizers:
      employee_id: {enabled: true, min_confidence: 0.5}
      person_name_free_text: {enabled: false}

A registered recognizer not named in the file runs with its defaults (`enabled_by_default`, default True).
The built-in checksum and cue-word detectors of detect.py run in the compiled pass and are not listed here
(see docs/corpus.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_CONFIG = Path(__file__).parent / "data" / "recognizers.yaml"


@runtime_checkable
class Recognizer(Protocol):
    type: str

    def find(self, text: str) -> Iterable[tuple[int, int, float, str]]:
        """(start, end, confidence 0..1, reason) for every occurrence in text."""
        ...


class RecognizerSetting(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    min_confidence: float = Field(0.0, ge=0.0, le=1.0)


class RecognizerConfig(BaseModel):
    """Which registered PI recognizers the corpus audit runs (`--recognizers FILE`)."""

    model_config = ConfigDict(extra="forbid")
    recognizers: dict[str, RecognizerSetting] = {}


def load_config(path: str | Path | None = None) -> RecognizerConfig:
    from cnai.core.loaders import load_yaml, validate

    p = Path(path) if path else DEFAULT_CONFIG
    data = load_yaml(p) or {}
    return validate(RecognizerConfig, data, source=str(p), what="recognizer config")


def active(config_path: str | Path | None = None) -> list[tuple[str, object, float]]:
    """[(name, recognizer, min confidence)] that are registered and enabled, in name order."""
    from cnai.core.plugins import registry
    from cnai.errors import InputError

    cfg = load_config(config_path)
    regs = registry("recognizers")
    unknown = sorted(set(cfg.recognizers) - set(regs))
    if unknown and config_path:
        raise InputError(f"unknown recognizer(s) {', '.join(unknown)}; registered: {', '.join(sorted(regs)) or 'none'}",
                         path=str(config_path))
    out = []
    for name in sorted(regs):
        rec = regs[name]
        if not isinstance(rec, Recognizer):
            continue
        setting = cfg.recognizers.get(name)
        enabled = setting.enabled if setting else getattr(rec, "enabled_by_default", True)
        if enabled:
            out.append((name, rec, setting.min_confidence if setting else 0.0))
    return out
