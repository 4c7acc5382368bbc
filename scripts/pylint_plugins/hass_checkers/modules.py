"""Module-level rules of an integration (core's platform and quality-scale checks).

- C7409: ``PLATFORMS`` is sorted (core's enforce-sorted-platforms).
- W7411: an entity platform module defines ``PARALLEL_UPDATES`` (when
  quality_scale.yaml claims parallel-updates).
- W7405: ``hass.data[DOMAIN]`` instead of ``entry.runtime_data``.
- W7413: ``__init__`` sets entries up without ``async_unload_entry`` (when
  config-entry-unloading is claimed).
- W7412: diagnostics is claimed but no ``diagnostics.py`` implements
  ``async_get_config_entry_diagnostics`` or ``async_get_device_diagnostics``.
- W7402: ``@callback`` on a coroutine (core's hass_decorator): Home Assistant
  would run it as a plain function and never await it.
"""

from __future__ import annotations

from astroid import nodes
from pylint.checkers import BaseChecker
from pylint.lint import PyLinter

from .context import ENTITY_PLATFORMS, ModuleInfo, const_str, parse_module, rule_done

_DIAGNOSTICS = ("async_get_config_entry_diagnostics", "async_get_device_diagnostics")


def _is_callback_decorator(node: nodes.NodeNG) -> bool:
    try:
        return any(
            isinstance(v, nodes.FunctionDef)
            and v.qname() == "homeassistant.core.callback"
            for v in node.infer()
        )
    except Exception:  # astroid inference may fail in many ways
        return False


class ModulesChecker(BaseChecker):
    """Core's module-level integration checks, for a custom integration."""

    name = "home_assistant_modules"
    msgs = {
        "C7409": (
            "Platforms must be sorted alphabetically",
            "home-assistant-enforce-sorted-platforms",
            "PLATFORMS is sorted, so a diff shows what changed.",
        ),
        "W7411": (
            "Module %s should define PARALLEL_UPDATES",
            "home-assistant-missing-parallel-updates",
            "How many actions/updates may run at once (quality scale parallel-updates).",
        ),
        "W7405": (
            "Use entry.runtime_data instead of hass.data[DOMAIN]",
            "home-assistant-use-runtime-data",
            "runtime_data is typed and goes away with the entry (quality scale runtime-data).",
        ),
        "W7413": (
            "Integration should implement async_unload_entry",
            "home-assistant-missing-config-entry-unloading",
            "An entry that cannot unload needs a restart to reload (config-entry-unloading).",
        ),
        "W7412": (
            "Integration claims diagnostics but %s",
            "home-assistant-missing-diagnostics",
            "quality_scale.yaml and the code disagree.",
        ),
        "W7402": (
            "A coroutine function should not be decorated with @callback",
            "home-assistant-async-callback-decorator",
            "@callback marks a function safe to call in the event loop; a "
            "coroutine function is never awaited then.",
        ),
    }

    _info: ModuleInfo | None = None

    def visit_module(self, node: nodes.Module) -> None:
        """Check the module's top level."""
        info = self._info = parse_module(node)
        if info is None:
            return
        names = set(node.locals)
        if (
            info.platform in ENTITY_PLATFORMS
            and "async_setup_entry" in names
            and rule_done(info, "parallel-updates")
            and "PARALLEL_UPDATES" not in names
        ):
            self.add_message(
                "home-assistant-missing-parallel-updates",
                node=node,
                args=(info.platform,),
            )
        if info.platform == "__init__":
            if (
                "async_setup_entry" in names
                and "async_unload_entry" not in names
                and rule_done(info, "config-entry-unloading")
            ):
                self.add_message(
                    "home-assistant-missing-config-entry-unloading", node=node
                )
            if (
                rule_done(info, "diagnostics")
                and not (info.directory / "diagnostics.py").exists()
            ):
                self.add_message(
                    "home-assistant-missing-diagnostics",
                    node=node,
                    args=("has no diagnostics.py",),
                )
        if (
            info.platform == "diagnostics"
            and not names & set(_DIAGNOSTICS)
            and rule_done(info, "diagnostics")
        ):
            self.add_message(
                "home-assistant-missing-diagnostics",
                node=node,
                args=("diagnostics.py defines neither " + " nor ".join(_DIAGNOSTICS),),
            )

    def visit_assign(self, node: nodes.Assign) -> None:
        """``PLATFORMS = [...]`` in order."""
        self._check_platforms(node.targets, node.value)

    def visit_annassign(self, node: nodes.AnnAssign) -> None:
        """``PLATFORMS: list[Platform] = [...]`` in order."""
        self._check_platforms([node.target], node.value)

    def _check_platforms(
        self, targets: list[nodes.NodeNG], value: nodes.NodeNG | None
    ) -> None:
        if self._info is None or not isinstance(
            value, (nodes.List, nodes.Tuple, nodes.Set)
        ):
            return
        if not any(
            isinstance(t, nodes.AssignName) and t.name == "PLATFORMS" for t in targets
        ):
            return
        keys = [e.as_string() for e in value.elts]
        if keys != sorted(keys):
            self.add_message("home-assistant-enforce-sorted-platforms", node=value)

    def visit_subscript(self, node: nodes.Subscript) -> None:
        """``hass.data[DOMAIN]``."""
        if self._info is None:
            return
        if node.value.as_string() not in {"hass.data", "self.hass.data"}:
            return
        if (
            const_str(node.slice) == self._info.domain
            or node.slice.as_string() == "DOMAIN"
        ):
            self.add_message("home-assistant-use-runtime-data", node=node)

    def visit_asyncfunctiondef(self, node: nodes.AsyncFunctionDef) -> None:
        """No ``@callback`` on a coroutine function."""
        if self._info is None or not node.decorators:
            return
        if any(_is_callback_decorator(d) for d in node.decorators.nodes):
            self.add_message("home-assistant-async-callback-decorator", node=node)


def register(linter: PyLinter) -> None:
    """Register the checker."""
    linter.register_checker(ModulesChecker(linter))
