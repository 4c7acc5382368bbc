"""How often to list and to poll activity: push health and the API budget decide.

* Push healthy (events arrive as they happen): the lock list every 2 hours and
  the per-lock activity poll daily, as a safety net. Otherwise the documented
  schedules (seed 000): hourly and every 6 hours.
* The budget: when the month-end projection of the application's calls nears
  the budget, the list interval is stretched (3 times, then 6 times) before the cloud
  stops answering; the activity poll and user actions are never slowed by it.
  Levels switch with hysteresis, so a projection hovering at a threshold does
  not flip the schedule at every refresh.

See docs/budget.md for the numbers and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from .const import (
    ACTIVITY_INTERVAL,
    ACTIVITY_INTERVAL_PUSH,
    LOCK_LIST_INTERVAL,
    LOCK_LIST_INTERVAL_PUSH,
)

# List interval multipliers by budget level.
STRETCH: Final = (1, 3, 6)
# Projection / budget at which a level is entered (1, 2) ...
LEVEL_UP: Final = (0.80, 0.95)
# ... and below which it is left again.
LEVEL_DOWN: Final = (0.70, 0.85)
# The repair is raised at the first level's threshold and cleared below its exit.
REPAIR_AT: Final = LEVEL_UP[0]
REPAIR_CLEARED_BELOW: Final = LEVEL_DOWN[0]


def budget_level(current: int, ratio: float | None) -> int:
    """The stretch level for a projection ``ratio`` (None: no budget → 0)."""
    if ratio is None:
        return 0
    level = max(0, min(current, len(STRETCH) - 1))
    while level < len(LEVEL_UP) and ratio >= LEVEL_UP[level]:
        level += 1
    while level > 0 and ratio < LEVEL_DOWN[level - 1]:
        level -= 1
    return level


@dataclass(frozen=True, slots=True)
class Schedule:
    """The intervals in force and why."""

    list_interval: timedelta
    activity_interval: timedelta
    push_healthy: bool
    budget_level: int


def schedule_for(*, push_healthy: bool, level: int) -> Schedule:
    """The intervals for a push state and a budget level."""
    base = LOCK_LIST_INTERVAL_PUSH if push_healthy else LOCK_LIST_INTERVAL
    return Schedule(
        list_interval=base * STRETCH[max(0, min(level, len(STRETCH) - 1))],
        activity_interval=ACTIVITY_INTERVAL_PUSH if push_healthy else ACTIVITY_INTERVAL,
        push_healthy=push_healthy,
        budget_level=level,
    )
