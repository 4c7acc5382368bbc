"""Guest code services: add, update, delete and list codes; read a lock's events.

Each code service runs one way: validate everything (nothing reaches a cloud
before the input is known good), hand the desired state to the entry's code
ledger, and answer with what the ledger then knows is true on the lock.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
import uuid

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_CODE, ATTR_NAME
from homeassistant.core import (
    Context,
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
    target as target_helpers,
)
from homeassistant.util import dt as dt_util
import probatio as vol

from .codes.generate import NoFreeCodeError, codes_for
from .codes.ledger import CodeLedger, Outcome, WaitKind
from .codes.model import CodeRecord, Status
from .codes.offline import apply_window, offline_details
from .codes.reconciler import Reconciler
from .codes.view import iso_local, lock_codes
from .const import CONF_EXPOSE_CODES, DOMAIN, LOGGER, PROVIDER_GATEWAY_SERVICE
from .coordinator import LockCoordinator, TTLockGatewayConfigEntry
from .entity import call_cloud, translate_error
from .providers.bounds import has_unsafe_text
from .providers.models import (
    CodePhase,
    CodeStorageFullError,
    CodeUsageProvider,
    DuplicateCodeError,
    Lock,
    LockEvent,
    NotSupportedError,
    OfflineKind,
    Passcode,
    ProviderError,
    Repeat,
)
from .providers.offline_codes import (
    OfflineCodeError,
    OfflineCodeRequest,
    OfflineWindow,
)

SERVICE_ADD_CODE = "add_code"
SERVICE_UPDATE_CODE = "update_code"
SERVICE_DELETE_CODE = "delete_code"
SERVICE_LIST_CODES = "list_codes"
SERVICE_GET_EVENTS = "get_events"

ATTR_CODE_ID = "code_id"
ATTR_START = "start"
ATTR_END = "end"
ATTR_FIRST_ONLY = "first_only"
ATTR_INCLUDE_FOREIGN = "include_foreign"
ATTR_OFFLINE = "offline"
ATTR_ONE_TIME = "one_time"
ATTR_REPEAT = "repeat"
ATTR_CLEAR_CODE = "clear_code"
ATTR_PHONE = "phone"

# TTLock's app and API accept long names, but the lock's own record list and
# the vendor apps cut them; 50 characters keeps them readable everywhere.
NAME_MAX_LENGTH = 50
DEFAULT_EVENTS_WINDOW = timedelta(days=7)
# TTLock keeps records for about six months.
MAX_EVENTS_WINDOW = timedelta(days=186)
# A listing younger than this is good enough to refuse duplicate digits.
LISTING_FRESH = timedelta(minutes=5)

ADD_CODE_SCHEMA = cv.make_entity_service_schema(
    {
        vol.Required(ATTR_NAME): cv.string,
        vol.Required(ATTR_START): cv.datetime,
        # No end: a permanent (offline) code, or a one-time one.
        vol.Optional(ATTR_END): cv.datetime,
        vol.Optional(ATTR_CODE): cv.string,
        vol.Optional(ATTR_OFFLINE): cv.boolean,
        vol.Optional(ATTR_ONE_TIME, default=False): cv.boolean,
        vol.Optional(ATTR_REPEAT): vol.In([r.value for r in Repeat]),
        # Where a cloud texts the code (Dding); the others ignore it.
        vol.Optional(ATTR_PHONE): cv.string,
    }
)
UPDATE_CODE_SCHEMA = cv.make_entity_service_schema(
    {
        vol.Required(ATTR_CODE_ID): cv.string,
        vol.Optional(ATTR_NAME): cv.string,
        vol.Optional(ATTR_START): cv.datetime,
        vol.Optional(ATTR_END): cv.datetime,
    }
)
DELETE_CODE_SCHEMA = cv.make_entity_service_schema(
    {
        vol.Optional(ATTR_CODE_ID): cv.string,
        vol.Optional(ATTR_NAME): cv.string,
        vol.Optional(ATTR_CODE): cv.string,
        vol.Optional(ATTR_INCLUDE_FOREIGN, default=False): cv.boolean,
        # TTLock: also issue a delete code for the keypad (it clears every
        # code of the lock) when an offline code cannot be deleted remotely.
        vol.Optional(ATTR_CLEAR_CODE, default=False): cv.boolean,
    }
)
LIST_CODES_SCHEMA = cv.make_entity_service_schema({})
GET_EVENTS_SCHEMA = cv.make_entity_service_schema(
    {
        vol.Optional(ATTR_START): cv.datetime,
        vol.Optional(ATTR_END): cv.datetime,
        vol.Optional(ATTR_CODE): cv.string,
        vol.Optional(ATTR_FIRST_ONLY, default=False): cv.boolean,
    }
)


@dataclass(frozen=True, slots=True)
class BookingSource:
    """The booking a sync adds a code for (stored on its records)."""

    calendar: str
    uid: str
    recurrence_id: str | None = None


@dataclass(slots=True)
class Target:
    """One targeted lock entity resolved to its entry, ledger and cloud lock."""

    entity_id: str
    entry: TTLockGatewayConfigEntry
    coordinator: LockCoordinator
    runner: Reconciler
    lock: Lock

    @property
    def ledger(self) -> CodeLedger:
        """The entry's code ledger."""
        return self.runner.ledger


