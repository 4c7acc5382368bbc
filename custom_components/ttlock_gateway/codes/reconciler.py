"""The reconciler: brings each lock's codes to what the ledger says, one lock at a time.

One task per lock at most (a lock's gateway takes one command at a time): it
lists the lock's codes when something may have happened unseen (an upload whose
answer was lost, a restart in the middle of one), then deletes, changes and adds
only what differs. A delete requested while an add is in flight waits for the
add; if the add lands, the same task removes it next and only then reports
``code_deleted``.

Time: retries wait on Home Assistant's loop clock (monotonic), so a jump of the
wall clock neither fires nor stalls them. The wall clock only decides whether a
code's window has ended (then its upload waits, it is not failed) and where a
restart picks the schedule up again (clamped to one retry interval).

Faults: transient ones (gateway offline or busy, timeout, 5xx) are attempts on
the documented schedule; a rate limit pauses the whole entry until the quota
returns and an auth or subscription fault pauses it and asks for reauth —
neither uses up attempts nor fails a code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_CLEANUP_ALL,
    CONF_CLEANUP_INTERVAL,
    CONF_FALLBACK,
    CONF_RETRY_ATTEMPTS,
    CONF_RETRY_INTERVAL,
    DEFAULT_CLEANUP_INTERVAL,
    DEFAULT_RETRY_ATTEMPTS,
    DEFAULT_RETRY_INTERVAL,
    DOMAIN,
    FALLBACK_OFFLINE,
    LOGGER,
)
from ..coordinator import LockCoordinator, TTLockGatewayConfigEntry
from ..entity import GATEWAY_OFFLINE_CODES
from ..providers.bounds import InvalidAnswerError
from ..providers.models import (
    AsyncResultProvider,
    AuthError,
    CannotConnectError,
    Capabilities,
    CodePacketError,
    CodePhase,
    DuplicateCodeError,
    EventType,
    LockEvent,
    NotSupportedError,
    OfflineKind,
    Operation,
    OperationResult,
    OperationStage,
    Passcode,
    ProviderError,
    RateLimitError,
    ResultPendingError,
    ResultStatus,
    SubscriptionError,
    TransientError,
)
from ..providers.offline_codes import OfflineCodeRequest
from .events import (
    DELETED_GRACE,
    ISSUE_CODE_NOT_DELETED,
    Announcer,
    CodeEventMatcher,
)
from .generate import NoFreeCodeError, generate_code
from .ledger import CodeLedger, Outcome, WaitKind
from .model import CodeRecord, Op, RecordKey, Status, find_landed, is_current
from .offline import (
    apply_window,
    offline_request,
    reminder_due,
    take_answer,
)

# After a (re)load, interrupted work resumes after this: set-up finishes first.
MIN_RESTART_DELAY = 30.0
# A delete is never given up (a cancelled guest must not keep the door); past
# the retry schedule it is tried at least this far apart.
SLOW_DELETE_INTERVAL = timedelta(hours=1)
# A generated code that clashes with one we could not see gets new digits.
MAX_REGENERATIONS = 3
# A timer may fire a moment before its due time (loop clock granularity; Home
# Assistant's test harness fires up to 0.5 s early): due is due within this.
DUE_SLACK = 1.0
# A code the cloud holds for the lock (phase pending, deleting, unknown) is
# listed again this long after, doubling up to WATCH_MAX: an online lock takes
# it within seconds, a sleepy one when it next wakes (hours or days).
WATCH_FIRST = timedelta(minutes=1)
WATCH_MAX = timedelta(hours=6)
# How often unused offline codes are checked against their first-use deadline.
FIRST_USE_CHECK_INTERVAL = timedelta(minutes=15)

_ORDER = {
    Op.RECHECK: 0,
    Op.WATCH: 0,
    Op.CONFIRM: 0,
    Op.REDELIVER: 1,
    Op.DELETE: 1,
    Op.CHANGE: 2,
    Op.ADD: 3,
}
_KINDS: dict[Op, tuple[WaitKind, ...]] = {
    Op.ADD: (WaitKind.ADD, WaitKind.UPDATE),
    Op.CHANGE: (WaitKind.UPDATE,),
    Op.DELETE: (WaitKind.DELETE,),
    Op.RECHECK: (WaitKind.ADD, WaitKind.UPDATE),
    Op.WATCH: (WaitKind.DELETE,),
    Op.REDELIVER: (WaitKind.ADD, WaitKind.UPDATE),
    # Its callers were answered when the cloud accepted the operation.
    Op.CONFIRM: (),
}
# An accepted operation the lock carries out later (Dding's operation_stage):
# the lock is listed after these delays, then hourly, at most
# MAX_CONFIRM_POLLS times (about a day); an add or update still unconfirmed
# then is given up (a repair says so), a delete is tried again.
CONFIRM_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=10),
    timedelta(minutes=20),
    timedelta(minutes=30),
)
CONFIRM_INTERVAL = timedelta(hours=1)
MAX_CONFIRM_POLLS = 24
ACCEPTED_REASON = "accepted by the cloud; waiting for the lock to confirm"


def maybe_applied(err: ProviderError) -> bool:
    """Whether the cloud may have done it although no success came back."""
    return isinstance(err, CannotConnectError | InvalidAnswerError) or (
        isinstance(err, TransientError) and err.code is None
    )


def is_transient(err: ProviderError) -> bool:
    """Worth another attempt on the retry schedule."""
    return isinstance(err, TransientError | InvalidAnswerError)


def _int_code(code: int | str | None) -> int | None:
    try:
        return int(code) if code is not None else None
    except ValueError:
        return None


def _reason(err: ProviderError) -> str:
    return err.message or type(err).__name__


def _delivered(record: CodeRecord) -> bool:
    """Whether the cloud said the lock has the code (TTLock: its answer)."""
    return record.cloud_id is not None and record.phase in (None, CodePhase.DELIVERED)


# Reasons a record shows while the cloud's own job runs (gateway service).
JOB_PENDING = "sent to the gateway service; its result has not been reported yet"
JOB_RETRYING = "the gateway service is retrying it on its own schedule"
JOB_EXPIRED = "the gateway service never reported the result"


class Reconciler:
    """The cloud side of an entry's ledger while the entry is loaded."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: TTLockGatewayConfigEntry,
        coordinator: LockCoordinator,
        ledger: CodeLedger,
    ) -> None:
        """Read the schedules from the entry's options."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self.provider = coordinator.provider
        self.ledger = ledger
        self.announcer = Announcer(hass, entry, coordinator)
        self.matcher = CodeEventMatcher(ledger, self.announcer, self.request_failed)
        options = entry.options
        self.retry_interval = timedelta(
            minutes=options.get(CONF_RETRY_INTERVAL, DEFAULT_RETRY_INTERVAL)
        )
        self.retry_attempts = max(
            1, int(options.get(CONF_RETRY_ATTEMPTS, DEFAULT_RETRY_ATTEMPTS))
        )
        self.cleanup_interval = timedelta(
            minutes=options.get(CONF_CLEANUP_INTERVAL, DEFAULT_CLEANUP_INTERVAL)
        )
        self.cleanup_all = bool(options.get(CONF_CLEANUP_ALL, False))
        # Entries made before the option existed have none: no fallback.
        self.fallback = options.get(CONF_FALLBACK) == FALLBACK_OFFLINE
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()
        self._timers: dict[str, CALLBACK_TYPE] = {}
        self._not_before: dict[RecordKey, float] = {}
        self._regenerated: dict[RecordKey, int] = {}
        self._replacing: set[RecordKey] = set()
        # Listings a watched record had (the next one waits twice as long).
        self._watches: dict[RecordKey, int] = {}
        # Deletes a listing already showed done (no second listing).
        self._confirmed: set[RecordKey] = set()
        self._paused_until = 0.0
        self._pause_timer: CALLBACK_TYPE | None = None
        self._reauth_started = False
        self._unsub_cleanup: CALLBACK_TYPE | None = None
        self._cleanup_task: asyncio.Task[None] | None = None
        self._unsub_first_use: CALLBACK_TYPE | None = None
        self._first_use_task: asyncio.Task[None] | None = None
        self.stopped = False
        # The cloud retries uploads and deletions itself and has no listing
        # (gateway service): the ledger waits for its final answer instead.
        self.cloud_retries = bool(getattr(self.provider, "retries_code_uploads", False))
        # Called when a job was left pending (the entry stores its jobs).
        self.on_job_pending: Callable[[], None] | None = None
        # Called after each code that reached a lock (the packet is re-read),
        # and when the paid code packet refused one (its repair).
        self.on_code_added: Callable[[], None] | None = None
        self.on_packet_error: Callable[[CodePacketError], None] | None = None

    # ------------------------------------------------------------ lifecycle

    async def async_attach(self) -> None:
        """Take over the ledger; resume interrupted work after set-up."""
        await self.ledger.async_load()
        self.ledger.runner = self
        now, mono = dt_util.utcnow(), self._mono()
        interval = self.retry_interval.total_seconds()
        locks: set[str] = set()
        for record in self.ledger.records.values():
            if record.operation() is None:
                continue
            delay = MIN_RESTART_DELAY
            if record.next_attempt is not None:
                # Clamped: a clock that jumped back must not postpone the
                # retry by days, nor one that jumped ahead fire it at once.
                wanted = (record.next_attempt - now).total_seconds()
                delay = min(max(wanted, MIN_RESTART_DELAY), interval)
            self._not_before[record.key] = mono + delay
            locks.add(record.lock_id)
        for lock_id in locks:
            self._schedule(lock_id)
        self._unsub_cleanup = async_track_time_interval(
            self.hass,
            self._cleanup_due,
            self.cleanup_interval,
            name=f"{DOMAIN} code clean-up",
            cancel_on_shutdown=True,
        )
        self._unsub_first_use = async_track_time_interval(
            self.hass,
            self._first_use_due,
            FIRST_USE_CHECK_INTERVAL,
            name=f"{DOMAIN} offline code first use",
            cancel_on_shutdown=True,
        )

    async def async_detach(self) -> None:
        """Stop (entry unload): cancel in-flight work, answer waiting calls, write.

        An upload cut off here stays ``uncertain`` in the ledger: the next
        start lists the lock before sending anything again.
        """
        self.stopped = True
        for cancel in self._timers.values():
            cancel()
        self._timers.clear()
        if self._pause_timer is not None:
            self._pause_timer()
            self._pause_timer = None
        if self._unsub_cleanup is not None:
            self._unsub_cleanup()
            self._unsub_cleanup = None
        if self._unsub_first_use is not None:
            self._unsub_first_use()
            self._unsub_first_use = None
        tasks = list(self._tasks.values())
        for extra in (self._cleanup_task, self._first_use_task):
            if extra is not None:
                tasks.append(extra)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self.ledger.settle_all(self.current_outcome)
        if self.ledger.runner is self:
            self.ledger.runner = None
        await self.ledger.async_save()

    # ------------------------------------------------------------ submissions

    async def async_submit(
        self, records: Iterable[CodeRecord], kind: WaitKind
    ) -> list[Outcome]:
        """Write the records' desired state, then wait for their next attempt.

        The caller has changed or created the records; they are saved before
        any cloud call (write-ahead), so a stop from here on loses nothing.
        """
        records = list(records)
        now = dt_util.utcnow()
        futures = []
        for record in records:
            self.ledger.records[record.key] = record
            self._not_before.pop(record.key, None)
            self._regenerated.pop(record.key, None)
            if (
                kind is WaitKind.DELETE
                and record.operation() is None
                and record.job is None
            ):
                # Never on the lock (queued or refused): nothing to send. (An
                # upload the cloud is still running may land: its result
                # decides, and a landed code is deleted then.)
                self._tombstone(record, now)
                record.recheck = False
            futures.append(self.ledger.wait(record.key, kind))
        await self.ledger.async_save()
        for record in records:
            if record.operation() is None:
                # Nothing to send (cancelled, or an update that changes nothing).
                self.ledger.settle(
                    record.key, [kind], self.current_outcome(record, kind)
                )
        # The entry may have reloaded while the intent was written: the
        # ledger's current reconciler (if any) takes it from here.
        runner = self.ledger.runner
        if runner is None or runner.stopped:
            for record, future in zip(records, futures, strict=True):
                if not future.done():
                    future.set_result(self.current_outcome(record, kind))
        else:
            for lock_id in {r.lock_id for r in records}:
                runner.kick(lock_id)
        return list(await asyncio.gather(*futures))

    def current_outcome(self, record: CodeRecord | None, kind: WaitKind) -> Outcome:
        """What a waiting call is told when it cannot wait any longer."""
        if record is None:
            return Outcome(Status.CANCELLED)
        if record.job is not None and record.cloud_id is None and record.present:
            # Accepted by the cloud, not reported done: not "added".
            return Outcome(Status.PENDING_DELIVERY, reason=record.reason)
        status = record.status(dt_util.utcnow())
        if record.confirming is not None:
            # Accepted, not confirmed by the lock: never "added" or "updated".
            pass
        elif status in (
            Status.ACTIVE,
            Status.PENDING,
            Status.PENDING_DELIVERY,
            Status.UNKNOWN,
        ):
            status = Status.UPDATED if kind is WaitKind.UPDATE else Status.ADDED
        elif status is Status.UPDATING:
            status = Status.QUEUED  # the change waits for the lock
        return Outcome(
            status,
            cloud_id=record.cloud_id,
            reason=record.reason,
            delivered=_delivered(record),
        )

    # ------------------------------------------------------------ scheduling

    def _mono(self) -> float:
        return self.hass.loop.time()

    @callback
    def kick(self, lock_id: str) -> None:
        """Run the lock's reconcile (again) as soon as it is free."""
        if self.stopped:
            return
        self._dirty.add(lock_id)
        if lock_id not in self._tasks:
            task = self.entry.async_create_background_task(
                self.hass, self._run(lock_id), f"{DOMAIN} codes of {lock_id}"
            )
            # Tasks start eagerly: one that had nothing to wait for is done.
            if not task.done():
                self._tasks[lock_id] = task

    @callback
    def kick_all(self) -> None:
        """Every lock that has work."""
        for lock_id in {
            r.lock_id for r in self.ledger.records.values() if r.operation()
        }:
            self.kick(lock_id)

    def _schedule(self, lock_id: str) -> None:
        """One timer per lock, at its earliest due record (or the pause's end)."""
        if cancel := self._timers.pop(lock_id, None):
            cancel()
        if self.stopped:
            return
        due = [
            self._not_before.get(r.key, 0.0)
            for r in self.ledger.for_lock(lock_id)
            if r.operation() is not None
        ]
        if not due:
            return
        mono = self._mono()
        delay = max(min(due), self._paused_until) - mono
        if delay <= 0 and lock_id in self._dirty:
            return

        @callback
        def _due(_now: datetime) -> None:
            self._timers.pop(lock_id, None)
            self.kick(lock_id)

        self._timers[lock_id] = async_call_later(self.hass, max(delay, 0.0), _due)

    def _retry_later(self, record: CodeRecord, delay: timedelta) -> None:
        self._not_before[record.key] = self._mono() + delay.total_seconds()
        record.next_attempt = dt_util.utcnow() + delay

    def _paused(self) -> bool:
        return self._mono() + DUE_SLACK < self._paused_until

    def _pause(self, seconds: float, *, reauth: bool) -> None:
        """Hold every lock's work for ``seconds`` (quota, credentials)."""
        self._paused_until = max(self._paused_until, self._mono() + seconds)
        if reauth and not self._reauth_started:
            self._reauth_started = True
            self.entry.async_start_reauth(self.hass)
        if self._pause_timer is not None:
            self._pause_timer()

        @callback
        def _resume(_now: datetime) -> None:
            self._pause_timer = None
            self.kick_all()

        self._pause_timer = async_call_later(
            self.hass, self._paused_until - self._mono(), _resume
        )

    # ------------------------------------------------------------ the pass

    async def _run(self, lock_id: str) -> None:
        try:
            while lock_id in self._dirty and not self.stopped:
                self._dirty.discard(lock_id)
                await self._pass(lock_id)
        except Exception:
            # A bug, not a cloud fault (those are ProviderErrors): say so, and
            # never leave a service call waiting for ever.
            LOGGER.exception("Reconciling the codes of lock %s failed", lock_id)
            for record in self.ledger.for_lock(lock_id):
                self.ledger.settle(
                    record.key,
                    list(WaitKind),
                    self.current_outcome(record, WaitKind.ADD),
                )
        finally:
            if self._tasks.get(lock_id) is asyncio.current_task():
                del self._tasks[lock_id]
            if not self.stopped:
                self._schedule(lock_id)
                self.ledger.save_soon()

    async def _pass(self, lock_id: str) -> None:
        mono = self._mono() + DUE_SLACK
        due = [
            r
            for r in self.ledger.for_lock(lock_id)
            if r.operation() is not None and self._not_before.get(r.key, 0.0) <= mono
        ]
        if not due:
            return
        if self._paused():
            for record in due:
                self._settle_now(record)
            return
        data = self.coordinator.current_data
        if data is None:
            for record in due:
                self._retry_later(record, self.retry_interval)
                self._settle_now(record)
            return
        if lock_id not in data.locks:
            # Left the account, or one odd lock list: an attempt that failed,
            # not a certainty (no cloud call is made for it).
            gone = TransientError("the lock is no longer in the account's lock list")
            for record in due:
                op = record.operation()
                assert op is not None
                if op is Op.RECHECK:
                    record.recheck = False
                    continue
                if op is Op.WATCH:
                    self._retry_later(record, self.retry_interval)
                    continue
                record.attempts += 1
                self._failed_attempt(record, op, gone)
            return
        now = dt_util.utcnow()
        ready: list[CodeRecord] = []
        for record in due:
            if (
                record.operation() is Op.ADD
                and record.end is not None
                and record.end <= now
            ):
                # Not an attempt, not a failure: the clock may be wrong (a jump
                # ahead); if it is right the clean-up drops the record.
                record.reason = "the code's window ended before it reached the lock"
                self._retry_later(record, self.retry_interval)
                self.ledger.settle(
                    record.key,
                    _KINDS[Op.ADD],
                    Outcome(Status.EXPIRED, reason=record.reason),
                )
                continue
            ready.append(record)
        listing: list[Passcode] | None = None
        if self.cloud_retries:
            # No listing to look at: an interrupted upload is found among the
            # cloud's own pending jobs (kept across restarts) instead.
            for record in ready:
                if record.uncertain or record.recheck:
                    self._adopt_job(lock_id, record)
            ready = [r for r in ready if r.operation() not in (None, Op.RECHECK)]
        elif any(
            r.uncertain or r.recheck or r.operation() in (Op.WATCH, Op.CONFIRM)
            for r in ready
        ):
            listing = await self._list(lock_id)
            if listing is None:
                return
        ready.sort(key=lambda r: _ORDER[r.operation() or Op.ADD])
        for record in ready:
            op = record.operation()
            if op is None:
                continue
            if self.stopped or self._paused():
                self._settle_now(record)
                continue
            if op is Op.RECHECK:
                self._recheck(lock_id, record, listing or [])
            elif op is Op.WATCH:
                self._watch_again(record)
            elif op is Op.REDELIVER:
                self._redeliver(lock_id, record)
            elif op is Op.CONFIRM:
                self._confirm(lock_id, record, listing or [])
                if record.operation() is Op.CONFIRM and self.ledger.waiting(
                    record.key, WaitKind.UPDATE
                ):
                    # An update asked meanwhile follows the lock's confirmation
                    # of the previous change: its caller is not kept waiting.
                    self.ledger.settle(
                        record.key,
                        [WaitKind.UPDATE],
                        Outcome(
                            Status.QUEUED,
                            cloud_id=record.cloud_id,
                            reason="waiting for the lock to confirm the previous change",
                        ),
                    )
            elif op is Op.DELETE:
                await self._delete(lock_id, record, listing)
            elif op is Op.CHANGE:
                await self._change(lock_id, record)
            else:
                await self._add(lock_id, record, listing)

    async def _list(
        self, lock_id: str, failing: Iterable[CodeRecord] | None = None
    ) -> list[Passcode] | None:
        """The lock's codes now; on failure every due record had an attempt."""
        requested = dt_util.utcnow()
        try:
            codes = await self.provider.async_list_codes(lock_id)
        except ProviderError as err:
            mono = self._mono() + DUE_SLACK
            records = (
                list(failing)
                if failing is not None
                else [
                    r
                    for r in self.ledger.for_lock(lock_id)
                    if r.operation() is not None
                    and self._not_before.get(r.key, 0.0) <= mono
                ]
            )
            for record in records:
                op = record.operation()
                if op is None:
                    continue
                if op not in (Op.RECHECK, Op.WATCH, Op.CONFIRM):
                    record.attempts += 1
                self._failed_attempt(record, op, err)
            return None
        self.ledger.note_listing(lock_id, codes, requested)
        return codes

    def _settle_now(self, record: CodeRecord) -> None:
        op = record.operation()
        kinds = _KINDS[op] if op is not None else tuple(WaitKind)
        for kind in kinds:
            self.ledger.settle(record.key, [kind], self.current_outcome(record, kind))

    # ------------------------------------------------------------ operations

    async def _add(
        self, lock_id: str, record: CodeRecord, listing: list[Passcode] | None
    ) -> None:
        if record.is_offline:
            await self._add_offline(lock_id, record, listing)
            return
        assert record.code is not None
        assert record.start is not None
        assert record.end is not None
        doubt = record.uncertain or record.attempts > 0
        if record.uncertain and listing is not None:
            found = find_landed(
                listing, record, self.ledger.claimed(lock_id, but=record)
            )
            if found:
                self._landed_as_listed(lock_id, record, found)
                return
            # Not there (yet): a request cut off in flight may still land, so
            # the lock is looked at once more after the next interval.
            record.uncertain = False
            record.recheck = True
        sent = await self._write_ahead(record)
        if sent is None:
            return
        try:
            passcode = await self.provider.async_add_code(
                lock_id,
                record.name,
                record.code,
                record.start,
                record.end,
                phone=record.phone,
            )
        except ResultPendingError as err:
            self._job_pending(record, err, Op.ADD)
            return
        except DuplicateCodeError as err:
            if doubt and not self.cloud_retries:
                codes = await self._list(lock_id, [record])
                if codes is None:
                    return
                found = find_landed(
                    codes, record, self.ledger.claimed(lock_id, but=record)
                )
                if found:
                    self._landed_as_listed(lock_id, record, found)
                    return
            record.uncertain = False
            if self._regenerate(lock_id, record):
                return
            self._failed_attempt(record, Op.ADD, err)
            return
        except ProviderError as err:
            if not maybe_applied(err) or self.cloud_retries:
                # (Where the cloud retries by itself its pending jobs say
                # whether one is still out; there is no listing to look at.)
                record.uncertain = False
            if self._fall_back(lock_id, record, err):
                return
            self._failed_attempt(record, Op.ADD, err)
            return
        self._landed(lock_id, record, passcode, sent, [])

    async def _add_offline(
        self, lock_id: str, record: CodeRecord, listing: list[Passcode] | None
    ) -> None:
        """Have the cloud compute the record's offline code (no gateway needed)."""
        if record.uncertain and listing is not None:
            found = find_landed(
                listing, record, self.ledger.claimed(lock_id, but=record)
            )
            if found:
                take_answer(record, found[0])
                self._landed_as_listed(lock_id, record, found[:1])
                return
            # Not listed: asking again for the same window finds a code made
            # without its answer reaching us (the client adopts it).
            record.uncertain = False
        sent = await self._write_ahead(record)
        if sent is None:
            return
        try:
            passcode = await self.provider.async_add_offline_code(
                lock_id, record.name, offline_request(record)
            )
        except ProviderError as err:
            if not maybe_applied(err):
                record.uncertain = False
            self._failed_attempt(record, Op.ADD, err)
            return
        take_answer(record, passcode)
        self._landed(lock_id, record, passcode, sent, [])

    def _capabilities(self, lock_id: str) -> Capabilities | None:
        data = self.coordinator.current_data
        lock = data.locks.get(lock_id) if data is not None else None
        return lock.capabilities if lock is not None else None

    def _fall_back(self, lock_id: str, record: CodeRecord, err: ProviderError) -> bool:
        """An offline period code instead of a custom one the gateway cannot take.

        Only with the ``fallback`` option, for a lock that takes offline period
        codes, when the gateway is offline (not for any other fault) and the
        stay starts before the retries would be over. The custom upload is
        cancelled so the guest never has two codes: it is kept under its own
        id, looked for once more later and deleted if it landed after all.
        """
        caps = self._capabilities(lock_id)
        if (
            not self.fallback
            or not record.present
            or record.start is None
            or record.end is None
            or not isinstance(err, TransientError)
            or _int_code(err.code) not in GATEWAY_OFFLINE_CODES
            or caps is None
            or OfflineKind.PERIOD not in caps.offline_codes
        ):
            return False
        now = dt_util.utcnow()
        if record.start > now + self.retry_interval * self.retry_attempts:
            return False  # the retries have time before the stay starts
        zone = dt_util.get_default_time_zone()
        request = OfflineCodeRequest(
            OfflineKind.PERIOD,
            start=record.start.astimezone(zone),
            end=record.end.astimezone(zone),
        )
        try:
            window = self.provider.offline_window(request, record.name, now)
        except ProviderError as refused:
            LOGGER.debug("No offline fallback: %s", type(refused).__name__)
            return False
        custom = replace(record, id=f"{record.id}.custom", present=False)
        self.ledger.records[custom.key] = custom
        if custom.uncertain:
            self._dirty.add(lock_id)  # listed, then deleted if it landed
        else:
            self._tombstone(custom, now)
            custom.recheck = True
            self._retry_later(custom, self.retry_interval)
        record.offline_kind = OfflineKind.PERIOD.value
        record.code = None
        record.generated = True
        record.fallback = True
        apply_window(record, window)
        record.uncertain = False
        record.attempts = 0
        record.reason = None
        record.next_attempt = None
        record.sent_name = record.sent_start = record.sent_end = None
        self._not_before.pop(record.key, None)
        self._dirty.add(lock_id)
        LOGGER.info(
            "Code %r for %s: gateway offline, an offline code is issued instead",
            record.name,
            self.announcer.lock_name(lock_id),
        )
        return True

    def _regenerate(self, lock_id: str, record: CodeRecord) -> bool:
        """New digits for a generated code the lock already had (unseen)."""
        if not record.generated or record.attempts > 1 or not record.present:
            return False
        count = self._regenerated.get(record.key, 0)
        if count >= MAX_REGENERATIONS or record.code is None:
            return False
        try:
            record.code = generate_code(
                len(record.code),
                self.ledger.taken_digits(lock_id) | {record.code},
                leading_zero=self._leading_zero(lock_id),
            )
        except NoFreeCodeError:
            return False
        self._regenerated[record.key] = count + 1
        record.attempts = 0
        self._dirty.add(lock_id)
        return True

    def _leading_zero(self, lock_id: str) -> bool:
        data = self.coordinator.current_data
        lock = data.locks.get(lock_id) if data is not None else None
        return lock is None or lock.capabilities.code_leading_zero

    def _landed(
        self,
        lock_id: str,
        record: CodeRecord,
        passcode: Passcode,
        sent: int,
        copies: Iterable[Passcode],
    ) -> None:
        """The lock has the code (``sent``: the revision it has)."""
        record.cloud_id = passcode.code_id
        record.phase = passcode.phase
        record.applied = sent
        record.uncertain = False
        record.sent_name = record.sent_start = record.sent_end = None
        record.failed = False
        record.attempts = 0
        record.reason = None
        record.next_attempt = None
        record.seen_at = dt_util.utcnow()
        record.missing_at = None
        record.delivery_failures = 0 if _delivered(record) else record.delivery_failures
        self._not_before.pop(record.key, None)
        for copy in copies:
            self._adopt_copy(lock_id, record, copy)
        replaced = record.key in self._replacing
        self._replacing.discard(record.key)
        if passcode.operation_stage is OperationStage.FAILED:
            # Listed after a lost answer, already refused by the lock.
            self._give_up(record, Op.ADD, "the lock did not accept the code")
            return
        if record.present and passcode.operation_stage is OperationStage.IN_PROGRESS:
            # Accepted by the cloud, not on the lock yet: not "added".
            self._await_lock(record, "add")
            outcome = Outcome(
                Status.PENDING_DELIVERY,
                cloud_id=record.cloud_id,
                reason=ACCEPTED_REASON,
            )
            self.ledger.settle(record.key, [WaitKind.ADD, WaitKind.UPDATE], outcome)
            return
        if self.on_code_added is not None:
            self.on_code_added()
        if not record.present:
            # Deleted while it was in flight: the delete follows at once, and
            # only its success is announced.
            self.ledger.settle(record.key, _KINDS[Op.ADD], Outcome(Status.CANCELLED))
            self._dirty.add(lock_id)
            return
        current = record.applied == record.revision
        if replaced and current:
            self.announcer.updated(record)
        elif not replaced:
            self.announcer.added(record)
        outcome = Outcome(
            Status.ADDED, cloud_id=record.cloud_id, delivered=_delivered(record)
        )
        self.ledger.settle(record.key, [WaitKind.ADD], outcome)
        if current and record.operation() is Op.WATCH:
            self._watch_again(record, first=True)  # when does the lock have it?
        if current:
            self.ledger.settle(
                record.key,
                [WaitKind.UPDATE],
                Outcome(Status.UPDATED, cloud_id=record.cloud_id),
            )
        else:
            self._dirty.add(lock_id)

    def _landed_as_listed(
        self, lock_id: str, record: CodeRecord, found: list[Passcode]
    ) -> None:
        """The listing shows an upload of ``record`` whose answer we missed.

        It may carry an older name or window (updated while in flight): then
        the lock has none of the current revisions and a change follows.
        """
        # The one with the current look first; the rest are copies to delete.
        found = sorted(found, key=lambda c: not is_current(c, record))
        applied = record.revision if is_current(found[0], record) else 0
        self._landed(lock_id, record, found[0], applied, found[1:])

    # ------------------------------------------------------------ phases

    @callback
    def observed(
        self,
        lock_id: str,
        seen: list[tuple[CodeRecord, CodePhase | None, Passcode | None]],
    ) -> None:
        """What a listing (anyone's) says about the phases of our records.

        ``seen``: each record with a cloud id, its phase before the listing,
        and the listed code (None: not listed).
        """
        changed = False
        for record, before, listed in seen:
            if record.tombstone:
                continue
            if not record.present:
                if record.phase not in (CodePhase.DELETING, CodePhase.UNKNOWN):
                    continue  # no delete taken by the cloud yet
                if listed is None or listed.phase is CodePhase.REVOKED:
                    self._gone(record)  # the lock was reached
                elif listed.phase in (CodePhase.DELETING, CodePhase.UNKNOWN):
                    record.phase = listed.phase
                    continue
                else:
                    # Listed as valid (or never delivered) again: the delete
                    # did not hold, it is sent again on the schedule.
                    record.phase = listed.phase
                changed = True
                continue
            if listed is None:
                continue
            if listed.phase is CodePhase.DELIVERED and before in (
                CodePhase.PENDING,
                CodePhase.UNKNOWN,
            ):
                self._watches.pop(record.key, None)
                record.delivery_failures = 0
                self.announcer.delivered(record)
                changed = True
            elif listed.phase is CodePhase.FAILED and before is not CodePhase.FAILED:
                record.reason = "the cloud reports that the lock did not take the code"
                self._not_before.pop(record.key, None)
                changed = True
        if changed:
            self.ledger.save_soon()
            self.kick(lock_id)

    def _watch_again(self, record: CodeRecord, *, first: bool = False) -> None:
        """List again later: the cloud still holds the code (or its delete)."""
        count = 0 if first else self._watches.get(record.key, 0) + 1
        self._watches[record.key] = count
        delay = min(WATCH_FIRST * 2 ** min(count, 16), WATCH_MAX)
        self._retry_later(record, delay)
        self._settle_now(record)

    def _redeliver(self, lock_id: str, record: CodeRecord) -> None:
        """The lock did not take the code: its cloud entry goes, the code is
        uploaded again on the retry schedule, or given up after
        ``retry_attempts`` failed deliveries."""
        assert record.cloud_id is not None
        reason = record.reason or "the lock did not take the code"
        stray = CodeRecord(
            id=f"{record.id}.{record.cloud_id}",
            lock_id=lock_id,
            name=record.name,
            code=record.code,
            start=record.start,
            end=record.end,
            created=dt_util.utcnow(),
            present=False,
            cloud_id=record.cloud_id,
            applied=1,
            generated=record.generated,
            phase=CodePhase.FAILED,
            undelivered=True,
        )
        self.ledger.records[stray.key] = stray
        record.cloud_id = None
        record.applied = 0
        record.phase = None
        record.seen_at = record.missing_at = None
        record.delivery_failures += 1
        record.reason = reason
        self._watches.pop(record.key, None)
        self._dirty.add(lock_id)  # the stray entry is deleted now
        if record.delivery_failures >= self.retry_attempts:
            self._give_up(record, Op.ADD, reason)
            return
        LOGGER.info(
            "Code %r for %s did not reach the lock (%s of %s): sent again later",
            record.name,
            self.announcer.lock_name(lock_id),
            record.delivery_failures,
            self.retry_attempts,
        )
        self._retry_later(record, self.retry_interval)
        self._settle_now(record)

    @callback
    def request_failed(self, event: LockEvent) -> None:
        """The cloud could not carry out a passcode request on the lock
        (TTLock notifyType 4, ``code_id`` = the cloud's id of the code).

        An add (or change) the lock did not take is uploaded again when the
        error is ``retryable``, else given up (``code_failed``). A delete the
        lock did not carry out is sent again: the code still opens the door.
        Anything else (not ours, a stray entry, already handled) is ignored.
        """
        raw = event.raw or {}
        cloud_id = raw.get("objectId")
        lock_id = event.lock_id
        if (
            lock_id is None
            or not isinstance(cloud_id, str)
            or raw.get("objectType") != 2
        ):
            return
        errcode = raw.get("errcode")
        records = [r for r in self.ledger.for_lock(lock_id) if r.cloud_id == cloud_id]
        records.sort(key=lambda r: (r.tombstone, -r.created.timestamp()))
        if not records or records[0].undelivered:
            LOGGER.debug(
                "Failed passcode request on lock %s ignored: not a ledger code",
                lock_id,
            )
            return
        record = records[0]
        now = dt_util.utcnow()
        if not record.present:
            if record.tombstone:
                assert record.deleted_at is not None
                if record.deleted_at + DELETED_GRACE < now:
                    LOGGER.debug("Failed passcode request for an old deletion ignored")
                    return
                LOGGER.warning(
                    "Code %r: the lock %s did not carry out its deletion; sent again",
                    record.name,
                    self.announcer.lock_name(lock_id),
                )
                record.deleted_at = None
            record.phase = None
            record.reason = f"the lock did not carry out the delete (errcode {errcode})"
        else:
            if record.failed or record.phase is CodePhase.FAILED:
                LOGGER.debug("Failed passcode request on lock %s: known", lock_id)
                return
            record.phase = CodePhase.FAILED
            record.reason = f"the lock did not take the code (errcode {errcode})"
            if raw.get("retryable") is False:
                # Refused for good: this failed delivery is the last one.
                record.delivery_failures = max(
                    record.delivery_failures, self.retry_attempts - 1
                )
        self._not_before.pop(record.key, None)
        self.ledger.save_soon()
        self.kick(lock_id)

    def _adopt_copy(self, lock_id: str, record: CodeRecord, copy: Passcode) -> None:
        """A second upload of ``record`` on the lock: ours, and to be deleted."""
        LOGGER.debug("Code %r has a second copy on lock %s", record.name, lock_id)
        orphan = CodeRecord(
            id=f"{record.id}.{copy.code_id}",
            lock_id=lock_id,
            name=record.name,
            code=record.code,
            start=record.start,
            end=record.end,
            created=dt_util.utcnow(),
            present=False,
            cloud_id=copy.code_id,
            applied=1,
            generated=record.generated,
        )
        self.ledger.records[orphan.key] = orphan
        self._dirty.add(lock_id)

    def _recheck(
        self, lock_id: str, record: CodeRecord, listing: list[Passcode]
    ) -> None:
        """Look again for an interrupted upload that was not seen."""
        record.recheck = False
        claimed = self.ledger.claimed(lock_id, but=record)
        found = [
            c
            for c in find_landed(listing, record, claimed)
            if c.code_id != record.cloud_id
        ]
        if record.tombstone:
            if found:
                # It landed after all, after it was cancelled: delete it now.
                record.deleted_at = None
                record.cloud_id = found[0].code_id
                for copy in found[1:]:
                    self._adopt_copy(lock_id, record, copy)
                self._dirty.add(lock_id)
            return
        if record.cloud_id is None:
            if found:
                self._landed_as_listed(lock_id, record, found)
            else:
                record.uncertain = False
            return
        for copy in found:
            self._adopt_copy(lock_id, record, copy)

    async def _write_ahead(self, record: CodeRecord) -> int | None:
        """Record an upload as sent before it goes out (it may land unanswered).

        Returns the revision being sent, or None when the reconciler stopped
        while saving (nothing is sent then).
        """
        sent = record.revision
        record.uncertain = True
        record.sent_name = record.name
        record.sent_start, record.sent_end = record.start, record.end
        record.attempts += 1
        record.next_attempt = None
        await self.ledger.async_save()  # write-ahead: from here it may land
        return None if self.stopped else sent

    async def _delete(
        self, lock_id: str, record: CodeRecord, listing: list[Passcode] | None
    ) -> None:
        if record.cloud_id is None:
            found = find_landed(
                listing or [], record, self.ledger.claimed(lock_id, but=record)
            )
            record.uncertain = False
            if not found:
                # Never seen on the lock: cancelled. An upload cut off in
                # flight may still land, so the lock is looked at once more.
                self._tombstone(record, dt_util.utcnow())
                record.recheck = True
                self._retry_later(record, self.retry_interval)
                self.ledger.settle(
                    record.key, [WaitKind.DELETE], Outcome(Status.CANCELLED)
                )
                return
            record.cloud_id = found[0].code_id
            for copy in found[1:]:
                self._adopt_copy(lock_id, record, copy)
        record.attempts += 1
        if record.is_offline:
            await self._revoke(lock_id, record)
            return
        if not await self._delete_on_lock(lock_id, record, Op.DELETE):
            return
        if self._confirmed_later(lock_id):
            # Dding: the lock confirms the delete later (operation stages).
            self._await_lock(record, "delete")
            self.ledger.settle(
                record.key,
                [WaitKind.DELETE],
                Outcome(
                    Status.PENDING_DELETE,
                    cloud_id=record.cloud_id,
                    reason=ACCEPTED_REASON,
                ),
            )
            return
        if (
            record.undelivered
            or not self._phases(lock_id)
            or record.key in self._confirmed
        ):
            # TTLock answers once the gateway deleted it: gone.
            self._gone(record)
            return
        # Accepted: the cloud carries it to the lock, and until then the code
        # still opens the door. The listing says which (``observed``).
        record.phase = CodePhase.DELETING
        self._watches.pop(record.key, None)
        await self.ledger.async_save()
        if await self._list(lock_id, [record]) is None:
            return
        op = record.operation()
        if op is Op.DELETE:
            # Still listed as valid: the delete did not hold; sent again.
            record.phase = None
            self._failed_attempt(
                record, Op.DELETE, TransientError("the cloud still lists the code")
            )
        elif op is Op.WATCH:
            self._watch_again(record, first=True)
            self._settle_now(record)

    def _phases(self, lock_id: str) -> bool:
        """Whether the lock's cloud reports code phases (a delete is confirmed by listing)."""
        data = self.coordinator.current_data
        lock = data.locks.get(lock_id) if data is not None else None
        return lock is not None and lock.capabilities.code_phases

    async def _revoke(self, lock_id: str, record: CodeRecord) -> None:
        """Withdraw an offline code; never reported gone while the lock takes it.

        Through a gateway TTLock deletes it from the lock (once entered);
        without one the cloud only marks it deleted and the lock accepts it
        until its window ends: the record then stays, status ``revoked``.
        """
        assert record.cloud_id is not None
        caps = self._capabilities(lock_id)
        now = dt_util.utcnow()
        ended = record.end is not None and record.end <= now
        if ended and caps is not None and OfflineKind.CLEAR_ONE in caps.offline_codes:
            # A cloud that withdraws offline codes only by clearing codes
            # (Tuya): an ended code needs nothing, the lock refuses it.
            self._gone(record)
            return
        try:
            revocation = await self.provider.async_revoke_offline_code(
                lock_id,
                record.cloud_id,
                through_gateway=bool(caps and caps.codes_deletable_remotely),
                name=record.name[:20],
            )
        except ProviderError as err:
            self._failed_attempt(record, Op.DELETE, err)
            return
        if revocation.lock_deleted or ended:
            self._gone(record)
            return
        record.revoked_at = now
        record.attempts = 0
        record.reason = None
        record.next_attempt = None
        self._not_before.pop(record.key, None)
        self.announcer.clear(record)
        self.ledger.settle(
            record.key,
            [WaitKind.DELETE],
            Outcome(Status.REVOKED, cloud_id=record.cloud_id, revocation=revocation),
        )

    async def _delete_on_lock(self, lock_id: str, record: CodeRecord, op: Op) -> bool:
        """Delete ``record``'s cloud code; True once the cloud took the delete.

        ``_confirmed`` holds the key when a listing already showed it gone.
        """
        self._confirmed.discard(record.key)
        assert record.cloud_id is not None
        try:
            await self.provider.async_delete_code(lock_id, record.cloud_id)
        except ResultPendingError as err:
            self._job_pending(record, err, op)
            return False
        except ProviderError as err:
            if is_transient(err) or isinstance(
                err, RateLimitError | AuthError | SubscriptionError
            ):
                self._failed_attempt(record, op, err)
                return False
            if self.cloud_retries:
                self._delete_refused_after_retries(record, op, err)
                return False
            # A definite refusal may mean "no such code" (Tuya answers 1109):
            # the listing decides whether it is gone.
            codes = await self._list(lock_id, [record])
            if codes is None:
                return False
            if any(
                c.code_id == record.cloud_id and c.phase is not CodePhase.REVOKED
                for c in codes
            ):
                self._give_up(record, op, _reason(err))
                return False
            self._confirmed.add(record.key)
        return True

    def _gone(self, record: CodeRecord) -> None:
        reason = record.reason
        self._tombstone(record, dt_util.utcnow())
        self._watches.pop(record.key, None)
        if not record.undelivered:  # never on the lock: nothing to announce
            self.announcer.deleted(record, reason)
        self.ledger.settle(
            record.key,
            [WaitKind.DELETE],
            Outcome(Status.DELETED, cloud_id=record.cloud_id),
        )

    async def _change(self, lock_id: str, record: CodeRecord) -> None:
        assert record.cloud_id is not None
        assert record.start is not None
        assert record.end is not None
        sent = record.revision
        record.attempts += 1
        try:
            if self._can_update(lock_id) and record.code is not None:
                # Clouds that change a code only given its digits (Dding 6.7).
                await self.provider.async_update_code(
                    lock_id,
                    record.cloud_id,
                    name=record.name,
                    code=record.code,
                    start=record.start,
                    end=record.end,
                    phone=record.phone,
                )
            else:
                await self.provider.async_change_code(
                    lock_id,
                    record.cloud_id,
                    name=record.name,
                    start=record.start,
                    end=record.end,
                )
        except NotSupportedError:
            await self._replace(lock_id, record)
            return
        except ProviderError as err:
            if not is_transient(err) and not isinstance(
                err, RateLimitError | AuthError | SubscriptionError
            ):
                # "No data" and the like: is the code still on the lock?
                codes = await self._list(lock_id, [record])
                if codes is None:
                    return
                if not any(c.code_id == record.cloud_id for c in codes):
                    # Gone (deleted in the app): the new window is added anew.
                    record.cloud_id = None
                    record.applied = 0
                    record.attempts = 0
                    self._replacing.add(record.key)
                    await self._add(lock_id, record, None)
                    return
            self._failed_attempt(record, Op.CHANGE, err)
            return
        record.applied = sent
        record.attempts = 0
        record.reason = None
        record.next_attempt = None
        if self._confirmed_later(lock_id):
            self._await_lock(record, "update")
            if record.applied == record.revision:
                self.ledger.settle(
                    record.key,
                    [WaitKind.UPDATE],
                    Outcome(
                        Status.UPDATING,
                        cloud_id=record.cloud_id,
                        reason=ACCEPTED_REASON,
                    ),
                )
            return
        if record.applied == record.revision:
            self.announcer.updated(record)
            self.ledger.settle(
                record.key,
                [WaitKind.UPDATE],
                Outcome(Status.UPDATED, cloud_id=record.cloud_id),
            )

    async def _replace(self, lock_id: str, record: CodeRecord) -> None:
        """No change in place (Tuya): delete, then add under the same ledger id."""
        if not await self._delete_on_lock(lock_id, record, Op.CHANGE):
            return
        record.cloud_id = None
        record.applied = 0
        record.phase = None
        record.seen_at = None
        record.attempts = 0
        self._replacing.add(record.key)
        await self._add(lock_id, record, None)

    # ------------------------------------------------- confirmed later

    def _caps_flag(self, lock_id: str, flag: str) -> bool:
        data = self.coordinator.current_data
        lock = data.locks.get(lock_id) if data is not None else None
        return bool(lock is not None and getattr(lock.capabilities, flag))

    def _confirmed_later(self, lock_id: str) -> bool:
        return self._caps_flag(lock_id, "codes_confirmed_later")

    def _can_update(self, lock_id: str) -> bool:
        return self._caps_flag(lock_id, "update_codes")

    def _await_lock(self, record: CodeRecord, operation: str) -> None:
        """The cloud accepted ``operation``: follow the listing until the lock
        confirms it (first look after CONFIRM_DELAYS[0])."""
        record.confirming = operation
        record.confirm_polls = 0
        self._retry_later(record, CONFIRM_DELAYS[0])

    def _confirm(
        self, lock_id: str, record: CodeRecord, listing: list[Passcode]
    ) -> None:
        """What the listing says about an accepted operation of ``record``."""
        operation = record.confirming
        listed = next((c for c in listing if c.code_id == record.cloud_id), None)
        stage = listed.operation_stage if listed is not None else None
        if listed is None or (stage is OperationStage.DONE and operation == "delete"):
            record.confirming = None
            if operation == "delete":
                self._gone(record)
            else:
                # Gone before the lock confirmed (deleted in the app, or the
                # cloud dropped a refused upload): it does not work.
                self._give_up(
                    record,
                    Op.ADD if operation == "add" else Op.CHANGE,
                    "the cloud no longer lists the code",
                )
            return
        if stage is OperationStage.IN_PROGRESS:
            record.confirm_polls += 1
            if record.confirm_polls < MAX_CONFIRM_POLLS:
                index = record.confirm_polls
                delay = (
                    CONFIRM_DELAYS[index]
                    if index < len(CONFIRM_DELAYS)
                    else CONFIRM_INTERVAL
                )
                self._retry_later(record, delay)
                return
            record.confirming = None
            reason = "the lock did not confirm within a day"
            if operation == "delete":
                # Never given up: sent again (a cancelled guest keeps no door).
                record.attempts += 1
                self._failed_attempt(record, Op.DELETE, TransientError(reason))
            else:
                self._give_up(
                    record, Op.ADD if operation == "add" else Op.CHANGE, reason
                )
            return
        record.confirming = None
        record.confirm_polls = 0
        if stage is OperationStage.FAILED:
            reason = "the lock reported the operation as failed"
            if operation == "delete":
                record.attempts += 1
                self._failed_attempt(record, Op.DELETE, TransientError(reason))
            else:
                self._give_up(
                    record, Op.ADD if operation == "add" else Op.CHANGE, reason
                )
            return
        # Done (or no operation listed any more: the lock has it as it is).
        self._not_before.pop(record.key, None)
        record.next_attempt = None
        record.seen_at = dt_util.utcnow()
        if operation == "add":
            self.announcer.added(record)
        elif operation == "update":
            self.announcer.updated(record)
        if record.applied < record.revision:
            self._dirty.add(lock_id)  # a change asked meanwhile follows

    # ------------------------------------------------------------ outcomes

    def _tombstone(self, record: CodeRecord, now: datetime) -> None:
        record.deleted_at = now
        record.attempts = 0
        record.next_attempt = None
        record.failed = False
        record.uncertain = False
        self._not_before.pop(record.key, None)
        self.announcer.clear(record)

    def _failed_attempt(self, record: CodeRecord, op: Op, err: ProviderError) -> None:
        """One attempt of ``op`` failed with ``err``: retry, pause or give up."""
        reason = _reason(err)
        kinds = _KINDS[op]
        if op is Op.ADD and not record.present:
            # Deleted while its upload was under way: never mind the upload.
            record.reason = reason
            self._not_before.pop(record.key, None)
            self.ledger.settle(record.key, kinds, Outcome(Status.CANCELLED))
            if record.uncertain:
                self._dirty.add(record.lock_id)  # look for it and delete it
            else:
                self._tombstone(record, dt_util.utcnow())
                self.ledger.settle(
                    record.key, [WaitKind.DELETE], Outcome(Status.CANCELLED)
                )
            return
        if op is Op.WATCH:
            # Only a look: the code (or its delete) is the cloud's already.
            self._retry_later(record, self.retry_interval)
            self._settle_now(record)
            return
        if op is Op.CONFIRM:
            # The listing failed: look again later; never forgotten.
            self._retry_later(record, self.retry_interval)
            return
        if op is Op.RECHECK:
            if is_transient(err) or isinstance(
                err, RateLimitError | AuthError | SubscriptionError
            ):
                self._retry_later(record, self.retry_interval)
            else:
                record.recheck = False
            return
        if isinstance(err, RateLimitError | AuthError | SubscriptionError):
            # Not the code's fault: the attempt does not count.
            record.attempts = max(0, record.attempts - 1)
            record.reason = reason
            if isinstance(err, RateLimitError):
                self._pause(err.retry_after, reauth=False)
            else:
                self._pause(
                    self.retry_interval.total_seconds(),
                    reauth=isinstance(err, AuthError),
                )
            self._settle_now(record)
            return
        record.reason = reason
        if isinstance(err, CodePacketError) and self.on_packet_error is not None:
            self.on_packet_error(err)
        if is_transient(err):
            if op is Op.DELETE:
                delay = self.retry_interval
                if record.attempts >= self.retry_attempts:
                    delay = max(delay, SLOW_DELETE_INTERVAL)
                    self.announcer.issue(ISSUE_CODE_NOT_DELETED, record, reason)
                self._retry_later(record, delay)
                self._settle_now(record)
                return
            if record.attempts < self.retry_attempts:
                LOGGER.info(
                    "Code %r for %s: %s queued: %s",
                    record.name,
                    self.announcer.lock_name(record.lock_id),
                    op.value,
                    type(err).__name__,
                )
                self._retry_later(record, self.retry_interval)
                self._settle_now(record)
                return
        elif (
            op is Op.ADD
            and record.attempts <= 1
            and not record.uncertain
            and self.ledger.waiting(record.key, WaitKind.ADD)
        ):
            # Refused for good at once, with the caller still waiting: the
            # caller gets the error and nothing stays in the ledger.
            self.ledger.records.pop(record.key, None)
            self._not_before.pop(record.key, None)
            self.ledger.settle(
                record.key, kinds, Outcome(Status.FAILED, reason=reason, error=err)
            )
            return
        self._give_up(record, op, reason)

    def _give_up(self, record: CodeRecord, op: Op, reason: str) -> None:
        record.failed = True
        record.reason = reason
        record.next_attempt = None
        self._not_before.pop(record.key, None)
        if record.uncertain:
            # The last attempt's answer was lost: look for it once more.
            record.recheck = True
            self._retry_later(record, self.retry_interval)
        operation = {Op.ADD: "add", Op.CHANGE: "update"}.get(op, "delete")
        self.announcer.failed(record, operation, reason)
        for kind in _KINDS[op]:
            self.ledger.settle(
                record.key, [kind], Outcome(Status.FAILED, record.cloud_id, reason)
            )

    # ------------------------------------------------------------ first use

    @callback
    def _first_use_due(self, _now: datetime) -> None:
        if self._first_use_task is not None and not self._first_use_task.done():
            return
        now = dt_util.utcnow()
        if not any(reminder_due(r, now) for r in self.ledger.records.values()):
            return
        self._first_use_task = self.entry.async_create_background_task(
            self.hass, self._check_first_use(), f"{DOMAIN} offline code first use"
        )

    async def _check_first_use(self) -> None:
        """Remind of offline codes nobody entered 20 h after their start.

        The lock's records are read first (a push or poll may have been
        missed): a code they show entered is not a reminder.
        """
        now = dt_util.utcnow()
        due = [r for r in self.ledger.records.values() if reminder_due(r, now)]
        for lock_id in sorted({r.lock_id for r in due}):
            mine = [r for r in due if r.lock_id == lock_id]
            start = min(r.start or now for r in mine)
            try:
                events = await self.provider.async_get_events(lock_id, start, now)
            except ProviderError as err:
                LOGGER.debug("Records of %s not read: %s", lock_id, type(err).__name__)
                events = []
            for event in events:
                if event.type is not EventType.UNLOCKED or not event.success:
                    continue
                record = self.matcher.match(event)
                if record is not None and record.first_used is None:
                    record.first_used = event.time
            for record in mine:
                if record.first_used is None:
                    record.first_use_warned = True
                    self.announcer.not_used(record)
        self.ledger.save_soon()

    # ------------------------------------------------------------ cloud jobs

    def _job_pending(self, record: CodeRecord, err: ResultPendingError, op: Op) -> None:
        """The cloud took the job; its result comes later (``async_job_result``).

        Not an attempt that failed: nothing is re-sent (the cloud retries by
        itself), the caller is told it is pending.
        """
        record.job = err.job_id
        record.uncertain = False
        record.next_attempt = None
        record.reason = JOB_RETRYING if err.retrying else JOB_PENDING
        self._not_before.pop(record.key, None)
        if op is Op.DELETE:
            outcome = Outcome(
                Status.PENDING_DELETE, cloud_id=record.cloud_id, reason=record.reason
            )
            self.ledger.settle(record.key, [WaitKind.DELETE], outcome)
        else:
            for kind in _KINDS[op]:
                self.ledger.settle(
                    record.key, [kind], self.current_outcome(record, kind)
                )
        if self.on_job_pending is not None:
            self.on_job_pending()

    def _adopt_job(self, lock_id: str, record: CodeRecord) -> None:
        """An upload or delete cut off (reload, restart) may be a pending job.

        Found by lock, operation and code name (add) or code id (delete) among
        the cloud's pending jobs; then its result is waited for. Otherwise
        nothing went out: it is sent again.
        """
        record.recheck = False
        record.uncertain = False
        if not isinstance(self.provider, AsyncResultProvider):
            return
        claimed = {r.job for r in self.ledger.records.values() if r.job}
        want = Operation.ADD_CODE if record.cloud_id is None else Operation.DELETE_CODE
        for item in self.provider.export_pending():
            job_id = item.get("job_id") or item.get("correlation_id")
            context = item.get("context") or {}
            if (
                not isinstance(job_id, str)
                or job_id in claimed
                or item.get("operation") != want.value
                or item.get("lock_id") != lock_id
            ):
                continue
            if want is Operation.ADD_CODE and context.get("name") not in (
                record.sent_name,
                record.name,
            ):
                continue
            if (
                want is Operation.DELETE_CODE
                and context.get("code_id") != record.cloud_id
            ):
                continue
            record.job = job_id
            record.reason = JOB_PENDING
            return

    def _delete_refused_after_retries(
        self, record: CodeRecord, op: Op, err: ProviderError
    ) -> None:
        """The cloud tried its own five times: say so now, keep trying slowly.

        A delete is never given up (a cancelled guest must not keep the door).
        """
        record.attempts = max(record.attempts, self.retry_attempts)
        self._failed_attempt(record, op, TransientError(_reason(err)))

    def _record_for_job(self, result: OperationResult) -> CodeRecord | None:
        ids = {result.job_id, result.correlation_id} - {None}
        for record in self.ledger.records.values():
            if record.job is not None and record.job in ids:
                return record
        return None

    def _unlinked_record(self, result: OperationResult) -> CodeRecord | None:
        """The record of a job cut off before the record learnt its id (a
        reload or restart at its await): same lock, same code (by name for an
        add, by code id for a delete), its outcome not known."""
        for record in self.ledger.for_lock(result.lock_id or ""):
            if not record.uncertain or record.job is not None:
                continue
            if result.operation is Operation.DELETE_CODE:
                if record.cloud_id is not None and record.cloud_id == result.code_id:
                    return record
                continue
            name = result.passcode.name if result.passcode is not None else None
            if record.cloud_id is None and (
                name is None or name in (record.sent_name, record.name)
            ):
                return record
        return None

    @callback
    def async_job_result(self, result: OperationResult) -> None:
        """A code job's result that no caller waited for (late, or restored)."""
        record = self._record_for_job(result) or self._unlinked_record(result)
        if record is None:
            LOGGER.debug("A %s result names no code we hold", result.operation)
            return
        record.job = None
        lock_id = record.lock_id
        if result.status is ResultStatus.RETRYING:
            record.job = result.job_id
            record.reason = JOB_RETRYING
        elif result.operation is Operation.ADD_CODE:
            self._add_result(record, result)
        else:
            self._delete_result(record, result)
        self.ledger.save_soon()
        if record.operation() is not None or lock_id in self._dirty:
            self.kick(lock_id)

    def _add_result(self, record: CodeRecord, result: OperationResult) -> None:
        if result.status is ResultStatus.SUCCEEDED and result.passcode is not None:
            self._landed(record.lock_id, record, result.passcode, record.revision, [])
            return
        if result.status is ResultStatus.SUCCEEDED:
            reason = "the gateway service reported the code added without its id"
        elif result.status is ResultStatus.EXPIRED:
            reason = JOB_EXPIRED
        else:
            error = result.error
            reason = _reason(error) if error is not None else (result.message or "")
        if not record.present:
            # Deleted while the upload was out: it never landed.
            self._tombstone(record, dt_util.utcnow())
            self.ledger.settle(record.key, list(WaitKind), Outcome(Status.CANCELLED))
            return
        self._give_up(record, Op.ADD, reason or "the gateway service failed")

    def _delete_result(self, record: CodeRecord, result: OperationResult) -> None:
        if result.status is ResultStatus.SUCCEEDED:
            if record.present:
                # Half of an update (delete, then add anew): the add follows.
                record.cloud_id = None
                record.applied = 0
                record.attempts = 0
                self._replacing.add(record.key)
                self._dirty.add(record.lock_id)
            else:
                self._gone(record)
            return
        error = result.error or TransientError(JOB_EXPIRED)
        op = Op.CHANGE if record.present else Op.DELETE
        if op is Op.DELETE:
            self._delete_refused_after_retries(record, op, error)
        else:
            self._failed_attempt(record, op, error)

    # ------------------------------------------------------------ clean-up

    @callback
    def _cleanup_due(self, _now: datetime) -> None:
        if self._cleanup_task is not None and not self._cleanup_task.done():
            return
        from .cleanup import async_cleanup

        self._cleanup_task = self.entry.async_create_background_task(
            self.hass, async_cleanup(self), f"{DOMAIN} code clean-up"
        )
