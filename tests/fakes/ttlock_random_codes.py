"""Random ("algorithmic") passcodes in the fake TTLock cloud, and the lock's side.

Mixed into ``FakeTTLockCloud``: ``/v3/keyboardPwd/get`` and the random-code
part of ``/v3/keyboardPwd/delete``, plus ``enter_code`` to type a code on a
lock's keypad. The lock checks a random code by itself (the same algorithm and
key data as the cloud since pairing), so it accepts one from its start without
any gateway, and only forgets it through a gateway, a delete code or its rules.

Each rule and its source:
- "no gateway needed" (不需要锁连接网关就可以获取): ``/get`` never checks the
  gateway (euopen.ttlock.com document-pages/cloud/passcode/get).
- startDate required, endDate optional; types 1-14 (same page, 2 and 2.1).
- Whole hours: "a startDate of 19:20 gives a code valid from 19:00" - the fake
  rounds down on the lock's clock (``timezoneRawOffset``), it does not refuse.
- "The span of a period passcode cannot exceed one year" (same page): -3.
- Cyclic codes: startDate and endDate on the nearest day of the cycle; other
  days answer -3 "The time of REPEAT is incorrect."
  (ttlock/Android_TTLock_Demo_Deprecated#2).
- featureValue bit 0 = passcodes, bit 12 = cyclic passcodes
  (document-pages/cloud/lock/featureValue): without them -4043.
- "No password data of this lock", -1007 (ttlock/Android_SDK_Demo#18):
  ``no_passcode_data``.
- "With the same start time there are 200 different one-time passcodes / 20
  permanent passcodes for a lock" (userGuide/passcodeEn): pools per start.
- "Multiple offline passcodes in the same lock cannot share the same start and
  end time, this includes deleted passcodes" (wiki.beds24.com TTLock): -3
  (the errcode is not documented).
- One-time: once within 6 h of its start; permanent/period (and, as the
  distributors' guides say, cyclic): entered at least once within 24 h of the
  start or suspended (userGuide/passcodeEn; help.33lock.com/passcode-types).
- Type 4 "will delete all other codes" (doc/api/v3/keyboardPwd/get): entering
  it makes the lock forget every code.
- deleteType 1 removes the code from the cloud only; 2 goes through the gateway
  (document-pages/cloud/passcode/delete). A random code the lock has never
  seen cannot be deleted through it: -3008 ("unused code cannot change",
  TTLock error list; "offline passcodes cannot be updated or deleted",
  wiki.beds24.com TTLock).
- Digits: 6-9 (same page), a string. Their real length depends on type and
  window in an undocumented way; the fake takes lengths 6-9 in turn and may
  start with 0. ``next_digits`` fixes the next ones for a test.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import hashlib
from typing import Any

HOUR_MS = 3_600_000
ONE_TIME_MS = 6 * HOUR_MS
FIRST_USE_MS = 24 * HOUR_MS
ONE_TIME_POOL = 200
PERMANENT_POOL = 20
BIT_PASSCODE = 0
BIT_CYCLIC = 12
# date.weekday() sets per cyclic type.
CYCLIC_DAYS: dict[int, frozenset[int]] = {
    5: frozenset({5, 6}),
    6: frozenset(range(7)),
    7: frozenset(range(5)),
    **{8 + day: frozenset({day}) for day in range(7)},
}


def _refuse(errcode: int, errmsg: str) -> Exception:
    # Late import: ttlock_cloud imports this module.
    from tests.fakes.ttlock_cloud import _Answer

    return _Answer(errcode, errmsg)


def _now_ms() -> int:
    from tests.fakes.ttlock_cloud import _now_ms as now_ms

    return now_ms()


class RandomCodesMixin:
    """Random passcodes for ``FakeTTLockCloud`` (see the module docstring)."""

    locks: dict[int, dict[str, Any]]
    passcodes: dict[int, dict[int, dict[str, Any]]]
    calls: collections.Counter[str]
    _new_id: Callable[[], int]
    _get_lock: Callable[[dict[str, str]], tuple[int, dict[str, Any]]]
    _check_reachable: Callable[[int, dict[str, Any]], None]
    _delete_passcode: Callable[[dict[str, str]], dict[str, Any]]
    add_record: Callable[..., dict[str, Any]]

    def _init_random_codes(self) -> None:
        # Form fields of every /get request (token fields left out).
        self.random_requests: list[dict[str, str]] = []
        # Form fields of every /delete request (token fields left out).
        self.delete_requests: list[dict[str, str]] = []
        # Digits the next answers hand out, in order (tests fix them).
        self.next_digits: list[str] = []
        # Rewrites an answer before it is sent (tests make odd answers).
        self.random_answer: Callable[[dict[str, Any]], Any] | None = None
        self.no_passcode_data: set[int] = set()
        # The next N codes are made but answered errcode 90000 (a lost answer).
        self.fail_after_create = 0
        # What each lock accepts by itself: lock id -> digits -> state.
        self.lock_codes: dict[int, dict[str, dict[str, Any]]] = {}
        self._random_serial = 0
        self._pool: collections.Counter[tuple[int, int, int]] = collections.Counter()
        self._windows_used: set[tuple[int, int, int, int]] = set()

    # ------------------------------------------------------------- helpers

    def set_feature(self, lock_id: int, bit: int, on: bool) -> None:
        """Set or clear one featureValue bit of a lock."""
        lock = self.locks[lock_id]
        value = int(lock["featureValue"], 16)
        value = value | (1 << bit) if on else value & ~(1 << bit)
        lock["featureValue"] = format(value, "X")

    def _offset_ms(self, lock: dict[str, Any]) -> int:
        return int(lock.get("timezoneRawOffset") or 0)

    def _floor_hour(self, lock: dict[str, Any], ms: int) -> int:
        offset = self._offset_ms(lock)
        return (ms + offset) // HOUR_MS * HOUR_MS - offset

    def _local(self, lock: dict[str, Any], ms: int) -> datetime:
        return datetime.fromtimestamp(
            (ms + self._offset_ms(lock)) / 1000, tz=UTC
        ).replace(tzinfo=None)

    def _digits(self, lock_id: int, pwd_type: int, start: int, end: int) -> str:
        taken = set(self.lock_codes.get(lock_id, {})) | {
            str(c.get("keyboardPwd")) for c in self.passcodes.get(lock_id, {}).values()
        }
        while self.next_digits:
            digits = self.next_digits.pop(0)
            if digits not in taken:
                return digits
        while True:
            self._random_serial += 1
            seed = f"{lock_id}:{pwd_type}:{start}:{end}:{self._random_serial}"
            number = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
            length = 6 + self._random_serial % 4
            digits = str(number % 10**length).zfill(length)
            if digits not in taken:
                return digits

    # ------------------------------------------------------------- /get

    def _random_code_get(self, params: dict[str, str]) -> Any:
        self.random_requests.append(
            {k: v for k, v in params.items() if k not in ("accessToken", "clientId")}
        )
        lock_id, lock = self._get_lock(params)
        if lock_id in self.no_passcode_data:
            raise _refuse(-1007, "No password data of this lock")
        features = int(lock["featureValue"], 16)
        pwd_type = self._int_param(params, "keyboardPwdType")
        if pwd_type is None or not 1 <= pwd_type <= 14:
            raise _refuse(-3, "invalid parameter: keyboardPwdType")
        if not (features >> BIT_PASSCODE) & 1:
            raise _refuse(-4043, "The function is not supported for this lock")
        if pwd_type >= 5 and not (features >> BIT_CYCLIC) & 1:
            raise _refuse(-4043, "The function is not supported for this lock")
        raw_start = self._int_param(params, "startDate")
        if raw_start is None or raw_start <= 0:
            raise _refuse(-3, "invalid parameter: startDate")
        start = self._floor_hour(lock, raw_start)
        raw_end = self._int_param(params, "endDate")
        end = 0
        if pwd_type == 3 or pwd_type >= 5:
            if raw_end is None or raw_end <= 0:
                raise _refuse(-3, "invalid parameter: endDate")
            end = self._floor_hour(lock, raw_end)
            if end <= start:
                raise _refuse(-3, "invalid parameter: startDate/endDate")
        if pwd_type == 3:
            local_start = self._local(lock, start)
            try:
                limit = local_start.replace(year=local_start.year + 1)
            except ValueError:
                limit = local_start.replace(year=local_start.year + 1, day=28)
            if self._local(lock, end) > limit:
                raise _refuse(-3, "The validity period cannot exceed one year")
            window = (lock_id, pwd_type, start, end)
            if window in self._windows_used:
                raise _refuse(-3, "A passcode with this validity period exists")
            self._windows_used.add(window)
        if pwd_type >= 5:
            first, last = self._local(lock, start), self._local(lock, end)
            if (
                first.date() != last.date()
                or first.weekday() not in CYCLIC_DAYS[pwd_type]
            ):
                raise _refuse(-3, "The time of REPEAT is incorrect.")
        if pwd_type in (1, 2):
            pool = ONE_TIME_POOL if pwd_type == 1 else PERMANENT_POOL
            if self._pool[(lock_id, pwd_type, start)] >= pool:
                raise _refuse(-3, "No more passcodes for this start time")
            self._pool[(lock_id, pwd_type, start)] += 1
        digits = self._digits(lock_id, pwd_type, start, end)
        pwd_id = self._new_id()
        listed_end = start + ONE_TIME_MS if pwd_type == 1 else end
        self.passcodes.setdefault(lock_id, {})[pwd_id] = {
            "keyboardPwdId": pwd_id,
            "lockId": lock_id,
            "keyboardPwd": digits,
            "keyboardPwdName": params.get("keyboardPwdName", ""),
            "keyboardPwdType": pwd_type,
            "keyboardPwdVersion": 4,
            "startDate": start,
            "endDate": listed_end,
            "sendDate": _now_ms(),
            "isCustom": 0,
            "senderUsername": "owner@example.com",
        }
        self.lock_codes.setdefault(lock_id, {})[digits] = {
            "pwd_id": pwd_id,
            "type": pwd_type,
            "start": start,
            "end": listed_end,
            "first_use_by": start + (ONE_TIME_MS if pwd_type == 1 else FIRST_USE_MS),
            "uses": 0,
        }
        answer: dict[str, Any] = {"keyboardPwd": digits, "keyboardPwdId": pwd_id}
        if self.fail_after_create > 0:
            self.fail_after_create -= 1
            raise _refuse(90000, "Internal server error")
        if self.random_answer is not None:
            return self.random_answer(answer)
        return answer

    @staticmethod
    def _int_param(params: dict[str, str], key: str) -> int | None:
        raw = params.get(key)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise _refuse(-3, f"invalid parameter: {key}") from None

    # ---------------------------------------------------------- /delete

    def _random_code_delete(self, params: dict[str, str]) -> dict[str, Any]:
        self.delete_requests.append(
            {k: v for k, v in params.items() if k not in ("accessToken", "clientId")}
        )
        lock_id, lock = self._get_lock(params)
        pwd_id = self._int_param(params, "keyboardPwdId")
        entry = self.passcodes.get(lock_id, {}).get(pwd_id or -1)
        if entry is not None and entry.get("isCustom") == 0:
            digits = str(entry["keyboardPwd"])
            state = self.lock_codes.get(lock_id, {}).get(digits)
            if self._int_param(params, "deleteType") == 2:
                self._check_reachable(lock_id, lock)
                if state is not None and state["uses"] == 0:
                    raise _refuse(-3008, "The passcode has not been used")
                self.lock_codes.get(lock_id, {}).pop(digits, None)
        return self._delete_passcode(params)

    # ------------------------------------------------------------- keypad

    def enter_code(
        self, lock_id: int, digits: str, *, at_ms: int | None = None
    ) -> bool:
        """A guest types ``digits`` on the lock: whether the lock takes them.

        Records a passcode unlock (recordType 4) when it opens; a delete code
        (type 4) opens nothing and makes the lock forget every code.
        """
        now = at_ms if at_ms is not None else _now_ms()
        lock = self.locks[lock_id]
        codes = self.lock_codes.setdefault(lock_id, {})
        state = codes.get(digits)
        ok = state is not None and self._accepts(lock, state, now)
        if ok and state is not None and state["type"] == 4:
            codes.clear()
            return True
        if ok and state is not None:
            state["uses"] += 1
        self.add_record(lock_id, 4, success=ok, keyboard_pwd=digits, lock_date_ms=now)
        return ok

    def _accepts(self, lock: dict[str, Any], state: dict[str, Any], now: int) -> bool:
        if now < state["start"]:
            return False
        if state["uses"] == 0 and now >= state["first_use_by"]:
            return False  # suspended: not entered in time
        pwd_type = state["type"]
        if pwd_type in (1, 4) and state["uses"] > 0:
            return False
        if pwd_type in (1, 3) and now >= state["end"]:
            return False
        if pwd_type >= 5:
            local = self._local(lock, now)
            first = self._local(lock, state["start"])
            last = self._local(lock, state["end"])
            if local.weekday() not in CYCLIC_DAYS[pwd_type]:
                return False
            minutes = local.hour * 60 + local.minute
            if not first.hour * 60 <= minutes < last.hour * 60:
                return False
        return True

    def lock_accepts(
        self, lock_id: int, digits: str, *, at_ms: int | None = None
    ) -> bool:
        """Whether the lock would take ``digits`` (without typing them)."""
        now = at_ms if at_ms is not None else _now_ms()
        state = self.lock_codes.get(lock_id, {}).get(digits)
        return state is not None and self._accepts(self.locks[lock_id], state, now)


def ms(value: datetime) -> int:
    """Epoch milliseconds of an aware datetime (tests)."""
    return int(value.timestamp() * 1000)


def later(value: int, **delta: float) -> int:
    """``value`` (ms) plus a timedelta (tests)."""
    return value + int(timedelta(**delta).total_seconds() * 1000)
