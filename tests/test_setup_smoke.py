"""Smoke: an entry sets up against the fake TTLock cloud."""

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from tests.common import seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud


async def test_setup(hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud) -> None:
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert entry.state is ConfigEntryState.LOADED
    states = sorted(s.entity_id for s in hass.states.async_all())
    print(states)
    assert "lock.front_door" in states
