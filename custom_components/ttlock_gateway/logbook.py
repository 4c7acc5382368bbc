"""Logbook lines for lock events: "Front door unlocked by code (Guest)"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from homeassistant.components.logbook import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN, EVENT_LOCK

_WHAT: Final[dict[str, str]] = {
    "unlocked": "unlocked",
    "locked": "locked",
    "unlock_failed": "failed to unlock",
    "wrong_code": "wrong code entered",
    "tamper": "tamper alarm",
    "battery_low": "battery low",
    "battery_ok": "battery recovered",
    "door_opened": "door opened",
    "door_closed": "door closed",
    "offline": "went offline",
    "online": "came back online",
    "gateway_offline": "gateway went offline",
    "gateway_online": "gateway came back online",
    "code_added": "code added at the lock",
    "code_deleted": "code deleted at the lock",
    "code_changed": "code changed at the lock",
    "codes_synced": "codes synchronised",
    "doorbell": "doorbell rang",
    "request_failed": "a request failed at the lock",
    "other": "other event",
}

_HOW: Final[dict[str, str]] = {
    "app": "by app",
    "code": "by code",
    "card": "by card",
    "fingerprint": "by fingerprint",
    "face": "by face recognition",
    "key": "with a key",
    "remote": "remotely",
    "gateway": "via the gateway",
    "bluetooth": "over Bluetooth",
    "button": "from inside",
    "auto": "automatically",
    "key_fob": "by key fob",
    "qr_code": "by QR code",
    "passage_mode": "by passage mode",
}

# Only these say how they happened.
_WITH_METHOD: Final = frozenset({"unlocked", "locked", "unlock_failed"})


def describe(data: dict[str, Any], name: str) -> dict[str, str | None]:
    """The logbook entry of one ``ttlock_gateway_event``."""
    event_type = str(data.get("type"))
    parts = [_WHAT.get(event_type, event_type.replace("_", " "))]
    if event_type in _WITH_METHOD and (how := _HOW.get(str(data.get("method")))):
        parts.append(how)
    who = data.get("user") or data.get("code_name")
    message = " ".join(parts)
    if isinstance(who, str) and who:
        message = f"{message} ({who})"
    return {
        LOGBOOK_ENTRY_NAME: name,
        LOGBOOK_ENTRY_MESSAGE: message,
        LOGBOOK_ENTRY_ENTITY_ID: data.get("entity_id"),
    }


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[
        [str, str, Callable[[Event], dict[str, str | None]]], None
    ],
) -> None:
    """Describe lock events."""
    device_registry = dr.async_get(hass)

    @callback
    def async_describe_lock_event(event: Event) -> dict[str, str | None]:
        data = event.data
        name: str | None = None
        if (device_id := data.get("device_id")) and (
            device := device_registry.async_get(device_id)
        ):
            name = device.name_by_user or device.name
        if not name:
            raw = data.get("raw")
            nickname = raw.get("nickname") if isinstance(raw, dict) else None
            name = nickname if isinstance(nickname, str) and nickname else "Lock"
        return describe(dict(data), name)

    async_describe_event(DOMAIN, EVENT_LOCK, async_describe_lock_event)
