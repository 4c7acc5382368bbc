"""The development simulator's fault switch (POST /_sim/fault), seen from Home Assistant.

The simulator serves the same fakes as the suite; these tests run it on free
loopback ports and check each fault reaches the integration as a user would
see it: a translated error, a repair, a silent re-sign-in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
import socket
from typing import Any

import aiohttp
from homeassistant.components.lock import DOMAIN as LOCK_DOMAIN, SERVICE_UNLOCK
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.ttlock_gateway.const import DOMAIN, EVENT_LOCK
from simulator import (
    FRONT_DOOR_ID,
    GARDEN_SHED_ID,
    TUYA_STUDIO_ID,
    Simulator,
    SimulatorConfig,
)
from simulator.devconfig import config_entries
from tests.common import setup_entry, ttlock_data
from tests.gateway_service_ha import serve_home_assistant
from tests.tuya_push_harness import until


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def sim(socket_enabled: Any) -> AsyncIterator[Simulator]:
    """The simulator on free ports, no pushes."""
    simulator = Simulator(
        SimulatorConfig(
            ttlock_port=_free_port(),
            tuya_port=_free_port(),
            tuya_push_port=0,
            dding_port=_free_port(),
        )
    )
    await simulator.start()
    yield simulator
    await simulator.stop()


async def _fault(sim: Simulator, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{sim.ttlock.base_url}/_sim/fault", json=body) as resp,
    ):
        return resp.status, await resp.json()


async def _unlock(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: "lock.front_door"}, blocking=True
    )


async def test_fault_switch_validates_and_reports(sim: Simulator) -> None:
    """Unknown faults are refused with the list of known ones; GET shows the active."""
    status, body = await _fault(sim, {"fault": "meteor"})
    assert status == 400
    assert "quota" in body["faults"]
    status, body = await _fault(sim, {"fault": "quota"})
    assert (status, body["active"]) == (200, ["quota"])
    status, body = await _fault(sim, {"fault": "clear"})
    assert body["active"] == []


async def test_offline_gateway_then_back(hass: HomeAssistant, sim: Simulator) -> None:
    """gateway_offline: unlock says the gateway is offline; off again it works."""
    await setup_entry(hass, ttlock_data(sim.ttlock))
    await _fault(sim, {"fault": "gateway_offline"})
    with pytest.raises(HomeAssistantError) as err:
        await _unlock(hass)
    assert err.value.translation_key == "gateway_offline"
    await _fault(sim, {"fault": "gateway_offline", "on": False})
    await _unlock(hass)
    assert sim.ttlock.unlocks == [FRONT_DOOR_ID]


async def test_busy_gateway_is_retried_then_said(
    hass: HomeAssistant, sim: Simulator
) -> None:
    """busy: gateway-bound calls answer -3003; the client backs off, then says so."""
    entry = await setup_entry(hass, ttlock_data(sim.ttlock))
    # No waiting in a test: the client's busy back-off delays are zeroed.
    entry.runtime_data.provider._busy_retry_delays = (0.0, 0.0, 0.0)
    await _fault(sim, {"fault": "busy"})
    with pytest.raises(HomeAssistantError) as err:
        await _unlock(hass)
    assert err.value.translation_key == "lock_busy"
    assert sim.ttlock.calls["/v3/lock/unlock"] == 4  # first try and three retries
    assert sim.ttlock.unlocks == []


async def test_quota_raises_the_repair(hass: HomeAssistant, sim: Simulator) -> None:
    """quota: the next refresh meets 30006 and the API-limit repair appears."""
    entry = await setup_entry(hass, ttlock_data(sim.ttlock))
    issue_id = f"rate_limited_{entry.entry_id}"
    await _fault(sim, {"fault": "quota"})
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    await _fault(sim, {"fault": "quota", "on": False})
    await entry.runtime_data.coordinator.async_refresh()
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue_id)


async def test_revoked_tokens_sign_in_again_unnoticed(
    hass: HomeAssistant, sim: Simulator
) -> None:
    """token_revoked: access and refresh tokens die; the stored sign-in heals it."""
    await setup_entry(hass, ttlock_data(sim.ttlock))
    logins = sim.ttlock.calls["/oauth2/token"]
    await _fault(sim, {"fault": "token_revoked"})
    await _unlock(hass)
    assert sim.ttlock.unlocks == [FRONT_DOOR_ID]
    assert sim.ttlock.calls["/oauth2/token"] > logins


async def test_tuya_events_are_pushed_live(hass: HomeAssistant, sim: Simulator) -> None:
    """The simulator's message service: the dev config's Tuya entry gets the
    round's unlock, bolt and battery at once, and the poll's copy of the
    unlock is not announced again."""
    stored = config_entries(
        sim.ttlock.base_url, sim.tuya.base_url, sim.tuya_push.endpoint
    )["data"]["entries"][1]
    events = async_capture_events(hass, EVENT_LOCK)
    entry = await setup_entry(hass, stored["data"])
    push = entry.runtime_data.coordinator.push
    assert push is not None
    await until(sim.tuya_push, lambda: sim.tuya_push.active == 1)
    sim.tuya_push_round()
    await until(
        sim.tuya_push,
        lambda: len(sim.tuya_push.acked) == len(sim.tuya_push.published) == 3,
    )
    await hass.async_block_till_done()
    assert [(e.data["lock_id"], e.data["type"], e.data["source"]) for e in events] == [
        (TUYA_STUDIO_ID, "unlocked", "push"),
        (TUYA_STUDIO_ID, "locked", "push"),
    ]
    assert hass.states.get("lock.studio_door").state == "locked"
    assert hass.states.get("sensor.garage_door_battery").state == "91"
    # The next activity poll reads the open log holding the same unlock.
    entry.runtime_data.coordinator.last_activity_poll = None
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert len(events) == 2
    assert sim.state()["tuya_push"]["acked"] == 3


async def test_gateway_less_lock_takes_offline_codes(
    hass: HomeAssistant, sim: Simulator
) -> None:
    """The seeded Garden shed has no gateway: add_code gives it an offline
    code the fake lock accepts by itself (and cyclic ones: bit 12)."""
    assert sim.ttlock.locks[GARDEN_SHED_ID]["hasGateway"] == 0
    assert (int(sim.ttlock.locks[GARDEN_SHED_ID]["featureValue"], 16) >> 12) & 1
    await setup_entry(hass, ttlock_data(sim.ttlock))
    now = dt_util.now()
    result = await hass.services.async_call(
        DOMAIN,
        "add_code",
        {
            ATTR_ENTITY_ID: "lock.garden_shed",
            "name": "Gardener",
            "start": (now - timedelta(minutes=5)).isoformat(),
            "end": (now + timedelta(days=2)).isoformat(),
        },
        blocking=True,
        return_response=True,
    )
    item = result["lock.garden_shed"]
    assert item["kind"] == "offline"
    assert sim.ttlock.lock_accepts(GARDEN_SHED_ID, item["code"])


async def test_gateway_service_entry_of_the_dev_config(
    hass: HomeAssistant, hass_client_no_auth: Any, socket_enabled: Any
) -> None:
    """The simulator's gateway service in front of its TTLock cloud: the dev
    config's entry lists the locks and unlocks through jobs."""
    simulator = Simulator(
        SimulatorConfig(
            ttlock_port=_free_port(),
            tuya_port=_free_port(),
            tuya_push_port=None,
            gateway_service_port=_free_port(),
        )
    )
    await simulator.start()
    try:
        await serve_home_assistant(hass, hass_client_no_auth)
        stored = config_entries(
            simulator.ttlock.base_url,
            simulator.tuya.base_url,
            None,
            simulator.gateway.base_url,
        )["data"]["entries"][2]
        assert stored["data"]["provider"] == "gateway_service"
        entry = await setup_entry(hass, stored["data"], unique_id=stored["unique_id"])
        assert entry.state.value == "loaded"
        await _unlock(hass)
        assert hass.states.get("lock.front_door").state == "unlocked"
        assert simulator.gateway.calls["open_lock"] == 1
        assert simulator.ttlock.unlocks.count(FRONT_DOOR_ID) == 1
    finally:
        await simulator.stop()