def _invalid(key: str, **placeholders: Any) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={k: str(v) for k, v in placeholders.items()},
    )


def _as_utc(value: datetime) -> datetime:
    """A service datetime (naive means Home Assistant's time zone) in UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(value)


def _lock_of(
    hass: HomeAssistant, entity_id: str
) -> tuple[TTLockGatewayConfigEntry, Lock] | None:
    """The lock whose device an entity of ours belongs to (any platform).

    By the entity's device, not its unique id: lock ids may share prefixes.
    Raises ``entry_not_loaded`` for an entity of an entry that is not loaded.
    """
    reg_entry = er.async_get(hass).async_get(entity_id)
    if (
        reg_entry is None
        or reg_entry.platform != DOMAIN
        or reg_entry.config_entry_id is None
        or reg_entry.device_id is None
    ):
        return None
    entry: TTLockGatewayConfigEntry | None = hass.config_entries.async_get_entry(
        reg_entry.config_entry_id
    )
    if entry is None or entry.state is not ConfigEntryState.LOADED:
        raise _invalid("entry_not_loaded", entity_id=entity_id)
    if entry.runtime_data.codes.stopped:
        raise _invalid("entry_not_loaded", entity_id=entity_id)
    device = dr.async_get(hass).async_get(reg_entry.device_id)
    if device is None:
        return None
    coordinator = entry.runtime_data.coordinator
    data = coordinator.current_data
    if data is None:
        return None
    keys = {ident for domain, ident in device.identifiers if domain == DOMAIN}
    for lock_id, lock in data.locks.items():
        if coordinator.device_key(lock_id) in keys:
            return entry, lock
    return None


def _answer_key(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry, lock: Lock, targeted: str
) -> str:
    """The entity id a lock's answers are keyed by: its lock entity where it has
    one, else its activity event entity (every lock has one), else the targeted."""
    registry = er.async_get(hass)
    device_key = entry.runtime_data.coordinator.device_key(lock.lock_id)
    return (
        registry.async_get_entity_id("lock", DOMAIN, device_key)
        or registry.async_get_entity_id("event", DOMAIN, f"{device_key}_activity")
        or targeted
    )


async def _resolve_targets(call: ServiceCall) -> list[Target]:
    """Map the call's targets (lock devices, or any entity of a lock's device)
    to loaded entries and cloud locks, one target per lock.

    Locks without remote control (Dding) have no lock entity: their device or
    any of their entities names them.
    """
    hass = call.hass
    selected = target_helpers.async_extract_referenced_entity_ids(
        hass, target_helpers.TargetSelection(call.data)
    )
    # Named entities must be a lock's; a device or area also brings gateways,
    # the account and other integrations' entities, which are not targets.
    found: dict[tuple[str, str], tuple[TTLockGatewayConfigEntry, Lock, str]] = {}
    for entity_id in sorted(selected.referenced):
        resolved = _lock_of(hass, entity_id)
        if resolved is None:
            raise _invalid("not_a_lock", entity_id=entity_id)
        entry, lock = resolved
        found.setdefault((entry.entry_id, lock.lock_id), (entry, lock, entity_id))
    for entity_id in sorted(selected.indirectly_referenced):
        try:
            resolved = _lock_of(hass, entity_id)
        except ServiceValidationError:
            resolved = None
        if resolved is not None:
            entry, lock = resolved
            found.setdefault((entry.entry_id, lock.lock_id), (entry, lock, entity_id))
    if not found:
        raise _invalid("no_target")
    targets = [
        Target(
            entity_id=_answer_key(hass, entry, lock, targeted),
            entry=entry,
            coordinator=entry.runtime_data.coordinator,
            runner=entry.runtime_data.codes,
            lock=lock,
        )
        for entry, lock, targeted in found.values()
    ]
    targets.sort(key=lambda t: t.entity_id)
    return targets


def _need_codes(targets: list[Target]) -> None:
    """Every target takes codes: uploaded ones, or offline ones."""
    for target in targets:
        caps = target.lock.capabilities
        if not caps.custom_codes and not caps.offline_codes:
            raise _invalid("codes_not_supported", name=target.lock.name)


def _check_name(name: str) -> str:
    name = name.strip()
    if has_unsafe_text(name):
        # Control characters break logs and UIs; a lone surrogate would make
        # every save of the code ledger fail.
        raise _invalid("invalid_name_characters")
    if not 1 <= len(name) <= NAME_MAX_LENGTH:
        raise _invalid("invalid_name", max=NAME_MAX_LENGTH)
    return name


def _check_code_length(code: str, target: Target) -> None:
    caps = target.lock.capabilities
    if not code.isascii() or not code.isdigit():
        raise _invalid("code_not_digits")
    if code.startswith("0") and not caps.code_leading_zero:
        # The gateway service stores codes as numbers: "0123" would be 123.
        raise _invalid("code_leading_zero", name=target.lock.name)
    if not caps.code_min_length <= len(code) <= caps.code_max_length:
        length = (
            str(caps.code_min_length)
            if caps.code_min_length == caps.code_max_length
            else f"{caps.code_min_length}-{caps.code_max_length}"
        )
        raise _invalid("code_wrong_length", name=target.lock.name, length=length)


def _check_phone(phone: str) -> str:
    """5-20 digits with an optional leading + (blanks and dashes dropped)."""
    text = phone.strip().replace(" ", "").replace("-", "")
    digits = text.removeprefix("+")
    if not (digits.isascii() and digits.isdigit() and 5 <= len(digits) <= 20):
        raise _invalid("invalid_phone")
    return text


def _check_window(start: datetime, end: datetime) -> None:
    if end <= start:
        raise _invalid("end_before_start")
    if end <= dt_util.utcnow():
        raise _invalid("end_in_past")


async def _listing(target: Target, *, fresh: timedelta | None) -> list[Passcode]:
    """The lock's codes: a listing younger than ``fresh``, or a new one.

    Raises ``ProviderError`` when a new listing is needed and fails.
    """
    ledger = target.ledger
    lock_id = target.lock.lock_id
    cached = ledger.listings.get(lock_id)
    if (
        fresh is not None
        and cached is not None
        and cached.with_digits
        and dt_util.utcnow() - cached.at < fresh
    ):
        return cached.codes
    requested = dt_util.utcnow()
    codes = await target.coordinator.provider.async_list_codes(lock_id)
    ledger.note_listing(lock_id, codes, requested)
    return codes


async def _known_codes(target: Target) -> None:
    """Refresh the ledger's view of the lock, if it can (duplicate check)."""
    try:
        await _listing(target, fresh=LISTING_FRESH)
    except ProviderError as err:
        # The upload that follows will queue or fail on the same cause.
        LOGGER.debug("Codes of %s not listed: %s", target.lock.name, type(err).__name__)


