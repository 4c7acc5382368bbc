"""Base entities and the translation of cloud errors into user-facing ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import LockCoordinator, lock_update_signal
from .providers.models import (
    AuthError,
    CannotConnectError,
    Gateway,
    Lock,
    NotSupportedError,
    ProviderError,
    RateLimitError,
    SubscriptionError,
    TransientError,
)

# Transient codes that mean "busy" rather than "unreachable".
_BUSY_CODES = {-3003, -3037}


def translate_error(err: ProviderError, name: str) -> HomeAssistantError:
    """Turn a cloud error into a translated error that says what to do."""
    placeholders = {"name": name, "reason": err.message or type(err).__name__}
    key = "action_failed"
    if isinstance(err, NotSupportedError):
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
        key = "lock_busy" if err.code in _BUSY_CODES else "lock_unreachable"
    return HomeAssistantError(
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
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, device_key)},
            name=gateway.name,
            manufacturer="TTLock",
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
