"""The code ledger's records: what should be on a lock, and what was seen there.

A record is one code on one lock, keyed by an id the integration chose (shared
by the locks of one ``add_code`` call) and the lock's id. It holds

- the **desired** state: present (name, digits, window, revision) or absent;
- the **observed** state: the cloud's id for it, the revision the lock has, the
  phase and time of the last listing that showed it, or ``uncertain`` when an
  upload may have landed without its answer reaching us;
- the bookkeeping of the operation under way (attempts, reason, failure).

Which operation a record needs follows from those fields alone
(:meth:`CodeRecord.operation`), so a restart anywhere resumes the right one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from homeassistant.util import dt as dt_util

from ..providers.bounds import has_unsafe_text
from ..providers.models import CodeKind, CodePhase, OfflineKind, Passcode, Repeat

type RecordKey = tuple[str, str]

# Two windows are the same when they differ by less than this (the clouds round
# to the second, TTLock keeps milliseconds).
WINDOW_TOLERANCE = timedelta(seconds=60)


class Op(StrEnum):
    """What the reconciler has to do for a record."""

    ADD = "add"
    CHANGE = "change"
    DELETE = "delete"
    # An interrupted upload was not seen on the lock: look once more, later.
    RECHECK = "recheck"
    # The cloud holds the code (or its delete) for the lock: list later to
    # learn when the lock has it (``CodePhase`` PENDING / DELETING / UNKNOWN).
    WATCH = "watch"
    # The lock did not take the code (phase FAILED, TTLock notifyType 4): its
    # cloud entry goes and the code is uploaded again (or given up).
    REDELIVER = "redeliver"
    # The cloud accepted an add, update or delete that the lock carries out
    # later (``Capabilities.codes_confirmed_later``): list until it is done.
    CONFIRM = "confirm"


# What a record's ``confirming`` may hold: the operation awaiting the lock.
CONFIRMABLE = frozenset({"add", "update", "delete"})


class Status(StrEnum):
    """What a service answer or ``list_codes`` says about a code."""

    ADDED = "added"
    UPDATED = "updated"
    ACTIVE = "active"
    PENDING = "pending"
    # Accepted by the cloud, not on the lock yet (CodePhase.PENDING).
    PENDING_DELIVERY = "pending_delivery"
    # The cloud reports a phase this integration does not know.
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    QUEUED = "queued"
    FAILED = "failed"
    UPDATING = "updating"
    PENDING_DELETE = "pending_delete"
    DELETED = "deleted"
    CANCELLED = "cancelled"
    MISSING = "missing"
    # Withdrawn offline code the lock still accepts (no gateway to tell it).
    REVOKED = "revoked"
    # Listed by the cloud as frozen or revoked (CodePhase.REVOKED): it no
    # longer opens the door. Not "revoked", which says the opposite.
    INACTIVE = "inactive"


@dataclass(slots=True)
class CodeRecord:
    """One code on one lock (see the module docstring)."""

    id: str
    lock_id: str
    name: str
    # None only for a foreign code adopted to be deleted (Tuya lists no digits).
    code: str | None
    start: datetime | None
    end: datetime | None
    created: datetime
    present: bool = True
    revision: int = 1
    # Adopted from the lock's listing (not created by us) so it can be deleted.
    foreign: bool = False
    generated: bool = False
    cloud_id: str | None = None
    applied: int = 0
    uncertain: bool = False
    phase: CodePhase | None = None
    seen_at: datetime | None = None
    missing_at: datetime | None = None
    attempts: int = 0
    next_attempt: datetime | None = None
    reason: str | None = None
    failed: bool = False
    recheck: bool = False
    deleted_at: datetime | None = None
    first_used: datetime | None = None
    # Name and window of the last upload (an update may change them while an
    # upload is in flight): what a late-landed code looks like on the lock.
    sent_name: str | None = None
    sent_start: datetime | None = None
    sent_end: datetime | None = None
    # Times the lock did not take an upload of this code (phase FAILED,
    # TTLock notifyType 4); an add is given up after ``retry_attempts``.
    delivery_failures: int = 0
    # A cloud entry the lock never took (its delivery failed): deleting it
    # only tidies the cloud's list; a lock refusing that delete changes nothing.
    undelivered: bool = False
    # Offline codes (computed by the cloud, checked by the lock; issue 18):
    # the kind asked for (``OfflineKind``), its cyclic days, and the rules the
    # lock applies. ``code`` is None until the cloud has chosen the digits;
    # ``start``/``end`` are the window the lock applies (the cloud's rounding).
    offline_kind: str | None = None
    repeat: str | None = None
    first_use_by: datetime | None = None
    single_use: bool = False
    # Issued instead of a custom code whose gateway was offline.
    fallback: bool = False
    # Withdrawn in the cloud while the lock still accepts it (no gateway can
    # tell it): the record stays, status ``revoked``, until its window ends.
    revoked_at: datetime | None = None
    # The first-use reminder (repair + event) went out.
    first_use_warned: bool = False

    @property
    def is_offline(self) -> bool:
        """An offline code (the lock checks it by itself)."""
        return self.offline_kind is not None

    # The cloud's own job for the last add or delete is still running (the
    # gateway service retries it by itself and reports the outcome later):
    # nothing is sent for the record until that result (or its expiry).
    job: str | None = None
    # Where the cloud texts the code (Dding requires one); None: its default.
    phone: str | None = None
    # The accepted operation the lock has not confirmed yet ("add", "update",
    # "delete"), and how many listings looked for the confirmation.
    confirming: str | None = None
    confirm_polls: int = 0
    # Set on the codes a booking sync owns (``booking.py``): the followed
    # calendar's entity id and the booking's uid and recurrence id. A sync
    # touches only its own codes; a user's codes have no source.
    source: str | None = None
    booking_uid: str | None = None
    booking_recurrence: str | None = None

    @property
    def booking_key(self) -> tuple[str, str, str] | None:
        """The booking this code stands for (stable across re-syncs)."""
        if self.source is None or self.booking_uid is None:
            return None
        return (self.source, self.booking_uid, self.booking_recurrence or "")

    @property
    def key(self) -> RecordKey:
        """The record's key in the ledger."""
        return (self.id, self.lock_id)

    @property
    def tombstone(self) -> bool:
        """Deleted (or cancelled) and confirmed: kept a while to answer truly."""
        return self.deleted_at is not None

    def operation(self) -> Op | None:
        """The cloud operation this record still needs, if any."""
        if self.deleted_at is not None:
            return Op.RECHECK if self.recheck else None
        if self.job is not None:
            return None
        if not self.present:
            if self.revoked_at is not None:
                return None  # withdrawn as far as any cloud call can
            if self.failed or not (self.cloud_id or self.uncertain):
                return None
            if self.confirming == "delete":
                return Op.CONFIRM
            if self.cloud_id and self.phase in (CodePhase.DELETING, CodePhase.UNKNOWN):
                # The cloud took the delete: a second one changes nothing,
                # a listing says when the lock is reached.
                return Op.WATCH
            return Op.DELETE
        if self.failed:
            # Given up, but an upload that may have landed is looked for once.
            return Op.RECHECK if self.recheck else None
        if self.cloud_id is None:
            return Op.ADD
        if self.confirming is not None and self.missing_at is None:
            # A change follows only once the lock confirmed the previous one.
            return Op.CONFIRM
        if self.phase is CodePhase.FAILED and self.missing_at is None:
            return Op.REDELIVER
        if self.applied < self.revision:
            return Op.CHANGE
        if self.recheck:
            return Op.RECHECK
        if self.phase in (CodePhase.PENDING, CodePhase.UNKNOWN) and (
            self.missing_at is None
        ):
            return Op.WATCH
        return None

    def status(self, now: datetime) -> Status:
        """The record's state as a service answer names it."""
        if self.deleted_at is not None:
            return Status.DELETED if self.cloud_id else Status.CANCELLED
        if not self.present:
            if self.revoked_at is not None:
                # Never "deleted": the lock keeps accepting it.
                return Status.REVOKED
            return Status.FAILED if self.failed else Status.PENDING_DELETE
        if self.failed:
            return Status.FAILED
        if self.cloud_id is None:
            if self.end is not None and self.end <= now:
                return Status.EXPIRED
            # Accepted by the cloud, its result not reported yet.
            return Status.PENDING_DELIVERY if self.job is not None else Status.QUEUED
        if self.applied < self.revision or self.confirming == "update":
            return Status.UPDATING
        if self.end is not None and self.end <= now:
            return Status.EXPIRED
        if self.missing_at is not None:
            return Status.MISSING
        if self.confirming == "add":
            # Accepted, the lock has not confirmed it yet (Dding).
            return Status.PENDING_DELIVERY
        if self.phase is CodePhase.FAILED:
            return Status.QUEUED  # the lock did not take it: uploaded again
        if self.phase is CodePhase.PENDING:
            return Status.PENDING_DELIVERY
        if self.phase is CodePhase.UNKNOWN:
            return Status.UNKNOWN
        if self.phase is CodePhase.DELETING:
            # Deleted elsewhere (the vendor app), the lock not reached yet.
            return Status.PENDING_DELETE
        if self.phase is CodePhase.REVOKED:
            # Frozen (Dding) or revoked in the vendor app: listed, not accepted.
            return Status.INACTIVE
        if self.start is not None and self.start > now:
            return Status.PENDING
        return Status.ACTIVE


