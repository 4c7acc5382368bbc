"""The gateway-offline fallback and the first-use deadline of offline codes
(issue 18).

Fallback: with the ``fallback: offline`` option, a custom code whose upload
fails because the gateway is offline (TTLock -3002) and whose stay starts
before the retries are over becomes an offline period code; the custom upload
is cancelled (and deleted if it landed after all).

First use: TTLock suspends a period or permanent random passcode that is not
entered within 24 h of its start (userGuide/passcodeEn): 20 h after the start
an unused one raises a repair and ``ttlock_gateway_code_not_used``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ttlock_gateway.const import (
    CONF_FALLBACK,
    EVENT_CODE_ADDED,
    EVENT_CODE_NOT_USED,
    FALLBACK_OFFLINE,
)
from custom_components.ttlock_gateway.providers.ttlock_random import GET_PATH
from tests.common import TTLockHome, seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.ledger_common import (
    ADD_PATH,
    FRONT,
    RETRY,
    SHED,
    advance,
    at,
    call,
    code_issues,
    listen,
    records,
    set_gateway,
    ttlock_pins,
)

ISSUE = "offline_code_not_used"


def stay(hours_from: float, hours_to: float = 48) -> dict[str, str]:
    now = dt_util.now()
    return {
        "start": (now + timedelta(hours=hours_from)).isoformat(),
        "end": (now + timedelta(hours=hours_to)).isoformat(),
    }


@pytest.fixture(autouse=True)
async def house_zone(hass: HomeAssistant) -> None:
    """The house's zone is the locks' (UTC+1 all year in the fake)."""
    await hass.config.async_set_time_zone("Africa/Lagos")


async def _home(
    hass: HomeAssistant, cloud: FakeTTLockCloud, options: dict[str, Any]
) -> tuple[TTLockHome, MockConfigEntry]:
    seeded = seed_ttlock_home(cloud)
    entry = await setup_entry(hass, ttlock_data(cloud), options)
    cloud.reset_calls()
    return seeded, entry


# ------------------------------------------------------------------ fallback


async def test_gateway_offline_falls_back_to_an_offline_code(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The stay starts in an hour, the gateway is down: the guest gets an
    offline period code at once, the answer and code_added say so, and the
    custom code is never uploaded later (one code per guest)."""
    seeded, entry = await _home(hass, ttlock_cloud, {CONF_FALLBACK: FALLBACK_OFFLINE})
    added = listen(hass, EVENT_CODE_ADDED)
    set_gateway(ttlock_cloud, seeded, online=False)
    ttlock_cloud.next_digits = ["7153024"]
    result = await call(hass, "add_code", FRONT, name="Guest", code="482913", **stay(1))
    item = result[FRONT]
    assert item["status"] == "added"
    assert item["kind"] == "offline"
    assert item["fallback"] is True
    assert item["code"] == "7153024"
    assert at(item["start"]).minute == 0
    assert ttlock_cloud.calls[ADD_PATH] == 1  # refused: gateway offline
    assert ttlock_cloud.calls[GET_PATH] == 1
    assert [e.data["kind"] for e in added] == ["offline"]
    assert added[0].data["fallback"] is True
    assert ttlock_cloud.lock_accepts(
        seeded.front, "7153024", at_ms=int(at(item["start"]).timestamp() * 1000) + 1
    )
    # The gateway comes back: the cancelled custom code stays cancelled.
    set_gateway(ttlock_cloud, seeded, online=True)
    await advance(hass, freezer, RETRY)
    await advance(hass, freezer, RETRY)
    assert ttlock_cloud.calls[ADD_PATH] == 1
    assert ttlock_pins(ttlock_cloud, seeded.front) == ["7153024"]
    live = [r for r in records(hass, entry) if not r.tombstone]
    assert [(r.id, r.offline_kind) for r in live] == [(item["code_id"], "period")]


