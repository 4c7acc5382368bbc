"""Tuya message-service consumer against the fake service over real websockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import hashlib

import aiohttp
import pytest

from custom_components.ttlock_gateway.providers.models import (
    EventType,
    LockState,
    NotSupportedError,
    PushBatch,
    UnlockMethod,
)
from custom_components.ttlock_gateway.providers.tuya import TuyaClient
from custom_components.ttlock_gateway.providers.tuya_push import (
    TuyaPushConsumer,
    push_endpoint,
)
from custom_components.ttlock_gateway.providers.tuya_push_codec import (
    consumer_url,
    push_password,
)
from tests.fakes.tuya_cloud import FakeTuyaCloud
from tests.fakes.tuya_pulsar import FakeTuyaPulsar
from tests.tuya_push_harness import Harness

LOCK = "vdevo0123456789abcd"


@pytest.fixture
async def pulsar(socket_enabled: object) -> AsyncIterator[FakeTuyaPulsar]:
    fake = FakeTuyaPulsar()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as sess:
        yield sess


@pytest.fixture
async def harness(
    pulsar: FakeTuyaPulsar, session: aiohttp.ClientSession
) -> AsyncIterator[Harness]:
    h = Harness(pulsar, session)
    yield h
    await h.consumer.async_stop()


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# ---------------------------------------------------------------- login


def test_password_and_url_are_the_sdks() -> None:
    """md5hex(id + md5hex(secret))[8:24]; the connector SDK's path and query."""
    access_id, secret = "abcdefghij0123456789", "0123456789abcdef0123456789abcdef"
    inner = hashlib.md5(secret.encode()).hexdigest()
    expected = hashlib.md5((access_id + inner).encode()).hexdigest()[8:24]
    assert push_password(access_id, secret) == expected
    assert consumer_url("wss://mqe.tuyaeu.com:8285/", access_id) == (
        "wss://mqe.tuyaeu.com:8285/ws/v2/consumer/persistent/abcdefghij0123456789"
        "/out/event/abcdefghij0123456789-sub"
        "?ackTimeoutMillis=3000&subscriptionType=Failover"
    )


def test_endpoints_only_where_documented(session: object) -> None:
    assert push_endpoint("eu") == "wss://mqe.tuyaeu.com:8285/"
    assert push_endpoint("cn") == "wss://mqe.tuyacn.com:8285/"
    assert push_endpoint("us_east") is None
    with pytest.raises(NotSupportedError):
        TuyaPushConsumer(
            session,  # type: ignore[arg-type]
            access_id="a",
            access_secret="0123456789abcdef0123456789abcdef",
            on_push=lambda batch: None,
            data_center="sg",
        )


async def test_connects_with_the_sdks_headers_and_query(harness: Harness) -> None:
    await harness.consumer.async_start()
    await harness.connected()
    (shake,) = harness.fake.handshakes
    assert shake["path"] == (
        f"/ws/v2/consumer/persistent/{harness.fake.access_id}/out/event/"
        f"{harness.fake.access_id}-sub"
    )
    assert shake["query"] == {
        "ackTimeoutMillis": "3000",
        "subscriptionType": "Failover",
    }
    assert shake["username"] == harness.fake.access_id
    health = harness.consumer.health
    assert health.connected
    assert health.down_since is None
    assert health.connected_since is not None
    assert health.auth_failed is False


# -------------------------------------------------------------- messages


@pytest.mark.parametrize("encryption", [None, "aes_ecb", "aes_gcm"])
async def test_unlock_report_decrypted_acked_and_mapped(
    harness: Harness, encryption: str | None
) -> None:
    harness.fake.encryption = encryption
    await harness.consumer.async_start()
    await harness.connected()
    t = _ms(datetime.now(UTC))
    message_id = harness.fake.publish_status(
        LOCK,
        [("unlock_fingerprint", 2), ("residual_electricity", 61)],
        t_ms=t,
    )
    await harness.until(lambda: message_id in harness.fake.acked)
    (event,) = harness.events
    assert event.event_id == f"tuya:{LOCK}:{t}:unlock_fingerprint:2"
    assert event.type is EventType.UNLOCKED
    assert event.method is UnlockMethod.FINGERPRINT
    assert event.battery == 61
    assert event.source == "push"
    assert event.time == datetime.fromtimestamp(t / 1000, UTC)
    (status,) = harness.statuses
    assert (status.lock_id, status.battery, status.state) == (LOCK, 61, None)
    assert harness.consumer.health.messages == 1
    assert harness.consumer.health.last_message is not None


