# ruff: noqa: RUF001  # the service answers in Russian; its letters are meant
"""A fake of the "TTLock gateway service" (seed 000), in front of the fake TTLock cloud.

It serves seed 000's API on 127.0.0.1 and acts for its users against
``FakeTTLockCloud`` over real HTTP, as the real service acts against TTLock: it
queues jobs, runs them against the cloud, retries failed code uploads and
deletions on its 20-minute schedule, spends packet codes and POSTs the results
to the callback URL set with ``set_callback``.

Each rule names its source: "seed <endpoint>" is the document
(``/work/shared/seeds/000_7b2016df7f936842.txt``); "src <file>" is the service's
public source (github.com/kablin/ttlock, Laravel), which fills in what the
document leaves out (where the two disagree the document wins, and the other
behaviour is an option). Time is ``time.time()`` so ``freezer`` moves tokens,
packets and retries; nothing waits on the wall clock: a retry runs when the
test has moved the clock past it and calls ``run_due()``.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
import hashlib
import itertools
import json
import re
import secrets
import time
from typing import Any
import uuid

import aiohttp
from aiohttp import web

from tests.fakes.ttlock_cloud import FakeTTLockCloud

# seed add_code_to_lock / delete_code_from_lock: "on failure it runs again in
# 20 minutes, 5 times"; src AddKeyToLockJob: attempt 1 is the first, the 5th
# failure says the attempts are exhausted (so 5 attempts, 4 retries).
RETRY_DELAY_S = 20 * 60
MAX_ATTEMPTS = 5
# src CodesCounter / JobsService::addCodesCount: -100 is an unlimited packet.
UNLIMITED = -100
# src AuthController::CreateUser: a new user gets 10 codes valid for a year.
WELCOME_CODES = 10
WELCOME_DAYS = 365
# src migration 2025_06_02_062511 (code_packets.end default now() at migration
# time): a packet row made by get_codes_count's firstOrCreate ends in the past.
MIGRATION_TIME = datetime(2025, 6, 2, 6, 25, 11, tzinfo=UTC).timestamp()
# src routes/api.php: throttle:500,1.
THROTTLE_PER_MINUTE = 500

UNKNOWN_ERROR = "Неизвестная ошибка"
UNKNOWN_LOCK = "Неизвестный замок"
# src CodesCounter (before * endpoints; "no packet" and "used up" share a text).
PACKET_NONE_MW = "Не осталось доступного пакета кодов"
PACKET_EXPIRED_MW = "Срок действия пакета кодов закончился"
# seed add_code_to_lock / src AddKeyToLockJob (when the job runs).
PACKET_NONE = "Нет оплаченного пакета кодов"
PACKET_EXPIRED = "Окончилась дата действия пакета кодов"
PACKET_USED_UP = "Закончился пакет кодов"
ADD_OK = "Ключ успешно загружен"
ADD_FAILED = "Ошибка загрузки ключа. "
ADD_RETRY = " Следеющая попытка загрузки ключа чере 20 минут"
ADD_EXHAUSTED = " Количество попыток исчерпано."
DELETE_OK = "Ключ успешно удален"
DELETE_FAILED = "Ошибка удаления ключа. "
DELETE_RETRY = " Следеющая попытка удаления ключа чере 20 минут"
DELETE_EXHAUSTED = " Количество попыток исчерпано"
PASSAGE_ON = "Режим свободного прохода включен"
PASSAGE_OFF = "Режим свободного прохода выключен"
TTLOCK_DOWN = "Ошибка обращения к серверу TTLock. Повторите попытку позже."
DATE_FORMAT_MSG = 'Не верный формат даты -  "2025-07-23 18:07".'

# src TTLockService::request: TTLock errcodes become these sentences.
TTLOCK_MESSAGES: dict[int, str] = {
    1: "Ошибка: отказ или неудача",
    10000: "Неверный client_id",
    10001: "Неверный клиент",
    10003: "Неверный токен",
    10004: "Неверный grant",
    10007: "Неверный логин или пароль",
    10011: "Неверный refresh_token",
    20002: "Не администратор замка",
    30006: "Превышено количество API запросов",
    80000: "Дата должна быть текущей с точностью до 5 минут",
    90000: "Внутренняя ошибка сервера",
    -3: "Неверный параметр",
    -1003: "Замок не существует",
    -1007: "Нет данных пароля для этого замка",
    -2012: "Замок не подключен к шлюзу",
    -2025: "Замок заморожен. Управление невозможно",
    -3002: "Шлюз отключен. Проверьте соединение",
    -3003: "Шлюз занят. Повторите позже",
    -3006: "Неверный код. Длина должна быть от 6 до 9 цифр",
    -3007: "Такой код уже существует. Используйте другой",
    -3009: "Недостаточно места для сохранения кодов. Удалите ненужные и повторите попытку",
    -3034: "Сеть не настроена. Пожалуйста, настройте сеть",
    -3035: "Замок в энергосберегающем режиме. Отключите этот режим",
    -3036: "Замок отключен. Проверьте подключение",
    -3037: "Замок занят. Повторите позже",
    -4043: "Функция не поддерживается для этого замка",
}

# seed: operations marked * need an active code packet (** spends one). The
# source leaves get_lock_list out of its CodesCounter group; the seed wins.
PACKET_REQUIRED = frozenset(
    {
        "get_lock_list",
        "open_lock",
        "add_code_to_lock",
        "delete_code_from_lock",
        "set_lock_passage_mode_on",
        "set_lock_passage_mode_off",
        "get_lock_events",
        "get_lock_events2",
        "get_events_by_code",
    }
)
JOB_METHODS = frozenset(
    {
        "get_lock_list",
        "open_lock",
        "add_code_to_lock",
        "delete_code_from_lock",
        "set_lock_passage_mode_on",
        "set_lock_passage_mode_off",
    }
)
# Fields an event row shows (src JobsService::getLockEvents select list).
EVENT_FIELDS = (
    "id",
    "lock_id",
    "record_type_from_lock",
    "record_type",
    "success",
    "username",
    "keyboard_pwd",
    "lock_date",
)
# Laravel's integer rule (filter_var FILTER_VALIDATE_INT): no leading zeros.
_INT_RE = re.compile(r"^[+-]?(0|[1-9][0-9]*)$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# seed seed-style misquoted keys, for the tolerant-parsing tests.
_TYPO_KEYS = {
    "job": "job'",
    "status": "status'",
    "tag": "'tag",
    "data": "'data",
    "codes_error": "codes_error'",
    "error": "'error",
    "token": "'token",
}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _iso(epoch: float) -> str:
    """Laravel's JSON form of a datetime cast (src CodePacket casts end)."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and _INT_RE.match(value) is not None


