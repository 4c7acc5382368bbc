"""Guest codes on Dding locks through the code ledger (issue 19, fake SaaS).

Dding accepts a password change at once and the gateway carries it out later
(seed 003, 6.3 ``operation`` / ``operation_stage``): a code is "added" only
once the lock confirmed it; until then it is pending and the ledger lists the
lock on a bounded schedule.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.ttlock_gateway.const import (
    DOMAIN,
    EVENT_CODE_ADDED,
    EVENT_CODE_DELETED,
    EVENT_CODE_FAILED,
    EVENT_CODE_UPDATED,
)
from custom_components.ttlock_gateway.providers.dding import PLACEHOLDER_PHONE
from tests.common import (
    DdingHome,
    dding_data,
    restart_entry,
    seed_dding_home,
    seed_ttlock_home,
    setup_entry,
    ttlock_data,
)
from tests.fakes.dding_cloud import (
    ADMIN_ID,
    STAGE_DONE,
    STAGE_IN_PROGRESS,
    FakeDdingCloud,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud

# Answers are keyed by the lock's activity event entity (no lock entity).
ROOM_A = "event.room_a_activity"


def window(hours_from: float = 1, hours_to: float = 25) -> dict[str, str]:
    now = dt_util.now()
    return {
        "start": (now + timedelta(hours=hours_from)).isoformat(),
        "end": (now + timedelta(hours=hours_to)).isoformat(),
    }


async def call(
    hass: HomeAssistant, service: str, target: dict[str, Any], **data: Any
) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, {**target, **data}, blocking=True, return_response=True
    )


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def device_of(hass: HomeAssistant, entry: MockConfigEntry, uuid: str) -> dict[str, str]:
    key = entry.runtime_data.coordinator.device_key(uuid)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, key), entry.entry_id
    )
    assert device is not None
    return {"device_id": device.id}


@pytest.fixture
async def setup(
    hass: HomeAssistant, dding_cloud: FakeDdingCloud
) -> tuple[DdingHome, MockConfigEntry]:
    home = seed_dding_home(dding_cloud)
    entry = await setup_entry(
        hass, dding_data(dding_cloud), unique_id=dding_cloud.CLIENT_ID
    )
    return home, entry


def ours(cloud: FakeDdingCloud, uuid: str) -> list[dict[str, Any]]:
    return [p for pid, p in cloud.passwords[uuid].items() if pid != ADMIN_ID]


async def test_add_code_is_pending_until_the_lock_confirms(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    setup: tuple[DdingHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """add_password with 6 digits, a window in seconds, the placeholder phone;
    "pending_delivery" until operation_stage is done, then code_added and "active"."""
    home, entry = setup
    added = async_capture_events(hass, EVENT_CODE_ADDED)
    win = window()
    result = await call(
        hass,
        "add_code",
        device_of(hass, entry, home.room_a),
        name="Guest",
        code="482913",
        **win,
    )
    assert set(result) == {ROOM_A}
    assert result[ROOM_A]["status"] == "pending_delivery"
    assert result[ROOM_A]["code"] == "482913"
    [sent] = [body for name, body in dding_cloud.requests if name == "add_password"]
    assert sent["password"] == "482913"
    assert sent["phonenumber"] == PLACEHOLDER_PHONE
    assert sent["permission_begin"] == int(
        dt_util.parse_datetime(win["start"]).timestamp()
    )
    [stored] = ours(dding_cloud, home.room_a)
    assert stored["operation_stage"] == STAGE_IN_PROGRESS
    assert added == []
    listed = await call(hass, "list_codes", {"entity_id": ROOM_A})
    [code] = [c for c in listed[ROOM_A]["codes"] if c["created_by_integration"]]
    assert code["status"] == "pending_delivery"

    # Not confirmed yet at the first look.
    await _advance(hass, freezer, timedelta(minutes=1, seconds=5))
    assert dding_cloud.calls["fetch_passwords"] >= 1
    assert added == []
    dding_cloud.complete(home.room_a)
    await _advance(hass, freezer, timedelta(minutes=2, seconds=5))
    assert [e.data["code_id"] for e in added] == [result[ROOM_A]["code_id"]]
    assert stored["operation_stage"] == STAGE_DONE
    listed = await call(hass, "list_codes", {"entity_id": ROOM_A})
    [code] = [c for c in listed[ROOM_A]["codes"] if c["created_by_integration"]]
    assert code["status"] == "pending"  # starts in an hour
    # No more listings once confirmed.
    dding_cloud.reset_calls()
    await _advance(hass, freezer, timedelta(minutes=40))
    assert dding_cloud.calls["fetch_passwords"] == 0


async def test_add_code_phone_and_lengths(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    setup: tuple[DdingHome, MockConfigEntry],
) -> None:
    """The phone field reaches add_password; bad input changes nothing."""
    _home, _entry = setup
    target = {"entity_id": "sensor.room_b_battery"}  # any entity of the lock
    for bad, key in (
        ({"code": "1234"}, "code_wrong_length"),
        ({"code": "12345a"}, "code_not_digits"),
        ({"code": "123456", "phone": "call me"}, "invalid_phone"),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, "add_code", target, name="G", **bad, **window())
        assert err.value.translation_key == key
    assert not [n for n, _ in dding_cloud.requests if n == "add_password"]
    result = await call(
        hass, "add_code", target, name="G", phone="+86 138-0000-1111", **window()
    )
    code = result["event.room_b_activity"]["code"]
    assert len(code) == 6
    assert code.isdigit()
    [sent] = [body for name, body in dding_cloud.requests if name == "add_password"]
    assert sent["phonenumber"] == "+8613800001111"
    # A gateway is not a lock.
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "add_code",
            {"entity_id": "binary_sensor.hall_gateway_connectivity"},
            name="G",
            **window(),
        )
    assert err.value.translation_key == "not_a_lock"


async def test_add_code_refused_by_the_lock_is_failed(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    setup: tuple[DdingHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """operation_stage 2 (failed): code_failed, a repair, status failed."""
    home, entry = setup
    failed = async_capture_events(hass, EVENT_CODE_FAILED)
    added = async_capture_events(hass, EVENT_CODE_ADDED)
    result = await call(
        hass, "add_code", device_of(hass, entry, home.room_a), name="Guest", **window()
    )
    assert result[ROOM_A]["status"] == "pending_delivery"
    dding_cloud.complete(home.room_a, success=False)
    await _advance(hass, freezer, timedelta(minutes=1, seconds=5))
    assert added == []
    assert len(failed) == 1
    listed = await call(hass, "list_codes", {"entity_id": ROOM_A})
    [code] = [c for c in listed[ROOM_A]["codes"] if c["created_by_integration"]]
    assert code["status"] == "failed"
    assert any(
        domain == DOMAIN and issue_id.startswith("code_failed")
        for domain, issue_id in ir.async_get(hass).issues
    )


async def test_unconfirmed_add_is_polled_a_bounded_number_of_times(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    setup: tuple[DdingHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A gateway that never reports back: 24 listings in about a day, then failed."""
    _home, _entry = setup
    failed = async_capture_events(hass, EVENT_CODE_FAILED)
    await call(hass, "add_code", {"entity_id": ROOM_A}, name="Guest", **window(1, 96))
    dding_cloud.reset_calls()
    for _ in range(30):
        await _advance(hass, freezer, timedelta(hours=1))
    # Also the coordinator never lists passwords: these are the ledger's looks.
    assert 20 <= dding_cloud.calls["fetch_passwords"] <= 24
    assert len(failed) == 1
    dding_cloud.reset_calls()
    for _ in range(5):
        await _advance(hass, freezer, timedelta(hours=1))
    assert dding_cloud.calls["fetch_passwords"] == 0