async def test_iot_core_and_legacy_reports_give_the_same_event(
    harness: Harness,
) -> None:
    """A project with both message families configured gets each report twice."""
    await harness.consumer.async_start()
    await harness.connected()
    t = _ms(datetime.now(UTC))
    first = harness.fake.publish_status(LOCK, [("unlock_password", 7)], t_ms=t)
    second = harness.fake.publish_status(
        LOCK, [("unlock_password", 7)], t_ms=t, core=True
    )
    await harness.until(lambda: {first, second} <= set(harness.fake.acked))
    ids = {event.event_id for event in harness.events}
    assert ids == {f"tuya:{LOCK}:{t}:unlock_password:7"}


async def test_alarms_doorbell_and_states(harness: Harness) -> None:
    await harness.consumer.async_start()
    await harness.connected()
    t = _ms(datetime.now(UTC))
    last = harness.fake.publish_status(
        LOCK,
        [
            ("alarm_lock", "wrong_finger"),
            ("hijack", True),
            ("doorbell", True),
            ("closed_opened", "open"),
            ("lock_motor_state", False),
        ],
        t_ms=t,
    )
    await harness.until(lambda: last in harness.fake.acked)
    by_type = {event.type: event for event in harness.events}
    assert set(by_type) == {
        EventType.WRONG_CODE,
        EventType.TAMPER,
        EventType.DOORBELL,
        EventType.DOOR_OPENED,
        EventType.LOCKED,
    }
    assert by_type[EventType.WRONG_CODE].success is False
    assert by_type[EventType.WRONG_CODE].event_id == (
        f"tuya:{LOCK}:{t}:alarm_lock:wrong_finger"
    )
    (status,) = harness.statuses
    assert status.state is LockState.LOCKED


async def test_points_that_are_not_unlocks_announce_nothing(
    harness: Harness,
) -> None:
    """unlock_request is the lock asking to be opened: the door is not unlocked."""
    await harness.consumer.async_start()
    await harness.connected()
    done = harness.fake.publish_status(
        LOCK,
        [
            ("unlock_request", 30),
            ("unlock_method_create", "AQID"),
            ("hijack", False),
            ("doorbell", False),
            ("switch_1", True),
        ],
    )
    await harness.until(lambda: done in harness.fake.acked)
    assert harness.batches == []


async def test_unlocked_bolt_is_a_state_not_a_second_unlock(
    harness: Harness,
) -> None:
    await harness.consumer.async_start()
    await harness.connected()
    done = harness.fake.publish_status(
        LOCK, [("unlock_card", 3), ("lock_motor_state", True)]
    )
    await harness.until(lambda: done in harness.fake.acked)
    assert [e.type for e in harness.events] == [EventType.UNLOCKED]
    assert [s.state for s in harness.statuses] == [LockState.UNLOCKED]


@pytest.mark.parametrize("core", [False, True])
async def test_online_and_offline_messages(harness: Harness, core: bool) -> None:
    await harness.consumer.async_start()
    await harness.connected()
    t = _ms(datetime.now(UTC))
    harness.fake.publish_online(LOCK, False, t_ms=t, core=core)
    done = harness.fake.publish_online(LOCK, True, t_ms=t + 1000, core=core)
    await harness.until(lambda: done in harness.fake.acked)
    assert [(e.type, e.lock_id) for e in harness.events] == [
        (EventType.LOCK_OFFLINE, LOCK),
        (EventType.LOCK_ONLINE, LOCK),
    ]


async def test_lock_filter_drops_other_devices(
    pulsar: FakeTuyaPulsar, session: aiohttp.ClientSession
) -> None:
    harness = Harness(pulsar, session, lock_filter=lambda device: device == LOCK)
    try:
        await harness.consumer.async_start()
        await harness.connected()
        other = pulsar.publish_status("bulb01", [("unlock_app", 1)])
        mine = pulsar.publish_status(LOCK, [("unlock_app", 1)])
        await harness.until(lambda: {other, mine} <= set(pulsar.acked))
        assert {e.lock_id for e in harness.events} == {LOCK}
    finally:
        await harness.consumer.async_stop()


# ------------------------------------------------------ push == poll


