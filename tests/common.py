"""Helpers to seed the fake clouds and set up config entries against them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ttlock_gateway.const import (
    CONF_ACCESS_ID,
    CONF_ACCESS_SECRET,
    CONF_BASE_URL,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_DATA_CENTER,
    CONF_PASSWORD_MD5,
    CONF_PROVIDER,
    CONF_REGION,
    CONF_USER_UID,
    CONF_WEBHOOK_ID,
    DOMAIN,
    PROVIDER_TTLOCK,
    PROVIDER_TUYA,
)
from custom_components.ttlock_gateway.providers.ttlock import md5_password
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud

TTLOCK_WEBHOOK_ID = "ttlock-test-webhook"
TUYA_WEBHOOK_ID = "tuya-test-webhook"


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
