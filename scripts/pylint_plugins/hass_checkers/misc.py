"""Smaller rules of core's plugin: errors, coordinators, constants, icons.

- W7450: an error is logged right before raising one Home Assistant reports
  itself (``UpdateFailed``, ``ConfigEntryNotReady``, ``HomeAssistantError``...):
  it would be reported twice.
- W7490: a third-party library's exception class is raised (core's
  ``home-assistant-raise-third-party-exception``; its code clashes with another
  of core's, hence W7490 here). voluptuous and aiohttp.web are allowed.
- W7447 / W7448: a coordinator types its entry as a plain ``ConfigEntry`` while
  the integration has a typed one, or stores ``self.config_entry`` again after
  passing it to ``DataUpdateCoordinator.__init__``.
- C7413: a constant repeats one of ``homeassistant.const`` with the same value.
- E7409 / E7410: an ``mdi:`` icon in the code or in icons.json that the
  Material Design Icons set (the pinned frontend's ``iconList.json``) lacks.
- C7410: the micro sign U+00B5 in a string where units use the Greek mu U+03BC.
- W7492: the integration creates its own HTTP client (``aiohttp.ClientSession``,
  ``requests.get``, ``httpx.AsyncClient``...) instead of using the session Home
  Assistant injects (core's ``hass-integration-raw-http-client``; its code
  clashes with another of core's, hence W7492 here). Unlike core, a client layer
  inside the integration (``providers/``) is allowed: this integration has no
  runtime requirements by design, and its clients get Home Assistant's session.
"""

from __future__ import annotations

from functools import cache
import json
from pathlib import Path
import sys
from typing import Any

from astroid import nodes
import homeassistant.const as ha_const
from pylint.checkers import BaseChecker
from pylint.lint import PyLinter

from .context import ModuleInfo, derives_from, parse_module

_REPORTED = frozenset(
    {
        "homeassistant.exceptions.ConfigEntryAuthFailed",
        "homeassistant.exceptions.ConfigEntryError",
        "homeassistant.exceptions.ConfigEntryNotReady",
        "homeassistant.exceptions.HomeAssistantError",
        "homeassistant.exceptions.ServiceValidationError",
        "homeassistant.helpers.update_coordinator.UpdateFailed",
    }
)
_LOUD = frozenset({"critical", "error", "exception", "warning"})
_COORDINATOR = "homeassistant.helpers.update_coordinator.DataUpdateCoordinator"
_ALLOWED_RAISE = ("voluptuous", "aiohttp.web", "aiohttp.web_exceptions")
_REQUESTS = frozenset(
    {"request", "get", "post", "put", "patch", "delete", "head", "options"}
)
# What makes a request or a client session, per HTTP library.
_HTTP_CLIENTS: dict[str, frozenset[str]] = {
    "requests": _REQUESTS | {"Session"},
    "httpx": _REQUESTS | {"stream", "Client", "AsyncClient"},
    "aiohttp": frozenset({"ClientSession", "request"}),
}


