"""Type hints of the functions Home Assistant calls (core's enforce-type-hints).

- Module functions Home Assistant looks up by name (``async_setup_entry`` of an
  entity platform, diagnostics, device triggers, ...) take and return what Home
  Assistant passes and expects: the table below, the signatures of Home
  Assistant's own protocols (``loader.ComponentProtocol``,
  ``DiagnosticsProtocol``, ``DeviceAutomationTriggerProtocol``, ...) with core's
  corrections (``async_setup_entry`` returns ``bool``).
- A method that overrides one of a Home Assistant base class (an entity
  property, a flow step, a coordinator hook) takes at least what the base takes
  and returns no more than the base returns, read from the installed Home
  Assistant's own annotations. ``Any`` where the base is precise is refused
  (``native_value -> Any`` hides a wrong state type).
- Every ``async_step_*`` of a flow returns the flow's result type; every
  ``__init__`` returns ``None``; a ``hass`` argument is a ``HomeAssistant``.
"""

from __future__ import annotations

from dataclasses import dataclass

from astroid import nodes
from pylint.checkers import BaseChecker
from pylint.lint import PyLinter

from . import hints as ann
from .context import ENTITY_PLATFORMS, ha_ancestors, parse_module


@dataclass(frozen=True)
class Signature:
    """What Home Assistant passes (by position) and expects back."""

    args: tuple[str, ...]
    returns: tuple[str, ...]


_SETUP_ENTRY_PLATFORM = Signature(
    ("HomeAssistant", "ConfigEntry", "AddConfigEntryEntitiesCallback"), ("None",)
)
_ENTRY_HOOK = Signature(("HomeAssistant", "ConfigEntry"), ("bool",))
_MODULE_FUNCTIONS: dict[str, dict[str, Signature]] = {
    "__init__": {
        "async_setup": Signature(("HomeAssistant", "ConfigType"), ("bool",)),
        "setup": Signature(("HomeAssistant", "ConfigType"), ("bool",)),
        "async_setup_entry": _ENTRY_HOOK,
        "async_unload_entry": _ENTRY_HOOK,
        "async_migrate_entry": _ENTRY_HOOK,
        "async_remove_entry": Signature(("HomeAssistant", "ConfigEntry"), ("None",)),
        "async_remove_config_entry_device": Signature(
            ("HomeAssistant", "ConfigEntry", "AnyDeviceEntry"), ("bool",)
        ),
        "async_reset_platform": Signature(("HomeAssistant", "str"), ("None",)),
    },
    "diagnostics": {
        "async_get_config_entry_diagnostics": Signature(
            ("HomeAssistant", "ConfigEntry"), ("Mapping[str, Any]",)
        ),
        "async_get_device_diagnostics": Signature(
            ("HomeAssistant", "ConfigEntry", "AnyDeviceEntry"), ("Mapping[str, Any]",)
        ),
    },
    "device_trigger": {
        "async_validate_trigger_config": Signature(
            ("HomeAssistant", "ConfigType"), ("ConfigType",)
        ),
        "async_attach_trigger": Signature(
            ("HomeAssistant", "ConfigType", "TriggerActionType", "TriggerInfo"),
            ("CALLBACK_TYPE",),
        ),
        "async_get_trigger_capabilities": Signature(
            ("HomeAssistant", "ConfigType"), ("dict[str, Schema]",)
        ),
        "async_get_triggers": Signature(
            ("HomeAssistant", "str"), ("list[dict[str, str]]", "list[dict[str, Any]]")
        ),
    },
    "device_action": {
        "async_validate_action_config": Signature(
            ("HomeAssistant", "ConfigType"), ("ConfigType",)
        ),
        "async_call_action_from_config": Signature(
            ("HomeAssistant", "ConfigType", "TemplateVarsType", "Context | None"),
            ("None",),
        ),
        "async_get_actions": Signature(
            ("HomeAssistant", "str"), ("list[dict[str, str]]", "list[dict[str, Any]]")
        ),
    },
    "device_condition": {
        "async_validate_condition_config": Signature(
            ("HomeAssistant", "ConfigType"), ("ConfigType",)
        ),
        "async_condition_from_config": Signature(
            ("HomeAssistant", "ConfigType"), ("ConditionCheckerType",)
        ),
        "async_get_conditions": Signature(
            ("HomeAssistant", "str"), ("list[dict[str, str]]", "list[dict[str, Any]]")
        ),
    },
    "repairs": {
        "async_create_fix_flow": Signature(
            ("HomeAssistant", "str", "dict[str, str | int | float | None] | None"),
            ("RepairsFlow",),
        ),
    },
    "system_health": {
        "async_register": Signature(
            ("HomeAssistant", "SystemHealthRegistration"), ("None",)
        ),
    },
}

