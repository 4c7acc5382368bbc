"""Map TTLock lock records to provider-neutral ``LockEvent`` objects.

Used by the polling client (``/v3/lockRecord/list``) and by the push callback, so
both produce the same ``event_id`` for the same record. No Home Assistant imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
import logging
from typing import Any, Final

from .bounds import (
    MAX_EPOCH_S,
    InvalidAnswerError,
    bounded_raw,
    has_unsafe_text,
    opt_bool,
    opt_int,
    opt_text,
    percent,
    require_id,
)
from .models import EventType, LockEvent, UnlockMethod

_LOGGER = logging.getLogger(__name__)

# Latest instant a record may denote (end of MAX_YEAR, in ms): later is not a
# lock's clock but a bad value.
_MAX_MS: Final = MAX_EPOCH_S * 1000 + 999
# A keypad code, card number or fingerprint number as the record names it.
_MAX_CODE: Final = 32

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


def parse_int(value: object) -> int | None:
    """An integer from an int, an integral float or a decimal string; else None."""
    return opt_int(value)


def parse_bool(value: object) -> bool | None:
    """A boolean from a bool, 1/0 or "1"/"0"/"true"/"false"; else None."""
    return opt_bool(value)


def normalize_lock_id(value: object) -> str | None:
    """``lockId`` as a string (``12345`` and ``"12345"`` agree); None if invalid."""
    number = opt_int(value)
    if number is not None:
        return str(number)
    if not isinstance(value, str):
        return None
    try:
        return require_id(value, "lockId")
    except InvalidAnswerError:
        return None


def ms_to_datetime(value: int) -> datetime | None:
    """A UTC datetime from epoch milliseconds; None outside 1970..2200."""
    if value < 0 or value > _MAX_MS:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _parse_ms(value: object) -> int | None:
    return opt_int(value, minimum=0, maximum=_MAX_MS)


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
        _LOGGER.debug("TTLock record without a usable lockId dropped")
        return None
    # A lock whose clock was reset may stamp an impossible lockDate: the
    # cloud's serverDate then dates the record.
    lock_date = _parse_ms(record.get("lockDate"))
    if lock_date is None:
        lock_date = _parse_ms(record.get("serverDate"))
    if lock_date is None:
        _LOGGER.debug("TTLock record of lock %s without a usable date dropped", lock_id)
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

    user = (
        opt_text(record.get("username"))
        if isinstance(record.get("username"), str)
        else None
    )

    # Passcode, card or fingerprint number (cloud/lockRecord/list): digits
    # or, for some cards, text; an int when a proxy converted it.
    pwd = record.get("keyboardPwd")
    if isinstance(pwd, str):
        # Not cleaned: digits with a control character removed would be
        # another code, so such a value names none.
        text = pwd.strip()
        code = (
            text if 0 < len(text) <= _MAX_CODE and not has_unsafe_text(text) else None
        )
    else:
        number = opt_int(pwd, minimum=0)
        code = str(number)[:_MAX_CODE] if number is not None else None

    battery = percent(record.get("electricQuantity"))
    raw = bounded_raw(record, _SAFE_FIELDS)

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
