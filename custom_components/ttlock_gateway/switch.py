"""Passage mode (door stays open) as a switch, where the lock supports it."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .const import PROVIDER_GATEWAY_SERVICE
from .coordinator import LockCoordinator, TTLockGatewayConfigEntry
from .entity import LockBaseEntity, async_track_locks, call_cloud
from .providers.models import LockState

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TTLockGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a passage-mode switch for each lock that can do it."""
    coordinator = entry.runtime_data.coordinator

    async_track_locks(
        coordinator,
        async_add_entities,
        lambda lock_id: (
            [PassageModeSwitch(coordinator, lock_id)]
            if coordinator.data.locks[lock_id].capabilities.passage_mode
            else []
        ),
    )


class PassageModeSwitch(LockBaseEntity, SwitchEntity):
    """All-day passage mode on or off."""

    _attr_translation_key = "passage_mode"

    def __init__(self, coordinator: LockCoordinator, lock_id: str) -> None:
        """Create the switch."""
        super().__init__(coordinator, lock_id, "passage_mode")

    @property
    def is_on(self) -> bool | None:
        """From the lock's passage-mode configuration."""
        return self.cloud_lock.passage_mode

    async def _async_set(self, enabled: bool) -> None:
        sent = dt_util.utcnow()
        await call_cloud(
            self.coordinator.provider.async_set_passage_mode(self.lock_id, enabled),
            self.cloud_lock.name,
        )
        self.cloud_lock.passage_mode = enabled
        if enabled and self.coordinator.provider.provider == PROVIDER_GATEWAY_SERVICE:
            # The service's passage mode on also unlocks (setPassageModeOn).
            self.coordinator.set_lock_state(self.lock_id, LockState.UNLOCKED, sent)
        self.coordinator.async_update_lock(self.lock_id)
        self.coordinator.save_soon()

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Keep the door open."""
        await self._async_set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Return to normal locking."""
        await self._async_set(False)
