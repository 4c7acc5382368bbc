"""The guest-access calendar: ledger codes as events, and the calendar UI's
create / update / delete (websocket API) running the code services."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.ttlock_gateway.const import CONF_EXPOSE_CODES
from tests.common import seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.ledger_common import (
    ADD_PATH,
    CHANGE_PATH,
    DELETE_PATH,
    FRONT,
    advance,
    call,
    ms,
    records,
    set_gateway,
    ttlock_pins,
    window,
)

FRONT_CAL = "calendar.front_door_guest_access"
BACK_CAL = "calendar.back_door_guest_access"


async def _events(hass: HomeAssistant, entity_id: str = FRONT_CAL) -> list[Any]:
    now = dt_util.now()
    answer = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": entity_id,
            "start_date_time": (now - timedelta(days=2)).isoformat(),
            "end_date_time": (now + timedelta(days=30)).isoformat(),
        },
        blocking=True,
        return_response=True,
    )
    assert answer is not None
    events = answer[entity_id]
    assert isinstance(events, dict)
    result = events["events"]
    assert isinstance(result, list)
    return result


class Ws:
    """The calendar panel's websocket commands."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def send(self, type_: str, **data: Any) -> dict[str, Any]:
        await self.client.send_json_auto_id({"type": type_, **data})
        answer: dict[str, Any] = await self.client.receive_json()
        return answer


async def _ws(hass_ws_client: WebSocketGenerator) -> Ws:
    return Ws(await hass_ws_client())


def _our_log(caplog: pytest.LogCaptureFixture) -> str:
    """What the integration logged (not the test harness's storage dumps)."""
    return "\n".join(
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components.ttlock_gateway")
    )


def _notifications(hass: HomeAssistant) -> list[dict[str, Any]]:
    return list(
        persistent_notification._async_get_or_create_notifications(hass).values()
    )


