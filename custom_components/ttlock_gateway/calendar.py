"""A guest-access calendar per lock: the code ledger's time-bounded codes as events.

Hosts think in stays. Each ledger code with a window is an event (summary =
the code's name, start/end = its window, description = its status); creating,
moving and deleting events runs the code services themselves, so the
validation, errors and answers are exactly theirs. Permanent codes are not
events. Digits appear only with the "show code digits" option.
"""

from __future__ import annotations

from datetime import date, datetime, time
import re
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityFeature,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .codes.ledger import CodeLedger
from .codes.model import CodeRecord, Status
from .const import CONF_EXPOSE_CODES, DOMAIN
from .coordinator import LockCoordinator, TTLockGatewayConfigEntry
from .entity import LockBaseEntity, async_track_locks
from .services import (
    SERVICE_ADD_CODE,
    SERVICE_DELETE_CODE,
    SERVICE_UPDATE_CODE,
    async_code_action,
)

# Calendar operations go to the ledger, which serialises per lock.
PARALLEL_UPDATES = 0

# "code: 123456" in a new event's description picks the digits. Anything after
# "code:" is taken (not only digits) so that "code: 12a4" is refused by the
# service's own check instead of being silently replaced by generated digits.
_CODE_IN_TEXT = re.compile(r"\bcode\s*[:=]\s*(\S+)", re.IGNORECASE)