# The result type of each flow's steps, by the Home Assistant base class.
_FLOW_RESULTS = {
    "homeassistant.config_entries.ConfigFlow": "ConfigFlowResult",
    "homeassistant.config_entries.OptionsFlow": "ConfigFlowResult",
    "homeassistant.config_entries.ConfigSubentryFlow": "SubentryFlowResult",
    # RepairsFlowResult since 2026.x (repairs/models.py); a FlowResult subtype.
    "homeassistant.components.repairs.issue_handler.RepairsFlow": "RepairsFlowResult",
    "homeassistant.components.repairs.models.RepairsFlow": "RepairsFlowResult",
}


def _positional(
    node: nodes.FunctionDef,
) -> list[tuple[nodes.AssignName, nodes.NodeNG | None]]:
    args = node.args
    names = [*(args.posonlyargs or []), *(args.args or [])]
    notes = [*(args.posonlyargs_annotations or []), *(args.annotations or [])]
    return list(zip(names, notes, strict=False))


class TypeHintChecker(BaseChecker):
    """Core's home_assistant_enforce_type_hints, for a custom integration."""

    name = "home_assistant_enforce_type_hints"
    msgs = {
        "E7402": (
            "Argument %s: Home Assistant passes %s to %s",
            "home-assistant-argument-type",
            "A function or method Home Assistant calls takes an argument of "
            "another type than Home Assistant passes.",
        ),
        "E7403": (
            "Home Assistant expects %s back from %s",
            "home-assistant-return-type",
            "A function or method Home Assistant calls returns another type "
            "than Home Assistant expects (Any included).",
        ),
    }

    _platform: str | None = None
    _in_integration = False

    def visit_module(self, node: nodes.Module) -> None:
        """Note the module's platform."""
        info = parse_module(node)
        self._in_integration = info is not None
        self._platform = info.platform if info else None

    def visit_functiondef(self, node: nodes.FunctionDef) -> None:
        """Check module functions and methods of the integration."""
        if not self._in_integration:
            return
        self._check_hass_argument(node)
        if isinstance(node.parent, nodes.ClassDef):
            self._check_method(node, node.parent)
        elif isinstance(node.parent, nodes.Module):
            self._check_module_function(node)

    visit_asyncfunctiondef = visit_functiondef

    def _check_hass_argument(self, node: nodes.FunctionDef) -> None:
        for arg, note in _positional(node):
            if arg.name == "hass":
                got = ann.members(note)
                if got not in (["HomeAssistant"], ["HomeAssistant", "None"]):
                    self.add_message(
                        "home-assistant-argument-type",
                        node=arg,
                        args=("hass", "HomeAssistant", node.name),
                    )

    def _check_module_function(self, node: nodes.FunctionDef) -> None:
        table = dict(_MODULE_FUNCTIONS.get(self._platform or "", {}))
        if self._platform in ENTITY_PLATFORMS:
            table["async_setup_entry"] = _SETUP_ENTRY_PLATFORM
        signature = table.get(node.name)
        if signature is None:
            return
        positional = _positional(node)
        for index, expected in enumerate(signature.args):
            if index >= len(positional):
                self.add_message(
                    "home-assistant-argument-type",
                    node=node,
                    args=(index + 1, expected, node.name),
                )
                continue
            arg, note = positional[index]
            if arg.name == "hass":
                continue  # checked as the common argument
            if not ann.narrower(ann.members(note), ann.members(_parse(expected))):
                self.add_message(
                    "home-assistant-argument-type",
                    node=arg,
                    args=(index + 1, expected, node.name),
                )
        returns = [m for r in signature.returns for m in ann.members(_parse(r))]
        if not _returns_fit(node, returns):
            self.add_message(
                "home-assistant-return-type",
                node=node,
                args=(" or ".join(signature.returns), node.name),
            )

    def _check_method(self, node: nodes.FunctionDef, cls: nodes.ClassDef) -> None:
        if node.name == "__init__":
            if ann.members(node.returns) != ["None"]:
                self.add_message(
                    "home-assistant-return-type", node=node, args=("None", node.name)
                )
            return
        bases = ha_ancestors(cls)
        base = _base_method(bases, node.name)
        if base is None:
            if node.name.startswith("async_step_"):
                self._check_flow_step(node, bases)
            return
        first = 0 if node.type == "staticmethod" else 1  # skip self / cls
        for index, ((arg, note), (_, base_note)) in enumerate(
            zip(_positional(node), _positional(base), strict=False)
        ):
            if index < first or base_note is None:
                continue  # Home Assistant did not annotate it
            theirs = ann.members(base_note)
            ours = ann.members(note)
            # An override may take more than the base, never less.
            if not ours or not ann.narrower(theirs, ours):
                self.add_message(
                    "home-assistant-argument-type",
                    node=arg,
                    args=(arg.name, base_note.as_string(), node.name),
                )
        if base.returns is not None and not _returns_fit(
            node, ann.members(base.returns)
        ):
            self.add_message(
                "home-assistant-return-type",
                node=node,
                args=(base.returns.as_string(), node.name),
            )

    def _check_flow_step(
        self, node: nodes.FunctionDef, bases: list[nodes.ClassDef]
    ) -> None:
        for base in bases:
            expected = _FLOW_RESULTS.get(base.qname())
            if expected is None:
                continue
            if ann.members(node.returns) != [expected]:
                self.add_message(
                    "home-assistant-return-type", node=node, args=(expected, node.name)
                )
            return


