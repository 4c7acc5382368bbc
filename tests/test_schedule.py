"""The adaptive schedule: push health and the budget, switching both ways."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ttlock_gateway.schedule import (
    STRETCH,
    budget_level,
    schedule_for,
)
from tests.common import (
    TTLOCK_WEBHOOK_ID,
    seed_ttlock_home,
    setup_entry,
    ttlock_callback,
    ttlock_data,
    ttlock_record,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud

FORM = "application/x-www-form-urlencoded"
RECORDS = "/v3/lockRecord/list"
LIST = "/v3/lock/list"


@pytest.mark.parametrize(
    ("current", "ratio", "expected"),
    [
        (0, None, 0),
        (2, None, 0),
        (0, 0.79, 0),
        (0, 0.80, 1),
        (0, 0.96, 2),
        (1, 0.75, 1),  # hysteresis: stays until below 0.70
        (1, 0.69, 0),
        (2, 0.90, 2),  # stays until below 0.85
        (2, 0.84, 1),
        (2, 0.10, 0),
        (7, 0.5, 0),  # out-of-range stored levels are clamped
    ],
)
def test_budget_level_has_hysteresis(
    current: int, ratio: float | None, expected: int
) -> None:
    assert budget_level(current, ratio) == expected


def test_schedules() -> None:
    assert schedule_for(push_healthy=False, level=0).list_interval == timedelta(hours=1)
    assert schedule_for(push_healthy=True, level=0).list_interval == timedelta(hours=2)
    assert schedule_for(push_healthy=True, level=2).list_interval == timedelta(
        hours=2 * STRETCH[2]
    )
    assert schedule_for(push_healthy=True, level=2).activity_interval == timedelta(
        hours=24
    )
    assert schedule_for(push_healthy=False, level=2).activity_interval == timedelta(
        hours=6
    )


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_ttlock_callbacks_relax_the_polls_and_silence_restores_them(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: Callable[[], Awaitable[TestClient]],
) -> None:
    """A callback: list every 2 h, activity daily. 24 h without one: the
    documented hourly list and 6-hourly activity poll again."""
    freezer.move_to("2026-05-10 08:00:00+00:00")
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    coordinator = entry.runtime_data.coordinator
    assert coordinator.update_interval == timedelta(hours=1)
    assert coordinator.activity_interval == timedelta(hours=6)

    client = await hass_client_no_auth()
    now_ms = int(dt_util.utcnow().timestamp() * 1000)
    resp = await client.post(
        f"/api/webhook/{TTLOCK_WEBHOOK_ID}",
        data=ttlock_callback(
            ttlock_cloud, home.front, [ttlock_record(home.front, 4, now_ms)]
        ),
        headers={"Content-Type": FORM},
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    assert coordinator.schedule.push_healthy
    assert coordinator.update_interval == timedelta(hours=2)
    assert coordinator.activity_interval == timedelta(hours=24)

    # 20 hours with push healthy: about 10 lists, no activity poll.
    ttlock_cloud.reset_calls()
    for _ in range(20):
        await _advance(hass, freezer, timedelta(hours=1))
    assert ttlock_cloud.calls[RECORDS] == 0
    assert 9 <= ttlock_cloud.calls[LIST] <= 11

    # Silence past 24 h: the documented schedule, and the overdue poll runs.
    for _ in range(6):
        await _advance(hass, freezer, timedelta(hours=1))
    assert not coordinator.schedule.push_healthy
    assert coordinator.update_interval == timedelta(hours=1)
    assert coordinator.activity_interval == timedelta(hours=6)
    assert ttlock_cloud.calls[RECORDS] == len(ttlock_cloud.locks)
