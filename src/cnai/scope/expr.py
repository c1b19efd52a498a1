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
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

UNKNOWN = None  # the third truth value


class ExprError(ValueError):
    pass


@dataclass(slots=True, init=False)
class Trace:
    """What an evaluation looked at: facts with values, concepts with results, missing paths."""

    facts: dict[str, Any]
    concepts: dict[str, bool | None]
    missing: list[str]
    params: dict[str, Any]

    # Written out: a run makes ~750 of these, and the generated default_factory __init__ was a sixth of it.
    def __init__(self, facts: dict[str, Any] | None = None, concepts: dict[str, bool | None] | None = None,
                 missing: list[str] | None = None, params: dict[str, Any] | None = None):
        self.facts = {} if facts is None else facts
        self.concepts = {} if concepts is None else concepts
        self.missing = [] if missing is None else missing
        self.params = {} if params is None else params

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
        self._base = 0  # see _boolop

    # -- public -----------------------------------------------------------------------------------
    def evaluate(self, src: str) -> tuple[bool | None, Trace]:
        trace = Trace()
        saved, self._base = self._base, 0
        try:
            value = _truth(compiled(src)(self, trace), src)
        finally:
            self._base = saved
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

    # -- internals: called by the compiled expressions (see _compile) ------------------------------
    def _param(self, name: str, trace: Trace) -> Any:
        if self.params is None:
            from cnai.law.params import value as param_value

            self.params = param_value
        try:
            v = self.params(name, self.as_of)
        except KeyError as exc:
            raise ExprError(str(exc.args[0])) from None
        trace.params[name] = v
        return v

    def _ref(self, dotted: str, trace: Trace) -> Any:
        """A concept's value (its trace folded into `trace`) or a fact's (None and missing when absent)."""
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

    def _boolop(self, is_and: bool, operands: tuple, trace: Trace) -> bool | None:
        # Operands write straight into `trace` instead of a trace each (the tree interpreter's way, ~600 traces
        # a run); self._base marks where the missing facts of the current operand begin, so the result is the
        # same: a decided and/or drops the missing facts of its own operand context, a known operand that
        # decides nothing drops its own, an unknown one keeps them.
        saw_unknown = False
        missing = trace.missing
        base = self._base
        for fn, node in operands:
            before = self._base = len(missing)
            v = _truth(fn(self, trace), node)
            self._base = base
            if v is UNKNOWN:
                saw_unknown = True
            elif v is (not is_and):  # false in `and`, true in `or`: decided
                # a decided result does not need the unknown operands: report only what decided it
                del missing[base:]
                return v
            else:  # a known value that decides nothing: what it missed does not matter
                del missing[before:]
        return UNKNOWN if saw_unknown else is_and


def _truth(v: Any, src: str | ast.AST) -> bool | None:
    if v is UNKNOWN or isinstance(v, bool):
        return v
    text = src if isinstance(src, str) else ast.unparse(src)
    raise ExprError(f"condition {text!r} does not give true/false (got {v!r})")


# An expression is turned once into nested closures `fn(evaluator, trace) -> value` (one per AST node, the
# node's kind and names resolved up front), so evaluating it walks no AST and re-checks no node type; about
# twice as fast as interpreting the tree. Behaviour is the tree interpreter's: same values, same traces,
# same errors, raised only when the offending part is actually reached.
Compiled = Callable[[Evaluator, Trace], Any]


@lru_cache(maxsize=4096)
def compiled(src: str) -> Compiled:
    return _compile(parse(src).body)


def _compile(node: ast.AST) -> Compiled:
    if isinstance(node, ast.Constant):
        const = node.value
        return lambda ev, tr: const
    if isinstance(node, (ast.List, ast.Tuple)):
        elts = tuple(_compile(e) for e in node.elts)
        return lambda ev, tr: [f(ev, tr) for f in elts]
    dotted = _dotted(node)
    if dotted is not None:
        return _compile_name(dotted)
    if isinstance(node, ast.BoolOp):
        operands = tuple((_compile(o), o) for o in node.values)
        is_and = isinstance(node.op, ast.And)
        return lambda ev, tr: ev._boolop(is_and, operands, tr)
    if isinstance(node, ast.UnaryOp):  # only `not`
        operand = _compile(node.operand)

        def not_(ev: Evaluator, tr: Trace) -> bool | None:
            v = _truth(operand(ev, tr), node)
            return UNKNOWN if v is UNKNOWN else not v
        return not_
    if isinstance(node, ast.Compare):
        return _compile_compare(node)
    if isinstance(node, ast.Call):
        return _compile_call(node)

    def unsupported(ev: Evaluator, tr: Trace) -> Any:
        raise ExprError(f"unsupported expression {ast.unparse(node)!r}")
    return unsupported


def _compile_name(dotted: str) -> Compiled:
    if dotted in ("true", "True"):
        return lambda ev, tr: True
    if dotted in ("false", "False"):
        return lambda ev, tr: False
    if dotted == "as_of":
        return lambda ev, tr: ev.as_of
    if dotted.startswith(PARAM_PREFIX):
        name = dotted[len(PARAM_PREFIX):]
        return lambda ev, tr: ev._param(name, tr)
    return lambda ev, tr: ev._ref(dotted, tr)


def _compile_compare(node: ast.Compare) -> Compiled:
    first = _compile(node.left)
    rest = tuple((_OPS[type(op)], _compile(comp)) for op, comp in zip(node.ops, node.comparators, strict=True))

    def compare(ev: Evaluator, tr: Trace) -> bool | None:
        left = first(ev, tr)
        result: bool | None = True
        for op, comp in rest:
            right = comp(ev, tr)
            if left is UNKNOWN or right is UNKNOWN:
                result = UNKNOWN if result is not False else False
            elif not op(left, right):
                return False
            left = right
        return result
    return compare


def _compile_call(node: ast.Call) -> Compiled:
    fn = node.func.id  # type: ignore[attr-defined]
    args = tuple(_compile(a) for a in node.args)
    if fn == "date":
        return lambda ev, tr: dt.date.fromisoformat([a(ev, tr) for a in args][0])
    impl = {"any_in": lambda a: any(x in a[0] for x in a[1]), "all_in": lambda a: all(x in a[0] for x in a[1]),
            "count": lambda a: len(a[0])}.get(fn)

    def call(ev: Evaluator, tr: Trace) -> Any:
        values = [a(ev, tr) for a in args]
        if any(v is UNKNOWN for v in values):
            return UNKNOWN
        if impl is None:
            raise ExprError(f"unknown function {fn}")
        return impl(values)
    return call


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
