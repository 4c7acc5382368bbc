"""Tuya device and log data as provider models (pure functions, no I/O).

See the decisions in :mod:`.tuya`'s docstring (``lock_motor_state``, PIN length).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
import logging
import math
from typing import Any, Final

from .bounds import (
    MAX_EPOCH_S,
    InvalidAnswerError,
    bounded_raw,
    clean_text,
    json_scalar,
    mac_address,
    opt_datetime_from_s,
    opt_id,
    opt_int,
    opt_text,
    percent,
    require_path_id,
)
from .models import (
    Capabilities,
    CodeKind,
    CodePhase,
    EventType,
    Lock,
    LockEvent,
    LockState,
    Passcode,
    UnlockMethod,
)
from .tuya_offline import offline_kinds

_LOGGER = logging.getLogger(__name__)

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


# Epoch values below this are seconds (10 digits), above it milliseconds.
_MS_THRESHOLD: Final = 100_000_000_000
_MAX_MS: Final = MAX_EPOCH_S * 1000 + 999
# Model names and status codes are short ("DL026HA", "unlock_fingerprint").
_MAX_MODEL: Final = 64
_MAX_TOKEN: Final = 64
# Fields of a log entry kept in ``LockEvent.raw`` (seed 002; media_infos and
# anything nested stay out, the status item is kept as {code, value}).
_LOG_RAW_FIELDS: Final = ("update_time", "user_id", "nick_name", "unlock_name")


def as_int(value: Any) -> int | None:
    """An integer through the validation wall (``bounds.opt_int``)."""
    return opt_int(value)


def to_ms(value: Any) -> int | None:
    """Tuya timestamps come as seconds (10 digits) or ms (13 digits).

    ``None`` outside 1970-2200 (bounds): a year-40,000 time is not a record's.
    """
    number = opt_int(value, minimum=0)
    if number is None:
        return None
    ms = number * 1000 if number < _MS_THRESHOLD else number
    return ms if ms <= _MAX_MS else None


def epoch_seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def from_seconds(value: Any) -> datetime | None:
    """A datetime from seconds or ms (``to_ms``), ``None`` when odd."""
    ms = to_ms(value)
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def _token(value: Any) -> str:
    """A short text form of a status value for an event id.

    Scalars keep ``str()`` (ids stay the same for every sane value); others
    are named by type, never dumped.
    """
    ok, scalar = json_scalar(value)
    if not ok or isinstance(value, dict | list):
        return type(value).__name__
    return (scalar if isinstance(scalar, str) else str(scalar))[:_MAX_TOKEN]


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
    """Battery percent from ``residual_electricity`` or ``battery_state``.

    ``residual_electricity`` ranges -1..100 and -1 means "do not show the
    level" (the DP's description in make-all/tuya-local issue 1714; range in
    issue 2562): out of 0..100 is unknown, never 0 % (a false low battery).
    """
    for code in ("residual_electricity", "battery_percentage"):
        if code in status:
            value = status.get(code)
            # Some firmware sends a fraction (55.7): its whole percent.
            if isinstance(value, float) and math.isfinite(value):
                value = math.floor(value)
            number = percent(value)
            if number is not None:
                return number
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


# Words naming the radio in a product name; Chinese names say 蓝牙 (Bluetooth):
# "蓝牙指纹密码门锁", an ms lock in homebridge-plugins/homebridge-tuya issue 55.
_ZIGBEE_HINTS: Final = ("zigbee",)
_BLE_HINTS: Final = ("ble", "bluetooth", "蓝牙")


def is_sub_device_lock(device: Mapping[str, Any]) -> bool:
    """True for Zigbee / Bluetooth locks (6-digit codes), False for Wi-Fi."""
    protocol = device.get("protocol")
    if isinstance(protocol, str) and protocol:
        lowered = protocol.lower()
        return any(word in lowered for word in ("zigbee", "ble", "bluetooth", "sub"))
    if device.get("sub") is True:
        return True
    product = str(device.get("product_name") or "").lower()
    return any(word in product for word in (*_ZIGBEE_HINTS, *_BLE_HINTS))


def device_id_of(device: Mapping[str, Any]) -> str:
    """A listed device's id; ``InvalidAnswerError`` unless it is path-safe."""
    return require_path_id(device.get("id"), "device id")


