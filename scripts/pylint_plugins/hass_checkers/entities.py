"""Entity classes (core's class-module, inheritance, super-call, quality-scale rules).

- C7411: a class lives where Home Assistant's layout puts it: a platform's
  entity (``LockEntity`` subclass) or entity description in that platform's
  module, a coordinator in ``coordinator.py``, an entity base class of several
  platforms in ``entity.py``.
- E7401: ``SensorEntity`` / ``NumberEntity`` with ``RestoreEntity`` instead of
  ``RestoreSensor`` / ``RestoreNumber`` (they restore the native value).
- E7404: ``async_added_to_hass`` overrides a base that does work and does not
  call ``super().async_added_to_hass()``.
- W7416: an entity class without ``_attr_has_entity_name = True`` (when
  quality_scale.yaml claims has-entity-name).
- W7423 / W7424: an entity class of a platform module that does not set a
  unique id (``self._attr_unique_id`` in ``__init__``, its own or a base class's
  of the integration, or a ``unique_id`` property), or sets a constant one at
  class level (when quality_scale.yaml claims entity-unique-id).
- W7425 / W7427: a unique id that contains the integration's domain or a
  platform's name as a segment (the registry keys ids by both already).
- W7449: a coordinator entity's ``available`` that ignores the coordinator
  (``super().available`` / ``last_update_success``): stale data looks live.
- W7451: a coordinator entity's ``async_update`` that fetches on its own instead
  of calling ``super().async_update()`` (not flagged: an empty one, or an
  entity that polls).
"""

from __future__ import annotations

import re

from astroid import nodes
from pylint.checkers import BaseChecker
from pylint.lint import PyLinter

from .context import (
    ENTITY,
    ENTITY_PLATFORMS,
    ModuleInfo,
    derives_from,
    ha_ancestors,
    parse_module,
    rule_done,
)

_COORDINATOR = "homeassistant.helpers.update_coordinator.DataUpdateCoordinator"
_DESCRIPTION = "homeassistant.helpers.entity.EntityDescription"
_SEGMENT = re.compile(r"[^_\-.:/]+")


def entity_platform(cls: nodes.ClassDef) -> str | None:
    """The platform whose entity or description class ``cls`` derives from."""
    for base in ha_ancestors(cls):
        parts = base.root().name.split(".")
        if (
            len(parts) >= 3
            and parts[:2] == ["homeassistant", "components"]
            and parts[2] in ENTITY_PLATFORMS
            and (
                base.name.endswith("Entity") or base.name.endswith("EntityDescription")
            )
        ):
            return parts[2]
    return None


def _own_classes(cls: nodes.ClassDef, info: ModuleInfo) -> list[nodes.ClassDef]:
    """``cls`` and its ancestors defined in the integration."""
    try:
        ancestors = list(cls.ancestors())
    except Exception:  # astroid inference may fail in many ways
        ancestors = []
    own = [cls]
    for ancestor in ancestors:
        parsed = parse_module(ancestor.root())
        if parsed is not None and parsed.domain == info.domain:
            own.append(ancestor)
    return own


def _unique_id_values(
    cls: nodes.ClassDef,
) -> tuple[list[nodes.NodeNG], list[nodes.NodeNG], bool]:
    """(class-level values, __init__ values, unique_id property) of one class."""
    class_level = [
        a.parent.value
        for a in cls.locals.get("_attr_unique_id", ())
        if isinstance(a, nodes.AssignName)
        and isinstance(a.parent, (nodes.Assign, nodes.AnnAssign))
        and a.parent.value is not None
    ]
    in_init: list[nodes.NodeNG] = []
    init = cls.locals.get("__init__", [None])[0]
    if isinstance(init, nodes.FunctionDef):
        for statement in init.body:  # top level: always runs
            if isinstance(statement, (nodes.Assign, nodes.AnnAssign)):
                targets = (
                    statement.targets
                    if isinstance(statement, nodes.Assign)
                    else [statement.target]
                )
                if any(
                    isinstance(t, nodes.AssignAttr) and t.attrname == "_attr_unique_id"
                    for t in targets
                ):
                    in_init.append(statement.value)
    prop = any(
        isinstance(f, nodes.FunctionDef) for f in cls.locals.get("unique_id", ())
    )
    return class_level, in_init, prop


