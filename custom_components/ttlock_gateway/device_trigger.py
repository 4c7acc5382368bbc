"""Device triggers of a lock: unlocked (by code, app, card, fingerprint), locked, alarms.

Each trigger listens for the integration's ``ttlock_gateway_event`` bus event of
the device, so UI automations need no YAML and no event names.
"""

from __future__ import annotations

from typing import Final

from homeassistant.components.device_automation import (
    DEVICE_TRIGGER_BASE_SCHEMA,
    InvalidDeviceAutomationConfig,
)
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_PLATFORM,
    CONF_TYPE,
    Platform,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType
import probatio as vol

from .const import DOMAIN, EVENT_LOCK
from .providers.models import EventType, UnlockMethod

# Trigger type -> (event type, methods that count; None = any method).
TRIGGERS: Final[dict[str, tuple[EventType, tuple[UnlockMethod, ...] | None]]] = {
    "unlocked": (EventType.UNLOCKED, None),
    "unlocked_by_code": (EventType.UNLOCKED, (UnlockMethod.CODE,)),
    # From the phone: through the app over Bluetooth, or remotely via the gateway.
    "unlocked_by_app": (
        EventType.UNLOCKED,
        (UnlockMethod.APP, UnlockMethod.REMOTE, UnlockMethod.GATEWAY),
    ),
    "unlocked_by_card": (EventType.UNLOCKED, (UnlockMethod.CARD,)),
    "unlocked_by_fingerprint": (EventType.UNLOCKED, (UnlockMethod.FINGERPRINT,)),
    "locked": (EventType.LOCKED, None),
    "wrong_code": (EventType.WRONG_CODE, None),
    "tamper": (EventType.TAMPER, None),
    "battery_low": (EventType.BATTERY_LOW, None),
    "unlock_failed": (EventType.UNLOCK_FAILED, None),
}

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_DOMAIN): DOMAIN,
        vol.Required(CONF_DEVICE_ID): str,
        vol.Required(CONF_TYPE): vol.In(list(TRIGGERS)),
    }
)


@callback
def _is_lock_device(hass: HomeAssistant, device_id: str) -> bool:
    """Locks have a lock entity of this integration; gateways do not."""
    return any(
        entry.domain == Platform.LOCK and entry.platform == DOMAIN
        for entry in er.async_entries_for_device(
            er.async_get(hass), device_id, include_disabled_entities=True
        )
    )


async def async_validate_trigger_config(
    hass: HomeAssistant, config: ConfigType
) -> ConfigType:
    """Check the schema; the device must be one of our locks."""
    config = TRIGGER_SCHEMA(config)
    if not _is_lock_device(hass, config[CONF_DEVICE_ID]):
        raise InvalidDeviceAutomationConfig(
            translation_domain=DOMAIN,
            translation_key="trigger_device_not_a_lock",
            translation_placeholders={"device_id": config[CONF_DEVICE_ID]},
        )
    return config


async def async_get_triggers(
    hass: HomeAssistant, device_id: str
) -> list[dict[str, str]]:
    """Every trigger type for a lock device; none for gateways."""
    if not _is_lock_device(hass, device_id):
        return []
    return [
        {
            CONF_PLATFORM: "device",
            CONF_DOMAIN: DOMAIN,
            CONF_DEVICE_ID: device_id,
            CONF_TYPE: trigger_type,
        }
        for trigger_type in TRIGGERS
    ]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Listen for the device's lock events of the trigger's type and method."""
    event_type, methods = TRIGGERS[config[CONF_TYPE]]
    base = {CONF_DEVICE_ID: config[CONF_DEVICE_ID], "type": event_type.value}
    matches = (
        [base] if methods is None else [{**base, "method": m.value} for m in methods]
    )
    removers = [
        await event_trigger.async_attach_trigger(
            hass,
            event_trigger.TRIGGER_SCHEMA(
                {
                    event_trigger.CONF_PLATFORM: "event",
                    event_trigger.CONF_EVENT_TYPE: EVENT_LOCK,
                    event_trigger.CONF_EVENT_DATA: data,
                }
            ),
            action,
            trigger_info,
            platform_type="device",
        )
        for data in matches
    ]

    @callback
    def remove() -> None:
        for remover in removers:
            remover()

    return remove
