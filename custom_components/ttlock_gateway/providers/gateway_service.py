"""Async client of the self-hosted "TTLock gateway service" (seed 000).

The service (a Laravel app in front of the TTLock cloud) takes the TTLock
account's e-mail and password for a bearer token, then runs most operations as
queued jobs: the request answers ``{"job_id": ...}`` at once and the result is
POSTed later to the callback URL set with ``set_callback``. Every job carries a
``tag`` with our correlation id; ``JobTracker`` matches the results to the
waiting callers (``resolve_job`` is fed by the integration's webhook).

Every request is a JSON POST with ``Accept: application/json`` (without it an
expired token makes Laravel redirect to a login route the service does not
have, which ends in HTTP 500). The e-mail, password, bearer token and callback
URL never reach an exception message or a log line; logs name the method.
Facts and their sources: ``docs/gateway-service.md``. No Home Assistant imports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
import dataclasses
from datetime import datetime
import json
import logging
import time
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp

from .bounds import InvalidAnswerError, has_unsafe_text, require_id
from .gateway_service_mapping import (
    answer_status,
    ceil_minute,
    clean_message,
    error_from_failure,
    events_from_rows,
    floor_minute,
    format_service_time,
    interpret_report,
    packet_from_answer,
)
from .jobs import (
    DEFAULT_LIFETIME,
    DEFAULT_TIMEOUT,
    TAG_KEY,
    JobTracker,
    PendingJob,
    normalize_keys,
)
from .metering import NULL_METER, CallMeter
from .models import (
    AccountInfo,
    AuthError,
    CannotConnectError,
    CodePacket,
    Gateway,
    InvalidRequestError,
    Lock,
    LockEvent,
    LockProvider,
    NotSupportedError,
    Operation,
    OperationResult,
    Passcode,
    ProviderError,
    RateLimitError,
    ResultListener,
    ResultPendingError,
    ResultStatus,
    TransientError,
)
from .ttlock_records import parse_bool

_LOGGER = logging.getLogger(__name__)

API_PREFIX: Final = "/api/v1/"
MAX_BODY_BYTES: Final = 4 * 1024 * 1024
MAX_TOKEN_LENGTH: Final = 512
MAX_URL_LENGTH: Final = 2048
DEFAULT_SOURCE: Final = "home_assistant"

# Codes as TTLock takes them (keyboardPwd/add: 4-9 digits). The service
# declares the code an ``int`` (AddKeyToLockJob), so "0123" would become 123.
CODE_MIN_LENGTH: Final = 4
CODE_MAX_LENGTH: Final = 9
_NAME_MAX_LENGTH: Final = 100
_DEFAULT_CODE_NAME: Final = "Home Assistant"

# TTLock "gateway busy" / "lock busy": worth a new job after a pause.
_BUSY_ERRORS: Final = frozenset({-3003, -3037})
_DEFAULT_RETRY_AFTER: Final = 60.0

METHOD_FOR: Final[dict[Operation, str]] = {
    Operation.LIST_LOCKS: "get_lock_list",
    Operation.UNLOCK: "open_lock",
    Operation.PASSAGE_MODE_ON: "set_lock_passage_mode_on",
    Operation.PASSAGE_MODE_OFF: "set_lock_passage_mode_off",
    Operation.ADD_CODE: "add_code_to_lock",
    Operation.DELETE_CODE: "delete_code_from_lock",
}
# Seed 000's example of a failed delete names ``add_code_to_lock``; the
# service's DeleteKeyJob sends ``delete_code_from_lock``. Accept both.
_METHOD_ALIASES: Final = {"delete_code_from_lock": ("add_code_to_lock",)}


class _Unauthenticated(Exception):
    """HTTP 401: the bearer token is not (or no longer) valid."""


class _MaybeSent(CannotConnectError):
    """The request may have reached the service, but no answer came back."""


def _reject_constant(_name: str) -> Any:
    raise ValueError("non-finite number")


def api_base(url: str) -> str:
    """The service's root URL: scheme and host (+ path), without ``/api/v1``."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("The gateway service URL must be http(s)://host[/path]")
    path = parts.path.rstrip("/")
    for suffix in ("/api/v1", "/api"):
        if path.lower().endswith(suffix):
            path = path[: -len(suffix)]
            break
    return f"{parts.scheme}://{parts.netloc}{path}"


