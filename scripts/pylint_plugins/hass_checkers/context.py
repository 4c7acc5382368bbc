"""Where a module sits in a custom integration, and the integration's files.

Core's checkers recognise ``homeassistant.components.<domain>.<module>``; a
custom integration is ``custom_components/<domain>/<module>.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
import json
from pathlib import Path
from typing import Any

from astroid import nodes
from homeassistant.const import Platform
import yaml

PACKAGE = "custom_components"
# Every entity platform this Home Assistant knows (lock, sensor, ...).
ENTITY_PLATFORMS = frozenset(str(platform) for platform in Platform)
HA_ERROR = "homeassistant.exceptions.HomeAssistantError"
ENTITY = "homeassistant.helpers.entity.Entity"


@dataclass(frozen=True)
class ModuleInfo:
    """A module of a custom integration."""

    domain: str
    # The module directly under the integration ("lock", "__init__"), or None
    # for a deeper module (a subpackage such as providers/).
    platform: str | None
    # The integration's subpackage the module is in ("providers"), or None.
    subpackage: str | None
    directory: Path


def parse_module(node: nodes.Module) -> ModuleInfo | None:
    """The integration module ``node`` is, or None outside custom_components.

    Read from the file's path (``custom_components/<domain>/<module>.py``):
    pylint names a module after its packages, and ``custom_components`` may or
    may not be one.
    """
    if not node.file:
        return None
    file = Path(node.file).resolve()
    directory = next((p for p in file.parents if p.parent.name == PACKAGE), None)
    if directory is None:
        return None
    parts = file.relative_to(directory).with_suffix("").parts
    if parts == ("__init__",):
        return ModuleInfo(directory.name, "__init__", None, directory)
    if len(parts) == 1:
        return ModuleInfo(directory.name, parts[0], None, directory)
    return ModuleInfo(directory.name, None, parts[0], directory)


@cache
def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@cache
def _quality_scale(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    rules = data.get("rules", {}) if isinstance(data, dict) else {}
    status: dict[str, str] = {}
    for name, value in rules.items():
        if isinstance(value, str):
            status[name] = value
        elif isinstance(value, dict) and isinstance(value.get("status"), str):
            status[name] = value["status"]
    return status


def strings(info: ModuleInfo) -> dict[str, Any]:
    """The integration's strings.json (the translation source)."""
    return _json(info.directory / "strings.json")


def manifest(info: ModuleInfo) -> dict[str, Any]:
    """The integration's manifest.json."""
    return _json(info.directory / "manifest.json")


def rule_done(info: ModuleInfo, rule: str, *, exempt_counts: bool = False) -> bool:
    """Whether quality_scale.yaml claims ``rule`` (core gates some checks so)."""
    status = _quality_scale(info.directory / "quality_scale.yaml").get(rule)
    return status == "done" or (exempt_counts and status == "exempt")


def derives_from(cls: nodes.ClassDef, qname: str) -> bool:
    """Whether ``cls`` is or inherits from the class named ``qname``."""
    if cls.qname() == qname:
        return True
    try:
        return any(a.qname() == qname for a in cls.ancestors())
    except Exception:  # astroid inference may fail in many ways
        return False


def ha_ancestors(cls: nodes.ClassDef) -> list[nodes.ClassDef]:
    """``cls``'s ancestors defined by Home Assistant, nearest first."""
    try:
        return [
            a for a in cls.ancestors() if a.root().name.startswith("homeassistant.")
        ]
    except Exception:  # astroid inference may fail in many ways
        return []


def const_str(node: nodes.NodeNG | None) -> str | None:
    """A string constant, also through a name that infers to one (CONF_HOST)."""
    if node is None:
        return None
    if isinstance(node, nodes.Const):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, (nodes.Name, nodes.Attribute)):
        try:
            values = {
                v.value
                for v in node.infer()
                if isinstance(v, nodes.Const) and isinstance(v.value, str)
            }
        except Exception:  # astroid inference may fail in many ways
            return None
        if len(values) == 1:
            return values.pop()
    return None


def keyword(call: nodes.Call, name: str) -> nodes.NodeNG | None:
    """The value of keyword argument ``name`` of ``call``."""
    for kw in call.keywords or ():
        if kw.arg == name:
            return kw.value
    return None
