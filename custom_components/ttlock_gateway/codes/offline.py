"""Offline codes in the ledger: the request a record stands for, and its rules.

An offline code's record holds the window the lock applies (the cloud's
rounding, known before the request is sent) and the kind asked for; the
digits arrive with the cloud's answer. Sending the record's own window again
asks for the same code, so a retry after a lost answer or a restart finds the
one already made (``TTLockClient.async_get_random_code`` adopts it) instead of
a second one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.util import dt as dt_util

from ..providers.models import OfflineKind, OfflineRules, Passcode, Repeat
from ..providers.offline_codes import OfflineCodeRequest, OfflineWindow
from .model import CodeRecord

# The reminder goes out this long before the lock would suspend an unused
# offline code: 20 h after the start of a code that must be entered within
# 24 h (issue 18).
FIRST_USE_WARNING = timedelta(hours=4)

# Kinds whose end the caller gives (the others end by rule).
_WITH_END = frozenset({OfflineKind.PERIOD, OfflineKind.CYCLIC})


def offline_request(record: CodeRecord) -> OfflineCodeRequest:
    """The request for a record's code, on Home Assistant's (the house's) clock."""
    assert record.offline_kind is not None
    assert record.start is not None
    kind = OfflineKind(record.offline_kind)
    zone = dt_util.get_default_time_zone()
    end = None
    if kind in _WITH_END:
        assert record.end is not None
        end = record.end.astimezone(zone)
    return OfflineCodeRequest(
        kind,
        start=record.start.astimezone(zone),
        end=end,
        repeat=Repeat(record.repeat) if record.repeat else None,
    )


def apply_rules(record: CodeRecord, rules: OfflineRules) -> None:
    """Copy a code's rules into its record."""
    record.first_use_by = rules.first_use_by
    record.single_use = rules.single_use
    record.repeat = rules.repeat.value if rules.repeat else record.repeat


def apply_window(record: CodeRecord, window: OfflineWindow) -> None:
    """The window and rules the lock will apply (before the request is sent)."""
    record.start = window.start
    record.end = window.end
    apply_rules(record, window.rules)


def take_answer(record: CodeRecord, passcode: Passcode) -> None:
    """The cloud's answer: its digits, and its window where it states one."""
    if passcode.code is not None:
        record.code = passcode.code
    if passcode.start is not None:
        record.start = passcode.start
        record.end = passcode.end
    if passcode.offline is not None:
        apply_rules(record, passcode.offline)


def reminder_due(record: CodeRecord, now: datetime) -> bool:
    """Whether an unused offline code is close to being suspended."""
    return (
        record.is_offline
        and record.present
        and record.revoked_at is None
        and record.cloud_id is not None
        and not record.single_use
        and record.first_use_by is not None
        and record.first_used is None
        and not record.first_use_warned
        and record.first_use_by - FIRST_USE_WARNING <= now < record.first_use_by
    )


def _iso(value: datetime | None) -> str | None:
    return dt_util.as_local(value).isoformat() if value is not None else None


def offline_details(record: CodeRecord) -> dict[str, Any]:
    """What an answer says about an offline code's rules (service answers)."""
    return {
        "type": record.offline_kind,
        "repeat": record.repeat,
        "first_use_by": _iso(record.first_use_by),
        "single_use": record.single_use,
        # The lock only learns of a deletion through a gateway, the vendor
        # app over Bluetooth, or a clearing code typed on its keypad.
        "deletable_remotely": False,
        "fallback": record.fallback,
        # Withdrawn in the cloud without a gateway: the lock takes it until
        # its end (status ``revoked``).
        "revoked_at": _iso(record.revoked_at),
    }
