"""The validation wall, property-tested: whatever a cloud sends, every mapping
function gives either a provider error or a model whose every field is within
bounds, JSON-serialisable without NaN and encodable as UTF-8.

The mappers of every cloud: TTLock, Tuya (poll and push), Dding, the gateway
service and pushed callbacks. Inputs are arbitrary JSON values, mostly in the
documented shape (so the mappers get past their first check) with odd values
mixed in: year-40,000 and negative dates, NaN and huge numbers, control
characters, lone surrogates, long text, nesting. Derandomized and bounded, so
every run tries the same examples.
"""

from __future__ import annotations

import contextlib
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime
from enum import Enum
import json
import math
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.ttlock_gateway.providers import (
    dding_mapping,
    gateway_service_mapping,
    tuya_push_mapping,
)
from custom_components.ttlock_gateway.providers.bounds import (
    MAX_AUTO_LOCK_S,
    MAX_RAW_KEY,
    MAX_RAW_KEYS,
    MAX_RAW_LIST,
    MAX_SAFE_INT,
    MAX_TEXT,
    MAX_YEAR,
    MIN_YEAR,
    has_unsafe_text,
)
from custom_components.ttlock_gateway.providers.callbacks import (
    CallbackError,
    CallbackKind,
    parse_callback,
)
from custom_components.ttlock_gateway.providers.models import (
    Capabilities,
    Lock,
    LockState,
    ProviderError,
)
from custom_components.ttlock_gateway.providers.ttlock import (
    gateway_from_dict,
    listed_passcodes,
    lock_from_dict,
    lock_with_details,
    open_state_from_dict,
    passcode_from_dict,
)
from custom_components.ttlock_gateway.providers.ttlock_records import record_to_event
from custom_components.ttlock_gateway.providers.tuya_mapping import (
    battery_from_status,
    code_phase,
    lock_from_device,
    log_event,
    remote_unlock_without_password,
    state_from_status,
    status_items,
    status_map,
    temp_password,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
FORM = "application/x-www-form-urlencoded"
JSON_CT = "application/json"

PROPERTY = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Pure functions: no Home Assistant needed."""
    return


# --------------------------------------------------------------------------- #
# The checker


# Bounds per field name, where a field has its own.
_INT_BOUNDS: dict[str, tuple[int, int]] = {
    "battery": (0, 100),
    "auto_lock_seconds": (0, MAX_AUTO_LOCK_S),
    "code_min_length": (1, 20),
    "code_max_length": (1, 20),
    "lock_count": (0, 10_000),
    "signal": (-150, 0),
}
# Ids: non-empty; event ids join several ids, so they may be longer.
_ID_FIELDS = frozenset({"lock_id", "code_id", "gateway_id", "unique_id"})
_LONG_TEXT = {"event_id": 2 * MAX_TEXT}


def _check_text(value: str, where: str, limit: int = MAX_TEXT) -> None:
    assert not has_unsafe_text(value), f"{where}: unsafe text {value!r}"
    assert len(value) <= limit, f"{where}: {len(value)} characters"
    value.encode("utf-8")  # a lone surrogate raises here


def _check_scalar(value: Any, where: str) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        assert -MAX_SAFE_INT <= value <= MAX_SAFE_INT, f"{where}: {value}"
    elif isinstance(value, float):
        assert math.isfinite(value), f"{where}: {value}"
    elif isinstance(value, str):
        _check_text(value, where)
    else:
        pytest.fail(f"{where}: not a JSON scalar: {type(value).__name__}")


def _check_raw(raw: Any, where: str) -> None:
    assert isinstance(raw, dict), where
    assert len(raw) <= MAX_RAW_KEYS, f"{where}: {len(raw)} keys"
    for key, value in raw.items():
        assert isinstance(key, str), where
        assert 0 < len(key) <= MAX_RAW_KEY, where
        _check_text(key, f"{where} key")
        if isinstance(value, list):
            assert len(value) <= MAX_RAW_LIST, f"{where}.{key}: {len(value)} items"
            for item in value:
                _check_scalar(item, f"{where}.{key}[]")
        elif isinstance(value, dict):
            # One level of scalars at most (Tuya's status item {code, value}).
            assert len(value) <= MAX_RAW_KEYS, f"{where}.{key}"
            for sub_key, item in value.items():
                _check_text(sub_key, f"{where}.{key} key")
                _check_scalar(item, f"{where}.{key}.{sub_key}")
        else:
            _check_scalar(value, f"{where}.{key}")


def check_value(name: str, value: Any, where: str) -> None:
    """Every field of a model within its bounds (recursing into models)."""
    where = f"{where}.{name}"
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, Enum):
        assert isinstance(value.value, str), where
        return
    if is_dataclass(value) and not isinstance(value, type):
        check_model(value, where)
        return
    if name == "raw":
        _check_raw(value, where)
        return
    if isinstance(value, datetime):
        assert value.tzinfo is not None, f"{where}: naive"
        assert MIN_YEAR <= value.year <= MAX_YEAR, f"{where}: {value}"
        return
    if isinstance(value, int):
        low, high = _INT_BOUNDS.get(name, (-MAX_SAFE_INT, MAX_SAFE_INT))
        assert low <= value <= high, f"{where}: {value}"
        return
    if isinstance(value, float):
        assert math.isfinite(value), where
        return
    if isinstance(value, str):
        _check_text(value, where, _LONG_TEXT.get(name, MAX_TEXT))
        if name in _ID_FIELDS:
            assert value.strip(), f"{where}: empty id"
            assert len(value) <= MAX_TEXT, where
        return
    if isinstance(value, tuple | list):
        for index, item in enumerate(value):
            check_value(f"{name}[{index}]", item, where)
            if isinstance(item, str):
                assert item.strip(), f"{where}[{index}]: empty"
        return
    pytest.fail(f"{where}: unexpected {type(value).__name__}")


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def check_model(model: Any, where: str = "") -> None:
    """``model`` is within bounds and survives a strict JSON save."""
    where = where or type(model).__name__
    for field in fields(model):
        check_value(field.name, getattr(model, field.name), where)
    json.dumps(_jsonable(model), allow_nan=False, ensure_ascii=False).encode("utf-8")


def test_checker_catches_what_it_guards() -> None:
    """The checker fails on each kind of unbounded value (it can fail)."""
    good = Lock(lock_id="1", name="Door", capabilities=Capabilities())
    check_model(good)
    bad_values: list[dict[str, Any]] = [
        {"battery": 150},
        {"name": "x\x00"},
        {"name": "\ud83d"},
        {"name": "x" * 1000},
        {"lock_id": " "},
        {"auto_lock_seconds": 86_400},
        {"aliases": ("",)},
    ]
    for changes in bad_values:
        values = {f.name: getattr(good, f.name) for f in fields(good)}
        values.update(changes)
        with pytest.raises(AssertionError):
            check_model(Lock(**values))


# --------------------------------------------------------------------------- #
# Inputs

_ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\ud83d",
        "Guest \udc00",
        "a\x00b",
        "\x1b[31mred",
        "x" * 600,
        "None",
        "1e400",
        "NaN",
        "-1",
        "0x1F",
        "١٢٣",
        "1_000",
        "12/../token",
    ]
)
_TEXT = st.text(max_size=40) | _ODD_TEXT
_DATES = st.sampled_from(
    [
        0,
        -1,
        1_700_000_000,
        1_700_000_000_000,
        1_200_000_000_000_000,  # year 40,000 in ms
        253_402_300_800_000,  # year 10,000
        7_258_118_400_000,  # 2200-01-01
        32_503_680_000_000,  # year 3000 in ms
        32_503_680_000,  # year 3000 in seconds
        10**19,
        "1700000000000",
    ]
)
_NUMBERS = (
    st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _DATES
)
_SCALARS = st.none() | st.booleans() | _NUMBERS | _TEXT
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=8) | _ODD_TEXT, inner, max_size=3),
    max_leaves=8,
)


def _mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a documented value, sometimes any JSON value."""
    return st.integers(min_value=0, max_value=9).flatmap(
        lambda n: valid if n < 6 else _JSON
    )


def _shaped(spec: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """A dict with some of ``spec``'s keys (mostly valid values), plus extras."""
    return st.builds(
        lambda known, extra: {**extra, **known},
        st.fixed_dictionaries({}, optional={k: _mostly(v) for k, v in spec.items()}),
        st.dictionaries(st.text(max_size=8), _JSON, max_size=2),
    )


_IDS = st.integers(min_value=1, max_value=10**9) | st.text(
    alphabet="abcdef0123456789", min_size=1, max_size=22
)
_TTLOCK_LOCK = _shaped(
    {
        "lockId": _IDS,
        "lockAlias": _TEXT,
        "lockName": _TEXT,
        "lockMac": st.just("aa:bb:cc:dd:ee:ff") | _TEXT,
        "electricQuantity": st.integers(-5, 120),
        "hasGateway": st.sampled_from([0, 1, "1", True]),
        "featureValue": st.sampled_from(["F44354CD5F3", "10C2F44754CF5F7", "0"])
        | _TEXT
        | st.integers(),
        "modelNum": _TEXT,
        "firmwareRevision": _TEXT,
        "autoLockTime": st.sampled_from([-1, 0, 5, 60, 900, 901, 86_400]),
        "passageMode": st.sampled_from([1, 2, 3]),
        "keyRight": st.sampled_from([0, 1, "1"]),
        "keyStatus": st.sampled_from(["110401", "110402"]),
    }
)
_TTLOCK_GATEWAY = _shaped(
    {
        "gatewayId": _IDS,
        "gatewayName": _TEXT,
        "gatewayMac": _TEXT,
        "isOnline": st.sampled_from([0, 1]),
        "networkName": _TEXT,
        "lockNum": st.integers(-1, 20_000),
        "rssi": st.integers(-200, 50),
    }
)
_TTLOCK_PASSCODE = _shaped(
    {
        "keyboardPwdId": _IDS,
        "keyboardPwdName": _TEXT,
        "keyboardPwdType": st.integers(0, 15),
        "keyboardPwd": st.text(alphabet="0123456789", max_size=12) | _TEXT,
        "startDate": _DATES,
        "endDate": _DATES,
    }
)
_TTLOCK_RECORD = _shaped(
    {
        "lockId": _IDS,
        "recordType": st.integers(0, 70),
        "recordTypeFromLock": st.integers(0, 70),
        "success": st.sampled_from([0, 1, "0", "1", True]),
        "username": _TEXT,
        "keyboardPwd": st.text(alphabet="0123456789", max_size=12) | _TEXT,
        "lockDate": _DATES,
        "serverDate": _DATES,
        "electricQuantity": st.integers(-5, 120),
        "recordId": _IDS,
    }
)
_TUYA_STATUS = st.lists(
    _shaped(
        {
            "code": st.sampled_from(
                [
                    "residual_electricity",
                    "battery_state",
                    "lock_motor_state",
                    "normal_open_switch",
                    "closed_opened",
                    "unlock_fingerprint",
                    "unlock_temporary",
                    "alarm_lock",
                    "hijack",
                    "doorbell",
                ]
            )
            | _TEXT,
            "value": _SCALARS,
        }
    ),
    max_size=6,
)
_TUYA_DEVICE = _shaped(
    {
        "id": st.text(alphabet="abcdef0123456789", min_size=1, max_size=22),
        "name": _TEXT,
        "category": st.sampled_from(["ms", "jtmspro", "mk", "wg2"]),
        "product_name": _TEXT,
        "mac": _TEXT,
        "online": st.booleans(),
        "sub": st.booleans(),
        "protocol": st.sampled_from(["zigbee", "ble", "wifi"]),
        "status": _TUYA_STATUS,
    }
)
_TUYA_LOG = _shaped(
    {
        "update_time": _DATES,
        "nick_name": _TEXT,
        "unlock_name": _TEXT,
        "user_id": _TEXT,
        "status": _TUYA_STATUS | _TUYA_STATUS.map(lambda items: items[:1] or {}),
        "media_infos": st.lists(st.dictionaries(st.text(max_size=5), _JSON)),
    }
)
_TUYA_PASSWORD = _shaped(
    {
        "id": _IDS,
        "password_id": _IDS,
        "name": _TEXT,
        "phase": st.integers(0, 20),
        "delivery_status": st.integers(0, 7),
        "effective_time": _DATES,
        "invalid_time": _DATES,
    }
)
_BASE_LOCK = Lock(lock_id="7", name="Door", capabilities=Capabilities())


# --------------------------------------------------------------------------- #
# TTLock


@PROPERTY
@given(data=_TTLOCK_LOCK)
def test_ttlock_lock(data: dict[str, Any]) -> None:
    """lock/list and key/list entries: a bounded Lock or an error."""
    try:
        lock = lock_from_dict(data)
    except ProviderError:
        return
    check_model(lock)
    check_model(lock_with_details(lock, data))


@PROPERTY
@given(data=_TTLOCK_LOCK | _JSON.filter(lambda v: isinstance(v, dict)))
def test_ttlock_lock_detail(data: dict[str, Any]) -> None:
    """lock/detail never raises: odd fields leave the lock as it was."""
    check_model(lock_with_details(_BASE_LOCK, data))
    assert open_state_from_dict(data) in (None, LockState.LOCKED, LockState.UNLOCKED)


@PROPERTY
@given(data=_TTLOCK_GATEWAY)
def test_ttlock_gateway(data: dict[str, Any]) -> None:
    """gateway/list entries: a bounded Gateway or an error."""
    try:
        gateway = gateway_from_dict(data)
    except ProviderError:
        return
    check_model(gateway)


@PROPERTY
@given(entries=st.lists(_TTLOCK_PASSCODE, max_size=4))
def test_ttlock_passcodes(entries: list[dict[str, Any]]) -> None:
    """listKeyboardPwd entries: bounded Passcodes or errors; a listing keeps
    every entry that has a usable id."""
    for entry in entries:
        with contextlib.suppress(ProviderError):
            check_model(passcode_from_dict("7", entry))
    for code in listed_passcodes("7", entries):
        check_model(code)


@PROPERTY
@given(record=_TTLOCK_RECORD | _JSON)
def test_ttlock_record(record: Any) -> None:
    """lockRecord/list entries and pushed records: a bounded event or None."""
    event = record_to_event(record, source="poll")
    if event is not None:
        check_model(event)


# --------------------------------------------------------------------------- #
# Tuya


@PROPERTY
@given(device=_TUYA_DEVICE, remote=st.booleans())
def test_tuya_device(device: dict[str, Any], remote: bool) -> None:
    """Device-list entries and their status: a bounded Lock or an error."""
    status = status_map(device)
    battery = battery_from_status(status)
    assert battery is None or 0 <= battery <= 100
    state_from_status(status)
    try:
        lock = lock_from_device(device, remote_unlock=remote)
    except ProviderError:
        return
    check_model(lock)


@PROPERTY
@given(record=_TUYA_LOG, alarm=st.booleans())
def test_tuya_log(record: dict[str, Any], alarm: bool) -> None:
    """open-logs / alarm-logs entries: bounded events or None."""
    for code, value in status_items(record):
        event = log_event("dev1", record, code, value, alarm=alarm)
        if event is not None:
            check_model(event)


@PROPERTY
@given(item=_TUYA_PASSWORD, device=_TUYA_DEVICE)
def test_tuya_temp_password(item: dict[str, Any], device: dict[str, Any]) -> None:
    """temp-passwords entries: a bounded Passcode or an error; any phase."""
    code_phase(item, device)
    with contextlib.suppress(ProviderError):
        check_model(temp_password("dev1", item))


@PROPERTY
@given(result=_JSON)
def test_tuya_remote_unlocks(result: Any) -> None:
    """remote-unlocks answers of any shape: a plain bool."""
    assert isinstance(remote_unlock_without_password(result), bool)


# --------------------------------------------------------------------------- #
# Pushed callbacks


@st.composite
def _callback_bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.integers(min_value=0, max_value=4))
    if kind == 0:
        records = draw(st.lists(_TTLOCK_RECORD, max_size=3))
        fields_ = {"lockId": draw(_mostly(_IDS)), "records": json.dumps(records)}
        return FORM, urlencode({k: str(v) for k, v in fields_.items()}).encode()
    if kind == 1:
        notify = draw(
            _shaped(
                {
                    "notifyType": st.sampled_from([2, 3, 4, 7, 99]),
                    "gatewayId": _IDS,
                    "gatewayName": _TEXT,
                    "lockId": _IDS,
                    "isOnline": st.sampled_from([0, 1]),
                    "objectType": st.integers(0, 8),
                    "objectId": _IDS,
                    "errcode": _NUMBERS,
                    "doorSensorId": _IDS,
                    "recordType": st.integers(0, 4),
                    "name": _TEXT,
                }
            )
        )
        notify.setdefault("notifyType", 2)
        return JSON_CT, json.dumps(notify, allow_nan=True).encode(
            "utf-8", "surrogatepass"
        )
    if kind == 2:
        dding = draw(
            _shaped(
                {
                    "event": st.sampled_from(
                        ["batteryAlarm", "pwdSync", "pwdAddLocal", "brokenAlarm"]
                    ),
                    "uuid": _TEXT,
                    "home_id": _TEXT,
                    "nickname": _TEXT,
                    "time": _DATES,
                    "detail": _JSON,
                }
            )
        )
        dding.setdefault("event", "brokenAlarm")
        dding.setdefault("uuid", "u1")
        return JSON_CT, json.dumps(dding, allow_nan=True).encode(
            "utf-8", "surrogatepass"
        )
    payload = draw(_JSON)
    return JSON_CT, json.dumps(payload, allow_nan=True).encode("utf-8", "surrogatepass")


@PROPERTY
@given(body=_callback_bodies())
def test_callbacks(body: tuple[str, bytes]) -> None:
    """Any pushed body: a CallbackError or events that are all within bounds."""
    content_type, raw = body
    try:
        parsed = parse_callback(content_type, raw, now=NOW)
    except CallbackError as err:
        reason = err.reason
    else:
        reason = None
    if reason is not None:
        assert 0 < len(reason) <= 80
        return
    for event in parsed.events:
        check_model(event)
    if parsed.lock_ref is not None:
        _check_text(parsed.lock_ref, "lock_ref")
        assert parsed.lock_ref.strip()
    if parsed.kind is CallbackKind.JOB:
        # Job payload bounds (depth, size) are the job tracker's (issue 14);
        # here: it survives a strict JSON save.
        json.dumps(parsed.job, allow_nan=False)
    _check_text(parsed.reply, "reply")


# --------------------------------------------------------------------------- #
# Providers merged while this wall was built (Dding, gateway service, Tuya
# push): the same check on their answer mappers.

_DDING_DEVICE = _shaped(
    {
        "uuid": _IDS,
        "type": st.sampled_from(["lock", "gateway"]) | _TEXT,
        "room_id": _TEXT,
        "sn": _TEXT,
        "onoff_line": st.sampled_from([1, 2, 3]),
        "power": st.integers(-2, 120),
    }
)
_DDING_INFO = _shaped(
    {
        "uuid": _IDS,
        "name": _TEXT,
        "mac": _TEXT,
        "model": _TEXT,
        "brand": _TEXT,
        "onoff_line": st.sampled_from([1, 2]),
        "power": st.integers(-2, 120),
        "versions": _shaped({"app_version": _TEXT, "kernel_version": _TEXT}),
    }
)
_DDING_PASSWORD = _shaped(
    {
        "id": _IDS,
        "name": _TEXT,
        "operation": st.integers(0, 6),
        "operation_stage": st.integers(0, 4),
        "pwd_state": st.integers(0, 3),
        "permission_begin": _DATES,
        "permission_end": _DATES,
        "permission_status": st.integers(0, 3),
        "is_default": st.sampled_from([0, 1]),
    }
)
_DDING_EVENT = _shaped(
    {
        "time": _DATES,
        "eventid": st.integers(0, 5),
        "source": st.integers(0, 6),
        "sourceid": _IDS,
        "source_name": _TEXT,
    }
)
_DDING_OP = _shaped(
    {
        "op_id": st.sampled_from(["1", "2", "3"]) | _TEXT,
        "timestamp": _DATES,
        "target": _shaped({"id": _IDS, "name": _TEXT}),
        "operator": _shaped({"name": _TEXT}),
        "result": st.sampled_from([0, 1, None]),
    }
)


@PROPERTY
@given(
    entries=st.lists(_DDING_DEVICE, max_size=3),
    info=_DDING_INFO,
    passwords=st.lists(_DDING_PASSWORD, max_size=3),
    event=_DDING_EVENT,
    op=_DDING_OP,
)
def test_dding_mappers(
    entries: list[Any],
    info: dict[str, Any],
    passwords: list[Any],
    event: dict[str, Any],
    op: dict[str, Any],
) -> None:
    """Dding listings, device info, passwords, lock events and op logs."""
    try:
        refs = dding_mapping.devices_of_home(entries, "home1")
    except ProviderError:
        refs = []
    details = dding_mapping.device_info(info)
    for ref in refs:
        check_model(
            dding_mapping.lock_from(ref, details, has_gateway=True, info_fresh=True)
        )
        check_model(dding_mapping.gateway_from(ref, details, 1))
    for code in dding_mapping.passcodes_from("lock1", passwords):
        check_model(code)
    for produced in (
        dding_mapping.lock_event_from("lock1", event),
        dding_mapping.op_event_from("lock1", op),
    ):
        if produced is not None:
            check_model(produced)


_SERVICE_ROW = _shaped(
    {
        "id": _IDS,
        "lock_id": _IDS,
        "lock_date": _DATES,
        "record_type": st.integers(0, 70),
        "record_type_from_lock": st.integers(0, 70),
        "success": st.sampled_from([0, 1]),
        "username": _TEXT,
        "keyboard_pwd": st.text(alphabet="0123456789", max_size=12) | _TEXT,
    }
)


@PROPERTY
@given(entry=_TTLOCK_LOCK, row=_SERVICE_ROW)
def test_gateway_service_mappers(entry: dict[str, Any], row: dict[str, Any]) -> None:
    """The gateway service's lock list entries and event rows."""
    with contextlib.suppress(ProviderError):
        check_model(gateway_service_mapping.lock_from_entry(entry))
    with contextlib.suppress(ProviderError):
        check_model(gateway_service_mapping.event_from_row(row, "7"))


_PUSH_POINTS = st.lists(
    _shaped(
        {
            "code": st.sampled_from(
                [
                    "residual_electricity",
                    "lock_motor_state",
                    "unlock_fingerprint",
                    "alarm_lock",
                    "hijack",
                    "closed_opened",
                ]
            )
            | _TEXT,
            "value": _SCALARS,
            "t": _DATES,
            "time": _DATES,
        }
    ),
    max_size=4,
)


@PROPERTY
@given(
    protocol=st.sampled_from([4, 20, 1000, 1001, 7]),
    data=_shaped(
        {
            "devId": _IDS,
            "status": _PUSH_POINTS,
            "dataId": _IDS,
            "bizCode": st.sampled_from(["online", "offline", "devicePropertyMessage"])
            | _TEXT,
            "bizData": _shaped(
                {"devId": _IDS, "properties": _PUSH_POINTS, "time": _DATES}
            ),
            "ts": _DATES,
        }
    ),
)
def test_tuya_push_mappers(protocol: int, data: dict[str, Any]) -> None:
    """Decrypted Tuya push messages into events and lock states."""
    try:
        message = tuya_push_mapping.parse_business(protocol, data)
        if message is None:
            return
        batch = tuya_push_mapping.to_batch(message, received_ms=1_767_225_600_000)
    except ProviderError:
        return
    for produced in (*batch.events, *batch.statuses):
        check_model(produced)
