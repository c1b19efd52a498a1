"""Trigger expressions: a tiny, safe, three-valued condition language over profile facts and concepts.

Syntax is a subset of Python expressions, parsed with `ast` and never executed:

    audience.public_in_mainland and not audience.research_or_internal_only
    'provider' in roles
    any_in(capabilities.generates, ['image', 'video'])
    cross_border.individuals_this_year >= param.pi_export.contract_min_individuals
    genai_public_service                      # a concept from concepts.yaml
    as_of >= date('2025-09-01')

`param.<name>` is a law parameter (law/data/parameters.yaml) with its value on the as-of date, so a threshold
that changes by date is written once, with its citation, and never as a literal in a trigger.

Logic is Kleene's: a fact the profile omits is *unknown*, never false.  `a and b` is false as soon
as one side is false, unknown if neither is false but one is unknown.  Every unknown result records
the fact paths that were missing, so the engine can say exactly what to ask.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

UNKNOWN = None  # the third truth value


class ExprError(ValueError):
    pass


@dataclass
class Trace:
    """What an evaluation looked at: facts with values, concepts with results, missing paths."""

    facts: dict[str, Any] = field(default_factory=dict)
    concepts: dict[str, bool | None] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def miss(self, path: str) -> None:
        if path not in self.missing:
            self.missing.append(path)


_ALLOWED_FUNCS = {"any_in", "all_in", "date", "count"}


@lru_cache(maxsize=4096)
def parse(src: str) -> ast.Expression:
    src = src.strip()
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"cannot parse condition {src!r}: {exc.msg}") from None
    for node in ast.walk(tree):
        if (isinstance(node, ast.Name) and "__" in node.id) or (isinstance(node, ast.Attribute)
                                                                and "__" in node.attr):
            raise ExprError(f"condition {src!r}: names with '__' are not allowed")
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in _ALLOWED_FUNCS) or node.keywords:
                raise ExprError(f"condition {src!r}: only {sorted(_ALLOWED_FUNCS)} may be called")
        elif not isinstance(node, (ast.Expression, ast.BoolOp, ast.UnaryOp, ast.Compare, ast.Name, ast.Attribute,
                                   ast.Constant, ast.List, ast.Tuple, ast.Load, ast.And, ast.Or, ast.Not,
                                   ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)):
            raise ExprError(f"condition {src!r}: {type(node).__name__} is not allowed")
    return tree


def names(src: str) -> set[str]:
    """Dotted names an expression refers to (facts or concepts), for integrity checks."""
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        dotted = _dotted(node)
        if dotted is not None:
            out.add(dotted)
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(node, ast.Call) and child is node.func:
                continue
            visit(child)

    visit(parse(src).body)
    return {n for n in out - {"true", "false", "as_of", "null"} if not n.startswith(PARAM_PREFIX)}


PARAM_PREFIX = "param."


def param_names(src: str) -> set[str]:
    """Law parameters an expression names (without the `param.` prefix)."""
    return {n[len(PARAM_PREFIX):] for n in map(_dotted, ast.walk(parse(src).body))
            if n and n.startswith(PARAM_PREFIX) and n.count(".") >= 2}


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


_MISSING = object()


def get_path(facts: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted fact path, or None where any part is absent (or null)."""
    cur: Any = facts
    for part in path.split("."):
        if not isinstance(cur, Mapping) or cur.get(part) is None:
            return None
        cur = cur[part]
    return cur


