"""Home Assistant's integration rules (scripts/pylint_plugins) find what they should.

``tests/pylint_fixtures/custom_components/lintdemo`` is a small integration with
one mistake per rule, each marked on its line with ``# expect: <message>``
(repeated when a line has it more than once), next to the correct forms the
rules must accept (a narrower return type, a typed config entry, a helper that
raises the translated error, the Home Assistant-free providers/ layer). The
test lints it with the project's pylintrc, in a subprocess as scripts/test does,
and compares every message with the marks: a rule that stops firing, fires on
correct code, or crashes fails here.
"""

from __future__ import annotations

from collections import Counter
import json
from pathlib import Path
import re
import subprocess
import sys

REPO = Path(__file__).resolve().parent.parent
# lintdemo: one mistake per rule; lintbare: claims diagnostics without the module.
FIXTURE = REPO / "tests" / "pylint_fixtures" / "custom_components"
RCFILE = REPO / "scripts" / "pylint_plugins" / "pylintrc"
_EXPECT = re.compile(r"#\s*expect:\s*(.+)$")


def _expected() -> Counter[tuple[str, int, str]]:
    marks: Counter[tuple[str, int, str]] = Counter()
    for path in sorted(FIXTURE.rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if found := _EXPECT.search(line):
                for symbol in found.group(1).split(","):
                    marks[(rel, number, symbol.strip())] += 1
    return marks


def _lint(target: Path) -> tuple[int, list[dict[str, object]]]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pylint",
            "--rcfile",
            str(RCFILE),
            "--output-format=json2",
            str(target.relative_to(REPO)),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)["messages"]


def test_each_rule_reports_its_marked_lines_and_nothing_else() -> None:
    """The fixture's messages are exactly its marks."""
    status, messages = _lint(FIXTURE)
    # pylint's exit status: 1 fatal, 32 usage error (a crashed checker or a bad rcfile).
    assert status & (1 | 32) == 0, messages
    got: Counter[tuple[str, int, str]] = Counter(
        (str(m["path"]), int(str(m["line"])), str(m["symbol"])) for m in messages
    )
    expected = _expected()
    assert len(expected) > 50  # the marks themselves were read
    missing = expected - got
    unexpected = got - expected
    assert not missing, f"not reported: {sorted(missing)}"
    assert not unexpected, f"reported without a mark: {sorted(unexpected)}"


def test_every_message_of_the_plugin_is_exercised() -> None:
    """No rule of the plugin goes untested by the fixture."""
    sys.path.insert(0, str(REPO / "scripts" / "pylint_plugins"))
    try:
        import hass_checkers
        from pylint.lint import PyLinter

        linter = PyLinter()
        hass_checkers.register(linter)
        symbols = {
            message.symbol
            for checker in linter.get_checkers()
            if checker.name.startswith("home_assistant")
            for message in checker.messages
        }
    finally:
        sys.path.remove(str(REPO / "scripts" / "pylint_plugins"))
    marked = {symbol for _, _, symbol in _expected()}
    assert symbols - marked == set()
    assert marked - symbols == set()