def window_matches(
    passcode: Passcode, start: datetime | None, end: datetime | None
) -> bool:
    """Whether a listed code has the given validity window."""
    if None in (passcode.start, passcode.end, start, end):
        return False
    assert passcode.start is not None
    assert passcode.end is not None
    assert start is not None
    assert end is not None
    return (
        abs(passcode.start - start) < WINDOW_TOLERANCE
        and abs(passcode.end - end) < WINDOW_TOLERANCE
    )


def same_code(passcode: Passcode, record: CodeRecord) -> bool:
    """Whether a listed code is this record's upload.

    TTLock lists digits, and a lock holds each digit sequence once: the digits
    decide, whatever name or window the code has now. Tuya never lists
    digits, so there the name and window have to do: the current ones, or
    those of the last upload (changed by an update while it was in flight).
    """
    if passcode.code is not None and record.code is not None:
        return passcode.code == record.code
    if record.is_offline and not passcode.is_offline:
        # An offline code whose digits are not known yet is one of the
        # cloud's offline codes, never a custom one with the same look.
        return False
    looks = [(record.name, record.start, record.end)]
    if record.sent_name is not None:
        looks.append((record.sent_name, record.sent_start, record.sent_end))
    return any(
        passcode.name == name and window_matches(passcode, start, end)
        for name, start, end in looks
    )


