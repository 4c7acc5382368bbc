"""Tuya message-service business data as provider models (pure, no I/O).

Two families of messages exist (Tuya "Message Types",
developer.tuya.com/en/docs/iot/message-type?id=Kavqerli65a1u); a project may
get both, so both are read and de-duplicated the same way:

* legacy: protocol 4 ``{dataId, devId, productKey, status: [{code, value, t}]}``
  and protocol 20 ``{devId, bizCode: online|offline|..., bizData: {time}}``;
* IoT Core: protocol 1000 ``{bizCode: devicePropertyMessage, bizData: {devId,
  properties: [{code, dpId, value, time}]}, ts}`` and protocol 1001
  ``{bizCode: deviceOnline|deviceOffline, bizData: {devId, time}, ts}``.

Unlock and alarm data points become the very ``LockEvent`` the poll makes of the
same open-log / alarm-log record: the event is built by the poll's own
:func:`.tuya_mapping.log_event` from a record shaped like a log entry, with the
value spelled as the logs spell it (text: ``"12"``, ``"true"``) and the data
point's report time as ``update_time``. A record that arrives by push and by poll
therefore has one ``event_id``. States (battery, bolt) become ``LockStatus``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
import math
import re
from typing import Any, Final

from .bounds import (
    InvalidAnswerError,
    clean_text,
    datetime_from_ms,
    has_unsafe_text,
    opt_int,
    percent,
    require_id,
)
from .models import EventType, LockEvent, LockState, LockStatus, PushBatch
from .tuya_mapping import battery_from_status, log_event, state_from_status

PROTOCOL_STATUS: Final = 4
PROTOCOL_DEVICE: Final = 20
PROTOCOL_PROPERTY: Final = 1000
PROTOCOL_DEVICE_CORE: Final = 1001

# Data points that record an unlock (seed 002's open-log codes, the poll's
# methods, and the remote ones locks report). Other ``unlock_*`` codes are not
# unlocks: ``unlock_request`` is the lock asking for a remote unlock,
# ``unlock_method_create`` a credential being enrolled, ``unlock_switch`` a
# setting. The poll never sees those (the open log holds unlocks only); a push
# of them must not announce the door as unlocked.
UNLOCK_CODES: Final = frozenset(
    {
        "unlock_fingerprint",
        "unlock_finger",
        "unlock_password",
        "unlock_temporary",
        "unlock_dynamic",
        "unlock_emergency",
        "unlock_card",
        "unlock_identity_card",
        "unlock_face",
        "unlock_key",
        "unlock_ble",
        "unlock_phone_remote",
        "unlock_voice_remote",
        "unlock_app",
        "unlock_remote",
        "unlock_hand",
        "unlock_eye",
        "unlock_finger_vein",
        "unlock_palm_vein",
    }
)
ALARM_CODES: Final = frozenset({"alarm_lock", "hijack", "doorbell"})
# Alarm data points whose value only says "it happened" (``false`` is a reset).
_FLAG_ALARMS: Final = frozenset({"hijack", "doorbell"})
BATTERY_PERCENT_CODES: Final = ("residual_electricity", "battery_percentage")
DOOR_CODES: Final = frozenset({"closed_opened", "open_close"})
_DOOR_OPEN: Final = frozenset({"open", "opened", "true"})
_DOOR_CLOSED: Final = frozenset({"closed", "close", "false"})

_ONLINE_BIZ: Final[dict[str, bool]] = {
    "online": True,
    "offline": False,
    "deviceOnline": True,
    "deviceOffline": False,
}

MAX_POINTS: Final = 64
MAX_VALUE_TEXT: Final = 256
_CODE: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# JSON numbers beyond 2**53 are not exact in most clients; no lock counts that far.
_MAX_INT: Final = 2**53


@dataclass(frozen=True, slots=True)
class DataPoint:
    """One reported data point, bounded."""

    code: str
    value: bool | int | float | str
    time_ms: int | None


@dataclass(frozen=True, slots=True)
class DeviceMessage:
    """What one business message says about one device."""

    device_id: str
    points: tuple[DataPoint, ...] = ()
    online: bool | None = None
    biz_code: str | None = None
    time_ms: int | None = None
    data_id: str | None = None


def _scalar(raw: Any) -> bool | int | float | str | None:
    """A data point value we can use, or ``None`` (objects, NaN, huge ints...)."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return raw if -_MAX_INT <= raw <= _MAX_INT else None
    if isinstance(raw, float):
        return raw if math.isfinite(raw) else None
    if isinstance(raw, str):
        if len(raw) > MAX_VALUE_TEXT or has_unsafe_text(raw):
            return None
        return raw
    return None


