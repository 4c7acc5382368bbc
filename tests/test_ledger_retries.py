"""Code ledger retries on schedule (freezer): queued uploads, landed answers, failures.

Ported from the request queue's tests, with what the ledger changes: answers
carry our own ``code_id``; a code whose window ends while queued is not failed
(the clock may be wrong) but waits, "expired"; a rate limit pauses instead of
using up attempts.
"""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ttlock_gateway.const import (
    CONF_RETRY_ATTEMPTS,
    CONF_RETRY_INTERVAL,
    EVENT_CODE_ADDED,
    EVENT_CODE_FAILED,
)
from tests.common import (
    TTLockHome,
    seed_ttlock_home,
    setup_entry,
    ttlock_data,
    tuya_data,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud
from tests.ledger_common import (
    ADD_PATH,
    BACK,
    FRONT,
    LIST_PATH,
    RETRY,
    TUYA_ADD,
    TUYA_LIST,
    advance,
    call,
    code_issues,
    foreign_code,
    listen,
    records,
    restart,
    set_gateway,
    ttlock_pins,
    tuya_lock_entity,
    window,
)


@pytest.fixture
async def home(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> tuple[TTLockHome, MockConfigEntry]:
    seeded = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.reset_calls()
    return seeded, entry


async def test_outage_queues_then_retry_delivers(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    seeded, _ = home
    added = listen(hass, EVENT_CODE_ADDED)
    ttlock_cloud.fail(ADD_PATH, -3002, "gateway offline", times=2)
    result = await call(
        hass, "add_code", [FRONT, BACK], name="Guest", code="8642", **window()
    )
    code_id = result[FRONT]["code_id"]
    assert result[FRONT] == {
        "code_id": code_id,
        "cloud_id": None,
        "code": "8642",
        "status": "queued",
        "reason": "gateway offline",
    }
    assert result[BACK]["status"] == "queued"
    assert ttlock_cloud.passcodes[seeded.front] == {}
    assert added == []
    listed = await call(hass, "list_codes", FRONT)
    assert [(c["code_id"], c["status"]) for c in listed[FRONT]["codes"]] == [
        (code_id, "queued")
    ]
    listings = ttlock_cloud.calls[LIST_PATH]

    # Not before the retry interval.
    await advance(hass, freezer, timedelta(minutes=19))
    assert ttlock_cloud.calls[ADD_PATH] == 2
    await advance(hass, freezer, timedelta(minutes=1, seconds=1))
    assert ttlock_cloud.calls[ADD_PATH] == 4
    # A gateway's definite "offline" leaves no doubt: no listing before the retry.
    assert ttlock_cloud.calls[LIST_PATH] == listings
    for lock_id in (seeded.front, seeded.back):
        assert ttlock_pins(ttlock_cloud, lock_id) == ["8642"]
    assert sorted(ev.data["entity_id"] for ev in added) == [BACK, FRONT]
    assert {ev.data["code_id"] for ev in added} == {code_id}
    assert all("code" not in ev.data for ev in added)
    listed = await call(hass, "list_codes", FRONT)
    assert [
        (c["code_id"], c["status"], c["created_by_integration"])
        for c in listed[FRONT]["codes"]
    ] == [(code_id, "pending", True)]
    # Nothing more is sent later.
    await advance(hass, freezer, timedelta(minutes=45))
    assert ttlock_cloud.calls[ADD_PATH] == 4


async def test_restart_in_between_delivers_exactly_once(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    seeded, entry = home
    added = listen(hass, EVENT_CODE_ADDED)
    set_gateway(ttlock_cloud, seeded, online=False)
    result = await call(hass, "add_code", FRONT, name="Guest", code="97531", **window())
    assert result[FRONT]["status"] == "queued"

    # Home Assistant restarts with the code still queued.
    await restart(hass, entry)
    set_gateway(ttlock_cloud, seeded, online=True)
    assert ttlock_cloud.calls[ADD_PATH] == 1

    await advance(hass, freezer, timedelta(minutes=21))
    assert ttlock_cloud.calls[ADD_PATH] == 2
    assert ttlock_pins(ttlock_cloud, seeded.front) == ["97531"]
    assert len(added) == 1

    # Another restart and more time: still one code, no more uploads.
    await restart(hass, entry)
    await advance(hass, freezer, timedelta(hours=2))
    assert ttlock_cloud.calls[ADD_PATH] == 2
    assert len(ttlock_cloud.passcodes[seeded.front]) == 1
    assert len(added) == 1


async def test_lost_answer_is_found_by_the_retry_and_not_sent_again(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """The upload reached the lock, its answer did not reach us: queued, then
    the retry's listing finds it (one listing, no second upload)."""
    seeded, _ = home
    added = listen(hass, EVENT_CODE_ADDED)
    ttlock_cloud.lose_answer(ADD_PATH)
    result = await call(hass, "add_code", FRONT, name="Guest", code="1357", **window())
    assert result[FRONT]["status"] == "queued"
    assert ttlock_pins(ttlock_cloud, seeded.front) == ["1357"]
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, RETRY)
    assert ttlock_cloud.calls[ADD_PATH] == 0
    assert ttlock_cloud.calls[LIST_PATH] == 1
    (cloud_id,) = [str(k) for k in ttlock_cloud.passcodes[seeded.front]]
    assert [(e.data["code_id"], e.data["cloud_id"]) for e in added] == [
        (result[FRONT]["code_id"], cloud_id)
    ]
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"][0]["created_by_integration"] is True
    assert listed[FRONT]["codes"][0]["cloud_id"] == cloud_id


async def test_five_failures_fire_failed_event_and_repair_issue(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seeded, _ = home
    failed = listen(hass, EVENT_CODE_FAILED)
    set_gateway(ttlock_cloud, seeded, online=False)
    await call(hass, "add_code", FRONT, name="Guest Jones", code="1122", **window())
    for attempt in range(2, 6):
        assert failed == []
        await advance(hass, freezer, RETRY)
        assert ttlock_cloud.calls[ADD_PATH] == attempt
    assert len(failed) == 1
    assert failed[0].data["name"] == "Guest Jones"
    assert failed[0].data["entity_id"] == FRONT
    assert failed[0].data["attempts"] == 5
    assert failed[0].data["operation"] == "add"
    assert "code" not in failed[0].data
    issues = code_issues(hass)
    assert len(issues) == 1
    assert issues[0].translation_placeholders is not None
    assert issues[0].translation_placeholders["lock"] == "Front door"
    assert issues[0].translation_placeholders["name"] == "Guest Jones"
    assert "offline" in issues[0].translation_placeholders["reason"]

    await advance(hass, freezer, timedelta(hours=2))
    assert ttlock_cloud.calls[ADD_PATH] == 5
    # The failure is logged, without digits (the harness's own storage mock
    # logs what it writes; Home Assistant's Store does not).
    ours = [
        r.getMessage()
        for r in caplog.records
        if not r.name.startswith("pytest_homeassistant_custom_component")
    ]
    assert any("Guest Jones" in m for m in ours)
    assert not any("1122" in m for m in ours)
    listed = await call(hass, "list_codes", FRONT)
    assert [(c["name"], c["status"]) for c in listed[FRONT]["codes"]] == [
        ("Guest Jones", "failed")
    ]
    # Deleting the failed code clears it and its repair issue (never on the lock).
    answer = await call(hass, "delete_code", FRONT, name="Guest Jones")
    assert answer[FRONT]["cancelled"] == [failed[0].data["code_id"]]
    assert answer[FRONT]["deleted"] == []
    assert not code_issues(hass)


async def test_delete_cancels_a_queued_code(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    seeded, _ = home
    set_gateway(ttlock_cloud, seeded, online=False)
    added = await call(hass, "add_code", FRONT, name="Guest", code="3344", **window())
    set_gateway(ttlock_cloud, seeded, online=True)
    result = await call(hass, "delete_code", FRONT, name="Guest")
    assert result[FRONT] == {
        "deleted": [],
        "pending_delete": [],
        "cancelled": [added[FRONT]["code_id"]],
        "already_deleted": [],
        "failed": [],
        "revoked": [],
    }
    await advance(hass, freezer, timedelta(hours=2))
    assert ttlock_cloud.calls[ADD_PATH] == 1
    assert ttlock_cloud.passcodes[seeded.front] == {}


async def test_single_attempt_option_fails_at_once(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """retry_attempts = 1: a transient failure is final, reported, never retried."""
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud), {CONF_RETRY_ATTEMPTS: 1})
    failed = listen(hass, EVENT_CODE_FAILED)
    ttlock_cloud.fail(ADD_PATH, -3002, "The gateway is offline")
    result = await call(hass, "add_code", FRONT, name="Guest", code="4455", **window())
    assert result[FRONT]["status"] == "failed"
    assert result[FRONT]["reason"] == "The gateway is offline"
    assert len(failed) == 1
    assert failed[0].data["attempts"] == 1
    assert failed[0].data["reason"] == "The gateway is offline"
    assert len(code_issues(hass)) == 1
    await advance(hass, freezer, timedelta(hours=2))
    assert ttlock_cloud.calls[ADD_PATH] == 1
    listed = await call(hass, "list_codes", FRONT)
    assert [(c["name"], c["status"]) for c in listed[FRONT]["codes"]] == [
        ("Guest", "failed")
    ]


async def test_options_schedule(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """retry_interval / retry_attempts come from the options."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(
        hass,
        ttlock_data(ttlock_cloud),
        {CONF_RETRY_INTERVAL: 5, CONF_RETRY_ATTEMPTS: 2},
    )
    failed = listen(hass, EVENT_CODE_FAILED)
    set_gateway(ttlock_cloud, home, online=False)
    result = await call(hass, "add_code", FRONT, name="G", code="7788", **window())
    assert result[FRONT]["status"] == "queued"
    await advance(hass, freezer, timedelta(minutes=4))
    assert ttlock_cloud.calls[ADD_PATH] == 1
    await advance(hass, freezer, timedelta(minutes=1, seconds=1))
    assert ttlock_cloud.calls[ADD_PATH] == 2
    assert len(failed) == 1
    await advance(hass, freezer, timedelta(minutes=30))
    assert ttlock_cloud.calls[ADD_PATH] == 2


async def test_rate_limit_pauses_until_the_quota_returns(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """30006: no attempt is used up, nothing is sent for the hour the cloud asks
    for, then the codes go out; never "failed"."""
    seeded, _ = home
    failed = listen(hass, EVENT_CODE_FAILED)
    ttlock_cloud.fail(ADD_PATH, 30006, "api limit")
    first = await call(hass, "add_code", FRONT, name="A", code="1212", **window())
    assert first[FRONT]["status"] == "queued"
    # The pause covers the whole entry (the quota is the application's).
    second = await call(hass, "add_code", BACK, name="B", code="3434", **window())
    assert second[BACK]["status"] == "queued"
    assert ttlock_cloud.calls[ADD_PATH] == 1
    for _ in range(5):  # 5 x 11 min: more than the retry schedule's 5 attempts
        await advance(hass, freezer, timedelta(minutes=11))
    assert ttlock_cloud.calls[ADD_PATH] == 1
    await advance(hass, freezer, timedelta(minutes=6))
    assert ttlock_pins(ttlock_cloud, seeded.front) == ["1212"]
    assert ttlock_pins(ttlock_cloud, seeded.back) == ["3434"]
    assert failed == []


async def test_auth_failure_pauses_and_asks_for_reauth(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """The password changed in the app: the code waits (no attempt used, not
    failed), a reauth flow starts, and the code goes once sign-in works again."""
    seeded, entry = home
    failed = listen(hass, EVENT_CODE_FAILED)
    ttlock_cloud.revoke_tokens()
    ttlock_cloud.revoke_refresh_tokens()
    right = ttlock_cloud.PASSWORD
    ttlock_cloud.PASSWORD = "changed in the app"  # type: ignore[misc]
    result = await call(hass, "add_code", FRONT, name="G", code="5566", **window())
    assert result[FRONT]["status"] == "queued"
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    for _ in range(8):
        await advance(hass, freezer, RETRY)
    assert failed == []
    (record,) = records(hass, entry)
    assert record.attempts == 0
    ttlock_cloud.PASSWORD = right  # type: ignore[misc]
    await advance(hass, freezer, RETRY)
    assert ttlock_pins(ttlock_cloud, seeded.front) == ["5566"]
    assert failed == []


async def test_permanent_error_on_retry_stops_retrying(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Storage full on the retry cannot be fixed by retrying: failed at attempt 2."""
    seeded, _ = home
    # A permanent code from the app (no validity window) is not taken for ours.
    foreign_code(ttlock_cloud, seeded.front, 1, end_hours=0, kind=2)
    added = listen(hass, EVENT_CODE_ADDED)
    failed = listen(hass, EVENT_CODE_FAILED)
    ttlock_cloud.fail(ADD_PATH, -3002, "The gateway is offline")
    ttlock_cloud.fail(ADD_PATH, -3009, "The passcode storage is full")
    await call(hass, "add_code", FRONT, name="Guest", code="6001", **window())
    await advance(hass, freezer, RETRY)
    assert ttlock_cloud.calls[ADD_PATH] == 2
    assert added == []
    assert [(e.data["attempts"], e.data["reason"]) for e in failed] == [
        (2, "The passcode storage is full")
    ]
    await advance(hass, freezer, timedelta(hours=2))
    assert ttlock_cloud.calls[ADD_PATH] == 2


async def test_window_that_ends_while_queued_is_not_sent_nor_failed(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """An expired code is useless on the lock: not sent. Not "failed" either:
    the window is judged by the wall clock, which may be wrong (see the clock
    tests); the clean-up drops it once it is surely over."""
    seeded, _ = home
    failed = listen(hass, EVENT_CODE_FAILED)
    set_gateway(ttlock_cloud, seeded, online=False)
    result = await call(
        hass, "add_code", FRONT, name="Short stay", code="6677", **window(-1, 0.5)
    )
    assert result[FRONT]["status"] == "queued"
    await advance(hass, freezer, RETRY)  # 20 min: still offline
    assert ttlock_cloud.calls[ADD_PATH] == 2

    set_gateway(ttlock_cloud, seeded, online=True)
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, RETRY)  # 40 min: the window ended at 30 min
    assert ttlock_cloud.calls[ADD_PATH] == 0
    assert ttlock_cloud.passcodes[seeded.front] == {}
    assert failed == []
    assert not code_issues(hass)
    listed = await call(hass, "list_codes", FRONT)
    assert [(c["name"], c["status"]) for c in listed[FRONT]["codes"]] == [
        ("Short stay", "expired")
    ]
    # Two clean-ups later (a day apart) it is forgotten, never having been sent.
    await advance(hass, freezer, timedelta(hours=24))
    await advance(hass, freezer, timedelta(hours=24))
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"] == []
    assert ttlock_cloud.calls[ADD_PATH] == 0


async def test_queued_code_for_a_lock_that_left_the_account(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """The lock was removed in the app while its code waited: its attempts run
    out without cloud calls (one odd lock list must not fail codes at once),
    then it is reported and not retried."""
    seeded = seed_ttlock_home(ttlock_cloud)
    # Retries every 90 minutes: the hourly lock list notices the removal first.
    await setup_entry(
        hass,
        ttlock_data(ttlock_cloud),
        {CONF_RETRY_INTERVAL: 90, CONF_RETRY_ATTEMPTS: 2},
    )
    ttlock_cloud.reset_calls()
    failed = listen(hass, EVENT_CODE_FAILED)
    ttlock_cloud.fail(ADD_PATH, -3002, "The gateway is offline")
    await call(hass, "add_code", BACK, name="Guest", code="7001", **window())
    ttlock_cloud.remove_lock(seeded.back)
    await advance(hass, freezer, timedelta(minutes=61))  # lock list: back is gone
    assert failed == []
    await advance(hass, freezer, timedelta(minutes=30))  # the retry
    assert ttlock_cloud.calls[ADD_PATH] == 1
    assert len(failed) == 1
    assert "lock list" in failed[0].data["reason"]
    # Named by its id: the lock's name went with it.
    assert failed[0].data["lock_name"] == str(seeded.back)
    issue = code_issues(hass)[0]
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["lock"] == str(seeded.back)
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, timedelta(hours=2))
    assert ttlock_cloud.calls[ADD_PATH] == 0
    assert ttlock_cloud.calls[LIST_PATH] == 0


async def test_tuya_code_queued_then_delivered(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Tuya: device offline (2001) queues; the retry delivers the same code once."""
    device = tuya_cloud.add_device(name="Flat door")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    added = listen(hass, EVENT_CODE_ADDED)
    tuya_cloud.fail(TUYA_ADD, 2001, "device is offline")
    result = await call(hass, "add_code", entity_id, name="Guest", **window())
    assert result[entity_id]["status"] == "queued"
    code = result[entity_id]["code"]
    assert len(code) == 7
    assert tuya_cloud.codes[device] == {}
    await advance(hass, freezer, RETRY)
    assert [c["pin"] for c in tuya_cloud.codes[device].values()] == [code]
    assert tuya_cloud.calls[TUYA_ADD] == 2
    assert len(added) == 1
    await advance(hass, freezer, timedelta(hours=1))
    assert tuya_cloud.calls[TUYA_ADD] == 2


async def test_tuya_lost_answer_matched_by_name_and_window(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Tuya hides digits: a code with our name and window counts as landed."""
    device = tuya_cloud.add_device(name="Flat door")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    added = listen(hass, EVENT_CODE_ADDED)
    tuya_cloud.lose_answer(TUYA_ADD)
    result = await call(hass, "add_code", entity_id, name="Guest", **window())
    assert result[entity_id]["status"] == "queued"
    assert len(tuya_cloud.codes[device]) == 1
    tuya_cloud.reset_calls()
    await advance(hass, freezer, RETRY)
    assert tuya_cloud.calls[TUYA_ADD] == 0
    assert tuya_cloud.calls[TUYA_LIST] == 1
    assert len(tuya_cloud.codes[device]) == 1
    assert [ev.data["cloud_id"] for ev in added] == list(tuya_cloud.codes[device])
