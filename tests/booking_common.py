"""Helpers of the booking-sync tests: a real local_calendar as the booking
calendar, edited the way the calendar panel does (websocket API)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from homeassistant.components.calendar import CalendarEvent
from homeassistant.components.calendar.const import DATA_COMPONENT
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ttlock_gateway.booking_rules import CONF_BOOKING_CALENDARS

AIRBNB = "calendar.airbnb"


async def local_calendar(
    hass: HomeAssistant, tmp_path: Path, name: str = "Airbnb"
) -> MockConfigEntry:
    """Home Assistant's local_calendar, its .ics file in the test's own dir."""
    hass.config.config_dir = str(tmp_path)
    (tmp_path / ".storage").mkdir(exist_ok=True)
    entry = MockConfigEntry(
        domain="local_calendar", data={"calendar_name": name}, title=name
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def follow(
    *locks: int | str,
    calendar: str = AIRBNB,
    **settings: Any,
) -> dict[str, Any]:
    """Options that follow one calendar for the given (cloud) lock ids."""
    return {
        CONF_BOOKING_CALENDARS: [
            {
                "calendar": calendar,
                "locks": [str(lock) for lock in locks],
                "check_in": "15:00:00",
                "check_out": "11:00:00",
                "buffer_before": 0,
                "buffer_after": 0,
                "code_rule": "random",
                "phone_digits": 4,
                **settings,
            }
        ]
    }


def at(days: float, hour: int = 0) -> datetime:
    """A local time ``days`` from now at ``hour`` (0: the same time of day)."""
    value = dt_util.now() + timedelta(days=days)
    if hour:
        value = value.replace(hour=hour, minute=0, second=0, microsecond=0)
    return value


class Panel:
    """Edits of a calendar as the calendar panel makes them: the entity's
    create / update / delete (what the websocket commands call after their
    schema). Not over the websocket itself: these tests move the frozen
    clock, which expires a connection's access token and heartbeat."""

    def __init__(self, hass: HomeAssistant, entity_id: str = AIRBNB) -> None:
        self.hass = hass
        self.entity_id = entity_id

    @property
    def entity(self) -> Any:
        entity = self.hass.data[DATA_COMPONENT].get_entity(self.entity_id)
        assert entity is not None
        return entity

    async def settle(self) -> None:
        """Let the sync a state change started finish (before the clock moves:
        a request in flight when the frozen clock jumps would time out)."""
        await self.hass.async_block_till_done(wait_background_tasks=True)

    async def create(
        self,
        summary: str,
        start: datetime | date,
        end: datetime | date,
        description: str | None = None,
    ) -> None:
        event: dict[str, Any] = {"summary": summary, "dtstart": start, "dtend": end}
        if description is not None:
            event["description"] = description
        await self.entity.async_create_event(**event)
        await self.settle()

    async def move(
        self, uid: str, summary: str, start: datetime | date, end: datetime | date
    ) -> None:
        await self.entity.async_update_event(
            uid, {"summary": summary, "dtstart": start, "dtend": end}
        )
        await self.settle()

    async def delete(self, uid: str) -> None:
        await self.entity.async_delete_event(uid)
        await self.settle()


async def calendar_events(
    hass: HomeAssistant, entity_id: str = AIRBNB
) -> list[CalendarEvent]:
    """The calendar's events of the next year (with their uids)."""
    entity = hass.data[DATA_COMPONENT].get_entity(entity_id)
    assert entity is not None
    now = dt_util.now()
    return list(
        await entity.async_get_events(
            hass, now - timedelta(days=3), now + timedelta(days=400)
        )
    )


async def uid_of(hass: HomeAssistant, summary: str, entity_id: str = AIRBNB) -> str:
    """The uid of the calendar's event with that summary."""
    (uid,) = [
        e.uid for e in await calendar_events(hass, entity_id) if e.summary == summary
    ]
    assert uid is not None
    return uid
