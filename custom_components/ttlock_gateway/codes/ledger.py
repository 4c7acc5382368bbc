"""The entry's code ledger: one object per config entry that outlives reloads.

The ledger is the single source of truth for the codes the integration
manages. It lives in ``hass.data`` (not in ``entry.runtime_data``, which a reload
replaces) so that a reload never has two ledgers writing one file: a service
call that started before the reload and one that starts after it both talk to
this object, and only this object writes ``ttlock_gateway.<entry_id>.codes``.

The cloud-facing work is done by the entry's current ``Reconciler``, attached
while the entry is loaded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN, LOGGER
from ..providers.models import CodePhase, OfflineRevocation, Passcode, ProviderError
from .model import (
    BadRecordError,
    CodeRecord,
    RecordKey,
    Status,
    parse_time,
    passcode_from_dict,
    passcode_to_dict,
    record_from_dict,
    record_to_dict,
)
from .store import LedgerStore, empty_data

if TYPE_CHECKING:
    from .reconciler import Reconciler

DATA_LEDGERS: HassKey[dict[str, CodeLedger]] = HassKey(f"{DOMAIN}_code_ledgers")

# Outcomes are written within this many seconds; intents are written at once.
SAVE_DELAY = 1.0


class WaitKind(StrEnum):
    """What a waiting service call asked for."""

    ADD = "add"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the attempt a service call waited for ended."""

    status: Status
    cloud_id: str | None = None
    reason: str | None = None
    # Set when the cloud refused the first attempt for good: nothing was stored.
    error: ProviderError | None = None
    # Whether the cloud says the lock has it (False: accepted, delivery pending).
    delivered: bool | None = None
    # An offline code withdrawn without a gateway: what the lock still accepts
    # and the clearing code the cloud gave, if any.
    revocation: OfflineRevocation | None = None


@dataclass(slots=True)
class Listing:
    """A lock's codes as last listed (digits only in memory, never stored)."""

    at: datetime
    codes: list[Passcode]
    # False for a listing read back from the file: its digits were not kept.
    with_digits: bool = True


def async_get_ledger(hass: HomeAssistant, entry_id: str) -> CodeLedger:
    """The entry's ledger, created on first use (then kept across reloads)."""
    ledgers = hass.data.setdefault(DATA_LEDGERS, {})
    if (ledger := ledgers.get(entry_id)) is None:
        ledger = ledgers[entry_id] = CodeLedger(hass, entry_id)
    return ledger


async def async_remove_ledger(hass: HomeAssistant, entry_id: str) -> None:
    """Forget the entry's ledger and delete its file (entry removed).

    Through the ledger's own ``Store`` when there is one: removing also cancels
    a pending delayed write, which would otherwise bring the file back.
    """
    ledger = hass.data.setdefault(DATA_LEDGERS, {}).pop(entry_id, None)
    store = ledger._store if ledger is not None else LedgerStore(hass, entry_id)
    await store.async_remove()


