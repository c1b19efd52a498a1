"""Law parameters as dated data (the OpenFisca habit): thresholds, periods and deadlines with a value per
date range and a citation each. Triggers name them as `param.<name>` (cnai.scope.expr resolves them on the
as-of date); `cnai law params` lists them. Data: law/data/parameters.yaml (schema "law-parameters").
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cnai.law.models import CITATION_RE, Confidence

PATH = Path(__file__).parent / "data" / "parameters.yaml"
NAME_RE = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
Unit = Literal["individuals", "users", "days", "working_days", "months", "years", "text"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ParameterValue(_Strict):
    """The value from `from` until the next value's date."""

    from_: dt.date = Field(alias="from", strict=False)
    value: int | str
    citation: str
    confidence: Confidence
    note: str | None = None

    @field_validator("citation")
    @classmethod
    def _cite(cls, v: str) -> str:
        if not CITATION_RE.match(v):
            raise ValueError(f"citation {v!r} is not INSTRUMENT:ARTICLE[(PARA)[(ITEM)]]")
        return v


class Parameter(_Strict):
    name: str = Field(pattern=NAME_RE)
    description: str
    unit: Unit
    values: list[ParameterValue] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Parameter:
        dates = [v.from_ for v in self.values]
        if dates != sorted(set(dates)):
            raise ValueError(f"{self.name}: values must be in date order, one per date")
        for v in self.values:
            if (self.unit == "text") != isinstance(v.value, str):
                raise ValueError(f"{self.name}: unit {self.unit} does not fit value {v.value!r}")
        return self

    def period_on(self, day: dt.date) -> ParameterValue:
        """The value in force on `day`; before the first date, the first value."""
        current = self.values[0]
        for v in self.values:
            if v.from_ <= day:
                current = v
        return current

    def value_on(self, day: dt.date) -> int | str:
        return self.period_on(day).value


class ParametersFile(_Strict):
    """law/data/parameters.yaml"""

    schema_: Literal["cnai/law-parameters/v1"] = Field(alias="schema")
    parameters: list[Parameter]

    @model_validator(mode="after")
    def _unique(self) -> ParametersFile:
        seen: set[str] = set()
        for p in self.parameters:
            if p.name in seen:
                raise ValueError(f"parameter {p.name!r} is defined twice")
            seen.add(p.name)
        return self


def load_file(path: str | Path) -> dict[str, Parameter]:
    from cnai.core.loaders import load_yaml, validate

    data = load_yaml(path, dates_as_strings=True)
    return {p.name: p for p in validate(ParametersFile, data, source=str(path), what="law parameters").parameters}


@lru_cache(maxsize=1)
def parameters() -> dict[str, Parameter]:
    """Every law parameter by name (the shipped file, read once per process)."""
    return load_file(PATH)


def value(name: str, on: dt.date) -> int | str:
    """The value of parameter `name` in force on `on`; KeyError naming the parameter if unknown."""
    try:
        return parameters()[name].value_on(on)
    except KeyError:
        raise KeyError(f"unknown law parameter {name!r}") from None


def table(on: dt.date) -> list[dict]:
    """The `cnai law params` rows: each parameter with its value on `on` and its full history."""
    rows = []
    for p in parameters().values():
        cur = p.period_on(on)
        rows.append({"name": p.name, "description": p.description, "unit": p.unit, "value": cur.value,
                     "from": cur.from_.isoformat(), "citation": cur.citation, "confidence": cur.confidence,
                     "note": cur.note, "in_force_yet": cur.from_ <= on,
                     "history": [{"from": v.from_.isoformat(), "value": v.value, "citation": v.citation,
                                  "confidence": v.confidence, "note": v.note} for v in p.values]})
    return rows
