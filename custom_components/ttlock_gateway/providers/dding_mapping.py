"""Dding (丁盯) SaaS answers into provider models: pure functions (seed 003).

Every value passes through ``bounds``; nothing here does I/O or imports Home
Assistant. Section numbers are those of seed 003 (SaaS API v1.6). Where the seed
is silent, the public clients quoted in ``docs/dding.md`` decided.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from .bounds import (
    InvalidAnswerError,
    clean_text,
    datetime_from_ms,
    datetime_from_s,
    opt_datetime_from_s,
    opt_int,
    opt_text,
    percent,
    require_id,
)
from .models import (
    Capabilities,
    CodeKind,
    CodeOperation,
    CodePhase,
    DynamicCode,
    EventType,
    Gateway,
    Lock,
    LockEvent,
    OperationStage,
    Passcode,
    UnlockMethod,
)

PROVIDER_DDING: Final = "dding"
MANUFACTURER: Final = "Dding"

# 6.3: "管理员密码的 password id 固定为 999".
ADMIN_PASSWORD_ID: Final = "999"
# 6.6 / 6.7: "开锁密码(6位)".
CODE_LENGTH: Final = 6

# 5.6 / 5.7: gateway, home_lock (outer door), room_lock; the second example of
# 5.7 spells a lock "lock".
GATEWAY_TYPE: Final = "gateway"
LOCK_TYPES: Final = frozenset({"home_lock", "room_lock", "lock"})

# 9.2.6 (push) and 6.11 eventid 1 (poll) are the same door opening: both get
# this name in their event id so the integration de-duplicates them.
OPEN_EVENT: Final = "lockerOpenAlarm"
# 6.11 / 9.2.6 detail: source 2 = password.
SOURCE_PASSWORD: Final = 2

# Epoch values above this are milliseconds (10**12 s would be year 33658).
_MS_THRESHOLD: Final = 10**12

# 6.1 / 6.2 onoff_line: 1 online (gateway "正常"), 2 offline.
_ONLINE: Final = {1: True, 2: False}

# 6.3 operation 1-5 and operation_stage 1-3.
_OPERATIONS: Final = {
    1: CodeOperation.ADD,
    2: CodeOperation.DELETE,
    3: CodeOperation.UPDATE,
    4: CodeOperation.FREEZE,
    5: CodeOperation.UNFREEZE,
}
_STAGES: Final = {
    1: OperationStage.IN_PROGRESS,
    2: OperationStage.FAILED,
    3: OperationStage.DONE,
}
_IN, _FAILED, _DONE = (
    OperationStage.IN_PROGRESS,
    OperationStage.FAILED,
    OperationStage.DONE,
)
# What the lock accepts while / after the SaaS carries an operation out; None =
# the code is gone. A failed delete or freeze leaves the code working; a change
# in progress leaves the old one working until the lock confirms.
_PHASES: Final[dict[tuple[CodeOperation, OperationStage], CodePhase | None]] = {
    (CodeOperation.ADD, _IN): CodePhase.PENDING,
    (CodeOperation.ADD, _FAILED): CodePhase.FAILED,
    (CodeOperation.ADD, _DONE): CodePhase.DELIVERED,
    (CodeOperation.DELETE, _IN): CodePhase.DELETING,
    (CodeOperation.DELETE, _FAILED): CodePhase.DELIVERED,
    (CodeOperation.DELETE, _DONE): None,
    (CodeOperation.UPDATE, _IN): CodePhase.DELIVERED,
    (CodeOperation.UPDATE, _FAILED): CodePhase.DELIVERED,
    (CodeOperation.UPDATE, _DONE): CodePhase.DELIVERED,
    (CodeOperation.FREEZE, _IN): CodePhase.DELIVERED,
    (CodeOperation.FREEZE, _FAILED): CodePhase.DELIVERED,
    (CodeOperation.FREEZE, _DONE): CodePhase.REVOKED,
    (CodeOperation.UNFREEZE, _IN): CodePhase.REVOKED,
    (CodeOperation.UNFREEZE, _FAILED): CodePhase.REVOKED,
    (CodeOperation.UNFREEZE, _DONE): CodePhase.DELIVERED,
}
# pwd_state (later API versions, seen in public clients): 5 = frozen.
_PWD_STATE_FROZEN: Final = 5

# 7.2 op_id -> event type and the operation's name (kept in ``raw``).
_OP_EVENTS: Final[dict[str, tuple[EventType, str]]] = {
    "20002": (EventType.CODE_ADDED, "add"),
    "20003": (EventType.CODE_DELETED, "delete"),
    "20004": (EventType.CODE_CHANGED, "update"),
    "20006": (EventType.CODE_CHANGED, "freeze"),
    "20007": (EventType.CODE_CHANGED, "unfreeze"),
}

_MAX_DYNAMIC_CODE: Final = 12


def dding_capabilities() -> Capabilities:
    """What a Dding lock does through the SaaS: codes only, no remote unlock."""
    return Capabilities(
        remote_unlock=False,
        remote_lock=False,
        passage_mode=False,
        lock_control=False,
        codes=True,
        code_min_length=CODE_LENGTH,
        code_max_length=CODE_LENGTH,
        update_codes=True,
        freeze_codes=True,
        dynamic_codes=True,
        # Confirmed through 6.3's operation stages (codes_confirmed_later),
        # not the phase watch: one mechanism per cloud.
        codes_confirmed_later=True,
    )


# --------------------------------------------------------------------------- #
# Times and event ids


def epoch_seconds(raw: Any, what: str) -> int:
    """Whole epoch seconds from seconds or milliseconds (bounded 1970-2200)."""
    value = opt_int(raw)
    if value is None or value < 0:
        raise InvalidAnswerError(f"{what}: not a time")
    seconds = value // 1000 if value > _MS_THRESHOLD else value
    datetime_from_s(seconds, what)  # bounds check
    return seconds


def event_id(uuid: str, seconds: int, name: str) -> str:
    """The id shared by a pushed callback and the polled record of the same thing.

    Seconds, not the raw value: the pushed ``time`` is documented in ms by public
    clients (seed 9.1 says only "时间戳") and the polled one in ms (6.11).
    """
    return f"dding:{uuid}:{seconds}:{name}"


def open_details(
    detail: Mapping[str, Any],
) -> tuple[UnlockMethod, str | None, str | None]:
    """Method, code id and code name of a door opening (6.11 / 9.2.6 detail)."""
    source = opt_int(detail.get("source"))
    if source != SOURCE_PASSWORD:
        return UnlockMethod.UNKNOWN, None, None
    code_id = _opt_id(detail.get("sourceid"))
    return UnlockMethod.CODE, code_id, opt_text(detail.get("source_name"))


def _opt_id(raw: Any) -> str | None:
    try:
        return require_id(raw, "id")
    except InvalidAnswerError:
        return None


# --------------------------------------------------------------------------- #
# Devices (5.6, 5.7, 6.1, 6.2)


@dataclass(frozen=True, slots=True)
class DeviceRef:
    """One device of a home as ``find_home_device(s)`` lists it."""

    uuid: str
    kind: str
    home_id: str
    room_id: str | None
    sn: str | None
    # 5.7 says each device is "extended with its state"; the seed's example
    # shows none, so these are None unless the answer carries them.
    online: bool | None = None
    battery: int | None = None

    @property
    def is_lock(self) -> bool:
        """An outer or a room lock."""
        return self.kind in LOCK_TYPES

    @property
    def is_gateway(self) -> bool:
        """A gateway (centre)."""
        return self.kind == GATEWAY_TYPE

    @property
    def has_state(self) -> bool:
        """Whether the listing told the device's online state."""
        return self.online is not None


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """``get_lock_info`` / ``get_center_info`` (6.1, 6.2), bounded."""

    uuid: str | None
    name: str | None
    mac: str | None
    sn: str | None
    online: bool | None
    battery: int | None
    model: str | None
    brand: str | None
    firmware: str | None


