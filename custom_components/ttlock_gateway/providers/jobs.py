"""Job tracker: results of asynchronous cloud jobs matched to their callers.

A cloud that answers "job accepted" at once and POSTs the result to a callback
URL later (the gateway service, seed 000) needs somewhere to meet the two: every
job gets a ``PendingJob`` and a future before it is sent; the webhook feeds the
parsed callbacks to ``resolve``; the caller waits ``timeout`` seconds for the
first report and otherwise gets ``ResultPendingError``. Reports nobody waits for
any more (late ones, later attempts, jobs imported after a restart) go to the
listeners, so the integration still updates state and fires events.

A report is accepted only for a job that is ours and pending: its job id (a
random UUID the service made for us) or, before the service's answer naming the
job came back, the random correlation id we put in the job's ``tag``. The method
must match too. Anything else is ignored with a debug line and changes nothing.

No Home Assistant imports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
import json
import logging
import math
import re
import secrets
import time
from typing import Any, Final

from .bounds import MAX_ID, clean_text, has_unsafe_text
from .models import (
    Operation,
    OperationResult,
    ResultListener,
    ResultPendingError,
    ResultStatus,
)
from .ttlock_records import parse_bool

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 30.0
# Longer than the service's own retries (5 attempts 20 minutes apart) plus its
# queue delays; a job silent for a day will not be answered any more.
DEFAULT_LIFETIME: Final = 24 * 3600.0
DEFAULT_MAX_PENDING: Final = 500

# Key of our correlation id inside the job's ``tag`` (echoed back by the service).
TAG_KEY: Final = "ha_ref"
_CID_RE: Final = re.compile(r"^[0-9a-f]{16,32}$")
_MAX_METHOD: Final = 64
_MAX_CONTEXT_TEXT: Final = 128
_CONTEXT_KEYS: Final = frozenset({"name", "start", "end", "code_id"})

Interpreter = Callable[["PendingJob", "JobReport"], OperationResult]


def new_correlation_id() -> str:
    """A random id for a job's ``tag`` (64 bits, hex)."""
    return secrets.token_hex(8)


@dataclass(slots=True)
class PendingJob:
    """A job we sent and whose final result has not arrived yet."""

    correlation_id: str
    operation: Operation
    # The service's method name the result must carry (or omit).
    method: str
    lock_id: str | None
    # ``time.time()`` when the job was sent.
    created: float
    # JSON-safe facts needed to interpret the result later: code name, window
    # (ISO), code id. Never digits, tokens or URLs: this is persisted.
    context: dict[str, str] = field(default_factory=dict)
    job_id: str | None = None
    # The service reported a failed attempt and will try again.
    retrying: bool = False
    # A caller is waiting for the first report.
    waiting: bool = False
    future: asyncio.Future[OperationResult] | None = None

    def export(self) -> dict[str, Any]:
        """A JSON-safe copy for storage."""
        return {
            "job_id": self.job_id,
            "correlation_id": self.correlation_id,
            "operation": self.operation.value,
            "method": self.method,
            "lock_id": self.lock_id,
            "created": self.created,
            "retrying": self.retrying,
            "context": dict(self.context),
        }


@dataclass(frozen=True, slots=True)
class JobReport:
    """One job callback, normalised (see ``callbacks.parse_callback``)."""

    job_id: str
    status: bool
    method: str | None
    correlation_id: str | None
    data: Any
    msg: str | None
    codes_error: bool


def _text_id(raw: Any, *, max_length: int = MAX_ID) -> str | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, str):
        value = raw.strip()
        if value and len(value) <= max_length and not has_unsafe_text(value):
            return value
    return None


def _strip_key(key: Any) -> Any:
    # Seed 000's examples quote keys wrongly ("status'", 'error"').
    return key.strip().strip("'\"").strip() if isinstance(key, str) else key


def normalize_keys(payload: Mapping[Any, Any]) -> dict[Any, Any]:
    """Keys without stray quotes; a correctly spelled key wins over a typo."""
    result: dict[Any, Any] = {}
    for key, value in payload.items():
        stripped = _strip_key(key)
        if stripped != key and (stripped in payload or stripped in result):
            continue
        result[stripped] = value
    return result


def correlation_id_from_tag(tag: Any) -> str | None:
    """Our correlation id from an echoed ``tag`` (an object or a JSON string)."""
    if isinstance(tag, str) and tag.strip().startswith("{") and len(tag) <= 1024:
        try:
            tag = json.loads(tag)
        except ValueError:
            return None
    if not isinstance(tag, Mapping):
        return None
    value = tag.get(TAG_KEY)
    if isinstance(value, str) and _CID_RE.match(value):
        return value
    return None


