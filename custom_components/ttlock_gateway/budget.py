"""The call ledger: what each developer application spent, by day, month and endpoint.

The clouds cap calls per developer application (TTLock client id, Tuya access
id, Dding client id, a gateway service's URL and user), and several entries may
share one: each application has one ledger, one file
(``.storage/ttlock_gateway.ledger.<digest>``), shared by the entries that use
it. Every request a client sends is counted through the providers' counting
hook (``providers.metering``), token calls and retries included.

Counts are kept by UTC calendar day (62 days) and month (13 months), by
endpoint, plus hourly totals of the last 48 hours for the rate. The file is
written debounced (``SAVE_DELAY``) and at once when the last entry goes.
Requests counted before the ledger is loaded (the config flow's sign-in) are
kept in memory and added when it loads. What the counts mean for the schedule
and the repairs is the coordinator's business (docs/budget.md).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib
from typing import Any, Final

from homeassistant.const import CONF_USERNAME
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .activity_store import dt_from_store, dt_to_store
from .const import (
    CONF_ACCESS_ID,
    CONF_BASE_URL,
    CONF_CLIENT_ID,
    CONF_PROVIDER,
    DOMAIN,
    LOGGER,
    PROVIDER_TTLOCK,
    PROVIDER_TUYA,
)
from .providers.models import RateLimitError

LEDGER_VERSION: Final = 1
# Seconds between a count and the write that keeps it (more counts join it).
SAVE_DELAY: Final = 60.0
# Listeners (sensors, the schedule) hear of new counts at most this often.
NOTIFY_DELAY: Final = 10.0
DAYS_KEPT: Final = 62
MONTHS_KEPT: Final = 13
HOURS_KEPT: Final = 48
# Distinct endpoints per bucket; more (a cloud with unexpected paths) go to
# "other" so that memory and the file stay bounded.
MAX_ENDPOINTS: Final = 64
OTHER: Final = "other"
# The rate is the last 24 hours' count, per day. A ledger younger than a day
# reads low on its first day rather than extrapolating a setup's burst into
# a false alarm; the schedule reacts to budgets over days, not hours.
RATE_WINDOW: Final = timedelta(hours=24)

DATA_LEDGERS: HassKey[LedgerRegistry] = HassKey(f"{DOMAIN}_ledgers")


def application_of(data: Mapping[str, Any]) -> tuple[str, str]:
    """(provider, application identity) of an entry's data.

    TTLock and Dding: the client id; Tuya: the access id; a gateway service:
    its URL and user (each user of a service is billed by the service's own
    TTLock application, but what we can count is what we send it).
    """
    provider = str(data.get(CONF_PROVIDER) or PROVIDER_TTLOCK)
    if provider == PROVIDER_TUYA:
        ident = str(data.get(CONF_ACCESS_ID) or "")
    elif provider == "gateway_service":
        ident = (
            f"{str(data.get(CONF_BASE_URL) or '').rstrip('/')}|"
            + str(data.get(CONF_USERNAME) or data.get("email") or "").strip().casefold()
        )
    else:
        ident = str(data.get(CONF_CLIENT_ID) or "")
    return provider, ident


def ledger_digest(provider: str, ident: str) -> str:
    """The ledger's name: a digest, so that no id appears in a file name."""
    return hashlib.sha256(f"{provider}\n{ident}".encode()).hexdigest()[:16]


def month_start(now: datetime) -> datetime:
    """The first instant (UTC) of ``now``'s month."""
    now = now.astimezone(UTC)
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def next_month_start(now: datetime) -> datetime:
    """The first instant (UTC) of the month after ``now``."""
    now = now.astimezone(UTC)
    if now.month == 12:
        return datetime(now.year + 1, 1, 1, tzinfo=UTC)
    return datetime(now.year, now.month + 1, 1, tzinfo=UTC)


