"""Provider-neutral models and errors shared by every cloud client.

Nothing here imports Home Assistant: the clients in this package speak only HTTP,
and the integration speaks only to the ``LockProvider`` protocol below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .offline_codes import OfflineCodeRequest, OfflineWindow


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

    ``quota`` is true when the period's call quota is used up (TTLock 30007,
    Tuya 28841004), false for a frequency limit (too many calls a second).
    ``reset_at`` is set when the cloud's period is known (TTLock: the calendar
    month): no call works before it. Tuya refreshes its quota on the day of the
    month the subscription started, which no answer names: ``None``.
    """

    def __init__(
        self,
        message: str = "",
        code: int | str | None = None,
        retry_after: float = 3600.0,
        reset_at: datetime | None = None,
        *,
        quota: bool = False,
    ) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after
        self.reset_at = reset_at
        self.quota = quota or reset_at is not None


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


class CodePacketProblem(StrEnum):
    """Why a paid code packet does not allow another operation."""

    MISSING = "missing"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"
    UNKNOWN = "unknown"


class CodePacketError(ProviderError):
    """The account's paid code packet is missing, expired or used up.

    The gateway service (seed 000) refuses operations marked * without an
    active packet and spends one code per uploaded code (**).
    """

    def __init__(
        self,
        message: str = "",
        code: int | str | None = None,
        problem: CodePacketProblem = CodePacketProblem.UNKNOWN,
    ) -> None:
        super().__init__(message, code)
        self.problem = problem


class RetriesExhaustedError(ProviderError):
    """The cloud retried the operation on its own and gave up: final.

    Not transient: re-sending would start the cloud's retries all over again.
    """


class ResultPendingError(ProviderError):
    """Sent and accepted; the result has not been reported yet.

    The operation may still happen (or may have happened): this is neither a
    success nor a failure. ``retrying`` is true when the cloud reported a
    failed attempt and said it will try again by itself. A later result is
    delivered to the provider's result listeners (``AsyncResultProvider``).
    Not a ``TransientError``: re-sending could do the operation twice.
    """

    def __init__(
        self,
        message: str = "",
        code: int | str | None = None,
        *,
        job_id: str,
        operation: Operation,
        lock_id: str | None = None,
        retrying: bool = False,
    ) -> None:
        super().__init__(message, code)
        self.job_id = job_id
        self.operation = operation
        self.lock_id = lock_id
        self.retrying = retrying


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
    # notifyType 4): ``code_id`` names the code when it was a passcode; raw
    # ``retryable`` says whether uploading it again may work, ``errcode`` why.
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
    # Entered on the keypad it makes the lock forget codes (TTLock's delete
    # code, Tuya's clearing codes); never opens the door.
    CLEAR = "clear"
    OTHER = "other"


class OfflineKind(StrEnum):
    """Kinds of codes the lock checks by itself, without a gateway.

    The cloud computes them from key data it shares with the lock since
    pairing (TTLock "random passcodes", Tuya "offline passwords"); see
    docs/offline-codes.md for each cloud's rules.
    """

    ONE_TIME = "one_time"
    PERIOD = "period"
    PERMANENT = "permanent"
    CYCLIC = "cyclic"
    # A code that clears every (offline) code from the lock when entered.
    CLEAR_ALL = "clear_all"
    # A code that clears one offline code from the lock when entered (Tuya).
    CLEAR_ONE = "clear_one"


