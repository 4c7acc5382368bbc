"""Battery, last activity and diagnostic sensors of each lock; battery of each
standalone door sensor."""

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
from homeassistant.util import dt as dt_util

from .activity import FUTURE_TOLERANCE
from .code_packet import CodePacketMonitor
from .coordinator import LockCoordinator, TTLockGatewayConfigEntry
from .entity import (
    AccountBaseEntity,
    DoorSensorBaseEntity,
    LockBaseEntity,
    async_track_door_sensors,
    async_track_locks,
)
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
    # Only for locks whose settings the cloud can read (``lock_control``).
    needs_lock_control: bool = False


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
        needs_lock_control=True,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TTLockGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every lock, and the account's API call count."""
    coordinator = entry.runtime_data.coordinator

    if coordinator.ledger is not None:
        async_add_entities([ApiCallsSensor(coordinator)])
    if (packet := entry.runtime_data.packet) is not None:
        async_add_entities([CodePacketSensor(coordinator, packet)])
    async_track_locks(
        coordinator,
        async_add_entities,
        lambda lock_id: [
            LockSensor(coordinator, lock_id, description)
            for description in SENSORS
            if not description.needs_lock_control
            or coordinator.data.locks[lock_id].capabilities.lock_control
        ],
    )
    async_track_door_sensors(
        coordinator,
        async_add_entities,
        lambda sensor_id: [DoorSensorBattery(coordinator, sensor_id)],
    )


class DoorSensorBattery(DoorSensorBaseEntity, SensorEntity):
    """A door sensor's battery as the door sensor list says (0-100 %)."""

    _attr_device_class = SensorDeviceClass.BATTERY
    _attr_native_unit_of_measurement = PERCENTAGE
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: LockCoordinator, sensor_id: str) -> None:
        """Create the sensor."""
        super().__init__(coordinator, sensor_id, "battery")

    @property
    def native_value(self) -> StateType:
        """Battery level, None when the cloud gave none (or nonsense)."""
        return self.door_sensor.battery


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


class ApiCallsSensor(AccountBaseEntity, SensorEntity):
    """Calls the developer application made this calendar month (UTC).

    Shared by every entry of the same application: the cloud's quota is the
    application's. Attributes: the month-end projection at the last day's
    rate, the budget, the top endpoints and the schedule in force.
    """

    _attr_translation_key = "api_calls_month"
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_state_class = SensorStateClass.TOTAL
    _attr_native_unit_of_measurement = "calls"
    _attr_suggested_display_precision = 0

    def __init__(self, coordinator: LockCoordinator) -> None:
        """Create the sensor."""
        super().__init__(coordinator, "api_calls_month")

    @property
    def native_value(self) -> StateType:
        """Calls this month."""
        ledger = self.coordinator.ledger
        return ledger.view(dt_util.utcnow()).month if ledger else None

    @property
    def last_reset(self) -> datetime | None:
        """The month's start: the count begins again at 0."""
        ledger = self.coordinator.ledger
        return ledger.view(dt_util.utcnow()).month_start if ledger else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Projection, budget, top endpoints, the schedule in force."""
        coordinator = self.coordinator
        ledger = coordinator.ledger
        if ledger is None:
            return None
        now = dt_util.utcnow()
        view = ledger.view(now)
        budget = coordinator.budget
        limit = ledger.active_limit(now)
        schedule = coordinator.schedule
        return {
            "projected_month_end": view.projected,
            "budget": budget or None,
            "projected_percent_of_budget": (
                round(100 * view.projected / budget) if budget else None
            ),
            "calls_today": view.today,
            "calls_per_day": round(view.rate_per_day),
            "top_endpoints": view.top,
            "lock_list_interval_minutes": round(
                schedule.list_interval.total_seconds() / 60
            ),
            "activity_interval_minutes": round(
                schedule.activity_interval.total_seconds() / 60
            ),
            "push_healthy": schedule.push_healthy,
            "budget_stretch": schedule.budget_level,
            "limit_reached": limit is not None,
            "limit_resets": limit.reset_at.isoformat()
            if limit is not None and limit.reset_at is not None
            else None,
        }


class CodePacketSensor(AccountBaseEntity, SensorEntity):
    """Codes left in the gateway service's paid packet (read daily and after
    each code); unknown for an unlimited packet (attribute ``unlimited``)."""

    _attr_translation_key = "code_packet"
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_native_unit_of_measurement = "codes"
    _attr_suggested_display_precision = 0

    def __init__(self, coordinator: LockCoordinator, packet: CodePacketMonitor) -> None:
        """Create the sensor."""
        super().__init__(coordinator, "code_packet")
        self.packet = packet

    @property
    def available(self) -> bool:
        """Once the packet was read."""
        return self.packet.packet is not None

    @property
    def native_value(self) -> StateType:
        """Codes left; None when unlimited."""
        packet = self.packet.packet
        return packet.codes_left if packet is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """When the packet expires; whether it is unlimited."""
        packet = self.packet.packet
        if packet is None:
            return None
        return {
            "expires_at": packet.expires_at.isoformat() if packet.expires_at else None,
            "unlimited": packet.codes_left is None,
        }
