"""Action handlers tell the user when they fail (core's action rules).

Action handlers are the entity methods a platform's actions call
(``async_unlock``, ``async_turn_on``, ...) and the functions the integration
registers as services (``hass.services.async_register(DOMAIN, name, handler)``,
``async_register_entity_service``, ``async_register_admin_service``).

- E7405: a handler catches an exception and only logs it, passes, or returns
  (or wraps the call in ``contextlib.suppress``): the action "succeeds".
- W7491: a handler neither raises a ``HomeAssistantError`` (or subclass) nor is
  decorated (core's ``home-assistant-action-missing-ha-exception``; its code
  clashes with another of core's, hence W7491 here). Unlike core, a raise is
  also found in a function of the integration that the handler calls (three
  calls deep: ``async_turn_on`` -> ``_async_set`` -> ``call_cloud``), and
  ``raise translate_error(err)`` counts when that call returns a
  ``HomeAssistantError``: this integration translates errors in one helper.
- W7414: services are registered in ``async_setup_entry`` (they must exist
  before any entry loads and outlive an unload: ``async_setup``).
"""

from __future__ import annotations

from collections.abc import Iterator

from astroid import nodes
from pylint.checkers import BaseChecker
from pylint.lint import PyLinter

from .context import HA_ERROR, ModuleInfo, derives_from, parse_module, rule_done

# The entity methods each platform's actions call.
PLATFORM_ACTIONS: dict[str, frozenset[str]] = {
    "lock": frozenset(
        {"async_lock", "async_unlock", "async_open", "lock", "unlock", "open"}
    ),
    "switch": frozenset(
        {
            "async_turn_on",
            "async_turn_off",
            "async_toggle",
            "turn_on",
            "turn_off",
            "toggle",
        }
    ),
    "light": frozenset(
        {
            "async_turn_on",
            "async_turn_off",
            "async_toggle",
            "turn_on",
            "turn_off",
            "toggle",
        }
    ),
    "fan": frozenset(
        {
            "async_turn_on",
            "async_turn_off",
            "async_set_percentage",
            "async_set_preset_mode",
        }
    ),
    "button": frozenset({"async_press", "press"}),
    "number": frozenset({"async_set_native_value", "set_native_value"}),
    "select": frozenset({"async_select_option", "select_option"}),
    "text": frozenset({"async_set_value", "set_value"}),
    "cover": frozenset(
        {
            "async_open_cover",
            "async_close_cover",
            "async_stop_cover",
            "async_set_cover_position",
        }
    ),
    "valve": frozenset(
        {
            "async_open_valve",
            "async_close_valve",
            "async_stop_valve",
            "async_set_valve_position",
        }
    ),
    "siren": frozenset({"async_turn_on", "async_turn_off"}),
}
_LOG_LEVELS = frozenset({"error", "exception", "warning", "info", "debug"})
_DEPTH = 3


def registered_handlers(module: nodes.Module) -> set[str]:
    """Names of the functions the module registers as services."""
    names: set[str] = set()
    for call in module.nodes_of_class(nodes.Call):
        func = call.func
        attr = (
            func.attrname
            if isinstance(func, nodes.Attribute)
            else getattr(func, "name", "")
        )
        index = {
            "async_register": 2,
            "async_register_entity_service": 2,
            "async_register_admin_service": 3,
        }.get(attr)
        if index is None or len(call.args) <= index:
            continue
        handler = call.args[index]
        if isinstance(handler, nodes.Name):
            names.add(handler.name)
        elif isinstance(handler, nodes.Const) and isinstance(handler.value, str):
            names.add(handler.value)
    return names


def _swallows(handler: nodes.ExceptHandler) -> bool:
    """An except block that neither raises nor does more than log and return."""
    for child in handler.body:
        if isinstance(child, nodes.Raise):
            return False
    for child in handler.body:
        if isinstance(child, (nodes.Pass, nodes.Return)):
            continue
        if (
            isinstance(child, nodes.Expr)
            and isinstance(child.value, nodes.Call)
            and isinstance(child.value.func, nodes.Attribute)
            and child.value.func.attrname in _LOG_LEVELS
        ):
            continue
        return False
    return True


def _statements(body: list[nodes.NodeNG]) -> Iterator[nodes.NodeNG]:
    """Statements of a body and its blocks, not of nested functions or classes."""
    for child in body:
        if isinstance(child, (nodes.FunctionDef, nodes.ClassDef, nodes.Lambda)):
            continue
        yield child
        for block in ("body", "orelse", "finalbody"):
            yield from _statements(getattr(child, block, None) or [])
        for handler in getattr(child, "handlers", None) or []:
            yield from _statements(handler.body)


def _is_ha_error(node: nodes.NodeNG) -> bool:
    """A raised expression that is (or makes) a Home Assistant error."""
    try:
        for value in node.infer():
            cls = (
                value
                if isinstance(value, nodes.ClassDef)
                else getattr(value, "_proxied", None)
            )
            if isinstance(cls, nodes.ClassDef) and derives_from(cls, HA_ERROR):
                return True
    except Exception:  # astroid inference may fail in many ways
        return False
    return False


