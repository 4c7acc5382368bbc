"""The webhook end to end: real HTTP into Home Assistant, fake cloud behind it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
import json
import logging
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.util import dt as dt_util
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ttlock_gateway.const import (
    CONF_EXPOSE_CODES,
    DOMAIN,
    EVENT_JOB,
    EVENT_LOCK,
)
from tests.common import (
    TTLOCK_WEBHOOK_ID,
    TTLockHome,
    seed_ttlock_home,
    setup_entry,
    ttlock_data,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud

type ClientFactory = Callable[[], Awaitable[TestClient]]

URL = f"/api/webhook/{TTLOCK_WEBHOOK_ID}"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
GUEST_CODE = "4711923"
INTEGRATION_LOGGER = "custom_components.ttlock_gateway"


# --------------------------------------------------------------------------- #
# Helpers


def now_ms() -> int:
    """Home Assistant's clock (frozen or not) in epoch milliseconds."""
    return int(dt_util.utcnow().timestamp() * 1000)


def code_record(lock_id: int, when_ms: int, **extra: Any) -> dict[str, Any]:
    """A keypad unlock by the guest, as TTLock pushes it."""
    return {
        "lockId": lock_id,
        "recordType": 4,
        "recordTypeFromLock": 4,
        "success": 1,
        "username": "Guest",
        "keyboardPwd": GUEST_CODE,
        "lockDate": when_ms,
        "serverDate": when_ms + 800,
        "electricQuantity": 55,
        **extra,
    }


def ttlock_form(
    cloud: FakeTTLockCloud, lock_id: int, records: list[dict[str, Any]]
) -> str:
    """The form body TTLock posts to the callback URL."""
    return urlencode(
        {
            "notifyType": 1,
            "lockId": lock_id,
            "lockMac": cloud.locks[lock_id]["lockMac"],
            "admin": cloud.USERNAME,
            "records": json.dumps(records),
        }
    )


def dding(event: str, uuid: str, **extra: Any) -> dict[str, Any]:
    """A Dding-style JSON callback."""
    return {
        "event": event,
        "time": int(dt_util.utcnow().timestamp()),
        "uuid": uuid,
        "home_id": "home-1",
        "room_id": None,
        "nickname": "Front door",
        **extra,
    }


async def post(
    client: TestClient, body: str | bytes, content_type: str
) -> ClientResponse:
    """POST a body to the entry's webhook."""
    return await client.post(URL, data=body, headers={"Content-Type": content_type})


def front_device_id(hass: HomeAssistant, entry: MockConfigEntry, lock_id: int) -> str:
    """Device registry id of a lock."""
    key = entry.runtime_data.coordinator.device_key(str(lock_id))
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, key), entry.entry_id
    )
    assert device is not None
    return device.id