async def test_push_and_poll_give_one_event_id_per_record(
    harness: Harness, tuya_cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    """The same record by push and by the open/alarm-log poll: same event_id."""
    device = tuya_cloud.add_device(name="Front door")
    t_unlock = _ms(datetime.now(UTC) - timedelta(minutes=3))
    t_alarm = t_unlock + 60_000
    t_code = t_unlock + 90_000
    # The logs spell values as text (seed 002: "value": "123456").
    tuya_cloud.add_open_log(device, "unlock_fingerprint", "2", t_ms=t_unlock)
    tuya_cloud.add_open_log(device, "unlock_temporary", "1001", t_ms=t_code)
    tuya_cloud.add_alarm_log(device, "wrong_password", t_ms=t_alarm)
    client = TuyaClient(
        session,
        access_id=tuya_cloud.ACCESS_ID,
        access_secret=tuya_cloud.ACCESS_SECRET,
        base_url=tuya_cloud.base_url,
    )
    polled = await client.async_get_events(
        device, datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC)
    )

    await harness.consumer.async_start()
    await harness.connected()
    harness.fake.publish_status(device, [("unlock_fingerprint", 2)], t_ms=t_unlock)
    harness.fake.publish_status(device, [("unlock_temporary", 1001)], t_ms=t_code)
    done = harness.fake.publish_status(
        device, [("alarm_lock", "wrong_password")], t_ms=t_alarm, core=True
    )
    await harness.until(lambda: done in harness.fake.acked)

    def key(events: list) -> list[tuple[str, EventType, UnlockMethod, str | None]]:
        return sorted((e.event_id, e.type, e.method, e.code_id) for e in events)

    assert len(polled) == 3
    assert key(harness.events) == key(polled)


# ------------------------------------------------- delivery guarantees


async def test_lost_ack_redelivered_after_ack_timeout_is_not_repeated(
    harness: Harness,
) -> None:
    await harness.consumer.async_start()
    await harness.connected()
    harness.fake.lose_acks = 1
    message_id = harness.fake.publish_status(LOCK, [("unlock_key", 1)])
    await harness.until(lambda: message_id in harness.fake.lost_acks)
    assert harness.fake.expire_ack_timeout() == 1
    await harness.until(lambda: message_id in harness.fake.acked)
    assert harness.fake.sent == [(message_id, 0), (message_id, 1)]
    assert len(harness.events) == 1


async def test_replayed_data_id_under_a_new_message_id_is_dropped(
    harness: Harness,
) -> None:
    await harness.consumer.async_start()
    await harness.connected()
    t = _ms(datetime.now(UTC))
    first = harness.fake.publish_status(LOCK, [("unlock_app", 0)], t_ms=t, data_id="D1")
    again = harness.fake.publish_status(LOCK, [("unlock_app", 0)], t_ms=t, data_id="D1")
    await harness.until(lambda: {first, again} <= set(harness.fake.acked))
    assert len(harness.batches) == 1


async def test_out_of_order_state_does_not_regress(harness: Harness) -> None:
    await harness.consumer.async_start()
    await harness.connected()
    now = _ms(datetime.now(UTC))
    harness.fake.publish_status(
        LOCK, [("residual_electricity", 60), ("lock_motor_state", False)], t_ms=now
    )
    late = harness.fake.publish_status(
        LOCK,
        [("residual_electricity", 80), ("lock_motor_state", True), ("unlock_app", 1)],
        t_ms=now - 5000,
    )
    await harness.until(lambda: late in harness.fake.acked)
    assert [(s.battery, s.state) for s in harness.statuses] == [
        (60, None),
        (None, LockState.LOCKED),
    ]
    # The older unlock is still history worth announcing.
    assert EventType.UNLOCKED in {e.type for e in harness.events}


async def test_reconnects_after_a_drop_without_losing_messages(
    harness: Harness,
) -> None:
    await harness.consumer.async_start()
    await harness.connected()
    before = harness.fake.publish_status(LOCK, [("unlock_card", 1)])
    await harness.until(lambda: before in harness.fake.acked)
    # The next message is delivered but its ack never arrives: the drop
    # returns it to the subscription.
    harness.fake.lose_acks = 1
    unacked = harness.fake.publish_status(LOCK, [("unlock_card", 2)])
    await harness.until(lambda: unacked in harness.fake.lost_acks)
    await harness.fake.drop()
    await harness.until(lambda: harness.clock.sleeping == 1)
    health = harness.consumer.health
    assert not health.connected
    assert health.down_since is not None
    assert health.last_error == "dropped"
    while_down = harness.fake.publish_status(LOCK, [("unlock_card", 3)])
    # First retry of a connection that delivered: initial delay (1 s).
    assert harness.clock.delays == [pytest.approx(1.0)]
    harness.clock.release()
    await harness.connected(2)
    await harness.until(lambda: {unacked, while_down} <= set(harness.fake.acked))
    values = [e.raw["status"]["value"] for e in harness.events]
    assert values == ["1", "2", "3"]
    health = harness.consumer.health
    assert health.connected
    assert health.reconnects == 1
    assert health.down_since is None


