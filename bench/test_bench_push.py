"""Tuya push figures: the fake message service → the consumer → Home Assistant.

Run with the rest through ``scripts/bench`` (or ``-k push``). The consumer runs
with its production settings (real sleep, real jitter, 30 s keep-alive); the
fake service is on 127.0.0.1. The first two tests measure the provider's share
(``LockEvent`` out of the consumer's callback); the last two the whole way to
``ttlock_gateway_event`` on Home Assistant's bus (coordinator, entities, bus),
which is what the targets are about.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import time

import aiohttp
from homeassistant.core import Event, HomeAssistant, callback
import pytest

from bench.conftest import TimedTuyaCloud
from bench.test_bench import pct, row, write
from custom_components.ttlock_gateway import push as push_module
from custom_components.ttlock_gateway.const import CONF_PUSH_URL, EVENT_LOCK
from custom_components.ttlock_gateway.providers.models import PushBatch
from custom_components.ttlock_gateway.providers.tuya_push import TuyaPushConsumer
from tests.common import setup_entry, tuya_data
from tests.fakes.tuya_pulsar import FakeTuyaPulsar
from tests.tuya_push_harness import signalling_consumer, until

LOCKS = [f"vdevo{i:015d}" for i in range(10)]
LATENCY_SAMPLES = 500
RATE_MESSAGES = 5000
RECONNECT_MESSAGES = 300


class Recorder:
    """Counts events and remembers when each event id first arrived."""

    def __init__(self, fake: FakeTuyaPulsar) -> None:
        self.fake = fake
        self.first_seen: dict[str, float] = {}
        self.events = 0

    def __call__(self, batch: PushBatch) -> None:
        now = time.perf_counter()
        for event in batch.events:
            self.events += 1
            self.first_seen.setdefault(event.event_id, now)
        self.fake.changed.set()


@pytest.fixture
async def pulsar(socket_enabled: object) -> AsyncIterator[FakeTuyaPulsar]:
    fake = FakeTuyaPulsar(encryption="aes_gcm")
    await fake.start()
    yield fake
    await fake.stop()


async def _consumer(
    fake: FakeTuyaPulsar, session: aiohttp.ClientSession, recorder: Recorder
) -> TuyaPushConsumer:
    consumer = TuyaPushConsumer(
        session,
        access_id=fake.access_id,
        access_secret=fake.access_secret,
        endpoint=fake.endpoint,
        on_push=recorder,
        on_health=lambda _health: fake.changed.set(),
    )
    await consumer.async_start()
    await until(fake, lambda: consumer.health.connected)
    return consumer


async def test_push_latency_and_rate(pulsar: FakeTuyaPulsar) -> None:
    recorder = Recorder(pulsar)
    async with aiohttp.ClientSession() as session:
        consumer = await _consumer(pulsar, session, recorder)
        try:
            latencies: list[float] = []
            base = int(time.time() * 1000) - 3_600_000
            for i in range(LATENCY_SAMPLES):
                lock = LOCKS[i % len(LOCKS)]
                event_id = f"tuya:{lock}:{base + i}:unlock_fingerprint:{i}"
                sent = time.perf_counter()
                pulsar.publish_status(lock, [("unlock_fingerprint", i)], t_ms=base + i)
                await until(pulsar, lambda e=event_id: e in recorder.first_seen)
                latencies.append((recorder.first_seen[event_id] - sent) * 1000)

            start = time.perf_counter()
            first = recorder.events
            for i in range(RATE_MESSAGES):
                lock = LOCKS[i % len(LOCKS)]
                pulsar.publish_status(
                    lock,
                    [("unlock_password", i), ("residual_electricity", 80)],
                    t_ms=base + 100_000 + i,
                )
            await until(pulsar, lambda: recorder.events - first >= RATE_MESSAGES)
            elapsed = time.perf_counter() - start
            await until(pulsar, lambda: pulsar.unacked == 0)
        finally:
            await consumer.async_stop()
    rate = RATE_MESSAGES / elapsed
    assert len(latencies) == LATENCY_SAMPLES
    write(
        "push",
        [
            row(
                "push",
                "tuya",
                "push: fake sends → LockEvent out of the consumer, p50",
                pct(latencies, 0.5),
                "ms",
            ),
            row(
                "push",
                "tuya",
                "push: fake sends → LockEvent out of the consumer, p95",
                pct(latencies, 0.95),
                "ms",
                note="provider share; the target is end to end (below)",
            ),
            row(
                "push",
                "tuya",
                f"push: sustained rate, {RATE_MESSAGES} messages, 10 locks",
                rate,
                "msg/s",
                note="provider share",
            ),
        ],
    )


async def test_push_reconnect_after_drop(pulsar: FakeTuyaPulsar) -> None:
    """Drop with messages in flight: events flow again, none lost, none twice."""
    recorder = Recorder(pulsar)
    base = int(time.time() * 1000) - 7_200_000
    expected: set[str] = set()

    def publish(i: int) -> None:
        lock = LOCKS[i % len(LOCKS)]
        expected.add(f"tuya:{lock}:{base + i}:unlock_card:{i}")
        pulsar.publish_status(lock, [("unlock_card", i)], t_ms=base + i)

    async with aiohttp.ClientSession() as session:
        consumer = await _consumer(pulsar, session, recorder)
        try:
            for i in range(100):
                publish(i)
            await until(pulsar, lambda: len(recorder.first_seen) >= 100)
            # Acks of the next deliveries never arrive: the drop must return
            # those messages to the subscription.
            pulsar.lose_acks = 25
            for i in range(100, RECONNECT_MESSAGES):
                publish(i)
            await until(pulsar, lambda: pulsar.lose_acks == 0)
            dropped = time.perf_counter()
            await pulsar.drop(abrupt=True)
            await until(pulsar, lambda: not consumer.health.connected)
            seen_at_drop = len(recorder.first_seen)
            for i in range(RECONNECT_MESSAGES, RECONNECT_MESSAGES + 100):
                publish(i)
            await until(pulsar, lambda: len(recorder.first_seen) > seen_at_drop)
            flowing_again = time.perf_counter() - dropped
            await until(pulsar, lambda: expected <= set(recorder.first_seen))
            await until(pulsar, lambda: pulsar.unacked == 0 and pulsar.backlog == 0)
        finally:
            await consumer.async_stop()
    redelivered = sum(1 for _, count in pulsar.sent if count > 0)
    assert set(recorder.first_seen) == expected
    assert recorder.events == len(expected)
    write(
        "push_reconnect",
        [
            row(
                "push",
                "tuya",
                "push: drop → events flowing again (real backoff, jitter)",
                flowing_again,
                "s",
                note="provider share",
            ),
            row(
                "push",
                "tuya",
                "push: messages redelivered after the drop / lost / twice",
                redelivered,
                "msgs",
                note=f"lost {len(expected - set(recorder.first_seen))}, "
                f"twice {recorder.events - len(expected)}",
            ),
        ],
    )


# ------------------------------------------------- end to end, through HA


def _value(event: Event) -> int:
    """The unique value each test message carries (``raw.status.value``)."""
    return int(event.data["raw"]["status"]["value"])


async def _ha_entry(
    hass: HomeAssistant, tuya_cloud: TimedTuyaCloud, fake: FakeTuyaPulsar
) -> list[str]:
    """A Tuya entry of 10 locks on the fake message service, connected."""
    locks = [tuya_cloud.add_device(name=f"Lock {i}") for i in range(len(LOCKS))]
    entry = await setup_entry(
        hass, {**tuya_data(tuya_cloud), CONF_PUSH_URL: fake.endpoint}
    )
    link = entry.runtime_data.coordinator.push
    assert link is not None
    await until(fake, lambda: fake.active == 1 and link.connected)
    return locks


async def test_push_to_bus_latency_and_rate(
    hass: HomeAssistant,
    tuya_cloud: TimedTuyaCloud,
    pulsar: FakeTuyaPulsar,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fake sends → ``ttlock_gateway_event`` on the bus (entities written too)."""
    monkeypatch.setattr(push_module, "TuyaPushConsumer", signalling_consumer(pulsar))
    locks = await _ha_entry(hass, tuya_cloud, pulsar)
    fired: dict[int, float] = {}

    @callback
    def on_event(event: Event) -> None:
        fired.setdefault(_value(event), time.perf_counter())
        pulsar.changed.set()

    unsub = hass.bus.async_listen(EVENT_LOCK, on_event)
    base = int(time.time() * 1000) - 3_600_000
    latencies: list[float] = []
    for i in range(LATENCY_SAMPLES):
        sent = time.perf_counter()
        pulsar.publish_status(
            locks[i % len(locks)], [("unlock_fingerprint", i)], t_ms=base + i
        )
        await until(pulsar, lambda i=i: i in fired)
        latencies.append((fired[i] - sent) * 1000)

    first = 100_000
    start = time.perf_counter()
    for i in range(first, first + RATE_MESSAGES):
        pulsar.publish_status(
            locks[i % len(locks)],
            [("unlock_password", i), ("residual_electricity", 80)],
            t_ms=base + i,
        )
    await until(pulsar, lambda: sum(1 for v in fired if v >= first) >= RATE_MESSAGES)
    elapsed = time.perf_counter() - start
    unsub()
    entities = len(hass.states.async_all())
    write(
        "push_ha",
        [
            row(
                "push",
                "tuya",
                "push: fake sends → ttlock_gateway_event on the bus, p50",
                pct(latencies, 0.5),
                "ms",
            ),
            row(
                "push",
                "tuya",
                "push: fake sends → ttlock_gateway_event on the bus, p95",
                pct(latencies, 0.95),
                "ms",
                target=50,
                note=f"AES-GCM, 10 locks, {entities} entities",
            ),
            row(
                "push",
                "tuya",
                f"push: sustained, {RATE_MESSAGES} messages → bus events",
                RATE_MESSAGES / elapsed,
                "msg/s",
                target=500,
                op=">=",
            ),
        ],
    )


