"""The booking sync's pure rules: digits, phone numbers, uids, names, windows."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest

from custom_components.ttlock_gateway.booking_rules import (
    FollowedCalendar,
    acceptable,
    booking_code,
    booking_name,
    is_stay,
    phone_digits,
    safe_uid,
    seeded_code,
    stay_window,
)
from custom_components.ttlock_gateway.providers.models import Capabilities

TTLOCK = Capabilities(codes=True, code_min_length=4, code_max_length=9)
TUYA_WIFI = Capabilities(codes=True, code_min_length=7, code_max_length=7)
NO_ZERO = Capabilities(
    codes=True, code_min_length=4, code_max_length=9, code_leading_zero=False
)


def followed(**changes: object) -> FollowedCalendar:
    base = {
        "calendar": "calendar.airbnb",
        "locks": ["1"],
        "check_in": "15:00:00",
        "check_out": "11:00:00",
        "buffer_before": 0,
        "buffer_after": 0,
        "code_rule": "random",
        "phone_digits": 4,
    }
    base.update(changes)
    return FollowedCalendar.from_options(base)


def test_seeded_code_is_the_bookings_own() -> None:
    secret = bytes(range(32))
    first = seeded_code(secret, "uid-1\x00", 6, 0)
    assert first == seeded_code(secret, "uid-1\x00", 6, 0)
    assert len(first) == 6
    assert first != seeded_code(secret, "uid-2\x00", 6, 0)
    assert first != seeded_code(bytes(32), "uid-1\x00", 6, 0)
    # Another entry (another secret) gives other digits for the same uid.
    codes = {seeded_code(secret, f"uid-{n}\x00", 6, 0) for n in range(200)}
    assert len(codes) > 190


def test_booking_code_skips_taken_and_falls_back() -> None:
    secret = bytes(range(32))
    first, phone = booking_code(followed(), secret, "k", "", TTLOCK, 6, set()) or (
        "",
        True,
    )
    assert not phone
    second, _ = booking_code(followed(), secret, "k", "", TTLOCK, 6, {first}) or ("", 0)
    assert second not in ("", first)
    rule = followed(code_rule="phone", phone_digits=4)
    assert booking_code(rule, secret, "k", "Phone: 5678", TTLOCK, 6, set()) == (
        "5678",
        True,
    )
    # Tuya Wi-Fi locks take 7 digits only: 4 phone digits do not fit.
    code, phone = booking_code(
        rule, secret, "k", "Phone: 5678", TUYA_WIFI, 7, set()
    ) or (
        "",
        True,
    )
    assert len(code) == 7
    assert not phone


@pytest.mark.parametrize(
    ("description", "count", "expected"),
    [
        ("Phone Number (Last 4 Digits): 4821", 4, "4821"),
        (
            "Reservation URL: https://x/HM12345678\nPhone Number (Last 4 Digits): 4821",
            4,
            "4821",
        ),
        ("Guest phone: +49 (30) 1234-5678", 6, "345678"),
        ("Call +1 415 555 0172 on arrival", 7, "5550172"),
        ("Phone Number (Last 4 Digits): 4821", 6, None),
        ("Order 12345", 4, None),
        ("", 4, None),
    ],
)
def test_phone_digits(description: str, count: int, expected: str | None) -> None:
    assert phone_digits(description, count) == expected


def test_acceptable() -> None:
    assert acceptable("0148", TTLOCK, set())
    assert not acceptable("0148", NO_ZERO, set())
    assert not acceptable("1111", TTLOCK, set())
    assert not acceptable("123", TTLOCK, set())
    assert not acceptable("4821", TTLOCK, {"4821"})


def test_uids_and_names() -> None:
    assert safe_uid("abc@airbnb.com", "Reserved", date(2026, 1, 1)) == "abc@airbnb.com"
    long = safe_uid("x" * 500, "Reserved", date(2026, 1, 1))
    assert long.startswith("h-")
    assert long == safe_uid("x" * 500, "Other", date(2027, 1, 1))
    assert safe_uid("bad\x00uid", "R", date(2026, 1, 1)).startswith("h-")
    made = safe_uid(None, "Reserved", date(2026, 1, 1))
    assert made == safe_uid(None, "Reserved", date(2026, 1, 1))
    assert made != safe_uid(None, "Reserved", date(2026, 1, 2))
    assert booking_name("  Reserved\x07 \n stay ") == "Reserved stay"
    assert booking_name("") == "Booking"
    assert len(booking_name("y" * 80)) == 50
    assert not is_stay("Airbnb (Not available)")
    assert is_stay("Reserved")


async def test_windows_across_dst(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone("Europe/Berlin")
    rule = followed(buffer_before=60, buffer_after=30)
    # Clocks go forward on 2027-03-28 in Berlin.
    start, end = stay_window(rule, date(2027, 3, 26), date(2027, 3, 30))
    assert start == datetime(2027, 3, 26, 13, 0, tzinfo=dt_util.UTC)
    assert end == datetime(2027, 3, 30, 9, 30, tzinfo=dt_util.UTC)
    # Timed events keep their own times (only the buffers apply).
    timed = datetime(2027, 3, 27, 18, 0, tzinfo=dt_util.UTC)
    start, end = stay_window(rule, timed, timed + timedelta(days=2))
    assert start == timed - timedelta(hours=1)
    assert end == timed + timedelta(days=2, minutes=30)
    assert rule.check_in == time(15, 0)
