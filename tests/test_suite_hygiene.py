"""Static checks on the test suite itself: patterns that make tests racy.

A plain function given to ``hass.bus.async_listen`` is run in the executor by
Home Assistant, so an assertion right after the event was fired races with it
(this made two tests fail about one run in two on a loaded machine). Listeners
in tests must be ``@callback`` so they run in the event loop, synchronously
with the fire.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent
SOURCES = sorted(
    [*TESTS.glob("*.py"), *(TESTS.parent / "bench").glob("*.py")],
)


def _callback_functions(tree: ast.Module) -> set[str]:
    """Names of functions defined with the @callback decorator."""
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and any(
            isinstance(dec, ast.Name) and dec.id == "callback"
            for dec in node.decorator_list
        )
    }


def _is_callback_wrapped(node: ast.expr, decorated: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in decorated
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "callback"
    )


def test_bus_listeners_in_tests_run_in_the_loop() -> None:
    offenders: list[str] = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        decorated = _callback_functions(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"async_listen", "async_listen_once"}
                and len(node.args) >= 2
                and not _is_callback_wrapped(node.args[1], decorated)
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == [], f"wrap the listener in callback(): {offenders}"


def test_no_sleep_based_waiting_in_tests() -> None:
    """Waiting on wall-clock time instead of an event is a race under load.

    A sleep that only paces data (a body sent in chunks) says so with a
    ``# pacing`` comment on its line.
    """
    offenders: list[str] = []
    for path in SOURCES:
        if path.name == Path(__file__).name:
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "sleep"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in {"time", "asyncio"}
                and node.args
                and not (
                    isinstance(node.args[0], ast.Constant) and node.args[0].value == 0
                )
                and "# pacing" not in lines[node.lineno - 1]
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == [], f"sleep-based waits: {offenders}"
