"""Lock entities: unlock (and lock where the lock allows) through the cloud."""

from __future__ import annotations

from typing import Any

from homeassistant.components.lock import LockEntity
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .coordinator import LockCoordinator, TTLockGatewayConfigEntry
from .entity import LockBaseEntity, async_track_locks, call_cloud, translate_error
from .providers.models import LockState, NotSupportedError, ProviderError

PARALLEL_UPDATES = 1

_APP_NAMES = {"ttlock": "TTLock", "tuya": "Smart Life / Tuya"}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TTLockGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a lock entity per lock, now and as locks join the account."""
    coordinator = entry.runtime_data.coordinator

    async_track_locks(
        coordinator,
        async_add_entities,
        lambda lock_id: (
            [CloudLock(coordinator, lock_id)]
            if coordinator.data.locks[lock_id].capabilities.lock_control
            else []
        ),
    )


class CloudLock(LockBaseEntity, LockEntity):
    """A cloud lock. Its state is only what events and actions have told us."""

    _attr_name = None
    _attr_translation_key = "lock"

    def __init__(self, coordinator: LockCoordinator, lock_id: str) -> None:
        """Create the lock entity."""
        super().__init__(coordinator, lock_id, "lock")

    @property
    def is_locked(self) -> bool | None:
        """Locked, unlocked, or None when no event has told us yet."""
        state = self.cloud_lock.state
        if state is None or state is LockState.JAMMED:
            return None
        return state is LockState.LOCKED

    @property
    def is_jammed(self) -> bool | None:
        """Jammed when the lock says so."""
        return (
            self.cloud_lock.state is LockState.JAMMED if self.cloud_lock.state else None
        )

    async def async_unlock(self, **kwargs: Any) -> None:
        """Unlock through the gateway or Wi-Fi."""
        issue_id = f"remote_unlock_disabled_{self.coordinator.device_key(self.lock_id)}"
        # Ordered by when we sent it: a record the cloud receives later wins.
        sent = dt_util.utcnow()
        try:
            await self.coordinator.provider.async_unlock(self.lock_id)
        except NotSupportedError as err:
            # Fixable only in the vendor app: say so where the user looks for it.
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="remote_unlock_disabled",
                translation_placeholders={
                    "name": self.cloud_lock.name,
                    "app": _APP_NAMES.get(self.coordinator.provider.provider, "vendor"),
                },
            )
            raise translate_error(err, self.cloud_lock.name) from err
        except ProviderError as err:
            raise translate_error(err, self.cloud_lock.name) from err
        ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        self.coordinator.set_lock_state(self.lock_id, LockState.UNLOCKED, sent)

    async def async_lock(self, **kwargs: Any) -> None:
        """Lock remotely where the lock supports it."""
        if not self.cloud_lock.capabilities.remote_lock:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="remote_lock_not_supported",
                translation_placeholders={"name": self.cloud_lock.name},
            )
        sent = dt_util.utcnow()
        await call_cloud(
            self.coordinator.provider.async_lock(self.lock_id), self.cloud_lock.name
        )
        self.coordinator.set_lock_state(self.lock_id, LockState.LOCKED, sent)
