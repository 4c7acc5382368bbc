"""Gateway service (seed 000) answers into provider models, through the wall.

The service wraps the TTLock cloud: its job results carry TTLock's answer in
``data`` (usually inside the service's own ``{status, msg, error_code, data}``
wrapper), its failures are Russian sentences, and its event rows are TTLock
records in snake_case. Everything here turns those into bounded values or a
``ProviderError``. Facts and their sources: ``docs/gateway-service.md``.
No Home Assistant imports.
"""

from __future__ import annotations

from collections.abc import Mapping
import dataclasses
from datetime import UTC, datetime, timedelta
import logging
import re
from typing import Any, Final

from .bounds import (
    MAX_YEAR,
    MIN_YEAR,
    InvalidAnswerError,
    clean_text,
    datetime_from_ms,
    opt_int,
    opt_text,
    percent,
)
from .jobs import JobReport, PendingJob, normalize_keys
from .models import (
    AuthError,
    CodeKind,
    CodePacket,
    CodePacketError,
    CodePacketProblem,
    InvalidRequestError,
    Lock,
    LockEvent,
    Operation,
    OperationResult,
    Passcode,
    ProviderError,
    ResultStatus,
    RetriesExhaustedError,
    TransientError,
)
from .ttlock import capabilities_from_feature_value, error_for_errcode
from .ttlock_records import parse_bool, record_to_event

_LOGGER = logging.getLogger(__name__)

# The service keeps -100 as "unlimited" (JobsService::addCodesCount, codes_count -1).
UNLIMITED_CODES: Final = -100
MAX_LOCKS: Final = 10_000
MAX_EVENTS: Final = 1_000
_MAX_MSG: Final = 256
_MAX_NAME: Final = 100

SERVICE_TIME_FORMAT: Final = "%Y-%m-%d %H:%M"

# An attempt failed and the service will try again by itself (AddKeyToLockJob,
# DeleteKeyJob: "... Следеющая попытка ... чере 20 минут", typos included).
_RETRYING_RE: Final = re.compile(r"след\w*\s+попытк|\b20\s+минут", re.IGNORECASE)
# "... Количество попыток исчерпано."
_EXHAUSTED_RE: Final = re.compile(r"исчерпан", re.IGNORECASE)
_UNKNOWN_LOCK_RE: Final = re.compile(r"неизвестный\s+замок", re.IGNORECASE)
_NOT_GIVEN_RE: Final = re.compile(
    r"не\s+указан|не\s+число|не\s+верный|неверный\s+формат|не\s+строка", re.IGNORECASE
)
_TTLOCK_DOWN_RE: Final = re.compile(r"ошибка\s+обращения\s+к\s+серверу", re.IGNORECASE)

# Code-packet messages (CodesCounter middleware and AddKeyToLockJob). The
# middleware says "no packet of codes left" both when there is none and when
# it is used up: either way no code is left.
_PACKET_PROBLEMS: Final[tuple[tuple[re.Pattern[str], CodePacketProblem], ...]] = (
    (re.compile(r"нет\s+оплаченного", re.IGNORECASE), CodePacketProblem.MISSING),
    (
        re.compile(r"окончилась\s+дата|срок\s+действия", re.IGNORECASE),
        CodePacketProblem.EXPIRED,
    ),
    (
        re.compile(r"закончился\s+пакет|не\s+осталось", re.IGNORECASE),
        CodePacketProblem.EXHAUSTED,
    ),
)

# TTLockService::request turns TTLock errcodes into these sentences; when the
# wrapper's error_code is missing (newKey drops it) the sentence is all we have.
_TTLOCK_MESSAGES: Final[tuple[tuple[str, int], ...]] = (
    ("неверный токен", 10003),
    ("неверный grant", 10004),
    ("неверный логин или пароль", 10007),
    ("неверный refresh_token", 10011),
    ("не администратор замка", 20002),
    ("превышено количество api запросов", 30006),
    ("дата должна быть текущей", 80000),
    ("внутренняя ошибка сервера", 90000),
    ("замок не существует", -1003),
    ("нет данных пароля", -1007),
    ("замок не подключен к шлюзу", -2012),
    ("замок заморожен", -2025),
    ("шлюз отключен", -3002),
    ("шлюз занят", -3003),
    ("длина должна быть", -3006),
    ("такой код уже существует", -3007),
    ("недостаточно места для сохранения кодов", -3009),
    ("сеть не настроена", -3034),
    ("энергосберегающем режиме", -3035),
    ("замок отключен", -3036),
    ("замок занят", -3037),
    ("функция не поддерживается", -4043),
    ("неверный параметр", -3),
)


