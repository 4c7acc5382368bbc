"""Durable code uploads and the daily clean-up, on schedule (freezer)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ttlock_gateway.const import (
    CONF_CLEANUP_ALL,
    CONF_RETRY_ATTEMPTS,
    CONF_RETRY_INTERVAL,
    DOMAIN,
    EVENT_CODE_ADDED,
    EVENT_CODE_FAILED,
)
from tests.common import (
    TTLockHome,
    seed_ttlock_home,
    setup_entry,
    ttlock_data,
    tuya_data,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud

FRONT = "lock.front_door"
BACK = "lock.back_door"
ADD_PATH = "/v3/keyboardPwd/add"
DELETE_PATH = "/v3/keyboardPwd/delete"
LIST_PATH = "/v3/lock/listKeyboardPwd"


async def call(
    hass: HomeAssistant, service: str, entity_id: str | list[str], **data: Any
) -> Any:
    return await hass.services.async_call(
        DOMAIN,
        service,
        {"entity_id": entity_id, **data},
        blocking=True,
        return_response=True,
    )


def window(hours_from: float = 1, hours_to: float = 72) -> dict[str, str]:
    now = dt_util.now()
    return {
        "start": (now + timedelta(hours=hours_from)).isoformat(),
        "end": (now + timedelta(hours=hours_to)).isoformat(),
    }


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def set_gateway(cloud: FakeTTLockCloud, home: TTLockHome, online: bool) -> None:
    cloud.gateways[home.gateway]["isOnline"] = 1 if online else 0


def listen(hass: HomeAssistant, event_type: str) -> list[Event]:
    events: list[Event] = []
    hass.bus.async_listen(event_type, callback(lambda e: events.append(e)))
    return events


@pytest.fixture
async def home(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> tuple[TTLockHome, MockConfigEntry]:
    seeded = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.reset_calls()
    return seeded, entry


async def test_outage_queues_then_retry_delivers(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    seeded, _ = home
    added = listen(hass, EVENT_CODE_ADDED)
    ttlock_cloud.fail(ADD_PATH, -3002, "gateway offline", times=2)
    result = await call(
        hass, "add_code", [FRONT, BACK], name="Guest", code="8642", **window()
    )
    assert result[FRONT] == {"code_id": None, "code": "8642", "status": "queued"}
    assert result[BACK]["status"] == "queued"
    assert ttlock_cloud.passcodes[seeded.front] == {}
    assert added == []
    listed = await call(hass, "list_codes", FRONT)
    assert [(c["name"], c["status"]) for c in listed[FRONT]["codes"]] == [
        ("Guest", "queued")
    ]

    # Not before the retry interval.
    await advance(hass, freezer, timedelta(minutes=19))
    assert ttlock_cloud.calls[ADD_PATH] == 2
    await advance(hass, freezer, timedelta(minutes=1, seconds=1))
    assert ttlock_cloud.calls[ADD_PATH] == 4
    for lock_id in (seeded.front, seeded.back):
        codes = list(ttlock_cloud.passcodes[lock_id].values())
        assert [c["keyboardPwd"] for c in codes] == ["8642"]
    assert sorted(ev.data["entity_id"] for ev in added) == [BACK, FRONT]
    assert all("code" not in ev.data for ev in added)
    listed = await call(hass, "list_codes", FRONT)
    assert [
        (c["name"], c["created_by_integration"]) for c in listed[FRONT]["codes"]
    ] == [("Guest", True)]
    # Nothing more is sent later.
    await advance(hass, freezer, timedelta(minutes=45))
    assert ttlock_cloud.calls[ADD_PATH] == 4


async def test_restart_in_between_delivers_exactly_once(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    seeded, entry = home
    added = listen(hass, EVENT_CODE_ADDED)
    set_gateway(ttlock_cloud, seeded, online=False)
    result = await call(hass, "add_code", FRONT, name="Guest", code="97531", **window())
    assert result[FRONT]["status"] == "queued"

    # Home Assistant restarts with the code still queued.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    set_gateway(ttlock_cloud, seeded, online=True)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert ttlock_cloud.calls[ADD_PATH] == 1

    await advance(hass, freezer, timedelta(minutes=21))
    assert ttlock_cloud.calls[ADD_PATH] == 2
    assert [
        c["keyboardPwd"] for c in ttlock_cloud.passcodes[seeded.front].values()
    ] == ["97531"]
    assert len(added) == 1

    # Another restart and more time: still one code, no more uploads.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await advance(hass, freezer, timedelta(hours=2))
    assert ttlock_cloud.calls[ADD_PATH] == 2
    assert len(ttlock_cloud.passcodes[seeded.front]) == 1
    assert len(added) == 1


async def test_retry_finds_code_that_landed_and_does_not_send_it_again(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """The upload timed out but reached the lock: the retry sees it and stops."""
    seeded, entry = home
    added = listen(hass, EVENT_CODE_ADDED)
    win = window()
    ttlock_cloud.fail(ADD_PATH, -3002, "gateway offline")
    await call(hass, "add_code", FRONT, name="Guest", code="1357", **win)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    # What the lost answer had done.
    start = dt_util.parse_datetime(win["start"])
    end = dt_util.parse_datetime(win["end"])
    assert start is not None
    assert end is not None
    ttlock_cloud.passcodes[seeded.front][555] = {
        "keyboardPwdId": 555,
        "lockId": seeded.front,
        "keyboardPwd": "1357",
        "keyboardPwdName": "Guest",
        "keyboardPwdType": 3,
        "startDate": int(start.timestamp() * 1000),
        "endDate": int(end.timestamp() * 1000),
    }
    await advance(hass, freezer, timedelta(minutes=21))
    assert ttlock_cloud.calls[ADD_PATH] == 1
    assert len(added) == 1
    assert added[0].data["code_id"] == "555"
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"][0]["created_by_integration"] is True


async def test_duplicate_answer_on_retry_counts_as_landed(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    added = listen(hass, EVENT_CODE_ADDED)
    failed = listen(hass, EVENT_CODE_FAILED)
    ttlock_cloud.fail(ADD_PATH, -3002, "gateway offline")
    ttlock_cloud.fail(ADD_PATH, -3007, "The same passcode already exists")
    await call(hass, "add_code", FRONT, name="Guest", code="2468", **window())
    await advance(hass, freezer, timedelta(minutes=21))
    assert ttlock_cloud.calls[ADD_PATH] == 2
    assert len(added) == 1
    assert failed == []


async def test_five_failures_fire_failed_event_and_repair_issue(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seeded, _ = home
    failed = listen(hass, EVENT_CODE_FAILED)
    set_gateway(ttlock_cloud, seeded, online=False)
    await call(hass, "add_code", FRONT, name="Guest Jones", code="1122", **window())
    for attempt in range(2, 6):
        assert failed == []
        await advance(hass, freezer, timedelta(minutes=20, seconds=1))
        assert ttlock_cloud.calls[ADD_PATH] == attempt
    assert len(failed) == 1
    assert failed[0].data["name"] == "Guest Jones"
    assert failed[0].data["entity_id"] == FRONT
    assert failed[0].data["attempts"] == 5
    assert "code" not in failed[0].data
    issues = [
        issue
        for issue in ir.async_get(hass).issues.values()
        if issue.domain == DOMAIN and issue.translation_key == "code_failed"
    ]
    assert len(issues) == 1
    assert issues[0].translation_placeholders is not None
    assert issues[0].translation_placeholders["lock"] == "Front door"
    assert issues[0].translation_placeholders["name"] == "Guest Jones"
    assert "offline" in issues[0].translation_placeholders["reason"]

    await advance(hass, freezer, timedelta(hours=2))
    assert ttlock_cloud.calls[ADD_PATH] == 5
    # The failure is logged, without digits (the harness's own storage mock
    # logs what it writes; Home Assistant's Store does not).
    ours = [
        r.getMessage()
        for r in caplog.records
        if not r.name.startswith("pytest_homeassistant_custom_component")
    ]
    assert any("Guest Jones" in m for m in ours)
    assert not any("1122" in m for m in ours)
    listed = await call(hass, "list_codes", FRONT)
    assert [(c["name"], c["status"]) for c in listed[FRONT]["codes"]] == [
        ("Guest Jones", "failed")
    ]
    # Deleting the failed code clears it and its repair issue.
    await call(hass, "delete_code", FRONT, name="Guest Jones")
    assert not [
        i
        for i in ir.async_get(hass).issues.values()
        if i.translation_key == "code_failed"
    ]


async def test_delete_cancels_a_queued_code(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    seeded, _ = home
    set_gateway(ttlock_cloud, seeded, online=False)
    await call(hass, "add_code", FRONT, name="Guest", code="3344", **window())
    set_gateway(ttlock_cloud, seeded, online=True)
    result = await call(hass, "delete_code", FRONT, name="Guest")
    assert result[FRONT] == {"deleted": [], "cancelled": 1}
    await advance(hass, freezer, timedelta(hours=2))
    assert ttlock_cloud.calls[ADD_PATH] == 1
    assert ttlock_cloud.passcodes[seeded.front] == {}


def foreign_code(
    cloud: FakeTTLockCloud,
    lock_id: int,
    code_id: int,
    *,
    end_hours: float,
    kind: int = 3,
) -> None:
    now_ms = int(dt_util.utcnow().timestamp() * 1000)
    cloud.passcodes[lock_id][code_id] = {
        "keyboardPwdId": code_id,
        "lockId": lock_id,
        "keyboardPwd": str(5000 + code_id),
        "keyboardPwdName": f"app {code_id}",
        "keyboardPwdType": kind,
        "startDate": 0 if kind == 2 else now_ms - 3600_000,
        "endDate": 0 if kind == 2 else int(now_ms + end_hours * 3600_000),
    }


@pytest.mark.parametrize("cleanup_all", [False, True])
async def test_daily_cleanup(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    cleanup_all: bool,
) -> None:
    seeded = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud), {CONF_CLEANUP_ALL: cleanup_all})
    await call(hass, "add_code", FRONT, name="Ends soon", code="1111", **window(-1, 1))
    await call(
        hass, "add_code", FRONT, name="Ends later", code="2222", **window(-1, 30)
    )
    foreign_code(ttlock_cloud, seeded.front, 1, end_hours=1)
    foreign_code(ttlock_cloud, seeded.front, 2, end_hours=0, kind=2)  # permanent
    foreign_code(ttlock_cloud, seeded.back, 3, end_hours=1)
    ttlock_cloud.reset_calls()

    # First run after a day: "Ends soon" ended 23 h ago: inside the grace period.
    await advance(hass, freezer, timedelta(hours=24))
    assert ttlock_cloud.calls[DELETE_PATH] == 0
    assert len(ttlock_cloud.passcodes[seeded.front]) == 4

    ttlock_cloud.reset_calls()
    await advance(hass, freezer, timedelta(hours=24))
    front = {
        c["keyboardPwdName"] for c in ttlock_cloud.passcodes[seeded.front].values()
    }
    back = {c["keyboardPwdName"] for c in ttlock_cloud.passcodes[seeded.back].values()}
    if cleanup_all:
        assert front == {"Ends later", "app 2"}
        assert back == set()
        assert ttlock_cloud.calls[DELETE_PATH] == 3
    else:
        assert front == {"Ends later", "app 1", "app 2"}
        assert back == {"app 3"}
        assert ttlock_cloud.calls[DELETE_PATH] == 1
        # Only the lock with our expired code was listed.
        assert ttlock_cloud.calls[LIST_PATH] == 1
    listed = await call(hass, "list_codes", FRONT)
    assert "Ends soon" not in {c["name"] for c in listed[FRONT]["codes"]}

    # A day later "Ends later" (ended 42 h ago) goes too; the permanent code never.
    await advance(hass, freezer, timedelta(hours=24))
    front = {
        c["keyboardPwdName"] for c in ttlock_cloud.passcodes[seeded.front].values()
    }
    assert "Ends later" not in front
    assert "app 2" in front


async def test_tuya_code_queued_then_delivered(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Tuya: device offline (2001) queues; the retry delivers the same code once."""
    device = tuya_cloud.add_device(name="Flat door")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = next(
        e.entity_id
        for e in er.async_get(hass).entities.values()
        if e.domain == "lock" and e.platform == DOMAIN
    )
    added = listen(hass, EVENT_CODE_ADDED)
    route = "POST /v1.0/devices/{id}/door-lock/temp-password"
    tuya_cloud.fail(route, 2001, "device is offline")
    result = await call(hass, "add_code", entity_id, name="Guest", **window())
    assert result[entity_id]["status"] == "queued"
    code = result[entity_id]["code"]
    assert len(code) == 7
    assert tuya_cloud.codes[device] == {}
    await advance(hass, freezer, timedelta(minutes=20, seconds=1))
    assert [c["pin"] for c in tuya_cloud.codes[device].values()] == [code]
    assert tuya_cloud.calls[route] == 2
    assert len(added) == 1
    await advance(hass, freezer, timedelta(hours=1))
    assert tuya_cloud.calls[route] == 2


