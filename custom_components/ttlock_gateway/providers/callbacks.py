"""Pure parser for pushed callback bodies (TTLock, Dding, gateway-service jobs).

Payloads are told apart by their shape only; nothing here decides whether the
sender is trusted. ``parse_callback`` raises ``CallbackError`` and nothing else, for
any input. No Home Assistant imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
import json
import logging
import math
from typing import Any, Final
from urllib.parse import parse_qsl

from .bounds import (
    MAX_EPOCH_S,
    MAX_RAW_LIST,
    MAX_SAFE_INT,
    clean_text,
    has_unsafe_text,
    opt_int,
)
from .dding_mapping import OPEN_EVENT, event_id as dding_event_id, open_details
from .models import EventType, LockEvent, UnlockMethod
from .ttlock_records import (
    normalize_lock_id,
    parse_bool,
    parse_int,
    record_to_event,
)

_LOGGER = logging.getLogger(__name__)

MAX_BODY_BYTES: Final = 64 * 1024
_MAX_FORM_FIELDS: Final = 200
_MAX_EVENT_NAME: Final = 40
_MAX_TEXT: Final = 256
# Epoch values above this are milliseconds, not seconds.
_MS_THRESHOLD: Final = 10**12
_MAX_EPOCH_S: Final = MAX_EPOCH_S  # end of bounds.MAX_YEAR (2200)

_JSON_TYPES: Final = frozenset({"application/json", "text/json"})
_FORM_TYPE: Final = "application/x-www-form-urlencoded"

TTLOCK_REPLY: Final = "success"
JOB_REPLY: Final = '{"ok":true}'


class CallbackKind(StrEnum):
    """Which cloud pushed the callback."""

    TTLOCK = "ttlock"
    DDING = "dding"
    JOB = "job"


@dataclass(frozen=True, slots=True)
class ParsedCallback:
    """A parsed callback and the body to answer the sender with."""

    kind: CallbackKind
    # TTLock: one per record; Dding: exactly one; Job: empty.
    events: tuple[LockEvent, ...]
    # TTLock lockId / Dding uuid / None for jobs.
    lock_ref: str | None
    # For JOB: job, status (bool), method (None if absent), tag, data, msg,
    # codes_error (bool).
    job: dict[str, Any] | None
    reply: str
    reply_content_type: str
    # TTLock's sender fields (``lockMac``, ``admin``), checked against the lock.
    lock_mac: str | None = None
    admin: str | None = None


class CallbackError(ValueError):
    """The body is not a callback we understand; ``reason`` is short and safe."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Dding event name -> (event type, method, success).
_DDING_EVENTS: Final[dict[str, tuple[EventType, UnlockMethod, bool]]] = {
    "batteryAlarm": (EventType.BATTERY_LOW, UnlockMethod.UNKNOWN, True),
    "clearBattryAlarm": (EventType.BATTERY_OK, UnlockMethod.UNKNOWN, True),
    "clearBatteryAlarm": (EventType.BATTERY_OK, UnlockMethod.UNKNOWN, True),
    "brokenAlarm": (EventType.TAMPER, UnlockMethod.UNKNOWN, True),
    "wrongPwdAlarm": (EventType.WRONG_CODE, UnlockMethod.CODE, False),
    "pwdSync": (EventType.CODES_SYNCED, UnlockMethod.UNKNOWN, True),
    "pwdAddLocal": (EventType.CODE_ADDED, UnlockMethod.UNKNOWN, True),
    "pwdDelLocal": (EventType.CODE_DELETED, UnlockMethod.UNKNOWN, True),
    "pwdUpdateLocal": (EventType.CODE_CHANGED, UnlockMethod.UNKNOWN, True),
    "lockerOpenAlarm": (EventType.UNLOCKED, UnlockMethod.UNKNOWN, True),
    "centerOfflineAlarm": (EventType.GATEWAY_OFFLINE, UnlockMethod.UNKNOWN, True),
    "clearCenterOfflineAlarm": (
        EventType.GATEWAY_ONLINE,
        UnlockMethod.UNKNOWN,
        True,
    ),
    "lockOfflineAlarm": (EventType.LOCK_OFFLINE, UnlockMethod.UNKNOWN, True),
    "clearLockOfflineAlarm": (EventType.LOCK_ONLINE, UnlockMethod.UNKNOWN, True),
}
_BATTERY_EVENTS: Final = frozenset(
    {"batteryAlarm", "clearBattryAlarm", "clearBatteryAlarm"}
)
_SINGLE_CODE_EVENTS: Final = frozenset({"pwdAddLocal", "pwdDelLocal", "pwdUpdateLocal"})


