"""Odd and hostile input to the Tuya push consumer: never a raise, never a regression."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import json
from typing import Any

import aiohttp
import pytest

from custom_components.ttlock_gateway.providers.bounds import InvalidAnswerError
from custom_components.ttlock_gateway.providers.models import (
    EventType,
    LockState,
    LockStatus,
)
from custom_components.ttlock_gateway.providers.tuya_push_codec import (
    data_key,
    decrypt_data,
    message_id_of,
    parse_envelope,
    parse_frame,
)
from custom_components.ttlock_gateway.providers.tuya_push_mapping import (
    MAX_POINTS,
    DeviceMessage,
    RecentIds,
    StatusOrder,
    parse_business,
    to_batch,
)
from tests.fakes.tuya_pulsar import FakeTuyaPulsar, seal_ecb, seal_gcm
from tests.tuya_push_harness import Harness

LOCK = "vdevo0123456789abcd"
SECRET = FakeTuyaPulsar.ACCESS_SECRET
NOW_MS = 1_760_000_000_000


@pytest.fixture
async def pulsar(socket_enabled: object) -> AsyncIterator[FakeTuyaPulsar]:
    fake = FakeTuyaPulsar()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def harness(pulsar: FakeTuyaPulsar) -> AsyncIterator[Harness]:
    async with aiohttp.ClientSession() as session:
        h = Harness(pulsar, session)
        yield h
        await h.consumer.async_stop()


def _b64(raw: bytes | str) -> str:
    return base64.b64encode(raw if isinstance(raw, bytes) else raw.encode()).decode()


def _frame(message_id: str, payload: Any, properties: Any = None) -> str:
    return json.dumps(
        {
            "messageId": message_id,
            "payload": payload,
            "properties": properties if properties is not None else {},
            "publishTime": "2026-01-01T00:00:00Z",
            "redeliveryCount": 0,
        }
    )


def _payload(data: str, protocol: Any = 4) -> str:
    return _b64(json.dumps({"data": data, "protocol": protocol, "pv": "2.0", "t": 1}))


def _sealed(obj: Any, secret: str = SECRET) -> str:
    return seal_ecb(secret, json.dumps(obj).encode())


def _status(*points: dict[str, Any]) -> dict[str, Any]:
    return {"devId": LOCK, "dataId": "x", "status": list(points)}


# Frames the consumer must acknowledge (their id is readable) and not use.
_TAMPERED = base64.b64decode(seal_gcm(SECRET, b'{"devId":"x","status":[]}'))
BAD_WITH_ID: dict[str, str] = {
    "payload not base64": _frame("m1", "%%%"),
    "payload not JSON": _frame("m2", _b64("not json")),
    "payload an array": _frame("m3", _b64("[1, 2]")),
    "no protocol": _frame("m4", _b64(json.dumps({"data": "abc"}))),
    "data not base64": _frame("m5", _payload("***")),
    "data of another secret": _frame("m6", _payload(_sealed(_status(), "f" * 32))),
    "gcm tag tampered": _frame(
        "m7",
        _payload(_b64(_TAMPERED[:-1] + bytes([_TAMPERED[-1] ^ 1]))),
        {"em": "aes_gcm"},
    ),
    "gcm too short": _frame("m8", _payload(_b64(b"short")), {"em": "aes_gcm"}),
    "decrypts to non-JSON": _frame(
        "m9", _payload(seal_ecb(SECRET, b"\xff\xfe not json"))
    ),
    "data an array": _frame("m10", _payload(_sealed([1, 2]))),
    "status not a list": _frame(
        "m11", _payload(_sealed({"devId": LOCK, "status": "open"}))
    ),
    "too many points": _frame(
        "m12",
        _payload(
            _sealed(_status(*({"code": "unlock_app", "value": i} for i in range(65))))
        ),
    ),
    "no devId": _frame("m13", _payload(_sealed({"status": []}))),
    "devId with a newline": _frame(
        "m14", _payload(_sealed({"devId": "a\nb", "status": []}))
    ),
    "bizCode missing": _frame("m15", _payload(_sealed({"bizData": {}}), 1000)),
    "oversized frame": _frame("m16", _b64("x" * 70_000)),
}
BAD_WITHOUT_ID = [
    "not json at all",
    "[]",
    json.dumps({"payload": "e30="}),
    json.dumps({"messageId": "bad\u0000id", "payload": "e30="}),
    json.dumps({"messageId": 12, "payload": "e30="}),
]


async def test_garbage_is_acked_counted_and_survived(harness: Harness) -> None:
    await harness.consumer.async_start()
    await harness.connected()
    for text in BAD_WITHOUT_ID:
        harness.fake.send_raw(text)
    for name, text in BAD_WITH_ID.items():
        harness.fake.send_raw(text, tracked_id=json.loads(text)["messageId"])
        assert name
    good = harness.fake.publish_status(LOCK, [("unlock_app", 1)])
    await harness.until(lambda: good in harness.fake.acked)
    assert set(harness.fake.acked) == {
        *(json.loads(t)["messageId"] for t in BAD_WITH_ID.values()),
        good,
    }
    assert [e.type for e in harness.events] == [EventType.UNLOCKED]
    health = harness.consumer.health
    assert health.rejected == len(BAD_WITH_ID) + len(BAD_WITHOUT_ID)
    assert health.connected
    assert harness.fake.connections == 1


async def test_messages_not_about_locks_are_acked_quietly(harness: Harness) -> None:
    await harness.consumer.async_start()
    await harness.connected()
    ids = [
        harness.fake.publish(25, {"bizCode": "sceneExecute", "bizData": {}}),
        harness.fake.publish(20, {"devId": LOCK, "bizCode": "nameUpdate"}),
        harness.fake.publish(1000, {"bizCode": "deviceEventMessage", "bizData": {}}),
        harness.fake.publish(1001, {"bizCode": "deviceNameUpdate", "bizData": {}}),
    ]
    await harness.until(lambda: set(ids) <= set(harness.fake.acked))
    assert harness.batches == []
    assert harness.consumer.health.rejected == 0


async def test_binary_frame_is_counted_and_ignored(harness: Harness) -> None:
    await harness.consumer.async_start()
    await harness.connected()
    (consumer,) = harness.fake._consumers
    await consumer.ws.send_bytes(b"\x00\x01")
    good = harness.fake.publish_status(LOCK, [("unlock_app", 1)])
    await harness.until(lambda: good in harness.fake.acked)
    assert harness.consumer.health.rejected == 1


# ------------------------------------------------------------ codec, pure


def test_message_id_is_read_for_ack_only_when_sane() -> None:
    assert message_id_of(_frame("CAAQAw==", "e30=")) == "CAAQAw=="
    assert message_id_of("x" * (2 * 1024 * 1024)) is None
    assert message_id_of(json.dumps({"messageId": "a" * 300})) is None


def test_frame_fields_bounded() -> None:
    frame = parse_frame(
        json.dumps(
            {
                "messageId": "id",
                "payload": "e30=",
                "properties": {"em": "x" * 40},
                "redeliveryCount": True,
            }
        )
    )
    assert frame.encryption is None
    assert frame.redelivery_count == 0
    with pytest.raises(InvalidAnswerError):
        parse_frame(json.dumps({"messageId": "id", "payload": ""}))


def test_envelope_protocol_as_text_and_odd_time() -> None:
    env = parse_envelope(
        json.dumps({"data": "abc", "protocol": "4", "t": "soon"}).encode()
    )
    assert (env.protocol, env.time_ms) == (4, None)
    for protocol in (True, -1, 10**9, "4a", None):
        with pytest.raises(InvalidAnswerError):
            parse_envelope(json.dumps({"data": "abc", "protocol": protocol}).encode())


def test_short_secret_cannot_key_the_data() -> None:
    with pytest.raises(InvalidAnswerError):
        data_key("short")


def test_ecb_with_bad_padding_is_invalid() -> None:
    blob = _b64(bytes(16))
    with pytest.raises(InvalidAnswerError):
        decrypt_data(blob, data_key(SECRET), None)


# ---------------------------------------------------------- mapping, pure


def _batch(points: list[dict[str, Any]], **message: Any) -> Any:
    parsed = parse_business(4, {"devId": LOCK, "status": points, **message})
    assert parsed is not None
    return to_batch(parsed, received_ms=NOW_MS)


@pytest.mark.parametrize(
    "value",
    [float("nan"), 10**30, {"a": 1}, [1], None, "x" * 300, "bad\u0007"],
)
def test_unusable_values_are_skipped(value: Any) -> None:
    batch = _batch([{"code": "unlock_app", "value": value, "t": NOW_MS}])
    assert batch.events == ()


@pytest.mark.parametrize("code", ["Unlock_app", "unlock app", "", 7, "a" * 80])
def test_odd_codes_are_skipped(code: Any) -> None:
    assert _batch([{"code": code, "value": 1, "t": NOW_MS}]).events == ()


@pytest.mark.parametrize(
    ("raw", "battery"),
    [(150, None), (-1, None), ("55", 55), (55.0, 55), (55.5, None), ("abc", None)],
)
def test_battery_percent_bounded(raw: Any, battery: int | None) -> None:
    batch = _batch([{"code": "residual_electricity", "value": raw, "t": NOW_MS}])
    assert [s.battery for s in batch.statuses] == ([battery] if battery else [])


def test_battery_state_words() -> None:
    batch = _batch([{"code": "battery_state", "value": "low", "t": NOW_MS}])
    assert [s.battery for s in batch.statuses] == [10]


@pytest.mark.parametrize(
    ("t", "expected_ms"),
    [
        (1_700_000_000, 1_700_000_000_000),  # seconds
        (0, NOW_MS),
        (-5, NOW_MS),
        ("later", NOW_MS),
        (40_000 * 365 * 86_400_000, NOW_MS),  # year 40,000
        (NOW_MS + 5 * 60_000, NOW_MS + 5 * 60_000),  # a little ahead: believed
    ],
)
def test_report_times(t: Any, expected_ms: int) -> None:
    (event,) = _batch([{"code": "unlock_app", "value": 1, "t": t}]).events
    assert event.time == datetime.fromtimestamp(expected_ms / 1000, UTC)
    assert event.event_id == f"tuya:{LOCK}:{expected_ms}:unlock_app:1"


def test_whole_float_value_spelled_like_the_log() -> None:
    (event,) = _batch([{"code": "unlock_password", "value": 3.0, "t": NOW_MS}]).events
    assert event.event_id.endswith(":unlock_password:3")


def test_door_values() -> None:
    batch = _batch(
        [
            {"code": "closed_opened", "value": "closed", "t": NOW_MS},
            {"code": "open_close", "value": "ajar", "t": NOW_MS},
        ]
    )
    assert [e.type for e in batch.events] == [EventType.DOOR_CLOSED]
    assert batch.statuses == ()


def test_empty_status_list_is_nothing() -> None:
    assert _batch([]).events == ()
    assert MAX_POINTS == 64


def test_online_message_without_device_is_invalid() -> None:
    with pytest.raises(InvalidAnswerError):
        parse_business(20, {"bizCode": "online", "bizData": {}})
    with pytest.raises(InvalidAnswerError):
        parse_business(1001, {"bizCode": "deviceOffline", "bizData": {"devId": ""}})


def test_online_without_time_is_stamped_on_receipt() -> None:
    batch = to_batch(
        DeviceMessage(device_id=LOCK, online=True, biz_code="online"),
        received_ms=NOW_MS,
    )
    (event,) = batch.events
    assert event.time == datetime.fromtimestamp(NOW_MS / 1000, UTC)


def test_recent_ids_forget_the_oldest() -> None:
    recent = RecentIds(size=2)
    assert not recent.seen("a")
    assert not recent.seen("b")
    assert recent.seen("a")
    assert not recent.seen("c")  # evicts b (a was used last)
    assert not recent.seen("b")
    assert len(recent) == 2


def test_status_order_window_and_clock_jumps() -> None:
    order = StatusOrder()
    t0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
    locked = LockStatus(lock_id=LOCK, time=t0, state=LockState.LOCKED, battery=60)
    assert order.admit(locked) == locked
    # Redelivered a few seconds older: dropped, field by field.
    late = LockStatus(
        lock_id=LOCK, time=t0 - timedelta(seconds=5), state=LockState.UNLOCKED
    )
    assert order.admit(late) is None
    # Another lock is not affected.
    other = LockStatus(lock_id="other", time=t0 - timedelta(hours=1), battery=5)
    assert order.admit(other) == other
    # A clock that jumped back by hours is believed (else the state freezes).
    jumped = LockStatus(
        lock_id=LOCK, time=t0 - timedelta(hours=3), state=LockState.UNLOCKED
    )
    assert order.admit(jumped) == jumped
    # ... and becomes the new reference.
    after = LockStatus(
        lock_id=LOCK, time=t0 - timedelta(hours=3, seconds=1), battery=59
    )
    assert order.admit(after) == after
    newer_battery_only = LockStatus(
        lock_id=LOCK,
        time=t0 - timedelta(hours=3, seconds=2),
        battery=58,
        state=LockState.LOCKED,
    )
    assert order.admit(newer_battery_only) is None
