"""Offline codes: the provider-neutral request and TTLock's documented rules.

An offline code is computed by the cloud from key data it shares with the lock
since pairing; the lock checks it by itself, so no gateway is needed (TTLock
"random passcodes", ``/v3/keyboardPwd/get``; Tuya "offline passwords"). Pure
functions, no I/O, no Home Assistant imports. Every rule below is checked
before anything reaches a cloud; each carries its source (the full list with
links is in docs/offline-codes.md).

Time zone: the rules are about the lock's wall clock (whole hours, days of the
week). They are evaluated in the time zone of the datetimes given, which the
integration takes from Home Assistant (the house's zone, normally the lock's);
naive datetimes are refused. Effective windows are returned in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from .bounds import MAX_YEAR, MIN_YEAR, has_unsafe_text
from .models import CodeKind, InvalidRequestError, OfflineKind, OfflineRules, Repeat

# "One-time passcode can only be used once in 6 hours after its start time";
# "Permanent / Timed passcode ... must be used at least once within 24 hours
# from its start time, or it will be suspended" (euopen.ttlock.com
# documentPages/htmlPages/userGuide/passcodeEn).
ONE_TIME_WINDOW: Final = timedelta(hours=6)
FIRST_USE_WINDOW: Final = timedelta(hours=24)

# keyboardPwdType values (euopen.ttlock.com document-pages/cloud/passcode/get,
# 2.1; the same list with names in doc/api/v2/keyboardPwd/get, version 4).
TTLOCK_ONE_TIME: Final = 1
TTLOCK_PERMANENT: Final = 2
TTLOCK_PERIOD: Final = 3
TTLOCK_DELETE: Final = 4
TTLOCK_CYCLIC: Final[dict[Repeat, int]] = {
    Repeat.WEEKEND: 5,
    Repeat.DAILY: 6,
    Repeat.WORKDAY: 7,
    Repeat.MONDAY: 8,
    Repeat.TUESDAY: 9,
    Repeat.WEDNESDAY: 10,
    Repeat.THURSDAY: 11,
    Repeat.FRIDAY: 12,
    Repeat.SATURDAY: 13,
    Repeat.SUNDAY: 14,
}
TTLOCK_KINDS: Final = (
    OfflineKind.ONE_TIME,
    OfflineKind.PERIOD,
    OfflineKind.PERMANENT,
    OfflineKind.CYCLIC,
    OfflineKind.CLEAR_ALL,
)

# date.weekday(): Monday is 0.
_REPEAT_DAYS: Final[dict[Repeat, frozenset[int]]] = {
    Repeat.WEEKEND: frozenset({5, 6}),
    Repeat.DAILY: frozenset(range(7)),
    Repeat.WORKDAY: frozenset(range(5)),
    Repeat.MONDAY: frozenset({0}),
    Repeat.TUESDAY: frozenset({1}),
    Repeat.WEDNESDAY: frozenset({2}),
    Repeat.THURSDAY: frozenset({3}),
    Repeat.FRIDAY: frozenset({4}),
    Repeat.SATURDAY: frozenset({5}),
    Repeat.SUNDAY: frozenset({6}),
}

_CODE_KINDS: Final = {
    OfflineKind.ONE_TIME: CodeKind.ONE_TIME,
    OfflineKind.PERIOD: CodeKind.PERIOD,
    OfflineKind.PERMANENT: CodeKind.PERMANENT,
    OfflineKind.CYCLIC: CodeKind.CYCLIC,
    OfflineKind.CLEAR_ALL: CodeKind.CLEAR,
    OfflineKind.CLEAR_ONE: CodeKind.CLEAR,
}

# Kinds whose window is given by the start alone (the cloud fixes the rest).
_NO_END: Final = frozenset(
    {
        OfflineKind.ONE_TIME,
        OfflineKind.PERMANENT,
        OfflineKind.CLEAR_ALL,
        OfflineKind.CLEAR_ONE,
    }
)


class OfflineCodeError(InvalidRequestError):
    """An offline-code request the cloud would refuse or the lock could not use.

    ``translation_key`` (the key under ``exceptions`` in strings.json) and
    ``translation_placeholders`` (strings) let the integration raise a
    translated ``ServiceValidationError``; the message is the English text.
    """

    def __init__(self, translation_key: str, message: str, **placeholders: str) -> None:
        super().__init__(message)
        self.translation_key = translation_key
        self.translation_placeholders = placeholders


@dataclass(frozen=True, slots=True)
class OfflineCodeRequest:
    """What the caller wants; the cloud's rules decide what it gets.

    ``start``/``end`` are aware datetimes on the lock's wall clock. ``end`` is
    required for PERIOD and CYCLIC and refused for the kinds whose window the
    cloud fixes. For CYCLIC, ``start``'s and ``end``'s times of day are the
    daily window and the first day of ``repeat`` from ``start``'s date up to
    ``end``'s date is the first day it works. ``target_code_id`` names the
    code a CLEAR_ONE code clears.
    """

    kind: OfflineKind
    start: datetime
    end: datetime | None = None
    repeat: Repeat | None = None
    target_code_id: str | None = None


@dataclass(frozen=True, slots=True)
class OfflineWindow:
    """The window the lock will apply (UTC) and the code's rules."""

    start: datetime
    end: datetime | None
    rules: OfflineRules