def _missing(value: Any) -> bool:
    """Laravel's ``required`` fails on null, "" and []."""
    return value is None or value in ("", [])


def _minute_time(value: Any) -> float | None:
    """``date_format:Y-m-d H:i`` (UTC: src .env APP_TIMEZONE=UTC)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.strptime(value, "%Y-%m-%d %H:%M")
    except ValueError:
        return None
    if parsed.strftime("%Y-%m-%d %H:%M") != value:
        return None
    return parsed.replace(tzinfo=UTC).timestamp()


@dataclass
class ServiceUser:
    """A user of the service: a TTLock account registered with create_user."""

    user_id: int
    email: str
    # src: get_token checks the password given at creation (firstOrCreate
    # does not update it later), while TTLock credentials are updated.
    password: str
    ttlock_password: str
    source: str
    callback: str | None = None
    # None: no packet row at all.
    packet_count: int | None = WELCOME_CODES
    packet_end: float = 0.0
    ttlock_token: str | None = None
    # The service's lock table for this user: filled by get_lock_list jobs
    # (src GetLockListJob); other operations only know these (src JobsService).
    locks: set[int] = field(default_factory=set)


@dataclass
class ServiceJob:
    """A queued job (src LockJob + the queued Laravel job)."""

    job_id: str
    user_id: int
    method: str
    params: dict[str, Any]
    # Echoed back as given (src startLockJob json_encode / json_decode).
    tag: Any
    seq: int
    due: float
    attempt: int = 1
    done: bool = False


@dataclass
class Delivery:
    """One callback POST the service made (or tried)."""

    url: str
    payload: dict[str, Any]
    status: int | None
    error: str | None = None


class CallbackReceiver:
    """The system that set the callback: a loopback server recording POSTs.

    ``handler`` (if set) gets each body and returns the HTTP status to answer.
    """

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.handler: Callable[[str, bytes], int] | None = None
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._receive)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/api/webhook/gw-test-webhook"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.bodies.append(body)
        status = 200
        if self.handler is not None:
            status = self.handler(request.headers.get("Content-Type", ""), body)
        return web.Response(status=status, text='{"ok":true}')

    @property
    def payloads(self) -> list[Any]:
        return [json.loads(body) for body in self.bodies]


class FakeGatewayService:
    """The gateway service over real HTTP on loopback, using a fake TTLock cloud."""

    EMAIL = FakeTTLockCloud.USERNAME
    PASSWORD = FakeTTLockCloud.PASSWORD

    def __init__(
        self,
        cloud: FakeTTLockCloud,
        *,
        token_lifetime: float | None = None,
        job_mode: str = "auto",
        typo_keys: bool = False,
        method_on_unknown_lock: bool = True,
    ) -> None:
        if job_mode not in ("auto", "sync", "manual"):
            raise ValueError(job_mode)
        self.cloud = cloud
        # src config/sanctum.php: expiration null (tokens never expire); a
        # deployment may set one, and tokens can be revoked.
        self.token_lifetime = token_lifetime
        # auto: a job runs right after its answer (a queue worker); sync: before
        # the answer (QUEUE_CONNECTION=sync); manual: on run_due().
        self.job_mode = job_mode
        # Answer with seed 000's misquoted keys ("status'": "true").
        self.typo_keys = typo_keys
        # seed open_lock's "unknown lock" result names the method; src
        # OpenLockJob leaves it out. False models the source.
        self.method_on_unknown_lock = method_on_unknown_lock
        # deliver | hold (until release_callbacks) | drop (never sent).
        self.callback_mode = "deliver"
        self.duplicate_callbacks = False
        self.throttle_per_minute = THROTTLE_PER_MINUTE
        self.base_url = ""

        self.users: dict[int, ServiceUser] = {}
        self.jobs: dict[str, ServiceJob] = {}
        self.events: list[dict[str, Any]] = []
        # src lock_pin_codes: codes the service loaded, per TTLock lock id.
        self.pins: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
        self.deliveries: list[Delivery] = []
        self.held: list[tuple[str, dict[str, Any]]] = []
        self.calls: collections.Counter[str] = collections.Counter()
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.ttlock_calls: collections.Counter[str] = collections.Counter()

        self._tokens: dict[str, tuple[int, float | None]] = {}
        self._hits: collections.deque[float] = collections.deque()
        self._overrides: dict[str, list[tuple[int, Any]]] = {}
        self._seq = itertools.count(1)
        self._user_ids = itertools.count(1)
        self._event_ids = itertools.count(1)
        self._worker = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._job_added = asyncio.Event()
        self._held_changed = asyncio.Event()
        self._hung: set[str] = set()
        self._unhang = asyncio.Event()
        self._hung_arrived = asyncio.Event()
        self._disconnect: set[str] = set()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> str:
        self._session = aiohttp.ClientSession()
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
        self._unhang.set()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait until the background job runs started so far are finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ------------------------------------------------------------ test helpers

    def add_user(
        self,
        email: str = EMAIL,
        password: str = PASSWORD,
        *,
        callback: str | None = None,
        packet_count: int | None = WELCOME_CODES,
        packet_days: float = WELCOME_DAYS,
    ) -> ServiceUser:
        """A user as create_user makes it (without asking TTLock)."""
        user = ServiceUser(
            user_id=next(self._user_ids),
            email=email,
            password=password,
            ttlock_password=password,
            source="bitrix",
            callback=callback,
            packet_count=packet_count,
            packet_end=time.time() + packet_days * 86400,
        )
        self.users[user.user_id] = user
        return user

    def user(self, email: str = EMAIL) -> ServiceUser:
        return next(u for u in self.users.values() if u.email == email)

    def set_packet(self, user: ServiceUser, count: int | None, *, days: float) -> None:
        user.packet_count = count
        user.packet_end = time.time() + days * 86400

    def hang(self, method: str) -> None:
        """Never answer ``method`` (until the fake stops)."""
        self._hung.add(method)

    async def wait_for_hung_request(self) -> None:
        """Wait until a request to a hung method has arrived."""
        await self._hung_arrived.wait()

    def disconnect(self, method: str) -> None:
        """Close the connection of the next ``method`` request without answering."""
        self._disconnect.add(method)

    async def wait_for_job(self, method: str) -> ServiceJob:
        """Wait until a request has queued a ``method`` job that has not run."""
        while True:
            for job in self.pending_jobs:
                if job.method == method:
                    return job
            self._job_added.clear()
            await self._job_added.wait()

    async def wait_for_held(self, count: int) -> None:
        """Wait until ``count`` callbacks are held back."""
        while len(self.held) < count:
            self._held_changed.clear()
            await self._held_changed.wait()

    def revoke_tokens(self) -> None:
        self._tokens.clear()

    def override(self, method: str, status: int, body: Any, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with this HTTP answer."""
        self._overrides.setdefault(method, []).extend([(status, body)] * times)

    def add_event(
        self,
        lock_id: int,
        record_type: int,
        *,
        success: bool = True,
        keyboard_pwd: str = "",
        lock_date_ms: int | None = None,
        record_type_from_lock: int = 0,
        username: str = "",
    ) -> dict[str, Any]:
        """A row of the service's lock_events table."""
        row = {
            "id": next(self._event_ids),
            "lock_id": lock_id,
            "record_type_from_lock": record_type_from_lock,
            "record_type": record_type,
            "success": 1 if success else 0,
            "username": username,
            "keyboard_pwd": keyboard_pwd,
            "lock_date": lock_date_ms
            if lock_date_ms is not None
            else int(time.time() * 1000),
        }
        self.events.append(row)
        return row

    @property
    def pending_jobs(self) -> list[ServiceJob]:
        return sorted(
            (job for job in self.jobs.values() if not job.done),
            key=lambda job: (job.due, job.seq),
        )

    async def release_callbacks(self) -> None:
        """Send the callbacks held so far, in order."""
        held, self.held = self.held, []
        for url, payload in held:
            await self._post_callback(url, payload)

    # ------------------------------------------------------------------ serving

    def _shape(self, payload: dict[str, Any]) -> dict[str, Any]:
        """seed 000's misquoted keys and string booleans, when asked for."""
        if not self.typo_keys:
            return payload
        shaped: dict[str, Any] = {}
        for key, value in payload.items():
            if isinstance(value, bool) and key in ("status", "codes_error"):
                value = "true" if value else "false"
            shaped[_TYPO_KEYS.get(key, key)] = value
        return shaped

    def _json(self, payload: Any, status: int = 200) -> web.Response:
        if isinstance(payload, dict) and status == 200:
            payload = self._shape(payload)
        return web.json_response(payload, status=status)

    def _fail(self, msg: str, **extra: Any) -> web.Response:
        return self._json({"status": False, "msg": msg, **extra})

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        method = path.removeprefix("/api/v1/")
        self.calls[method] += 1
        raw = await request.read()
        headers = dict(request.headers.items())
        body: Any = {}
        tag_present = False
        tag: Any = None
        if "json" in request.content_type:
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = None
            if isinstance(body, dict) and "tag" in body:
                tag_present, tag = True, body["tag"]
        elif raw:
            # src: fields are read from $request->all() (form too), but the tag
            # only from json_decode($request->getContent()): lost with a form.
            body = dict(await request.post()) if request.content_type else {}
        self.requests.append((method, headers, body))

        if not path.startswith("/api/v1/"):
            return web.json_response({"message": "Not Found"}, status=404)
        if request.method != "POST":
            # seed: every request is a POST (Laravel: 405 otherwise).
            return web.json_response(
                {
                    "message": f"The {request.method} method is not supported "
                    f"for route {path.lstrip('/')}. Supported methods: POST."
                },
                status=405,
            )
        if method in self._hung:
            self._hung_arrived.set()
            await self._unhang.wait()
            return web.Response(status=504)
        if method in self._disconnect:
            self._disconnect.discard(method)
            # The connection drops after the request arrived (a crash, a proxy).
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        overrides = self._overrides.get(method)
        if overrides:
            status, answer = overrides.pop(0)
            if isinstance(answer, bytes | str):
                return web.Response(status=status, body=answer)
            return web.json_response(answer, status=status)

        # src routes/api.php: throttle:500,1 before anything else.
        now = time.time()
        while self._hits and now - self._hits[0] >= 60:
            self._hits.popleft()
        if len(self._hits) >= self.throttle_per_minute:
            return web.json_response(
                {"message": "Too Many Attempts."},
                status=429,
                headers={"Retry-After": "60"},
            )
        self._hits.append(now)

        if not isinstance(body, dict):
            # src: json_decode of a broken body throws; the controller answers
            # its catch-all.
            return self._fail(UNKNOWN_ERROR)

        if method == "create_user":
            return await self._create_user(body)
        if method == "get_token":
            return self._get_token(body)

        handler = self._handlers().get(method)
        if handler is None:
            return web.json_response({"message": "Not Found"}, status=404)
        user = self._authenticate(request)
        if user is None:
            # src bootstrap/app.php: auth:sanctum; Laravel answers 401 JSON when
            # the client accepts JSON, else redirects to a "login" route the
            # service does not define, which fails with HTTP 500.
            if "json" in request.headers.get("Accept", ""):
                return web.json_response({"message": "Unauthenticated."}, status=401)
            return web.Response(status=500, text="Route [login] not defined.")
        if method in PACKET_REQUIRED:
            problem = self._middleware_packet_problem(user)
            if problem is not None:
                # src CodesCounter: answered at once, no job.
                return self._json(
                    {"codes_error": True, "status": False, "msg": problem}
                )
        return await handler(user, body, tag_present, tag, method)

    def _handlers(self) -> dict[str, Callable[..., Awaitable[web.Response]]]:
        return {
            "set_callback": self._set_callback,
            "get_lock_list": self._job_endpoint,
            "open_lock": self._job_endpoint,
            "add_code_to_lock": self._job_endpoint,
            "delete_code_from_lock": self._job_endpoint,
            "set_lock_passage_mode_on": self._job_endpoint,
            "set_lock_passage_mode_off": self._job_endpoint,
            "get_lock_events": self._get_lock_events,
            "get_lock_events2": self._get_lock_events2,
            "get_events_by_code": self._get_events_by_code,
            "get_codes_count": self._get_codes_count,
            "add_code_packet": self._add_code_packet,
            "set_code_packet": self._set_code_packet,
        }

    def _authenticate(self, request: web.Request) -> ServiceUser | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        entry = self._tokens.get(header.removeprefix("Bearer ").strip())
        if entry is None:
            return None
        user_id, expires = entry
        if expires is not None and time.time() >= expires:
            return None
        return self.users.get(user_id)

    def _middleware_packet_problem(self, user: ServiceUser) -> str | None:
        if user.packet_count is None:
            return PACKET_NONE_MW
        if user.packet_end < time.time():
            return PACKET_EXPIRED_MW
        if user.packet_count < 1 and user.packet_count != UNLIMITED:
            return PACKET_NONE_MW
        return None

    # ------------------------------------------------------------ auth methods

    async def _create_user(self, body: dict[str, Any]) -> web.Response:
        email, password = body.get("email"), body.get("password")
        if (
            not isinstance(email, str)
            or not _EMAIL_RE.match(email)
            or not isinstance(password, str)
            or not password
        ):
            # src AuthController: $request->validate() throws a validation
            # exception: 422 with Laravel's own message.
            return web.json_response(
                {"message": "The given data was invalid.", "errors": {}}, status=422
            )
        # src testCredential: a TTLock login with these credentials first.
        token = await self._ttlock_login(email, password)
        if token is None:
            return self._json(
                {
                    "status": False,
                    "error": 1,
                    "message": "Error login to TTLock",
                    "msg": "Не удалось залогиниться в облако TTLock",
                }
            )
        existing = next((u for u in self.users.values() if u.email == email), None)
        if existing is None:
            existing = self.add_user(email, password)
            source = body.get("source")
            existing.source = source if isinstance(source, str) else "bitrix"
        existing.ttlock_password = password
        existing.ttlock_token = token
        return self._json(
            {
                "status": True,
                "error": 0,
                "message": "User created successfully",
                "msg": "Пользовтаель успешно создан",
            }
        )

    def _get_token(self, body: dict[str, Any]) -> web.Response:
        email, password = body.get("email"), body.get("password")
        if _missing(email):
            return self._fail("Не указан email.")
        if not isinstance(email, str) or not _EMAIL_RE.match(email):
            return self._fail("email не верный формат.")
        if _missing(password):
            return self._fail("Не указан password.")
        user = next((u for u in self.users.values() if u.email == email), None)
        if user is None or user.password != password:
            return self._fail(UNKNOWN_ERROR)
        # src: Sanctum plain-text tokens are "<id>|<40 random characters>".
        token = f"{len(self._tokens) + 1}|{secrets.token_urlsafe(30)[:40]}"
        expires = (
            time.time() + self.token_lifetime
            if self.token_lifetime is not None
            else None
        )
        self._tokens[token] = (user.user_id, expires)
        return self._json({"token": token, "status": True, "user_id": user.user_id})

    async def _set_callback(
        self, user: ServiceUser, body: dict[str, Any], *_: Any
    ) -> web.Response:
        callback = body.get("callback")
        if _missing(callback):
            return self._fail("Не указан callback.")
        if not isinstance(callback, str):
            return self._fail("callback не строка.")
        user.callback = callback
        return self._json({"status": True})

    # ---------------------------------------------------------------- packets

    async def _get_codes_count(self, user: ServiceUser, *_: Any) -> web.Response:
        if user.packet_count is None:
            # src JobsService::getCodesCount: firstOrCreate makes an empty row.
            user.packet_count = 0
            user.packet_end = MIGRATION_TIME
        return self._json(
            {
                "status": True,
                "codes_count": user.packet_count,
                "expired_at": _iso(user.packet_end),
            }
        )

    def _packet_body(
        self, body: dict[str, Any], *, need_end: bool
    ) -> tuple[int, float | None] | str:
        count = body.get("codes_count")
        if _missing(count):
            return "Не указан codes_count."
        if not _is_int(count):
            return "codes_count не число."
        end_raw = body.get("expired_at")
        if _missing(end_raw):
            if need_end:
                return "Не указан expired_at."
            return int(count), None
        end = _minute_time(end_raw)
        if end is None:
            return DATE_FORMAT_MSG
        return int(count), end

    async def _add_code_packet(
        self, user: ServiceUser, body: dict[str, Any], *_: Any
    ) -> web.Response:
        parsed = self._packet_body(body, need_end=True)
        if isinstance(parsed, str):
            return self._fail(parsed)
        count, end = parsed
        current = user.packet_count or 0
        user.packet_count = UNLIMITED if count == -1 else current + count
        user.packet_end = end if end is not None else user.packet_end
        return self._json(
            {
                "status": True,
                "msg": "Пакет кодов успешно добавлен",
                "codes_count": user.packet_count,
                "expired_at": _iso(user.packet_end),
            }
        )

    async def _set_code_packet(
        self, user: ServiceUser, body: dict[str, Any], *_: Any
    ) -> web.Response:
        parsed = self._packet_body(body, need_end=False)
        if isinstance(parsed, str):
            return self._fail(parsed)
        if user.packet_count is None:
            return self._json({"status": False})
        count, _end = parsed
        user.packet_count = UNLIMITED if count == -1 else count
        return self._json(
            {
                "status": True,
                "msg": "Пакет кодов успешно установлен",
                "codes_count": user.packet_count,
                "expired_at": _iso(user.packet_end),
            }
        )

    # ------------------------------------------------------------------ events

    @staticmethod
    def _row(event: dict[str, Any]) -> dict[str, Any]:
        return {key: event[key] for key in EVENT_FIELDS}

    def _user_pins(self, lock_id: int) -> set[str]:
        return {pin["pin_code"] for pin in self.pins.get(lock_id, [])}

    async def _get_lock_events(
        self, user: ServiceUser, body: dict[str, Any], *_: Any
    ) -> web.Response:
        lock_raw = body.get("lock_id")
        personal = body.get("personal", False)
        if personal not in (True, False, 0, 1, "0", "1"):
            return self._fail("personal не boolean.")
        if _missing(lock_raw):
            return self._fail("Не указан lock_id.")
        if not _is_int(lock_raw):
            return self._fail("lock_id не число.")
        lock_id = int(lock_raw)
        if lock_id not in user.locks:
            return self._fail(UNKNOWN_LOCK)
        rows = [e for e in self.events if e["lock_id"] == lock_id]
        lock_type = body.get("lock_record_type")
        if not _missing(lock_type):
            rows = [
                e for e in rows if str(e["record_type_from_lock"]) == str(lock_type)
            ]
        record_type = body.get("record_type")
        if personal in (True, 1, "1"):
            # src getLockEvents: staff entries are successful code entries with
            # a code the service did not load (record_type 4).
            pins = self._user_pins(lock_id)
            rows = [
                e
                for e in rows
                if e["success"]
                and e["keyboard_pwd"] not in pins
                and e["record_type"] == 4
            ]
        elif not _missing(record_type):
            rows = [e for e in rows if str(e["record_type"]) == str(record_type)]
        rows.sort(key=lambda e: e["id"], reverse=True)
        # seed: the answer is a bare list, newest first (src orderBy id DESC, 100).
        return web.json_response([self._row(e) for e in rows[:100]])

    async def _get_lock_events2(
        self, user: ServiceUser, body: dict[str, Any], *_: Any
    ) -> web.Response:
        kind, code, lock_ids = body.get("type"), body.get("code"), body.get("lock_ids")
        errors = []
        if _missing(kind):
            errors.append("Не указан type.")
        elif not _is_int(kind):
            errors.append("type не число.")
        if code is not None and not _is_int(code):
            errors.append("code не число.")
        if _missing(lock_ids):
            errors.append("Не указан lock_ids.")
        if errors:
            return self._fail(" ".join(errors))
        if int(kind) == 1 and _missing(code):
            return self._fail("Не указан code")
        ids = str(lock_ids).split(",")
        known = []
        for raw in ids:
            if not _is_int(raw.strip()) or int(raw) not in user.locks:
                return self._fail(UNKNOWN_LOCK)
            known.append(int(raw))
        rows = [e for e in self.events if e["lock_id"] in known]
        if int(kind) == 1:
            # src getLockEvents2 type 1: the first (by lock_date) successful
            # entry with this code, as one object; {} when there is none
            # (Laravel's json(null)).
            matches = sorted(
                (
                    e
                    for e in rows
                    if e["keyboard_pwd"] == str(code)
                    and e["success"]
                    and e["record_type_from_lock"] == 4
                ),
                key=lambda e: e["lock_date"],
            )
            return web.json_response(self._row(matches[0]) if matches else {})
        if int(kind) == 2:
            pins: set[str] = set()
            for lock_id in known:
                pins |= self._user_pins(lock_id)
            rows = [
                e
                for e in rows
                if e["success"]
                and e["keyboard_pwd"] not in pins
                and e["record_type"] == 4
            ]
        rows.sort(key=lambda e: e["id"], reverse=True)
        return web.json_response([self._row(e) for e in rows[:100]])

    async def _get_events_by_code(
        self, user: ServiceUser, body: dict[str, Any], *_: Any
    ) -> web.Response:
        code, lock_raw = body.get("code"), body.get("lock_id")
        if _missing(code):
            return self._fail("Не указан code.")
        if _missing(lock_raw):
            return self._fail("Не указан lock_id.")
        if not _is_int(lock_raw):
            return self._fail("lock_id не число.")
        lock_id = int(lock_raw)
        if lock_id not in user.locks:
            return self._fail(UNKNOWN_LOCK)
        rows = [
            e
            for e in self.events
            if e["lock_id"] == lock_id and e["keyboard_pwd"] == str(code)
        ]
        rows.sort(key=lambda e: e["id"], reverse=True)
        return web.json_response([self._row(e) for e in rows[:100]])

    # -------------------------------------------------------------------- jobs

    def _validate_job(self, method: str, body: dict[str, Any]) -> str | None:
        """The controller's validation message, or None (src CallbackApiController)."""
        errors: list[str] = []
        if method != "get_lock_list":
            lock_raw = body.get("lock_id")
            if _missing(lock_raw):
                errors.append("Не указан lock_id.")
            elif not _is_int(lock_raw):
                errors.append("lock_id не число.")
        if method == "add_code_to_lock":
            for key in ("begin", "end"):
                if key in body and _minute_time(body[key]) is None:
                    errors.append(DATE_FORMAT_MSG)
            if _missing(body.get("code")):
                errors.append("Не указан code.")
            name = body.get("code_name")
            if name is not None and not isinstance(name, str):
                errors.append("code_name не строка.")
        if method == "delete_code_from_lock":
            code_id = body.get("code_id")
            if _missing(code_id):
                errors.append("Не указан code_id.")
            elif not _is_int(code_id):
                errors.append("code_id не число.")
        return " ".join(errors) if errors else None

    async def _job_endpoint(
        self,
        user: ServiceUser,
        body: dict[str, Any],
        tag_present: bool,
        tag: Any,
        method: str,
    ) -> web.Response:
        error = self._validate_job(method, body)
        if error is not None:
            return self._fail(error)
        job = ServiceJob(
            job_id=str(uuid.uuid4()),
            user_id=user.user_id,
            method=method,
            params=dict(body),
            # src startLockJob: stored as json_encode($tag) or "" when absent.
            tag=tag if tag_present else None,
            seq=next(self._seq),
            due=time.time(),
        )
        self.jobs[job.job_id] = job
        self._job_added.set()
        if self.job_mode == "sync":
            await self.run_due()
        elif self.job_mode == "auto":
            self._spawn(self.run_due())
        # seed: "return job_id with a unique request number".
        return self._json({"job_id": job.job_id})

    async def run_due(self) -> None:
        """Run every queued job whose time has come, one at a time, in order."""
        async with self._worker:
            while True:
                now = time.time()
                due = [job for job in self.pending_jobs if job.due <= now]
                if not due:
                    return
                await self._run(due[0])

    async def run_lock_list_schedule(self) -> None:
        """src GetLockListSchedule (hourly): a lock-list job per user, no tag."""
        for user in list(self.users.values()):
            job = ServiceJob(
                job_id=str(uuid.uuid4()),
                user_id=user.user_id,
                method="get_lock_list",
                params={},
                tag=None,
                seq=next(self._seq),
                due=time.time(),
            )
            self.jobs[job.job_id] = job
        await self.run_due()

    async def run_events_schedule(self, *, post_raw: bool = True) -> int:
        """src GetLockEventsSchedule (every 6 h): the last 10 TTLock records per
        lock into lock_events (skipping known lock_dates), each also POSTed raw
        to the user's callback. Returns the number of new rows."""
        added = 0
        for user in list(self.users.values()):
            for lock_id in sorted(user.locks):
                ok, data, _code, _msg = await self._ttlock(
                    user,
                    "/v3/lockRecord/list",
                    {"lockId": lock_id, "pageNo": 1, "pageSize": 10},
                )
                if not ok:
                    continue
                known = {e["lock_date"] for e in self.events if e["lock_id"] == lock_id}
                for record in data.get("list", []):
                    if record["lockDate"] in known:
                        continue
                    self.add_event(
                        lock_id,
                        record["recordType"],
                        success=bool(record["success"]),
                        keyboard_pwd=record.get("keyboardPwd") or "",
                        lock_date_ms=record["lockDate"],
                        record_type_from_lock=record.get("recordTypeFromLock", 0),
                        username=record.get("username") or "",
                    )
                    added += 1
                    if post_raw and user.callback:
                        await self._deliver(user, dict(record))
        return added

    async def _run(self, job: ServiceJob) -> None:
        user = self.users[job.user_id]
        runner = {
            "get_lock_list": self._run_lock_list,
            "open_lock": self._run_open_lock,
            "add_code_to_lock": self._run_add_code,
            "delete_code_from_lock": self._run_delete_code,
            "set_lock_passage_mode_on": self._run_passage,
            "set_lock_passage_mode_off": self._run_passage,
        }[job.method]
        payload = await runner(user, job)
        if payload is not None:
            await self._deliver(user, payload)

    def _result(self, job: ServiceJob, **fields: Any) -> dict[str, Any]:
        return {"job": job.job_id, "tag": job.tag, "method": job.method, **fields}

    def _lock_of(self, user: ServiceUser, job: ServiceJob) -> int | None:
        lock_id = int(job.params["lock_id"])
        return lock_id if lock_id in user.locks else None

    def _unknown_lock(self, job: ServiceJob) -> dict[str, Any]:
        job.done = True
        payload = self._result(
            job, data="Lock not found", status=False, msg=UNKNOWN_LOCK
        )
        if job.method == "open_lock" and not self.method_on_unknown_lock:
            del payload["method"]
        return payload

    async def _run_lock_list(
        self, user: ServiceUser, job: ServiceJob
    ) -> dict[str, Any]:
        # src TTLockService::getLockList asks for pageSize 10000; the fake cloud
        # (reference: lock/list pageSize <= 1000) refuses that, so 1000 here.
        wrapper = await self._ttlock_wrapped(
            user, "/v3/lock/list", {"pageNo": 1, "pageSize": 1000}
        )
        if wrapper["status"]:
            user.locks = {int(entry["lockId"]) for entry in wrapper["data"]["list"]}
        job.done = True
        return self._result(job, data=wrapper, status=wrapper["status"])

    async def _run_open_lock(
        self, user: ServiceUser, job: ServiceJob
    ) -> dict[str, Any]:
        lock_id = self._lock_of(user, job)
        if lock_id is None:
            return self._unknown_lock(job)
        wrapper = await self._ttlock_wrapped(
            user, "/v3/lock/unlock", {"lockId": lock_id}
        )
        job.done = True
        # seed open_lock / src OpenLockJob: no msg on this path.
        return self._result(job, status=wrapper["status"], data=wrapper)

    async def _run_passage(self, user: ServiceUser, job: ServiceJob) -> dict[str, Any]:
        lock_id = self._lock_of(user, job)
        if lock_id is None:
            return self._unknown_lock(job)
        on = job.method == "set_lock_passage_mode_on"
        params: dict[str, Any] = {
            "lockId": lock_id,
            "passageMode": 1 if on else 2,
            "type": 2,
        }
        if on:
            params.update(isAllDay=1, weekDays="[1,2,3,4,5,6,7]", autoUnlock=1)
        wrapper = await self._ttlock_wrapped(user, "/v3/lock/configPassageMode", params)
        if on:
            # src TTLockService::setPassageModeOn also unlocks (result unused).
            await self._ttlock_wrapped(user, "/v3/lock/unlock", {"lockId": lock_id})
        job.done = True
        # src SetPassageModeOn/OffJob: the msg says "on"/"off" even on failure.
        return self._result(
            job,
            status=wrapper["status"],
            msg=PASSAGE_ON if on else PASSAGE_OFF,
            data=wrapper,
        )

    def _job_packet_problem(self, user: ServiceUser) -> str | None:
        if user.packet_count is None:
            return PACKET_NONE
        if user.packet_end < time.time():
            return PACKET_EXPIRED
        if user.packet_count < 1 and user.packet_count != UNLIMITED:
            return PACKET_USED_UP
        return None

    def _retry(self, job: ServiceJob) -> None:
        job.attempt += 1
        job.due = time.time() + RETRY_DELAY_S

    async def _run_add_code(self, user: ServiceUser, job: ServiceJob) -> dict[str, Any]:
        lock_id = self._lock_of(user, job)
        if lock_id is None:
            return self._unknown_lock(job)
        problem = self._job_packet_problem(user)
        if problem is not None:
            job.done = True
            return self._result(job, status=False, codes_error=True, msg=problem)
        params = job.params
        # src AddKeyToLockJob declares the code an int: "0123" becomes 123.
        code = str(int(str(params["code"]).strip()))
        now = time.time()
        begin = _minute_time(params.get("begin"))
        end = _minute_time(params.get("end"))
        # src TTLockService::newKey: no begin = now, no end = end of today.
        begin_s = begin if begin is not None else now
        if end is None:
            today = datetime.fromtimestamp(now, tz=UTC).replace(
                hour=23, minute=59, second=59, microsecond=0
            )
            end = today.timestamp()
        name = params.get("code_name") or "Ключ от Renty api"
        ok, data, errcode, msg = await self._ttlock(
            user,
            "/v3/keyboardPwd/add",
            {
                "lockId": lock_id,
                "keyboardPwd": code,
                "addType": 2,
                "keyboardPwdName": name,
                "startDate": int(begin_s) * 1000,
                "endDate": int(end) * 1000,
            },
        )
        if ok:
            self.pins[lock_id].append(
                {
                    "pin_code": code,
                    "pin_code_id": data["keyboardPwdId"],
                    "code_name": name,
                }
            )
            if user.packet_count not in (None, UNLIMITED):
                user.packet_count -= 1
            job.done = True
            # src newKey's own wrapper around TTLock's answer.
            key = {
                "status": True,
                "msg": f"Ключ успешно загружен в замок, ID: {data['keyboardPwdId']}",
                "type": "success",
                "data": data,
            }
            return self._result(job, data=key, status=True, msg=ADD_OK)
        # src newKey's failure wrapper carries no error_code.
        key = {"status": False, "msg": msg, "type": "danger"}
        if job.attempt >= MAX_ATTEMPTS:
            job.done = True
            text = ADD_FAILED + msg + ADD_EXHAUSTED
        elif errcode == -3007:
            # src AddKeyToLockJob (newer): a duplicate is not retried.
            job.done = True
            text = ADD_FAILED + msg
        else:
            self._retry(job)
            text = ADD_FAILED + msg + ADD_RETRY
        return self._result(job, data=key, status=False, msg=text)

    async def _run_delete_code(
        self, user: ServiceUser, job: ServiceJob
    ) -> dict[str, Any]:
        lock_id = self._lock_of(user, job)
        if lock_id is None:
            return self._unknown_lock(job)
        code_id = int(job.params["code_id"])
        wrapper = await self._ttlock_wrapped(
            user,
            "/v3/keyboardPwd/delete",
            {"lockId": lock_id, "deleteType": 2, "keyboardPwdId": code_id},
        )
        if wrapper["status"]:
            self.pins[lock_id] = [
                p for p in self.pins[lock_id] if p["pin_code_id"] != code_id
            ]
            job.done = True
            text = DELETE_OK
        elif job.attempt >= MAX_ATTEMPTS:
            job.done = True
            text = DELETE_FAILED + wrapper["msg"] + DELETE_EXHAUSTED
        else:
            self._retry(job)
            text = DELETE_FAILED + wrapper["msg"] + DELETE_RETRY
        return self._result(job, data=wrapper, status=wrapper["status"], msg=text)

    # -------------------------------------------------------------- callbacks

    async def _deliver(self, user: ServiceUser, payload: dict[str, Any]) -> None:
        url = user.callback
        if url is None:
            return
        payload = self._shape(payload)
        if self.callback_mode == "drop":
            return
        if self.callback_mode == "hold":
            self.held.append((url, payload))
            self._held_changed.set()
            return
        await self._post_callback(url, payload)
        if self.duplicate_callbacks:
            await self._post_callback(url, payload)

    async def _post_callback(self, url: str, payload: dict[str, Any]) -> None:
        assert self._session is not None
        # src: Http::withBody(json_encode($data), 'application/json')->post();
        # a failed POST is not retried.
        try:
            async with self._session.post(
                url,
                data=json.dumps(payload),
                headers={"Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=30),
            ) as resp:
                await resp.read()
                self.deliveries.append(Delivery(url, payload, resp.status))
        except (aiohttp.ClientError, TimeoutError) as err:
            self.deliveries.append(Delivery(url, payload, None, type(err).__name__))

    # ------------------------------------------------- the service's TTLock side

    async def _ttlock_login(self, email: str, password: str) -> str | None:
        assert self._session is not None
        self.ttlock_calls["/oauth2/token"] += 1
        async with self._session.post(
            f"{self.cloud.base_url}/oauth2/token",
            data={
                "clientId": self.cloud.CLIENT_ID,
                "clientSecret": self.cloud.CLIENT_SECRET,
                "username": email,
                # src TTLockService::auth: md5 unless it already is one.
                "password": password
                if re.fullmatch(r"[0-9a-fA-F]{32}", password)
                else _md5(password),
                "grant_type": "password",
            },
        ) as resp:
            answer = await resp.json(content_type=None)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        return token if isinstance(token, str) else None

    async def _ttlock(
        self, user: ServiceUser, path: str, params: dict[str, Any]
    ) -> tuple[bool, dict[str, Any], int | None, str]:
        """(ok, TTLock's answer, errcode, the service's message)."""
        assert self._session is not None
        for attempt in range(2):
            if user.ttlock_token is None:
                user.ttlock_token = await self._ttlock_login(
                    user.email, user.ttlock_password
                )
            self.ttlock_calls[path] += 1
            try:
                async with self._session.post(
                    f"{self.cloud.base_url}{path}",
                    data={
                        **{k: str(v) for k, v in params.items()},
                        "clientId": self.cloud.CLIENT_ID,
                        "accessToken": user.ttlock_token or "",
                        "date": str(int(time.time() * 1000) + 1000),
                    },
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as resp:
                    answer = await resp.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError):
                return False, {}, None, TTLOCK_DOWN
            if not isinstance(answer, dict):
                return False, {}, None, TTLOCK_DOWN
            errcode = int(answer.get("errcode") or 0)
            if errcode in (10003, 10004) and attempt == 0:
                # seed: "tokens are refreshed automatically after a failed
                # request to the cloud" (src retries once after a new login).
                user.ttlock_token = None
                continue
            if errcode:
                return (
                    False,
                    answer,
                    errcode,
                    TTLOCK_MESSAGES.get(errcode, UNKNOWN_ERROR),
                )
            return True, answer, None, ""
        raise AssertionError("unreachable")  # pragma: no cover

    async def _ttlock_wrapped(
        self, user: ServiceUser, path: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """src TTLockService::request's wrapper: {status, msg, error_code, data}."""
        ok, data, errcode, msg = await self._ttlock(user, path, params)
        if not ok and errcode is None:
            return {"status": False, "msg": msg, "error": "connection"}
        return {
            "status": ok,
            "msg": msg,
            "error_code": errcode if errcode is not None else "",
            "data": data if ok else "",
        }
