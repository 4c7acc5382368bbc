"""The activity store: what an entry knew at its last save, versioned.

Version 2 keeps, per lock, the last known details, state, battery and
connectivity with the cloud time each came from, the last activity, the poll
cursor and the record ids seen (with their times); per gateway its last known
state; per standalone door sensor its last known state and when; and which
locks, gateways and door sensors were missing from the last lists. Version 1
(poll cursor and up to 500 seen ids per lock, no times) is migrated.

Reading is defensive: a value that does not parse is dropped, never raised, so
a damaged file costs at most what it held.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
import hashlib
from typing import Any

from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .activity import LockActivity, SeenRecords, sane_time
from .providers.models import (
    Capabilities,
    DoorSensor,
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
            "lock_control": caps.lock_control,
            "update_codes": caps.update_codes,
            "freeze_codes": caps.freeze_codes,
            "dynamic_codes": caps.dynamic_codes,
            "codes_confirmed_later": caps.codes_confirmed_later,
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
            # Stored before it existed: every lock could be operated.
            lock_control=caps.get("lock_control") is not False,
            update_codes=caps.get("update_codes") is True,
            freeze_codes=caps.get("freeze_codes") is True,
            dynamic_codes=caps.get("dynamic_codes") is True,
            codes_confirmed_later=caps.get("codes_confirmed_later") is True,
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


def door_sensor_to_store(sensor: DoorSensor) -> dict[str, Any]:
    """A door sensor's last known values."""
    return {
        "sensor_id": sensor.sensor_id,
        "name": sensor.name,
        "mac": sensor.mac,
        "battery": sensor.battery,
        "open": sensor.open,
        "stale": sensor.stale,
    }


