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
from email.utils import parsedate_to_datetime
import hashlib
import logging
import time
from typing import Any, Final

import aiohttp

from .bounds import (
    MAX_TEXT,
    InvalidAnswerError,
    auto_lock_seconds,
    clean_text,
    loads_answer,
    mac_address,
    opt_datetime_from_ms,
    opt_id,
    opt_int,
    opt_text,
    percent,
    require_id,
)
from .metering import NULL_METER, CallMeter
from .models import (
    AccountInfo,
    AuthError,
    CannotConnectError,
    Capabilities,
    CloudList,
    CodeKind,
    CodePacket,
    CodeStorageFullError,
    DoorSensor,
    DuplicateCodeError,
    Gateway,
    InvalidRequestError,
    Lock,
    LockEvent,
    LockProvider,
    LockState,
    NotSupportedError,
    OfflineRevocation,
    Passcode,
    ProviderError,
    RateLimitError,
    TransientError,
    WrongRegionError,
)
from .offline_codes import (
    OfflineCodeRequest,
    OfflineWindow,
    check_name,
    ttlock_plan,
)
from .ttlock_random import (
    DELETE_CLOUD_ONLY,
    DELETE_PATH,
    DELETE_THROUGH_GATEWAY,
    GET_PATH,
    INVALID_PARAMETER,
    NO_PASSCODE_DATA,
    UNUSED_CODE,
    find_listed_code,
    get_params,
    listed_offline_rules,
    offline_kinds,
    passcode_from_answer,
    window_taken,
)
from .ttlock_records import record_to_event

_LOGGER = logging.getLogger(__name__)

REGIONS: Final[dict[str, str]] = {
    "eu": "https://euapi.ttlock.com",
    "cn": "https://cnapi.ttlock.com",
}

OAUTH_PATH: Final = "/oauth2/token"

# Feature bits of ``featureValue`` (hex string; euopen.ttlock.com
# document-pages/en/cloud/lock/featureValue): 8 = the lock command (remote
# lock), 10 = remote unlock through a gateway; Wi-Fi (56, hass-ttlock) unlocks
# on its own.
FEATURE_LOCK_COMMAND: Final = 8
FEATURE_GATEWAY_UNLOCK: Final = 10
FEATURE_PASSAGE_MODE: Final = 22
FEATURE_WIFI: Final = 56

LOCK_PAGE_SIZE: Final = 1000
KEY_PAGE_SIZE: Final = 1000
# cloud/ekey/list: keyRight 1 = authorised admin; keyStatus 110401 = normal
# (others: pending, frozen, expired, deleted...).
KEY_LIST_INTERVAL: Final = 6 * 3600.0
_KEY_RIGHT_ADMIN: Final = 1
_KEY_STATUS_NORMAL: Final = "110401"
CODE_PAGE_SIZE: Final = 200
RECORD_PAGE_SIZE: Final = 200
GATEWAY_PAGE_SIZE: Final = 200
# cloud/doorSensor/standaloneDoorSensor/list: pageSize at most 200.
DOOR_SENSOR_PAGE_SIZE: Final = 200
# doorSensorState: 0 closed, 1 open, 2 unknown (same page); statusDelayFlag 1:
# "device status has not been updated for a long time".
_DOOR_SENSOR_OPEN: Final[dict[int, bool]] = {0: False, 1: True}

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
# The application's monthly call quota is used up (issue 13; the free tier is
# about 30,000 calls a month): nothing works until the next month.
MONTHLY_LIMIT_ERROR: Final = 30007
# "Cross-site access to user data is prohibited": the account lives in the other
# region's cloud (cloud/errorCodeEn: cn prefix for Mainland China, eu otherwise).
WRONG_REGION_ERROR: Final = 30008
# "date must be current time, in 5 minutes" (cloud/errorCodeEn).
CLOCK_ERROR: Final = 80000
# No page count is believed beyond this: a cloud that keeps saying "more
# pages" must not make a setup page forever.
MAX_PAGES: Final = 100
# Gateway list order (cloud/gateway/list, orderBy required): 0 = by name.
GATEWAY_ORDER_BY_NAME: Final = 0
# Error text kept from an answer (it may echo the request).
_MAX_ERROR_TEXT: Final = 300