async def test_abrupt_drop_is_noticed_and_reconnected(harness: Harness) -> None:
    await harness.consumer.async_start()
    await harness.connected()
    await harness.fake.drop(abrupt=True)
    await harness.until(lambda: harness.clock.sleeping == 1)
    harness.clock.release()
    await harness.connected(2)
    done = harness.fake.publish_status(LOCK, [("unlock_face", 4)])
    await harness.until(lambda: done in harness.fake.acked)
    assert len(harness.events) == 1


async def test_refused_login_is_reported_and_retried_slowly(
    harness: Harness,
) -> None:
    harness.fake.refuse_login()
    await harness.consumer.async_start()
    await harness.until(lambda: harness.clock.sleeping == 1)
    health = harness.consumer.health
    assert health.auth_failed
    assert health.last_error == "auth_failed"
    assert not health.connected
    assert health.down_since is not None
    assert harness.clock.delays == [pytest.approx(900.0)]
    assert harness.fake.active == 0
    harness.fake.refuse_login(False)
    harness.clock.release()
    await harness.connected()
    assert harness.consumer.health.auth_failed is False


async def test_wrong_secret_is_refused_at_the_upgrade(
    pulsar: FakeTuyaPulsar, session: aiohttp.ClientSession
) -> None:
    harness = Harness(pulsar, session, access_secret="ffffffffffffffffffffffffffffffff")
    try:
        await harness.consumer.async_start()
        await harness.until(lambda: harness.clock.sleeping == 1)
        assert harness.consumer.health.auth_failed
        assert pulsar.connections == 0
    finally:
        await harness.consumer.async_stop()


async def test_backoff_grows_with_jitter_and_caps(
    pulsar: FakeTuyaPulsar, session: aiohttp.ClientSession
) -> None:
    harness = Harness(pulsar, session, jitter=0.0, backoff_max=8.0)
    pulsar.refuse_with(503)
    try:
        await harness.consumer.async_start()
        for attempt in range(1, 7):
            await harness.until(
                lambda n=attempt: len(harness.clock.delays) == n  # type: ignore[misc]
            )
            harness.clock.release()
        # Jitter 0 is the low end of [50 %, 100 %] of 1, 2, 4, 8, 8, 8 s.
        assert harness.clock.delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
        assert harness.consumer.health.last_error == "refused"
        assert pulsar.max_concurrent == 0
    finally:
        await harness.consumer.async_stop()


# ----------------------------------------------------- lifecycle


async def test_one_connection_however_often_started(harness: Harness) -> None:
    await asyncio.gather(*(harness.consumer.async_start() for _ in range(5)))
    await harness.consumer.async_start()
    await harness.connected()
    done = harness.fake.publish_status(LOCK, [("unlock_app", 1)])
    await harness.until(lambda: done in harness.fake.acked)
    assert harness.fake.connections == 1
    assert harness.fake.max_concurrent == 1


async def test_stop_closes_the_socket_and_start_reopens(harness: Harness) -> None:
    await harness.consumer.async_start()
    await harness.connected()
    await harness.consumer.async_stop()
    await harness.until(lambda: harness.fake.active == 0)
    assert not harness.consumer.running
    assert not harness.consumer.health.connected
    assert harness.consumer.health.last_error == "stopped"
    await harness.consumer.async_stop()  # twice is fine
    published = harness.fake.publish_status(LOCK, [("unlock_app", 1)])
    await harness.consumer.async_start()
    await harness.connected(2)
    await harness.until(lambda: published in harness.fake.acked)
    assert harness.fake.max_concurrent == 1
    assert len(harness.events) == 1


async def test_stop_while_waiting_to_reconnect(harness: Harness) -> None:
    harness.fake.refuse_with(500)
    await harness.consumer.async_start()
    await harness.until(lambda: harness.clock.sleeping == 1)
    await harness.consumer.async_stop()
    assert not harness.consumer.running
    assert harness.fake.max_concurrent == 0


