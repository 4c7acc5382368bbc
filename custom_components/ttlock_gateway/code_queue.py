"""Durable code uploads (scaffold: the codes work replaces this module)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from .coordinator import LockCoordinator, TTLockGatewayConfigEntry


class CodeQueue:
    """Queue of code uploads that survive restarts."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: TTLockGatewayConfigEntry,
        coordinator: LockCoordinator,
    ) -> None:
        """Keep references."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator

    async def async_start(self) -> None:
        """Load the queue and schedule retries and clean-up."""

    async def async_stop(self) -> None:
        """Cancel timers and flush the queue."""