_ALL_WEEK_DAYS: Final = "[1,2,3,4,5,6,7]"


_DEFAULT_TOKEN_LIFE: Final = 7_776_000
_MAX_TOKEN_LIFE: Final = 10 * 365 * 86_400
_MAX_TOKEN: Final = 4096


def _token_text(raw: Any) -> str | None:
    """A token as the cloud sends it: printable ASCII, no spaces; else None."""
    if not isinstance(raw, str) or not 0 < len(raw) <= _MAX_TOKEN:
        return None
    return raw if raw.isascii() and raw.isprintable() and " " not in raw else None


def md5_password(password: str) -> str:
    """Return the lowercase hex md5 the TTLock cloud wants instead of a password."""
    return hashlib.md5(password.encode("utf-8"), usedforsecurity=False).hexdigest()


def next_month_start(now: datetime) -> datetime:
    """The first instant (UTC) of the month after ``now``.

    UTC rather than Beijing time: if the quota resets at Beijing midnight this
    waits 8 hours longer than needed, never a call too early.
    """
    now = now.astimezone(UTC)
    if now.month == 12:
        return datetime(now.year + 1, 1, 1, tzinfo=UTC)
    return datetime(now.year, now.month + 1, 1, tzinfo=UTC)


def other_region(region: str) -> str:
    """The region a 30008 answer sends the user to."""
    return "cn" if region != "cn" else "eu"


def error_for_errcode(code: int, message: str, *, region: str = "eu") -> ProviderError:
    """Map a TTLock ``errcode`` to the provider-neutral error class."""
    if code == WRONG_REGION_ERROR:
        return WrongRegionError(message, code, other_region=other_region(region))
    if code in _AUTH_ERRORS:
        return AuthError(message, code)
    if code == _RATE_LIMIT_ERROR:
        return RateLimitError(message, code, retry_after=_RATE_LIMIT_RETRY_AFTER)
    if code == MONTHLY_LIMIT_ERROR:
        now = datetime.now(UTC)
        reset = next_month_start(now)
        return RateLimitError(
            message,
            code,
            retry_after=(reset - now).total_seconds(),
            reset_at=reset,
        )
    if code == CLOCK_ERROR:
        return TransientError(
            "The TTLock cloud refused the request time: this machine's clock "
            f"is more than 5 minutes off ({message})",
            code,
        )
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
    """The answer's errcode (0 when the answer is plain data, -1 when unreadable)."""
    raw = payload.get("errcode")
    if raw is None or raw == "":
        return 0
    code = opt_int(raw)
    return -1 if code is None else code


def _errmsg(payload: Mapping[str, Any]) -> str:
    return clean_text(
        payload.get("errmsg") or payload.get("description") or "TTLock error",
        max_length=1024,
    )


def _loads(raw: bytes) -> Any:
    """Strict JSON (``bounds.loads_answer``): no NaN/Infinity, no 1e400."""
    return loads_answer(raw)


def _retry_after(header: str | None, default: float) -> float:
    value = opt_int(header, minimum=1, maximum=86_400)
    return float(value) if value is not None else default


def _has_bit(feature_value: int, bit: int) -> bool:
    return bool((feature_value >> bit) & 1)


# featureValue is an upper-case hex string (cloud/lock/featureValue); the
# documented bits stop well below 256, so a longer value is not one.
_MAX_FEATURE_HEX: Final = 64


def _parse_feature_value(raw: Any) -> int:
    """The feature bits; 0 (no remote feature) for anything unreadable."""
    if isinstance(raw, bool):
        return 0
    if isinstance(raw, int):
        return raw if 0 <= raw < 1 << (4 * _MAX_FEATURE_HEX) else 0
    if isinstance(raw, str):
        text = raw.strip()
        if 0 < len(text) <= _MAX_FEATURE_HEX and all(
            ch in "0123456789abcdefABCDEF" for ch in text
        ):
            return int(text, 16)
    return 0


