"""A runnable simulated TTLock + Tuya cloud for development and browser tests.

It serves the test doubles from ``tests/fakes`` (imported, not copied) on fixed
loopback ports, seeds a small home, exposes a read-only ``GET /_sim/state`` on each
port, and periodically pushes callbacks (TTLock record, Dding battery alarm,
Dding ``lockerOpenAlarm``) to a webhook so the event flow is visible. Tuya
events (a fingerprint unlock, the bolt going home, the battery) go out through
the fake message service (``tests/fakes/tuya_pulsar.py``) on its own port: the
Tuya entry's consumer receives them as it would from Tuya.

``POST /_sim/fault`` (either port) injects the failures a real home meets, so the
UI's queued codes, errors and repairs can be seen: an offline gateway, a busy
gateway, a slow cloud, revoked tokens and a used-up API quota (docs/develop.md).

Nothing in ``custom_components`` knows about this package: the integration only
sees a ``base_url``, like every provider already has.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
import json
import logging
import time
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.dding_cloud import FakeDdingCloud
from tests.fakes.gateway_service import FakeGatewayService
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud
from tests.fakes.tuya_pulsar import FakeTuyaPulsar

_LOGGER = logging.getLogger("simulator")

# Fixed ids so a config directory survives simulator restarts unchanged.
GATEWAY_ID = 7_100_001
FRONT_DOOR_ID = 7_200_001
BACK_DOOR_ID = 7_200_002
SIDE_GATE_ID = 7_200_003
# No gateway: offline (random) passcodes only, the lock checks them itself.
GARDEN_SHED_ID = 7_200_004
TUYA_STUDIO_ID = "vdevosimstudio0001"
TUYA_GARAGE_ID = "vdevosimgarage0002"
# The Dding partner's own home id (seed 003, 5.1: the partner chooses it).
DDING_HOME_ID = "sim-dding-home"

# Record types of the TTLock Open API (``recordType``).
RECORD_UNLOCK_BY_CODE = 4
# Guest code digits used by the simulated keypad (a test double's fixed value).
GUEST_CODE = "482915"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Faults ``POST /_sim/fault`` accepts ({"fault": NAME, "on": true|false}).
FAULTS = ("gateway_offline", "busy", "slow", "token_revoked", "quota")
# TTLock Open API answers the faults are made of (reference/ttlock-open-api.md):
# -3003 gateway busy, 30006 API call limit; Tuya 40000305 "request limit".
_TTLOCK_BUSY = -3003
_TTLOCK_QUOTA = 30006
_TUYA_QUOTA = 40000305
# Gateway-bound TTLock paths (the fake's list): the ones a busy gateway refuses.
_GATEWAY_BOUND = frozenset(
    {
        "/v3/lock/unlock",
        "/v3/lock/lock",
        "/v3/keyboardPwd/add",
        "/v3/keyboardPwd/delete",
        "/v3/keyboardPwd/change",
        "/v3/lock/configPassageMode",
    }
)
SLOW_SECONDS = 8.0


@dataclass
class PushStats:
    """What the push loop did, for ``/_sim/state`` and the log."""

    sent: int = 0
    failed: int = 0
    last_status: int | None = None
    last_error: str | None = None
    by_kind: dict[str, int] = field(default_factory=dict)


@dataclass
class SimulatorConfig:
    """Where to listen and where to push."""

    host: str = "127.0.0.1"
    ttlock_port: int = 8901
    tuya_port: int = 8902
    # The fake Tuya message service (websocket); None: none.
    tuya_push_port: int | None = 8903
    # The fake TTLock gateway service (seed 000) in front of the fake TTLock
    # cloud; None: none. It POSTs job results to the URL its user set.
    gateway_service_port: int | None = None
    # Full URL of the TTLock entry's webhook (``/api/webhook/<id>``); None: no pushes.
    webhook_url: str | None = None
    push_interval: float = 60.0
    first_push_delay: float | None = None  # default: push_interval
    # The fake Dding SaaS; None: none.
    dding_port: int | None = None  # the CLI default is 8904
    # Full URL of the Dding entry's webhook; None: no Dding callbacks.
    dding_webhook_url: str | None = None


def seed_dding_home(dding: FakeDdingCloud) -> None:
    """A Dding home (issue 19): a gateway, the outer door, two room locks."""
    dding.add_home(DDING_HOME_ID, ("101", "102"))
    dding.add_gateway(DDING_HOME_ID, name="Dding gateway")
    dding.add_lock(DDING_HOME_ID, name="Building entrance", power=88)
    dding.add_lock(DDING_HOME_ID, "101", name="Room 101", power=71)
    dding.add_lock(DDING_HOME_ID, "102", name="Room 102", power=23)


def seed_home(ttlock: FakeTTLockCloud, tuya: FakeTuyaCloud) -> None:
    """Three TTLock locks behind one gateway, one without, two Tuya Wi-Fi locks."""
    gateway = ttlock.add_gateway(name="Hall gateway", gateway_id=GATEWAY_ID)
    ttlock.add_lock(
        name="Front door",
        gateway_id=gateway,
        auto_lock_time=15,
        battery=82,
        lock_id=FRONT_DOOR_ID,
    )
    ttlock.add_lock(
        name="Back door",
        gateway_id=gateway,
        remote_unlock=False,
        battery=64,
        lock_id=BACK_DOOR_ID,
    )
    ttlock.add_lock(
        name="Side gate",
        gateway_id=gateway,
        passage_mode=False,
        battery=47,
        lock_id=SIDE_GATE_ID,
    )
    # A Bluetooth keypad lock with no gateway (issue 18): add_code gives it
    # offline codes; cyclic ones too (featureValue bit 12).
    ttlock.add_lock(
        name="Garden shed",
        remote_unlock=False,
        passage_mode=False,
        battery=58,
        lock_id=GARDEN_SHED_ID,
    )
    ttlock.set_feature(GARDEN_SHED_ID, 12, True)
    # A guest code that is valid from yesterday for a week (the keypad uses it).
    now_ms = int(time.time() * 1000)
    ttlock.passcodes[FRONT_DOOR_ID][7_300_001] = {
        "keyboardPwdId": 7_300_001,
        "lockId": FRONT_DOOR_ID,
        "keyboardPwd": GUEST_CODE,
        "keyboardPwdName": "Guest: Anna",
        "keyboardPwdType": 3,
        "keyboardPwdVersion": 4,
        "startDate": now_ms - 86_400_000,
        "endDate": now_ms + 6 * 86_400_000,
        "sendDate": now_ms - 86_400_000,
        "isCustom": 1,
        "senderUsername": ttlock.USERNAME,
    }
    tuya.add_device(
        name="Studio door",
        device_id=TUYA_STUDIO_ID,
        passage_mode=False,
        battery=76,
    )
    tuya.add_device(name="Garage door", device_id=TUYA_GARAGE_ID, battery=91)


class Simulator:
    """Both fake clouds on fixed ports, plus the push loop."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        # Tokens last a day here; the clients refresh them when they expire.
        self.ttlock = FakeTTLockCloud(token_lifetime=86_400)
        self.tuya = FakeTuyaCloud(token_lifetime=7_200)
        self.tuya_push = FakeTuyaPulsar(
            access_id=FakeTuyaCloud.ACCESS_ID, access_secret=FakeTuyaCloud.ACCESS_SECRET
        )
        # Lock list, unlock, codes... as jobs whose results it POSTs back.
        self.gateway = FakeGatewayService(self.ttlock)
        self.dding = FakeDdingCloud(token_lifetime=86_400)
        self.pushes = PushStats()
        self._runners: list[web.AppRunner] = []
        self._push_task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tick = 0
        self._extra_pushes: set[asyncio.Task[None]] = set()
        self.faults: set[str] = set()

    # --------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Seed the home and serve both clouds; start pushing if configured."""
        seed_home(self.ttlock, self.tuya)
        seed_dding_home(self.dding)
        # The TTLock fake needs its stop event for held requests (outage modes).
        if getattr(self.ttlock, "_stopping", None) is None:
            self.ttlock._stopping = asyncio.Event()
        cfg = self.config
        self.ttlock.base_url = await self._serve(
            cfg.ttlock_port,
            self._faulty(self.ttlock._dispatch, ttlock=True),
        )
        self.tuya.base_url = await self._serve(
            cfg.tuya_port,
            self._faulty(self.tuya._handle, ttlock=False),
        )
        if cfg.dding_port is not None:
            # The Dding fake's answers wait on its stop event (latency, gates).
            self.dding._stopping = asyncio.Event()
            self.dding.base_url = await self._serve(
                cfg.dding_port, self.dding._dispatch
            )
            _LOGGER.info("Dding SaaS on %s", self.dding.base_url)
        _LOGGER.info("TTLock cloud on %s", self.ttlock.base_url)
        _LOGGER.info("Tuya cloud on %s", self.tuya.base_url)
        if cfg.gateway_service_port is not None:
            # Served here (fixed port, /_sim/state); its own client session
            # talks to the TTLock fake and POSTs the job results.
            self.gateway._session = aiohttp.ClientSession()
            self.gateway.base_url = await self._serve(
                cfg.gateway_service_port, self.gateway._dispatch
            )
            _LOGGER.info("TTLock gateway service on %s", self.gateway.base_url)
        if cfg.tuya_push_port is not None:
            await self.tuya_push.start(cfg.host, cfg.tuya_push_port)
            _LOGGER.info("Tuya message service on %s", self.tuya_push.endpoint)
        if cfg.webhook_url or cfg.dding_webhook_url:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=10)
            )
            _LOGGER.info(
                "Pushing callbacks every %ss to %s", cfg.push_interval, cfg.webhook_url
            )
        if (
            cfg.webhook_url
            or cfg.dding_webhook_url
            or cfg.tuya_push_port is not None
            or cfg.gateway_service_port is not None
        ):
            self._push_task = asyncio.create_task(self._push_loop())

    async def stop(self) -> None:
        """Stop pushing and serving."""
        if self._push_task is not None:
            self._push_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._push_task
        for task in list(self._extra_pushes):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
        if self.ttlock._stopping is not None:
            self.ttlock._stopping.set()
        await self.dding.stop()
        await self.tuya_push.stop()
        await self.tuya.stop()
        await self.gateway.stop()
        for runner in self._runners:
            await runner.cleanup()

    async def _serve(self, port: int, cloud_handler: Handler) -> str:
        app = web.Application()
        app.router.add_get("/_sim/state", self._state_view)
        app.router.add_get("/_sim/fault", self._fault_view)
        app.router.add_post("/_sim/fault", self._fault_view)
        app.router.add_route("*", "/{tail:.*}", cloud_handler)
        runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, port, reuse_address=True)
        await site.start()
        self._runners.append(runner)
        return f"http://{self.config.host}:{port}"

    # ------------------------------------------------------------------ faults

    def set_fault(self, fault: str, on: bool) -> None:
        """Turn one fault on or off (``ValueError`` for an unknown name)."""
        if fault not in FAULTS:
            raise ValueError(fault)
        if fault == "token_revoked":
            # Every access and refresh token stops working at once, as when the
            # account's password is reset: the integration signs in again with
            # the stored credentials, unnoticed. A one-off, never "on".
            self.ttlock.revoke_tokens()
            self.ttlock.revoke_refresh_tokens()
            self.tuya.revoke_tokens()
            return
        if fault == "gateway_offline":
            # The cloud answers -3002 for every gateway-bound call: codes are
            # queued and retried, unlock says the gateway is offline.
            for gateway in self.ttlock.gateways.values():
                gateway["isOnline"] = 0 if on else 1
        if on:
            self.faults.add(fault)
        else:
            self.faults.discard(fault)

    def _faulty(self, handler: Handler, *, ttlock: bool) -> Handler:
        """The cloud's handler with the active faults in front of it."""

        async def serve(request: web.Request) -> web.StreamResponse:
            if "slow" in self.faults:
                await asyncio.sleep(SLOW_SECONDS)
            if "quota" in self.faults and request.path != "/oauth2/token":
                if ttlock:
                    return web.json_response(
                        {"errcode": _TTLOCK_QUOTA, "errmsg": "API call limit exceeded"}
                    )
                return web.json_response(
                    {
                        "success": False,
                        "code": _TUYA_QUOTA,
                        "msg": "request limit exceeded",
                        "t": int(time.time() * 1000),
                    }
                )
            if ttlock and "busy" in self.faults and request.path in _GATEWAY_BOUND:
                self.ttlock.calls[request.path] += 1
                return web.json_response(
                    {"errcode": _TTLOCK_BUSY, "errmsg": "gateway busy"}
                )
            return await handler(request)

        return serve

    async def _fault_view(self, request: web.Request) -> web.Response:
        """GET: the active faults. POST {"fault": NAME, "on": bool}: change one."""
        if request.method == "POST":
            try:
                body = await request.json()
                fault = str(body["fault"])
                on = bool(body.get("on", True))
                if fault == "clear":
                    for name in list(self.faults):
                        self.set_fault(name, False)
                else:
                    self.set_fault(fault, on)
            except (ValueError, KeyError, TypeError):
                return web.json_response(
                    {
                        "error": 'body must be {"fault": NAME, "on": true|false}',
                        "faults": [*FAULTS, "clear"],
                    },
                    status=400,
                )
            _LOGGER.info("faults now: %s", sorted(self.faults) or "none")
        return web.json_response({"active": sorted(self.faults), "known": list(FAULTS)})

    # ------------------------------------------------------------------- state

    def state(self) -> dict[str, Any]:
        """Counts and switches tests read; no secrets, no code digits."""
        ttlock_locks = {
            str(lock_id): {
                "name": lock["lockAlias"],
                "mac": lock["lockMac"],
                "unlocks": self.ttlock.unlocks.count(lock_id),
                "locks": self.ttlock.locks_done.count(lock_id),
                "passage_mode": lock["passageMode"] == 1,
                "open_state": self.ttlock.open_state.get(lock_id),
                "battery": lock["electricQuantity"],
                "remote_unlock": lock_id not in self.ttlock.remote_unlock_disabled,
                "passcodes": len(self.ttlock.passcodes.get(lock_id, {})),
                "records": len(self.ttlock.records.get(lock_id, [])),
            }
            for lock_id, lock in sorted(self.ttlock.locks.items())
        }
        tuya_devices: dict[str, Any] = {}
        for device_id, device in sorted(self.tuya.devices.items()):
            status = {item["code"]: item["value"] for item in device["status"]}
            tuya_devices[device_id] = {
                "name": device["name"],
                "unlocks": self.tuya.unlocks.count(device_id),
                "locks": self.tuya.locks_done.count(device_id),
                "passage_mode": status.get("normal_open_switch"),
                "online": device["online"],
                "codes": len(self.tuya.codes.get(device_id, {})),
            }
        return {
            "ttlock": {
                "base_url": self.ttlock.base_url,
                "gateways": {
                    str(gid): {"name": gw["gatewayName"], "online": gw["isOnline"] == 1}
                    for gid, gw in sorted(self.ttlock.gateways.items())
                },
                "locks": ttlock_locks,
                "calls": dict(self.ttlock.calls),
            },
            "tuya": {
                "base_url": self.tuya.base_url,
                "devices": tuya_devices,
                "calls": dict(self.tuya.calls),
            },
            "tuya_push": {
                "endpoint": self.tuya_push.endpoint or None,
                "connected": self.tuya_push.active,
                "connections": self.tuya_push.connections,
                "published": len(self.tuya_push.published),
                "acked": len(self.tuya_push.acked),
                "unacked": self.tuya_push.unacked,
            },
            "dding": {
                "base_url": self.dding.base_url or None,
                "devices": {
                    uuid: {
                        "name": d["name"],
                        "type": d["type"],
                        "online": d["onoff_line"] == 1,
                        "battery": d.get("power"),
                        "passwords": len(self.dding.passwords.get(uuid, {})),
                    }
                    for uuid, d in sorted(self.dding.devices.items())
                },
                "calls": dict(self.dding.calls),
            },
            "faults": sorted(self.faults),
            "pushes": {
                "webhook_configured": self.config.webhook_url is not None,
                "interval": self.config.push_interval,
                "sent": self.pushes.sent,
                "failed": self.pushes.failed,
                "last_status": self.pushes.last_status,
                "last_error": self.pushes.last_error,
                "by_kind": dict(self.pushes.by_kind),
            },
        }

    async def _state_view(self, request: web.Request) -> web.Response:
        return web.json_response(self.state())

    # ------------------------------------------------------------------ pushes

    def ttlock_code_unlock_callback(self, lock_id: int) -> dict[str, str]:
        """Record a keypad unlock in the fake and build the callback form for it."""
        lock = self.ttlock.locks[lock_id]
        record = self.ttlock.add_record(
            lock_id,
            RECORD_UNLOCK_BY_CODE,
            username="Guest: Anna",
            keyboard_pwd=GUEST_CODE,
        )
        return {
            "notifyType": "1",
            "lockId": str(lock_id),
            "lockMac": lock["lockMac"],
            "admin": self.ttlock.USERNAME,
            "records": json.dumps([record], separators=(",", ":")),
        }

    def dding_battery_callback(self, lock_id: int, *, low: bool) -> dict[str, Any]:
        """A Dding battery alarm (or its all-clear); the fake's battery agrees."""
        lock = self.ttlock.locks[lock_id]
        level = 18 if low else 100
        lock["electricQuantity"] = level
        return self._dding(
            lock, "batteryAlarm" if low else "clearBatteryAlarm", battery_level=level
        )

    def dding_open_callback(self, lock_id: int) -> dict[str, Any]:
        """A Dding ``lockerOpenAlarm`` (the door was opened)."""
        return self._dding(self.ttlock.locks[lock_id], "lockerOpenAlarm")

    @staticmethod
    def _dding(lock: dict[str, Any], event: str, **detail: Any) -> dict[str, Any]:
        return {
            "event": event,
            "time": int(time.time()),
            "uuid": lock["lockMac"],
            "home_id": "sim-home",
            "room_id": f"sim-room-{lock['lockId']}",
            "nickname": lock["lockAlias"],
            "detail": detail,
        }

    def tuya_push_round(self) -> None:
        """Tuya, through the message service: the studio door is unlocked by
        fingerprint, then locks again; the garage reports its battery. The
        fake cloud's open log gets the same record (the poll finds it too and
        the integration announces it once)."""
        if not self.tuya_push.endpoint:
            return
        now_ms = int(time.time() * 1000)
        self.tuya.add_open_log(TUYA_STUDIO_ID, "unlock_fingerprint", "1", t_ms=now_ms)
        self.tuya_push.publish_status(
            TUYA_STUDIO_ID, [("unlock_fingerprint", 1)], t_ms=now_ms
        )
        self.tuya_push.publish_status(
            TUYA_STUDIO_ID, [("lock_motor_state", False)], t_ms=now_ms + 5_000
        )
        level = 91 - (self._tick % 5)
        self.tuya_push.publish_status(
            TUYA_GARAGE_ID, [("residual_electricity", level)], t_ms=now_ms, core=True
        )
        self.pushes.by_kind["tuya_push"] = self.pushes.by_kind.get("tuya_push", 0) + 3
        _LOGGER.info("published 3 Tuya messages")

    async def push_once(self) -> None:
        """Push one round: keypad unlock, battery alarm, door-open alarm (to the
        webhook), and the Tuya messages (through the message service)."""
        self._tick += 1
        self.tuya_push_round()
        if self._session is None:
            return
        await self.dding_push_round()
        if self.config.webhook_url is None:
            return
        await self._post(
            "ttlock_record", data=self.ttlock_code_unlock_callback(FRONT_DOOR_ID)
        )
        low = self._tick % 2 == 1
        await self._post(
            "dding_battery",
            json_body=self.dding_battery_callback(BACK_DOOR_ID, low=low),
        )
        await self._post("dding_open", json_body=self.dding_open_callback(SIDE_GATE_ID))

    async def dding_push_round(self) -> None:
        """Dding, to its entry's webhook: a room door opened with a guest
        password (the 6.11 record too, so the poll agrees), and the gateway
        reports the lock's battery; pending password operations complete (the
        gateway carried them out)."""
        if not self.config.dding_webhook_url or not self.dding.base_url:
            return
        locks = [
            u for u, d in sorted(self.dding.devices.items()) if d["type"] == "room_lock"
        ]
        for uuid in locks:
            self.dding.complete(uuid)
        room = locks[self._tick % len(locks)]
        entry = self.dding.add_lock_event(room, password_id=1001, source_name="Guest")
        detail = {k: entry[k] for k in ("source", "sourceid", "source_name")}
        await self._post(
            "dding_open",
            json_body=self.dding.callback_body(
                "lockerOpenAlarm", room, detail=detail, time_ms=entry["time"]
            ),
            url=self.config.dding_webhook_url,
        )

    def push_soon(self) -> None:
        """Push one round now, besides the schedule."""
        if self._session is None and not self.tuya_push.endpoint:
            _LOGGER.warning("no --webhook-url and no Tuya push: nothing to push")
            return
        task = asyncio.get_running_loop().create_task(self.push_once())
        self._extra_pushes.add(task)
        task.add_done_callback(self._extra_pushes.discard)

    async def _post(
        self,
        kind: str,
        *,
        data: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        url: str | None = None,
    ) -> None:
        assert self._session is not None
        target = url or self.config.webhook_url
        assert target is not None
        try:
            async with self._session.post(target, data=data, json=json_body) as resp:
                await resp.read()
                self.pushes.last_status = resp.status
                ok = resp.status < 300
        except (aiohttp.ClientError, TimeoutError) as err:
            ok = False
            self.pushes.last_status = None
            self.pushes.last_error = f"{kind}: {type(err).__name__}"
        if ok:
            self.pushes.sent += 1
            self.pushes.by_kind[kind] = self.pushes.by_kind.get(kind, 0) + 1
            _LOGGER.info("pushed %s", kind)
        else:
            self.pushes.failed += 1
            if self.pushes.last_status is not None:
                self.pushes.last_error = f"{kind}: HTTP {self.pushes.last_status}"
            _LOGGER.warning("push %s failed (%s)", kind, self.pushes.last_error)

    async def _push_loop(self) -> None:
        cfg = self.config
        delay = (
            cfg.first_push_delay
            if cfg.first_push_delay is not None
            else cfg.push_interval
        )
        while True:
            await asyncio.sleep(delay)
            await self.push_once()
            if cfg.gateway_service_port is not None:
                # The service's own retries (every 20 minutes) fall due here.
                await self.gateway.run_due()
            delay = cfg.push_interval