def parse_report(job: Mapping[str, Any]) -> JobReport | None:
    """A ``JobReport`` from a parsed callback; ``None`` when it is not one."""
    if not isinstance(job, Mapping):
        return None  # type: ignore[unreachable]  # callers may pass anything
    payload = normalize_keys(job)
    job_id = _text_id(payload.get("job"))
    if job_id is None:
        return None
    status = parse_bool(payload.get("status"))
    if status is None:
        return None
    method_raw = payload.get("method")
    method: str | None = None
    if method_raw is not None:
        method = _text_id(method_raw, max_length=_MAX_METHOD)
        if method is None:
            return None
    msg_raw = payload.get("msg")
    msg = clean_text(msg_raw) or None
    codes_error = parse_bool(payload.get("codes_error")) is True
    return JobReport(
        job_id=job_id,
        status=status,
        method=method,
        correlation_id=correlation_id_from_tag(payload.get("tag")),
        data=payload.get("data"),
        msg=msg,
        codes_error=codes_error,
    )


def _import_one(item: Mapping[str, Any], now: float) -> PendingJob | None:
    """A stored pending job, validated; ``None`` when anything is off."""
    if not isinstance(item, Mapping):
        return None  # type: ignore[unreachable]  # storage may hold anything
    cid = item.get("correlation_id")
    if not isinstance(cid, str) or not _CID_RE.match(cid):
        return None
    job_id_raw = item.get("job_id")
    job_id = None if job_id_raw is None else _text_id(job_id_raw)
    if job_id_raw is not None and job_id is None:
        return None
    try:
        operation = Operation(str(item.get("operation")))
    except ValueError:
        return None
    method = _text_id(item.get("method"), max_length=_MAX_METHOD)
    if method is None:
        return None
    lock_raw = item.get("lock_id")
    lock_id = None if lock_raw is None else _text_id(lock_raw)
    if lock_raw is not None and lock_id is None:
        return None
    created = item.get("created")
    if (
        isinstance(created, bool)
        or not isinstance(created, int | float)
        or not math.isfinite(created)
        or not 0 <= created <= now + 86400
    ):
        return None
    retrying = item.get("retrying", False)
    if not isinstance(retrying, bool):
        return None
    context_raw = item.get("context") or {}
    if not isinstance(context_raw, Mapping):
        return None
    context: dict[str, str] = {}
    for key, value in context_raw.items():
        if key not in _CONTEXT_KEYS or not isinstance(value, str):
            return None
        if len(value) > _MAX_CONTEXT_TEXT or has_unsafe_text(value):
            return None
        context[key] = value
    return PendingJob(
        correlation_id=cid,
        operation=operation,
        method=method,
        lock_id=lock_id,
        created=float(created),
        context=context,
        job_id=job_id,
        retrying=retrying,
    )


