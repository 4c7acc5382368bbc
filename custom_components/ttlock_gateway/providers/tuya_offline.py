"""Tuya offline temporary passwords and dynamic passwords: rules and wire format.

``POST /v1.1/devices/{device_id}/door-lock/offline-temp-password`` (Tuya
"Generate Offline Temporary Password", developer.tuya.com/en/docs/cloud/
009bdf7768?id=Kaospm7walgd5) computes a code the lock checks by itself, with
``type`` multiple (a window, many uses), once (one use within 6 h from now),
clear_one (a clearing code for one offline password) or clear_all (a clearing
code for all of them). Tuya has no permanent or cyclic offline password and no
call that deletes one: "offline passwords are deleted by entering a clearing
code on the lock" (Smart Lock Basic API, app-development/lockBaseAPI).

``GET /v1.0/devices/{device_id}/door-lock/dynamic-password`` (seed 001,
doorLock.getDynamicPassword) gives a code valid for about 5 minutes.

Pure functions, no I/O; rules in docs/offline-codes.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import re
from typing import Any, Final

from .bounds import InvalidAnswerError, opt_datetime_from_s, require_id
from .models import CodePhase, OfflineKind, OfflineRules, Passcode
from .offline_codes import (
    ONE_TIME_WINDOW,
    OfflineCodeError,
    OfflineCodeRequest,
    OfflineWindow,
    check_shape,
    check_usable,
    check_window,
    code_kind,
    floor_hour,
    not_supported,
    period_rules,
)

OFFLINE_PATH: Final = "/v1.1/devices/{device_id}/door-lock/offline-temp-password"
DYNAMIC_PATH: Final = "/v1.0/devices/{device_id}/door-lock/dynamic-password"

TUYA_KINDS: Final = (
    OfflineKind.ONE_TIME,
    OfflineKind.PERIOD,
    OfflineKind.CLEAR_ALL,
    OfflineKind.CLEAR_ONE,
)
_TYPES: Final = {
    OfflineKind.PERIOD: "multiple",
    OfflineKind.ONE_TIME: "once",
    OfflineKind.CLEAR_ONE: "clear_one",
    OfflineKind.CLEAR_ALL: "clear_all",
}

# CLEAR_ALL: "invalid_time is the current whole hour plus 24 hours" (same page);
# clearing codes "are valid for 24 hours" (MiniApp temporary password guide).
CLEAR_WINDOW: Final = timedelta(hours=24)
# "Dynamic passwords are valid for 5 minutes after generation" (MiniApp guide,
# doorlock-solution/sdk-guide/temporary; the password SDK page says 5-10).
DYNAMIC_VALIDITY: Final = timedelta(minutes=5)
# "Password name too long (exceeds 20 characters)", error 1031 of the lock
# SDK that calls the same cloud (ray-js lock-sdk createTempOffline).
NAME_MAX_LENGTH: Final = 20

# Status codes a lock reports after offline passwords are used or cleared
# (Tuya lock DP set: unlock_offline_pd, unlock_offline_clear,
# unlock_offline_clear_single; seen in make-all/tuya-local#2735's dump). A lock
# that has none gives no sign of supporting offline passwords.
OFFLINE_STATUS_CODES: Final = frozenset(
    {"unlock_offline_pd", "unlock_offline_clear", "unlock_offline_clear_single"}
)

# The digits as the keypad takes them; a number would lose a leading zero.
_DIGITS: Final = re.compile(r"[0-9]{4,16}")


@dataclass(frozen=True, slots=True)
class TuyaOfflinePlan:
    """A checked request: the JSON body and the window the cloud will give."""

    body: dict[str, Any]
    window: OfflineWindow


def offline_kinds(status_codes: frozenset[str] | set[str]) -> tuple[OfflineKind, ...]:
    """Offline kinds a lock offers, from the status codes it reports."""
    return TUYA_KINDS if status_codes & OFFLINE_STATUS_CODES else ()


def _seconds(value: datetime) -> int:
    return int(value.timestamp())


def _check_now(request: OfflineCodeRequest, now: datetime) -> None:
    """once and clearing codes start at the cloud's current hour, whatever is sent.

    A start in the past changes nothing; one in a later hour cannot be had.
    """
    if floor_hour(request.start) > floor_hour(now.astimezone(request.start.tzinfo)):
        raise OfflineCodeError(
            "offline_start_not_now",
            f"A {request.kind} Tuya offline code starts now: the cloud sets its "
            "window from the current hour",
            kind=str(request.kind),
        )


def tuya_plan(request: OfflineCodeRequest, name: str, now: datetime) -> TuyaOfflinePlan:
    """Check a request against Tuya's documented rules; body and window.

    Effective and invalid times are whole hours: "15:11:12 becomes 15:00:00"
    (Generate Offline Temporary Password, effective_time / invalid_time).
    """
    check_shape(request)
    kind = request.kind
    type_name = _TYPES.get(kind)
    if type_name is None:
        raise not_supported(kind, "Tuya")
    body: dict[str, Any] = {"type": type_name}
    if name:
        body["name"] = name
    current_hour = floor_hour(now).astimezone(UTC)
    if kind is OfflineKind.ONE_TIME:
        # "ONCE: effective_time is the current whole hour, invalid_time that
        # plus 6 hours"; usable once.
        _check_now(request, now)
        end = current_hour + ONE_TIME_WINDOW
        window = OfflineWindow(current_hour, end, OfflineRules(end, single_use=True))
    elif kind is OfflineKind.CLEAR_ALL:
        _check_now(request, now)
        end = current_hour + CLEAR_WINDOW
        window = OfflineWindow(current_hour, end, OfflineRules(end, single_use=True))
    elif kind is OfflineKind.CLEAR_ONE:
        # "password_id: only for clear_one"; its times are rounded like
        # multiple's, so the clearing code's 24 h are sent explicitly.
        _check_now(request, now)
        end = current_hour + CLEAR_WINDOW
        assert request.target_code_id is not None
        body["password_id"] = request.target_code_id
        body["effective_time"] = _seconds(current_hour)
        body["invalid_time"] = _seconds(end)
        window = OfflineWindow(current_hour, end, OfflineRules(end, single_use=True))
    else:
        # multiple: "effective_time and invalid_time are required".
        assert request.end is not None
        start = floor_hour(request.start).astimezone(UTC)
        end = floor_hour(request.end).astimezone(UTC)
        check_window(start, end)
        body["effective_time"] = _seconds(start)
        body["invalid_time"] = _seconds(end)
        # "A time-limited password must be used once within 24 hours after it
        # takes effect" (Temporary Password SDK, iot/ms-password-sdk).
        window = OfflineWindow(start, end, period_rules(start, end))
    check_usable(window, now)
    return TuyaOfflinePlan(body=body, window=window)


def _digits(raw: Any, what: str) -> str:
    if not isinstance(raw, str) or not _DIGITS.fullmatch(raw):
        raise InvalidAnswerError(f"{what}: not a string of 4-16 digits")
    return raw


def passcode_from_result(
    lock_id: str,
    name: str,
    kind: OfflineKind,
    plan: TuyaOfflinePlan,
    result: Any,
) -> Passcode:
    """The cloud's answer as a ``Passcode``; its own window wins over the plan's.

    Result fields: offline_temp_password_id, offline_temp_password,
    offline_temp_password_name, effective_time, invalid_time (seconds).
    """
    if not isinstance(result, Mapping):
        raise InvalidAnswerError("offline password: no result object")
    digits = _digits(result.get("offline_temp_password"), "offline_temp_password")
    code_id = require_id(result.get("offline_temp_password_id"), "offline_password_id")
    start = opt_datetime_from_s(result.get("effective_time"), "effective_time")
    end = opt_datetime_from_s(result.get("invalid_time"), "invalid_time")
    window = plan.window
    if start is None or end is None:
        start, end, rules = window.start, window.end, window.rules
    else:
        if end <= start:
            raise InvalidAnswerError("offline password: window ends before it starts")
        if kind is OfflineKind.PERIOD:
            rules = period_rules(start, end)
        else:
            rules = OfflineRules(end, single_use=True)
    return Passcode(
        code_id=code_id,
        lock_id=lock_id,
        name=name,
        kind=code_kind(kind),
        code=digits,
        start=start,
        end=end,
        phase=CodePhase.DELIVERED,
        offline=rules,
    )


def dynamic_from_result(result: Any, now: datetime) -> tuple[str, datetime]:
    """A dynamic password and when it stops working."""
    if not isinstance(result, Mapping):
        raise InvalidAnswerError("dynamic password: no result object")
    digits = _digits(result.get("dynamic_password"), "dynamic_password")
    return digits, now.astimezone(UTC) + DYNAMIC_VALIDITY
