"""Helpers to seed the fake clouds and set up config entries against them."""

from __future__ import annotations

from dataclasses import dataclass
import json
from typing import Any
from urllib.parse import urlencode

from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ttlock_gateway.const import (
    CONF_ACCESS_ID,
    CONF_ACCESS_SECRET,
    CONF_BASE_URL,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_DATA_CENTER,
    CONF_DEFAULT_PHONE,
    CONF_HOME_IDS,
    CONF_PASSWORD_MD5,
    CONF_PROVIDER,
    CONF_REGION,
    CONF_USER_UID,
    CONF_WEBHOOK_ID,
    DOMAIN,
    PROVIDER_DDING,
    PROVIDER_TTLOCK,
    PROVIDER_TUYA,
)
from custom_components.ttlock_gateway.providers.ttlock import md5_password
from tests.fakes.dding_cloud import FakeDdingCloud
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud

TTLOCK_WEBHOOK_ID = "ttlock-test-webhook"
TUYA_WEBHOOK_ID = "tuya-test-webhook"
DDING_WEBHOOK_ID = "dding-test-webhook"
DDING_HOME = "home-1001"


def ttlock_data(cloud: FakeTTLockCloud) -> dict[str, Any]:
    """Entry data pointing at the fake TTLock cloud."""
    return {
        CONF_PROVIDER: PROVIDER_TTLOCK,
        CONF_CLIENT_ID: cloud.CLIENT_ID,
        CONF_CLIENT_SECRET: cloud.CLIENT_SECRET,
        "username": cloud.USERNAME,
        CONF_PASSWORD_MD5: md5_password(cloud.PASSWORD),
        CONF_REGION: "eu",
        CONF_BASE_URL: cloud.base_url,
        CONF_WEBHOOK_ID: TTLOCK_WEBHOOK_ID,
    }


def tuya_data(cloud: FakeTuyaCloud) -> dict[str, Any]:
    """Entry data pointing at the fake Tuya cloud."""
    return {
        CONF_PROVIDER: PROVIDER_TUYA,
        CONF_ACCESS_ID: cloud.ACCESS_ID,
        CONF_ACCESS_SECRET: cloud.ACCESS_SECRET,
        CONF_DATA_CENTER: "eu",
        CONF_USER_UID: "",
        CONF_BASE_URL: cloud.base_url,
        CONF_WEBHOOK_ID: TUYA_WEBHOOK_ID,
    }


def dding_data(cloud: FakeDdingCloud, *homes: str) -> dict[str, Any]:
    """Entry data pointing at the fake Dding SaaS (default: DDING_HOME)."""
    return {
        CONF_PROVIDER: PROVIDER_DDING,
        CONF_CLIENT_ID: cloud.CLIENT_ID,
        CONF_CLIENT_SECRET: cloud.CLIENT_SECRET,
        CONF_HOME_IDS: list(homes or (DDING_HOME,)),
        CONF_DEFAULT_PHONE: "",
        CONF_BASE_URL: cloud.base_url,
        CONF_WEBHOOK_ID: DDING_WEBHOOK_ID,
    }


@dataclass
class DdingHome:
    """Uuids of the seeded Dding home."""

    gateway: str
    outer: str  # the home's outer door lock
    room_a: str
    room_b: str


def seed_dding_home(cloud: FakeDdingCloud, home_id: str = DDING_HOME) -> DdingHome:
    """A home with a gateway, an outer lock and two room locks (issue 19)."""
    cloud.add_home(home_id, ("room-a", "room-b"))
    gateway = cloud.add_gateway(home_id, name="Hall gateway")
    outer = cloud.add_lock(home_id, name="Entrance", power=90)
    room_a = cloud.add_lock(home_id, "room-a", name="Room A", power=60)
    room_b = cloud.add_lock(home_id, "room-b", name="Room B", power=40)
    return DdingHome(gateway=gateway, outer=outer, room_a=room_a, room_b=room_b)


@dataclass
class TTLockHome:
    """Ids of the seeded TTLock home."""

    gateway: int
    front: int  # gateway lock, remote unlock on, passage mode, auto-lock 5 s
    back: int  # gateway lock, remote unlock disabled in the app
    shed: int  # Bluetooth only: no gateway, no remote anything


def seed_ttlock_home(cloud: FakeTTLockCloud) -> TTLockHome:
    """A small realistic account: one gateway, three locks."""
    gateway = cloud.add_gateway(name="Hall gateway")
    front = cloud.add_lock(name="Front door", gateway_id=gateway, auto_lock_time=5)
    back = cloud.add_lock(name="Back door", gateway_id=gateway, remote_unlock=False)
    shed = cloud.add_lock(name="Shed", remote_unlock=False, passage_mode=False)
    return TTLockHome(gateway=gateway, front=front, back=back, shed=shed)


async def setup_entry(
    hass: HomeAssistant,
    data: dict[str, Any],
    options: dict[str, Any] | None = None,
    unique_id: str | None = None,
) -> MockConfigEntry:
    """Add an entry and set it up; returns it whatever the outcome."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Test account",
        data=data,
        options=options or {},
        unique_id=unique_id
        or f"{data.get(CONF_CLIENT_ID) or data.get(CONF_ACCESS_ID)}_acct",
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def restart_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Home Assistant stops and starts again with the same storage.

    The entry is unloaded (what it keeps is written, as on the final write at
    stop) and set up again while Home Assistant is starting, as at boot.
    """
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    hass.set_state(CoreState.not_running)
    try:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    finally:
        hass.set_state(CoreState.running)


def entry_states(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """State and attributes of every entity of the entry (enabled ones).

    Not the account's API call count: it changes with every call the test
    makes, and what it keeps across restarts is tested in test_budget.py.
    """
    registry = er.async_get(hass)
    states: dict[str, Any] = {}
    for reg in er.async_entries_for_config_entry(registry, entry.entry_id):
        if reg.unique_id.endswith("_api_calls_month"):
            continue
        if (state := hass.states.get(reg.entity_id)) is not None:
            states[reg.entity_id] = (state.state, dict(state.attributes))
    return states


def ttlock_record(
    lock_id: int, record_type: int, when_ms: int, **extra: Any
) -> dict[str, Any]:
    """One record as TTLock pushes it; serverDate is when the cloud got it."""
    return {
        "lockId": lock_id,
        "recordType": record_type,
        "recordTypeFromLock": 0,
        "success": 1,
        "username": "Guest",
        "keyboardPwd": "",
        "lockDate": when_ms,
        "serverDate": when_ms,
        "electricQuantity": 70,
        **extra,
    }


def ttlock_callback(
    cloud: FakeTTLockCloud, lock_id: int, records: list[dict[str, Any]]
) -> str:
    """The form body TTLock posts (hass-ttlock's captured sample has these fields)."""
    return urlencode(
        {
            "notifyType": 1,
            "lockId": lock_id,
            "lockMac": cloud.locks[lock_id]["lockMac"],
            "admin": cloud.USERNAME,
            "records": json.dumps(records),
        }
    )