def capabilities_from_feature_value(raw: Any, *, has_gateway: bool) -> Capabilities:
    """What a lock can do remotely, from its ``featureValue`` and gateway."""
    value = _parse_feature_value(raw)
    wifi = _has_bit(value, FEATURE_WIFI)
    reachable = has_gateway or wifi
    # Bit 8 alone is not remote unlock: such a lock answers -4043 to every
    # unlock, so no Unlock is offered for it.
    unlock_bits = _has_bit(value, FEATURE_GATEWAY_UNLOCK) or wifi
    return Capabilities(
        remote_unlock=unlock_bits and reachable,
        remote_lock=_has_bit(value, FEATURE_LOCK_COMMAND) and reachable,
        passage_mode=_has_bit(value, FEATURE_PASSAGE_MODE) and reachable,
        codes=reachable,
        code_min_length=CODE_MIN_LENGTH,
        code_max_length=CODE_MAX_LENGTH,
        offline_codes=offline_kinds(value),
        codes_deletable_remotely=reachable,
    )


def _opt_int(raw: Any) -> int | None:
    """An integer through the validation wall (``bounds.opt_int``)."""
    return opt_int(raw)


def _opt_str(raw: Any) -> str | None:
    """Display text through the validation wall (``bounds.opt_text``)."""
    return opt_text(raw)


def _ms_to_datetime(raw: Any) -> datetime | None:
    """Epoch ms within 1970-2200 (``bounds``); ``None`` when absent or odd."""
    try:
        return opt_datetime_from_ms(raw, "date")
    except InvalidAnswerError:
        return None


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
    if pwd_type == 4:
        # The delete code: entered on the keypad it clears the lock's codes
        # (document-pages/cloud/passcode/get, type 4).
        return CodeKind.CLEAR
    if pwd_type is not None and 5 <= pwd_type <= 14:
        return CodeKind.CYCLIC
    return CodeKind.OTHER


# Model and firmware strings are short ("SN9206_PV53", "6.0.6.210622").
_MAX_MODEL: Final = 64


def lock_from_dict(data: Mapping[str, Any]) -> Lock:
    """Build a ``Lock`` from an entry of ``/v3/lock/list`` (or ``/v3/key/list``).

    Raises ``InvalidAnswerError`` without a usable ``lockId``; every other
    field is bounded (battery 0-100, names cleaned and cut, MAC upper case)
    or left unknown.
    """
    lock_id = require_id(data.get("lockId"), "lockId")
    has_gateway = opt_int(data.get("hasGateway")) == 1
    mac = mac_address(data.get("lockMac"))
    name = opt_text(data.get("lockAlias")) or opt_text(data.get("lockName")) or lock_id
    return Lock(
        lock_id=lock_id,
        name=name,
        capabilities=capabilities_from_feature_value(
            data.get("featureValue"), has_gateway=has_gateway
        ),
        model=opt_text(data.get("modelNum"), max_length=_MAX_MODEL),
        manufacturer="TTLock",
        firmware=opt_text(data.get("firmwareRevision"), max_length=_MAX_MODEL),
        mac=mac,
        battery=percent(data.get("electricQuantity")),
        has_gateway=has_gateway,
        aliases=(mac,) if mac else (),
    )


def lock_with_details(lock: Lock, data: Mapping[str, Any]) -> Lock:
    """``lock`` updated from a ``/v3/lock/detail`` answer.

    One odd field (a battery of 150, an auto-lock time of a day) leaves that
    field as it was rather than failing the whole lock: the detail is a
    refresh of values the lock already has.
    """
    changes: dict[str, Any] = {}
    if "hasGateway" in data:
        changes["has_gateway"] = opt_int(data.get("hasGateway")) == 1
    has_gateway = changes.get("has_gateway", lock.has_gateway)
    if data.get("featureValue") is not None:
        changes["capabilities"] = capabilities_from_feature_value(
            data.get("featureValue"), has_gateway=has_gateway
        )
    passage = opt_int(data.get("passageMode"))
    if passage in (1, 2):
        changes["passage_mode"] = passage == 1
    if "autoLockTime" in data:
        # -1 is "off" (shared/reference ttlock-open-api.md): no relock is
        # predicted; so is a value beyond MAX_AUTO_LOCK_S.
        changes["auto_lock_seconds"] = auto_lock_seconds(data.get("autoLockTime"))
    if (battery := percent(data.get("electricQuantity"))) is not None:
        changes["battery"] = battery
    if firmware := opt_text(data.get("firmwareRevision"), max_length=_MAX_MODEL):
        changes["firmware"] = firmware
    if model := opt_text(data.get("modelNum"), max_length=_MAX_MODEL):
        changes["model"] = model
    if name := opt_text(data.get("lockAlias")) or opt_text(data.get("lockName")):
        changes["name"] = name
    if (mac := mac_address(data.get("lockMac"))) and not lock.mac:
        changes["mac"] = mac
        changes["aliases"] = (*lock.aliases, mac)
    return dataclasses.replace(lock, **changes)


