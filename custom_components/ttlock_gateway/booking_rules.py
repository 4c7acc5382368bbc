"""Pure rules of the booking sync: followed-calendar settings, a booking's
window and key, and its code (deterministic per booking).

No Home Assistant state here, so the rules are testable on their own and the
sync (``booking.py``) only compares and calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
import hashlib
import hmac
import re
from typing import Any

from homeassistant.util import dt as dt_util

from .providers.bounds import has_unsafe_text
from .providers.models import Capabilities

CONF_BOOKING_CALENDARS = "booking_calendars"
CONF_CALENDAR = "calendar"
CONF_LOCKS = "locks"
CONF_CHECK_IN = "check_in"
CONF_CHECK_OUT = "check_out"
CONF_BUFFER_BEFORE = "buffer_before"  # minutes
CONF_BUFFER_AFTER = "buffer_after"  # minutes
CONF_CODE_RULE = "code_rule"
CONF_PHONE_DIGITS = "phone_digits"

RULE_RANDOM = "random"
RULE_PHONE = "phone"

DEFAULT_CHECK_IN = "15:00:00"
DEFAULT_CHECK_OUT = "11:00:00"
DEFAULT_PHONE_DIGITS = 4

# Ledger names are 1-50 characters (services.NAME_MAX_LENGTH).
NAME_MAX = 50
# Longer (or unsafe) uids are stored as their hash: the key stays stable and
# the ledger file stays clean.
UID_MAX = 200
_CANDIDATES = 1000

# Airbnb's iCal feed marks nights the host blocked as "Airbnb (Not available)";
# they are not stays (seen in public Airbnb exports, e.g. Rental Control's
# fixtures).
_NOT_A_STAY = re.compile(r"\bnot available\b", re.IGNORECASE)
# A phone number: a line naming one ("Phone Number (Last 4 Digits): 5678",
# Airbnb's wording) or a run of at least 7 digits with the usual separators.
_PHONE_LINE = re.compile(r"phone[^\n]*?([+\d][\d \-().]*\d)", re.IGNORECASE)
_PHONE_ANY = re.compile(r"\+?\d[\d \-().]{5,}\d")


@dataclass(frozen=True, slots=True)
class FollowedCalendar:
    """One followed booking calendar of an entry (options)."""

    calendar: str
    locks: tuple[str, ...]
    check_in: time
    check_out: time
    buffer_before: timedelta
    buffer_after: timedelta
    code_rule: str
    phone_digits: int

    @classmethod
    def from_options(cls, raw: Mapping[str, Any]) -> FollowedCalendar:
        """From the stored options (validated by the options flow)."""
        return cls(
            calendar=str(raw[CONF_CALENDAR]),
            locks=tuple(str(lock) for lock in raw.get(CONF_LOCKS) or ()),
            check_in=_time(raw.get(CONF_CHECK_IN, DEFAULT_CHECK_IN)),
            check_out=_time(raw.get(CONF_CHECK_OUT, DEFAULT_CHECK_OUT)),
            buffer_before=timedelta(minutes=int(raw.get(CONF_BUFFER_BEFORE, 0))),
            buffer_after=timedelta(minutes=int(raw.get(CONF_BUFFER_AFTER, 0))),
            code_rule=str(raw.get(CONF_CODE_RULE, RULE_RANDOM)),
            phone_digits=int(raw.get(CONF_PHONE_DIGITS, DEFAULT_PHONE_DIGITS)),
        )


def followed_calendars(options: Mapping[str, Any]) -> list[FollowedCalendar]:
    """The entry's followed calendars (one per calendar entity)."""
    seen: set[str] = set()
    result = []
    for raw in options.get(CONF_BOOKING_CALENDARS) or []:
        followed = FollowedCalendar.from_options(raw)
        if followed.calendar not in seen:
            seen.add(followed.calendar)
            result.append(followed)
    return result


def _time(raw: Any) -> time:
    parsed = dt_util.parse_time(str(raw))
    if parsed is None:
        raise ValueError(f"not a time: {raw!r}")
    return parsed


