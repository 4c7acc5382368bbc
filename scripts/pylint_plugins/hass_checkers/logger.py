"""Log messages read like Home Assistant's (core's hass_logger rules).

- C7401: a message does not end with a period.
- C7402: a message above debug starts with a capital letter (a debug line may
  start with anything: an identifier, a value).
"""

from __future__ import annotations

from astroid import nodes
from pylint.checkers import BaseChecker
from pylint.lint import PyLinter

from .context import parse_module

_LOGGER_NAMES = frozenset({"_LOGGER", "LOGGER", "_logger", "logger"})
_LEVELS = frozenset(
    {"debug", "info", "warning", "error", "exception", "critical", "fatal", "log"}
)


class LoggerChecker(BaseChecker):
    """Core's home_assistant_logger, for a custom integration."""

    name = "home_assistant_logger"
    msgs = {
        "C7401": (
            "A log message ending in a period",
            "home-assistant-logger-period",
            "Home Assistant's log lines have no trailing period.",
        ),
        "C7402": (
            "A log message above debug starting in lower case",
            "home-assistant-logger-capital",
            "Home Assistant's log lines above debug start with a capital.",
        ),
    }

    _active = False

    def visit_module(self, node: nodes.Module) -> None:
        """Only the integration's modules."""
        self._active = parse_module(node) is not None

    def visit_call(self, node: nodes.Call) -> None:
        """Check ``_LOGGER.<level>("message", ...)``."""
        func = node.func
        if not (
            self._active
            and isinstance(func, nodes.Attribute)
            and func.attrname in _LEVELS
            and isinstance(func.expr, nodes.Name)
            and func.expr.name in _LOGGER_NAMES
        ):
            return
        args = node.args[1:] if func.attrname == "log" else node.args
        if not args or not isinstance(args[0], nodes.Const):
            return
        message = args[0].value
        if not isinstance(message, str) or not message:
            return
        if message.endswith(".") and not message.endswith(".."):
            self.add_message("home-assistant-logger-period", node=node)
        if func.attrname not in {"debug", "log"} and message[0].islower():
            self.add_message("home-assistant-logger-capital", node=node)


def register(linter: PyLinter) -> None:
    """Register the checker."""
    linter.register_checker(LoggerChecker(linter))