def _day_key(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%d")


def _month_key(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m")


def _hour_key(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _add(bucket: Counter[str], endpoint: str, count: int = 1) -> None:
    if endpoint not in bucket and len(bucket) >= MAX_ENDPOINTS:
        endpoint = OTHER
    bucket[endpoint] += count


@dataclass(frozen=True, slots=True)
class LimitState:
    """The cloud said the quota is used up: since when, and until when if known."""

    since: datetime
    reset_at: datetime | None
    code: str | None


@dataclass(frozen=True, slots=True)
class LedgerView:
    """What the sensor and the schedule read, at one instant."""

    month: int
    today: int
    rate_per_day: float
    projected: int
    month_start: datetime
    month_end: datetime
    top: dict[str, int]


class CallLedger:
    """One developer application's counts; implements ``providers.CallMeter``."""

    def __init__(self, hass: HomeAssistant, provider: str, digest: str) -> None:
        """An empty ledger; ``async_load`` reads the file."""
        self.hass = hass
        self.provider = provider
        self.digest = digest
        self.days: dict[str, Counter[str]] = {}
        self.months: dict[str, Counter[str]] = {}
        self.hours: Counter[str] = Counter()
        self.limit: LimitState | None = None
        self._store: Store[dict[str, Any]] = Store(
            hass, LEDGER_VERSION, f"{DOMAIN}.ledger.{digest}"
        )
        self._listeners: list[Callable[[], None]] = []
        self._notify_unsub: CALLBACK_TYPE | None = None
        self._save_scheduled = False
        self._closed = False

    # --------------------------------------------------------------- meter

    @callback
    def count(self, endpoint: str, amount: int = 1) -> None:
        """One request sent (the providers' counting hook); never raises."""
        now = dt_util.utcnow()
        _add(self.days.setdefault(_day_key(now), Counter()), endpoint, amount)
        _add(self.months.setdefault(_month_key(now), Counter()), endpoint, amount)
        self.hours[_hour_key(now)] += amount
        self._changed(soon=True)

    @callback
    def limit_reached(self, error: RateLimitError) -> None:
        """The cloud refused a call: the period's quota is used up."""
        now = dt_util.utcnow()
        if self.limit is None or self.limit.reset_at != error.reset_at:
            self.limit = LimitState(
                since=now,
                reset_at=error.reset_at,
                code=str(error.code) if error.code is not None else None,
            )
            LOGGER.warning(
                "The cloud's call quota of a %s developer application is used up%s",
                self.provider,
                f" until {error.reset_at.isoformat()}" if error.reset_at else "",
            )
            self._changed(soon=False)

    @callback
    def clear_limit(self) -> None:
        """A call worked again: the quota is no longer used up."""
        if self.limit is not None:
            self.limit = None
            self._changed(soon=False)

    def active_limit(self, now: datetime) -> LimitState | None:
        """The limit, unless its reset time passed (then a new refusal says so)."""
        limit = self.limit
        if limit is None or (limit.reset_at is not None and now >= limit.reset_at):
            return None
        return limit

    # --------------------------------------------------------------- views

    def view(self, now: datetime) -> LedgerView:
        """This month's count, today's, the rate, the month-end projection."""
        month = self.months.get(_month_key(now), Counter())
        month_total = sum(month.values())
        today = sum(self.days.get(_day_key(now), Counter()).values())
        rate = self.rate_per_day(now)
        start, end = month_start(now), next_month_start(now)
        remaining = max(0.0, (end - now).total_seconds() / 86400)
        return LedgerView(
            month=month_total,
            today=today,
            rate_per_day=rate,
            projected=round(month_total + rate * remaining),
            month_start=start,
            month_end=end,
            top=dict(month.most_common(5)),
        )

    def rate_per_day(self, now: datetime) -> float:
        """Calls in the last 24 hours (whole hours; the current one included)."""
        since = now - RATE_WINDOW
        first_hour = since.replace(minute=0, second=0, microsecond=0)
        total = 0
        for key, amount in self.hours.items():
            hour = _parse_hour(key)
            # 24 whole hours: the current one and the 23 before it.
            if hour is not None and first_hour < hour <= now:
                total += amount
        return float(total)

    # ----------------------------------------------------------- listeners

    @callback
    def add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` (debounced) when counts or the limit change."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    @callback
    def _changed(self, *, soon: bool) -> None:
        if self._closed:
            return
        if not self._save_scheduled:
            # Once per delay: a save asked again would be postponed again, and
            # steady counting would never be written.
            self._save_scheduled = True
            self._store.async_delay_save(self._data_for_save, SAVE_DELAY)
        if not soon:
            self._cancel_notify()
            self._notify()
        elif self._notify_unsub is None:
            self._notify_unsub = async_call_later(
                self.hass, NOTIFY_DELAY, self._notify_later
            )

    @callback
    def _notify_later(self, _now: datetime) -> None:
        self._notify_unsub = None
        self._notify()

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a listener's bug must not stop the counting
                LOGGER.exception("Call ledger listener failed")

    def _cancel_notify(self) -> None:
        if self._notify_unsub is not None:
            self._notify_unsub()
            self._notify_unsub = None

    # ------------------------------------------------------------- storage

    async def async_load(self) -> None:
        """Read the file; values that do not parse, or lie ahead, are dropped."""
        stored = await self._store.async_load()
        now = dt_util.utcnow()
        if isinstance(stored, dict):
            self._from_store(stored, now)
        self._prune(now)
        # Counts made before the file was read (the config flow's sign-in).
        for endpoint, amount in self._pending_counts().items():
            self.count(endpoint, amount)

    async def async_close(self) -> None:
        """The last entry went: write now, stop notifying."""
        self._closed = True
        self._cancel_notify()
        self._listeners.clear()
        self._prune(dt_util.utcnow())
        await self._store.async_save(self._to_store())

    async def async_remove(self) -> None:
        """Forget the file (the application's last entry was removed)."""
        self._closed = True
        self._cancel_notify()
        await self._store.async_remove()

    def _prune(self, now: datetime) -> None:
        ahead = _day_key(now + timedelta(days=1))
        days_floor = _day_key(now - timedelta(days=DAYS_KEPT))
        self.days = {k: v for k, v in self.days.items() if days_floor <= k <= ahead}
        month_floor = _month_key(month_start(now) - timedelta(days=31 * MONTHS_KEPT))
        month_ahead = _month_key(now + timedelta(days=1))
        self.months = {
            k: v for k, v in self.months.items() if month_floor <= k <= month_ahead
        }
        hour_floor = _hour_key(now - timedelta(hours=HOURS_KEPT))
        hour_ahead = _hour_key(now + timedelta(hours=1))
        self.hours = Counter(
            {k: v for k, v in self.hours.items() if hour_floor <= k <= hour_ahead}
        )

    @callback
    def _data_for_save(self) -> dict[str, Any]:
        self._save_scheduled = False
        return self._to_store()

    @callback
    def _to_store(self) -> dict[str, Any]:
        self._prune(dt_util.utcnow())
        limit = self.limit
        return {
            "provider": self.provider,
            "days": {k: dict(v) for k, v in sorted(self.days.items())},
            "months": {k: dict(v) for k, v in sorted(self.months.items())},
            "hours": dict(sorted(self.hours.items())),
            "limit": (
                {
                    "since": dt_to_store(limit.since),
                    "reset_at": dt_to_store(limit.reset_at),
                    "code": limit.code,
                }
                if limit is not None
                else None
            ),
        }

    def _from_store(self, stored: dict[str, Any], now: datetime) -> None:
        self.days = _buckets(stored.get("days"), 10)
        self.months = _buckets(stored.get("months"), 7)
        hours = stored.get("hours")
        if isinstance(hours, dict):
            self.hours = Counter(
                {
                    k: v
                    for k, v in hours.items()
                    if isinstance(k, str)
                    and _parse_hour(k) is not None
                    and _count(v) is not None
                }
            )
        limit = stored.get("limit")
        if (
            isinstance(limit, dict)
            and (since := dt_from_store(limit.get("since"))) is not None
        ):
            code = limit.get("code")
            self.limit = LimitState(
                since=since,
                reset_at=dt_from_store(limit.get("reset_at")),
                code=code if isinstance(code, str) else None,
            )

    def _pending_counts(self) -> Counter[str]:
        registry = self.hass.data.get(DATA_LEDGERS)
        if registry is None:
            return Counter()
        return registry.pending.pop(self.digest, Counter())


def _count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**9:
        return value
    return None


def _buckets(raw: Any, key_length: int) -> dict[str, Counter[str]]:
    """Stored buckets; keys of the wrong shape and bad counts are dropped."""
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Counter[str]] = {}
    for key, bucket in raw.items():
        if not isinstance(key, str) or len(key) != key_length:
            continue
        if not isinstance(bucket, dict):
            continue
        counts: Counter[str] = Counter()
        for endpoint, amount in bucket.items():
            if isinstance(endpoint, str) and (n := _count(amount)) is not None:
                _add(counts, endpoint[:120], n)
        out[key] = counts
    return out


def _parse_hour(key: str) -> datetime | None:
    try:
        return datetime.strptime(key, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    except ValueError:
        return None


class _PendingMeter:
    """Counts for an application whose ledger is not loaded (yet)."""

    def __init__(self, registry: LedgerRegistry, digest: str) -> None:
        self._registry = registry
        self._digest = digest

    def count(self, endpoint: str) -> None:
        ledger = self._registry.ledgers.get(self._digest)
        if ledger is not None:
            ledger.count(endpoint)
            return
        pending = self._registry.pending.setdefault(self._digest, Counter())
        _add(pending, endpoint)

    def limit_reached(self, error: RateLimitError) -> None:
        if (ledger := self._registry.ledgers.get(self._digest)) is not None:
            ledger.limit_reached(error)


class LedgerRegistry:
    """Every loaded ledger, with the entries that use each."""

    def __init__(self) -> None:
        """Nothing loaded yet."""
        self.ledgers: dict[str, CallLedger] = {}
        self.users: dict[str, set[str]] = {}
        self.pending: dict[str, Counter[str]] = {}
        self._loading: dict[str, asyncio.Future[CallLedger]] = {}


def _registry(hass: HomeAssistant) -> LedgerRegistry:
    registry = hass.data.get(DATA_LEDGERS)
    if registry is None:
        registry = hass.data[DATA_LEDGERS] = LedgerRegistry()
    return registry


@callback
def async_meter_for(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> CallLedger | _PendingMeter:
    """The counting hook for the application ``data`` names (loaded or not)."""
    registry = _registry(hass)
    digest = ledger_digest(*application_of(data))
    return registry.ledgers.get(digest) or _PendingMeter(registry, digest)


async def async_acquire_ledger(
    hass: HomeAssistant, entry_id: str, data: Mapping[str, Any]
) -> CallLedger:
    """The application's ledger, loaded once for all the entries that share it."""
    registry = _registry(hass)
    provider, ident = application_of(data)
    digest = ledger_digest(provider, ident)
    registry.users.setdefault(digest, set()).add(entry_id)
    if (ledger := registry.ledgers.get(digest)) is not None:
        return ledger
    if (loading := registry._loading.get(digest)) is not None:
        return await asyncio.shield(loading)
    future: asyncio.Future[CallLedger] = hass.loop.create_future()
    registry._loading[digest] = future
    try:
        ledger = CallLedger(hass, provider, digest)
        await ledger.async_load()
    except BaseException as err:
        registry._loading.pop(digest, None)
        registry.users.get(digest, set()).discard(entry_id)
        future.set_exception(err)
        future.exception()  # retrieved: nobody else may be waiting
        raise
    registry.ledgers[digest] = ledger
    registry._loading.pop(digest, None)
    future.set_result(ledger)
    return ledger


async def async_release_ledger(hass: HomeAssistant, entry_id: str, digest: str) -> None:
    """An entry unloads; the last one to go writes the file and closes it."""
    registry = _registry(hass)
    users = registry.users.get(digest)
    if users is not None:
        users.discard(entry_id)
        if users:
            return
        registry.users.pop(digest, None)
    ledger = registry.ledgers.pop(digest, None)
    if ledger is not None:
        await ledger.async_close()


async def async_remove_ledger(
    hass: HomeAssistant, data: Mapping[str, Any], others: list[Mapping[str, Any]]
) -> None:
    """An entry was removed: forget the file unless another entry shares it."""
    app = application_of(data)
    if any(application_of(other) == app for other in others):
        return
    digest = ledger_digest(*app)
    registry = _registry(hass)
    registry.pending.pop(digest, None)
    ledger = registry.ledgers.pop(digest, None) or CallLedger(hass, app[0], digest)
    await ledger.async_remove()
