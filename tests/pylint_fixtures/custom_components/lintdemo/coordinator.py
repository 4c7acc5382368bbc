"""Coordinator."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

_LOGGER = logging.getLogger(__name__)

type DemoConfigEntry = ConfigEntry[DemoCoordinator]


class DemoCoordinator(DataUpdateCoordinator[dict[str, Any]]):
    """Typed by a plain ConfigEntry although DemoConfigEntry exists."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:  # expect: home-assistant-coordinator-untyped-config-entry
        """Create it."""
        super().__init__(hass, _LOGGER, config_entry=entry, name="demo", update_interval=timedelta(minutes=5))
        self.config_entry = entry  # expect: home-assistant-coordinator-redundant-config-entry

    async def _async_update_data(self) -> dict[str, Any]:
        """Fetch."""
        try:
            return {}
        except OSError as err:
            _LOGGER.error("Update failed")  # expect: home-assistant-log-and-raise
            raise UpdateFailed("Update failed") from err  # expect: home-assistant-exception-not-translated