class Evaluator:
    """Evaluates expressions against `facts` (a nested dict; absent key = unknown) and concepts."""

    def __init__(self, facts: Mapping[str, Any], concept_exprs: Mapping[str, str], as_of: dt.date,
                 params: Callable[[str, dt.date], Any] | None = None):
        self.facts = facts
        self.params = params
        self.concept_exprs = concept_exprs
        self.as_of = as_of
        self._concept_cache: dict[str, tuple[bool | None, Trace]] = {}
        self._stack: list[str] = []

    # -- public -----------------------------------------------------------------------------------
    def evaluate(self, src: str) -> tuple[bool | None, Trace]:
        trace = Trace()
        value = self._truth(self._eval(parse(src).body, trace), src)
        return value, trace

    def concept(self, cid: str) -> tuple[bool | None, Trace]:
        if cid in self._concept_cache:
            return self._concept_cache[cid]
        if cid in self._stack:
            raise ExprError(f"concept cycle: {' -> '.join([*self._stack, cid])}")
        self._stack.append(cid)
        try:
            result = self.evaluate(self.concept_exprs[cid])
        finally:
            self._stack.pop()
        self._concept_cache[cid] = result
        return result

    def fact(self, path: str) -> Any:
        value = get_path(self.facts, path)
        return _MISSING if value is None else value

    # -- internals --------------------------------------------------------------------------------
    @staticmethod
    def _truth(v: Any, src: str | ast.AST) -> bool | None:
        if v is UNKNOWN or isinstance(v, bool):
            return v
        text = src if isinstance(src, str) else ast.unparse(src)
        raise ExprError(f"condition {text!r} does not give true/false (got {v!r})")

    def _eval(self, node: ast.AST, trace: Trace) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self._eval(e, trace) for e in node.elts]
        dotted = _dotted(node)
        if dotted is not None:
            return self._name(dotted, trace)
        if isinstance(node, ast.BoolOp):
            return self._boolop(node, trace)
        if isinstance(node, ast.UnaryOp):  # only `not`
            v = self._truth(self._eval(node.operand, trace), node)
            return UNKNOWN if v is UNKNOWN else not v
        if isinstance(node, ast.Compare):
            return self._compare(node, trace)
        if isinstance(node, ast.Call):
            return self._call(node, trace)
        raise ExprError(f"unsupported expression {ast.unparse(node)!r}")

    def _name(self, dotted: str, trace: Trace) -> Any:
        if dotted in ("true", "True"):
            return True
        if dotted in ("false", "False"):
            return False
        if dotted == "as_of":
            return self.as_of
        if dotted.startswith(PARAM_PREFIX):
            name = dotted[len(PARAM_PREFIX):]
            if self.params is None:
                from cnai.law.params import value as param_value

                self.params = param_value
            try:
                v = self.params(name, self.as_of)
            except KeyError as exc:
                raise ExprError(str(exc.args[0])) from None
            trace.params[name] = v
            return v
        if dotted in self.concept_exprs:
            value, sub = self.concept(dotted)
            trace.concepts[dotted] = value
            trace.params.update(sub.params)
            for m in sub.missing:
                trace.miss(m)
            return value
        value = self.fact(dotted)
        if value is _MISSING:
            trace.miss(dotted)
            trace.facts[dotted] = None
            return UNKNOWN
        trace.facts[dotted] = value
        return value

    def _boolop(self, node: ast.BoolOp, trace: Trace) -> bool | None:
        is_and = isinstance(node.op, ast.And)
        saw_unknown = False
        decided = Trace()
        for operand in node.values:
            sub = Trace()
            v = self._truth(self._eval(operand, sub), operand)
            if v is UNKNOWN:
                saw_unknown = True
                _merge(trace, sub)
            elif v is (not is_and):  # false in `and`, true in `or`: decided
                _merge(decided, sub)
                # a decided result does not need the unknown operands: report only what decided it
                trace.facts.update(decided.facts)
                trace.params.update(decided.params)
                trace.concepts.update(decided.concepts)
                trace.missing.clear()
                return v
            else:
                _merge(trace, sub, keep_missing=False)
        return UNKNOWN if saw_unknown else is_and

    def _compare(self, node: ast.Compare, trace: Trace) -> bool | None:
        left = self._eval(node.left, trace)
        result: bool | None = True
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = self._eval(comp, trace)
            if left is UNKNOWN or right is UNKNOWN:
                result = UNKNOWN if result is not False else False
            else:
                r = _OPS[type(op)](left, right)
                if not r:
                    return False
            left = right
        return result

    def _call(self, node: ast.Call, trace: Trace) -> Any:
        fn = node.func.id  # type: ignore[attr-defined]
        args = [self._eval(a, trace) for a in node.args]
        if fn == "date":
            return dt.date.fromisoformat(args[0])
        if any(a is UNKNOWN for a in args):
            return UNKNOWN
        if fn == "any_in":
            return any(x in args[0] for x in args[1])
        if fn == "all_in":
            return all(x in args[0] for x in args[1])
        if fn == "count":
            return len(args[0])
        raise ExprError(f"unknown function {fn}")


def _merge(into: Trace, sub: Trace, keep_missing: bool = True) -> None:
    into.params.update(sub.params)
    into.facts.update(sub.facts)
    into.concepts.update(sub.concepts)
    if keep_missing:
        for m in sub.missing:
            into.miss(m)


def _contains(container: Any, item: Any) -> bool:
    return item in container


_OPS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
