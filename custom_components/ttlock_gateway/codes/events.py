"""What the ledger tells Home Assistant: bus events, repairs, and named lock events.

Bus events (digits only with the ``expose_codes`` option):
``ttlock_gateway_code_added`` (the cloud accepted the code; ``delivered`` says
whether the lock has it), ``_code_delivered`` (a code added undelivered is on
the lock now), ``_code_updated``,
``_code_deleted`` (confirmed gone), ``_code_failed`` (given up) and
``_code_used`` (a ledger code opened the door; ``first_use`` the first time:
"the guest arrived").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_EXPOSE_CODES,
    DOMAIN,
    EVENT_CODE_ADDED,
    EVENT_CODE_DELETED,
    EVENT_CODE_DELIVERED,
    EVENT_CODE_FAILED,
    EVENT_CODE_NOT_USED,
    EVENT_CODE_UPDATED,
    EVENT_CODE_USED,
    LOGGER,
)
from ..coordinator import LockCoordinator, TTLockGatewayConfigEntry
from ..providers.models import CodePhase, EventType, LockEvent
from .ledger import CodeLedger
from .model import CodeRecord

# How long after its deletion a record can still be a deleted code's use.
DELETED_GRACE = timedelta(hours=1)
ISSUE_CODE_FAILED = "code_failed"
ISSUE_CODE_UPDATE_FAILED = "code_update_failed"
ISSUE_CODE_NOT_DELETED = "code_not_deleted"
ISSUE_OFFLINE_NOT_USED = "offline_code_not_used"
ISSUES = (
    ISSUE_CODE_FAILED,
    ISSUE_CODE_UPDATE_FAILED,
    ISSUE_CODE_NOT_DELETED,
    ISSUE_OFFLINE_NOT_USED,
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class Announcer:
    """Bus events and repair issues about ledger codes of one entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: TTLockGatewayConfigEntry,
        coordinator: LockCoordinator,
    ) -> None:
        """Bind to the entry's coordinator (lock names, entity ids)."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator

    def lock_name(self, lock_id: str) -> str:
        """The lock's name, or its id once it left the account."""
        data = self.coordinator.current_data
        if data is not None and (lock := data.locks.get(lock_id)):
            return lock.name
        return lock_id

    def payload(self, record: CodeRecord) -> dict[str, Any]:
        """What every code event carries."""
        lock_id = record.lock_id
        payload: dict[str, Any] = {
            "entity_id": er.async_get(self.hass).async_get_entity_id(
                "lock", DOMAIN, self.coordinator.device_key(lock_id)
            ),
            "lock_id": lock_id,
            "lock_name": self.lock_name(lock_id),
            "code_id": record.id,
            "cloud_id": record.cloud_id,
            "name": record.name,
            "start": _iso(record.start),
            "end": _iso(record.end),
            "attempts": record.attempts,
            # "custom" (digits we chose, uploaded to the lock) or "offline"
            # (computed by the cloud, checked by the lock by itself).
            "kind": "offline" if record.is_offline else "custom",
        }
        if record.is_offline:
            payload["offline_type"] = record.offline_kind
            payload["first_use_by"] = _iso(record.first_use_by)
            payload["fallback"] = record.fallback
        if self.entry.options.get(CONF_EXPOSE_CODES) and record.code:
            payload["code"] = record.code
        if record.booking_uid is not None:
            # "The guest arrived" is one trigger on the booking's uid.
            payload["booking_uid"] = record.booking_uid
            payload["booking_calendar"] = record.source
        return payload

    @callback
    def added(self, record: CodeRecord) -> None:
        """The cloud accepted the code; ``delivered``: the lock has it."""
        self.clear(record)
        delivered = record.phase in (None, CodePhase.DELIVERED)
        self.hass.bus.async_fire(
            EVENT_CODE_ADDED, {**self.payload(record), "delivered": delivered}
        )

    @callback
    def delivered(self, record: CodeRecord) -> None:
        """A code the cloud held for the lock is on it now."""
        self.hass.bus.async_fire(EVENT_CODE_DELIVERED, self.payload(record))

    @callback
    def updated(self, record: CodeRecord) -> None:
        """The lock has the code's new name and window."""
        self.clear(record)
        self.hass.bus.async_fire(EVENT_CODE_UPDATED, self.payload(record))

    @callback
    def deleted(self, record: CodeRecord, reason: str | None) -> None:
        """The code is confirmed gone from the lock."""
        self.clear(record)
        self.hass.bus.async_fire(
            EVENT_CODE_DELETED, {**self.payload(record), "reason": reason}
        )

    @callback
    def failed(self, record: CodeRecord, operation: str, reason: str) -> None:
        """An add, update or delete was given up (or refused for good)."""
        LOGGER.warning(
            "Code %r for %s: %s failed after %s attempts: %s",
            record.name,
            self.lock_name(record.lock_id),
            operation,
            record.attempts,
            reason,
        )
        self.hass.bus.async_fire(
            EVENT_CODE_FAILED,
            {**self.payload(record), "operation": operation, "reason": reason},
        )
        kind = (
            ISSUE_CODE_FAILED
            if operation == "add"
            else ISSUE_CODE_UPDATE_FAILED
            if operation == "update"
            else ISSUE_CODE_NOT_DELETED
        )
        self.issue(kind, record, reason)

    @callback
    def used(self, record: CodeRecord, event: LockEvent, first: bool) -> None:
        """A ledger code opened the door."""
        self.hass.bus.async_fire(
            EVENT_CODE_USED,
            {
                **self.payload(record),
                "first_use": first,
                "deleted": not record.present,
                "time": event.time.isoformat(),
                "event_id": event.event_id,
            },
        )

    @callback
    def not_used(self, record: CodeRecord) -> None:
        """An offline code not entered yet, close to its first-use deadline."""
        assert record.first_use_by is not None
        self.hass.bus.async_fire(EVENT_CODE_NOT_USED, self.payload(record))
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id(ISSUE_OFFLINE_NOT_USED, record),
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_OFFLINE_NOT_USED,
            translation_placeholders={
                "lock": self.lock_name(record.lock_id),
                "name": record.name,
                "deadline": dt_util.as_local(record.first_use_by).strftime(
                    "%Y-%m-%d %H:%M"
                ),
            },
        )

    @callback
    def issue(self, kind: str, record: CodeRecord, reason: str) -> None:
        """A repair issue about one code."""
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id(kind, record),
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=kind,
            translation_placeholders={
                "lock": self.lock_name(record.lock_id),
                "name": record.name,
                "reason": reason,
                "attempts": str(record.attempts),
            },
        )

    @callback
    def clear(self, record: CodeRecord) -> None:
        """The code's repair issues are settled."""
        clear_issues(self.hass, record)


