"""Diagnostics: what the integration knows, with every secret and identifier redacted.

The webhook id is a credential: whoever knows it can push events to Home Assistant,
so the id is redacted and the webhook URL is shown with the id replaced by
``**REDACTED**``. Code digits never appear; neither do user names, MAC addresses
or the account's login.

MACs and uuids are also redacted where they hide inside other values: record ids
(``dding:<uuid>:…``), gateway names that fall back to the MAC, raw fields. Every
MAC and uuid the entry knows is replaced wherever it appears, in any case or
separator style, and anything shaped like a MAC is replaced too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import datetime
import re
from typing import Any, cast

from homeassistant.components import webhook
from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.util import dt as dt_util

from .const import (
    CONF_ACCESS_ID,
    CONF_ACCESS_SECRET,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_PASSWORD_MD5,
    CONF_PROVIDER,
    CONF_USER_UID,
    CONF_WEBHOOK_ID,
    DOMAIN,
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
    "home_ids",  # Dding: the partner's own ids
    "default_phone",
    "phone",
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


# Anything shaped like a MAC (AA:BB:CC:DD:EE:FF, aa-bb-…, 12 hex digits in a row).
_MAC_SHAPE = re.compile(
    r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}(?![0-9A-Fa-f])"
    r"|(?<![0-9A-Za-z])[0-9A-Fa-f]{12}(?![0-9A-Za-z])"
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _identifiers(coordinator: LockCoordinator) -> list[str]:
    """Every MAC and uuid the entry knows, in the spellings a text may use.

    Longest first: a MAC is replaced whole, not a part of it.
    """
    found: set[str] = set()
    data = coordinator.current_data
    for lock in data.locks.values() if data else ():
        found.update(v for v in (lock.mac, *lock.aliases) if v)
    for gateway in data.gateways.values() if data else ():
        if gateway.mac:
            found.add(gateway.mac)
    for act in coordinator.activity.values():
        if act.last_event is not None and isinstance(
            uuid := act.last_event.raw.get("uuid"), str
        ):
            found.add(uuid)
    spellings: set[str] = set()
    for value in found:
        if len(value) < 4:
            continue
        compact = value.replace(":", "").replace("-", "")
        spellings.update({value, value.upper(), value.lower()})
        spellings.update({compact, compact.upper(), compact.lower()})
    return sorted(spellings, key=len, reverse=True)


def _scrub(value: Any, identifiers: list[str]) -> Any:
    """Replace known identifiers and MAC-shaped text in every string and key."""
    if isinstance(value, dict):
        return {
            _scrub(k, identifiers): _scrub(v, identifiers) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item, identifiers) for item in value]
    if not isinstance(value, str) or value == REDACTED:
        return value
    for identifier in identifiers:
        if identifier in value:
            value = value.replace(identifier, REDACTED)
    return _MAC_SHAPE.sub(REDACTED, value)


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
    data["received"] = _iso(event.received)
    return data


def _code_support(entry: TTLockGatewayConfigEntry, lock: Lock) -> dict[str, Any]:
    """Which codes the lock takes, and how many of ours it has (no digits)."""
    caps = lock.capabilities
    now = dt_util.utcnow()
    records = [
        r
        for r in entry.runtime_data.codes.ledger.live_for_lock(lock.lock_id)
        if not r.foreign
    ]
    statuses = Counter(r.status(now).value for r in records)
    return {
        "custom_codes": caps.custom_codes,
        "offline_codes": [kind.value for kind in caps.offline_codes],
        "deletable_remotely": caps.codes_deletable_remotely,
        "ledger_custom": sum(not r.is_offline for r in records),
        "ledger_offline": sum(r.is_offline for r in records),
        "ledger_statuses": dict(sorted(statuses.items())),
    }


def _lock(
    coordinator: LockCoordinator, lock: Lock, entry: TTLockGatewayConfigEntry
) -> dict[str, Any]:
    act = coordinator.activity.get(lock.lock_id) or LockActivity()
    return {
        **asdict(lock),
        "code_support": _code_support(entry, lock),
        "activity": {
            "last_record_time": _iso(act.last_time),
            "state_time": _iso(act.state_time),
            "battery_time": _iso(act.battery_time),
            "online_time": _iso(act.online_time),
            "details_time": _iso(act.details_time),
            "restored": act.restored,
            "records_remembered": len(act.seen),
            "last_event": _event(act.last_event),
        },
    }


def _gateway(gateway: Gateway) -> dict[str, Any]:
    return asdict(gateway)


def _budget(coordinator: LockCoordinator, locks: int, gateways: int) -> dict[str, Any]:
    """The schedule in force, the calls it costs, and what the ledger counted."""
    schedule = coordinator.schedule
    list_minutes = round(schedule.list_interval.total_seconds() / 60)
    activity_minutes = round(schedule.activity_interval.total_seconds() / 60)
    list_runs = 24 * 60 / list_minutes
    activity_runs = 24 * 60 / activity_minutes
    now = dt_util.utcnow()
    result: dict[str, Any] = {
        "lock_list_interval_minutes": list_minutes,
        "activity_interval_minutes": activity_minutes,
        "push_healthy": schedule.push_healthy,
        "last_callback": _iso(coordinator.last_callback),
        "budget": coordinator.budget or None,
        "budget_stretch": schedule.budget_level,
        # Lock list (+ gateway list when there are gateways) every list interval;
        # details and records of every lock every activity interval.
        "estimated_scheduled_calls_per_day": round(
            list_runs * (1 + (1 if gateways else 0)) + activity_runs * locks * 2
        ),
    }
    if (ledger := coordinator.ledger) is not None:
        view = ledger.view(now)
        limit = ledger.active_limit(now)
        result["ledger"] = {
            "calls_this_month": view.month,
            "calls_today": view.today,
            "calls_last_24_hours": round(view.rate_per_day),
            "projected_month_end": view.projected,
            "top_endpoints": view.top,
            "limit_reached_since": _iso(limit.since) if limit else None,
            "limit_resets": _iso(limit.reset_at) if limit else None,
        }
    if (push := coordinator.push) is not None:
        result["push"] = {
            key: _iso(value) if isinstance(value, datetime) else value
            for key, value in asdict(push.consumer.health).items()
        }
    return result


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry
) -> dict[str, Any]:
    """Everything about the account, redacted."""
    coordinator = entry.runtime_data.coordinator
    data = coordinator.current_data
    locks = data.locks if data else {}
    gateways = data.gateways if data else {}
    identifiers = _identifiers(coordinator)
    redacted = async_redact_data(
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
                "last_list": _iso(coordinator.last_list),
                "restored": coordinator.restored,
            },
            "api_budget": _budget(coordinator, len(locks), len(gateways)),
            "locks": [_lock(coordinator, lock, entry) for lock in locks.values()],
            "gateways": [_gateway(gateway) for gateway in gateways.values()],
        },
        TO_REDACT,
    )
    return cast(dict[str, Any], _scrub(redacted, identifiers))


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
                result["lock"] = _lock(coordinator, lock, entry)
        for gateway in data.gateways.values():
            if coordinator.device_key(f"gateway_{gateway.gateway_id}") in keys:
                result["gateway"] = _gateway(gateway)
    identifiers = _identifiers(coordinator)
    return cast(
        dict[str, Any],
        _scrub(async_redact_data(result, TO_REDACT), identifiers),
    )
