"""Tuya push in Home Assistant: the fake message service → entities, events, bus.

The consumer runs against ``tests/fakes/tuya_pulsar.py`` over real websockets on
loopback. Its reconnect sleeps go through a ``StepClock`` (released by the test,
never waited for) and its keep-alive is off: ``freezer`` moves the loop's clock,
and a ping's pong deadline would otherwise pass in one jump.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
import logging
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.ttlock_gateway import push as push_module
from custom_components.ttlock_gateway.const import (
    CONF_BASE_URL,
    CONF_DATA_CENTER,
    CONF_PUSH_URL,
    DOMAIN,
    EVENT_LOCK,
)
from tests.common import setup_entry, tuya_data
from tests.fakes.tuya_cloud import FakeTuyaCloud
from tests.fakes.tuya_pulsar import FakeTuyaPulsar
from tests.tuya_push_harness import StepClock, signalling_consumer, until

PUSH_SENSOR = "binary_sensor.test_account_push_connection"


@pytest.fixture
async def pulsar(socket_enabled: Any) -> AsyncIterator[FakeTuyaPulsar]:
    fake = FakeTuyaPulsar()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def clock(pulsar: FakeTuyaPulsar, monkeypatch: pytest.MonkeyPatch) -> StepClock:
    """Reconnect delays recorded and held until the test releases them."""
    step = StepClock(pulsar.changed)
    monkeypatch.setattr(
        push_module,
        "TuyaPushConsumer",
        signalling_consumer(
            pulsar, sleep=step.sleep, jitter=lambda: 1.0, heartbeat=10**8
        ),
    )
    return step


def _link(entry: MockConfigEntry) -> push_module.PushLink:
    link = entry.runtime_data.coordinator.push
    assert link is not None
    return link


@pytest.fixture
async def lock_id(tuya_cloud: FakeTuyaCloud) -> str:
    return tuya_cloud.add_device(name="Front gate", battery=80)


async def _setup(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, pulsar: FakeTuyaPulsar
) -> MockConfigEntry:
    entry = await setup_entry(
        hass, {**tuya_data(tuya_cloud), CONF_PUSH_URL: pulsar.endpoint}
    )
    assert entry.state is ConfigEntryState.LOADED
    await until(pulsar, lambda: pulsar.active == 1 and _link(entry).connected)
    await _settle(hass, pulsar)
    return entry


async def _settle(hass: HomeAssistant, pulsar: FakeTuyaPulsar) -> None:
    """Every message sent is acknowledged (the listener ran before the ack)."""
    await until(pulsar, lambda: pulsar.backlog == 0 and pulsar.unacked == 0)
    await hass.async_block_till_done()


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def _ms() -> int:
    return int(time.time() * 1000)


def _lock_events(events: list[Any], kind: str) -> list[Any]:
    return [e for e in events if e.data["type"] == kind]


# ------------------------------------------------------------------ happy path


async def test_push_reaches_entities_event_entity_and_bus(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    pulsar: FakeTuyaPulsar,
    clock: StepClock,
    lock_id: str,
) -> None:
    events = async_capture_events(hass, EVENT_LOCK)
    entry = await _setup(hass, tuya_cloud, pulsar)
    coordinator = entry.runtime_data.coordinator
    assert hass.states.get(PUSH_SENSOR).state == "on"
    # Push connected: the list every 2 hours, the activity poll daily.
    assert coordinator.schedule.push_healthy
    assert coordinator.update_interval == timedelta(hours=2)
    assert coordinator.activity_interval == timedelta(hours=24)

    pulsar.publish_status(
        lock_id, [("unlock_fingerprint", 2), ("residual_electricity", 42)]
    )
    await _settle(hass, pulsar)
    (unlock,) = _lock_events(events, "unlocked")
    assert unlock.data["source"] == "push"
    assert unlock.data["method"] == "fingerprint"
    assert unlock.data["lock_id"] == lock_id
    assert unlock.data["entity_id"] == "lock.front_gate"
    assert hass.states.get("sensor.front_gate_battery").state == "42"
    assert hass.states.get("lock.front_gate").state == "unlocked"
    activity = hass.states.get("event.front_gate_activity")
    assert activity is not None
    assert activity.attributes["event_type"] == "unlocked"

    # lock_motor_state false is locked (the poll's truth table, README).
    pulsar.publish_status(lock_id, [("lock_motor_state", False)])
    await _settle(hass, pulsar)
    assert hass.states.get("lock.front_gate").state == "locked"
    assert len(_lock_events(events, "locked")) == 1

    pulsar.publish_online(lock_id, False, core=True)
    await _settle(hass, pulsar)
    assert hass.states.get("binary_sensor.front_gate_connectivity").state == "off"
    # No OpenAPI call was made for any of it.
    assert pulsar.handshakes[0]["username"] == tuya_cloud.ACCESS_ID


async def test_other_devices_of_the_project_are_ignored(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    pulsar: FakeTuyaPulsar,
    clock: StepClock,
    lock_id: str,
) -> None:
    """The message service pushes every device of the project (lights too)."""
    events = async_capture_events(hass, EVENT_LOCK)
    await _setup(hass, tuya_cloud, pulsar)
    pulsar.publish_status("bf00lightbulb0001", [("unlock_app", 1)])
    pulsar.publish_status("bf00lightbulb0001", [("switch_led", True)])
    await _settle(hass, pulsar)
    assert events == []


async def test_push_then_poll_is_one_event(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    pulsar: FakeTuyaPulsar,
    clock: StepClock,
    freezer: FrozenDateTimeFactory,
    lock_id: str,
) -> None:
    """The daily poll returns the pushed record: announced once; the record the
    push missed is announced by the poll."""
    events = async_capture_events(hass, EVENT_LOCK)
    await _setup(hass, tuya_cloud, pulsar)
    t_push = _ms() - 60_000
    pulsar.publish_status(lock_id, [("unlock_fingerprint", 2)], t_ms=t_push)
    await _settle(hass, pulsar)
    assert len(events) == 1
    tuya_cloud.add_open_log(lock_id, "unlock_fingerprint", "2", t_ms=t_push)
    tuya_cloud.add_open_log(lock_id, "unlock_card", "5", t_ms=t_push + 30_000)
    polls = tuya_cloud.calls["GET /v1.1/devices/{id}/door-lock/open-logs"]

    for _ in range(13):
        await _advance(hass, freezer, timedelta(hours=2, minutes=1))
    assert tuya_cloud.calls["GET /v1.1/devices/{id}/door-lock/open-logs"] > polls
    assert [(e.data["method"], e.data["source"]) for e in events] == [
        ("fingerprint", "push"),
        ("card", "poll"),
    ]


# ------------------------------------------------------------- odd messages


async def test_malformed_undecryptable_replayed_and_out_of_order(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    pulsar: FakeTuyaPulsar,
    clock: StepClock,
    lock_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    events = async_capture_events(hass, EVENT_LOCK)
    entry = await _setup(hass, tuya_cloud, pulsar)
    caplog.set_level(logging.DEBUG)

    # Garbage, a frame whose payload is not JSON, one sealed with another key.
    pulsar.send_raw("not json at all", tracked_id=None)
    pulsar.send_raw(
        '{"messageId": "CAEQAQ==", "payload": "%%%"}', tracked_id="CAEQAQ=="
    )
    real_secret = pulsar.access_secret
    pulsar.access_secret = "ffffffffffffffffffffffffffffffff"
    pulsar.publish_status(lock_id, [("unlock_app", 1)])
    pulsar.access_secret = real_secret
    await _settle(hass, pulsar)
    assert events == []
    assert pulsar.acked  # acknowledged: not sent again forever

    # Replayed: the ack is lost, the service sends it again.
    pulsar.lose_acks = 1
    now = _ms()
    pulsar.publish_status(lock_id, [("unlock_password", 7)], t_ms=now - 5_000)
    await until(pulsar, lambda: pulsar.lose_acks == 0)
    assert pulsar.expire_ack_timeout() == 1
    await _settle(hass, pulsar)
    assert len(_lock_events(events, "unlocked")) == 1

    # Out of order: a newer battery, then an older one, and the same for the bolt.
    pulsar.publish_status(lock_id, [("residual_electricity", 50)], t_ms=now)
    pulsar.publish_status(lock_id, [("residual_electricity", 90)], t_ms=now - 60_000)
    pulsar.publish_status(lock_id, [("lock_motor_state", False)], t_ms=now + 1_000)
    pulsar.publish_status(lock_id, [("lock_motor_state", True)], t_ms=now - 30_000)
    await _settle(hass, pulsar)
    assert hass.states.get("sensor.front_gate_battery").state == "50"
    assert hass.states.get("lock.front_gate").state == "locked"

    # A state dated a day ahead (a broken clock) is replaced by the receipt
    # time in the consumer and changes nothing it should not.
    pulsar.publish_status(
        lock_id, [("residual_electricity", 10)], t_ms=now + 86_400_000
    )
    await _settle(hass, pulsar)
    health = _link(entry).consumer.health
    assert health.rejected >= 3
    assert health.connected
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert real_secret not in caplog.text


# -------------------------------------------------------------- connection


@pytest.mark.parametrize(
    ("fault", "translation_key"),
    [("refused", "push_down"), ("dropped", "push_down"), ("auth", "push_not_enabled")],
)
async def test_connection_down_an_hour_raises_a_repair_until_back(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    pulsar: FakeTuyaPulsar,
    clock: StepClock,
    freezer: FrozenDateTimeFactory,
    lock_id: str,
    fault: str,
    translation_key: str,
) -> None:
    """Down: the sensor goes off and the documented schedule takes over; after
    an hour a repair says why; back: both go."""
    entry = await _setup(hass, tuya_cloud, pulsar)
    coordinator = entry.runtime_data.coordinator
    issue_id = f"push_down_{entry.entry_id}"
    issues = ir.async_get(hass)
    if fault == "refused":
        pulsar.refuse_with(503)
    elif fault == "auth":
        pulsar.refuse_login()
    else:
        pulsar.refuse_with(503)  # it stays down after the drop
    await pulsar.drop(abrupt=fault == "dropped")
    await until(pulsar, lambda: clock.sleeping == 1)
    await hass.async_block_till_done()
    assert hass.states.get(PUSH_SENSOR).state == "off"
    assert not coordinator.schedule.push_healthy
    assert coordinator.update_interval == timedelta(hours=1)
    assert coordinator.activity_interval == timedelta(hours=6)
    clock.release()  # one more attempt, refused
    await until(pulsar, lambda: clock.sleeping == 1 and len(pulsar.handshakes) >= 2)

    await _advance(hass, freezer, timedelta(minutes=50))
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    await _advance(hass, freezer, timedelta(minutes=11))
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == translation_key
    assert hass.states.get(PUSH_SENSOR).attributes["login_refused"] is (fault == "auth")

    pulsar.refuse_with(None)
    pulsar.refuse_login(False)
    clock.release()
    await until(pulsar, lambda: pulsar.active == 1 and _link(entry).connected)
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    assert hass.states.get(PUSH_SENSOR).state == "on"
    assert coordinator.schedule.push_healthy
    assert pulsar.max_concurrent == 1


async def test_unload_closes_the_socket_and_stops_reconnecting(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    pulsar: FakeTuyaPulsar,
    clock: StepClock,
    lock_id: str,
) -> None:
    entry = await _setup(hass, tuya_cloud, pulsar)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await until(pulsar, lambda: pulsar.active == 0)
    assert clock.sleeping == 0
    assert pulsar.connections == 1
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, f"push_down_{entry.entry_id}")
        is None
    )


async def test_reload_during_the_handshake_never_makes_two(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    pulsar: FakeTuyaPulsar,
    clock: StepClock,
    lock_id: str,
) -> None:
    """Reload while the first consumer's login is still unanswered."""
    pulsar.hang_handshakes()
    entry = await setup_entry(
        hass, {**tuya_data(tuya_cloud), CONF_PUSH_URL: pulsar.endpoint}
    )
    await until(pulsar, lambda: len(pulsar.handshakes) == 1)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await until(pulsar, lambda: len(pulsar.handshakes) == 2)
    pulsar.hang_handshakes(False)
    await until(pulsar, lambda: pulsar.active == 1 and _link(entry).connected)
    await hass.async_block_till_done()
    assert pulsar.max_concurrent == 1
    assert pulsar.connections == 1


