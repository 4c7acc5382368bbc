"""Odd values and odd clocks: a year-40,000 listing entry, a lone surrogate in a
name, the wall clock jumping four days either way, a 10004 storm, an add answer
without ``keyboardPwdId``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ttlock_gateway.const import (
    DOMAIN,
    EVENT_CODE_ADDED,
    EVENT_CODE_FAILED,
)
from tests.common import TTLockHome, seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.ledger_common import (
    ADD_PATH,
    FRONT,
    RESUME,
    RETRY,
    Clock,
    advance,
    call,
    code_issues,
    listen,
    records,
    restart,
    set_gateway,
    ttlock_pins,
    window,
)

FOUR_DAYS = timedelta(days=4)


@pytest.fixture
async def home(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> tuple[TTLockHome, MockConfigEntry]:
    seeded = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.reset_calls()
    return seeded, entry


@pytest.fixture
def clock(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> Iterator[Clock]:
    jumping = Clock(hass, freezer)
    yield jumping
    jumping.close()


# ------------------------------------------------------------------ values


async def test_odd_listing_value_does_not_strand_a_code(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A foreign code with an endDate in the year 40,000 sits on the lock; the
    retry's listing reads past it and finds our upload whose answer was lost."""
    seeded, _ = home
    ttlock_cloud.passcodes[seeded.front][9] = {
        "keyboardPwdId": 9,
        "keyboardPwd": "9090",
        "keyboardPwdName": "Forever",
        "keyboardPwdType": 3,
        "startDate": 1_700_000_000_000,
        "endDate": 1_200_000_000_000_000,
    }
    added = listen(hass, EVENT_CODE_ADDED)
    ttlock_cloud.lose_answer(ADD_PATH)
    result = await call(
        hass, "add_code", FRONT, name="Guest", code="482913", **window()
    )
    assert result[FRONT]["status"] == "queued"
    await advance(hass, freezer, RETRY)
    assert len(added) == 1
    assert ttlock_cloud.calls[ADD_PATH] == 1
    listed = await call(hass, "list_codes", FRONT)
    odd = next(c for c in listed[FRONT]["codes"] if c["name"] == "Forever")
    assert (odd["kind"], odd["start"], odd["end"]) == ("other", None, None)
    # Its digits still count as taken.
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_code", FRONT, name="X", code="9090", **window())
    assert err.value.translation_key == "duplicate_code"


async def test_lone_surrogate_name_is_refused_and_the_store_stays_writable(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    hass_storage: dict[str, Any],
) -> None:
    seeded, entry = home
    for bad in ("Guest \ud83d", "Guest\x00", "Gu\x1best"):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, "add_code", FRONT, name=bad, code="482913", **window())
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == "invalid_name_characters"
    assert ttlock_cloud.total_calls == 0
    # A whole emoji is fine, and the file is written and read back.
    await call(
        hass, "add_code", FRONT, name="Guest \U0001f511", code="482913", **window()
    )
    await restart(hass, entry)
    key = f"{DOMAIN}.{entry.entry_id}.codes"
    names = [c["name"] for c in hass_storage[key]["data"]["codes"]]
    assert names == ["Guest \U0001f511"]
    added = await call(hass, "add_code", FRONT, name="Next", code="246810", **window())
    assert added[FRONT]["status"] == "added"
    assert ttlock_pins(ttlock_cloud, seeded.front) == ["246810", "482913"]