async def test_keepalive_pings(
    pulsar: FakeTuyaPulsar, session: aiohttp.ClientSession
) -> None:
    harness = Harness(pulsar, session, heartbeat=0.05)
    try:
        await harness.consumer.async_start()
        await harness.connected()
        async with asyncio.timeout(20):
            await pulsar.ping_seen.wait()
        # (Connected or not by now: with a 50 ms heartbeat a loaded machine
        # may miss the 25 ms pong deadline and reconnect, which is fine.)
        assert pulsar.pings >= 1
    finally:
        await harness.consumer.async_stop()


async def test_listener_failure_does_not_stop_the_consumer(
    pulsar: FakeTuyaPulsar, session: aiohttp.ClientSession
) -> None:
    calls: list[PushBatch] = []

    def broken(batch: PushBatch) -> None:
        calls.append(batch)
        raise RuntimeError("listener bug")

    harness = Harness(pulsar, session, on_push=broken)
    try:
        await harness.consumer.async_start()
        await harness.connected()
        first = pulsar.publish_status(LOCK, [("unlock_app", 1)])
        second = pulsar.publish_status(LOCK, [("unlock_app", 2)])
        await harness.until(lambda: {first, second} <= set(pulsar.acked))
        assert len(calls) == 2
        assert harness.consumer.health.connected
    finally:
        await harness.consumer.async_stop()


async def test_clock_far_ahead_in_a_report_is_taken_as_received(
    harness: Harness,
) -> None:
    """A year-2150 stamp must not make every later state look older."""
    await harness.consumer.async_start()
    await harness.connected()
    harness.fixed_now = datetime.now(UTC).replace(microsecond=0)
    future = _ms(datetime(2150, 1, 1, tzinfo=UTC))
    done = harness.fake.publish_status(
        LOCK, [("unlock_app", 1), ("residual_electricity", 50)], t_ms=future
    )
    await harness.until(lambda: done in harness.fake.acked)
    (event,) = harness.events
    assert event.time == harness.fixed_now
    (status,) = harness.statuses
    assert status.time == harness.fixed_now


async def test_busy_subscription_backs_off(
    pulsar: FakeTuyaPulsar, session: aiohttp.ClientSession
) -> None:
    harness = Harness(pulsar, session)
    try:
        pulsar.refuse_with(409)
        await harness.consumer.async_start()
        await harness.until(lambda: harness.clock.sleeping == 1)
        assert harness.consumer.health.last_error == "busy"
        pulsar.refuse_with(None)
        harness.clock.release()
        await harness.connected()
        assert pulsar.max_concurrent == 1
    finally:
        await harness.consumer.async_stop()


async def test_handshake_that_never_answers_times_out_and_retries(
    pulsar: FakeTuyaPulsar, session: aiohttp.ClientSession
) -> None:
    harness = Harness(pulsar, session, connect_timeout=0.3)
    try:
        pulsar.hang_handshakes()
        await harness.consumer.async_start()
        await harness.until(lambda: harness.clock.sleeping == 1)
        assert harness.consumer.health.last_error == "unreachable"
        # The retry must not race a short timeout on a loaded machine.
        harness.consumer._connect_timeout = 30.0
        pulsar.hang_handshakes(False)
        harness.clock.release()
        await harness.connected()
        assert pulsar.max_concurrent == 1
    finally:
        await harness.consumer.async_stop()


async def test_login_refused_after_a_drop_as_a_rotated_secret(
    harness: Harness,
) -> None:
    """Connected, then the secret is changed in the console: a repair, not a loop."""
    await harness.consumer.async_start()
    await harness.connected()
    harness.fake.refuse_login()
    await harness.fake.drop()
    await harness.until(lambda: harness.clock.sleeping == 1)
    harness.clock.release()
    await harness.until(lambda: harness.clock.sleeping == 1)
    health = harness.consumer.health
    assert health.auth_failed
    assert health.down_since is not None
    assert harness.clock.delays[-1] == pytest.approx(900.0)
    # down_since stays at the drop, not at the later refusal.
    assert health.down_since == harness.healths[-2].down_since


async def test_stop_during_a_handshake_that_never_answers(
    pulsar: FakeTuyaPulsar, session: aiohttp.ClientSession
) -> None:
    harness = Harness(pulsar, session)
    pulsar.hang_handshakes()
    await harness.consumer.async_start()
    await harness.until(lambda: len(pulsar.handshakes) == 1)
    await harness.consumer.async_stop()
    assert not harness.consumer.running
    assert pulsar.connections == 0
    assert harness.clock.delays == []
    assert harness.consumer.health.last_error == "stopped"
