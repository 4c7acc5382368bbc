"""Code queue edge paths: giving up early, codes that expire while queued, locks
that leave the account, and a clean-up that meets failures."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ttlock_gateway.const import (
    CONF_RETRY_ATTEMPTS,
    CONF_RETRY_INTERVAL,
    DOMAIN,
    EVENT_CODE_ADDED,
    EVENT_CODE_FAILED,
)
from tests.common import TTLockHome, seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.test_code_queue import (
    ADD_PATH,
    BACK,
    DELETE_PATH,
    FRONT,
    LIST_PATH,
    advance,
    call,
    foreign_code,
    listen,
    set_gateway,
    window,
)

RETRY = timedelta(minutes=20, seconds=1)


def code_failed_issues(hass: HomeAssistant) -> list[ir.IssueEntry]:
    return [
        issue
        for issue in ir.async_get(hass).issues.values()
        if issue.domain == DOMAIN and issue.translation_key == "code_failed"
    ]


async def _setup(
    hass: HomeAssistant, cloud: FakeTTLockCloud, options: dict[str, int] | None = None
) -> tuple[TTLockHome, MockConfigEntry]:
    seeded = seed_ttlock_home(cloud)
    entry = await setup_entry(hass, ttlock_data(cloud), options)
    cloud.reset_calls()
    return seeded, entry


async def test_single_attempt_option_fails_at_once(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """retry_attempts = 1: a transient failure is final, reported, never retried."""
    await _setup(hass, ttlock_cloud, {CONF_RETRY_ATTEMPTS: 1})
    failed = listen(hass, EVENT_CODE_FAILED)
    ttlock_cloud.fail(ADD_PATH, -3002, "The gateway is offline")
    result = await call(hass, "add_code", FRONT, name="Guest", code="4455", **window())
    assert result[FRONT]["status"] == "failed"
    assert len(failed) == 1
    assert failed[0].data["attempts"] == 1
    assert failed[0].data["reason"] == "The gateway is offline"
    assert len(code_failed_issues(hass)) == 1
    await advance(hass, freezer, timedelta(hours=2))
    assert ttlock_cloud.calls[ADD_PATH] == 1
    listed = await call(hass, "list_codes", FRONT)
    assert [(c["name"], c["status"]) for c in listed[FRONT]["codes"]] == [
        ("Guest", "failed")
    ]


async def test_code_whose_window_ends_while_queued_is_not_sent(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    seeded, _ = await _setup(hass, ttlock_cloud)
    failed = listen(hass, EVENT_CODE_FAILED)
    set_gateway(ttlock_cloud, seeded, online=False)
    result = await call(
        hass, "add_code", FRONT, name="Short stay", code="6677", **window(-1, 0.5)
    )
    assert result[FRONT]["status"] == "queued"
    await advance(hass, freezer, RETRY)  # 20 min: still offline
    assert ttlock_cloud.calls[ADD_PATH] == 2
    assert failed == []

    set_gateway(ttlock_cloud, seeded, online=True)
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, RETRY)  # 40 min: the window ended at 30 min
    assert ttlock_cloud.total_calls <= 1  # at most the hourly lock list
    assert ttlock_cloud.calls[ADD_PATH] == 0
    assert ttlock_cloud.passcodes[seeded.front] == {}
    assert len(failed) == 1
    assert "validity ended" in failed[0].data["reason"]
    assert len(code_failed_issues(hass)) == 1


async def test_permanent_error_on_retry_stops_retrying(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Storage full on the retry cannot be fixed by retrying: failed at attempt 2."""
    seeded, _ = await _setup(hass, ttlock_cloud)
    # A permanent code from the app (no validity window) is not taken for ours.
    foreign_code(ttlock_cloud, seeded.front, 1, end_hours=0, kind=2)
    added = listen(hass, EVENT_CODE_ADDED)
    failed = listen(hass, EVENT_CODE_FAILED)
    ttlock_cloud.fail(ADD_PATH, -3002, "The gateway is offline")
    ttlock_cloud.fail(ADD_PATH, -3009, "The passcode storage is full")
    await call(hass, "add_code", FRONT, name="Guest", code="5001", **window())
    await advance(hass, freezer, RETRY)
    assert ttlock_cloud.calls[ADD_PATH] == 2
    assert added == []
    assert [(e.data["attempts"], e.data["reason"]) for e in failed] == [
        (2, "The passcode storage is full")
    ]
    await advance(hass, freezer, timedelta(hours=2))
    assert ttlock_cloud.calls[ADD_PATH] == 2


