"""Map TTLock lock records to provider-neutral ``LockEvent`` objects.

Used by the polling client (``/v3/lockRecord/list``) and by the push callback, so
both produce the same ``event_id`` for the same record. No Home Assistant imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
import math
from typing import Any, Final

from .models import EventType, LockEvent, UnlockMethod

# Latest instant a timestamp may denote (end of year 9999, in ms).
_MAX_MS: Final = 253_402_300_799_999

# Records whose failure (``success`` 0) becomes UNLOCK_FAILED.
_UNLOCK_METHODS: Final[dict[int, UnlockMethod]] = {
    1: UnlockMethod.APP,
    4: UnlockMethod.CODE,
    7: UnlockMethod.CARD,
    8: UnlockMethod.FINGERPRINT,
    9: UnlockMethod.KEY_FOB,  # wrist strap: a worn RF token, closest to a fob
    10: UnlockMethod.KEY,
    12: UnlockMethod.GATEWAY,
    32: UnlockMethod.BUTTON,  # opened from inside
    37: UnlockMethod.REMOTE,
    46: UnlockMethod.BUTTON,
    49: UnlockMethod.CARD,  # hotel card
    55: UnlockMethod.KEY_FOB,
    57: UnlockMethod.QR_CODE,
    58: UnlockMethod.QR_CODE,
    61: UnlockMethod.QR_CODE,
    63: UnlockMethod.PASSAGE_MODE,
}

_LOCK_METHODS: Final[dict[int, UnlockMethod]] = {
    11: UnlockMethod.APP,
    33: UnlockMethod.FINGERPRINT,
    34: UnlockMethod.CODE,
    35: UnlockMethod.CARD,
    36: UnlockMethod.KEY,
    45: UnlockMethod.AUTO,
    47: UnlockMethod.BUTTON,
}

_OTHER_TYPES: Final[dict[int, tuple[EventType, UnlockMethod]]] = {
    29: (EventType.TAMPER, UnlockMethod.UNKNOWN),  # forced / illegal opening
    30: (EventType.DOOR_CLOSED, UnlockMethod.UNKNOWN),
    31: (EventType.DOOR_OPENED, UnlockMethod.UNKNOWN),
    44: (EventType.TAMPER, UnlockMethod.UNKNOWN),
    48: (EventType.WRONG_CODE, UnlockMethod.CODE),  # system locked: too many wrong
    50: (EventType.OTHER, UnlockMethod.UNKNOWN),  # high temperature
}

_PASSCODE_UNLOCK: Final = 4

# Fields of a record that are safe to keep in ``LockEvent.raw`` (never keyboardPwd).
_SAFE_FIELDS: Final = (
    "recordType",
    "recordTypeFromLock",
    "success",
    "lockDate",
    "serverDate",
    "username",
)

_TRUE_STRINGS: Final = frozenset({"1", "true", "yes", "on"})
_FALSE_STRINGS: Final = frozenset({"0", "false", "no", "off", ""})


def parse_int(value: object) -> int | None:
    """An integer from an int, an integral float or a decimal string; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 30:
            return None
        sign = text[0] in "+-"
        digits = text[1:] if sign else text
        if digits.isascii() and digits.isdigit():
            return int(text)
    return None


