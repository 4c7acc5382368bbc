"""Fixture integration: each line marked expect: gets exactly those messages."""  # expect: home-assistant-mdi-icon-json-not-found, home-assistant-missing-config-entry-unloading

from __future__ import annotations

import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, ServiceCall

from custom_components.lintdemo.const import DOMAIN  # expect: home-assistant-relative-import

_LOGGER = logging.getLogger(__name__)

PLATFORMS = [Platform.SENSOR, Platform.LOCK]  # expect: home-assistant-enforce-sorted-platforms


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:  # expect: home-assistant-return-type
    """Set up (returns None: Home Assistant wants a bool)."""
    hass.data[DOMAIN] = entry  # expect: home-assistant-use-runtime-data
    hass.services.async_register(DOMAIN, "ping", _ping)  # expect: home-assistant-service-registered-in-setup-entry


async def _work() -> None:
    """Something that may fail."""


async def _ping(call: ServiceCall) -> None:  # expect: home-assistant-action-missing-ha-exception
    """A handler that hides its failure."""
    try:
        await _work()
    except OSError:  # expect: home-assistant-action-swallowed-exception
        _LOGGER.warning("Ping failed")
