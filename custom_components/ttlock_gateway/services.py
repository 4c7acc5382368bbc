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
    entity_registry as er,
    target as target_helpers,
)
from homeassistant.util import dt as dt_util
import probatio as vol

from .codes.generate import NoFreeCodeError, codes_for
from .codes.ledger import CodeLedger, Outcome, WaitKind
from .codes.model import CodeRecord, Status
from .codes.reconciler import Reconciler
from .codes.view import iso_local, lock_codes
from .const import CONF_EXPOSE_CODES, DOMAIN, LOGGER
from .coordinator import LockCoordinator, TTLockGatewayConfigEntry
from .entity import call_cloud, translate_error
from .providers.bounds import has_unsafe_text
from .providers.models import (
    CodeStorageFullError,
    DuplicateCodeError,
    Lock,
    LockEvent,
    Passcode,
    ProviderError,
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
        vol.Required(ATTR_END): cv.datetime,
        vol.Optional(ATTR_CODE): cv.string,
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


async def _resolve_targets(call: ServiceCall) -> list[Target]:
    """Map the call's entity targets to loaded entries and cloud locks."""
    hass = call.hass
    selected = target_helpers.async_extract_referenced_entity_ids(
        hass, target_helpers.TargetSelection(call.data)
    )
    registry = er.async_get(hass)

    def ours(entity_id: str) -> bool:
        reg_entry = registry.async_get(entity_id)
        return (
            reg_entry is not None
            and reg_entry.platform == DOMAIN
            and reg_entry.domain == "lock"
            and reg_entry.config_entry_id is not None
        )

    # Named entities must be our locks; a device or area also brings sensors
    # and other integrations' entities, which are simply not targets.
    for entity_id in sorted(selected.referenced):
        if not ours(entity_id):
            raise _invalid("not_a_lock", entity_id=entity_id)
    entity_ids = sorted(
        selected.referenced | {e for e in selected.indirectly_referenced if ours(e)}
    )
    if not entity_ids:
        raise _invalid("no_target")
    targets: list[Target] = []
    for entity_id in entity_ids:
        reg_entry = registry.async_get(entity_id)
        if reg_entry is None or reg_entry.config_entry_id is None:
            raise _invalid("not_a_lock", entity_id=entity_id)
        entry: TTLockGatewayConfigEntry | None = hass.config_entries.async_get_entry(
            reg_entry.config_entry_id
        )
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            raise _invalid("entry_not_loaded", entity_id=entity_id)
        coordinator = entry.runtime_data.coordinator
        runner = entry.runtime_data.codes
        if runner.stopped:
            raise _invalid("entry_not_loaded", entity_id=entity_id)
        data = coordinator.current_data
        lock = None
        if data is not None:
            lock = next(
                (
                    candidate
                    for lock_id, candidate in data.locks.items()
                    if coordinator.device_key(lock_id) == reg_entry.unique_id
                ),
                None,
            )
        if lock is None:
            raise _invalid("not_a_lock", entity_id=entity_id)
        targets.append(
            Target(
                entity_id=entity_id,
                entry=entry,
                coordinator=coordinator,
                runner=runner,
                lock=lock,
            )
        )
    return targets


def _need_codes(targets: list[Target]) -> None:
    for target in targets:
        if not target.lock.capabilities.codes:
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
    if not caps.code_min_length <= len(code) <= caps.code_max_length:
        length = (
            str(caps.code_min_length)
            if caps.code_min_length == caps.code_max_length
            else f"{caps.code_min_length}-{caps.code_max_length}"
        )
        raise _invalid("code_wrong_length", name=target.lock.name, length=length)


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
    return translate_error(err, lock_name)


# --------------------------------------------------------------------- add


async def _async_add_code(
    call: ServiceCall, booking: BookingSource | None = None
) -> ServiceResponse:
    targets = await _resolve_targets(call)
    name = _check_name(call.data[ATTR_NAME])
    start = _as_utc(call.data[ATTR_START])
    end = _as_utc(call.data[ATTR_END])
    _check_window(start, end)
    code: str | None = call.data.get(ATTR_CODE)
    if code is not None:
        code = code.strip()
    _need_codes(targets)
    if code is not None:
        for target in targets:
            _check_code_length(code, target)
    for target in targets:
        await _known_codes(target)
    if code is not None:
        for target in targets:
            if code in target.ledger.taken_digits(target.lock.lock_id):
                raise _invalid("duplicate_code", name=target.lock.name)
    digits = _digits_for(targets, code)

    now = dt_util.utcnow()
    code_id = uuid.uuid4().hex
    pairs = [
        (
            target,
            CodeRecord(
                id=code_id,
                lock_id=target.lock.lock_id,
                name=name,
                code=digits[target.entity_id],
                start=start,
                end=end,
                created=now,
                generated=code is None,
                source=booking.calendar if booking else None,
                booking_uid=booking.uid if booking else None,
                booking_recurrence=booking.recurrence_id if booking else None,
            ),
        )
        for target in targets
    ]
    outcomes = await _submit(pairs, WaitKind.ADD)

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
            # The record's digits: a generated code may have been re-drawn.
            "code": record.code,
            "status": outcome.status.value,
        }
        if outcome.status is not Status.ADDED:
            item["reason"] = outcome.reason
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
        assert record.start is not None
        assert record.end is not None
        new_start, new_end = start or record.start, end or record.end
        _check_window(new_start, new_end)
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
            if c.code_id not in claimed and _named(name, code, c.name, c.code)
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
            record.present = False
            record.failed = False
            record.attempts = 0
            record.reason = None
            pairs.append((target, record))
    outcomes = await _submit_each(pairs, WaitKind.DELETE)
    results: dict[str, Any] = {}
    for target, records, gone in plans:
        answer: dict[str, list[str]] = {
            "deleted": [],
            "pending_delete": [],
            "cancelled": [],
            "already_deleted": list(gone),
            "failed": [],
        }
        for record in records:
            shown = record.cloud_id if record.foreign else record.id
            assert shown is not None
            status = outcomes[record.key].status
            bucket = {
                Status.DELETED: "deleted",
                Status.CANCELLED: "cancelled",
                Status.FAILED: "failed",
            }.get(status, "pending_delete")
            answer[bucket].append(shown)
        results[target.entity_id] = answer
    return results


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
        events = await call_cloud(
            target.coordinator.provider.async_get_events(lock.lock_id, start, end),
            lock.name,
        )
        events.sort(key=lambda ev: ev.time)
        matched = [(ev, target.runner.matcher.match(ev)) for ev in events]
        if code is not None:
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
