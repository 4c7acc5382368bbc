"""One coordinator per account: the hourly lock list, with the 6-hourly activity poll gated inside it."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import (
    CONF_ACTIVITY_INTERVAL,
    CONF_EXPOSE_CODES,
    CONF_LOCK_LIST_INTERVAL,
    DEFAULT_ACTIVITY_INTERVAL,
    DEFAULT_LOCK_LIST_INTERVAL,
    DOMAIN,
    EVENT_LOCK,
    LOGGER,
    RETRY_AFTER_FAILURE,
)
from .providers.models import (
    AuthError,
    EventType,
    Gateway,
    Lock,
    LockEvent,
    LockProvider,
    LockState,
    ProviderError,
    RateLimitError,
    SubscriptionError,
)

if TYPE_CHECKING:
    from .codes.ledger import CodeLedger
    from .codes.reconciler import Reconciler

STORAGE_VERSION = 1
# Enough to recognise a record seen by push when the 6-hourly poll returns it.
SEEN_IDS_PER_LOCK = 500

ISSUE_RATE_LIMITED = "rate_limited"
ISSUE_SUBSCRIPTION = "subscription_lapsed"

# Events that change gateways, which several locks' entities may show.
_ACCOUNT_WIDE = frozenset({EventType.GATEWAY_OFFLINE, EventType.GATEWAY_ONLINE})

_STATE_BY_EVENT: dict[EventType, LockState] = {
    EventType.UNLOCKED: LockState.UNLOCKED,
    EventType.LOCKED: LockState.LOCKED,
}


def _gateway_ref(event: LockEvent) -> str | None:
    ref = event.raw.get("uuid")
    return str(ref) if ref is not None else None


def lock_update_signal(entry_id: str, lock_id: str) -> str:
    """Dispatcher signal asking one lock's entities to write their state."""
    return f"{DOMAIN}_{entry_id}_{lock_id}_update"


def event_signal(entry_id: str, lock_id: str) -> str:
    """Dispatcher signal carrying one lock's events to its event entity."""
    return f"{DOMAIN}_{entry_id}_{lock_id}_event"


@dataclass(slots=True)
class LockActivity:
    """What we remember about a lock's records between polls and restarts."""

    last_time: datetime | None = None
    last_event: LockEvent | None = None
    state_time: datetime | None = None
    seen: deque[str] = field(default_factory=lambda: deque(maxlen=SEEN_IDS_PER_LOCK))


@dataclass(slots=True)
class AccountData:
    """The coordinator's data: every lock and gateway of the account."""

    locks: dict[str, Lock]
    gateways: dict[str, Gateway]


type TTLockGatewayConfigEntry = ConfigEntry[RuntimeData]


@dataclass(slots=True)
class RuntimeData:
    """Objects an entry keeps while loaded."""

    provider: LockProvider
    coordinator: LockCoordinator
    ledger: CodeLedger
    codes: Reconciler


class CodeEventHook(Protocol):
    """The code ledger's view of announced events (names the codes they used)."""

    def annotate(self, event: LockEvent) -> LockEvent:
        """The event with the ledger code's ``code_id`` and ``code_name``."""

    def announced(self, event: LockEvent) -> None:
        """Called after the event went out (fires ``code_used``)."""


