"""The provider boundary's validation wall: cloud values into bounded ones.

Every value a cloud returns passes through one of these before it becomes part
of a model. Anything that cannot be made sane raises ``InvalidAnswerError`` (a
``ProviderError``), so nothing raw or unbounded reaches Home Assistant, a task,
a ``Store`` or the event bus. No Home Assistant imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
import json
import math
import re
from typing import Any, Final

import orjson

from .models import ProviderError

# Dates outside these years are not real lock data (a year-40,000 endDate, 0).
MIN_YEAR: Final = 1970
MAX_YEAR: Final = 2200
_MIN_EPOCH_S: Final = 0.0
_MAX_EPOCH_S: Final = datetime(MAX_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()

# The latest epoch second a date may denote (callers comparing raw numbers).
MAX_EPOCH_S: Final = int(_MAX_EPOCH_S)

MAX_TEXT: Final = 256
MAX_ID: Final = 128
# Integers beyond 2**53 lose precision in JavaScript (the frontend, the
# websocket API): larger numbers are not information a user can use.
MAX_SAFE_INT: Final = 2**53 - 1
# Auto-lock delay (TTLock ``autoLockTime``, Tuya ``auto_lock_time``): the apps
# offer 5-60 s presets and a custom value; beyond 15 minutes it is not a lock
# setting but a bad value, so it is unknown (no relock is predicted).
MAX_AUTO_LOCK_S: Final = 900
# ``LockEvent.raw`` goes onto the event bus and into the activity Store: flat,
# few keys, short values (the recorder refuses events over 32 KiB).
MAX_RAW_KEYS: Final = 32
MAX_RAW_KEY: Final = 64
MAX_RAW_LIST: Final = 100

# Control characters (C0, DEL, C1) and lone UTF-16 surrogates: the first break
# log lines and UIs, the second make every JSON save of the value fail.
_UNSAFE_TEXT: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# A decimal integer as clouds send it: optional sign, ASCII digits only (int()
# would also take "1_000", " 12 " and Arabic-Indic digits).
_DECIMAL: Final = re.compile(r"[+-]?[0-9]{1,19}")
_TRUE_STRINGS: Final = frozenset({"1", "true", "yes", "on"})
_FALSE_STRINGS: Final = frozenset({"0", "false", "no", "off", ""})


class InvalidAnswerError(ProviderError):
    """The cloud answered something that is not a sane value."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400
        raise ValueError("number out of range")
    return value


def loads_answer(raw: bytes) -> Any:
    """A cloud answer's JSON, strictly: no NaN/Infinity, no 1e400; ``None`` if not JSON.

    orjson also refuses a lone surrogate escape ("\\ud83d", a name cut in the
    middle of an emoji by a UTF-16 app): one such name would make every
    answer naming the lock unreadable, so the standard parser, held to the
    same number rules, reads it and ``clean_text`` drops the half character.
    """
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, RecursionError):
        return None


def has_unsafe_text(value: str) -> bool:
    """Whether ``value`` holds control characters or lone surrogates."""
    return _UNSAFE_TEXT.search(value) is not None


def clean_text(raw: Any, *, max_length: int = MAX_TEXT) -> str:
    """A display string: control characters and lone surrogates dropped, cut."""
    if raw is None:
        return ""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return ""
    text = _UNSAFE_TEXT.sub("", str(raw)).strip()
    return text[:max_length]


def opt_text(raw: Any, *, max_length: int = MAX_TEXT) -> str | None:
    """Like ``clean_text`` but ``None`` for an empty result."""
    return clean_text(raw, max_length=max_length) or None


def require_id(raw: Any, what: str) -> str:
    """A non-empty identifier of printable characters (ints are accepted)."""
    if isinstance(raw, bool):
        raise InvalidAnswerError(f"{what}: not an id")
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, str):
        value = raw.strip()
        if value and len(value) <= MAX_ID and not has_unsafe_text(value):
            return value
    raise InvalidAnswerError(f"{what}: missing or invalid id")


