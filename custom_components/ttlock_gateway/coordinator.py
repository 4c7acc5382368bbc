"""One coordinator per account: the hourly lock list, with the 6-hourly activity poll gated inside it.

What the account looked like is saved in the activity store and restored at
setup: a restart within the list interval costs no call at all, and nothing
that was known shows ``unknown``. The cloud then verifies it on the normal
schedule. Values are ordered by cloud time (see ``activity``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, CoreState, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .activity import (
    FUTURE_TOLERANCE,
    MAX_SEEN_PER_LOCK,
    MIN_SEEN_WINDOW,
    LockActivity,
    is_newer,
)
from .activity_store import (
    STORAGE_VERSION,
    ActivityStore,
    StoredAccount,
    decode_account,
    encode_account,
)
from .const import (
    ACTIVITY_INTERVAL_PUSH,
    CONF_API_BUDGET,
    CONF_EXPOSE_CODES,
    CONF_PROVIDER,
    CONF_WEBHOOK_ID,
    DEFAULT_API_BUDGETS,
    DOMAIN,
    EVENT_LOCK,
    LOGGER,
    PROVIDER_TTLOCK,
    PUSH_HEALTHY_WINDOW,
    RETRY_AFTER_FAILURE,
)
from .devices import (
    DOOR_SENSOR_PREFIX,
    GATEWAY_PREFIX,
    MissingCounter,
    device_objects,
    registry_objects,
    remove_devices,
)
from .providers.models import (
    AuthError,
    CloudList,
    DoorSensor,
    EventType,
    Gateway,
    Lock,
    LockEvent,
    LockProvider,
    LockState,
    LockStatus,
    ProviderError,
    PushBatch,
    RateLimitError,
    SubscriptionError,
)
from .schedule import (
    REPAIR_AT,
    REPAIR_CLEARED_BELOW,
    Schedule,
    budget_level,
    schedule_for,
)
from .unknown_sender import async_log_unknown_sender

if TYPE_CHECKING:
    from .budget import CallLedger
    from .code_packet import CodePacketMonitor
    from .codes.ledger import CodeLedger
    from .codes.reconciler import Reconciler
    from .gateway_jobs import JobLink
    from .push import PushLink

__all__ = ["LockActivity", "LockCoordinator"]

ISSUE_RATE_LIMITED = "rate_limited"
ISSUE_RATE_LIMITED_MONTHLY = "rate_limited_monthly"
# Same issue, when the cloud names no reset date (Tuya's resource pack).
ISSUE_QUOTA_UNDATED = "rate_limited_quota"
ISSUE_SUBSCRIPTION = "subscription_lapsed"
ISSUE_API_BUDGET = "api_budget"

# Each activity poll starts this long before the previous one ended: a record
# whose lock clock is slow (the cloud may file it by lockDate) is not missed.
POLL_OVERLAP = timedelta(minutes=15)
# Seen ids are pruned at most this often (pruning walks every id).
_PRUNE_EVERY = timedelta(minutes=1)
# The first scheduled list after a restore comes at least this late.
_MIN_FIRST_DELAY = timedelta(seconds=30)

# An account without door sensors is asked again this often (one call a day,
# not one an hour: docs/budget.md); one with sensors at every lock list.
DOOR_SENSOR_RECHECK = timedelta(days=1)
# A push from a door sensor we do not know asks for a list at most this often.
DOOR_SENSOR_RELIST_MIN = timedelta(hours=1)
_DOOR_EVENTS = frozenset({EventType.DOOR_OPENED, EventType.DOOR_CLOSED})

# Events that change gateways, which several locks' entities may show.
_ACCOUNT_WIDE = frozenset({EventType.GATEWAY_OFFLINE, EventType.GATEWAY_ONLINE})

_STATE_BY_EVENT: dict[EventType, LockState] = {
    EventType.UNLOCKED: LockState.UNLOCKED,
    EventType.LOCKED: LockState.LOCKED,
}


def _gateway_ref(event: LockEvent) -> str | None:
    # TTLock names the gateway itself (notifyType 2); Dding the centre's uuid.
    ref = event.raw.get("gateway_id", event.raw.get("uuid"))
    return str(ref) if ref is not None else None


def ref_key(ref: str) -> str:
    """An identifier as compared: MACs without separators and case."""
    compact = ref.strip().replace(":", "").replace("-", "")
    return compact.upper() if compact.isalnum() else ref.strip()


def lock_update_signal(entry_id: str, lock_id: str) -> str:
    """Dispatcher signal asking one lock's entities to write their state."""
    return f"{DOMAIN}_{entry_id}_{lock_id}_update"


def account_signal(entry_id: str) -> str:
    """Dispatcher signal asking the account's entities to write their state."""
    return f"{DOMAIN}_{entry_id}_account"


def event_signal(entry_id: str, lock_id: str) -> str:
    """Dispatcher signal carrying one lock's events to its event entity."""
    return f"{DOMAIN}_{entry_id}_{lock_id}_event"


@dataclass(slots=True)
class AccountData:
    """The coordinator's data: every lock and gateway of the account.

    One object for the entry's lifetime, updated in place, so a push applied
    while a refresh is under way is not lost when the refresh publishes.
    """

    locks: dict[str, Lock]
    gateways: dict[str, Gateway]
    door_sensors: dict[str, DoorSensor] = field(default_factory=dict)


type TTLockGatewayConfigEntry = ConfigEntry[RuntimeData]