@cache
def mdi_icons() -> frozenset[str] | None:
    """The icon names the pinned frontend knows, or None without the frontend."""
    try:
        import hass_frontend
    except ImportError:
        return None
    path = Path(hass_frontend.where()) / "static" / "mdi" / "iconList.json"
    try:
        return frozenset(icon["name"] for icon in json.loads(path.read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _icons_in(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [
            found
            for key, child in value.items()
            for found in _icons_in(child, f"{path}.{key}" if path else key)
        ]
    if isinstance(value, str) and value.startswith("mdi:"):
        return [(path, value)]
    return []


def _raised_class(node: nodes.Raise) -> nodes.ClassDef | None:
    exc = node.exc.func if isinstance(node.exc, nodes.Call) else node.exc
    if exc is None:
        return None
    try:
        return next((c for c in exc.infer() if isinstance(c, nodes.ClassDef)), None)
    except Exception:  # astroid inference may fail in many ways
        return None


def _is_loud_log(node: nodes.NodeNG) -> bool:
    if not (isinstance(node, nodes.Expr) and isinstance(node.value, nodes.Call)):
        return False
    func = node.value.func
    if not (isinstance(func, nodes.Attribute) and func.attrname in _LOUD):
        return False
    owner = func.expr
    name = (
        owner.name if isinstance(owner, nodes.Name) else getattr(owner, "attrname", "")
    )
    return str(name).lower().endswith("logger")


class MiscChecker(BaseChecker):
    """Core's smaller integration checks, for a custom integration."""

    name = "home_assistant_misc"
    msgs = {
        "W7450": (
            "Logged, then %s raised: Home Assistant reports that error itself",
            "home-assistant-log-and-raise",
            "The error would be reported twice.",
        ),
        "W7490": (
            "%s of %s raised: raise a built-in error, a Home Assistant error or "
            "one of the integration's own",
            "home-assistant-raise-third-party-exception",
            "A library's type leaks into Home Assistant's surface.",
        ),
        "W7447": (
            "A plain ConfigEntry where the integration has a typed one",
            "home-assistant-coordinator-untyped-config-entry",
            "self.config_entry.runtime_data stays typed.",
        ),
        "W7448": (
            "self.config_entry again: DataUpdateCoordinator.__init__ stored it already",
            "home-assistant-coordinator-redundant-config-entry",
            "A redundant assignment.",
        ),
        "C7413": (
            "Constant %s duplicates homeassistant.const.%s, import it instead",
            "home-assistant-duplicate-const",
            "One definition of Home Assistant's shared keys.",
        ),
        "C7410": (
            "Micro sign U+00B5: units use the Greek mu U+03BC",
            "home-assistant-enforce-greek-micro-char",
            "Home Assistant's units use U+03BC.",
        ),
        "W7492": (
            "Integration makes its own HTTP client with `%s`; use the session "
            "Home Assistant injects (async_get_clientsession)",
            "hass-integration-raw-http-client",
            "Home Assistant's shared session is configured, closed and tested for you.",
        ),
        "E7409": (
            "Icon '%s' is not in the Material Design Icons set",
            "home-assistant-mdi-icon-not-found",
            "The UI would show no icon.",
        ),
        "E7410": (
            "Icon '%s' of %s in icons.json is not in the Material Design Icons set",
            "home-assistant-mdi-icon-json-not-found",
            "The UI would show no icon.",
        ),
    }

    _info: ModuleInfo | None = None

    def visit_module(self, node: nodes.Module) -> None:
        """Module-level checks; icons.json with the package's __init__."""
        info = self._info = parse_module(node)
        if info is None:
            return
        if info.platform == "__init__":
            icons = mdi_icons()
            try:
                data = json.loads((info.directory / "icons.json").read_text("utf-8"))
            except (OSError, ValueError):
                data = {}
            for where, icon in _icons_in(data):
                if icons is not None and icon.removeprefix("mdi:") not in icons:
                    self.add_message(
                        "home-assistant-mdi-icon-json-not-found",
                        node=node,
                        args=(icon, where),
                    )

    def visit_const(self, node: nodes.Const) -> None:
        """``"mdi:..."`` strings in the code, and the micro sign."""
        if self._info is None or not isinstance(node.value, str):
            return
        if "\u00b5" in node.value:
            self.add_message("home-assistant-enforce-greek-micro-char", node=node)
        if not node.value.startswith("mdi:"):
            return
        icons = mdi_icons()
        if icons is not None and node.value.removeprefix("mdi:") not in icons:
            self.add_message(
                "home-assistant-mdi-icon-not-found", node=node, args=(node.value,)
            )

    def visit_assign(self, node: nodes.Assign) -> None:
        """A module constant that repeats homeassistant.const."""
        if self._info is None or not isinstance(node.parent, nodes.Module):
            return
        if not isinstance(node.value, nodes.Const):
            return
        for target in node.targets:
            if isinstance(target, nodes.AssignName) and target.name.isupper():
                theirs = getattr(ha_const, target.name, None)
                if isinstance(theirs, str) and theirs == node.value.value:
                    self.add_message(
                        "home-assistant-duplicate-const",
                        node=node,
                        args=(target.name, target.name),
                    )

    def visit_call(self, node: nodes.Call) -> None:
        """A request or client session of an HTTP library."""
        if self._info is None:
            return
        try:
            found = [
                f
                for f in node.func.infer()
                if isinstance(f, (nodes.FunctionDef, nodes.ClassDef))
            ]
        except Exception:  # astroid inference may fail in many ways
            return
        for value in found:
            library = value.root().name.split(".", 1)[0]
            if value.name in _HTTP_CLIENTS.get(library, ()) and isinstance(
                value.parent, nodes.Module
            ):
                self.add_message(
                    "hass-integration-raw-http-client", node=node, args=(library,)
                )
                return

    def visit_raise(self, node: nodes.Raise) -> None:
        """Log-and-raise, and third-party exceptions."""
        if self._info is None:
            return
        cls = _raised_class(node)
        if cls is None:
            return
        if cls.qname() in _REPORTED or any(
            a.qname() in _REPORTED for a in _safe_ancestors(cls)
        ):
            sibling = node.previous_sibling()
            while sibling is not None:
                if _is_loud_log(sibling):
                    self.add_message(
                        "home-assistant-log-and-raise", node=sibling, args=(cls.name,)
                    )
                    break
                sibling = sibling.previous_sibling()
        module = cls.root().name
        top = module.split(".", 1)[0]
        if (
            top in sys.stdlib_module_names
            or top in {"homeassistant", "builtins", "custom_components"}
            or parse_module(cls.root()) is not None
            or module.startswith(_ALLOWED_RAISE)
        ):
            return
        self.add_message(
            "home-assistant-raise-third-party-exception",
            node=node,
            args=(cls.name, module),
        )

    def visit_classdef(self, node: nodes.ClassDef) -> None:
        """A coordinator's config entry."""
        if self._info is None or not derives_from(node, _COORDINATOR):
            return
        init = node.locals.get("__init__", [None])[0]
        if not isinstance(init, nodes.FunctionDef):
            return
        passed: nodes.NodeNG | None = None
        for call in init.nodes_of_class(nodes.Call):
            func = call.func
            if (
                isinstance(func, nodes.Attribute)
                and func.attrname == "__init__"
                and isinstance(func.expr, nodes.Call)
            ):
                passed = next(
                    (k.value for k in call.keywords or () if k.arg == "config_entry"),
                    None,
                )
        names = {"config_entry"} | (
            {passed.name} if isinstance(passed, nodes.Name) else set()
        )
        typed = _has_typed_entry(self._info.directory)
        for arg, note in zip(
            init.args.args or [], init.args.annotations or [], strict=False
        ):
            if (
                typed
                and arg.name in names
                and note is not None
                and note.as_string().split(".")[-1]
                in {"ConfigEntry", "ConfigEntry | None"}
            ):
                self.add_message(
                    "home-assistant-coordinator-untyped-config-entry", node=note
                )
        if passed is None:
            return
        for assign in init.nodes_of_class(nodes.AssignAttr):
            if (
                assign.attrname == "config_entry"
                and isinstance(assign.expr, nodes.Name)
                and assign.expr.name == "self"
                and not (
                    isinstance(assign.parent, nodes.AnnAssign)
                    and assign.parent.value is None
                )
            ):
                self.add_message(
                    "home-assistant-coordinator-redundant-config-entry",
                    node=assign.parent,
                )


@cache
def _has_typed_entry(directory: Path) -> bool:
    """Whether the integration defines a typed entry (``ConfigEntry[...]``)."""
    return any("ConfigEntry[" in p.read_text("utf-8") for p in directory.rglob("*.py"))


def _safe_ancestors(cls: nodes.ClassDef) -> list[nodes.ClassDef]:
    try:
        return list(cls.ancestors())
    except Exception:  # astroid inference may fail in many ways
        return []


def register(linter: PyLinter) -> None:
    """Register the checker."""
    linter.register_checker(MiscChecker(linter))
