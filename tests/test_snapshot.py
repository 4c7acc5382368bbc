"""Snapshot of every entity of a representative TTLock account."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from syrupy.assertion import SnapshotAssertion

from tests.common import seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud


async def test_entities_snapshot(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    snapshot: SnapshotAssertion,
) -> None:
    """Registry entries and states of a gateway, two gateway locks and a Bluetooth lock."""
    freezer.move_to("2026-11-01T12:00:00+00:00")
    home = seed_ttlock_home(ttlock_cloud)
    ttlock_cloud.add_record(home.front, 4, username="Guest", keyboard_pwd="908172")
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))

    registry = er.async_get(hass)
    entries = sorted(
        er.async_entries_for_config_entry(registry, entry.entry_id),
        key=lambda e: e.entity_id,
    )
    # 23 of the locks and gateway (two guest-access calendars), and the
    # account's API call count.
    assert len(entries) == 24
    summary = {}
    for entity_entry in entries:
        state = hass.states.get(entity_entry.entity_id)
        summary[entity_entry.entity_id] = {
            "unique_id": entity_entry.unique_id,
            "translation_key": entity_entry.translation_key,
            "device_class": entity_entry.original_device_class,
            "entity_category": entity_entry.entity_category,
            "disabled_by": entity_entry.disabled_by,
            "state": state.state if state else None,
            "attributes": dict(state.attributes) if state else None,
        }
    assert summary == snapshot
    assert "908172" not in str(summary)
