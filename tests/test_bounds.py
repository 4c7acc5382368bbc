"""The provider boundary's validators: odd cloud values never pass raw."""

from __future__ import annotations

from datetime import UTC, datetime
import json
import math

import pytest

from custom_components.ttlock_gateway.providers.bounds import (
    InvalidAnswerError,
    clean_text,
    datetime_from_ms,
    datetime_from_s,
    has_unsafe_text,
    opt_datetime_from_ms,
    opt_int,
    percent,
    require_id,
)
from custom_components.ttlock_gateway.providers.models import ProviderError


def test_year_40000_and_nan_are_refused() -> None:
    year_40000_ms = 1_200_000_000_000_000
    with pytest.raises(InvalidAnswerError):
        datetime_from_ms(year_40000_ms, "endDate")
    with pytest.raises(InvalidAnswerError):
        datetime_from_s(math.nan, "t")
    with pytest.raises(InvalidAnswerError):
        datetime_from_ms("soon", "startDate")
    assert issubclass(InvalidAnswerError, ProviderError)


def test_dates_in_range() -> None:
    assert datetime_from_ms(1_700_000_000_000, "x") == datetime.fromtimestamp(
        1_700_000_000, tz=UTC
    )
    assert datetime_from_s("1700000000", "x").year == 2023
    assert opt_datetime_from_ms(0, "x") is None
    assert opt_datetime_from_ms(None, "x") is None


def test_lone_surrogate_and_controls_are_cleaned() -> None:
    name = json.loads('"Guest \\ud83d"')
    assert has_unsafe_text(name)
    cleaned = clean_text(name)
    assert cleaned == "Guest"
    json.dumps(cleaned).encode("utf-8")  # writable
    assert clean_text("a\x00b\x1bc\u0085") == "abc"
    assert clean_text("x" * 1000) == "x" * 256
    assert clean_text({"nested": 1}) == ""


def test_ids() -> None:
    assert require_id(12, "id") == "12"
    assert require_id(" 7 ", "id") == "7"
    for bad in (None, "", "None\x00", True, {}, "x" * 200):
        with pytest.raises(InvalidAnswerError):
            require_id(bad, "id")


def test_ints() -> None:
    assert opt_int("42") == 42
    assert opt_int(42.0) == 42
    assert opt_int(42.5) is None
    assert opt_int(math.inf) is None
    assert opt_int(True) is None
    assert opt_int("1" * 40) is None
    assert percent(101) is None
    assert percent("55") == 55