async def test_a_late_custom_landing_is_removed(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The refused custom upload shows up on the lock after all (the gateway
    wrote it while the cloud answered offline): the look an interval later
    finds it and deletes it, so the guest keeps one code."""
    seeded, _ = await _home(hass, ttlock_cloud, {CONF_FALLBACK: FALLBACK_OFFLINE})
    set_gateway(ttlock_cloud, seeded, online=False)
    window = stay(1)
    result = await call(hass, "add_code", FRONT, name="Guest", code="482913", **window)
    offline_digits = result[FRONT]["code"]
    now_ms = int(dt_util.utcnow().timestamp() * 1000)
    ttlock_cloud.passcodes[seeded.front][999001] = {
        "keyboardPwdId": 999001,
        "lockId": seeded.front,
        "keyboardPwd": "482913",
        "keyboardPwdName": "Guest",
        "keyboardPwdType": 3,
        "startDate": int(at(window["start"]).timestamp() * 1000),
        "endDate": int(at(window["end"]).timestamp() * 1000),
        "isCustom": 1,
        "sendDate": now_ms,
    }
    set_gateway(ttlock_cloud, seeded, online=True)
    await advance(hass, freezer, RETRY)
    assert ttlock_pins(ttlock_cloud, seeded.front) == [offline_digits]


@pytest.mark.parametrize(
    ("options", "gateway_online", "hours_from"),
    [
        ({CONF_FALLBACK: FALLBACK_OFFLINE}, True, 1),
        ({CONF_FALLBACK: FALLBACK_OFFLINE}, False, 10),
        ({}, False, 1),
    ],
    ids=["gateway fine", "stay after the retries", "option off (older entry)"],
)
async def test_no_fallback(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    options: dict[str, Any],
    gateway_online: bool,
    hours_from: float,
) -> None:
    """The custom code goes up (or is queued) as before; no offline code."""
    seeded, _ = await _home(hass, ttlock_cloud, options)
    set_gateway(ttlock_cloud, seeded, online=gateway_online)
    result = await call(
        hass, "add_code", FRONT, name="Guest", code="482913", **stay(hours_from)
    )
    item = result[FRONT]
    assert item["code"] == "482913"
    assert "kind" not in item
    assert item["status"] == ("added" if gateway_online else "queued")
    assert ttlock_cloud.calls[GET_PATH] == 0


# ----------------------------------------------------------------- first use


async def test_unused_offline_code_raises_a_repair_at_20_hours(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nobody typed the shed's code: 20 h after its start a repair and an event
    (the lock's records are read first); entering it then clears the repair."""
    seeded, _ = await _home(hass, ttlock_cloud, {})
    not_used = listen(hass, EVENT_CODE_NOT_USED)
    result = await call(hass, "add_code", SHED, name="Guest", **stay(0.5, 96))
    item = result[SHED]
    start = at(item["start"])
    await advance(hass, freezer, start + timedelta(hours=19) - dt_util.utcnow())
    assert code_issues(hass, ISSUE) == []
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, timedelta(hours=1, minutes=20))
    (issue,) = code_issues(hass, ISSUE)
    assert issue.translation_placeholders["name"] == "Guest"
    assert issue.translation_placeholders["lock"] == "Shed"
    assert len(not_used) == 1
    assert not_used[0].data["code_id"] == item["code_id"]
    assert ttlock_cloud.calls["/v3/lockRecord/list"] >= 1
    # Once only.
    await advance(hass, freezer, timedelta(minutes=30))
    assert len(not_used) == 1
    # The guest types it in time: the next records clear the repair.
    assert ttlock_cloud.enter_code(seeded.shed, item["code"])
    await advance(hass, freezer, timedelta(hours=6, minutes=1))
    assert code_issues(hass, ISSUE) == []


async def test_used_offline_code_raises_no_repair(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The guest typed the code an hour after the start (a record the lock
    uploads later): no reminder."""
    seeded, entry = await _home(hass, ttlock_cloud, {})
    not_used = listen(hass, EVENT_CODE_NOT_USED)
    result = await call(hass, "add_code", SHED, name="Guest", **stay(0.5, 96))
    start = at(result[SHED]["start"])
    await advance(hass, freezer, start + timedelta(hours=1) - dt_util.utcnow())
    assert ttlock_cloud.enter_code(seeded.shed, result[SHED]["code"])
    await advance(hass, freezer, timedelta(hours=20))
    assert code_issues(hass, ISSUE) == []
    assert not_used == []
    (record,) = records(hass, entry)
    assert record.first_used is not None


async def test_one_time_and_short_codes_get_no_reminder(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A one-time code (6 h) and a stay shorter than a day end before the
    24 h rule matters."""
    await _home(hass, ttlock_cloud, {})
    not_used = listen(hass, EVENT_CODE_NOT_USED)
    now = dt_util.now()
    await call(
        hass, "add_code", SHED, name="Once", start=now.isoformat(), one_time=True
    )
    await call(hass, "add_code", SHED, name="Short", **stay(1, 12))
    await advance(hass, freezer, timedelta(hours=21))
    assert not_used == []
    assert code_issues(hass, ISSUE) == []
