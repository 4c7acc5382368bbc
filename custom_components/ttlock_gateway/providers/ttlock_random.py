"""TTLock random ("algorithmic") passcodes on the wire: fields in, codes out.

``/v3/keyboardPwd/get`` returns a code the lock checks with the algorithm and
key data it shares with the cloud since pairing: "no gateway needed" (不需要锁
连接网关就可以获取, euopen.ttlock.com document-pages/cloud/passcode/get). The
rules are in ``offline_codes``; this module builds the form fields and turns
the answer into a ``Passcode`` through the validation wall. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
import re
from typing import Any, Final

from .bounds import (
    InvalidAnswerError,
    clean_text,
    opt_datetime_from_ms,
    opt_int,
    require_id,
)
from .models import (
    CodePhase,
    InvalidRequestError,
    OfflineKind,
    OfflineRules,
    Passcode,
    Repeat,
)
from .offline_codes import (
    FIRST_USE_WINDOW,
    ONE_TIME_WINDOW,
    TTLOCK_CYCLIC,
    TTLOCK_DELETE,
    TTLOCK_KINDS,
    TTLOCK_ONE_TIME,
    TTLOCK_PERIOD,
    TTLOCK_PERMANENT,
    OfflineCodeError,
    TTLockPlan,
    code_kind,
    period_rules,
)

GET_PATH: Final = "/v3/keyboardPwd/get"
DELETE_PATH: Final = "/v3/keyboardPwd/delete"

# deleteType (document-pages/cloud/passcode/delete): 1 = deleted from the lock
# with the app over Bluetooth first, this call only removes it from the
# cloud's records; 2 = the cloud deletes it from the lock through the gateway
# or over Wi-Fi.
DELETE_CLOUD_ONLY: Final = 1
DELETE_THROUGH_GATEWAY: Final = 2

# The general "invalid parameter": for a checked request, what the cloud
# answers for a window already used on the lock, even by a deleted code
# ("offline passcodes in one lock cannot share the same start and end time,
# deleted ones included", wiki.beds24.com TTLock; the errcode is undocumented).
INVALID_PARAMETER: Final = -3

# "No password data of this lock" (ttlock/Android_SDK_Demo#18): the lock was
# paired without the key data random passcodes need.
NO_PASSCODE_DATA: Final = -1007
# "Unused code cannot change" (TTLock error list); deleting an offline code
# the lock has never seen is refused the same way ("offline passcodes cannot
# be updated or deleted", wiki.beds24.com TTLock).
UNUSED_CODE: Final = -3008

# "a random passcode of 6-9 digits" (document-pages/cloud/passcode/get). Only a
# string keeps a leading zero: a number would hand the guest wrong digits.
_DIGITS: Final = re.compile(r"[0-9]{6,9}")

# featureValue bits (euopen.ttlock.com document-pages/cloud/lock/featureValue):
# 0 "supports passcodes", 12 "supports cyclic passcodes".
FEATURE_PASSCODE: Final = 0
FEATURE_CYCLIC_PASSCODE: Final = 12

_CYCLIC_TYPES: Final = frozenset(TTLOCK_CYCLIC.values())
_REPEAT_BY_TYPE: Final = {value: repeat for repeat, value in TTLOCK_CYCLIC.items()}


def offline_kinds(feature_value: int) -> tuple[OfflineKind, ...]:
    """Random passcodes a lock takes: any keypad lock, cyclic ones by bit 12."""
    if not (feature_value >> FEATURE_PASSCODE) & 1:
        return ()
    if (feature_value >> FEATURE_CYCLIC_PASSCODE) & 1:
        return TTLOCK_KINDS
    return tuple(kind for kind in TTLOCK_KINDS if kind is not OfflineKind.CYCLIC)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def get_params(lock_id: str, name: str, plan: TTLockPlan) -> dict[str, Any]:
    """Form fields of ``/v3/keyboardPwd/get`` (signing fields added by the client).

    startDate is sent as the whole hour the cloud will use anyway ("pass whole
    hours", same page); endDate only where the type has one (3 and 5-14):
    one-time, permanent and delete codes end by rule.
    """
    window = plan.window
    params: dict[str, Any] = {
        "lockId": lock_id,
        "keyboardPwdType": plan.pwd_type,
        "startDate": _ms(window.start),
    }
    if name:
        params["keyboardPwdName"] = name
    if plan.pwd_type == TTLOCK_PERIOD or plan.pwd_type in _CYCLIC_TYPES:
        assert window.end is not None
        params["endDate"] = _ms(window.end)
    return params


def digits_from_answer(raw: Any) -> str:
    """The code's digits, exactly as the guest types them."""
    if not isinstance(raw, str) or not _DIGITS.fullmatch(raw):
        raise InvalidAnswerError("keyboardPwd: not a string of 6-9 digits")
    return raw


def passcode_from_answer(
    lock_id: str,
    name: str,
    kind: OfflineKind,
    plan: TTLockPlan,
    payload: Mapping[str, Any],
) -> Passcode:
    """The answer of ``/v3/keyboardPwd/get`` as a ``Passcode``.

    The answer holds only ``keyboardPwd`` and ``keyboardPwdId``: the window is
    the plan's, which is the cloud's own rounding.
    """
    digits = digits_from_answer(payload.get("keyboardPwd"))
    code_id = require_id(payload.get("keyboardPwdId"), "keyboardPwdId")
    window = plan.window
    return Passcode(
        code_id=code_id,
        lock_id=lock_id,
        name=name,
        kind=code_kind(kind),
        code=digits,
        start=window.start,
        end=window.end,
        # The lock accepts it from its start: there is nothing to deliver.
        phase=CodePhase.DELIVERED,
        offline=window.rules,
    )


def find_listed_code(
    lock_id: str,
    name: str,
    kind: OfflineKind,
    plan: TTLockPlan,
    payload: Mapping[str, Any],
) -> Passcode | None:
    """Our code in a ``listKeyboardPwd`` page: a random code of this type,
    window and name (the cloud lists the digits)."""
    window = plan.window
    entries = payload.get("list")
    if window.end is None or not isinstance(entries, list):
        return None
    for entry in entries:
        if (
            isinstance(entry, Mapping)
            and opt_int(entry.get("isCustom")) == 0
            and opt_int(entry.get("keyboardPwdType")) == plan.pwd_type
            and opt_int(entry.get("startDate")) == _ms(window.start)
            and opt_int(entry.get("endDate")) == _ms(window.end)
            and clean_text(entry.get("keyboardPwdName")) == name
        ):
            return passcode_from_answer(lock_id, name, kind, plan, entry)
    return None


def window_taken(plan: TTLockPlan, err: InvalidRequestError) -> OfflineCodeError:
    """The refusal of a window the lock already used, as the user can fix it."""
    window = plan.window
    assert window.end is not None
    start, end = window.start.isoformat(), window.end.isoformat()
    error = OfflineCodeError(
        "offline_window_taken",
        f"TTLock refused the window {start} to {end} (errcode {err.code}): a lock "
        "takes one offline code per start and end, deleted ones included; "
        "move the end by an hour",
        start=start,
        end=end,
    )
    error.code = err.code
    return error


def listed_offline_rules(entry: Mapping[str, Any]) -> OfflineRules | None:
    """The rules of a random passcode listed by ``/v3/lock/listKeyboardPwd``.

    ``isCustom`` 0 marks a random passcode (document-pages/cloud/passcode/list);
    None for custom codes and for entries too odd to tell.
    """
    if opt_int(entry.get("isCustom")) != 0:
        return None
    pwd_type = opt_int(entry.get("keyboardPwdType"), minimum=1, maximum=14)
    try:
        start = opt_datetime_from_ms(entry.get("startDate"), "startDate")
        end = opt_datetime_from_ms(entry.get("endDate"), "endDate")
    except InvalidAnswerError:
        return None
    if pwd_type is None or start is None:
        return None
    start = start.astimezone(UTC)
    if pwd_type == TTLOCK_ONE_TIME:
        return OfflineRules(start + ONE_TIME_WINDOW, single_use=True)
    if pwd_type == TTLOCK_PERMANENT:
        return OfflineRules(start + FIRST_USE_WINDOW)
    if pwd_type == TTLOCK_DELETE:
        return OfflineRules(start + FIRST_USE_WINDOW, single_use=True)
    if pwd_type == TTLOCK_PERIOD:
        return period_rules(start, end) if end is not None else None
    repeat: Repeat | None = _REPEAT_BY_TYPE.get(pwd_type)
    if repeat is None:
        return None
    return OfflineRules(start + FIRST_USE_WINDOW, repeat=repeat)