def _by_runner(
    pairs: list[tuple[Target, CodeRecord]],
) -> dict[Reconciler, list[tuple[Target, CodeRecord]]]:
    grouped: dict[Reconciler, list[tuple[Target, CodeRecord]]] = defaultdict(list)
    for target, record in pairs:
        grouped[target.runner].append((target, record))
    return grouped


async def _submit(
    pairs: list[tuple[Target, CodeRecord]], kind: WaitKind
) -> dict[str, Outcome]:
    """Hand records to their ledgers; outcomes by entity id."""
    grouped = _by_runner(pairs)
    results = await asyncio.gather(
        *(
            runner.async_submit([r for _, r in items], kind)
            for runner, items in grouped.items()
        )
    )
    outcomes: dict[str, Outcome] = {}
    for (_, items), answers in zip(grouped.items(), results, strict=True):
        for (target, _), outcome in zip(items, answers, strict=True):
            outcomes[target.entity_id] = outcome
    return outcomes


def _refusal(err: ProviderError, lock_name: str) -> HomeAssistantError:
    """A cloud's definite "no" to a code, as the user can act on it."""
    if isinstance(err, DuplicateCodeError):
        return _invalid("duplicate_code", name=lock_name)
    if isinstance(err, CodeStorageFullError):
        return _invalid("code_storage_full", name=lock_name)
    if isinstance(err, OfflineCodeError):
        return _invalid(err.translation_key, **err.translation_placeholders)
    return translate_error(err, lock_name)


# --------------------------------------------------------------------- add


