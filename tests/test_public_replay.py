"""Public sample payloads (tests/fixtures/public, see its README) through the parsers."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.ttlock_gateway.providers.callbacks import parse_callback
from custom_components.ttlock_gateway.providers.models import (
    Capabilities,
    CodeKind,
    CodePhase,
    EventType,
    Lock,
    LockState,
    UnlockMethod,
)
from custom_components.ttlock_gateway.providers.ttlock import (
    capabilities_from_feature_value,
    gateway_from_dict,
    listed_passcodes,
    lock_from_dict,
    lock_with_details,
    open_state_from_dict,
    passage_mode_on,
    shared_admin_key,
)
from custom_components.ttlock_gateway.providers.ttlock_records import record_to_event
from custom_components.ttlock_gateway.providers.tuya_mapping import (
    LOCK_CATEGORIES,
    battery_from_status,
    code_phase,
    lock_from_device,
    lock_protocol,
    log_event,
    remote_unlock_without_password,
    state_from_status,
    status_items,
    status_map,
)

PUBLIC = Path(__file__).parent / "fixtures" / "public"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Pure parser tests: no Home Assistant needed."""
    return


def _json(name: str) -> Any:
    return json.loads((PUBLIC / name).read_text(encoding="utf-8"))


def _events(name: str, key: str, *, alarm: bool) -> list[Any]:
    events = []
    for record in _json(name)["result"][key]:
        for code, value in status_items(record):
            event = log_event("dev", record, code, value, alarm=alarm)
            assert event is not None
            events.append(event)
    return events


def test_ttlock_record_notify() -> None:
    body = (PUBLIC / "ttlock_record_notify.form").read_bytes().strip()
    parsed = parse_callback(FORM, body, now=NOW)
    (event,) = parsed.events
    assert parsed.reply == "success"
    assert (event.lock_id, event.type, event.method) == (
        "163377",
        EventType.UNLOCKED,
        UnlockMethod.APP,
    )
    assert event.time == datetime.fromtimestamp(1625025703, UTC)
    assert event.battery == 85


def test_ttlock_door_sensor_notify() -> None:
    body = (PUBLIC / "ttlock_door_sensor_notify.form").read_bytes()
    (event,) = parse_callback(FORM, body, now=NOW).events
    assert event.type is EventType.DOOR_OPENED
    assert event.raw["door_sensor_id"] == "100123"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ttlock_gateway_list.json", ("78979", "C5:40:E0:9C:8C:C1", True, 2)),
        ("ttlock_gateway_detail.json", ("347", "G2_743985", False, 1)),
    ],
)
def test_ttlock_gateways(name: str, expected: tuple[str, str, bool, int]) -> None:
    data = _json(name)
    entry = data["list"][0] if "list" in data else data
    gateway = gateway_from_dict(entry)
    assert (gateway.gateway_id, gateway.name, gateway.online, gateway.lock_count) == (
        expected
    )


def test_ttlock_shared_key_becomes_a_lock() -> None:
    key = _json("ttlock_key_get.json")
    assert shared_admin_key(key)
    lock = lock_from_dict(key)
    assert (lock.lock_id, lock.name, lock.battery) == ("532323", "大门锁", 85)
    assert "345634" not in repr(lock)  # the admin super passcode


def test_tuya_open_logs() -> None:
    (old,) = _events("tuya_open_logs_v1_0.json", "logs", alarm=False)
    assert (old.type, old.method) == (EventType.UNLOCKED, UnlockMethod.FINGERPRINT)
    assert old.time == datetime.fromtimestamp(1612098422, UTC)
    (new,) = _events("tuya_open_logs_v1_1.json", "logs", alarm=False)
    assert (new.type, new.method) == (EventType.UNLOCKED, UnlockMethod.REMOTE)
    assert new.time == datetime.fromtimestamp(1613978384, UTC)