class CodeLedger:
    """Records, last listings and waiting service calls of one entry."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Empty until ``async_load``."""
        self.hass = hass
        self.entry_id = entry_id
        self.records: dict[RecordKey, CodeRecord] = {}
        self.listings: dict[str, Listing] = {}
        # Keys the last clean-up saw ended (a code goes after two sightings).
        self.ended_seen: set[str] = set()
        self.runner: Reconciler | None = None
        self._store = LedgerStore(hass, entry_id)
        self._load_lock = asyncio.Lock()
        self._loaded = False
        self._save_lock = asyncio.Lock()
        self._changes = 0
        self._written = 0
        self._waiters: dict[
            RecordKey, list[tuple[WaitKind, asyncio.Future[Outcome]]]
        ] = {}
        self._listeners: list[Callable[[], None]] = []

    # ------------------------------------------------------------ listeners

    @callback
    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` (a callback) after records changed; returns unsub.

        Every change is saved, so the saves are where listeners are told.
        """
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    # ------------------------------------------------------------ storage

    async def async_load(self) -> None:
        """Read the file once (migrating the request queue's)."""
        async with self._load_lock:
            if self._loaded:
                return
            stored = await self._store.async_load() or empty_data()
            bad = 0
            for item in stored.get("codes") or []:
                try:
                    record = record_from_dict(item)
                except BadRecordError:
                    bad += 1
                    continue
                self.records[record.key] = record
            for lock_id, item in (stored.get("listings") or {}).items():
                try:
                    self.listings[lock_id] = _listing_from_dict(lock_id, item)
                except BadRecordError:
                    bad += 1
            seen = stored.get("ended_seen") or []
            self.ended_seen = {key for key in seen if isinstance(key, str)}
            if bad:
                LOGGER.warning("%s unreadable entries in the code ledger skipped", bad)
            self._loaded = True

    @callback
    def _data(self) -> dict[str, Any]:
        return {
            "codes": [record_to_dict(r) for r in self.records.values()],
            "listings": {
                lock_id: {
                    "at": listing.at.isoformat(),
                    "codes": [passcode_to_dict(c) for c in listing.codes],
                }
                for lock_id, listing in self.listings.items()
            },
            "ended_seen": sorted(self.ended_seen),
        }

    async def async_save(self) -> None:
        """Write now: an intent must be on disk before its first cloud call.

        Concurrent callers (one per lock reconciling) share writes: a caller
        returns once a write that started after its call has finished, so N
        of them cost two writes, not N.
        """
        self._notify()
        self._changes += 1
        mine = self._changes
        async with self._save_lock:
            if self._written >= mine:
                return
            covers = self._changes
            await self._store.async_save(self._data())
            self._written = covers

    @callback
    def save_soon(self) -> None:
        """Write outcomes shortly (a crash before that only repeats a listing)."""
        self._notify()
        self._store.async_delay_save(self._data, SAVE_DELAY)

    # ------------------------------------------------------------ queries

    def for_lock(self, lock_id: str) -> list[CodeRecord]:
        """Every record of a lock, tombstones included, oldest first."""
        return sorted(
            (r for r in self.records.values() if r.lock_id == lock_id),
            key=lambda r: r.created,
        )

    def live_for_lock(self, lock_id: str) -> list[CodeRecord]:
        """A lock's records that are not confirmed deleted."""
        return [r for r in self.for_lock(lock_id) if not r.tombstone]

    def claimed(self, lock_id: str, *, but: CodeRecord | None = None) -> set[str]:
        """Cloud ids some live record of the lock stands for."""
        return {
            r.cloud_id
            for r in self.live_for_lock(lock_id)
            if r.cloud_id and r is not but
        }

    def find(self, lock_id: str, code_id: str) -> CodeRecord | None:
        """A lock's record by our id or by the cloud's, live ones first."""
        matches = [r for r in self.for_lock(lock_id) if code_id in (r.id, r.cloud_id)]
        matches.sort(key=lambda r: (r.tombstone, -r.created.timestamp()))
        return matches[0] if matches else None

    def owned_by(self, source: str) -> list[CodeRecord]:
        """The live records a booking sync of ``source`` owns."""
        return [
            r
            for r in self.records.values()
            if r.source == source and not r.tombstone and not r.foreign
        ]

    def taken_digits(self, lock_id: str) -> set[str]:
        """Digits in use on a lock: our live codes and the last listing's.

        A cancelled code still being looked for (its upload may land late)
        keeps its digits until the look is done: a new code with the same
        digits could otherwise be taken for the late one.
        """
        taken = {
            r.code
            for r in self.for_lock(lock_id)
            if r.code and not r.failed and (not r.tombstone or r.recheck)
        }
        if listing := self.listings.get(lock_id):
            # Revoked codes and those the lock never took are not on it; a
            # code being deleted still is, until the lock is reached.
            taken |= {
                c.code
                for c in listing.codes
                if c.code and c.phase not in (CodePhase.REVOKED, CodePhase.FAILED)
            }
        return taken

    # ------------------------------------------------------------ listings

    @callback
    def note_listing(
        self, lock_id: str, codes: list[Passcode], requested_at: datetime
    ) -> None:
        """Remember a listing and what it says about our records.

        Phases of absent records (a delete under way) are the reconciler's to
        judge (``Reconciler.observed``): gone, still deleting, or not taken.
        """
        self.listings[lock_id] = Listing(at=requested_at, codes=list(codes))
        by_id = {c.code_id: c for c in codes}
        seen: list[tuple[CodeRecord, CodePhase | None, Passcode | None]] = []
        # Tuya lists no offline passwords (only its MiniApp SDK does): an
        # offline code is "missing" only from a listing that shows offline codes.
        lists_offline = any(c.is_offline for c in codes)
        for record in self.live_for_lock(lock_id):
            if record.cloud_id is None:
                continue
            if record.is_offline and not lists_offline:
                continue
            listed = by_id.get(record.cloud_id)
            seen.append((record, record.phase, listed))
            if not record.present:
                continue
            if listed is not None:
                record.seen_at = requested_at
                record.phase = listed.phase
                record.missing_at = None
            elif (
                record.present
                and record.seen_at is not None
                and requested_at > record.seen_at
                and record.missing_at is None
            ):
                # Not re-added: the owner may have revoked it in the vendor app.
                record.missing_at = requested_at
        if self.runner is not None and not self.runner.stopped:
            self.runner.observed(lock_id, seen)

    # ------------------------------------------------------------ waiters

    def wait(self, key: RecordKey, kind: WaitKind) -> asyncio.Future[Outcome]:
        """A future settled when the next attempt for ``key`` ends."""
        future: asyncio.Future[Outcome] = self.hass.loop.create_future()
        waiters = [(k, f) for k, f in self._waiters.get(key, []) if not f.done()]
        waiters.append((kind, future))
        self._waiters[key] = waiters
        return future

    def waiting(self, key: RecordKey, kind: WaitKind) -> bool:
        """Whether a service call waits for this record's ``kind`` attempt."""
        return any(k is kind and not f.done() for k, f in self._waiters.get(key, []))

    @callback
    def settle(
        self, key: RecordKey, kinds: Iterable[WaitKind], outcome: Outcome
    ) -> None:
        """Answer the service calls waiting for ``key`` with one of ``kinds``."""
        wanted = set(kinds)
        waiters = self._waiters.get(key, [])
        keep = []
        for kind, future in waiters:
            if kind in wanted:
                if not future.done():
                    future.set_result(outcome)
            elif not future.done():
                keep.append((kind, future))
        if keep:
            self._waiters[key] = keep
        else:
            self._waiters.pop(key, None)

    @callback
    def settle_all(
        self, outcome: Callable[[CodeRecord | None, WaitKind], Outcome]
    ) -> None:
        """Answer every waiting call from the records as they are now."""
        for key, waiters in list(self._waiters.items()):
            record = self.records.get(key)
            for kind, future in waiters:
                if not future.done():
                    future.set_result(outcome(record, kind))
        self._waiters.clear()


def _listing_from_dict(lock_id: str, item: Any) -> Listing:
    if not isinstance(item, dict) or not isinstance(item.get("codes"), list):
        raise BadRecordError("listing")

    at = parse_time(item.get("at"), optional=False)
    assert at is not None
    return Listing(
        at=at,
        codes=[passcode_from_dict(lock_id, c) for c in item["codes"]],
        with_digits=False,
    )