async def _async_add_code(
    call: ServiceCall, booking: BookingSource | None = None
) -> ServiceResponse:
    targets = await _resolve_targets(call)
    name = _check_name(call.data[ATTR_NAME])
    start = _as_utc(call.data[ATTR_START])
    end = _as_utc(call.data[ATTR_END]) if ATTR_END in call.data else None
    asked = (start, end)
    code: str | None = call.data.get(ATTR_CODE)
    if code is not None:
        code = code.strip()
    kind = _offline_kind(call)
    phone = _check_phone(call.data[ATTR_PHONE]) if call.data.get(ATTR_PHONE) else None
    _need_codes(targets)
    offline = {t.entity_id: _is_offline(call, t, kind) for t in targets}
    custom = [t for t in targets if not offline[t.entity_id]]
    windows = {
        t.entity_id: _offline_window(t, name, kind, call, code)
        for t in targets
        if offline[t.entity_id]
    }
    if custom:
        if end is None:
            raise _invalid("custom_code_needs_end")
        _check_window(start, end)
    if code is not None:
        for target in custom:
            _check_code_length(code, target)
    for target in custom:
        await _known_codes(target)
    if code is not None:
        for target in custom:
            if code in target.ledger.taken_digits(target.lock.lock_id):
                raise _invalid("duplicate_code", name=target.lock.name)
    digits = _digits_for(custom, code) if custom else {}
    if custom and end is not None:
        # The window the locks will really have (the gateway service takes
        # whole UTC minutes): stored, sent and answered as such.
        start, end = _effective_window(custom, start, end)

    now = dt_util.utcnow()
    code_id = uuid.uuid4().hex
    pairs: list[tuple[Target, CodeRecord]] = []
    for target in targets:
        record = CodeRecord(
            id=code_id,
            lock_id=target.lock.lock_id,
            name=name,
            code=digits.get(target.entity_id),
            start=start,
            end=end,
            created=now,
            generated=code is None or offline[target.entity_id],
            phone=phone,
            source=booking.calendar if booking else None,
            booking_uid=booking.uid if booking else None,
            booking_recurrence=booking.recurrence_id if booking else None,
        )
        if (window := windows.get(target.entity_id)) is not None:
            # The window the lock will apply, recorded before anything is sent.
            record.offline_kind = kind.value
            record.repeat = call.data.get(ATTR_REPEAT)
            apply_window(record, window)
        pairs.append((target, record))
    outcomes = await _submit(pairs, WaitKind.ADD)
    rounded = (start, end) != asked

    results: dict[str, Any] = {}
    errors: list[tuple[str, HomeAssistantError]] = []
    for target, record in pairs:
        outcome = outcomes[target.entity_id]
        if outcome.error is not None:
            errors.append((target.lock.name, _refusal(outcome.error, target.lock.name)))
            continue
        item: dict[str, Any] = {
            "code_id": code_id,
            "cloud_id": outcome.cloud_id,
            # The record's digits: a generated code may have been re-drawn,
            # an offline one is chosen by the cloud (None until it answered).
            "code": record.code,
            "status": outcome.status.value,
        }
        if outcome.status is not Status.ADDED:
            item["reason"] = outcome.reason
        else:
            # Accepted by the cloud; False: not on the lock yet (Tuya phase 1).
            # An offline code needs no delivery: the lock checks it by itself.
            item["delivered"] = bool(outcome.delivered) or record.is_offline
        if record.is_offline:
            # Said once here: the window the lock applies and its rules.
            item["kind"] = "offline"
            item["start"] = iso_local(record.start)
            item["end"] = iso_local(record.end)
            item.update(offline_details(record))
        elif rounded:
            assert end is not None  # custom codes always have one
            item["start"] = start.isoformat()
            item["end"] = end.isoformat()
        results[target.entity_id] = item
    if errors:
        if len(targets) == 1:
            raise errors[0][1]
        # Other locks got (or queued) the code: say so rather than hide it.
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="add_code_partly_failed",
            translation_placeholders={
                "failed": ", ".join(name for name, _ in errors),
                "reason": str(errors[0][1]),
                "done": ", ".join(
                    t.lock.name for t in targets if t.entity_id in results
                )
                or "-",
            },
        ) from errors[0][1]
    return results


def _offline_kind(call: ServiceCall) -> OfflineKind:
    """The kind of code the request describes (if it is an offline one)."""
    if call.data.get(ATTR_REPEAT) is not None:
        if call.data[ATTR_ONE_TIME]:
            raise _invalid("offline_repeat_not_allowed", kind=OfflineKind.ONE_TIME)
        return OfflineKind.CYCLIC
    if call.data[ATTR_ONE_TIME]:
        return OfflineKind.ONE_TIME
    if ATTR_END not in call.data:
        return OfflineKind.PERMANENT
    return OfflineKind.PERIOD