async def test_tuya_landed_code_matched_by_name_and_window(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Tuya hides digits: a code with our name and window counts as landed."""
    device = tuya_cloud.add_device(name="Flat door")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = next(
        e.entity_id
        for e in er.async_get(hass).entities.values()
        if e.domain == "lock" and e.platform == DOMAIN
    )
    added = listen(hass, EVENT_CODE_ADDED)
    route = "POST /v1.0/devices/{id}/door-lock/temp-password"
    tuya_cloud.fail(route, 500, "system error")
    win = window()
    result = await call(hass, "add_code", entity_id, name="Guest", **win)
    assert result[entity_id]["status"] == "queued"
    start = dt_util.parse_datetime(win["start"])
    end = dt_util.parse_datetime(win["end"])
    assert start is not None
    assert end is not None
    tuya_cloud.codes[device]["4242"] = {
        "id": "4242",
        "name": "Guest",
        "pin": result[entity_id]["code"],
        "effective_time": int(start.timestamp()),
        "invalid_time": int(end.timestamp()),
        "phase": 2,
    }
    await advance(hass, freezer, timedelta(minutes=20, seconds=1))
    assert tuya_cloud.calls[route] == 1
    assert len(tuya_cloud.codes[device]) == 1
    assert [ev.data["code_id"] for ev in added] == ["4242"]


async def test_options_schedule_and_rate_limit_queues(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """retry_interval/retry_attempts from the options; a quota error queues too."""
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(
        hass,
        ttlock_data(ttlock_cloud),
        {CONF_RETRY_INTERVAL: 5, CONF_RETRY_ATTEMPTS: 2},
    )
    failed = listen(hass, EVENT_CODE_FAILED)
    ttlock_cloud.fail(ADD_PATH, 30006, "api limit", times=2)
    result = await call(hass, "add_code", FRONT, name="G", code="7788", **window())
    assert result[FRONT]["status"] == "queued"
    await advance(hass, freezer, timedelta(minutes=4))
    assert ttlock_cloud.calls[ADD_PATH] == 1
    await advance(hass, freezer, timedelta(minutes=1, seconds=1))
    assert ttlock_cloud.calls[ADD_PATH] == 2
    assert len(failed) == 1
    await advance(hass, freezer, timedelta(minutes=30))
    assert ttlock_cloud.calls[ADD_PATH] == 2


async def test_tuya_cleanup_deletes_own_expired_code(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    device = tuya_cloud.add_device(name="Flat door")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = next(
        e.entity_id
        for e in er.async_get(hass).entities.values()
        if e.domain == "lock" and e.platform == DOMAIN
    )
    await call(hass, "add_code", entity_id, name="Short", **window(-1, 1))
    await call(hass, "add_code", entity_id, name="Long", **window(-1, 100))
    assert len(tuya_cloud.codes[device]) == 2
    await advance(hass, freezer, timedelta(hours=24))
    await advance(hass, freezer, timedelta(hours=24))
    assert [c["name"] for c in tuya_cloud.codes[device].values()] == ["Long"]


async def test_cleanup_of_own_code_deleted_elsewhere(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Not listed any more (deleted in the app, or hidden once expired): deleted by
    id once, then forgotten."""
    seeded, _ = home
    await call(hass, "add_code", FRONT, name="Gone", code="9753", **window(-1, 1))
    ttlock_cloud.passcodes[seeded.front].clear()
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, timedelta(hours=48, seconds=1))
    assert ttlock_cloud.calls[DELETE_PATH] == 1
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"] == []
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, timedelta(hours=24))
    assert ttlock_cloud.calls[DELETE_PATH] == 0
    assert ttlock_cloud.calls[LIST_PATH] == 0
