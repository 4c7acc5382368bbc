"""The daily clean-up through the ledger: expired codes go after the grace period."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from custom_components.ttlock_gateway.const import CONF_CLEANUP_ALL, EVENT_CODE_DELETED
from tests.common import seed_ttlock_home, setup_entry, ttlock_data, tuya_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud
from tests.ledger_common import (
    BACK,
    DELETE_PATH,
    FRONT,
    LIST_PATH,
    RETRY,
    advance,
    call,
    foreign_code,
    listen,
    tuya_lock_entity,
    window,
)


@pytest.mark.parametrize("cleanup_all", [False, True])
async def test_daily_cleanup(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    cleanup_all: bool,
) -> None:
    seeded = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud), {CONF_CLEANUP_ALL: cleanup_all})
    deleted = listen(hass, EVENT_CODE_DELETED)
    await call(hass, "add_code", FRONT, name="Ends soon", code="1111", **window(-1, 1))
    await call(
        hass, "add_code", FRONT, name="Ends later", code="2222", **window(-1, 30)
    )
    foreign_code(ttlock_cloud, seeded.front, 1, end_hours=1)
    foreign_code(ttlock_cloud, seeded.front, 2, end_hours=0, kind=2)  # permanent
    foreign_code(ttlock_cloud, seeded.back, 3, end_hours=1)
    ttlock_cloud.reset_calls()

    # First run after a day: "Ends soon" ended 23 h ago: inside the grace period.
    await advance(hass, freezer, timedelta(hours=24))
    assert ttlock_cloud.calls[DELETE_PATH] == 0
    assert len(ttlock_cloud.passcodes[seeded.front]) == 4

    ttlock_cloud.reset_calls()
    await advance(hass, freezer, timedelta(hours=24))
    front = {
        c["keyboardPwdName"] for c in ttlock_cloud.passcodes[seeded.front].values()
    }
    back = {c["keyboardPwdName"] for c in ttlock_cloud.passcodes[seeded.back].values()}
    if cleanup_all:
        assert front == {"Ends later", "app 2"}
        assert back == set()
        assert ttlock_cloud.calls[DELETE_PATH] == 3
    else:
        assert front == {"Ends later", "app 1", "app 2"}
        assert back == {"app 3"}
        assert ttlock_cloud.calls[DELETE_PATH] == 1
        # The ledger knows its code's id: no listing needed to delete it.
        assert ttlock_cloud.calls[LIST_PATH] == 0
    assert "Ends soon" in {e.data["name"] for e in deleted}
    assert all(e.data["reason"] == "expired" for e in deleted)
    listed = await call(hass, "list_codes", FRONT)
    assert "Ends soon" not in {c["name"] for c in listed[FRONT]["codes"]}

    # A day later "Ends later" (ended 42 h ago) goes too; the permanent code never.
    await advance(hass, freezer, timedelta(hours=24))
    front = {
        c["keyboardPwdName"] for c in ttlock_cloud.passcodes[seeded.front].values()
    }
    assert "Ends later" not in front
    assert "app 2" in front


async def test_tuya_cleanup_deletes_own_expired_code(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    device = tuya_cloud.add_device(name="Flat door")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    await call(hass, "add_code", entity_id, name="Short", **window(-1, 1))
    await call(hass, "add_code", entity_id, name="Long", **window(-1, 100))
    assert len(tuya_cloud.codes[device]) == 2
    await advance(hass, freezer, timedelta(hours=24))
    await advance(hass, freezer, timedelta(hours=24))
    assert [c["name"] for c in tuya_cloud.codes[device].values()] == ["Long"]


async def test_cleanup_of_own_code_deleted_elsewhere(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Not on the lock any more (deleted in the app): deleted by id once (TTLock
    answers 0 for unknown ids), then only remembered as deleted."""
    seeded = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    await call(hass, "add_code", FRONT, name="Gone", code="9753", **window(-1, 1))
    ttlock_cloud.passcodes[seeded.front].clear()
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, timedelta(hours=24))
    await advance(hass, freezer, timedelta(hours=24))
    assert ttlock_cloud.calls[DELETE_PATH] == 1
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"] == []
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, timedelta(hours=24))
    assert ttlock_cloud.calls[DELETE_PATH] == 0
    assert ttlock_cloud.calls[LIST_PATH] == 0


async def test_cleanup_goes_on_past_failures_and_catches_up(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """A deletion that fails is retried on the retry schedule, not the next day;
    until it succeeds the code is listed as pending delete."""
    seeded = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    await call(
        hass, "add_code", FRONT, name="Front guest", code="1357", **window(-1, 1)
    )
    await call(hass, "add_code", BACK, name="Back guest", code="2468", **window(-1, 1))
    await advance(hass, freezer, timedelta(hours=24))  # inside the grace period
    assert len(ttlock_cloud.passcodes[seeded.front]) == 1
    assert len(ttlock_cloud.passcodes[seeded.back]) == 1

    # Day 2: the gateway is offline for both deletions.
    ttlock_cloud.fail(DELETE_PATH, -3002, "The gateway is offline", times=2)
    await advance(hass, freezer, timedelta(hours=24))
    assert len(ttlock_cloud.passcodes[seeded.front]) == 1
    assert len(ttlock_cloud.passcodes[seeded.back]) == 1
    listed = await call(hass, "list_codes", FRONT)
    assert [(c["name"], c["status"]) for c in listed[FRONT]["codes"]] == [
        ("Front guest", "pending_delete")
    ]

    # 20 minutes later: deleted and remembered only as deleted.
    await advance(hass, freezer, RETRY)
    assert ttlock_cloud.passcodes[seeded.front] == {}
    assert ttlock_cloud.passcodes[seeded.back] == {}
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"] == []


async def test_cleanup_all_skips_a_lock_whose_listing_fails(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    seeded = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud), {CONF_CLEANUP_ALL: True})
    foreign_code(ttlock_cloud, seeded.front, 1, end_hours=1)
    foreign_code(ttlock_cloud, seeded.back, 3, end_hours=1)
    await advance(hass, freezer, timedelta(hours=24))
    # The front door (listed first) fails; the back door is cleaned.
    ttlock_cloud.fail(LIST_PATH, -3034, "system busy")
    await advance(hass, freezer, timedelta(hours=24))
    assert len(ttlock_cloud.passcodes[seeded.front]) == 1
    assert ttlock_cloud.passcodes[seeded.back] == {}
    await advance(hass, freezer, timedelta(hours=24))
    assert ttlock_cloud.passcodes[seeded.front] == {}
