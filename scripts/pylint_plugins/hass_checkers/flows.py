"""Config and options flows (core's config-flow checks).

- W7428 / W7431: a field of a config (options) flow form has no label in
  strings.json (``config.step.<step_id>.data.<field>``, ``options.step...``).
  The form's schema and step id are followed through local variables and one
  helper of the flow called with literals (``self._show("ttlock", schema)``);
  fields whose key cannot be read statically are not checked.
- W7438: ``async_show_form(step_id=...)`` in ``async_step_<x>`` names another step.
- W7434: an ``async_show_menu`` option without its ``async_step_<option>``.
- W7410: no ``async_step_reauth`` while quality_scale.yaml claims
  reauthentication-flow.
- W7407: a polling interval field (Home Assistant's rule: the integration picks
  the pace; quality scale appropriate-polling).
- W7408: a name field in a config flow (entries are renamed in the UI).
"""

from __future__ import annotations

from astroid import nodes
from pylint.checkers import BaseChecker
from pylint.lint import PyLinter

from .context import (
    ModuleInfo,
    const_str,
    derives_from,
    keyword,
    parse_module,
    rule_done,
    strings,
)

_CONFIG_FLOW = "homeassistant.config_entries.ConfigFlow"
_OPTIONS_FLOW = "homeassistant.config_entries.OptionsFlow"
_POLLING_FIELDS = frozenset(
    {"scan_interval", "update_interval", "poll_interval", "polling_interval"}
)
_MARKERS = frozenset({"Required", "Optional", "Exclusive", "Inclusive"})

Env = dict[str, nodes.NodeNG]


def _func_name(call: nodes.Call) -> str:
    func = call.func
    return (
        func.attrname
        if isinstance(func, nodes.Attribute)
        else getattr(func, "name", "")
    )


def _param_env(func: nodes.FunctionDef, call: nodes.Call) -> Env:
    """Parameters of ``func`` bound to the arguments of ``call`` (a method call)."""
    params = [a.name for a in func.args.args or []][1:]  # self
    env: Env = dict(zip(params, call.args, strict=False))
    for kw in call.keywords or ():
        if kw.arg:
            env[kw.arg] = kw.value
    return env


def schema_keys(node: nodes.NodeNG | None, env: Env, depth: int = 0) -> set[str]:
    """The field keys of a form schema expression that can be read statically."""
    if node is None or depth > 6:
        return set()
    if isinstance(node, nodes.Name):
        if node.name in env:
            return schema_keys(env[node.name], {}, depth + 1)
        try:
            _, assigns = node.lookup(node.name)
        except Exception:  # astroid lookups may fail in many ways
            return set()
        keys: set[str] = set()
        for assign in assigns:
            parent = assign.parent
            if (
                isinstance(parent, (nodes.Assign, nodes.AnnAssign))
                and parent.value is not None
            ):
                keys |= schema_keys(parent.value, env, depth + 1)
        return keys
    if isinstance(node, nodes.Call):
        name = _func_name(node)
        if name in {"Schema", "add_suggested_values_to_schema"} and node.args:
            return schema_keys(node.args[0], env, depth + 1)
        if name == "extend" and isinstance(node.func, nodes.Attribute) and node.args:
            return schema_keys(node.func.expr, env, depth + 1) | schema_keys(
                node.args[0], env, depth + 1
            )
        return set()
    if isinstance(node, nodes.Dict):
        keys = set()
        for key, _ in node.items:
            if isinstance(key, nodes.Call) and _func_name(key) in _MARKERS and key.args:
                value = const_str(key.args[0])
            else:
                value = const_str(key)
            if value is not None:
                keys.add(value)
        return keys
    return set()