@dataclass(frozen=True, slots=True)
class TTLockPlan:
    """A checked TTLock request: its ``keyboardPwdType`` and effective window."""

    pwd_type: int
    window: OfflineWindow


# ------------------------------------------------------------------ helpers


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="minutes")


def code_kind(kind: OfflineKind) -> CodeKind:
    """The ``Passcode.kind`` of an offline kind."""
    return _CODE_KINDS[kind]


def floor_hour(value: datetime) -> datetime:
    """The whole hour at or before ``value``, on ``value``'s own wall clock.

    TTLock: "start and end can only be whole hours: a startDate of 19:20 is
    valid from 19:00" (document-pages/cloud/passcode/get). Tuya: "take the
    whole hour: 15:11:12 becomes 15:00:00" (cloud/009bdf7768, offline temp
    password).
    """
    return value.replace(minute=0, second=0, microsecond=0)


def add_year(value: datetime) -> datetime:
    """The same wall-clock time a calendar year later (29 Feb -> 28 Feb)."""
    try:
        return value.replace(year=value.year + 1)
    except ValueError:
        return value.replace(year=value.year + 1, day=28)


def repeat_matches(repeat: Repeat, day: date) -> bool:
    """Whether a cyclic code of ``repeat`` works on ``day``."""
    return day.weekday() in _REPEAT_DAYS[repeat]


def check_name(name: str, *, max_length: int | None = None) -> None:
    """A code name the cloud and every log line can take."""
    if has_unsafe_text(name):
        raise OfflineCodeError(
            "offline_name_invalid",
            "The code name holds control characters",
        )
    if max_length is not None and len(name) > max_length:
        raise OfflineCodeError(
            "offline_name_too_long",
            f"The code name is longer than {max_length} characters",
            max_length=str(max_length),
        )


