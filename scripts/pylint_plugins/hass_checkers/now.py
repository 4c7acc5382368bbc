"""Time from Home Assistant's clock (core's enforce-utcnow / now / naive-now).

``datetime.now(UTC)`` and friends bypass ``homeassistant.util.dt``, which tests
freeze and which knows the configured time zone:

- C7414: ``datetime.now(UTC)`` / ``datetime.now(timezone.utc)`` -> ``dt_util.utcnow()``;
- C7425: ``datetime.now(tz)`` -> ``dt_util.now(tz)``;
- C7427: ``datetime.now()`` (naive, local) -> ``dt_util.now()`` (or
  ``dt_util.naive_now()`` where a naive value is really wanted).

The provider layer (``providers/``) must not import Home Assistant (the project's
architecture rule), so it is exempt; pylintrc's ``ha-free-subpackages`` names it.
"""

from __future__ import annotations

from astroid import nodes
from pylint.checkers import BaseChecker
from pylint.lint import PyLinter

from .context import parse_module


def _is_datetime_now(call: nodes.Call) -> bool:
    func = call.func
    if not (isinstance(func, nodes.Attribute) and func.attrname == "now"):
        return False
    try:
        return any(
            # datetime re-exports the class of _pydatetime (or _datetime).
            isinstance(c, nodes.ClassDef)
            and c.name == "datetime"
            and c.root().name in {"datetime", "_pydatetime", "_datetime"}
            for c in func.expr.infer()
        )
    except Exception:  # astroid inference may fail in many ways
        return False


def _is_utc(node: nodes.NodeNG) -> bool:
    text = node.as_string()
    return text in {
        "UTC",
        "datetime.UTC",
        "timezone.utc",
        "datetime.timezone.utc",
        "dt_util.UTC",
    }


class NowChecker(BaseChecker):
    """Core's enforce-now checks, for a custom integration."""

    name = "home_assistant_now"
    msgs = {
        "C7414": (
            "Use dt_util.utcnow() instead of datetime.now(UTC)",
            "home-assistant-enforce-utcnow",
            "Home Assistant's clock is homeassistant.util.dt.",
        ),
        "C7425": (
            "Use dt_util.now(tz) instead of datetime.now(tz)",
            "home-assistant-enforce-now",
            "Home Assistant's clock is homeassistant.util.dt.",
        ),
        "C7427": (
            "Use dt_util.now() (aware) or dt_util.naive_now() instead of datetime.now()",
            "home-assistant-enforce-naive-now",
            "Home Assistant's clock is homeassistant.util.dt.",
        ),
    }
    options = (
        (
            "ha-free-subpackages",
            {
                "default": ("providers",),
                "type": "csv",
                "metavar": "<names>",
                "help": "Subpackages of the integration that must not import "
                "Home Assistant, so cannot use its clock.",
            },
        ),
    )

    _active = False

    def visit_module(self, node: nodes.Module) -> None:
        """The integration's modules, less the Home Assistant-free layer."""
        info = parse_module(node)
        self._active = info is not None and (
            info.subpackage not in self.linter.config.ha_free_subpackages
        )

    def visit_call(self, node: nodes.Call) -> None:
        """Check ``datetime.now(...)``."""
        if not self._active or not _is_datetime_now(node):
            return
        tz = (
            node.args[0]
            if node.args
            else next((k.value for k in node.keywords or () if k.arg == "tz"), None)
        )
        if tz is None:
            self.add_message("home-assistant-enforce-naive-now", node=node)
        elif _is_utc(tz):
            self.add_message("home-assistant-enforce-utcnow", node=node)
        else:
            self.add_message("home-assistant-enforce-now", node=node)


def register(linter: PyLinter) -> None:
    """Register the checker."""
    linter.register_checker(NowChecker(linter))