def open_state_from_dict(data: Mapping[str, Any]) -> LockState | None:
    """Bolt state of a ``/v3/lock/queryOpenState`` answer (0 locked, 1 unlocked)."""
    state = opt_int(data.get("state"))
    if state == 0:
        return LockState.LOCKED
    if state == 1:
        return LockState.UNLOCKED
    return None


def passage_mode_on(data: Mapping[str, Any]) -> bool:
    """Whether a ``getPassageModeConfig`` answer has passage mode on (1; 2 off)."""
    return opt_int(data.get("passageMode")) == 1


def _listed(entries: list[dict[str, Any]], what: str) -> list[Lock]:
    """Locks of a listing; an entry without a usable id is left out."""
    locks: list[Lock] = []
    for entry in entries:
        try:
            locks.append(lock_from_dict(entry))
        except InvalidAnswerError as err:
            _LOGGER.debug("TTLock %s entry skipped: %s", what, err)
    return locks


def shared_admin_key(data: Mapping[str, Any]) -> bool:
    """Whether an ekey makes this account an authorised admin of its lock."""
    return (
        _opt_int(data.get("keyRight")) == _KEY_RIGHT_ADMIN
        and str(data.get("keyStatus") or _KEY_STATUS_NORMAL) == _KEY_STATUS_NORMAL
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
        # Random passcodes (isCustom 0) are checked by the lock itself: their
        # rules (first-use deadline, cyclic days) come with them.
        offline=listed_offline_rules(data),
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


# A gateway serves a few dozen locks; rssi is a received level in dBm.
_MAX_GATEWAY_LOCKS: Final = 10_000
_MIN_RSSI: Final = -150


def gateway_from_dict(data: Mapping[str, Any]) -> Gateway:
    """Build a ``Gateway`` from an entry of ``/v3/gateway/list``.

    Raises ``InvalidAnswerError`` without a usable ``gatewayId``.
    """
    mac = mac_address(data.get("gatewayMac"))
    return Gateway(
        gateway_id=require_id(data.get("gatewayId"), "gatewayId"),
        name=opt_text(data.get("gatewayName")) or mac or "Gateway",
        online=opt_int(data.get("isOnline")) == 1,
        mac=mac,
        network=opt_text(data.get("networkName")),
        lock_count=opt_int(data.get("lockNum"), minimum=0, maximum=_MAX_GATEWAY_LOCKS),
        signal=opt_int(data.get("rssi"), minimum=_MIN_RSSI, maximum=0),
    )


def door_sensor_from_dict(data: Mapping[str, Any]) -> DoorSensor:
    """Build a ``DoorSensor`` from an entry of ``/v3/standaloneDoorSensor/list``.

    Raises ``InvalidAnswerError`` without a usable ``doorSensorId``. A state
    other than 0/1 (2 "unknown", or anything undocumented) is None.
    """
    mac = mac_address(data.get("mac"))
    state = opt_int(data.get("doorSensorState"))
    return DoorSensor(
        sensor_id=require_id(data.get("doorSensorId"), "doorSensorId"),
        name=opt_text(data.get("name"))
        or opt_text(data.get("doorSensorNumber"))
        or mac
        or "Door sensor",
        mac=mac,
        battery=percent(data.get("electricQuantity")),
        open=_DOOR_SENSOR_OPEN.get(state) if state is not None else None,
        stale=opt_int(data.get("statusDelayFlag")) == 1,
    )


class TTLockClient(LockProvider):
    """TTLock Open API v3 client implementing ``models.LockProvider``."""

    provider = "ttlock"
    # Failed uploads are reported at once; the integration retries them.
    retries_code_uploads = False

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
        meter: CallMeter = NULL_METER,
    ) -> None:
        """Set up the client; no I/O happens until the first call.

        ``meter`` counts every request sent (the API budget).
        """
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
        self._region = region
        # Learned from an 80000 answer's Date header: server minus local, ms.
        self._clock_offset_ms = 0
        self._keys: CloudList[dict[str, Any]] = CloudList()
        self._keys_at: float | None = None
        self._meter = meter

    # ------------------------------------------------------------------ transport

    def _now_ms(self) -> int:
        return int(time.time() * 1000) + self._clock_offset_ms

    def _scrub(self, text: str) -> str:
        """Error text without anything secret (a proxy may echo the request)."""
        for secret in (
            self._client_secret,
            self._password_md5,
            self._access_token,
            self._refresh_token,
        ):
            if secret:
                text = text.replace(secret, "***")
        return text[:_MAX_ERROR_TEXT]

    def _error(self, payload: Mapping[str, Any]) -> ProviderError:
        err = error_for_errcode(
            _errcode(payload), self._scrub(_errmsg(payload)), region=self._region
        )
        if isinstance(err, RateLimitError) and err.quota:
            self._meter.limit_reached(err)
        return err

    def _learn_clock(self, date_header: str | None) -> bool:
        """Take the server's clock from an answer's ``Date``; True if it moved."""
        if not date_header:
            return False
        try:
            server = parsedate_to_datetime(date_header)
        except TypeError, ValueError:
            return False
        if server.tzinfo is None:
            return False
        offset = int(server.timestamp() * 1000 - time.time() * 1000)
        if abs(offset - self._clock_offset_ms) < 1000:
            return False
        _LOGGER.debug("TTLock clock offset learned: %s ms", offset)
        self._clock_offset_ms = offset
        return True

    async def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any],
        *,
        token: str | None = None,
    ) -> dict[str, Any]:
        """One HTTP exchange; returns the JSON answer (errcode not checked).

        With ``token`` the call is signed (``clientId``, ``accessToken``,
        ``date``) once the concurrency slot is held: a ``date`` taken before
        waiting could be minutes old when sent (errcode 80000).
        """
        url = f"{self._base_url}{path}"
        async with self._semaphore:
            fields = {key: str(value) for key, value in params.items()}
            if token is not None:
                fields["clientId"] = self._client_id
                fields["accessToken"] = token
                fields["date"] = str(self._now_ms())
            # Counted when sent: whether it reached the cloud is not always
            # known (a timeout), and the budget must not be underestimated.
            self._meter.count(f"{method} {path}")
            try:
                if method == "GET":
                    ctx = self._session.get(url, params=fields, timeout=self._timeout)
                else:
                    ctx = self._session.post(url, data=fields, timeout=self._timeout)
                async with ctx as resp:
                    status = resp.status
                    date_header = resp.headers.get("Date")
                    retry_after = resp.headers.get("Retry-After")
                    if status >= 500:
                        _LOGGER.debug("TTLock %s answered HTTP %s", path, status)
                        raise CannotConnectError(
                            f"TTLock cloud answered HTTP {status}", status
                        )
                    raw = await resp.read()
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
        if status == 429:
            _LOGGER.debug("TTLock %s answered HTTP 429", path)
            raise RateLimitError(
                "TTLock cloud rate limit (HTTP 429)",
                429,
                retry_after=_retry_after(retry_after, 60.0),
            )
        if status in (403, 408):
            # 408: the request timed out at the front end. 403: the docs know
            # none (credential errors are errcodes in HTTP 200); seen from
            # firewalls and proxies, so retried later rather than taken as a
            # refusal of the request's content.
            _LOGGER.debug("TTLock %s answered HTTP %s", path, status)
            raise TransientError(f"TTLock cloud answered HTTP {status}", status)
        payload = _loads(raw)
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
            if code == CLOCK_ERROR and self._learn_clock(date_header):
                payload = {**payload, "_clock_learned": True}
        return payload

    # ----------------------------------------------------------------------- auth

    def _store_token(self, payload: Mapping[str, Any]) -> None:
        token = _token_text(payload.get("access_token"))
        if token is None:
            raise TransientError("TTLock token answer without access_token")
        self._access_token = token
        if (refresh := _token_text(payload.get("refresh_token"))) is not None:
            self._refresh_token = refresh
        try:
            # The uid names the config entry (unique_id): never a raw value.
            if (uid := opt_id(payload.get("uid"), "uid")) is not None:
                self._uid = uid
        except InvalidAnswerError:
            _LOGGER.debug("TTLock token answer with an unusable uid")
        # expires_in is seconds (7776000 = 90 days); 0, negative or absurd
        # values would make every call refresh, or none ever.
        lifetime = float(
            opt_int(payload.get("expires_in"), minimum=60, maximum=_MAX_TOKEN_LIFE)
            or _DEFAULT_TOKEN_LIFE
        )
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
            raise AuthError(self._scrub(_errmsg(payload)), code)
        if code:
            raise self._error(payload)
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
            raise AuthError(self._scrub(_errmsg(payload)), code)
        if code:
            raise self._error(payload)
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
        renewed = clock_retried = False
        while True:
            payload = await self._request(method, path, params, token=token)
            code = _errcode(payload)
            if code in _TOKEN_ERRORS and not renewed:
                renewed = True
                token = await self._renew_after_rejection(token)
                continue
            if code in _TOKEN_ERRORS:
                # The refresh (or login) just succeeded, so the credentials are
                # good: a fresh token refused again is the cloud's hiccup (seen
                # as bursts of 10004), not a reason for reauth. Try later.
                _LOGGER.debug("TTLock %s refused a fresh token (%s)", path, code)
                raise TransientError(self._scrub(_errmsg(payload)), code)
            if (
                code == CLOCK_ERROR
                and payload.get("_clock_learned")
                and not clock_retried
            ):
                # The answer's Date header gave the cloud's clock: once more.
                clock_retried = True
                continue
            if code:
                raise self._error(payload)
            return payload

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
        self,
        path: str,
        params: Mapping[str, Any],
        page_size: int,
        *,
        key: str,
        method: str = "GET",
    ) -> CloudList[dict[str, Any]]:
        """Every ``list`` entry of a paged endpoint, bounded.

        Stops at the last page the cloud names, at a page that adds no entry
        not seen before (``key`` identifies an entry), or after ``MAX_PAGES``.
        ``complete`` when the first answer's ``total`` matches what was
        received: an answer without ``list``, or a ``total`` we did not receive
        (a page that came back empty), is not proof that an item is gone.
        """
        items: CloudList[dict[str, Any]] = CloudList()
        seen: set[str] = set()
        total: int | None = None
        for page_no in range(1, MAX_PAGES + 1):
            payload = await self._call(
                method, path, {**params, "pageNo": page_no, "pageSize": page_size}
            )
            entries = payload.get("list")
            if not isinstance(entries, list):
                entries = []
            if page_no == 1:
                total = _opt_int(payload.get("total"))
            added = 0
            for entry in entries:
                if not isinstance(entry, dict):
                    continue
                ident = str(entry.get(key))
                if ident in seen:
                    continue
                seen.add(ident)
                items.append(entry)
                added += 1
            pages = _opt_int(payload.get("pages")) or 0
            if page_no >= pages or not added:
                items.complete = bool(items) and total == len(items)
                return items
        _LOGGER.debug("TTLock %s: stopped after %s pages", path, MAX_PAGES)
        return items

    # ------------------------------------------------------------ LockProvider

    async def async_login(self) -> AccountInfo:
        """Log in (unless a valid token is held) and identify the account."""
        await self._ensure_token()
        if self._uid is None:
            # The uid names the config entry: "client_None" would make a
            # second account look already configured.
            raise InvalidAnswerError("The TTLock cloud did not name the account (uid)")
        return AccountInfo(
            unique_id=f"{self._client_id}_{self._uid}", title=self._username
        )

    async def async_list_locks(self) -> list[Lock]:
        """Every lock the account administers (one call each per 1000 locks).

        ``/v3/lock/list`` holds only locks whose top admin is this account
        (cloud/lock/list); locks shared to it as authorised admin come from the
        ekey list (``keyRight`` 1, cloud/ekey/list). A lock in both is listed
        once, from the lock list.
        """
        entries = await self._paged("/v3/lock/list", {}, LOCK_PAGE_SIZE, key="lockId")
        keys = await self._shared_keys()
        listed = _listed(entries, "lock list")
        shared_keys = [key for key in keys if shared_admin_key(key)]
        shared = _listed(shared_keys, "key list")
        # Complete only when both lists are and no entry was unreadable: an
        # absent lock is then really gone (a garbled entry is not a removal).
        locks: CloudList[Lock] = CloudList(
            listed,
            complete=entries.complete
            and keys.complete
            and len(listed) == len(entries)
            and len(shared) == len(shared_keys),
        )
        known = {lock.lock_id for lock in locks}
        for lock in (dataclasses.replace(lock, shared=True) for lock in shared):
            if lock.lock_id not in known:
                known.add(lock.lock_id)
                locks.append(lock)
        return locks

    async def _shared_keys(self) -> CloudList[dict[str, Any]]:
        """The ekey list, asked at most every ``KEY_LIST_INTERVAL``.

        Shares change rarely; asking with every hourly lock list would cost 24
        calls a day of the monthly quota.
        """
        now = time.time()
        if self._keys_at is None or not 0 <= now - self._keys_at < KEY_LIST_INTERVAL:
            self._keys = await self._paged(
                "/v3/key/list", {}, KEY_PAGE_SIZE, key="keyId", method="POST"
            )
            self._keys_at = now
        return self._keys

    async def async_list_gateways(self) -> list[Gateway]:
        """Gateways of the account."""
        entries = await self._paged(
            "/v3/gateway/list",
            {"orderBy": GATEWAY_ORDER_BY_NAME},
            GATEWAY_PAGE_SIZE,
            key="gatewayId",
        )
        gateways: list[Gateway] = []
        for entry in entries:
            try:
                gateways.append(gateway_from_dict(entry))
            except InvalidAnswerError as err:
                _LOGGER.debug("TTLock gateway list entry skipped: %s", err)
        return CloudList(
            gateways, complete=entries.complete and len(gateways) == len(entries)
        )

    async def async_list_door_sensors(self) -> list[DoorSensor]:
        """Standalone door sensors (DS3) of the account, paged and bounded.

        cloud/doorSensor/standaloneDoorSensor/list (POST, pageSize <= 200).
        """
        entries = await self._paged(
            "/v3/standaloneDoorSensor/list",
            {},
            DOOR_SENSOR_PAGE_SIZE,
            key="doorSensorId",
            method="POST",
        )
        sensors: list[DoorSensor] = []
        for entry in entries:
            try:
                sensors.append(door_sensor_from_dict(entry))
            except InvalidAnswerError as err:
                _LOGGER.debug("TTLock door sensor list entry skipped: %s", err)
        return CloudList(
            sensors, complete=entries.complete and len(sensors) == len(entries)
        )

    async def async_list_gateway_locks(self, gateway_id: str) -> dict[str, int | None]:
        """``/v3/gateway/listLock``: the locks a gateway reaches, with their RSSI.

        One call per gateway (cheaper than ``listByLock``, one per lock). The
        cloud caches the link for 30 minutes after the gateway last saw the lock
        (document-pages/en/cloud/gateway/listLock), so an offline gateway lists
        nothing: callers keep the link they had.
        """
        data = await self._call(
            "GET", "/v3/gateway/listLock", {"gatewayId": gateway_id}
        )
        entries = data.get("list")
        links: dict[str, int | None] = {}
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, Mapping):
                continue
            try:
                lock_id = require_id(entry.get("lockId"), "listLock lockId")
            except InvalidAnswerError:
                continue
            # dBm: the docs' scale is about -100 (weak) to -40 (strong).
            links[lock_id] = opt_int(entry.get("rssi"), minimum=-150, maximum=0)
        return links

    async def async_get_lock_details(self, lock: Lock) -> Lock:
        """The lock updated from ``/v3/lock/detail``."""
        data = await self._call("GET", "/v3/lock/detail", {"lockId": lock.lock_id})
        return lock_with_details(lock, data)

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
        return passage_mode_on(data)

    async def async_query_open_state(self, lock_id: str) -> LockState | None:
        """Bolt state through the gateway (costly); ``None`` when unknown."""
        data = await self._gateway_call("GET", "/v3/lock/queryOpenState", lock_id, {})
        return open_state_from_dict(data)

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
        """Upload a custom period code through the gateway (``phone`` unused)."""
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
            key="keyboardPwdId",
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
            key="recordId",
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

    async def async_get_code_packet(self) -> CodePacket | None:
        """No paid code packets on this cloud."""
        return None

    # ------------------------------------------------------------ offline codes

    async def async_get_random_code(
        self, lock_id: str, name: str, request: OfflineCodeRequest
    ) -> Passcode:
        """A random passcode the lock checks by itself: no gateway needed.

        The request is checked against TTLock's rules before any call
        (``OfflineCodeError``); the answer's window is the cloud's rounding.
        """
        check_name(name, max_length=MAX_TEXT)
        plan = ttlock_plan(request, datetime.now(UTC))
        try:
            payload = await self._call(
                "POST", GET_PATH, get_params(lock_id, name, plan)
            )
        except InvalidRequestError as err:
            if err.code == NO_PASSCODE_DATA:
                raise NotSupportedError(
                    "This lock was paired without the data random passcodes need",
                    err.code,
                ) from None
            if err.code != INVALID_PARAMETER or plan.window.end is None:
                raise
            # A window the lock already has: ours when an earlier answer was
            # lost (timeout, reload); adopt it rather than fail the guest.
            listed = await self._call(
                "GET",
                "/v3/lock/listKeyboardPwd",
                {"lockId": lock_id, "pageNo": 1, "pageSize": 100, "orderBy": 1},
            )
            found = find_listed_code(lock_id, name, request.kind, plan, listed)
            if found is None:
                raise window_taken(plan, err) from None
            _LOGGER.debug("TTLock code for this window already made: adopted")
            return found
        return passcode_from_answer(lock_id, name, request.kind, plan, payload)

    def offline_window(
        self, request: OfflineCodeRequest, name: str, now: datetime
    ) -> OfflineWindow:
        """TTLock's rounding and rules for a random passcode (no call)."""
        check_name(name, max_length=MAX_TEXT)
        return ttlock_plan(request, now).window

    async def async_add_offline_code(
        self, lock_id: str, name: str, request: OfflineCodeRequest
    ) -> Passcode:
        """``LockProvider`` name of ``async_get_random_code``."""
        return await self.async_get_random_code(lock_id, name, request)

    async def async_revoke_offline_code(
        self, lock_id: str, code_id: str, *, through_gateway: bool, name: str = ""
    ) -> OfflineRevocation:
        """Delete a random passcode; the answer says whether the lock forgot it.

        Through a gateway (deleteType 2) the lock is told, once it knows the
        code (it has been entered). Otherwise, and for a code never entered
        (-3008), the cloud only marks it deleted (deleteType 1): the lock keeps
        accepting it until its window ends or a delete code is entered.
        """
        if through_gateway:
            try:
                await self._gateway_call(
                    "POST",
                    DELETE_PATH,
                    lock_id,
                    {"keyboardPwdId": code_id, "deleteType": DELETE_THROUGH_GATEWAY},
                )
            except InvalidRequestError as err:
                if err.code != UNUSED_CODE:
                    raise
                _LOGGER.debug("TTLock code never entered: deleting it in the cloud")
            else:
                return OfflineRevocation(code_id, cloud_deleted=True, lock_deleted=True)
        await self._gateway_call(
            "POST",
            DELETE_PATH,
            lock_id,
            {"keyboardPwdId": code_id, "deleteType": DELETE_CLOUD_ONLY},
        )
        return OfflineRevocation(code_id, cloud_deleted=True, lock_deleted=False)
