"""Provider-neutral models and errors shared by every cloud client.

Nothing here imports Home Assistant: the clients in this package speak only HTTP,
and the integration speaks only to the ``LockProvider`` protocol below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class ProviderError(Exception):
    """Base class of every error a provider raises.

    ``code`` and ``message`` are the cloud's own; they never carry secrets.
    """

    def __init__(self, message: str = "", code: int | str | None = None) -> None:
        super().__init__(f"{message} (code {code})" if code is not None else message)
        self.code = code
        self.message = message


class AuthError(ProviderError):
    """Credentials rejected or the refresh token is no longer valid: reauth needed."""


class RateLimitError(ProviderError):
    """The application's API quota is used up; ``retry_after`` in seconds.

    ``reset_at`` is set when the cloud names a period (a monthly quota): no
    call works before it.
    """

    def __init__(
        self,
        message: str = "",
        code: int | str | None = None,
        retry_after: float = 3600.0,
        reset_at: datetime | None = None,
    ) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after
        self.reset_at = reset_at


class WrongRegionError(AuthError):
    """The account lives in another region's cloud; ``other_region`` names it."""

    def __init__(
        self,
        message: str = "",
        code: int | str | None = None,
        *,
        other_region: str,
    ) -> None:
        super().__init__(message, code)
        self.other_region = other_region


class TransientError(ProviderError):
    """Gateway/lock unreachable or busy, timeout, 5xx: try again later."""


class CannotConnectError(TransientError):
    """The cloud itself could not be reached (DNS, refused, timeout, 5xx)."""


class InvalidRequestError(ProviderError):
    """The cloud refused the request's content (bad parameter, unknown lock...)."""


class DuplicateCodeError(InvalidRequestError):
    """The code already exists on the lock (counts as landed for a retry)."""


class CodeStorageFullError(InvalidRequestError):
    """The lock has no room for another code."""


class ProtectedCodeError(InvalidRequestError):
    """The cloud protects this code (Dding's administrator password, id 999).

    It cannot be deleted, frozen or changed through the API; the vendor's app
    manages it.
    """


class UnknownHomeError(InvalidRequestError):
    """Configured home (site) ids the cloud does not know or does not let us use.

    Clouds whose account is made of partner-chosen homes (Dding) raise it when a
    configured home id is not found or belongs to someone else.
    """

    def __init__(
        self,
        message: str = "",
        code: int | str | None = None,
        home_ids: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, code)
        self.home_ids = home_ids


class NotSupportedError(ProviderError):
    """The lock cannot do this, or the function is disabled in the vendor app."""


class SubscriptionError(ProviderError):
    """The cloud project's plan lapsed or an API group is not subscribed (Tuya)."""


class LockState(StrEnum):
    """What we know about the bolt. ``None`` (not a member) means unknown."""

    LOCKED = "locked"
    UNLOCKED = "unlocked"
    JAMMED = "jammed"


class EventType(StrEnum):
    """Normalised event types; the event entity exposes these."""

    UNLOCKED = "unlocked"
    LOCKED = "locked"
    UNLOCK_FAILED = "unlock_failed"
    WRONG_CODE = "wrong_code"
    TAMPER = "tamper"
    BATTERY_LOW = "battery_low"
    BATTERY_OK = "battery_ok"
    DOOR_OPENED = "door_opened"
    DOOR_CLOSED = "door_closed"
    LOCK_OFFLINE = "offline"
    LOCK_ONLINE = "online"
    GATEWAY_OFFLINE = "gateway_offline"
    GATEWAY_ONLINE = "gateway_online"
    CODE_ADDED = "code_added"
    CODE_DELETED = "code_deleted"
    CODE_CHANGED = "code_changed"
    CODES_SYNCED = "codes_synced"
    DOORBELL = "doorbell"
    # The cloud could not carry out an accepted request on the lock (TTLock
    # notifyType 4): ``code_id`` names the code when it was a passcode.
    REQUEST_FAILED = "request_failed"
    OTHER = "other"


class UnlockMethod(StrEnum):
    """How an event was triggered."""

    APP = "app"
    CODE = "code"
    CARD = "card"
    FINGERPRINT = "fingerprint"
    FACE = "face"
    KEY = "key"
    REMOTE = "remote"
    GATEWAY = "gateway"
    BLUETOOTH = "bluetooth"
    BUTTON = "button"
    AUTO = "auto"
    KEY_FOB = "key_fob"
    QR_CODE = "qr_code"
    PASSAGE_MODE = "passage_mode"
    UNKNOWN = "unknown"