# --------------------------------------------------------------------- basics


def answer_status(payload: Mapping[str, Any]) -> bool | None:
    """``status`` as a bool (true/"true"/1), whatever the key's quoting."""
    return parse_bool(normalize_keys(payload).get("status"))


def clean_message(raw: Any) -> str | None:
    """The service's ``msg`` as safe display text (it is never a secret)."""
    return clean_text(raw, max_length=_MAX_MSG) or None


def is_retrying(msg: str | None) -> bool:
    """Whether a failure message says the service will try again."""
    if not msg or _EXHAUSTED_RE.search(msg):
        return False
    return _RETRYING_RE.search(msg) is not None


def packet_problem(msg: str | None) -> CodePacketProblem:
    """Which packet problem a ``codes_error`` message names."""
    for pattern, problem in _PACKET_PROBLEMS:
        if msg and pattern.search(msg):
            return problem
    return CodePacketProblem.UNKNOWN


def _ttlock_errcode(msg: str) -> int | None:
    lowered = msg.lower()
    for marker, errcode in _TTLOCK_MESSAGES:
        if marker in lowered:
            return errcode
    return None


def _wrapper_error_code(data: Any) -> int | None:
    """TTLock's errcode from the service's wrapper (or TTLock's own answer)."""
    if not isinstance(data, Mapping):
        return None
    data = normalize_keys(data)
    for key in ("error_code", "errcode"):
        code = opt_int(data.get(key))
        if code:
            return code
    inner = data.get("data")
    if isinstance(inner, Mapping):
        code = opt_int(inner.get("errcode"))
        if code:
            return code
    return None


def _wrapper_message(data: Any) -> str | None:
    """The sentence inside the service's wrapper (``data.msg``), if any."""
    if isinstance(data, Mapping):
        return clean_message(normalize_keys(data).get("msg"))
    return None


def error_from_failure(
    msg: str | None, *, codes_error: bool = False, data: Any = None
) -> ProviderError:
    """The provider error a failed answer or result stands for.

    ``msg`` is the result's own message; where it has none (open_lock) the
    wrapper's sentence in ``data`` stands in.
    """
    msg = msg or _wrapper_message(data)
    text = msg or "The gateway service reported a failure"
    if codes_error:
        return CodePacketError(text, problem=packet_problem(msg))
    if msg and _EXHAUSTED_RE.search(msg):
        return RetriesExhaustedError(text)
    errcode = _wrapper_error_code(data)
    if errcode is None and msg:
        errcode = _ttlock_errcode(msg)
    if errcode is not None:
        error = error_for_errcode(errcode, text)
        if isinstance(error, AuthError):
            # The service's stored TTLock login stopped working: only sending
            # the account again (create_user) fixes it.
            return AuthError(text, errcode)
        return error
    if msg and _TTLOCK_DOWN_RE.search(msg):
        return TransientError(text)
    if msg and (_UNKNOWN_LOCK_RE.search(msg) or _NOT_GIVEN_RE.search(msg)):
        return InvalidRequestError(text)
    return ProviderError(text)


# ---------------------------------------------------------------------- times