@dataclass(slots=True)
class RuntimeData:
    """Objects an entry keeps while loaded."""

    provider: LockProvider
    coordinator: LockCoordinator
    ledger: CodeLedger
    codes: Reconciler
    # Gateway service: its asynchronous jobs and its paid code packet.
    jobs: JobLink | None = None
    packet: CodePacketMonitor | None = None


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
        ledger: CallLedger | None = None,
    ) -> None:
        """Set up the documented schedules (``schedule``: push and budget adapt them)."""
        self.schedule: Schedule = schedule_for(push_healthy=False, level=0)
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=self.schedule.list_interval,
        )
        self.provider = provider
        self.ledger = ledger
        # The entry's push connection (Tuya message service), once started.
        self.push: PushLink | None = None
        # When an event callback last came to the webhook (TTLock, Dding).
        self.last_callback: datetime | None = None
        # Long enough that a pushed record is still known when the poll
        # returns it, at the longest activity interval (push healthy: daily).
        self.seen_window = max(MIN_SEEN_WINDOW, 2 * ACTIVITY_INTERVAL_PUSH)
        self.activity: dict[str, LockActivity] = {}
        # Cloud time of each gateway's online value.
        self.gateway_times: dict[str, datetime] = {}
        # Cloud time of each door sensor's open/closed value.
        self.door_sensor_times: dict[str, datetime] = {}
        # When the door sensor list was last asked (None: never).
        self.door_sensors_listed: datetime | None = None
        # A push named an unknown sensor: list at the next refresh (and when).
        self._door_relist_due = False
        self._door_relist_at: datetime | None = None
        self.new_door_sensor_callbacks: list[Callable[[list[str]], None]] = []
        self._known_door_sensors: set[str] = set()
        self.last_activity_poll: datetime | None = None
        self.last_list: datetime | None = None
        self.webhook_seen = False
        # True while the data shown came from storage and no list confirmed it.
        self.restored = False
        self.new_lock_callbacks: list[Callable[[list[str]], None]] = []
        self.new_gateway_callbacks: list[Callable[[list[str]], None]] = []
        self._known_locks: set[str] = set()
        self._known_gateways: set[str] = set()
        self._missing = MissingCounter()
        self._restored_data: AccountData | None = None
        self._listed_this_run = False
        self._relock_timers: dict[str, CALLBACK_TYPE] = {}
        self._alias_index: dict[str, str] = {}
        self._last_prune: datetime | None = None
        self.code_events: CodeEventHook | None = None
        self._store = ActivityStore(
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

    # ------------------------------------------------------------- storage

    async def _async_setup(self) -> None:
        stored = await self._store.async_load() or {}
        self._restore(stored, dt_util.utcnow())

    def _restore(self, stored: dict[str, Any], now: datetime) -> None:
        """Bring back what the last run knew; times ahead of now are dropped."""
        saved = decode_account(stored, now, self.config_entry.data[CONF_WEBHOOK_ID])
        self.webhook_seen = saved.webhook_seen
        self.last_callback = saved.last_callback
        self.last_activity_poll = saved.last_activity_poll
        self.last_list = saved.last_list
        self._missing = MissingCounter(saved.missing)
        self.activity = saved.activity
        self.gateway_times = saved.gateway_times
        self.door_sensor_times = saved.door_sensor_times
        self.door_sensors_listed = saved.door_sensors_listed
        if saved.locks or saved.gateways or saved.door_sensors:
            self._restored_data = AccountData(
                locks=saved.locks,
                gateways=saved.gateways,
                door_sensors=saved.door_sensors,
            )

    @callback
    def _data_to_store(self) -> dict[str, Any]:
        self._prune(dt_util.utcnow(), force=True)
        data = self.current_data or self._restored_data
        return encode_account(
            StoredAccount(
                webhook_seen=self.webhook_seen,
                last_list=self.last_list,
                last_activity_poll=self.last_activity_poll,
                missing=self._missing.counts,
                activity=self.activity,
                locks=data.locks if data else {},
                gateways=data.gateways if data else {},
                gateway_times=self.gateway_times,
                last_callback=self.last_callback,
                door_sensors=data.door_sensors if data else {},
                door_sensor_times=self.door_sensor_times,
                door_sensors_listed=self.door_sensors_listed,
            ),
            self.config_entry.data[CONF_WEBHOOK_ID],
        )

    @callback
    def save_soon(self) -> None:
        """Persist what we know (debounced)."""
        self._store.async_delay_save(self._data_to_store, 5)

    async def async_save_now(self) -> None:
        """Persist at once (a reload right after must not lose it)."""
        await self._store.async_save(self._data_to_store())

    async def async_flush(self) -> None:
        """Write activity now: a reload must not forget which records were announced."""
        await self.async_save_now()

    # ------------------------------------------------------------ schedule

    @property
    def activity_interval(self) -> timedelta:
        """How often details and records of every lock are polled now."""
        return self.schedule.activity_interval

    @property
    def budget(self) -> int:
        """Calls a month the application may spend (0: no budget)."""
        provider = str(self.config_entry.data.get(CONF_PROVIDER) or PROVIDER_TTLOCK)
        value = self.config_entry.options.get(
            CONF_API_BUDGET, DEFAULT_API_BUDGETS.get(provider, 0)
        )
        return int(value) if isinstance(value, int | float) and value > 0 else 0

    def push_healthy(self, now: datetime) -> bool:
        """Events arrive as they happen: the websocket is up, or a callback
        came within the last 24 hours."""
        if self.push is not None and self.push.connected:
            return True
        last = self.last_callback
        return last is not None and timedelta(0) <= now - last < PUSH_HEALTHY_WINDOW

    def budget_ratio(self, now: datetime) -> float | None:
        """The application's month-end projection over the budget (None: none)."""
        if self.ledger is None or not (budget := self.budget):
            return None
        return self.ledger.view(now).projected / budget

    @callback
    def async_plan(self, *, reschedule: bool = False) -> None:
        """Choose the intervals for the push state and the budget now.

        ``reschedule``: the next list is counted from now at the new interval
        (push went down: the documented schedule takes over at once rather than
        after a stretched interval). A failed refresh keeps its retry interval.
        """
        self._replan(dt_util.utcnow())
        if self.last_update_success and self.update_interval != RETRY_AFTER_FAILURE:
            changed = self.update_interval != self.schedule.list_interval
            self.update_interval = self.schedule.list_interval
            if reschedule and changed and self._listeners:
                self._schedule_refresh()

    def _replan(self, now: datetime) -> None:
        """The schedule for now, and the budget repair."""
        ratio = self.budget_ratio(now)
        previous = self.schedule
        self.schedule = schedule_for(
            push_healthy=self.push_healthy(now),
            level=budget_level(previous.budget_level, ratio),
        )
        if self.schedule != previous:
            LOGGER.debug(
                "%s: lock list every %s, activity every %s (push %s, budget level %s)",
                self.config_entry.title,
                self.schedule.list_interval,
                self.schedule.activity_interval,
                "healthy" if self.schedule.push_healthy else "not healthy",
                self.schedule.budget_level,
            )
        self._sync_budget_issue(ratio, now)

    def _sync_budget_issue(self, ratio: float | None, now: datetime) -> None:
        issue_id = self._issue_id(ISSUE_API_BUDGET)
        if ratio is None or ratio < REPAIR_CLEARED_BELOW:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        if ratio < REPAIR_AT:
            return  # between the two thresholds: as it was
        assert self.ledger is not None
        view = self.ledger.view(now)
        top = next(iter(view.top), "-")
        self._raise_issue(
            ISSUE_API_BUDGET,
            severity=ir.IssueSeverity.WARNING,
            projected=f"{view.projected:,}",
            budget=f"{self.budget:,}",
            month=f"{view.month:,}",
            top=top,
        )

    @callback
    def async_ledger_changed(self) -> None:
        """New counts or a quota refusal for the application: plan and repairs."""
        self._sync_limit_issue()
        self.async_plan()
        async_dispatcher_send(self.hass, account_signal(self.config_entry.entry_id))

    def _sync_limit_issue(self) -> None:
        """The quota-used-up repair follows the ledger's limit state."""
        limit = self.ledger.active_limit(dt_util.utcnow()) if self.ledger else None
        dated = self._issue_id(ISSUE_RATE_LIMITED_MONTHLY)
        undated = self._issue_id(ISSUE_QUOTA_UNDATED)
        if limit is None:
            ir.async_delete_issue(self.hass, DOMAIN, dated)
            ir.async_delete_issue(self.hass, DOMAIN, undated)
            return
        if limit.reset_at is not None:
            ir.async_delete_issue(self.hass, DOMAIN, undated)
            self._raise_issue(
                ISSUE_RATE_LIMITED_MONTHLY,
                until=limit.reset_at.strftime("%Y-%m-%d %H:%M"),
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, dated)
            self._raise_issue(ISSUE_QUOTA_UNDATED)

    @callback
    def async_note_callback(self) -> None:
        """An event callback reached the webhook: push is healthy."""
        now = dt_util.utcnow()
        was_healthy = self.push_healthy(now)
        self.last_callback = now
        if not was_healthy:
            self.save_soon()
            self.async_plan()

    # ------------------------------------------------------------- refresh

    def _activity_due(self, now: datetime) -> bool:
        return (
            self.last_activity_poll is None
            or self.last_activity_poll > now
            or now - self.last_activity_poll >= self.activity_interval
        )

    def _details_fresh(self, lock_id: str, now: datetime) -> bool:
        act = self.activity.get(lock_id)
        when = act.details_time if act else None
        return when is not None and timedelta(0) <= now - when < self.activity_interval

    def _restore_is_fresh(self, restored: AccountData, now: datetime) -> bool:
        """Whether the stored data is as fresh as the schedule asks: no call needed."""
        if self.last_list is None or not (
            timedelta(0) <= now - self.last_list < self.schedule.list_interval
        ):
            return False
        if self._activity_due(now):
            return False
        return all(self._details_fresh(lock_id, now) for lock_id in restored.locks)

    async def _async_update_data(self) -> AccountData:
        now = dt_util.utcnow()
        previous = self.current_data
        first_restore = False
        # The stored last callback may make push healthy (a restart).
        self._replan(now)
        if previous is None and (restored := self._restored_data) is not None:
            self._restored_data = None
            first_restore = True
            if self._restore_is_fresh(restored, now) and (
                self.hass.state is not CoreState.running
            ):
                # Home Assistant is starting and nothing is due: show what was
                # stored, list when the schedule says. (A reload while running
                # is asked for by the user, often to see a change: it lists.)
                assert self.last_list is not None
                self.restored = True
                self.update_interval = max(
                    self.last_list + self.schedule.list_interval - now,
                    _MIN_FIRST_DELAY,
                )
                self._rearm_relock_timers(restored)
                self._publish(restored, gone=[])
                return restored
            previous = restored
            self.restored = True

        # Values the list gives are at least as new as the request.
        asked = now.replace(microsecond=0)
        try:
            locks = await self.provider.async_list_locks()
            gateways = (
                await self.provider.async_list_gateways()
                if any(lock.has_gateway for lock in locks)
                else []
            )
            door_sensors = (
                await self._async_list_door_sensors()
                if self._door_sensors_due(previous, now)
                else None
            )
        except AuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except RateLimitError as err:
            self.update_interval = self.schedule.list_interval
            if err.quota:
                # The period's quota: nothing works before it resets. The
                # client told the ledger; the repair follows it (every entry
                # of the application gets it).
                if self.ledger is not None:
                    self.ledger.limit_reached(err)
                self._sync_limit_issue()
            else:
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
                translation_placeholders={"name": self.config_entry.title},
            ) from err
        except ProviderError as err:
            self.update_interval = RETRY_AFTER_FAILURE
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"name": self.config_entry.title},
            ) from err

        self.update_interval = self.schedule.list_interval
        ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(ISSUE_RATE_LIMITED))
        ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(ISSUE_SUBSCRIPTION))
        if self.ledger is not None:
            # A call worked: the quota is not (or no longer) used up.
            self.ledger.clear_limit()
        self._sync_limit_issue()

        # The same object all along: pushes during this refresh land in it.
        data = previous or AccountData(locks={}, gateways={})
        listed = self._merge(data, locks, asked)
        listed_gws = self._merge_gateways(data, gateways, asked)
        gone = self._reconcile(
            data,
            listed,
            listed_gws,
            locks_complete=isinstance(locks, CloudList) and locks.complete,
            gateways_complete=isinstance(gateways, CloudList) and gateways.complete,
        )
        if door_sensors is not None:
            gone += self._merge_door_sensors(data, door_sensors, asked)
        self.last_list = asked
        self.restored = False
        if self._activity_due(now):
            await self._async_poll_activity(data, now)
        else:
            # Details that storage did not hold, that are older than the
            # activity interval (a restart) or that a failed poll missed, and
            # those of a lock that just joined: now, not in up to 6 hours.
            stale = [
                data.locks[lock_id]
                for lock_id in listed
                if not self._details_fresh(lock_id, now)
            ]
            if stale:
                await self._async_fetch_details(data, stale)
        self._listed_this_run = True
        if first_restore:
            # Only now: a setup that fails here leaves no timer behind.
            self._rearm_relock_timers(data)
        self._publish(data, gone)
        self.save_soon()
        # The calls just made count towards the budget.
        self._replan(dt_util.utcnow())
        self.update_interval = self.schedule.list_interval
        return data

    def _merge(self, data: AccountData, locks: list[Lock], asked: datetime) -> set[str]:
        """Fold the list into the live locks; return the ids it listed.

        The list lacks what only details, events or actions told us; where it
        has a value (battery, online, Tuya's bolt state) that value is as of
        the request and replaces an older one.
        """
        listed: set[str] = set()
        for lock in locks:
            listed.add(lock.lock_id)
            act = self.activity.setdefault(lock.lock_id, LockActivity())
            live = data.locks.get(lock.lock_id)
            if live is None:
                data.locks[lock.lock_id] = live = lock
                state, lock.state = lock.state, None
                if lock.battery is not None:
                    act.battery_time = asked
                if lock.online is not None:
                    act.online_time = asked
            else:
                state = lock.state
                live.name = lock.name
                live.capabilities = lock.capabilities
                live.has_gateway = lock.has_gateway
                live.shared = lock.shared
                live.manufacturer = lock.manufacturer or live.manufacturer
                live.firmware = lock.firmware or live.firmware
                live.model = lock.model or live.model
                if lock.mac:
                    live.mac = lock.mac
                live.aliases = tuple(dict.fromkeys((*lock.aliases, *live.aliases)))
                if lock.passage_mode is not None:
                    live.passage_mode = lock.passage_mode
                if lock.auto_lock_seconds is not None:
                    live.auto_lock_seconds = lock.auto_lock_seconds
                if lock.battery is not None and is_newer(asked, act.battery_time):
                    live.battery = lock.battery
                    act.battery_time = asked
                if lock.online is not None and is_newer(asked, act.online_time):
                    live.online = lock.online
                    act.online_time = asked
            if state is not None and is_newer(asked, act.state_time):
                self._set_state(live, state, asked)
        self._index_aliases(data)
        return listed

    def _merge_gateways(
        self, data: AccountData, gateways: list[Gateway], asked: datetime
    ) -> set[str]:
        listed: set[str] = set()
        for gateway in gateways:
            listed.add(gateway.gateway_id)
            old = data.gateways.get(gateway.gateway_id)
            if old is not None and not is_newer(
                asked, self.gateway_times.get(gateway.gateway_id)
            ):
                # A pushed alarm newer than the request decides connectivity.
                gateway = replace(gateway, online=old.online)
            else:
                self.gateway_times[gateway.gateway_id] = asked
            data.gateways[gateway.gateway_id] = gateway
        return listed

    def _reconcile(
        self,
        data: AccountData,
        listed: set[str],
        listed_gws: set[str],
        *,
        locks_complete: bool,
        gateways_complete: bool,
    ) -> list[str]:
        """Which locks and gateways left (see ``devices``); they are forgotten.

        On the first list of a run, devices of the registry count too: a lock
        removed while Home Assistant was stopped is noticed.
        """
        known = set(data.locks) | {GATEWAY_PREFIX + gw for gw in data.gateways}
        if not self._listed_this_run:
            # Door sensors are swept with their own list (_merge_door_sensors).
            known |= {
                object_id
                for object_id in registry_objects(
                    self.hass, self.config_entry.entry_id, f"{self.account_id}_"
                )
                if not object_id.startswith(DOOR_SENSOR_PREFIX)
            }
        present = listed | {GATEWAY_PREFIX + gw for gw in listed_gws}
        gone = self._missing.sweep(
            known,
            present,
            locks_complete=locks_complete,
            gateways_complete=gateways_complete,
        )
        for object_id in gone:
            self._forget(data, object_id)
        return gone

    # -------------------------------------------------------- door sensors

    def _door_sensors_due(self, previous: AccountData | None, now: datetime) -> bool:
        """List door sensors with this lock list?

        With every list when the account has any; otherwise at the first list
        and then once a day (most accounts have none: 24 calls a day for
        nothing), or sooner when a push named a sensor we do not know.
        """
        if self.provider.provider != PROVIDER_TTLOCK:
            return False
        if previous is not None and previous.door_sensors:
            return True
        if self._door_relist_due:
            return True
        last = self.door_sensors_listed
        return last is None or not timedelta(0) <= now - last < DOOR_SENSOR_RECHECK

    async def _async_list_door_sensors(self) -> list[DoorSensor] | None:
        """The door sensor list, or None when it failed for itself alone.

        A refused or failed door sensor list must not make every lock
        unavailable: the sensors keep what they showed until the next list.
        Token, quota and subscription problems concern the whole account and
        are raised.
        """
        try:
            return await self.provider.async_list_door_sensors()
        except (AuthError, RateLimitError, SubscriptionError):
            raise
        except ProviderError as err:
            LOGGER.debug(
                "%s: door sensor list failed (%s); kept as it was",
                self.config_entry.title,
                type(err).__name__,
            )
            return None

    def _merge_door_sensors(
        self, data: AccountData, sensors: list[DoorSensor], asked: datetime
    ) -> list[str]:
        """Fold the door sensor list in; return the object ids that left.

        A pushed state newer than the request is kept (cloud-time order).
        """
        self.door_sensors_listed = asked
        self._door_relist_due = False
        listed: set[str] = set()
        for sensor in sensors:
            listed.add(sensor.sensor_id)
            old = data.door_sensors.get(sensor.sensor_id)
            if old is not None and not is_newer(
                asked, self.door_sensor_times.get(sensor.sensor_id)
            ):
                sensor = replace(sensor, open=old.open, stale=old.stale)
            else:
                self.door_sensor_times[sensor.sensor_id] = asked
            data.door_sensors[sensor.sensor_id] = sensor
        known = {DOOR_SENSOR_PREFIX + sid for sid in data.door_sensors}
        known |= {
            object_id
            for object_id in registry_objects(
                self.hass, self.config_entry.entry_id, f"{self.account_id}_"
            )
            if object_id.startswith(DOOR_SENSOR_PREFIX)
        }
        gone = self._missing.sweep(
            known,
            {DOOR_SENSOR_PREFIX + sid for sid in listed},
            locks_complete=isinstance(sensors, CloudList) and sensors.complete,
            gateways_complete=False,
        )
        for object_id in gone:
            self._forget(data, object_id)
        return gone

    def _apply_to_door_sensor(self, data: AccountData, event: LockEvent) -> bool:
        """A notifyType 7 push: the sensor's state if newer; False if unknown.

        Alarms (recordType 2/3) tell no state change. A push for a sensor
        we do not know asks for a list, at most once an hour.
        """
        sensor_id = str(event.raw.get("door_sensor_id", ""))
        sensor = data.door_sensors.get(sensor_id)
        if sensor is None:
            now = dt_util.utcnow()
            last = self._door_relist_at
            if self.provider.provider == PROVIDER_TTLOCK and (
                last is None or not timedelta(0) <= now - last < DOOR_SENSOR_RELIST_MIN
            ):
                self._door_relist_at = now
                self._door_relist_due = True
                LOGGER.debug("Door sensor push for a sensor not listed: listing")
                # The entry's task: an unload cancels it.
                self.config_entry.async_create_task(
                    self.hass, self.async_request_refresh(), f"{DOMAIN} door sensors"
                )
            return False
        if event.type in _DOOR_EVENTS and is_newer(
            event.cloud_time, self.door_sensor_times.get(sensor_id)
        ):
            data.door_sensors[sensor_id] = replace(
                sensor, open=event.type is EventType.DOOR_OPENED, stale=False
            )
            self.door_sensor_times[sensor_id] = event.cloud_time
            self.async_update_lock(DOOR_SENSOR_PREFIX + sensor_id)
        return True

    def _forget(self, data: AccountData, key: str) -> None:
        """Drop a lock, gateway or door sensor from the data and from memory."""
        self._missing.forget(key)
        if key.startswith(DOOR_SENSOR_PREFIX):
            sensor_id = key.removeprefix(DOOR_SENSOR_PREFIX)
            data.door_sensors.pop(sensor_id, None)
            self.door_sensor_times.pop(sensor_id, None)
            self._known_door_sensors.discard(sensor_id)
            return
        if key.startswith(GATEWAY_PREFIX):
            gateway_id = key.removeprefix(GATEWAY_PREFIX)
            data.gateways.pop(gateway_id, None)
            self.gateway_times.pop(gateway_id, None)
            self._known_gateways.discard(gateway_id)
            return
        data.locks.pop(key, None)
        self.activity.pop(key, None)
        self._known_locks.discard(key)
        if cancel := self._relock_timers.pop(key, None):
            cancel()
        self._index_aliases(data)

    def is_listed(self, object_id: str) -> bool:
        """Whether the cloud's last list had this lock (or "gateway_<id>")."""
        data = self.current_data
        if data is None or object_id in self._missing:
            return False
        if object_id.startswith(GATEWAY_PREFIX):
            return object_id.removeprefix(GATEWAY_PREFIX) in data.gateways
        if object_id.startswith(DOOR_SENSOR_PREFIX):
            return object_id.removeprefix(DOOR_SENSOR_PREFIX) in data.door_sensors
        return object_id in data.locks

    @callback
    def async_forget_device(self, device: dr.AnyDeviceEntry) -> bool:
        """Let the user delete a device the cloud no longer lists."""
        if (DOMAIN, self.account_id) in device.identifiers:
            return False  # the account's own device (API calls, push)
        objects = device_objects(device, f"{self.account_id}_")
        if any(self.is_listed(object_id) for object_id in objects):
            return False
        if (data := self.current_data) is not None:
            for object_id in objects:
                self._forget(data, object_id)
        self.save_soon()
        return True

    async def _async_poll_activity(self, data: AccountData, now: datetime) -> None:
        """Details and new records of every lock, bounded by the client's concurrency."""
        limit = asyncio.Semaphore(max(1, self.provider.max_concurrency))

        async def poll(lock: Lock) -> None:
            async with limit:
                act = self.activity.setdefault(lock.lock_id, LockActivity())
                first = act.last_time is None
                start = act.last_time or now - self.activity_interval
                asked = dt_util.utcnow()
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
                if (live := data.locks.get(lock.lock_id)) is None:
                    return  # removed while we asked
                self._apply_details(live, act, detailed, asked)
                # Records from before the first poll are history: they set the
                # state but are not announced as if they had just happened.
                self._apply_events(data, events, announce=not first)
                act.last_time = max(act.last_time or start, now - POLL_OVERLAP)

        try:
            await asyncio.gather(*(poll(lock) for lock in list(data.locks.values())))
        except AuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        self.last_activity_poll = now

    async def _async_fetch_details(self, data: AccountData, locks: list[Lock]) -> None:
        """Details only (no records), for locks whose stored details are stale."""
        limit = asyncio.Semaphore(max(1, self.provider.max_concurrency))

        async def fetch(lock: Lock) -> None:
            async with limit:
                asked = dt_util.utcnow()
                try:
                    detailed = await self.provider.async_get_lock_details(lock)
                except AuthError:
                    raise
                except ProviderError as err:
                    LOGGER.debug(
                        "Details of lock %s not fetched: %s",
                        lock.lock_id,
                        type(err).__name__,
                    )
                    return
                if (live := data.locks.get(lock.lock_id)) is not None:
                    act = self.activity.setdefault(lock.lock_id, LockActivity())
                    self._apply_details(live, act, detailed, asked)

        try:
            await asyncio.gather(*(fetch(lock) for lock in locks))
        except AuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err

    def _apply_details(
        self, live: Lock, act: LockActivity, detailed: Lock, asked: datetime
    ) -> None:
        """Copy what the detail call says into the live lock."""
        live.name = detailed.name
        live.capabilities = detailed.capabilities
        live.has_gateway = detailed.has_gateway
        live.model = detailed.model or live.model
        live.firmware = detailed.firmware or live.firmware
        live.mac = detailed.mac or live.mac
        live.aliases = tuple(dict.fromkeys((*detailed.aliases, *live.aliases)))
        live.passage_mode = detailed.passage_mode
        live.auto_lock_seconds = detailed.auto_lock_seconds
        # Battery as of the request, in whole seconds (see _merge); details
        # exactly, so they are never older than the poll that fetched them.
        as_of = asked.replace(microsecond=0)
        if detailed.battery is not None and is_newer(as_of, act.battery_time):
            live.battery = detailed.battery
            act.battery_time = as_of
        act.details_time = asked
        act.restored = False
        self._index_aliases_for(live)

    # ------------------------------------------------------------- events

    @callback
    def async_handle_events(self, events: Iterable[LockEvent]) -> list[LockEvent]:
        """Apply pushed events; return those that were new."""
        if (data := self.current_data) is None:
            return []
        touched: set[str] = set()
        fresh = self._apply_events(data, events, announce=True, touched=touched)
        if not fresh and not touched:
            return fresh
        self.save_soon()
        # Only the locks concerned rewrite their state: with many locks a full
        # update per pushed record would dominate the webhook's cost.
        if any(event.type in _ACCOUNT_WIDE for event in fresh):
            self.async_update_listeners()
        else:
            for lock_id in touched | {e.lock_id for e in fresh if e.lock_id}:
                self.async_update_lock(lock_id)
        return fresh

    @callback
    def async_handle_push(self, batch: PushBatch) -> list[LockEvent]:
        """Apply one pushed message: its events, then its states (battery, bolt).

        States follow the same cloud-time order as every value: one older than
        the value shown (a redelivery after a newer report) changes nothing.
        """
        fresh = self.async_handle_events(batch.events) if batch.events else []
        if batch.statuses and (data := self.current_data) is not None:
            touched = {
                status.lock_id
                for status in batch.statuses
                if self._apply_status(data, status)
            }
            for lock_id in touched:
                self.async_update_lock(lock_id)
            if touched:
                self.save_soon()
        return fresh

    def _apply_status(self, data: AccountData, status: LockStatus) -> bool:
        """Whether the state changed what is shown."""
        lock = data.locks.get(status.lock_id)
        if lock is None:
            return False
        now = dt_util.utcnow()
        if status.time > now + FUTURE_TOLERANCE:
            LOGGER.debug("Ignored a pushed state dated ahead of the cloud's clock")
            return False
        act = self.activity.setdefault(lock.lock_id, LockActivity())
        changed = False
        if status.battery is not None and is_newer(status.time, act.battery_time):
            changed = changed or lock.battery != status.battery
            lock.battery = status.battery
            act.battery_time = status.time
        if status.state is not None and is_newer(status.time, act.state_time):
            changed = changed or lock.state is not status.state
            self._set_state(lock, status.state, status.time)
        return changed

    @callback
    def async_update_lock(self, lock_id: str) -> None:
        """Ask one lock's entities to write their state."""
        async_dispatcher_send(
            self.hass, lock_update_signal(self.config_entry.entry_id, lock_id)
        )

    def _index_aliases(self, data: AccountData) -> None:
        self._alias_index = {}
        for lock in data.locks.values():
            self._index_aliases_for(lock)

    def _index_aliases_for(self, lock: Lock) -> None:
        for alias in (*lock.aliases, lock.mac):
            if alias:
                self._alias_index.setdefault(ref_key(alias), lock.lock_id)

    def resolve_lock_id(self, data: AccountData, event: LockEvent) -> str | None:
        """Find the lock an event belongs to: by id, else by an alias (MAC, uuid).

        A Dding ``uuid`` may be the lock's id or its MAC in any case or
        separator style.
        """
        if event.lock_id and event.lock_id in data.locks:
            return event.lock_id
        ref = event.lock_id or event.raw.get("uuid")
        if not isinstance(ref, str) or not ref:
            return None
        if ref in data.locks:
            return ref
        lock_id = self._alias_index.get(ref_key(ref))
        return lock_id if lock_id in data.locks else None

    def _prune(self, now: datetime, *, force: bool = False) -> None:
        if (
            not force
            and self._last_prune is not None
            and timedelta(0) <= now - self._last_prune < _PRUNE_EVERY
        ):
            return
        self._last_prune = now
        window_start = now - self.seen_window
        for act in self.activity.values():
            act.seen.prune(window_start)

    def _apply_events(
        self,
        data: AccountData,
        events: Iterable[LockEvent],
        *,
        announce: bool,
        touched: set[str] | None = None,
    ) -> list[LockEvent]:
        """Apply records in cloud-time order; return those not seen before.

        A record dated more than ``FUTURE_TOLERANCE`` ahead is ignored. One
        older than the seen-id window cannot be told from a replay: pushed, it
        is ignored; polled, it is history (applied where newer, not announced).
        """
        now = dt_util.utcnow()
        self._prune(now)
        window_start = now - self.seen_window
        fresh: list[LockEvent] = []
        for event in sorted(events, key=lambda ev: (ev.cloud_time, ev.time)):
            if event.cloud_time > now + FUTURE_TOLERANCE:
                LOGGER.debug(
                    "Ignored a %s record dated %s, ahead of the cloud's clock",
                    event.type.value,
                    event.cloud_time.isoformat(),
                )
                continue
            lock_id = self.resolve_lock_id(data, event)
            if lock_id is not None and event.lock_id != lock_id:
                event = replace(event, lock_id=lock_id)
            act = self.activity.setdefault(lock_id or "", LockActivity())
            if act.seen.is_repeat(event, now):
                # Announced before (e.g. pushed, then polled after a restart):
                # not again, but it still tells an unknown state.
                if lock_id is not None and data.locks[lock_id].state is None:
                    self._apply_state(data.locks[lock_id], act, event)
                    if touched is not None:
                        touched.add(lock_id)
                continue
            history = event.cloud_time < act.seen.horizon(window_start)
            if history and event.source == "push":
                LOGGER.debug(
                    "Ignored a pushed %s record from %s: older than what is "
                    "remembered, so a replay cannot be ruled out",
                    event.type.value,
                    event.cloud_time.isoformat(),
                )
                continue
            act.seen.add(event, now)
            if len(act.seen) > MAX_SEEN_PER_LOCK * 6 // 5:
                act.seen.prune(window_start)
            if lock_id is not None:
                self._apply_to_lock(data, data.locks[lock_id], act, event)
            elif "door_sensor_id" in event.raw:
                self._apply_to_door_sensor(data, event)
            elif event.type in _ACCOUNT_WIDE:
                self._apply_to_gateways(data, event, _gateway_ref(event))
            if announce and self.code_events is not None:
                event = self.code_events.annotate(event)
            fresh.append(event)
            if announce and not history:
                self._announce(event)
                if self.code_events is not None:
                    self.code_events.announced(event)
        return fresh

    def _apply_to_lock(
        self, data: AccountData, lock: Lock, act: LockActivity, event: LockEvent
    ) -> None:
        """A record changes a value only if it is newer than the value's source."""
        when = event.cloud_time
        if act.last_event is None or is_newer(when, act.last_event.cloud_time):
            act.last_event = event
        if event.battery is not None and is_newer(when, act.battery_time):
            lock.battery = event.battery
            act.battery_time = when
        if event.type in (
            EventType.LOCK_OFFLINE,
            EventType.LOCK_ONLINE,
        ) and is_newer(when, act.online_time):
            lock.online = event.type is EventType.LOCK_ONLINE
            act.online_time = when
        if event.type in _ACCOUNT_WIDE:
            # A lock's alarm about its centre: the clouds do not say which
            # gateway serves the lock, so every gateway of the account follows.
            self._apply_to_gateways(data, event, None)
        self._apply_state(lock, act, event)

    def _apply_state(self, lock: Lock, act: LockActivity, event: LockEvent) -> None:
        new_state = _STATE_BY_EVENT.get(event.type)
        if new_state is None or not event.success:
            return
        if is_newer(event.cloud_time, act.state_time):
            self._set_state(lock, new_state, event.cloud_time)

    def _apply_to_gateways(
        self, data: AccountData, event: LockEvent, ref: str | None
    ) -> None:
        """Gateway offline/online: the one ``ref`` names (id or MAC), else all."""
        online = event.type is EventType.GATEWAY_ONLINE
        key = ref_key(ref) if ref is not None else None
        named = [
            gw_id
            for gw_id, gw in data.gateways.items()
            if key is not None
            and (ref == gw_id or (gw.mac is not None and ref_key(gw.mac) == key))
        ]
        if ref is not None and not named:
            return
        when = event.cloud_time
        for gw_id in named or list(data.gateways):
            if is_newer(when, self.gateway_times.get(gw_id)):
                data.gateways[gw_id] = replace(data.gateways[gw_id], online=online)
                self.gateway_times[gw_id] = when

    # ------------------------------------------------------------- state

    @callback
    def set_lock_state(
        self, lock_id: str, state: LockState, when: datetime | None = None
    ) -> None:
        """Record what our own action did, as of ``when`` (when it was sent).

        A record the cloud received after that still wins. An unlock falls
        back to locked after the auto-lock time.
        """
        if (data := self.current_data) is None or (
            lock := data.locks.get(lock_id)
        ) is None:
            return
        when = when or dt_util.utcnow()
        act = self.activity.setdefault(lock_id, LockActivity())
        if is_newer(when, act.state_time):
            self._set_state(lock, state, when)
            self.async_update_lock(lock_id)
            self.save_soon()

    def _set_state(self, lock: Lock, state: LockState, when: datetime) -> None:
        lock_id = lock.lock_id
        act = self.activity.setdefault(lock_id, LockActivity())
        act.state_time = when
        lock.state = state
        if cancel := self._relock_timers.pop(lock_id, None):
            cancel()
        # In passage mode the lock stays open after an unlock (TTLock:
        # "passage mode" = normally open, auto-lock suspended): showing it
        # relocked would be a door shown locked that is open.
        if (
            state is LockState.UNLOCKED
            and lock.auto_lock_seconds
            and not lock.passage_mode
        ):
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
                if (
                    data is not None
                    and (current := data.locks.get(lock_id))
                    and not current.passage_mode
                ):
                    current.state = LockState.LOCKED
                    self.async_update_lock(lock_id)
                    self.save_soon()

            self._relock_timers[lock_id] = async_call_later(
                self.hass, remaining, _relock
            )

    def _rearm_relock_timers(self, data: AccountData) -> None:
        """A restored unlock still falls back to locked at its auto-lock time."""
        for lock in data.locks.values():
            act = self.activity.get(lock.lock_id)
            if lock.state is LockState.UNLOCKED and act and act.state_time:
                self._set_state(lock, LockState.UNLOCKED, act.state_time)

    @callback
    def _announce(self, event: LockEvent) -> None:
        """Event entity via the dispatcher, automations via the bus."""
        device_id = entity_id = None
        sensor_key = self._door_sensor_key(event)
        if sensor_key is not None:
            # A known door sensor: the event belongs to its device.
            device = dr.async_get(self.hass).async_get_device_by_identifier(
                (DOMAIN, self.device_key(sensor_key)), self.config_entry.entry_id
            )
            device_id = device.id if device else None
            entity_id = er.async_get(self.hass).async_get_entity_id(
                "binary_sensor", DOMAIN, f"{self.device_key(sensor_key)}_door"
            )
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
        if (
            event.lock_id is None
            and event.type not in _ACCOUNT_WIDE
            and sensor_key is None
        ):
            # No event entity to show it: one logbook row of its own.
            async_log_unknown_sender(self.hass, event)

    def _door_sensor_key(self, event: LockEvent) -> str | None:
        """The object id of the known door sensor an event is from, if any."""
        sensor_id = event.raw.get("door_sensor_id")
        data = self.current_data
        if sensor_id is None or data is None or str(sensor_id) not in data.door_sensors:
            return None
        return DOOR_SENSOR_PREFIX + str(sensor_id)

    # ------------------------------------------------------------- devices

    def device_key(self, object_id: str) -> str:
        """Identifier of a lock's or gateway's device and base of its unique ids."""
        return f"{self.account_id}_{object_id}"

    def _publish(self, data: AccountData, gone: list[str]) -> None:
        """Drop devices that left; announce new locks/gateways to the platforms."""
        if gone:
            LOGGER.debug("Removing the devices of %s: left the account", gone)
            remove_devices(
                self.hass,
                self.config_entry.entry_id,
                (self.device_key(key) for key in gone),
            )
        self._index_aliases(data)
        # Platforms build entities from self.data: publish it before announcing.
        self.data = data
        current = set(data.locks)
        current_gws = set(data.gateways)
        if new := sorted(current - self._known_locks):
            self._known_locks |= set(new)
            for cb in self.new_lock_callbacks:
                cb(new)
        if new_gws := sorted(current_gws - self._known_gateways):
            self._known_gateways |= set(new_gws)
            for cb in self.new_gateway_callbacks:
                cb(new_gws)
        current_ds = set(data.door_sensors)
        if new_ds := sorted(current_ds - self._known_door_sensors):
            self._known_door_sensors |= set(new_ds)
            for cb in self.new_door_sensor_callbacks:
                cb(new_ds)
        self._known_locks &= current
        self._known_gateways &= current_gws
        self._known_door_sensors &= current_ds

    def _issue_id(self, kind: str) -> str:
        return f"{kind}_{self.config_entry.entry_id}"

    def _raise_issue(
        self,
        kind: str,
        *,
        severity: ir.IssueSeverity = ir.IssueSeverity.ERROR,
        **placeholders: str,
    ) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id(kind),
            is_fixable=False,
            severity=severity,
            translation_key=kind,
            translation_placeholders={
                "account": self.config_entry.title,
                **placeholders,
            },
        )

    @callback
    def async_shutdown_timers(self) -> None:
        """Cancel pending auto-lock timers (entry unload)."""
        for cancel in self._relock_timers.values():
            cancel()
        self._relock_timers.clear()