async def test_reload_with_a_message_unacknowledged_announces_it_once(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    pulsar: FakeTuyaPulsar,
    clock: StepClock,
    lock_id: str,
) -> None:
    """The ack is lost, the entry reloads: the service sends it again to the
    new consumer, and the remembered event id keeps it from being announced
    twice."""
    events = async_capture_events(hass, EVENT_LOCK)
    entry = await _setup(hass, tuya_cloud, pulsar)
    pulsar.lose_acks = 1
    pulsar.publish_status(lock_id, [("unlock_card", 3)], t_ms=_ms() - 1_000)
    await until(pulsar, lambda: pulsar.lose_acks == 0)
    await hass.async_block_till_done()
    assert len(events) == 1
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await until(pulsar, lambda: pulsar.active == 1 and _link(entry).connected)
    await _settle(hass, pulsar)
    redelivered = [count for _, count in pulsar.sent if count > 0]
    assert redelivered
    assert len(events) == 1


async def test_failed_setup_starts_no_consumer(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    pulsar: FakeTuyaPulsar,
    clock: StepClock,
    lock_id: str,
) -> None:
    tuya_cloud.set_outage("http500")
    entry = await setup_entry(
        hass, {**tuya_data(tuya_cloud), CONF_PUSH_URL: pulsar.endpoint}
    )
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert pulsar.handshakes == []


