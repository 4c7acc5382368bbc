"""Devices leave only when the cloud shows the lock has left, and the user may
delete what the cloud no longer lists."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ttlock_gateway.const import DOMAIN
from tests.common import seed_ttlock_home, setup_entry, ttlock_data, tuya_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud

LIST = "/v3/lock/list"


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def _device_names(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    """Lock and gateway devices (not the account's own service device)."""
    return sorted(
        device.name or ""
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), entry.entry_id
        )
        if device.entry_type is not dr.DeviceEntryType.SERVICE
    )


def _device(hass: HomeAssistant, entry: MockConfigEntry, name: str) -> dr.DeviceEntry:
    return next(
        device
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), entry.entry_id
        )
        if device.name == name
    )


def _answer_once(cloud: FakeTTLockCloud, answer: dict[str, Any]) -> None:
    """The next lock list answers ``answer`` (HTTP 200), then as usual."""
    original = cloud._lock_list

    def handler(params: dict[str, str]) -> dict[str, Any]:
        cloud._lock_list = original  # type: ignore[method-assign]
        return answer

    cloud._lock_list = handler  # type: ignore[method-assign]


@pytest.mark.parametrize(
    "answer",
    [
        {"errcode": 0},  # success without a list
        {"list": [], "pageNo": 1, "pageSize": 1000, "pages": 0, "total": 0},
    ],
    ids=["errcode-0-no-list", "empty-list"],
)
async def test_one_empty_lock_list_removes_nothing(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    answer: dict[str, Any],
) -> None:
    """One odd answer: every device, entity and state stays; the next list is normal."""
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    names = _device_names(hass, entry)
    assert names == ["Back door", "Front door", "Hall gateway", "Shed"]

    _answer_once(ttlock_cloud, answer)
    await _advance(hass, freezer, timedelta(minutes=61))
    assert ttlock_cloud.calls[LIST] >= 2
    assert _device_names(hass, entry) == names
    assert hass.states.get("lock.front_door").state != STATE_UNAVAILABLE
    assert hass.states.get("switch.front_door_passage_mode").state == "off"
    assert hass.states.get("binary_sensor.hall_gateway_connectivity").state == "on"

    await _advance(hass, freezer, timedelta(minutes=61))
    assert _device_names(hass, entry) == names


async def test_tuya_lock_goes_after_two_lists_without_it(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Tuya's list has no count to confirm it is whole: two lists are needed."""
    tuya_cloud.add_device(name="Front gate")
    garden = tuya_cloud.add_device(name="Garden door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    tuya_cloud.remove_device(garden)

    await _advance(hass, freezer, timedelta(minutes=61))
    assert _device_names(hass, entry) == ["Front gate", "Garden door"]
    await _advance(hass, freezer, timedelta(minutes=61))
    assert _device_names(hass, entry) == ["Front gate"]
    assert hass.states.get("lock.garden_door") is None


async def test_lock_removed_while_stopped_goes_at_setup(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Removed from the account while Home Assistant was off (and its stored
    data lost): the device goes with the first list, not never."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    hass_storage.pop(f"{DOMAIN}.{entry.entry_id}.activity")
    ttlock_cloud.remove_lock(home.shed)

    caplog.set_level(logging.WARNING)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert _device_names(hass, entry) == ["Back door", "Front door", "Hall gateway"]
    # The current device registry API: no deprecated remove_config_entry_id.
    assert "async_update_device" not in caplog.text


async def test_user_can_delete_a_device_the_cloud_no_longer_lists(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A listed lock's device cannot be deleted; one missing from the list can."""
    tuya_cloud.add_device(name="Front gate")
    garden = tuya_cloud.add_device(name="Garden door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    assert await _async_setup_config(hass)
    ws = await hass_ws_client(hass)

    async def remove(device: dr.DeviceEntry) -> dict[str, Any]:
        await ws.send_json_auto_id(
            {"type": "config/device_registry/remove", "device_id": device.id}
        )
        response: dict[str, Any] = await ws.receive_json()
        return response

    response = await remove(_device(hass, entry, "Garden door"))
    assert not response["success"]
    assert _device_names(hass, entry) == ["Front gate", "Garden door"]

    tuya_cloud.remove_device(garden)
    await _advance(hass, freezer, timedelta(minutes=61))
    response = await remove(_device(hass, entry, "Garden door"))
    assert response["success"], response
    await hass.async_block_till_done()
    assert _device_names(hass, entry) == ["Front gate"]
    assert hass.states.get("lock.garden_door") is None
    assert garden not in entry.runtime_data.coordinator.data.locks

    # It does not come back with the next list either.
    await _advance(hass, freezer, timedelta(minutes=61))
    assert _device_names(hass, entry) == ["Front gate"]

    # The account's own device (API calls) is never the user's to delete.
    account = next(
        device
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), entry.entry_id
        )
        if device.entry_type is dr.DeviceEntryType.SERVICE
    )
    response = await remove(account)
    assert not response["success"]
    assert hass.states.get("sensor.test_account_api_calls_this_month") is not None


async def _async_setup_config(hass: HomeAssistant) -> bool:
    from homeassistant.setup import async_setup_component

    return await async_setup_component(hass, "config", {})


async def test_ttlock_list_short_of_its_total_is_not_proof(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """The answer says one more lock than it holds (a page lost): a lock missing
    from it goes only after a second list, not at once."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    original = ttlock_cloud._lock_list

    def short(params: dict[str, str]) -> dict[str, Any]:
        answer = original(params)
        answer["total"] += 1
        return answer

    ttlock_cloud._lock_list = short  # type: ignore[method-assign]
    ttlock_cloud.remove_lock(home.shed)
    await _advance(hass, freezer, timedelta(minutes=61))
    assert "Shed" in _device_names(hass, entry)
    await _advance(hass, freezer, timedelta(minutes=61))
    assert "Shed" not in _device_names(hass, entry)