async def test_add_answer_without_keyboard_pwd_id(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """errcode 0 but no id: the code is on the lock, its id unknown. The ledger
    never stores "None": it finds the code's real id in the next listing."""
    seeded, entry = home
    original = ttlock_cloud._add_passcode

    def add_without_id(params: dict[str, str]) -> dict[str, Any]:
        original(params)
        return {"errcode": 0, "errmsg": "none error message or means yes"}

    ttlock_cloud._add_passcode = add_without_id  # type: ignore[method-assign]
    result = await call(
        hass, "add_code", FRONT, name="Guest", code="482913", **window()
    )
    assert result[FRONT]["status"] == "queued"
    assert result[FRONT]["cloud_id"] is None
    ttlock_cloud._add_passcode = original  # type: ignore[method-assign]
    await advance(hass, freezer, RETRY)
    (record,) = records(hass, entry)
    (real_id,) = ttlock_cloud.passcodes[seeded.front]
    assert record.cloud_id == str(real_id)
    assert ttlock_cloud.calls[ADD_PATH] == 1
    answer = await call(hass, "delete_code", FRONT, code_id=record.id)
    assert answer[FRONT]["deleted"] == [record.id]
    assert ttlock_cloud.passcodes[seeded.front] == {}


async def test_10004_storm_neither_forces_reauth_nor_fails_codes(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Four 10004 answers in a row while the refresh works: each attempt
    refreshes once and is retried later; the code lands, no reauth."""
    seeded, entry = home
    failed = listen(hass, EVENT_CODE_FAILED)
    ttlock_cloud.fail(ADD_PATH, 10004, "invalid grant", times=4)
    result = await call(
        hass, "add_code", FRONT, name="Guest", code="482913", **window()
    )
    assert result[FRONT]["status"] == "queued"
    await advance(hass, freezer, RETRY)
    await advance(hass, freezer, RETRY)
    assert ttlock_pins(ttlock_cloud, seeded.front) == ["482913"]
    assert failed == []
    assert not code_issues(hass)
    assert not hass.config_entries.flow.async_progress()
    # The same storm on the hourly lock list: a failed refresh, not reauth.
    ttlock_cloud.fail("/v3/lock/list", 10004, "invalid grant", times=4)
    await advance(hass, freezer, timedelta(hours=1))
    for _ in range(2):  # two refreshes spend the storm, 10 minutes apart
        await advance(hass, freezer, timedelta(minutes=11))
    assert not hass.config_entries.flow.async_progress()
    assert entry.runtime_data.coordinator.last_update_success


# ------------------------------------------------------------------- clocks


async def test_clock_jumps_four_days_ahead_and_back(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    clock: Clock,
) -> None:
    """A queued 3-day code while the wall clock is 4 days ahead: its window
    looks over, so it is not sent, but neither failed nor forgotten (a restart
    in between included); when the clock is put right it is delivered."""
    seeded, entry = home
    failed = listen(hass, EVENT_CODE_FAILED)
    set_gateway(ttlock_cloud, seeded, online=False)
    result = await call(
        hass, "add_code", FRONT, name="Guest", code="482913", **window()
    )
    assert result[FRONT]["status"] == "queued"
    set_gateway(ttlock_cloud, seeded, online=True)

    clock.jump(FOUR_DAYS)
    await clock.elapse(RETRY)
    assert ttlock_cloud.calls[ADD_PATH] == 1
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"][0]["status"] == "expired"
    await restart(hass, entry)
    await clock.elapse(RESUME)
    await clock.elapse(RETRY)
    assert ttlock_cloud.calls[ADD_PATH] == 1
    assert failed == []
    assert not code_issues(hass)

    clock.jump(-FOUR_DAYS)
    await clock.elapse(RETRY)
    assert ttlock_pins(ttlock_cloud, seeded.front) == ["482913"]
    assert failed == []


async def test_clock_jumps_four_days_back_and_a_restart(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    clock: Clock,
) -> None:
    """The stored next attempt is 4 days "in the future" after the jump: the
    restart still retries within one interval, not in four days."""
    seeded, entry = home
    set_gateway(ttlock_cloud, seeded, online=False)
    await call(hass, "add_code", FRONT, name="Guest", code="482913", **window())
    set_gateway(ttlock_cloud, seeded, online=True)
    clock.jump(-FOUR_DAYS)
    await restart(hass, entry)
    await clock.elapse(RETRY)
    assert ttlock_pins(ttlock_cloud, seeded.front) == ["482913"]


async def test_clean_up_during_a_four_day_jump_deletes_nothing(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    clock: Clock,
) -> None:
    """A delivered code ending in 30 h and a clock 4 days ahead for a day: the
    clean-up sees it long "ended" once, but deletes only after a second sighting
    a day later, by which time the clock is right again."""
    seeded, _ = home
    await call(hass, "add_code", FRONT, name="Guest", code="482913", **window(-1, 30))
    clock.jump(FOUR_DAYS)
    await clock.elapse(timedelta(hours=24))
    assert ttlock_pins(ttlock_cloud, seeded.front) == ["482913"]
    clock.jump(-FOUR_DAYS)
    await clock.elapse(timedelta(hours=24))
    assert ttlock_pins(ttlock_cloud, seeded.front) == ["482913"]
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"][0]["status"] == "expired"  # since 18 h, truly
