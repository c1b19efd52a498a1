"""Interactive terminal questionnaire that writes a valid service profile.

Questions come from the profile model itself (field names, types, enumerations, descriptions), so the
questionnaire never drifts from the contract.  Skipped questions leave the fact unknown.
"""

from __future__ import annotations

import datetime as dt
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import click
from pydantic import BaseModel

from cnai.scope.profile import SCHEMA_ID, Profile, parse_profile

_SECTION_HELP = {
    "service": "The AI service",
    "organization": "The organisation providing it",
    "audience": "Who uses it",
    "capabilities": "What it does",
    "model": "The model it runs on",
    "training_data": "Training data (if you train or fine-tune)",
    "personal_information": "Personal information processed",
    "cross_border": "Data sent outside mainland China",
    "ethics": "S&T ethics review triggers",
}


def _unwrap(ann: Any) -> Any:
    args = [a for a in get_args(ann) if a is not type(None)]
    if get_origin(ann) in (typing.Union, getattr(__import__("types"), "UnionType", None)) and len(args) == 1:
        return args[0]
    return ann


def _ask_value(label: str, ann: Any, required: bool) -> Any:
    ann = _unwrap(ann)
    origin = get_origin(ann)
    suffix = "" if required else " (Enter to skip)"
    while True:
        if ann is bool:
            raw = click.prompt(f"{label} [y/n]{suffix}", default="", show_default=False).strip().lower()
        elif origin is list:
            choices = get_args(get_args(ann)[0])
            raw = click.prompt(f"{label}\n    choose any of: {', '.join(choices)} (comma-separated){suffix}",
                               default="", show_default=False).strip()
        elif origin is Literal:
            raw = click.prompt(f"{label}\n    one of: {', '.join(get_args(ann))}{suffix}", default="",
                               show_default=False).strip()
        else:
            raw = click.prompt(f"{label}{suffix}", default="", show_default=False).strip()
        if raw == "":
            if required:
                click.echo("    this one is required", err=True)
                continue
            return None
        try:
            return _convert(raw, ann)
        except ValueError as exc:
            click.echo(f"    {exc}; try again", err=True)


def _convert(raw: str, ann: Any) -> Any:
    origin = get_origin(ann)
    if ann is bool:
        if raw in ("y", "yes", "true", "1", "是"):
            return True
        if raw in ("n", "no", "false", "0", "否"):
            return False
        raise ValueError("answer y or n")
    if ann is int:
        v = int(raw.replace(",", "").replace("_", ""))
        if v < 0:
            raise ValueError("must be 0 or more")
        return v
    if ann is float:
        return float(raw)
    if ann is dt.date:
        return dt.date.fromisoformat(raw)
    if origin is Literal:
        if raw not in get_args(ann):
            raise ValueError(f"not one of {', '.join(get_args(ann))}")
        return raw
    if origin is list:
        choices = get_args(get_args(ann)[0])
        items = [x.strip() for x in raw.split(",") if x.strip()]
        bad = [x for x in items if x not in choices]
        if bad:
            raise ValueError(f"unknown: {', '.join(bad)}")
        return items
    return raw


def _ask_model(model: type[BaseModel], required_section: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        ann = field.annotation
        label = f"  {name.replace('_', ' ')}"
        if field.description:
            label += f" — {field.description}"
        inner = _unwrap(ann)
        # pydantic constrained ints (NonNegativeInt) are Annotated[int, ...]
        if get_origin(inner) is typing.Annotated:
            inner = get_args(inner)[0]
        value = _ask_value(label, inner, required=field.is_required() and required_section)
        if value is not None:
            out[name] = value
    return out


def run_questionnaire(out: Path) -> Profile:
    """Ask the questions, then write the profile atomically through cnai.core.safeio (never through a
    link, onto a device or over an input)."""
    import yaml

    from cnai.core.safeio import check_output, write_text

    check_output(out)  # refuse a bad destination before asking anything

    click.echo("cnai profile questionnaire — press Enter to skip anything you do not know yet.", err=True)
    data: dict[str, Any] = {"schema": SCHEMA_ID}
    for name, field in Profile.model_fields.items():
        if name == "schema_":
            continue
        inner = _unwrap(field.annotation)
        title = _SECTION_HELP.get(name, name.replace("_", " ").capitalize())
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            if name != "service" and not click.confirm(f"\n{title}: answer these questions now?", default=True):
                continue
            click.echo(f"\n[{name}] {title}")
            section = _ask_model(inner, required_section=(name == "service"))
            if section:
                data[name] = section
        else:
            value = _ask_value(f"\n[{name}]", inner, required=False)
            if value is not None:
                data[name] = value
    profile = parse_profile(data, source=str(out))
    text = ("# cnai service profile written by `cnai profile init`.\n"
            "# Omitted fields are unknown (never false); add them as you learn them.\n"
            + yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    write_text(out, text)
    return profile
