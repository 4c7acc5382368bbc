"""Battery, last activity and diagnostic sensors of each lock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .activity import FUTURE_TOLERANCE
from .coordinator import LockCoordinator, TTLockGatewayConfigEntry
from .entity import LockBaseEntity, async_track_locks
from .providers.models import EventType

PARALLEL_UPDATES = 0

# Event types that count as "activity" (someone did something at the door).
ACTIVITY_TYPES = frozenset(
    {
        EventType.UNLOCKED,
        EventType.LOCKED,
        EventType.UNLOCK_FAILED,
        EventType.WRONG_CODE,
        EventType.TAMPER,
        EventType.DOOR_OPENED,
        EventType.DOOR_CLOSED,
    }
)


@dataclass(frozen=True, kw_only=True)
class LockSensorDescription(SensorEntityDescription):
    """How one sensor reads its value."""

    value_fn: Callable[[LockCoordinator, str], StateType | datetime]


def _last_activity(coordinator: LockCoordinator, lock_id: str) -> datetime | None:
    """When the newest record happened by the lock's clock, unless that clock is
    far ahead of when the cloud received it (a lock set to 9999): then the cloud's."""
    act = coordinator.activity.get(lock_id)
    event = act.last_event if act else None
    if event is None:
        return None
    if event.time > event.cloud_time + FUTURE_TOLERANCE:
        return event.cloud_time
    return event.time


SENSORS: tuple[LockSensorDescription, ...] = (
    LockSensorDescription(
        key="battery",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda c, lock_id: c.data.locks[lock_id].battery,
    ),
    LockSensorDescription(
        key="last_activity",
        translation_key="last_activity",
        device_class=SensorDeviceClass.TIMESTAMP,
        # The event entity has the same time, who and how, and writes the one
        # logbook row per event; this sensor would add a second row.
        entity_registry_enabled_default=False,
        value_fn=_last_activity,
    ),
    LockSensorDescription(
        key="auto_lock_time",
        translation_key="auto_lock_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda c, lock_id: c.data.locks[lock_id].auto_lock_seconds,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TTLockGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every lock."""
    coordinator = entry.runtime_data.coordinator

    async_track_locks(
        coordinator,
        async_add_entities,
        lambda lock_id: [
            LockSensor(coordinator, lock_id, description) for description in SENSORS
        ],
    )


class LockSensor(LockBaseEntity, SensorEntity):
    """A value read from the coordinator's data."""

    entity_description: LockSensorDescription

    def __init__(
        self,
        coordinator: LockCoordinator,
        lock_id: str,
        description: LockSensorDescription,
    ) -> None:
        """Create the sensor."""
        super().__init__(coordinator, lock_id, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> StateType | datetime:
        """The current value."""
        return self.entity_description.value_fn(self.coordinator, self.lock_id)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Who and how, for the last-activity sensor."""
        if self.entity_description.key != "last_activity":
            return None
        act = self.coordinator.activity.get(self.lock_id)
        event = act.last_event if act else None
        if event is None:
            return None
        return {
            "event_type": event.type.value,
            "method": event.method.value,
            "user": event.user,
            "code_name": event.code_name,
            "success": event.success,
        }