def _check_time(value: datetime, field: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise OfflineCodeError(
            "offline_naive_time",
            f"The code's {field} has no time zone",
            field=field,
        )
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise OfflineCodeError(
            "offline_date_out_of_range",
            f"The code's {field} is not between {MIN_YEAR} and {MAX_YEAR}",
            field=field,
            min_year=str(MIN_YEAR),
            max_year=str(MAX_YEAR),
        )


def check_shape(request: OfflineCodeRequest) -> None:
    """Fields present, absent and typed as the kind needs (any cloud)."""
    kind = request.kind
    _check_time(request.start, "start")
    if request.end is not None:
        _check_time(request.end, "end")
    if kind in _NO_END and request.end is not None:
        raise OfflineCodeError(
            "offline_end_not_allowed",
            f"A {kind} offline code takes no end: the cloud sets its window",
            kind=str(kind),
        )
    if kind not in _NO_END and request.end is None:
        raise OfflineCodeError(
            "offline_end_required",
            f"A {kind} offline code needs an end",
            kind=str(kind),
        )
    if kind is OfflineKind.CYCLIC and request.repeat is None:
        raise OfflineCodeError(
            "offline_repeat_required",
            "A cyclic offline code needs the days it repeats on",
        )
    if kind is not OfflineKind.CYCLIC and request.repeat is not None:
        raise OfflineCodeError(
            "offline_repeat_not_allowed",
            f"Only cyclic offline codes repeat, not {kind} ones",
            kind=str(kind),
        )
    if kind is OfflineKind.CLEAR_ONE:
        target = request.target_code_id
        if not target or has_unsafe_text(target) or len(target) > 128:
            raise OfflineCodeError(
                "offline_target_required",
                "A code that clears one offline code needs that code's id",
            )
    elif request.target_code_id is not None:
        raise OfflineCodeError(
            "offline_target_not_allowed",
            f"A {kind} offline code clears no particular code",
            kind=str(kind),
        )


def not_supported(kind: OfflineKind, provider: str) -> OfflineCodeError:
    """The error for a kind this cloud does not offer."""
    return OfflineCodeError(
        "offline_kind_not_supported",
        f"{provider} offers no {kind} offline codes",
        kind=str(kind),
        provider=provider,
    )


def check_usable(window: OfflineWindow, now: datetime) -> None:
    """Refuse a code that could never be entered (its deadlines have passed).

    A period code whose start is more than 24 h ago is suspended before the
    guest can use it; the cloud would still hand it out.
    """
    rules = window.rules
    if rules.first_use_by is not None and rules.first_use_by <= now:
        raise OfflineCodeError(
            "offline_first_use_passed",
            "Too late: the lock would suspend the code before its first entry "
            f"(it had to be entered by {_iso(rules.first_use_by)})",
            deadline=_iso(rules.first_use_by),
        )
    if window.end is not None and window.end <= now:
        raise OfflineCodeError(
            "offline_window_passed",
            f"The code's window ended at {_iso(window.end)}",
            end=_iso(window.end),
        )


def period_rules(start: datetime, end: datetime) -> OfflineRules:
    """A period code: first entry within 24 h unless the window ends first."""
    deadline = start + FIRST_USE_WINDOW
    return OfflineRules(first_use_by=deadline if deadline < end else None)


def check_window(start: datetime, end: datetime) -> None:
    """An effective window that is not empty."""
    if end <= start:
        raise OfflineCodeError(
            "offline_window_empty",
            "The code's window is empty once start and end are rounded down to "
            f"whole hours ({_iso(start)} to {_iso(end)})",
            start=_iso(start),
            end=_iso(end),
        )


# ------------------------------------------------------------------- TTLock


def ttlock_type(request: OfflineCodeRequest) -> int:
    """The ``keyboardPwdType`` for a request (shape already checked)."""
    kind = request.kind
    if kind is OfflineKind.ONE_TIME:
        return TTLOCK_ONE_TIME
    if kind is OfflineKind.PERMANENT:
        return TTLOCK_PERMANENT
    if kind is OfflineKind.PERIOD:
        return TTLOCK_PERIOD
    if kind is OfflineKind.CLEAR_ALL:
        return TTLOCK_DELETE
    if kind is OfflineKind.CYCLIC and request.repeat is not None:
        return TTLOCK_CYCLIC[request.repeat]
    raise not_supported(kind, "TTLock")


def _first_cyclic_day(repeat: Repeat, first: date, last: date) -> date | None:
    """The nearest day of ``repeat`` in [first, last] (a week always holds one)."""
    day = first
    for _ in range(7):
        if day > last:
            return None
        if repeat_matches(repeat, day):
            return day
        day += timedelta(days=1)
    return None


def _ttlock_cyclic(request: OfflineCodeRequest) -> OfflineWindow:
    """TTLock cyclic codes: one day's window on the nearest matching day.

    "For cyclic types pass startDate and endDate on the nearest day matching
    the cycle; from that date on each day is checked against the cycle"
    (document-pages/cloud/passcode/get, 2.1, example: weekend 8:00-17:00 on
    2026-01-03). Start and end on other days are refused ("The time of REPEAT
    is incorrect", ttlock/Android_TTLock_Demo_Deprecated#2).
    """
    assert request.end is not None
    assert request.repeat is not None
    start, end = floor_hour(request.start), floor_hour(request.end)
    day_start: time = start.time()
    day_end: time = end.time()
    if (day_end.hour, day_end.minute) <= (day_start.hour, day_start.minute):
        raise OfflineCodeError(
            "offline_cyclic_daily_window",
            "A cyclic code works between two times of one day: "
            f"{day_end.strftime('%H:%M')} is not after {day_start.strftime('%H:%M')}",
            start_time=day_start.strftime("%H:%M"),
            end_time=day_end.strftime("%H:%M"),
        )
    first_day = _first_cyclic_day(request.repeat, start.date(), end.date())
    if first_day is None:
        raise OfflineCodeError(
            "offline_cyclic_no_matching_day",
            f"No {request.repeat} day between {start.date()} and {end.date()}",
            repeat=str(request.repeat),
            first_day=start.date().isoformat(),
            last_day=end.date().isoformat(),
        )
    tz = start.tzinfo
    begins = datetime.combine(first_day, day_start, tz)
    ends = datetime.combine(first_day, day_end, tz)
    begins_utc = begins.astimezone(UTC)
    return OfflineWindow(
        start=begins_utc,
        end=ends.astimezone(UTC),
        rules=OfflineRules(
            # Not stated for cyclic codes on the API page; the TTLock
            # distributors' guides say it of every offline code but one-time
            # (help.33lock.com/passcode-types): assumed, so a repair warns
            # rather than a code lapsing unnoticed.
            first_use_by=begins_utc + FIRST_USE_WINDOW,
            repeat=request.repeat,
        ),
    )


def ttlock_window(request: OfflineCodeRequest) -> OfflineWindow:
    """The window TTLock will give a request, and the code's rules.

    Raises ``OfflineCodeError`` for windows the cloud refuses (empty, longer
    than a year, cyclic without a matching day or across midnight).
    """
    check_shape(request)
    kind = request.kind
    if kind is OfflineKind.CYCLIC:
        return _ttlock_cyclic(request)
    start_local = floor_hour(request.start)
    start = start_local.astimezone(UTC)
    if kind is OfflineKind.ONE_TIME:
        end = start + ONE_TIME_WINDOW
        return OfflineWindow(start, end, OfflineRules(end, single_use=True))
    if kind is OfflineKind.PERMANENT:
        return OfflineWindow(start, None, OfflineRules(start + FIRST_USE_WINDOW))
    if kind is OfflineKind.CLEAR_ALL:
        # TTLock documents no deadline for its delete code; the 24 h of its
        # other codes is assumed (Tuya's clearing codes also last 24 h).
        return OfflineWindow(
            start, None, OfflineRules(start + FIRST_USE_WINDOW, single_use=True)
        )
    if kind is OfflineKind.PERIOD:
        assert request.end is not None
        end_local = floor_hour(request.end)
        end = end_local.astimezone(UTC)
        check_window(start, end)
        # "The span of a period passcode cannot exceed one year"
        # (document-pages/cloud/passcode/get).
        latest = add_year(start_local)
        if end_local > latest:
            raise OfflineCodeError(
                "offline_window_too_long",
                "An offline period code lasts at most one year: "
                f"from {_iso(start_local)} it can end by {_iso(latest)}",
                start=_iso(start_local),
                end=_iso(end_local),
                latest_end=_iso(latest),
            )
        return OfflineWindow(start, end, period_rules(start, end))
    raise not_supported(kind, "TTLock")


def ttlock_plan(request: OfflineCodeRequest, now: datetime) -> TTLockPlan:
    """Check a request against TTLock's rules at ``now``; type and window."""
    window = ttlock_window(request)
    pwd_type = ttlock_type(request)
    check_usable(window, now)
    return TTLockPlan(pwd_type=pwd_type, window=window)
