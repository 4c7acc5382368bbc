"""``list_codes``'s answer: the ledger's codes and the rest of the lock's listing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.util import dt as dt_util

from ..providers.models import CodeKind, CodePhase, OfflineKind, Passcode
from ..providers.offline_codes import code_kind
from .ledger import CodeLedger, Listing
from .model import CodeRecord, Status
from .offline import offline_details


def iso_local(value: datetime | None) -> str | None:
    """A time in Home Assistant's time zone, ISO formatted."""
    return dt_util.as_local(value).isoformat() if value is not None else None


def listed_status(passcode: Passcode, now: datetime) -> Status:
    """The state of a code we only know from the lock's listing."""
    if passcode.phase is CodePhase.FAILED:
        return Status.FAILED
    if passcode.phase is CodePhase.DELETING:
        return Status.PENDING_DELETE
    if passcode.phase is CodePhase.REVOKED:
        return Status.INACTIVE
    if passcode.phase is CodePhase.UNKNOWN:
        return Status.UNKNOWN
    if passcode.end is not None and passcode.end <= now:
        return Status.EXPIRED
    if passcode.phase is CodePhase.PENDING:
        return Status.PENDING_DELIVERY
    if passcode.start is not None and passcode.start > now:
        return Status.PENDING
    return Status.ACTIVE


def record_item(
    record: CodeRecord, listed: Passcode | None, now: datetime, expose: bool
) -> dict[str, Any]:
    """One ledger code as ``list_codes`` shows it."""
    status = record.status(now)
    kind = listed.kind if listed else CodeKind.PERIOD
    if record.offline_kind is not None:
        kind = code_kind(OfflineKind(record.offline_kind))
    item: dict[str, Any] = {
        "code_id": record.id if not record.foreign else record.cloud_id,
        "cloud_id": record.cloud_id,
        "name": record.name,
        "kind": kind.value,
        "start": iso_local(record.start),
        "end": iso_local(record.end),
        "status": status.value,
        "created_by_integration": not record.foreign,
    }
    if status in (Status.QUEUED, Status.FAILED, Status.UPDATING, Status.PENDING_DELETE):
        item["attempts"] = record.attempts
        item["reason"] = record.reason
    if record.is_offline:
        # Its rules and deadlines (the lock checks it by itself).
        item["offline"] = offline_details(record)
    if expose and record.code:
        item["code"] = record.code
    return item


def passcode_item(passcode: Passcode, now: datetime, expose: bool) -> dict[str, Any]:
    """A code on the lock that the ledger does not manage."""
    timed = passcode.kind is not CodeKind.PERMANENT
    item: dict[str, Any] = {
        "code_id": passcode.code_id,
        "cloud_id": passcode.code_id,
        "name": passcode.name,
        "kind": passcode.kind.value,
        "start": iso_local(passcode.start) if timed else None,
        "end": iso_local(passcode.end) if timed else None,
        "status": listed_status(passcode, now).value,
        "created_by_integration": False,
    }
    if expose:
        item["code"] = passcode.code
    return item


def lock_codes(
    ledger: CodeLedger,
    lock_id: str,
    listing: Listing | None,
    *,
    now: datetime,
    expose: bool,
    stale: bool,
) -> dict[str, Any]:
    """``list_codes``'s answer for one lock."""
    listed = {c.code_id: c for c in listing.codes} if listing else {}
    codes: list[dict[str, Any]] = []
    for record in ledger.live_for_lock(lock_id):
        passcode = listed.pop(record.cloud_id, None) if record.cloud_id else None
        codes.append(record_item(record, passcode, now, expose))
    codes.extend(passcode_item(p, now, expose) for p in listed.values())
    answer: dict[str, Any] = {"codes": codes, "stale": stale}
    answer["listed_at"] = iso_local(listing.at) if listing else None
    if stale:
        answer["age_seconds"] = (
            round((now - listing.at).total_seconds()) if listing else None
        )
    return answer
