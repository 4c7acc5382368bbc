"""Async client for the Tuya Cloud OpenAPI (smart locks).

No Home Assistant imports: only aiohttp, ``cryptography`` and the standard library.

Which app account
-----------------
A Tuya IoT cloud project (Access ID + Access Secret) sees the devices of the Smart
Life / Tuya app account(s) linked to it. By default (``user_uid=None``) the client
lists the devices of *all* linked app accounts with
``GET /v1.0/iot-01/associated-users/devices`` (paged by ``last_row_key`` /
``has_more``): the user only has to link the app account, nothing to look up. If
that endpoint is refused (1106 / 1108), it falls back to
``GET /v1.0/users/{uid}/devices`` with the uid of the token. When ``user_uid`` is
given, only ``GET /v1.0/users/{user_uid}/devices`` is used (one app account out of
several). Only lock categories (:data:`LOCK_CATEGORIES`) are kept. The config entry
is identified by ``f"{access_id}_{user_uid or token uid}"``.

Decisions
---------
* ``lock_motor_state``: public clients disagree; most treat ``True`` as "motor
  open", i.e. **unlocked**, and ``False`` as locked. That is what
  :data:`LOCK_MOTOR_STATE_LOCKED_VALUE` encodes (flip it if a model disagrees).
  Without it, ``closed_opened == "open"`` (door open) means unlocked; a closed door
  says nothing about the bolt, so the state stays unknown.
* PIN length: 7 digits on Wi-Fi locks, 6 on Zigbee / Bluetooth locks. A lock counts
  as Zigbee/Bluetooth when the device has a ``protocol`` hint naming zigbee/ble/
  bluetooth, or is a sub-device (``sub: true``, behind a gateway), or its
  ``product_name`` mentions Zigbee / BLE / Bluetooth; otherwise Wi-Fi (7).
* Remote unlock disabled in the app: ``GET .../door-lock/remote-unlocks`` reports
  ``remoteUnlockWithoutPwd`` with ``open: false``, and the unlock calls answer code
  2003 ("function not support"). Both become :class:`NotSupportedError` with a
  message telling the user to enable remote unlock in the app.
* ``remote_lock`` is assumed for categories that support ``door-operate``
  (:data:`REMOTE_LOCK_CATEGORIES`).
* Busy (code 1110, concurrent request limit) is retried after
  ``busy_retry_delays``; other errors are not retried, except the single replay
  after a token renewal on 1010/1011/1012.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
import json
import logging
import time
from typing import Any, Final
import uuid

import aiohttp

from .bounds import (
    InvalidAnswerError,
    clean_text,
    loads_answer,
    opt_int,
    require_id,
    require_path_id,
)
from .metering import NULL_METER, CallMeter, endpoint_label
from .models import (
    AccountInfo,
    AuthError,
    CannotConnectError,
    CodeKind,
    CodePacket,
    CodePhase,
    DynamicCode,
    Gateway,
    InvalidRequestError,
    Lock,
    LockEvent,
    LockProvider,
    NotSupportedError,
    OfflineKind,
    OfflineRevocation,
    Passcode,
    ProviderError,
    RateLimitError,
    SubscriptionError,
    TransientError,
)
from .offline_codes import OfflineCodeRequest, OfflineWindow, check_name
from .tuya_crypto import (
    PIN_CASE_UPPER,
    decrypt_ticket_key,
    encrypt_pin,
    sign_request,
    sorted_query_url,
)
from .tuya_mapping import (
    LOCK_CATEGORIES,
    REMOTE_LOCK_CATEGORIES,
    SUB_DEVICE_CODE_LENGTH,
    WIFI_CODE_LENGTH,
    as_int,
    code_phase,
    device_id_of,
    epoch_ms,
    epoch_seconds,
    is_sub_device_lock,
    lock_from_device,
    log_event,
    remote_unlock_without_password,
    status_items,
    status_map,
    temp_password,
    to_ms,
)
from .tuya_offline import (
    DYNAMIC_PATH,
    NAME_MAX_LENGTH,
    OFFLINE_PATH,
    dynamic_from_result,
    passcode_from_result,
    tuya_plan,
)

__all__ = [
    "DATA_CENTERS",
    "LOCK_CATEGORIES",
    "PIN_CASE_UPPER",
    "TuyaClient",
    "sign_request",
]

_LOGGER = logging.getLogger(__name__)

DATA_CENTERS: Final[dict[str, str]] = {
    "cn": "https://openapi.tuyacn.com",
    "us": "https://openapi.tuyaus.com",
    "us_east": "https://openapi-ueaz.tuyaus.com",
    "eu": "https://openapi.tuyaeu.com",
    "eu_west": "https://openapi-weaz.tuyaeu.com",
    "in": "https://openapi.tuyain.com",
    "sg": "https://openapi-sg.iotbing.com",
}

TOKEN_REFRESH_MARGIN: Final = 120.0

TOKEN_CODES: Final = frozenset({1010, 1011, 1012})
AUTH_CODES: Final = frozenset({1001, 1002, 1003, 1004, 1005, 2406})
# "permission deny": the API or this device is not granted to the project. Per
# device/API (Tuya error-code page: "the API or device data is not
# authorised"), so not a reason to sign in again, except where the account
# itself is listed.
PERMISSION_DENIED_CODE: Final = 1106
# "request time is invalid": our clock is off; the answer's ``t`` gives theirs.
CLOCK_CODE: Final = 1013
SUBSCRIPTION_PLAN_CODES: Final = frozenset({28841002})
# "No permissions. Your quota of Trial Edition is used up." (answers quoted in
# rospogrigio/localtuya#2079, jasonacox/tinytuya, EnzoD86/tuya-smart-ir-ac#98):
# the project's resource pack (about 26,000 calls on the trial, tinytuya#230
# quoting Tuya's membership-service page) is spent. It refreshes monthly on the
# subscription's day (tinytuya#219: "Quota Refresh: Monthly"), which no answer
# names, so there is no reset date.
QUOTA_CODES: Final = frozenset({28841004})
QUOTA_RETRY_AFTER: Final = 3600.0
SUBSCRIPTION_API_CODES: Final = frozenset(range(28841101, 28841107))
# 1199 "your requests are too frequent" (error-code page), 1111 busy system.
RATE_LIMIT_CODES: Final = frozenset({40000305, 1111, 1199})
BUSY_CODES: Final = frozenset({1110})
TRANSIENT_CODES: Final = frozenset({500, 501, 2001})
NOT_SUPPORTED_CODES: Final = frozenset({2003, 2004, 2008, 2009})
REMOTE_UNLOCK_DISABLED_CODE: Final = 2003
# open-door unsupported on this lock: fall back to door-operate.
OPEN_DOOR_UNSUPPORTED_CODES: Final = frozenset({1108, 2004, 2008, 2009})

_REMOTE_UNLOCK_DISABLED_MSG: Final = (
    "Remote unlock is disabled or not supported for this lock: enable "
    "'Remote unlock' in the lock's settings in the Smart Life / Tuya app"
)

# Wi-Fi access-control devices (one controller, several doors): channel 1 is
# the first door, the one a single-door keypad drives.
ACCESS_CONTROL_CATEGORIES: Final = frozenset({"mk"})
ACCESS_CONTROL_CHANNEL: Final = 1

# "uri path invalid": this API version does not exist for the device/region.
PATH_INVALID_CODE: Final = 1108
# Alert DP codes asked of alarm-logs v1.1 (seed 002: ``codes``), the ones
# tuya_mapping turns into events.
ALARM_LOG_CODES: Final = "alarm_lock,hijack,doorbell"

_LOG_PAGE_SIZE: Final = 50
_LOG_MAX_PAGES: Final = 20
_DEVICE_PAGE_SIZE: Final = 100
_DEVICE_MAX_PAGES: Final = 50


@dataclass(slots=True)
class _Token:
    access_token: str
    refresh_token: str
    expire_at: float
    uid: str
    refresh_at: float


class _ApiError(Exception):
    """A ``success: false`` answer (internal; mapped before leaving the client)."""

    def __init__(self, code: int, msg: str, server_t: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.msg = msg
        # The answer's ``t`` (the cloud's clock, ms), when it had one.
        self.server_t = server_t


def _loads(raw: bytes) -> Any:
    """Strict JSON (``bounds.loads_answer``): no NaN/Infinity, no 1e400."""
    return loads_answer(raw)


_MAX_TOKEN_LIFE: Final = 30 * 86_400
_MAX_TOKEN: Final = 4096


def _token_text(raw: Any) -> str | None:
    """A token as the cloud sends it: printable ASCII, no spaces; else None."""
    if not isinstance(raw, str) or not 0 < len(raw) <= _MAX_TOKEN:
        return None
    return raw if raw.isascii() and raw.isprintable() and " " not in raw else None


# The remote-unlock setting changes rarely; asking every activity poll would cost
# 4 calls per lock a day of the API budget.
REMOTE_UNLOCK_RECHECK: Final = 24 * 3600.0


class TuyaClient(LockProvider):
    """Tuya Cloud OpenAPI client implementing ``models.LockProvider``."""

    provider = "tuya"
    # Failed uploads are reported at once; the integration retries them.
    retries_code_uploads = False

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        access_id: str,
        access_secret: str,
        data_center: str = "eu",
        base_url: str | None = None,
        user_uid: str | None = None,
        max_concurrency: int = 10,
        request_timeout: float = 20.0,
        busy_retry_delays: Sequence[float] = (2.0, 4.0, 8.0),
        meter: CallMeter = NULL_METER,
    ) -> None:
        """Set up the client; ``meter`` counts every request sent (the budget)."""
        if base_url is None:
            if data_center not in DATA_CENTERS:
                raise ValueError(f"unknown Tuya data centre {data_center!r}")
            base_url = DATA_CENTERS[data_center]
        self._session = session
        self._access_id = access_id
        self._secret = access_secret
        self._data_center = data_center
        self._base_url = base_url.rstrip("/")
        self._user_uid = user_uid or None
        self.max_concurrency = max(1, max_concurrency)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._busy_retry_delays = tuple(busy_retry_delays)
        self._semaphore = asyncio.Semaphore(self.max_concurrency)
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()
        self._device_locks: dict[str, asyncio.Lock] = {}
        self._devices: dict[str, dict[str, Any]] = {}
        self._remote_unlock: dict[str, bool] = {}
        self._remote_unlock_checked: dict[str, float] = {}
        # Learned from a 1013 answer's ``t``: the cloud's clock minus ours, ms.
        self._clock_offset_ms = 0
        self._meter = meter

    # ------------------------------------------------------------------ helpers

    @property
    def base_url(self) -> str:
        """The API base URL in use."""
        return self._base_url

    def _device_lock(self, device_id: str) -> asyncio.Lock:
        return self._device_locks.setdefault(device_id, asyncio.Lock())

    def _scrub(self, text: str) -> str:
        """Remove anything secret from a cloud message."""
        secrets = [self._secret]
        if self._token is not None:
            secrets += [self._token.access_token, self._token.refresh_token]
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return text[:300]

    def _map_error(self, err: _ApiError) -> ProviderError:
        code, msg = err.code, self._scrub(err.msg or "")
        if code in TOKEN_CODES:
            return AuthError(f"Tuya token rejected: {msg}", code)
        if code in AUTH_CODES:
            what = {
                1004: "signature invalid: check the Access ID and Access Secret",
                2406: "the Smart Life / Tuya app account is not linked to the project",
            }.get(code, "credentials rejected")
            return AuthError(f"Tuya {what} ({msg})", code)
        if code == PERMISSION_DENIED_CODE:
            return NotSupportedError(
                "Tuya denied this call for this device: is the device shared with "
                "the linked app account, and is the API group subscribed for the "
                f"project? ({msg})",
                code,
            )
        if code == CLOCK_CODE:
            return TransientError(
                "The Tuya cloud refused the request time: this machine's clock "
                f"is off ({msg})",
                code,
            )
        if code in SUBSCRIPTION_PLAN_CODES:
            return SubscriptionError(
                "The Tuya cloud project's plan or trial has lapsed: extend it on "
                f"iot.tuya.com (Cloud > Development > your project) ({msg})",
                code,
            )
        if code in SUBSCRIPTION_API_CODES:
            return SubscriptionError(
                "A Tuya API group is not subscribed or its trial lapsed: subscribe "
                "'Smart Lock Open Service' and 'IoT Core' for the project on "
                f"iot.tuya.com ({msg})",
                code,
            )
        if code in QUOTA_CODES:
            quota = RateLimitError(
                f"Tuya call quota used up: {msg}",
                code,
                retry_after=QUOTA_RETRY_AFTER,
                quota=True,
            )
            self._meter.limit_reached(quota)
            return quota
        if code in RATE_LIMIT_CODES:
            return RateLimitError(f"Tuya rate limit: {msg}", code, retry_after=60.0)
        if code in BUSY_CODES:
            return TransientError(f"Tuya cloud busy: {msg}", code)
        if code in TRANSIENT_CODES:
            what = "device offline" if code == 2001 else "cloud error"
            return TransientError(f"Tuya {what}: {msg}", code)
        if code in NOT_SUPPORTED_CODES:
            return NotSupportedError(f"Not supported by this lock: {msg}", code)
        return InvalidRequestError(f"Tuya refused the request: {msg}", code)

    def _account_error(self, err: _ApiError) -> ProviderError:
        """An error listing the account's devices: 1106 there means the app
        account is not linked (tuya-home-assistant docs/error_code.md), so a
        new sign-in is the fix."""
        if err.code == PERMISSION_DENIED_CODE:
            return AuthError(
                "Tuya permission denied: is the app account linked to the "
                f"project? ({self._scrub(err.msg or '')})",
                err.code,
            )
        return self._map_error(err)

    async def _http(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None,
        body: bytes,
        access_token: str,
        log_path: str,
    ) -> Any:
        """One signed HTTP exchange; returns ``result`` or raises ``_ApiError``.

        The signature covers the query values as they are (not URL-encoded);
        the request carries them percent-encoded, so the cloud decodes exactly
        what was signed (tuya-connector-python: signs ``k=v`` raw, sends
        ``params=`` through requests). ``t`` is taken once the concurrency slot
        is held: a time taken before waiting could be stale (1013).
        """
        url = sorted_query_url(path, query)
        async with self._semaphore:
            t = str(int(time.time() * 1000) + self._clock_offset_ms)
            nonce = uuid.uuid4().hex
            headers = {
                "client_id": self._access_id,
                "sign": sign_request(
                    access_id=self._access_id,
                    secret=self._secret,
                    t=t,
                    nonce=nonce,
                    method=method,
                    path_with_sorted_query=url,
                    body=body,
                    access_token=access_token,
                ),
                "sign_method": "HMAC-SHA256",
                "t": t,
                "nonce": nonce,
                "lang": "en",
            }
            if access_token:
                headers["access_token"] = access_token
            if body:
                headers["Content-Type"] = "application/json"
            # Counted when sent (a timeout may still have reached the cloud);
            # ``log_path`` hides the refresh token, the label the device ids.
            self._meter.count(endpoint_label(method, log_path))
            try:
                async with self._session.request(
                    method,
                    self._base_url + path,
                    params=query or None,
                    headers=headers,
                    data=body if body else None,
                    timeout=self._timeout,
                    # The official SDK (requests, json=None) sends no
                    # Content-Type without a body; aiohttp would add
                    # application/octet-stream.
                    skip_auto_headers=() if body else ("Content-Type",),
                ) as resp:
                    status = resp.status
                    raw = await resp.read()
            except TimeoutError:
                _LOGGER.debug("Tuya %s %s: timeout", method, log_path)
                raise CannotConnectError(
                    "Timed out talking to the Tuya cloud"
                ) from None
            except aiohttp.ClientError as exc:
                _LOGGER.debug("Tuya %s %s: %s", method, log_path, type(exc).__name__)
                raise CannotConnectError(
                    f"Cannot reach the Tuya cloud ({type(exc).__name__})"
                ) from None
        if status == 429:
            _LOGGER.debug("Tuya %s %s: HTTP 429", method, log_path)
            raise RateLimitError("Tuya rate limit (HTTP 429)", 429, retry_after=60.0)
        if status >= 500:
            _LOGGER.debug("Tuya %s %s: HTTP %s", method, log_path, status)
            raise CannotConnectError(f"Tuya cloud error (HTTP {status})", status)
        if status in (403, 408):
            # Not in Tuya's docs (errors are codes in HTTP 200): a firewall or
            # proxy in between; tried again later, no reauth.
            _LOGGER.debug("Tuya %s %s: HTTP %s", method, log_path, status)
            raise TransientError(f"Tuya cloud answered HTTP {status}", status)
        data = _loads(raw)
        if not isinstance(data, dict):
            _LOGGER.debug("Tuya %s %s: HTTP %s, not JSON", method, log_path, status)
            if status == 404:
                raise _ApiError(1108, "uri path invalid")
            raise TransientError(
                f"Unexpected answer from the Tuya cloud (HTTP {status})"
            )
        if not data.get("success"):
            code = as_int(data.get("code"))
            _LOGGER.debug("Tuya %s %s: code %s", method, log_path, code)
            raise _ApiError(
                code if code is not None else -1,
                clean_text(data.get("msg"), max_length=1024),
                as_int(data.get("t")),
            )
        _LOGGER.debug("Tuya %s %s: ok", method, log_path)
        return data.get("result")

    def _learn_clock(self, server_t: int | None) -> bool:
        """Take the cloud's clock from an answer's ``t``; True if it moved."""
        if server_t is None or not 10**12 <= server_t < 10**13:
            return False
        offset = server_t - int(time.time() * 1000)
        if abs(offset - self._clock_offset_ms) < 1000:
            return False
        _LOGGER.debug("Tuya clock offset learned: %s ms", offset)
        self._clock_offset_ms = offset
        return True

    # -------------------------------------------------------------------- token

    def _store_token(self, result: Any) -> _Token:
        access = _token_text(
            result.get("access_token") if isinstance(result, Mapping) else None
        )
        if access is None:
            raise AuthError("The Tuya cloud returned no token")
        # expire_time is seconds (7200); 0, negative or absurd values would
        # make every call renew the token, or none ever.
        lifetime = (
            opt_int(result.get("expire_time"), minimum=60, maximum=_MAX_TOKEN_LIFE)
            or 7200
        )
        try:
            # The uid names the config entry and goes into a URL path.
            uid = require_path_id(result.get("uid"), "uid")
        except InvalidAnswerError:
            uid = ""
        self._token = _Token(
            access_token=access,
            refresh_token=_token_text(result.get("refresh_token")) or "",
            expire_at=time.time() + lifetime,
            uid=uid,
            refresh_at=time.time() + lifetime - min(TOKEN_REFRESH_MARGIN, lifetime / 2),
        )
        return self._token

    async def _token_call(
        self, path: str, query: dict[str, str] | None, log: str
    ) -> Any:
        try:
            return await self._http("GET", path, query, b"", "", log)
        except _ApiError as err:
            mapped = self._map_error(err)
            if isinstance(
                mapped,
                (
                    RateLimitError,
                    TransientError,
                    SubscriptionError,
                ),
            ):
                raise mapped from None
            raise AuthError(
                f"Tuya refused the credentials: {mapped.message}", err.code
            ) from None

    async def _grant(self) -> _Token:
        result = await self._token_call(
            "/v1.0/token", {"grant_type": "1"}, "/v1.0/token?grant_type=1"
        )
        return self._store_token(result)

    async def _refresh(self, token: _Token) -> _Token:
        """Refresh (single use), falling back to a fresh grant."""
        if token.refresh_token:
            try:
                result = await self._token_call(
                    f"/v1.0/token/{token.refresh_token}", None, "/v1.0/token/{refresh}"
                )
                return self._store_token(result)
            except AuthError:
                _LOGGER.debug("Tuya token refresh refused, getting a new token")
        return await self._grant()

    async def _get_token(self) -> _Token:
        token = self._token
        if token is not None and time.time() < token.refresh_at:
            return token
        async with self._token_lock:
            token = self._token
            if token is None:
                return await self._grant()
            if time.time() < token.refresh_at:
                return token  # another caller refreshed it meanwhile
            return await self._refresh(token)

    async def _renew_token(self, used: _Token) -> None:
        """The cloud rejected ``used``: renew it once, shared by all callers."""
        async with self._token_lock:
            if self._token is not used:
                return  # someone else already renewed it
            await self._refresh(used)

    # ------------------------------------------------------------------ request

    async def _request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> Any:
        """A business call: token, signing, one replay on token errors, busy retry."""
        body = (
            json.dumps(json_body, separators=(",", ":")).encode()
            if json_body is not None
            else b""
        )
        str_query = (
            {key: str(value) for key, value in query.items() if value is not None}
            if query
            else None
        )
        replayed = clock_retried = False
        busy_attempt = 0
        while True:
            token = await self._get_token()
            try:
                return await self._http(
                    method, path, str_query, body, token.access_token, path
                )
            except _ApiError as err:
                if err.code in TOKEN_CODES and not replayed:
                    replayed = True
                    await self._renew_token(token)
                    continue
                if (
                    err.code == CLOCK_CODE
                    and not clock_retried
                    and self._learn_clock(err.server_t)
                ):
                    clock_retried = True
                    continue
                if err.code in BUSY_CODES and busy_attempt < len(
                    self._busy_retry_delays
                ):
                    await asyncio.sleep(self._busy_retry_delays[busy_attempt])
                    busy_attempt += 1
                    continue
                raise

    async def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> Any:
        """:meth:`_request` with cloud errors mapped to the model's classes."""
        try:
            return await self._request(method, path, query=query, json_body=json_body)
        except _ApiError as err:
            raise self._map_error(err) from None

    # ------------------------------------------------------------------ devices

    async def _list_devices(self) -> list[dict[str, Any]]:
        if self._user_uid is not None:
            return await self._user_devices(self._user_uid)
        devices: list[dict[str, Any]] = []
        last_row_key = ""
        try:
            for _ in range(_DEVICE_MAX_PAGES):
                query: dict[str, Any] = {"size": _DEVICE_PAGE_SIZE}
                if last_row_key:
                    query["last_row_key"] = last_row_key
                result = await self._request(
                    "GET", "/v1.0/iot-01/associated-users/devices", query=query
                )
                if not isinstance(result, Mapping):
                    break
                page = result.get("devices")
                page = page if isinstance(page, list) else []
                devices.extend(d for d in page if isinstance(d, dict))
                # Sent back as given; anything but short text ends the paging.
                last_row_key = clean_text(result.get("last_row_key"), max_length=512)
                if not result.get("has_more") or not last_row_key or not page:
                    break
        except _ApiError as err:
            if err.code not in (1106, 1108) or self._token is None:
                raise self._account_error(err) from None
            uid = self._token.uid
            if not uid:
                raise self._account_error(err) from None
            _LOGGER.debug("Tuya associated-users refused, listing the token's user")
            return await self._user_devices(uid)
        return devices

    async def _user_devices(self, uid: str) -> list[dict[str, Any]]:
        try:
            result = await self._request("GET", f"/v1.0/users/{uid}/devices")
        except _ApiError as err:
            raise self._account_error(err) from None
        if isinstance(result, Mapping):  # some regions wrap the list
            result = result.get("devices") or result.get("list") or []
        if not isinstance(result, list):
            return []
        return [d for d in result if isinstance(d, dict)]

    async def _device(self, device_id: str) -> dict[str, Any]:
        """Cached device (listing once if unknown)."""
        if device_id not in self._devices:
            await self.async_list_locks()
        device = self._devices.get(device_id)
        if device is None:
            raise InvalidRequestError(f"Unknown Tuya lock {device_id}")
        return device

    # ---------------------------------------------------------------- protocol

    async def async_login(self) -> AccountInfo:
        """Get a token, list devices once to prove access, identify the account."""
        token = await self._get_token()
        uid = self._user_uid or token.uid
        if not uid:
            # The uid names the config entry: an empty one would make a second
            # project look already configured.
            raise InvalidAnswerError("The Tuya cloud did not name the user (uid)")
        await self.async_list_locks()
        where = (
            self._data_center
            if self._base_url == DATA_CENTERS.get(self._data_center)
            else "custom"
        )
        # No lock count in the title: it goes stale as locks join or leave.
        return AccountInfo(
            unique_id=f"{self._access_id}_{uid}", title=f"Tuya Cloud ({where})"
        )

    async def async_list_locks(self) -> list[Lock]:
        """Every lock of the linked app account(s); capabilities from the cache."""
        devices: dict[str, dict[str, Any]] = {}
        locks: list[Lock] = []
        for device in await self._list_devices():
            category = device.get("category")
            if not isinstance(category, str) or category not in LOCK_CATEGORIES:
                continue
            try:
                device_id = device_id_of(device)
                lock = lock_from_device(
                    device, remote_unlock=self._remote_unlock.get(device_id, False)
                )
            except InvalidAnswerError as err:
                _LOGGER.debug("Tuya device list entry skipped: %s", err)
                continue
            if device_id not in devices:
                devices[device_id] = device
                locks.append(lock)
        self._devices = devices
        return locks

    async def async_list_gateways(self) -> list[Gateway]:
        """Tuya gateways are not exposed as such."""
        return []

    async def async_list_gateway_locks(self, gateway_id: str) -> dict[str, int | None]:
        """Tuya gateways are not listed as gateways here: no links to report."""
        return {}

    async def _remote_unlock_enabled(self, device_id: str) -> bool:
        try:
            result = await self._call(
                "GET", f"/v1.0/devices/{device_id}/door-lock/remote-unlocks"
            )
        except (NotSupportedError, InvalidRequestError):
            enabled = False
        else:
            enabled = remote_unlock_without_password(result)
        self._remote_unlock[device_id] = enabled
        self._remote_unlock_checked[device_id] = time.time()
        return enabled

    async def async_get_lock_details(self, lock: Lock) -> Lock:
        """Whether remote unlock is enabled: asked at most once a day per lock."""
        checked = self._remote_unlock_checked.get(lock.lock_id)
        if checked is not None and time.time() - checked < REMOTE_UNLOCK_RECHECK:
            enabled = self._remote_unlock.get(lock.lock_id, False)
        else:
            enabled = await self._remote_unlock_enabled(lock.lock_id)
        return replace(
            lock, capabilities=replace(lock.capabilities, remote_unlock=enabled)
        )

    async def _ticket(self, device_id: str) -> tuple[str, str]:
        result = await self._call(
            "POST", f"/v1.0/devices/{device_id}/door-lock/password-ticket"
        )
        if not isinstance(result, Mapping) or not result.get("ticket_id"):
            raise TransientError("The Tuya cloud returned no ticket")
        return str(result["ticket_id"]), str(result.get("ticket_key") or "")

    async def _door_operate(self, device_id: str, *, open_door: bool) -> None:
        ticket_id, _ = await self._ticket(device_id)
        try:
            await self._request(
                "POST",
                f"/v1.0/smart-lock/devices/{device_id}/password-free/door-operate",
                json_body={"ticket_id": ticket_id, "open": open_door},
            )
        except _ApiError as err:
            if err.code == REMOTE_UNLOCK_DISABLED_CODE:
                raise NotSupportedError(_REMOTE_UNLOCK_DISABLED_MSG, err.code) from None
            raise self._map_error(err) from None

    def _open_door_request(
        self, lock_id: str, ticket_id: str
    ) -> tuple[str, dict[str, Any]]:
        """Path and body of the password-free open-door call for this device.

        Wi-Fi access control (category ``mk``) needs ``channel_id`` (seed 001,
        doorLock.passwordFreeOpen); hass-tuya-lock-bridge unlocks ``mk`` on
        hardware with the v1.1 path and ``channel_id: 1`` (its first door).
        """
        device = self._devices.get(lock_id)
        if device is not None and device.get("category") in ACCESS_CONTROL_CATEGORIES:
            return (
                f"/v1.1/devices/{lock_id}/door-lock/password-free/open-door",
                {"ticket_id": ticket_id, "channel_id": ACCESS_CONTROL_CHANNEL},
            )
        return (
            f"/v1.0/devices/{lock_id}/door-lock/password-free/open-door",
            {"ticket_id": ticket_id},
        )

    async def async_unlock(self, lock_id: str) -> None:
        """Ticket + password-free open-door (door-operate if open-door unsupported)."""
        async with self._device_lock(lock_id):
            # A user action may follow enabling remote unlock in the app: a
            # cached "disabled" is checked again rather than trusted.
            if not self._remote_unlock.get(
                lock_id
            ) and not await self._remote_unlock_enabled(lock_id):
                raise NotSupportedError(_REMOTE_UNLOCK_DISABLED_MSG)
            ticket_id, _ = await self._ticket(lock_id)
            path, body = self._open_door_request(lock_id, ticket_id)
            try:
                await self._request("POST", path, json_body=body)
            except _ApiError as err:
                if err.code == REMOTE_UNLOCK_DISABLED_CODE:
                    self._remote_unlock[lock_id] = False
                    raise NotSupportedError(
                        _REMOTE_UNLOCK_DISABLED_MSG, err.code
                    ) from None
                if err.code not in OPEN_DOOR_UNSUPPORTED_CODES:
                    raise self._map_error(err) from None
                _LOGGER.debug("Tuya open-door unsupported (%s), door-operate", err.code)
                await self._door_operate(lock_id, open_door=True)

    async def async_lock(self, lock_id: str) -> None:
        """Ticket + door-operate ``open: false`` (only some categories)."""
        device = await self._device(lock_id)
        if device.get("category") not in REMOTE_LOCK_CATEGORIES:
            raise NotSupportedError("This Tuya lock cannot be locked remotely")
        async with self._device_lock(lock_id):
            await self._door_operate(lock_id, open_door=False)

    async def async_set_passage_mode(self, lock_id: str, enabled: bool) -> None:
        """Send ``normal_open_switch``; locks without it raise NotSupportedError."""
        device = await self._device(lock_id)
        if "normal_open_switch" not in status_map(device):
            raise NotSupportedError("This Tuya lock has no passage mode")
        async with self._device_lock(lock_id):
            await self._call(
                "POST",
                f"/v1.0/devices/{lock_id}/commands",
                json_body={
                    "commands": [{"code": "normal_open_switch", "value": enabled}]
                },
            )
        for item in device.get("status") or []:
            if isinstance(item, dict) and item.get("code") == "normal_open_switch":
                item["value"] = enabled

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
        """Fresh ticket, encrypted PIN, ``temp-password`` (epoch seconds).

        ``phone`` is unused: Tuya does not send codes.
        """
        device = await self._device(lock_id)
        length = (
            SUB_DEVICE_CODE_LENGTH if is_sub_device_lock(device) else WIFI_CODE_LENGTH
        )
        if not code.isdigit() or not code.isascii() or len(code) != length:
            raise InvalidRequestError(f"The code must be {length} digits on this lock")
        effective, invalid = epoch_seconds(start), epoch_seconds(end)
        if invalid <= effective:
            raise InvalidRequestError("The code's end must be after its start")
        async with self._device_lock(lock_id):
            ticket_id, ticket_key = await self._ticket(lock_id)
            try:
                key = decrypt_ticket_key(ticket_key, self._secret)
            except ValueError:
                raise InvalidRequestError(
                    "Could not decrypt the Tuya ticket key: check the Access Secret"
                ) from None
            result = await self._call(
                "POST",
                f"/v1.0/devices/{lock_id}/door-lock/temp-password",
                json_body={
                    "name": name,
                    "password": encrypt_pin(code, key, upper=PIN_CASE_UPPER),
                    "password_type": "ticket",
                    "ticket_id": ticket_id,
                    "effective_time": effective,
                    "invalid_time": invalid,
                    "type": 0,
                },
            )
        # A success answer means the code was created: without a usable id it
        # is an InvalidAnswerError (the ledger then finds it by listing).
        code_id = result.get("id") if isinstance(result, Mapping) else result
        return Passcode(
            code_id=require_id(code_id, "temp-password id"),
            lock_id=lock_id,
            name=name,
            kind=CodeKind.PERIOD,
            code=code,
            start=datetime.fromtimestamp(effective, UTC),
            end=datetime.fromtimestamp(invalid, UTC),
            phase=CodePhase.PENDING,
        )

    async def async_delete_code(self, lock_id: str, code_id: str) -> None:
        """Delete a temporary password."""
        async with self._device_lock(lock_id):
            await self._call(
                "DELETE", f"/v1.0/devices/{lock_id}/door-lock/temp-passwords/{code_id}"
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
        """Not used: the ledger deletes and re-adds a Tuya code instead.

        Seed 001 documents ``modifyTemporaryPassword`` (not for Bluetooth locks,
        and it needs the PIN again); delete + re-add works on every protocol.
        """
        raise NotSupportedError("Tuya codes are changed by deleting and re-adding")

    async def async_list_codes(self, lock_id: str) -> list[Passcode]:
        """Temporary passwords (PIN digits are never returned by the cloud)."""
        result = await self._call(
            "GET",
            f"/v1.0/devices/{lock_id}/door-lock/temp-passwords",
            query={"valid": "true"},
        )
        if isinstance(result, Mapping):
            result = result.get("list") or result.get("passwords") or []
        codes: list[Passcode] = []
        for item in result if isinstance(result, list) else []:
            if not isinstance(item, Mapping):
                continue
            phase = code_phase(item, self._devices.get(lock_id, {}))
            if phase is None:  # deleted
                continue
            try:
                passcode = temp_password(lock_id, item)
            except InvalidAnswerError as err:
                _LOGGER.debug("Tuya temp password of %s skipped: %s", lock_id, err)
                continue
            codes.append(replace(passcode, phase=phase))
        return codes

    # ------------------------------------------------------------------- events

    async def _paged_logs(
        self, path: str, key: str, query: dict[str, Any], start_ms: int
    ) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for page_no in range(1, _LOG_MAX_PAGES + 1):
            result = await self._call(
                "GET",
                path,
                query={**query, "page_no": page_no, "page_size": _LOG_PAGE_SIZE},
            )
            if not isinstance(result, Mapping):
                break
            entries = result.get(key)
            page = [
                r
                for r in (entries if isinstance(entries, list) else [])
                if isinstance(r, dict)
            ]
            records.extend(page)
            total = as_int(result.get("total"))
            if len(page) < _LOG_PAGE_SIZE or (
                total is not None and len(records) >= total
            ):
                break
            times = [to_ms(r.get("update_time")) for r in page]
            if all(t is not None and t < start_ms for t in times):
                break  # newest first: the rest is older still
        return records

    async def async_get_events(
        self, lock_id: str, start: datetime, end: datetime
    ) -> list[LockEvent]:
        """Open logs and alarm logs in [start, end], oldest first."""
        start_ms, end_ms = epoch_ms(start), epoch_ms(end)
        try:
            open_logs = await self._paged_logs(
                f"/v1.1/devices/{lock_id}/door-lock/open-logs",
                "logs",
                {"start_time": start_ms, "end_time": end_ms},
                start_ms,
            )
        except InvalidRequestError as err:
            if err.code != PATH_INVALID_CODE:
                raise
            # Seed 002: the legacy v1.0 form, times in 10-digit seconds.
            open_logs = await self._paged_logs(
                f"/v1.0/devices/{lock_id}/door-lock/open-logs",
                "logs",
                {"start_time": start_ms // 1000, "end_time": end_ms // 1000},
                start_ms,
            )
        try:
            alarm_logs = await self._paged_logs(
                f"/v1.1/devices/{lock_id}/door-lock/alarm-logs",
                "records",
                {"codes": ALARM_LOG_CODES},
                start_ms,
            )
        except InvalidRequestError as err:
            if err.code != PATH_INVALID_CODE:
                raise
            alarm_logs = await self._paged_logs(
                f"/v1.0/devices/{lock_id}/door-lock/alarm-logs",
                "records",
                {},
                start_ms,
            )
        events: dict[str, LockEvent] = {}
        for records, alarm in ((open_logs, False), (alarm_logs, True)):
            for record in records:
                for code, value in status_items(record):
                    event = log_event(lock_id, record, code, value, alarm=alarm)
                    if event is None:
                        continue
                    t_ms = to_ms(record.get("update_time")) or 0
                    if start_ms <= t_ms <= end_ms:
                        events[event.event_id] = event
        return sorted(events.values(), key=lambda e: (e.time, e.event_id))

    async def async_get_code_packet(self) -> CodePacket | None:
        """No paid code packets on this cloud."""
        return None

    # ------------------------------------------------------------ offline codes

    def offline_window(
        self, request: OfflineCodeRequest, name: str, now: datetime
    ) -> OfflineWindow:
        """Tuya's rounding and rules for an offline password (no call)."""
        check_name(name, max_length=NAME_MAX_LENGTH)
        return tuya_plan(request, name, now).window

    async def async_add_offline_code(
        self, lock_id: str, name: str, request: OfflineCodeRequest
    ) -> Passcode:
        """An offline temporary password (multiple, once or a clearing code).

        Checked against Tuya's rules before any call (``OfflineCodeError``);
        the window in the answer is the cloud's own.
        """
        check_name(name, max_length=NAME_MAX_LENGTH)
        plan = tuya_plan(request, name, datetime.now(UTC))
        result = await self._call(
            "POST", OFFLINE_PATH.format(device_id=lock_id), json_body=plan.body
        )
        return passcode_from_result(lock_id, name, request.kind, plan, result)

    async def async_revoke_offline_code(
        self, lock_id: str, code_id: str, *, through_gateway: bool, name: str = ""
    ) -> OfflineRevocation:
        """A clearing code for one offline password (Tuya cannot delete them).

        The lock keeps accepting the password until the clearing code is
        entered on its keypad or the password's window ends.
        """
        request = OfflineCodeRequest(
            OfflineKind.CLEAR_ONE, start=datetime.now(UTC), target_code_id=code_id
        )
        clear = await self.async_add_offline_code(lock_id, name, request)
        return OfflineRevocation(
            code_id, cloud_deleted=False, lock_deleted=False, clear_code=clear
        )

    async def async_get_dynamic_code(self, lock_id: str) -> DynamicCode:
        """``LockProvider`` shape of the dynamic password (``dynamic_codes``)."""
        digits, expires = await self.async_get_dynamic_password(lock_id)
        return DynamicCode(code=digits, expires=expires)

    async def async_get_dynamic_password(self, lock_id: str) -> tuple[str, datetime]:
        """A dynamic password (digits, when it stops working: about 5 minutes)."""
        result = await self._call("GET", DYNAMIC_PATH.format(device_id=lock_id))
        return dynamic_from_result(result, datetime.now(UTC))
