"""Entry setup, unload, setup retry and auth failure against the fake clouds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
import json
import socket
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import webhook
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.ttlock_gateway.const import (
    CONF_CLIENT_SECRET,
    DOMAIN,
    EVENT_LOCK,
)
from tests.common import (
    TTLOCK_WEBHOOK_ID,
    TUYA_WEBHOOK_ID,
    seed_ttlock_home,
    setup_entry,
    ttlock_data,
    tuya_data,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud

type ClientFactory = Callable[[], Awaitable[TestClient]]

FORM = "application/x-www-form-urlencoded"


def _keypad_unlock(cloud: FakeTTLockCloud, lock_id: int) -> str:
    """A TTLock callback: the owner opened the lock with a code just now."""
    now_ms = int(dt_util.utcnow().timestamp() * 1000)
    return urlencode(
        {
            "notifyType": 1,
            "lockId": lock_id,
            "lockMac": cloud.locks[lock_id]["lockMac"],
            "admin": cloud.USERNAME,
            "records": json.dumps(
                [
                    {
                        "lockId": lock_id,
                        "recordType": 4,
                        "recordTypeFromLock": 4,
                        "success": 1,
                        "username": "Owner",
                        "keyboardPwd": "135790",
                        "lockDate": now_ms,
                        "serverDate": now_ms + 500,
                        "electricQuantity": 80,
                    }
                ]
            ),
        }
    )


def _reauth_flows(hass: HomeAssistant, entry_id: str) -> list[object]:
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
        and flow["context"]["entry_id"] == entry_id
    ]


async def test_setup_and_unload(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """Setup brings up entities and the webhook; unload takes the webhook down."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert entry.state is ConfigEntryState.LOADED
    assert set(entry.runtime_data.coordinator.data.locks) == {
        str(home.front),
        str(home.back),
        str(home.shed),
    }
    assert hass.states.get("lock.front_door").state != STATE_UNAVAILABLE
    assert TTLOCK_WEBHOOK_ID in hass.data[webhook.DOMAIN]

    client = await hass_client_no_auth()
    url = f"/api/webhook/{TTLOCK_WEBHOOK_ID}"
    events = async_capture_events(hass, EVENT_LOCK)
    resp = await client.post(
        url,
        data=_keypad_unlock(ttlock_cloud, home.front),
        headers={"Content-Type": FORM},
    )
    assert resp.status == 200
    assert await resp.text() != ""
    await hass.async_block_till_done()
    assert len(events) == 1
    # Malformed bodies reach our handler, which refuses them.
    resp = await client.post(url, data="x", headers={"Content-Type": FORM})
    assert resp.status == 400

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert TTLOCK_WEBHOOK_ID not in hass.data[webhook.DOMAIN]
    assert hass.states.get("lock.front_door").state == STATE_UNAVAILABLE

    # Home Assistant answers 200 with an empty body for unknown webhooks (it does
    # not reveal which ids exist); nothing reaches the integration any more.
    for body in (_keypad_unlock(ttlock_cloud, home.front), "x"):
        resp = await client.post(url, data=body, headers={"Content-Type": FORM})
        assert resp.status == 200
        assert await resp.text() == ""
    await hass.async_block_till_done()
    assert len(events) == 1

    # No polling after unload.
    ttlock_cloud.reset_calls()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=7))
    await hass.async_block_till_done()
    assert ttlock_cloud.total_calls == 0


async def test_unload_one_of_two_entries(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, tuya_cloud: FakeTuyaCloud
) -> None:
    """Unloading one account leaves the other's webhook and entities alone."""
    seed_ttlock_home(ttlock_cloud)
    tuya_cloud.add_device(name="Garden gate")
    ttlock_entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    tuya_entry = await setup_entry(hass, tuya_data(tuya_cloud))
    assert ttlock_entry.state is ConfigEntryState.LOADED
    assert tuya_entry.state is ConfigEntryState.LOADED
    assert {TTLOCK_WEBHOOK_ID, TUYA_WEBHOOK_ID} <= set(hass.data[webhook.DOMAIN])

    assert await hass.config_entries.async_unload(tuya_entry.entry_id)
    await hass.async_block_till_done()
    assert TUYA_WEBHOOK_ID not in hass.data[webhook.DOMAIN]
    assert TTLOCK_WEBHOOK_ID in hass.data[webhook.DOMAIN]
    assert hass.states.get("lock.garden_gate").state == STATE_UNAVAILABLE
    assert hass.states.get("lock.front_door").state != STATE_UNAVAILABLE

    # And it comes back.
    assert await hass.config_entries.async_setup(tuya_entry.entry_id)
    await hass.async_block_till_done()
    assert tuya_entry.state is ConfigEntryState.LOADED
    assert TUYA_WEBHOOK_ID in hass.data[webhook.DOMAIN]