class CodeKind(StrEnum):
    """Validity kind of a passcode."""

    PERMANENT = "permanent"
    PERIOD = "period"
    ONE_TIME = "one_time"
    CYCLIC = "cyclic"
    OTHER = "other"


class CodePhase(StrEnum):
    """Where a code is on its way to (or from) the lock, as the cloud reports it.

    Clouds that upload through a gateway synchronously (TTLock) only ever list
    ``DELIVERED`` codes; Tuya reports phases per protocol (seed 001).
    """

    # Accepted by the cloud, not on the lock yet.
    PENDING = "pending"
    # On the lock.
    DELIVERED = "delivered"
    # The cloud gave up delivering it; it will never work.
    FAILED = "failed"
    # A delete was accepted and is on its way to the lock: no longer valid.
    DELETING = "deleting"
    # Revoked or frozen: listed, but not accepted by the lock.
    REVOKED = "revoked"


class CodeOperation(StrEnum):
    """A change of a code that the cloud carries out on the lock later (Dding)."""

    ADD = "add"
    DELETE = "delete"
    UPDATE = "update"
    FREEZE = "freeze"
    UNFREEZE = "unfreeze"


class OperationStage(StrEnum):
    """How far the cloud got with a code's latest ``CodeOperation``."""

    IN_PROGRESS = "in_progress"
    FAILED = "failed"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a lock can do remotely through its cloud."""

    remote_unlock: bool = False
    remote_lock: bool = False
    passage_mode: bool = False
    codes: bool = False
    code_min_length: int = 4
    code_max_length: int = 9
    # ``async_update_code`` / ``async_freeze_code`` + ``async_unfreeze_code`` /
    # ``async_get_dynamic_code`` work (otherwise they raise NotSupportedError).
    update_codes: bool = False
    freeze_codes: bool = False
    dynamic_codes: bool = False


@dataclass(slots=True)
class Lock:
    """One lock as the cloud describes it."""

    lock_id: str
    name: str
    capabilities: Capabilities
    model: str | None = None
    manufacturer: str | None = None
    firmware: str | None = None
    mac: str | None = None
    battery: int | None = None
    has_gateway: bool = False
    online: bool | None = None
    state: LockState | None = None
    passage_mode: bool | None = None
    auto_lock_seconds: int | None = None
    # Extra identifiers a pushed callback may use (e.g. a Dding uuid, the MAC).
    aliases: tuple[str, ...] = ()
    # The gateway the cloud says serves this lock (``Gateway.gateway_id``), or
    # None when the cloud names none (Wi-Fi locks, Tuya, not yet resolved).
    gateway_id: str | None = None


@dataclass(frozen=True, slots=True)
class Gateway:
    """A gateway (hub) bridging Bluetooth locks to the cloud."""

    gateway_id: str
    name: str
    online: bool
    mac: str | None = None
    network: str | None = None
    lock_count: int | None = None
    signal: int | None = None


@dataclass(frozen=True, slots=True)
class Passcode:
    """A keypad code stored on a lock."""

    code_id: str
    lock_id: str
    name: str
    kind: CodeKind
    code: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    phase: CodePhase = CodePhase.DELIVERED
    # The cloud's latest operation on the code and its stage, where the cloud
    # reports one (Dding); ``phase`` already says what the lock accepts.
    operation: CodeOperation | None = None
    operation_stage: OperationStage | None = None
    # The cloud refuses to delete, freeze or change it (Dding's admin password).
    protected: bool = False

    @property
    def delivered(self) -> bool:
        """Whether the code is on the lock and usable."""
        return self.phase is CodePhase.DELIVERED

    @property
    def live(self) -> bool:
        """Whether the code is (or will soon be) accepted by the lock."""
        return self.phase in (CodePhase.PENDING, CodePhase.DELIVERED)


@dataclass(frozen=True, slots=True)
class DynamicCode:
    """A short-lived code the cloud generates for a lock (digits for the caller only)."""

    code: str
    expires: datetime


@dataclass(frozen=True, slots=True)
class LockEvent:
    """One thing that happened at a lock, pushed or polled.

    ``event_id`` is stable for the same record whether it arrived by push or poll,
    so the integration can de-duplicate the two.
    """

    event_id: str
    lock_id: str | None
    type: EventType
    time: datetime
    method: UnlockMethod = UnlockMethod.UNKNOWN
    success: bool = True
    user: str | None = None
    code: str | None = None
    code_id: str | None = None
    code_name: str | None = None
    battery: int | None = None
    source: str = "poll"
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """Who the credentials belong to; ``unique_id`` identifies the config entry."""

    unique_id: str
    title: str


class LockProvider(Protocol):
    """What the integration needs from a cloud.

    Clients subclass it explicitly: the optional operations at the end have a
    default that raises ``NotSupportedError``; ``Capabilities`` says which work.
    """

    provider: str
    # Largest number of requests the client will have in flight at once.
    max_concurrency: int

    async def async_login(self) -> AccountInfo:
        """Authenticate (or check the stored token) and identify the account."""

    async def async_list_locks(self) -> list[Lock]:
        """Every lock of the account, in as few calls as the cloud allows."""

    async def async_list_gateways(self) -> list[Gateway]:
        """Gateways of the account (empty when the cloud has no such notion)."""

    async def async_list_gateway_locks(self, gateway_id: str) -> dict[str, int | None]:
        """Locks a gateway serves: lock id -> signal strength (dBm) where known.

        Empty when the cloud has no such notion.
        """

    async def async_get_lock_details(self, lock: Lock) -> Lock:
        """Refresh per-lock details (passage mode, auto-lock time...)."""

    async def async_unlock(self, lock_id: str) -> None:
        """Unlock remotely."""

    async def async_lock(self, lock_id: str) -> None:
        """Lock remotely."""

    async def async_set_passage_mode(self, lock_id: str, enabled: bool) -> None:
        """Turn all-day passage mode on or off."""

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
        """Upload a time-bounded code (UTC datetimes).

        ``phone``: where a cloud sends the new code by SMS (Dding requires one);
        clouds that do not send codes ignore it.
        """

    async def async_delete_code(self, lock_id: str, code_id: str) -> None:
        """Delete a code."""

    async def async_list_codes(self, lock_id: str) -> list[Passcode]:
        """Every code on a lock."""

    async def async_get_events(
        self, lock_id: str, start: datetime, end: datetime
    ) -> list[LockEvent]:
        """Records in [start, end], oldest first."""

    # ------------------------------------------------- optional operations

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
        """Change a code's name, digits or window (``Capabilities.update_codes``)."""
        raise NotSupportedError("This cloud cannot change a code")

    async def async_freeze_code(self, lock_id: str, code_id: str) -> None:
        """Suspend a code without deleting it (``Capabilities.freeze_codes``)."""
        raise NotSupportedError("This cloud cannot freeze a code")

    async def async_unfreeze_code(self, lock_id: str, code_id: str) -> None:
        """Make a frozen code work again (``Capabilities.freeze_codes``)."""
        raise NotSupportedError("This cloud cannot unfreeze a code")

    async def async_get_dynamic_code(self, lock_id: str) -> DynamicCode:
        """A short-lived code generated by the cloud (``Capabilities.dynamic_codes``)."""
        raise NotSupportedError("This cloud has no dynamic codes")


