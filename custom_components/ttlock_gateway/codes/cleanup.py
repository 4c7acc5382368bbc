"""The daily clean-up: codes whose window ended more than 24 hours ago go.

A code is removed only when two clean-ups a full interval apart both saw its
window ended, and the second saw it ended more than ``CLEANUP_GRACE`` ago. The
loop clock spaces the runs, so a wall clock that jumps days ahead for a while
never deletes a guest's valid code nor forgets a queued one.

- Ledger codes that reached the lock (or may have) become "absent" in the
  ledger: the reconciler deletes them and reports ``code_deleted`` with reason
  ``expired``. Ledger codes that never reached it are dropped.
- With ``cleanup_all_expired``, foreign period codes are adopted as absent
  records and deleted the same way; permanent, one-time and cyclic codes never.
- Tombstones (confirmed deleted codes) are forgotten after ``TOMBSTONE_TTL``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util

from ..const import CLEANUP_GRACE, LOGGER
from ..providers.models import CodeKind, ProviderError
from .events import clear_issues
from .model import CodeRecord

if TYPE_CHECKING:
    from .reconciler import Reconciler

# Deleted codes are remembered this long: "already deleted" answers, and a
# late record of a deleted code still names it.
TOMBSTONE_TTL = timedelta(days=30)
EXPIRED = "expired"


def _mark(record: CodeRecord) -> str:
    return f"code:{record.id}@{record.lock_id}"


async def async_cleanup(runner: Reconciler) -> None:
    """One clean-up run (see the module docstring)."""
    ledger = runner.ledger
    now = dt_util.utcnow()
    cutoff = now - CLEANUP_GRACE
    seen: set[str] = set()
    kick: set[str] = set()
    dropped = 0
    for record in list(ledger.records.values()):
        if record.tombstone:
            assert record.deleted_at is not None
            if record.deleted_at < now - TOMBSTONE_TTL and not record.recheck:
                del ledger.records[record.key]
            continue
        if record.revoked_at is not None:
            # A withdrawn offline code the lock accepted until its end: once
            # that is a clean-up grace past, nothing accepts it any more.
            if record.end is not None and record.end < cutoff:
                record.deleted_at = now
            continue
        if not record.present or record.end is None or record.end > now:
            continue
        mark = _mark(record)
        seen.add(mark)
        if record.end >= cutoff or mark not in ledger.ended_seen:
            continue
        if record.cloud_id or record.uncertain or record.job:
            # (A pending cloud job may still land it: deleted once it has.)
            record.present = False
            record.failed = False
            record.attempts = 0
            record.reason = EXPIRED
            kick.add(record.lock_id)
        else:
            # Never reached the lock: nothing to delete there.
            del ledger.records[record.key]
            clear_issues(runner.hass, record)
            dropped += 1
    if runner.cleanup_all and (data := runner.coordinator.current_data):
        for lock in data.locks.values():
            if not lock.capabilities.codes or runner.stopped:
                continue
            requested = dt_util.utcnow()
            try:
                codes = await runner.provider.async_list_codes(lock.lock_id)
            except ProviderError as err:
                LOGGER.debug(
                    "Clean-up of lock %s skipped: %s", lock.lock_id, type(err).__name__
                )
                # What the last run saw still counts at the next one.
                prefix = f"cloud:{lock.lock_id}:"
                seen |= {m for m in ledger.ended_seen if m.startswith(prefix)}
                continue
            ledger.note_listing(lock.lock_id, codes, requested)
            claimed = ledger.claimed(lock.lock_id)
            for passcode in codes:
                if (
                    passcode.kind is not CodeKind.PERIOD
                    # Being deleted already, revoked, never delivered or of
                    # an unknown phase: no second delete.
                    or not passcode.live
                    or passcode.end is None
                    or passcode.end > now
                    or passcode.code_id in claimed
                ):
                    continue
                mark = f"cloud:{lock.lock_id}:{passcode.code_id}"
                seen.add(mark)
                if passcode.end >= cutoff or mark not in ledger.ended_seen:
                    continue
                foreign = CodeRecord(
                    id=f"foreign.{passcode.code_id}",
                    lock_id=lock.lock_id,
                    name=passcode.name,
                    code=None,  # foreign digits are never stored
                    start=passcode.start,
                    end=passcode.end,
                    created=now,
                    present=False,
                    foreign=True,
                    cloud_id=passcode.code_id,
                    applied=1,
                    reason=EXPIRED,
                )
                ledger.records[foreign.key] = foreign
                kick.add(lock.lock_id)
    ledger.ended_seen = seen
    await ledger.async_save()
    if dropped:
        LOGGER.debug("Clean-up dropped %s codes that never reached a lock", dropped)
    for lock_id in sorted(kick):
        runner.kick(lock_id)