def _parse(expression: str) -> nodes.NodeNG:
    import astroid

    return astroid.extract_node(expression)


def _returns_fit(node: nodes.FunctionDef, expected: list[str]) -> bool:
    """Whether the return annotation is ``expected`` or narrower.

    A class of ours that derives from an expected one (``MyOptionsFlow`` for
    ``OptionsFlow``) is narrower too.
    """
    if node.returns is None:
        return False
    for _, member_node in _union_nodes(node.returns):
        if ann.narrower(ann.members(member_node), expected):
            continue
        if not any(
            ann.accepts(e, name) for e in expected for name in _bases(member_node)
        ):
            return False
    return True


def _union_nodes(node: nodes.NodeNG) -> list[tuple[str, nodes.NodeNG]]:
    if isinstance(node, nodes.BinOp) and node.op == "|":
        return _union_nodes(node.left) + _union_nodes(node.right)
    return [(ann.text(node), node)]


def _bases(node: nodes.NodeNG) -> list[str]:
    """The names of the classes a class annotation derives from."""
    if not isinstance(node, (nodes.Name, nodes.Attribute)):
        return []
    try:
        classes = [c for c in node.infer() if isinstance(c, nodes.ClassDef)]
    except Exception:  # astroid inference may fail in many ways
        return []
    return [a.name for c in classes for a in c.ancestors()]


def _base_method(bases: list[nodes.ClassDef], name: str) -> nodes.FunctionDef | None:
    for base in bases:
        for found in base.locals.get(name, ()):
            if isinstance(found, nodes.FunctionDef):
                return found
        if name in base.locals:
            return None  # an attribute, not a method: nothing to compare
    return None


def register(linter: PyLinter) -> None:
    """Register the checker."""
    linter.register_checker(TypeHintChecker(linter))
