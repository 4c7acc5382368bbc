"""What an entry knew survives reloads and restarts, and costs no extra calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
import json
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.lock import DOMAIN as LOCK_DOMAIN
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_ON,
    SERVICE_UNLOCK,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.ttlock_gateway.const import DOMAIN, EVENT_LOCK
from custom_components.ttlock_gateway.providers.ttlock_records import record_event_id
from tests.common import (
    TTLOCK_WEBHOOK_ID,
    entry_states,
    restart_entry,
    seed_ttlock_home,
    setup_entry,
    ttlock_callback,
    ttlock_data,
    ttlock_record,
    tuya_data,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud, _Answer
from tests.fakes.tuya_cloud import FakeTuyaCloud

type ClientFactory = Callable[[], Awaitable[TestClient]]

URL = f"/api/webhook/{TTLOCK_WEBHOOK_ID}"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
DETAIL = "/v3/lock/detail"
RECORDS = "/v3/lockRecord/list"
LIST = "/v3/lock/list"


def _now_ms() -> int:
    return int(dt_util.utcnow().timestamp() * 1000)


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def _enable_all(
    hass: HomeAssistant, entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Turn on the entities that are disabled by default; Home Assistant reloads
    the entry 30 s later."""
    registry = er.async_get(hass)
    for reg in er.async_entries_for_config_entry(registry, entry.entry_id):
        if reg.disabled_by is not None:
            registry.async_update_entity(reg.entity_id, disabled_by=None)
    await _advance(hass, freezer, timedelta(seconds=31))
    assert all(
        not reg.disabled_by
        for reg in er.async_entries_for_config_entry(registry, entry.entry_id)
    )


async def _post(client: TestClient, body: str, content_type: str = FORM) -> None:
    resp = await client.post(URL, data=body, headers={"Content-Type": content_type})
    assert resp.status == 200, await resp.text()


async def test_ttlock_restart_keeps_every_state_without_calls(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientFactory,
) -> None:
    """Every entity shows after a restart what it showed before; no call is
    made until the schedule's next list, which then confirms what was restored."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    await _enable_all(hass, entry, freezer)
    client = await hass_client_no_auth()

    # Life before the restart: a guest code at the back, the app locks the
    # front, passage mode on at the front, the shed and the gateway offline.
    now = _now_ms()
    await _post(
        client,
        ttlock_callback(ttlock_cloud, home.back, [ttlock_record(home.back, 4, now)]),
    )
    await _post(
        client,
        ttlock_callback(ttlock_cloud, home.front, [ttlock_record(home.front, 11, now)]),
    )
    shed_mac = ttlock_cloud.locks[home.shed]["lockMac"]
    for name in ("lockOfflineAlarm", "centerOfflineAlarm"):
        body = {"event": name, "time": now // 1000, "uuid": shed_mac, "home_id": "h"}
        await _post(client, json.dumps(body), JSON)
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: "switch.front_door_passage_mode"},
        blocking=True,
    )
    await _advance(hass, freezer, timedelta(minutes=20))

    before = entry_states(hass, entry)
    assert before["lock.back_door"][0] == "unlocked"
    assert before["lock.front_door"][0] == "locked"
    assert before["lock.shed"][0] == STATE_UNKNOWN  # never known: stays so
    assert before["switch.front_door_passage_mode"][0] == "on"
    assert before["switch.back_door_passage_mode"][0] == "off"
    assert before["sensor.front_door_auto_lock_time"][0] == "5"
    assert before["sensor.back_door_battery"][0] == "70"
    assert before["binary_sensor.shed_connectivity"][0] == "off"
    assert before["binary_sensor.hall_gateway_connectivity"][0] == "off"
    assert before["sensor.back_door_last_activity"][0] != STATE_UNKNOWN
    assert len(before) == 23  # with the two guest-access calendars

    ttlock_cloud.reset_calls()
    await restart_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert ttlock_cloud.total_calls <= 1, ttlock_cloud.calls
    assert entry_states(hass, entry) == before
    coordinator = entry.runtime_data.coordinator
    assert coordinator.restored
    assert all(
        act.restored for act in coordinator.activity.values() if act.details_time
    )
    # The webhook was called before the restart: no repair comes back.
    assert (
        ir.async_get(hass).async_get_issue(
            DOMAIN, f"webhook_not_called_{entry.entry_id}"
        )
        is None
    )

    # The next list comes when the schedule says (push is healthy, callbacks
    # came: two hours after the last one), not earlier, and is one list
    # (plus sign-in and gateways), no details.
    await _advance(hass, freezer, timedelta(minutes=90))
    assert ttlock_cloud.calls[LIST] == 0
    await _advance(hass, freezer, timedelta(minutes=15))
    assert ttlock_cloud.calls[LIST] == 1
    assert ttlock_cloud.calls[DETAIL] == 0
    assert ttlock_cloud.calls[RECORDS] == 0
    assert not coordinator.restored
    after = entry_states(hass, entry)
    # The cloud's list says the gateway is online (newer than the alarm).
    assert after["binary_sensor.hall_gateway_connectivity"][0] == "on"
    assert after["lock.back_door"] == before["lock.back_door"]
    assert after["switch.front_door_passage_mode"][0] == "on"


async def test_tuya_restart_keeps_every_state_without_calls(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The same for a Tuya account: Wi-Fi and Zigbee locks, passage mode, unlocked."""
    tuya_cloud.add_device(name="Front gate", passage_mode=False, battery=64)
    tuya_cloud.add_device(name="Garden door", wifi=False, battery=20)
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    await _enable_all(hass, entry, freezer)
    await hass.services.async_call(
        LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: "lock.front_gate"}, blocking=True
    )
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: "switch.front_gate_passage_mode"},
        blocking=True,
    )
    await _advance(hass, freezer, timedelta(minutes=10))
    before = entry_states(hass, entry)
    assert before["lock.front_gate"][0] == "unlocked"
    assert before["lock.garden_door"][0] == "locked"
    assert before["switch.front_gate_passage_mode"][0] == "on"
    assert before["sensor.garden_door_battery"][0] == "10"

    tuya_cloud.reset_calls()
    await restart_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert tuya_cloud.total_calls <= 1, tuya_cloud.calls
    assert entry_states(hass, entry) == before


