"""A development ``home-assistant.log`` a newcomer can trust.

``python -m simulator.logcheck config/home-assistant.log`` exits 1 and prints
the offending lines when the log holds a traceback, or any ERROR, CRITICAL or
WARNING line (of any logger, not only this integration's) other than Home
Assistant's notice that every custom integration gets. ``scripts/e2e`` runs it
on the log of ``scripts/develop``'s run: a default integration that fails to set
up, a missing package or a warning of ours fails CI instead of confusing the
next newcomer.
"""

from __future__ import annotations

from pathlib import Path
import re
import sys

# Every custom integration gets this notice; it is not a fault.
ALLOWED = (
    re.compile(
        r"We found a custom integration ttlock_gateway which has not been tested"
    ),
)
_LEVEL = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) ")


def problems(log: str) -> list[str]:
    """The lines a clean start must not have."""
    found: list[str] = []
    for line in log.splitlines():
        if line.startswith("Traceback (most recent call last)") or (
            _LEVEL.match(line) and not any(a.search(line) for a in ALLOWED)
        ):
            found.append(line)
    return found


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m simulator.logcheck HOME_ASSISTANT_LOG", file=sys.stderr)
        return 2
    path = Path(args[0])
    if not path.exists():
        print(f"logcheck: {path} does not exist", file=sys.stderr)
        return 1
    bad = problems(path.read_text("utf-8", errors="replace"))
    for line in bad:
        print(f"logcheck: {line}", file=sys.stderr)
    if bad:
        print(
            f"logcheck: {len(bad)} line(s) a clean start must not have", file=sys.stderr
        )
        return 1
    print("logcheck: no traceback, error or warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
