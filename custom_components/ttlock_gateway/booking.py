"""Follow a booking calendar: each stay becomes a ledger code, days ahead.

Rental tools that write a code at check-in and clear it at check-out depend
on the cloud at exactly those minutes. Here the code is created as soon as the
booking appears, with the stay's window, so the lock itself enforces it; the
sync then only follows changes: a moved booking updates the code's window, a
cancelled one deletes it, an ended one is left to expire on the lock (the
daily clean-up removes it later).

The sync reads the calendar on its state changes and every 15 minutes, and
calls the code services only for differences. It owns the codes it created
(``source`` on their records = the calendar's entity id), found again by the
booking's uid and recurrence id; a user's own codes are never touched.
Digits are derived from the booking's key with a per-entry secret, so a
re-sync (or a re-created code) never changes a guest's code.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
import secrets
from typing import Any

from homeassistant.components.calendar import DATA_COMPONENT, CalendarEvent
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .booking_rules import (
    Booking,
    FollowedCalendar,
    booking_code,
    booking_name,
    followed_calendars,
    is_stay,
    safe_uid,
    stay_window,
)
from .codes.generate import generated_length
from .codes.model import WINDOW_TOLERANCE, CodeRecord
from .const import CONF_EXPOSE_CODES, DOMAIN, LOGGER
from .coordinator import TTLockGatewayConfigEntry
from .providers.models import Lock
from .services import (
    SERVICE_ADD_CODE,
    SERVICE_DELETE_CODE,
    SERVICE_UPDATE_CODE,
    BookingSource,
    async_code_action,
)

EVENT_BOOKING_SYNCED = f"{DOMAIN}_booking_synced"
SYNC_INTERVAL = timedelta(minutes=15)
# How far ahead bookings become codes (TTLock and Tuya take windows years
# ahead; a year covers every booking platform's calendar export).
HORIZON = timedelta(days=365)
# All-day events end at midnight but the stay ends at check-out (plus the
# buffer): read a little back so a stay in its last hours is still seen.
LOOKBACK = timedelta(days=2)
# A digit clash with a code the lock got since the last listing: try the
# booking's next candidate digits, this many times.
_DUPLICATE_RETRIES = 3

# A refused add is asked again after this long (or when its booking changes).
RETRY_REFUSED = timedelta(hours=1)

_SECRET_VERSION = 1


async def async_booking_secret(hass: HomeAssistant, entry_id: str) -> bytes:
    """The entry's secret for booking digits, created once and kept."""
    store = Store[dict[str, Any]](
        hass, _SECRET_VERSION, f"{DOMAIN}.{entry_id}.bookings"
    )
    data = await store.async_load() or {}
    raw = data.get("secret")
    try:
        secret = bytes.fromhex(raw) if isinstance(raw, str) else b""
    except ValueError:
        secret = b""
    if len(secret) != 32:
        secret = secrets.token_bytes(32)
        await store.async_save({"secret": secret.hex()})
    return secret


async def async_remove_booking_secret(hass: HomeAssistant, entry_id: str) -> None:
    """Forget the secret (entry removed)."""
    await Store[dict[str, Any]](
        hass, _SECRET_VERSION, f"{DOMAIN}.{entry_id}.bookings"
    ).async_remove()


async def async_start_booking_syncs(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry
) -> None:
    """Start a sync per followed calendar; they stop with the entry."""
    followed = followed_calendars(entry.options)
    if not followed:
        return
    secret = await async_booking_secret(hass, entry.entry_id)
    for item in followed:
        sync = BookingSync(hass, entry, item, secret)
        sync.start()
        entry.async_on_unload(sync.async_stop)