def _lock_number(lock_id: str) -> str:
    """The lock id as the service validates it (``integer``), before any I/O."""
    text = str(lock_id).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 20:
        raise InvalidRequestError("The gateway service only knows numeric lock ids")
    return text


def _validate_code(code: str) -> str:
    if (
        not isinstance(code, str)
        or not code.isascii()
        or not code.isdigit()
        or not CODE_MIN_LENGTH <= len(code) <= CODE_MAX_LENGTH
    ):
        raise InvalidRequestError(
            f"Codes are {CODE_MIN_LENGTH}-{CODE_MAX_LENGTH} digits"
        )
    if code.startswith("0"):
        raise InvalidRequestError(
            "The gateway service cannot store codes starting with 0"
        )
    return code


def _validate_name(name: str) -> str:
    text = (name or "").strip()
    if has_unsafe_text(text) or len(text) > _NAME_MAX_LENGTH:
        raise InvalidRequestError(
            f"Code names are at most {_NAME_MAX_LENGTH} printable characters"
        )
    return text or _DEFAULT_CODE_NAME


def _validate_callback_url(url: str) -> str:
    text = url.strip() if isinstance(url, str) else ""
    parts = urlsplit(text)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or len(text) > MAX_URL_LENGTH
        or any(ch.isspace() for ch in text)
        or has_unsafe_text(text)
    ):
        raise InvalidRequestError("The callback must be an http(s) URL")
    return text


