"""The activity store: what an entry knew at its last save, versioned.

Version 2 keeps, per lock, the last known details, state, battery and
connectivity with the cloud time each came from, the last activity, the poll
cursor and the record ids seen (with their times); per gateway its last known
state; and which locks and gateways were missing from the last lists. Version 1
(poll cursor and up to 500 seen ids per lock, no times) is migrated.

Reading is defensive: a value that does not parse is dropped, never raised, so
a damaged file costs at most what it held.
"""

from __future__ import annotations

from datetime import datetime
import hashlib
from typing import Any

from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .providers.models import (
    Capabilities,
    EventType,
    Gateway,
    Lock,
    LockEvent,
    LockState,
    UnlockMethod,
)

STORAGE_VERSION = 2
# A v1 file said only "seen" or not, for whichever webhook id was current.
LEGACY_WEBHOOK_SEEN = "legacy"


def webhook_digest(webhook_id: str) -> str:
    """What the store keeps of the webhook id a callback came to (not the id)."""
    return hashlib.sha256(webhook_id.encode()).hexdigest()[:16]


class ActivityStore(Store[dict[str, Any]]):
    """The entry's activity file, migrated from version 1 when read."""

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: Any
    ) -> dict[str, Any]:
        """Version 1 → 2: seen ids get the migration time, nothing else is invented."""
        if old_major_version >= 2 or not isinstance(old_data, dict):
            return old_data if isinstance(old_data, dict) else {}
        now = dt_util.utcnow().isoformat()
        locks: dict[str, Any] = {}
        for lock_id, item in (old_data.get("locks") or {}).items():
            if not isinstance(item, dict):
                continue
            seen = item.get("seen") or []
            locks[str(lock_id)] = {
                "last_time": item.get("last_time"),
                "seen": {str(event_id): now for event_id in seen if event_id},
            }
        return {
            "webhook_seen": (
                LEGACY_WEBHOOK_SEEN if old_data.get("webhook_seen") else None
            ),
            "last_activity_poll": old_data.get("last_activity_poll"),
            "locks": locks,
        }


# --------------------------------------------------------------------------- #
# Values


def dt_to_store(value: datetime | None) -> str | None:
    """A datetime as stored (ISO 8601)."""
    return value.isoformat() if value is not None else None


def dt_from_store(value: Any) -> datetime | None:
    """A stored datetime, None when absent or unreadable (or naive)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt_util.parse_datetime(value)
    except ValueError:
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return parsed


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def lock_to_store(lock: Lock) -> dict[str, Any]:
    """A lock's details and last known values."""
    caps = lock.capabilities
    return {
        "lock_id": lock.lock_id,
        "name": lock.name,
        "capabilities": {
            "remote_unlock": caps.remote_unlock,
            "remote_lock": caps.remote_lock,
            "passage_mode": caps.passage_mode,
            "codes": caps.codes,
            "code_min_length": caps.code_min_length,
            "code_max_length": caps.code_max_length,
        },
        "model": lock.model,
        "manufacturer": lock.manufacturer,
        "firmware": lock.firmware,
        "mac": lock.mac,
        "battery": lock.battery,
        "has_gateway": lock.has_gateway,
        "online": lock.online,
        "state": lock.state.value if lock.state is not None else None,
        "passage_mode": lock.passage_mode,
        "auto_lock_seconds": lock.auto_lock_seconds,
        "aliases": list(lock.aliases),
        "shared": lock.shared,
    }


def lock_from_store(raw: Any) -> Lock | None:
    """A stored lock, or None when the entry is unusable."""
    if not isinstance(raw, dict):
        return None
    lock_id = _text(raw.get("lock_id"))
    name = _text(raw.get("name"))
    caps = raw.get("capabilities")
    if lock_id is None or name is None or not isinstance(caps, dict):
        return None
    state = raw.get("state")
    aliases = raw.get("aliases")
    return Lock(
        lock_id=lock_id,
        name=name,
        capabilities=Capabilities(
            remote_unlock=caps.get("remote_unlock") is True,
            remote_lock=caps.get("remote_lock") is True,
            passage_mode=caps.get("passage_mode") is True,
            codes=caps.get("codes") is True,
            code_min_length=_int(caps.get("code_min_length")) or 4,
            code_max_length=_int(caps.get("code_max_length")) or 9,
        ),
        model=_text(raw.get("model")),
        manufacturer=_text(raw.get("manufacturer")),
        firmware=_text(raw.get("firmware")),
        mac=_text(raw.get("mac")),
        battery=_int(raw.get("battery")),
        has_gateway=raw.get("has_gateway") is True,
        online=_bool(raw.get("online")),
        state=LockState(state) if state in set(LockState) else None,
        passage_mode=_bool(raw.get("passage_mode")),
        auto_lock_seconds=_int(raw.get("auto_lock_seconds")),
        aliases=tuple(a for a in aliases if isinstance(a, str) and a)
        if isinstance(aliases, list)
        else (),
        shared=raw.get("shared") is True,
    )


def gateway_to_store(gateway: Gateway) -> dict[str, Any]:
    """A gateway's last known values."""
    return {
        "gateway_id": gateway.gateway_id,
        "name": gateway.name,
        "online": gateway.online,
        "mac": gateway.mac,
        "network": gateway.network,
        "lock_count": gateway.lock_count,
        "signal": gateway.signal,
    }


def gateway_from_store(raw: Any) -> Gateway | None:
    """A stored gateway, or None when the entry is unusable."""
    if not isinstance(raw, dict):
        return None
    gateway_id = _text(raw.get("gateway_id"))
    name = _text(raw.get("name"))
    online = _bool(raw.get("online"))
    if gateway_id is None or name is None or online is None:
        return None
    return Gateway(
        gateway_id=gateway_id,
        name=name,
        online=online,
        mac=_text(raw.get("mac")),
        network=_text(raw.get("network")),
        lock_count=_int(raw.get("lock_count")),
        signal=_int(raw.get("signal")),
    )


def event_to_store(event: LockEvent) -> dict[str, Any]:
    """The last activity, without code digits."""
    return {
        "event_id": event.event_id,
        "lock_id": event.lock_id,
        "type": event.type.value,
        "time": event.time.isoformat(),
        "method": event.method.value,
        "success": event.success,
        "user": event.user,
        "code_id": event.code_id,
        "code_name": event.code_name,
        "battery": event.battery,
        "source": event.source,
        "received": dt_to_store(event.received),
        "time_known": event.time_known,
    }


def event_from_store(raw: Any) -> LockEvent | None:
    """A stored last activity, or None when the entry is unusable."""
    if not isinstance(raw, dict):
        return None
    event_id = _text(raw.get("event_id"))
    when = dt_from_store(raw.get("time"))
    kind = raw.get("type")
    method = raw.get("method")
    if event_id is None or when is None or kind not in set(EventType):
        return None
    return LockEvent(
        event_id=event_id,
        lock_id=_text(raw.get("lock_id")),
        type=EventType(kind),
        time=when,
        method=UnlockMethod(method)
        if method in set(UnlockMethod)
        else UnlockMethod.UNKNOWN,
        success=raw.get("success") is not False,
        user=_text(raw.get("user")),
        code_id=_text(raw.get("code_id")),
        code_name=_text(raw.get("code_name")),
        battery=_int(raw.get("battery")),
        source=_text(raw.get("source")) or "poll",
        received=dt_from_store(raw.get("received")),
        time_known=raw.get("time_known") is not False,
    )