async def test_queued_code_for_a_lock_that_left_the_account(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """The lock was removed in the app while its code waited: reported, not retried."""
    # Retries every 90 minutes: the hourly lock list notices the removal first.
    seeded, _ = await _setup(hass, ttlock_cloud, {CONF_RETRY_INTERVAL: 90})
    failed = listen(hass, EVENT_CODE_FAILED)
    ttlock_cloud.fail(ADD_PATH, -3002, "The gateway is offline")
    await call(hass, "add_code", BACK, name="Guest", code="7001", **window())
    ttlock_cloud.remove_lock(seeded.back)
    await advance(hass, freezer, timedelta(minutes=61))  # lock list: back is gone
    assert failed == []
    back = hass.states.get(BACK)
    assert back is None or back.state == "unavailable"
    await advance(hass, freezer, timedelta(minutes=30))  # the retry
    assert len(failed) == 1
    # Named by its id: the lock's name went with it.
    assert failed[0].data["lock_name"] == str(seeded.back)
    assert failed[0].data["attempts"] == 2
    issue = code_failed_issues(hass)[0]
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["lock"] == str(seeded.back)
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, timedelta(hours=2))
    assert ttlock_cloud.calls[ADD_PATH] == 0
    assert ttlock_cloud.calls[LIST_PATH] == 0


async def test_cleanup_goes_on_past_failures_and_catches_up(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """A lock whose listing or deletion fails is skipped, and cleaned the next day."""
    seeded, _ = await _setup(hass, ttlock_cloud)
    await call(
        hass, "add_code", FRONT, name="Front guest", code="1357", **window(-1, 1)
    )
    await call(hass, "add_code", BACK, name="Back guest", code="2468", **window(-1, 1))
    await advance(hass, freezer, timedelta(hours=24))  # inside the grace period
    assert len(ttlock_cloud.passcodes[seeded.front]) == 1
    assert len(ttlock_cloud.passcodes[seeded.back]) == 1

    # Day 2: the first lock's listing fails (front, the lower id), back is cleaned.
    ttlock_cloud.fail(LIST_PATH, -3034, "system busy")
    await advance(hass, freezer, timedelta(hours=24))
    assert ttlock_cloud.passcodes[seeded.back] == {}
    assert len(ttlock_cloud.passcodes[seeded.front]) == 1

    # Day 3: listing works, the deletion fails: still there, still ours.
    ttlock_cloud.fail(DELETE_PATH, -3002, "The gateway is offline")
    await advance(hass, freezer, timedelta(hours=24))
    assert len(ttlock_cloud.passcodes[seeded.front]) == 1
    listed = await call(hass, "list_codes", FRONT)
    assert [c["name"] for c in listed[FRONT]["codes"]] == ["Front guest"]

    # Day 4: deleted and forgotten.
    await advance(hass, freezer, timedelta(hours=24))
    assert ttlock_cloud.passcodes[seeded.front] == {}
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"] == []


async def test_cleanup_retries_deleting_an_unlisted_code_after_transient_failure(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Our expired code is no longer listed; deleting it by id hits an offline
    gateway: the record is kept and the deletion tried again the next day."""
    seeded, _ = await _setup(hass, ttlock_cloud)
    await call(hass, "add_code", FRONT, name="Hidden", code="8642", **window(-1, 1))
    ttlock_cloud.passcodes[seeded.front].clear()
    ttlock_cloud.fail(DELETE_PATH, -3002, "The gateway is offline")
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, timedelta(hours=48, seconds=1))
    assert ttlock_cloud.calls[DELETE_PATH] == 1

    # Kept: tried again the next day, then forgotten (no more calls after that).
    await advance(hass, freezer, timedelta(hours=24))
    assert ttlock_cloud.calls[DELETE_PATH] == 2
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, timedelta(hours=24))
    assert ttlock_cloud.calls[DELETE_PATH] == 0
    assert ttlock_cloud.calls[LIST_PATH] == 0
