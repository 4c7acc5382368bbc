"""Async client of the Dding (丁盯) smart-lock SaaS API v1.6 (seed 003).

Speaks only HTTP through the aiohttp session it is given; no Home Assistant
imports. Every path is ``/openapi/v1/<name>``; POST bodies and every answer are
JSON (4.2), errors are ``{"ErrNo": N, "ErrMsg": ...}`` (3.1). The business calls
carry ``access_token`` (4): in the query string of a GET, in the body of a POST.

The account is the set of configured home ids (the partner's own ids, 5.1: there
is no call listing all homes). Locks and gateways are named by their ``uuid``,
which is also what the section-9 callbacks name.

What the SaaS does not offer: remote unlock or lock, passage mode, the bolt's
state. Password changes are carried out by the gateway later (6.3 ``operation``
/ ``operation_stage``): a call that succeeded means "accepted", and the listing
tells when the lock confirmed.

Tokens, the client secret, code digits and phone numbers never reach exception
messages or log lines; logs name the endpoint and ErrNo only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
import dataclasses
from datetime import UTC, datetime
import json
import logging
import math
import time
from typing import Any, Final

import aiohttp

from .bounds import (
    MAX_YEAR,
    InvalidAnswerError,
    clean_text,
    has_unsafe_text,
    opt_int,
)
from .dding_mapping import (
    ADMIN_PASSWORD_ID,
    CODE_LENGTH,
    PROVIDER_DDING,
    DeviceInfo,
    DeviceRef,
    count_from,
    device_info,
    devices_of_homes,
    dynamic_code_from,
    gateway_from,
    lock_event_from,
    lock_from,
    op_event_from,
    passcodes_from,
    token_expiry,
)
from .metering import NULL_METER, CallMeter
from .models import (
    AccountInfo,
    AuthError,
    CannotConnectError,
    CodeKind,
    CodeOperation,
    CodePhase,
    DuplicateCodeError,
    DynamicCode,
    Gateway,
    InvalidRequestError,
    Lock,
    LockEvent,
    LockProvider,
    NotSupportedError,
    OperationStage,
    Passcode,
    ProtectedCodeError,
    ProviderError,
    RateLimitError,
    TransientError,
    UnknownHomeError,
)

__all__ = ["BASE_URL", "PLACEHOLDER_PHONE", "PROVIDER_DDING", "DdingClient"]

_LOGGER = logging.getLogger(__name__)

# 4.2: "API 访问域名: https://lockapi.dding.net", "Path 固定前缀: /openapi/v1/".
BASE_URL: Final = "https://lockapi.dding.net"
API_PREFIX: Final = "/openapi/v1/"

# 6.6 makes ``phonenumber`` required: the SaaS texts the new code to it. Without
# a phone from the caller (or the entry's default) this is sent: eleven zeros is
# no one's mobile number (Chinese mobiles start with 1), so no stranger gets a
# guest's code. If the SaaS refuses it (14001) the error asks for a phone.
PLACEHOLDER_PHONE: Final = "00000000000"
_PHONE_MIN, _PHONE_MAX = 5, 20

# 3.1 error codes.
ERR_TOKEN_INVALID: Final = 101
ERR_TOKEN_EXPIRED: Final = 102
ERR_DUPLICATE: Final = 11000
ERR_BAD_PARAMETER: Final = 14001
ERR_DATABASE: Final = 14003
ERR_INTERNAL: Final = 15000
ERR_NOT_FOUND: Final = 15006
ERR_NOT_IMPLEMENTED: Final = 15007
ERR_ROOM_HAS_LOCK: Final = 15008
ERR_HOME_HAS_CENTER: Final = 15009
ERR_DEVICE_EXISTS: Final = 15010
ERR_DEVICE_TAKEN: Final = 15011
ERR_NO_ROOM: Final = 15012
ERR_ADMIN_PASSWORD: Final = 15013
ERR_PERMISSION: Final = 15014
TOKEN_ERRORS: Final = frozenset({ERR_TOKEN_INVALID, ERR_TOKEN_EXPIRED})
TRANSIENT_ERRORS: Final = frozenset({ERR_DATABASE, ERR_INTERNAL})
# Meaning of each documented code, for messages (the SaaS's ErrMsg is Chinese).
ERROR_TEXT: Final[dict[int, str]] = {
    ERR_TOKEN_INVALID: "token invalid",
    ERR_TOKEN_EXPIRED: "token expired",
    ERR_DUPLICATE: "already exists (duplicate code?)",
    ERR_BAD_PARAMETER: "bad parameter",
    ERR_DATABASE: "database error at the SaaS",
    ERR_INTERNAL: "internal error at the SaaS",
    ERR_NOT_FOUND: "not found",
    ERR_NOT_IMPLEMENTED: "not implemented by the SaaS",
    ERR_ROOM_HAS_LOCK: "the room already has a lock",
    ERR_HOME_HAS_CENTER: "the home already has a gateway",
    ERR_DEVICE_EXISTS: "the device is already registered",
    ERR_DEVICE_TAKEN: "the device is bound by someone else",
    ERR_NO_ROOM: "no such room",
    ERR_ADMIN_PASSWORD: "the administrator password cannot be deleted or frozen",
    ERR_PERMISSION: "permission denied",
}

# Token: renew this long before ``expires_time`` (at most a tenth of the
# lifetime); a lifetime the answer does not give counts as two hours; a token is
# used at least this long whatever the clocks say (a server clock behind ours
# must not make every call fetch a token: 101/102 replay covers a real expiry).
REFRESH_MARGIN: Final = 3600.0
DEFAULT_TOKEN_LIFETIME: Final = 7200.0
MIN_TOKEN_REUSE: Final = 300.0
# A year-40,000 expiry is not believed: renewed after at most this long.
MAX_TOKEN_LIFETIME: Final = 30 * 86400.0

# Lock/centre info: name, model, firmware change rarely. When the listing gives
# the online state it is fetched once a day; else every details call asks it
# (the coordinator calls details on the 6-hour activity schedule), reusing an
# answer younger than INFO_REUSE (the listing just fetched it).
STATIC_INFO_MAX_AGE: Final = 24 * 3600.0
INFO_REUSE: Final = 300.0
# list_gateways right after list_locks reuses that listing.
LIST_REUSE: Final = 120.0

# 6.11 / 7.3: ``count`` defaults to 50; we page at most this many records per poll.
EVENT_PAGE_SIZE: Final = 50
MAX_EVENTS_PER_POLL: Final = 1000
MAX_ANSWER_BYTES: Final = 4 * 1024 * 1024
_MAX_NAME: Final = 64
_MAX_ERRMSG: Final = 200


def error_for_errno(errno: int, message: str) -> ProviderError:
    """Map a 3.1 ``ErrNo`` to the provider-neutral error class."""
    text = ERROR_TEXT.get(errno, "error")
    full = f"Dding SaaS: {text}" + (f" ({message})" if message else "")
    if errno in TOKEN_ERRORS:
        return AuthError(full, errno)
    if errno in TRANSIENT_ERRORS:
        return TransientError(full, errno)
    if errno == ERR_DUPLICATE:
        return DuplicateCodeError(full, errno)
    if errno == ERR_ADMIN_PASSWORD:
        return ProtectedCodeError(full, errno)
    if errno == ERR_NOT_IMPLEMENTED:
        return NotSupportedError(full, errno)
    return InvalidRequestError(full, errno)


def _epoch_s(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return math.floor(value.timestamp())


@dataclasses.dataclass(slots=True)
class _Token:
    value: str
    refresh_at: float


@dataclasses.dataclass(slots=True)
class _Info:
    fetched_at: float
    info: DeviceInfo


class DdingClient(LockProvider):
    """Dding SaaS client implementing ``models.LockProvider``."""

    provider = PROVIDER_DDING
    # 6.3: the listing's operation_stage says when the gateway is done; the
    # SaaS does not retry a failed operation by itself (nothing in the seed says
    # so), so the integration may try again.
    retries_code_uploads = False

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        client_id: str,
        client_secret: str,
        home_ids: Sequence[str],
        base_url: str | None = None,
        default_phone: str | None = None,
        poll_operation_log: bool = False,
        max_concurrency: int = 10,
        request_timeout: float = 20.0,
        meter: CallMeter = NULL_METER,
    ) -> None:
        """Set up the client; no I/O happens until the first call.

        ``meter`` counts every request sent (the API budget).

        ``home_ids``: the partner's home ids this entry manages (at least one).
        ``default_phone``: sent with new codes when the caller gives none.
        ``poll_operation_log``: also read 7.3's operation log on each events
        poll (4 more calls per lock a day at the 6-hour schedule).
        """
        homes = tuple(dict.fromkeys(h.strip() for h in home_ids if h and h.strip()))
        if not homes:
            raise ValueError("at least one Dding home id is needed")
        for home in homes:
            if len(home) > 128 or has_unsafe_text(home):
                raise ValueError("invalid Dding home id")
        self._session = session
        self._client_id = client_id
        self._client_secret = client_secret
        self._home_ids = homes
        self._base_url = (base_url or BASE_URL).rstrip("/")
        self._default_phone = (
            self._check_phone(default_phone) if default_phone else None
        )
        self._poll_operation_log = poll_operation_log
        self.max_concurrency = max(1, max_concurrency)
        self._semaphore = asyncio.Semaphore(self.max_concurrency)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._token: _Token | None = None
        self._auth_lock = asyncio.Lock()
        self._lock_locks: dict[str, asyncio.Lock] = {}
        self._devices: dict[str, DeviceRef] = {}
        self._listed_at: float | None = None
        self._infos: dict[str, _Info] = {}
        self._meter = meter

    @property
    def home_ids(self) -> tuple[str, ...]:
        """The homes this client manages."""
        return self._home_ids

    # ---------------------------------------------------------------- transport

    def _scrub(self, text: str, secrets: Iterable[str] = ()) -> str:
        """The cloud's message without anything secret, bounded and printable."""
        hidden = [self._client_secret, *secrets]
        if self._token is not None:
            hidden.append(self._token.value)
        for secret in hidden:
            if secret:
                text = text.replace(secret, "***")
        return clean_text(text, max_length=_MAX_ERRMSG)

    async def _http(
        self, method: str, endpoint: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """One HTTP exchange; the JSON object answered (ErrNo not checked)."""
        url = f"{self._base_url}{API_PREFIX}{endpoint}"
        async with self._semaphore:
            # Counted when sent (a timeout may still have reached the cloud).
            self._meter.count(f"{method} {endpoint}")
            try:
                if method == "GET":
                    query = {key: str(value) for key, value in params.items()}
                    ctx = self._session.get(url, params=query, timeout=self._timeout)
                else:
                    body = json.dumps(params, separators=(",", ":"), ensure_ascii=False)
                    ctx = self._session.post(
                        url,
                        data=body.encode(),
                        headers={"Content-Type": "application/json"},
                        timeout=self._timeout,
                    )
                async with ctx as resp:
                    status = resp.status
                    raw = await self._read_bounded(resp)
            except TimeoutError:
                _LOGGER.debug("Dding %s timed out", endpoint)
                raise CannotConnectError("Timeout talking to the Dding SaaS") from None
            except aiohttp.ClientError as err:
                _LOGGER.debug("Dding %s failed: %s", endpoint, type(err).__name__)
                raise CannotConnectError(
                    f"Cannot reach the Dding SaaS ({type(err).__name__})"
                ) from None
        if status == 429:
            raise RateLimitError("Dding SaaS rate limit (HTTP 429)", 429, 60.0)
        if status >= 500:
            _LOGGER.debug("Dding %s answered HTTP %s", endpoint, status)
            raise CannotConnectError(f"Dding SaaS answered HTTP {status}", status)
        if raw is None:
            raise TransientError("The Dding SaaS answered too much")
        try:
            payload = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError, ValueError, RecursionError:
            payload = None
        if not isinstance(payload, dict):
            _LOGGER.debug("Dding %s answered HTTP %s without JSON", endpoint, status)
            if status >= 400:
                raise InvalidRequestError(f"Dding SaaS answered HTTP {status}", status)
            raise TransientError("Unexpected answer from the Dding SaaS")
        return payload

    @staticmethod
    async def _read_bounded(resp: aiohttp.ClientResponse) -> bytes | None:
        """The body, or None past MAX_ANSWER_BYTES (read no further)."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _errno(payload: Mapping[str, Any]) -> int:
        """3.1 ``ErrNo`` (an int, a whole float or a decimal string)."""
        value = opt_int(payload.get("ErrNo"))
        if value is None:
            raise InvalidAnswerError("Dding answer without ErrNo")
        return value

    def _error(
        self, endpoint: str, payload: Mapping[str, Any], secrets: Iterable[str]
    ) -> ProviderError:
        errno = self._errno(payload)
        _LOGGER.debug("Dding %s answered ErrNo %s", endpoint, errno)
        raw_msg = payload.get("ErrMsg")
        message = self._scrub(raw_msg, secrets) if isinstance(raw_msg, str) else ""
        return error_for_errno(errno, message)

    # --------------------------------------------------------------------- token

    async def _fetch_token(self) -> _Token:
        """4.1 ``access_token``. Caller holds ``_auth_lock``."""
        payload = await self._http(
            "POST",
            "access_token",
            {"client_id": self._client_id, "client_secret": self._client_secret},
        )
        if self._errno(payload) != 0:
            err = self._error("access_token", payload, ())
            if isinstance(err, TransientError | RateLimitError):
                raise err
            raise AuthError(
                "The Dding SaaS refused the client id / client secret", err.code
            )
        value = payload.get("access_token")
        if not isinstance(value, str) or not value.strip() or len(value) > 512:
            raise TransientError("Dding token answer without access_token")
        now = time.time()
        expires = token_expiry(payload.get("expires_time"), now)
        if expires is None:
            expires = now + DEFAULT_TOKEN_LIFETIME
        lifetime = min(max(0.0, expires - now), MAX_TOKEN_LIFETIME)
        expires = now + lifetime
        margin = min(REFRESH_MARGIN, lifetime / 10)
        self._token = _Token(
            value=value.strip(),
            refresh_at=max(now + MIN_TOKEN_REUSE, expires - margin),
        )
        return self._token

    async def _ensure_token(self) -> str:
        """A token believed valid, fetched single-flight when missing or due."""
        token = self._token
        if token is not None and time.time() < token.refresh_at:
            return token.value
        async with self._auth_lock:
            token = self._token
            if token is None or time.time() >= token.refresh_at:
                token = await self._fetch_token()
            return token.value

    async def _renew_after_rejection(self, stale: str) -> str:
        """101/102: one new token for every caller that saw the stale one."""
        async with self._auth_lock:
            if self._token is None or self._token.value == stale:
                await self._fetch_token()
            assert self._token is not None
            return self._token.value

    async def _call(
        self,
        method: str,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        *,
        secrets: Iterable[str] = (),
    ) -> dict[str, Any]:
        """A business call: token added, one replay after 101/102, ErrNo mapped."""
        fields = dict(params or {})
        token = await self._ensure_token()
        used = [token]
        payload = await self._http(method, endpoint, {**fields, "access_token": token})
        if self._errno(payload) in TOKEN_ERRORS:
            token = await self._renew_after_rejection(token)
            used.append(token)
            payload = await self._http(
                method, endpoint, {**fields, "access_token": token}
            )
        if self._errno(payload) != 0:
            raise self._error(endpoint, payload, (*secrets, *used))
        return payload

    def _lock_for(self, lock_id: str) -> asyncio.Lock:
        lock = self._lock_locks.get(lock_id)
        if lock is None:
            lock = self._lock_locks[lock_id] = asyncio.Lock()
        return lock

    # ------------------------------------------------------------------ devices

    async def _probe_homes(self) -> list[str]:
        """Which configured homes the SaaS refuses (5.6, one call per home)."""
        bad: list[str] = []
        for home_id in self._home_ids:
            try:
                await self._call("GET", "find_home_device", {"home_id": home_id})
            except InvalidRequestError as err:
                if err.code in (ERR_NOT_FOUND, ERR_PERMISSION, ERR_BAD_PARAMETER):
                    bad.append(home_id)
                    continue
                raise
        return bad

    @staticmethod
    def _unknown_homes(
        home_ids: Sequence[str], code: int | str | None
    ) -> UnknownHomeError:
        return UnknownHomeError(
            "The Dding SaaS does not know these home ids (or they belong to "
            f"another account): {', '.join(home_ids)}",
            code,
            home_ids=tuple(home_ids),
        )

    async def _find_devices(self) -> dict[str, DeviceRef]:
        """5.7 ``find_home_devices`` over every configured home (one call)."""
        try:
            payload = await self._call(
                "POST", "find_home_devices", {"home_id": list(self._home_ids)}
            )
        except InvalidRequestError as err:
            if err.code not in (ERR_NOT_FOUND, ERR_PERMISSION):
                raise
            bad = await self._probe_homes()
            if not bad:
                raise
            raise self._unknown_homes(bad, err.code) from None
        found, missing = devices_of_homes(payload.get("result"), self._home_ids)
        if missing:
            raise self._unknown_homes(missing, None)
        devices: dict[str, DeviceRef] = {}
        for refs in found.values():
            for ref in refs:
                devices.setdefault(ref.uuid, ref)
        self._devices = devices
        self._listed_at = time.time()
        return devices

    async def _current_devices(self) -> dict[str, DeviceRef]:
        listed = self._listed_at
        now = time.time()
        if listed is not None and 0 <= now - listed < LIST_REUSE:
            return self._devices
        return await self._find_devices()

    async def _device(self, lock_id: str) -> DeviceRef:
        ref = self._devices.get(lock_id)
        if ref is None:
            ref = (await self._find_devices()).get(lock_id)
        if ref is None or not ref.is_lock:
            raise InvalidRequestError("Unknown Dding lock")
        return ref

    def _info_age(self, uuid: str) -> float | None:
        cached = self._infos.get(uuid)
        if cached is None:
            return None
        age = time.time() - cached.fetched_at
        return age if age >= 0 else None  # a clock that went back: stale

    async def _fetch_info(self, ref: DeviceRef) -> DeviceInfo:
        """6.2 ``get_lock_info`` or 6.1 ``get_center_info`` by uuid."""
        endpoint = "get_center_info" if ref.is_gateway else "get_lock_info"
        payload = await self._call("GET", endpoint, {"uuid": ref.uuid})
        info = device_info(payload)
        if info.uuid is not None and info.uuid != ref.uuid:
            raise InvalidAnswerError("Dding info answer names another device")
        self._infos[ref.uuid] = _Info(time.time(), info)
        return info

    async def _info(self, ref: DeviceRef, max_age: float) -> DeviceInfo:
        """The cached info when younger than ``max_age``, else fetched."""
        age = self._info_age(ref.uuid)
        if age is not None and age < max_age:
            return self._infos[ref.uuid].info
        return await self._fetch_info(ref)

    def _info_fresh(self, uuid: str) -> bool:
        """Whether the cached info was fetched by this refresh (seconds ago)."""
        age = self._info_age(uuid)
        return age is not None and age < INFO_REUSE

    def _has_gateway(self, devices: Mapping[str, DeviceRef], home_id: str) -> bool:
        return any(d.is_gateway and d.home_id == home_id for d in devices.values())

    # ------------------------------------------------------------- LockProvider

    async def async_login(self) -> AccountInfo:
        """Token, then the configured homes (unknown ones raise UnknownHomeError)."""
        await self._ensure_token()
        devices = await self._find_devices()
        locks = sum(1 for ref in devices.values() if ref.is_lock)
        homes = (
            f"home {self._home_ids[0]}"
            if len(self._home_ids) == 1
            else f"{len(self._home_ids)} homes"
        )
        return AccountInfo(
            unique_id=self._client_id, title=f"Dding ({homes}, {locks} locks)"
        )

    async def async_list_locks(self) -> list[Lock]:
        """Every lock of the homes: one listing, plus the info of new locks once."""
        devices = await self._find_devices()
        refs = [ref for ref in devices.values() if ref.is_lock]
        new = [ref for ref in refs if ref.uuid not in self._infos]

        async def first_info(ref: DeviceRef) -> None:
            try:
                await self._fetch_info(ref)
            except AuthError:
                raise
            except ProviderError as err:
                # Named after its serial for now; the details call asks again.
                _LOGGER.debug("Dding lock info not fetched: %s", type(err).__name__)

        await asyncio.gather(*(first_info(ref) for ref in new))
        return [
            lock_from(
                ref,
                cached.info if (cached := self._infos.get(ref.uuid)) else None,
                has_gateway=self._has_gateway(devices, ref.home_id),
                info_fresh=self._info_fresh(ref.uuid),
            )
            for ref in refs
        ]

    async def async_list_gateways(self) -> list[Gateway]:
        """Gateways of the homes; their info asked whenever the listing lacks state."""
        devices = await self._current_devices()
        gateways: list[Gateway] = []
        for ref in devices.values():
            if not ref.is_gateway:
                continue
            max_age = STATIC_INFO_MAX_AGE if ref.has_state else 0.0
            try:
                info = await self._info(ref, max_age)
            except InvalidRequestError as err:
                if err.code != ERR_NOT_FOUND:
                    raise
                continue  # unbound since the listing
            locks = sum(
                1 for d in devices.values() if d.is_lock and d.home_id == ref.home_id
            )
            gateways.append(gateway_from(ref, info, locks))
        return gateways

    async def async_list_gateway_locks(self, gateway_id: str) -> dict[str, int | None]:
        """The locks of the gateway's home (5.6: one centre per home, no signal)."""
        devices = await self._current_devices()
        ref = devices.get(gateway_id)
        if ref is None or not ref.is_gateway:
            return {}
        return {
            d.uuid: None
            for d in devices.values()
            if d.is_lock and d.home_id == ref.home_id
        }

    async def async_get_code_packet(self) -> None:
        """The SaaS sells no code packets."""
        return

    async def async_get_lock_details(self, lock: Lock) -> Lock:
        """Name, model, firmware, MAC; battery and online when the listing lacks them.

        A lock info the SaaS fails to give leaves the lock as it was: the
        coordinator polls events after details, and they must not wait for it.
        """
        ref = await self._device(lock.lock_id)
        max_age = STATIC_INFO_MAX_AGE if ref.has_state else INFO_REUSE
        try:
            info = await self._info(ref, max_age)
        except (AuthError, RateLimitError):
            raise
        except ProviderError as err:
            _LOGGER.debug("Dding lock info not fetched: %s", type(err).__name__)
            return lock
        mapped = lock_from(
            ref,
            info,
            has_gateway=lock.has_gateway,
            info_fresh=self._info_fresh(ref.uuid),
        )
        changes: dict[str, Any] = {
            "name": mapped.name,
            "aliases": tuple(dict.fromkeys((*mapped.aliases, *lock.aliases))),
        }
        for key in ("model", "manufacturer", "firmware", "mac", "battery", "online"):
            value = getattr(mapped, key)
            if value is not None:
                changes[key] = value
        return dataclasses.replace(lock, **changes)

    async def async_unlock(self, lock_id: str) -> None:
        """The SaaS has no remote unlock."""
        raise NotSupportedError("The Dding SaaS cannot unlock remotely")

    async def async_lock(self, lock_id: str) -> None:
        """The SaaS has no remote lock."""
        raise NotSupportedError("The Dding SaaS cannot lock remotely")

    async def async_set_passage_mode(self, lock_id: str, enabled: bool) -> None:
        """The SaaS has no passage mode."""
        raise NotSupportedError("The Dding SaaS has no passage mode")

    # -------------------------------------------------------------------- codes

    @staticmethod
    def _check_id(value: str, what: str) -> str:
        if (
            not isinstance(value, str)
            or not value.strip()
            or len(value) > 128
            or has_unsafe_text(value)
        ):
            raise InvalidRequestError(f"Invalid Dding {what}")
        return value.strip()

    @staticmethod
    def _check_code(code: str) -> str:
        if not code.isascii() or not code.isdigit() or len(code) != CODE_LENGTH:
            raise InvalidRequestError(
                f"A Dding code must be {CODE_LENGTH} digits (6.6 add_password)"
            )
        return code

    @staticmethod
    def _check_phone(phone: str) -> str:
        text = phone.strip().replace(" ", "").replace("-", "")
        digits = text.removeprefix("+")
        if (
            not digits.isascii()
            or not digits.isdigit()
            or not _PHONE_MIN <= len(digits) <= _PHONE_MAX
        ):
            raise InvalidRequestError("The phone number must be 5 to 20 digits")
        return text

    @staticmethod
    def _check_window(start: datetime, end: datetime) -> tuple[int, int]:
        begin_s, end_s = _epoch_s(start), _epoch_s(end)
        if end_s <= begin_s:
            raise InvalidRequestError("The code's end must be after its start")
        if end_s <= time.time():
            raise InvalidRequestError("The code's end is in the past")
        if begin_s < 0 or datetime.fromtimestamp(end_s, UTC).year > MAX_YEAR:
            raise InvalidRequestError("The code's window is out of range")
        return begin_s, end_s

    @staticmethod
    def _check_name(name: str | None) -> str:
        return clean_text(name, max_length=_MAX_NAME)

    def _check_mutable(self, code_id: str) -> str:
        code_id = self._check_id(code_id, "code id")
        if code_id == ADMIN_PASSWORD_ID:
            raise ProtectedCodeError(
                "The Dding administrator password (id 999) cannot be deleted, "
                "frozen or changed here: manage it in the Dding app",
                ERR_ADMIN_PASSWORD,
            )
        return code_id

    @staticmethod
    def _password_id(code_id: str) -> int | str:
        """6.8: ``password_id`` is an Int."""
        return int(code_id) if code_id.isascii() and code_id.isdigit() else code_id

    def _phone(self, phone: str | None) -> str:
        if phone:
            return self._check_phone(phone)
        return self._default_phone or PLACEHOLDER_PHONE

    async def async_list_codes(self, lock_id: str) -> list[Passcode]:
        """6.3 ``fetch_passwords``: every code with its phase (no digits)."""
        lock_id = self._check_id(lock_id, "lock id")
        payload = await self._call("GET", "fetch_passwords", {"uuid": lock_id})
        return passcodes_from(lock_id, payload.get("passwords"))

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
        """6.6 ``add_password``: accepted now, on the lock when the gateway confirms."""
        lock_id = self._check_id(lock_id, "lock id")
        code = self._check_code(code)
        begin_s, end_s = self._check_window(start, end)
        clean_name = self._check_name(name)
        number = self._phone(phone)
        params: dict[str, Any] = {
            "uuid": lock_id,
            "phonenumber": number,
            "is_default": 0,
            "password": code,
            "permission_begin": begin_s,
            "permission_end": end_s,
        }
        if clean_name:
            params["name"] = clean_name
        async with self._lock_for(lock_id):
            payload = await self._call(
                "POST", "add_password", params, secrets=(code, number)
            )
        code_id = payload.get("id")
        if isinstance(code_id, bool) or not isinstance(code_id, int | str):
            raise InvalidAnswerError("Dding add_password answer without id")
        try:
            code_id_text = self._check_id(str(code_id), "code id")
        except InvalidRequestError:
            raise InvalidAnswerError(
                "Dding add_password answer with a bad id"
            ) from None
        return Passcode(
            code_id=code_id_text,
            lock_id=lock_id,
            name=clean_name,
            kind=CodeKind.PERIOD,
            code=code,
            start=datetime.fromtimestamp(begin_s, UTC),
            end=datetime.fromtimestamp(end_s, UTC),
            phase=CodePhase.PENDING,
            operation=CodeOperation.ADD,
            operation_stage=OperationStage.IN_PROGRESS,
        )

    async def async_change_code(
        self,
        lock_id: str,
        code_id: str,
        *,
        name: str,
        start: datetime,
        end: datetime,
    ) -> None:
        """6.7 needs the digits: ``async_update_code`` (update_codes) does it."""
        raise NotSupportedError(
            "The Dding SaaS changes a code only given its digits (update_password)"
        )

    async def async_update_code(
        self,
        lock_id: str,
        code_id: str,
        *,
        name: str | None = None,
        code: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        phone: str | None = None,
    ) -> None:
        """6.7 ``update_password``: needs the digits and both window ends.

        Lists the lock's codes first (one call) to refuse a frozen code.
        """
        lock_id = self._check_id(lock_id, "lock id")
        code_id = self._check_mutable(code_id)
        if code is None or start is None or end is None:
            raise InvalidRequestError(
                "The Dding SaaS changes a code only given its digits and its window"
            )
        code = self._check_code(code)
        begin_s, end_s = self._check_window(start, end)
        number = self._phone(phone)
        # 6.3 lists only a code's latest operation: once changed, a frozen code
        # would read as working. So a frozen (or deleting) code is not changed.
        current = {c.code_id: c for c in await self.async_list_codes(lock_id)}
        listed = current.get(code_id)
        if listed is None:
            raise InvalidRequestError("No such code on this Dding lock", ERR_NOT_FOUND)
        if listed.phase in (CodePhase.REVOKED, CodePhase.DELETING):
            raise InvalidRequestError(
                "This Dding code is frozen or being deleted: unfreeze it (or add "
                "a new one) before changing it"
            )
        params: dict[str, Any] = {
            "uuid": lock_id,
            "password_id": self._password_id(code_id),
            "password": code,
            "phonenumber": number,
            "permission_begin": begin_s,
            "permission_end": end_s,
        }
        if name is not None and (clean_name := self._check_name(name)):
            params["name"] = clean_name
        async with self._lock_for(lock_id):
            await self._call("POST", "update_password", params, secrets=(code, number))

    async def _password_op(self, endpoint: str, lock_id: str, code_id: str) -> None:
        lock_id = self._check_id(lock_id, "lock id")
        code_id = self._check_mutable(code_id)
        async with self._lock_for(lock_id):
            await self._call(
                "POST",
                endpoint,
                {"uuid": lock_id, "password_id": self._password_id(code_id)},
            )

    async def async_delete_code(self, lock_id: str, code_id: str) -> None:
        """6.8 ``delete_password`` (never the administrator password, id 999)."""
        await self._password_op("delete_password", lock_id, code_id)

    async def async_freeze_code(self, lock_id: str, code_id: str) -> None:
        """6.9 ``frozen_password``: the code stops working once the lock confirms."""
        await self._password_op("frozen_password", lock_id, code_id)

    async def async_unfreeze_code(self, lock_id: str, code_id: str) -> None:
        """6.10 ``unfrozen_password``."""
        await self._password_op("unfrozen_password", lock_id, code_id)

    async def async_get_dynamic_code(self, lock_id: str) -> DynamicCode:
        """6.5 ``get_dynamic_password_plaintext``: digits and ``invalid_time``."""
        lock_id = self._check_id(lock_id, "lock id")
        payload = await self._call(
            "GET", "get_dynamic_password_plaintext", {"uuid": lock_id}
        )
        return dynamic_code_from(payload)

    # ------------------------------------------------------------------- events

    async def async_count_events(
        self, lock_id: str, start: datetime, end: datetime
    ) -> int | None:
        """6.12 ``count_lock_events`` in [start, end]; None when not a count."""
        lock_id = self._check_id(lock_id, "lock id")
        payload = await self._call(
            "GET",
            "count_lock_events",
            {
                "uuid": lock_id,
                "start_time": _epoch_s(start),
                "end_time": math.ceil(end.timestamp()),
            },
        )
        return count_from(payload.get("count"))

    async def _paged(
        self,
        endpoint: str,
        key: str,
        params: Mapping[str, Any],
        count_endpoint: str | None = None,
    ) -> list[dict[str, Any]]:
        """Pages of ``key`` (offset/count, 6.11 / 7.3), bounded and loop-proof.

        After a full first page, ``count_endpoint`` (6.12) says how many there
        are, so paging stops there even if the SaaS ignores ``offset``.
        """
        entries: list[dict[str, Any]] = []
        seen: set[str] = set()
        limit = MAX_EVENTS_PER_POLL
        offset = 0
        while offset < limit:
            payload = await self._call(
                "GET",
                endpoint,
                {**params, "offset": offset, "count": EVENT_PAGE_SIZE},
            )
            page = payload.get(key)
            if page is None:
                page = []
            if not isinstance(page, list):
                raise InvalidAnswerError(f"Dding {key}: not a list")
            fresh = 0
            for entry in page:
                if not isinstance(entry, dict):
                    continue
                marker = json.dumps(entry, sort_keys=True, default=str)
                if marker in seen:
                    continue
                seen.add(marker)
                entries.append(entry)
                fresh += 1
            if len(page) < EVENT_PAGE_SIZE or fresh == 0:
                return entries  # the last page, or the same page again
            if offset == 0 and count_endpoint is not None:
                counted = await self._call("GET", count_endpoint, params)
                total = count_from(counted.get("count"))
                if total is not None:
                    limit = min(total, MAX_EVENTS_PER_POLL)
            offset += len(page)
        if offset >= MAX_EVENTS_PER_POLL:
            _LOGGER.debug("Dding %s: stopped after %s records", endpoint, offset)
        return entries

    async def async_get_events(
        self, lock_id: str, start: datetime, end: datetime
    ) -> list[LockEvent]:
        """6.11 door openings (and 7.3 code operations if enabled), oldest first."""
        lock_id = self._check_id(lock_id, "lock id")
        window = {"start_time": _epoch_s(start), "end_time": math.ceil(end.timestamp())}
        entries = await self._paged(
            "get_lock_events",
            "lock_events",
            {"uuid": lock_id, **window},
            count_endpoint="count_lock_events",
        )
        events: dict[str, LockEvent] = {}
        for entry in entries:
            event = lock_event_from(lock_id, entry)
            if event is not None and start <= event.time <= end:
                events.setdefault(event.event_id, event)
        if self._poll_operation_log:
            ref = await self._device(lock_id)
            ops = await self._paged(
                "search_device_op_log",
                "op_list",
                {
                    "home_id": ref.home_id,
                    "room_id": ref.room_id or ref.home_id,
                    **window,
                },
            )
            for entry in ops:
                event = op_event_from(lock_id, entry)
                if event is not None and start <= event.time <= end:
                    events.setdefault(event.event_id, event)
        return sorted(events.values(), key=lambda e: (e.time, e.event_id))