def parse_callback(content_type: str, body: bytes, *, now: datetime) -> ParsedCallback:
    """Parse one pushed body; raises ``CallbackError`` (only) when it is not valid."""
    try:
        return _parse(content_type, body, now)
    except CallbackError:
        raise
    except Exception as err:  # a safety net: never leak another exception type
        raise CallbackError("invalid payload") from err


# --------------------------------------------------------------------------- #
# Dispatch


def _media_type(content_type: object) -> str:
    if not isinstance(content_type, str):
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def _parse(content_type: str, body: bytes, now: datetime) -> ParsedCallback:
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise CallbackError("invalid body")
    if len(body) > MAX_BODY_BYTES:
        raise CallbackError("body too large")
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise CallbackError("not UTF-8") from None
    text = text.removeprefix("\ufeff")
    stripped = text.strip()
    if not stripped:
        raise CallbackError("empty body")

    media = _media_type(content_type)
    is_json_type = media in _JSON_TYPES or media.endswith("+json")
    looks_json = stripped[0] in "{["
    if looks_json or (is_json_type and "=" not in stripped):
        return _parse_json_object(_loads(stripped), now)

    form = _parse_form(stripped)
    if "notifyType" in form:
        return _parse_ttlock_notify(form, now)
    if "lockId" in form and "records" in form:
        return _parse_ttlock(form, now)
    if is_json_type:
        raise CallbackError("not JSON")
    if media == _FORM_TYPE:
        raise CallbackError(
            "missing field: records" if "lockId" in form else "missing field: lockId"
        )
    raise CallbackError("unrecognised payload")


def _reject_constant(_name: str) -> Any:
    raise ValueError("non-finite number")


