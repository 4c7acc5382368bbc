"""Lock state follows the newest record by cloud time, whatever arrives when.

TTLock files a record with ``lockDate`` (the lock's own clock, which drifts) and
``serverDate`` (when the cloud received it); hass-ttlock's captured callback has
serverDate 6 s *before* lockDate. State is ordered by serverDate and by when
our own actions were sent, never by the lock's clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import json
import random
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.lock import DOMAIN as LOCK_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_UNLOCK
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.ttlock_gateway.activity import LockActivity
from custom_components.ttlock_gateway.const import DOMAIN, EVENT_LOCK
from custom_components.ttlock_gateway.providers.callbacks import parse_callback
from custom_components.ttlock_gateway.providers.models import LockState
from custom_components.ttlock_gateway.providers.ttlock_records import record_to_event
from tests.common import (
    TTLOCK_WEBHOOK_ID,
    setup_entry,
    ttlock_callback,
    ttlock_data,
    ttlock_record,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud

type ClientFactory = Callable[[], Awaitable[TestClient]]

URL = f"/api/webhook/{TTLOCK_WEBHOOK_ID}"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MINUTE_MS = 60_000

# recordType -> the state it implies (None: no state change).
_STATE_OF: dict[int, LockState | None] = {
    1: LockState.UNLOCKED,  # app unlock
    4: LockState.UNLOCKED,  # passcode
    7: LockState.UNLOCKED,  # IC card
    12: LockState.UNLOCKED,  # gateway unlock
    11: LockState.LOCKED,  # app lock
    34: LockState.LOCKED,  # lock by passcode
    47: LockState.LOCKED,  # lock button
    31: None,  # door open
    48: None,  # system locked (wrong codes)
}


def _now_ms() -> int:
    return int(dt_util.utcnow().timestamp() * 1000)


async def _post(client: TestClient, body: str, content_type: str = FORM) -> None:
    resp = await client.post(URL, data=body, headers={"Content-Type": content_type})
    assert resp.status == 200, await resp.text()


async def _account(
    hass: HomeAssistant, cloud: FakeTTLockCloud
) -> tuple[int, MockConfigEntry]:
    """One gateway lock without auto-lock, remote unlock on."""
    gateway = cloud.add_gateway(name="Hall gateway")
    gate = cloud.add_lock(name="Gate", gateway_id=gateway)
    # The last-activity sensor is disabled by default: these tests read it.
    er.async_get(hass).async_get_or_create(
        "sensor",
        DOMAIN,
        f"{cloud.CLIENT_ID}_acct_{gate}_last_activity",
        suggested_object_id="gate_last_activity",
    )
    entry = await setup_entry(hass, ttlock_data(cloud))
    return gate, entry


async def test_slow_lock_clock_manual_lock_after_our_unlock(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """Unlock from Home Assistant, then a manual lock on a lock whose clock is
    2 minutes slow: the lock record is dated before our unlock by the lock, but
    the cloud received it after: locked."""
    gate, _ = await _account(hass, ttlock_cloud)
    client = await hass_client_no_auth()
    await hass.services.async_call(
        LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: "lock.gate"}, blocking=True
    )
    assert hass.states.get("lock.gate").state == "unlocked"

    received = _now_ms() + 1000
    record = ttlock_record(gate, 47, received - 2 * MINUTE_MS, serverDate=received)
    await _post(client, ttlock_callback(ttlock_cloud, gate, [record]))
    assert hass.states.get("lock.gate").state == "locked"


async def test_record_from_the_future_is_ignored(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """A record dated 9999 neither changes nor pins the state; a lock clock in
    the future with a sane serverDate is ordered by the serverDate."""
    gate, _ = await _account(hass, ttlock_cloud)
    client = await hass_client_no_auth()
    events = async_capture_events(hass, EVENT_LOCK)
    year_9999 = int(datetime(9999, 12, 31, tzinfo=UTC).timestamp() * 1000)

    forged = ttlock_record(gate, 4, year_9999, serverDate=year_9999)
    await _post(client, ttlock_callback(ttlock_cloud, gate, [forged]))
    assert hass.states.get("lock.gate").state == "unknown"
    assert events == []
    # 11 minutes ahead is already too far (10 is the tolerance).
    ahead = _now_ms() + 11 * MINUTE_MS
    await _post(
        client,
        ttlock_callback(ttlock_cloud, gate, [ttlock_record(gate, 4, ahead)]),
    )
    assert hass.states.get("lock.gate").state == "unknown"

    now = _now_ms()
    await _post(
        client,
        ttlock_callback(
            ttlock_cloud, gate, [ttlock_record(gate, 4, year_9999, serverDate=now)]
        ),
    )
    assert hass.states.get("lock.gate").state == "unlocked"
    # Last activity: the cloud's time, not the lock's year 9999.
    last = dt_util.parse_datetime(hass.states.get("sensor.gate_last_activity").state)
    assert last is not None
    assert abs(last.timestamp() * 1000 - now) < 1000
    await _post(
        client,
        ttlock_callback(
            ttlock_cloud, gate, [ttlock_record(gate, 11, now, serverDate=now + 5)]
        ),
    )
    assert hass.states.get("lock.gate").state == "locked"
    assert [e.data["type"] for e in events] == ["unlocked", "locked"]


async def test_old_pushes_change_nothing(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """A 2023 Dding battery alarm on a 2026 lock: no 9 %, no battery_low; so is
    ``time: 1``. A recent one still works."""
    gate, _ = await _account(hass, ttlock_cloud)
    client = await hass_client_no_auth()
    events = async_capture_events(hass, EVENT_LOCK)
    mac = ttlock_cloud.locks[gate]["lockMac"]
    battery = "sensor.gate_battery"
    assert hass.states.get(battery).state == "80"

    for when in (int(datetime(2023, 5, 1, tzinfo=UTC).timestamp()), 1):
        body = {
            "event": "batteryAlarm",
            "time": when,
            "uuid": mac,
            "detail": {"battery_level": 9},
        }
        await _post(client, json.dumps(body), JSON)
    assert hass.states.get(battery).state == "80"
    assert events == []

    body = {
        "event": "batteryAlarm",
        "time": _now_ms() // 1000 + 1,
        "uuid": mac,
        "detail": {"battery_level": 9},
    }
    await _post(client, json.dumps(body), JSON)
    assert hass.states.get(battery).state == "9"
    assert [e.data["type"] for e in events] == ["battery_low"]


async def test_late_record_is_history_not_state(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """A record older than the state still reaches automations and get_events,
    but does not change the state or the battery."""
    gate, _ = await _account(hass, ttlock_cloud)
    client = await hass_client_no_auth()
    events = async_capture_events(hass, EVENT_LOCK)
    now = _now_ms()
    await _post(
        client,
        ttlock_callback(
            ttlock_cloud, gate, [ttlock_record(gate, 11, now, electricQuantity=60)]
        ),
    )
    late = now - 30_000
    ttlock_cloud.add_record(
        gate, 4, username="Guest", lock_date_ms=late, server_date_ms=late
    )
    late_record = ttlock_record(gate, 4, late, electricQuantity=75)
    await _post(client, ttlock_callback(ttlock_cloud, gate, [late_record]))
    assert hass.states.get("lock.gate").state == "locked"
    assert hass.states.get("sensor.gate_battery").state == "60"
    assert [e.data["type"] for e in events] == ["locked", "unlocked"]

    result = await hass.services.async_call(
        DOMAIN,
        "get_events",
        {"entity_id": "lock.gate"},
        blocking=True,
        return_response=True,
    )
    assert result is not None
    listed = result["lock.gate"]["events"]  # type: ignore[index]
    assert [e["type"] for e in listed] == ["unlocked"]


async def test_replay_after_many_other_records_is_recognised(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """Seen ids are kept by time, not count: a replay after 600 records is known."""
    gate, _ = await _account(hass, ttlock_cloud)
    client = await hass_client_no_auth()
    events = async_capture_events(hass, EVENT_LOCK)
    base = _now_ms() - 700_000
    first = [ttlock_record(gate, 4, base)]
    await _post(client, ttlock_callback(ttlock_cloud, gate, first))
    others = [ttlock_record(gate, 31, base + 1000 * (i + 1)) for i in range(600)]
    for start in range(0, 600, 100):
        await _post(
            client, ttlock_callback(ttlock_cloud, gate, others[start : start + 100])
        )
    assert len(events) == 601
    await _post(client, ttlock_callback(ttlock_cloud, gate, first))
    assert len(events) == 601


async def test_polled_records_older_than_the_window_are_history(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Home Assistant was off for three days: the poll catches up, the state
    follows the newest record, but two-day-old unlocks fire no automation."""
    gate, entry = await _account(hass, ttlock_cloud)
    events = async_capture_events(hass, EVENT_LOCK)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    freezer.tick(timedelta(days=3))
    two_days_ago = _now_ms() - 2 * 24 * 60 * MINUTE_MS
    ttlock_cloud.add_record(
        gate, 4, lock_date_ms=two_days_ago, server_date_ms=two_days_ago
    )
    ttlock_cloud.add_record(gate, 4, username="Cleaner")
    assert await hass.config_entries.async_setup(entry.entry_id)
    # The catch-up poll may run as a background task of the set-up.
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [e.data["user"] for e in events] == ["Cleaner"]
    assert hass.states.get("lock.gate").state == "unlocked"