def _is_offline(call: ServiceCall, target: Target, kind: OfflineKind) -> bool:
    """Whether this lock gets an offline code.

    Asked for (``offline: true``), a lock that takes no uploaded codes (no
    gateway), or a kind only offline codes have (one-time, permanent,
    cyclic). ``offline: false`` asks for an uploaded code or nothing.
    """
    asked: bool | None = call.data.get(ATTR_OFFLINE)
    caps = target.lock.capabilities
    if asked is False:
        if not caps.custom_codes:
            raise _invalid("codes_not_supported", name=target.lock.name)
        if kind is not OfflineKind.PERIOD:
            raise _invalid("custom_code_needs_end")
        return False
    return bool(asked) or not caps.custom_codes or kind is not OfflineKind.PERIOD


def _offline_window(
    target: Target,
    name: str,
    kind: OfflineKind,
    call: ServiceCall,
    code: str | None,
) -> OfflineWindow:
    """The cloud's window for the request on this lock, checked before any call."""
    lock = target.lock
    if code is not None:
        raise _invalid("offline_code_digits", name=lock.name)
    if kind not in lock.capabilities.offline_codes:
        raise _invalid(
            "offline_kind_not_supported",
            kind=kind.value,
            provider=lock.name,
        )
    zone = dt_util.get_default_time_zone()

    def local(value: datetime) -> datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(zone)

    repeat = call.data.get(ATTR_REPEAT)
    request = OfflineCodeRequest(
        kind,
        start=local(call.data[ATTR_START]),
        end=local(call.data[ATTR_END]) if ATTR_END in call.data else None,
        repeat=Repeat(repeat) if repeat else None,
    )
    try:
        return target.coordinator.provider.offline_window(
            request, name, dt_util.utcnow()
        )
    except OfflineCodeError as err:
        raise _invalid(err.translation_key, **err.translation_placeholders) from None
    except NotSupportedError:
        raise _invalid("codes_not_supported", name=lock.name) from None


def _effective_window(
    targets: list[Target], start: datetime, end: datetime
) -> tuple[datetime, datetime]:
    """Whole UTC minutes, widened, where a target's cloud keeps no seconds."""
    if any(
        t.coordinator.provider.provider == PROVIDER_GATEWAY_SERVICE for t in targets
    ):
        start = start.replace(second=0, microsecond=0)
        whole = end.replace(second=0, microsecond=0)
        end = whole if whole == end else whole + timedelta(minutes=1)
    return start, end


def _digits_for(targets: list[Target], code: str | None) -> dict[str, str]:
    """The digits per lock: the given code, or the ledger's generated ones."""
    if code is not None:
        return {t.entity_id: code for t in targets}
    try:
        codes = codes_for([(t.ledger, t.lock) for t in targets])
    except NoFreeCodeError:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="no_free_code"
        ) from None
    return {t.entity_id: digits for t, digits in zip(targets, codes, strict=True)}


# ------------------------------------------------------------------ update


async def _async_update_code(call: ServiceCall) -> ServiceResponse:
    targets = await _resolve_targets(call)
    code_id: str = call.data[ATTR_CODE_ID].strip()
    if not any(key in call.data for key in (ATTR_NAME, ATTR_START, ATTR_END)):
        raise _invalid("update_needs_change")
    name = _check_name(call.data[ATTR_NAME]) if ATTR_NAME in call.data else None
    start = _as_utc(call.data[ATTR_START]) if ATTR_START in call.data else None
    end = _as_utc(call.data[ATTR_END]) if ATTR_END in call.data else None
    _need_codes(targets)

    plans: list[tuple[Target, CodeRecord, str, datetime, datetime]] = []
    for target in targets:
        record = target.ledger.find(target.lock.lock_id, code_id)
        if record is None or record.foreign:
            raise _invalid("code_id_not_found", code_id=code_id, name=target.lock.name)
        if record.tombstone or not record.present:
            raise _invalid("code_deleted", code_id=code_id, name=target.lock.name)
        if record.is_offline:
            # The lock computes it from its window: no cloud can change it.
            raise _invalid("offline_code_unchangeable", name=target.lock.name)
        assert record.start is not None
        assert record.end is not None
        new_start, new_end = start or record.start, end or record.end
        _check_window(new_start, new_end)
        new_start, new_end = _effective_window([target], new_start, new_end)
        plans.append((target, record, name or record.name, new_start, new_end))

    pairs: list[tuple[Target, CodeRecord]] = []
    for target, record, new_name, new_start, new_end in plans:
        if (new_name, new_start, new_end) != (
            record.name,
            record.start,
            record.end,
        ) or record.failed:
            record.name, record.start, record.end = new_name, new_start, new_end
            record.revision += 1
            record.failed = False
            record.attempts = 0
            record.reason = None
        pairs.append((target, record))
    outcomes = await _submit(pairs, WaitKind.UPDATE)
    results: dict[str, Any] = {}
    for target, record in pairs:
        outcome = outcomes[target.entity_id]
        item: dict[str, Any] = {
            "code_id": record.id,
            "cloud_id": outcome.cloud_id,
            "status": outcome.status.value,
        }
        if outcome.status is not Status.UPDATED:
            item["reason"] = outcome.reason
        results[target.entity_id] = item
    return results