class FlowsChecker(BaseChecker):
    """Core's config-flow checks, for a custom integration."""

    name = "home_assistant_flows"
    msgs = {
        "W7428": (
            "Config flow field '%s' of step '%s' has no label in strings.json",
            "home-assistant-config-flow-field-not-translated",
            "The form would show the bare key.",
        ),
        "W7431": (
            "Options flow field '%s' of step '%s' has no label in strings.json",
            "home-assistant-options-flow-field-not-translated",
            "The form would show the bare key.",
        ),
        "W7438": (
            "Step id '%s' should be '%s', the step method it is shown from",
            "home-assistant-step_id-match-method",
            "A submitted form comes back to async_step_<step_id>.",
        ),
        "W7434": (
            "Menu option '%s' has no async_step_%s",
            "home-assistant-config-flow-menu-missing-step",
            "Choosing the option would fail.",
        ),
        "W7410": (
            "Config flow should implement async_step_reauth",
            "home-assistant-missing-reauthentication-flow",
            "quality_scale.yaml claims reauthentication-flow.",
        ),
        "W7407": (
            "Flow field '%s' is a polling interval",
            "home-assistant-config-flow-polling-field",
            "The integration picks the pace (appropriate-polling).",
        ),
        "W7408": (
            "Config flow field '%s' is a name",
            "home-assistant-config-flow-name-field",
            "Entries and devices are renamed in the UI.",
        ),
    }

    _info: ModuleInfo | None = None

    def visit_module(self, node: nodes.Module) -> None:
        """Note whether the module is the integration's."""
        self._info = parse_module(node)

    def visit_classdef(self, node: nodes.ClassDef) -> None:
        """Check one flow class."""
        info = self._info
        if info is None:
            return
        if derives_from(node, _CONFIG_FLOW):
            section = "config"
        elif derives_from(node, _OPTIONS_FLOW):
            section = "options"
        else:
            return
        if (
            section == "config"
            and rule_done(info, "reauthentication-flow")
            and "async_step_reauth" not in node.locals
        ):
            self.add_message("home-assistant-missing-reauthentication-flow", node=node)
        for method in node.mymethods():
            for call in method.nodes_of_class(nodes.Call):
                name = _func_name(call)
                if name == "async_show_form":
                    self._check_form(node, method, call, section, info)
                elif name == "async_show_menu":
                    self._check_menu(node, call)

    def _check_form(
        self,
        cls: nodes.ClassDef,
        method: nodes.FunctionDef,
        call: nodes.Call,
        section: str,
        info: ModuleInfo,
    ) -> None:
        step_node = keyword(call, "step_id") or (call.args[0] if call.args else None)
        schema_node = keyword(call, "data_schema")
        uses: list[tuple[str | None, set[str]]] = []
        step = const_str(step_node)
        if step_node is None and method.name.startswith("async_step_"):
            step = method.name.removeprefix("async_step_")  # Home Assistant's default
        if step is not None or not isinstance(step_node, nodes.Name):
            uses.append((step, schema_keys(schema_node, {})))
            if (
                step is not None
                and method.name.startswith("async_step_")
                and step != method.name.removeprefix("async_step_")
            ):
                self.add_message(
                    "home-assistant-step_id-match-method",
                    node=call,
                    args=(step, method.name.removeprefix("async_step_")),
                )
        else:
            # A helper of the flow: follow its calls with literal step ids.
            for caller in cls.mymethods():
                for site in caller.nodes_of_class(nodes.Call):
                    if not (
                        isinstance(site.func, nodes.Attribute)
                        and site.func.attrname == method.name
                    ):
                        continue
                    env = _param_env(method, site)
                    site_step = const_str(env.get(step_node.name))
                    if site_step is not None:
                        uses.append((site_step, schema_keys(schema_node, env)))
        labels = strings(info).get(section, {}).get("step", {})
        for step_id, keys in uses:
            for key in sorted(keys):
                if key in _POLLING_FIELDS:
                    self.add_message(
                        "home-assistant-config-flow-polling-field",
                        node=call,
                        args=(key,),
                    )
                if key == "name" and section == "config":
                    self.add_message(
                        "home-assistant-config-flow-name-field", node=call, args=(key,)
                    )
                if step_id is None:
                    continue
                data = labels.get(step_id, {}).get("data", {})
                if key not in data:
                    self.add_message(
                        "home-assistant-config-flow-field-not-translated"
                        if section == "config"
                        else "home-assistant-options-flow-field-not-translated",
                        node=call,
                        args=(key, step_id),
                    )

    def _check_menu(self, cls: nodes.ClassDef, call: nodes.Call) -> None:
        options = keyword(call, "menu_options")
        if isinstance(options, nodes.Dict):
            elements = [k for k, _ in options.items]
        elif isinstance(options, (nodes.List, nodes.Tuple)):
            elements = list(options.elts)
        else:
            return
        for element in elements:
            option = const_str(element)
            if option is not None and f"async_step_{option}" not in cls.locals:
                self.add_message(
                    "home-assistant-config-flow-menu-missing-step",
                    node=call,
                    args=(option, option),
                )


def register(linter: PyLinter) -> None:
    """Register the checker."""
    linter.register_checker(FlowsChecker(linter))
