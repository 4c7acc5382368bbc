"""Async client of the TTLock Open API v3 (cloud).

Speaks only HTTP (aiohttp); nothing here imports Home Assistant.  Every ``/v3/*``
call is form-encoded (POST) or a query string (GET), never JSON, and carries
``clientId``, ``accessToken`` and ``date`` (epoch ms).

Tokens, secrets and passwords never reach exception messages or log lines: errors
carry the cloud's ``errcode``/``errmsg`` only, logs name the endpoint and errcode.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
import dataclasses
from datetime import UTC, datetime
import hashlib
import logging
import time
from typing import Any, Final

import aiohttp

from .bounds import (
    InvalidAnswerError,
    clean_text,
    opt_datetime_from_ms,
    opt_text,
    require_id,
)
from .models import (
    AccountInfo,
    AuthError,
    CannotConnectError,
    Capabilities,
    CodeKind,
    CodeStorageFullError,
    DuplicateCodeError,
    Gateway,
    InvalidRequestError,
    Lock,
    LockEvent,
    LockState,
    NotSupportedError,
    Passcode,
    ProviderError,
    RateLimitError,
    TransientError,
)
from .ttlock_records import record_to_event

_LOGGER = logging.getLogger(__name__)

REGIONS: Final[dict[str, str]] = {
    "eu": "https://euapi.ttlock.com",
    "cn": "https://cnapi.ttlock.com",
}

OAUTH_PATH: Final = "/oauth2/token"

# Feature bits of ``featureValue`` (hex string).
FEATURE_REMOTE_LOCK_UNLOCK: Final = 8
FEATURE_GATEWAY_UNLOCK: Final = 10
FEATURE_PASSAGE_MODE: Final = 22
FEATURE_WIFI: Final = 56

LOCK_PAGE_SIZE: Final = 1000
CODE_PAGE_SIZE: Final = 200
RECORD_PAGE_SIZE: Final = 200
GATEWAY_PAGE_SIZE: Final = 200

CODE_MIN_LENGTH: Final = 4
CODE_MAX_LENGTH: Final = 9

# Refresh this long before the token expires (capped at a tenth of its lifetime).
REFRESH_MARGIN: Final = 300.0

_TOKEN_ERRORS: Final = frozenset({10003, 10004})
_AUTH_ERRORS: Final = frozenset({10000, 10001, 10003, 10004, 10007, 10011, 20002})
_LOGIN_AUTH_ERRORS: Final = frozenset({10000, 10001, 10007, 30005})
_BUSY_ERRORS: Final = frozenset({-3003, -3037})
_TRANSIENT_ERRORS: Final = frozenset(
    {-2012, -3002, -3003, -3034, -3035, -3036, -3037, 90000}
)
_RATE_LIMIT_ERROR: Final = 30006
_RATE_LIMIT_RETRY_AFTER: Final = 3600.0

_ALL_WEEK_DAYS: Final = "[1,2,3,4,5,6,7]"


def md5_password(password: str) -> str:
    """Return the lowercase hex md5 the TTLock cloud wants instead of a password."""
    return hashlib.md5(password.encode("utf-8"), usedforsecurity=False).hexdigest()


def error_for_errcode(code: int, message: str) -> ProviderError:
    """Map a TTLock ``errcode`` to the provider-neutral error class."""
    if code in _AUTH_ERRORS:
        return AuthError(message, code)
    if code == _RATE_LIMIT_ERROR:
        return RateLimitError(message, code, retry_after=_RATE_LIMIT_RETRY_AFTER)
    if code in _TRANSIENT_ERRORS:
        return TransientError(message, code)
    if code == -3007:
        return DuplicateCodeError(message, code)
    if code == -3009:
        return CodeStorageFullError(message, code)
    if code == -4043:
        return NotSupportedError(message, code)
    return InvalidRequestError(message, code)


def _errcode(payload: Mapping[str, Any]) -> int:
    """The answer's errcode (0 when the answer is plain data)."""
    try:
        return int(payload.get("errcode") or 0)
    except TypeError, ValueError:
        return -1


def _errmsg(payload: Mapping[str, Any]) -> str:
    return str(payload.get("errmsg") or payload.get("description") or "TTLock error")


def _has_bit(feature_value: int, bit: int) -> bool:
    return bool((feature_value >> bit) & 1)


def _parse_feature_value(raw: Any) -> int:
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw:
        try:
            return int(raw, 16)
        except ValueError:
            return 0
    return 0


