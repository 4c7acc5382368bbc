"""Guest code services: add, delete and list codes; read a lock's events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import secrets
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_CODE, ATTR_NAME
from homeassistant.core import (
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

from .code_queue import (
    STATUS_ADDED,
    STATUS_FAILED,
    STATUS_QUEUED,
    CodeQueue,
    CodeRecord,
    parse_time,
)
from .const import CONF_EXPOSE_CODES, DOMAIN, LOGGER
from .coordinator import LockCoordinator, TTLockGatewayConfigEntry
from .entity import call_cloud
from .providers.models import CodeKind, Lock, LockEvent, Passcode, ProviderError

SERVICE_ADD_CODE = "add_code"
SERVICE_DELETE_CODE = "delete_code"
SERVICE_LIST_CODES = "list_codes"
SERVICE_GET_EVENTS = "get_events"

ATTR_CODE_ID = "code_id"
ATTR_START = "start"
ATTR_END = "end"
ATTR_FIRST_ONLY = "first_only"

# TTLock's app and API accept long names, but the lock's own record list and
# the vendor apps cut them; 50 characters keeps them readable everywhere.
NAME_MAX_LENGTH = 50
# Generated TTLock codes: 6 digits (the cloud allows 4-9); fixed-length clouds
# (Tuya) use their only length.
GENERATED_LENGTH = 6
DEFAULT_EVENTS_WINDOW = timedelta(days=7)
# TTLock keeps records for about six months.
MAX_EVENTS_WINDOW = timedelta(days=186)

STATUS_ACTIVE = "active"
STATUS_PENDING = "pending"
STATUS_EXPIRED = "expired"

ADD_CODE_SCHEMA = cv.make_entity_service_schema(
    {
        vol.Required(ATTR_NAME): cv.string,
        vol.Required(ATTR_START): cv.datetime,
        vol.Required(ATTR_END): cv.datetime,
        vol.Optional(ATTR_CODE): cv.string,
    }
)
DELETE_CODE_SCHEMA = cv.make_entity_service_schema(
    {
        vol.Optional(ATTR_CODE_ID): cv.string,
        vol.Optional(ATTR_NAME): cv.string,
        vol.Optional(ATTR_CODE): cv.string,
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


@dataclass(slots=True)
class Target:
    """One targeted lock entity resolved to its entry and cloud lock."""

    entity_id: str
    entry: TTLockGatewayConfigEntry
    coordinator: LockCoordinator
    queue: CodeQueue
    lock: Lock


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
                queue=entry.runtime_data.code_queue,
                lock=lock,
            )
        )
    return targets


def _check_name(name: str) -> str:
    name = name.strip()
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


def _generate_code(length: int, taken: set[str]) -> str:
    """A random code of ``length`` digits, none of ``taken``, not all one digit."""
    for _ in range(1000):
        code = "".join(secrets.choice("0123456789") for _ in range(length))
        if code not in taken and len(set(code)) > 1:
            return code
    raise HomeAssistantError(translation_domain=DOMAIN, translation_key="no_free_code")


async def _async_add_code(call: ServiceCall) -> ServiceResponse:
    targets = await _resolve_targets(call)
    name = _check_name(call.data[ATTR_NAME])
    start = _as_utc(call.data[ATTR_START])
    end = _as_utc(call.data[ATTR_END])
    if end <= start:
        raise _invalid("end_before_start")
    if end <= dt_util.utcnow():
        raise _invalid("end_in_past")
    code: str | None = call.data.get(ATTR_CODE)
    if code is not None:
        code = code.strip()
    for target in targets:
        if not target.lock.capabilities.codes:
            raise _invalid("codes_not_supported", name=target.lock.name)
        if code is not None:
            _check_code_length(code, target)

    results: dict[str, Any] = {}
    errors: list[tuple[str, HomeAssistantError]] = []
    for target in targets:
        lock = target.lock
        lock_code = code
        if lock_code is None:
            lock_code = await _async_new_code(target)
        try:
            record = await target.queue.async_add(lock, name, lock_code, start, end)
        except HomeAssistantError as err:
            if len(targets) == 1:
                raise
            errors.append((lock.name, err))
            continue
        if record["status"] == STATUS_FAILED:
            results[target.entity_id] = {
                "code_id": None,
                "code": lock_code,
                "status": STATUS_FAILED,
                "reason": record["reason"],
            }
            continue
        results[target.entity_id] = {
            "code_id": record["code_id"],
            "code": lock_code,
            "status": record["status"],
        }
    if errors:
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


async def _async_new_code(target: Target) -> str:
    """A random code of the lock's length that is not on the lock yet."""
    caps = target.lock.capabilities
    length = min(max(GENERATED_LENGTH, caps.code_min_length), caps.code_max_length)
    taken = {
        r["code"]
        for r in target.queue.records_for_lock(target.lock.lock_id)
        if r["status"] != STATUS_FAILED
    }
    try:
        codes = await target.coordinator.provider.async_list_codes(target.lock.lock_id)
    except ProviderError as err:
        # The upload that follows will queue or fail on the same cause.
        LOGGER.debug("Codes of %s not listed: %s", target.lock.name, type(err).__name__)
    else:
        taken |= {c.code for c in codes if c.code}
    return _generate_code(length, taken)