@dataclass(slots=True)
class SyncStats:
    """What the last sync did (diagnostics, tests)."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    failed: int = 0
    runs: int = 0


class BookingSync:
    """Keeps one followed calendar's bookings on its locks."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: TTLockGatewayConfigEntry,
        followed: FollowedCalendar,
        secret: bytes,
    ) -> None:
        """Bind to the entry; nothing runs before ``start``."""
        self.hass = hass
        self.entry = entry
        self.followed = followed
        self._secret = secret
        self._unsubs: list[Any] = []
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._stopped = False
        self._loaded = False
        # Adds that were refused (full code store, digits the lock has...), by
        # (booking, lock), with the booking as it was and when: asked again
        # when the booking changes, else at most hourly (not every 15 min).
        self._refused: dict[tuple[tuple[str, str], str], tuple[Booking, datetime]] = {}
        self.stats = SyncStats()

    # ------------------------------------------------------------ triggers

    @callback
    def start(self) -> None:
        """Sync once Home Assistant runs, on each state change, every 15 min."""
        self._unsubs.append(
            async_track_state_change_event(
                self.hass, [self.followed.calendar], self._state_changed
            )
        )
        self._unsubs.append(
            async_track_time_interval(
                self.hass,
                self._tick,
                SYNC_INTERVAL,
                name=f"{DOMAIN} booking sync {self.followed.calendar}",
                cancel_on_shutdown=True,
            )
        )
        # The first sync once the entry is loaded (the code services take
        # only loaded entries) and Home Assistant runs (the calendar exists).
        self._unsubs.append(self.entry.async_on_state_change(self._entry_state))

    @callback
    def _entry_state(self) -> None:
        if self.entry.state is ConfigEntryState.LOADED and not self._loaded:
            self._loaded = True
            self._unsubs.append(async_at_started(self.hass, self._started))

    async def async_stop(self) -> None:
        """Entry unload: no new sync; one under way is cut off.

        Safe at any point: the ledger writes a code's intent before its first
        cloud call, and the next sync finds the code by its booking key.
        """
        self._stopped = True
        for unsub in self._unsubs:
            # The entry's state listeners may be gone already (unload).
            with contextlib.suppress(ValueError, AttributeError):
                unsub()
        self._unsubs.clear()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    @callback
    def _started(self, _hass: HomeAssistant) -> None:
        self.request()

    @callback
    def _state_changed(self, event: Event[EventStateChangedData]) -> None:
        self.request()

    @callback
    def _tick(self, _now: datetime) -> None:
        self.request()

    @callback
    def request(self) -> None:
        """Sync now, or once more after the sync under way."""
        if self._stopped:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = self.entry.async_create_background_task(
            self.hass, self._run(), f"{DOMAIN} booking sync {self.followed.calendar}"
        )

    async def _run(self) -> None:
        while True:
            self._again = False
            await self.async_sync()
            if not self._again or self._stopped:
                return

    # ------------------------------------------------------------ the sync

    async def _read(self, now: datetime) -> list[CalendarEvent] | None:
        """The calendar's events ahead; ``None`` when it cannot be read (then
        nothing is changed: an unreadable feed is not a cancelled stay)."""
        calendar = self.followed.calendar
        state = self.hass.states.get(calendar)
        component = self.hass.data.get(DATA_COMPONENT)
        entity = component.get_entity(calendar) if component is not None else None
        if state is None or state.state == STATE_UNAVAILABLE or entity is None:
            LOGGER.debug("Booking calendar %s not available: not synced", calendar)
            return None
        try:
            return await entity.async_get_events(
                self.hass,
                dt_util.as_local(now - LOOKBACK),
                dt_util.as_local(now + HORIZON),
            )
        except HomeAssistantError as err:
            LOGGER.warning("Booking calendar %s not read: %s", calendar, err)
            return None

    def _bookings(
        self, events: list[CalendarEvent], now: datetime
    ) -> dict[tuple[str, str], Booking]:
        """The stays the locks should have, by (uid, recurrence id).

        Two events with one uid and recurrence id (a feed that repeats a
        uid) become one code for both windows: a guest is never locked out
        by the feed's mistake.
        """
        wanted: dict[tuple[str, str], Booking] = {}
        for event in events:
            if not is_stay(event.summary):
                continue
            start, end = stay_window(self.followed, event.start, event.end)
            if end <= now or end <= start:
                continue  # ended: left to expire on the lock
            booking = Booking(
                uid=safe_uid(event.uid, event.summary, event.start),
                recurrence_id=(
                    safe_uid(event.recurrence_id, "", event.start)
                    if event.recurrence_id
                    else None
                ),
                name=booking_name(event.summary),
                start=start,
                end=end,
                description=event.description or "",
            )
            if (seen := wanted.get(booking.key)) is not None:
                LOGGER.debug(
                    "Booking calendar %s lists one uid twice: windows joined",
                    self.followed.calendar,
                )
                booking = Booking(
                    uid=seen.uid,
                    recurrence_id=seen.recurrence_id,
                    name=seen.name,
                    start=min(seen.start, booking.start),
                    end=max(seen.end, booking.end),
                    description=seen.description or booking.description,
                )
            wanted[booking.key] = booking
        return wanted

    async def async_sync(self) -> None:
        """Bring the locks to the calendar (calls only for differences)."""
        now = dt_util.utcnow()
        events = await self._read(now)
        if events is None or self._stopped:
            return
        self.stats.runs += 1
        wanted = self._bookings(events, now)
        runtime = self.entry.runtime_data
        ledger = runtime.ledger
        locks = runtime.coordinator.current_data
        targets: dict[str, Lock] = {}
        if locks is not None:
            targets = {
                lock_id: locks.locks[lock_id]
                for lock_id in self.followed.locks
                if lock_id in locks.locks and locks.locks[lock_id].capabilities.codes
            }
        have: dict[tuple[str, str], dict[str, CodeRecord]] = {}
        for record in ledger.owned_by(self.followed.calendar):
            if not record.present or record.booking_uid is None:
                continue
            key = (record.booking_uid, record.booking_recurrence or "")
            have.setdefault(key, {})[record.lock_id] = record

        for key, booking in sorted(wanted.items(), key=lambda kv: kv[1].start):
            on_locks = have.pop(key) if key in have else {}
            for lock_id, lock in targets.items():
                existing = on_locks.pop(lock_id, None)
                if existing is None:
                    if not self._recently_refused(key, lock_id, booking, now):
                        await self._add(booking, lock)
                elif _differs(existing, booking):
                    await self._update(booking, lock, existing)
            for existing in on_locks.values():
                # The lock is no longer one this calendar opens.
                await self._delete(existing, "lock_removed")
        for gone in have.values():
            for existing in gone.values():
                if existing.end is not None and existing.end > now:
                    await self._delete(existing, "cancelled")

    def _recently_refused(
        self, key: tuple[str, str], lock_id: str, booking: Booking, now: datetime
    ) -> bool:
        refused = self._refused.get((key, lock_id))
        if refused is None:
            return False
        if (
            refused[0] != booking
            or not timedelta(0) <= now - refused[1] < RETRY_REFUSED
        ):
            del self._refused[(key, lock_id)]
            return False
        return True

    # ------------------------------------------------------------ changes

    def _lock_entity(self, lock_id: str) -> str | None:
        coordinator = self.entry.runtime_data.coordinator
        return er.async_get(self.hass).async_get_entity_id(
            "lock", DOMAIN, coordinator.device_key(lock_id)
        )

    def _announce(
        self,
        action: str,
        booking_uid: str,
        recurrence_id: str | None,
        lock: Lock | None,
        lock_id: str,
        *,
        name: str,
        start: datetime | None,
        end: datetime | None,
        code_id: str | None = None,
        status: str | None = None,
        reason: str | None = None,
        code: str | None = None,
        code_rule: str | None = None,
    ) -> None:
        payload: dict[str, Any] = {
            "calendar": self.followed.calendar,
            "uid": booking_uid,
            "recurrence_id": recurrence_id,
            "action": action,
            "entity_id": self._lock_entity(lock_id),
            "lock_id": lock_id,
            "lock_name": lock.name if lock else lock_id,
            "code_id": code_id,
            "name": name,
            "start": dt_util.as_local(start).isoformat() if start else None,
            "end": dt_util.as_local(end).isoformat() if end else None,
            "status": status,
        }
        if reason is not None:
            payload["reason"] = reason
        if code_rule is not None:
            payload["code_rule"] = code_rule
        if code is not None and self.entry.options.get(CONF_EXPOSE_CODES):
            payload["code"] = code
        self.hass.bus.async_fire(EVENT_BOOKING_SYNCED, payload)

    async def _add(self, booking: Booking, lock: Lock) -> None:
        entity_id = self._lock_entity(lock.lock_id)
        if entity_id is None:
            return
        ledger = self.entry.runtime_data.ledger
        caps = lock.capabilities
        length = generated_length([caps])
        assert length is not None
        taken = set(ledger.taken_digits(lock.lock_id))
        seed = f"{booking.uid}\x00{booking.recurrence_id or ''}"
        error: HomeAssistantError | None = None
        for _ in range(_DUPLICATE_RETRIES):
            chosen = booking_code(
                self.followed,
                self._secret,
                seed,
                booking.description,
                caps,
                length,
                taken,
            )
            if chosen is None:
                break
            digits, from_phone = chosen
            try:
                response = await async_code_action(
                    self.hass,
                    SERVICE_ADD_CODE,
                    {
                        "entity_id": entity_id,
                        "name": booking.name,
                        "start": booking.start,
                        "end": booking.end,
                        "code": digits,
                    },
                    booking=BookingSource(
                        self.followed.calendar, booking.uid, booking.recurrence_id
                    ),
                )
            except ServiceValidationError as err:
                if err.translation_key == "duplicate_code":
                    # The lock got these digits since our last listing.
                    taken.add(digits)
                    error = err
                    continue
                error = err
                break
            except HomeAssistantError as err:
                error = err
                break
            assert response is not None
            item = response[entity_id]
            assert isinstance(item, dict)
            self.stats.added += 1
            self._announce(
                "added",
                booking.uid,
                booking.recurrence_id,
                lock,
                lock.lock_id,
                name=booking.name,
                start=booking.start,
                end=booking.end,
                code_id=str(item["code_id"]),
                status=str(item["status"]),
                code=digits,
                code_rule="phone" if from_phone else "seeded",
            )
            return
        self.stats.failed += 1
        self._refused[(booking.key, lock.lock_id)] = (booking, dt_util.utcnow())
        reason = _reason(error) if error is not None else "no_free_code"
        LOGGER.warning(
            "Booking %r of %s: no code on %s: %s",
            booking.name,
            self.followed.calendar,
            lock.name,
            reason,
        )
        self._announce(
            "failed",
            booking.uid,
            booking.recurrence_id,
            lock,
            lock.lock_id,
            name=booking.name,
            start=booking.start,
            end=booking.end,
            reason=reason,
        )

    async def _update(self, booking: Booking, lock: Lock, record: CodeRecord) -> None:
        entity_id = self._lock_entity(lock.lock_id)
        if entity_id is None:
            return
        try:
            response = await async_code_action(
                self.hass,
                SERVICE_UPDATE_CODE,
                {
                    "entity_id": entity_id,
                    "code_id": record.id,
                    "name": booking.name,
                    "start": booking.start,
                    "end": booking.end,
                },
            )
        except HomeAssistantError as err:
            self.stats.failed += 1
            LOGGER.warning(
                "Booking %r of %s: code on %s not changed: %s",
                booking.name,
                self.followed.calendar,
                lock.name,
                err,
            )
            self._announce(
                "failed",
                booking.uid,
                booking.recurrence_id,
                lock,
                lock.lock_id,
                name=booking.name,
                start=booking.start,
                end=booking.end,
                code_id=record.id,
                reason=_reason(err),
            )
            return
        assert response is not None
        item = response[entity_id]
        assert isinstance(item, dict)
        self.stats.updated += 1
        self._announce(
            "updated",
            booking.uid,
            booking.recurrence_id,
            lock,
            lock.lock_id,
            name=booking.name,
            start=booking.start,
            end=booking.end,
            code_id=record.id,
            status=str(item["status"]),
        )

    async def _delete(self, record: CodeRecord, why: str) -> None:
        coordinator = self.entry.runtime_data.coordinator
        data = coordinator.current_data
        lock = data.locks.get(record.lock_id) if data is not None else None
        entity_id = self._lock_entity(record.lock_id)
        assert record.booking_uid is not None
        uid, recurrence = record.booking_uid, record.booking_recurrence
        if entity_id is None or lock is None:
            return
        try:
            response = await async_code_action(
                self.hass,
                SERVICE_DELETE_CODE,
                {"entity_id": entity_id, "code_id": record.id},
            )
        except HomeAssistantError as err:
            self.stats.failed += 1
            self._announce(
                "failed",
                uid,
                recurrence,
                lock,
                record.lock_id,
                name=record.name,
                start=record.start,
                end=record.end,
                code_id=record.id,
                reason=_reason(err),
            )
            return
        assert response is not None
        answer = response[entity_id]
        assert isinstance(answer, dict)
        status = next(
            (bucket for bucket, ids in answer.items() if ids), "pending_delete"
        )
        self.stats.deleted += 1
        self._announce(
            "deleted",
            uid,
            recurrence,
            lock,
            record.lock_id,
            name=record.name,
            start=record.start,
            end=record.end,
            code_id=record.id,
            status=status,
            reason=why,
        )


def _reason(err: HomeAssistantError) -> str:
    """A failure as automations match it: the error's key (its text is the
    user's language and may change)."""
    return err.translation_key or type(err).__name__


def _differs(record: CodeRecord, booking: Booking) -> bool:
    """Whether the code's name or window is not the booking's."""
    if record.start is None or record.end is None:
        return True
    return (
        record.name != booking.name
        or abs(record.start - booking.start) >= WINDOW_TOLERANCE
        or abs(record.end - booking.end) >= WINDOW_TOLERANCE
    )