class Repeat(StrEnum):
    """Days on which a cyclic offline code works (TTLock types 5-14)."""

    WEEKEND = "weekend"
    DAILY = "daily"
    WORKDAY = "workday"
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"


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
    # A phase value the mapping does not know: never claimed on the lock (not
    # live, not delivered), never taken for gone either.
    UNKNOWN = "unknown"


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
    # The cloud can operate this lock at all (unlock, lock, its settings), even
    # if not right now (a TTLock lock without a gateway yet). False where it
    # never can (Dding: codes and events only): no lock entity that could
    # never work, no settings sensors.
    lock_control: bool = True
    codes: bool = False
    code_min_length: int = 4
    code_max_length: int = 9
    # ``async_update_code`` / ``async_freeze_code`` + ``async_unfreeze_code`` /
    # ``async_get_dynamic_code`` work (otherwise they raise NotSupportedError).
    update_codes: bool = False
    freeze_codes: bool = False
    dynamic_codes: bool = False
    # A code change the cloud accepted is carried out on the lock later: the
    # listing's ``Passcode.operation_stage`` says when it is done or failed
    # (Dding). The code ledger then follows the listing before calling it done.
    codes_confirmed_later: bool = False
    # False where a code starting with 0 would not arrive as typed (the gateway
    # service turns codes into integers: "0123" would become 123).
    code_leading_zero: bool = True
    # Offline codes (no gateway needed) this lock accepts, by kind; empty when
    # it has none or the cloud gives no sign that it has (then
    # ``async_add_offline_code`` is not offered).
    offline_codes: tuple[OfflineKind, ...] = ()
    # Deleting a code through the cloud reaches the lock with nobody at the
    # door (gateway, Wi-Fi, the cloud's own link; the code's phase says when it
    # is done). Offline codes say so themselves: ``OfflineRules``.
    codes_deletable_remotely: bool = False
    # The code listing reports each code's ``CodePhase`` (Tuya): an accepted
    # add or delete reaches the lock later, and only a listing says when. The
    # ledger then confirms a delete by listing (``DELETING`` until the lock
    # is reached) and watches a ``PENDING`` code until it is delivered.
    code_phases: bool = False

    @property
    def custom_codes(self) -> bool:
        """Codes with digits we choose can be uploaded (``async_add_code``)."""
        return self.codes


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
    # True when the account is not the lock's top admin (shared to it): pushed
    # callbacks then name someone else as ``admin``.
    shared: bool = False


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
class DoorSensor:
    """A standalone door sensor (TTLock DS3): reports open/closed over Wi-Fi.

    ``open`` is None when the cloud says "unknown"; ``stale`` when it says the
    state has not been updated for a long time (then it is not trusted either).
    """

    sensor_id: str
    name: str
    mac: str | None = None
    battery: int | None = None
    open: bool | None = None
    stale: bool = False


@dataclass(frozen=True, slots=True)
class OfflineRules:
    """How an offline code behaves on the lock (``Passcode.offline``).

    The lock learns of such a code only when it is first entered; until then
    nothing the cloud does reaches it, and without a gateway nothing ever does.
    """

    # The lock suspends the code unless it is entered at least once by then
    # (TTLock: 24 h after the start, 6 h for one-time codes); None when the
    # window ends first or no such rule applies.
    first_use_by: datetime | None
    # Works for one entry only (one-time and clearing codes).
    single_use: bool = False
    # A delete through the cloud makes the lock refuse it. False for every
    # offline code we know: the lock accepts it until its window ends, a
    # clearing code is entered, or the vendor app syncs the lock.
    deletable_remotely: bool = False
    # Cyclic codes: the days they work on; None otherwise.
    repeat: Repeat | None = None


@dataclass(frozen=True, slots=True)
class OfflineRevocation:
    """What revoking an offline code did (``async_revoke_offline_code``)."""

    code_id: str
    # The cloud marked it deleted (it leaves the cloud's list of codes).
    cloud_deleted: bool
    # The lock refuses it from now on (a gateway carried the delete).
    lock_deleted: bool
    # A clearing code to enter on the keypad to make the lock forget it (Tuya
    # clear_one); None when the cloud gives none.
    clear_code: Passcode | None = None

    @property
    def lock_still_accepts(self) -> bool:
        """Whether the lock still opens with the code until it ends or is cleared."""
        return not self.lock_deleted


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
    # Set for offline codes (computed by the cloud, checked by the lock).
    offline: OfflineRules | None = None

    @property
    def is_offline(self) -> bool:
        """Whether the lock checks this code by itself (no gateway involved)."""
        return self.offline is not None

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
    # When the cloud received or stamped the record (TTLock ``serverDate``,
    # Tuya ``update_time``, a Dding callback's ``time``); None when it does not
    # say. State is ordered by this, never by ``time`` (the lock's own clock).
    received: datetime | None = None
    # False when the sender gave no time at all: ``time`` is then when the
    # push reached us, and only a short window tells repeats apart.
    time_known: bool = True

    @property
    def cloud_time(self) -> datetime:
        """The time that orders this record against others and our own actions."""
        return self.received or self.time


