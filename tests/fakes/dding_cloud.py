"""A stateful fake of the Dding (丁盯) smart-lock SaaS API v1.6, on 127.0.0.1.

It answers like seed 003 documents (section numbers in the comments): JSON POST
bodies and JSON answers with ``ErrNo``/``ErrMsg`` (3.1, 4.2), ``access_token``
from ``client_id`` + ``client_secret`` with an epoch-seconds ``expires_time``
(4.1), homes made of partner ids (5.1), devices listed per home (5.6, 5.7), lock
and centre info (6.1, 6.2), passwords whose operations the "gateway" completes
later (6.3-6.10: ``operation`` / ``operation_stage`` stay "in progress" until the
test calls :meth:`complete`), lock events (6.11, 6.12), the operation log (7.3,
7.4), and it POSTs section-9 callbacks to :attr:`callback_url`.

Where the seed gives no error code for a refusal, the fake answers 14001 ("参数
有误") and says so in a comment. Time comes from ``time.time()`` (never the loop
clock) so ``freezer`` moves it. Traps modelled: seconds, not milliseconds, in
requests (a millisecond value is refused); ms in 6.3 ``time`` and 6.11 ``time``;
6-digit passwords; the administrator password (id 999) cannot be deleted or
frozen (15013); an unknown home is 15006; a token expires (102) or is revoked
(101).
"""

from __future__ import annotations

import asyncio
from collections import Counter
import contextlib
import itertools
import json
import secrets
import time
from typing import Any

import aiohttp
from aiohttp import web

API = "/openapi/v1/"
ADMIN_ID = 999
# 6.11 / 7.3: "本次拉取的个数,默认是50".
DEFAULT_COUNT = 50
# Requests carry seconds (4.1, 6.6, 6.11); a value this large is milliseconds.
_MAX_SECONDS = 10**11

# Method(s) each endpoint accepts (the seed's 请求方式 row).
_METHODS: dict[str, frozenset[str]] = {
    "access_token": frozenset({"POST"}),  # 4.1.2
    "find_home_device": frozenset({"GET", "POST"}),  # 5.6.1 "支持 GET 与 POST"
    "find_home_devices": frozenset({"POST"}),  # 5.7.2 POST (5.5.1 "只支持 POST")
    "get_center_info": frozenset({"GET"}),  # 6.1.2
    "get_lock_info": frozenset({"GET"}),  # 6.2.2
    "fetch_passwords": frozenset({"GET"}),  # 6.3.2
    "get_dynamic_password_plaintext": frozenset({"GET"}),  # 6.5.2
    "add_password": frozenset({"POST"}),  # 6.6.2
    "update_password": frozenset({"POST"}),  # 6.7.2
    "delete_password": frozenset({"POST"}),  # 6.8.2
    "frozen_password": frozenset({"POST"}),  # 6.9.2
    "unfrozen_password": frozenset({"POST"}),  # 6.10.2
    "get_lock_events": frozenset({"GET"}),  # 6.11.2
    "count_lock_events": frozenset({"GET"}),  # 6.12.2
    "search_device_op_log": frozenset({"GET"}),  # 7.3.2
    "count_device_op_log": frozenset({"GET"}),  # 7.4.2
}

# 6.3 operation codes and operation_stage values.
OP_ADD, OP_DELETE, OP_UPDATE, OP_FREEZE, OP_UNFREEZE = 1, 2, 3, 4, 5
STAGE_IN_PROGRESS, STAGE_FAILED, STAGE_DONE = 1, 2, 3
# 7.2 op_id of each password operation.
_OP_IDS = {
    OP_ADD: "20002",
    OP_DELETE: "20003",
    OP_UPDATE: "20004",
    OP_FREEZE: "20006",
    OP_UNFREEZE: "20007",
}
LOCK_TYPES = frozenset({"home_lock", "room_lock"})


class _Answer(Exception):
    """Raised by handlers to answer ``{"ErrNo": errno, "ErrMsg": msg}``."""

    def __init__(self, errno: int, msg: str) -> None:
        super().__init__(msg)
        self.errno = errno
        self.msg = msg


def _now() -> float:
    return time.time()