def is_current(passcode: Passcode, record: CodeRecord) -> bool:
    """Whether a listed code of ``record`` has its current name and window."""
    return passcode.name == record.name and window_matches(
        passcode, record.start, record.end
    )


def find_landed(
    listing: Iterable[Passcode], record: CodeRecord, claimed: set[str]
) -> list[Passcode]:
    """Listed codes that are uploads of ``record`` and no other record's."""
    return [
        passcode
        for passcode in listing
        if passcode.code_id not in claimed and same_code(passcode, record)
    ]


# ------------------------------------------------------------- persistence

_FIELD_NAMES = frozenset(f.name for f in fields(CodeRecord))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def record_to_dict(record: CodeRecord) -> dict[str, Any]:
    """JSON-ready form of a record."""
    data: dict[str, Any] = {}
    for name in _FIELD_NAMES:
        value = getattr(record, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, CodePhase):
            value = value.value
        data[name] = value
    return data


class BadRecordError(ValueError):
    """A stored record that cannot be read back."""


def parse_time(raw: Any, *, optional: bool = True) -> datetime | None:
    """A stored ISO time (UTC-aware, 1970-2200); ``BadRecordError`` otherwise."""
    if raw is None and optional:
        return None
    if not isinstance(raw, str):
        raise BadRecordError("time")
    parsed = dt_util.parse_datetime(raw)
    if parsed is None or parsed.tzinfo is None:
        raise BadRecordError("time")
    if not 1970 <= parsed.year <= 2200:
        raise BadRecordError("time out of range")
    return dt_util.as_utc(parsed)


def _text(raw: Any, *, optional: bool = False) -> str | None:
    if raw is None and optional:
        return None
    if not isinstance(raw, str) or has_unsafe_text(raw):
        raise BadRecordError("text")
    return raw