async def test_update_code_sends_digits_and_waits_for_the_lock(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    setup: tuple[DdingHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """update_password carries the ledger's digits; "updating" until confirmed."""
    home, _entry = setup
    updated = async_capture_events(hass, EVENT_CODE_UPDATED)
    result = await call(
        hass, "add_code", {"entity_id": ROOM_A}, name="Guest", code="135790", **window()
    )
    code_id = result[ROOM_A]["code_id"]
    dding_cloud.complete(home.room_a)
    await _advance(hass, freezer, timedelta(minutes=1, seconds=5))
    later = window(2, 48)
    answer = await call(
        hass, "update_code", {"entity_id": ROOM_A}, code_id=code_id, **later
    )
    assert answer[ROOM_A]["status"] == "updating"
    [sent] = [body for name, body in dding_cloud.requests if name == "update_password"]
    assert sent["password"] == "135790"
    assert sent["permission_end"] == int(
        dt_util.parse_datetime(later["end"]).timestamp()
    )
    assert updated == []
    dding_cloud.complete(home.room_a)
    await _advance(hass, freezer, timedelta(minutes=1, seconds=5))
    assert [e.data["code_id"] for e in updated] == [code_id]
    [stored] = ours(dding_cloud, home.room_a)
    assert stored["end"] == sent["permission_end"]


async def test_delete_code_is_pending_until_the_lock_confirms(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    setup: tuple[DdingHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """delete_password accepted: pending_delete; gone from the listing: deleted."""
    home, _entry = setup
    deleted = async_capture_events(hass, EVENT_CODE_DELETED)
    result = await call(
        hass, "add_code", {"entity_id": ROOM_A}, name="Guest", **window()
    )
    code_id = result[ROOM_A]["code_id"]
    dding_cloud.complete(home.room_a)
    await _advance(hass, freezer, timedelta(minutes=1, seconds=5))
    answer = await call(hass, "delete_code", {"entity_id": ROOM_A}, code_id=code_id)
    assert answer[ROOM_A]["pending_delete"] == [code_id]
    assert answer[ROOM_A]["deleted"] == []
    assert deleted == []
    dding_cloud.complete(home.room_a)
    await _advance(hass, freezer, timedelta(minutes=1, seconds=5))
    assert [e.data["code_id"] for e in deleted] == [code_id]
    assert ours(dding_cloud, home.room_a) == []
    answer = await call(hass, "delete_code", {"entity_id": ROOM_A}, code_id=code_id)
    assert answer[ROOM_A]["already_deleted"] == [code_id]


async def test_delete_refused_by_the_lock_is_sent_again(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    setup: tuple[DdingHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A delete the gateway failed (stage 2) is retried: the guest must go."""
    home, _entry = setup
    result = await call(
        hass, "add_code", {"entity_id": ROOM_A}, name="Guest", **window()
    )
    code_id = result[ROOM_A]["code_id"]
    dding_cloud.complete(home.room_a)
    await _advance(hass, freezer, timedelta(minutes=1, seconds=5))
    await call(hass, "delete_code", {"entity_id": ROOM_A}, code_id=code_id)
    dding_cloud.complete(home.room_a, success=False)
    await _advance(hass, freezer, timedelta(minutes=1, seconds=5))
    assert len(ours(dding_cloud, home.room_a)) == 1
    await _advance(hass, freezer, timedelta(minutes=21))
    deletes = [b for n, b in dding_cloud.requests if n == "delete_password"]
    assert len(deletes) == 2
    dding_cloud.complete(home.room_a)
    await _advance(hass, freezer, timedelta(minutes=1, seconds=5))
    assert ours(dding_cloud, home.room_a) == []


async def test_the_administrator_password_is_never_deleted(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    setup: tuple[DdingHome, MockConfigEntry],
) -> None:
    """Id 999 by its cloud id: a translated error, no request; include_foreign
    skips it."""
    home, _entry = setup
    dding_cloud.add_local_password(home.room_a, "246810")
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "delete_code", {"entity_id": ROOM_A}, code_id=str(ADMIN_ID))
    assert err.value.translation_key == "code_protected"
    assert "15013" in str(err.value)
    # By name, foreign codes included: the administrator password is skipped.
    with pytest.raises(ServiceValidationError):
        await call(
            hass,
            "delete_code",
            {"entity_id": ROOM_A},
            include_foreign=True,
            name=dding_cloud.passwords[home.room_a][ADMIN_ID]["name"],
        )
    assert not [
        b
        for n, b in dding_cloud.requests
        if n == "delete_password" and b.get("password_id") == ADMIN_ID
    ]
    assert ADMIN_ID in dding_cloud.passwords[home.room_a]


async def test_reload_while_the_token_for_an_add_is_in_flight(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    setup: tuple[DdingHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """The token expired: add_password answers 102 and the new token is held
    when the entry reloads. Nothing landed; the next set-up looks, then adds the
    code once (one password on the lock in the end)."""
    home, entry = setup
    added = async_capture_events(hass, EVENT_CODE_ADDED)
    await call(hass, "list_codes", {"entity_id": ROOM_A})
    dding_cloud.expire_tokens()
    dding_cloud.gate = asyncio.Event()
    dding_cloud.gate_only = {"access_token"}
    task = hass.async_create_task(
        call(hass, "add_code", {"entity_id": ROOM_A}, name="Guest", **window())
    )
    await dding_cloud.arrived("add_password")
    await dding_cloud.arrived("access_token")
    dding_cloud.gate_only = set()  # the reload's own sign-in goes through
    await hass.config_entries.async_reload(entry.entry_id)
    answer = await task
    assert answer[ROOM_A]["status"] == "queued"
    dding_cloud.gate.set()
    dding_cloud.gate = None
    assert ours(dding_cloud, home.room_a) == []
    for _ in range(4):
        await _advance(hass, freezer, timedelta(minutes=21))
    assert len(ours(dding_cloud, home.room_a)) == 1
    dding_cloud.complete(home.room_a)
    for _ in range(3):
        await _advance(hass, freezer, timedelta(minutes=21))
    assert len(ours(dding_cloud, home.room_a)) == 1
    assert len(added) == 1


async def test_reload_while_add_password_is_in_flight(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    setup: tuple[DdingHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A reload cuts off add_password; it lands anyway. The next set-up lists
    the lock first, takes the landed code (name and window) and sends no second
    add; the lock's confirmation is still followed."""
    home, entry = setup
    added = async_capture_events(hass, EVENT_CODE_ADDED)
    # A fresh listing: the add that follows sends add_password first.
    await call(hass, "list_codes", {"entity_id": ROOM_A})
    dding_cloud.gate = asyncio.Event()
    dding_cloud.gate_only = {"add_password"}
    task = hass.async_create_task(
        call(hass, "add_code", {"entity_id": ROOM_A}, name="Guest", **window())
    )
    await dding_cloud.arrived("add_password")
    await hass.config_entries.async_reload(entry.entry_id)
    answer = await task
    assert answer[ROOM_A]["status"] == "queued"
    dding_cloud.gate.set()
    dding_cloud.gate = None
    await dding_cloud.answered("add_password")
    await hass.async_block_till_done()
    assert len(ours(dding_cloud, home.room_a)) == 1
    dding_cloud.complete(home.room_a)
    await _advance(hass, freezer, timedelta(seconds=31))
    await _advance(hass, freezer, timedelta(minutes=1, seconds=5))
    assert len([n for n, _ in dding_cloud.requests if n == "add_password"]) == 1
    assert len(ours(dding_cloud, home.room_a)) == 1
    assert len(added) == 1
    listed = await call(hass, "list_codes", {"entity_id": ROOM_A})
    [code] = [c for c in listed[ROOM_A]["codes"] if c["created_by_integration"]]
    assert code["status"] == "pending"  # on the lock; starts in an hour


async def test_restart_while_the_lock_has_not_confirmed(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    setup: tuple[DdingHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """The wait for the lock's confirmation survives a restart (stored)."""
    home, entry = setup
    added = async_capture_events(hass, EVENT_CODE_ADDED)
    await call(hass, "add_code", {"entity_id": ROOM_A}, name="Guest", **window())
    await restart_entry(hass, entry)
    listed = await call(hass, "list_codes", {"entity_id": ROOM_A})
    [code] = [c for c in listed[ROOM_A]["codes"] if c["created_by_integration"]]
    assert code["status"] == "pending_delivery"
    dding_cloud.complete(home.room_a)
    await _advance(hass, freezer, timedelta(seconds=31))
    await _advance(hass, freezer, timedelta(minutes=1, seconds=5))
    assert len(added) == 1
    assert len([n for n, _ in dding_cloud.requests if n == "add_password"]) == 1


async def test_freeze_and_unfreeze_a_code(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    setup: tuple[DdingHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """frozen_password / unfrozen_password; list_codes follows the lock."""
    home, _entry = setup
    result = await call(
        hass, "add_code", {"entity_id": ROOM_A}, name="Guest", **window(-1, 24)
    )
    code_id = result[ROOM_A]["code_id"]
    dding_cloud.complete(home.room_a)
    await _advance(hass, freezer, timedelta(minutes=1, seconds=5))
    answer = await call(hass, "freeze_code", {"entity_id": ROOM_A}, code_id=code_id)
    assert answer[ROOM_A]["status"] == "freezing"
    assert answer[ROOM_A]["cloud_id"] == result[ROOM_A]["cloud_id"]

    def status() -> str:
        return next(
            c["status"] for c in listed[ROOM_A]["codes"] if c["code_id"] == code_id
        )

    listed = await call(hass, "list_codes", {"entity_id": ROOM_A})
    assert status() == "active"  # the lock has not carried it out yet
    dding_cloud.complete(home.room_a)
    listed = await call(hass, "list_codes", {"entity_id": ROOM_A})
    assert status() == "inactive"
    [stored] = ours(dding_cloud, home.room_a)
    assert stored["frozen"] is True
    answer = await call(hass, "unfreeze_code", {"entity_id": ROOM_A}, code_id=code_id)
    assert answer[ROOM_A]["status"] == "unfreezing"
    dding_cloud.complete(home.room_a)
    listed = await call(hass, "list_codes", {"entity_id": ROOM_A})
    assert status() == "active"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "freeze_code", {"entity_id": ROOM_A}, code_id=str(ADMIN_ID))
    assert err.value.translation_key == "code_protected"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "freeze_code", {"entity_id": ROOM_A}, code_id="nope")
    assert err.value.translation_key == "code_id_not_found"


async def test_dynamic_code_only_in_the_answer(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    setup: tuple[DdingHome, MockConfigEntry],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """get_dynamic_password_plaintext: digits and expiry to the caller only."""
    home, entry = setup
    caplog.set_level(logging.DEBUG)
    answer = await call(hass, "get_dynamic_code", device_of(hass, entry, home.outer))
    [(uuid, code, expires)] = dding_cloud.dynamic_codes
    assert uuid == home.outer
    entrance = answer["event.entrance_activity"]
    assert entrance["code"] == code
    assert dt_util.parse_datetime(entrance["expires"]).timestamp() == expires
    assert code not in caplog.text


async def test_freeze_needs_a_cloud_that_can(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """A TTLock lock has no freeze or dynamic codes: a translated refusal."""
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "freeze_code", {"entity_id": "lock.front_door"}, code_id="1")
    assert err.value.translation_key == "freeze_not_supported"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "get_dynamic_code", {"entity_id": "lock.front_door"})
    assert err.value.translation_key == "dynamic_not_supported"


async def test_update_while_the_add_is_unconfirmed_is_queued_then_sent(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    setup: tuple[DdingHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """An update asked before the lock confirmed the add is answered queued at
    once, and sent once the add is confirmed."""
    home, _entry = setup
    result = await call(
        hass, "add_code", {"entity_id": ROOM_A}, name="Guest", **window()
    )
    code_id = result[ROOM_A]["code_id"]
    answer = await call(
        hass, "update_code", {"entity_id": ROOM_A}, code_id=code_id, name="Guest B"
    )
    assert answer[ROOM_A]["status"] == "queued"
    assert not [n for n, _ in dding_cloud.requests if n == "update_password"]
    dding_cloud.complete(home.room_a)
    # The next look (2 minutes after the one the update made) sees it done.
    await _advance(hass, freezer, timedelta(minutes=2, seconds=5))
    [sent] = [b for n, b in dding_cloud.requests if n == "update_password"]
    assert sent["name"] == "Guest B"