def test_tuya_alarm_logs() -> None:
    (old,) = _events("tuya_alarm_logs_v1_0.json", "records", alarm=True)
    assert old.type is EventType.TAMPER
    assert old.time == datetime.fromtimestamp(1543297979, UTC)  # seconds
    (new,) = _events("tuya_alarm_logs_v1_1.json", "records", alarm=True)
    assert (new.type, new.success) == (EventType.WRONG_CODE, False)


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ({"category": "jtmspro", "product_name": "Wi-Fi lock"}, CodePhase.PENDING),
        ({"category": "ms", "sub": True, "product_name": "Zigbee"}, CodePhase.PENDING),
    ],
)
def test_tuya_temp_passwords(device: dict[str, Any], expected: CodePhase) -> None:
    (item,) = _json("tuya_temp_passwords.json")["result"]
    assert code_phase(item, device) is expected
    assert code_phase({**item, "phase": 2, "delivery_status": 3}, device) is (
        CodePhase.FAILED
    )


# --------------------------------------------------------------------------- #
# TTLock: public clients' fixtures, issue threads, documentation examples


def _ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


BARE = Lock(lock_id="0", name="x", capabilities=Capabilities())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # hass-ttlock tests/const.py: passage mode on, auto-lock 60 s
        (
            "ttlock_lock_detail_hass_ttlock.json",
            ("7252408", "Front Door", "SN9206_PV53", "6.0.6.210622", 90, 60, True),
        ),
        # hass-ttlock issue 42: a P2 lock, auto-lock 30 s, passage mode off
        (
            "ttlock_lock_detail_issue42_p2.json",
            (
                "6901284",
                "server lock",
                "SN275-5S-250MS-6V_PV53",
                "6.4.11.220206",
                80,
                30,
                False,
            ),
        ),
        (
            "ttlock_lock_detail_issue42_s31.json",
            ("6262870", "Front Door", "SN9206_PV53", "6.0.5.210605", 65, 60, False),
        ),
    ],
)
def test_ttlock_lock_details(name: str, expected: tuple[Any, ...]) -> None:
    """lock/detail answers: every field we read, the secrets never."""
    data = _json(name)
    lock = lock_with_details(BARE, data)
    listed = lock_from_dict(data)  # a list entry carries the same fields
    assert (
        listed.lock_id,
        lock.name,
        lock.model,
        lock.firmware,
        lock.battery,
        lock.auto_lock_seconds,
        lock.passage_mode,
    ) == expected
    assert lock.has_gateway is True
    # featureValue bits 8, 10 and 22 (cloud/lock/featureValue), with a gateway.
    caps = lock.capabilities
    assert (caps.remote_unlock, caps.remote_lock, caps.passage_mode, caps.codes) == (
        True,
        True,
        True,
        True,
    )
    assert lock.mac == data["lockMac"].upper()
    for secret in ("adminPwd", "lockKey", "aesKeyStr", "noKeyPwd"):
        assert data[secret] not in repr(lock)


@pytest.mark.parametrize(
    ("feature_value", "unlock", "lock", "passage", "wifi_reachable"),
    [
        # hass-ttlock tests/test_models.py TestFeatures: Wi-Fi lock (bit 56)
        ("10C2F44754CF5F7", True, True, True, True),
        ("F44354CD5F3", True, True, True, False),
    ],
)
def test_ttlock_feature_values(
    feature_value: str, unlock: bool, lock: bool, passage: bool, wifi_reachable: bool
) -> None:
    """Without a gateway only the Wi-Fi lock is reachable."""
    caps = capabilities_from_feature_value(feature_value, has_gateway=False)
    assert (caps.remote_unlock, caps.remote_lock, caps.passage_mode, caps.codes) == (
        unlock and wifi_reachable,
        lock and wifi_reachable,
        passage and wifi_reachable,
        wifi_reachable,
    )


def test_ttlock_lock_list() -> None:
    """hass-ttlock tests/test_api.py: a gateway lock and one reachable by nothing."""
    front, shed = (
        lock_from_dict(e) for e in _json("ttlock_lock_list_hass_ttlock.json")["list"]
    )
    assert (front.lock_id, front.name, front.has_gateway, front.mac) == (
        "1",
        "Front Door",
        True,
        "00:00:00:00:00:01",
    )

    def remote(caps: Capabilities) -> tuple[bool, ...]:
        return (caps.remote_unlock, caps.remote_lock, caps.passage_mode, caps.codes)

    # featureValue "0": no remote feature; codes through the gateway only.
    assert remote(front.capabilities) == (False, False, False, True)
    assert (shed.lock_id, shed.has_gateway) == ("2", False)
    assert remote(shed.capabilities) == (False, False, False, False)


