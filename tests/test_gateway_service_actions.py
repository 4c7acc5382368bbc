"""Unlock and passage mode through gateway-service jobs: in time, late, never;
forged or odd job callbacks change nothing."""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.ttlock_gateway.const import EVENT_JOB
from custom_components.ttlock_gateway.providers.gateway_service import (
    GatewayServiceClient,
)
from custom_components.ttlock_gateway.providers.models import Operation
from tests.gateway_service_ha import GW_WEBHOOK_ID, ClientFactory, GatewayHome

LOCK = "lock.front_door"
SWITCH = "switch.front_door_passage_mode"
URL = f"/api/webhook/{GW_WEBHOOK_ID}"


def _client(gw: GatewayHome) -> GatewayServiceClient:
    provider = gw.entry.runtime_data.provider
    assert isinstance(provider, GatewayServiceClient)
    return provider


def _short_wait(gw: GatewayHome) -> None:
    """The service holds its results: the 30 s wait would only cost time."""
    gw.service.callback_mode = "hold"
    _client(gw).tracker.timeout = 0.05


def _pending_unlocks(gw: GatewayHome) -> int:
    return sum(job.operation is Operation.UNLOCK for job in _client(gw).tracker.pending)


async def _unlock(hass: HomeAssistant) -> None:
    await hass.services.async_call("lock", "unlock", {"entity_id": LOCK}, blocking=True)


async def test_unlock_answered_in_time(
    hass: HomeAssistant, gw_home: GatewayHome
) -> None:
    """open_lock job, result through the webhook, the lock shows unlocked."""
    # No record yet: the state is unknown until something says otherwise.
    assert hass.states.get(LOCK).state == "unknown"
    await _unlock(hass)
    assert hass.states.get(LOCK).state == "unlocked"
    assert gw_home.service.calls["open_lock"] == 1
    assert gw_home.cloud.calls["/v3/lock/unlock"] == 1
    assert _client(gw_home).tracker.pending == []


async def test_unlock_answered_late(hass: HomeAssistant, gw_home: GatewayHome) -> None:
    """Not answered within the wait: "sent, result pending"; the late answer
    still unlocks and fires a job event."""
    events = async_capture_events(hass, EVENT_JOB)
    _short_wait(gw_home)
    with pytest.raises(HomeAssistantError) as err:
        await _unlock(hass)
    assert err.value.translation_key == "result_pending"
    # Not claimed before it is true.
    assert hass.states.get(LOCK).state == "unknown"
    await gw_home.service.wait_for_held(1)
    await gw_home.service.release_callbacks()
    await hass.async_block_till_done()
    assert hass.states.get(LOCK).state == "unlocked"
    assert [
        (e.data["operation"], e.data["status"], e.data["late"]) for e in events
    ] == [("unlock", "succeeded", True)]
    assert events[0].data["lock_id"] == gw_home.front


async def test_unlock_never_answered_expires(
    hass: HomeAssistant, gw_home: GatewayHome, freezer: FrozenDateTimeFactory
) -> None:
    """No result ever: after the job's lifetime it is dropped (event: expired),
    the lock state never changed."""
    events = async_capture_events(hass, EVENT_JOB)
    _short_wait(gw_home)
    # The loop's clock is frozen too: the wait ends when the test moves it.
    task = hass.async_create_task(_unlock(hass))
    await gw_home.service.wait_for_held(1)
    freezer.tick(timedelta(seconds=1))
    with pytest.raises(HomeAssistantError) as err:
        await task
    assert err.value.translation_key == "result_pending"
    gw_home.service.held.clear()  # this result is lost
    gw_home.service.callback_mode = "deliver"  # later jobs (lock list) answer
    assert _pending_unlocks(gw_home) == 1
    freezer.tick(timedelta(hours=25))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _pending_unlocks(gw_home) == 0
    unlocks = [e.data["status"] for e in events if e.data["operation"] == "unlock"]
    assert unlocks == ["expired"]
    assert hass.states.get(LOCK).state != "unlocked"


async def test_passage_mode_on_unlocks(
    hass: HomeAssistant, gw_home: GatewayHome
) -> None:
    """Passage mode on through a job; the service also unlocks."""
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": SWITCH}, blocking=True
    )
    assert hass.states.get(SWITCH).state == "on"
    assert hass.states.get(LOCK).state == "unlocked"
    assert gw_home.service.calls["set_lock_passage_mode_on"] == 1
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": SWITCH}, blocking=True
    )
    assert hass.states.get(SWITCH).state == "off"


async def test_passage_mode_late(hass: HomeAssistant, gw_home: GatewayHome) -> None:
    """Pending first; the late result turns the switch on."""
    _short_wait(gw_home)
    before = hass.states.get(SWITCH).state
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": SWITCH}, blocking=True
        )
    assert err.value.translation_key == "result_pending"
    assert hass.states.get(SWITCH).state == before
    await gw_home.service.wait_for_held(1)
    await gw_home.service.release_callbacks()
    await hass.async_block_till_done()
    assert hass.states.get(SWITCH).state == "on"
    assert hass.states.get(LOCK).state == "unlocked"


async def _post(client: TestClient, body: Any) -> int:
    resp = await client.post(
        URL,
        data=body if isinstance(body, str | bytes) else json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    return resp.status


async def test_forged_job_callbacks_change_nothing(
    hass: HomeAssistant, gw_home: GatewayHome, hass_client_no_auth: ClientFactory
) -> None:
    """Unknown job, a pending job's id with another method, garbage: nothing
    changes, nothing reaches the bus; the real result still applies."""
    events = async_capture_events(hass, EVENT_JOB)
    _short_wait(gw_home)
    with pytest.raises(HomeAssistantError):
        await _unlock(hass)
    await gw_home.service.wait_for_held(1)
    _url, real = gw_home.service.held[0]
    client = await hass_client_no_auth()
    forged = [
        {
            "job": "00000000-0000-4000-8000-000000000000",
            "status": True,
            "method": "open_lock",
            "tag": None,
            "data": {},
            "msg": "",
        },
        {**real, "method": "set_lock_passage_mode_on"},
        {**real, "tag": {"ha_ref": "0123456789abcdef"}},
        {"job": real["job"]},
    ]
    for body in forged:
        assert await _post(client, body) in (200, 400)
    for garbage in ("{", b"\xff\xfe", "[]", json.dumps({"job": 5, "status": "maybe"})):
        assert await _post(client, garbage) in (200, 400)
    await hass.async_block_till_done()
    assert hass.states.get(LOCK).state == "unknown"
    assert events == []
    assert len(_client(gw_home).tracker.pending) == 1
    # The real one, twice: applied once.
    assert await _post(client, real) == 200
    assert await _post(client, real) == 200
    await hass.async_block_till_done()
    assert hass.states.get(LOCK).state == "unlocked"
    assert len(events) == 1
