"""Base entity: correct, nothing to report."""

from __future__ import annotations

from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .coordinator import DemoCoordinator


class DemoEntity(CoordinatorEntity[DemoCoordinator]):
    """Named after the device, a unique id per entry and key."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: DemoCoordinator, key: str) -> None:
        """Attach."""
        super().__init__(coordinator)
        assert coordinator.config_entry is not None
        self._attr_unique_id = f"{coordinator.config_entry.entry_id}_{key}"

    @property
    def available(self) -> bool:
        """Also the coordinator's availability."""
        return super().available and self.coordinator.data is not None


class Fetcher(CoordinatorEntity[DemoCoordinator]):
    """Fetches past its coordinator."""

    async def async_update(self) -> None:  # expect: home-assistant-coordinator-entity-async-update
        """Reads the cloud itself."""
        self.coordinator.data = {}


class Pushed(CoordinatorEntity[DemoCoordinator]):
    """A push entity: nothing to refresh on request (not reported)."""

    async def async_update(self) -> None:
        """Nothing to do."""