def door_sensor_from_store(raw: Any) -> DoorSensor | None:
    """A stored door sensor, or None when the entry is unusable."""
    if not isinstance(raw, dict):
        return None
    sensor_id = _text(raw.get("sensor_id"))
    name = _text(raw.get("name"))
    if sensor_id is None or name is None:
        return None
    battery = _int(raw.get("battery"))
    return DoorSensor(
        sensor_id=sensor_id,
        name=name,
        mac=_text(raw.get("mac")),
        battery=battery if battery is not None and 0 <= battery <= 100 else None,
        open=_bool(raw.get("open")),
        stale=raw.get("stale") is True,
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


# --------------------------------------------------------------------------- #
# The whole account


@dataclass(slots=True)
class StoredAccount:
    """What the coordinator saves and restores."""

    webhook_seen: bool
    last_list: datetime | None
    last_activity_poll: datetime | None
    # Device object id (lock id / "gateway_<id>") -> lists it was missing from.
    missing: dict[str, int]
    activity: dict[str, LockActivity]
    locks: dict[str, Lock]
    gateways: dict[str, Gateway]
    gateway_times: dict[str, datetime]
    # When an event callback last reached the webhook (push healthy, issue 16).
    last_callback: datetime | None = None
    door_sensors: dict[str, DoorSensor] = field(default_factory=dict)
    # Cloud time of each door sensor's open/closed value.
    door_sensor_times: dict[str, datetime] = field(default_factory=dict)
    # When the door sensor list was last asked (an account without any is
    # asked once a day).
    door_sensors_listed: datetime | None = None


def _activity_from_store(item: dict[str, Any], now: datetime) -> LockActivity:
    seen_raw = item.get("seen")
    seen_items = [
        (str(event_id), when)
        for event_id, raw_when in (
            seen_raw.items() if isinstance(seen_raw, dict) else ()
        )
        if (when := dt_from_store(raw_when)) is not None
    ]
    return LockActivity(
        last_time=sane_time(dt_from_store(item.get("last_time")), now),
        last_event=event_from_store(item.get("last_event")),
        state_time=sane_time(dt_from_store(item.get("state_time")), now),
        battery_time=sane_time(dt_from_store(item.get("battery_time")), now),
        online_time=sane_time(dt_from_store(item.get("online_time")), now),
        details_time=sane_time(dt_from_store(item.get("details_time")), now),
        seen=SeenRecords(
            seen_items, sane_time(dt_from_store(item.get("seen_floor")), now)
        ),
    )


def decode_account(
    stored: dict[str, Any], now: datetime, webhook_id: str
) -> StoredAccount:
    """What the file holds; times ahead of ``now`` (the clock moved back) dropped."""
    seen_for = stored.get("webhook_seen")
    missing = stored.get("missing")
    account = StoredAccount(
        webhook_seen=seen_for == LEGACY_WEBHOOK_SEEN
        or (isinstance(seen_for, str) and seen_for == webhook_digest(webhook_id)),
        last_list=sane_time(dt_from_store(stored.get("last_list")), now),
        last_activity_poll=sane_time(
            dt_from_store(stored.get("last_activity_poll")), now
        ),
        missing={
            str(key): count
            for key, count in (missing.items() if isinstance(missing, dict) else ())
            if isinstance(count, int) and not isinstance(count, bool) and count > 0
        },
        activity={},
        locks={},
        gateways={},
        gateway_times={},
        last_callback=sane_time(dt_from_store(stored.get("last_callback")), now),
        door_sensors_listed=sane_time(
            dt_from_store(stored.get("door_sensors_listed")), now
        ),
    )
    raw_locks = stored.get("locks")
    for lock_id, item in (raw_locks if isinstance(raw_locks, dict) else {}).items():
        if not isinstance(item, dict):
            continue
        act = _activity_from_store(item, now)
        account.activity[str(lock_id)] = act
        if (lock := lock_from_store(item.get("lock"))) is not None:
            account.locks[lock.lock_id] = lock
            act.restored = True
    raw_gateways = stored.get("gateways")
    for item in (raw_gateways if isinstance(raw_gateways, dict) else {}).values():
        if not isinstance(item, dict):
            continue
        if (gateway := gateway_from_store(item.get("gateway"))) is not None:
            account.gateways[gateway.gateway_id] = gateway
            if when := sane_time(dt_from_store(item.get("online_time")), now):
                account.gateway_times[gateway.gateway_id] = when
    raw_sensors = stored.get("door_sensors")
    for item in (raw_sensors if isinstance(raw_sensors, dict) else {}).values():
        if not isinstance(item, dict):
            continue
        if (sensor := door_sensor_from_store(item.get("sensor"))) is not None:
            account.door_sensors[sensor.sensor_id] = sensor
            if when := sane_time(dt_from_store(item.get("state_time")), now):
                account.door_sensor_times[sensor.sensor_id] = when
    return account


def encode_account(account: StoredAccount, webhook_id: str) -> dict[str, Any]:
    """The file's content (version 2)."""
    return {
        "webhook_seen": webhook_digest(webhook_id) if account.webhook_seen else None,
        "last_list": dt_to_store(account.last_list),
        "last_activity_poll": dt_to_store(account.last_activity_poll),
        "last_callback": dt_to_store(account.last_callback),
        "missing": dict(account.missing),
        "locks": {
            lock_id: {
                "lock": lock_to_store(lock)
                if (lock := account.locks.get(lock_id))
                else None,
                "last_time": dt_to_store(act.last_time),
                "last_event": event_to_store(act.last_event)
                if act.last_event
                else None,
                "state_time": dt_to_store(act.state_time),
                "battery_time": dt_to_store(act.battery_time),
                "online_time": dt_to_store(act.online_time),
                "details_time": dt_to_store(act.details_time),
                "seen": {event_id: when.isoformat() for event_id, when in act.seen},
                "seen_floor": dt_to_store(act.seen.floor),
            }
            for lock_id, act in account.activity.items()
        },
        "gateways": {
            gateway_id: {
                "gateway": gateway_to_store(gateway),
                "online_time": dt_to_store(account.gateway_times.get(gateway_id)),
            }
            for gateway_id, gateway in account.gateways.items()
        },
        "door_sensors_listed": dt_to_store(account.door_sensors_listed),
        "door_sensors": {
            sensor_id: {
                "sensor": door_sensor_to_store(sensor),
                "state_time": dt_to_store(account.door_sensor_times.get(sensor_id)),
            }
            for sensor_id, sensor in account.door_sensors.items()
        },
    }
