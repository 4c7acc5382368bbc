"""Guest codes we created: durable uploads with retries, and the daily clean-up.

Every code the integration creates is recorded in a ``Store``
(``ttlock_gateway.<entry_id>.codes``). A code whose upload hits a transient
failure (gateway or lock offline or busy, timeout, 5xx, API quota) stays in the
record as ``queued`` and is tried again every ``retry_interval`` minutes until
``retry_attempts`` attempts (the first one included) were made. Before each
retry the lock's codes are listed: a code with the same digits (or, where the
cloud hides digits, the same name) and the same validity window counts as
landed, so a code is never uploaded twice, across restarts too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, TypedDict
import uuid

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import (
    CLEANUP_GRACE,
    CONF_CLEANUP_ALL,
    CONF_CLEANUP_INTERVAL,
    CONF_EXPOSE_CODES,
    CONF_RETRY_ATTEMPTS,
    CONF_RETRY_INTERVAL,
    DEFAULT_CLEANUP_INTERVAL,
    DEFAULT_RETRY_ATTEMPTS,
    DEFAULT_RETRY_INTERVAL,
    DOMAIN,
    EVENT_CODE_ADDED,
    EVENT_CODE_FAILED,
    LOGGER,
)
from .coordinator import LockCoordinator, TTLockGatewayConfigEntry
from .entity import translate_error
from .providers.models import (
    CodeKind,
    DuplicateCodeError,
    Lock,
    Passcode,
    ProviderError,
    RateLimitError,
    TransientError,
)

STORAGE_VERSION = 1
ISSUE_CODE_FAILED = "code_failed"
# Two windows are the same when they differ by less than this (the clouds round
# to the second, TTLock to the millisecond).
WINDOW_TOLERANCE = timedelta(seconds=60)
# After a restart an overdue retry waits at least this long, so set-up finishes.
MIN_RESTART_DELAY = 30.0

STATUS_ADDED = "added"
STATUS_QUEUED = "queued"
STATUS_FAILED = "failed"


class CodeRecord(TypedDict):
    """One code we created or are still trying to create (stored as is)."""

    id: str
    lock_id: str
    name: str
    code: str
    start: str
    end: str
    code_id: str | None
    status: str
    attempts: int
    next_attempt: str | None
    reason: str | None
    created: str


def is_transient(err: ProviderError) -> bool:
    """Whether an upload failure is worth queueing for a later retry."""
    return isinstance(err, TransientError | RateLimitError)


def window_matches(
    passcode: Passcode, start: datetime, end: datetime, *, tolerance: timedelta
) -> bool:
    """Whether a cloud code has the given validity window."""
    if passcode.start is None or passcode.end is None:
        return False
    return (
        abs(passcode.start - start) < tolerance and abs(passcode.end - end) < tolerance
    )


def find_landed(codes: Iterable[Passcode], record: CodeRecord) -> Passcode | None:
    """The cloud code a record became, if it landed (digits, else name, + window)."""
    start = parse_time(record["start"])
    end = parse_time(record["end"])
    for passcode in codes:
        if record["code_id"] and passcode.code_id == record["code_id"]:
            return passcode
        same = (
            passcode.code == record["code"]
            if passcode.code is not None
            else passcode.name == record["name"]
        )
        if same and window_matches(passcode, start, end, tolerance=WINDOW_TOLERANCE):
            return passcode
    return None


def parse_time(value: str) -> datetime:
    """A stored ISO time (always UTC-aware)."""
    parsed = dt_util.parse_datetime(value)
    if parsed is None:
        raise ValueError(value)
    return dt_util.as_utc(parsed)


class CodeQueue:
    """Record of the codes we created; queue of those not delivered yet."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: TTLockGatewayConfigEntry,
        coordinator: LockCoordinator,
    ) -> None:
        """Read the schedules from the entry's options."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        options = entry.options
        self.retry_interval = timedelta(
            minutes=options.get(CONF_RETRY_INTERVAL, DEFAULT_RETRY_INTERVAL)
        )
        self.retry_attempts = max(
            1, int(options.get(CONF_RETRY_ATTEMPTS, DEFAULT_RETRY_ATTEMPTS))
        )
        self.cleanup_interval = timedelta(
            minutes=options.get(CONF_CLEANUP_INTERVAL, DEFAULT_CLEANUP_INTERVAL)
        )
        self.cleanup_all = bool(options.get(CONF_CLEANUP_ALL, False))
        self.records: dict[str, CodeRecord] = {}
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}.codes"
        )
        self._timers: dict[str, CALLBACK_TYPE] = {}
        self._unsub_cleanup: CALLBACK_TYPE | None = None
        # One retry or upload per record at a time.
        self._busy: set[str] = set()
        self._cleanup_lock = asyncio.Lock()
        self._stopped = False

    # ------------------------------------------------------------- lifecycle

    async def async_start(self) -> None:
        """Load the records, schedule pending retries and the clean-up."""
        stored = await self._store.async_load() or {}
        for item in stored.get("codes", []):
            self.records[item["id"]] = item
        now = dt_util.utcnow()
        for record in self.records.values():
            if record["status"] != STATUS_QUEUED:
                continue
            due = parse_time(record["next_attempt"]) if record["next_attempt"] else now
            delay = max((due - now).total_seconds(), MIN_RESTART_DELAY)
            self._schedule(record["id"], delay)
        self._unsub_cleanup = async_track_time_interval(
            self.hass,
            self._cleanup_due,
            self.cleanup_interval,
            name=f"{DOMAIN} code clean-up",
            cancel_on_shutdown=True,
        )

    async def async_stop(self) -> None:
        """Cancel timers and write the records now."""
        self._stopped = True
        for cancel in self._timers.values():
            cancel()
        self._timers.clear()
        if self._unsub_cleanup is not None:
            self._unsub_cleanup()
            self._unsub_cleanup = None
        await self._store.async_save(self._data())

    @callback
    def _data(self) -> dict[str, Any]:
        return {"codes": list(self.records.values())}

    async def _async_save(self) -> None:
        await self._store.async_save(self._data())

    def _schedule(self, record_id: str, delay: float) -> None:
        if cancel := self._timers.pop(record_id, None):
            cancel()

        @callback
        def _due(_now: datetime) -> None:
            self._timers.pop(record_id, None)
            if self._stopped:
                return
            self.entry.async_create_background_task(
                self.hass, self._async_retry(record_id), f"{DOMAIN} code retry"
            )

        self._timers[record_id] = async_call_later(self.hass, delay, _due)

    # ------------------------------------------------------------- queries

    def records_for_lock(self, lock_id: str) -> list[CodeRecord]:
        """Our records for one lock, oldest first."""
        return [r for r in self.records.values() if r["lock_id"] == lock_id]

    def own_code_ids(self, lock_id: str) -> set[str]:
        """Cloud ids of the codes we created on a lock."""
        return {
            r["code_id"]
            for r in self.records.values()
            if r["lock_id"] == lock_id and r["code_id"]
        }

    # ------------------------------------------------------------- adding

    async def async_add(
        self, lock: Lock, name: str, code: str, start: datetime, end: datetime
    ) -> CodeRecord:
        """Upload a code; queue it on a transient failure.

        Raises a translated ``HomeAssistantError`` for failures that a retry
        cannot fix (invalid request, storage full, not supported, auth).
        """
        now = dt_util.utcnow()
        record = CodeRecord(
            id=uuid.uuid4().hex,
            lock_id=lock.lock_id,
            name=name,
            code=code,
            start=dt_util.as_utc(start).isoformat(),
            end=dt_util.as_utc(end).isoformat(),
            code_id=None,
            status=STATUS_QUEUED,
            attempts=1,
            next_attempt=None,
            reason=None,
            created=now.isoformat(),
        )
        self._busy.add(record["id"])
        try:
            try:
                passcode = await self.coordinator.provider.async_add_code(
                    lock.lock_id, name, code, dt_util.as_utc(start), dt_util.as_utc(end)
                )
            except ProviderError as err:
                if not is_transient(err):
                    raise translate_error(err, lock.name) from err
                LOGGER.info(
                    "Code %r for %s queued: %s", name, lock.name, type(err).__name__
                )
                reason = err.message or type(err).__name__
                record["reason"] = reason
                if self.retry_attempts <= 1:
                    self.records[record["id"]] = record
                    self._fail(record, reason)
                    await self._async_save()
                    return record
                record["next_attempt"] = (now + self.retry_interval).isoformat()
                self.records[record["id"]] = record
                await self._async_save()
                self._schedule(record["id"], self.retry_interval.total_seconds())
                return record
            self.records[record["id"]] = record
            self._landed(record, passcode.code_id)
            await self._async_save()
            return record
        finally:
            self._busy.discard(record["id"])

    async def _async_retry(self, record_id: str) -> None:
        """One more attempt at a queued code."""
        record = self.records.get(record_id)
        if record is None or record["status"] != STATUS_QUEUED:
            return
        if record_id in self._busy:
            return
        self._busy.add(record_id)
        try:
            await self._async_attempt(record)
        finally:
            self._busy.discard(record_id)
        if not self._stopped:
            await self._async_save()

    async def _async_attempt(self, record: CodeRecord) -> None:
        provider = self.coordinator.provider
        lock_id = record["lock_id"]
        start, end = parse_time(record["start"]), parse_time(record["end"])
        if end <= dt_util.utcnow():
            self._fail(record, "the code's validity ended before it could be delivered")
            return
        record["attempts"] += 1
        try:
            codes = await provider.async_list_codes(lock_id)
            if landed := find_landed(codes, record):
                LOGGER.debug("Queued code %r had landed already", record["name"])
                self._landed(record, landed.code_id)
                return
            try:
                passcode = await provider.async_add_code(
                    lock_id, record["name"], record["code"], start, end
                )
            except DuplicateCodeError:
                # It landed between the listing and the upload.
                codes = await provider.async_list_codes(lock_id)
                landed = find_landed(codes, record)
                self._landed(record, landed.code_id if landed else None)
                return
        except ProviderError as err:
            reason = err.message or type(err).__name__
            record["reason"] = reason
            if not is_transient(err):
                self._fail(record, reason)
                return
            if record["attempts"] >= self.retry_attempts:
                self._fail(record, reason)
                return
            record["next_attempt"] = (
                dt_util.utcnow() + self.retry_interval
            ).isoformat()
            if not self._stopped:
                self._schedule(record["id"], self.retry_interval.total_seconds())
            return
        self._landed(record, passcode.code_id)

    def _lock_name(self, lock_id: str) -> str:
        data = self.coordinator.current_data
        if data is not None and (lock := data.locks.get(lock_id)):
            return lock.name
        return lock_id

    def _event_payload(self, record: CodeRecord) -> dict[str, Any]:
        lock_id = record["lock_id"]
        payload: dict[str, Any] = {
            "entity_id": er.async_get(self.hass).async_get_entity_id(
                "lock", DOMAIN, self.coordinator.device_key(lock_id)
            ),
            "lock_id": lock_id,
            "lock_name": self._lock_name(lock_id),
            "name": record["name"],
            "code_id": record["code_id"],
            "start": record["start"],
            "end": record["end"],
            "attempts": record["attempts"],
        }
        if self.entry.options.get(CONF_EXPOSE_CODES):
            payload["code"] = record["code"]
        return payload

    def _landed(self, record: CodeRecord, code_id: str | None) -> None:
        record["status"] = STATUS_ADDED
        record["code_id"] = code_id
        record["next_attempt"] = None
        record["reason"] = None
        self.hass.bus.async_fire(EVENT_CODE_ADDED, self._event_payload(record))
        ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(record))

    def _fail(self, record: CodeRecord, reason: str) -> None:
        record["status"] = STATUS_FAILED
        record["next_attempt"] = None
        record["reason"] = reason
        LOGGER.warning(
            "Code %r for %s could not be delivered after %s attempts: %s",
            record["name"],
            self._lock_name(record["lock_id"]),
            record["attempts"],
            reason,
        )
        self.hass.bus.async_fire(
            EVENT_CODE_FAILED, {**self._event_payload(record), "reason": reason}
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id(record),
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_CODE_FAILED,
            translation_placeholders={
                "lock": self._lock_name(record["lock_id"]),
                "name": record["name"],
                "reason": reason,
                "attempts": str(record["attempts"]),
            },
        )

    def _issue_id(self, record: CodeRecord) -> str:
        return f"{ISSUE_CODE_FAILED}_{record['id']}"

    # ------------------------------------------------------------- removal

    async def async_forget(self, record_ids: Iterable[str]) -> None:
        """Drop records (a queued one is cancelled: it will not be sent)."""
        for record_id in record_ids:
            if cancel := self._timers.pop(record_id, None):
                cancel()
            if record := self.records.pop(record_id, None):
                ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(record))
        await self._async_save()

    @callback
    def _cleanup_due(self, _now: datetime) -> None:
        self.entry.async_create_background_task(
            self.hass, self.async_cleanup(), f"{DOMAIN} code clean-up"
        )

    async def async_cleanup(self) -> list[tuple[str, str]]:
        """Delete codes that ended more than ``CLEANUP_GRACE`` ago.

        Returns the (lock id, code id) pairs deleted.
        """
        async with self._cleanup_lock:
            return await self._async_cleanup()

    async def _async_cleanup(self) -> list[tuple[str, str]]:
        data = self.coordinator.current_data
        if data is None:
            return []
        cutoff = dt_util.utcnow() - CLEANUP_GRACE
        provider = self.coordinator.provider
        # Our own records past the cutoff that never landed are simply dropped.
        stale = [
            r["id"]
            for r in self.records.values()
            if r["status"] != STATUS_ADDED and parse_time(r["end"]) < cutoff
        ]
        if self.cleanup_all:
            lock_ids = [
                lock.lock_id for lock in data.locks.values() if lock.capabilities.codes
            ]
        else:
            lock_ids = sorted(
                {
                    r["lock_id"]
                    for r in self.records.values()
                    if r["status"] == STATUS_ADDED
                    and parse_time(r["end"]) < cutoff
                    and r["lock_id"] in data.locks
                }
            )
        deleted: list[tuple[str, str]] = []
        for lock_id in lock_ids:
            own = self.own_code_ids(lock_id)
            try:
                codes = await provider.async_list_codes(lock_id)
            except ProviderError as err:
                LOGGER.debug(
                    "Clean-up of lock %s skipped: %s", lock_id, type(err).__name__
                )
                continue
            listed = {c.code_id for c in codes}
            for passcode in codes:
                if passcode.kind is not CodeKind.PERIOD or passcode.end is None:
                    continue
                if passcode.end >= cutoff:
                    continue
                if not self.cleanup_all and passcode.code_id not in own:
                    continue
                try:
                    await provider.async_delete_code(lock_id, passcode.code_id)
                except ProviderError as err:
                    LOGGER.debug(
                        "Expired code on lock %s not deleted: %s",
                        lock_id,
                        type(err).__name__,
                    )
                    continue
                deleted.append((lock_id, passcode.code_id))
            gone = {code_id for lid, code_id in deleted if lid == lock_id}
            for record in self.records_for_lock(lock_id):
                if (
                    record["status"] != STATUS_ADDED
                    or parse_time(record["end"]) >= cutoff
                ):
                    continue
                code_id = record["code_id"]
                if code_id and code_id not in listed:
                    # Some clouds (Tuya) list only codes still valid: delete ours
                    # by id; an unknown id means someone deleted it already.
                    try:
                        await provider.async_delete_code(lock_id, code_id)
                    except ProviderError as err:
                        if is_transient(err):
                            continue  # try again at the next clean-up
                    else:
                        deleted.append((lock_id, code_id))
                    gone.add(code_id)
                if not code_id or code_id in gone:
                    stale.append(record["id"])
        if stale:
            await self.async_forget(stale)
        if deleted:
            LOGGER.info("Clean-up deleted %s expired codes", len(deleted))
        return deleted
