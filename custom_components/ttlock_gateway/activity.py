"""What the coordinator remembers per lock: record ids seen, and when each value was true.

Every value shown for a lock carries the cloud time it comes from, so a late,
replayed or forged record can be told from a newer one:

- lock state: the record's cloud time (TTLock ``serverDate``, Tuya
  ``update_time``), our own action time, or the time of the list that said it;
- battery and online: likewise, a record changes them only when it is newer.

Record ids are remembered for a time window, not a count: a replay after any
number of other records is still recognised, and a record older than the window
cannot be told from a replay, so it is history (not announced, see
``LockCoordinator``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .providers.models import LockEvent

# Records stamped further ahead of the cloud's clock (ours: TTLock refuses any
# call whose ``date`` is more than 5 minutes off, so both agree) are not real.
FUTURE_TOLERANCE = timedelta(minutes=10)
# A sender that gives no time (Dding without ``time``): the same alarm again
# within this window is a repeat, later a new alarm.
NO_TIME_WINDOW = timedelta(minutes=1)
# Ids are remembered at least this long, and at least two activity intervals
# (a pushed record comes back with the next poll).
MIN_SEEN_WINDOW = timedelta(hours=24)
# A flood of distinct forged ids must not grow memory without bound: past this
# the oldest are forgotten and the window's start moves up to them.
MAX_SEEN_PER_LOCK = 5000


class SeenRecords:
    """Ids of records already applied, each with its cloud time."""

    __slots__ = ("_ids", "floor")

    def __init__(
        self,
        items: Iterable[tuple[str, datetime]] = (),
        floor: datetime | None = None,
    ) -> None:
        """Ids with their cloud times; ``floor`` raised by forgotten ids."""
        self._ids: dict[str, datetime] = dict(items)
        self.floor = floor

    def __len__(self) -> int:
        """How many ids are remembered."""
        return len(self._ids)

    def __iter__(self) -> Iterator[tuple[str, datetime]]:
        """(id, cloud time) pairs, for storage."""
        return iter(self._ids.items())

    def is_repeat(self, event: LockEvent, now: datetime) -> bool:
        """Whether ``event`` was applied before (a push, poll or replay of it)."""
        when = self._ids.get(event.event_id)
        if when is None:
            return False
        if not event.time_known:
            return now - when < NO_TIME_WINDOW
        return True

    def add(self, event: LockEvent, now: datetime) -> None:
        """Remember ``event`` (time-less ones by when they reached us)."""
        when = event.cloud_time if event.time_known else now
        self._ids.pop(event.event_id, None)
        self._ids[event.event_id] = when

    def horizon(self, window_start: datetime) -> datetime:
        """Records older than this cannot be told from replays."""
        if self.floor is not None and self.floor > window_start:
            return self.floor
        return window_start

    def prune(self, window_start: datetime) -> None:
        """Forget ids older than the window, and the oldest past the cap."""
        for event_id, when in list(self._ids.items()):
            if when < window_start:
                del self._ids[event_id]
        if len(self._ids) > MAX_SEEN_PER_LOCK:
            ordered = sorted(self._ids.items(), key=lambda item: item[1])
            cut = len(ordered) - MAX_SEEN_PER_LOCK
            for event_id, _when in ordered[:cut]:
                del self._ids[event_id]
            newest_forgotten = ordered[cut - 1][1]
            if self.floor is None or newest_forgotten > self.floor:
                self.floor = newest_forgotten
        if self.floor is not None and self.floor < window_start:
            self.floor = None


@dataclass(slots=True)
class LockActivity:
    """What we remember about one lock's records between polls and restarts."""

    # Start of the next activity poll's window (the last poll, less an overlap).
    last_time: datetime | None = None
    last_event: LockEvent | None = None
    # Cloud times of the current state, battery and connectivity values.
    state_time: datetime | None = None
    battery_time: datetime | None = None
    online_time: datetime | None = None
    # When the lock's details (passage mode, auto-lock time) were fetched.
    details_time: datetime | None = None
    # Values came from storage at setup and the cloud has not confirmed them yet.
    restored: bool = False
    seen: SeenRecords = field(default_factory=SeenRecords)


def is_newer(when: datetime, than: datetime | None) -> bool:
    """Whether a value from ``when`` replaces one from ``than`` (ties: the later one)."""
    return than is None or when >= than


def sane_time(when: datetime | None, now: datetime) -> datetime | None:
    """``when``, or None if it lies ahead of ``now`` (the clock was moved back)."""
    if when is None or when > now + FUTURE_TOLERANCE:
        return None
    return when
