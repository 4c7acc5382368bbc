"""Lock devices are "connected via" the gateway the cloud says serves them."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ttlock_gateway.const import DOMAIN
from custom_components.ttlock_gateway.providers.ttlock import TTLockClient
from tests.common import seed_ttlock_home, setup_entry, ttlock_data, tuya_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud

LIST_LOCK = "/v3/gateway/listLock"


def _device(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> dr.DeviceEntry:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{entry.unique_id}_{key}"), entry.entry_id
    )
    assert device is not None, key
    return device


async def test_locks_linked_to_their_gateway(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Front and back door are behind the hall gateway; the shed is not."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    gateway = _device(hass, entry, f"gateway_{home.gateway}")
    assert _device(hass, entry, str(home.front)).via_device_id == gateway.id
    assert _device(hass, entry, str(home.back)).via_device_id == gateway.id
    assert _device(hass, entry, str(home.shed)).via_device_id is None
    data = entry.runtime_data.coordinator.data
    assert data.locks[str(home.front)].gateway_id == str(home.gateway)
    assert data.locks[str(home.shed)].gateway_id is None
    # One call per gateway at setup.
    assert ttlock_cloud.calls[LIST_LOCK] == 1


async def test_links_asked_again_only_when_the_account_changes(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """The hourly lock list costs no link calls; a new lock does, and is linked."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    for _ in range(3):
        freezer.tick(timedelta(hours=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
    assert ttlock_cloud.calls[LIST_LOCK] == 1

    garage = ttlock_cloud.add_lock(name="Garage", gateway_id=home.gateway)
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert ttlock_cloud.calls[LIST_LOCK] == 2
    # The new lock's device appears with its entities; the next update links it.
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    gateway = _device(hass, entry, f"gateway_{home.gateway}")
    assert _device(hass, entry, str(garage)).via_device_id == gateway.id


async def test_offline_gateway_keeps_its_links(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """An offline gateway lists no locks (the cloud's cache expired): links stay."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.gateways[home.gateway]["isOnline"] = 0
    ttlock_cloud.add_lock(name="Garage", gateway_id=home.gateway)  # forces a re-ask
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert ttlock_cloud.calls[LIST_LOCK] == 2
    gateway = _device(hass, entry, f"gateway_{home.gateway}")
    assert _device(hass, entry, str(home.front)).via_device_id == gateway.id


async def test_link_failure_changes_nothing_and_is_retried(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """A failed listLock at setup leaves the locks unlinked; the next refresh asks again."""
    home = seed_ttlock_home(ttlock_cloud)
    ttlock_cloud.fail(LIST_LOCK, 90000, "server error")
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert _device(hass, entry, str(home.front)).via_device_id is None
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    gateway = _device(hass, entry, f"gateway_{home.gateway}")
    assert _device(hass, entry, str(home.front)).via_device_id == gateway.id


async def test_list_lock_answer_is_validated(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Odd entries (no id, bool id, absurd RSSI) are dropped or bounded, not trusted."""
    home = seed_ttlock_home(ttlock_cloud)
    client = TTLockClient(
        aiohttp.ClientSession(),
        client_id=ttlock_cloud.CLIENT_ID,
        client_secret=ttlock_cloud.CLIENT_SECRET,
        username=ttlock_cloud.USERNAME,
        password_md5=ttlock_data(ttlock_cloud)["password_md5"],
        base_url=ttlock_cloud.base_url,
    )
    try:
        links = await client.async_list_gateway_locks(str(home.gateway))
        assert links == {str(home.front): -65, str(home.back): -65}
        original = ttlock_cloud._gateway_list_lock
        ttlock_cloud._gateway_list_lock = lambda params: {  # type: ignore[method-assign]
            "list": [
                {"lockId": True, "rssi": -50},
                {"rssi": -50},
                "not a dict",
                {"lockId": 7, "rssi": 40000},
                {"lockId": "8", "rssi": "-70"},
            ]
        }
        try:
            assert await client.async_list_gateway_locks(str(home.gateway)) == {
                "7": None,
                "8": -70,
            }
        finally:
            ttlock_cloud._gateway_list_lock = original  # type: ignore[method-assign]
    finally:
        await client._session.close()


async def test_tuya_has_no_gateway_links(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Tuya gateways are not modelled: no links, no calls for them."""
    tuya_cloud.add_device(name="Flat door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    assert await entry.runtime_data.provider.async_list_gateway_locks("x") == {}
    locks = entry.runtime_data.coordinator.data.locks
    assert all(lock.gateway_id is None for lock in locks.values())