def opt_int(
    raw: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    """An int from an int, a whole float or a decimal string; else ``None``.

    Values outside [minimum, maximum] are ``None`` too: an out-of-range value is
    not information.
    """
    if raw is None or isinstance(raw, bool):
        return None
    value: int
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float):
        if not math.isfinite(raw) or not raw.is_integer():
            return None
        value = int(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if _DECIMAL.fullmatch(text) is None:
            return None
        value = int(text)
    else:
        return None
    if minimum is not None and value < minimum:
        return None
    if maximum is not None and value > maximum:
        return None
    return value


def opt_bool(raw: Any) -> bool | None:
    """A boolean from a bool, 1/0 or "1"/"0"/"true"/"false"...; else ``None``."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float):
        if raw == 1:
            return True
        return False if raw == 0 else None
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text in _TRUE_STRINGS:
            return True
        if text in _FALSE_STRINGS:
            return False
    return None


def percent(raw: Any) -> int | None:
    """A battery level 0-100, else ``None`` (-1 "not shown", 120: unknown)."""
    return opt_int(raw, minimum=0, maximum=100)


def auto_lock_seconds(raw: Any) -> int | None:
    """An auto-lock delay in seconds (0..MAX_AUTO_LOCK_S); -1 (off) etc. ``None``."""
    return opt_int(raw, minimum=0, maximum=MAX_AUTO_LOCK_S)


# Ids a client puts into a URL path (Tuya device ids, user ids): letters,
# digits, "_" and "-" as the clouds issue them; "/", "?", "%" or ".." would
# turn a listed value into another request.
_PATH_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")


def require_path_id(raw: Any, what: str) -> str:
    """Like ``require_id``, limited to characters safe in a URL path segment."""
    value = require_id(raw, what)
    if _PATH_ID.fullmatch(value) is None:
        raise InvalidAnswerError(f"{what}: not a usable id")
    return value


def opt_id(raw: Any, what: str) -> str | None:
    """``None`` when absent or empty, else as ``require_id``."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return require_id(raw, what)


def mac_address(raw: Any) -> str | None:
    """A MAC as text, upper case: the TTLock cloud is not consistent about case
    (hass-ttlock tests/test_models.py ``test_mac_is_upper_cased``), and one
    lock's MAC must compare equal in a list and in a callback."""
    text = opt_text(raw, max_length=64)
    return text.upper() if text is not None else None


def json_scalar(raw: Any) -> tuple[bool, Any]:
    """``(True, value)`` for a value safe to keep as-is in JSON, else ``(False, None)``.

    Safe: ``None``, booleans, integers within +-MAX_SAFE_INT, finite floats and
    text (cleaned and cut like ``clean_text``).
    """
    if raw is None or isinstance(raw, bool):
        return True, raw
    if isinstance(raw, int):
        return (True, raw) if -MAX_SAFE_INT <= raw <= MAX_SAFE_INT else (False, None)
    if isinstance(raw, float):
        return (True, raw) if math.isfinite(raw) else (False, None)
    if isinstance(raw, str):
        return True, clean_text(raw)
    return False, None


def bounded_raw(
    data: Mapping[Any, Any], keys: Iterable[str] | None = None
) -> dict[str, Any]:
    """A copy of ``data`` fit for ``LockEvent.raw`` (the bus, the Store).

    Only ``keys`` when given (in their order), else the first ``MAX_RAW_KEYS``
    entries. Keys are printable text up to ``MAX_RAW_KEY``; values are JSON
    scalars (``json_scalar``) or flat lists of them (``MAX_RAW_LIST`` items at
    most); nested objects and anything else are left out.
    """
    if keys is not None:
        pairs: Iterable[tuple[Any, Any]] = (
            (key, data[key]) for key in keys if key in data
        )
    else:
        pairs = data.items()
    out: dict[str, Any] = {}
    for key, value in pairs:
        if len(out) >= MAX_RAW_KEYS:
            break
        if (
            not isinstance(key, str)
            or not key
            or len(key) > MAX_RAW_KEY
            or has_unsafe_text(key)
        ):
            continue
        if isinstance(value, list | tuple):
            items = []
            for item in list(value)[:MAX_RAW_LIST]:
                ok, scalar = json_scalar(item)
                if ok:
                    items.append(scalar)
            out[key] = items
            continue
        ok, scalar = json_scalar(value)
        if ok:
            out[key] = scalar
    return out


def _from_epoch(seconds: float, what: str) -> datetime:
    if not math.isfinite(seconds) or not _MIN_EPOCH_S <= seconds <= _MAX_EPOCH_S:
        raise InvalidAnswerError(f"{what}: date out of range")
    return datetime.fromtimestamp(seconds, tz=UTC)


def datetime_from_ms(raw: Any, what: str) -> datetime:
    """A UTC datetime from epoch milliseconds within 1970-2200."""
    value = opt_int(raw)
    if value is None:
        raise InvalidAnswerError(f"{what}: not a date")
    return _from_epoch(value / 1000, what)


def datetime_from_s(raw: Any, what: str) -> datetime:
    """A UTC datetime from epoch seconds within 1970-2200."""
    value = opt_int(raw)
    if value is None:
        raise InvalidAnswerError(f"{what}: not a date")
    return _from_epoch(float(value), what)


def opt_datetime_from_ms(raw: Any, what: str) -> datetime | None:
    """``None`` for absent/zero, else as ``datetime_from_ms``."""
    if raw is None or raw == "" or opt_int(raw) == 0:
        return None
    return datetime_from_ms(raw, what)


def opt_datetime_from_s(raw: Any, what: str) -> datetime | None:
    """``None`` for absent/zero, else as ``datetime_from_s``."""
    if raw is None or raw == "" or opt_int(raw) == 0:
        return None
    return datetime_from_s(raw, what)