@dataclass(frozen=True, slots=True)
class Booking:
    """A booking as the sync wants it on the locks."""

    uid: str
    recurrence_id: str | None
    name: str
    start: datetime  # UTC
    end: datetime  # UTC
    description: str

    @property
    def key(self) -> tuple[str, str]:
        """Its key within one calendar (uid, recurrence id)."""
        return (self.uid, self.recurrence_id or "")


def safe_uid(uid: str | None, summary: str, start: date | datetime) -> str:
    """A stable, storable uid: the event's, hashed when long or unsafe, or
    one made from the summary and start when the calendar gives none."""
    if uid and len(uid) <= UID_MAX and not has_unsafe_text(uid):
        return uid
    basis = uid if uid else f"{summary}\x00{start.isoformat()}"
    return "h-" + hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()


def booking_name(summary: str) -> str:
    """The code's name: the summary made safe and short (never empty)."""
    cleaned = "".join(
        ch if not has_unsafe_text(ch) else " " for ch in summary or ""
    ).strip()
    cleaned = " ".join(cleaned.split())
    return cleaned[:NAME_MAX].strip() or "Booking"


def is_stay(summary: str) -> bool:
    """False for the blocked nights some feeds list as events."""
    return _NOT_A_STAY.search(summary or "") is None


def stay_window(
    followed: FollowedCalendar, start: date | datetime, end: date | datetime
) -> tuple[datetime, datetime]:
    """The code's window in UTC: all-day events take the check-in and
    check-out times (local), timed events their own; then the buffers."""
    if isinstance(start, datetime):
        begin = (
            start
            if start.tzinfo
            else start.replace(tzinfo=dt_util.get_default_time_zone())
        )
    else:
        begin = datetime.combine(
            start, followed.check_in, tzinfo=dt_util.get_default_time_zone()
        )
    if isinstance(end, datetime):
        finish = (
            end if end.tzinfo else end.replace(tzinfo=dt_util.get_default_time_zone())
        )
    else:
        # An all-day event's end date is the (exclusive) check-out day.
        finish = datetime.combine(
            end, followed.check_out, tzinfo=dt_util.get_default_time_zone()
        )
    begin = dt_util.as_utc(begin) - followed.buffer_before
    finish = dt_util.as_utc(finish) + followed.buffer_after
    return begin, finish


def phone_digits(description: str, count: int) -> str | None:
    """The last ``count`` digits of the phone number in a description."""
    text = description or ""
    found = _PHONE_LINE.findall(text) or _PHONE_ANY.findall(text)
    for candidate in reversed(found):
        digits = re.sub(r"\D", "", candidate)
        if len(digits) >= count:
            return digits[-count:]
    return None


def seeded_code(secret: bytes, key: str, length: int, attempt: int) -> str:
    """Digits from HMAC(secret, booking key): the same for every re-sync."""
    mac = hmac.new(secret, f"{key}\x00{attempt}".encode(), hashlib.sha256)
    value = int.from_bytes(mac.digest(), "big") % 10**length
    return f"{value:0{length}d}"


def acceptable(code: str, caps: Capabilities, taken: set[str]) -> bool:
    """Whether digits can go to a lock."""
    return (
        caps.code_min_length <= len(code) <= caps.code_max_length
        and code not in taken
        and len(set(code)) > 1
        and (caps.code_leading_zero or not code.startswith("0"))
    )


def booking_code(
    followed: FollowedCalendar,
    secret: bytes,
    key: str,
    description: str,
    caps: Capabilities,
    length: int,
    taken: set[str],
) -> tuple[str, bool] | None:
    """The booking's digits and whether the phone rule gave them.

    The phone rule falls back to the seeded rule when the description has no
    phone number or its digits do not fit the lock (length, taken).
    """
    if followed.code_rule == RULE_PHONE:
        phone = phone_digits(description, followed.phone_digits)
        if phone is not None and acceptable(phone, caps, taken):
            return phone, True
    for attempt in range(_CANDIDATES):
        code = seeded_code(secret, key, length, attempt)
        if acceptable(code, caps, taken):
            return code, False
    return None
