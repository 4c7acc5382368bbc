"""Base entities and the translation of cloud errors into user-facing ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import CONF_PROVIDER, DOMAIN
from .coordinator import LockCoordinator, account_signal, lock_update_signal
from .devices import DOOR_SENSOR_PREFIX
from .providers.models import (
    AuthError,
    CannotConnectError,
    CodePacketError,
    CodeStorageFullError,
    DoorSensor,
    DuplicateCodeError,
    Gateway,
    Lock,
    NotSupportedError,
    ProtectedCodeError,
    ProviderError,
    RateLimitError,
    ResultPendingError,
    RetriesExhaustedError,
    SubscriptionError,
    TransientError,
)

# Transient codes of the clouds, by what they mean for the user (TTLock Open API
# error codes, reference/ttlock-open-api.md; Tuya 1110 / 2001).
_BUSY_CODES = frozenset({-3003, -3037, 1110})
_NO_GATEWAY_CODES = frozenset({-2012})
GATEWAY_OFFLINE_CODES = frozenset({-3002})
_LOCK_OFFLINE_CODES = frozenset({-3034, -3035, -3036, 2001})
# Fixed by the user, not by waiting: a setting in the vendor app, pairing a
# gateway, other digits, deleting old codes.
_USER_FIXABLE = frozenset(
    {
        "not_supported",
        "lock_no_gateway",
        "code_exists",
        "code_storage_full",
        "code_packet",
        "code_protected",
    }
)


def _int_code(code: int | str | None) -> int | None:
    try:
        return int(code) if code is not None else None
    except ValueError:
        return None


def translate_error(err: ProviderError, name: str) -> HomeAssistantError:
    """Turn a cloud error into a translated error that says what to do.

    Each case has its own message: the cloud's own (English) text is never put
    into a translated one. What the user can fix (a setting in the vendor app, a
    duplicate or a full code store) is a ``ServiceValidationError``.
    """
    placeholders = {"name": name}
    if isinstance(err, ResultPendingError):
        # Sent and accepted: neither done nor failed. The result updates the
        # entity when it comes (gateway service job).
        key = "result_retrying" if err.retrying else "result_pending"
    elif isinstance(err, CodePacketError):
        key = "code_packet"
    elif isinstance(err, RetriesExhaustedError):
        key = "retries_exhausted"
    elif isinstance(err, NotSupportedError):
        key = "not_supported"
    elif isinstance(err, AuthError):
        key = "auth_failed"
    elif isinstance(err, RateLimitError):
        key = "rate_limited"
    elif isinstance(err, SubscriptionError):
        key = "subscription_lapsed"
    elif isinstance(err, CannotConnectError):
        key = "cannot_connect"
    elif isinstance(err, TransientError):
        code = _int_code(err.code)
        if code in _BUSY_CODES:
            key = "lock_busy"
        elif code in _NO_GATEWAY_CODES:
            key = "lock_no_gateway"
        elif code in GATEWAY_OFFLINE_CODES:
            key = "gateway_offline"
        elif code in _LOCK_OFFLINE_CODES:
            key = "lock_offline"
        else:
            key = "lock_unreachable"
    elif isinstance(err, DuplicateCodeError):
        key = "code_exists"
    elif isinstance(err, CodeStorageFullError):
        key = "code_storage_full"
    elif isinstance(err, ProtectedCodeError):
        key = "code_protected"
        placeholders["code_id"] = "999"
    else:
        key = "action_failed"
        placeholders["code"] = str(err.code) if err.code is not None else "-"
    error_class = ServiceValidationError if key in _USER_FIXABLE else HomeAssistantError
    return error_class(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


async def call_cloud[T](awaitable: Awaitable[T], name: str) -> T:
    """Await a provider call, translating its errors."""
    try:
        return await awaitable
    except ProviderError as err:
        raise translate_error(err, name) from err


def async_track_locks(
    coordinator: LockCoordinator,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[str], Iterable[Entity]],
) -> None:
    """Add a platform's entities for every lock now, and for locks that join later."""

    @callback
    def add(lock_ids: list[str]) -> None:
        async_add_entities(entity for lock_id in lock_ids for entity in build(lock_id))

    coordinator.new_lock_callbacks.append(add)
    add(list(coordinator.data.locks))