async def test_dding_dev_entry_against_the_simulator(
    hass: HomeAssistant, sim: Simulator, hass_client_no_auth: Any
) -> None:
    """The dev config's Dding entry: the simulator's home (gateway, outer door,
    two rooms) with batteries, and a pushed door opening becomes an event."""
    stored = config_entries(
        sim.ttlock.base_url, sim.tuya.base_url, None, dding_url=sim.dding.base_url
    )["data"]["entries"][2]
    assert stored["data"]["provider"] == "dding"
    events = async_capture_events(hass, EVENT_LOCK)
    entry = await setup_entry(hass, stored["data"], unique_id=stored["unique_id"])
    assert len(entry.runtime_data.coordinator.data.locks) == 3
    assert len(entry.runtime_data.coordinator.data.gateways) == 1
    assert hass.states.get("sensor.room_102_battery").state == "23"
    assert hass.states.get("binary_sensor.dding_gateway_connectivity").state == "on"
    room = next(
        u for u, d in sorted(sim.dding.devices.items()) if d["type"] == "room_lock"
    )
    body = sim.dding.callback_body("lockerOpenAlarm", room)
    client = await hass_client_no_auth()
    resp = await client.post(f"/api/webhook/{stored['data']['webhook_id']}", json=body)
    assert resp.status == 200
    await hass.async_block_till_done()
    assert [(e.data["lock_id"], e.data["type"]) for e in events] == [(room, "unlocked")]
    assert sim.state()["dding"]["calls"]["find_home_devices"] >= 1