async def test_restart_after_the_list_interval_lists_but_fetches_no_details(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Home Assistant was off for two hours: the list is due, details are not."""
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: "switch.front_door_passage_mode"},
        blocking=True,
    )
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    freezer.tick(timedelta(hours=2))
    ttlock_cloud.reset_calls()
    await restart_entry(hass, entry)
    assert ttlock_cloud.calls[LIST] == 1
    assert ttlock_cloud.calls[DETAIL] == 0
    assert ttlock_cloud.calls[RECORDS] == 0
    assert hass.states.get("switch.front_door_passage_mode").state == "on"


async def test_reload_keeps_passage_mode_and_auto_lock(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientFactory,
) -> None:
    """After a reload the switches are not unknown and auto-lock still works.

    The stored last poll used to suppress the detail fetch, so passage mode and
    the auto-lock time were unknown for up to 6 hours and a keypad unlock left
    the door "unlocked" indefinitely.
    """
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    await _advance(hass, freezer, timedelta(minutes=30))
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("switch.front_door_passage_mode").state == "off"
    assert hass.states.get("switch.back_door_passage_mode").state == "off"

    client = await hass_client_no_auth()
    await _post(
        client,
        ttlock_callback(
            ttlock_cloud, home.front, [ttlock_record(home.front, 4, _now_ms())]
        ),
    )
    assert hass.states.get("lock.front_door").state == "unlocked"
    await _advance(hass, freezer, timedelta(seconds=6))
    assert hass.states.get("lock.front_door").state == "locked"


async def test_restored_unlock_relocks_at_its_auto_lock_time(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientFactory,
) -> None:
    """Unlocked a second before the restart, auto-lock 5 s: locked 4 s after it."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    client = await hass_client_no_auth()
    await _post(
        client,
        ttlock_callback(
            ttlock_cloud, home.front, [ttlock_record(home.front, 4, _now_ms())]
        ),
    )
    freezer.tick(timedelta(seconds=1))
    await restart_entry(hass, entry)
    assert hass.states.get("lock.front_door").state == "unlocked"
    await _advance(hass, freezer, timedelta(seconds=4, milliseconds=100))
    assert hass.states.get("lock.front_door").state == "locked"


async def test_version_1_store_is_migrated(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_storage: dict[str, Any],
    hass_client_no_auth: ClientFactory,
) -> None:
    """An activity file of the previous version: its seen ids still count, its
    'webhook seen' too, and the details it never held are fetched at once
    (without the records, whose poll is not due)."""
    home = seed_ttlock_home(ttlock_cloud)
    when = _now_ms() - 60_000
    record = ttlock_record(home.front, 4, when)
    seen_id = record_event_id(str(home.front), when, 4, True)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Test account",
        data=ttlock_data(ttlock_cloud),
        unique_id="fake-client-id_acct",
    )
    entry.add_to_hass(hass)
    hour_ago = (dt_util.utcnow() - timedelta(hours=1)).isoformat()
    hass_storage[f"{DOMAIN}.{entry.entry_id}.activity"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}.activity",
        "data": {
            "webhook_seen": True,
            "last_activity_poll": hour_ago,
            "locks": {str(home.front): {"last_time": hour_ago, "seen": [seen_id]}},
        },
    }
    ttlock_cloud.reset_calls()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert ttlock_cloud.calls[DETAIL] == 3
    assert ttlock_cloud.calls[RECORDS] == 0
    assert hass.states.get("switch.front_door_passage_mode").state == "off"
    assert (
        ir.async_get(hass).async_get_issue(
            DOMAIN, f"webhook_not_called_{entry.entry_id}"
        )
        is None
    )

    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    await _post(client, ttlock_callback(ttlock_cloud, home.front, [record]))
    assert events == []  # announced before the upgrade
    # …but it still tells the unknown bolt position.
    assert hass.states.get("lock.front_door").state == "locked"  # auto-locked since

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}.activity"]
    assert stored["version"] == 2
    assert seen_id in stored["data"]["locks"][str(home.front)]["seen"]