class LockBaseEntity(CoordinatorEntity[LockCoordinator]):
    """An entity of one lock's device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: LockCoordinator, lock_id: str, key: str) -> None:
        """Attach to the lock's device."""
        super().__init__(coordinator)
        self.lock_id = lock_id
        device_key = coordinator.device_key(lock_id)
        self._attr_unique_id = device_key if key == "lock" else f"{device_key}_{key}"
        lock = coordinator.data.locks[lock_id]
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, device_key)},
            name=lock.name,
            manufacturer=lock.manufacturer,
            model=lock.model,
            sw_version=lock.firmware,
            serial_number=lock.mac,
        )

    async def async_added_to_hass(self) -> None:
        """Also follow updates addressed to this lock alone (pushed events)."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                lock_update_signal(
                    self.coordinator.config_entry.entry_id, self.lock_id
                ),
                self.async_write_ha_state,
            )
        )

    @property
    def cloud_lock(self) -> Lock:
        """The lock as last known."""
        return self.coordinator.data.locks[self.lock_id]

    @property
    def available(self) -> bool:
        """Unavailable when the cloud cannot be read or the lock left the account."""
        return super().available and self.lock_id in self.coordinator.data.locks


# Who makes a cloud's gateways (TTLock's also serve the gateway service).
_GATEWAY_MAKERS = {"dding": "Dding"}


class GatewayBaseEntity(CoordinatorEntity[LockCoordinator]):
    """An entity of one gateway's device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: LockCoordinator, gateway_id: str, key: str) -> None:
        """Attach to the gateway's device."""
        super().__init__(coordinator)
        self.gateway_id = gateway_id
        device_key = coordinator.device_key(f"gateway_{gateway_id}")
        self._attr_unique_id = f"{device_key}_{key}"
        gateway = coordinator.data.gateways[gateway_id]
        provider = str(coordinator.config_entry.data.get(CONF_PROVIDER) or "ttlock")
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, device_key)},
            name=gateway.name,
            manufacturer=_GATEWAY_MAKERS.get(provider, "TTLock"),
            model="Gateway",
            connections=set(),
        )

    @property
    def gateway(self) -> Gateway:
        """The gateway as last known."""
        return self.coordinator.data.gateways[self.gateway_id]

    @property
    def available(self) -> bool:
        """Unavailable when the cloud cannot be read or the gateway is gone."""
        return super().available and self.gateway_id in self.coordinator.data.gateways


class DoorSensorBaseEntity(CoordinatorEntity[LockCoordinator]):
    """An entity of one standalone door sensor's device (TTLock DS3)."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: LockCoordinator, sensor_id: str, key: str) -> None:
        """Attach to the door sensor's device."""
        super().__init__(coordinator)
        self.sensor_id = sensor_id
        self._object_id = f"{DOOR_SENSOR_PREFIX}{sensor_id}"
        device_key = coordinator.device_key(self._object_id)
        self._attr_unique_id = f"{device_key}_{key}"
        sensor = coordinator.data.door_sensors[sensor_id]
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, device_key)},
            name=sensor.name,
            manufacturer="TTLock",
            model="TTLock door sensor",
            serial_number=sensor.mac,
        )

    async def async_added_to_hass(self) -> None:
        """Also follow updates addressed to this sensor alone (pushes)."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                lock_update_signal(
                    self.coordinator.config_entry.entry_id, self._object_id
                ),
                self.async_write_ha_state,
            )
        )

    @property
    def door_sensor(self) -> DoorSensor:
        """The sensor as last known."""
        return self.coordinator.data.door_sensors[self.sensor_id]

    @property
    def available(self) -> bool:
        """Unavailable when the cloud cannot be read or the sensor left."""
        return (
            super().available and self.sensor_id in self.coordinator.data.door_sensors
        )


def async_track_door_sensors(
    coordinator: LockCoordinator,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[str], Iterable[Entity]],
) -> None:
    """Add a platform's entities for every door sensor now and those that join."""

    @callback
    def add(sensor_ids: list[str]) -> None:
        async_add_entities(
            entity for sensor_id in sensor_ids for entity in build(sensor_id)
        )

    coordinator.new_door_sensor_callbacks.append(add)
    add(list(coordinator.data.door_sensors))


# Who runs each cloud, for the account's device.
_CLOUD_NAMES = {
    "ttlock": "TTLock",
    "tuya": "Tuya",
    "dding": "Dding",
    "gateway_service": "TTLock gateway service",
}


class AccountBaseEntity(Entity):
    """An entity of the account itself (its cloud application, its push link).

    Not a coordinator entity: it stays available while the cloud cannot be
    read (that is when its values matter most) and writes its state when the
    account signals a change.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, coordinator: LockCoordinator, key: str) -> None:
        """Attach to the account's service device."""
        self.coordinator = coordinator
        entry = coordinator.config_entry
        self._attr_unique_id = f"{coordinator.account_id}_{key}"
        provider = str(entry.data.get(CONF_PROVIDER) or "ttlock")
        self._attr_device_info = DeviceInfo(
            # No "<account>_" prefix: never taken for a lock or gateway.
            identifiers={(DOMAIN, coordinator.account_id)},
            name=entry.title,
            manufacturer=_CLOUD_NAMES.get(provider, provider),
            model="Cloud account",
            entry_type=DeviceEntryType.SERVICE,
        )

    async def async_added_to_hass(self) -> None:
        """Write the state when the account changes."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                account_signal(self.coordinator.config_entry.entry_id),
                self.async_write_ha_state,
            )
        )