# ------------------------------------------------------------------ delete


def _named(
    name: str | None, code: str | None, item_name: str, item_code: str | None
) -> bool:
    if name is not None and item_name != name:
        return False
    return code is None or item_code == code


def _adopt(target: Target, passcode: Passcode) -> CodeRecord:
    """A foreign code taken into the ledger to be deleted (and retried)."""
    return CodeRecord(
        id=f"foreign.{passcode.code_id}",
        lock_id=target.lock.lock_id,
        name=passcode.name,
        code=None,  # foreign digits are never stored
        start=passcode.start,
        end=passcode.end,
        created=dt_util.utcnow(),
        present=False,
        foreign=True,
        cloud_id=passcode.code_id,
        applied=1,
        # A code the cloud is deleting already is watched, not deleted twice.
        phase=passcode.phase if passcode.phase is CodePhase.DELETING else None,
    )


async def _delete_plan(
    target: Target,
    code_id: str | None,
    name: str | None,
    code: str | None,
    include_foreign: bool,
) -> tuple[list[CodeRecord], list[str]]:
    """Records to delete on one lock, and ids already deleted.

    Raises a translated ``ServiceValidationError`` when nothing on this lock
    matches: a checkout automation must not be told a code is gone when it was
    never there.
    """
    ledger = target.ledger
    lock_id = target.lock.lock_id
    lock_name = target.lock.name
    if code_id is not None:
        record = ledger.find(lock_id, code_id)
        if record is not None:
            if record.tombstone:
                return [], [code_id]
            return [record], []
        # Not ours: maybe a code of the lock by its cloud id.
        codes = await call_cloud(_listing(target, fresh=None), lock_name)
        listed = next((c for c in codes if c.code_id == code_id), None)
        if listed is None:
            raise _invalid("code_id_not_found", code_id=code_id, name=lock_name)
        if listed.protected:
            # Dding's administrator password (id 999; the SaaS answers 15013).
            raise _invalid("code_protected", code_id=code_id, name=lock_name)
        if listed.phase is CodePhase.REVOKED:
            return [], [code_id]  # listed, but the lock no longer takes it
        return [_adopt(target, listed)], []
    records = [
        r
        for r in ledger.live_for_lock(lock_id)
        if not r.foreign and _named(name, code, r.name, r.code)
    ]
    if include_foreign:
        codes = await call_cloud(_listing(target, fresh=None), lock_name)
        claimed = ledger.claimed(lock_id)
        records += [
            _adopt(target, c)
            for c in codes
            if c.code_id not in claimed
            and c.phase is not CodePhase.REVOKED
            and not c.protected  # never the administrator password
            and _named(name, code, c.name, c.code)
        ]
    elif not records:
        try:
            codes = await _listing(target, fresh=LISTING_FRESH)
        except ProviderError:
            codes = []
        claimed = ledger.claimed(lock_id)
        foreign = [
            c
            for c in codes
            if c.code_id not in claimed and _named(name, code, c.name, c.code)
        ]
        if foreign:
            raise _invalid(
                "only_foreign_codes_match", name=lock_name, count=len(foreign)
            )
    if not records:
        raise _invalid("code_not_found", name=lock_name)
    return records, []


