"""A stateful fake of the TTLock Open API v3 cloud, served on 127.0.0.1.

It answers like the real cloud: HTTP 200 with ``{"errcode": N, "errmsg": ...}`` on
failure, enforces form-encoded bodies, md5 passwords, access tokens and the ``date``
window, and keeps locks, gateways, passcodes and records in plain dicts tests read.

Time comes from ``time.time()`` (never the loop clock) so ``freezer`` moves it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
from email.utils import formatdate
import hashlib
import math
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.inflight import Hold, InFlightFaults
from tests.fakes.ttlock_random_codes import RandomCodesMixin

GATEWAY_BOUND = frozenset(
    {
        "/v3/lock/unlock",
        "/v3/lock/lock",
        "/v3/keyboardPwd/add",
        "/v3/keyboardPwd/delete",
        "/v3/keyboardPwd/change",
        "/v3/lock/configPassageMode",
        "/v3/lock/queryOpenState",
        "/v3/lock/queryElectricQuantity",
    }
)

# Feature bits of ``featureValue``.
BIT_REMOTE = 8
BIT_GATEWAY_UNLOCK = 10
BIT_PASSAGE = 22
BIT_WIFI = 56
# A few other bits real locks set (passcode, IC card, fingerprint...).
BASE_FEATURES = (1 << 0) | (1 << 1) | (1 << 2)

MAX_PASSCODES = 250
DATE_WINDOW_MS = 5 * 60 * 1000

# A JSON (or other non-form) body: the real cloud answers this text (seen in the
# wild as errmsg). We answer HTTP 200 with errcode -3 ("invalid parameter"), the
# cloud's general code for a malformed request, like every other failure.
BAD_CONTENT_TYPE = (
    "invalid_request, Bad request content type. "
    "Expecting: application/x-www-form-urlencoded"
)


# When the current request arrived (cloud clock, ms): ``date`` is checked
# against it, so a request held by a test is judged as it was sent.
_ARRIVAL_MS: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "arrival_ms", default=None
)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _now_ms() -> int:
    return int(time.time() * 1000)


class _Answer(Exception):
    """Raised by handlers to answer with an errcode."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.errcode = errcode
        self.errmsg = errmsg