def test_ttlock_card_callback() -> None:
    """hass-ttlock's logged callback: a card unlock, the card number not a PIN."""
    body = (PUBLIC / "ttlock_record_notify_card.form").read_bytes().strip()
    parsed = parse_callback(FORM, body, now=NOW)
    (event,) = parsed.events
    assert parsed.reply == "success"
    assert (event.lock_id, event.type, event.method, event.success) == (
        "7252408",
        EventType.UNLOCKED,
        UnlockMethod.CARD,
        True,
    )
    assert event.time == _ms(1680810186000)  # lockDate (the lock's clock)
    assert (event.user, event.code, event.battery) == ("Guest A", "<digits>", 93)
    assert event.event_id == "ttlock:7252408:1680810186000:7:1"


def test_ttlock_platform_test_callback() -> None:
    """hass-ttlock issue 128: the open platform's "test callback URL" body names
    lock 222 but its record lock 232332: the record's own lockId wins."""
    body = (PUBLIC / "ttlock_record_notify_platform_test.form").read_bytes().strip()
    parsed = parse_callback(FORM, body, now=NOW)
    (event,) = parsed.events
    assert parsed.lock_ref == "222"
    assert (event.lock_id, event.type, event.method, event.code) == (
        "232332",
        EventType.UNLOCKED,
        UnlockMethod.CODE,
        "123456",
    )
    assert event.time == _ms(1722198569590)


def test_ttlock_records() -> None:
    """hass-ttlock tests/const.py webhook records: lock key, card, door sensor."""
    events = [
        record_to_event(record, source="push")
        for record in _json("ttlock_records_hass_ttlock.json")
    ]
    assert [(e.type, e.method) for e in events if e is not None] == [
        (EventType.LOCKED, UnlockMethod.BUTTON),
        (EventType.UNLOCKED, UnlockMethod.CARD),
        (EventType.DOOR_OPENED, UnlockMethod.UNKNOWN),
        (EventType.DOOR_CLOSED, UnlockMethod.UNKNOWN),
    ]
    assert {e.time for e in events if e is not None} == {_ms(1682244497000)}
    assert {e.battery for e in events if e is not None} == {40}
    assert {e.user for e in events if e is not None} == {"test"}


def test_ttlock_door_sensor_records() -> None:
    """cloud/doorSensor/listRecord example: recordType 30, the door closed."""
    (record,) = _json("ttlock_door_sensor_records_doc.json")["list"]
    event = record_to_event({**record, "lockId": 163377}, source="poll")
    assert event is not None
    assert (event.type, event.time) == (EventType.DOOR_CLOSED, _ms(1616674054000))
    assert event.raw == {
        "recordType": 30,
        "recordTypeFromLock": 30,
        "success": 1,
        "lockDate": 1616674054000,
        "serverDate": 1616674056000,
    }


def test_ttlock_passcodes() -> None:
    """hass-ttlock tests/test_models.py: a permanent code (endDate 0) and a
    Friday cyclic code (type 12)."""
    permanent, friday = listed_passcodes(
        "4567", _json("ttlock_passcodes_hass_ttlock.json")["list"]
    )
    assert (permanent.code_id, permanent.name, permanent.kind, permanent.code) == (
        "311183184",
        "Person A",
        CodeKind.PERMANENT,
        "1234",
    )
    assert (permanent.start, permanent.end) == (_ms(1690408800000), None)
    assert (friday.code_id, friday.kind, friday.code) == (
        "398584274",
        CodeKind.CYCLIC,
        "123456",
    )
    assert (friday.start, friday.end) == (_ms(1704456000000), _ms(1704495600000))


@pytest.mark.parametrize(
    ("name", "state"),
    [
        ("ttlock_open_state_locked.json", LockState.LOCKED),
        ("ttlock_open_state_unlocked.json", LockState.UNLOCKED),
    ],
)
def test_ttlock_open_state(name: str, state: LockState) -> None:
    """hass-ttlock tests/const.py queryOpenState answers."""
    assert open_state_from_dict(_json(name)) is state


