"""Offline-code rules (providers/offline_codes.py): TTLock's documented rules.

Pure functions: no cloud. The vectors come from euopen.ttlock.com
document-pages/cloud/passcode/get (the 19:20 -> 19:00 rounding and the weekend
example on 2026-01-03) and the passcode user guide (userGuide/passcodeEn).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, strategies as st
import pytest

from custom_components.ttlock_gateway.providers.models import (
    CodeKind,
    OfflineKind,
    OfflineRules,
    Repeat,
)
from custom_components.ttlock_gateway.providers.offline_codes import (
    TTLOCK_CYCLIC,
    OfflineCodeError,
    OfflineCodeRequest,
    add_year,
    code_kind,
    floor_hour,
    repeat_matches,
    ttlock_plan,
    ttlock_type,
    ttlock_window,
)
from custom_components.ttlock_gateway.providers.ttlock_random import (
    get_params,
    listed_offline_rules,
    offline_kinds,
)

CST = timezone(timedelta(hours=8))
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)


def _error(request: OfflineCodeRequest, now: datetime = NOW) -> OfflineCodeError:
    with pytest.raises(OfflineCodeError) as caught:
        ttlock_plan(request, now)
    return caught.value


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


# ------------------------------------------------------------------ types


@pytest.mark.parametrize(
    ("kind", "repeat", "expected"),
    [
        (OfflineKind.ONE_TIME, None, 1),
        (OfflineKind.PERMANENT, None, 2),
        (OfflineKind.PERIOD, None, 3),
        (OfflineKind.CLEAR_ALL, None, 4),
        (OfflineKind.CYCLIC, Repeat.WEEKEND, 5),
        (OfflineKind.CYCLIC, Repeat.DAILY, 6),
        (OfflineKind.CYCLIC, Repeat.WORKDAY, 7),
        (OfflineKind.CYCLIC, Repeat.MONDAY, 8),
        (OfflineKind.CYCLIC, Repeat.TUESDAY, 9),
        (OfflineKind.CYCLIC, Repeat.WEDNESDAY, 10),
        (OfflineKind.CYCLIC, Repeat.THURSDAY, 11),
        (OfflineKind.CYCLIC, Repeat.FRIDAY, 12),
        (OfflineKind.CYCLIC, Repeat.SATURDAY, 13),
        (OfflineKind.CYCLIC, Repeat.SUNDAY, 14),
    ],
)
def test_keyboard_pwd_type_per_kind(
    kind: OfflineKind, repeat: Repeat | None, expected: int
) -> None:
    start = datetime(2026, 1, 5, 8, tzinfo=UTC)
    end = start + timedelta(hours=9) if kind.value in ("period", "cyclic") else None
    request = OfflineCodeRequest(kind, start, end, repeat=repeat)
    assert ttlock_type(request) == expected


def test_every_repeat_has_a_type_and_days() -> None:
    assert set(TTLOCK_CYCLIC) == set(Repeat)
    monday = datetime(2026, 1, 5).date()
    week = [monday + timedelta(days=n) for n in range(7)]
    assert [repeat_matches(Repeat.WEEKEND, d) for d in week] == [0, 0, 0, 0, 0, 1, 1]
    assert [repeat_matches(Repeat.WORKDAY, d) for d in week] == [1, 1, 1, 1, 1, 0, 0]
    assert all(repeat_matches(Repeat.DAILY, d) for d in week)
    assert [repeat_matches(Repeat.THURSDAY, d) for d in week] == [0, 0, 0, 1, 0, 0, 0]


def test_code_kind_of_each_offline_kind() -> None:
    assert code_kind(OfflineKind.PERIOD) is CodeKind.PERIOD
    assert code_kind(OfflineKind.CLEAR_ALL) is CodeKind.CLEAR
    assert code_kind(OfflineKind.CLEAR_ONE) is CodeKind.CLEAR


# --------------------------------------------------------------- rounding


def test_period_start_and_end_round_down_to_the_hour() -> None:
    """ "startDate 19:20 -> the code is valid from 19:00" (passcode/get)."""
    request = OfflineCodeRequest(
        OfflineKind.PERIOD,
        datetime(2026, 1, 2, 19, 20, 45, tzinfo=CST),
        datetime(2026, 1, 4, 11, 59, tzinfo=CST),
    )
    plan = ttlock_plan(request, NOW)
    assert plan.pwd_type == 3
    assert plan.window.start == datetime(2026, 1, 2, 11, tzinfo=UTC)  # 19:00 +8
    assert plan.window.end == datetime(2026, 1, 4, 3, tzinfo=UTC)  # 11:00 +8
    assert plan.window.start.tzinfo is UTC
    params = get_params("24451", "Guest", plan)
    assert params == {
        "lockId": "24451",
        "keyboardPwdType": 3,
        "keyboardPwdName": "Guest",
        "startDate": _ms(datetime(2026, 1, 2, 19, tzinfo=CST)),
        "endDate": _ms(datetime(2026, 1, 4, 11, tzinfo=CST)),
    }


def test_period_first_use_within_24_hours_of_start() -> None:
    start = datetime(2026, 1, 2, 15, tzinfo=UTC)
    long = ttlock_window(
        OfflineCodeRequest(OfflineKind.PERIOD, start, start + timedelta(days=3))
    )
    assert long.rules == OfflineRules(first_use_by=start + timedelta(hours=24))
    # A stay shorter than a day ends before the rule could bite.
    short = ttlock_window(
        OfflineCodeRequest(OfflineKind.PERIOD, start, start + timedelta(hours=5))
    )
    assert short.rules.first_use_by is None
    assert not short.rules.single_use
    assert not short.rules.deletable_remotely


def test_one_time_code_lasts_six_hours_and_works_once() -> None:
    start = datetime(2026, 1, 2, 10, 40, tzinfo=UTC)
    plan = ttlock_plan(OfflineCodeRequest(OfflineKind.ONE_TIME, start), NOW)
    assert plan.pwd_type == 1
    assert plan.window.start == datetime(2026, 1, 2, 10, tzinfo=UTC)
    assert plan.window.end == datetime(2026, 1, 2, 16, tzinfo=UTC)
    assert plan.window.rules == OfflineRules(
        first_use_by=datetime(2026, 1, 2, 16, tzinfo=UTC), single_use=True
    )
    # No endDate: the type fixes the window.
    assert "endDate" not in get_params("1", "", plan)
    assert "keyboardPwdName" not in get_params("1", "", plan)


def test_permanent_code_has_no_end_but_a_first_use_deadline() -> None:
    start = datetime(2026, 3, 28, 12, 5, tzinfo=BERLIN)  # DST starts overnight
    window = ttlock_window(OfflineCodeRequest(OfflineKind.PERMANENT, start))
    assert window.end is None
    # 24 real hours, not 24 wall-clock hours across the DST change.
    assert window.start == datetime(2026, 3, 28, 11, tzinfo=UTC)
    assert window.rules.first_use_by == datetime(2026, 3, 29, 11, tzinfo=UTC)


def test_delete_code_starts_at_the_hour_and_works_once() -> None:
    start = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
    plan = ttlock_plan(OfflineCodeRequest(OfflineKind.CLEAR_ALL, start), NOW)
    assert plan.pwd_type == 4
    assert plan.window.start == datetime(2026, 1, 1, 9, tzinfo=UTC)
    assert plan.window.end is None
    assert plan.window.rules.single_use


def test_rounding_follows_the_wall_clock_of_a_half_hour_zone() -> None:
    """India (+05:30): 10:40 local is rounded to 10:00 local, 04:30 UTC."""
    kolkata = ZoneInfo("Asia/Kolkata")
    start = datetime(2026, 1, 2, 10, 40, tzinfo=kolkata)
    window = ttlock_window(OfflineCodeRequest(OfflineKind.PERMANENT, start))
    assert window.start == datetime(2026, 1, 2, 4, 30, tzinfo=UTC)


def test_floor_hour_keeps_the_zone() -> None:
    value = datetime(2026, 10, 25, 2, 59, 59, 999, tzinfo=BERLIN, fold=1)
    floored = floor_hour(value)
    assert (floored.hour, floored.minute, floored.second) == (2, 0, 0)
    assert floored.tzinfo is BERLIN
    assert floored.fold == 1


# ---------------------------------------------------------- window length


def test_period_of_exactly_one_year_is_taken() -> None:
    start = datetime(2027, 6, 1, 15, tzinfo=BERLIN)
    window = ttlock_window(
        OfflineCodeRequest(OfflineKind.PERIOD, start, start.replace(year=2028))
    )
    assert window.end == datetime(2028, 6, 1, 13, tzinfo=UTC)


def test_period_longer_than_a_year_is_refused_with_the_latest_end() -> None:
    start = datetime(2027, 6, 1, 15, tzinfo=UTC)
    err = _error(
        OfflineCodeRequest(
            OfflineKind.PERIOD, start, start.replace(year=2028) + timedelta(hours=1)
        ),
        now=start,
    )
    assert err.translation_key == "offline_window_too_long"
    assert err.translation_placeholders == {
        "start": "2027-06-01T15:00+00:00",
        "end": "2028-06-01T16:00+00:00",
        "latest_end": "2028-06-01T15:00+00:00",
    }


def test_year_from_29_february_ends_on_28_february() -> None:
    assert add_year(datetime(2028, 2, 29, 10, tzinfo=UTC)) == datetime(
        2029, 2, 28, 10, tzinfo=UTC
    )
    start = datetime(2028, 2, 29, 10, tzinfo=UTC)
    err = _error(
        OfflineCodeRequest(OfflineKind.PERIOD, start, datetime(2029, 3, 1, tzinfo=UTC)),
        now=start,
    )
    assert err.translation_key == "offline_window_too_long"


def test_window_empty_once_rounded_is_refused() -> None:
    err = _error(
        OfflineCodeRequest(
            OfflineKind.PERIOD,
            datetime(2026, 1, 2, 10, 10, tzinfo=UTC),
            datetime(2026, 1, 2, 10, 50, tzinfo=UTC),
        )
    )
    assert err.translation_key == "offline_window_empty"
    assert err.translation_placeholders == {
        "start": "2026-01-02T10:00+00:00",
        "end": "2026-01-02T10:00+00:00",
    }


# ----------------------------------------------------------------- cyclic


def test_weekend_code_matches_the_documented_example() -> None:
    """Weekend 8:00-17:00 from 2026-01-03: startDate 1767398400000, endDate
    1767430800000 (passcode/get, 2.1, China time)."""
    request = OfflineCodeRequest(
        OfflineKind.CYCLIC,
        datetime(2026, 1, 3, 8, tzinfo=CST),
        datetime(2026, 1, 3, 17, tzinfo=CST),
        repeat=Repeat.WEEKEND,
    )
    plan = ttlock_plan(request, NOW)
    params = get_params("24451", "Cleaner", plan)
    assert params["keyboardPwdType"] == 5
    assert params["startDate"] == 1767398400000
    assert params["endDate"] == 1767430800000
    assert plan.window.rules.repeat is Repeat.WEEKEND
    assert plan.window.rules.first_use_by == plan.window.start + timedelta(hours=24)


def test_cyclic_code_moves_to_the_nearest_matching_day() -> None:
    # Wednesday 7 January to Tuesday 13 January: the first Monday is the 12th.
    request = OfflineCodeRequest(
        OfflineKind.CYCLIC,
        datetime(2026, 1, 7, 9, 15, tzinfo=BERLIN),
        datetime(2026, 1, 13, 17, 45, tzinfo=BERLIN),
        repeat=Repeat.MONDAY,
    )
    window = ttlock_window(request)
    assert window.start == datetime(2026, 1, 12, 8, tzinfo=UTC)  # 09:00 CET
    assert window.end == datetime(2026, 1, 12, 16, tzinfo=UTC)  # 17:00 CET


def test_cyclic_code_on_a_matching_day_stays_there() -> None:
    request = OfflineCodeRequest(
        OfflineKind.CYCLIC,
        datetime(2026, 1, 7, 9, tzinfo=UTC),
        datetime(2026, 1, 7, 12, tzinfo=UTC),
        repeat=Repeat.WORKDAY,
    )
    assert ttlock_window(request).start == datetime(2026, 1, 7, 9, tzinfo=UTC)


def test_cyclic_code_without_a_matching_day_is_refused() -> None:
    err = _error(
        OfflineCodeRequest(
            OfflineKind.CYCLIC,
            datetime(2026, 1, 6, 9, tzinfo=UTC),  # Tuesday
            datetime(2026, 1, 8, 17, tzinfo=UTC),  # Thursday
            repeat=Repeat.MONDAY,
        )
    )
    assert err.translation_key == "offline_cyclic_no_matching_day"
    assert err.translation_placeholders == {
        "repeat": "monday",
        "first_day": "2026-01-06",
        "last_day": "2026-01-08",
    }


def test_cyclic_weekend_code_on_a_weekday_is_refused() -> None:
    err = _error(
        OfflineCodeRequest(
            OfflineKind.CYCLIC,
            datetime(2026, 1, 7, 8, tzinfo=UTC),
            datetime(2026, 1, 7, 17, tzinfo=UTC),
            repeat=Repeat.WEEKEND,
        )
    )
    assert err.translation_key == "offline_cyclic_no_matching_day"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2026, 1, 3, 22, tzinfo=UTC), datetime(2026, 1, 4, 6, tzinfo=UTC)),
        (
            datetime(2026, 1, 3, 9, 10, tzinfo=UTC),
            datetime(2026, 1, 3, 9, 50, tzinfo=UTC),
        ),
    ],
)
def test_cyclic_daily_window_must_be_within_one_day(
    start: datetime, end: datetime
) -> None:
    err = _error(
        OfflineCodeRequest(OfflineKind.CYCLIC, start, end, repeat=Repeat.DAILY)
    )
    assert err.translation_key == "offline_cyclic_daily_window"


# ------------------------------------------------------------ request shape


@pytest.mark.parametrize(
    ("request_", "key"),
    [
        (
            OfflineCodeRequest(OfflineKind.PERIOD, datetime(2026, 1, 2, 10)),
            "offline_naive_time",
        ),
        (
            OfflineCodeRequest(
                OfflineKind.PERIOD,
                datetime(2026, 1, 2, 10, tzinfo=UTC),
                datetime(2026, 1, 3, 10),
            ),
            "offline_naive_time",
        ),
        (
            OfflineCodeRequest(OfflineKind.PERIOD, datetime(2026, 1, 2, tzinfo=UTC)),
            "offline_end_required",
        ),
        (
            OfflineCodeRequest(
                OfflineKind.CYCLIC,
                datetime(2026, 1, 2, tzinfo=UTC),
                repeat=Repeat.DAILY,
            ),
            "offline_end_required",
        ),
        (
            OfflineCodeRequest(
                OfflineKind.PERMANENT,
                datetime(2026, 1, 2, tzinfo=UTC),
                datetime(2026, 1, 3, tzinfo=UTC),
            ),
            "offline_end_not_allowed",
        ),
        (
            OfflineCodeRequest(
                OfflineKind.ONE_TIME,
                datetime(2026, 1, 2, tzinfo=UTC),
                datetime(2026, 1, 3, tzinfo=UTC),
            ),
            "offline_end_not_allowed",
        ),
        (
            OfflineCodeRequest(
                OfflineKind.CYCLIC,
                datetime(2026, 1, 2, 8, tzinfo=UTC),
                datetime(2026, 1, 2, 9, tzinfo=UTC),
            ),
            "offline_repeat_required",
        ),
        (
            OfflineCodeRequest(
                OfflineKind.PERIOD,
                datetime(2026, 1, 2, 8, tzinfo=UTC),
                datetime(2026, 1, 2, 9, tzinfo=UTC),
                repeat=Repeat.DAILY,
            ),
            "offline_repeat_not_allowed",
        ),
        (
            OfflineCodeRequest(OfflineKind.CLEAR_ONE, datetime(2026, 1, 2, tzinfo=UTC)),
            "offline_target_required",
        ),
        (
            OfflineCodeRequest(
                OfflineKind.CLEAR_ONE,
                datetime(2026, 1, 2, tzinfo=UTC),
                target_code_id="1\x00",
            ),
            "offline_target_required",
        ),
        (
            OfflineCodeRequest(
                OfflineKind.PERMANENT,
                datetime(2026, 1, 2, tzinfo=UTC),
                target_code_id="5",
            ),
            "offline_target_not_allowed",
        ),
        (
            OfflineCodeRequest(
                OfflineKind.CLEAR_ONE,
                datetime(2026, 1, 2, tzinfo=UTC),
                target_code_id="5",
            ),
            "offline_kind_not_supported",
        ),
        (
            OfflineCodeRequest(OfflineKind.PERMANENT, datetime(2201, 1, 1, tzinfo=UTC)),
            "offline_date_out_of_range",
        ),
        (
            OfflineCodeRequest(
                OfflineKind.PERIOD,
                datetime(2026, 1, 2, tzinfo=UTC),
                datetime(9999, 12, 31, tzinfo=UTC),
            ),
            "offline_date_out_of_range",
        ),
    ],
)
def test_malformed_requests_are_refused_with_a_key(
    request_: OfflineCodeRequest, key: str
) -> None:
    assert _error(request_).translation_key == key


def test_unsupported_kind_names_the_cloud() -> None:
    err = _error(
        OfflineCodeRequest(
            OfflineKind.CLEAR_ONE, datetime(2026, 1, 2, tzinfo=UTC), target_code_id="5"
        )
    )
    assert err.translation_placeholders == {"kind": "clear_one", "provider": "TTLock"}
    assert "TTLock" in str(err)


# ------------------------------------------------------------- deadlines


def test_period_whose_start_is_over_a_day_ago_would_be_suspended() -> None:
    now = datetime(2026, 1, 3, 12, tzinfo=UTC)
    err = _error(
        OfflineCodeRequest(
            OfflineKind.PERIOD, now - timedelta(hours=25), now + timedelta(days=2)
        ),
        now=now,
    )
    assert err.translation_key == "offline_first_use_passed"
    assert err.translation_placeholders == {"deadline": "2026-01-03T11:00+00:00"}


def test_period_that_started_this_morning_is_still_usable() -> None:
    now = datetime(2026, 1, 3, 12, tzinfo=UTC)
    plan = ttlock_plan(
        OfflineCodeRequest(
            OfflineKind.PERIOD, now - timedelta(hours=3), now + timedelta(days=2)
        ),
        now,
    )
    assert plan.window.start == datetime(2026, 1, 3, 9, tzinfo=UTC)


def test_one_time_code_older_than_six_hours_is_refused() -> None:
    now = datetime(2026, 1, 3, 12, tzinfo=UTC)
    err = _error(
        OfflineCodeRequest(OfflineKind.ONE_TIME, now - timedelta(hours=6)), now=now
    )
    assert err.translation_key == "offline_first_use_passed"


def test_short_period_that_ended_is_refused() -> None:
    now = datetime(2026, 1, 3, 12, tzinfo=UTC)
    err = _error(
        OfflineCodeRequest(
            OfflineKind.PERIOD, now - timedelta(hours=4), now - timedelta(hours=1)
        ),
        now=now,
    )
    assert err.translation_key == "offline_window_passed"
    assert err.translation_placeholders == {"end": "2026-01-03T11:00+00:00"}


# ------------------------------------------------------------ listed codes


def test_rules_of_listed_random_codes() -> None:
    start = _ms(datetime(2026, 1, 2, 10, tzinfo=UTC))
    end = _ms(datetime(2026, 1, 5, 10, tzinfo=UTC))
    deadline = datetime(2026, 1, 3, 10, tzinfo=UTC)
    assert listed_offline_rules(
        {"isCustom": 0, "keyboardPwdType": 3, "startDate": start, "endDate": end}
    ) == OfflineRules(deadline)
    assert listed_offline_rules(
        {"isCustom": "0", "keyboardPwdType": "2", "startDate": start}
    ) == OfflineRules(deadline)
    assert listed_offline_rules(
        {"isCustom": 0, "keyboardPwdType": 1, "startDate": start}
    ) == OfflineRules(datetime(2026, 1, 2, 16, tzinfo=UTC), single_use=True)
    assert listed_offline_rules(
        {"isCustom": 0, "keyboardPwdType": 4, "startDate": start}
    ) == OfflineRules(deadline, single_use=True)
    assert listed_offline_rules(
        {"isCustom": 0, "keyboardPwdType": 13, "startDate": start, "endDate": end}
    ) == OfflineRules(deadline, repeat=Repeat.SATURDAY)
    # Custom codes, unknown types and odd dates have no offline rules.
    assert listed_offline_rules({"isCustom": 1, "keyboardPwdType": 3}) is None
    assert listed_offline_rules({"keyboardPwdType": 3, "startDate": start}) is None
    assert (
        listed_offline_rules({"isCustom": 0, "keyboardPwdType": 99, "startDate": start})
        is None
    )
    assert (
        listed_offline_rules(
            {"isCustom": 0, "keyboardPwdType": 3, "startDate": 10**15, "endDate": end}
        )
        is None
    )
    assert (
        listed_offline_rules({"isCustom": 0, "keyboardPwdType": 3, "startDate": 0})
        is None
    )
    assert (
        listed_offline_rules({"isCustom": 0, "keyboardPwdType": 3, "startDate": start})
        is None
    )


def test_offline_kinds_from_feature_bits() -> None:
    assert offline_kinds(0) == ()
    assert offline_kinds(1 << 1) == ()  # IC card only: no keypad
    plain = offline_kinds(1)
    assert OfflineKind.CYCLIC not in plain
    assert set(plain) == {
        OfflineKind.ONE_TIME,
        OfflineKind.PERIOD,
        OfflineKind.PERMANENT,
        OfflineKind.CLEAR_ALL,
    }
    assert OfflineKind.CYCLIC in offline_kinds(1 | 1 << 12)


# --------------------------------------------------------------- property

_ZONES = st.sampled_from(
    [UTC, CST, BERLIN, ZoneInfo("Asia/Kolkata"), ZoneInfo("America/St_Johns")]
)


@given(
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2150, 1, 1)),
    hours=st.integers(min_value=2, max_value=24 * 365),
    zone=_ZONES,
)
def test_period_window_is_whole_local_hours_within_the_request(
    start: datetime, hours: int, zone: timezone | ZoneInfo
) -> None:
    begins = start.replace(tzinfo=zone)
    request = OfflineCodeRequest(
        OfflineKind.PERIOD, begins, begins + timedelta(hours=hours)
    )
    window = ttlock_window(request)
    local_start = window.start.astimezone(zone)
    assert (local_start.minute, local_start.second) == (0, 0)
    assert window.start <= begins.astimezone(UTC)
    assert begins.astimezone(UTC) - window.start < timedelta(hours=1)
    assert window.end is not None
    assert window.end <= (begins + timedelta(hours=hours)).astimezone(UTC)