def parse_bool(value: object) -> bool | None:
    """A boolean from a bool, 1/0 or "1"/"0"/"true"/"false"; else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {1: True, 0: False}.get(value)
    if isinstance(value, float):
        return {1.0: True, 0.0: False}.get(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_STRINGS:
            return True
        if text in _FALSE_STRINGS:
            return False
    return None


def normalize_lock_id(value: object) -> str | None:
    """``lockId`` as a string (``12345`` and ``"12345"`` agree); None if invalid."""
    number = parse_int(value)
    if number is not None:
        return str(number)
    if isinstance(value, str):
        text = value.strip()
        if text and len(text) <= 64 and text.isprintable():
            return text
    return None


def ms_to_datetime(value: int) -> datetime | None:
    """A UTC datetime from epoch milliseconds; None when out of range."""
    if value < 0 or value > _MAX_MS:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _parse_ms(value: object) -> int | None:
    number = parse_int(value)
    if number is None or number < 0 or number > _MAX_MS:
        return None
    return number


def _classify(record_type: int | None, success: bool) -> tuple[EventType, UnlockMethod]:
    if record_type is None:
        return EventType.OTHER, UnlockMethod.UNKNOWN
    if record_type in _UNLOCK_METHODS:
        method = _UNLOCK_METHODS[record_type]
        if success:
            return EventType.UNLOCKED, method
        if record_type == _PASSCODE_UNLOCK:
            return EventType.WRONG_CODE, method
        return EventType.UNLOCK_FAILED, method
    if record_type in _LOCK_METHODS:
        # A failed lock attempt did not lock anything: do not report LOCKED.
        event = EventType.LOCKED if success else EventType.OTHER
        return event, _LOCK_METHODS[record_type]
    return _OTHER_TYPES.get(record_type, (EventType.OTHER, UnlockMethod.UNKNOWN))


def record_event_id(
    lock_id: str, lock_date: int, record_type: int | None, success: bool
) -> str:
    """Stable id of a record, identical for the poll and the push copy."""
    kind = "x" if record_type is None else str(record_type)
    return f"ttlock:{lock_id}:{lock_date}:{kind}:{int(success)}"


def record_to_event(record: Mapping[str, Any], *, source: str) -> LockEvent | None:
    """Translate one TTLock record; None when it lacks ``lockId`` or a date.

    Unknown record types are kept as ``EventType.OTHER``.
    """
    if not isinstance(record, Mapping):
        return None  # type: ignore[unreachable]  # callers may pass anything
    lock_id = normalize_lock_id(record.get("lockId"))
    if lock_id is None:
        return None
    lock_date = _parse_ms(record.get("lockDate"))
    if lock_date is None:
        lock_date = _parse_ms(record.get("serverDate"))
    if lock_date is None:
        return None
    when = ms_to_datetime(lock_date)
    if when is None:  # pragma: no cover - _parse_ms already bounds the value
        return None
    # serverDate is when the cloud received the record; lockDate is the lock's
    # own clock, which drifts (hass-ttlock's sample: lockDate 6 s after
    # serverDate). State is ordered by serverDate.
    server_date = _parse_ms(record.get("serverDate"))
    received = ms_to_datetime(server_date) if server_date is not None else None

    record_type = parse_int(record.get("recordType"))
    raw_success = record.get("success")
    success_flag = True if raw_success is None else parse_bool(raw_success)
    # An unreadable success value counts as success (the cloud only sends 0/1).
    success = True if success_flag is None else success_flag

    event_type, method = _classify(record_type, success)
    if event_type in (EventType.WRONG_CODE, EventType.UNLOCK_FAILED):
        event_success = False
    else:
        event_success = success

    username = record.get("username")
    user = username if isinstance(username, str) and username else None

    code: str | None = None
    pwd = record.get("keyboardPwd")
    if isinstance(pwd, str) and pwd.strip():
        code = pwd.strip()
    elif isinstance(pwd, int) and not isinstance(pwd, bool) and pwd >= 0:
        code = str(pwd)

    battery = parse_int(record.get("electricQuantity"))
    if battery is not None and not 0 <= battery <= 100:
        battery = None

    raw: dict[str, Any] = {}
    for key in _SAFE_FIELDS:
        value = record.get(key)
        if key in record and (
            value is None or isinstance(value, (str, int, float, bool))
        ):
            raw[key] = value

    return LockEvent(
        event_id=record_event_id(lock_id, lock_date, record_type, success),
        lock_id=lock_id,
        type=event_type,
        time=when,
        method=method,
        success=event_success,
        user=user,
        code=code,
        battery=battery,
        source=source,
        raw=raw,
        received=received,
    )
