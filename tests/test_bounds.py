"""The provider boundary's validators: odd cloud values never pass raw."""

from __future__ import annotations

from datetime import UTC, datetime
import json
import math

import pytest

from custom_components.ttlock_gateway.providers.bounds import (
    MAX_RAW_KEYS,
    MAX_RAW_LIST,
    InvalidAnswerError,
    auto_lock_seconds,
    bounded_raw,
    clean_text,
    datetime_from_ms,
    datetime_from_s,
    has_unsafe_text,
    mac_address,
    opt_bool,
    opt_datetime_from_ms,
    opt_id,
    opt_int,
    percent,
    require_id,
    require_path_id,
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


def test_ints_are_plain_decimals() -> None:
    """int() would take these; a cloud value is sign + ASCII digits only."""
    assert opt_int("1_000") is None
    assert opt_int("١٢") is None  # Arabic-Indic digits
    assert opt_int("0x1F") is None
    assert opt_int("+5") == 5
    assert opt_int(" -5 ") == -5


def test_flags_and_levels() -> None:
    assert opt_bool("true") is True
    assert opt_bool(0) is False
    assert opt_bool(2) is None
    assert opt_bool(math.nan) is None
    assert percent(-1) is None  # Tuya: "do not show the level"
    assert percent(55.0) == 55
    assert percent(55.7) is None  # Tuya's mapper takes the whole percent itself
    assert percent(math.inf) is None
    assert auto_lock_seconds(-1) is None  # TTLock: off
    assert auto_lock_seconds(30) == 30
    assert auto_lock_seconds(86_400) is None


def test_path_ids_and_macs() -> None:
    assert require_path_id("bf0a12_x-9", "id") == "bf0a12_x-9"
    for bad in ("12/../token", "a?b=1", "a%2F", "..", "a b"):
        with pytest.raises(InvalidAnswerError):
            require_path_id(bad, "id")
    assert opt_id(None, "id") is None
    assert opt_id(" ", "id") is None
    assert mac_address("16:72:4c:cc:01:c4") == "16:72:4C:CC:01:C4"
    assert mac_address("") is None


def test_bounded_raw() -> None:
    """Only flat, JSON-safe values; nested data, NaN, huge ints left out."""
    raw = bounded_raw(
        {
            "a": 1,
            "nested": {"x": 1},
            "nan": math.nan,
            "huge": 10**30,
            "name": "Guest \ud83d\x00",
            "ids": [1, "2", {"x": 1}, *range(500)],
            "k" * 100: 1,
            5: "not a text key",
        }
    )
    assert raw["a"] == 1
    assert raw["name"] == "Guest"
    assert "nested" not in raw
    assert "nan" not in raw
    assert "huge" not in raw
    assert raw["ids"][:3] == [1, "2", 0]  # the dict left out
    assert len(raw["ids"]) <= MAX_RAW_LIST
    assert set(raw) == {"a", "name", "ids"}
    json.dumps(raw, allow_nan=False).encode("utf-8")
    assert bounded_raw({"b": 2, "a": 1}, ("a", "c")) == {"a": 1}
    many = bounded_raw({f"k{i}": i for i in range(100)})
    assert len(many) == MAX_RAW_KEYS