async def test_entries_without_a_documented_endpoint_are_polled(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, lock_id: str
) -> None:
    """An explicit API address (proxy, test double) and no push URL: no push,
    no push sensor; the schedule is the documented one."""
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    coordinator = entry.runtime_data.coordinator
    assert coordinator.push is None
    assert hass.states.get(PUSH_SENSOR) is None
    assert coordinator.update_interval == timedelta(hours=1)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({CONF_DATA_CENTER: "eu"}, "wss://mqe.tuyaeu.com:8285/"),
        ({CONF_DATA_CENTER: "us"}, "wss://mqe.tuyaus.com:8285/"),
        ({CONF_DATA_CENTER: "us_east"}, None),
        ({CONF_DATA_CENTER: "eu_west"}, None),
        ({CONF_DATA_CENTER: "sg"}, None),
        ({CONF_DATA_CENTER: "eu", CONF_BASE_URL: "http://proxy"}, None),
        (
            {
                CONF_DATA_CENTER: "eu",
                CONF_BASE_URL: "http://x",
                CONF_PUSH_URL: "ws://y/",
            },
            "ws://y/",
        ),
    ],
)
def test_push_endpoint_only_where_documented(
    data: dict[str, str], expected: str | None
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={"provider": "tuya", **data})
    assert push_module.push_url_for(entry) == expected  # type: ignore[arg-type]


async def test_reload_while_waiting_to_reconnect(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    pulsar: FakeTuyaPulsar,
    clock: StepClock,
    lock_id: str,
) -> None:
    """Refused, sleeping before the next attempt: a reload ends that wait and
    the new consumer connects once the service takes it again."""
    pulsar.refuse_with(503)
    entry = await setup_entry(
        hass, {**tuya_data(tuya_cloud), CONF_PUSH_URL: pulsar.endpoint}
    )
    await until(pulsar, lambda: clock.sleeping == 1)
    pulsar.refuse_with(None)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await until(pulsar, lambda: pulsar.active == 1 and _link(entry).connected)
    assert pulsar.connections == 1
    assert pulsar.max_concurrent == 1