@pytest.fixture
async def home(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> tuple[TTLockHome, MockConfigEntry]:
    """The seeded home, set up with default options."""
    seeded = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert entry.state is ConfigEntryState.LOADED
    return seeded, entry


def assert_no_errors(caplog: pytest.LogCaptureFixture) -> None:
    """No ERROR records and no traceback from anyone."""
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert "Traceback" not in caplog.text


# --------------------------------------------------------------------------- #
# TTLock form callback


async def test_ttlock_push_unlocks_then_auto_locks(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """A pushed keypad unlock: lock, event entity, battery, bus event, auto-lock."""
    seeded, entry = home
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    before_calls = ttlock_cloud.total_calls
    when = now_ms()

    resp = await post(
        client,
        ttlock_form(ttlock_cloud, seeded.front, [code_record(seeded.front, when)]),
        FORM,
    )
    assert resp.status == 200
    assert await resp.text() == "success"
    await hass.async_block_till_done()

    # Applied at once, without asking the cloud anything.
    assert ttlock_cloud.total_calls == before_calls, ttlock_cloud.calls
    assert hass.states.get("lock.front_door").state == "unlocked"
    assert hass.states.get("sensor.front_door_battery").state == "55"
    activity = hass.states.get("event.front_door_activity")
    assert activity.attributes["event_type"] == "unlocked"
    assert activity.attributes["method"] == "code"
    assert activity.attributes["user"] == "Guest"
    assert activity.attributes["success"] is True
    assert activity.attributes["source"] == "push"
    assert "code" not in activity.attributes

    assert len(events) == 1
    data = events[0].data
    assert data["device_id"] == front_device_id(hass, entry, seeded.front)
    assert data["entity_id"] == "lock.front_door"
    assert data["lock_id"] == str(seeded.front)
    assert data["provider"] == "ttlock"
    assert data["type"] == "unlocked"
    assert data["method"] == "code"
    assert data["user"] == "Guest"
    assert data["success"] is True
    assert dt_util.parse_datetime(data["time"]) == dt_util.utc_from_timestamp(
        when / 1000
    )
    assert data["raw"]["recordType"] == 4
    # The guest's digits never reach the bus without expose_codes.
    assert GUEST_CODE not in json.dumps(data, default=str)
    assert "code" not in data

    # Front's auto-lock is 5 s: locked again once that has passed.
    freezer.tick(timedelta(seconds=3))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("lock.front_door").state == "unlocked"
    freezer.tick(timedelta(seconds=3))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("lock.front_door").state == "locked"
    # Other locks untouched.
    assert hass.states.get("lock.back_door").state == "unknown"


async def test_expose_codes_option_shows_digits(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """With expose_codes on, the bus event and the event entity carry the code."""
    seeded = seed_ttlock_home(ttlock_cloud)
    await setup_entry(
        hass, ttlock_data(ttlock_cloud), options={CONF_EXPOSE_CODES: True}
    )
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    # An old record: the auto-lock time has passed, no timer is left behind.
    when = now_ms() - 60_000
    resp = await post(
        client,
        ttlock_form(ttlock_cloud, seeded.front, [code_record(seeded.front, when)]),
        FORM,
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    assert len(events) == 1
    assert events[0].data["code"] == GUEST_CODE
    activity = hass.states.get("event.front_door_activity")
    assert activity.attributes["code"] == GUEST_CODE
    # The record is a minute old and front auto-locks after 5 s.
    assert hass.states.get("lock.front_door").state == "locked"


async def test_ttlock_push_several_records_in_order(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """Records of one callback fire in time order; the newest decides the state."""
    seeded, _ = home
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    base = now_ms() - 120_000
    records = [
        # Locked by app last, pushed first.
        {**code_record(seeded.back, base + 20_000), "recordType": 11},
        code_record(seeded.back, base),
        # A wrong code in between.
        {**code_record(seeded.back, base + 10_000), "success": 0},
    ]
    resp = await post(client, ttlock_form(ttlock_cloud, seeded.back, records), FORM)
    assert resp.status == 200
    await hass.async_block_till_done()
    assert [e.data["type"] for e in events] == ["unlocked", "wrong_code", "locked"]
    assert [e.data["success"] for e in events] == [True, False, True]
    assert hass.states.get("lock.back_door").state == "locked"
    assert hass.states.get("event.back_door_activity").attributes["event_type"] == (
        "locked"
    )


async def test_ttlock_json_callback_and_mac_lock_ref(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """The same callback as JSON is accepted too."""
    seeded, _ = home
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    body = json.dumps(
        {
            "lockId": seeded.shed,
            "records": json.dumps([code_record(seeded.shed, now_ms() - 5_000)]),
        }
    )
    resp = await post(client, body, JSON)
    assert resp.status == 200
    assert await resp.text() == "success"
    await hass.async_block_till_done()
    assert len(events) == 1
    assert events[0].data["entity_id"] == "lock.shed"
    assert hass.states.get("lock.shed").state == "unlocked"


async def test_push_then_poll_is_one_event(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """A record pushed, then returned by the 6-hourly poll, fires once."""
    seeded, _ = home
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    when = now_ms() - 60_000
    resp = await post(
        client,
        ttlock_form(ttlock_cloud, seeded.front, [code_record(seeded.front, when)]),
        FORM,
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    assert len(events) == 1

    # The cloud has the same record, plus a new one the push missed.
    ttlock_cloud.add_record(
        seeded.front, 4, username="Guest", keyboard_pwd=GUEST_CODE, lock_date_ms=when
    )
    ttlock_cloud.add_record(
        seeded.front, 7, username="Cleaner", lock_date_ms=when + 30_000
    )
    polls_before = ttlock_cloud.calls["/v3/lockRecord/list"]

    # Push is healthy (a callback came): the activity poll runs daily.
    for _ in range(25):
        freezer.tick(timedelta(minutes=61))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)

    # The poll ran, and only the record it had not seen is announced.
    assert ttlock_cloud.calls["/v3/lockRecord/list"] > polls_before
    assert [(e.data["method"], e.data["user"]) for e in events] == [
        ("code", "Guest"),
        ("card", "Cleaner"),
    ]
    assert all(e.data["source"] == "push" for e in events[:1])
    assert events[1].data["source"] == "poll"


# --------------------------------------------------------------------------- #
# Dding JSON callback

# event -> (type, method, success)
DDING_EXPECTED: dict[str, tuple[str, str, bool]] = {
    "batteryAlarm": ("battery_low", "unknown", True),
    "clearBattryAlarm": ("battery_ok", "unknown", True),
    "brokenAlarm": ("tamper", "unknown", True),
    "wrongPwdAlarm": ("wrong_code", "code", False),
    "pwdSync": ("codes_synced", "unknown", True),
    "pwdAddLocal": ("code_added", "unknown", True),
    "pwdDelLocal": ("code_deleted", "unknown", True),
    "pwdUpdateLocal": ("code_changed", "unknown", True),
    "lockerOpenAlarm": ("unlocked", "unknown", True),
    "centerOfflineAlarm": ("gateway_offline", "unknown", True),
    "clearCenterOfflineAlarm": ("gateway_online", "unknown", True),
    "lockOfflineAlarm": ("offline", "unknown", True),
    "clearLockOfflineAlarm": ("online", "unknown", True),
}
DDING_DETAIL: dict[str, dict[str, Any]] = {
    "batteryAlarm": {"battery_level": 9},
    "clearBattryAlarm": {"battery_level": 50},
    "pwdSync": {"passwords": [{"id": 1, "password": "909090"}]},
    "pwdAddLocal": {"password": {"id": 7, "password": "131313"}},
    "pwdUpdateLocal": {"password": {"id": 7, "password": "141414"}},
    "pwdDelLocal": {"password": {"id": 7}},
}


@pytest.mark.parametrize("name", sorted(DDING_EXPECTED))
async def test_dding_every_event(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    name: str,
) -> None:
    """Every Dding event of the spec maps to the lock found by its uuid alias."""
    seeded, entry = home
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    mac = ttlock_cloud.locks[seeded.back]["lockMac"]
    body = dding(name, mac, detail=DDING_DETAIL.get(name, {}))
    resp = await post(client, json.dumps(body), JSON)
    assert resp.status == 200
    assert json.loads(await resp.text()) == {"ErrNo": 0, "ErrMsg": "", "count": 1}
    await hass.async_block_till_done()

    event_type, method, success = DDING_EXPECTED[name]
    assert len(events) == 1
    data = events[0].data
    assert data["device_id"] == front_device_id(hass, entry, seeded.back)
    assert data["entity_id"] == "lock.back_door"
    assert data["lock_id"] == str(seeded.back)
    assert (data["type"], data["method"], data["success"]) == (
        event_type,
        method,
        success,
    )
    assert data["raw"]["event"] == name
    assert data["raw"]["uuid"] == mac
    dumped = json.dumps(data, default=str)
    for secret in ("909090", "131313", "141414"):
        assert secret not in dumped
    state = hass.states.get("event.back_door_activity")
    assert state.attributes["event_type"] == event_type
    for secret in ("909090", "131313", "141414"):
        assert secret not in json.dumps(dict(state.attributes), default=str)

    coordinator = entry.runtime_data.coordinator
    lock = coordinator.data.locks[str(seeded.back)]
    if name == "batteryAlarm":
        assert hass.states.get("sensor.back_door_battery").state == "9"
    if name == "clearBattryAlarm":
        assert hass.states.get("sensor.back_door_battery").state == "50"
    if name == "lockerOpenAlarm":
        assert hass.states.get("lock.back_door").state == "unlocked"
    else:
        assert hass.states.get("lock.back_door").state == "unknown"
    if name == "centerOfflineAlarm":
        assert hass.states.get("binary_sensor.hall_gateway_connectivity").state == "off"
    else:
        assert hass.states.get("binary_sensor.hall_gateway_connectivity").state == "on"
    if name == "lockOfflineAlarm":
        assert lock.online is False
    if name == "clearLockOfflineAlarm":
        assert lock.online is True
    if name in ("pwdAddLocal", "pwdUpdateLocal", "pwdDelLocal"):
        assert data["code_id"] == "7"
    if name == "pwdSync":
        assert data["raw"]["code_ids"] == ["1"]


async def test_dding_offline_then_online(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """The gateway's connectivity follows offline and online alarms."""
    seeded, _ = home
    client = await hass_client_no_auth()
    mac = ttlock_cloud.locks[seeded.front]["lockMac"]
    sensor = "binary_sensor.hall_gateway_connectivity"
    body = dding("centerOfflineAlarm", mac)
    assert (await post(client, json.dumps(body), JSON)).status == 200
    await hass.async_block_till_done()
    assert hass.states.get(sensor).state == "off"
    # Same event name a second later is a new event, not a duplicate.
    body = dding("clearCenterOfflineAlarm", mac, time=body["time"] + 1)
    assert (await post(client, json.dumps(body), JSON)).status == 200
    await hass.async_block_till_done()
    assert hass.states.get(sensor).state == "on"


async def test_lock_offline_alarm_shows_on_enabled_connectivity(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """TTLock lists say nothing of lock connectivity: the sensor starts disabled,
    and once enabled it follows pushed lock offline/online alarms."""
    seeded, entry = home
    sensor = "binary_sensor.front_door_connectivity"
    registry = er.async_get(hass)
    assert (
        registry.async_get(sensor).disabled_by is er.RegistryEntryDisabler.INTEGRATION
    )
    registry.async_update_entity(sensor, disabled_by=None)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(sensor).state == "unknown"

    client = await hass_client_no_auth()
    mac = ttlock_cloud.locks[seeded.front]["lockMac"]
    body = dding("lockOfflineAlarm", mac)
    assert (await post(client, json.dumps(body), JSON)).status == 200
    await hass.async_block_till_done()
    assert hass.states.get(sensor).state == "off"
    body = dding("clearLockOfflineAlarm", mac, time=body["time"] + 1)
    assert (await post(client, json.dumps(body), JSON)).status == 200
    await hass.async_block_till_done()
    assert hass.states.get(sensor).state == "on"


async def test_dding_duplicate_is_one_event(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """A callback delivered twice (sender retry) fires once."""
    seeded, _ = home
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    body = json.dumps(dding("brokenAlarm", ttlock_cloud.locks[seeded.front]["lockMac"]))
    for _ in range(3):
        assert (await post(client, body, JSON)).status == 200
    await hass.async_block_till_done()
    assert len(events) == 1


async def test_dding_unknown_uuid_fires_without_device(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    hass_client_no_auth: ClientFactory,
) -> None:
    """An event of a lock we do not know still reaches automations."""
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    resp = await post(
        client, json.dumps(dding("brokenAlarm", "not-a-known-uuid")), JSON
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    assert len(events) == 1
    data = events[0].data
    assert data["device_id"] is None
    assert data["entity_id"] is None
    assert data["lock_id"] is None
    assert data["type"] == "tamper"
    assert data["raw"]["uuid"] == "not-a-known-uuid"
    for entity_id in ("event.front_door_activity", "event.back_door_activity"):
        assert hass.states.get(entity_id).state == "unknown"


# --------------------------------------------------------------------------- #
# Gateway job callback


async def test_job_callback_fires_job_event_with_tag(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    hass_client_no_auth: ClientFactory,
) -> None:
    """A job result is handed to automations with its tag."""
    _, entry = home
    jobs = async_capture_events(hass, EVENT_JOB)
    locks = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    body = {
        "job": "job-42",
        "status": 1,
        "method": "addPwd",
        "tag": {"booking": "B-17", "room": 3},
        "data": {"pwd_id": 99},
        "msg": "ok",
        "codes_error": False,
    }
    resp = await post(client, json.dumps(body), JSON)
    assert resp.status == 200
    assert json.loads(await resp.text()) == {"ok": True}
    await hass.async_block_till_done()
    assert not locks
    assert len(jobs) == 1
    assert jobs[0].data == {
        "entry_id": entry.entry_id,
        "job": "job-42",
        "status": True,
        "method": "addPwd",
        "tag": {"booking": "B-17", "room": 3},
        "data": {"pwd_id": 99},
        "msg": "ok",
        "codes_error": False,
    }


# --------------------------------------------------------------------------- #
# Registration and the repair issue


async def test_issue_until_first_callback_and_after_reload(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """The repair issue stays until a valid callback, and stays gone after reload."""
    seeded, entry = home
    issues = ir.async_get(hass)
    issue_id = f"webhook_not_called_{entry.entry_id}"
    assert issues.async_get_issue(DOMAIN, issue_id) is not None
    client = await hass_client_no_auth()

    # Garbage does not count as the webhook working.
    assert (await post(client, b"hello", FORM)).status == 400
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, issue_id) is not None

    body = json.dumps(dding("brokenAlarm", ttlock_cloud.locks[seeded.front]["lockMac"]))
    assert (await post(client, body, JSON)).status == 200
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, issue_id) is None

    # Reloaded at once (no time for a debounced save): no issue comes back.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_unload_unregisters_webhook(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """After unload the id is gone: nothing is handled, no events fire."""
    seeded, entry = home
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    body = json.dumps(dding("brokenAlarm", ttlock_cloud.locks[seeded.front]["lockMac"]))
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    resp = await post(client, body, JSON)
    # Home Assistant answers 200 for unknown ids so as not to reveal them.
    assert resp.status == 200
    assert await resp.text() != '{"ErrNo":0,"ErrMsg":"","count":1}'
    await hass.async_block_till_done()
    assert not events


async def test_only_post(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    hass_client_no_auth: ClientFactory,
) -> None:
    """GET and PUT are refused by the webhook component."""
    client = await hass_client_no_auth()
    assert (await client.get(URL)).status == 405
    assert (await client.put(URL, data="x")).status == 405


# --------------------------------------------------------------------------- #
# Malformed input


def _malformed(front: int, mac: str) -> list[tuple[str, bytes | str, str]]:
    """(label, body, content type) of bodies that must be refused."""
    good_record = code_record(front, 1_700_000_000_000)
    return [
        ("empty", b"", JSON),
        ("blank", b"   \n", FORM),
        ("not json", b"{not json", JSON),
        ("json array", b"[1, 2, 3]", JSON),
        ("json string", b'"success"', JSON),
        ("not utf-8", b"\xff\xfe\x00garbage\x80", JSON),
        ("binary form", b"\x00\x01\x02lockId=\xff", FORM),
        ("nan", b'{"event": "brokenAlarm", "uuid": "x", "time": NaN}', JSON),
        ("form without records", urlencode({"lockId": front}), FORM),
        ("form without lockId", urlencode({"records": "[]"}), FORM),
        (
            "records not json",
            urlencode({"lockId": front, "records": "[{"}),
            FORM,
        ),
        (
            "records not a list",
            urlencode({"lockId": front, "records": '{"a": 1}'}),
            FORM,
        ),
        (
            "record not an object",
            urlencode({"lockId": front, "records": "[1]"}),
            FORM,
        ),
        (
            "record without date",
            urlencode(
                {
                    "lockId": front,
                    "records": json.dumps([{"recordType": 4, "success": 1}]),
                }
            ),
            FORM,
        ),
        (
            "lockId wrong type",
            json.dumps({"lockId": [front], "records": [good_record]}),
            JSON,
        ),
        (
            "duplicate form field",
            urlencode([("lockId", front), ("lockId", 2), ("records", "[]")]),
            FORM,
        ),
        ("unknown event", json.dumps({"event": "doorExploded", "uuid": mac}), JSON),
        ("event wrong type", json.dumps({"event": 5, "uuid": mac}), JSON),
        ("uuid missing", json.dumps({"event": "lockerOpenAlarm"}), JSON),
        ("uuid wrong type", json.dumps({"event": "lockerOpenAlarm", "uuid": []}), JSON),
        (
            "time wrong type",
            json.dumps({"event": "lockerOpenAlarm", "uuid": mac, "time": "soon"}),
            JSON,
        ),
        (
            "time out of range",
            json.dumps({"event": "lockerOpenAlarm", "uuid": mac, "time": 10**20}),
            JSON,
        ),
        (
            "detail wrong type",
            json.dumps({"event": "batteryAlarm", "uuid": mac, "detail": [1]}),
            JSON,
        ),
        (
            "battery wrong type",
            json.dumps(
                {"event": "batteryAlarm", "uuid": mac, "detail": {"battery_level": "x"}}
            ),
            JSON,
        ),
        ("job without method", json.dumps({"job": "j", "status": 1}), JSON),
        (
            "job status wrong",
            json.dumps({"job": "j", "method": "addPwd", "status": "maybe"}),
            JSON,
        ),
        ("unrecognised json", json.dumps({"hello": "world"}), JSON),
        ("unrecognised form", urlencode({"hello": "world"}), FORM),
        (
            "huge body",
            json.dumps({"event": "lockerOpenAlarm", "uuid": mac, "pad": "x" * 200_000}),
            JSON,
        ),
        ("deep nesting", "[" * 100_000 + "]" * 100_000, JSON),
        (
            "too many form fields",
            "&".join(f"f{i}=1" for i in range(5000)),
            FORM,
        ),
    ]


async def test_malformed_bodies_are_refused_quietly(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """4xx with a short reason, a debug line, no change; valid input still works."""
    seeded, entry = home
    caplog.set_level(logging.DEBUG, logger=INTEGRATION_LOGGER)
    events = async_capture_events(hass, EVENT_LOCK)
    jobs = async_capture_events(hass, EVENT_JOB)
    client = await hass_client_no_auth()
    mac = ttlock_cloud.locks[seeded.front]["lockMac"]
    before = {s.entity_id: s.state for s in hass.states.async_all()}

    for label, body, content_type in _malformed(seeded.front, mac):
        caplog.clear()
        resp = await post(client, body, content_type)
        text = await resp.text()
        assert 400 <= resp.status < 500, (label, resp.status, text)
        assert 0 < len(text) <= 80, (label, text)
        assert "Traceback" not in text
        await hass.async_block_till_done()
        assert any(
            r.levelno == logging.DEBUG and r.name.startswith(INTEGRATION_LOGGER)
            for r in caplog.records
        ), label
        assert_no_errors(caplog)

    assert not events
    assert not jobs
    assert {s.entity_id: s.state for s in hass.states.async_all()} == before
    assert not entry.runtime_data.coordinator.webhook_seen

    # A valid callback right after the garbage works.
    resp = await post(client, json.dumps(dding("brokenAlarm", mac)), JSON)
    assert resp.status == 200
    await hass.async_block_till_done()
    assert len(events) == 1
    assert events[0].data["entity_id"] == "lock.front_door"
    assert_no_errors(caplog)


def _fuzz_bodies() -> st.SearchStrategy[tuple[bytes, str]]:
    """Malformed (and a few accidentally valid) bodies in both content types."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=30),
    )
    json_values = st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=10), children, max_size=4),
        ),
        max_leaves=12,
    )
    field_value = st.one_of(json_values, st.sampled_from(["", "0", "-1", "1e99"]))
    event_names = st.one_of(
        st.sampled_from([*DDING_EXPECTED, "clearBatteryAlarm"]), st.text(max_size=20)
    )
    dding_like = st.fixed_dictionaries(
        {"event": st.one_of(event_names, json_values)},
        optional={
            "uuid": field_value,
            "time": field_value,
            "home_id": field_value,
            "nickname": field_value,
            "detail": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "battery_level": field_value,
                        "password": field_value,
                        "passwords": field_value,
                    },
                ),
            ),
        },
    )
    records = st.lists(
        st.one_of(
            json_values,
            st.fixed_dictionaries(
                {},
                optional={
                    "lockId": field_value,
                    "recordType": field_value,
                    "success": field_value,
                    "lockDate": field_value,
                    "serverDate": field_value,
                    "keyboardPwd": field_value,
                    "electricQuantity": field_value,
                    "username": field_value,
                },
            ),
        ),
        max_size=3,
    )
    ttlock_like = st.fixed_dictionaries(
        {"lockId": field_value},
        optional={
            "records": st.one_of(records, records.map(json.dumps), st.text(max_size=20))
        },
    )
    job_like = st.fixed_dictionaries(
        {"job": field_value},
        optional={
            "method": field_value,
            "status": field_value,
            "tag": json_values,
            "msg": field_value,
            "codes_error": field_value,
        },
    )
    objects = st.one_of(dding_like, ttlock_like, job_like, json_values)

    def as_form(obj: Any) -> bytes:
        if isinstance(obj, dict):
            pairs = [
                (str(k), v if isinstance(v, str) else json.dumps(v))
                for k, v in obj.items()
            ]
            return urlencode(pairs).encode()
        return json.dumps(obj).encode()

    content_types = st.sampled_from(
        [JSON, FORM, f"{FORM}; charset=utf-8", "text/plain", "application/xml", ""]
    )
    bodies = st.one_of(
        objects.map(lambda o: json.dumps(o).encode()),
        objects.map(as_form),
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
        objects.map(lambda o: json.dumps(o).encode()[:-1]),  # truncated
    )
    return st.tuples(bodies, content_types)


async def test_fuzz_webhook_never_fails(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1,000+ generated bodies through real HTTP: no 5xx, no error log, still works."""
    seeded, _ = home
    generated: list[tuple[bytes, str]] = []

    @settings(
        max_examples=1200,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, *HealthCheck],
    )
    @given(_fuzz_bodies())
    def collect(case: tuple[bytes, str]) -> None:
        generated.append(case)

    collect()
    assert len(generated) >= 1000

    client = await hass_client_no_auth()
    statuses: dict[int, int] = {}
    for body, content_type in generated:
        headers = {"Content-Type": content_type} if content_type else {}
        resp = await client.post(URL, data=body, headers=headers)
        await resp.read()
        statuses[resp.status] = statuses.get(resp.status, 0) + 1
        assert resp.status < 500, (body[:200], content_type, resp.status)
        assert resp.status in (200, 400), (body[:200], content_type, resp.status)
    await hass.async_block_till_done()
    assert statuses.get(400, 0) > 500, statuses
    assert_no_errors(caplog)

    # Whatever was accepted, the webhook still works for a real unlock.
    events = async_capture_events(hass, EVENT_LOCK)
    resp = await post(
        client,
        ttlock_form(
            ttlock_cloud, seeded.front, [code_record(seeded.front, now_ms() - 30_000)]
        ),
        FORM,
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    assert [e.data["entity_id"] for e in events] == ["lock.front_door"]
    assert_no_errors(caplog)


async def test_body_arriving_in_pieces(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """A valid body sent in several network chunks is read whole."""
    seeded, _ = home
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    records = [
        code_record(seeded.front, now_ms() - 600_000 + i * 1000, username=f"G{i}")
        for i in range(60)
    ]
    body = ttlock_form(ttlock_cloud, seeded.front, records).encode()
    assert len(body) > 10_000

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]
            await asyncio.sleep(0.001)  # pacing: chunks, not a wait

    resp = await client.post(URL, data=pieces(), headers={"Content-Type": FORM})
    assert resp.status == 200, await resp.text()
    assert await resp.text() == "success"
    await hass.async_block_till_done()
    assert len(events) == 60


async def test_push_then_restart_then_poll_is_one_event(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """Records seen by push are remembered across a reload of the entry."""
    seeded, entry = home
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    when = now_ms() - 60_000
    resp = await post(
        client,
        ttlock_form(ttlock_cloud, seeded.back, [code_record(seeded.back, when)]),
        FORM,
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    assert len(events) == 1

    # Saved (debounced), then the entry restarts.
    freezer.tick(timedelta(seconds=10))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    ttlock_cloud.add_record(
        seeded.back, 4, username="Guest", keyboard_pwd=GUEST_CODE, lock_date_ms=when
    )
    polls_before = ttlock_cloud.calls["/v3/lockRecord/list"]
    # Push is healthy (a callback came): the activity poll runs daily.
    for _ in range(25):
        freezer.tick(timedelta(minutes=61))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
    assert ttlock_cloud.calls["/v3/lockRecord/list"] > polls_before
    assert len(events) == 1
    assert hass.states.get("lock.back_door").state == "unlocked"


async def test_cloudhook_style_request(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Home Assistant Cloud relays callbacks as a MockRequest; they work the same."""
    seeded, entry = home
    events = async_capture_events(hass, EVENT_LOCK)
    ws = await hass_ws_client(hass)

    async def relay(body: str, content_type: str) -> dict[str, Any]:
        await ws.send_json_auto_id(
            {
                "type": "webhook/handle",
                "webhook_id": TTLOCK_WEBHOOK_ID,
                "method": "POST",
                "body": body,
                "headers": {"Content-Type": content_type},
            }
        )
        msg = await ws.receive_json()
        assert msg["success"], msg
        result: dict[str, Any] = msg["result"]
        return result

    when = now_ms() - 60_000
    result = await relay(
        ttlock_form(ttlock_cloud, seeded.front, [code_record(seeded.front, when)]),
        f"{FORM}; charset=utf-8",
    )
    assert (result["status"], result["body"]) == (200, "success")
    result = await relay(
        json.dumps(dding("brokenAlarm", ttlock_cloud.locks[seeded.back]["lockMac"])),
        JSON,
    )
    assert result["status"] == 200
    await hass.async_block_till_done()
    assert [e.data["entity_id"] for e in events] == [
        "lock.front_door",
        "lock.back_door",
    ]
    assert entry.runtime_data.coordinator.webhook_seen

    result = await relay("{not json", JSON)
    assert result["status"] == 400
    await hass.async_block_till_done()
    assert len(events) == 2


async def test_registration_is_remote_and_post_only(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The clouds call from the Internet: not local-only, POST only, one per entry."""
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id({"type": "webhook/list"})
    msg = await ws.receive_json()
    ours = [w for w in msg["result"] if w["domain"] == DOMAIN]
    assert len(ours) == 1
    assert ours[0]["webhook_id"] == TTLOCK_WEBHOOK_ID
    assert ours[0]["local_only"] is False
    assert ours[0]["allowed_methods"] == ["POST"]


async def test_dding_centre_alarm_names_one_gateway(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """A centre alarm whose uuid is a gateway's MAC affects that gateway only;
    an unknown centre changes nothing but still fires an event."""
    hall = ttlock_cloud.add_gateway(name="Hall gateway")
    attic = ttlock_cloud.add_gateway(name="Attic gateway")
    ttlock_cloud.add_lock(name="Front door", gateway_id=hall)
    ttlock_cloud.add_lock(name="Loft door", gateway_id=attic)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()

    attic_mac = ttlock_cloud.gateways[attic]["gatewayMac"]
    body = dding("centerOfflineAlarm", attic_mac)
    assert (await post(client, json.dumps(body), JSON)).status == 200
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.attic_gateway_connectivity").state == "off"
    assert hass.states.get("binary_sensor.hall_gateway_connectivity").state == "on"

    body = dding("centerOfflineAlarm", "no-such-centre", time=body["time"] + 1)
    assert (await post(client, json.dumps(body), JSON)).status == 200
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.hall_gateway_connectivity").state == "on"
    assert [e.data["type"] for e in events] == ["gateway_offline", "gateway_offline"]
    assert events[1].data["device_id"] is None
