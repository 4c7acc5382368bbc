"""Diagnostics: snapshot of what an entry knows, and no secret anywhere in it."""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any
from urllib.parse import urlencode

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.ttlock_gateway.const import DOMAIN
from custom_components.ttlock_gateway.providers.ttlock import md5_password
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

GUEST_CODE = "4711923"
EXTERNAL_URL = "https://home.example.com"


def _secrets_ttlock(cloud: FakeTTLockCloud) -> list[str]:
    return [
        cloud.CLIENT_ID,
        cloud.CLIENT_SECRET,
        cloud.USERNAME,
        cloud.PASSWORD,
        md5_password(cloud.PASSWORD),
        TTLOCK_WEBHOOK_ID,
        GUEST_CODE,
        "Guest",  # a person's name in the record
        *(lock["lockMac"] for lock in cloud.locks.values()),
        *cloud._access_tokens,
        *cloud._refresh_tokens,
    ]


def _assert_clean(diag: Any, secrets: list[str]) -> None:
    dumped = json.dumps(diag)
    for secret in secrets:
        assert secret not in dumped, secret


@pytest.mark.freeze_time("2026-11-01T12:00:00+00:00")
async def test_entry_and_device_diagnostics(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    snapshot: SnapshotAssertion,
) -> None:
    """Locks, gateways, last events and options; secrets redacted."""
    # Before the first HTTP client freezes the router.
    assert await async_setup_component(hass, "diagnostics", {})
    hass.config.external_url = EXTERNAL_URL
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(
        hass, ttlock_data(ttlock_cloud), options={"retry_attempts": 3}
    )
    # As the config flow names a TTLock entry: after the account's login.
    hass.config_entries.async_update_entry(entry, title=ttlock_cloud.USERNAME)
    # A guest's keypad unlock pushed a minute ago.
    when = int(dt_util.utcnow().timestamp() * 1000) - 60_000
    record = {
        "lockId": home.front,
        "recordType": 4,
        "success": 1,
        "username": "Guest",
        "keyboardPwd": GUEST_CODE,
        "lockDate": when,
        "serverDate": when,
        "electricQuantity": 64,
    }
    client = await hass_client_no_auth()
    resp = await client.post(
        f"/api/webhook/{TTLOCK_WEBHOOK_ID}",
        data=urlencode({"lockId": home.front, "records": json.dumps([record])}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status == 200
    await hass.async_block_till_done()

    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    _assert_clean(diag, _secrets_ttlock(ttlock_cloud))
    assert diag["webhook"] == {
        "url": f"{EXTERNAL_URL}/api/webhook/**REDACTED**",
        "seen": True,
    }
    assert diag["entry"]["data"]["webhook_id"] == "**REDACTED**"
    assert diag["entry"]["data"]["client_secret"] == "**REDACTED**"
    assert diag["entry"]["options"] == {"retry_attempts": 3}
    front = next(lock for lock in diag["locks"] if lock["lock_id"] == str(home.front))
    last = front["activity"]["last_event"]
    assert last["type"] == "unlocked"
    assert last["method"] == "code"
    assert "code" not in last
    # The record is a minute older than the lock list fetched at setup: the
    # list's battery stays (a value changes only for a newer source).
    assert front["battery"] == 80
    assert front["activity"]["battery_time"] == "2026-11-01T12:00:00+00:00"
    assert front["capabilities"]["remote_unlock"] is True
    # A callback came: push is healthy, the list runs every 2 hours and the
    # activity poll daily (docs/budget.md); the ledger counted every call.
    assert diag["api_budget"]["lock_list_interval_minutes"] == 120
    assert diag["api_budget"]["activity_interval_minutes"] == 1440
    assert diag["api_budget"]["push_healthy"] is True
    assert diag["api_budget"]["ledger"]["calls_this_month"] == (
        ttlock_cloud.total_calls
    )
    assert len(diag["gateways"]) == 1
    # The fake cloud listens on a random port.
    assert diag == snapshot(name="entry", exclude=props("base_url"))

    registry = dr.async_get(hass)
    coordinator = entry.runtime_data.coordinator
    for name, key in (
        ("front", coordinator.device_key(str(home.front))),
        ("gateway", coordinator.device_key(f"gateway_{home.gateway}")),
    ):
        device = registry.async_get_device_by_identifier((DOMAIN, key), entry.entry_id)
        assert device is not None
        device_diag = await get_diagnostics_for_device(hass, hass_client, entry, device)
        _assert_clean(device_diag, _secrets_ttlock(ttlock_cloud))
        assert ("lock" if name == "front" else "gateway") in device_diag
        assert device_diag == snapshot(name=name)


async def test_tuya_entry_diagnostics_redacted(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    hass_client: ClientSessionGenerator,
) -> None:
    """A Tuya entry: access id and secret, uid and webhook id are redacted."""
    tuya_cloud.add_device(name="Flat door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    _assert_clean(
        diag, [tuya_cloud.ACCESS_ID, tuya_cloud.ACCESS_SECRET, TUYA_WEBHOOK_ID]
    )
    assert diag["webhook"]["seen"] is False
    # No external URL configured: nothing to show rather than an internal one.
    assert diag["webhook"]["url"] is None
    assert [lock["name"] for lock in diag["locks"]] == ["Flat door"]


async def test_macs_and_uuids_redacted_inside_other_values(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A Dding record id holds the uuid (here the lock's MAC, lower case); a
    gateway without a name is named by its MAC: neither shows anywhere."""
    assert await async_setup_component(hass, "diagnostics", {})
    home = seed_ttlock_home(ttlock_cloud)
    ttlock_cloud.gateways[home.gateway]["gatewayName"] = ""
    gateway_mac = ttlock_cloud.gateways[home.gateway]["gatewayMac"]
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    mac = ttlock_cloud.locks[home.back]["lockMac"]
    client = await hass_client_no_auth()
    for event, uuid in (("brokenAlarm", mac.lower()), ("brokenAlarm", "dd-uuid-7f3a")):
        resp = await client.post(
            f"/api/webhook/{TTLOCK_WEBHOOK_ID}",
            json={
                "event": event,
                "time": int(dt_util.utcnow().timestamp()),
                "uuid": uuid,
                "home_id": "h",
            },
        )
        assert resp.status == 200
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    back = coordinator.activity[str(home.back)].last_event
    assert back is not None
    assert mac.lower() in back.event_id  # the leak this guards against

    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    dumped = json.dumps(diag)
    forms = {
        value
        for raw in (mac, gateway_mac)
        for value in (
            raw,
            raw.lower(),
            raw.replace(":", ""),
            raw.replace(":", "").lower(),
        )
    }
    for form in forms:
        assert form not in dumped, form
    gateway = diag["gateways"][0]
    assert gateway["name"] == "**REDACTED**"
    back_diag = next(
        lock for lock in diag["locks"] if lock["lock_id"] == str(home.back)
    )
    assert back_diag["activity"]["last_event"]["event_id"].startswith("dding:")
    assert "REDACTED" in back_diag["activity"]["last_event"]["event_id"]

    registry = dr.async_get(hass)
    device = registry.async_get_device_by_identifier(
        (DOMAIN, coordinator.device_key(f"gateway_{home.gateway}")), entry.entry_id
    )
    assert device is not None
    device_diag = await get_diagnostics_for_device(hass, hass_client, entry, device)
    for form in forms:
        assert form not in json.dumps(device_diag), form


async def test_code_support_per_lock(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client: ClientSessionGenerator,
) -> None:
    """Each lock says which codes it takes (custom, offline kinds, deletable
    remotely) and how many ledger codes it has; an offline code's digits never
    appear."""
    assert await async_setup_component(hass, "diagnostics", {})
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.next_digits = ["908172635"]
    now = dt_util.now()
    added = await hass.services.async_call(
        DOMAIN,
        "add_code",
        {
            "entity_id": "lock.shed",
            "name": "Guest",
            "start": now.isoformat(),
            "end": (now + timedelta(days=2)).isoformat(),
        },
        blocking=True,
        return_response=True,
    )
    digits = added["lock.shed"]["code"]
    assert digits == "908172635"
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    support = {lock["name"]: lock["code_support"] for lock in diag["locks"]}
    assert support["Shed"] == {
        "custom_codes": False,
        "offline_codes": ["one_time", "period", "permanent", "clear_all"],
        "deletable_remotely": False,
        "ledger_custom": 0,
        "ledger_offline": 1,
        "ledger_statuses": {"active": 1},
    }
    assert support["Front door"]["custom_codes"] is True
    assert support["Front door"]["deletable_remotely"] is True
    assert support["Front door"]["ledger_offline"] == 0
    assert digits not in json.dumps(diag)