def online_from(raw: Any) -> bool | None:
    """6.1 / 6.2 ``onoff_line``: 1 online, 2 offline, anything else unknown."""
    value = opt_int(raw)
    return _ONLINE.get(value) if value is not None else None


def battery_from(raw: Any) -> int | None:
    """6.2 ``power`` in %, ``-1`` = unknown (and so is anything outside 0-100)."""
    return percent(raw)


def _device_ref(entry: Any, home_id: str) -> DeviceRef | None:
    if not isinstance(entry, Mapping):
        return None
    kind = opt_text(entry.get("type"), max_length=32)
    try:
        uuid = require_id(entry.get("uuid"), "uuid")
    except InvalidAnswerError:
        return None
    if kind is None:
        return None
    room_id = opt_text(entry.get("room_id"), max_length=128)
    return DeviceRef(
        uuid=uuid,
        kind=kind.replace(" ", ""),
        home_id=home_id,
        # 5.6: "对于网关与外门锁,room_id 等于 home_id".
        room_id=room_id,
        sn=opt_text(entry.get("sn"), max_length=64),
        online=online_from(entry.get("onoff_line")),
        battery=battery_from(entry.get("power")),
    )


def devices_of_home(entries: Any, home_id: str) -> list[DeviceRef]:
    """A home's device list (5.6 ``result``); entries without a uuid/type skipped."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise InvalidAnswerError("device list: not a list")
    refs = [_device_ref(entry, home_id) for entry in entries]
    return [ref for ref in refs if ref is not None]


def devices_of_homes(
    result: Any, home_ids: Iterable[str]
) -> tuple[dict[str, list[DeviceRef]], list[str]]:
    """5.7 ``result`` ({home_id: [device, ...]}) and the home ids it left out."""
    if not isinstance(result, Mapping):
        raise InvalidAnswerError("devices of homes: not an object")
    found: dict[str, list[DeviceRef]] = {}
    missing: list[str] = []
    for home_id in home_ids:
        if home_id not in result:
            missing.append(home_id)
            continue
        found[home_id] = devices_of_home(result[home_id], home_id)
    return found, missing


def device_info(payload: Mapping[str, Any]) -> DeviceInfo:
    """The fields of 6.1 / 6.2 we use (the answer's top level)."""
    versions = payload.get("versions")
    firmware: str | None = None
    if isinstance(versions, Mapping):
        firmware = opt_text(versions.get("app_version"), max_length=64) or opt_text(
            versions.get("kernel_version"), max_length=64
        )
    return DeviceInfo(
        uuid=_opt_id(payload.get("uuid")),
        name=opt_text(payload.get("name")),
        mac=opt_text(payload.get("mac"), max_length=64),
        sn=opt_text(payload.get("sn"), max_length=64),
        online=online_from(payload.get("onoff_line")),
        battery=battery_from(payload.get("power")),
        model=opt_text(payload.get("model"), max_length=64),
        brand=opt_text(payload.get("brand"), max_length=64),
        firmware=firmware,
    )


def lock_from(
    ref: DeviceRef, info: DeviceInfo | None, *, has_gateway: bool, info_fresh: bool
) -> Lock:
    """A ``Lock`` (id = the uuid the callbacks name) from its listing and info.

    Online state and battery come from the listing when it has them, else from
    an info fetched just now (``info_fresh``), else they are None: an older info
    must not overwrite what a push told since.
    """
    name = (info.name if info else None) or ref.sn or ref.uuid
    mac = info.mac if info else None
    fresh = info if info is not None and info_fresh else None
    online = ref.online if ref.has_state else (fresh.online if fresh else None)
    battery = ref.battery
    if battery is None and not ref.has_state and fresh is not None:
        battery = fresh.battery
    return Lock(
        lock_id=ref.uuid,
        name=name,
        capabilities=dding_capabilities(),
        model=info.model if info else None,
        manufacturer=(info.brand if info else None) or MANUFACTURER,
        firmware=info.firmware if info else None,
        mac=mac,
        battery=battery,
        has_gateway=has_gateway,
        online=online,
        state=None,  # the SaaS never reports the bolt
        aliases=tuple(dict.fromkeys(a for a in (ref.uuid, mac) if a)),
    )


def gateway_from(ref: DeviceRef, info: DeviceInfo | None, lock_count: int) -> Gateway:
    """A ``Gateway`` (id = its uuid, as centre callbacks name it)."""
    online = ref.online if ref.has_state else (info.online if info else None)
    return Gateway(
        gateway_id=ref.uuid,
        name=(info.name if info else None) or ref.sn or ref.uuid,
        # Gateway.online is a bool: unknown counts as offline, never as online.
        online=bool(online),
        mac=info.mac if info else None,
        lock_count=lock_count,
    )


# --------------------------------------------------------------------------- #
# Passwords (6.3)


def _absent(raw: Any) -> bool:
    """Not given (None, 0): unlike a value we cannot read."""
    return raw is None or opt_int(raw) == 0


def code_phase(
    operation_raw: Any, stage_raw: Any, pwd_state_raw: Any = None
) -> tuple[CodePhase | None, CodeOperation | None, OperationStage | None]:
    """(phase, operation, stage) of a listed password; phase None = gone.

    No operation at all (a code made on the keypad) is on the lock; an operation
    or stage we do not know is "pending": neither claimed working nor gone.
    """
    op_value, stage_value = opt_int(operation_raw), opt_int(stage_raw)
    frozen = opt_int(pwd_state_raw) == _PWD_STATE_FROZEN
    if _absent(operation_raw) and _absent(stage_raw):
        return (CodePhase.REVOKED if frozen else CodePhase.DELIVERED), None, None
    operation = _OPERATIONS.get(op_value) if op_value is not None else None
    stage = _STAGES.get(stage_value) if stage_value is not None else None
    if operation is None or stage is None:
        return CodePhase.PENDING, operation, stage
    phase = _PHASES[operation, stage]
    if frozen and phase in (CodePhase.DELIVERED, CodePhase.PENDING):
        phase = CodePhase.REVOKED
    return phase, operation, stage


def _window(
    entry: Mapping[str, Any],
) -> tuple[int | None, datetime | None, datetime | None, bool]:
    """(status, begin, end, valid) of 6.3 ``permission``."""
    permission = entry.get("permission")
    if not isinstance(permission, Mapping):
        permission = {
            "begin": entry.get("permission_begin"),
            "end": entry.get("permission_end"),
            "status": entry.get("permission_status"),
        }
    status = opt_int(permission.get("status"))
    try:
        begin = opt_datetime_from_s(permission.get("begin"), "permission.begin")
        end = opt_datetime_from_s(permission.get("end"), "permission.end")
    except InvalidAnswerError:
        return status, None, None, False
    if begin is not None and end is not None and end <= begin:
        return status, None, None, False
    return status, begin, end, True


def passcode_from(lock_id: str, entry: Any) -> Passcode | None:
    """One 6.3 password; None when it is gone or cannot be addressed (no id)."""
    if not isinstance(entry, Mapping):
        return None
    code_id = _opt_id(entry.get("id"))
    if code_id is None:
        return None
    phase, operation, stage = code_phase(
        entry.get("operation"), entry.get("operation_stage"), entry.get("pwd_state")
    )
    if phase is None:
        return None
    status, begin, end, valid = _window(entry)
    protected = code_id == ADMIN_PASSWORD_ID or opt_int(entry.get("is_default")) == 1
    if protected or status == 1:
        kind, begin, end = CodeKind.PERMANENT, None, None
    elif status == 2 and valid and begin is not None and end is not None:
        kind = CodeKind.PERIOD
    else:
        # A window we cannot read: listed (it may work), never cleaned up.
        kind, begin, end = CodeKind.OTHER, None, None
    return Passcode(
        code_id=code_id,
        lock_id=lock_id,
        name=clean_text(entry.get("name")),
        kind=kind,
        code=None,  # 6.3 never returns digits
        start=begin,
        end=end,
        phase=phase,
        operation=operation,
        operation_stage=stage,
        protected=protected,
    )


def passcodes_from(lock_id: str, passwords: Any) -> list[Passcode]:
    """6.3 ``passwords``: an object keyed by id or a list (both seen in clients)."""
    if passwords is None:
        return []
    if isinstance(passwords, Mapping):
        entries: Iterable[Any] = passwords.values()
    elif isinstance(passwords, list):
        entries = passwords
    else:
        raise InvalidAnswerError("passwords: not a list")
    codes = [passcode_from(lock_id, entry) for entry in entries]
    unique: dict[str, Passcode] = {}
    for code in codes:
        if code is not None:
            unique.setdefault(code.code_id, code)
    return list(unique.values())


def dynamic_code_from(payload: Mapping[str, Any]) -> DynamicCode:
    """6.5: ``password`` (digits) and ``invalid_time`` (s; ms tolerated)."""
    code = payload.get("password")
    if isinstance(code, int) and not isinstance(code, bool):
        code = str(code)
    if (
        not isinstance(code, str)
        or not code.isascii()
        or not code.isdigit()
        or not 4 <= len(code) <= _MAX_DYNAMIC_CODE
    ):
        raise InvalidAnswerError("dynamic password: not digits")
    expires = datetime_from_s(
        epoch_seconds(payload.get("invalid_time"), "invalid_time"), "invalid_time"
    )
    return DynamicCode(code=code, expires=expires)


# --------------------------------------------------------------------------- #
# Events (6.11, 7.3)


def lock_event_from(uuid: str, entry: Any) -> LockEvent | None:
    """One 6.11 ``lock_events`` entry; None when its time is unusable."""
    if not isinstance(entry, Mapping):
        return None
    try:
        raw_time = opt_int(entry.get("time"))
        if raw_time is None:
            return None
        seconds = epoch_seconds(raw_time, "time")
        when = (
            datetime_from_ms(raw_time, "time")
            if raw_time > _MS_THRESHOLD
            else datetime_from_s(raw_time, "time")
        )
    except InvalidAnswerError:
        return None
    kind = opt_int(entry.get("eventid"))
    if kind == 1:
        event_type, name = EventType.UNLOCKED, OPEN_EVENT
    else:
        event_type, name = EventType.OTHER, f"event{kind if kind is not None else ''}"
    method, code_id, code_name = open_details(entry)
    return LockEvent(
        event_id=event_id(uuid, seconds, name),
        lock_id=uuid,
        type=event_type,
        time=when,
        method=method,
        success=True,
        code_id=code_id,
        code_name=code_name,
        source="poll",
        raw={"event": name, "uuid": uuid, "eventid": kind},
    )


def _party(raw: Any) -> Mapping[str, Any]:
    return raw if isinstance(raw, Mapping) else {}


def op_event_from(lock_id: str, entry: Any) -> LockEvent | None:
    """One 7.3 ``op_list`` entry (7.1 template) as a code event of ``lock_id``."""
    if not isinstance(entry, Mapping):
        return None
    op_id = opt_text(entry.get("op_id"), max_length=16)
    raw_time = opt_int(entry.get("timestamp"))
    if op_id is None or raw_time is None:
        return None
    try:
        when = (
            datetime_from_ms(raw_time, "timestamp")
            if raw_time > _MS_THRESHOLD
            else datetime_from_s(raw_time, "timestamp")
        )
    except InvalidAnswerError:
        return None
    event_type, operation = _OP_EVENTS.get(op_id, (EventType.OTHER, "other"))
    target = _party(entry.get("target"))
    target_id = _opt_id(target.get("id"))
    result = entry.get("result")
    result_value = opt_int(result)
    # 7.1: "result ... 0 为成功"; absent means not reported, not failed.
    success = result is None or result_value == 0
    return LockEvent(
        event_id=f"dding-op:{lock_id}:{raw_time}:{op_id}:{target_id or ''}",
        lock_id=lock_id,
        type=event_type,
        time=when,
        success=success,
        user=opt_text(_party(entry.get("operator")).get("name")),
        code_id=target_id,
        code_name=opt_text(target.get("name")),
        source="poll",
        raw={"op_id": op_id, "operation": operation},
    )


# --------------------------------------------------------------------------- #
# Tokens and counts (4.1, 6.12)


def token_expiry(raw: Any, now: float) -> float | None:
    """4.1 ``expires_time``: an epoch-seconds time (public clients compare it with
    now); a small value is taken as a lifetime. None when unusable."""
    value = opt_int(raw)
    if value is None or value <= 0:
        return None
    if value >= 10**9:  # from 2001 on: a time; less: a lifetime
        if value > _MS_THRESHOLD:
            value //= 1000
        return float(value)
    return now + value


def count_from(raw: Any) -> int | None:
    """6.12 ``count``: a non-negative int, else None."""
    return opt_int(raw, minimum=0, maximum=10**9)
