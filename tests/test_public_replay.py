"""Public sample payloads (tests/fixtures/public, see its README) through the parsers."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.ttlock_gateway.providers.callbacks import parse_callback
from custom_components.ttlock_gateway.providers.models import (
    CodePhase,
    EventType,
    UnlockMethod,
)
from custom_components.ttlock_gateway.providers.ttlock import (
    gateway_from_dict,
    lock_from_dict,
    shared_admin_key,
)
from custom_components.ttlock_gateway.providers.tuya_mapping import (
    code_phase,
    log_event,
    status_items,
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
