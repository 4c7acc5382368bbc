"""Diagnostics: what the integration knows, with every secret and identifier redacted.

The webhook id is a credential: whoever knows it can push events to Home Assistant,
so the id is redacted and the webhook URL is shown with the id replaced by
``**REDACTED**``. Code digits never appear; neither do user names, MAC addresses
or the account's login.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from homeassistant.components import webhook
from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.network import NoURLAvailableError

from .const import (
    ACTIVITY_INTERVAL,
    CONF_ACCESS_ID,
    CONF_ACCESS_SECRET,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_PASSWORD_MD5,
    CONF_PROVIDER,
    CONF_USER_UID,
    CONF_WEBHOOK_ID,
    DOMAIN,
    LOCK_LIST_INTERVAL,
)
from .coordinator import LockActivity, LockCoordinator, TTLockGatewayConfigEntry
from .providers.models import Gateway, Lock, LockEvent

TO_REDACT = {
    # Credentials.
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_PASSWORD_MD5,
    "password",
    CONF_ACCESS_ID,
    CONF_ACCESS_SECRET,
    "access_token",
    "refresh_token",
    "token",
    CONF_WEBHOOK_ID,
    "cloudhook_url",
    # Personal data (a TTLock entry's title is the account's login).
    "title",
    "username",
    CONF_USER_UID,
    "user",
    "nickname",
    "home_id",
    "room_id",
    "mac",
    "aliases",
    "uuid",
    "lockMac",
    # Code digits (never put in, redacted should one slip into raw fields).
    "code",
    "keyboardPwd",
    "passwords",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _webhook_url(hass: HomeAssistant, entry: TTLockGatewayConfigEntry) -> str | None:
    """The webhook URL the cloud is told to call, with the id redacted."""
    webhook_id: str = entry.data[CONF_WEBHOOK_ID]
    if entry.data.get("cloudhook_url"):
        return "Home Assistant Cloud webhook (" + REDACTED + ")"
    try:
        url = webhook.async_generate_url(
            hass, webhook_id, allow_internal=False, prefer_external=True
        )
    except NoURLAvailableError:
        return None
    return url.replace(webhook_id, REDACTED)


def _event(event: LockEvent | None) -> dict[str, Any] | None:
    if event is None:
        return None
    data = asdict(event)
    data.pop("code", None)
    data["time"] = _iso(event.time)
    return data


def _lock(coordinator: LockCoordinator, lock: Lock) -> dict[str, Any]:
    act = coordinator.activity.get(lock.lock_id) or LockActivity()
    return {
        **asdict(lock),
        "activity": {
            "last_record_time": _iso(act.last_time),
            "state_time": _iso(act.state_time),
            "records_remembered": len(act.seen),
            "last_event": _event(act.last_event),
        },
    }


def _gateway(gateway: Gateway) -> dict[str, Any]:
    return asdict(gateway)


def _budget(locks: int, gateways: int) -> dict[str, Any]:
    """Estimated cloud calls per day from the schedules (actions not included)."""
    list_minutes = round(LOCK_LIST_INTERVAL.total_seconds() / 60)
    activity_minutes = round(ACTIVITY_INTERVAL.total_seconds() / 60)
    list_runs = 24 * 60 / list_minutes
    activity_runs = 24 * 60 / activity_minutes
    return {
        "lock_list_interval_minutes": list_minutes,
        "activity_interval_minutes": activity_minutes,
        # Lock list (+ gateway list when there are gateways) every list interval;
        # details and records of every lock every activity interval.
        "estimated_scheduled_calls_per_day": round(
            list_runs * (1 + (1 if gateways else 0)) + activity_runs * locks * 2
        ),
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry
) -> dict[str, Any]:
    """Everything about the account, redacted."""
    coordinator = entry.runtime_data.coordinator
    data = coordinator.current_data
    locks = data.locks if data else {}
    gateways = data.gateways if data else {}
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "provider": entry.data.get(CONF_PROVIDER),
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "webhook": {
                "url": _webhook_url(hass, entry),
                "seen": coordinator.webhook_seen,
            },
            "coordinator": {
                "last_update_success": coordinator.last_update_success,
                "update_interval_seconds": (
                    coordinator.update_interval.total_seconds()
                    if coordinator.update_interval
                    else None
                ),
                "last_activity_poll": _iso(coordinator.last_activity_poll),
            },
            "api_budget": _budget(len(locks), len(gateways)),
            "locks": [_lock(coordinator, lock) for lock in locks.values()],
            "gateways": [_gateway(gateway) for gateway in gateways.values()],
        },
        TO_REDACT,
    )


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry, device: dr.AnyDeviceEntry
) -> dict[str, Any]:
    """One lock or gateway, redacted."""
    coordinator = entry.runtime_data.coordinator
    data = coordinator.current_data
    keys = {ident for domain, ident in device.identifiers if domain == DOMAIN}
    result: dict[str, Any] = {"webhook_seen": coordinator.webhook_seen}
    if data is not None:
        for lock in data.locks.values():
            if coordinator.device_key(lock.lock_id) in keys:
                result["lock"] = _lock(coordinator, lock)
        for gateway in data.gateways.values():
            if coordinator.device_key(f"gateway_{gateway.gateway_id}") in keys:
                result["gateway"] = _gateway(gateway)
    return async_redact_data(result, TO_REDACT)
