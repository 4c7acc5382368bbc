"""Faults in flight: a cancel while the upload is at the gateway, an answer lost after
the code was created, and a reload or restart at every await point of add, retry,
delete and update.

Every scenario ends with the lock holding exactly what the ledger says (no code
lost, none twice) and each bus event announced once.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from dataclasses import dataclass
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ttlock_gateway.codes.ledger import DATA_LEDGERS
from custom_components.ttlock_gateway.const import (
    EVENT_CODE_ADDED,
    EVENT_CODE_DELETED,
    EVENT_CODE_FAILED,
    EVENT_CODE_UPDATED,
)
from tests.common import (
    seed_ttlock_home,
    setup_entry,
    ttlock_data,
    tuya_data,
)
from tests.fakes.inflight import Hold
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud
from tests.ledger_common import (
    ADD_PATH,
    CHANGE_PATH,
    DELETE_PATH,
    FRONT,
    LIST_PATH,
    RESUME,
    RETRY,
    TUYA_ADD,
    TUYA_DELETE,
    TUYA_TICKET,
    SaveGate,
    advance,
    call,
    ledger_of,
    listen,
    ms,
    records,
    reload,
    restart,
    set_gateway,
    start_call,
    ttlock_pins,
    tuya_lock_entity,
    until,
    window,
)

# ------------------------------------------------------------ cancel in flight


async def test_ttlock_cancel_while_the_upload_is_at_the_gateway(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """delete_code while add_code's upload is in flight: the delete wins. The
    upload lands, is deleted next, and only the deletion is announced."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    added = listen(hass, EVENT_CODE_ADDED)
    deleted = listen(hass, EVENT_CODE_DELETED)
    held = ttlock_cloud.hold(ADD_PATH)
    adding = start_call(
        hass, "add_code", FRONT, name="Guest", code="482913", **window()
    )
    await held.arrived.wait()
    deleting = start_call(hass, "delete_code", FRONT, name="Guest")
    await until(lambda: not records(hass, entry)[0].present)
    held.release()
    add_answer = await adding
    delete_answer = await deleting

    code_id = add_answer[FRONT]["code_id"]
    assert add_answer[FRONT]["status"] == "cancelled"
    assert delete_answer[FRONT]["deleted"] == [code_id]
    assert ttlock_cloud.passcodes[home.front] == {}
    assert added == []
    assert [e.data["code_id"] for e in deleted] == [code_id]
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"] == []


