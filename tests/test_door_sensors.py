"""TTLock standalone door sensors (DS3): listed, pushed (notifyType 7), restored.

Against the fake TTLock cloud over loopback; callbacks go through the real
webhook. Sources: euopen.ttlock.com document-pages/en/cloud/doorSensor/
standaloneDoorSensor/list and …/standaloneDoorSensor/notify.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.ttlock_gateway.const import DOMAIN, EVENT_LOCK
from custom_components.ttlock_gateway.providers.models import CloudList
from custom_components.ttlock_gateway.providers.ttlock import TTLockClient
from tests.common import TTLOCK_WEBHOOK_ID, restart_entry, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.test_ttlock_client import make_client

URL = f"/api/webhook/{TTLOCK_WEBHOOK_ID}"
FORM = "application/x-www-form-urlencoded"
LIST = "/v3/standaloneDoorSensor/list"
DOOR = "binary_sensor.front_door_door"
BATTERY = "sensor.front_door_battery"


async def _push(client: TestClient, hass: HomeAssistant, body: str) -> None:
    resp = await client.post(URL, data=body, headers={"Content-Type": FORM})
    assert (resp.status, await resp.text()) == (200, "success")
    await hass.async_block_till_done(wait_background_tasks=True)


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


# --------------------------------------------------------------- the client


async def test_client_pages_and_bounds(
    ttlock_cloud: FakeTTLockCloud, socket_enabled: Any
) -> None:
    """Pages of at most 200 (the fake refuses more, as documented), odd values
    bounded, an entry without an id skipped (the list is then not complete)."""
    for i in range(203):
        ttlock_cloud.add_door_sensor(f"Sensor {i}")
    odd = ttlock_cloud.add_door_sensor("Odd", state=7, battery=400, delay_flag=[1])
    typed = ttlock_cloud.add_door_sensor("Typed", state="1", battery="abc")
    stale = ttlock_cloud.add_door_sensor("Stale", state=1, delay_flag=1)
    async with aiohttp.ClientSession() as session:
        client: TTLockClient = make_client(ttlock_cloud, session)
        sensors = await client.async_list_door_sensors()
        assert ttlock_cloud.calls[LIST] == 2
        assert isinstance(sensors, CloudList)
        assert sensors.complete
        by_id = {s.sensor_id: s for s in sensors}
        assert len(by_id) == 206
        assert (by_id[str(odd)].open, by_id[str(odd)].battery) == (None, None)
        assert by_id[str(odd)].stale is False
        # A decimal string is an int (bounds.opt_int); "abc" is no battery.
        assert (by_id[str(typed)].open, by_id[str(typed)].battery) == (True, None)
        assert by_id[str(stale)].stale is True

        ttlock_cloud.door_sensors[odd]["doorSensorId"] = None
        again = await client.async_list_door_sensors()
        assert isinstance(again, CloudList)
        assert not again.complete
        assert str(odd) not in {s.sensor_id for s in again}


# ------------------------------------------------------------- through HA


async def test_entities_and_pushes(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: Any,
) -> None:
    ttlock_cloud.add_lock(name="Hall lock")
    sensor_id = ttlock_cloud.add_door_sensor("Front door", state=0, battery=80)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert ttlock_cloud.calls[LIST] == 1
    assert hass.states.get(DOOR).state == "off"
    assert hass.states.get(DOOR).attributes["device_class"] == "door"
    assert hass.states.get(BATTERY).state == "80"
    entry_devices = dr.async_entries_for_config_entry(
        dr.async_get(hass), entry.entry_id
    )
    device = next(d for d in entry_devices if d.model == "TTLock door sensor")
    assert device.name == "Front door"

    events = async_capture_events(hass, EVENT_LOCK)
    client: TestClient = await hass_client_no_auth()
    await _push(client, hass, ttlock_cloud.door_sensor_callback(sensor_id, 1))
    assert hass.states.get(DOOR).state == "on"
    await _push(client, hass, ttlock_cloud.door_sensor_callback(sensor_id, 2))
    assert hass.states.get(DOOR).state == "on"  # an alarm: not a change
    await _push(client, hass, ttlock_cloud.door_sensor_callback(sensor_id, 0))
    assert hass.states.get(DOOR).state == "off"
    assert [e.data["type"] for e in events] == ["door_opened", "other", "door_closed"]
    assert {e.data["device_id"] for e in events} == {device.id}
    assert {e.data["entity_id"] for e in events} == {DOOR}
    # No push costs a call.
    assert ttlock_cloud.calls[LIST] == 1


async def test_forged_mac_changes_nothing(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: Any,
) -> None:
    sensor_id = ttlock_cloud.add_door_sensor("Front door", state=0)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    events = async_capture_events(hass, EVENT_LOCK)
    client: TestClient = await hass_client_no_auth()
    forged = ttlock_cloud.door_sensor_callback(sensor_id, 1, mac="11:22:33:44:55:66")
    await _push(client, hass, forged)
    assert hass.states.get(DOOR).state == "off"
    assert events == []


async def test_unknown_sensor_relists_at_most_hourly(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    ttlock_cloud.add_lock(name="Hall lock")
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert ttlock_cloud.calls[LIST] == 1
    # Added in the app after set-up: its first push makes us look.
    sensor_id = ttlock_cloud.add_door_sensor("Front door", state=0)
    events = async_capture_events(hass, EVENT_LOCK)
    client: TestClient = await hass_client_no_auth()
    await _push(client, hass, ttlock_cloud.door_sensor_callback(sensor_id, 1))
    # Today's behaviour for the unknown sender: the event, no device.
    assert [(e.data["type"], e.data["device_id"]) for e in events] == [
        ("door_opened", None)
    ]
    await _advance(hass, freezer, timedelta(seconds=15))
    assert ttlock_cloud.calls[LIST] == 2
    assert hass.states.get(DOOR).state == "on"

    other = 999_999_999
    lists = ttlock_cloud.calls["/v3/lock/list"]
    for record_type in (1, 0, 1):
        await _push(client, hass, ttlock_cloud.door_sensor_callback(other, record_type))
        await _advance(hass, freezer, timedelta(seconds=15))
    # Within the hour: no other list for an unknown sensor.
    assert ttlock_cloud.calls["/v3/lock/list"] == lists
    await _advance(hass, freezer, timedelta(minutes=59))
    before = ttlock_cloud.calls[LIST]
    await _push(client, hass, ttlock_cloud.door_sensor_callback(other, 0))
    await _advance(hass, freezer, timedelta(seconds=15))
    assert ttlock_cloud.calls[LIST] == before + 1


async def test_push_during_a_list_is_not_undone(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: Any,
) -> None:
    """The list was asked before the push came: its older "closed" loses."""
    sensor_id = ttlock_cloud.add_door_sensor("Front door", state=0)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    coordinator = entry.runtime_data.coordinator
    gate = ttlock_cloud.gate(LIST)
    # A background task: waiting for the loop to settle must not wait for it.
    refresh = hass.async_create_background_task(
        coordinator.async_refresh(), "held door sensor list"
    )
    while ttlock_cloud.calls[LIST] < 2 and not refresh.done():
        await hass.async_block_till_done()
    client: TestClient = await hass_client_no_auth()
    resp = await client.post(
        URL,
        data=ttlock_cloud.door_sensor_callback(sensor_id, 1),
        headers={"Content-Type": FORM},
    )
    assert resp.status == 200
    # The list's snapshot is from before the door opened.
    ttlock_cloud.door_sensors[sensor_id]["doorSensorState"] = 0
    gate.set()
    await refresh
    await hass.async_block_till_done()
    assert ttlock_cloud.calls[LIST] == 2
    assert hass.states.get(DOOR).state == "on"


async def test_restart_keeps_state_without_calls(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: Any,
) -> None:
    ttlock_cloud.add_lock(name="Hall lock")
    sensor_id = ttlock_cloud.add_door_sensor("Front door", state=0, battery=55)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    client: TestClient = await hass_client_no_auth()
    await _push(client, hass, ttlock_cloud.door_sensor_callback(sensor_id, 1))
    ttlock_cloud.reset_calls()
    await restart_entry(hass, entry)
    assert ttlock_cloud.total_calls == 0
    assert hass.states.get(DOOR).state == "on"
    assert hass.states.get(BATTERY).state == "55"


async def test_no_sensors_no_hourly_call(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An account without DS3 is asked once a day, not with every lock list."""
    ttlock_cloud.add_lock(name="Hall lock")
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert ttlock_cloud.calls[LIST] == 1
    lists = ttlock_cloud.calls["/v3/lock/list"]
    for _ in range(6):
        await _advance(hass, freezer, timedelta(hours=1, minutes=1))
    assert ttlock_cloud.calls["/v3/lock/list"] >= lists + 5
    assert ttlock_cloud.calls[LIST] == 1
    for _ in range(19):
        await _advance(hass, freezer, timedelta(hours=1, minutes=1))
    assert ttlock_cloud.calls[LIST] == 2


