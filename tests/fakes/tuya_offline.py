"""Offline temporary passwords and dynamic passwords in the fake Tuya cloud.

Mixed into ``FakeTuyaCloud`` (routes in ``OFFLINE_ROUTES``), with the lock's
side: ``enter_offline`` types a code on the keypad. Each rule and its source:

- ``POST /v1.1/devices/{id}/door-lock/offline-temp-password``, body
  ``effective_time`` / ``invalid_time`` (seconds), ``name``, ``type``
  (multiple, once, clear_one, clear_all), ``password_id`` (clear_one only);
  answer ``offline_temp_password_id``, ``offline_temp_password``,
  ``offline_temp_password_name``, ``effective_time``, ``invalid_time``
  (developer.tuya.com/en/docs/cloud/009bdf7768?id=Kaospm7walgd5).
- multiple: both times required (1100 when missing), rounded down to whole
  hours; once: the current whole hour to +6 h; clear_all: the current whole
  hour to +24 h; clear_one: rounded like multiple (same page).
- Offline passwords need the lock's support: a lock without it answers 2004
  ("lock type not support", Tuya error codes). A supporting lock reports the
  offline DPs (unlock_offline_pd..., make-all/tuya-local#2735).
- A multiple-use password is entered at least once within 24 h of its start
  or becomes invalid; once: one entry within 6 h; dynamic: 5 minutes
  (iot/ms-password-sdk; MiniApp doorlock-solution temporary guide).
- Offline passwords have no delete call: clearing codes make the lock forget
  one (clear_one) or all of them (clear_all) when entered (app-development/
  lockBaseAPI, "offline passwords are deleted by entering a clearing code").
- ``GET /v1.0/devices/{id}/door-lock/dynamic-password`` answers
  ``{"dynamic_password": "..."}`` (seed 001, doorLock.getDynamicPassword).
- Digits: the length is not documented; the fake gives 10 (8 for dynamic
  passwords, as the seed's sample "vvvvvvvv"), possibly with a leading 0.
"""

from __future__ import annotations

from collections.abc import Callable
import hashlib
import itertools
import time
from typing import Any

from aiohttp import web

OFFLINE_ROUTES: list[tuple[str, str]] = [
    ("POST", "/v1.1/devices/{id}/door-lock/offline-temp-password"),
    ("GET", "/v1.0/devices/{id}/door-lock/dynamic-password"),
]
OFFLINE_DPS = (
    "unlock_offline_pd",
    "unlock_offline_clear",
    "unlock_offline_clear_single",
)
HOUR = 3600
TYPES = ("multiple", "once", "clear_one", "clear_all")


def _refuse(code: int, msg: str) -> Exception:
    # Late import: tuya_cloud imports this module.
    from tests.fakes.tuya_cloud import _Answer

    return _Answer(code, msg)


