"""Sensors."""  # expect: home-assistant-missing-parallel-updates

from __future__ import annotations

from datetime import UTC, datetime, timezone
import logging
from typing import Any

from homeassistant.components.sensor import SensorEntity
from homeassistant.components.sensor.const import SensorDeviceClass  # expect: home-assistant-component-root-import
from homeassistant.components.lock import LockEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity
from homeassistant.helpers.typing import StateType
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import DemoConfigEntry, DemoCoordinator
from .entity import DemoEntity

_LOGGER = logging.getLogger(__name__)
DEVICE_CLASS = SensorDeviceClass.BATTERY


async def async_setup_entry(hass: HomeAssistant, entry: DemoConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback) -> None:
    """Correct signature with the typed entry."""


class GoodSensor(DemoEntity, SensorEntity):
    """A narrower return type than the base's is fine."""

    @property
    def native_value(self) -> StateType | datetime:
        """Value."""
        return None


class AnySensor(DemoEntity, SensorEntity):
    """Any hides the state type."""

    @property
    def native_value(self) -> Any:  # expect: home-assistant-return-type
        """Value."""
        return None


class Restored(DemoEntity, SensorEntity, RestoreEntity):  # expect: home-assistant-invalid-inheritance
    """Should be RestoreSensor."""

    async def async_added_to_hass(self) -> None:  # expect: home-assistant-missing-super-call
        """Forgets the base's work."""
        self._attr_native_value = 1


class Unnamed(SensorEntity):  # expect: home-assistant-missing-has-entity-name, home-assistant-missing-entity-unique-id
    """No name rule, no unique id."""

    _attr_icon = "mdi:no-such-icon-either"  # expect: home-assistant-mdi-icon-not-found


class Static(SensorEntity):  # expect: home-assistant-entity-unique-id-static
    """Every instance shares the id."""

    _attr_has_entity_name = True
    _attr_unique_id = "fixed"


class Redundant(DemoEntity, SensorEntity):  # expect: home-assistant-entity-unique-id-redundant-domain, home-assistant-entity-unique-id-redundant-platform
    """The registry keys ids by domain and platform already."""

    def __init__(self, coordinator: DemoCoordinator) -> None:
        """Attach."""
        super().__init__(coordinator, "x")
        self._attr_unique_id = f"{DOMAIN}_x_sensor"


class WrongPlace(DemoEntity, LockEntity):  # expect: home-assistant-enforce-class-module
    """A lock entity in sensor.py."""


class StrayBase(CoordinatorEntity[DemoCoordinator]):  # expect: home-assistant-enforce-class-module
    """A base class outside entity.py."""

    @property
    def available(self) -> bool:  # expect: home-assistant-coordinator-entity-available
        """Ignores the coordinator."""
        return self.coordinator.data is not None


def clocks() -> list[datetime]:
    """Home Assistant's clock, not the system's."""
    _LOGGER.info("starting clocks.")  # expect: home-assistant-logger-period, home-assistant-logger-capital
    _LOGGER.debug("lower case is fine for debug")
    return [
        datetime.now(UTC),  # expect: home-assistant-enforce-utcnow
        datetime.now(timezone.utc),  # expect: home-assistant-enforce-utcnow
        datetime.now(),  # expect: home-assistant-enforce-naive-now
        datetime.now(timezone.max),  # expect: home-assistant-enforce-now
    ]