def issue_id(kind: str, record: CodeRecord) -> str:
    """A repair issue's id: one per kind, code and lock."""
    return f"{kind}_{record.id}_{record.lock_id}"


@callback
def clear_issues(hass: HomeAssistant, record: CodeRecord) -> None:
    """Remove a code's repair issues."""
    for kind in ISSUES:
        ir.async_delete_issue(hass, DOMAIN, issue_id(kind, record))


class CodeEventMatcher:
    """The coordinator's hook: lock events named after ledger codes.

    A record that used a passcode is matched by the cloud's code id (Tuya's
    password id, TTLock's ``keyboardPwdId`` where a record carries it) or by
    the digits (TTLock's ``keyboardPwd``); live codes before deleted ones.
    """

    def __init__(
        self,
        ledger: CodeLedger,
        announcer: Announcer,
        request_failed: Callable[[LockEvent], None] | None = None,
    ) -> None:
        """Match against ``ledger``; announce uses through ``announcer``.

        ``request_failed`` gets the cloud's reports that the lock did not
        carry out a passcode request (TTLock notifyType 4).
        """
        self.ledger = ledger
        self.announcer = announcer
        self.request_failed = request_failed

    def match(self, event: LockEvent) -> CodeRecord | None:
        """The ledger code an event names, if any."""
        if event.lock_id is None or (event.code is None and event.code_id is None):
            return None
        found = [
            r
            for r in self.ledger.for_lock(event.lock_id)
            if (
                (event.code_id is not None and event.code_id in (r.cloud_id, r.id))
                or (
                    event.code is not None
                    and r.code is not None
                    and r.code == event.code
                )
            )
            # A deleted code names records from before its deletion (polled
            # late) or just after (a lock that synced late); later, the same
            # digits may well be someone else's code.
            and (r.deleted_at is None or event.time <= r.deleted_at + DELETED_GRACE)
        ]
        if not found:
            return None
        found.sort(key=lambda r: (r.tombstone, not r.present, -r.created.timestamp()))
        return found[0]

    @callback
    def annotate(self, event: LockEvent) -> LockEvent:
        """The event with ``code_id`` / ``code_name`` of its ledger code."""
        if (record := self.match(event)) is None:
            return event
        return replace(event, code_id=record.id, code_name=record.name)

    @callback
    def announced(self, event: LockEvent) -> None:
        """After a lock event went out: ``code_used`` for a ledger code's unlock."""
        if event.type is EventType.REQUEST_FAILED and self.request_failed:
            self.request_failed(event)
            return
        if event.type is not EventType.UNLOCKED or not event.success:
            return
        if (record := self.match(event)) is None:
            return
        first = record.first_used is None
        if first:
            record.first_used = event.time
            self.ledger.save_soon()
            # Entered in time: the lock keeps the offline code.
            ir.async_delete_issue(
                self.announcer.hass,
                DOMAIN,
                issue_id(ISSUE_OFFLINE_NOT_USED, record),
            )
        self.announcer.used(record, event, first)
