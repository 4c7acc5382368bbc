"""Pure Dding mapping: the phase table and the time/id rules (seed 003)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from custom_components.ttlock_gateway.providers.bounds import InvalidAnswerError
from custom_components.ttlock_gateway.providers.dding_mapping import (
    battery_from,
    code_phase,
    devices_of_homes,
    epoch_seconds,
    event_id,
    online_from,
    open_details,
    passcode_from,
    token_expiry,
)
from custom_components.ttlock_gateway.providers.models import (
    CodeKind,
    CodeOperation as Op,
    CodePhase as Phase,
    OperationStage as Stage,
    UnlockMethod,
)

# 6.3 (operation, operation_stage) -> what the lock accepts. The rule the table
# encodes: a code counts as working until the lock confirms it stopped, and as
# not working until the lock confirms it started.
PHASES = [
    (1, 1, Phase.PENDING, Op.ADD, Stage.IN_PROGRESS),
    (1, 2, Phase.FAILED, Op.ADD, Stage.FAILED),
    (1, 3, Phase.DELIVERED, Op.ADD, Stage.DONE),
    (2, 1, Phase.DELETING, Op.DELETE, Stage.IN_PROGRESS),
    (2, 2, Phase.DELIVERED, Op.DELETE, Stage.FAILED),
    (2, 3, None, Op.DELETE, Stage.DONE),
    (3, 1, Phase.DELIVERED, Op.UPDATE, Stage.IN_PROGRESS),
    (3, 2, Phase.DELIVERED, Op.UPDATE, Stage.FAILED),
    (3, 3, Phase.DELIVERED, Op.UPDATE, Stage.DONE),
    (4, 1, Phase.DELIVERED, Op.FREEZE, Stage.IN_PROGRESS),
    (4, 2, Phase.DELIVERED, Op.FREEZE, Stage.FAILED),
    (4, 3, Phase.REVOKED, Op.FREEZE, Stage.DONE),
    (5, 1, Phase.REVOKED, Op.UNFREEZE, Stage.IN_PROGRESS),
    (5, 2, Phase.REVOKED, Op.UNFREEZE, Stage.FAILED),
    (5, 3, Phase.DELIVERED, Op.UNFREEZE, Stage.DONE),
]


@pytest.mark.parametrize(("op", "stage", "phase", "operation", "op_stage"), PHASES)
def test_phase_table(
    op: int, stage: int, phase: Phase | None, operation: Op, op_stage: Stage
) -> None:
    assert code_phase(op, stage) == (phase, operation, op_stage)
    # As strings too (GET answers of some clients are all strings).
    assert code_phase(str(op), str(stage)) == (phase, operation, op_stage)


@pytest.mark.parametrize(("op", "stage", "phase", "operation", "op_stage"), PHASES)
def test_frozen_pwd_state_never_reads_as_working(
    op: int, stage: int, phase: Phase | None, operation: Op, op_stage: Stage
) -> None:
    frozen = code_phase(op, stage, 5)[0]
    assert frozen not in (Phase.DELIVERED, Phase.PENDING)
    assert code_phase(op, stage, 2)[0] is phase  # 2 = in effect: no change


@pytest.mark.parametrize(
    ("op", "stage", "expected"),
    [
        (None, None, Phase.DELIVERED),  # a keypad code: no SaaS operation
        (0, 0, Phase.DELIVERED),
        (6, 3, Phase.PENDING),  # unknown operation: neither working nor gone
        (1, 4, Phase.PENDING),
        (1, None, Phase.PENDING),
        (None, 3, Phase.PENDING),
        ("x", [], Phase.PENDING),
        (True, True, Phase.PENDING),
    ],
)
def test_phase_of_unknown_values(op: Any, stage: Any, expected: Phase) -> None:
    assert code_phase(op, stage)[0] is expected


def test_admin_password_by_id_or_flag() -> None:
    by_id = passcode_from("lk", {"id": 999, "operation": 1, "operation_stage": 3})
    by_flag = passcode_from("lk", {"id": 5, "is_default": "1"})
    assert by_id is not None
    assert by_flag is not None
    assert by_id.protected
    assert by_flag.protected
    assert by_id.kind is CodeKind.PERMANENT
    plain = passcode_from("lk", {"id": 1001, "is_default": 0})
    assert plain is not None
    assert not plain.protected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1_767_322_800, 1_767_322_800),
        (1_767_322_800_999, 1_767_322_800),
        ("1767322800", 1_767_322_800),
        (1_767_322_800.0, 1_767_322_800),
        (0, 0),
    ],
)
def test_epoch_seconds(raw: Any, expected: int) -> None:
    assert epoch_seconds(raw, "t") == expected


@pytest.mark.parametrize(
    "raw", [None, -1, "x", 1.5, float("nan"), float("inf"), True, 10**15 * 1000]
)
def test_epoch_seconds_refused(raw: Any) -> None:
    with pytest.raises(InvalidAnswerError):
        epoch_seconds(raw, "t")


def test_event_id_is_unit_free() -> None:
    """The push (ms, per public clients) and the poll (ms, 6.11) meet."""
    assert event_id("u", epoch_seconds(1_767_322_800_500, "t"), "x") == event_id(
        "u", epoch_seconds(1_767_322_800, "t"), "x"
    )


def test_online_and_battery() -> None:
    assert [online_from(v) for v in (1, 2, "1", 0, 3, None, True)] == [
        True,
        False,
        True,
        None,
        None,
        None,
        None,
    ]
    assert [battery_from(v) for v in (0, 100, -1, 101, "55", None, 5.5)] == [
        0,
        100,
        None,
        None,
        55,
        None,
        None,
    ]


def test_open_details() -> None:
    assert open_details({"source": 2, "sourceid": 7, "source_name": "A"}) == (
        UnlockMethod.CODE,
        "7",
        "A",
    )
    assert open_details({"source": "2", "sourceid": None}) == (
        UnlockMethod.CODE,
        None,
        None,
    )
    assert open_details({}) == (UnlockMethod.UNKNOWN, None, None)


def test_token_expiry() -> None:
    now = 1_800_000_000.0
    assert token_expiry(1_800_003_600, now) == 1_800_003_600.0
    assert token_expiry(1_800_003_600_000, now) == 1_800_003_600.0
    assert token_expiry(3600, now) == now + 3600
    assert token_expiry(0, now) is None
    assert token_expiry(-5, now) is None
    assert token_expiry(float("nan"), now) is None
    assert token_expiry("x", now) is None


def test_devices_of_homes() -> None:
    found, missing = devices_of_homes(
        {"h1": [{"type": "gateway", "uuid": "g"}], "h3": None}, ["h1", "h2", "h3"]
    )
    assert missing == ["h2"]
    assert [ref.uuid for ref in found["h1"]] == ["g"]
    assert found["h1"][0].is_gateway
    assert found["h3"] == []


def test_window_in_seconds() -> None:
    code = passcode_from(
        "lk",
        {
            "id": 1001,
            "operation": 1,
            "operation_stage": 3,
            "permission": {"begin": 1_767_322_800, "end": 1_767_409_200, "status": 2},
        },
    )
    assert code is not None
    assert code.start == datetime(2026, 1, 2, 3, 0, tzinfo=UTC)
    assert code.end == datetime(2026, 1, 3, 3, 0, tzinfo=UTC)
    assert code.kind is CodeKind.PERIOD