def _minute(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(second=0, microsecond=0)


def floor_minute(value: datetime) -> datetime:
    """The UTC minute ``value`` falls in (a code may start a little early)."""
    return _minute(value)


def ceil_minute(value: datetime) -> datetime:
    """The next whole UTC minute (a code's window never ends before asked)."""
    floored = _minute(value)
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return floored if utc == floored else floored + timedelta(minutes=1)


def format_service_time(value: datetime) -> str:
    """UTC ``Y-m-d H:i``, the only format ``add_code_to_lock`` accepts."""
    return _minute(value).strftime(SERVICE_TIME_FORMAT)


def parse_service_time(raw: Any, what: str) -> datetime | None:
    """A service date: ``Y-m-d H:i[:s]`` or ISO 8601; naive means UTC.

    The service runs with ``APP_TIMEZONE=UTC``; ``expired_at`` comes out of a
    Laravel datetime cast as ISO ("2026-08-28T15:43:00.000000Z") although seed
    000 shows "2025-08-28 15:43".
    """
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > 40:
        raise InvalidAnswerError(f"{what}: not a date")
    text = raw.strip().replace("Z", "+00:00")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidAnswerError(f"{what}: not a date") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InvalidAnswerError(f"{what}: date out of range")
    return value.astimezone(UTC)


# ---------------------------------------------------------------------- locks


def _ttlock_answer(data: Any) -> Any:
    """TTLock's own answer inside the service's ``{status, msg, data}`` wrapper."""
    if isinstance(data, Mapping):
        keys = normalize_keys(data)
        inner = keys.get("data")
        if isinstance(inner, Mapping | list) and ("status" in keys or "msg" in keys):
            return inner
        return keys
    return data


def lock_from_entry(entry: Mapping[str, Any]) -> Lock:
    """One ``/v3/lock/list`` entry as the service passes it through."""
    lock_number = opt_int(entry.get("lockId"), minimum=1)
    if lock_number is None:
        raise InvalidAnswerError("lock list: missing or invalid lockId")
    lock_id = str(lock_number)
    has_gateway = opt_int(entry.get("hasGateway")) == 1
    capabilities = dataclasses.replace(
        capabilities_from_feature_value(
            entry.get("featureValue")
            if isinstance(entry.get("featureValue"), str | int)
            else None,
            has_gateway=has_gateway,
        ),
        # The service has no lock endpoint, and turns codes into integers.
        remote_lock=False,
        code_leading_zero=False,
    )
    passage = opt_int(entry.get("passageMode"))
    mac = opt_text(entry.get("lockMac"), max_length=32)
    return Lock(
        lock_id=lock_id,
        name=clean_text(entry.get("lockAlias"), max_length=_MAX_NAME)
        or clean_text(entry.get("lockName"), max_length=_MAX_NAME)
        or lock_id,
        capabilities=capabilities,
        model=opt_text(entry.get("modelNum"), max_length=64),
        manufacturer="TTLock",
        firmware=opt_text(entry.get("firmwareRevision"), max_length=64),
        mac=mac,
        battery=percent(entry.get("electricQuantity")),
        has_gateway=has_gateway,
        passage_mode=passage == 1 if passage in (1, 2) else None,
        aliases=(mac,) if mac else (),
    )


def locks_from_data(data: Any) -> list[Lock]:
    """The locks in a ``get_lock_list`` result (wrapper or TTLock's answer)."""
    answer = _ttlock_answer(data)
    if not isinstance(answer, Mapping):
        raise InvalidAnswerError("lock list: not an object")
    entries = answer.get("list")
    if not isinstance(entries, list):
        raise InvalidAnswerError("lock list: no list")
    if len(entries) > MAX_LOCKS:
        raise InvalidAnswerError("lock list: too many locks")
    locks: dict[str, Lock] = {}
    skipped = 0
    for entry in entries:
        if not isinstance(entry, Mapping):
            skipped += 1
            continue
        try:
            lock = lock_from_entry(entry)
        except InvalidAnswerError:
            skipped += 1
            continue
        locks.setdefault(lock.lock_id, lock)
    if skipped:
        _LOGGER.debug("Gateway service lock list: %s invalid entries skipped", skipped)
    return list(locks.values())


# --------------------------------------------------------------------- events


def event_from_row(row: Mapping[str, Any], lock_id: str | None = None) -> LockEvent:
    """One row of the service's ``lock_events`` (TTLock fields, snake_case).

    The event id is TTLock's (lock, lockDate, recordType, success), so a
    record the service forwards raw and the same row polled here agree.
    """
    row_lock = opt_int(row.get("lock_id"), minimum=1)
    lock = str(row_lock) if row_lock is not None else lock_id
    if lock is None:
        raise InvalidAnswerError("event: no lock_id")
    lock_date = opt_int(row.get("lock_date"), minimum=0)
    if lock_date is None:
        raise InvalidAnswerError("event: no lock_date")
    datetime_from_ms(lock_date, "event lock_date")  # 1970-2200 or raises
    pwd = row.get("keyboard_pwd")
    code = None
    if isinstance(pwd, int) and not isinstance(pwd, bool) and pwd >= 0:
        code = str(pwd)
    elif isinstance(pwd, str) and pwd.strip().isascii() and pwd.strip().isdigit():
        code = pwd.strip()[:20]
    record: dict[str, Any] = {
        "lockId": lock,
        "recordType": opt_int(row.get("record_type"), minimum=0, maximum=10_000),
        "recordTypeFromLock": opt_int(
            row.get("record_type_from_lock"), minimum=0, maximum=10_000
        ),
        "success": opt_int(row.get("success"), minimum=0, maximum=1),
        "username": clean_text(row.get("username"), max_length=_MAX_NAME) or None,
        "keyboardPwd": code,
        "lockDate": lock_date,
    }
    event = record_to_event(record, source="poll")
    if event is None:  # pragma: no cover - lockId and lockDate checked above
        raise InvalidAnswerError("event: invalid")
    service_id = opt_int(row.get("id"), minimum=0)
    raw = {**event.raw}
    if service_id is not None:
        raw["service_event_id"] = service_id
    return dataclasses.replace(event, raw=raw)


def events_from_rows(
    rows: Any, lock_id: str | None = None, *, single: bool = False
) -> list[LockEvent]:
    """Every valid row, oldest first; invalid rows are skipped.

    ``single``: the answer is one row, or ``{}`` when there is none
    (get_lock_events2 type 1: Laravel's ``json(null)``).
    """
    if single:
        if isinstance(rows, Mapping):
            rows = [rows] if rows else []
        elif rows in (None, ""):
            rows = []
    if not isinstance(rows, list):
        raise InvalidAnswerError("events: not a list")
    events: dict[str, LockEvent] = {}
    skipped = 0
    for row in rows[:MAX_EVENTS]:
        if not isinstance(row, Mapping):
            skipped += 1
            continue
        try:
            event = event_from_row(row, lock_id)
        except InvalidAnswerError:
            skipped += 1
            continue
        events.setdefault(event.event_id, event)
    if skipped:
        _LOGGER.debug("Gateway service events: %s invalid rows skipped", skipped)
    return sorted(events.values(), key=lambda e: (e.time, e.event_id))


# --------------------------------------------------------------------- packet


def packet_from_answer(payload: Mapping[str, Any]) -> CodePacket:
    """``get_codes_count``: codes left (``None`` = unlimited) and expiry."""
    keys = normalize_keys(payload)
    count = opt_int(keys.get("codes_count"), minimum=UNLIMITED_CODES, maximum=10**9)
    if count is None:
        raise InvalidAnswerError("codes_count: missing or invalid")
    expires = parse_service_time(keys.get("expired_at"), "expired_at")
    if count == UNLIMITED_CODES:
        return CodePacket(codes_left=None, expires_at=expires)
    return CodePacket(codes_left=max(0, count), expires_at=expires)


# -------------------------------------------------------------------- results


def _passcode_from_result(job: PendingJob, data: Any) -> Passcode | None:
    answer = _ttlock_answer(data)
    code_id = None
    if isinstance(answer, Mapping):
        number = opt_int(answer.get("keyboardPwdId"), minimum=1)
        code_id = str(number) if number is not None else None
    if code_id is None:
        return None
    start: datetime | None
    end: datetime | None
    try:
        start = datetime.fromisoformat(job.context["start"])
        end = datetime.fromisoformat(job.context["end"])
    except KeyError, ValueError:
        start = end = None
    return Passcode(
        code_id=code_id,
        lock_id=job.lock_id or "",
        name=job.context.get("name", ""),
        kind=CodeKind.PERIOD,
        code=None,
        start=start,
        end=end,
    )


def interpret_report(job: PendingJob, report: JobReport) -> OperationResult:
    """What a job callback says about its job (see ``jobs.JobTracker``)."""
    base: dict[str, Any] = {
        "job_id": report.job_id,
        "correlation_id": job.correlation_id,
        "operation": job.operation,
        "lock_id": job.lock_id,
        "message": clean_message(report.msg),
        "code_id": job.context.get("code_id"),
    }
    if report.status:
        if job.operation is Operation.LIST_LOCKS:
            try:
                locks = tuple(locks_from_data(report.data))
            except ProviderError as err:
                return OperationResult(status=ResultStatus.FAILED, error=err, **base)
            return OperationResult(status=ResultStatus.SUCCEEDED, locks=locks, **base)
        if job.operation is Operation.ADD_CODE:
            return OperationResult(
                status=ResultStatus.SUCCEEDED,
                passcode=_passcode_from_result(job, report.data),
                **base,
            )
        return OperationResult(status=ResultStatus.SUCCEEDED, **base)
    error = error_from_failure(
        report.msg, codes_error=report.codes_error, data=report.data
    )
    if (
        job.operation in (Operation.ADD_CODE, Operation.DELETE_CODE)
        and not report.codes_error
        and is_retrying(report.msg)
    ):
        return OperationResult(status=ResultStatus.RETRYING, error=error, **base)
    return OperationResult(status=ResultStatus.FAILED, error=error, **base)