class GatewayServiceClient(LockProvider):
    """Client of the TTLock gateway service implementing ``LockProvider``.

    Also an ``AsyncResultProvider`` (results through the webhook) and a
    ``CodeUsageProvider`` (a code's uses, the first entry by code).
    """

    provider = "gateway_service"
    # add_code_to_lock / delete_code_from_lock are retried by the service
    # itself: every 20 minutes, 5 attempts in all (seed 000, AddKeyToLockJob).
    retries_code_uploads = True

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        email: str,
        password: str,
        source: str = DEFAULT_SOURCE,
        job_timeout: float = DEFAULT_TIMEOUT,
        job_lifetime: float = DEFAULT_LIFETIME,
        request_timeout: float = 20.0,
        max_concurrency: int = 4,
        busy_retry_delays: Sequence[float] = (2.0, 4.0, 8.0),
        clock: Callable[[], float] = time.time,
        meter: CallMeter = NULL_METER,
    ) -> None:
        """Set up the client; no I/O happens until the first call.

        ``meter`` counts every request sent (the API budget).
        """
        self._session = session
        self._base_url = api_base(base_url)
        self._email = email
        self._password = password
        self._source = source
        self.max_concurrency = max(1, max_concurrency)
        self._semaphore = asyncio.Semaphore(self.max_concurrency)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._busy_retry_delays = tuple(busy_retry_delays)
        self._token: str | None = None
        self._user_id: str | None = None
        self._auth_lock = asyncio.Lock()
        self._list_lock = asyncio.Lock()
        self._lock_locks: dict[str, asyncio.Lock] = {}
        self._meter = meter
        self.tracker = JobTracker(
            interpret_report,
            timeout=job_timeout,
            lifetime=job_lifetime,
            method_aliases=_METHOD_ALIASES,
            clock=clock,
        )

    # ------------------------------------------------------------------ transport

    async def _post(
        self, method: str, body: Mapping[str, Any], *, token: str | None
    ) -> Any:
        """One JSON POST; the decoded answer (``status`` not checked)."""
        url = f"{self._base_url}{API_PREFIX}{method}"
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with self._semaphore:
            # Counted when sent (a timeout may still have reached the service).
            self._meter.count(f"POST {method}")
            try:
                async with self._session.post(
                    url,
                    json=dict(body),
                    headers=headers,
                    timeout=self._timeout,
                    allow_redirects=False,
                ) as resp:
                    status = resp.status
                    if status == 401:
                        _LOGGER.debug("Gateway service %s: token refused", method)
                        raise _Unauthenticated
                    if status == 429:
                        raise RateLimitError(
                            "The gateway service is throttling requests",
                            status,
                            retry_after=_retry_after(resp.headers.get("Retry-After")),
                        )
                    if status >= 500:
                        _LOGGER.debug("Gateway service %s: HTTP %s", method, status)
                        raise CannotConnectError(
                            f"The gateway service answered HTTP {status}", status
                        )
                    raw = await _read_body(resp)
            except TimeoutError:
                _LOGGER.debug("Gateway service %s timed out", method)
                raise _MaybeSent("Timeout talking to the gateway service") from None
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError):
                _LOGGER.debug("Gateway service %s: connection lost", method)
                raise _MaybeSent("The gateway service closed the connection") from None
            except aiohttp.ClientError as err:
                _LOGGER.debug(
                    "Gateway service %s failed: %s", method, type(err).__name__
                )
                raise CannotConnectError(
                    f"Cannot reach the gateway service ({type(err).__name__})"
                ) from None
        if len(raw) > MAX_BODY_BYTES:
            raise InvalidAnswerError("The gateway service answer is too large")
        if 300 <= status < 400:
            raise InvalidRequestError(
                "The gateway service answered with a redirect; check its URL", status
            )
        if status == 404:
            raise InvalidRequestError(
                f"The gateway service has no {method}; check its URL and version",
                status,
            )
        try:
            payload = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            _LOGGER.debug("Gateway service %s: HTTP %s without JSON", method, status)
            if status >= 400:
                raise InvalidRequestError(
                    f"The gateway service answered HTTP {status}", status
                ) from None
            raise TransientError("Unexpected answer from the gateway service") from None
        if status >= 400:
            message = None
            if isinstance(payload, Mapping):
                message = clean_message(payload.get("message") or payload.get("msg"))
            raise InvalidRequestError(
                message or f"The gateway service answered HTTP {status}", status
            )
        return payload

    # ----------------------------------------------------------------------- auth

    async def _login(self) -> str:
        """``get_token``; the new token. Caller holds ``_auth_lock``."""
        payload = await self._post(
            "get_token",
            {"email": self._email, "password": self._password},
            token=None,
        )
        if not isinstance(payload, Mapping):
            raise InvalidAnswerError("get_token: not an object")
        keys = normalize_keys(payload)
        if answer_status(keys) is not True:
            raise AuthError("The gateway service refused the e-mail or password")
        token = keys.get("token")
        if (
            not isinstance(token, str)
            or not token
            or len(token) > MAX_TOKEN_LENGTH
            or any(ch.isspace() for ch in token)
            or has_unsafe_text(token)
        ):
            raise InvalidAnswerError("get_token: no usable token")
        self._user_id = require_id(keys.get("user_id"), "get_token user_id")
        self._token = token
        return token

    async def _ensure_token(self) -> str:
        """The held bearer token, logging in first if there is none."""
        if self._token is not None:
            return self._token
        async with self._auth_lock:
            token = self._token
            if token is None:
                token = await self._login()
            return token

    async def _renew(self, stale: str) -> str:
        """A new token after a 401, unless a concurrent caller already got one."""
        async with self._auth_lock:
            token = self._token
            if token is None or token == stale:
                self._token = None
                token = await self._login()
            return token

    async def _call(self, method: str, body: Mapping[str, Any]) -> Any:
        """An authenticated call; one new login and replay after a 401."""
        token = await self._ensure_token()
        try:
            return await self._post(method, body, token=token)
        except _Unauthenticated:
            pass
        token = await self._renew(token)
        try:
            return await self._post(method, body, token=token)
        except _Unauthenticated:
            self._token = None
            raise AuthError("The gateway service refused a fresh token") from None

    async def _immediate(self, method: str, body: Mapping[str, Any]) -> Any:
        """A call answered at once: its data, or the failure it reports."""
        payload = await self._call(method, body)
        if isinstance(payload, Mapping):
            keys = normalize_keys(payload)
            if answer_status(keys) is False:
                raise error_from_failure(
                    clean_message(keys.get("msg")),
                    codes_error=answer_codes_error(keys),
                    data=keys,
                )
        return payload

    # ----------------------------------------------------------------------- jobs

    async def _start_job(
        self,
        operation: Operation,
        body: Mapping[str, Any],
        *,
        lock_id: str | None = None,
        context: Mapping[str, str] | None = None,
    ) -> PendingJob:
        """Send a job; it is pending (and matched by its tag) before it is sent."""
        method = METHOD_FOR[operation]
        # Log in first: a login that times out has sent no job.
        await self._ensure_token()
        job = self.tracker.register(operation, method, lock_id=lock_id, context=context)
        try:
            payload = await self._call(
                method, {**body, "tag": {TAG_KEY: job.correlation_id}}
            )
        except _MaybeSent:
            # The job may be queued: keep it for a late result.
            job.waiting = False
            raise ResultPendingError(
                "Sent; the gateway service did not answer",
                job_id=job.correlation_id,
                operation=operation,
                lock_id=lock_id,
            ) from None
        except asyncio.CancelledError:
            job.waiting = False
            raise
        except BaseException:
            self.tracker.discard(job)
            raise
        try:
            if not isinstance(payload, Mapping):
                raise InvalidAnswerError(f"{method}: not an object")
            keys = normalize_keys(payload)
            raw_id = keys.get("job_id", keys.get("job"))
            if raw_id is None:
                if answer_status(keys) is False:
                    raise error_from_failure(
                        clean_message(keys.get("msg")),
                        codes_error=answer_codes_error(keys),
                        data=keys,
                    )
                raise InvalidAnswerError(f"{method}: no job id")
            job_id = require_id(raw_id, f"{method} job id")
        except ProviderError:
            self.tracker.discard(job)
            raise
        self.tracker.bind(job, job_id)
        return job

    async def _run_job(
        self,
        operation: Operation,
        body: Mapping[str, Any],
        *,
        lock_id: str | None = None,
        context: Mapping[str, str] | None = None,
    ) -> OperationResult:
        """Send a job and wait for its first result (``ResultPendingError``)."""
        job = await self._start_job(operation, body, lock_id=lock_id, context=context)
        return await self.tracker.wait(job)

    def _lock_for(self, lock_id: str) -> asyncio.Lock:
        lock = self._lock_locks.get(lock_id)
        if lock is None:
            lock = self._lock_locks[lock_id] = asyncio.Lock()
        return lock

    async def _gateway_job(self, operation: Operation, lock_id: str) -> None:
        """A job through the lock's gateway: one at a time per lock, busy retried."""
        number = _lock_number(lock_id)
        async with self._lock_for(number):
            delays = iter(self._busy_retry_delays)
            while True:
                result = await self._run_job(
                    operation, {"lock_id": number}, lock_id=number
                )
                if result.status is ResultStatus.SUCCEEDED:
                    return
                error = result.error or ProviderError("The job failed")
                delay = (
                    next(delays, None)
                    if isinstance(error, TransientError) and error.code in _BUSY_ERRORS
                    else None
                )
                if delay is None:
                    raise error
                _LOGGER.debug(
                    "Gateway service %s: busy, retry in %ss",
                    METHOD_FOR[operation],
                    delay,
                )
                await asyncio.sleep(delay)

    # ------------------------------------------------------ AsyncResultProvider

    async def async_set_callback(self, url: str) -> None:
        """``set_callback``: where the service POSTs job results."""
        payload = await self._call(
            "set_callback", {"callback": _validate_callback_url(url)}
        )
        keys = normalize_keys(payload) if isinstance(payload, Mapping) else {}
        if answer_status(keys) is not True:
            raise error_from_failure(clean_message(keys.get("msg")), data=keys)

    def resolve_job(self, job: Mapping[str, Any]) -> bool:
        """Feed one parsed job callback (``ParsedCallback.job``)."""
        return self.tracker.resolve(job)

    def add_result_listener(self, listener: ResultListener) -> Callable[[], None]:
        """Results nobody waits for (late, later attempts, after a restart)."""
        return self.tracker.add_listener(listener)

    def export_pending(self) -> list[dict[str, Any]]:
        """Pending jobs for storage (no secrets, no digits)."""
        return self.tracker.export()

    def import_pending(self, items: Iterable[Mapping[str, Any]]) -> int:
        """Pending jobs from storage."""
        return self.tracker.import_(items)

    def expire_pending(self) -> list[OperationResult]:
        """Give up on jobs that outlived the tracker's lifetime."""
        return self.tracker.expire_pending()

    # ------------------------------------------------------------ LockProvider

    async def async_create_user(self) -> None:
        """``create_user``: register the TTLock account with the service.

        The service checks the e-mail and password against the TTLock cloud
        and keeps them to act for the account; safe to repeat.
        """
        payload = await self._post(
            "create_user",
            {"email": self._email, "password": self._password, "source": self._source},
            token=None,
        )
        keys = normalize_keys(payload) if isinstance(payload, Mapping) else {}
        if answer_status(keys) is True:
            return
        message = clean_message(keys.get("msg")) or "create_user failed"
        error = keys.get("error")
        if str(error).strip() == "1":
            raise AuthError(message, 1)
        raise ProviderError(message, str(error) if error is not None else None)

    async def async_login(self) -> AccountInfo:
        """Get a token (unless one is held) and identify the account."""
        await self._ensure_token()
        host = urlsplit(self._base_url).netloc.lower()
        return AccountInfo(unique_id=f"{host}_{self._user_id}", title=self._email)

    async def async_list_locks(self) -> list[Lock]:
        """``get_lock_list`` (a job): every lock the account has in TTLock."""
        async with self._list_lock:
            result = await self._run_job(Operation.LIST_LOCKS, {})
        if result.status is ResultStatus.SUCCEEDED and result.locks is not None:
            return list(result.locks)
        raise result.error or ProviderError("get_lock_list failed")

    async def async_list_gateways(self) -> list[Gateway]:
        """The service does not expose gateways."""
        return []

    async def async_list_gateway_locks(self, gateway_id: str) -> dict[str, int | None]:
        """The service does not expose gateways."""
        return {}

    async def async_change_code(
        self,
        lock_id: str,
        code_id: str,
        *,
        name: str,
        start: datetime,
        end: datetime,
    ) -> None:
        """Seed 000 has no change: the code ledger deletes and adds again."""
        raise NotSupportedError("The gateway service cannot change a code")

    async def async_get_lock_details(self, lock: Lock) -> Lock:
        """The service has no detail call: the lock list is all there is."""
        return lock

    async def async_unlock(self, lock_id: str) -> None:
        """``open_lock`` (a job)."""
        await self._gateway_job(Operation.UNLOCK, lock_id)

    async def async_lock(self, lock_id: str) -> None:
        """The service cannot lock remotely."""
        raise NotSupportedError("The gateway service cannot lock remotely")

    async def async_set_passage_mode(self, lock_id: str, enabled: bool) -> None:
        """``set_lock_passage_mode_on``/``_off`` (jobs).

        Turning it on also unlocks the lock (the service's setPassageModeOn
        calls TTLock's unlock after configPassageMode).
        """
        await self._gateway_job(
            Operation.PASSAGE_MODE_ON if enabled else Operation.PASSAGE_MODE_OFF,
            lock_id,
        )

    async def async_add_code(
        self,
        lock_id: str,
        name: str,
        code: str,
        start: datetime,
        end: datetime,
        *,
        phone: str | None = None,
    ) -> Passcode:
        """``add_code_to_lock`` (a job); spends one code of the packet (``phone`` unused).

        The window goes out as whole UTC minutes, widened (start rounded down,
        end up). A failed attempt is retried by the service itself: then this
        raises ``ResultPendingError(retrying=True)`` and the final outcome
        reaches the result listeners.
        """
        number = _lock_number(lock_id)
        digits = _validate_code(code)
        label = _validate_name(name)
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidRequestError("Code times must carry a time zone")
        if end <= start:
            raise InvalidRequestError("A code's end must be after its start")
        begin, finish = floor_minute(start), ceil_minute(end)
        body = {
            "lock_id": number,
            "code": digits,
            "code_name": label,
            "begin": format_service_time(begin),
            "end": format_service_time(finish),
        }
        context = {"name": label, "start": begin.isoformat(), "end": finish.isoformat()}
        async with self._lock_for(number):
            result = await self._run_job(
                Operation.ADD_CODE, body, lock_id=number, context=context
            )
        if result.status is not ResultStatus.SUCCEEDED:
            raise result.error or ProviderError("add_code_to_lock failed")
        if result.passcode is None:
            raise InvalidAnswerError(
                "The gateway service reported the code added but not its id"
            )
        return dataclasses.replace(result.passcode, code=digits)

    async def async_delete_code(self, lock_id: str, code_id: str) -> None:
        """``delete_code_from_lock`` (a job), retried by the service itself."""
        number = _lock_number(lock_id)
        code_number = str(code_id).strip()
        if (
            not code_number.isascii()
            or not code_number.isdigit()
            or len(code_number) > 20
        ):
            raise InvalidRequestError("The gateway service only knows numeric code ids")
        async with self._lock_for(number):
            result = await self._run_job(
                Operation.DELETE_CODE,
                {"lock_id": number, "code_id": code_number},
                lock_id=number,
                context={"code_id": code_number},
            )
        if result.status is not ResultStatus.SUCCEEDED:
            raise result.error or ProviderError("delete_code_from_lock failed")

    async def async_list_codes(self, lock_id: str) -> list[Passcode]:
        """Seed 000 has no call listing a lock's codes."""
        raise NotSupportedError("The gateway service cannot list a lock's codes")

    async def async_get_events(
        self, lock_id: str, start: datetime, end: datetime
    ) -> list[LockEvent]:
        """``get_lock_events``: the service's last 100 records, in [start, end]."""
        events = await self.async_get_lock_events(lock_id)
        return [event for event in events if start <= event.time <= end]

    async def async_get_code_packet(self) -> CodePacket:
        """``get_codes_count``: codes left and the packet's expiry."""
        payload = await self._immediate("get_codes_count", {})
        if not isinstance(payload, Mapping):
            raise InvalidAnswerError("get_codes_count: not an object")
        return packet_from_answer(payload)

    # -------------------------------------------------------- event look-ups

    async def async_get_lock_events(
        self,
        lock_id: str,
        *,
        personal: bool = False,
        lock_record_type: int | None = None,
        record_type: int | None = None,
    ) -> list[LockEvent]:
        """``get_lock_events`` with its filters; oldest first (at most 100)."""
        number = _lock_number(lock_id)
        body: dict[str, Any] = {"lock_id": number}
        if personal:
            body["personal"] = True
        if lock_record_type is not None:
            body["lock_record_type"] = int(lock_record_type)
        if record_type is not None:
            body["record_type"] = int(record_type)
        rows = await self._immediate("get_lock_events", body)
        return events_from_rows(rows, number)

    async def async_get_lock_events2(
        self, lock_ids: Sequence[str], kind: int, code: str | None = None
    ) -> list[LockEvent]:
        """``get_lock_events2``: 1 first entry by ``code``, 2 staff, 3 all."""
        if kind not in (1, 2, 3):
            raise InvalidRequestError("get_lock_events2 type is 1, 2 or 3")
        numbers = [_lock_number(lock_id) for lock_id in lock_ids]
        if not numbers:
            raise InvalidRequestError("At least one lock is needed")
        body: dict[str, Any] = {"lock_ids": ",".join(numbers), "type": kind}
        if kind == 1:
            body["code"] = int(_validate_code(code or ""))
        rows = await self._immediate("get_lock_events2", body)
        return events_from_rows(rows, single=kind == 1)

    async def async_get_code_events(self, lock_id: str, code: str) -> list[LockEvent]:
        """``get_events_by_code``: the lock's last 100 records with this code."""
        number = _lock_number(lock_id)
        rows = await self._immediate(
            "get_events_by_code", {"lock_id": number, "code": _validate_code(code)}
        )
        return events_from_rows(rows, number)

    async def async_get_first_use(
        self, lock_ids: Sequence[str], code: str
    ) -> LockEvent | None:
        """The first successful entry with ``code`` (``get_lock_events2`` type 1)."""
        events = await self.async_get_lock_events2(lock_ids, 1, code)
        return events[0] if events else None


def answer_codes_error(keys: Mapping[str, Any]) -> bool:
    """Whether an answer flags a code-packet problem (``codes_error``)."""
    return parse_bool(keys.get("codes_error")) is True


async def _read_body(resp: aiohttp.ClientResponse) -> bytes:
    """The whole body, or its first MAX_BODY_BYTES + 1 bytes when larger.

    ``read(n)`` returns what has arrived so far, which may be one chunk only.
    """
    body = bytearray()
    while len(body) <= MAX_BODY_BYTES:
        chunk = await resp.content.read(MAX_BODY_BYTES + 1 - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)


def _retry_after(raw: str | None) -> float:
    try:
        value = float(raw) if raw is not None else _DEFAULT_RETRY_AFTER
    except ValueError:
        return _DEFAULT_RETRY_AFTER
    if not 0 < value <= 86400:
        return _DEFAULT_RETRY_AFTER
    return value
