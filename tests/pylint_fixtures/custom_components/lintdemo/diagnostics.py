"""Diagnostics."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .coordinator import DemoConfigEntry


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: DemoConfigEntry) -> dict[str, Any]:
    """Correct: a dict is a Mapping, the typed entry a ConfigEntry."""
    return {}


async def async_get_device_diagnostics(hass: HomeAssistant, entry: DemoConfigEntry, device: dr.DeviceEntry) -> dict[str, Any]:  # expect: home-assistant-argument-type
    """Home Assistant passes any device entry (AnyDeviceEntry)."""
    return {}
