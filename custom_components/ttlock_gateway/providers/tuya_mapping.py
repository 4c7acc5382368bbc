"""Tuya device and log data as provider models (pure functions, no I/O).

See the decisions in :mod:`.tuya`'s docstring (``lock_motor_state``, PIN length).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from .bounds import (
    InvalidAnswerError,
    clean_text,
    opt_datetime_from_s,
    require_id,
)
from .models import (
    Capabilities,
    CodeKind,
    EventType,
    Lock,
    LockEvent,
    LockState,
    Passcode,
    UnlockMethod,
)

LOCK_CATEGORIES: Final = frozenset(
    {
        "ms",
        "jtmspro",
        "jtmsbh",
        "mk",
        "bxx",
        "gyms",
        "hotelms",
        "videolock",
        "photolock",
    }
)
REMOTE_LOCK_CATEGORIES: Final = frozenset({"jtmspro", "videolock", "photolock"})

# Value of ``lock_motor_state`` that means the bolt is locked (see module doc).
LOCK_MOTOR_STATE_LOCKED_VALUE: Final = False

WIFI_CODE_LENGTH: Final = 7
SUB_DEVICE_CODE_LENGTH: Final = 6

# Refresh the token this many seconds before it expires.

_BATTERY_STATE: Final[dict[str, int]] = {
    "high": 100,
    "medium": 50,
    "middle": 50,
    "low": 10,
    "poweroff": 0,
}

_OPEN_LOG_METHODS: Final[dict[str, UnlockMethod]] = {
    "unlock_fingerprint": UnlockMethod.FINGERPRINT,
    "unlock_finger": UnlockMethod.FINGERPRINT,
    "unlock_password": UnlockMethod.CODE,
    "unlock_temporary": UnlockMethod.CODE,
    "unlock_dynamic": UnlockMethod.CODE,
    "unlock_emergency": UnlockMethod.CODE,
    "unlock_card": UnlockMethod.CARD,
    "unlock_identity_card": UnlockMethod.CARD,
    "unlock_face": UnlockMethod.FACE,
    "unlock_key": UnlockMethod.KEY,
    "unlock_ble": UnlockMethod.BLUETOOTH,
    "unlock_phone_remote": UnlockMethod.REMOTE,
    "unlock_app": UnlockMethod.REMOTE,
    "remote": UnlockMethod.REMOTE,
}

_ALARM_VALUES: Final[dict[str, tuple[EventType, bool]]] = {
    "wrong_password": (EventType.WRONG_CODE, False),
    "wrong_finger": (EventType.WRONG_CODE, False),
    "wrong_card": (EventType.WRONG_CODE, False),
    "wrong_face": (EventType.WRONG_CODE, False),
    "pry": (EventType.TAMPER, True),
    "hijack": (EventType.TAMPER, True),
    "low_battery": (EventType.BATTERY_LOW, True),
    "doorbell": (EventType.DOORBELL, True),
}


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    if isinstance(value, float):
        return int(value)
    return None


def to_ms(value: Any) -> int | None:
    """Tuya timestamps come as seconds (10 digits) or ms (13 digits)."""
    number = as_int(value)
    if number is None:
        return None
    return number * 1000 if number < 100_000_000_000 else number


def epoch_seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def from_seconds(value: Any) -> datetime | None:
    ms = to_ms(value)
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def status_map(device: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    status = device.get("status")
    if isinstance(status, list):
        for item in status:
            if isinstance(item, Mapping) and isinstance(item.get("code"), str):
                out[item["code"]] = item.get("value")
    return out


def status_items(record: Mapping[str, Any]) -> list[tuple[str, Any]]:
    status = record.get("status")
    items = status if isinstance(status, list) else [status]
    return [
        (item["code"], item.get("value"))
        for item in items
        if isinstance(item, Mapping) and isinstance(item.get("code"), str)
    ]


def battery_from_status(status: Mapping[str, Any]) -> int | None:
    """Battery percent from ``residual_electricity`` or ``battery_state``."""
    for code in ("residual_electricity", "battery_percentage"):
        number = as_int(status.get(code))
        if number is not None:
            return max(0, min(100, number))
    state = status.get("battery_state")
    if isinstance(state, str):
        return _BATTERY_STATE.get(state.lower())
    return None


def state_from_status(status: Mapping[str, Any]) -> LockState | None:
    """Bolt state (see the module doc for ``lock_motor_state``)."""
    motor = status.get("lock_motor_state")
    if isinstance(motor, bool):
        return (
            LockState.LOCKED
            if motor == LOCK_MOTOR_STATE_LOCKED_VALUE
            else LockState.UNLOCKED
        )
    door = status.get("closed_opened", status.get("open_close"))
    if door in ("open", "opened", True):
        return LockState.UNLOCKED
    return None


def is_sub_device_lock(device: Mapping[str, Any]) -> bool:
    """True for Zigbee / Bluetooth locks (6-digit codes), False for Wi-Fi."""
    protocol = device.get("protocol")
    if isinstance(protocol, str) and protocol:
        lowered = protocol.lower()
        return any(word in lowered for word in ("zigbee", "ble", "bluetooth", "sub"))
    if device.get("sub") is True:
        return True
    product = str(device.get("product_name") or "").lower()
    return any(word in product for word in ("zigbee", "ble", "bluetooth"))


def lock_from_device(device: Mapping[str, Any], *, remote_unlock: bool) -> Lock:
    """A lock from a device-list entry; ``remote_unlock`` from the capability check."""
    device_id = str(device["id"])
    status = status_map(device)
    category = str(device.get("category") or "")
    length = SUB_DEVICE_CODE_LENGTH if is_sub_device_lock(device) else WIFI_CODE_LENGTH
    has_passage = "normal_open_switch" in status
    capabilities = Capabilities(
        remote_unlock=remote_unlock,
        remote_lock=category in REMOTE_LOCK_CATEGORIES,
        passage_mode=has_passage,
        codes=True,
        code_min_length=length,
        code_max_length=length,
    )
    passage = status.get("normal_open_switch")
    online = device.get("online")
    return Lock(
        lock_id=device_id,
        name=str(device.get("name") or device_id),
        capabilities=capabilities,
        model=device.get("product_name") or None,
        manufacturer="Tuya",
        mac=device.get("mac") or None,
        battery=battery_from_status(status),
        has_gateway=device.get("sub") is True,
        online=online if isinstance(online, bool) else None,
        state=state_from_status(status),
        passage_mode=passage if isinstance(passage, bool) else None,
    )


def log_event(
    lock_id: str,
    record: Mapping[str, Any],
    code: str,
    value: Any,
    *,
    alarm: bool,
) -> LockEvent | None:
    """One open-log or alarm-log entry as a LockEvent (None without a time)."""
    t_ms = to_ms(record.get("update_time"))
    if t_ms is None:
        return None
    user = (
        record.get("nick_name")
        or record.get("nickName")
        or record.get("unlock_name")
        or None
    )
    event_type = EventType.OTHER
    method = UnlockMethod.UNKNOWN
    success = True
    code_id: str | None = None
    if alarm or code in ("alarm_lock", "hijack", "doorbell"):
        key = str(value) if code == "alarm_lock" else code
        event_type, success = _ALARM_VALUES.get(key, (EventType.OTHER, True))
    else:
        method = _OPEN_LOG_METHODS.get(code, UnlockMethod.UNKNOWN)
        if code.startswith("unlock_") or code in _OPEN_LOG_METHODS:
            event_type = EventType.UNLOCKED
        if code in ("unlock_temporary", "unlock_dynamic") and value not in (
            None,
            "",
        ):
            code_id = str(value)
    return LockEvent(
        event_id=f"tuya:{lock_id}:{t_ms}:{code}:{value}",
        lock_id=lock_id,
        type=event_type,
        time=datetime.fromtimestamp(t_ms / 1000, UTC),
        method=method,
        success=success,
        user=str(user) if user else None,
        code_id=code_id,
        raw=dict(record),
    )


def temp_password(lock_id: str, item: Mapping[str, Any]) -> Passcode:
    """A ``temp-passwords`` entry (the cloud never lists the digits).

    Times are 10-digit epoch seconds (seed 001, ``effective_time`` /
    ``invalid_time``), read strictly as seconds within 1970-2200: a
    millisecond or year-40,000 value is not guessed at. An entry without a
    usable id is an ``InvalidAnswerError``; one with an id but an odd time is
    kept as kind ``other`` without a window (it is on the lock; the ledger must
    see it, the clean-up leaves it alone).
    """
    code_id = require_id(item.get("id", item.get("password_id")), "password id")
    name = clean_text(item.get("name"))
    try:
        start = opt_datetime_from_s(item.get("effective_time"), "effective_time")
        end = opt_datetime_from_s(item.get("invalid_time"), "invalid_time")
    except InvalidAnswerError:
        return Passcode(
            code_id=code_id, lock_id=lock_id, name=name, kind=CodeKind.OTHER
        )
    return Passcode(
        code_id=code_id,
        lock_id=lock_id,
        name=name,
        kind=CodeKind.PERIOD,
        start=start,
        end=end,
    )