# --------------------------------------------------------------------------- #
# Property: any delivery order gives the state of the newest record


@dataclass(frozen=True)
class _Record:
    record_type: int
    server_ms: int
    lock_ms: int
    success: bool

    def payload(self, lock_id: int) -> dict[str, Any]:
        return ttlock_record(
            lock_id,
            self.record_type,
            self.lock_ms,
            serverDate=self.server_ms,
            success=1 if self.success else 0,
            username=f"u{self.server_ms % 1000}",
        )


def _expected(records: list[_Record], now_ms: int) -> LockState | None:
    """The state implied by the latest state-changing record by cloud time."""
    best: _Record | None = None
    for record in records:
        if record.server_ms > now_ms + 10 * MINUTE_MS:
            continue  # from the future: ignored
        if _STATE_OF[record.record_type] is None or not record.success:
            continue
        if best is None or record.server_ms > best.server_ms:
            best = record
    return _STATE_OF[best.record_type] if best else None


def _round(rng: random.Random, now_ms: int) -> list[_Record]:
    """A few records over the last two hours with lock clocks off by ±10 min."""
    count = rng.randint(1, 7)
    # Distinct cloud times: ties have no defined order.
    server_times = rng.sample(range(now_ms - 2 * 60 * MINUTE_MS, now_ms), count)
    records = [
        _Record(
            record_type=rng.choice(list(_STATE_OF)),
            server_ms=server_ms,
            lock_ms=server_ms + rng.randint(-10 * MINUTE_MS, 10 * MINUTE_MS),
            success=rng.random() > 0.15,
        )
        for server_ms in server_times
    ]
    if rng.random() < 0.1:  # a forged one dated far ahead
        ahead = now_ms + rng.randint(11 * MINUTE_MS, 10**9)
        records.append(_Record(4, ahead, ahead, True))
    return records