async def test_one_calendar_per_lock_that_takes_codes(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Front and back door (gateway locks) have one; the Bluetooth-only shed,
    which takes no codes through the cloud, has none."""
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert hass.states.get(FRONT_CAL) is not None
    assert hass.states.get(BACK_CAL) is not None
    assert hass.states.get("calendar.shed_guest_access") is None
    assert hass.states.get(FRONT_CAL).state == "off"
    assert await _events(hass) == []


async def test_codes_are_events_without_digits(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Summary = name, start/end = window, description = status; the next code
    is the entity's event, and the state turns on in its window."""
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    later = window(2, 50)
    await call(hass, "add_code", FRONT, name="Smith", code="482913", **later)
    await call(hass, "add_code", FRONT, name="Jones", code="739164", **window(60, 90))
    events = await _events(hass)
    assert [e["summary"] for e in events] == ["Smith", "Jones"]
    smith = events[0]
    assert dt_util.parse_datetime(smith["start"]) == dt_util.parse_datetime(
        later["start"]
    )
    assert dt_util.parse_datetime(smith["end"]) == dt_util.parse_datetime(later["end"])
    assert smith["description"] == "Status: pending delivery"
    assert "482913" not in str(events)
    state = hass.states.get(FRONT_CAL)
    assert state.state == "off"
    assert state.attributes["message"] == "Smith"
    assert "482913" not in str(state.attributes)
    await advance(hass, freezer, timedelta(hours=3))
    state = hass.states.get(FRONT_CAL)
    assert state.state == "on"
    assert state.attributes["description"] == "Status: active"
    # The other lock's calendar does not show them.
    assert await _events(hass, BACK_CAL) == []


async def test_digits_only_with_the_option(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(
        hass, ttlock_data(ttlock_cloud), options={CONF_EXPOSE_CODES: True}
    )
    await call(hass, "add_code", FRONT, name="Smith", code="482913", **window())
    (event,) = await _events(hass)
    assert event["description"] == "Status: pending delivery\nCode: 482913"


async def test_queued_and_pending_delete_are_shown(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """A code the gateway could not take yet says so; a deleted one stays until
    the lock confirms."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    set_gateway(ttlock_cloud, home, False)
    added = await call(hass, "add_code", FRONT, name="Smith", code="482913", **window())
    (event,) = await _events(hass)
    assert event["description"].startswith("Status: queued (not on the lock yet)")
    assert "Reason:" in event["description"]
    set_gateway(ttlock_cloud, home, True)
    await call(hass, "add_code", FRONT, name="Jones", code="739164", **window())
    set_gateway(ttlock_cloud, home, False)
    jones = next(r for r in records(hass, _entry(hass)) if r.name == "Jones")
    await call(hass, "delete_code", FRONT, code_id=jones.id)
    events = {e["summary"]: e for e in await _events(hass)}
    assert events["Jones"]["description"].startswith(
        "Status: deleted, pending removal from the lock"
    )
    assert added[FRONT]["status"] == "queued"


def _entry(hass: HomeAssistant) -> Any:
    (entry,) = hass.config_entries.async_entries("ttlock_gateway")
    return entry


async def test_rest_api_lists_the_events(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client: ClientSessionGenerator,
) -> None:
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    await call(hass, "add_code", FRONT, name="Smith", code="482913", **window())
    client = await hass_client()
    now = dt_util.utcnow()
    start = (now - timedelta(days=1)).isoformat()
    end = (now + timedelta(days=10)).isoformat()
    resp = await client.get(
        f"/api/calendars/{FRONT_CAL}", params={"start": start, "end": end}
    )
    assert resp.status == 200
    body = await resp.json()
    assert [e["summary"] for e in body] == ["Smith"]
    (record,) = records(hass, _entry(hass))
    assert body[0]["uid"] == record.id


async def test_create_in_the_calendar_adds_the_code(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``code: 123456`` in the description picks the digits; the host sees
    them once in a notification, the log never."""
    caplog.set_level(logging.DEBUG)
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    await async_setup_component(hass, "persistent_notification", {})
    ws = await _ws(hass_ws_client)
    stay = window(3, 75)
    answer = await ws.send(
        "calendar/event/create",
        entity_id=FRONT_CAL,
        event={
            "summary": "Garcia family",
            "dtstart": stay["start"],
            "dtend": stay["end"],
            "description": "Arriving late. code: 582047",
        },
    )
    assert answer["success"], answer
    (stored,) = ttlock_cloud.passcodes[home.front].values()
    assert stored["keyboardPwd"] == "582047"
    assert stored["keyboardPwdName"] == "Garcia family"
    assert stored["startDate"] == ms(stay["start"])
    assert stored["endDate"] == ms(stay["end"])
    (note,) = _notifications(hass)
    assert "582047" in note["message"]
    assert "582047" not in _our_log(caplog)
    (event,) = await _events(hass)
    assert event["summary"] == "Garcia family"
    assert "582047" not in event["description"]


async def test_create_generates_digits(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    await async_setup_component(hass, "persistent_notification", {})
    ws = await _ws(hass_ws_client)
    stay = window(3, 75)
    answer = await ws.send(
        "calendar/event/create",
        entity_id=FRONT_CAL,
        event={"summary": "Lee", "dtstart": stay["start"], "dtend": stay["end"]},
    )
    assert answer["success"], answer
    (pin,) = ttlock_pins(ttlock_cloud, home.front)
    assert len(pin) == 6
    (note,) = _notifications(hass)
    assert pin in note["message"]
    assert pin not in _our_log(caplog)


async def test_create_all_day_stay(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """An all-day event is local midnight to midnight."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    ws = await _ws(hass_ws_client)
    first = dt_util.now().date() + timedelta(days=3)
    last = first + timedelta(days=2)
    answer = await ws.send(
        "calendar/event/create",
        entity_id=FRONT_CAL,
        event={
            "summary": "Müller",
            "dtstart": first.isoformat(),
            "dtend": last.isoformat(),
        },
    )
    assert answer["success"], answer
    (stored,) = ttlock_cloud.passcodes[home.front].values()
    berlin = dt_util.get_time_zone("Europe/Berlin")
    expected = dt_util.as_utc(
        dt_util.start_of_local_day(first).astimezone(berlin)
    ).timestamp()
    assert stored["startDate"] == int(expected * 1000)
    assert stored["endDate"] - stored["startDate"] in (
        ms_days(2),
        ms_days(2) - 3600_000,
        ms_days(2) + 3600_000,
    )


def ms_days(days: int) -> int:
    return days * 86_400_000


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            {"description": "code: 12a4"},
            "A code may contain digits only",
        ),
        ({"description": "code: 12"}, "Codes on Front door must be 4-9 digits long"),
        ({"summary": "x" * 51}, "The code's name must be 1 to 50 characters long"),
        (
            {"rrule": "FREQ=WEEKLY"},
            "Guest codes cannot repeat: create one event per stay",
        ),
        (
            {"dtstart_hours": -72, "dtend_hours": -2},
            "The end is in the past: such a code would never work",
        ),
    ],
)
async def test_create_refused_sends_nothing(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
    event: dict[str, Any],
    message: str,
) -> None:
    """Bad input: the service's own translated error, no cloud call, no record."""
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    ws = await _ws(hass_ws_client)
    stay = window(event.pop("dtstart_hours", 3), event.pop("dtend_hours", 75))
    ttlock_cloud.reset_calls()
    answer = await ws.send(
        "calendar/event/create",
        entity_id=FRONT_CAL,
        event={
            "summary": "Guest",
            "dtstart": stay["start"],
            "dtend": stay["end"],
            **event,
        },
    )
    assert not answer["success"]
    assert answer["error"]["message"] == message
    assert ttlock_cloud.calls[ADD_PATH] == 0
    assert records(hass, entry) == []


async def test_create_duplicate_digits_refused(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
) -> None:
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    await call(hass, "add_code", FRONT, name="Smith", code="482913", **window())
    ws = await _ws(hass_ws_client)
    stay = window(3, 75)
    ttlock_cloud.reset_calls()
    answer = await ws.send(
        "calendar/event/create",
        entity_id=FRONT_CAL,
        event={
            "summary": "Guest",
            "dtstart": stay["start"],
            "dtend": stay["end"],
            "description": "code: 482913",
        },
    )
    assert not answer["success"]
    assert "482913" not in answer["error"]["message"]
    assert "Front door" in answer["error"]["message"]
    assert ttlock_cloud.calls[ADD_PATH] == 0


async def test_move_and_delete_in_the_calendar(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Dragging the event changes the code in place; deleting it deletes it."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    added = await call(hass, "add_code", FRONT, name="Smith", code="482913", **window())
    code_id = added[FRONT]["code_id"]
    ws = await _ws(hass_ws_client)
    moved = window(24, 100)
    ttlock_cloud.reset_calls()
    answer = await ws.send(
        "calendar/event/update",
        entity_id=FRONT_CAL,
        uid=code_id,
        event={
            "summary": "Smith (late)",
            "dtstart": moved["start"],
            "dtend": moved["end"],
        },
    )
    assert answer["success"], answer
    assert ttlock_cloud.calls[CHANGE_PATH] == 1
    assert ttlock_cloud.calls[ADD_PATH] == 0
    (stored,) = ttlock_cloud.passcodes[home.front].values()
    assert stored["keyboardPwdName"] == "Smith (late)"
    assert stored["startDate"] == ms(moved["start"])
    assert stored["endDate"] == ms(moved["end"])
    (event,) = await _events(hass)
    assert event["summary"] == "Smith (late)"

    # A move to an end before the start: refused, nothing sent.
    ttlock_cloud.reset_calls()
    answer = await ws.send(
        "calendar/event/update",
        entity_id=FRONT_CAL,
        uid=code_id,
        event={"summary": "Smith", "dtstart": moved["end"], "dtend": moved["start"]},
    )
    assert not answer["success"]
    assert ttlock_cloud.total_calls == 0
    # A move into the past: the service's own check, nothing sent.
    past = window(-72, -2)
    answer = await ws.send(
        "calendar/event/update",
        entity_id=FRONT_CAL,
        uid=code_id,
        event={"summary": "Smith", "dtstart": past["start"], "dtend": past["end"]},
    )
    assert not answer["success"]
    assert (
        answer["error"]["message"]
        == "The end is in the past: such a code would never work"
    )
    assert ttlock_cloud.total_calls == 0

    answer = await ws.send("calendar/event/delete", entity_id=FRONT_CAL, uid=code_id)
    assert answer["success"], answer
    assert ttlock_cloud.calls[DELETE_PATH] == 1
    assert ttlock_cloud.passcodes[home.front] == {}
    assert await _events(hass) == []


async def test_update_or_delete_unknown_event(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
) -> None:
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    ws = await _ws(hass_ws_client)
    ttlock_cloud.reset_calls()
    answer = await ws.send("calendar/event/delete", entity_id=FRONT_CAL, uid="nope")
    assert not answer["success"]
    assert "nope" in answer["error"]["message"]
    stay = window()
    answer = await ws.send(
        "calendar/event/update",
        entity_id=FRONT_CAL,
        uid="nope",
        event={"summary": "x", "dtstart": stay["start"], "dtend": stay["end"]},
    )
    assert not answer["success"]
    assert ttlock_cloud.total_calls == 0


async def test_a_code_of_another_lock_is_not_this_calendars(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The back door's calendar cannot delete the front door's code."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    added = await call(hass, "add_code", FRONT, name="Smith", code="482913", **window())
    ws = await _ws(hass_ws_client)
    answer = await ws.send(
        "calendar/event/delete", entity_id=BACK_CAL, uid=added[FRONT]["code_id"]
    )
    assert not answer["success"]
    assert len(ttlock_cloud.passcodes[home.front]) == 1
