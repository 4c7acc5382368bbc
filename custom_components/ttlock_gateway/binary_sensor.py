"""Connectivity of gateways (and of locks whose cloud reports it); doors seen by
standalone door sensors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import LockCoordinator, TTLockGatewayConfigEntry
from .entity import (
    AccountBaseEntity,
    DoorSensorBaseEntity,
    GatewayBaseEntity,
    LockBaseEntity,
    async_track_door_sensors,
    async_track_locks,
)

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TTLockGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add connectivity sensors for gateways and for locks that report it."""
    coordinator = entry.runtime_data.coordinator

    @callback
    def add_gateways(gateway_ids: list[str]) -> None:
        async_add_entities(
            GatewayConnectivity(coordinator, gateway_id) for gateway_id in gateway_ids
        )

    coordinator.new_gateway_callbacks.append(add_gateways)
    add_gateways(list(coordinator.data.gateways))
    if coordinator.push is not None:
        async_add_entities([PushConnectivity(coordinator)])
    async_track_locks(
        coordinator,
        async_add_entities,
        lambda lock_id: [LockConnectivity(coordinator, lock_id)],
    )
    async_track_door_sensors(
        coordinator,
        async_add_entities,
        lambda sensor_id: [DoorOpen(coordinator, sensor_id)],
    )


class DoorOpen(DoorSensorBaseEntity, BinarySensorEntity):
    """Whether the door a standalone sensor watches is open (on) or closed.

    Unknown when the cloud says so (doorSensorState 2) or that the state has
    not been updated for a long time (statusDelayFlag 1): an old "closed" is
    not shown for a door that may be open.
    """

    _attr_device_class = BinarySensorDeviceClass.DOOR
    _attr_translation_key = "door"

    def __init__(self, coordinator: LockCoordinator, sensor_id: str) -> None:
        """Create the sensor."""
        super().__init__(coordinator, sensor_id, "door")

    @property
    def is_on(self) -> bool | None:
        """Open, closed, or unknown."""
        sensor = self.door_sensor
        return None if sensor.stale else sensor.open


class GatewayConnectivity(GatewayBaseEntity, BinarySensorEntity):
    """Whether the gateway is online (from the gateway list)."""

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: LockCoordinator, gateway_id: str) -> None:
        """Create the sensor."""
        super().__init__(coordinator, gateway_id, "connectivity")

    @property
    def is_on(self) -> bool:
        """Online or not."""
        return self.gateway.online


class LockConnectivity(LockBaseEntity, BinarySensorEntity):
    """Whether a lock is online: from the device list (Tuya) or pushed alarms (Dding).

    Enabled by default only where the cloud reports it; TTLock lists do not, and
    only pushed offline alarms fill it in, so there it starts disabled.
    """

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: LockCoordinator, lock_id: str) -> None:
        """Create the sensor."""
        super().__init__(coordinator, lock_id, "connectivity")
        self._attr_entity_registry_enabled_default = (
            coordinator.data.locks[lock_id].online is not None
        )

    @property
    def is_on(self) -> bool | None:
        """Online, offline, or unknown."""
        return self.cloud_lock.online


class PushConnectivity(AccountBaseEntity, BinarySensorEntity):
    """Whether the push connection (Tuya's message service) is up.

    Off: events are polled at the documented schedule until it is back; the
    attributes say since when and why (a refused login means the project has
    no Message Service).
    """

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_translation_key = "push"

    def __init__(self, coordinator: LockCoordinator) -> None:
        """Create the sensor."""
        super().__init__(coordinator, "push")

    @property
    def is_on(self) -> bool:
        """Connected now."""
        push = self.coordinator.push
        return push is not None and push.connected

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Since when and why not (counts of messages: diagnostics)."""
        push = self.coordinator.push
        if push is None:
            return None
        health = push.consumer.health
        return {
            "connected_since": _iso(health.connected_since),
            "down_since": _iso(health.down_since),
            "last_error": health.last_error,
            "login_refused": health.auth_failed,
            "reconnects": health.reconnects,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
