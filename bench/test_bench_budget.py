"""Calls a simulated day costs with push healthy, push silent, and Tuya push connected.

Counted by the fakes (every request that reaches them), 10 locks, setup
excluded, in 5-minute ticks as in ``test_bench.py``: 13 hours of warm-up,
then two simulated days counted and halved, so that every poll (hourly,
2-hourly, 6-hourly, daily) falls inside the window a whole number of times and
none sits on its edge. Push healthy for
TTLock: a callback (one record) every 6 hours, the first right after setup.
Tuya: the fake message service connected all day. The ledger's own count is
written next to the fake's: they must agree.

The consumer's keep-alive is off in the simulated day: ``freezer`` moves the
loop's clock 5 minutes a tick, which would pass a ping's pong deadline in one
jump and drop a healthy connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
import json
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from bench.conftest import TimedTTLockCloud, TimedTuyaCloud
from bench.test_bench import coordinator_of, row, seed, write
from custom_components.ttlock_gateway import push as push_module
from custom_components.ttlock_gateway.const import CONF_PUSH_URL
from tests.common import TTLOCK_WEBHOOK_ID, setup_entry, ttlock_data, tuya_data
from tests.fakes.tuya_pulsar import FakeTuyaPulsar
from tests.tuya_push_harness import signalling_consumer, until

ClientFactory = Callable[[], Awaitable[TestClient]]
LOCKS = 10
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def pulsar(socket_enabled: Any) -> AsyncIterator[FakeTuyaPulsar]:
    fake = FakeTuyaPulsar(encryption="aes_gcm")
    await fake.start()
    yield fake
    await fake.stop()


DAYS = 2


async def _days(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    every_6h: Callable[[], Awaitable[None]] | None = None,
    *,
    hours: float = DAYS * 24,
    start_tick: int = 0,
) -> None:
    for tick in range(start_tick, start_tick + round(hours * 12)):
        if every_6h is not None and tick % 72 == 0:
            await every_6h()
        freezer.tick(timedelta(minutes=5))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


def _ledger_total(hass: HomeAssistant) -> int:
    """Every call the ledger holds (all days kept)."""
    coordinator = coordinator_of(hass)
    assert coordinator.ledger is not None
    return sum(sum(day.values()) for day in coordinator.ledger.days.values())


async def test_calls_per_day_ttlock_push(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    ttlock_cloud: TimedTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """10 TTLock locks: push silent (no callback), then push healthy."""
    freezer.move_to("2026-05-10 00:00:00+00:00")
    ids = seed(ttlock_cloud, LOCKS)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    await _days(hass, freezer, hours=13)
    ttlock_cloud.reset_calls()
    await _days(hass, freezer, start_tick=13 * 12)
    silent = ttlock_cloud.total_calls / DAYS
    silent_paths = dict(ttlock_cloud.calls)
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    freezer.move_to("2026-05-20 00:00:00+00:00")
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    client = await hass_client_no_auth()
    pushes = iter(range(1, 1000))

    async def callback_now() -> None:
        n = next(pushes)
        when = int(dt_util.utcnow().timestamp() * 1000) - 1000
        record = {
            "lockId": int(ids[n % LOCKS]),
            "recordId": n,
            "recordType": 7,
            "recordTypeFromLock": 7,
            "success": 1,
            "username": f"guest{n}",
            "keyboardPwd": "",
            "lockDate": when,
            "serverDate": when,
            "electricQuantity": 80,
        }
        body = urlencode(
            {
                "notifyType": 1,
                "lockId": ids[n % LOCKS],
                "lockMac": ttlock_cloud.locks[int(ids[n % LOCKS])]["lockMac"],
                "admin": ttlock_cloud.USERNAME,
                "records": json.dumps([record]),
            }
        )
        resp = await client.post(
            f"/api/webhook/{TTLOCK_WEBHOOK_ID}",
            data=body,
            headers={"Content-Type": FORM},
        )
        assert resp.status == 200

    await _days(hass, freezer, every_6h=callback_now, hours=13)
    ttlock_cloud.reset_calls()
    before = _ledger_total(hass)
    await _days(hass, freezer, every_6h=callback_now, start_tick=13 * 12)
    healthy = ttlock_cloud.total_calls / DAYS
    counted = (_ledger_total(hass) - before) / DAYS
    assert coordinator_of(hass).last_update_success
    print("silent", silent_paths, "healthy", dict(ttlock_cloud.calls))
    write(
        "calls_per_day_ttlock_push",
        [
            row(
                "calls_per_day",
                "ttlock",
                f"API calls / 24 h, {LOCKS} locks, push healthy",
                healthy,
                "calls",
                60,
                note=f"ledger counted {counted:g}",
            ),
            row(
                "calls_per_day",
                "ttlock",
                f"API calls / 24 h, {LOCKS} locks, push silent",
                silent,
                "calls",
                150,
            ),
        ],
    )


async def test_calls_per_day_tuya_push(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    tuya_cloud: TimedTuyaCloud,
    pulsar: FakeTuyaPulsar,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """10 Tuya locks, the message service connected all day."""
    monkeypatch.setattr(
        push_module,
        "TuyaPushConsumer",
        signalling_consumer(pulsar, heartbeat=10**8),
    )
    freezer.move_to("2026-05-10 00:00:00+00:00")
    seed(tuya_cloud, LOCKS)
    entry = await setup_entry(
        hass, {**tuya_data(tuya_cloud), CONF_PUSH_URL: pulsar.endpoint}
    )
    link = entry.runtime_data.coordinator.push
    assert link is not None
    await until(pulsar, lambda: pulsar.active == 1 and link.connected)
    await _days(hass, freezer, hours=13)
    tuya_cloud.reset_calls()
    before = _ledger_total(hass)
    await _days(hass, freezer, start_tick=13 * 12)
    connected = tuya_cloud.total_calls / DAYS
    counted = (_ledger_total(hass) - before) / DAYS
    assert link.connected
    assert pulsar.connections == 1
    print("tuya push", dict(tuya_cloud.calls))
    write(
        "calls_per_day_tuya_push",
        [
            row(
                "calls_per_day",
                "tuya",
                f"API calls / 24 h, {LOCKS} locks, push connected",
                connected,
                "calls",
                80,
                note=f"ledger counted {counted:g}",
            ),
        ],
    )