async def _async_delete_code(call: ServiceCall) -> ServiceResponse:
    code_id: str | None = call.data.get(ATTR_CODE_ID)
    name: str | None = call.data.get(ATTR_NAME)
    code: str | None = call.data.get(ATTR_CODE)
    include_foreign: bool = call.data[ATTR_INCLUDE_FOREIGN]
    clear: bool = call.data[ATTR_CLEAR_CODE]
    if code_id is None and name is None and code is None:
        raise _invalid("delete_needs_selector")
    if name is not None:
        name = _check_name(name)
    if code is not None:
        code = code.strip()
    targets = await _resolve_targets(call)
    _need_codes(targets)
    plans = [
        (target, *await _delete_plan(target, code_id, name, code, include_foreign))
        for target in targets
    ]
    pairs: list[tuple[Target, CodeRecord]] = []
    for target, records, _ in plans:
        for record in records:
            if record.revoked_at is not None:
                continue  # withdrawn before: said again, nothing to send
            record.present = False
            record.failed = False
            record.attempts = 0
            record.reason = None
            pairs.append((target, record))
    outcomes = await _submit_each(pairs, WaitKind.DELETE)
    results: dict[str, Any] = {}
    for target, records, gone in plans:
        answer: dict[str, Any] = {
            "deleted": [],
            "pending_delete": [],
            "cancelled": [],
            "already_deleted": list(gone),
            "failed": [],
            # Offline codes withdrawn in the cloud that the lock still accepts.
            "revoked": [],
        }
        still: list[dict[str, Any]] = []
        for record in records:
            shown = record.cloud_id if record.foreign else record.id
            assert shown is not None
            outcome = outcomes.get(record.key) or Outcome(
                Status.REVOKED, cloud_id=record.cloud_id
            )
            bucket = {
                Status.DELETED: "deleted",
                Status.CANCELLED: "cancelled",
                Status.FAILED: "failed",
                Status.REVOKED: "revoked",
            }.get(outcome.status, "pending_delete")
            answer[bucket].append(shown)
            if outcome.status is Status.REVOKED:
                still.append(await _still_accepted(target, record, outcome, clear))
        if still:
            answer["still_accepted"] = still
        results[target.entity_id] = answer
    return results


async def _still_accepted(
    target: Target, record: CodeRecord, outcome: Outcome, clear: bool
) -> dict[str, Any]:
    """What to tell of an offline code the lock keeps accepting.

    Never "deleted": without a gateway the lock learns of it only from the
    vendor app over Bluetooth or a clearing code typed on its keypad. The
    cloud's clearing code for this code (Tuya) comes with it; a TTLock delete
    code (it clears every code of the lock) only when asked (``clear_code``).
    """
    item: dict[str, Any] = {
        "code_id": record.id,
        "lock_still_accepts": True,
        # None for a permanent code: until a sync or a clearing code.
        "accepted_until": iso_local(record.end),
        "until": "gateway_or_app_sync_or_window_end",
    }
    revocation = outcome.revocation
    code = revocation.clear_code if revocation is not None else None
    clears = "this_code"
    if code is None and clear:
        caps = target.lock.capabilities
        if OfflineKind.CLEAR_ALL in caps.offline_codes:
            clears = "all_codes"
            request = OfflineCodeRequest(OfflineKind.CLEAR_ALL, start=dt_util.now())
            code = await call_cloud(
                target.coordinator.provider.async_add_offline_code(
                    target.lock.lock_id, "Clear codes", request
                ),
                target.lock.name,
            )
    if code is not None:
        item["clear_code"] = {
            "code": code.code,
            "clears": clears,
            "valid_until": iso_local(
                code.offline.first_use_by if code.offline else code.end
            ),
        }
    return item


async def _submit_each(
    pairs: list[tuple[Target, CodeRecord]], kind: WaitKind
) -> dict[tuple[str, str], Outcome]:
    """Like ``_submit`` for several records per lock: outcomes by record key."""
    grouped = _by_runner(pairs)
    results = await asyncio.gather(
        *(
            runner.async_submit([r for _, r in items], kind)
            for runner, items in grouped.items()
        )
    )
    outcomes: dict[tuple[str, str], Outcome] = {}
    for (_, items), answers in zip(grouped.items(), results, strict=True):
        for (_, record), outcome in zip(items, answers, strict=True):
            outcomes[record.key] = outcome
    return outcomes


# -------------------------------------------------------------------- list


async def _async_list_codes(call: ServiceCall) -> ServiceResponse:
    targets = await _resolve_targets(call)
    _need_codes(targets)
    now = dt_util.utcnow()
    results: dict[str, Any] = {}
    for target in targets:
        stale = False
        try:
            await _listing(target, fresh=None)
        except ProviderError as err:
            # The cloud is down, exactly when codes are queued: answer from
            # the ledger and the last listing, and say how old that is.
            LOGGER.debug(
                "Codes of %s not listed: %s", target.lock.name, type(err).__name__
            )
            stale = True
        results[target.entity_id] = lock_codes(
            target.ledger,
            target.lock.lock_id,
            target.ledger.listings.get(target.lock.lock_id),
            now=now,
            expose=bool(target.entry.options.get(CONF_EXPOSE_CODES)),
            stale=stale,
        )
    return results


# ------------------------------------------------------------------ events


def _event_dict(
    event: LockEvent, record: CodeRecord | None, expose: bool
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "event_id": event.event_id,
        "time": iso_local(event.time),
        "type": event.type.value,
        "method": event.method.value,
        "success": event.success,
        "user": event.user,
        "code_id": record.id if record else event.code_id,
        "code_name": record.name if record else event.code_name,
    }
    if expose:
        item["code"] = event.code
    return item