class CloudList[T](list[T]):
    """A list the cloud answered; ``complete`` when the cloud's own count says
    nothing is missing (an absent item is then really gone).

    Plain lists count as not complete: one answer that lacks an item, or is
    empty, is not proof that the item left the account.
    """

    complete: bool = False

    def __init__(self, items: Iterable[T] = (), *, complete: bool = False) -> None:
        """The items and whether the cloud confirmed the list is whole."""
        super().__init__(items)
        self.complete = complete


@dataclass(frozen=True, slots=True)
class CodePacket:
    """The account's paid code packet (gateway service); see ``CodePacketError``."""

    # Codes left; ``None`` when the packet is unlimited.
    codes_left: int | None
    expires_at: datetime | None

    def problem(self, now: datetime) -> CodePacketProblem | None:
        """What stops the next code at ``now``, if anything."""
        if self.expires_at is not None and self.expires_at <= now:
            return CodePacketProblem.EXPIRED
        if self.codes_left is not None and self.codes_left < 1:
            return CodePacketProblem.EXHAUSTED
        return None


class Operation(StrEnum):
    """An operation whose result may be reported after the call returned."""

    LIST_LOCKS = "list_locks"
    UNLOCK = "unlock"
    PASSAGE_MODE_ON = "passage_mode_on"
    PASSAGE_MODE_OFF = "passage_mode_off"
    ADD_CODE = "add_code"
    DELETE_CODE = "delete_code"


class ResultStatus(StrEnum):
    """What a reported result says."""

    # Done on the lock / in the cloud.
    SUCCEEDED = "succeeded"
    # Final failure (``error`` says why).
    FAILED = "failed"
    # An attempt failed; the cloud will try again by itself (not final).
    RETRYING = "retrying"
    # No result arrived within the tracker's lifetime for it: outcome unknown.
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class OperationResult:
    """A result reported after its call returned (late, or after a restart)."""

    job_id: str
    operation: Operation
    status: ResultStatus
    lock_id: str | None = None
    # The cloud's own message, cleaned (never holds secrets or code digits).
    message: str | None = None
    error: ProviderError | None = None
    # ADD_CODE succeeded: the code as it is on the lock (digits not included).
    passcode: Passcode | None = None
    # DELETE_CODE: the code id that was (or was to be) deleted.
    code_id: str | None = None
    # LIST_LOCKS succeeded.
    locks: tuple[Lock, ...] | None = None
    # Our own id of the job (its tag): a caller told "pending" before the
    # cloud named the job knows only this one.
    correlation_id: str | None = None

    @property
    def final(self) -> bool:
        """Whether nothing more will be reported for this job."""
        return self.status is not ResultStatus.RETRYING


