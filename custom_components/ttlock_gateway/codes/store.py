"""The ledger's file, ``.storage/ttlock_gateway.<entry_id>.codes``, and its migration.

Version 1 was the request queue's list (``id, lock_id, name, code, start,
end, code_id, status, attempts, next_attempt, reason, created``). Version 2
holds ledger records (``model.record_to_dict``), the last listing of each lock
(without foreign digits) and the clean-up's "seen ended" marks.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, LOGGER
from ..providers.bounds import clean_text
from .model import BadRecordError, CodeRecord, record_to_dict

STORAGE_VERSION = 2
# A migrated record whose name was unreadable still needs a name.
FALLBACK_NAME = "Guest code"


def storage_key(entry_id: str) -> str:
    """The entry's ledger file (the same file the request queue used)."""
    return f"{DOMAIN}.{entry_id}.codes"


def empty_data() -> dict[str, Any]:
    """A ledger file with nothing in it."""
    return {"codes": [], "listings": {}, "ended_seen": []}


def _v1_time(raw: Any) -> Any:
    if raw is None:
        return None
    parsed = dt_util.parse_datetime(raw) if isinstance(raw, str) else None
    if parsed is None:
        raise BadRecordError("time")
    return dt_util.as_utc(parsed)


def _v1_record(item: Any) -> CodeRecord:
    """A queue record (version 1) as a ledger record."""
    if not isinstance(item, dict):
        raise BadRecordError("not an object")
    status = item.get("status")
    code = item.get("code")
    if not isinstance(code, str) or not (code.isascii() and code.isdigit()):
        raise BadRecordError("code")
    record_id, lock_id = item.get("id"), item.get("lock_id")
    if not isinstance(record_id, str) or not isinstance(lock_id, str):
        raise BadRecordError("id")
    start, end = _v1_time(item.get("start")), _v1_time(item.get("end"))
    if start is None or end is None:
        raise BadRecordError("window")
    # The queue stored the string "None" when an answer lacked keyboardPwdId.
    cloud_id = item.get("code_id")
    if not isinstance(cloud_id, str) or cloud_id in ("", "None"):
        cloud_id = None
    attempts = item.get("attempts")
    record = CodeRecord(
        id=record_id,
        lock_id=lock_id,
        name=clean_text(item.get("name"), max_length=50) or FALLBACK_NAME,
        code=code,
        start=start,
        end=end,
        created=_v1_time(item.get("created")) or dt_util.utcnow(),
        attempts=attempts if isinstance(attempts, int) and attempts >= 0 else 0,
        next_attempt=_v1_time(item.get("next_attempt")),
        reason=clean_text(item.get("reason")) or None,
    )
    if status == "added" and cloud_id is not None:
        record.cloud_id = cloud_id
        record.applied = record.revision
    elif status in ("added", "queued", "failed"):
        # Queued or failed uploads may have landed unseen (a timeout is not a
        # refusal); "added" without an id landed for sure: all are looked for
        # in the lock's listing before anything else is sent.
        record.uncertain = True
        record.failed = status == "failed"
        if status == "added":
            record.attempts = 0
    else:
        raise BadRecordError("status")
    return record


def migrate_v1(old_data: Any) -> dict[str, Any]:
    """Version 1 (the request queue) to version 2 (the ledger)."""
    data = empty_data()
    items = old_data.get("codes") if isinstance(old_data, dict) else None
    skipped = 0
    for item in items if isinstance(items, list) else []:
        try:
            data["codes"].append(record_to_dict(_v1_record(item)))
        except BadRecordError:
            skipped += 1
    if skipped:
        LOGGER.warning("%s unreadable code queue records were not migrated", skipped)
    return data


class LedgerStore(Store[dict[str, Any]]):
    """The ledger's ``Store``, migrating the request queue's file."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Open the entry's ledger file."""
        super().__init__(hass, STORAGE_VERSION, storage_key(entry_id))

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: Any
    ) -> dict[str, Any]:
        if old_major_version == 1:
            return migrate_v1(old_data)
        # Version 1 (the request queue) is the only older format; Store itself
        # refuses a newer file (a downgrade) before asking for a migration.
        raise ValueError(f"No migration from code ledger version {old_major_version}")