class ActionsChecker(BaseChecker):
    """Core's action-exceptions rules, for a custom integration."""

    name = "home_assistant_actions"
    msgs = {
        "E7405": (
            "%s catches an error and raises none: the action looks successful "
            "to the user",
            "home-assistant-action-swallowed-exception",
            "An action handler catches an error and does not raise one.",
        ),
        "W7491": (
            "%s raises no HomeAssistantError, itself or through a helper, and "
            "has no decorator that translates errors: a library error would "
            "reach the user raw",
            "home-assistant-action-missing-ha-exception",
            "A raw library error escaping an action is an opaque traceback.",
        ),
        "W7414": (
            "Register services once in async_setup; async_setup_entry runs per entry",
            "home-assistant-service-registered-in-setup-entry",
            "A service registered per entry is missing before the entry loads "
            "and after it unloads.",
        ),
    }

    _info: ModuleInfo | None = None
    _platform_actions: frozenset[str] = frozenset()
    _registered: set[str]

    def visit_module(self, node: nodes.Module) -> None:
        """Collect the module's action handlers."""
        self._info = parse_module(node)
        self._registered = registered_handlers(node) if self._info else set()
        platform = self._info.platform if self._info else None
        self._platform_actions = PLATFORM_ACTIONS.get(platform or "", frozenset())

    def visit_functiondef(self, node: nodes.FunctionDef) -> None:
        """Check action handlers, and what async_setup_entry registers."""
        if self._info is None:
            return
        if node.name == "async_setup_entry" and isinstance(node.parent, nodes.Module):
            self._check_setup_entry(node)
        if not self._is_handler(node):
            return
        for statement in _statements(node.body):
            if isinstance(statement, nodes.Try):
                for handler in statement.handlers:
                    if _swallows(handler):
                        self.add_message(
                            "home-assistant-action-swallowed-exception",
                            node=handler,
                            args=(node.name,),
                        )
            elif isinstance(statement, (nodes.With, nodes.AsyncWith)):
                for item, _ in statement.items:
                    if item.as_string().startswith(
                        ("contextlib.suppress(", "suppress(")
                    ):
                        self.add_message(
                            "home-assistant-action-swallowed-exception",
                            node=statement,
                            args=(node.name,),
                        )
        if not rule_done(self._info, "action-exceptions", exempt_counts=True):
            return
        if node.decorators and node.decorators.nodes:
            return
        if not self._raises_ha_error(node, _DEPTH, set()):
            self.add_message(
                "home-assistant-action-missing-ha-exception",
                node=node,
                args=(node.name,),
            )

    visit_asyncfunctiondef = visit_functiondef

    def _is_handler(self, node: nodes.FunctionDef) -> bool:
        if (
            isinstance(node.parent, nodes.ClassDef)
            and node.name in self._platform_actions
        ):
            return bool(node.parent.bases)
        return node.name in self._registered

    def _raises_ha_error(
        self, func: nodes.FunctionDef, depth: int, seen: set[str]
    ) -> bool:
        seen.add(func.qname())
        calls: list[nodes.Call] = []
        for statement in _statements(func.body):
            if (
                isinstance(statement, nodes.Raise)
                and statement.exc is not None
                and _is_ha_error(statement.exc)
            ):
                return True
            for call in statement.nodes_of_class(
                nodes.Call, skip_klass=(nodes.FunctionDef, nodes.Lambda)
            ):
                calls.append(call)
        if depth <= 1:
            return False
        for call in calls:
            for callee in self._own_functions(call):
                if callee.qname() not in seen and self._raises_ha_error(
                    callee, depth - 1, seen
                ):
                    return True
        return False

    def _own_functions(self, call: nodes.Call) -> list[nodes.FunctionDef]:
        """The integration's functions ``call`` may call."""
        assert self._info is not None
        func = call.func
        # Only what can be the integration's own code: a function by name or a
        # method of self. Inferring every library call is slow and never ours.
        if not (
            isinstance(func, nodes.Name)
            or (
                isinstance(func, nodes.Attribute)
                and isinstance(func.expr, nodes.Name)
                and func.expr.name == "self"
            )
        ):
            return []
        try:
            found = list(func.infer())
        except Exception:  # astroid inference may fail in many ways
            return []
        own: list[nodes.FunctionDef] = []
        for value in found:
            while not isinstance(value, nodes.FunctionDef) and hasattr(
                value, "_proxied"
            ):
                value = value._proxied  # a bound method's unbound method's function
            if not isinstance(value, nodes.FunctionDef):
                continue
            info = parse_module(value.root())
            if info is not None and info.domain == self._info.domain:
                own.append(value)
        return own

    def _check_setup_entry(self, node: nodes.FunctionDef) -> None:
        for call in node.nodes_of_class(nodes.Call):
            func = call.func
            if (
                isinstance(func, nodes.Attribute)
                and func.attrname == "async_register"
                and func.expr.as_string().endswith("services")
            ):
                self.add_message(
                    "home-assistant-service-registered-in-setup-entry", node=call
                )


def register(linter: PyLinter) -> None:
    """Register the checker."""
    linter.register_checker(ActionsChecker(linter))