def lock_from_device(device: Mapping[str, Any], *, remote_unlock: bool) -> Lock:
    """A lock from a device-list entry; ``remote_unlock`` from the capability check.

    Raises ``InvalidAnswerError`` without a usable id; names are cleaned and
    cut, the battery bounded, flags taken only when they are booleans.
    """
    device_id = device_id_of(device)
    status = status_map(device)
    category = device.get("category")
    category = category if isinstance(category, str) else ""
    length = SUB_DEVICE_CODE_LENGTH if is_sub_device_lock(device) else WIFI_CODE_LENGTH
    has_passage = "normal_open_switch" in status
    capabilities = Capabilities(
        remote_unlock=remote_unlock,
        remote_lock=category in REMOTE_LOCK_CATEGORIES,
        passage_mode=has_passage,
        codes=True,
        code_min_length=length,
        code_max_length=length,
        offline_codes=offline_kinds(frozenset(status)),
        # Dynamic passwords come with offline passwords (the same key data;
        # seed 001 doorLock.getDynamicPassword).
        dynamic_codes=bool(offline_kinds(frozenset(status))),
        # The cloud carries deletes to the lock; the phase says when it is done.
        codes_deletable_remotely=True,
        code_phases=True,
    )
    passage = status.get("normal_open_switch")
    online = device.get("online")
    return Lock(
        lock_id=device_id,
        name=opt_text(device.get("name")) or device_id,
        capabilities=capabilities,
        model=opt_text(device.get("product_name"), max_length=_MAX_MODEL),
        manufacturer="Tuya",
        mac=mac_address(device.get("mac")),
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
    """One open-log or alarm-log entry as a LockEvent.

    ``None`` (with a debug line) without a time within 1970-2200: a log entry
    is one of many, so an impossible one is dropped, not the whole page.
    """
    t_ms = to_ms(record.get("update_time"))
    if t_ms is None:
        _LOGGER.debug("Tuya log entry of %s without a usable time dropped", lock_id)
        return None
    user = (
        opt_text(record.get("nick_name"))
        or opt_text(record.get("nickName"))
        or opt_text(record.get("unlock_name"))
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
        if code in ("unlock_temporary", "unlock_dynamic"):
            # The temp password's id: a number or text id, else not named.
            try:
                code_id = opt_id(value, "code id")
            except InvalidAnswerError:
                code_id = None
    ok, raw_value = json_scalar(value)
    raw = {
        **bounded_raw(record, _LOG_RAW_FIELDS),
        # The status item as the v1.0/v1.1 open-logs object (automations read
        # raw.status.value): its two scalars only, whatever else came with it.
        "status": {
            "code": clean_text(code, max_length=_MAX_TOKEN),
            "value": raw_value if ok else _token(value),
        },
    }
    when = datetime.fromtimestamp(t_ms / 1000, UTC)
    return LockEvent(
        event_id=f"tuya:{lock_id}:{t_ms}:{_token(code)}:{_token(value)}",
        lock_id=lock_id,
        type=event_type,
        time=when,
        method=method,
        success=success,
        user=user,
        code_id=code_id,
        raw=raw,
        # Tuya logs carry only the cloud's update_time: it orders them too.
        received=when,
    )


def remote_unlock_without_password(result: Any) -> bool:
    """Whether a ``door-lock/remote-unlocks`` answer enables password-free unlock.

    The answer is one object or a list of them (``remote_unlock_type``,
    ``open``); ``remoteUnlockWithPwd`` is another method (developer.tuya.com
    doorlock-api-remoteopen). An item without a type counts for the
    password-free one.
    """
    enabled = False
    items = result if isinstance(result, list) else [result]
    for item in items:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("remote_unlock_type")
        if kind is None or kind == "remoteUnlockWithoutPwd":
            enabled = item.get("open") is True
            if kind is not None:
                break
    return enabled


# Temporary-password ``phase`` per protocol (seed 001, doorLock.
# getTemporaryPasswordList "Description of phase"); ``None`` = deleted, not
# listed. Wi-Fi access control (mk) from hass-tuya-lock-bridge api.py (on
# hardware): 2 active, 12 waiting for sync, revoked codes stay listed as 17/19.
_PHASES_ZIGBEE: Final[dict[int, CodePhase | None]] = {
    1: CodePhase.PENDING,  # to be created
    2: CodePhase.DELIVERED,  # normal
    3: CodePhase.REVOKED,  # frozen
    4: None,  # deleted
    5: CodePhase.FAILED,  # failed to create
}
_PHASES_WIFI: Final[dict[int, CodePhase | None]] = {
    0: None,  # deleted
    1: CodePhase.PENDING,  # to be sent
    2: CodePhase.DELIVERED,  # sent
    3: CodePhase.DELETING,  # to be deleted
}
_PHASES_BLE: Final[dict[int, CodePhase | None]] = {
    **_PHASES_WIFI,
    7: CodePhase.FAILED,  # failed to send
}
_PHASES_ACCESS_CONTROL: Final[dict[int, CodePhase | None]] = {
    **_PHASES_WIFI,
    12: CodePhase.PENDING,
    17: CodePhase.REVOKED,
    19: CodePhase.REVOKED,
}
# Protocol unknown: the tables agree but for 3 (frozen vs to be deleted),
# which is not live either way.
_PHASES_ANY: Final[dict[int, CodePhase | None]] = {
    **_PHASES_ZIGBEE,
    **_PHASES_BLE,
    **_PHASES_ACCESS_CONTROL,
    3: CodePhase.DELETING,
}
# Zigbee ``delivery_status`` (seed 001): 1 setting, 2 set, 3 failed to set,
# 4 reset, 5 no more passwords can be added, 6 validity overlaps another code.
_DELIVERY_FAILED: Final = frozenset({3, 5, 6})
_DELIVERY_PENDING: Final = frozenset({1, 4})


def lock_protocol(device: Mapping[str, Any]) -> str:
    """``mk``, ``zigbee``, ``ble``, ``wifi`` or ``sub`` (Zigbee or BLE)."""
    if device.get("category") == "mk":
        return "mk"
    hint = " ".join(
        str(device.get(key) or "") for key in ("protocol", "product_name")
    ).lower()
    if any(word in hint for word in _ZIGBEE_HINTS):
        return "zigbee"
    if any(word in hint for word in _BLE_HINTS):
        return "ble"
    if is_sub_device_lock(device):
        return "sub"
    return "wifi" if device else "unknown"


def code_phase(item: Mapping[str, Any], device: Mapping[str, Any]) -> CodePhase | None:
    """Where a listed temp password is; ``None`` when it is deleted.

    No phase at all counts as PENDING (accepted, not claimed on the lock); a
    value of no table is UNKNOWN (debug line): never claimed on the lock and
    never taken for gone, so the ledger neither reports it nor re-uploads it.
    """
    table = {
        "zigbee": _PHASES_ZIGBEE,
        "ble": _PHASES_BLE,
        "wifi": _PHASES_WIFI,
        "mk": _PHASES_ACCESS_CONTROL,
    }.get(lock_protocol(device), _PHASES_ANY)
    given = item.get("phase")
    raw = as_int(given)
    if given is None:
        phase: CodePhase | None = CodePhase.PENDING
    elif raw is None:  # "abc", 1.5, true: a value of no table either
        _LOGGER.debug("Tuya temp password with an unreadable phase")
        return CodePhase.UNKNOWN
    elif raw in table:
        phase = table[raw]
    elif raw in _PHASES_ANY:  # another protocol's value (e.g. 4 deleted) still says it
        phase = _PHASES_ANY[raw]
    else:
        _LOGGER.debug("Tuya temp password with unknown phase %s", raw)
        return CodePhase.UNKNOWN
    if phase is None:
        return None
    delivery = as_int(item.get("delivery_status"))
    if delivery in _DELIVERY_FAILED and phase in (
        CodePhase.PENDING,
        CodePhase.DELIVERED,
    ):
        return CodePhase.FAILED
    if delivery in _DELIVERY_PENDING and phase is CodePhase.DELIVERED:
        return CodePhase.PENDING
    return phase


def temp_password(lock_id: str, item: Mapping[str, Any]) -> Passcode:
    """A ``temp-passwords`` entry (the cloud never lists the digits).

    Times are 10-digit epoch seconds (seed 001, ``effective_time`` /
    ``invalid_time``), read strictly as seconds within 1970-2200: a
    millisecond or year-40,000 value is not guessed at. An entry without a
    usable id is an ``InvalidAnswerError``; one with an id but an odd time is
    kept as kind ``other`` without a window (it is on the lock; the ledger must
    see it, the clean-up leaves it alone).
    """
    # The id goes into a URL path when the code is deleted.
    code_id = require_path_id(item.get("id", item.get("password_id")), "password id")
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