def capabilities_from_feature_value(raw: Any, *, has_gateway: bool) -> Capabilities:
    """What a lock can do remotely, from its ``featureValue`` and gateway."""
    value = _parse_feature_value(raw)
    wifi = _has_bit(value, FEATURE_WIFI)
    reachable = has_gateway or wifi
    remote_bits = (
        _has_bit(value, FEATURE_GATEWAY_UNLOCK)
        or _has_bit(value, FEATURE_REMOTE_LOCK_UNLOCK)
        or wifi
    )
    return Capabilities(
        remote_unlock=remote_bits and reachable,
        remote_lock=_has_bit(value, FEATURE_REMOTE_LOCK_UNLOCK) and reachable,
        passage_mode=_has_bit(value, FEATURE_PASSAGE_MODE) and reachable,
        codes=reachable,
        code_min_length=CODE_MIN_LENGTH,
        code_max_length=CODE_MAX_LENGTH,
    )


def _opt_int(raw: Any) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except TypeError, ValueError:
        return None


def _opt_str(raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    return str(raw)


def _ms_to_datetime(raw: Any) -> datetime | None:
    value = _opt_int(raw)
    if not value:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _datetime_to_ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def _code_kind(raw: Any) -> CodeKind:
    pwd_type = _opt_int(raw)
    if pwd_type == 2:
        return CodeKind.PERMANENT
    if pwd_type == 3:
        return CodeKind.PERIOD
    if pwd_type == 1:
        return CodeKind.ONE_TIME
    if pwd_type is not None and 5 <= pwd_type <= 14:
        return CodeKind.CYCLIC
    return CodeKind.OTHER


def lock_from_dict(data: Mapping[str, Any]) -> Lock:
    """Build a ``Lock`` from an entry of ``/v3/lock/list``."""
    has_gateway = _opt_int(data.get("hasGateway")) == 1
    mac = _opt_str(data.get("lockMac"))
    lock_id = str(data.get("lockId"))
    name = _opt_str(data.get("lockAlias")) or _opt_str(data.get("lockName")) or lock_id
    return Lock(
        lock_id=lock_id,
        name=name,
        capabilities=capabilities_from_feature_value(
            data.get("featureValue"), has_gateway=has_gateway
        ),
        model=_opt_str(data.get("modelNum")),
        manufacturer="TTLock",
        firmware=_opt_str(data.get("firmwareRevision")),
        mac=mac,
        battery=_opt_int(data.get("electricQuantity")),
        has_gateway=has_gateway,
        aliases=(mac,) if mac else (),
    )


def _digits(raw: Any) -> str | None:
    """Keypad digits as listed (the cloud sends a string, sometimes an int)."""
    text = opt_text(raw, max_length=20)
    return text if text is not None and text.isascii() and text.isdigit() else None


def passcode_from_dict(lock_id: str, data: Mapping[str, Any]) -> Passcode:
    """Build a ``Passcode`` from an entry of ``/v3/lock/listKeyboardPwd``.

    Raises ``InvalidAnswerError`` for an entry without a usable
    ``keyboardPwdId`` or with a date outside 1970-2200 (a year-40,000
    ``endDate``): such values never reach the code ledger.
    """
    return Passcode(
        code_id=require_id(data.get("keyboardPwdId"), "keyboardPwdId"),
        lock_id=lock_id,
        name=clean_text(data.get("keyboardPwdName")),
        kind=_code_kind(data.get("keyboardPwdType")),
        code=_digits(data.get("keyboardPwd")),
        start=opt_datetime_from_ms(data.get("startDate"), "startDate"),
        end=opt_datetime_from_ms(data.get("endDate"), "endDate"),
    )


def listed_passcodes(lock_id: str, entries: list[dict[str, Any]]) -> list[Passcode]:
    """The listing's passcodes; one odd entry never hides the others.

    An entry without a usable id cannot be addressed (deleted, changed): it is
    left out with a debug line. An entry with a usable id but an odd field is
    kept as kind ``other`` without a window: it is on the lock, so the ledger
    must see it (never re-added over it, never taken for free digits), but its
    validity is not known and the clean-up leaves it alone.
    """
    codes: list[Passcode] = []
    for entry in entries:
        try:
            codes.append(passcode_from_dict(lock_id, entry))
        except InvalidAnswerError as err:
            try:
                code_id = require_id(entry.get("keyboardPwdId"), "keyboardPwdId")
            except InvalidAnswerError:
                _LOGGER.debug("TTLock passcode of lock %s skipped: %s", lock_id, err)
                continue
            _LOGGER.debug("TTLock passcode %s of lock %s: %s", code_id, lock_id, err)
            codes.append(
                Passcode(
                    code_id=code_id,
                    lock_id=lock_id,
                    name=clean_text(entry.get("keyboardPwdName")),
                    kind=CodeKind.OTHER,
                    code=_digits(entry.get("keyboardPwd")),
                )
            )
    return codes


def gateway_from_dict(data: Mapping[str, Any]) -> Gateway:
    """Build a ``Gateway`` from an entry of ``/v3/gateway/list``."""
    return Gateway(
        gateway_id=str(data.get("gatewayId")),
        name=str(data.get("gatewayName") or data.get("gatewayMac") or "Gateway"),
        online=_opt_int(data.get("isOnline")) == 1,
        mac=_opt_str(data.get("gatewayMac")),
        network=_opt_str(data.get("networkName")),
        lock_count=_opt_int(data.get("lockNum")),
        signal=_opt_int(data.get("rssi")),
    )


class TTLockClient:
    """TTLock Open API v3 client implementing ``models.LockProvider``."""

    provider = "ttlock"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        client_id: str,
        client_secret: str,
        username: str,
        password_md5: str,
        region: str = "eu",
        base_url: str | None = None,
        max_concurrency: int = 10,
        request_timeout: float = 20.0,
        busy_retry_delays: Sequence[float] = (2.0, 4.0, 8.0),
    ) -> None:
        """Set up the client; no I/O happens until the first call."""
        if base_url is None:
            if region not in REGIONS:
                raise ValueError(f"Unknown TTLock region: {region}")
            base_url = REGIONS[region]
        self._session = session
        self._client_id = client_id
        self._client_secret = client_secret
        self._username = username
        self._password_md5 = password_md5
        self._base_url = base_url.rstrip("/")
        self.max_concurrency = max_concurrency
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._busy_retry_delays = tuple(busy_retry_delays)
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._uid: int | str | None = None
        self._expires_at = 0.0
        self._refresh_margin = REFRESH_MARGIN
        self._auth_lock = asyncio.Lock()
        self._lock_locks: dict[str, asyncio.Lock] = {}

    # ------------------------------------------------------------------ transport

    async def _request(
        self, method: str, path: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """One HTTP exchange; returns the JSON answer (errcode not checked)."""
        url = f"{self._base_url}{path}"
        fields = {key: str(value) for key, value in params.items()}
        async with self._semaphore:
            try:
                if method == "GET":
                    ctx = self._session.get(url, params=fields, timeout=self._timeout)
                else:
                    ctx = self._session.post(url, data=fields, timeout=self._timeout)
                async with ctx as resp:
                    status = resp.status
                    if status >= 500:
                        _LOGGER.debug("TTLock %s answered HTTP %s", path, status)
                        raise CannotConnectError(
                            f"TTLock cloud answered HTTP {status}", status
                        )
                    try:
                        payload = await resp.json(content_type=None)
                    except ValueError:
                        payload = None
            except TimeoutError:
                _LOGGER.debug("TTLock %s timed out", path)
                raise CannotConnectError(
                    "Timeout talking to the TTLock cloud"
                ) from None
            except aiohttp.ClientError as err:
                _LOGGER.debug("TTLock %s failed: %s", path, type(err).__name__)
                raise CannotConnectError(
                    f"Cannot reach the TTLock cloud ({type(err).__name__})"
                ) from None
        if not isinstance(payload, dict):
            _LOGGER.debug("TTLock %s answered HTTP %s without JSON", path, status)
            if status >= 400:
                raise InvalidRequestError(
                    f"TTLock cloud answered HTTP {status}", status
                )
            raise TransientError("Unexpected answer from the TTLock cloud")
        code = _errcode(payload)
        if code:
            _LOGGER.debug("TTLock %s answered errcode %s", path, code)
        return payload

    # ----------------------------------------------------------------------- auth

    def _store_token(self, payload: Mapping[str, Any]) -> None:
        token = payload.get("access_token")
        if not token:
            raise TransientError("TTLock token answer without access_token")
        self._access_token = str(token)
        if payload.get("refresh_token"):
            self._refresh_token = str(payload["refresh_token"])
        if payload.get("uid") is not None:
            self._uid = payload["uid"]
        try:
            lifetime = float(payload.get("expires_in") or 7_776_000)
        except TypeError, ValueError:
            lifetime = 7_776_000.0
        self._refresh_margin = min(REFRESH_MARGIN, lifetime / 10)
        self._expires_at = time.time() + lifetime

    async def _password_login(self) -> None:
        """Password grant. Caller holds ``_auth_lock``."""
        payload = await self._request(
            "POST",
            OAUTH_PATH,
            {
                "clientId": self._client_id,
                "clientSecret": self._client_secret,
                "username": self._username,
                "password": self._password_md5,
                "grant_type": "password",
            },
        )
        code = _errcode(payload)
        if code in _LOGIN_AUTH_ERRORS:
            raise AuthError(_errmsg(payload), code)
        if code:
            raise error_for_errcode(code, _errmsg(payload))
        self._store_token(payload)

    async def _refresh_or_login(self) -> None:
        """Refresh grant, falling back to a password login. Holds ``_auth_lock``."""
        if self._refresh_token is None:
            await self._password_login()
            return
        payload = await self._request(
            "POST",
            OAUTH_PATH,
            {
                "clientId": self._client_id,
                "clientSecret": self._client_secret,
                "grant_type": "refresh_token",
                "refresh_token": self._refresh_token,
            },
        )
        code = _errcode(payload)
        if code in (10011, 10003, 10004):
            self._refresh_token = None
            await self._password_login()
            return
        if code in _LOGIN_AUTH_ERRORS:
            raise AuthError(_errmsg(payload), code)
        if code:
            raise error_for_errcode(code, _errmsg(payload))
        self._store_token(payload)

    def _token_fresh(self) -> bool:
        return (
            self._access_token is not None
            and time.time() < self._expires_at - self._refresh_margin
        )

    async def _ensure_token(self) -> str:
        """A valid access token, logging in or refreshing (single-flight)."""
        if self._token_fresh():
            assert self._access_token is not None
            return self._access_token
        async with self._auth_lock:
            if not self._token_fresh():
                if self._access_token is None:
                    await self._password_login()
                else:
                    await self._refresh_or_login()
            assert self._access_token is not None
            return self._access_token

    async def _renew_after_rejection(self, stale_token: str) -> str:
        """Refresh once after 10003/10004, unless a concurrent caller already did."""
        async with self._auth_lock:
            if self._access_token == stale_token or self._access_token is None:
                await self._refresh_or_login()
            assert self._access_token is not None
            return self._access_token

    # --------------------------------------------------------------------- calls

    async def _call(
        self, method: str, path: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Signed ``/v3`` call; refreshes and replays once on a rejected token."""
        params = dict(params or {})
        token = await self._ensure_token()
        payload = await self._request(method, path, self._signed(params, token))
        code = _errcode(payload)
        if code in _TOKEN_ERRORS:
            token = await self._renew_after_rejection(token)
            payload = await self._request(method, path, self._signed(params, token))
            code = _errcode(payload)
            if code in _TOKEN_ERRORS:
                # The refresh (or login) just succeeded, so the credentials are
                # good: a fresh token refused again is the cloud's hiccup (seen
                # as bursts of 10004), not a reason for reauth. Try later.
                _LOGGER.debug("TTLock %s refused a fresh token (%s)", path, code)
                raise TransientError(_errmsg(payload), code)
        if code:
            raise error_for_errcode(code, _errmsg(payload))
        return payload

    def _signed(self, params: Mapping[str, Any], token: str) -> dict[str, Any]:
        return {
            **params,
            "clientId": self._client_id,
            "accessToken": token,
            "date": int(time.time() * 1000),
        }

    def _lock_for(self, lock_id: str) -> asyncio.Lock:
        lock = self._lock_locks.get(lock_id)
        if lock is None:
            lock = self._lock_locks[lock_id] = asyncio.Lock()
        return lock

    async def _gateway_call(
        self, method: str, path: str, lock_id: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A gateway-bound call: one in flight per lock, busy answers retried."""
        async with self._lock_for(lock_id):
            delays = iter(self._busy_retry_delays)
            while True:
                try:
                    return await self._call(method, path, {"lockId": lock_id, **params})
                except TransientError as err:
                    if err.code not in _BUSY_ERRORS:
                        raise
                    delay = next(delays, None)
                    if delay is None:
                        raise
                    _LOGGER.debug(
                        "TTLock %s busy (errcode %s), retry in %ss",
                        path,
                        err.code,
                        delay,
                    )
                    await asyncio.sleep(delay)

    async def _paged(
        self, path: str, params: Mapping[str, Any], page_size: int
    ) -> list[dict[str, Any]]:
        """Every ``list`` entry of a paged GET endpoint."""
        items: list[dict[str, Any]] = []
        page_no = 1
        while True:
            payload = await self._call(
                "GET", path, {**params, "pageNo": page_no, "pageSize": page_size}
            )
            entries = payload.get("list") or []
            items.extend(entry for entry in entries if isinstance(entry, dict))
            pages = _opt_int(payload.get("pages")) or 0
            if page_no >= pages or not entries:
                return items
            page_no += 1

    # ------------------------------------------------------------ LockProvider

    async def async_login(self) -> AccountInfo:
        """Log in (unless a valid token is held) and identify the account."""
        await self._ensure_token()
        return AccountInfo(
            unique_id=f"{self._client_id}_{self._uid}", title=self._username
        )

    async def async_list_locks(self) -> list[Lock]:
        """Every lock of the account (one call per 1000 locks)."""
        entries = await self._paged("/v3/lock/list", {}, LOCK_PAGE_SIZE)
        return [lock_from_dict(entry) for entry in entries]

    async def async_list_gateways(self) -> list[Gateway]:
        """Gateways of the account."""
        entries = await self._paged("/v3/gateway/list", {}, GATEWAY_PAGE_SIZE)
        return [gateway_from_dict(entry) for entry in entries]

    async def async_get_lock_details(self, lock: Lock) -> Lock:
        """The lock updated from ``/v3/lock/detail``."""
        data = await self._call("GET", "/v3/lock/detail", {"lockId": lock.lock_id})
        changes: dict[str, Any] = {}
        if "hasGateway" in data:
            changes["has_gateway"] = _opt_int(data.get("hasGateway")) == 1
        has_gateway = changes.get("has_gateway", lock.has_gateway)
        if data.get("featureValue") is not None:
            changes["capabilities"] = capabilities_from_feature_value(
                data.get("featureValue"), has_gateway=has_gateway
            )
        passage = _opt_int(data.get("passageMode"))
        if passage in (1, 2):
            changes["passage_mode"] = passage == 1
        if "autoLockTime" in data:
            auto_lock = _opt_int(data.get("autoLockTime"))
            changes["auto_lock_seconds"] = (
                auto_lock if auto_lock is not None and auto_lock >= 0 else None
            )
        if (battery := _opt_int(data.get("electricQuantity"))) is not None:
            changes["battery"] = battery
        if firmware := _opt_str(data.get("firmwareRevision")):
            changes["firmware"] = firmware
        if model := _opt_str(data.get("modelNum")):
            changes["model"] = model
        if name := _opt_str(data.get("lockAlias")) or _opt_str(data.get("lockName")):
            changes["name"] = name
        if (mac := _opt_str(data.get("lockMac"))) and not lock.mac:
            changes["mac"] = mac
            changes["aliases"] = (*lock.aliases, mac)
        return dataclasses.replace(lock, **changes)

    async def async_unlock(self, lock_id: str) -> None:
        """Unlock through the gateway / Wi-Fi."""
        await self._gateway_call("POST", "/v3/lock/unlock", lock_id, {})

    async def async_lock(self, lock_id: str) -> None:
        """Lock through the gateway / Wi-Fi."""
        await self._gateway_call("POST", "/v3/lock/lock", lock_id, {})

    async def async_set_passage_mode(self, lock_id: str, enabled: bool) -> None:
        """Turn all-day passage mode (auto-unlock, every day) on or off."""
        await self._gateway_call(
            "POST",
            "/v3/lock/configPassageMode",
            lock_id,
            {
                "passageMode": 1 if enabled else 2,
                "type": 2,
                "isAllDay": 1,
                "autoUnlock": 1,
                "weekDays": _ALL_WEEK_DAYS,
                "startDate": 0,
                "endDate": 0,
            },
        )

    async def async_get_passage_mode(self, lock_id: str) -> bool:
        """Whether passage mode is on (``getPassageModeConfig``)."""
        data = await self._call(
            "GET", "/v3/lock/getPassageModeConfig", {"lockId": lock_id}
        )
        return _opt_int(data.get("passageMode")) == 1

    async def async_query_open_state(self, lock_id: str) -> LockState | None:
        """Bolt state through the gateway (costly); ``None`` when unknown."""
        data = await self._gateway_call("GET", "/v3/lock/queryOpenState", lock_id, {})
        state = _opt_int(data.get("state"))
        if state == 0:
            return LockState.LOCKED
        if state == 1:
            return LockState.UNLOCKED
        return None

    async def async_add_code(
        self,
        lock_id: str,
        name: str,
        code: str,
        start: datetime,
        end: datetime,
    ) -> Passcode:
        """Upload a custom period code through the gateway."""
        data = await self._gateway_call(
            "POST",
            "/v3/keyboardPwd/add",
            lock_id,
            {
                "keyboardPwd": code,
                "keyboardPwdName": name,
                "keyboardPwdType": 3,
                "startDate": _datetime_to_ms(start),
                "endDate": _datetime_to_ms(end),
                "addType": 2,
            },
        )
        # errcode 0 means the gateway wrote the code: an answer without its id
        # is an InvalidAnswerError (the ledger then finds the code by listing).
        return Passcode(
            code_id=require_id(data.get("keyboardPwdId"), "keyboardPwdId"),
            lock_id=lock_id,
            name=name,
            kind=CodeKind.PERIOD,
            code=code,
            start=_ms_to_datetime(_datetime_to_ms(start)),
            end=_ms_to_datetime(_datetime_to_ms(end)),
        )

    async def async_generate_code(
        self, lock_id: str, name: str, start: datetime, end: datetime
    ) -> Passcode:
        """Have the cloud generate a period code (no gateway needed)."""
        data = await self._call(
            "POST",
            "/v3/keyboardPwd/get",
            {
                "lockId": lock_id,
                "keyboardPwdType": 3,
                "keyboardPwdName": name,
                "startDate": _datetime_to_ms(start),
                "endDate": _datetime_to_ms(end),
            },
        )
        return Passcode(
            code_id=require_id(data.get("keyboardPwdId"), "keyboardPwdId"),
            lock_id=lock_id,
            name=name,
            kind=CodeKind.PERIOD,
            code=_digits(data.get("keyboardPwd")),
            start=_ms_to_datetime(_datetime_to_ms(start)),
            end=_ms_to_datetime(_datetime_to_ms(end)),
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
        """Change a code's name and validity through the gateway.

        Both dates are always sent: the cloud answers errcode 0 to a change
        without ``startDate`` but leaves the validity as it was
        (euopen.ttlock.com document-pages/cloud/passcode/update).
        """
        await self._gateway_call(
            "POST",
            "/v3/keyboardPwd/change",
            lock_id,
            {
                "keyboardPwdId": code_id,
                "keyboardPwdName": name,
                "startDate": _datetime_to_ms(start),
                "endDate": _datetime_to_ms(end),
                "changeType": 2,
            },
        )

    async def async_delete_code(self, lock_id: str, code_id: str) -> None:
        """Delete a code through the gateway."""
        await self._gateway_call(
            "POST",
            "/v3/keyboardPwd/delete",
            lock_id,
            {"keyboardPwdId": code_id, "deleteType": 2},
        )

    async def async_list_codes(self, lock_id: str) -> list[Passcode]:
        """Every passcode of a lock."""
        entries = await self._paged(
            "/v3/lock/listKeyboardPwd",
            {"lockId": lock_id, "orderBy": 1},
            CODE_PAGE_SIZE,
        )
        return listed_passcodes(lock_id, entries)

    async def async_get_events(
        self, lock_id: str, start: datetime, end: datetime
    ) -> list[LockEvent]:
        """Lock records in [start, end], oldest first."""
        entries = await self._paged(
            "/v3/lockRecord/list",
            {
                "lockId": lock_id,
                "startDate": _datetime_to_ms(start),
                "endDate": _datetime_to_ms(end),
            },
            RECORD_PAGE_SIZE,
        )
        entries.sort(
            key=lambda rec: (
                _opt_int(rec.get("lockDate")) or 0,
                _opt_int(rec.get("serverDate")) or 0,
                _opt_int(rec.get("recordId")) or 0,
            )
        )
        events: list[LockEvent] = []
        for entry in entries:
            record = entry if "lockId" in entry else {**entry, "lockId": lock_id}
            event = record_to_event(record, source="poll")
            if event is not None:
                events.append(event)
        return events