def _int(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw < 2**31:
        raise BadRecordError("int")
    return int(raw)


def _bool(raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise BadRecordError("bool")
    return raw


def record_from_dict(data: Any) -> CodeRecord:
    """A record from its stored form; ``BadRecordError`` if it is not one."""
    if not isinstance(data, dict):
        raise BadRecordError("not an object")
    record_id = _text(data.get("id"))
    lock_id = _text(data.get("lock_id"))
    if not record_id or not lock_id:
        raise BadRecordError("id")
    code = _text(data.get("code"), optional=True)
    if code is not None and not (code.isascii() and code.isdigit()):
        raise BadRecordError("code")
    phase_raw = data.get("phase")
    try:
        phase = CodePhase(phase_raw) if phase_raw is not None else None
    except ValueError as err:
        raise BadRecordError("phase") from err
    created = parse_time(data.get("created"), optional=False)
    assert created is not None
    name = _text(data.get("name"))
    assert name is not None
    return CodeRecord(
        id=record_id,
        lock_id=lock_id,
        name=name,
        code=code,
        start=parse_time(data.get("start")),
        end=parse_time(data.get("end")),
        created=created,
        present=_bool(data.get("present", True)),
        revision=_int(data.get("revision", 1)),
        foreign=_bool(data.get("foreign", False)),
        generated=_bool(data.get("generated", False)),
        cloud_id=_text(data.get("cloud_id"), optional=True) or None,
        applied=_int(data.get("applied", 0)),
        uncertain=_bool(data.get("uncertain", False)),
        phase=phase,
        seen_at=parse_time(data.get("seen_at")),
        missing_at=parse_time(data.get("missing_at")),
        attempts=_int(data.get("attempts", 0)),
        next_attempt=parse_time(data.get("next_attempt")),
        reason=_text(data.get("reason"), optional=True),
        failed=_bool(data.get("failed", False)),
        recheck=_bool(data.get("recheck", False)),
        deleted_at=parse_time(data.get("deleted_at")),
        first_used=parse_time(data.get("first_used")),
        sent_name=_text(data.get("sent_name"), optional=True),
        sent_start=parse_time(data.get("sent_start")),
        sent_end=parse_time(data.get("sent_end")),
        delivery_failures=_int(data.get("delivery_failures", 0)),
        undelivered=_bool(data.get("undelivered", False)),
        offline_kind=_choice(data.get("offline_kind"), _OFFLINE_KINDS),
        repeat=_choice(data.get("repeat"), _REPEATS),
        first_use_by=parse_time(data.get("first_use_by")),
        single_use=_bool(data.get("single_use", False)),
        fallback=_bool(data.get("fallback", False)),
        revoked_at=parse_time(data.get("revoked_at")),
        first_use_warned=_bool(data.get("first_use_warned", False)),
        job=_text(data.get("job"), optional=True) or None,
        phone=_text(data.get("phone"), optional=True) or None,
        confirming=_confirming(data.get("confirming")),
        confirm_polls=_int(data.get("confirm_polls", 0)),
        source=_text(data.get("source"), optional=True),
        booking_uid=_text(data.get("booking_uid"), optional=True),
        booking_recurrence=_text(data.get("booking_recurrence"), optional=True),
    )


_OFFLINE_KINDS = frozenset(k.value for k in OfflineKind)
_REPEATS = frozenset(r.value for r in Repeat)


def _choice(raw: Any, allowed: frozenset[str]) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or raw not in allowed:
        raise BadRecordError("choice")
    return raw


def _confirming(raw: Any) -> str | None:
    if raw is None:
        return None
    if raw not in CONFIRMABLE:
        raise BadRecordError("confirming")
    return str(raw)


def passcode_to_dict(passcode: Passcode) -> dict[str, Any]:
    """A listed code as the ledger keeps it (never with foreign digits)."""
    return {
        "code_id": passcode.code_id,
        "name": passcode.name,
        "kind": passcode.kind.value,
        "start": _iso(passcode.start),
        "end": _iso(passcode.end),
        "phase": passcode.phase.value,
    }


def passcode_from_dict(lock_id: str, data: Any) -> Passcode:
    """A stored listed code; ``BadRecordError`` if it is not one."""
    if not isinstance(data, dict):
        raise BadRecordError("not an object")
    code_id = _text(data.get("code_id"))
    name = _text(data.get("name"))
    if not code_id or name is None:
        raise BadRecordError("listed code")
    try:
        kind = CodeKind(str(data.get("kind")))
        phase = CodePhase(str(data.get("phase")))
    except ValueError as err:
        raise BadRecordError("listed code") from err
    return Passcode(
        code_id=code_id,
        lock_id=lock_id,
        name=name,
        kind=kind,
        start=parse_time(data.get("start")),
        end=parse_time(data.get("end")),
        phase=phase,
    )