class LockCoordinator(DataUpdateCoordinator[AccountData]):
    """Lock list on every refresh; details and records only when the activity interval is due."""

    config_entry: TTLockGatewayConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: TTLockGatewayConfigEntry,
        provider: LockProvider,
    ) -> None:
        """Set up the schedules from the entry's options."""
        self._normal_interval = timedelta(
            minutes=entry.options.get(
                CONF_LOCK_LIST_INTERVAL, DEFAULT_LOCK_LIST_INTERVAL
            )
        )
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=self._normal_interval,
        )
        self.provider = provider
        self.activity_interval = timedelta(
            minutes=entry.options.get(CONF_ACTIVITY_INTERVAL, DEFAULT_ACTIVITY_INTERVAL)
        )
        self.activity: dict[str, LockActivity] = {}
        self.last_activity_poll: datetime | None = None
        self.webhook_seen = False
        self.new_lock_callbacks: list[Callable[[list[str]], None]] = []
        self.new_gateway_callbacks: list[Callable[[list[str]], None]] = []
        self._known_locks: set[str] = set()
        self._known_gateways: set[str] = set()
        self._relock_timers: dict[str, CALLBACK_TYPE] = {}
        self.code_events: CodeEventHook | None = None
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}.activity"
        )

    @property
    def current_data(self) -> AccountData | None:
        """The data, or None before the first successful refresh."""
        return cast("AccountData | None", self.data)

    @property
    def account_id(self) -> str:
        """Prefix that keeps unique ids apart when a lock is in two accounts."""
        return self.config_entry.unique_id or self.config_entry.entry_id

    async def _async_setup(self) -> None:
        stored = await self._store.async_load() or {}
        self.webhook_seen = bool(stored.get("webhook_seen"))
        if poll := stored.get("last_activity_poll"):
            self.last_activity_poll = dt_util.parse_datetime(poll)
        for lock_id, item in stored.get("locks", {}).items():
            act = LockActivity()
            if last := item.get("last_time"):
                act.last_time = dt_util.parse_datetime(last)
            act.seen.extend(item.get("seen", []))
            self.activity[lock_id] = act

    @callback
    def _data_to_store(self) -> dict[str, Any]:
        return {
            "webhook_seen": self.webhook_seen,
            "last_activity_poll": (
                self.last_activity_poll.isoformat() if self.last_activity_poll else None
            ),
            "locks": {
                lock_id: {
                    "last_time": act.last_time.isoformat() if act.last_time else None,
                    "seen": list(act.seen),
                }
                for lock_id, act in self.activity.items()
            },
        }

    @callback
    def save_soon(self) -> None:
        """Persist activity and webhook state (debounced)."""
        self._store.async_delay_save(self._data_to_store, 5)

    async def _async_update_data(self) -> AccountData:
        try:
            locks = await self.provider.async_list_locks()
            gateways = (
                await self.provider.async_list_gateways()
                if any(lock.has_gateway for lock in locks)
                else []
            )
        except AuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except RateLimitError as err:
            self.update_interval = self._normal_interval
            self._raise_issue(ISSUE_RATE_LIMITED)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                retry_after=err.retry_after,
            ) from err
        except SubscriptionError as err:
            self._raise_issue(ISSUE_SUBSCRIPTION)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="subscription_lapsed",
                translation_placeholders={"reason": err.message},
            ) from err
        except ProviderError as err:
            self.update_interval = RETRY_AFTER_FAILURE
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"reason": type(err).__name__},
            ) from err

        self.update_interval = self._normal_interval
        ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(ISSUE_RATE_LIMITED))
        ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(ISSUE_SUBSCRIPTION))

        merged = self._merge(locks)
        data = AccountData(
            locks=merged, gateways={gw.gateway_id: gw for gw in gateways}
        )
        now = dt_util.utcnow()
        if (
            self.last_activity_poll is None
            or now - self.last_activity_poll >= self.activity_interval
        ):
            await self._async_poll_activity(data, now)
        self._async_add_remove(data)
        return data

    def _merge(self, locks: list[Lock]) -> dict[str, Lock]:
        """Keep what only details, events or actions told us; the list lacks it."""
        previous = data.locks if (data := self.current_data) else {}
        merged: dict[str, Lock] = {}
        for lock in locks:
            if old := previous.get(lock.lock_id):
                lock = replace(
                    lock,
                    state=lock.state if lock.state is not None else old.state,
                    passage_mode=(
                        lock.passage_mode
                        if lock.passage_mode is not None
                        else old.passage_mode
                    ),
                    auto_lock_seconds=(
                        lock.auto_lock_seconds
                        if lock.auto_lock_seconds is not None
                        else old.auto_lock_seconds
                    ),
                    firmware=lock.firmware or old.firmware,
                    model=lock.model or old.model,
                    battery=lock.battery if lock.battery is not None else old.battery,
                    online=lock.online if lock.online is not None else old.online,
                )
            merged[lock.lock_id] = lock
        return merged

    async def _async_poll_activity(self, data: AccountData, now: datetime) -> None:
        """Details and new records of every lock, bounded by the client's concurrency."""
        limit = asyncio.Semaphore(max(1, self.provider.max_concurrency))

        async def poll(lock: Lock) -> None:
            async with limit:
                act = self.activity.setdefault(lock.lock_id, LockActivity())
                first = act.last_time is None
                start = act.last_time or now - self.activity_interval
                try:
                    detailed = await self.provider.async_get_lock_details(lock)
                    events = await self.provider.async_get_events(
                        lock.lock_id, start, now
                    )
                except AuthError:
                    raise
                except ProviderError as err:
                    LOGGER.debug(
                        "Activity of lock %s not fetched: %s",
                        lock.lock_id,
                        type(err).__name__,
                    )
                    return
                data.locks[lock.lock_id] = detailed
                # Records from before the first poll are history: they set the
                # state but are not announced as if they had just happened.
                self._apply_events(data, events, announce=not first)
                act.last_time = max(act.last_time or start, now - timedelta(minutes=5))

        try:
            await asyncio.gather(*(poll(lock) for lock in list(data.locks.values())))
        except AuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        self.last_activity_poll = now
        self.save_soon()

    @callback
    def async_handle_events(self, events: Iterable[LockEvent]) -> list[LockEvent]:
        """Apply pushed events; return those that were new."""
        if (data := self.current_data) is None:
            return []
        fresh = self._apply_events(data, events, announce=True)
        if not fresh:
            return fresh
        self.save_soon()
        # Only the locks concerned rewrite their state: with many locks a full
        # update per pushed record would dominate the webhook's cost.
        if any(event.type in _ACCOUNT_WIDE for event in fresh):
            self.async_update_listeners()
        else:
            for lock_id in {event.lock_id for event in fresh if event.lock_id}:
                self.async_update_lock(lock_id)
        return fresh

    @callback
    def async_update_lock(self, lock_id: str) -> None:
        """Ask one lock's entities to write their state."""
        async_dispatcher_send(
            self.hass, lock_update_signal(self.config_entry.entry_id, lock_id)
        )

    def resolve_lock_id(self, data: AccountData, event: LockEvent) -> str | None:
        """Find the lock an event belongs to, by id or by an alias (MAC, uuid)."""
        if event.lock_id and event.lock_id in data.locks:
            return event.lock_id
        ref = event.lock_id or event.raw.get("uuid")
        if ref is None:
            return None
        for lock in data.locks.values():
            if ref in lock.aliases:
                return lock.lock_id
        return None

    def _apply_events(
        self, data: AccountData, events: Iterable[LockEvent], *, announce: bool
    ) -> list[LockEvent]:
        fresh: list[LockEvent] = []
        for event in sorted(events, key=lambda ev: ev.time):
            lock_id = self.resolve_lock_id(data, event)
            act = self.activity.setdefault(lock_id or "", LockActivity())
            if event.event_id in act.seen:
                # Announced before (e.g. pushed, then polled after a restart):
                # not again, but it still tells an unknown state.
                if lock_id is not None and data.locks[lock_id].state is None:
                    self._apply_to_lock(
                        data, data.locks[lock_id], act, replace(event, lock_id=lock_id)
                    )
                continue
            act.seen.append(event.event_id)
            if lock_id is not None:
                event = replace(event, lock_id=lock_id)
                self._apply_to_lock(data, data.locks[lock_id], act, event)
            elif event.type in _ACCOUNT_WIDE:
                self._apply_to_gateways(data, event, _gateway_ref(event))
            if announce and self.code_events is not None:
                event = self.code_events.annotate(event)
            fresh.append(event)
            if announce:
                self._announce(event)
                if self.code_events is not None:
                    self.code_events.announced(event)
        return fresh

    def _apply_to_lock(
        self, data: AccountData, lock: Lock, act: LockActivity, event: LockEvent
    ) -> None:
        if act.last_event is None or event.time >= act.last_event.time:
            act.last_event = event
        if event.battery is not None:
            lock.battery = event.battery
        if event.type in (EventType.LOCK_OFFLINE, EventType.LOCK_ONLINE):
            lock.online = event.type is EventType.LOCK_ONLINE
        if event.type in _ACCOUNT_WIDE:
            # A lock's alarm about its centre: the clouds do not say which
            # gateway serves the lock, so every gateway of the account follows.
            self._apply_to_gateways(data, event, None)
        new_state = _STATE_BY_EVENT.get(event.type)
        if new_state is None or not event.success:
            return
        if act.state_time is not None and event.time < act.state_time:
            return
        self._set_state(lock, new_state, event.time)

    @staticmethod
    def _apply_to_gateways(
        data: AccountData, event: LockEvent, ref: str | None
    ) -> None:
        """Gateway offline/online: the one ``ref`` names (id or MAC), else all."""
        online = event.type is EventType.GATEWAY_ONLINE
        named = [
            gw_id
            for gw_id, gw in data.gateways.items()
            if ref is not None and ref in (gw_id, gw.mac)
        ]
        if ref is not None and not named:
            return
        for gw_id in named or list(data.gateways):
            data.gateways[gw_id] = replace(data.gateways[gw_id], online=online)

    @callback
    def set_lock_state(
        self, lock_id: str, state: LockState, when: datetime | None = None
    ) -> None:
        """Record a known state; an unlock falls back to locked after the auto-lock time."""
        if (data := self.current_data) is not None and (
            lock := data.locks.get(lock_id)
        ):
            self._set_state(lock, state, when or dt_util.utcnow())
            self.async_update_lock(lock_id)

    def _set_state(self, lock: Lock, state: LockState, when: datetime) -> None:
        lock_id = lock.lock_id
        act = self.activity.setdefault(lock_id, LockActivity())
        act.state_time = when
        lock.state = state
        if cancel := self._relock_timers.pop(lock_id, None):
            cancel()
        if state is LockState.UNLOCKED and lock.auto_lock_seconds:
            remaining = (
                when + timedelta(seconds=lock.auto_lock_seconds) - dt_util.utcnow()
            ).total_seconds()
            if remaining <= 0:
                lock.state = LockState.LOCKED
                return

            @callback
            def _relock(_now: datetime) -> None:
                self._relock_timers.pop(lock_id, None)
                data = self.current_data
                if data is not None and (current := data.locks.get(lock_id)):
                    current.state = LockState.LOCKED
                    self.async_update_lock(lock_id)

            self._relock_timers[lock_id] = async_call_later(
                self.hass, remaining, _relock
            )

    @callback
    def _announce(self, event: LockEvent) -> None:
        """Event entity via the dispatcher, automations via the bus."""
        device_id = entity_id = None
        if event.lock_id is not None:
            async_dispatcher_send(
                self.hass,
                event_signal(self.config_entry.entry_id, event.lock_id),
                event,
            )
            device = dr.async_get(self.hass).async_get_device_by_identifier(
                (DOMAIN, self.device_key(event.lock_id)), self.config_entry.entry_id
            )
            device_id = device.id if device else None
            entity_id = er.async_get(self.hass).async_get_entity_id(
                "lock", DOMAIN, self.device_key(event.lock_id)
            )
        payload: dict[str, Any] = {
            "device_id": device_id,
            "entity_id": entity_id,
            "lock_id": event.lock_id,
            "provider": self.provider.provider,
            "type": event.type.value,
            "method": event.method.value,
            "user": event.user,
            "code_id": event.code_id,
            "code_name": event.code_name,
            "success": event.success,
            "battery": event.battery,
            "time": event.time.isoformat(),
            "source": event.source,
            "raw": event.raw,
        }
        if self.config_entry.options.get(CONF_EXPOSE_CODES) and event.code:
            payload["code"] = event.code
        self.hass.bus.async_fire(EVENT_LOCK, payload)

    def device_key(self, object_id: str) -> str:
        """Identifier of a lock's or gateway's device and base of its unique ids."""
        return f"{self.account_id}_{object_id}"

    def _async_add_remove(self, data: AccountData) -> None:
        """Announce new locks/gateways to the platforms; drop devices that left."""
        current = set(data.locks)
        current_gws = set(data.gateways)
        if self._known_locks or self._known_gateways:
            device_registry = dr.async_get(self.hass)
            gone_keys = [*(self._known_locks - current)] + [
                f"gateway_{gw}" for gw in self._known_gateways - current_gws
            ]
            for gone in gone_keys:
                if device := device_registry.async_get_device_by_identifier(
                    (DOMAIN, self.device_key(gone)), self.config_entry.entry_id
                ):
                    device_registry.async_update_device(
                        device.id, remove_config_entry_id=self.config_entry.entry_id
                    )
        # Platforms build entities from self.data: publish it before announcing.
        self.data = data
        if new := sorted(current - self._known_locks):
            self._known_locks |= set(new)
            if self.current_data is not None:
                for cb in self.new_lock_callbacks:
                    cb(new)
        if new_gws := sorted(current_gws - self._known_gateways):
            self._known_gateways |= set(new_gws)
            if self.current_data is not None:
                for cb in self.new_gateway_callbacks:
                    cb(new_gws)
        self._known_locks &= current
        self._known_gateways &= current_gws

    def _issue_id(self, kind: str) -> str:
        return f"{kind}_{self.config_entry.entry_id}"

    def _raise_issue(self, kind: str) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id(kind),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=kind,
            translation_placeholders={"account": self.config_entry.title},
        )

    @callback
    def async_shutdown_timers(self) -> None:
        """Cancel pending auto-lock timers (entry unload)."""
        for cancel in self._relock_timers.values():
            cancel()
        self._relock_timers.clear()

    async def async_flush(self) -> None:
        """Write activity now: a reload must not forget which records were announced."""
        await self._store.async_save(self._data_to_store())