class FakeTTLockCloud(RandomCodesMixin):
    """In-memory TTLock cloud over real HTTP on loopback."""

    CLIENT_ID = "fake-client-id"
    CLIENT_SECRET = "fake-client-secret-0123456789abcd"
    USERNAME = "owner@example.com"
    PASSWORD = "correct horse battery"
    UID = 4242

    def __init__(
        self, *, latency: float = 0.0, token_lifetime: int = 7_776_000
    ) -> None:
        self.latency = latency
        self.token_lifetime = token_lifetime
        self.gateway_busy_window = 0.0
        self.base_url = ""

        self.locks: dict[int, dict[str, Any]] = {}
        self.gateways: dict[int, dict[str, Any]] = {}
        self.passcodes: dict[int, dict[int, dict[str, Any]]] = {}
        self.records: dict[int, list[dict[str, Any]]] = {}
        # Extra per-lock state the real API does not show in lock/detail.
        self.lock_gateway: dict[int, int | None] = {}
        self.remote_unlock_disabled: set[int] = set()
        self.open_state: dict[int, int] = {}
        self.passage_config: dict[int, dict[str, Any]] = {}

        self.unlocks: list[int] = []
        self.locks_done: list[int] = []
        self.calls: collections.Counter[str] = collections.Counter()
        self.max_in_flight = 0
        self.max_in_flight_per_lock: dict[int, int] = {}

        self._in_flight = 0
        self._in_flight_per_lock: collections.Counter[int] = collections.Counter()
        self._in_flight_per_gateway: collections.Counter[Any] = collections.Counter()
        self._faults: dict[str, list[tuple[int, str]]] = {}
        self._outage: str | None = None
        self._in_flight_faults = InFlightFaults()
        self._access_tokens: dict[str, float] = {}  # token -> expiry (time.time())
        self._refresh_tokens: set[str] = set()
        self._next_id = 1_000_000
        self._stopping: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        # The cloud's clock minus the real one (ms): it checks ``date`` against
        # its own clock and says its time in the Date header, as nginx does.
        self.clock_skew_ms = 0
        # Calls to /v3 left this month (None: unlimited); past it errcode 30007.
        self.monthly_calls_left: int | None = None
        # Region whose cloud holds the account, and the one this fake serves:
        # a mismatch answers the token call with 30008 (cloud/errorCodeEn).
        self.account_region = "eu"
        self.served_region = "eu"
        # Paths whose requests wait until the event is set (tests hold them).
        self._holds: dict[str, asyncio.Event] = {}
        # Locks shared to the account (``/v3/key/list``): lockId -> ekey entry.
        self.keys: dict[int, dict[str, Any]] = {}
        # Lock ids of the list whose top admin is another account.
        self.not_top_admin: set[int] = set()
        # Standalone door sensors (DS3): doorSensorId -> list entry.
        self.door_sensors: dict[int, dict[str, Any]] = {}
        self._init_random_codes()

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
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _sleep(self, delay: float) -> None:
        """Sleep that ends early when the cloud stops."""
        if delay <= 0:
            return
        assert self._stopping is not None
        if self._stopping.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    # ------------------------------------------------------------ state helpers

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_gateway(
        self,
        *,
        name: str = "Gateway",
        online: bool = True,
        gateway_id: int | None = None,
    ) -> int:
        gid = gateway_id if gateway_id is not None else self._new_id()
        self.gateways[gid] = {
            "gatewayId": gid,
            "gatewayMac": ":".join(f"{(gid >> (8 * i)) & 0xFF:02X}" for i in range(6)),
            "gatewayName": name,
            "gatewayVersion": 2,
            "isOnline": 1 if online else 0,
            "lockNum": 0,
            "networkName": "home-wifi",
        }
        return gid

    def add_lock(
        self,
        *,
        name: str,
        gateway_id: int | None = None,
        wifi: bool = False,
        remote_unlock: bool = True,
        passage_mode: bool = True,
        battery: int = 80,
        auto_lock_time: int = -1,
        lock_id: int | None = None,
        gateway_unlock: bool = True,
        lock_command: bool = True,
    ) -> int:
        lid = lock_id if lock_id is not None else self._new_id()
        features = BASE_FEATURES
        if lock_command:
            features |= 1 << BIT_REMOTE
        if gateway_unlock:
            features |= 1 << BIT_GATEWAY_UNLOCK
        if passage_mode:
            features |= 1 << BIT_PASSAGE
        if wifi:
            features |= 1 << BIT_WIFI
        mac = self.lock_mac(lid)
        self.locks[lid] = {
            "lockId": lid,
            "lockName": f"M201_{lid & 0xFFFF:04x}",
            "lockAlias": name,
            "lockMac": mac,
            "electricQuantity": battery,
            "featureValue": format(features, "X"),
            "hasGateway": 1 if gateway_id is not None else 0,
            "modelNum": "SN9161_PV53",
            "hardwareRevision": "1.6",
            "firmwareRevision": "6.1.20.0623",
            "autoLockTime": auto_lock_time,
            "passageMode": 2,
            "timezoneRawOffset": 3_600_000,
            "lockSound": 1,
            "privacyLock": 2,
            "date": _now_ms(),
        }
        self.lock_gateway[lid] = gateway_id
        if gateway_id is not None and gateway_id in self.gateways:
            self.gateways[gateway_id]["lockNum"] += 1
        if not remote_unlock:
            self.remote_unlock_disabled.add(lid)
        self.passcodes.setdefault(lid, {})
        self.records.setdefault(lid, [])
        self.open_state[lid] = 0
        return lid

    @staticmethod
    def lock_mac(lock_id: int) -> str:
        """The MAC the fake gives a lock (upper-case hex, colons, as TTLock lists it)."""
        return ":".join(f"{(lock_id >> (8 * i)) & 0xFF:02X}" for i in range(5, -1, -1))

    def remove_lock(self, lock_id: int) -> None:
        self.locks.pop(lock_id, None)
        gid = self.lock_gateway.pop(lock_id, None)
        if gid is not None and gid in self.gateways:
            self.gateways[gid]["lockNum"] = max(0, self.gateways[gid]["lockNum"] - 1)
        self.passcodes.pop(lock_id, None)
        self.records.pop(lock_id, None)
        self.open_state.pop(lock_id, None)
        self.remote_unlock_disabled.discard(lock_id)

    def add_record(
        self,
        lock_id: int,
        record_type: int,
        *,
        success: bool = True,
        username: str = "owner",
        keyboard_pwd: str = "",
        lock_date_ms: int | None = None,
        record_type_from_lock: int = 0,
        server_date_ms: int | None = None,
    ) -> dict[str, Any]:
        """A record the lock synced: lockDate is the lock's clock, serverDate
        when the cloud received it (now unless given: a late sync)."""
        now = _now_ms()
        record = {
            "recordId": self._new_id(),
            "lockId": lock_id,
            "recordType": record_type,
            "recordTypeFromLock": record_type_from_lock,
            "success": 1 if success else 0,
            "username": username,
            "keyboardPwd": keyboard_pwd,
            "lockDate": lock_date_ms if lock_date_ms is not None else now,
            "serverDate": server_date_ms if server_date_ms is not None else now,
            "electricQuantity": self.locks.get(lock_id, {}).get("electricQuantity", 0),
        }
        self.records.setdefault(lock_id, []).append(record)
        return record

    def add_door_sensor(
        self,
        name: str = "Front door",
        *,
        state: Any = 0,
        battery: Any = 90,
        delay_flag: Any = 0,
    ) -> int:
        """A DS3 bound to the account (cloud/doorSensor/standaloneDoorSensor/add).

        The list entry carries the documented fields (standaloneDoorSensor/list):
        doorSensorState 0 closed / 1 open / 2 unknown, statusDelayFlag 1 = not
        updated for a long time, electricQuantity the battery.
        """
        sensor_id = self._new_id()
        mac = ":".join(f"{(sensor_id >> s) & 0xFF:02X}" for s in (0, 8, 16)) + (
            ":8C:1F:64"
        )
        self.door_sensors[sensor_id] = {
            "doorSensorId": sensor_id,
            "name": name,
            "mac": mac,
            "featureValue": "00000001",
            "statusDelayFlag": delay_flag,
            "electricQuantity": battery,
            "doorSensorState": state,
            "wifiName": "home-wifi",
            "doorSensorNumber": f"DS3_{sensor_id & 0xFFFFFF:06x}",
            "recordUpdateDate": _now_ms(),
            "userType": "ADMIN",
        }
        return sensor_id

    def door_sensor_callback(
        self, sensor_id: int, record_type: int, *, mac: str | None = None
    ) -> str:
        """The form the cloud posts when a DS3 reports (standaloneDoorSensor/
        notify: notifyType 7, doorSensorId, mac, name, recordType 0 closed,
        1 open, 2 door-not-closed alarm, 3 not-opened-for-long alarm).

        The state it reports becomes the sensor's listed state, as the cloud
        updates doorSensorState from the sensor's own uploads.
        """
        sensor = self.door_sensors.get(sensor_id, {})
        if record_type in (0, 1) and sensor:
            sensor["doorSensorState"] = record_type
            sensor["recordUpdateDate"] = _now_ms()
        return urlencode(
            {
                "notifyType": 7,
                "doorSensorId": sensor_id,
                "mac": mac
                if mac is not None
                else sensor.get("mac", "00:00:00:00:00:00"),
                "name": sensor.get("name", ""),
                "recordType": record_type,
            }
        )

    # ----------------------------------------------------------------- counters

    def fail_on_lock(self, lock_id: int, pwd_id: int, errcode: int) -> str:
        """A Wi-Fi lock refused (or never got) an asynchronous passcode request.

        The form body the cloud then posts to the callback URL (cloud/wifiLock/
        WiFiLockAsynchronousRequestFailNotify: notifyType 4, lockId, lockMac,
        uid, objectType 2 = passcode, objectId = keyboardPwdId, errcode). The
        cloud keeps listing the passcode (nothing in the documentation says it
        drops it); the lock does not have it.
        """
        self.passcodes[lock_id][pwd_id]["notOnLock"] = True
        return urlencode(
            {
                "notifyType": 4,
                "lockId": lock_id,
                "lockMac": self.locks[lock_id]["lockMac"],
                "uid": 4242,
                "objectType": 2,
                "objectId": pwd_id,
                "errcode": errcode,
            }
        )

    def on_lock(self, lock_id: int) -> list[str]:
        """Digits of the passcodes the lock itself has (sorted)."""
        return sorted(
            c["keyboardPwd"]
            for c in self.passcodes.get(lock_id, {}).values()
            if not c.get("notOnLock")
        )

    def reset_calls(self) -> None:
        self.calls.clear()
        self.max_in_flight = 0
        self.max_in_flight_per_lock.clear()

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    # ------------------------------------------------------------------- faults

    def fail(
        self, path: str, errcode: int, errmsg: str = "injected", times: int = 1
    ) -> None:
        self._faults.setdefault(path, []).extend([(errcode, errmsg)] * times)

    def hold(self, path: str) -> Hold:
        """Keep the next request to ``path`` at the cloud until released.

        The request is handled when released, whether or not the client still
        waits: like the real cloud, whose gateway finishes writing a code after
        the client gave up on the answer.
        """
        assert self._stopping is not None, "start the cloud first"
        return self._in_flight_faults.hold(path, self._stopping)

    def lose_answer(self, path: str, times: int = 1) -> None:
        """Carry out the next ``times`` requests to ``path``, then drop the
        connection instead of answering (the answer was lost on its way back)."""
        self._in_flight_faults.lose_answers(path, times)

    def set_outage(self, mode: str | None) -> None:
        if mode not in (None, "http500", "timeout", "disconnect"):
            raise ValueError(mode)
        self._outage = mode

    def revoke_tokens(self) -> None:
        self._access_tokens.clear()

    def gate(self, path: str) -> asyncio.Event:
        """Hold every request to ``path`` until the returned event is set."""
        event = self._holds[path] = asyncio.Event()
        return event

    def share_lock(self, lock_id: int, *, authorised: bool = True) -> None:
        """Make ``lock_id`` a lock another account shares with this one.

        It leaves ``/v3/lock/list`` (only locks whose top admin is this account;
        cloud/lock/list) and appears in ``/v3/key/list`` as a common ekey
        (userType 110302), authorised admin when ``keyRight`` is 1
        (cloud/ekey/list).
        """
        lock = self.locks[lock_id]
        self.not_top_admin.add(lock_id)
        self.keys[lock_id] = {
            "keyId": self._new_id(),
            "lockData": "opaque-lock-data",
            "lockId": lock_id,
            "userType": "110302",
            "keyStatus": "110401",
            "lockName": lock["lockName"],
            "lockAlias": lock["lockAlias"],
            "lockMac": lock["lockMac"],
            "electricQuantity": lock["electricQuantity"],
            "featureValue": lock["featureValue"],
            "hasGateway": lock["hasGateway"],
            "startDate": 0,
            "endDate": 0,
            "keyRight": 1 if authorised else 0,
            "remoteEnable": 1,
            "passageMode": lock["passageMode"],
        }

    def _server_ms(self) -> int:
        return _now_ms() + self.clock_skew_ms

    def revoke_refresh_tokens(self) -> None:
        self._refresh_tokens.clear()

    # ------------------------------------------------------------------ serving

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.calls[path] += 1
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        _ARRIVAL_MS.set(self._server_ms())
        try:
            hold = self._holds.get(path)
            if hold is not None:
                assert self._stopping is not None
                waiters = [
                    asyncio.ensure_future(e.wait()) for e in (hold, self._stopping)
                ]
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
            response = await self._serve(request, path)
            if isinstance(response, web.Response):
                response.headers["Date"] = formatdate(
                    self._server_ms() / 1000, usegmt=True
                )
            return response
        finally:
            self._in_flight -= 1

    async def _serve(self, request: web.Request, path: str) -> web.StreamResponse:
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

        if request.content_type not in ("", "application/x-www-form-urlencoded") and (
            request.method == "POST" or request.content_type == "application/json"
        ):
            return self._error(-3, BAD_CONTENT_TYPE)
        params: dict[str, str] = dict(request.query)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})

        if held := self._in_flight_faults.take_hold(path):
            await held.wait()
        if path in GATEWAY_BOUND:
            response = await self._serve_gateway_bound(path, params)
        else:
            response = self._answer(path, params)
        if self._in_flight_faults.take_lost(path) and request.transport is not None:
            request.transport.close()
        return response

    async def _serve_gateway_bound(
        self, path: str, params: dict[str, str]
    ) -> web.StreamResponse:
        try:
            lock_id: int | None = int(params.get("lockId", ""))
        except ValueError:
            lock_id = None
        if lock_id is None or lock_id not in self.locks:
            return self._answer(path, params)
        gw_key: Any = self.lock_gateway.get(lock_id) or ("lock", lock_id)
        if self.gateway_busy_window > 0 and self._in_flight_per_gateway[gw_key] > 0:
            self._note_lock_in_flight(lock_id, +1)
            self._note_lock_in_flight(lock_id, -1)
            return self._error(-3003, "gateway busy")
        self._note_lock_in_flight(lock_id, +1)
        self._in_flight_per_gateway[gw_key] += 1
        try:
            await self._sleep(self.gateway_busy_window)
            return self._answer(path, params)
        finally:
            self._in_flight_per_gateway[gw_key] -= 1
            self._note_lock_in_flight(lock_id, -1)

    def _note_lock_in_flight(self, lock_id: int, delta: int) -> None:
        self._in_flight_per_lock[lock_id] += delta
        current = self._in_flight_per_lock[lock_id]
        if current > self.max_in_flight_per_lock.get(lock_id, 0):
            self.max_in_flight_per_lock[lock_id] = current

    def _answer(self, path: str, params: dict[str, str]) -> web.StreamResponse:
        faults = self._faults.get(path)
        if faults:
            errcode, errmsg = faults.pop(0)
            return self._error(errcode, errmsg)
        try:
            if path == "/oauth2/token":
                return web.json_response(self._token(params))
            if not path.startswith("/v3/"):
                return web.Response(status=404, text="Not Found")
            self._check_auth(params)
            self._spend_call()
            handler = self._handlers().get(path)
            if handler is None:
                return web.Response(status=404, text="Not Found")
            result = handler(params)
        except _Answer as answer:
            return self._error(answer.errcode, answer.errmsg)
        return web.json_response(result)

    @staticmethod
    def _error(errcode: int, errmsg: str) -> web.Response:
        return web.json_response(
            {"errcode": errcode, "errmsg": errmsg, "description": errmsg}
        )

    # --------------------------------------------------------------------- auth

    def _issue_token(self) -> dict[str, Any]:
        access = secrets.token_hex(16)
        refresh = secrets.token_hex(16)
        self._access_tokens[access] = time.time() + self.token_lifetime
        self._refresh_tokens.add(refresh)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "uid": self.UID,
            "openid": 1_234_567,
            "scope": "user,key,room",
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
        }

    def _token(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("clientId") != self.CLIENT_ID:
            raise _Answer(10001, "invalid client")
        if params.get("clientSecret") != self.CLIENT_SECRET:
            raise _Answer(10001, "invalid client")
        if self.account_region != self.served_region:
            raise _Answer(
                30008,
                "Cross-site access to user data is prohibited. Please use domain "
                "names with the 'cn' prefix to request for Mainland Chinese users, "
                "for other region's users please use domain names with the 'eu' "
                "prefix to request API endpoints",
            )
        grant = params.get("grant_type", "password")
        if grant == "refresh_token":
            token = params.get("refresh_token", "")
            if token not in self._refresh_tokens:
                raise _Answer(10011, "invalid refresh_token")
            self._refresh_tokens.discard(token)
            return self._issue_token()
        if grant != "password":
            raise _Answer(-3, "unsupported grant_type")
        password = params.get("password", "")
        if len(password) != 32 or any(
            c not in "0123456789abcdefABCDEF" for c in password
        ):
            raise _Answer(30005, "password must be md5 encrypted")
        if params.get("username") != self.USERNAME or password.lower() != _md5(
            self.PASSWORD
        ):
            raise _Answer(10007, "invalid account or invalid password")
        return self._issue_token()

    def _spend_call(self) -> None:
        if self.monthly_calls_left is None:
            return
        if self.monthly_calls_left <= 0:
            # Issue 13: the application's monthly quota is used up.
            raise _Answer(30007, "exceeds the monthly API call limit")
        self.monthly_calls_left -= 1

    def _check_auth(self, params: dict[str, str]) -> None:
        if params.get("clientId") != self.CLIENT_ID:
            raise _Answer(10000, "invalid client_id")
        token = params.get("accessToken")
        if not token:
            raise _Answer(10003, "invalid token")
        expiry = self._access_tokens.get(token)
        if expiry is None or time.time() >= expiry:
            raise _Answer(10004, "invalid grant")
        try:
            date = int(params.get("date", ""))
        except ValueError:
            raise _Answer(80000, "date must be current time, in 5 minutes") from None
        arrival = _ARRIVAL_MS.get()
        if abs(date - (arrival if arrival is not None else self._server_ms())) > (
            DATE_WINDOW_MS
        ):
            raise _Answer(80000, "date must be current time, in 5 minutes")

    # ----------------------------------------------------------------- handlers

    def _handlers(self) -> dict[str, Any]:
        return {
            "/v3/lock/list": self._lock_list,
            "/v3/lock/detail": self._lock_detail,
            "/v3/lock/unlock": self._unlock,
            "/v3/lock/lock": self._lock,
            "/v3/lock/queryOpenState": self._query_open_state,
            "/v3/lock/queryElectricQuantity": self._query_battery,
            "/v3/lock/configPassageMode": self._config_passage_mode,
            "/v3/lock/getPassageModeConfig": self._get_passage_mode,
            "/v3/lock/listKeyboardPwd": self._list_passcodes,
            "/v3/keyboardPwd/add": self._add_passcode,
            "/v3/keyboardPwd/get": self._random_code_get,
            "/v3/keyboardPwd/change": self._change_passcode,
            "/v3/keyboardPwd/delete": self._random_code_delete,
            "/v3/lockRecord/list": self._record_list,
            "/v3/gateway/list": self._gateway_list,
            "/v3/key/list": self._key_list,
            "/v3/gateway/listByLock": self._gateway_list_by_lock,
            "/v3/gateway/listLock": self._gateway_list_lock,
            "/v3/standaloneDoorSensor/list": self._door_sensor_list,
        }

    @staticmethod
    def _int(params: dict[str, str], key: str, default: int | None = None) -> int:
        raw = params.get(key)
        if raw is None or raw == "":
            if default is None:
                raise _Answer(-3, f"invalid parameter: {key}")
            return default
        try:
            return int(raw)
        except ValueError:
            raise _Answer(-3, f"invalid parameter: {key}") from None

    @classmethod
    def _page(
        cls, params: dict[str, str], items: list[dict[str, Any]], max_size: int
    ) -> dict[str, Any]:
        page_no = cls._int(params, "pageNo", 1)
        page_size = cls._int(params, "pageSize", 20)
        if page_no < 1 or page_size < 1 or page_size > max_size:
            raise _Answer(-3, "invalid parameter: pageSize")
        start = (page_no - 1) * page_size
        return {
            "list": [dict(item) for item in items[start : start + page_size]],
            "pageNo": page_no,
            "pageSize": page_size,
            "pages": math.ceil(len(items) / page_size),
            "total": len(items),
        }

    def _get_lock(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        lock_id = self._int(params, "lockId")
        lock = self.locks.get(lock_id)
        if lock is None:
            raise _Answer(-1003, "lock does not exist")
        return lock_id, lock

    def _check_reachable(self, lock_id: int, lock: dict[str, Any]) -> None:
        """Gateway/Wi-Fi path to the lock, as the real cloud checks it."""
        wifi = bool((int(lock["featureValue"], 16) >> BIT_WIFI) & 1)
        if wifi:
            return
        gid = self.lock_gateway.get(lock_id)
        if gid is None or lock.get("hasGateway") != 1:
            raise _Answer(-2012, "The lock is not connected to any gateway")
        gateway = self.gateways.get(gid)
        if gateway is None or gateway.get("isOnline") != 1:
            raise _Answer(-3002, "The gateway is offline")

    def _lock_list(self, params: dict[str, str]) -> dict[str, Any]:
        # cloud/lock/list: only locks whose top admin is this account.
        mine = [
            self.locks[k] for k in sorted(self.locks) if k not in self.not_top_admin
        ]
        return self._page(params, mine, 1000)

    def _key_list(self, params: dict[str, str]) -> dict[str, Any]:
        """cloud/ekey/list (POST): admin ekeys of own locks and shared ekeys."""
        own = [
            {
                "keyId": lock_id + 7,
                "lockId": lock_id,
                "userType": "110301",
                "keyStatus": "110401",
                "lockName": lock["lockName"],
                "lockAlias": lock["lockAlias"],
                "lockMac": lock["lockMac"],
                "noKeyPwd": "1234567",
                "electricQuantity": lock["electricQuantity"],
                "featureValue": lock["featureValue"],
                "keyRight": 0,
                "remoteEnable": 1,
            }
            for lock_id, lock in sorted(self.locks.items())
            if lock_id not in self.not_top_admin
        ]
        shared = [self.keys[k] for k in sorted(self.keys) if k in self.locks]
        return self._page(params, own + shared, 1000)

    def _lock_detail(self, params: dict[str, str]) -> dict[str, Any]:
        _, lock = self._get_lock(params)
        return dict(lock)

    @staticmethod
    def _has_feature(lock: dict[str, Any], bit: int) -> bool:
        return bool((int(lock["featureValue"], 16) >> bit) & 1)

    def _unlock(self, params: dict[str, str]) -> dict[str, Any]:
        lock_id, lock = self._get_lock(params)
        self._check_reachable(lock_id, lock)
        # cloud/lock/featureValue: bit 10 = remote unlock through a gateway
        # (Wi-Fi locks unlock on their own); bit 8 is the lock command only.
        if not (
            self._has_feature(lock, BIT_GATEWAY_UNLOCK)
            or self._has_feature(lock, BIT_WIFI)
        ):
            raise _Answer(-4043, "The function is not supported for this lock")
        if lock_id in self.remote_unlock_disabled:
            raise _Answer(-4043, "The function is not supported for this lock")
        self.unlocks.append(lock_id)
        self.open_state[lock_id] = 1
        self.add_record(lock_id, 12, username=self.USERNAME, record_type_from_lock=28)
        return {"errcode": 0, "errmsg": "none error message or means yes"}

    def _lock(self, params: dict[str, str]) -> dict[str, Any]:
        lock_id, lock = self._get_lock(params)
        self._check_reachable(lock_id, lock)
        if not self._has_feature(lock, BIT_REMOTE):  # bit 8: lock command
            raise _Answer(-4043, "The function is not supported for this lock")
        if lock_id in self.remote_unlock_disabled:
            raise _Answer(-4043, "The function is not supported for this lock")
        self.locks_done.append(lock_id)
        self.open_state[lock_id] = 0
        self.add_record(lock_id, 11, username=self.USERNAME, record_type_from_lock=26)
        return {"errcode": 0, "errmsg": "none error message or means yes"}

    def _query_open_state(self, params: dict[str, str]) -> dict[str, Any]:
        lock_id, lock = self._get_lock(params)
        self._check_reachable(lock_id, lock)
        return {"state": self.open_state.get(lock_id, 2)}

    def _query_battery(self, params: dict[str, str]) -> dict[str, Any]:
        lock_id, lock = self._get_lock(params)
        self._check_reachable(lock_id, lock)
        return {"electricQuantity": lock["electricQuantity"]}

    def _config_passage_mode(self, params: dict[str, str]) -> dict[str, Any]:
        lock_id, lock = self._get_lock(params)
        if not (int(lock["featureValue"], 16) >> BIT_PASSAGE) & 1:
            raise _Answer(-4043, "The function is not supported for this lock")
        mode = self._int(params, "passageMode")
        if mode not in (1, 2):
            raise _Answer(-3, "invalid parameter: passageMode")
        if self._int(params, "type", 1) == 2:
            self._check_reachable(lock_id, lock)
        lock["passageMode"] = mode
        self.passage_config[lock_id] = {
            "passageMode": mode,
            "startDate": self._int(params, "startDate", 0),
            "endDate": self._int(params, "endDate", 0),
            "isAllDay": self._int(params, "isAllDay", 2),
            "weekDays": params.get("weekDays", "[]"),
            "autoUnlock": self._int(params, "autoUnlock", 2),
        }
        return {"errcode": 0, "errmsg": "none error message or means yes"}

    def _get_passage_mode(self, params: dict[str, str]) -> dict[str, Any]:
        lock_id, lock = self._get_lock(params)
        config = self.passage_config.get(
            lock_id,
            {
                "startDate": 0,
                "endDate": 0,
                "isAllDay": 2,
                "weekDays": "[]",
                "autoUnlock": 2,
            },
        )
        return {**config, "passageMode": lock["passageMode"]}

    def _list_passcodes(self, params: dict[str, str]) -> dict[str, Any]:
        lock_id, _ = self._get_lock(params)
        # The fake's own marks (notOnLock) are not the cloud's fields.
        codes = [
            {k: v for k, v in c.items() if k != "notOnLock"}
            for c in self.passcodes.get(lock_id, {}).values()
        ]
        if self._int(params, "orderBy", 1) == 1:
            codes.reverse()
        return self._page(params, codes, 200)

    def _add_passcode(self, params: dict[str, str]) -> dict[str, Any]:
        lock_id, lock = self._get_lock(params)
        code = params.get("keyboardPwd", "")
        if not code.isdigit() or not 4 <= len(code) <= 9:
            raise _Answer(-3006, "The passcode should be between 4 and 9 digits")
        pwd_type = self._int(params, "keyboardPwdType", 3)
        start = self._int(params, "startDate", 0)
        end = self._int(params, "endDate", 0)
        if pwd_type == 3 and (not start or not end or end <= start):
            raise _Answer(-3, "invalid parameter: startDate/endDate")
        if self._int(params, "addType", 1) == 2:
            self._check_reachable(lock_id, lock)
        codes = self.passcodes.setdefault(lock_id, {})
        if any(c["keyboardPwd"] == code for c in codes.values()):
            raise _Answer(-3007, "The same passcode already exists")
        if len(codes) >= MAX_PASSCODES:
            raise _Answer(-3009, "The passcode storage is full")
        pwd_id = self._new_id()
        codes[pwd_id] = {
            "keyboardPwdId": pwd_id,
            "lockId": lock_id,
            "keyboardPwd": code,
            "keyboardPwdName": params.get("keyboardPwdName", ""),
            "keyboardPwdType": pwd_type,
            "keyboardPwdVersion": 4,
            "startDate": start,
            "endDate": end,
            "sendDate": _now_ms(),
            "isCustom": 1,
            "senderUsername": self.USERNAME,
        }
        return {"keyboardPwdId": pwd_id}

    def _change_passcode(self, params: dict[str, str]) -> dict[str, Any]:
        lock_id, lock = self._get_lock(params)
        pwd_id = self._int(params, "keyboardPwdId")
        if self._int(params, "changeType", 1) == 2:
            self._check_reachable(lock_id, lock)
        codes = self.passcodes.setdefault(lock_id, {})
        entry = codes.get(pwd_id)
        if entry is None:
            raise _Answer(-1007, "No data")
        new_code = params.get("newKeyboardPwd")
        if new_code:
            if not new_code.isdigit() or not 4 <= len(new_code) <= 9:
                raise _Answer(-3006, "The passcode should be between 4 and 9 digits")
            if any(
                c["keyboardPwd"] == new_code for k, c in codes.items() if k != pwd_id
            ):
                raise _Answer(-3007, "The same passcode already exists")
            entry["keyboardPwd"] = new_code
        if "keyboardPwdName" in params:
            entry["keyboardPwdName"] = params["keyboardPwdName"]
        # "startDate and endDate must both be sent to change the validity; without
        # startDate the request succeeds but has no effect"
        # (euopen.ttlock.com document-pages/cloud/passcode/update).
        if params.get("startDate") and params.get("endDate"):
            start = self._int(params, "startDate")
            end = self._int(params, "endDate")
            if end <= start:
                raise _Answer(-3, "invalid parameter: startDate/endDate")
            entry["startDate"], entry["endDate"] = start, end
        return {"errcode": 0, "errmsg": "none error message or means yes"}

    def _delete_passcode(self, params: dict[str, str]) -> dict[str, Any]:
        lock_id, lock = self._get_lock(params)
        pwd_id = self._int(params, "keyboardPwdId")
        if self._int(params, "deleteType", 1) == 2:
            self._check_reachable(lock_id, lock)
        # The real cloud answers 0 even for unknown ids.
        self.passcodes.get(lock_id, {}).pop(pwd_id, None)
        return {"errcode": 0, "errmsg": "none error message or means yes"}

    def _record_list(self, params: dict[str, str]) -> dict[str, Any]:
        lock_id, _ = self._get_lock(params)
        start = self._int(params, "startDate", 0)
        end = self._int(params, "endDate", 0)
        records = [
            r
            for r in self.records.get(lock_id, [])
            if (not start or r["lockDate"] >= start)
            and (not end or r["lockDate"] <= end)
        ]
        # Newest first, as the real cloud answers.
        records.sort(key=lambda r: (r["lockDate"], r["recordId"]), reverse=True)
        return self._page(params, records, 200)

    def _gateway_list(self, params: dict[str, str]) -> dict[str, Any]:
        # cloud/gateway/list: orderBy is required (0 name, 1 time desc, 2 name desc).
        if self._int(params, "orderBy", -1) not in (0, 1, 2):
            raise _Answer(-3, "invalid parameter: orderBy")
        return self._page(
            params, [self.gateways[k] for k in sorted(self.gateways)], 200
        )

    def _door_sensor_list(self, params: dict[str, str]) -> dict[str, Any]:
        """cloud/doorSensor/standaloneDoorSensor/list: pageSize at most 200
        (larger: errcode -3), optional searchStr on the name."""
        search = params.get("searchStr") or ""
        sensors = [
            self.door_sensors[k]
            for k in sorted(self.door_sensors)
            if search in str(self.door_sensors[k].get("name", ""))
        ]
        return self._page(params, sensors, 200)

    def _gateway_list_by_lock(self, params: dict[str, str]) -> dict[str, Any]:
        lock_id, _ = self._get_lock(params)
        gid = self.lock_gateway.get(lock_id)
        gateways = (
            [] if gid is None or gid not in self.gateways else [self.gateways[gid]]
        )
        return {"list": [{**g, "rssi": -60} for g in gateways]}

    def _gateway_list_lock(self, params: dict[str, str]) -> dict[str, Any]:
        """Locks a gateway reaches (document-pages/en/cloud/gateway/listLock).

        Not paged. An offline gateway has seen no lock for 30 minutes: the cloud's
        cached link is gone, so it lists none.
        """
        gid = self._int(params, "gatewayId")
        gateway = self.gateways.get(gid)
        if gateway is None:
            raise _Answer(-3, "invalid parameter: gatewayId")
        if gateway.get("isOnline") != 1:
            return {"list": []}
        return {
            "list": [
                {
                    "lockId": lid,
                    "lockMac": self.locks[lid]["lockMac"],
                    "lockName": self.locks[lid]["lockName"],
                    "lockAlias": self.locks[lid]["lockAlias"],
                    "rssi": -65,
                    "updateDate": _now_ms(),
                }
                for lid, g in sorted(self.lock_gateway.items())
                if g == gid and lid in self.locks
            ]
        }
