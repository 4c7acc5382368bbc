"""Imports inside and across integrations (core's hass_imports, in part).

- C7403: a module of the integration imports another of its modules by the
  absolute path (``custom_components.<domain>.x``) instead of relatively.
- C7405: a module imports another integration's internals
  (``homeassistant.components.<other>.<module>``) where the other integration
  exports the name from its package (``homeassistant.components.<other>``);
  checked against the installed Home Assistant, so only names the package
  really re-exports are asked for.
"""

from __future__ import annotations

import importlib

from astroid import nodes
from pylint.checkers import BaseChecker
from pylint.lint import PyLinter

from .context import ModuleInfo, parse_module

_COMPONENTS = "homeassistant.components."


def _package_exports(package: str, names: list[str]) -> bool:
    try:
        module = importlib.import_module(package)
    except Exception:  # any import failure means "cannot tell"
        return False
    return all(hasattr(module, name) for name in names)


class ImportsChecker(BaseChecker):
    """Core's home_assistant_imports (relative and component-root imports)."""

    name = "home_assistant_imports"
    msgs = {
        "C7403": (
            "Use relative import for '%s'",
            "home-assistant-relative-import",
            "An integration imports its own modules relatively.",
        ),
        "C7405": (
            "Import from %s, the integration's public package, not %s",
            "home-assistant-component-root-import",
            "Another integration's internal modules can move; its package "
            "re-exports what others may use.",
        ),
    }

    _info: ModuleInfo | None = None

    def visit_module(self, node: nodes.Module) -> None:
        """Note whether the module is the integration's."""
        self._info = parse_module(node)

    def visit_importfrom(self, node: nodes.ImportFrom) -> None:
        """Check ``from x import y``."""
        if self._info is None or node.level:
            return
        self._check(node, node.modname, [name for name, _ in node.names])

    def visit_import(self, node: nodes.Import) -> None:
        """Check ``import x``."""
        if self._info is None:
            return
        for name, _ in node.names:
            self._check(node, name, [])

    def _check(self, node: nodes.NodeNG, module: str, names: list[str]) -> None:
        assert self._info is not None
        own = f"custom_components.{self._info.domain}"
        if module == own or module.startswith(f"{own}."):
            self.add_message(
                "home-assistant-relative-import", node=node, args=(module,)
            )
            return
        if not module.startswith(_COMPONENTS) or not names:
            return
        parts = module.split(".")
        if len(parts) <= 3:
            return
        package = ".".join(parts[:3])
        if _package_exports(package, names):
            self.add_message(
                "home-assistant-component-root-import",
                node=node,
                args=(package, module),
            )


def register(linter: PyLinter) -> None:
    """Register the checker."""
    linter.register_checker(ImportsChecker(linter))
