"""Device triggers: listed for locks, and automations run on pushed events."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient
from homeassistant.components import automation
from homeassistant.components.device_automation import (
    DeviceAutomationType,
    InvalidDeviceAutomationConfig,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_get_device_automations,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ttlock_gateway.const import DOMAIN
from custom_components.ttlock_gateway.device_trigger import (
    TRIGGERS,
    async_validate_trigger_config,
)
from tests.common import (
    TTLOCK_WEBHOOK_ID,
    TTLockHome,
    seed_ttlock_home,
    setup_entry,
    ttlock_data,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud

RAN = "test_automation_ran"


def device_id(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> str:
    """Registry id of a lock's (or gateway's) device."""
    coordinator = entry.runtime_data.coordinator
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, coordinator.device_key(key)), entry.entry_id
    )
    assert device is not None
    return device.id


async def push_record(
    client: TestClient, lock_id: int, record_type: int, **extra: Any
) -> None:
    """Push one TTLock record (a minute old, so no auto-lock timer is left)."""
    when = int(dt_util.utcnow().timestamp() * 1000) - 60_000 + record_type
    record = {
        "lockId": lock_id,
        "recordType": record_type,
        "success": 1,
        "username": "Guest",
        "lockDate": when,
        **extra,
    }
    resp = await client.post(
        f"/api/webhook/{TTLOCK_WEBHOOK_ID}",
        data=urlencode({"lockId": lock_id, "records": json.dumps([record])}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status == 200


async def push_dding(client: TestClient, event: str, uuid: str) -> None:
    """Push one Dding event."""
    body = {
        "event": event,
        "uuid": uuid,
        "time": int(dt_util.utcnow().timestamp()),
        "home_id": "h",
        "nickname": "Front door",
        "detail": {"battery_level": 8} if event == "batteryAlarm" else {},
    }
    resp = await client.post(
        f"/api/webhook/{TTLOCK_WEBHOOK_ID}",
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert resp.status == 200


@pytest.fixture
async def home(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> tuple[TTLockHome, MockConfigEntry]:
    """The seeded home, set up."""
    seeded = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    return seeded, entry


async def test_triggers_listed_for_locks_only(
    hass: HomeAssistant, home: tuple[TTLockHome, MockConfigEntry]
) -> None:
    """Every lock has the ten triggers; a gateway has none of ours."""
    seeded, entry = home
    front = device_id(hass, entry, str(seeded.front))
    triggers = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, front
    )
    ours = [t for t in triggers if t["domain"] == DOMAIN]
    assert sorted(t["type"] for t in ours) == sorted(
        [
            "unlocked",
            "unlocked_by_code",
            "unlocked_by_app",
            "unlocked_by_card",
            "unlocked_by_fingerprint",
            "locked",
            "wrong_code",
            "tamper",
            "battery_low",
            "unlock_failed",
        ]
    )
    assert all(
        t
        == {
            "platform": "device",
            "domain": DOMAIN,
            "device_id": front,
            "type": t["type"],
            "metadata": {},
        }
        for t in ours
    )

    gateway = device_id(hass, entry, f"gateway_{seeded.gateway}")
    triggers = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, gateway
    )
    assert not [t for t in triggers if t["domain"] == DOMAIN]


async def test_automations_run_on_pushed_events(
    hass: HomeAssistant,
    home: tuple[TTLockHome, MockConfigEntry],
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """One automation per trigger type on the front door; events hit the right ones."""
    seeded, entry = home
    front = device_id(hass, entry, str(seeded.front))
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: [
                {
                    "alias": trigger_type,
                    "triggers": {
                        "platform": "device",
                        "domain": DOMAIN,
                        "device_id": front,
                        "type": trigger_type,
                    },
                    "actions": {
                        "event": RAN,
                        "event_data": {
                            "trigger": trigger_type,
                            "user": "{{ trigger.event.data.user }}",
                        },
                    },
                }
                for trigger_type in TRIGGERS
            ]
        },
    )
    await hass.async_block_till_done()
    ran = async_capture_events(hass, RAN)
    client = await hass_client_no_auth()
    mac = ttlock_cloud.locks[seeded.front]["lockMac"]

    async def fired() -> list[str]:
        await hass.async_block_till_done()
        result = sorted(e.data["trigger"] for e in ran)
        ran.clear()
        return result

    await push_record(client, seeded.front, 4)  # keypad code
    assert await fired() == ["unlocked", "unlocked_by_code"]
    await push_record(client, seeded.front, 1)  # app over Bluetooth
    assert await fired() == ["unlocked", "unlocked_by_app"]
    await push_record(client, seeded.front, 12)  # app via the gateway
    assert await fired() == ["unlocked", "unlocked_by_app"]
    await push_record(client, seeded.front, 7)
    assert await fired() == ["unlocked", "unlocked_by_card"]
    await push_record(client, seeded.front, 8)
    assert await fired() == ["unlocked", "unlocked_by_fingerprint"]
    await push_record(client, seeded.front, 32)  # opened from inside
    assert await fired() == ["unlocked"]
    await push_record(client, seeded.front, 11)
    assert await fired() == ["locked"]
    await push_record(client, seeded.front, 4, success=0)
    assert await fired() == ["wrong_code"]
    await push_record(client, seeded.front, 7, success=0)
    assert await fired() == ["unlock_failed"]
    await push_dding(client, "brokenAlarm", mac)
    assert await fired() == ["tamper"]
    await push_dding(client, "batteryAlarm", mac)
    assert await fired() == ["battery_low"]

    # The user travels with the trigger.
    await push_record(client, seeded.front, 7, lockDate=1_700_000_000_000)
    await hass.async_block_till_done()
    assert {e.data["user"] for e in ran} == {"Guest"}
    ran.clear()

    # Another lock's events and events nobody recognises trigger nothing here.
    await push_record(client, seeded.back, 4)
    await push_dding(client, "brokenAlarm", "unknown-uuid")
    assert await fired() == []


async def test_invalid_trigger_config_rejected(
    hass: HomeAssistant, home: tuple[TTLockHome, MockConfigEntry]
) -> None:
    """Unknown trigger types and non-lock devices do not make an automation."""
    seeded, entry = home
    front = device_id(hass, entry, str(seeded.front))
    gateway = device_id(hass, entry, f"gateway_{seeded.gateway}")
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: [
                {
                    "alias": "bad_type",
                    "triggers": {
                        "platform": "device",
                        "domain": DOMAIN,
                        "device_id": front,
                        "type": "exploded",
                    },
                    "actions": {"event": RAN},
                },
                {
                    "alias": "gateway",
                    "triggers": {
                        "platform": "device",
                        "domain": DOMAIN,
                        "device_id": gateway,
                        "type": "unlocked",
                    },
                    "actions": {"event": RAN},
                },
            ]
        },
    )
    await hass.async_block_till_done()
    for entity_id in ("automation.bad_type", "automation.gateway"):
        state = hass.states.get(entity_id)
        assert state is not None
        assert state.state == "unavailable"


async def test_gateway_trigger_error_is_translated(
    hass: HomeAssistant, home: tuple[TTLockHome, MockConfigEntry]
) -> None:
    """The refusal names the device and comes from strings.json, not English code."""
    seeded, entry = home
    gateway = device_id(hass, entry, f"gateway_{seeded.gateway}")
    with pytest.raises(InvalidDeviceAutomationConfig) as err:
        await async_validate_trigger_config(
            hass,
            {
                "platform": "device",
                "domain": DOMAIN,
                "device_id": gateway,
                "type": "unlocked",
            },
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "trigger_device_not_a_lock"
    assert err.value.translation_placeholders == {"device_id": gateway}