async def test_damaged_store_costs_only_what_it_held(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_storage: dict[str, Any],
) -> None:
    """Unreadable values are dropped one by one; setup works and lists."""
    seed_ttlock_home(ttlock_cloud)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Test account",
        data=ttlock_data(ttlock_cloud),
        unique_id="fake-client-id_acct",
    )
    entry.add_to_hass(hass)
    hass_storage[f"{DOMAIN}.{entry.entry_id}.activity"] = {
        "version": 2,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}.activity",
        "data": {
            "webhook_seen": 5,
            "last_list": "yesterday",
            "last_activity_poll": None,
            "missing": {"x": "two"},
            "locks": {
                "1": "not an object",
                "2": {"lock": {"lock_id": 2}, "seen": {"a": 1}, "state_time": []},
                "3": {"lock": {"lock_id": "3", "name": "Ghost", "capabilities": {}}},
            },
            "gateways": {"g": {"gateway": {"gateway_id": "g"}}, "h": []},
        },
    }
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("lock.front_door") is not None
    # "Ghost" was restored; TTLock's complete list says it left: gone.
    assert "3" not in entry.runtime_data.coordinator.data.locks


async def test_stored_times_ahead_of_the_clock_do_not_block(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientFactory,
) -> None:
    """The clock was a day ahead when the file was written, then corrected:
    the poll is not suppressed for a day and newer records still apply."""
    home = seed_ttlock_home(ttlock_cloud)
    freezer.tick(timedelta(days=1))
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    client = await hass_client_no_auth()
    await _post(
        client,
        ttlock_callback(
            ttlock_cloud, home.back, [ttlock_record(home.back, 4, _now_ms())]
        ),
    )
    assert hass.states.get("lock.back_door").state == "unlocked"
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    freezer.tick(-timedelta(days=1))
    ttlock_cloud.reset_calls()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert ttlock_cloud.calls[RECORDS] == 3  # the poll ran
    await _post(
        client,
        ttlock_callback(
            ttlock_cloud, home.back, [ttlock_record(home.back, 11, _now_ms())]
        ),
    )
    assert hass.states.get("lock.back_door").state == "locked"


async def test_details_missed_at_setup_come_with_the_next_list(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Details the store lacks are fetched at setup; one that fails then (the
    cloud errs for that lock) is fetched with the next list, and after that no
    list asks for details until the activity poll."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Test account",
        data=ttlock_data(ttlock_cloud),
        unique_id="fake-client-id_acct",
    )
    entry.add_to_hass(hass)
    recent = (dt_util.utcnow() - timedelta(minutes=10)).isoformat()
    hass_storage[f"{DOMAIN}.{entry.entry_id}.activity"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}.activity",
        "data": {"webhook_seen": True, "last_activity_poll": recent, "locks": {}},
    }
    original = ttlock_cloud._lock_detail

    def flaky(params: dict[str, str]) -> dict[str, Any]:
        if params.get("lockId") == str(home.front):
            ttlock_cloud._lock_detail = original  # type: ignore[method-assign]
            raise _Answer(90000, "internal server error")
        return original(params)

    ttlock_cloud._lock_detail = flaky  # type: ignore[method-assign]
    ttlock_cloud.reset_calls()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert ttlock_cloud.calls[DETAIL] == 3
    assert hass.states.get("switch.front_door_passage_mode").state == STATE_UNKNOWN
    assert hass.states.get("switch.back_door_passage_mode").state == "off"

    await _advance(hass, freezer, timedelta(minutes=61))
    assert ttlock_cloud.calls[DETAIL] == 4
    assert hass.states.get("switch.front_door_passage_mode").state == "off"
    for _ in range(3):
        await _advance(hass, freezer, timedelta(minutes=61))
    assert ttlock_cloud.calls[DETAIL] == 4
    assert ttlock_cloud.calls[RECORDS] == 0