class TuyaOfflineMixin:
    """Offline passwords for ``FakeTuyaCloud`` (see the module docstring)."""

    devices: dict[str, dict[str, Any]]
    meta: dict[str, dict[str, Any]]
    _device: Callable[[str], dict[str, Any]]
    _ok: Callable[[Any], web.Response]
    add_open_log: Callable[..., None]

    def _init_offline(self) -> None:
        self.offline_requests: list[dict[str, Any]] = []
        # Rewrites an answer's result before it is sent (tests make odd ones).
        self.offline_answer: Callable[[dict[str, Any]], Any] | None = None
        self.next_offline_digits: list[str] = []
        # What each lock accepts by itself: device id -> password id -> state.
        self.offline_codes: dict[str, dict[str, dict[str, Any]]] = {}
        self._offline_ids = itertools.count(70001)
        self._offline_serial = 0

    def enable_offline_passwords(self, device_id: str) -> None:
        """Make a device a lock with offline passwords (and their DPs)."""
        self.meta[device_id]["offline"] = True
        status = self.devices[device_id]["status"]
        status.extend({"code": code, "value": ""} for code in OFFLINE_DPS)

    def _offline_digits(self, device_id: str, length: int) -> str:
        if self.next_offline_digits:
            return self.next_offline_digits.pop(0)
        self._offline_serial += 1
        seed = f"{device_id}:{self._offline_serial}"
        number = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
        return str(number % 10**length).zfill(length)

    def _check_offline_device(self, device_id: str) -> None:
        self._device(device_id)
        if not self.meta[device_id].get("offline"):
            raise _refuse(2004, "lock type not support")

    @staticmethod
    def _seconds(data: dict[str, Any], key: str) -> int | None:
        value = data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _refuse(1109, f"param is illegal: {key}")
        if not 0 < value < 10_000_000_000:
            raise _refuse(1109, f"param is illegal: {key}")
        return int(value) // HOUR * HOUR

    async def _h_POST_v1_1_devices_id_door_lock_offline_temp_password(
        self, p: dict[str, str], q: Any, data: dict[str, Any]
    ) -> web.StreamResponse:
        device_id = p["id"]
        self.offline_requests.append(dict(data))
        self._check_offline_device(device_id)
        kind = data.get("type", "multiple")
        if kind not in TYPES:
            raise _refuse(1109, "param is illegal: type")
        now = int(time.time()) // HOUR * HOUR
        effective = self._seconds(data, "effective_time")
        invalid = self._seconds(data, "invalid_time")
        target: str | None = None
        if kind == "once":
            effective, invalid = now, now + 6 * HOUR
        elif kind == "clear_all":
            effective, invalid = now, now + 24 * HOUR
        else:
            if kind == "clear_one":
                target = str(data.get("password_id") or "")
                if not target:
                    raise _refuse(1100, "param is empty: password_id")
                if target not in self.offline_codes.get(device_id, {}):
                    raise _refuse(1109, "param is illegal: password_id")
            if effective is None or invalid is None:
                raise _refuse(1100, "param is empty: effective_time/invalid_time")
            if invalid <= effective:
                raise _refuse(1109, "param is illegal: time")
        password_id = str(next(self._offline_ids))
        digits = self._offline_digits(device_id, 10)
        name = str(data.get("name") or "")
        self.offline_codes.setdefault(device_id, {})[password_id] = {
            "type": kind,
            "pin": digits,
            "name": name,
            "effective_time": effective,
            "invalid_time": invalid,
            "target": target,
            "uses": 0,
        }
        result: dict[str, Any] = {
            "offline_temp_password_id": password_id,
            "offline_temp_password": digits,
            "offline_temp_password_name": name,
            "effective_time": effective,
            "invalid_time": invalid,
        }
        if self.offline_answer is not None:
            return self._ok(self.offline_answer(result))
        return self._ok(result)

    async def _h_GET_v1_0_devices_id_door_lock_dynamic_password(
        self, p: dict[str, str], q: Any, data: dict[str, Any]
    ) -> web.StreamResponse:
        device_id = p["id"]
        self._check_offline_device(device_id)
        digits = self._offline_digits(device_id, 8)
        self.offline_codes.setdefault(device_id, {})[f"dynamic-{digits}"] = {
            "type": "dynamic",
            "pin": digits,
            "name": "",
            "effective_time": int(time.time()),
            "invalid_time": int(time.time()) + 300,
            "target": None,
            "uses": 0,
        }
        result: dict[str, Any] = {"dynamic_password": digits}
        if self.offline_answer is not None:
            return self._ok(self.offline_answer(result))
        return self._ok(result)

    # ------------------------------------------------------------- keypad

    def enter_offline(
        self, device_id: str, digits: str, *, at: float | None = None
    ) -> bool:
        """A guest types ``digits`` on the lock: whether it takes them.

        An accepted password adds an ``unlock_offline_pd`` open log; a
        clearing code opens nothing and makes the lock forget its targets.
        """
        now = int(at if at is not None else time.time())
        codes = self.offline_codes.get(device_id, {})
        found = next(((pid, c) for pid, c in codes.items() if c["pin"] == digits), None)
        if found is None:
            return False
        password_id, code = found
        if not self._offline_accepts(code, now):
            return False
        code["uses"] += 1
        if code["type"] == "clear_one":
            codes.pop(code["target"], None)
            return True
        if code["type"] == "clear_all":
            for pid in [
                pid
                for pid, c in codes.items()
                if c["type"] in ("multiple", "once") and pid != password_id
            ]:
                codes.pop(pid)
            return True
        self.add_open_log(device_id, "unlock_offline_pd", password_id, t_ms=now * 1000)
        return True

    @staticmethod
    def _offline_accepts(code: dict[str, Any], now: int) -> bool:
        if not code["effective_time"] <= now < code["invalid_time"]:
            return False
        if code["type"] == "multiple":
            return bool(code["uses"] > 0 or now < code["effective_time"] + 24 * HOUR)
        return bool(code["type"] == "dynamic" or code["uses"] == 0)

    def offline_accepts(
        self, device_id: str, digits: str, *, at: float | None = None
    ) -> bool:
        """Whether the lock would take ``digits`` (without typing them)."""
        now = int(at if at is not None else time.time())
        return any(
            c["pin"] == digits and self._offline_accepts(c, now)
            for c in self.offline_codes.get(device_id, {}).values()
        )
