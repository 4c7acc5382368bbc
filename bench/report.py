"""Print bench-results/*.json as a table next to the targets; write summary.json."""

from __future__ import annotations

import json
from pathlib import Path
import platform
import sys
from typing import Any

RESULTS = Path(__file__).resolve().parent.parent / "bench-results"
ORDER = ["calls_per_day", "full_refresh", "webhook", "push", "action", "setup", "codes"]


def verdict(row: dict[str, Any]) -> str:
    """ok / MISS / blank when the figure has no target."""
    target = row.get("target")
    if target is None:
        return ""
    value = row["value"]
    met = value >= target if row.get("op") == ">=" else value <= target
    return "ok" if met else "MISS"


def main() -> int:
    """Print the table; exit 0 (misses are reported, not failures)."""
    rows: list[dict[str, Any]] = []
    for path in sorted(RESULTS.glob("*.json")):
        if path.name == "summary.json":
            continue
        rows.extend(json.loads(path.read_text()))
    if not rows:
        print("No results in bench-results/: did the benchmark run?")
        return 1
    rows.sort(
        key=lambda r: (
            ORDER.index(r["section"]) if r["section"] in ORDER else 99,
            r["provider"],
        )
    )
    header = f"{'provider':8} {'figure':62} {'value':>10} {'unit':9} {'target':>10}  "
    print()
    print(header)
    print("-" * len(header))
    section = None
    for row in rows:
        if row["section"] != section:
            if section is not None:
                print()
            section = row["section"]
        target = (
            f"{row['op']} {row['target']:g}" if row.get("target") is not None else ""
        )
        line = (
            f"{row['provider']:8} {row['metric'][:62]:62} {row['value']:>10g} "
            f"{row['unit']:9} {target:>10}  {verdict(row)}"
        )
        if row.get("note"):
            line += f"  ({row['note']})"
        print(line)
    summary = {
        "python": sys.version.split()[0],
        "machine": platform.platform(),
        "rows": rows,
    }
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    misses = [r for r in rows if verdict(r) == "MISS"]
    print(f"\n{len(rows)} figures, {len(misses)} target(s) missed.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