async def test_push_reconnect_through_ha(
    hass: HomeAssistant,
    tuya_cloud: TimedTuyaCloud,
    pulsar: FakeTuyaPulsar,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cut with messages unacknowledged: events flow again, every one on the
    bus exactly once (real backoff and jitter)."""
    monkeypatch.setattr(push_module, "TuyaPushConsumer", signalling_consumer(pulsar))
    locks = await _ha_entry(hass, tuya_cloud, pulsar)
    fired: list[int] = []

    @callback
    def on_event(event: Event) -> None:
        fired.append(_value(event))
        pulsar.changed.set()

    unsub = hass.bus.async_listen(EVENT_LOCK, on_event)
    base = int(time.time() * 1000) - 7_200_000
    expected: set[int] = set()

    def publish(i: int) -> None:
        expected.add(i)
        pulsar.publish_status(
            locks[i % len(locks)], [("unlock_card", i)], t_ms=base + i
        )

    for i in range(100):
        publish(i)
    await until(pulsar, lambda: len(fired) >= 100)
    pulsar.lose_acks = 25
    for i in range(100, RECONNECT_MESSAGES):
        publish(i)
    await until(pulsar, lambda: pulsar.lose_acks == 0)
    dropped = time.perf_counter()
    await pulsar.drop(abrupt=True)
    await until(pulsar, lambda: pulsar.active == 0)
    seen_at_drop = len(set(fired))
    for i in range(RECONNECT_MESSAGES, RECONNECT_MESSAGES + 100):
        publish(i)
    await until(pulsar, lambda: len(set(fired)) > seen_at_drop and pulsar.active == 1)
    flowing_again = time.perf_counter() - dropped
    await until(pulsar, lambda: expected <= set(fired))
    await until(pulsar, lambda: pulsar.unacked == 0 and pulsar.backlog == 0)
    await hass.async_block_till_done()
    unsub()
    redelivered = sum(1 for _, count in pulsar.sent if count > 0)
    assert set(fired) == expected
    assert len(fired) == len(expected)
    write(
        "push_ha_reconnect",
        [
            row(
                "push",
                "tuya",
                "push (HA): drop → bus events flowing again",
                flowing_again,
                "s",
                target=30,
            ),
            row(
                "push",
                "tuya",
                "push (HA): redelivered after the drop / lost / announced twice",
                redelivered,
                "msgs",
                note=f"lost {len(expected - set(fired))}, "
                f"twice {len(fired) - len(set(fired))}",
            ),
        ],
    )
