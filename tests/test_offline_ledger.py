"""Offline codes through the code ledger (issue 18): a lock without a gateway
gets codes the cloud computes and the lock checks by itself.

The fake cloud models TTLock's documented rules for random passcodes
(tests/fakes/ttlock_random_codes.py): whole hours on the lock's clock, a year
at most, cyclic codes on a matching day, the first-use deadline, no remote
delete without a gateway.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ttlock_gateway.const import (
    DOMAIN,
    EVENT_CODE_ADDED,
    EVENT_CODE_FAILED,
)
from custom_components.ttlock_gateway.providers.ttlock_random import GET_PATH
from tests.common import TTLockHome, seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.ledger_common import (
    FRONT,
    LIST_PATH,
    RETRY,
    SHED,
    advance,
    at,
    call,
    listen,
    records,
    start_call,
)
from tests.test_ledger_inflight import HOW, Point, interrupt

TRANSLATIONS = (
    Path(__file__).parent.parent
    / "custom_components"
    / "ttlock_gateway"
    / "translations"
)
HOUR_MS = 3_600_000


def floor_hour(value: datetime) -> datetime:
    """The whole hour at or before ``value`` (Home Assistant's clock)."""
    return dt_util.as_local(value).replace(minute=0, second=0, microsecond=0)


def ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


@pytest.fixture(autouse=True)
async def house_zone(hass: HomeAssistant) -> None:
    """The house's zone is the locks' (the fake's locks run on UTC+1 all year,
    ``timezoneRawOffset``): whole hours and weekdays are the lock's."""
    await hass.config.async_set_time_zone("Africa/Lagos")


@pytest.fixture
async def home(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> tuple[TTLockHome, MockConfigEntry]:
    seeded = seed_ttlock_home(ttlock_cloud)
    # The shed's keypad takes cyclic passcodes too (featureValue bit 12).
    ttlock_cloud.set_feature(seeded.shed, 12, True)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.reset_calls()
    return seeded, entry


def last_request(cloud: FakeTTLockCloud) -> dict[str, str]:
    request = dict(cloud.random_requests[-1])
    request.pop("date", None)
    return request


# ------------------------------------------------------------------ each type


async def test_gateway_less_lock_gets_a_period_code(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
) -> None:
    """The shed has no gateway: add_code asks /v3/keyboardPwd/get for a period
    code, rounded down to whole hours as the cloud does, answers the digits once
    and the window the lock applies, and records it in the ledger."""
    seeded, entry = home
    added = listen(hass, EVENT_CODE_ADDED)
    ttlock_cloud.next_digits = ["0481516"]
    now = dt_util.now()
    start = now + timedelta(hours=2, minutes=20)
    end = now + timedelta(days=3, minutes=45)
    result = await call(
        hass,
        "add_code",
        SHED,
        name="Guest",
        start=start.isoformat(),
        end=end.isoformat(),
    )
    item = result[SHED]
    begins, ends = floor_hour(start), floor_hour(end)
    assert item["status"] == "added"
    assert item["code"] == "0481516"  # a string: the leading zero survives
    assert item["kind"] == "offline"
    assert item["type"] == "period"
    assert at(item["start"]) == begins
    assert at(item["end"]) == ends
    assert at(item["first_use_by"]) == begins + timedelta(hours=24)
    assert item["deletable_remotely"] is False
    assert item["fallback"] is False
    assert last_request(ttlock_cloud) == {
        "lockId": str(seeded.shed),
        "keyboardPwdType": "3",
        "keyboardPwdName": "Guest",
        "startDate": str(ms(begins)),
        "endDate": str(ms(ends)),
    }
    # Nothing went through a gateway: the shed has none.
    assert ttlock_cloud.calls["/v3/keyboardPwd/add"] == 0
    (record,) = records(hass, entry)
    assert record.offline_kind == "period"
    assert record.code == "0481516"
    assert record.cloud_id == item["cloud_id"]
    assert not record.uncertain
    assert [e.data["kind"] for e in added] == ["offline"]
    assert added[0].data["offline_type"] == "period"
    # The lock takes it from its (rounded) start, by itself.
    assert not ttlock_cloud.lock_accepts(seeded.shed, "0481516")
    assert ttlock_cloud.lock_accepts(seeded.shed, "0481516", at_ms=ms(begins) + 60_000)
    listed = await call(hass, "list_codes", SHED)
    (code,) = listed[SHED]["codes"]
    assert code["kind"] == "period"
    assert code["status"] == "pending"
    assert code["offline"]["type"] == "period"
    assert at(code["offline"]["first_use_by"]) == begins + timedelta(hours=24)


@pytest.mark.parametrize(
    ("data", "pwd_type", "kind"),
    [
        ({"one_time": True}, "1", "one_time"),
        ({}, "2", "permanent"),
    ],
    ids=["one_time", "permanent"],
)
async def test_codes_without_an_end(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    data: dict[str, Any],
    pwd_type: str,
    kind: str,
) -> None:
    """One-time (once within 6 h) and permanent codes: the start only, rounded;
    no endDate is sent, the answer states the window the lock applies."""
    seeded, entry = home
    start = dt_util.now() + timedelta(hours=1, minutes=10)
    result = await call(
        hass, "add_code", SHED, name="Cleaner", start=start.isoformat(), **data
    )
    item = result[SHED]
    begins = floor_hour(start)
    assert item["status"] == "added"
    assert item["type"] == kind
    assert at(item["start"]) == begins
    request = last_request(ttlock_cloud)
    assert request["keyboardPwdType"] == pwd_type
    assert request["startDate"] == str(ms(begins))
    assert "endDate" not in request
    if kind == "one_time":
        assert at(item["end"]) == begins + timedelta(hours=6)
        assert item["single_use"] is True
    else:
        assert item["end"] is None
        assert at(item["first_use_by"]) == begins + timedelta(hours=24)
    (record,) = records(hass, entry)
    assert record.offline_kind == kind
    assert ttlock_cloud.lock_accepts(
        seeded.shed, item["code"], at_ms=ms(begins) + 60_000
    )


async def test_cyclic_code_on_the_first_matching_day(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
) -> None:
    """repeat: weekend 08:00-17:00 asked from a Wednesday: TTLock wants start
    and end on the nearest Saturday (type 5); the answer says so."""
    seeded, _ = home
    now = dt_util.now()
    wednesday = (now + timedelta(days=(2 - now.weekday()) % 7 + 7)).date()
    zone = dt_util.get_default_time_zone()
    start = datetime.combine(wednesday, datetime.min.time(), zone).replace(hour=8)
    end = start + timedelta(days=30, hours=9)
    result = await call(
        hass,
        "add_code",
        SHED,
        name="Gardener",
        start=start.isoformat(),
        end=end.isoformat(),
        repeat="weekend",
    )
    item = result[SHED]
    saturday = start + timedelta(days=3)
    assert item["type"] == "cyclic"
    assert item["repeat"] == "weekend"
    assert at(item["start"]) == saturday
    assert at(item["end"]) == saturday.replace(hour=17)
    request = last_request(ttlock_cloud)
    assert request["keyboardPwdType"] == "5"
    assert request["startDate"] == str(ms(saturday))
    assert request["endDate"] == str(ms(saturday.replace(hour=17)))
    digits = item["code"]
    assert ttlock_cloud.lock_accepts(seeded.shed, digits, at_ms=ms(saturday) + HOUR_MS)
    # Not on a weekday, not outside the day's hours.
    assert not ttlock_cloud.lock_accepts(
        seeded.shed, digits, at_ms=ms(saturday + timedelta(days=2)) + HOUR_MS
    )


async def test_offline_on_a_gateway_lock(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
) -> None:
    """offline: true on the Front door (gateway online): a random code, no
    upload through the gateway."""
    seeded, _ = home
    now = dt_util.now()
    result = await call(
        hass,
        "add_code",
        FRONT,
        name="Guest",
        offline=True,
        start=(now + timedelta(hours=1)).isoformat(),
        end=(now + timedelta(days=2)).isoformat(),
    )
    assert result[FRONT]["kind"] == "offline"
    assert ttlock_cloud.calls["/v3/keyboardPwd/add"] == 0
    assert ttlock_cloud.calls[GET_PATH] == 1
    assert last_request(ttlock_cloud)["lockId"] == str(seeded.front)


async def test_custom_code_unchanged_on_a_gateway_lock(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
) -> None:
    """Without offline: true a gateway lock still gets the digits asked for."""
    result = await call(
        hass, "add_code", FRONT, name="Guest", code="482913", **_window()
    )
    assert result[FRONT]["code"] == "482913"
    assert "kind" not in result[FRONT]
    assert ttlock_cloud.calls[GET_PATH] == 0


def _window(hours_from: float = 1, hours_to: float = 72) -> dict[str, str]:
    now = dt_util.now()
    return {
        "start": (now + timedelta(hours=hours_from)).isoformat(),
        "end": (now + timedelta(hours=hours_to)).isoformat(),
    }


# ----------------------------------------------------------------- bad input


def _translated(key: str) -> None:
    """The error key has a message in every shipped language."""
    for lang in ("en", "ru", "zh-Hans"):
        strings = json.loads((TRANSLATIONS / f"{lang}.json").read_text("utf-8"))
        assert strings["exceptions"][key]["message"], (lang, key)


BAD_LABELS = [
    "window over a year",
    "start beyond the cloud's dates",
    "start too long ago to be entered",
    "cyclic without a matching day",
    "cyclic across midnight",
    "one-time with an end",
    "one-time and repeat",
    "digits for an offline code",
    "empty once rounded",
]


def _bad_requests() -> list[tuple[str, dict[str, Any], str]]:
    """Built in the test: times on the house's clock, which the test sets."""
    now = dt_util.now()
    monday = now + timedelta(days=(0 - now.weekday()) % 7 + 7)
    tuesday = monday + timedelta(days=1)
    return [
        (
            "window over a year",
            {
                "start": (now + timedelta(hours=2)).isoformat(),
                "end": (now + timedelta(days=400)).isoformat(),
            },
            "offline_window_too_long",
        ),
        (
            "start beyond the cloud's dates",
            {"start": "2230-01-01T10:00:00+00:00", "end": "2230-02-01T10:00:00+00:00"},
            "offline_date_out_of_range",
        ),
        (
            "start too long ago to be entered",
            {
                "start": (now - timedelta(hours=30)).isoformat(),
                "end": (now + timedelta(days=2)).isoformat(),
            },
            "offline_first_use_passed",
        ),
        (
            "cyclic without a matching day",
            {
                "start": tuesday.replace(hour=8).isoformat(),
                "end": (tuesday + timedelta(days=2)).replace(hour=17).isoformat(),
                "repeat": "monday",
            },
            "offline_cyclic_no_matching_day",
        ),
        (
            "cyclic across midnight",
            {
                "start": monday.replace(hour=20).isoformat(),
                "end": (monday + timedelta(days=7)).replace(hour=6).isoformat(),
                "repeat": "daily",
            },
            "offline_cyclic_daily_window",
        ),
        (
            "one-time with an end",
            {**_window(), "one_time": True},
            "offline_end_not_allowed",
        ),
        (
            "one-time and repeat",
            {"start": now.isoformat(), "one_time": True, "repeat": "daily"},
            "offline_repeat_not_allowed",
        ),
        (
            "digits for an offline code",
            {**_window(), "code": "482913"},
            "offline_code_digits",
        ),
        (
            "empty once rounded",
            {
                "start": floor_hour(now + timedelta(hours=3)).isoformat(),
                "end": (
                    floor_hour(now + timedelta(hours=3)) + timedelta(minutes=40)
                ).isoformat(),
            },
            "offline_window_empty",
        ),
    ]


@pytest.mark.parametrize("label", BAD_LABELS)
async def test_bad_offline_requests_send_nothing(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    label: str,
) -> None:
    """Refused before any call with a translated error (en, ru, zh-Hans);
    nothing is stored."""
    _, entry = home
    cases = {case[0]: case for case in _bad_requests()}
    assert sorted(cases) == sorted(BAD_LABELS)
    _, data, key = cases[label]
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_code", SHED, name="Guest", **data)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key, label
    _translated(key)
    assert ttlock_cloud.total_calls == 0
    assert records(hass, entry) == []


async def test_custom_code_without_an_end_is_refused(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "add_code",
            FRONT,
            name="Guest",
            offline=False,
            start=dt_util.now().isoformat(),
        )
    assert err.value.translation_key == "custom_code_needs_end"
    _translated("custom_code_needs_end")
    assert ttlock_cloud.total_calls == 0


async def test_lock_without_a_keypad_gets_no_offline_code(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """No gateway and no passcode feature: codes_not_supported, nothing sent."""
    seeded = seed_ttlock_home(ttlock_cloud)
    ttlock_cloud.set_feature(seeded.shed, 0, False)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.reset_calls()
    for target in (SHED, [FRONT, SHED]):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, "add_code", target, name="Guest", **_window())
        assert err.value.translation_key == "codes_not_supported"
    assert ttlock_cloud.total_calls == 0


async def test_cyclic_refused_where_the_lock_has_none(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """featureValue without bit 12: cyclic codes are refused before any call."""
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.reset_calls()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_code", SHED, name="Guest", repeat="daily", **_window())
    assert err.value.translation_key == "offline_kind_not_supported"
    assert ttlock_cloud.total_calls == 0


# --------------------------------------------------- lost answers, restarts


async def test_lost_answer_is_adopted_on_the_retry(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """/get made the code but answered a server error: the caller hears
    "queued"; the retry meets "window already used" and takes the code made
    then (one code for the window, never two)."""
    seeded, entry = home
    added = listen(hass, EVENT_CODE_ADDED)
    ttlock_cloud.fail_after_create = 1
    result = await call(hass, "add_code", SHED, name="Guest", **_window(2, 50))
    assert result[SHED]["status"] == "queued"
    assert result[SHED]["code"] is None
    await advance(hass, freezer, RETRY)
    (record,) = records(hass, entry)
    codes = list(ttlock_cloud.passcodes[seeded.shed].values())
    assert len(codes) == 1
    assert record.code == codes[0]["keyboardPwd"]
    assert record.cloud_id == str(codes[0]["keyboardPwdId"])
    assert len(added) == 1


OFFLINE_ADD_POINTS = [
    Point("intent written", save=1),
    Point("write-ahead before the request", save=2),
    Point("request at the cloud", path=GET_PATH),
]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("point", OFFLINE_ADD_POINTS, ids=lambda p: p.label)
async def test_offline_add_interrupted(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    point: Point,
    how: str,
) -> None:
    """Reload or restart at each await of an offline add: one code on the lock
    for the window, one record that has its digits, one code_added."""
    seeded = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    added = listen(hass, EVENT_CODE_ADDED)
    failed = listen(hass, EVENT_CODE_FAILED)
    gate = point.arm(hass, entry, ttlock_cloud)
    task = start_call(hass, "add_code", SHED, name="Guest", **_window(2, 50))
    await interrupt(hass, entry, freezer, gate, task, how)
    codes = list(ttlock_cloud.passcodes[seeded.shed].values())
    assert len(codes) == 1
    live = [r for r in records(hass, entry) if not r.tombstone]
    assert len(live) == 1
    assert live[0].code == codes[0]["keyboardPwd"]
    assert live[0].cloud_id == str(codes[0]["keyboardPwdId"])
    assert len(added) == 1
    assert failed == []


async def test_restart_lists_before_asking_again(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A code made while its answer was lost: the next pass lists the lock
    first (the record is "uncertain") and finds it by name and window."""
    seeded, entry = home
    ttlock_cloud.lose_answer(GET_PATH)
    result = await call(hass, "add_code", SHED, name="Guest", **_window(2, 50))
    assert result[SHED]["status"] == "queued"
    (record,) = records(hass, entry)
    assert record.uncertain
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, RETRY)
    assert ttlock_cloud.calls[LIST_PATH] >= 1
    assert ttlock_cloud.calls[GET_PATH] == 0
    (code,) = ttlock_cloud.passcodes[seeded.shed].values()
    assert record.code == code["keyboardPwd"]
    assert not record.uncertain


async def test_odd_answer_then_the_listing_decides(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """The cloud answers the digits as a number (a leading zero would be
    lost): not taken; the code may exist, so the retry lists the lock and takes
    the listed string instead of asking for a second code."""
    seeded, entry = home
    ttlock_cloud.next_digits = ["0123987"]
    answers = iter([lambda a: {**a, "keyboardPwd": int(a["keyboardPwd"])}])
    ttlock_cloud.random_answer = lambda a: next(answers, lambda x: x)(a)
    result = await call(hass, "add_code", SHED, name="Guest", **_window(2, 50))
    assert result[SHED]["status"] == "queued"
    assert result[SHED]["code"] is None
    await advance(hass, freezer, RETRY)
    (record,) = records(hass, entry)
    assert record.code == "0123987"
    assert ttlock_cloud.calls[GET_PATH] == 1
    assert len(ttlock_cloud.passcodes[seeded.shed]) == 1


async def test_offline_code_cannot_be_updated(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
) -> None:
    """The lock computes an offline code from its window: no change, a
    translated error, nothing sent."""
    added = await call(hass, "add_code", SHED, name="Guest", **_window())
    ttlock_cloud.reset_calls()
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "update_code", SHED, code_id=added[SHED]["code_id"], name="Other"
        )
    assert err.value.translation_key == "offline_code_unchangeable"
    _translated("offline_code_unchangeable")
    assert ttlock_cloud.total_calls == 0