def _matches(
    record: CodeRecord | Passcode,
    code_id: str | None,
    name: str | None,
    code: str | None,
) -> bool:
    r_id: str | None
    r_code: str | None
    if isinstance(record, Passcode):
        r_id, r_name, r_code = record.code_id, record.name, record.code
    else:
        r_id, r_name, r_code = record["code_id"], record["name"], record["code"]
    if code_id is not None:
        return r_id == code_id
    if name is not None and r_name != name:
        return False
    return code is None or r_code == code


async def _async_delete_code(call: ServiceCall) -> ServiceResponse:
    code_id: str | None = call.data.get(ATTR_CODE_ID)
    name: str | None = call.data.get(ATTR_NAME)
    code: str | None = call.data.get(ATTR_CODE)
    if code_id is None and name is None and code is None:
        raise _invalid("delete_needs_selector")
    targets = await _resolve_targets(call)
    for target in targets:
        if not target.lock.capabilities.codes:
            raise _invalid("codes_not_supported", name=target.lock.name)

    results: dict[str, Any] = {}
    for target in targets:
        lock = target.lock
        provider = target.coordinator.provider
        records = target.queue.records_for_lock(lock.lock_id)
        cancelled = [
            r["id"]
            for r in records
            if r["status"] != STATUS_ADDED and _matches(r, code_id, name, code)
        ]
        to_delete: set[str] = {
            r["code_id"]
            for r in records
            if r["status"] == STATUS_ADDED
            and r["code_id"]
            and _matches(r, code_id, name, code)
        }
        if code_id is not None and not cancelled:
            to_delete.add(code_id)
        elif code_id is None:
            listed = await call_cloud(
                provider.async_list_codes(lock.lock_id), lock.name
            )
            to_delete |= {c.code_id for c in listed if _matches(c, code_id, name, code)}
        if not to_delete and not cancelled:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="code_not_found",
                translation_placeholders={"name": lock.name},
            )
        deleted: list[str] = []
        for cloud_id in sorted(to_delete):
            await call_cloud(
                provider.async_delete_code(lock.lock_id, cloud_id), lock.name
            )
            deleted.append(cloud_id)
        forget = cancelled + [
            r["id"] for r in records if r["code_id"] and r["code_id"] in to_delete
        ]
        if forget:
            await target.queue.async_forget(forget)
        results[target.entity_id] = {"deleted": deleted, "cancelled": len(cancelled)}
    return results


def _status(passcode: Passcode, now: datetime) -> str:
    if passcode.end is not None and passcode.end <= now:
        return STATUS_EXPIRED
    if not passcode.delivered or (passcode.start is not None and passcode.start > now):
        return STATUS_PENDING
    return STATUS_ACTIVE


def _iso(value: datetime | None) -> str | None:
    return dt_util.as_local(value).isoformat() if value is not None else None


async def _async_list_codes(call: ServiceCall) -> ServiceResponse:
    targets = await _resolve_targets(call)
    for target in targets:
        if not target.lock.capabilities.codes:
            raise _invalid("codes_not_supported", name=target.lock.name)
    now = dt_util.utcnow()
    results: dict[str, Any] = {}
    for target in targets:
        lock = target.lock
        expose = bool(target.entry.options.get(CONF_EXPOSE_CODES))
        listed = await call_cloud(
            target.coordinator.provider.async_list_codes(lock.lock_id), lock.name
        )
        records = target.queue.records_for_lock(lock.lock_id)
        own_ids = {r["code_id"] for r in records if r["code_id"]}
        codes: list[dict[str, Any]] = []
        for passcode in listed:
            item: dict[str, Any] = {
                "code_id": passcode.code_id,
                "name": passcode.name,
                "kind": passcode.kind.value,
                "start": _iso(passcode.start)
                if passcode.kind is not CodeKind.PERMANENT
                else None,
                "end": _iso(passcode.end)
                if passcode.kind is not CodeKind.PERMANENT
                else None,
                "status": _status(passcode, now),
                "created_by_integration": passcode.code_id in own_ids,
            }
            if expose:
                item["code"] = passcode.code
            codes.append(item)
        for record in records:
            if record["status"] not in (STATUS_QUEUED, STATUS_FAILED):
                continue
            item = {
                "code_id": None,
                "name": record["name"],
                "kind": CodeKind.PERIOD.value,
                "start": _iso(parse_time(record["start"])),
                "end": _iso(parse_time(record["end"])),
                "status": record["status"],
                "created_by_integration": True,
                "attempts": record["attempts"],
                "reason": record["reason"],
            }
            if expose:
                item["code"] = record["code"]
            codes.append(item)
        results[target.entity_id] = {"codes": codes}
    return results


def _event_dict(event: LockEvent, expose: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "event_id": event.event_id,
        "time": _iso(event.time),
        "type": event.type.value,
        "method": event.method.value,
        "success": event.success,
        "user": event.user,
        "code_id": event.code_id,
        "code_name": event.code_name,
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
        if code is not None:
            events = [ev for ev in events if code in (ev.code, ev.code_id)]
        if first_only:
            events = events[:1]
        results[target.entity_id] = {
            "events": [_event_dict(ev, expose) for ev in events]
        }
    return results


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's services."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_ADD_CODE,
        _async_add_code,
        schema=ADD_CODE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_DELETE_CODE,
        _async_delete_code,
        schema=DELETE_CODE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_LIST_CODES,
        _async_list_codes,
        schema=LIST_CODES_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_EVENTS,
        _async_get_events,
        schema=GET_EVENTS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
