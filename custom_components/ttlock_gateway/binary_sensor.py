"""Connectivity of gateways (and of locks whose cloud reports it)."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import LockCoordinator, TTLockGatewayConfigEntry
from .entity import GatewayBaseEntity, LockBaseEntity, async_track_locks

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
    async_track_locks(
        coordinator,
        async_add_entities,
        lambda lock_id: [LockConnectivity(coordinator, lock_id)],
    )


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