def _loads(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise CallbackError("not JSON") from None


def _parse_form(text: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            max_num_fields=_MAX_FORM_FIELDS,
        )
    except ValueError:
        raise CallbackError("too many form fields") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise CallbackError("duplicate form field")
        form[key] = value
    return form


def _job_keys(payload: dict[str, Any]) -> dict[str, Any]:
    """Keys without stray quotes (seed 000 shows ``"job'"``, ``'tag"``).

    A correctly spelled key wins over its misquoted twin.
    """
    result: dict[str, Any] = {}
    for key, value in payload.items():
        stripped = key.strip().strip("'\"").strip()
        if stripped != key and (stripped in payload or stripped in result):
            continue
        result[stripped] = value
    return result


def _parse_json_object(payload: Any, now: datetime) -> ParsedCallback:
    if not isinstance(payload, dict):
        raise CallbackError("not a JSON object")
    if "notifyType" in payload and "event" not in payload and "job" not in payload:
        return _parse_ttlock_notify(payload, now)
    if "lockId" in payload and "records" in payload:
        return _parse_ttlock(payload, now)
    if "event" in payload and "uuid" in payload:
        return _parse_dding(payload, now)
    job_keys = _job_keys(payload)
    # The service's open_lock "unknown lock" result has no method (OpenLockJob),
    # but like every job result it carries the echoed tag and a msg.
    if "job" in job_keys and (
        "method" in job_keys or "tag" in job_keys or "msg" in job_keys
    ):
        return _parse_job(job_keys)
    if "job" in job_keys:
        raise CallbackError("missing field: method")
    if "event" in payload:
        raise CallbackError("missing field: uuid")
    if "lockId" in payload:
        raise CallbackError("missing field: records")
    raise CallbackError("unrecognised payload")


# --------------------------------------------------------------------------- #
# TTLock


def _parse_ttlock(payload: Mapping[str, Any], now: datetime) -> ParsedCallback:
    lock_id = normalize_lock_id(payload.get("lockId"))
    if lock_id is None:
        raise CallbackError("invalid field: lockId")

    records: Any = payload.get("records")
    if isinstance(records, str):
        records = _loads(records) if records.strip() else []
    if not isinstance(records, list):
        raise CallbackError("invalid field: records")

    events: list[LockEvent] = []
    unreadable = dated = 0
    for record in records:
        if not isinstance(record, dict):
            raise CallbackError("invalid field: records")
        if record.get("lockId") is None:
            record_in: dict[str, Any] = {**record, "lockId": lock_id}
        else:
            record_in = record
        event = record_to_event(record_in, source="push")
        if event is None:
            unreadable += 1
            if "lockDate" in record_in or "serverDate" in record_in:
                dated += 1
            continue
        if event.received is None:
            # No serverDate: order it by when the push reached us, not by
            # the lock's clock.
            event = replace(event, received=now)
        events.append(event)
    # A record with an impossible date (year 9999) or lockId is dropped; the
    # others are kept and the body is answered "success": a refusal makes the
    # cloud send the same body again, and it would not get better. Refused is
    # only a body none of whose records has a date field at all: that is not
    # a records callback.
    if unreadable and not events and not dated:
        raise CallbackError("invalid record")
    if unreadable:
        _LOGGER.debug(
            "TTLock callback for lock %s: %s unreadable record(s) dropped",
            lock_id,
            unreadable,
        )

    return _ttlock_reply(tuple(events), lock_id, payload)


# TTLock notifyType values (euopen.ttlock.com document-pages/en/cloud/...):
# 1 lock records (lockRecord/notify), 2 gateway online/offline
# (gateway/gatewayNotify), 3 Wi-Fi lock online/offline (wifiLock/WiFiLockNotify),
# 4 Wi-Fi lock asynchronous request failed
# (wifiLock/WiFiLockAsynchronousRequestFailNotify), 7 stand-alone door sensor
# (doorSensor/standaloneDoorSensor/notify). All are answered "success".
_NOTIFY_RECORDS: Final = 1
_NOTIFY_GATEWAY: Final = 2
_NOTIFY_WIFI_LOCK: Final = 3
_NOTIFY_REQUEST_FAILED: Final = 4
_NOTIFY_DOOR_SENSOR: Final = 7
# objectType of notifyType 4: 2 passcode (3 card, 4 fingerprint, 5 palm vein,
# 6 face, 7 remote).
_OBJECT_PASSCODE: Final = 2
# errcodes of notifyType 4 that another upload cannot fix (cloud/errorCode,
# "Lock" and "Passcode" sections): invalid parameter, bad length, the same
# passcode exists, passcode space / storage full, not supported, lock frozen,
# passcode too simple, no passcode data, passcode does not exist, permission
# denied. Any other (lock offline or busy, gateway unreachable, 1 "failed",
# unknown or missing) is worth another upload on the retry schedule.
_PASSCODE_REFUSED_FOR_GOOD: Final = frozenset(
    {-3, -3006, -3007, -3009, -4056, -4043, -2025, -2032, -1007, -2009, -2018}
)
# recordType of notifyType 7: 0 closed, 1 open (2 "not closed" alarm, 3 "not
# opened for a long time" alarm are alarms, not a change of the door).
_DOOR_SENSOR_TYPES: Final[dict[int, EventType]] = {
    0: EventType.DOOR_CLOSED,
    1: EventType.DOOR_OPENED,
}


def _ttlock_reply(
    events: tuple[LockEvent, ...],
    lock_ref: str | None,
    payload: Mapping[str, Any],
    *,
    mac_field: str = "lockMac",
) -> ParsedCallback:
    """The parsed callback, with the sender fields the webhook checks.

    ``mac_field``: where the sender's MAC is (notifyType 7 names it ``mac``).
    """
    return ParsedCallback(
        kind=CallbackKind.TTLOCK,
        events=events,
        lock_ref=lock_ref,
        job=None,
        reply=TTLOCK_REPLY,
        reply_content_type="text/plain",
        lock_mac=_sender_text(payload.get(mac_field)),
        admin=_sender_text(payload.get("admin")),
    )


def _required_int(payload: Mapping[str, Any], key: str) -> int:
    """A non-negative id or type within ``MAX_SAFE_INT`` (JSON-safe on the bus)."""
    value = opt_int(payload.get(key), minimum=0, maximum=MAX_SAFE_INT)
    if value is None:
        raise CallbackError(f"invalid field: {key}")
    return value


def _online_flag(payload: Mapping[str, Any]) -> bool:
    value = parse_int(payload.get("isOnline"))
    if value not in (0, 1):
        raise CallbackError("invalid field: isOnline")
    return value == 1


def _parse_ttlock_notify(payload: Mapping[str, Any], now: datetime) -> ParsedCallback:
    notify_type = parse_int(payload.get("notifyType"))
    if notify_type == _NOTIFY_RECORDS or (notify_type is None and "records" in payload):
        return _parse_ttlock(payload, now)
    stamp = int(now.timestamp())
    if notify_type == _NOTIFY_GATEWAY:
        gateway_id = str(_required_int(payload, "gatewayId"))
        online = _online_flag(payload)
        event = LockEvent(
            event_id=f"ttlock:gateway:{gateway_id}:{int(online)}:{stamp}",
            lock_id=None,
            type=EventType.GATEWAY_ONLINE if online else EventType.GATEWAY_OFFLINE,
            time=now,
            source="push",
            raw={
                "notifyType": notify_type,
                "gateway_id": gateway_id,
                "gateway_name": clean_text(payload.get("gatewayName")),
                "isOnline": int(online),
            },
        )
        return _ttlock_reply((event,), gateway_id, payload)
    if notify_type == _NOTIFY_WIFI_LOCK:
        lock_id = normalize_lock_id(payload.get("lockId"))
        if lock_id is None:
            raise CallbackError("invalid field: lockId")
        online = _online_flag(payload)
        event = LockEvent(
            event_id=f"ttlock:{lock_id}:online:{int(online)}:{stamp}",
            lock_id=lock_id,
            type=EventType.LOCK_ONLINE if online else EventType.LOCK_OFFLINE,
            time=now,
            source="push",
            raw={"notifyType": notify_type, "isOnline": int(online)},
        )
        return _ttlock_reply((event,), lock_id, payload)
    if notify_type == _NOTIFY_REQUEST_FAILED:
        lock_id = normalize_lock_id(payload.get("lockId"))
        if lock_id is None:
            raise CallbackError("invalid field: lockId")
        object_type = _required_int(payload, "objectType")
        object_id = str(_required_int(payload, "objectId"))
        errcode = opt_int(
            payload.get("errcode"), minimum=-MAX_SAFE_INT, maximum=MAX_SAFE_INT
        )
        event = LockEvent(
            event_id=(
                f"ttlock:{lock_id}:request_failed:{object_type}:{object_id}:{stamp}"
            ),
            lock_id=lock_id,
            type=EventType.REQUEST_FAILED,
            time=now,
            success=False,
            code_id=object_id if object_type == _OBJECT_PASSCODE else None,
            source="push",
            raw={
                "notifyType": notify_type,
                "objectType": object_type,
                "objectId": object_id,
                "errcode": errcode,
                # Whether uploading the passcode again may work (see above).
                "retryable": errcode not in _PASSCODE_REFUSED_FOR_GOOD,
            },
        )
        return _ttlock_reply((event,), lock_id, payload)
    if notify_type == _NOTIFY_DOOR_SENSOR:
        sensor_id = str(_required_int(payload, "doorSensorId"))
        record_type = _required_int(payload, "recordType")
        event = LockEvent(
            event_id=f"ttlock:door_sensor:{sensor_id}:{record_type}:{stamp}",
            lock_id=None,
            type=_DOOR_SENSOR_TYPES.get(record_type, EventType.OTHER),
            time=now,
            source="push",
            raw={
                "notifyType": notify_type,
                "door_sensor_id": sensor_id,
                "door_sensor_name": clean_text(payload.get("name")),
                "recordType": record_type,
            },
        )
        # The sensor's MAC is checked against the listed one (a forged push).
        return _ttlock_reply((event,), None, payload, mac_field="mac")
    # A notification we do not know yet: accepted, or the cloud keeps retrying.
    _LOGGER.debug(
        "TTLock callback with notifyType %s ignored",
        notify_type if notify_type is not None else "?",
    )
    return _ttlock_reply((), None, payload)


def _sender_text(value: Any) -> str | None:
    """A sender field as text, or None when absent or not a sane string."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > _MAX_TEXT or not text.isprintable():
        return None
    return text


# --------------------------------------------------------------------------- #
# Dding


def _safe_name(name: str) -> str:
    short = name[:_MAX_EVENT_NAME]
    return "".join(ch if ch.isascii() and ch.isprintable() else "?" for ch in short)


# Display text among the optional fields: cleaned (control characters and
# lone surrogates dropped) rather than refused; identifiers are refused.
_DISPLAY_FIELDS: Final = frozenset({"nickname"})


def _opt_text(payload: Mapping[str, Any], key: str) -> str | None:
    """An optional identifier: a string or an integer (as a string).

    Control characters or lone surrogates (which make every JSON save of the
    value fail) refuse an identifier; a display field is cleaned instead.
    """
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) > _MAX_TEXT:
            raise CallbackError(f"invalid field: {key}")
        if key in _DISPLAY_FIELDS:
            return clean_text(value)
        if has_unsafe_text(value):
            raise CallbackError(f"invalid field: {key}")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > MAX_SAFE_INT:
            raise CallbackError(f"invalid field: {key}")
        return str(value)
    raise CallbackError(f"invalid field: {key}")


def _dding_time(value: Any) -> datetime | None:
    """The event time (seconds or milliseconds alike), None when not given."""
    if value is None:
        return None
    number: float | None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, (int, float)):
        number = value
    else:
        number = parse_int(value)
    if number is None or number < 0:
        raise CallbackError("invalid field: time")
    seconds = number / 1000 if number > _MS_THRESHOLD else number
    if seconds > _MAX_EPOCH_S:
        raise CallbackError("invalid field: time")
    return datetime.fromtimestamp(seconds, tz=UTC)


def _battery(detail: Mapping[str, Any]) -> int | None:
    value = detail.get("battery_level")
    if value is None:
        return None
    if isinstance(value, float):
        level = int(value) if math.isfinite(value) else None
    else:
        level = parse_int(value)
        if level is None:
            raise CallbackError("invalid field: battery_level")
    if level is None or not 0 <= level <= 100:
        return None
    return level


def _code_ref(value: Any, key: str) -> str | None:
    """A code's id or digits: text without control characters, or an int."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) > _MAX_TEXT or has_unsafe_text(value):
            raise CallbackError(f"invalid field: {key}")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > MAX_SAFE_INT:
            raise CallbackError(f"invalid field: {key}")
        return str(value)
    raise CallbackError(f"invalid field: {key}")


def _parse_dding(payload: Mapping[str, Any], now: datetime) -> ParsedCallback:
    name = payload.get("event")
    if not isinstance(name, str):
        raise CallbackError("invalid field: event")
    if name not in _DDING_EVENTS:
        raise CallbackError(f"unknown event: {_safe_name(name)}")
    event_type, method, success = _DDING_EVENTS[name]

    uuid = _opt_text(payload, "uuid")
    if not uuid:
        raise CallbackError("invalid field: uuid")
    home_id = _opt_text(payload, "home_id")
    room_id = _opt_text(payload, "room_id")
    nickname = _opt_text(payload, "nickname")
    stamped = _dding_time(payload.get("time"))

    detail = payload.get("detail")
    if detail is None:
        detail = {}
    if not isinstance(detail, dict):
        raise CallbackError("invalid field: detail")

    raw: dict[str, Any] = {
        "event": name,
        "uuid": uuid,
        "home_id": home_id,
        "room_id": room_id,
        "nickname": nickname,
    }
    battery: int | None = None
    code: str | None = None
    code_id: str | None = None
    code_name: str | None = None

    if name == OPEN_EVENT:
        # Public clients document detail {source, sourceid, source_name}
        # (source 2 = a password), like the polled record of 6.11.
        method, code_id, code_name = open_details(detail)
    elif name in _BATTERY_EVENTS:
        battery = _battery(detail)
    elif name in _SINGLE_CODE_EVENTS:
        password = detail.get("password")
        if password is not None:
            if not isinstance(password, dict):
                raise CallbackError("invalid field: password")
            code_id = _code_ref(password.get("id"), "id")
            if name != "pwdDelLocal":
                code = _code_ref(password.get("password"), "password")
    elif name == "pwdSync":
        passwords = detail.get("passwords")
        if passwords is not None:
            if not isinstance(passwords, list):
                raise CallbackError("invalid field: passwords")
            ids: list[str] = []
            for item in passwords:
                if not isinstance(item, dict):
                    raise CallbackError("invalid field: passwords")
                ref = _code_ref(item.get("id"), "id")
                if ref is not None:
                    ids.append(ref)
            raw["code_ids"] = ids[:MAX_RAW_LIST]

    # One alarm is one event whether its time came in seconds or milliseconds;
    # without a time only a short window (the coordinator's) tells repeats apart.
    token = "-" if stamped is None else str(int(stamped.timestamp()))
    event = LockEvent(
        event_id=(
            f"dding:{uuid}:{token}:{name}"
            if stamped is None
            else dding_event_id(uuid, int(stamped.timestamp()), name)
        ),
        lock_id=None,
        type=event_type,
        time=stamped or now,
        method=method,
        success=success,
        code=code,
        code_id=code_id,
        code_name=code_name,
        battery=battery,
        source="push",
        raw=raw,
        received=stamped,
        time_known=stamped is not None,
    )
    reply = json.dumps({"ErrNo": 0, "ErrMsg": "", "count": 1}, separators=(",", ":"))
    return ParsedCallback(
        kind=CallbackKind.DDING,
        events=(event,),
        lock_ref=uuid,
        job=None,
        reply=reply,
        reply_content_type="application/json",
    )


# --------------------------------------------------------------------------- #
# Gateway-service jobs


def _job_flag(payload: Mapping[str, Any], key: str) -> bool:
    value = payload.get(key)
    if value is None:
        return False
    flag = parse_bool(value)
    if flag is None:
        raise CallbackError(f"invalid field: {key}")
    return flag


def _parse_job(payload: Mapping[str, Any]) -> ParsedCallback:
    job_ref = _opt_text(payload, "job")
    if not job_ref:
        raise CallbackError("invalid field: job")
    method = payload.get("method")
    if method is not None and (
        not isinstance(method, str) or not method or len(method) > _MAX_TEXT
    ):
        raise CallbackError("invalid field: method")
    msg = payload.get("msg")
    if msg is not None and not isinstance(msg, str):
        if isinstance(msg, (int, float)):
            msg = str(msg)
        else:
            raise CallbackError("invalid field: msg")

    if msg is not None and len(msg) > _MAX_JOB_MSG:
        msg = msg[:_MAX_JOB_MSG] + "…"
    job: dict[str, Any] = {
        "job": job_ref,
        "status": _job_flag(payload, "status"),
        "method": method,
        "tag": payload.get("tag"),
        "data": payload.get("data"),
        "msg": msg,
        "codes_error": _job_flag(payload, "codes_error"),
    }
    _bound_job(job)
    return ParsedCallback(
        kind=CallbackKind.JOB,
        events=(),
        lock_ref=None,
        job=job,
        reply=JOB_REPLY,
        reply_content_type="application/json",
    )


# The job's free-form ``tag`` and ``data`` go onto the event bus: deeper values
# make the websocket sender fail ("Recursion limit reached", a 632-byte body
# nested 300 levels) and large ones are refused by the recorder. Past these
# bounds a field is replaced by a summary saying so, never dropped silently.
MAX_JOB_DEPTH: Final = 10
MAX_JOB_EVENT_BYTES: Final = 16 * 1024
_MAX_JOB_MSG: Final = 1024
_SUMMARY_KEYS: Final = 20
# Room for the entry_id the webhook adds to the event.
_JOB_EVENT_OVERHEAD: Final = 64


def _depth(value: Any) -> int:
    """Nesting depth of a JSON value (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > MAX_JOB_DEPTH:
            return deepest  # enough to know it is too deep
        stack.extend((child, level) for child in children)
    return deepest


def _json_size(value: Any) -> int:
    return len(
        json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    )


def _summary(value: Any, reason: str, size: int | None) -> dict[str, Any]:
    """What a too-deep or too-large value was, in a few hundred bytes."""
    summary: dict[str, Any] = {
        "summarised": reason,
        "type": type(value).__name__,
    }
    if size is not None:
        summary["bytes"] = size
    if isinstance(value, dict):
        summary["keys"] = [_safe_name(str(key)) for key in list(value)[:_SUMMARY_KEYS]]
        summary["length"] = len(value)
    elif isinstance(value, list):
        summary["length"] = len(value)
    return summary


def _bound_job(job: dict[str, Any]) -> None:
    """Summarise ``data`` (then ``tag``) until the job fits the bus bounds."""
    for key in ("data", "tag"):
        if _depth(job[key]) > MAX_JOB_DEPTH:
            job[key] = _summary(job[key], f"deeper than {MAX_JOB_DEPTH} levels", None)
    for key in ("data", "tag"):
        if _json_size(job) + _JOB_EVENT_OVERHEAD <= MAX_JOB_EVENT_BYTES:
            return
        job[key] = _summary(
            job[key], f"larger than {MAX_JOB_EVENT_BYTES} bytes", _json_size(job[key])
        )
