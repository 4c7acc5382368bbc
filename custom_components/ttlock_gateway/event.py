"""One event entity per lock: unlocked, wrong code, tamper, battery low..."""

from __future__ import annotations

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_EXPOSE_CODES
from .coordinator import LockCoordinator, TTLockGatewayConfigEntry, event_signal
from .entity import LockBaseEntity, async_track_locks
from .providers.models import EventType, LockEvent

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TTLockGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add an event entity per lock."""
    coordinator = entry.runtime_data.coordinator

    async_track_locks(
        coordinator,
        async_add_entities,
        lambda lock_id: [LockActivityEvent(coordinator, lock_id)],
    )


class LockActivityEvent(LockBaseEntity, EventEntity):
    """Fires for every new event of the lock, pushed or polled."""

    _attr_translation_key = "activity"
    _attr_event_types = [event_type.value for event_type in EventType]

    def __init__(self, coordinator: LockCoordinator, lock_id: str) -> None:
        """Create the event entity."""
        super().__init__(coordinator, lock_id, "activity")

    async def async_added_to_hass(self) -> None:
        """Listen for this lock's events."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                event_signal(self.coordinator.config_entry.entry_id, self.lock_id),
                self._handle_event,
            )
        )

    @callback
    def _handle_event(self, event: LockEvent) -> None:
        attributes: dict[str, str | bool | int | None] = {
            "method": event.method.value,
            "user": event.user,
            "code_id": event.code_id,
            "code_name": event.code_name,
            "success": event.success,
            "source": event.source,
        }
        if event.battery is not None:
            attributes["battery"] = event.battery
        if self.coordinator.config_entry.options.get(CONF_EXPOSE_CODES) and event.code:
            attributes["code"] = event.code
        self._trigger_event(event.type.value, attributes)
        self.async_write_ha_state()