async def _async_get_events(call: ServiceCall) -> ServiceResponse:
    targets = await _resolve_targets(call)
    now = dt_util.utcnow()
    end = _as_utc(call.data[ATTR_END]) if ATTR_END in call.data else now
    start = (
        _as_utc(call.data[ATTR_START])
        if ATTR_START in call.data
        else end - DEFAULT_EVENTS_WINDOW
    )
    if end <= start:
        raise _invalid("end_before_start")
    if end - start > MAX_EVENTS_WINDOW:
        raise _invalid("events_window_too_long", days=MAX_EVENTS_WINDOW.days)
    code: str | None = call.data.get(ATTR_CODE)
    first_only: bool = call.data[ATTR_FIRST_ONLY]
    results: dict[str, Any] = {}
    for target in targets:
        lock = target.lock
        expose = bool(target.entry.options.get(CONF_EXPOSE_CODES))
        provider = target.coordinator.provider
        digits = _code_digits(target, code)
        if digits is not None and isinstance(provider, CodeUsageProvider):
            # The cloud looks the code up itself (gateway service:
            # get_events_by_code, first entry by get_lock_events2 type 1).
            if first_only:
                first = await call_cloud(
                    provider.async_get_first_use([lock.lock_id], digits), lock.name
                )
                found = [first] if first is not None else []
            else:
                found = await call_cloud(
                    provider.async_get_code_events(lock.lock_id, digits), lock.name
                )
            events = [ev for ev in found if start <= ev.time <= end]
        else:
            events = await call_cloud(
                provider.async_get_events(lock.lock_id, start, end), lock.name
            )
            digits = None
        events.sort(key=lambda ev: ev.time)
        matched = [(ev, target.runner.matcher.match(ev)) for ev in events]
        if code is not None and digits is None:
            matched = [
                (ev, rec)
                for ev, rec in matched
                if code in (ev.code, ev.code_id) or (rec is not None and rec.id == code)
            ]
        if first_only:
            matched = matched[:1]
        results[target.entity_id] = {
            "events": [_event_dict(ev, rec, expose) for ev, rec in matched]
        }
    return results


def _code_digits(target: Target, code: str | None) -> str | None:
    """The digits ``code`` stands for: a ledger code's (by our id or the
    cloud's), else the digits given."""
    if code is None:
        return None
    record = target.ledger.find(target.lock.lock_id, code)
    if record is not None and record.code:
        return record.code
    return code if code.isascii() and code.isdigit() else None


async def async_code_action(
    hass: HomeAssistant,
    service: str,
    data: dict[str, Any],
    *,
    context: Context | None = None,
    booking: BookingSource | None = None,
) -> ServiceResponse:
    """Run a code service from inside the integration (calendar, booking sync).

    The same schema and handler as the service itself: the same validation,
    the same translated errors, the same answer.
    """
    schema, handler = _CODE_SERVICES[service]
    call = ServiceCall(hass, DOMAIN, service, schema(data), context, True)
    if service == SERVICE_ADD_CODE:
        return await _async_add_code(call, booking)
    return await handler(call)


_CODE_SERVICES: dict[
    str,
    tuple[
        Callable[[Any], dict[str, Any]],
        Callable[[ServiceCall], Awaitable[ServiceResponse]],
    ],
] = {
    SERVICE_ADD_CODE: (ADD_CODE_SCHEMA, _async_add_code),
    SERVICE_UPDATE_CODE: (UPDATE_CODE_SCHEMA, _async_update_code),
    SERVICE_DELETE_CODE: (DELETE_CODE_SCHEMA, _async_delete_code),
}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's services."""
    for service, handler, schema, supports in (
        (SERVICE_ADD_CODE, _async_add_code, ADD_CODE_SCHEMA, SupportsResponse.OPTIONAL),
        (
            SERVICE_UPDATE_CODE,
            _async_update_code,
            UPDATE_CODE_SCHEMA,
            SupportsResponse.OPTIONAL,
        ),
        (
            SERVICE_DELETE_CODE,
            _async_delete_code,
            DELETE_CODE_SCHEMA,
            SupportsResponse.OPTIONAL,
        ),
        (
            SERVICE_LIST_CODES,
            _async_list_codes,
            LIST_CODES_SCHEMA,
            SupportsResponse.ONLY,
        ),
        (
            SERVICE_GET_EVENTS,
            _async_get_events,
            GET_EVENTS_SCHEMA,
            SupportsResponse.ONLY,
        ),
    ):
        hass.services.async_register(
            DOMAIN, service, handler, schema=schema, supports_response=supports
        )