def _time(raw: Any) -> int | None:
    """Epoch ms (a 10-digit value is seconds), ``None`` when absent or odd."""
    value = opt_int(raw, minimum=1)
    if value is None:
        return None
    return value * 1000 if value < 100_000_000_000 else value


def _point(item: Any, time_key: str) -> DataPoint | None:
    if not isinstance(item, Mapping):
        return None
    code = item.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        return None
    value = _scalar(item.get("value"))
    if value is None:
        return None
    return DataPoint(code=code, value=value, time_ms=_time(item.get(time_key)))


def _points(raw: Any, time_key: str) -> tuple[DataPoint, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_POINTS:
        raise InvalidAnswerError("status: not a bounded list")
    return tuple(p for item in raw if (p := _point(item, time_key)) is not None)


def _opt_id(raw: Any) -> str | None:
    try:
        return require_id(raw, "dataId")
    except InvalidAnswerError:
        return None


def parse_business(protocol: int, data: Mapping[str, Any]) -> DeviceMessage | None:
    """The device and data points of a decrypted message.

    ``None`` for messages that are not about a lock's data points or
    connectivity (scenes, renames, OTA...): those are acknowledged and dropped.
    Raises :class:`InvalidAnswerError` for a malformed message.
    """
    if protocol == PROTOCOL_STATUS:
        return DeviceMessage(
            device_id=require_id(data.get("devId"), "devId"),
            points=_points(data.get("status"), "t"),
            data_id=_opt_id(data.get("dataId")),
        )
    if protocol not in (PROTOCOL_DEVICE, PROTOCOL_PROPERTY, PROTOCOL_DEVICE_CORE):
        return None
    biz_code = data.get("bizCode")
    if not isinstance(biz_code, str):
        raise InvalidAnswerError("bizCode missing")
    biz = data.get("bizData")
    biz_data: Mapping[str, Any] = biz if isinstance(biz, Mapping) else {}
    if protocol == PROTOCOL_PROPERTY:
        if biz_code != "devicePropertyMessage":
            return None
        return DeviceMessage(
            device_id=require_id(biz_data.get("devId"), "devId"),
            points=_points(biz_data.get("properties"), "time"),
            biz_code=biz_code,
            time_ms=_time(data.get("ts")),
            data_id=_opt_id(biz_data.get("dataId")),
        )
    if biz_code not in _ONLINE_BIZ:
        return None
    # Legacy device messages name the device at the top, IoT Core in bizData.
    device = data.get("devId") or biz_data.get("devId")
    return DeviceMessage(
        device_id=require_id(device, "devId"),
        online=_ONLINE_BIZ[biz_code],
        biz_code=biz_code,
        time_ms=_time(data.get("ts")) or _time(biz_data.get("time")),
    )


def log_value_text(value: bool | int | float | str) -> str:
    """A data point value as the open / alarm logs spell it (seed 002: text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _when(point_ms: int | None, message_ms: int | None, received_ms: int) -> int:
    """A data point's time; the receipt time if the cloud's is in the future.

    A report stamped far ahead (a device or cloud clock gone wrong) would make
    every later state look older and freeze the lock's state: it is taken as
    received instead.
    """
    for candidate in (point_ms, message_ms):
        if candidate is not None and candidate <= received_ms + MAX_FUTURE_MS:
            return candidate
    return received_ms


# How far ahead of our clock a report may be stamped and still be believed.
MAX_FUTURE_MS: Final = 10 * 60 * 1000


def _dt(t_ms: int) -> datetime:
    return datetime_from_ms(t_ms, "report time")


def to_batch(
    message: DeviceMessage, *, received_ms: int, envelope_ms: int | None = None
) -> PushBatch:
    """Events and states of one device message (times bounded 1970-2200)."""
    lock_id = message.device_id
    message_ms = message.time_ms or envelope_ms
    if message.online is not None:
        t_ms = _when(None, message_ms, received_ms)
        event = LockEvent(
            event_id=f"tuya:{lock_id}:{t_ms}:{message.biz_code}",
            lock_id=lock_id,
            type=EventType.LOCK_ONLINE if message.online else EventType.LOCK_OFFLINE,
            time=_dt(t_ms),
            source="push",
            raw={"bizCode": message.biz_code, "time": t_ms},
        )
        return PushBatch(events=(event,))

    battery: int | None = None
    battery_ms = 0
    state_values: dict[str, Any] = {}
    state_ms = 0
    pending: list[tuple[int, LockEvent]] = []
    for point in message.points:
        t_ms = _when(point.time_ms, message_ms, received_ms)
        _dt(t_ms)  # bounded before anything builds a datetime from it
        code, value = point.code, point.value
        if code in BATTERY_PERCENT_CODES or code == "battery_state":
            level = (
                percent(value)
                if code in BATTERY_PERCENT_CODES
                else battery_from_status({code: value})
            )
            if level is not None and t_ms >= battery_ms:
                battery, battery_ms = level, t_ms
            continue
        if code == "lock_motor_state" and isinstance(value, bool):
            state_values[code] = value
            state_ms = max(state_ms, t_ms)
            # Tuya records every unlock as an unlock_* point: only the bolt
            # going home is an event of its own here.
            state = state_from_status({code: value})
            if state is LockState.LOCKED:
                pending.append((t_ms, _state_event(lock_id, t_ms, code, value)))
            continue
        if code in DOOR_CODES:
            text = log_value_text(value).lower()
            if text in _DOOR_OPEN or text in _DOOR_CLOSED:
                opened = text in _DOOR_OPEN
                state_values[code] = "open" if opened else "closed"
                state_ms = max(state_ms, t_ms)
                pending.append(
                    (t_ms, _door_event(lock_id, t_ms, code, value, opened=opened))
                )
            continue
        if code in UNLOCK_CODES or code in ALARM_CODES:
            if code in _FLAG_ALARMS and value is not True and value != "true":
                continue
            text = log_value_text(value)
            record = {
                "status": {"code": code, "value": text},
                "update_time": t_ms,
            }
            logged = log_event(lock_id, record, code, text, alarm=code in ALARM_CODES)
            if logged is not None:
                pending.append((t_ms, replace(logged, source="push")))
    events = tuple(
        replace(event, battery=battery) if battery is not None else event
        for _, event in sorted(pending, key=lambda item: item[0])
    )
    statuses: list[LockStatus] = []
    if battery is not None:
        statuses.append(
            LockStatus(lock_id=lock_id, time=_dt(battery_ms), battery=battery)
        )
    if state_values:
        state = state_from_status(state_values)
        if state is not None:
            statuses.append(
                LockStatus(lock_id=lock_id, time=_dt(state_ms), state=state)
            )
    return PushBatch(events=events, statuses=tuple(statuses))


def _state_event(lock_id: str, t_ms: int, code: str, value: bool) -> LockEvent:
    return LockEvent(
        event_id=f"tuya:{lock_id}:{t_ms}:{code}:{log_value_text(value)}",
        lock_id=lock_id,
        type=EventType.LOCKED,
        time=_dt(t_ms),
        source="push",
        raw={"code": code, "value": value, "t": t_ms},
    )


def _door_event(
    lock_id: str, t_ms: int, code: str, value: bool | int | float | str, *, opened: bool
) -> LockEvent:
    return LockEvent(
        event_id=f"tuya:{lock_id}:{t_ms}:{code}:{clean_text(log_value_text(value))}",
        lock_id=lock_id,
        type=EventType.DOOR_OPENED if opened else EventType.DOOR_CLOSED,
        time=_dt(t_ms),
        source="push",
        raw={"code": code, "value": value, "t": t_ms},
    )


class RecentIds:
    """The last ``size`` ids seen, to drop a message delivered again."""

    def __init__(self, size: int = 2048) -> None:
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, key: str) -> bool:
        """Whether ``key`` was seen (and remember it)."""
        if key in self._ids:
            self._ids.move_to_end(key)
            return True
        self._ids[key] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return False

    def __len__(self) -> int:
        return len(self._ids)


# How much older than the latest state a redelivered one can be. Pulsar sends
# an unacknowledged message again after the 3 s ack timeout or at the next
# connection, so the two are seconds to minutes apart. A report stamped hours
# before the latest is a clock that jumped back (a lock reset to its epoch):
# it is taken, else the lock's state would freeze until the clock caught up.
REORDER_WINDOW: Final = timedelta(minutes=15)


class StatusOrder:
    """Drops a state older than one already applied (out-of-order delivery).

    Pulsar redelivers an unacknowledged message after the ack timeout and after
    a reconnect, behind newer ones: a late "battery 80 %" or "unlocked" must
    not overwrite the "battery 60 %" or "locked" reported after it.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._latest: OrderedDict[tuple[str, str], datetime] = OrderedDict()

    def admit(self, status: LockStatus) -> LockStatus | None:
        """``status`` without the fields already known at a later time."""
        battery = status.battery
        state = status.state
        if battery is not None and not self._newer(status, "battery"):
            battery = None
        if state is not None and not self._newer(status, "state"):
            state = None
        if battery is None and state is None:
            return None
        return replace(status, battery=battery, state=state)

    def _newer(self, status: LockStatus, field: str) -> bool:
        key = (status.lock_id, field)
        latest = self._latest.get(key)
        if latest is not None and latest - REORDER_WINDOW <= status.time < latest:
            return False
        self._latest[key] = status.time
        self._latest.move_to_end(key)
        if len(self._latest) > self._size:
            self._latest.popitem(last=False)
        return True