# ------------------------------------------------------------------- push
# A cloud that pushes over a connection it keeps open (Tuya's message service)
# reports states as well as happenings: a battery level or a bolt position is
# applied to the lock, not announced as an event.


@dataclass(frozen=True, slots=True)
class LockStatus:
    """A lock's reported state at ``time`` (``None`` fields say nothing)."""

    lock_id: str
    time: datetime
    battery: int | None = None
    state: LockState | None = None
    source: str = "push"


@dataclass(frozen=True, slots=True)
class PushBatch:
    """What one pushed message says: events to announce, states to apply."""

    events: tuple[LockEvent, ...] = ()
    statuses: tuple[LockStatus, ...] = ()


@dataclass(frozen=True, slots=True)
class PushHealth:
    """How a push connection is doing, for repairs and polling intervals.

    ``down_since`` is set from the first failed attempt (or the drop) until a
    connection is established again; ``last_error`` is a short reason such as
    ``auth_failed``, ``refused``, ``dropped`` or ``unreachable``, never a secret.
    """

    connected: bool
    connected_since: datetime | None
    down_since: datetime | None
    last_message: datetime | None
    last_error: str | None
    auth_failed: bool
    reconnects: int
    messages: int
    rejected: int


class PushConsumer(Protocol):
    """A connection that delivers ``PushBatch``es to the callback it was given."""

    async def async_start(self) -> None:
        """Start connecting (idempotent: one connection at most)."""

    async def async_stop(self) -> None:
        """Close the connection and stop reconnecting."""

    @property
    def health(self) -> PushHealth:
        """The connection's state now."""
