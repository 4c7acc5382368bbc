"""Less travelled reconciler paths: a failing retry listing, a generated code that
clashes, a second copy of an upload, a cancelled upload that lands late, a change
of a code deleted in the app, a delete the cloud refuses."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest

from custom_components.ttlock_gateway.const import (
    EVENT_CODE_ADDED,
    EVENT_CODE_DELETED,
    EVENT_CODE_FAILED,
    EVENT_CODE_UPDATED,
)
from tests.common import seed_ttlock_home, setup_entry, ttlock_data, tuya_data
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
    advance,
    at,
    call,
    code_issues,
    listen,
    ms,
    records,
    reload,
    start_call,
    ttlock_pins,
    tuya_lock_entity,
    until,
    window,
)


async def test_failing_retry_listing_counts_as_an_attempt(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.lose_answer(ADD_PATH)
    await call(hass, "add_code", FRONT, name="Guest", code="482913", **window())
    ttlock_cloud.fail(LIST_PATH, -3034, "system busy")
    await advance(hass, freezer, RETRY)
    (record,) = records(hass, entry)
    assert record.attempts == 2
    assert record.reason == "system busy"
    assert ttlock_cloud.calls[ADD_PATH] == 1
    await advance(hass, freezer, RETRY)
    assert record.cloud_id == str(next(iter(ttlock_cloud.passcodes[home.front])))
    assert ttlock_cloud.calls[ADD_PATH] == 1


async def test_generated_code_that_clashes_gets_new_digits(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The app added "111222" after the ledger's last listing; the generated code
    happens to be the same: the cloud says duplicate, new digits are drawn."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    await call(hass, "list_codes", FRONT)  # the ledger's listing, still fresh
    ttlock_cloud.passcodes[home.front][900] = {
        "keyboardPwdId": 900,
        "keyboardPwd": "111222",
        "keyboardPwdName": "app",
        "keyboardPwdType": 2,
        "startDate": 0,
        "endDate": 0,
    }
    draws = iter("111222" + "345678")
    monkeypatch.setattr(
        "custom_components.ttlock_gateway.codes.generate.secrets.choice",
        lambda _digits: next(draws),
    )
    result = await call(hass, "add_code", FRONT, name="Guest", **window())
    assert result[FRONT]["status"] == "added"
    assert result[FRONT]["code"] == "345678"
    assert ttlock_pins(ttlock_cloud, home.front) == ["111222", "345678"]
    assert ttlock_cloud.calls[ADD_PATH] == 2


async def test_a_second_copy_of_an_upload_is_deleted(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Tuya accepts the same code twice (say, a request replayed by a proxy):
    when the ledger finds two uploads of its code, it keeps one."""
    device = tuya_cloud.add_device(name="Flat door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    deleted = listen(hass, EVENT_CODE_DELETED)
    tuya_cloud.lose_answer(TUYA_ADD)
    win = window()
    result = await call(hass, "add_code", entity_id, name="Guest", **win)
    assert at(win["end"]) > at(win["start"])
    (first,) = tuya_cloud.codes[device].values()
    tuya_cloud.codes[device]["7777"] = {**first, "id": "7777"}  # the replay
    await advance(hass, freezer, RETRY)
    assert len(tuya_cloud.codes[device]) == 1
    live = [r for r in records(hass, entry) if not r.tombstone]
    assert [r.id for r in live] == [result[entity_id]["code_id"]]
    assert [r.cloud_id for r in live] == list(tuya_cloud.codes[device])
    assert len(deleted) == 1  # the copy


async def test_cancelled_upload_that_lands_late_is_deleted_then(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Reload while the upload is at the gateway, then the guest cancels: the
    lock shows nothing yet ("cancelled"), the upload lands afterwards, and the
    look one interval later deletes it."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    deleted = listen(hass, EVENT_CODE_DELETED)
    held = ttlock_cloud.hold(ADD_PATH)
    adding = start_call(
        hass, "add_code", FRONT, name="Guest", code="482913", **window()
    )
    await held.arrived.wait()
    await reload(hass, entry)
    assert (await adding)[FRONT]["status"] == "queued"
    answer = await call(hass, "delete_code", FRONT, name="Guest")
    assert answer[FRONT]["cancelled"] == [records(hass, entry)[0].id]
    # Until the look, the digits are not free (the late upload would be taken
    # for the new code).
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_code", FRONT, name="Other", code="482913", **window())
    assert err.value.translation_key == "duplicate_code"
    held.release()
    await until(lambda: ttlock_pins(ttlock_cloud, home.front) == ["482913"])
    await advance(hass, freezer, RESUME)
    await advance(hass, freezer, RETRY)
    assert ttlock_cloud.passcodes[home.front] == {}
    assert len(deleted) == 1


async def test_change_of_a_code_deleted_in_the_app_adds_it_anew(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """TTLock answers -1007 "No data": the lock no longer has the code; the
    changed booking is added again under the same ledger id."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    updated = listen(hass, EVENT_CODE_UPDATED)
    added = await call(hass, "add_code", FRONT, name="Guest", code="482913", **window())
    ttlock_cloud.passcodes[home.front].clear()
    later = window(1, 150)
    answer = await call(
        hass, "update_code", FRONT, code_id=added[FRONT]["code_id"], end=later["end"]
    )
    assert answer[FRONT]["status"] == "updated"
    assert ttlock_cloud.calls[CHANGE_PATH] == 1
    (stored,) = ttlock_cloud.passcodes[home.front].values()
    assert (stored["keyboardPwd"], stored["endDate"]) == ("482913", ms(later["end"]))
    assert len(updated) == 1


async def test_delete_the_cloud_refuses_is_reported(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """A definite refusal while the code is still listed: failed, with a repair
    saying the code still opens the door."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    failed = listen(hass, EVENT_CODE_FAILED)
    added = await call(hass, "add_code", FRONT, name="Guest", code="482913", **window())
    ttlock_cloud.fail(DELETE_PATH, -2018, "permission denied")
    answer = await call(hass, "delete_code", FRONT, code_id=added[FRONT]["code_id"])
    assert answer[FRONT]["failed"] == [added[FRONT]["code_id"]]
    assert ttlock_pins(ttlock_cloud, home.front) == ["482913"]
    assert [e.data["operation"] for e in failed] == ["delete"]
    assert len(code_issues(hass, "code_not_deleted")) == 1
    # Asked again (permissions fixed): deleted.
    answer = await call(hass, "delete_code", FRONT, code_id=added[FRONT]["code_id"])
    assert answer[FRONT]["deleted"] == [added[FRONT]["code_id"]]
    assert not code_issues(hass, "code_not_deleted")


async def test_code_added_event_waits_for_the_lock(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """code_added fires when the code is on the lock, not when it is queued."""
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    added = listen(hass, EVENT_CODE_ADDED)
    ttlock_cloud.fail(ADD_PATH, -3036, "The lock is offline")
    result = await call(
        hass, "add_code", FRONT, name="Guest", code="482913", **window()
    )
    assert result[FRONT]["status"] == "queued"
    assert added == []
    await advance(hass, freezer, timedelta(minutes=21))
    assert [e.data["code_id"] for e in added] == [result[FRONT]["code_id"]]
