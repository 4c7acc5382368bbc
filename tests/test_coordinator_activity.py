"""The six-hourly activity poll when the cloud fails for one lock or the account."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ttlock_gateway.const import EVENT_LOCK
from tests.common import seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud, _Answer

DETAIL = "/v3/lock/detail"
RECORDS = "/v3/lockRecord/list"


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def _run_for(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, total: timedelta
) -> None:
    step = timedelta(minutes=30)
    elapsed = timedelta()
    while elapsed < total:
        await _advance(hass, freezer, step)
        elapsed += step


def _fail_for_lock(
    cloud: FakeTTLockCloud, path: str, lock_id: int, errcode: int
) -> Callable[[], None]:
    """Make the fake answer ``errcode`` on ``path`` for one lock only."""
    attr = {DETAIL: "_lock_detail", RECORDS: "_record_list"}[path]
    original = getattr(cloud, attr)

    def handler(params: dict[str, str]) -> dict[str, Any]:
        if params.get("lockId") == str(lock_id):
            raise _Answer(errcode, "injected")
        result: dict[str, Any] = original(params)
        return result

    setattr(cloud, attr, handler)
    return lambda: setattr(cloud, attr, original)


@pytest.mark.parametrize(("path", "errcode"), [(RECORDS, -3034), (DETAIL, -1003)])
async def test_one_lock_failing_does_not_break_the_others(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    path: str,
    errcode: int,
) -> None:
    """Records of the other locks still become events; the failed one catches up."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    events: list[Event] = []
    hass.bus.async_listen(EVENT_LOCK, callback(lambda e: events.append(e)))

    await _advance(hass, freezer, timedelta(minutes=30))
    ttlock_cloud.add_record(home.front, 4, username="Guest", keyboard_pwd="4711")
    ttlock_cloud.add_record(home.back, 4, username="Cleaner", keyboard_pwd="1234")
    restore = _fail_for_lock(ttlock_cloud, path, home.front, errcode)
    await _run_for(hass, freezer, timedelta(hours=6))

    assert [e.data["user"] for e in events] == ["Cleaner"]
    coordinator = entry.runtime_data.coordinator
    assert coordinator.last_update_success
    assert entry.state is ConfigEntryState.LOADED
    assert _state(hass, "lock.front_door") != STATE_UNAVAILABLE
    assert _state(hass, "lock.back_door") != STATE_UNAVAILABLE

    # The next poll fetches what was missed for the front door, exactly once.
    restore()
    await _run_for(hass, freezer, timedelta(hours=6))
    assert sorted(e.data["user"] for e in events) == ["Cleaner", "Guest"]
    guest = next(e for e in events if e.data["user"] == "Guest")
    assert guest.data["entity_id"] == "lock.front_door"
    await _run_for(hass, freezer, timedelta(hours=6))
    assert len(events) == 2


async def test_auth_error_during_activity_poll_starts_reauth(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The lock list works but the records are refused for the account: reauth."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert hass.config_entries.flow.async_progress() == []

    _fail_for_lock(ttlock_cloud, RECORDS, home.back, 10000)
    await _run_for(hass, freezer, timedelta(hours=6))

    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert flows[0]["context"]["entry_id"] == entry.entry_id
    assert not entry.runtime_data.coordinator.last_update_success
    assert _state(hass, "lock.front_door") == STATE_UNAVAILABLE


async def test_gateway_added_between_polls_gets_an_entity(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert hass.states.get("binary_sensor.attic_gateway_connectivity") is None

    attic = ttlock_cloud.add_gateway(name="Attic gateway", online=False)
    ttlock_cloud.add_lock(name="Attic", gateway_id=attic)
    await _advance(hass, freezer, timedelta(hours=1, minutes=1))

    state = hass.states.get("binary_sensor.attic_gateway_connectivity")
    assert state is not None
    assert state.state == "off"
    assert hass.states.get("lock.attic") is not None
