"""Compare type annotations the way core's type-hint rules do, on astroid nodes.

An annotation is split into its union members; each member is written without
module qualifiers (``dr.DeviceEntry`` -> ``DeviceEntry``); a name that is a type
alias (``StateType = str | int | float | None``) is expanded; a type variable of
Home Assistant's generic classes (``_DataT``) matches anything.
"""

from __future__ import annotations

import re

import astroid
from astroid import nodes

# Container types a narrower annotation may use for a wider one.
_SUBTYPES: dict[str, frozenset[str]] = {
    "Mapping": frozenset({"dict", "MutableMapping", "Mapping"}),
    "MutableMapping": frozenset({"dict", "MutableMapping"}),
    "Sequence": frozenset({"list", "tuple", "Sequence", "MutableSequence"}),
    "Iterable": frozenset(
        {"list", "tuple", "set", "frozenset", "Sequence", "Iterable"}
    ),
    "Collection": frozenset({"list", "tuple", "set", "frozenset", "Collection"}),
    "AbstractSet": frozenset({"set", "frozenset", "AbstractSet"}),
    "float": frozenset({"int", "float"}),
}
WILDCARD = "?"


def _is_typevar(node: nodes.Name) -> bool:
    try:
        _, found = node.lookup(node.name)
    except Exception:  # astroid lookups may fail in many ways
        return False
    for assign in found:
        parent = assign.parent
        if isinstance(parent, (nodes.TypeVar, nodes.ParamSpec, nodes.TypeVarTuple)):
            return True
        if (
            isinstance(parent, nodes.Assign)
            and isinstance(parent.value, nodes.Call)
            and getattr(
                parent.value.func, "name", getattr(parent.value.func, "attrname", "")
            )
            in {"TypeVar", "ParamSpec", "TypeVarTuple"}
        ):
            return True
    return False


def _alias_value(node: nodes.Name) -> nodes.NodeNG | None:
    """The type expression a module-level alias name stands for, if it is one."""
    try:
        _, found = node.lookup(node.name)
    except Exception:  # astroid lookups may fail in many ways
        return None
    for assign in found:
        parent = assign.parent
        if isinstance(parent, nodes.TypeAlias):
            return parent.value
        if isinstance(parent, (nodes.Assign, nodes.AnnAssign)) and isinstance(
            parent.value, (nodes.BinOp, nodes.Subscript)
        ):
            value = parent.value
            if isinstance(value, nodes.BinOp) and value.op != "|":
                return None
            if isinstance(value, nodes.Subscript) and _name(value.value) not in {
                "Union",
                "Optional",
            }:
                return None
            return value
    return None


def _name(node: nodes.NodeNG) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Attribute):
        return node.attrname
    return node.as_string()


def text(node: nodes.NodeNG) -> str:
    """One member written without qualifiers; type variables as the wildcard."""
    if isinstance(node, nodes.Const):
        if node.value is None:
            return "None"
        if isinstance(node.value, str):
            return text(astroid.extract_node(node.value))
        return repr(node.value)
    if isinstance(node, nodes.Name):
        return WILDCARD if _is_typevar(node) else node.name
    if isinstance(node, nodes.Attribute):
        return node.attrname
    if isinstance(node, nodes.Subscript):
        inner = node.slice
        elts = inner.elts if isinstance(inner, nodes.Tuple) else [inner]
        return f"{text(node.value)}[{', '.join(text(e) for e in elts)}]"
    if isinstance(node, (nodes.List, nodes.Tuple)):
        return f"[{', '.join(text(e) for e in node.elts)}]"
    if isinstance(node, nodes.BinOp) and node.op == "|":
        return " | ".join(members(node))
    return node.as_string()


def members(node: nodes.NodeNG | None, depth: int = 0) -> list[str]:
    """The union members of an annotation, aliases expanded (3 levels deep)."""
    if node is None:
        return []
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        return members(astroid.extract_node(node.value), depth)
    if isinstance(node, nodes.BinOp) and node.op == "|":
        return members(node.left, depth) + members(node.right, depth)
    if isinstance(node, nodes.Subscript):
        outer = _name(node.value)
        elts = node.slice.elts if isinstance(node.slice, nodes.Tuple) else [node.slice]
        if outer == "Optional":
            return [*members(node.slice, depth), "None"]
        if outer == "Union":
            return [m for e in elts for m in members(e, depth)]
    if isinstance(node, nodes.Name) and depth < 3:
        value = _alias_value(node)
        if value is not None:
            return members(value, depth + 1)
    return [text(node)]


def _origin(member: str) -> tuple[str, str]:
    head, _, rest = member.partition("[")
    return head, rest


def accepts(wide: str, narrow: str) -> bool:
    """Whether a value typed ``narrow`` fits where ``wide`` is expected."""
    if wide in (narrow, "Any", WILDCARD):
        return True
    if WILDCARD in wide:
        pattern = re.escape(wide).replace(re.escape(WILDCARD), ".+")
        if re.fullmatch(pattern, narrow):
            return True
    wide_head, wide_rest = _origin(wide)
    narrow_head, narrow_rest = _origin(narrow)
    # A typed config entry (ConfigEntry[RuntimeData], or an alias named
    # MyConfigEntry, Home Assistant's convention) is the ConfigEntry Home
    # Assistant passes to this integration's code, either way round.
    if wide_head.endswith("ConfigEntry") and narrow_head.endswith("ConfigEntry"):
        return True
    if narrow_head in _SUBTYPES.get(wide_head, ()):
        return not wide_rest or not narrow_rest or wide_rest == narrow_rest
    return False


def narrower(ours: list[str], theirs: list[str]) -> bool:
    """Whether every member of ``ours`` fits one of ``theirs`` (a return type)."""
    return bool(ours) and all(any(accepts(t, o) for t in theirs) for o in ours)