class FakeDdingCloud:
    """In-memory Dding SaaS over real HTTP on loopback."""

    CLIENT_ID = "fake-dding-client-0001"
    CLIENT_SECRET = "fake-dding-secret-7c3e9a51b2"

    def __init__(
        self,
        *,
        latency: float = 0.0,
        token_lifetime: int = 7 * 86400,
        list_with_state: bool = True,
        passwords_as_list: bool = False,
        hour_precision: bool = False,
        with_pwd_state: bool = False,
    ) -> None:
        """``list_with_state``: 5.7 devices carry ``onoff_line``/``power`` (5.7
        says each device is "extended with its state"; the example shows only
        type/sn/uuid/room_id, and no field names: ours are 6.2's).
        ``passwords_as_list``: 6.3 ``passwords`` as a list (public clients read
        both an object keyed by id and a list). ``hour_precision``: 6.3 lists
        ``begin``/``end`` "精确到小时" (floored to the hour). ``with_pwd_state``:
        also list ``pwd_state`` (later API versions; 5 = frozen)."""
        self.latency = latency
        self.token_lifetime = token_lifetime
        self.list_with_state = list_with_state
        self.passwords_as_list = passwords_as_list
        self.hour_precision = hour_precision
        self.with_pwd_state = with_pwd_state
        self.base_url = ""
        self.callback_url: str | None = None

        self.homes: dict[str, set[str]] = {}  # home_id -> room ids
        self.foreign_homes: set[str] = set()  # another partner's: 15014
        self.devices: dict[str, dict[str, Any]] = {}
        self.passwords: dict[str, dict[int, dict[str, Any]]] = {}
        self.lock_events: dict[str, list[dict[str, Any]]] = {}
        self.op_log: list[dict[str, Any]] = []
        self.dynamic_codes: list[tuple[str, str, int]] = []  # uuid, code, expiry

        self.calls: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.pushes: list[tuple[int, dict[str, Any]]] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._faults: dict[str, list[tuple[int, str]]] = {}
        self._raw: dict[str, list[tuple[int, str]]] = {}
        self._patches: dict[str, list[dict[str, Any]]] = {}
        self._outage: str | None = None
        self._tokens: dict[str, float] = {}  # token -> expiry (time.time())
        self._ids = itertools.count(1)
        self._password_ids: dict[str, itertools.count[int]] = {}
        self._arrivals: dict[str, asyncio.Event] = {}
        self._answers: dict[str, asyncio.Event] = {}
        # While set to an unset Event, requests wait (after being counted).
        self.gate: asyncio.Event | None = None
        # The endpoints the gate holds (None: every one).
        self.gate_only: set[str] | None = None
        self._stopping: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> str:
        """Serve on 127.0.0.1 on a random port; return the base URL."""
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop serving; wakes held requests so nothing lingers."""
        if self._stopping is not None:
            self._stopping.set()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _sleep(self, delay: float) -> None:
        if delay <= 0:
            return
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    # ------------------------------------------------------------ state helpers

    def _uuid(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):010x}"

    def add_home(self, home_id: str, rooms: tuple[str, ...] = ()) -> str:
        """5.1 add_home / 5.8 add_room: ids are the partner's own."""
        self.homes.setdefault(home_id, set()).update(rooms)
        return home_id

    def _device(
        self, kind: str, home_id: str, room_id: str, name: str, online: bool
    ) -> dict[str, Any]:
        if home_id not in self.homes:
            self.add_home(home_id)
        uuid = self._uuid("gw" if kind == "gateway" else "lk")
        number = next(self._ids)
        now = int(_now())
        device: dict[str, Any] = {
            "type": kind,
            "uuid": uuid,
            "sn": f"SN{number:08d}",
            "home_id": home_id,
            "room_id": room_id,
            "mac": ":".join(f"{(number >> (8 * i)) & 0xFF:02x}" for i in range(6)),
            "name": name,
            "bind_time": now,
            "onoff_line": 1 if online else 2,
            "onoff_time": now,
            "model": "dding-gw1" if kind == "gateway" else "dding-lock-d2",
            "brand": "dding",
            "versions": {
                "kernel_version": "0.0.3.0",
                "zigbee_version": "1.0.0.2",
                "media_version": "0.0.1.1",
                "hardware_version": "0.0.3.0",
                "app_version": "0.1.4.12",
            },
        }
        self.devices[uuid] = device
        return device

    def add_gateway(
        self, home_id: str, *, name: str = "Gateway", online: bool = True
    ) -> str:
        """A centre; 5.6: "对于网关与外门锁,room_id 等于 home_id"."""
        return str(self._device("gateway", home_id, home_id, name, online)["uuid"])

    def add_lock(
        self,
        home_id: str,
        room_id: str | None = None,
        *,
        name: str = "Lock",
        power: int = 80,
        online: bool = True,
        admin: bool = True,
    ) -> str:
        """An outer lock (``room_id`` None: room_id = home_id) or a room lock."""
        kind = "room_lock" if room_id is not None else "home_lock"
        if room_id is not None:
            self.add_home(home_id, (room_id,))
        device = self._device(kind, home_id, room_id or home_id, name, online)
        device["power"] = power
        device["power_refreshtime"] = int(_now())
        gateways = [
            d["uuid"]
            for d in self.devices.values()
            if d["type"] == "gateway" and d["home_id"] == home_id
        ]
        device["center_uuid"] = gateways[0] if gateways else ""
        uuid = str(device["uuid"])
        self.passwords[uuid] = {}
        self.lock_events[uuid] = []
        self._password_ids[uuid] = itertools.count(1001)
        if admin:
            # 6.6: a new device needs its administrator password first; 6.3:
            # its id is always 999.
            self.passwords[uuid][ADMIN_ID] = self._new_password(
                ADMIN_ID, "123789", "管理员密码", "13800000000", None, None, default=1
            )
            self.passwords[uuid][ADMIN_ID].update(
                operation=OP_ADD, operation_stage=STAGE_DONE
            )
        return uuid

    def remove_device(self, uuid: str) -> None:
        """Unbind a device (later calls about it answer 15006)."""
        self.devices.pop(uuid, None)
        self.passwords.pop(uuid, None)
        self.lock_events.pop(uuid, None)

    def _new_password(
        self,
        pid: int,
        digits: str,
        name: str,
        phone: str,
        begin: int | None,
        end: int | None,
        *,
        default: int = 0,
    ) -> dict[str, Any]:
        return {
            "id": pid,
            "time": int(_now() * 1000),  # 6.3: ms
            "is_default": default,
            "operation": OP_ADD,
            "operation_stage": STAGE_IN_PROGRESS,
            "name": name,
            "send_to": phone,
            "description": "",
            "password": digits,  # internal, never listed (6.3 has no digits)
            "begin": begin,
            "end": end,
            "frozen": False,
            "pending": None,
        }

    def add_local_password(self, uuid: str, digits: str = "246810") -> int:
        """A code made on the keypad: permanent (6.3 status 1), no SaaS operation."""
        pid = next(self._password_ids[uuid])
        record = self._new_password(pid, digits, "", "", None, None)
        record.update(operation=0, operation_stage=0)
        self.passwords[uuid][pid] = record
        return pid

    def complete(
        self, uuid: str, password_id: int | None = None, *, success: bool = True
    ) -> int:
        """The gateway reports back (6.3 operation_stage 1 -> 3, or 2 on failure).

        Returns how many operations completed. A completed delete removes the
        password; a completed update applies the new values; freeze/unfreeze
        switch the frozen flag.
        """
        done = 0
        for pid, record in list(self.passwords.get(uuid, {}).items()):
            if password_id is not None and pid != password_id:
                continue
            if record["operation_stage"] != STAGE_IN_PROGRESS:
                continue
            done += 1
            record["operation_stage"] = STAGE_DONE if success else STAGE_FAILED
            self._log_op(uuid, record, success)
            if not success:
                record["pending"] = None
                continue
            operation = record["operation"]
            if operation == OP_DELETE:
                del self.passwords[uuid][pid]
            elif operation == OP_UPDATE and record["pending"]:
                record.update(record["pending"])
                record["pending"] = None
            elif operation in (OP_FREEZE, OP_UNFREEZE):
                record["frozen"] = operation == OP_FREEZE
        return done

    def _log_op(self, uuid: str, record: dict[str, Any], success: bool) -> None:
        device = self.devices.get(uuid, {})
        self.op_log.append(
            {
                "uuid": uuid,
                "home_id": device.get("home_id"),
                "room_id": device.get("room_id"),
                "entry": {
                    "op_id": _OP_IDS[record["operation"]],
                    "operator": {"id": "partner-admin", "name": "Partner admin"},
                    "target": {
                        "id": record["id"],
                        "name": record["name"],
                        "type": "password",
                    },
                    "holder": {
                        "id": device.get("room_id"),
                        "name": device.get("name"),
                        "type": "room",
                    },
                    "recipient": {"id": record["send_to"], "name": record["send_to"]},
                    "timestamp": int(_now() * 1000),  # 7.3: ms
                    "result": 0 if success else 1,  # 7.1: "0 为成功"
                },
            }
        )

    def add_lock_event(
        self,
        uuid: str,
        *,
        password_id: int | None = None,
        source_name: str | None = None,
        time_ms: int | None = None,
        eventid: int = 1,
    ) -> dict[str, Any]:
        """6.11: eventid 1 = open; source 2 = password (sourceid = its id)."""
        entry: dict[str, Any] = {
            "time": time_ms if time_ms is not None else int(_now() * 1000),
            "eventid": eventid,
            "source": 2 if password_id is not None else 1,
            "sourceid": password_id if password_id is not None else 0,
            "source_name": source_name
            if source_name is not None
            else (f"密码 {password_id}" if password_id is not None else ""),
        }
        self.lock_events[uuid].append(entry)
        return entry

    async def open_door(
        self, uuid: str, *, password_id: int | None = None, time_ms: int | None = None
    ) -> dict[str, Any]:
        """A door opening: the 6.11 record and, with a callback URL, its 9.2.6 push."""
        entry = self.add_lock_event(uuid, password_id=password_id, time_ms=time_ms)
        if self.callback_url:
            detail = {k: entry[k] for k in ("source", "sourceid", "source_name")}
            await self.push(
                "lockerOpenAlarm", uuid, detail=detail, time_ms=entry["time"]
            )
        return entry

    async def set_power(self, uuid: str, level: int) -> None:
        """Battery level; 9.2.1 pushes batteryAlarm on falling under 10 % and
        under 7 % (the under-5 % daily reminder is not modelled), and
        clearBattryAlarm (the seed's spelling) on rising to 10 % again."""
        device = self.devices[uuid]
        before = device.get("power", -1)
        device["power"] = level
        device["power_refreshtime"] = int(_now())
        if not self.callback_url or before < 0 or level < 0:
            return
        if any(level < limit <= before for limit in (10, 7, 5)):
            await self.push("batteryAlarm", uuid, detail={"battery_level": level})
        elif before < 10 <= level:
            await self.push("clearBattryAlarm", uuid, detail={"battery_level": level})

    async def set_online(self, uuid: str, online: bool) -> None:
        """Online state; 9.2.7 / 9.2.8 push the centre's or the lock's alarm."""
        device = self.devices[uuid]
        device["onoff_line"] = 1 if online else 2
        device["onoff_time"] = int(_now())
        if not self.callback_url:
            return
        what = "Center" if device["type"] == "gateway" else "Lock"
        event = f"clear{what}OfflineAlarm" if online else f"{what.lower()}OfflineAlarm"
        await self.push(event, uuid)

    # ---------------------------------------------------------------- callbacks

    def callback_body(
        self,
        event: str,
        uuid: str,
        *,
        detail: dict[str, Any] | None = None,
        time_ms: int | None = None,
    ) -> dict[str, Any]:
        """A 9.1 body: event, time (ms, as public clients document), uuid,
        home_id, room_id (room locks only), nickname, detail."""
        device = self.devices[uuid]
        body: dict[str, Any] = {
            "event": event,
            "time": time_ms if time_ms is not None else int(_now() * 1000),
            "uuid": uuid,
            "home_id": device["home_id"],
            "nickname": device["name"],
        }
        if device["type"] == "room_lock":
            body["room_id"] = device["room_id"]
        if detail is not None:
            body["detail"] = detail
        return body

    async def push(
        self,
        event: str,
        uuid: str,
        *,
        detail: dict[str, Any] | None = None,
        time_ms: int | None = None,
    ) -> tuple[int, str]:
        """POST a section-9 callback to :attr:`callback_url` as JSON."""
        assert self.callback_url, "set callback_url first"
        body = self.callback_body(event, uuid, detail=detail, time_ms=time_ms)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(self.callback_url, json=body) as resp:
            text = await resp.text()
            self.pushes.append((resp.status, body))
            return resp.status, text

    # ----------------------------------------------------------------- controls

    def reset_calls(self) -> None:
        self.calls.clear()
        self.requests.clear()
        self.max_in_flight = 0

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def fail(
        self, endpoint: str, errno: int, msg: str = "injected", times: int = 1
    ) -> None:
        """The next ``times`` calls of ``endpoint`` answer ``errno``."""
        self._faults.setdefault(endpoint, []).extend([(errno, msg)] * times)

    def answer_raw(
        self, endpoint: str, body: str, status: int = 200, times: int = 1
    ) -> None:
        """The next ``times`` calls of ``endpoint`` answer this text as is."""
        self._raw.setdefault(endpoint, []).extend([(status, body)] * times)

    def patch_answer(
        self, endpoint: str, fields: dict[str, Any], times: int = 1
    ) -> None:
        """Merge ``fields`` into the next ``times`` successful answers."""
        self._patches.setdefault(endpoint, []).extend([fields] * times)

    def set_outage(self, mode: str | None) -> None:
        if mode not in (None, "http500", "timeout", "disconnect"):
            raise ValueError(mode)
        self._outage = mode

    def expire_tokens(self) -> None:
        """Every token issued so far is past its expiry (102)."""
        for token in self._tokens:
            self._tokens[token] = 0.0

    def revoke_tokens(self) -> None:
        """Every token issued so far is unknown (101)."""
        self._tokens.clear()

    async def arrived(self, endpoint: str) -> None:
        """Return once ``endpoint`` has been called (at least once)."""
        await self._arrivals.setdefault(endpoint, asyncio.Event()).wait()

    async def answered(self, endpoint: str) -> None:
        """Return once a call of ``endpoint`` has been handled (state changed)."""
        await self._answers.setdefault(endpoint, asyncio.Event()).wait()

    @property
    def live_tokens(self) -> list[str]:
        now = _now()
        return [t for t, exp in self._tokens.items() if exp > now]

    # ------------------------------------------------------------------ serving

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            return await self._serve(request)
        finally:
            self._in_flight -= 1

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        if self._outage == "http500":
            return web.Response(status=500, text="Internal Server Error")
        if self._outage == "timeout":
            await self._sleep(60)
            return web.Response(status=504, text="Gateway Timeout")
        if self._outage == "disconnect":
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        await self._sleep(self.latency)

        if not request.path.startswith(API):
            return web.Response(status=404, text="Not Found")
        endpoint = request.path.removeprefix(API)
        methods = _METHODS.get(endpoint)
        if methods is None:
            return web.Response(status=404, text="Not Found")
        self.calls[endpoint] += 1
        self._arrivals.setdefault(endpoint, asyncio.Event()).set()
        if request.method not in methods:
            return web.Response(status=405, text="Method Not Allowed")

        params: dict[str, Any]
        if request.method == "POST":
            # 4.2: "POST 请求参数与所有返回值均为 JSON 格式数据". Refusal code
            # not documented: 14001.
            if request.content_type != "application/json":
                return self._error(14001, "请求参数必须为 JSON")
            try:
                params = json.loads(await request.text())
            except ValueError:
                return self._error(14001, "请求参数必须为 JSON")
            if not isinstance(params, dict):
                return self._error(14001, "请求参数必须为 JSON")
        else:
            params = dict(request.query)
        # Held after the whole request arrived: cut off by the client now, it
        # is still carried out when released (what a real server does).
        if self.gate is not None and (
            self.gate_only is None or endpoint in self.gate_only
        ):
            await self.gate.wait()
        self.requests.append((endpoint, params))

        if raw := self._raw.get(endpoint):
            status, text = raw.pop(0)
            return web.Response(
                status=status, text=text, content_type="application/json"
            )
        if faults := self._faults.get(endpoint):
            errno, msg = faults.pop(0)
            return self._error(errno, msg)
        try:
            if endpoint == "access_token":
                result = self._access_token(params)
            else:
                self._check_token(params)
                result = getattr(self, f"_h_{endpoint}")(params)
        except _Answer as answer:
            return self._error(answer.errno, answer.msg)
        finally:
            self._answers.setdefault(endpoint, asyncio.Event()).set()
        if patches := self._patches.get(endpoint):
            result.update(patches.pop(0))
        return web.json_response({"ErrNo": 0, "ErrMsg": "", **result})

    @staticmethod
    def _error(errno: int, msg: str) -> web.Response:
        return web.json_response({"ErrNo": errno, "ErrMsg": msg})

    # --------------------------------------------------------------------- auth

    def _access_token(self, params: dict[str, Any]) -> dict[str, Any]:
        """4.1: one client_id/client_secret pair per Dding account."""
        if (
            params.get("client_id") != self.CLIENT_ID
            or params.get("client_secret") != self.CLIENT_SECRET
        ):
            # Refusal code not documented: 14001.
            raise _Answer(14001, "client_id 或 client_secret 错误")
        token = secrets.token_hex(20)
        expires = int(_now()) + self.token_lifetime
        self._tokens[token] = expires
        # 4.1.2: "expires_time ... 格式为 S 时间戳": an epoch-seconds time.
        return {"access_token": token, "expires_time": expires}

    def _check_token(self, params: dict[str, Any]) -> None:
        """3.1: 101 Token 无效, 102 Token 过期."""
        token = params.get("access_token")
        if not isinstance(token, str) or token not in self._tokens:
            raise _Answer(101, "Token 无效")
        if _now() >= self._tokens[token]:
            raise _Answer(102, "Token 过期")

    # ----------------------------------------------------------------- checks

    @staticmethod
    def _int(params: dict[str, Any], key: str, *, required: bool = True) -> int | None:
        raw = params.get(key)
        if raw is None or raw == "":
            if required:
                raise _Answer(14001, f"缺少参数 {key}")
            return None
        if isinstance(raw, bool):
            raise _Answer(14001, f"参数有误 {key}")
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise _Answer(14001, f"参数有误 {key}") from None

    def _seconds(
        self, params: dict[str, Any], key: str, *, required: bool
    ) -> int | None:
        """Times in requests are seconds (6.6 "单位S", 6.11 "单位 S")."""
        value = self._int(params, key, required=required)
        if value is not None and not 0 <= value < _MAX_SECONDS:
            raise _Answer(14001, f"参数有误 {key}: 单位为秒")
        return value

    def _target(
        self, params: dict[str, Any], *, kinds: frozenset[str]
    ) -> dict[str, Any]:
        """6.2 etc.: "room_id 与 uuid 至少有一个,且优先取 uuid"."""
        uuid = params.get("uuid")
        if uuid:
            device = self.devices.get(str(uuid))
            if device is None or device["type"] not in kinds:
                raise _Answer(15006, "记录不存在")
            return device
        room_id = params.get("room_id")
        if not room_id:
            raise _Answer(14001, "room_id 与 uuid 至少有一个")
        home_id = params.get("home_id")
        for device in self.devices.values():
            if (
                device["type"] in kinds
                and device["room_id"] == room_id
                and (not home_id or device["home_id"] == home_id)
            ):
                return device
        raise _Answer(15006, "记录不存在")

    def _lock(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._target(params, kinds=LOCK_TYPES)

    def _home(self, home_id: Any) -> str:
        if not isinstance(home_id, str) or not home_id:
            raise _Answer(14001, "参数有误 home_id")
        if home_id in self.foreign_homes:
            raise _Answer(15014, "权限受限")
        if home_id not in self.homes:
            raise _Answer(15006, "记录不存在")
        return home_id

    def _listing(self, device: dict[str, Any]) -> dict[str, Any]:
        item = {k: device[k] for k in ("type", "sn", "uuid", "room_id")}
        if self.list_with_state:
            item["onoff_line"] = device["onoff_line"]
            if "power" in device:
                item["power"] = device["power"]
        return item

    def _home_devices(self, home_id: str) -> list[dict[str, Any]]:
        return [
            self._listing(d) for d in self.devices.values() if d["home_id"] == home_id
        ]

    # ---------------------------------------------------------------- handlers

    def _h_find_home_device(self, params: dict[str, Any]) -> dict[str, Any]:
        """5.6: one home's devices in ``result``."""
        return {"result": self._home_devices(self._home(params.get("home_id")))}

    def _h_find_home_devices(self, params: dict[str, Any]) -> dict[str, Any]:
        """5.7: ``home_id`` is an Array; ``result`` keyed by home id."""
        home_ids = params.get("home_id")
        if not isinstance(home_ids, list) or not home_ids:
            raise _Answer(14001, "参数有误 home_id")
        return {"result": {self._home(h): self._home_devices(h) for h in home_ids}}

    def _info(self, device: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
        return {k: device[k] for k in keys if k in device}

    def _h_get_center_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """6.1: the centre's fields at the answer's top level."""
        device = self._target(params, kinds=frozenset({"gateway"}))
        keys = ("mac", "sn", "bind_time", "onoff_line", "onoff_time", "uuid", "name")
        return self._info(device, (*keys, "model", "brand", "versions"))

    def _h_get_lock_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """6.2: power in %, -1 unknown; onoff_line 1 online / 2 offline."""
        device = self._lock(params)
        keys = ("mac", "sn", "bind_time", "onoff_line", "onoff_time", "uuid", "name")
        return self._info(
            device,
            (
                *keys,
                "power",
                "power_refreshtime",
                "model",
                "brand",
                "versions",
                "center_uuid",
            ),
        )

    def _listed_password(self, record: dict[str, Any]) -> dict[str, Any]:
        begin, end = record["begin"], record["end"]
        if self.hour_precision and begin is not None and end is not None:
            begin, end = begin - begin % 3600, end - end % 3600
        now = _now()
        outside = begin is not None and end is not None and not begin <= now < end
        item: dict[str, Any] = {
            "id": record["id"],
            "time": record["time"],
            "is_default": record["is_default"],
            "operation": record["operation"],
            "operation_stage": record["operation_stage"],
            "permission_state": 2 if outside else 1,
            "name": record["name"],
            "send_to": record["send_to"],
            "description": record["description"],
            # 6.3 note: SaaS passwords are status 2, keypad ones status 1.
            "permission": {
                "begin": begin if begin is not None else 0,
                "end": end if end is not None else 0,
                "status": 1 if begin is None else 2,
            },
        }
        if self.with_pwd_state:
            item["pwd_state"] = 5 if record["frozen"] else 2
        return item

    def _h_fetch_passwords(self, params: dict[str, Any]) -> dict[str, Any]:
        """6.3: no digits; the admin password's id is 999."""
        device = self._lock(params)
        listed = [
            self._listed_password(r) for r in self.passwords[device["uuid"]].values()
        ]
        if self.passwords_as_list:
            return {"passwords": listed}
        return {"passwords": {str(item["id"]): item for item in listed}}

    def _h_get_dynamic_password_plaintext(
        self, params: dict[str, Any]
    ) -> dict[str, Any]:
        """6.5: a plaintext dynamic password and its ``invalid_time`` (seconds)."""
        device = self._lock(params)
        code = f"{secrets.randbelow(10**8):08d}"
        expires = int(_now()) + 600
        self.dynamic_codes.append((device["uuid"], code, expires))
        return {"password": code, "invalid_time": expires}

    def _digits(self, params: dict[str, Any]) -> str:
        """6.6 / 6.7: "开锁密码(6位)"."""
        digits = params.get("password")
        if not isinstance(digits, str) or len(digits) != 6 or not digits.isdigit():
            raise _Answer(14001, "密码必须是六位数字")
        return digits

    def _phone(self, params: dict[str, Any]) -> str:
        """6.6 / 6.7: ``phonenumber`` is required (the SaaS texts the code)."""
        phone = params.get("phonenumber")
        digits = phone.removeprefix("+") if isinstance(phone, str) else ""
        if not digits.isdigit() or not 5 <= len(digits) <= 20:
            raise _Answer(14001, "参数有误 phonenumber")
        return str(phone)

    def _window(self, params: dict[str, Any]) -> tuple[int, int]:
        begin = self._seconds(params, "permission_begin", required=True)
        end = self._seconds(params, "permission_end", required=True)
        assert begin is not None
        assert end is not None
        if end <= begin:
            raise _Answer(14001, "密码有效期的结束时间必须大于开始时间")
        return begin, end

    def _duplicate(self, uuid: str, digits: str, skip: int | None = None) -> None:
        for pid, record in self.passwords[uuid].items():
            if pid != skip and record["password"] == digits:
                raise _Answer(11000, "无法添加重复对象")

    def _h_add_password(self, params: dict[str, Any]) -> dict[str, Any]:
        """6.6: answered with the new id; on the lock when the gateway confirms."""
        device = self._lock(params)
        uuid = device["uuid"]
        phone = self._phone(params)
        default = self._int(params, "is_default")
        if default not in (0, 1):
            raise _Answer(14001, "参数有误 is_default")
        digits = self._digits(params)
        begin, end = self._window(params)
        if default == 1:
            if ADMIN_ID in self.passwords[uuid]:
                raise _Answer(11000, "无法添加重复对象")
            pid = ADMIN_ID
        else:
            if ADMIN_ID not in self.passwords[uuid]:
                # 6.6 note: the admin password must be set first (code not
                # documented: 14001).
                raise _Answer(14001, "请先设置管理员密码")
            pid = next(self._password_ids[uuid])
        self._duplicate(uuid, digits)
        name = params.get("name")
        self.passwords[uuid][pid] = self._new_password(
            pid,
            digits,
            name if isinstance(name, str) else "",
            phone,
            begin,
            end,
            default=default,
        )
        return {"id": pid}

    def _password(self, params: dict[str, Any]) -> tuple[str, int, dict[str, Any]]:
        device = self._lock(params)
        pid = self._int(params, "password_id")
        assert pid is not None
        record = self.passwords[device["uuid"]].get(pid)
        if record is None:
            raise _Answer(15006, "记录不存在")
        return device["uuid"], pid, record

    def _h_update_password(self, params: dict[str, Any]) -> dict[str, Any]:
        """6.7: digits, phone and window required; applied when the lock confirms."""
        uuid, pid, record = self._password(params)
        digits = self._digits(params)
        phone = self._phone(params)
        begin, end = self._window(params)
        self._duplicate(uuid, digits, skip=pid)
        pending: dict[str, Any] = {
            "password": digits,
            "send_to": phone,
            "begin": begin,
            "end": end,
        }
        name = params.get("name")
        if isinstance(name, str):
            pending["name"] = name
        record.update(
            operation=OP_UPDATE, operation_stage=STAGE_IN_PROGRESS, pending=pending
        )
        return {}

    def _operate(self, params: dict[str, Any], operation: int) -> dict[str, Any]:
        _, pid, record = self._password(params)
        if pid == ADMIN_ID:
            raise _Answer(15013, "管理员密码不能被删除或冻结")  # 3.1
        record.update(operation=operation, operation_stage=STAGE_IN_PROGRESS)
        return {}

    def _h_delete_password(self, params: dict[str, Any]) -> dict[str, Any]:
        """6.8 (the admin password cannot be deleted: 15013)."""
        return self._operate(params, OP_DELETE)

    def _h_frozen_password(self, params: dict[str, Any]) -> dict[str, Any]:
        """6.9 (the admin password cannot be frozen: 15013)."""
        return self._operate(params, OP_FREEZE)

    def _h_unfrozen_password(self, params: dict[str, Any]) -> dict[str, Any]:
        """6.10."""
        return self._operate(params, OP_UNFREEZE)

    def _page(
        self, params: dict[str, Any], items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        offset = self._int(params, "offset", required=False) or 0
        count = self._int(params, "count", required=False)
        count = DEFAULT_COUNT if count is None else count
        if offset < 0 or count < 0:
            raise _Answer(14001, "参数有误 offset/count")
        return items[offset : offset + count]

    def _events(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        device = self._lock(params)
        start = self._seconds(params, "start_time", required=False)
        end = self._seconds(params, "end_time", required=False)
        events = [
            e
            for e in self.lock_events[device["uuid"]]
            if (start is None or e["time"] >= start * 1000)
            and (end is None or e["time"] <= end * 1000)
        ]
        return sorted(events, key=lambda e: e["time"], reverse=True)  # newest first

    def _h_get_lock_events(self, params: dict[str, Any]) -> dict[str, Any]:
        """6.11: start/end in seconds, event ``time`` in ms, offset/count paging."""
        return {"lock_events": self._page(params, self._events(params))}

    def _h_count_lock_events(self, params: dict[str, Any]) -> dict[str, Any]:
        """6.12."""
        return {"count": len(self._events(params))}

    def _ops(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """7.3: by room_id, or by uuid (7.3 says "中心 uuid": a centre's uuid
        gives its home's operations; a lock's gives that lock's)."""
        uuid = params.get("uuid")
        room_id = params.get("room_id")
        home_id = params.get("home_id")
        if uuid:
            device = self.devices.get(str(uuid))
            if device is None:
                raise _Answer(15006, "记录不存在")
            if device["type"] == "gateway":
                rows = [r for r in self.op_log if r["home_id"] == device["home_id"]]
            else:
                rows = [r for r in self.op_log if r["uuid"] == uuid]
        elif room_id:
            rows = [
                r
                for r in self.op_log
                if r["room_id"] == room_id and (not home_id or r["home_id"] == home_id)
            ]
        else:
            raise _Answer(14001, "room_id 与 uuid 至少有一个")
        start = self._seconds(params, "start_time", required=False)
        end = self._seconds(params, "end_time", required=False)
        op_id = params.get("op_id")
        entries = [
            r["entry"]
            for r in rows
            if (start is None or r["entry"]["timestamp"] >= start * 1000)
            and (end is None or r["entry"]["timestamp"] <= end * 1000)
            and (not op_id or r["entry"]["op_id"] == op_id)
        ]
        return sorted(entries, key=lambda e: e["timestamp"], reverse=True)

    def _h_search_device_op_log(self, params: dict[str, Any]) -> dict[str, Any]:
        """7.3: ``op_list`` of 7.1 templates (timestamp in ms)."""
        return {"op_list": self._page(params, self._ops(params))}

    def _h_count_device_op_log(self, params: dict[str, Any]) -> dict[str, Any]:
        """7.4."""
        return {"count": len(self._ops(params))}