ResultListener = Callable[[OperationResult], None]


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
    # The cloud retries failed code uploads/deletions itself and reports the
    # final outcome later: the integration must not retry them as well.
    retries_code_uploads: bool

    async def async_login(self) -> AccountInfo:
        """Authenticate (or check the stored token) and identify the account."""

    async def async_list_locks(self) -> list[Lock]:
        """Every lock of the account, in as few calls as the cloud allows.

        A ``CloudList`` marked ``complete`` when the cloud's count confirms it.
        """

    async def async_list_gateways(self) -> list[Gateway]:
        """Gateways of the account (empty when the cloud has no such notion).

        A ``CloudList`` marked ``complete`` when the cloud's count confirms it.
        """

    async def async_list_gateway_locks(self, gateway_id: str) -> dict[str, int | None]:
        """Locks a gateway serves: lock id -> signal strength (dBm) where known.

        Empty when the cloud has no such notion.
        """

    async def async_list_door_sensors(self) -> list[DoorSensor]:
        """Standalone door sensors of the account (empty where the cloud has none).

        A ``CloudList`` marked ``complete`` when the cloud's count confirms it.
        """
        return CloudList()

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

    async def async_change_code(
        self,
        lock_id: str,
        code_id: str,
        *,
        name: str,
        start: datetime,
        end: datetime,
    ) -> None:
        """Give a code a new name and window (UTC); both dates always.

        ``NotSupportedError`` when the cloud cannot change codes in place: the
        code ledger then deletes the code and adds it again.
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

    async def async_get_code_packet(self) -> CodePacket | None:
        """The account's paid code packet; ``None`` where the cloud has none."""

    async def async_add_offline_code(
        self, lock_id: str, name: str, request: OfflineCodeRequest
    ) -> Passcode:
        """Have the cloud compute an offline code (``Capabilities.offline_codes``).

        Bad requests raise ``OfflineCodeError`` before any call. The answer
        holds the digits (for the caller only), the window the lock will
        apply (rounded as the cloud rounds) and its ``OfflineRules``.
        """
        raise NotSupportedError("This cloud has no offline codes")

    def offline_window(
        self, request: OfflineCodeRequest, name: str, now: datetime
    ) -> OfflineWindow:
        """Check an offline-code request at ``now``, without any call.

        The window the cloud will give it (rounded as the cloud rounds) and its
        rules; ``OfflineCodeError`` for what the cloud would refuse or the lock
        could never use. The integration answers with this window and records
        it before the request is sent (write-ahead).
        """
        raise NotSupportedError("This cloud has no offline codes")

    async def async_revoke_offline_code(
        self, lock_id: str, code_id: str, *, through_gateway: bool, name: str = ""
    ) -> OfflineRevocation:
        """Withdraw an offline code; the answer says what the lock still accepts.

        ``through_gateway``: the lock is reachable (gateway or Wi-Fi), so the
        cloud may try to carry the delete to it.
        """
        raise NotSupportedError("This cloud has no offline codes")


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


@runtime_checkable
class AsyncResultProvider(Protocol):
    """A provider whose operations finish later, reported to a callback URL.

    Operations wait a while for their result; when it does not come in time
    they raise ``ResultPendingError`` and the result goes to the listeners.
    """

    async def async_set_callback(self, url: str) -> None:
        """Tell the cloud where to report results (the entry's webhook)."""

    def resolve_job(self, job: Mapping[str, Any]) -> bool:
        """Feed one parsed job callback; whether it was ours and pending."""

    def add_result_listener(self, listener: ResultListener) -> Callable[[], None]:
        """Call ``listener`` for results no caller waits for; returns unsubscribe."""

    def export_pending(self) -> list[dict[str, Any]]:
        """The jobs still waiting for a result, as JSON-safe dicts (no secrets)."""

    def import_pending(self, items: Iterable[Mapping[str, Any]]) -> int:
        """Take over exported jobs (after a restart); returns how many were valid."""

    def expire_pending(self) -> list[OperationResult]:
        """Give up on jobs past their lifetime (listeners get EXPIRED results)."""


@runtime_checkable
class CodeUsageProvider(Protocol):
    """A provider that can look up a code's uses directly."""

    async def async_get_code_events(self, lock_id: str, code: str) -> list[LockEvent]:
        """The lock's records made with this code (newest last, at most 100)."""

    async def async_get_first_use(
        self, lock_ids: Sequence[str], code: str
    ) -> LockEvent | None:
        """The first successful entry with this code on any of these locks."""
