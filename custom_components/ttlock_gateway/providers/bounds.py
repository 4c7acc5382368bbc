"""The provider boundary's validation wall: cloud values into bounded ones.

Every value a cloud returns passes through one of these before it becomes part
of a model. Anything that cannot be made sane raises ``InvalidAnswerError`` (a
``ProviderError``), so nothing raw or unbounded reaches Home Assistant, a task,
a ``Store`` or the event bus. No Home Assistant imports.
"""

from __future__ import annotations

from datetime import UTC, datetime
import math
import re
from typing import Any, Final

from .models import ProviderError

# Dates outside these years are not real lock data (a year-40,000 endDate, 0).
MIN_YEAR: Final = 1970
MAX_YEAR: Final = 2200
_MIN_EPOCH_S: Final = 0.0
_MAX_EPOCH_S: Final = datetime(MAX_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()

MAX_TEXT: Final = 256
MAX_ID: Final = 128

# Control characters (C0, DEL, C1) and lone UTF-16 surrogates: the first break
# log lines and UIs, the second make every JSON save of the value fail.
_UNSAFE_TEXT: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class InvalidAnswerError(ProviderError):
    """The cloud answered something that is not a sane value."""


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
        if not text or len(text) > 20:
            return None
        try:
            value = int(text)
        except ValueError:
            return None
    else:
        return None
    if minimum is not None and value < minimum:
        return None
    if maximum is not None and value > maximum:
        return None
    return value


def percent(raw: Any) -> int | None:
    """A battery level 0-100, else ``None``."""
    return opt_int(raw, minimum=0, maximum=100)


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