# What an event's description says for each status (the calendar shows plain
# text; the status names are those of ``list_codes``).
_STATUS_TEXT = {
    Status.ACTIVE: "active",
    Status.PENDING: "pending delivery",
    Status.EXPIRED: "expired",
    Status.QUEUED: "queued (not on the lock yet)",
    Status.UPDATING: "updating",
    Status.PENDING_DELETE: "deleted, pending removal from the lock",
    Status.FAILED: "failed",
    Status.MISSING: "missing (deleted in the vendor app)",
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TTLockGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A guest-access calendar for every lock that takes codes."""
    coordinator = entry.runtime_data.coordinator
    ledger = entry.runtime_data.ledger

    def build(lock_id: str) -> list[GuestAccessCalendar]:
        if not coordinator.data.locks[lock_id].capabilities.codes:
            return []
        return [GuestAccessCalendar(coordinator, ledger, lock_id)]

    async_track_locks(coordinator, async_add_entities, build)


def event_for(record: CodeRecord, now: datetime, expose: bool) -> CalendarEvent:
    """A ledger code as a calendar event."""
    assert record.start is not None
    assert record.end is not None
    status = record.status(now)
    lines = [f"Status: {_STATUS_TEXT.get(status, status.value)}"]
    if status in (Status.QUEUED, Status.FAILED, Status.PENDING_DELETE) and (
        record.reason
    ):
        lines.append(f"Reason: {record.reason}")
    if record.booking_uid is not None:
        lines.append(f"Booking: {record.source}")
    if expose and record.code:
        lines.append(f"Code: {record.code}")
    return CalendarEvent(
        start=dt_util.as_local(record.start),
        end=dt_util.as_local(record.end),
        summary=record.name,
        description="\n".join(lines),
        uid=record.id,
    )


def _as_datetime(value: date | datetime) -> datetime:
    """An event bound as a datetime: an all-day date is local midnight."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=dt_util.get_default_time_zone())
        return value
    return dt_util.start_of_local_day(datetime.combine(value, time.min))


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


class GuestAccessCalendar(LockBaseEntity, CalendarEntity):
    """One lock's guest codes as a writable calendar."""

    _attr_translation_key = "guest_access"
    _attr_supported_features = (
        CalendarEntityFeature.CREATE_EVENT
        | CalendarEntityFeature.UPDATE_EVENT
        | CalendarEntityFeature.DELETE_EVENT
    )

    def __init__(
        self, coordinator: LockCoordinator, ledger: CodeLedger, lock_id: str
    ) -> None:
        """Bind to the lock and the entry's code ledger."""
        super().__init__(coordinator, lock_id, "guest_access")
        self._ledger = ledger
        self._write_pending = False
        self._removed = False

    async def async_added_to_hass(self) -> None:
        """Follow the ledger: every change of a code shows at once."""
        await super().async_added_to_hass()
        self.async_on_remove(self._ledger.add_listener(self._ledger_changed))

    @callback
    def _ledger_changed(self) -> None:
        # One write per loop turn: a sync of 200 bookings saves the ledger
        # hundreds of times in a row.
        if self._write_pending or self.hass is None or not self.entity_id:
            return
        self._write_pending = True
        self.hass.loop.call_soon(self._write_now)

    @callback
    def _write_now(self) -> None:
        self._write_pending = False
        # Not after removal (unload): a write would set the calendar's
        # start/end alarms again, timers nobody cancels.
        if not self._removed:
            self.async_write_ha_state()

    async def async_will_remove_from_hass(self) -> None:
        """No write is pending past this point."""
        self._removed = True
        await super().async_will_remove_from_hass()

    @property
    def _expose(self) -> bool:
        return bool(self.coordinator.config_entry.options.get(CONF_EXPOSE_CODES))

    def _records(self) -> list[CodeRecord]:
        """The lock's codes that have a window and are not confirmed gone."""
        return [
            r
            for r in self._ledger.live_for_lock(self.lock_id)
            if not r.foreign and r.start is not None and r.end is not None
        ]

    def _events(self) -> list[CalendarEvent]:
        now = dt_util.utcnow()
        expose = self._expose
        return sorted(
            (event_for(r, now, expose) for r in self._records()),
            key=lambda e: (e.start_datetime_local, e.uid or ""),
        )

    @property
    def event(self) -> CalendarEvent | None:
        """The code in its window now, else the next one to start."""
        now = dt_util.utcnow()
        upcoming = [r for r in self._records() if r.end is not None and r.end > now]
        if not upcoming:
            return None
        first = min(upcoming, key=lambda r: (r.start or now, r.id))
        return event_for(first, now, self._expose)

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """The codes whose window overlaps the range."""
        return [
            e
            for e in self._events()
            if e.start_datetime_local < end_date and e.end_datetime_local > start_date
        ]

    # ---------------------------------------------------------------- writes

    @property
    def _lock_entity_id(self) -> str:
        entity_id = er.async_get(self.hass).async_get_entity_id(
            "lock", DOMAIN, self.coordinator.device_key(self.lock_id)
        )
        if entity_id is None:
            raise _invalid("codes_not_supported", name=self.cloud_lock.name)
        return entity_id

    def _own_record(self, uid: str) -> CodeRecord:
        """The ledger code an event stands for; booking codes belong to their sync."""
        record = self._ledger.find(self.lock_id, uid)
        if record is None or record.foreign or record.tombstone:
            raise _invalid("code_id_not_found", code_id=uid, name=self.cloud_lock.name)
        if record.source is not None:
            raise _invalid(
                "booking_code_managed", name=record.name, calendar=record.source
            )
        return record

    async def async_create_event(self, **kwargs: Any) -> None:
        """A new code for the stay (digits generated or from the description)."""
        if kwargs.get("rrule"):
            raise _invalid("recurring_not_supported")
        data: dict[str, Any] = {
            "entity_id": self._lock_entity_id,
            "name": kwargs["summary"],
            "start": _as_datetime(kwargs["dtstart"]),
            "end": _as_datetime(kwargs["dtend"]),
        }
        if (match := _CODE_IN_TEXT.search(kwargs.get("description") or "")) is not None:
            data["code"] = match.group(1)
        response = await async_code_action(self.hass, SERVICE_ADD_CODE, data)
        assert response is not None
        for item in response.values():
            assert isinstance(item, dict)
            # Shown once to the host, never logged.
            persistent_notification.async_create(
                self.hass,
                f"Code for **{data['name']}** on {self.cloud_lock.name}: "
                f"**{item['code']}** (status: {item['status']}).",
                title="New guest code",
                notification_id=f"{DOMAIN}_code_{item['code_id']}",
            )

    async def async_update_event(
        self,
        uid: str,
        event: dict[str, Any],
        recurrence_id: str | None = None,
        recurrence_range: str | None = None,
    ) -> None:
        """Move or rename the code (``update_code``)."""
        if event.get("rrule"):
            raise _invalid("recurring_not_supported")
        self._own_record(uid)
        data: dict[str, Any] = {
            "entity_id": self._lock_entity_id,
            "code_id": uid,
            "start": _as_datetime(event["dtstart"]),
            "end": _as_datetime(event["dtend"]),
        }
        if summary := event.get("summary"):
            data["name"] = summary
        await async_code_action(self.hass, SERVICE_UPDATE_CODE, data)

    async def async_delete_event(
        self,
        uid: str,
        recurrence_id: str | None = None,
        recurrence_range: str | None = None,
    ) -> None:
        """Delete the code from the lock (``delete_code``)."""
        self._own_record(uid)
        await async_code_action(
            self.hass,
            SERVICE_DELETE_CODE,
            {"entity_id": self._lock_entity_id, "code_id": uid},
        )
