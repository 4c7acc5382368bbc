"""Home Assistant's integration rules as pylint checkers, for a custom integration.

Home Assistant core enforces these rules on its own integrations with pylint
plugins kept in its repository (``pylint/plugins``; not published as a package,
and written for module paths ``homeassistant.components.<domain>``). These
checkers are this project's own implementation of the same rules for
``custom_components.<domain>``, under core's message names
(``home-assistant-...``) so a reader can look each rule up in core's
documentation. ``docs/develop.md`` lists which of core's rules run here and
which do not, with the reason.

Expected types come from the Home Assistant installed beside pylint where they
can (the base classes' own annotations, ``homeassistant.const.Platform``), so a
new Home Assistant release moves the rules with it.
"""

from __future__ import annotations

from pylint.lint import PyLinter

from . import (
    actions,
    entities,
    exception_translations,
    flows,
    imports,
    logger,
    misc,
    modules,
    now,
    type_hints,
)


def register(linter: PyLinter) -> None:
    """Register every checker (pylint's plugin entry point)."""
    for module in (
        actions,
        entities,
        exception_translations,
        flows,
        imports,
        logger,
        misc,
        modules,
        now,
        type_hints,
    ):
        module.register(linter)