async def test_sensor_removed_after_two_lists(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    ttlock_cloud.add_lock(name="Hall lock")
    sensor_id = ttlock_cloud.add_door_sensor("Front door", state=1)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert hass.states.get(DOOR).state == "on"
    # Twice the list lacks it (and says it is complete only without it).
    entry_sensor = ttlock_cloud.door_sensors.pop(sensor_id)
    ttlock_cloud.door_sensors[sensor_id + 1] = {**entry_sensor, "doorSensorId": None}
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    registry = dr.async_get(hass)
    key = f"{entry.runtime_data.coordinator.account_id}_doorsensor_{sensor_id}"
    assert (
        registry.async_get_device_by_identifier((DOMAIN, key), entry.entry_id)
        is not None
    )
    await _advance(hass, freezer, timedelta(hours=1, minutes=1))
    assert (
        registry.async_get_device_by_identifier((DOMAIN, key), entry.entry_id) is None
    )


async def test_odd_values_and_a_failed_list(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """State 7 / battery 400 / wrong types are unknown, "stale" is unknown; a
    refused door sensor list leaves the locks and the sensors as they were."""
    ttlock_cloud.add_lock(name="Hall lock")
    sensor_id = ttlock_cloud.add_door_sensor(
        "Front door", state=7, battery=400, delay_flag="x"
    )
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert hass.states.get(DOOR).state == "unknown"
    assert hass.states.get(BATTERY).state == "unknown"
    ttlock_cloud.door_sensors[sensor_id].update(
        doorSensorState=1, electricQuantity=[40], statusDelayFlag=1
    )
    await _advance(hass, freezer, timedelta(hours=1, minutes=1))
    assert hass.states.get(DOOR).state == "unknown"  # stale: not trusted
    ttlock_cloud.door_sensors[sensor_id].update(
        doorSensorState=1, electricQuantity=40, statusDelayFlag=0
    )
    await _advance(hass, freezer, timedelta(hours=1, minutes=1))
    assert hass.states.get(DOOR).state == "on"
    assert hass.states.get(BATTERY).state == "40"

    before = ttlock_cloud.calls[LIST]
    ttlock_cloud.fail(LIST, -3, "invalid parameter")
    await _advance(hass, freezer, timedelta(hours=1, minutes=1))
    assert ttlock_cloud.calls[LIST] == before + 1
    assert entry.runtime_data.coordinator.last_update_success
    assert hass.states.get(DOOR).state == "on"
    assert hass.states.get("lock.hall_lock").state != "unavailable"
    registry = dr.async_get(hass)
    key = f"{entry.runtime_data.coordinator.account_id}_doorsensor_{sensor_id}"
    # A failed list is not a list that lacked it.
    ttlock_cloud.fail(LIST, -3, "invalid parameter")
    await _advance(hass, freezer, timedelta(hours=1, minutes=1))
    assert (
        registry.async_get_device_by_identifier((DOMAIN, key), entry.entry_id)
        is not None
    )


async def test_unload_while_the_list_is_held(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: Any,
) -> None:
    """A reload while the door sensor list is in flight loses no pushed state."""
    sensor_id = ttlock_cloud.add_door_sensor("Front door", state=0)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    client: TestClient = await hass_client_no_auth()
    await _push(client, hass, ttlock_cloud.door_sensor_callback(sensor_id, 1))
    gate = ttlock_cloud.gate(LIST)
    refresh = hass.async_create_background_task(
        entry.runtime_data.coordinator.async_refresh(), "held door sensor list"
    )
    while ttlock_cloud.calls[LIST] < 2 and not refresh.done():
        await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    gate.set()
    await hass.async_block_till_done()
    ttlock_cloud.reset_calls()
    await restart_entry(hass, entry)
    assert hass.states.get(DOOR).state == "on"
    assert ttlock_cloud.total_calls == 0