@pytest.mark.parametrize(
    ("name", "on"),
    [
        ("ttlock_passage_mode_config_on.json", True),
        ("ttlock_passage_mode_config_off.json", False),
    ],
)
def test_ttlock_passage_mode_config(name: str, on: bool) -> None:
    """hass-ttlock getPassageModeConfig answers (one with null dates)."""
    assert passage_mode_on(_json(name)) is on


# --------------------------------------------------------------------------- #
# Tuya: issue threads, public clients' fixtures, documentation examples


def test_tuya_device_list_homebridge() -> None:
    """tuya/tuya-homebridge issue 103: a BLE lock behind a BLE gateway (wg2)."""
    lock_entry, gateway_entry = _json("tuya_devices_homebridge_103.json")["devices"]
    assert gateway_entry["category"] not in LOCK_CATEGORIES  # listed, not a lock
    lock = lock_from_device(lock_entry, remote_unlock=False)
    assert (lock.lock_id, lock.name, lock.model, lock.battery, lock.online) == (
        "eb32319d64b51c0b11aaaa",
        "Airbnk-SmartLock-Ble",
        "Airbnk-SmartLock-Ble",
        100,
        True,
    )
    assert lock.has_gateway is True  # sub: true
    assert lock.state is LockState.UNLOCKED  # lock_motor_state true: motor open
    assert (lock.capabilities.code_min_length, lock.capabilities.code_max_length) == (
        6,
        6,
    )
    assert lock.capabilities.remote_lock is False  # ms: no door-operate lock


def test_tuya_device_jtmspro() -> None:
    """homebridge-tuya-platform issue 303: battery_state, motor state, jtmspro."""
    lock = lock_from_device(_json("tuya_device_dlock_x1.json"), remote_unlock=True)
    assert (lock.name, lock.model, lock.battery, lock.state) == (
        "Door Lock",
        "DLOCK",
        100,  # battery_state "high"
        LockState.LOCKED,
    )
    assert lock.capabilities.remote_lock is True
    assert lock.capabilities.passage_mode is False  # no normal_open_switch


def test_tuya_device_chinese_bluetooth_name() -> None:
    """homebridge-tuya issue 55: "蓝牙指纹密码门锁" (Bluetooth fingerprint lock)
    with no protocol field: a Bluetooth lock, so 6-digit codes (seed 001);
    before, the name was not understood and 7-digit codes were asked for."""
    device = _json("tuya_device_ysg_bs01.json")
    assert lock_protocol(device) == "ble"
    lock = lock_from_device(device, remote_unlock=False)
    assert (lock.capabilities.code_min_length, lock.capabilities.code_max_length) == (
        6,
        6,
    )
    assert (lock.battery, lock.state) == (99, LockState.LOCKED)


def test_tuya_status_dl026ha() -> None:
    """ha-tuya-lock-monitor's real DL026HA status codes."""
    status = status_map(_json("tuya_status_dl026ha.json"))
    assert battery_from_status(status) == 71
    assert state_from_status(status) is LockState.LOCKED


def test_tuya_remote_unlocks_doc() -> None:
    """doorlock-api-remoteopen sample: unlocking *with* a password is on; the
    password-free unlock we use is not."""
    result = _json("tuya_remote_unlocks_doc.json")["result"]
    assert remote_unlock_without_password(result) is False
    assert (
        remote_unlock_without_password(
            {**result, "remote_unlock_type": "remoteUnlockWithoutPwd"}
        )
        is True
    )


def test_tuya_log_raw_is_bounded() -> None:
    """seed 002 alarm-logs v1.1 carries media_infos (a list of objects) and a
    status list: the event keeps flat fields and this status item only."""
    (event,) = _events("tuya_alarm_logs_v1_1.json", "records", alarm=True)
    assert event.raw == {
        "update_time": 1613979671000,
        "nick_name": "",
        "status": {"code": "alarm_lock", "value": "wrong_password"},
    }


def test_every_sample_is_replayed() -> None:
    """Each file in tests/fixtures/public is named in its README and used here."""
    source = Path(__file__).read_text(encoding="utf-8")
    readme = (PUBLIC / "README.md").read_text(encoding="utf-8")
    samples = sorted(p.name for p in PUBLIC.iterdir() if p.name != "README.md")
    assert len(samples) >= 28
    for name in samples:
        assert f"`{name}`" in readme or name.split(".")[0] in readme, name
        assert name in source, name