@pytest.mark.parametrize("outage", ["disconnect", "http500"])
async def test_setup_retry_when_cloud_down(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientFactory,
    outage: str,
) -> None:
    """Cloud down at start: SETUP_RETRY with the webhook already listening; a push
    then is kept (answered as taken) and applied once the retry succeeds."""
    home = seed_ttlock_home(ttlock_cloud)
    ttlock_cloud.set_outage(outage)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert TTLOCK_WEBHOOK_ID in hass.data[webhook.DOMAIN]
    assert not _reauth_flows(hass, entry.entry_id)

    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    resp = await client.post(
        f"/api/webhook/{TTLOCK_WEBHOOK_ID}",
        data=_keypad_unlock(ttlock_cloud, home.back),
        headers={"Content-Type": FORM},
    )
    assert resp.status == 200
    assert await resp.text() == "success"
    await hass.async_block_till_done()
    assert events == []

    # A second failed attempt keeps both the webhook and what it holds.
    freezer.tick(timedelta(minutes=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert TTLOCK_WEBHOOK_ID in hass.data[webhook.DOMAIN]

    ttlock_cloud.set_outage(None)
    freezer.tick(timedelta(minutes=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert TTLOCK_WEBHOOK_ID in hass.data[webhook.DOMAIN]
    assert hass.states.get("lock.front_door").state != STATE_UNAVAILABLE
    assert [(e.data["entity_id"], e.data["type"]) for e in events] == [
        ("lock.back_door", "unlocked")
    ]
    assert hass.states.get("lock.back_door").state == "unlocked"


async def test_setup_retry_closed_port(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """Nothing listening at the API address: SETUP_RETRY, not an error."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cloud = FakeTTLockCloud()
    cloud.base_url = f"http://127.0.0.1:{port}"
    entry = await setup_entry(hass, ttlock_data(cloud))
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_setup_retry_tuya_down(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Same for Tuya."""
    tuya_cloud.add_device(name="Garden gate")
    tuya_cloud.set_outage("http500")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert not _reauth_flows(hass, entry.entry_id)


async def test_setup_rate_limited_raises_issue(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """API limit at start: retry later, a repair issue explains; it clears on success."""
    seed_ttlock_home(ttlock_cloud)
    ttlock_cloud.fail("/v3/lock/list", 30006, "API limit reached")
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert entry.state is ConfigEntryState.SETUP_RETRY
    issue_id = f"rate_limited_{entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    freezer.tick(timedelta(minutes=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_setup_tuya_plan_lapsed(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """A lapsed Tuya plan at start: retry later with a repair issue."""
    tuya_cloud.add_device(name="Garden gate")
    tuya_cloud.lapse_plan()
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert (
        ir.async_get(hass).async_get_issue(
            DOMAIN, f"subscription_lapsed_{entry.entry_id}"
        )
        is not None
    )


async def test_setup_auth_failure_starts_reauth(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Password changed in the app: SETUP_ERROR and a reauth flow, no retry loop."""
    seed_ttlock_home(ttlock_cloud)
    data = ttlock_data(ttlock_cloud)  # stored before the change
    ttlock_cloud.PASSWORD = "changed in the app"  # type: ignore[misc]
    entry = await setup_entry(hass, data)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert len(_reauth_flows(hass, entry.entry_id)) == 1
    assert TTLOCK_WEBHOOK_ID not in hass.data.get(webhook.DOMAIN, {})
    # Only the login was tried: no lock calls with a rejected account.
    assert ttlock_cloud.calls["/v3/lock/list"] == 0


async def test_setup_bad_client_secret_starts_reauth(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """The developer application's secret was reset: also a reauth."""
    seed_ttlock_home(ttlock_cloud)
    data = {**ttlock_data(ttlock_cloud), CONF_CLIENT_SECRET: "reset-in-the-console"}
    entry = await setup_entry(hass, data)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert len(_reauth_flows(hass, entry.entry_id)) == 1


async def test_setup_tuya_auth_failure_starts_reauth(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Tuya project secret rotated: SETUP_ERROR and a reauth flow."""
    tuya_cloud.add_device(name="Garden gate")
    data = tuya_data(tuya_cloud)  # stored before the change
    tuya_cloud.ACCESS_SECRET = "f" * 32  # type: ignore[misc]
    entry = await setup_entry(hass, data)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert len(_reauth_flows(hass, entry.entry_id)) == 1


async def test_token_rejected_while_running_starts_reauth(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Tokens revoked and password changed while loaded: the next refresh asks to reauth."""
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert entry.state is ConfigEntryState.LOADED
    ttlock_cloud.revoke_tokens()
    ttlock_cloud.revoke_refresh_tokens()
    ttlock_cloud.PASSWORD = "changed in the app"  # type: ignore[misc]

    freezer.tick(timedelta(minutes=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(_reauth_flows(hass, entry.entry_id)) == 1
    assert not entry.runtime_data.coordinator.last_update_success


async def test_removing_the_entry_forgets_its_storage(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_storage: dict[str, Any],
) -> None:
    """Activity and code-queue files go with the entry."""
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    activity_key = f"ttlock_gateway.{entry.entry_id}.activity"
    assert activity_key in hass_storage

    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert activity_key not in hass_storage
    assert f"ttlock_gateway.{entry.entry_id}.codes" not in hass_storage
