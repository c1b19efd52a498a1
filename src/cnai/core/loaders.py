"""YAML and JSON with limits, for every file cnai reads (issue #10).

- YAML: a SafeLoader that rejects duplicate mapping keys, caps nesting depth, and rejects aliases in user
  files (`aliases=False`, the default) or, where aliases are allowed, caps the size of the document once
  every alias is expanded (a "billion laughs" bomb is tiny on disk and huge expanded); timestamps can stay
  strings so a bad date becomes a field error.
- JSON: size cap, and nesting depth reported as an error, never a RecursionError.
- Every failure is an InputError naming the file, the line where known, and the limit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cnai.errors import InputError

MAX_BYTES = 16 * 1024 * 1024   # a profile, policy or register is kilobytes; 16 MiB leaves room for banks
MAX_DEPTH = 64                 # the deepest shipped data file nests 8 levels
MAX_NODES = 1_000_000          # expanded YAML nodes when aliases are allowed
JSON_MAX_DEPTH = 200


def read_text(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES, what: str = "file") -> str:
    """Read a UTF-8 text file (a BOM is dropped) with a size cap and one-line errors."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise InputError(f"is a directory, expected a {what}", path=str(p))
        if size > max_bytes:
            raise InputError(f"{what} is {size:,} bytes, over the {max_bytes:,}-byte limit", path=str(p))
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", path=str(p)) from None
    except IsADirectoryError:
        raise InputError(f"is a directory, expected a {what}", path=str(p)) from None
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=str(p)) from None
    if len(data) > max_bytes:  # a file that grew, or a FIFO/device whose size said nothing
        raise InputError(f"{what} is over the {max_bytes:,}-byte limit", path=str(p))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte offset {exc.start})", path=str(p)) from None


def _expanded_size(node, limit: int) -> int:
    """Nodes in the document with every alias expanded (memoised per node, so a bomb is cheap to measure)."""
    from yaml.nodes import MappingNode, SequenceNode

    memo: dict[int, int] = {}

    def size(n) -> int:
        key = id(n)
        if key in memo:
            return memo[key]
        memo[key] = 1  # a cycle counts once (recursive YAML is rejected later by pydantic or is harmless)
        total = 1
        if isinstance(n, SequenceNode):
            total += sum(size(c) for c in n.value)
        elif isinstance(n, MappingNode):
            total += sum(size(k) + size(v) for k, v in n.value)
        memo[key] = total = min(total, limit + 1)
        return total

    return size(node)


def _make_loader(*, max_depth: int, aliases: bool, dates_as_strings: bool, source: str, max_nodes: int):
    import yaml
    from yaml.constructor import ConstructorError
    from yaml.nodes import MappingNode

    class Loader(yaml.SafeLoader):
        _depth = 0
        _saw_alias = False

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                if not aliases:
                    mark = self.peek_event().start_mark
                    raise InputError(f"line {mark.line + 1}: YAML aliases (*name) are not accepted here",
                                     path=source)
                self._saw_alias = True
            self._depth += 1
            try:
                if self._depth > max_depth:
                    mark = self.peek_event().start_mark
                    raise InputError(f"line {mark.line + 1}: nested deeper than {max_depth} levels (limit)",
                                     path=source)
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def get_single_data(self):
            node = self.get_single_node()
            if node is None:
                return None
            if self._saw_alias and _expanded_size(node, max_nodes) > max_nodes:
                raise InputError(f"YAML expands to more than {max_nodes:,} nodes once aliases are resolved "
                                 "(limit; an alias bomb?)", path=source)
            return self.construct_document(node)

        def construct_mapping(self, node, deep=False):
            if isinstance(node, MappingNode):
                seen: dict[Any, int] = {}
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    try:
                        key = self.construct_object(key_node, deep=True)
                        hash(key)
                    except (TypeError, ConstructorError):
                        continue  # the base class reports unhashable keys
                    line = key_node.start_mark.line + 1
                    if key in seen:
                        raise InputError(f"line {line}: duplicate key {key!r} (first at line {seen[key]})",
                                         path=source)
                    seen[key] = line
            return super().construct_mapping(node, deep=deep)

    if dates_as_strings:
        Loader.yaml_implicit_resolvers = {
            k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
            for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }
    return Loader


def parse_yaml(text: str, *, source: str = "<text>", max_depth: int = MAX_DEPTH, aliases: bool = False,
               dates_as_strings: bool = False, max_bytes: int = MAX_BYTES, max_nodes: int = MAX_NODES) -> Any:
    """Parse YAML text with the limits above; raise InputError naming `source`."""
    import yaml

    if len(text) > max_bytes:
        raise InputError(f"YAML text over the {max_bytes:,}-character limit", path=source)
    loader_class = _make_loader(max_depth=max_depth, aliases=aliases, dates_as_strings=dates_as_strings,
                                source=source, max_nodes=max_nodes)
    try:
        loader = loader_class(text)  # the reader checks characters here: a control character raises now
    except yaml.YAMLError as exc:
        raise InputError("malformed YAML: " + " ".join(str(getattr(exc, "problem", None) or exc).split()),
                         path=source) from None
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise InputError(f"malformed YAML: {where}{getattr(exc, 'problem', None) or exc}", path=source) from None
    except RecursionError:
        raise InputError(f"nested too deeply (limit {max_depth})", path=source) from None
    finally:
        loader.dispose()


def load_yaml(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH,
              aliases: bool = False, dates_as_strings: bool = False, max_nodes: int = MAX_NODES,
              what: str = "YAML file") -> Any:
    """Read and parse a YAML file with limits (see parse_yaml)."""
    text = read_text(path, max_bytes=max_bytes, what=what)
    return parse_yaml(text, source=str(path), max_depth=max_depth, aliases=aliases,
                      dates_as_strings=dates_as_strings, max_bytes=max_bytes, max_nodes=max_nodes)


def _depth_ok(obj: Any, limit: int) -> bool:
    stack = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if d > limit:
            return False
        if isinstance(o, dict):
            stack.extend((v, d + 1) for v in o.values())
        elif isinstance(o, list):
            stack.extend((v, d + 1) for v in o)
    return True


def parse_json(text: str | bytes, *, source: str = "<text>", max_depth: int = JSON_MAX_DEPTH,
               max_bytes: int = MAX_BYTES) -> Any:
    """Parse JSON with a size cap and a depth limit; errors name `source` and the position."""
    if len(text) > max_bytes:
        raise InputError(f"JSON over the {max_bytes:,}-byte limit", path=source)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}", path=source) from None
    except RecursionError:
        raise InputError(f"JSON nested too deeply (limit {max_depth})", path=source) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte offset {exc.start})", path=source) from None
    if not _depth_ok(obj, max_depth):
        raise InputError(f"JSON nested deeper than {max_depth} levels (limit)", path=source)
    return obj


def load_json(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES, max_depth: int = JSON_MAX_DEPTH,
              what: str = "JSON file") -> Any:
    text = read_text(path, max_bytes=max_bytes, what=what)
    return parse_json(text, source=str(path), max_depth=max_depth, max_bytes=max_bytes)


def validate(model, data: Any, *, source: str, what: str | None = None):
    """Validate data against a pydantic model; one-line InputError with the path inside the file."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        extra = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        prefix = f"{what}: " if what else ""
        raise InputError(f"{prefix}{loc}: {first['msg']}{extra}", path=source) from None