def _deliveries(
    rng: random.Random, records: list[_Record]
) -> list[tuple[str, list[_Record]]]:
    """Pushes (one callback per record or a few together) and polls (batches,
    newest first as the cloud answers), shuffled, with duplicates and replays."""
    plan: list[tuple[str, list[_Record]]] = []
    for record in records:
        for _ in range(rng.choice([1, 1, 1, 2, 3])):  # duplicates and replays
            plan.append((rng.choice(["push", "poll"]), [record]))
    if len(records) > 1 and rng.random() < 0.5:
        batch = rng.sample(records, rng.randint(2, len(records)))
        plan.append(("poll", sorted(batch, key=lambda r: r.lock_ms, reverse=True)))
    if len(records) > 1 and rng.random() < 0.5:
        plan.append(("push", rng.sample(records, rng.randint(2, len(records)))))
    rng.shuffle(plan)
    return plan


async def test_any_order_of_pushes_and_polls_gives_the_newest_state(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """2,000 seeded rounds: pushes parsed from the body TTLock sends, polled
    records mapped as the poll maps them, both applied by the coordinator."""
    gate, entry = await _account(hass, ttlock_cloud)
    coordinator = entry.runtime_data.coordinator
    lock_id = str(gate)
    lock = coordinator.data.locks[lock_id]
    rng = random.Random(20261101)
    mismatches: list[tuple[int, Any, Any]] = []
    for number in range(2000):
        coordinator.activity[lock_id] = LockActivity()
        lock.state = None
        now = dt_util.utcnow()
        now_ms = int(now.timestamp() * 1000)
        records = _round(rng, now_ms)
        for kind, batch in _deliveries(rng, records):
            if kind == "push":
                body = ttlock_callback(
                    ttlock_cloud, gate, [r.payload(gate) for r in batch]
                )
                parsed = parse_callback(FORM, body.encode(), now=now)
                coordinator.async_handle_events(parsed.events)
            else:
                polled = [
                    event
                    for r in batch
                    if (event := record_to_event(r.payload(gate), source="poll"))
                ]
                coordinator._apply_events(coordinator.data, polled, announce=True)
        if lock.state is not _expected(records, now_ms):
            mismatches.append((number, lock.state, _expected(records, now_ms)))
    assert mismatches == []


async def test_pushes_and_polls_end_to_end_give_the_newest_state(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientFactory,
) -> None:
    """The same through real HTTP and the fake cloud's record list, fewer rounds."""
    gate, entry = await _account(hass, ttlock_cloud)
    coordinator = entry.runtime_data.coordinator
    client = await hass_client_no_auth()
    rng = random.Random(4711)
    for _ in range(25):
        freezer.tick(timedelta(hours=7))
        # Each round's poll is due (with callbacks coming, push is healthy
        # and the schedule alone would poll only daily).
        coordinator.last_activity_poll = None
        now_ms = _now_ms()
        coordinator.activity[str(gate)] = LockActivity(
            last_time=dt_util.utcnow() - timedelta(hours=3)
        )
        coordinator.data.locks[str(gate)].state = None
        ttlock_cloud.records[gate] = []
        records = _round(rng, now_ms)
        pushed = rng.sample(records, rng.randint(0, len(records)))
        for record in records:
            ttlock_cloud.records[gate].append(
                {**record.payload(gate), "recordId": record.server_ms}
            )
        for record in pushed:
            await _post(
                client, ttlock_callback(ttlock_cloud, gate, [record.payload(gate)])
            )
        async_fire_time_changed(hass)
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        for record in rng.sample(pushed, len(pushed) // 2):  # late replays
            await _post(
                client, ttlock_callback(ttlock_cloud, gate, [record.payload(gate)])
            )
        expected = _expected(records, now_ms)
        state = hass.states.get("lock.gate")
        assert state is not None
        assert state.state == (expected.value if expected else "unknown"), records


async def test_push_during_a_slow_refresh_is_not_lost(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cloud answers the activity poll late; a push that lands meanwhile is
    still shown once the refresh publishes its result."""
    gate, entry = await _account(hass, ttlock_cloud)
    coordinator = entry.runtime_data.coordinator
    client = await hass_client_no_auth()
    coordinator.last_activity_poll = None  # the poll is due
    asked, answer = asyncio.Event(), asyncio.Event()
    original = coordinator.provider.async_get_lock_details

    async def late(lock: Any) -> Any:
        asked.set()
        await answer.wait()
        return await original(lock)

    monkeypatch.setattr(coordinator.provider, "async_get_lock_details", late)
    refresh = hass.async_create_task(coordinator.async_refresh())
    await asked.wait()
    await _post(
        client, ttlock_callback(ttlock_cloud, gate, [ttlock_record(gate, 4, _now_ms())])
    )
    assert hass.states.get("lock.gate").state == "unlocked"
    answer.set()
    await refresh
    await hass.async_block_till_done()
    assert coordinator.last_update_success
    assert hass.states.get("lock.gate").state == "unlocked"
