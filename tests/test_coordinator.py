"""Schedules, dynamic and stale devices, outages and the API budget."""

from __future__ import annotations

from datetime import timedelta
import json
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from tests.common import (
    TTLOCK_WEBHOOK_ID,
    seed_ttlock_home,
    setup_entry,
    ttlock_data,
    tuya_data,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def _run_for(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    total: timedelta,
    step: timedelta = timedelta(minutes=5),
) -> None:
    elapsed = timedelta()
    while elapsed < total:
        await _advance(hass, freezer, step)
        elapsed += step


async def test_lock_list_hourly_activity_six_hourly(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One list call an hour covers all locks; per-lock calls only every 6 hours."""
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.reset_calls()

    await _run_for(hass, freezer, timedelta(hours=5, minutes=55))
    assert ttlock_cloud.calls["/v3/lock/list"] == 5
    assert ttlock_cloud.calls["/v3/lock/detail"] == 0
    assert ttlock_cloud.calls["/v3/lockRecord/list"] == 0

    await _run_for(hass, freezer, timedelta(minutes=10))
    assert ttlock_cloud.calls["/v3/lock/list"] == 6
    assert ttlock_cloud.calls["/v3/lock/detail"] == 3
    assert ttlock_cloud.calls["/v3/lockRecord/list"] == 3


async def test_new_records_become_events_once(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The activity poll turns new records into events, each exactly once."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    events: list[dict[str, object]] = []
    hass.bus.async_listen(
        "ttlock_gateway_event", callback(lambda e: events.append(e.data))
    )

    await _advance(hass, freezer, timedelta(minutes=30))
    ttlock_cloud.add_record(home.back, 4, username="Guest", keyboard_pwd="4711")
    await _run_for(hass, freezer, timedelta(hours=6))
    assert [(e["type"], e["method"]) for e in events] == [("unlocked", "code")]
    assert events[0]["device_id"] is not None
    assert events[0]["entity_id"] == "lock.back_door"
    assert "4711" not in str(events)
    # The back door has no auto-lock time: it stays unlocked until told otherwise.
    assert hass.states.get("lock.back_door").state == "unlocked"

    await _run_for(hass, freezer, timedelta(hours=12))
    assert len(events) == 1


async def test_history_before_setup_sets_state_without_events(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Records older than the first poll set the state but are not re-announced."""
    home = seed_ttlock_home(ttlock_cloud)
    ttlock_cloud.add_record(home.front, 11)  # locked from the app
    events: list[object] = []
    hass.bus.async_listen("ttlock_gateway_event", callback(lambda e: events.append(e)))
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert hass.states.get("lock.front_door").state == "locked"
    assert events == []


async def test_locks_added_and_removed_between_polls(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A new lock appears as a device; a lock that left the account is removed."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    registry = dr.async_get(hass)

    ttlock_cloud.add_lock(name="Garage", gateway_id=home.gateway)
    ttlock_cloud.remove_lock(home.back)
    await _advance(hass, freezer, timedelta(hours=1, minutes=1))

    names = sorted(
        d.name or ""
        for d in dr.async_entries_for_config_entry(registry, entry.entry_id)
    )
    assert names == ["Front door", "Garage", "Hall gateway", "Shed", "Test account"]
    assert hass.states.get("lock.garage") is not None
    assert hass.states.get("lock.back_door") is None or (
        hass.states.get("lock.back_door").state == STATE_UNAVAILABLE
    )


@pytest.mark.parametrize("mode", ["http500", "disconnect"])
async def test_outage_unavailable_then_recovery(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    mode: str,
) -> None:
    """Cloud gone for an hour: unavailable, one line each way, automatic recovery."""
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    caplog.clear()
    caplog.set_level(logging.INFO)

    ttlock_cloud.set_outage(mode)
    await _run_for(hass, freezer, timedelta(hours=2), step=timedelta(minutes=10))
    assert hass.states.get("lock.front_door").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.front_door_battery").state == STATE_UNAVAILABLE

    ttlock_cloud.set_outage(None)
    await _run_for(hass, freezer, timedelta(minutes=20), step=timedelta(minutes=10))
    assert hass.states.get("lock.front_door").state != STATE_UNAVAILABLE

    ours = [r for r in caplog.records if "ttlock_gateway" in r.name]
    went = [r for r in ours if r.levelno >= logging.WARNING]
    back = [r for r in ours if "recovered" in r.getMessage()]
    assert len(went) == 1
    assert len(back) == 1
    assert "Traceback" not in caplog.text


async def test_rate_limit_raises_repair_and_backs_off(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """30006 on the lock list: a repair issue, and no hammering."""
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.fail("/v3/lock/list", 30006, "limit", times=100)
    ttlock_cloud.reset_calls()

    await _run_for(hass, freezer, timedelta(hours=3), step=timedelta(minutes=10))
    issue = ir.async_get(hass).async_get_issue(
        "ttlock_gateway", f"rate_limited_{entry.entry_id}"
    )
    assert issue is not None
    assert ttlock_cloud.calls["/v3/lock/list"] <= 3


async def test_monthly_limit_repair_names_the_reset(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """30007 (monthly quota, issue 13): a repair naming when calls work again,
    and no call before then."""
    freezer.move_to("2026-05-20 12:00:00+00:00")
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.monthly_calls_left = 0
    ttlock_cloud.reset_calls()
    await _run_for(hass, freezer, timedelta(hours=3), step=timedelta(minutes=10))
    issue = ir.async_get(hass).async_get_issue(
        "ttlock_gateway", f"rate_limited_monthly_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_placeholders["until"] == "2026-06-01 00:00"
    assert ttlock_cloud.calls["/v3/lock/list"] <= 1


@pytest.mark.parametrize("lock_count", [1, 10, 50])
async def test_ttlock_daily_call_budget(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    lock_count: int,
) -> None:
    """At default settings a day costs at most 50 calls plus 10 per lock, and
    one daily look for standalone door sensors (the account has none)."""
    gateway = ttlock_cloud.add_gateway(name="Gateway")
    for number in range(lock_count):
        ttlock_cloud.add_lock(name=f"Lock {number}", gateway_id=gateway)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.reset_calls()

    await _run_for(hass, freezer, timedelta(hours=24), step=timedelta(minutes=15))
    assert ttlock_cloud.total_calls <= 50 + 10 * lock_count + 1, ttlock_cloud.calls
    assert ttlock_cloud.calls["/v3/standaloneDoorSensor/list"] <= 1


@pytest.mark.parametrize("lock_count", [1, 10])
async def test_tuya_daily_call_budget(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
    lock_count: int,
) -> None:
    """Tuya at default settings: at most 50 calls plus 10 per lock a day."""
    for number in range(lock_count):
        tuya_cloud.add_device(name=f"Lock {number}")
    await setup_entry(hass, tuya_data(tuya_cloud))
    tuya_cloud.reset_calls()

    await _run_for(hass, freezer, timedelta(hours=24), step=timedelta(minutes=15))
    assert tuya_cloud.total_calls <= 50 + 10 * lock_count, tuya_cloud.calls


async def test_reload_right_after_a_push_does_not_announce_it_again(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: Any,
) -> None:
    """Seen records are written on unload, not only after the save delay."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    events: list[object] = []
    hass.bus.async_listen("ttlock_gateway_event", callback(lambda e: events.append(e)))
    await _advance(hass, freezer, timedelta(minutes=10))

    client = await hass_client_no_auth()
    # A first callback (a gateway job) marks the webhook as seen, which is saved
    # at once; what follows is only in the delayed save.
    job = {"job": "1", "method": "open_lock", "status": "true", "tag": {}}
    assert (
        await client.post(f"/api/webhook/{TTLOCK_WEBHOOK_ID}", json=job)
    ).status == 200
    await _advance(hass, freezer, timedelta(seconds=1))
    record = ttlock_cloud.add_record(home.back, 4, username="Guest")
    form = {
        "notifyType": "1",
        "lockId": str(home.back),
        "lockMac": "",
        "admin": ttlock_cloud.USERNAME,
        "records": json.dumps([record]),
    }
    response = await client.post(f"/api/webhook/{TTLOCK_WEBHOOK_ID}", data=form)
    assert response.status == 200
    assert len(events) == 1

    # Reloaded at once, then the poll returns the same record: no second event.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await _run_for(hass, freezer, timedelta(hours=7), step=timedelta(minutes=30))
    assert len(events) == 1