async def test_tuya_cancel_by_digits_after_the_answer_was_lost(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Tuya created the code but its answer was lost, and Tuya never lists
    digits: the ledger knows the digits and finds the code by name and window."""
    device = tuya_cloud.add_device(name="Flat door")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    deleted = listen(hass, EVENT_CODE_DELETED)
    tuya_cloud.lose_answer(TUYA_ADD)
    added = await call(
        hass, "add_code", entity_id, name="Guest", code="4829130", **window()
    )
    assert added[entity_id]["status"] == "queued"
    assert len(tuya_cloud.codes[device]) == 1  # it is on the lock

    answer = await call(hass, "delete_code", entity_id, code="4829130")
    assert answer[entity_id]["deleted"] == [added[entity_id]["code_id"]]
    assert tuya_cloud.codes[device] == {}
    assert len(deleted) == 1


async def test_ttlock_duplicate_answer_after_a_late_landing(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """An upload cut off by a reload lands after the resume's listing; the
    re-upload is answered "duplicate": the ledger lists again and takes the code
    that landed (one code, one event)."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    added = listen(hass, EVENT_CODE_ADDED)
    first = ttlock_cloud.hold(ADD_PATH)
    task = start_call(hass, "add_code", FRONT, name="Guest", code="246813", **window())
    await first.arrived.wait()
    await reload(hass, entry)
    assert (await task)[FRONT]["status"] == "queued"
    second = ttlock_cloud.hold(ADD_PATH)
    freezer.tick(RESUME)
    async_fire_time_changed(hass)
    await second.arrived.wait()  # the resume listed (nothing yet) and re-sends
    first.release()
    await until(lambda: ttlock_pins(ttlock_cloud, home.front) == ["246813"])
    second.release()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert ttlock_pins(ttlock_cloud, home.front) == ["246813"]
    assert len(added) == 1
    (record,) = records(hass, entry)
    assert record.cloud_id == str(next(iter(ttlock_cloud.passcodes[home.front])))


# ------------------------------------------------- reload / restart at each await


@dataclass
class Point:
    """Where the operation is interrupted."""

    label: str
    path: str | None = None  # a cloud request held in flight
    save: int | None = None  # the nth ledger write held

    def arm(
        self, hass: HomeAssistant, entry: MockConfigEntry, cloud: Any
    ) -> Hold | SaveGate:
        if self.path is not None:
            hold: Hold = cloud.hold(self.path)
            return hold
        assert self.save is not None
        return SaveGate(ledger_of(hass, entry), self.save)


async def interrupt(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    gate: Hold | SaveGate,
    task: asyncio.Task[Any] | None,
    how: str,
) -> None:
    """Reload or restart while ``gate`` holds the operation, then let it go."""
    await gate.arrived.wait()
    if how == "reload" and isinstance(gate, SaveGate):
        # The write in flight finishes while the reload is under way.
        old = entry.runtime_data.codes
        reloading = asyncio.ensure_future(reload(hass, entry))
        await until(lambda: old.stopped)
        gate.release()
        await reloading
    elif how == "reload":
        await reload(hass, entry)
        gate.release()
    else:
        if isinstance(gate, SaveGate) and task is not None:
            task.cancel()  # the old process dies, with its write in flight
        await restart(hass, entry)
        if isinstance(gate, Hold):
            gate.release()  # the cloud finishes what reached it
    if task is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await hass.async_block_till_done(wait_background_tasks=True)
    await advance(hass, freezer, RESUME)
    await advance(hass, freezer, RETRY)  # and a follow-up check


HOW = ["reload", "restart"]
TTLOCK_ADD_POINTS = [
    Point("intent written", save=1),
    Point("write-ahead before the upload", save=2),
    Point("upload at the gateway", path=ADD_PATH),
]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("point", TTLOCK_ADD_POINTS, ids=lambda p: p.label)
async def test_ttlock_add_interrupted(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    point: Point,
    how: str,
) -> None:
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    added = listen(hass, EVENT_CODE_ADDED)
    failed = listen(hass, EVENT_CODE_FAILED)
    gate = point.arm(hass, entry, ttlock_cloud)
    task = start_call(hass, "add_code", FRONT, name="Guest", code="482913", **window())
    await interrupt(hass, entry, freezer, gate, task, how)
    assert ttlock_pins(ttlock_cloud, home.front) == ["482913"]
    assert len(added) == 1
    assert failed == []
    live = [r for r in records(hass, entry) if not r.tombstone]
    assert len(live) == 1
    assert live[0].cloud_id == str(next(iter(ttlock_cloud.passcodes[home.front])))


async def test_ttlock_add_crash_after_the_answer(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Home Assistant dies after the cloud answered, before the outcome was
    written: the file says "may have landed", so the restart lists and finds
    the code instead of sending it again."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    key = f"ttlock_gateway.{entry.entry_id}.codes"
    written: list[dict[str, Any]] = []
    ledger = ledger_of(hass, entry)
    original = ledger._store.async_save

    async def spy(data: dict[str, Any]) -> None:
        await original(data)
        written.append(copy.deepcopy(hass_storage[key]))

    ledger._store.async_save = spy  # type: ignore[method-assign]
    await call(hass, "add_code", FRONT, name="Guest", code="135792", **window())
    crash_state = written[-1]  # the write-ahead: the upload may land
    assert crash_state["data"]["codes"][0]["uncertain"] is True
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.data[DATA_LEDGERS].pop(entry.entry_id)
    hass_storage[key] = crash_state  # what the dead process had written
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, RESUME)
    assert ttlock_cloud.calls[ADD_PATH] == 0
    assert ttlock_cloud.calls[LIST_PATH] == 1
    assert ttlock_pins(ttlock_cloud, home.front) == ["135792"]
    (record,) = records(hass, entry)
    assert record.cloud_id is not None
    assert not record.uncertain


TUYA_ADD_POINTS = [
    Point("intent written", save=1),
    Point("write-ahead before the upload", save=2),
    Point("ticket request", path=TUYA_TICKET),
    Point("temp-password upload", path=TUYA_ADD),
]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("point", TUYA_ADD_POINTS, ids=lambda p: p.label)
async def test_tuya_add_interrupted(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
    point: Point,
    how: str,
) -> None:
    device = tuya_cloud.add_device(name="Flat door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    added = listen(hass, EVENT_CODE_ADDED)
    gate = point.arm(hass, entry, tuya_cloud)
    task = start_call(
        hass, "add_code", entity_id, name="Guest", code="4829130", **window()
    )
    await interrupt(hass, entry, freezer, gate, task, how)
    assert [c["pin"] for c in tuya_cloud.codes[device].values()] == ["4829130"]
    assert len(added) == 1
    live = [r for r in records(hass, entry) if not r.tombstone]
    assert [r.cloud_id for r in live] == list(tuya_cloud.codes[device])


RETRY_POINTS = [
    Point("write-ahead before the retry", save=1),
    Point("retry upload at the gateway", path=ADD_PATH),
]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("point", RETRY_POINTS, ids=lambda p: p.label)
async def test_ttlock_retry_interrupted(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    point: Point,
    how: str,
) -> None:
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    added = listen(hass, EVENT_CODE_ADDED)
    set_gateway(ttlock_cloud, home, online=False)
    result = await call(
        hass, "add_code", FRONT, name="Guest", code="771155", **window()
    )
    assert result[FRONT]["status"] == "queued"
    set_gateway(ttlock_cloud, home, online=True)
    gate = point.arm(hass, entry, ttlock_cloud)
    freezer.tick(RETRY)
    async_fire_time_changed(hass)
    await interrupt(hass, entry, freezer, gate, None, how)
    assert ttlock_pins(ttlock_cloud, home.front) == ["771155"]
    assert len(added) == 1


@pytest.mark.parametrize("how", HOW)
async def test_ttlock_retry_listing_interrupted(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    how: str,
) -> None:
    """The retry of a lost answer starts with a listing: interrupted there."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    added = listen(hass, EVENT_CODE_ADDED)
    ttlock_cloud.lose_answer(ADD_PATH)
    await call(hass, "add_code", FRONT, name="Guest", code="771155", **window())
    gate = ttlock_cloud.hold(LIST_PATH)
    freezer.tick(RETRY)
    async_fire_time_changed(hass)
    await interrupt(hass, entry, freezer, gate, None, how)
    assert ttlock_pins(ttlock_cloud, home.front) == ["771155"]
    assert ttlock_cloud.calls[ADD_PATH] == 1
    assert len(added) == 1


DELETE_POINTS = [
    Point("intent written", save=1),
    Point("delete at the gateway", path=DELETE_PATH),
]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("point", DELETE_POINTS, ids=lambda p: p.label)
async def test_ttlock_delete_interrupted(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    point: Point,
    how: str,
) -> None:
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    deleted = listen(hass, EVENT_CODE_DELETED)
    result = await call(
        hass, "add_code", FRONT, name="Guest", code="482913", **window()
    )
    gate = point.arm(hass, entry, ttlock_cloud)
    task = start_call(hass, "delete_code", FRONT, code_id=result[FRONT]["code_id"])
    await interrupt(hass, entry, freezer, gate, task, how)
    assert ttlock_cloud.passcodes[home.front] == {}
    assert len(deleted) == 1
    assert all(r.tombstone for r in records(hass, entry))


UPDATE_POINTS = [
    Point("intent written", save=1),
    Point("change at the gateway", path=CHANGE_PATH),
]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("point", UPDATE_POINTS, ids=lambda p: p.label)
async def test_ttlock_update_interrupted(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    point: Point,
    how: str,
) -> None:
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    updated = listen(hass, EVENT_CODE_UPDATED)
    result = await call(
        hass, "add_code", FRONT, name="Guest", code="482913", **window()
    )
    later = window(1, 120)
    gate = point.arm(hass, entry, ttlock_cloud)
    task = start_call(
        hass, "update_code", FRONT, code_id=result[FRONT]["code_id"], end=later["end"]
    )
    await interrupt(hass, entry, freezer, gate, task, how)
    (stored,) = ttlock_cloud.passcodes[home.front].values()
    assert stored["endDate"] == ms(later["end"])
    assert stored["keyboardPwd"] == "482913"
    assert len(updated) == 1


TUYA_UPDATE_POINTS = [
    Point("intent written", save=1),
    Point("delete of the old code", path=TUYA_DELETE),
    Point("re-add of the new code", path=TUYA_ADD),
]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("point", TUYA_UPDATE_POINTS, ids=lambda p: p.label)
async def test_tuya_update_interrupted(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
    point: Point,
    how: str,
) -> None:
    device = tuya_cloud.add_device(name="Flat door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    result = await call(
        hass, "add_code", entity_id, name="Guest", code="4829130", **window()
    )
    later = window(1, 120)
    gate = point.arm(hass, entry, tuya_cloud)
    task = start_call(
        hass,
        "update_code",
        entity_id,
        code_id=result[entity_id]["code_id"],
        end=later["end"],
    )
    await interrupt(hass, entry, freezer, gate, task, how)
    codes = list(tuya_cloud.codes[device].values())
    assert [(c["pin"], c["invalid_time"]) for c in codes] == [
        ("4829130", ms(later["end"]) // 1000)
    ]
    live = [r for r in records(hass, entry) if not r.tombstone]
    assert [r.cloud_id for r in live] == list(tuya_cloud.codes[device])


async def test_ttlock_cancel_by_digits_after_the_answer_was_lost(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """TTLock created the code, the answer was lost: deleting by the digits finds
    it in the listing and deletes it (not "cancelled" while it stays on)."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    deleted = listen(hass, EVENT_CODE_DELETED)
    ttlock_cloud.lose_answer(ADD_PATH)
    added = await call(hass, "add_code", FRONT, name="Guest", code="482913", **window())
    assert added[FRONT]["status"] == "queued"
    assert ttlock_pins(ttlock_cloud, home.front) == ["482913"]
    answer = await call(hass, "delete_code", FRONT, code="482913")
    assert answer[FRONT]["deleted"] == [added[FRONT]["code_id"]]
    assert answer[FRONT]["cancelled"] == []
    assert ttlock_cloud.passcodes[home.front] == {}
    assert len(deleted) == 1


TUYA_DELETE_POINTS = [
    Point("intent written", save=1),
    Point("delete request", path=TUYA_DELETE),
]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("point", TUYA_DELETE_POINTS, ids=lambda p: p.label)
async def test_tuya_delete_interrupted(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
    point: Point,
    how: str,
) -> None:
    device = tuya_cloud.add_device(name="Flat door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    deleted = listen(hass, EVENT_CODE_DELETED)
    result = await call(hass, "add_code", entity_id, name="Guest", **window())
    gate = point.arm(hass, entry, tuya_cloud)
    task = start_call(
        hass, "delete_code", entity_id, code_id=result[entity_id]["code_id"]
    )
    await interrupt(hass, entry, freezer, gate, task, how)
    assert tuya_cloud.codes[device] == {}
    assert len(deleted) == 1
    assert all(r.tombstone for r in records(hass, entry))