class JobTracker:
    """Pending jobs, their futures, and the listeners for unclaimed results."""

    def __init__(
        self,
        interpret: Interpreter,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        lifetime: float = DEFAULT_LIFETIME,
        max_pending: int = DEFAULT_MAX_PENDING,
        method_aliases: Mapping[str, Iterable[str]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``interpret`` turns a report into a result for its pending job."""
        self._interpret = interpret
        self.timeout = timeout
        self.lifetime = lifetime
        self.max_pending = max(1, max_pending)
        self._aliases = {
            method: frozenset(names) for method, names in (method_aliases or {}).items()
        }
        self._clock = clock
        self._by_cid: dict[str, PendingJob] = {}
        self._by_job: dict[str, PendingJob] = {}
        self._listeners: list[ResultListener] = []

    # ------------------------------------------------------------- bookkeeping

    @property
    def pending(self) -> list[PendingJob]:
        """Every pending job, oldest first."""
        return sorted(self._by_cid.values(), key=lambda job: job.created)

    def register(
        self,
        operation: Operation,
        method: str,
        *,
        lock_id: str | None = None,
        context: Mapping[str, str] | None = None,
    ) -> PendingJob:
        """A new pending job (before it is sent), with a future to wait on."""
        self.expire_pending()
        while len(self._by_cid) >= self.max_pending:
            self._expire(self.pending[0])
        job = PendingJob(
            correlation_id=new_correlation_id(),
            operation=operation,
            method=method,
            lock_id=lock_id,
            created=self._clock(),
            context=dict(context or {}),
            waiting=True,
            future=asyncio.get_running_loop().create_future(),
        )
        self._by_cid[job.correlation_id] = job
        return job

    def bind(self, job: PendingJob, job_id: str) -> None:
        """The service named the job: match later reports by this id."""
        if job.correlation_id not in self._by_cid:
            return  # already finished by a report carrying our tag
        if job.job_id is not None and job.job_id != job_id:
            # An early report named another id; trust the service's answer.
            self._by_job.pop(job.job_id, None)
        job.job_id = job_id
        self._by_job[job_id] = job

    def discard(self, job: PendingJob) -> None:
        """Forget a job whose request failed (it was never accepted)."""
        self._remove(job)
        if job.future is not None and not job.future.done():
            job.future.cancel()

    def _remove(self, job: PendingJob) -> None:
        self._by_cid.pop(job.correlation_id, None)
        if job.job_id is not None and self._by_job.get(job.job_id) is job:
            del self._by_job[job.job_id]

    # ----------------------------------------------------------------- waiting

    async def wait(self, job: PendingJob) -> OperationResult:
        """The first report for ``job``, within ``timeout``.

        Raises ``ResultPendingError`` when none came in time, or when the first
        one says the service will try again; later reports go to the listeners.
        """
        future = job.future
        assert future is not None
        try:
            done, _ = await asyncio.wait({future}, timeout=self.timeout)
        finally:
            job.waiting = False
        if not done:
            raise ResultPendingError(
                "Sent; the result has not been reported yet",
                job_id=job.job_id or job.correlation_id,
                operation=job.operation,
                lock_id=job.lock_id,
            )
        result = future.result()
        if result.status is ResultStatus.RETRYING:
            raise ResultPendingError(
                result.message or "The attempt failed; the service will retry",
                job_id=result.job_id,
                operation=job.operation,
                lock_id=job.lock_id,
                retrying=True,
            )
        return result

    # --------------------------------------------------------------- resolving

    def resolve(self, raw: Mapping[str, Any]) -> bool:
        """Apply one callback; whether it was for a job of ours that is pending."""
        report = parse_report(raw)
        if report is None:
            _LOGGER.debug("Ignored a job callback: not a job result")
            return False
        job = self._by_job.get(report.job_id)
        if job is not None:
            if (
                report.correlation_id is not None
                and report.correlation_id != job.correlation_id
            ):
                _LOGGER.debug("Ignored a job callback: tag of another job")
                return False
        elif report.correlation_id is not None:
            job = self._by_cid.get(report.correlation_id)
            if job is None or (job.job_id is not None and job.job_id != report.job_id):
                job = None
        if job is None:
            _LOGGER.debug("Ignored a job callback: unknown or finished job")
            return False
        if (
            report.method is not None
            and report.method != job.method
            and report.method not in self._aliases.get(job.method, ())
        ):
            _LOGGER.debug(
                "Ignored a job callback: method %s for a %s job",
                clean_text(report.method, max_length=_MAX_METHOD),
                job.method,
            )
            return False
        if job.job_id is None:
            # The report came before the answer naming the job (the service
            # ran it at once): bind it now, by our tag.
            job.job_id = report.job_id
            self._by_job[report.job_id] = job
        try:
            result = self._interpret(job, report)
        except Exception:  # a mapping bug must not break the webhook
            _LOGGER.exception("Could not interpret a %s job result", job.method)
            return False
        if result.final:
            self._remove(job)
        else:
            job.retrying = True
        future = job.future
        if job.waiting and future is not None and not future.done():
            future.set_result(result)
        else:
            self._notify(result)
        return True

    # --------------------------------------------------------------- listeners

    def add_listener(self, listener: ResultListener) -> Callable[[], None]:
        """Call ``listener`` for every result no caller is waiting for."""
        self._listeners.append(listener)

        def _remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return _remove

    def _notify(self, result: OperationResult) -> None:
        for listener in list(self._listeners):
            try:
                listener(result)
            except Exception:  # one listener must not starve the others
                _LOGGER.exception("A job result listener failed")

    # ----------------------------------------------------------------- expiry

    def _expire(self, job: PendingJob) -> OperationResult:
        self._remove(job)
        result = OperationResult(
            job_id=job.job_id or job.correlation_id,
            operation=job.operation,
            status=ResultStatus.EXPIRED,
            lock_id=job.lock_id,
            message="No result was reported",
            error=ResultPendingError(
                "No result was reported",
                job_id=job.job_id or job.correlation_id,
                operation=job.operation,
                lock_id=job.lock_id,
            ),
            code_id=job.context.get("code_id"),
            correlation_id=job.correlation_id,
        )
        if job.future is not None and not job.future.done():
            job.future.cancel()
        self._notify(result)
        return result

    def expire_pending(self) -> list[OperationResult]:
        """Drop jobs older than ``lifetime``; listeners get EXPIRED results."""
        now = self._clock()
        return [
            self._expire(job)
            for job in self.pending
            if not job.waiting and now - job.created > self.lifetime
        ]

    # ------------------------------------------------------------ persistence

    def export(self) -> list[dict[str, Any]]:
        """Every pending job as a JSON-safe dict, oldest first."""
        return [job.export() for job in self.pending]

    def import_(self, items: Iterable[Mapping[str, Any]]) -> int:
        """Take over exported jobs; invalid or known ones are skipped."""
        count = 0
        now = self._clock()
        for item in items:
            job = _import_one(item, now)
            if job is None:
                _LOGGER.debug("Skipped an invalid stored job")
                continue
            if job.correlation_id in self._by_cid or (
                job.job_id is not None and job.job_id in self._by_job
            ):
                continue
            self._by_cid[job.correlation_id] = job
            if job.job_id is not None:
                self._by_job[job.job_id] = job
            count += 1
        while len(self._by_cid) > self.max_pending:
            self._expire(self.pending[0])
        return count
