"""The same user journeys as for TTLock, on a Tuya account (fake Tuya cloud)."""

from __future__ import annotations

from datetime import timedelta
import time

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.lock import DOMAIN as LOCK_DOMAIN, LockState
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_LOCK,
    SERVICE_TURN_ON,
    SERVICE_UNLOCK,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ttlock_gateway.const import DOMAIN
from tests.common import setup_entry, tuya_data
from tests.fakes.tuya_cloud import FakeTuyaCloud


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_tuya_locks_and_entities(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Battery, connectivity and passage mode come from the device status."""
    tuya_cloud.add_device(name="Front gate", battery=55, passage_mode=False)
    tuya_cloud.add_device(name="Side door", category="ms", online=False)
    await setup_entry(hass, tuya_data(tuya_cloud))

    assert hass.states.get("sensor.front_gate_battery").state == "55"
    assert hass.states.get("switch.front_gate_passage_mode") is not None
    assert hass.states.get("switch.side_door_passage_mode") is None
    assert hass.states.get("binary_sensor.front_gate_connectivity").state == STATE_ON
    assert hass.states.get("binary_sensor.side_door_connectivity").state == "off"


async def test_tuya_unlock_and_lock(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Remote unlock through a password ticket; lock through door-operate."""
    device = tuya_cloud.add_device(name="Front gate")
    await setup_entry(hass, tuya_data(tuya_cloud))

    await hass.services.async_call(
        LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: "lock.front_gate"}, blocking=True
    )
    assert tuya_cloud.unlocks == [device]
    assert hass.states.get("lock.front_gate").state == LockState.UNLOCKED

    await hass.services.async_call(
        LOCK_DOMAIN, SERVICE_LOCK, {ATTR_ENTITY_ID: "lock.front_gate"}, blocking=True
    )
    assert tuya_cloud.locks_done == [device]
    assert hass.states.get("lock.front_gate").state == LockState.LOCKED


async def test_tuya_remote_unlock_disabled(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """A lock with remote unlock off in the app says so, and nothing opens."""
    tuya_cloud.add_device(name="Back door", remote_unlock=False)
    await setup_entry(hass, tuya_data(tuya_cloud))

    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            LOCK_DOMAIN,
            SERVICE_UNLOCK,
            {ATTR_ENTITY_ID: "lock.back_door"},
            blocking=True,
        )
    assert err.value.translation_key == "not_supported"
    assert "Remote unlock" in str(err.value)
    assert tuya_cloud.unlocks == []


async def test_tuya_passage_mode(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """normal_open_switch is set with a device command."""
    device = tuya_cloud.add_device(name="Front gate", passage_mode=False)
    await setup_entry(hass, tuya_data(tuya_cloud))

    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: "switch.front_gate_passage_mode"},
        blocking=True,
    )
    status = {s["code"]: s["value"] for s in tuya_cloud.devices[device]["status"]}
    assert status["normal_open_switch"] is True
    assert hass.states.get("switch.front_gate_passage_mode").state == STATE_ON


async def test_tuya_logs_become_events(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Open and alarm logs polled every 6 hours fire events once each."""
    device = tuya_cloud.add_device(name="Front gate")
    await setup_entry(hass, tuya_data(tuya_cloud))
    events: list[dict[str, object]] = []
    hass.bus.async_listen(
        "ttlock_gateway_event", callback(lambda e: events.append(e.data))
    )

    await _advance(hass, freezer, timedelta(minutes=30))
    now_ms = int(time.time() * 1000)
    tuya_cloud.add_open_log(
        device, "unlock_fingerprint", 3, nick_name="Anna", t_ms=now_ms
    )
    tuya_cloud.add_alarm_log(device, "wrong_password", t_ms=now_ms + 1000)
    for _ in range(12):
        await _advance(hass, freezer, timedelta(minutes=30))

    kinds = [(e["type"], e["method"], e["provider"]) for e in events]
    assert ("unlocked", "fingerprint", "tuya") in kinds
    assert any(e["type"] == "wrong_code" for e in events)
    assert len(events) == 2
    assert hass.states.get("event.front_gate_activity").attributes["event_type"] in {
        "unlocked",
        "wrong_code",
    }


async def test_tuya_plan_lapsed_then_renewed(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A lapsed trial: unavailable + a repair issue; renewed: back, issue gone."""
    tuya_cloud.add_device(name="Front gate")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    issue_id = f"subscription_lapsed_{entry.entry_id}"

    tuya_cloud.lapse_plan(28841101)
    await _advance(hass, freezer, timedelta(hours=1, minutes=1))
    assert hass.states.get("lock.front_gate").state == STATE_UNAVAILABLE
    assert ir.async_get(hass).async_get_issue("ttlock_gateway", issue_id)

    tuya_cloud.lapse_plan(0)
    await _advance(hass, freezer, timedelta(hours=1, minutes=1))
    assert hass.states.get("lock.front_gate").state != STATE_UNAVAILABLE
    assert ir.async_get(hass).async_get_issue("ttlock_gateway", issue_id) is None


async def test_tuya_outage_and_recovery(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Cloud down: unavailable; back: recovered within the retry interval."""
    tuya_cloud.add_device(name="Front gate")
    await setup_entry(hass, tuya_data(tuya_cloud))

    tuya_cloud.set_outage("http500")
    await _advance(hass, freezer, timedelta(hours=1, minutes=1))
    assert hass.states.get("lock.front_gate").state == STATE_UNAVAILABLE

    tuya_cloud.set_outage(None)
    await _advance(hass, freezer, timedelta(minutes=11))
    assert hass.states.get("lock.front_gate").state != STATE_UNAVAILABLE


async def test_tuya_entry_gets_no_callback_repair(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Tuya is polled: a "set the callback URL" notice could never be resolved."""
    tuya_cloud.add_device(name="Flat door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    assert entry.state is ConfigEntryState.LOADED
    ours = [
        issue_id
        for (domain, issue_id) in ir.async_get(hass).issues
        if domain == DOMAIN and issue_id.startswith("webhook_")
    ]
    assert ours == []