def _literal_segments(value: nodes.NodeNG) -> list[str]:
    """The literal text segments of a unique-id expression (not of its tests)."""
    if isinstance(value, nodes.Const):
        return _SEGMENT.findall(value.value) if isinstance(value.value, str) else []
    if isinstance(value, nodes.JoinedStr):
        return [s for part in value.values for s in _literal_segments(part)]
    if isinstance(value, nodes.BinOp) and value.op == "+":
        return _literal_segments(value.left) + _literal_segments(value.right)
    if isinstance(value, nodes.IfExp):
        return _literal_segments(value.body) + _literal_segments(value.orelse)
    return []


class EntitiesChecker(BaseChecker):
    """Core's entity class checks, for a custom integration."""

    name = "home_assistant_entities"
    msgs = {
        "C7411": (
            "%s should be in %s",
            "home-assistant-enforce-class-module",
            "Home Assistant's layout: one module per platform, coordinator.py, entity.py.",
        ),
        "E7401": (
            "Base classes: %s",
            "home-assistant-invalid-inheritance",
            "A combination of base classes that loses state.",
        ),
        "E7404": (
            "%s does not call its base class's (super())",
            "home-assistant-missing-super-call",
            "The base class's work would not run.",
        ),
        "W7449": (
            "available ignores the coordinator (no super().available or "
            "last_update_success)",
            "home-assistant-coordinator-entity-available",
            "The entity would stay available with stale data after a failed update.",
        ),
        "W7451": (
            "async_update fetches on its own instead of asking the coordinator "
            "(super().async_update())",
            "home-assistant-coordinator-entity-async-update",
            "A requested update would bypass the coordinator.",
        ),
        "W7416": (
            "%s: no _attr_has_entity_name = True",
            "home-assistant-missing-has-entity-name",
            "Entities are named after their device (quality scale has-entity-name).",
        ),
        "W7423": (
            "%s: no unique id set in __init__, at class level or as a property",
            "home-assistant-missing-entity-unique-id",
            "Without a unique id the entity cannot be renamed or kept (entity-unique-id).",
        ),
        "W7424": (
            "%s: a constant _attr_unique_id shared by every instance",
            "home-assistant-entity-unique-id-static",
            "Every instance would share the id.",
        ),
        "W7425": (
            "Unique id of %s contains the integration's domain",
            "home-assistant-entity-unique-id-redundant-domain",
            "The registry keys unique ids by integration already.",
        ),
        "W7427": (
            "Unique id of %s contains the platform name '%s'",
            "home-assistant-entity-unique-id-redundant-platform",
            "The registry keys unique ids by platform already.",
        ),
    }

    _info: ModuleInfo | None = None

    def visit_module(self, node: nodes.Module) -> None:
        """Note the module's place in the integration."""
        self._info = parse_module(node)

    def visit_classdef(self, node: nodes.ClassDef) -> None:
        """Check one class of the integration."""
        info = self._info
        if info is None or not isinstance(node.parent, nodes.Module):
            return
        self._check_module(node, info)
        if not derives_from(node, ENTITY):
            return
        names = {a.name for a in ha_ancestors(node)}
        if "CoordinatorEntity" in names:
            self._check_available(node)
            self._check_async_update(node)
        for kind in ("Sensor", "Number"):
            if {
                "RestoreEntity",
                f"{kind}Entity",
            } <= names and f"Restore{kind}" not in names:
                self.add_message(
                    "home-assistant-invalid-inheritance",
                    node=node,
                    args=(
                        f"{kind}Entity and RestoreEntity should not be combined, please use Restore{kind}",
                    ),
                )
        if info.platform not in ENTITY_PLATFORMS or entity_platform(node) is None:
            return  # a base class, not an entity a platform adds
        own = _own_classes(node, info)
        if rule_done(info, "has-entity-name") and not self._has_entity_name(own):
            self.add_message(
                "home-assistant-missing-has-entity-name", node=node, args=(node.name,)
            )
        if rule_done(info, "entity-unique-id"):
            self._check_unique_id(node, own, info)

    def _check_module(self, node: nodes.ClassDef, info: ModuleInfo) -> None:
        if info.subpackage is not None:
            return
        expected: str | None = None
        if derives_from(node, _COORDINATOR):
            expected = "coordinator"
        elif (platform := entity_platform(node)) is not None:
            expected = platform
        elif derives_from(node, ENTITY) and not derives_from(node, _DESCRIPTION):
            expected = "entity"
        if expected is not None and info.platform != expected:
            self.add_message(
                "home-assistant-enforce-class-module",
                node=node,
                args=(node.name, f"{expected}.py"),
            )

    def _check_available(self, node: nodes.ClassDef) -> None:
        available = next((f for f in node.mymethods() if f.name == "available"), None)
        if available is None:
            return
        for attribute in available.nodes_of_class(nodes.Attribute):
            if attribute.attrname == "last_update_success" or (
                attribute.attrname == "available"
                and isinstance(attribute.expr, nodes.Call)
                and getattr(attribute.expr.func, "name", "") == "super"
            ):
                return
        returns = list(available.nodes_of_class(nodes.Return))
        if returns and all(
            isinstance(r.value, nodes.Const) and r.value.value is True for r in returns
        ):
            return  # deliberately always available
        self.add_message("home-assistant-coordinator-entity-available", node=available)

    def _check_async_update(self, node: nodes.ClassDef) -> None:
        update = next((f for f in node.mymethods() if f.name == "async_update"), None)
        if update is None:
            return
        if all(
            isinstance(s, nodes.Pass)
            or (isinstance(s, nodes.Expr) and isinstance(s.value, nodes.Const))
            for s in update.body
        ):
            return  # a push entity that cannot refresh on request
        for call in update.nodes_of_class(nodes.Call):
            func = call.func
            if (
                isinstance(func, nodes.Attribute)
                and func.attrname == "async_update"
                and isinstance(func.expr, nodes.Call)
                and getattr(func.expr.func, "name", "") == "super"
            ):
                return
        for cls in [node, *node.ancestors()]:
            for assign in cls.locals.get("_attr_should_poll", ()):
                value = getattr(assign.parent, "value", None)
                if (
                    isinstance(value, nodes.Const)
                    and value.value is True
                    and not cls.root().name.startswith("homeassistant.")
                ):
                    return  # the entity polls
        self.add_message("home-assistant-coordinator-entity-async-update", node=update)

    @staticmethod
    def _has_entity_name(own: list[nodes.ClassDef]) -> bool:
        for cls in own:
            for assign in cls.locals.get("_attr_has_entity_name", ()):
                value = getattr(assign.parent, "value", None)
                if isinstance(value, nodes.Const):
                    return value.value is True
            if "has_entity_name" in cls.locals:
                return True
        return False

    def _check_unique_id(
        self, node: nodes.ClassDef, own: list[nodes.ClassDef], info: ModuleInfo
    ) -> None:
        values: list[nodes.NodeNG] = []
        guaranteed = False
        for cls in own:
            class_level, in_init, prop = _unique_id_values(cls)
            for value in class_level:
                if isinstance(value, nodes.Const) and isinstance(value.value, str):
                    self.add_message(
                        "home-assistant-entity-unique-id-static",
                        node=node,
                        args=(node.name,),
                    )
            values.extend(class_level + in_init)
            if prop or any(
                not (isinstance(v, nodes.Const) and v.value is None)
                for v in class_level + in_init
            ):
                guaranteed = True
        if not guaranteed:
            self.add_message(
                "home-assistant-missing-entity-unique-id", node=node, args=(node.name,)
            )
        for value in values:
            if any(
                isinstance(n, nodes.Name) and n.name == "DOMAIN"
                for n in [value, *value.nodes_of_class(nodes.Name)]
            ) or info.domain in _literal_segments(value):
                self.add_message(
                    "home-assistant-entity-unique-id-redundant-domain",
                    node=node,
                    args=(node.name,),
                )
            for segment in _literal_segments(value):
                if segment in ENTITY_PLATFORMS:
                    self.add_message(
                        "home-assistant-entity-unique-id-redundant-platform",
                        node=node,
                        args=(node.name, segment),
                    )

    def visit_asyncfunctiondef(self, node: nodes.AsyncFunctionDef) -> None:
        """``async_added_to_hass`` calls its base when the base does work."""
        if self._info is None or node.name != "async_added_to_hass":
            return
        cls = node.parent
        if not isinstance(cls, nodes.ClassDef):
            return
        for call in node.nodes_of_class(nodes.Call):
            func = call.func
            if (
                isinstance(func, nodes.Attribute)
                and func.attrname == node.name
                and isinstance(func.expr, nodes.Call)
                and getattr(func.expr.func, "name", "") == "super"
            ):
                return
        for base in cls.ancestors():
            method = next((m for m in base.mymethods() if m.name == node.name), None)
            if method is None:
                continue
            body = [
                s
                for s in method.body
                if not (isinstance(s, nodes.Expr) and isinstance(s.value, nodes.Const))
            ]
            if body and not all(isinstance(s, nodes.Pass) for s in body):
                self.add_message(
                    "home-assistant-missing-super-call", node=node, args=(node.name,)
                )
            return


def register(linter: PyLinter) -> None:
    """Register the checker."""
    linter.register_checker(EntitiesChecker(linter))
