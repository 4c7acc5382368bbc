"""Calls a simulated day costs a Dding account of 10 locks (issue 19: <= 100).

Counted by the fake SaaS (every request that reaches it), setup excluded, in
5-minute ticks as in ``test_bench_budget.py``: 13 hours of warm-up, then two
simulated days counted and halved. One home with a gateway and 10 locks; the
listing carries battery and online state (the fake's default, docs/dding.md).
Push silent: no callback reaches Home Assistant (events polled every 6 hours).
Push healthy: a callback every 6 hours (events polled daily as a safety net).
No guest codes change during the day (their confirmation looks are bounded:
at most 24 listings per accepted change, tests/test_dding_codes.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
import json
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from bench.test_bench import coordinator_of, row, write
from tests.common import DDING_HOME, DDING_WEBHOOK_ID, dding_data, setup_entry
from tests.fakes.dding_cloud import FakeDdingCloud

ClientFactory = Callable[[], Awaitable[TestClient]]
LOCKS = 10
DAYS = 2


@pytest.fixture
async def dding_cloud(socket_enabled: Any) -> AsyncIterator[FakeDdingCloud]:
    cloud = FakeDdingCloud()
    await cloud.start()
    yield cloud
    await cloud.stop()


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


async def test_calls_per_day_dding(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    dding_cloud: FakeDdingCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """10 Dding locks at the default schedule: push silent, then push healthy."""
    freezer.move_to("2026-05-10 00:00:00+00:00")
    dding_cloud.add_gateway(DDING_HOME, name="Hall gateway")
    locks = [
        dding_cloud.add_lock(DDING_HOME, f"room-{n}", name=f"Room {n}")
        for n in range(LOCKS)
    ]
    entry = await setup_entry(
        hass, dding_data(dding_cloud), unique_id=dding_cloud.CLIENT_ID
    )
    await _days(hass, freezer, hours=13)
    dding_cloud.reset_calls()
    await _days(hass, freezer, start_tick=13 * 12)
    silent = dding_cloud.total_calls / DAYS
    silent_paths = dict(dding_cloud.calls)
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    freezer.move_to("2026-05-20 00:00:00+00:00")
    await setup_entry(hass, dding_data(dding_cloud), unique_id=dding_cloud.CLIENT_ID)
    client = await hass_client_no_auth()
    pushes = iter(range(1, 1000))

    async def callback_now() -> None:
        n = next(pushes)
        body = dding_cloud.callback_body("lockerOpenAlarm", locks[n % LOCKS])
        resp = await client.post(
            f"/api/webhook/{DDING_WEBHOOK_ID}",
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        assert resp.status == 200

    await _days(hass, freezer, every_6h=callback_now, hours=13)
    dding_cloud.reset_calls()
    await _days(hass, freezer, every_6h=callback_now, start_tick=13 * 12)
    healthy = dding_cloud.total_calls / DAYS
    assert coordinator_of(hass).last_update_success
    print("silent", silent_paths, "healthy", dict(dding_cloud.calls))
    assert silent <= 100, silent_paths
    write(
        "calls_per_day_dding",
        [
            row(
                "calls_per_day",
                "dding",
                f"API calls / 24 h, {LOCKS} locks, push silent",
                silent,
                "calls",
                100,
                note=", ".join(f"{k} {v / DAYS:g}" for k, v in silent_paths.items()),
            ),
            row(
                "calls_per_day",
                "dding",
                f"API calls / 24 h, {LOCKS} locks, push healthy",
                healthy,
                "calls",
                100,
            ),
        ],
    )
