"""update_code: a changed booking without delete-then-add (TTLock), or with it
under the same id (Tuya)."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest

from custom_components.ttlock_gateway.const import EVENT_CODE_ADDED, EVENT_CODE_UPDATED
from tests.common import seed_ttlock_home, setup_entry, ttlock_data, tuya_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud
from tests.ledger_common import (
    ADD_PATH,
    BACK,
    CHANGE_PATH,
    DELETE_PATH,
    FRONT,
    RETRY,
    TUYA_ADD,
    TUYA_DELETE,
    advance,
    call,
    code_issues,
    listen,
    ms,
    records,
    set_gateway,
    start_call,
    tuya_lock_entity,
    window,
)


async def test_ttlock_update_changes_in_place(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """/v3/keyboardPwd/change with both dates and changeType 2: the same code
    (id, digits) gets the new name and window; no delete, no add."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    updated = listen(hass, EVENT_CODE_UPDATED)
    first = window()
    added = await call(hass, "add_code", FRONT, name="Smith", code="482913", **first)
    code_id, cloud_id = added[FRONT]["code_id"], added[FRONT]["cloud_id"]
    ttlock_cloud.reset_calls()
    longer = window(1, 120)
    answer = await call(
        hass,
        "update_code",
        FRONT,
        code_id=code_id,
        name="Smith family",
        end=longer["end"],
    )
    assert answer[FRONT] == {
        "code_id": code_id,
        "cloud_id": cloud_id,
        "status": "updated",
    }
    assert ttlock_cloud.calls[CHANGE_PATH] == 1
    assert ttlock_cloud.calls[DELETE_PATH] == 0
    assert ttlock_cloud.calls[ADD_PATH] == 0
    (stored,) = ttlock_cloud.passcodes[home.front].values()
    assert str(stored["keyboardPwdId"]) == cloud_id
    assert stored["keyboardPwd"] == "482913"
    assert stored["keyboardPwdName"] == "Smith family"
    assert stored["endDate"] == ms(longer["end"])
    # The start was not given: unchanged, and still sent (the cloud needs both).
    assert stored["startDate"] == ms(first["start"])
    assert [e.data["name"] for e in updated] == ["Smith family"]
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"][0]["name"] == "Smith family"


async def test_ttlock_update_while_the_gateway_is_offline(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    added = await call(hass, "add_code", FRONT, name="Smith", code="482913", **window())
    code_id = added[FRONT]["code_id"]
    set_gateway(ttlock_cloud, home, online=False)
    later = window(1, 200)
    answer = await call(hass, "update_code", FRONT, code_id=code_id, end=later["end"])
    assert answer[FRONT]["status"] == "queued"
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"][0]["status"] == "updating"
    set_gateway(ttlock_cloud, home, online=True)
    await advance(hass, freezer, RETRY)
    (stored,) = ttlock_cloud.passcodes[home.front].values()
    assert stored["endDate"] == ms(later["end"])
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"][0]["status"] in ("pending", "active")


async def test_ttlock_update_gives_up_with_a_repair(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    added = await call(hass, "add_code", FRONT, name="Smith", code="482913", **window())
    set_gateway(ttlock_cloud, home, online=False)
    await call(
        hass, "update_code", FRONT, code_id=added[FRONT]["code_id"], **window(2, 80)
    )
    for _ in range(4):
        await advance(hass, freezer, RETRY)
    assert ttlock_cloud.calls[CHANGE_PATH] == 5
    (issue,) = code_issues(hass, "code_update_failed")
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["name"] == "Smith"
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"][0]["status"] == "failed"
    # Trying again later clears it.
    set_gateway(ttlock_cloud, home, online=True)
    answer = await call(
        hass, "update_code", FRONT, code_id=added[FRONT]["code_id"], **window(2, 80)
    )
    assert answer[FRONT]["status"] == "updated"
    assert not code_issues(hass, "code_update_failed")


async def test_update_of_a_code_still_in_flight(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """The booking changes while the first upload is at the gateway: the upload
    lands with the old window, then the change follows."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    added_events = listen(hass, EVENT_CODE_ADDED)
    held = ttlock_cloud.hold(ADD_PATH)
    adding = start_call(
        hass, "add_code", FRONT, name="Smith", code="482913", **window()
    )
    await held.arrived.wait()
    entry = hass.config_entries.async_entries("ttlock_gateway")[0]
    (record,) = records(hass, entry)
    later = window(1, 150)
    updating = start_call(
        hass, "update_code", FRONT, code_id=record.id, end=later["end"]
    )
    held.release()
    assert (await adding)[FRONT]["status"] == "added"
    assert (await updating)[FRONT]["status"] == "updated"
    (stored,) = ttlock_cloud.passcodes[home.front].values()
    assert stored["endDate"] == ms(later["end"])
    assert len(added_events) == 1


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({}, "update_needs_change"),
        ({"name": "\ud83d"}, "invalid_name_characters"),
        ({"end": "2001-01-01T00:00:00+00:00"}, "end_before_start"),
        ({"code_id": "nope", "name": "X"}, "code_id_not_found"),
    ],
)
async def test_update_validation_sends_nothing(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, data: dict[str, str], key: str
) -> None:
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    added = await call(hass, "add_code", FRONT, name="Smith", code="482913", **window())
    ttlock_cloud.reset_calls()
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "update_code",
            FRONT,
            **{"code_id": added[FRONT]["code_id"], **data},
        )
    assert err.value.translation_key == key
    assert ttlock_cloud.total_calls == 0


async def test_update_of_a_deleted_code_is_refused(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    added = await call(
        hass, "add_code", [FRONT, BACK], name="S", code="482913", **window()
    )
    await call(hass, "delete_code", BACK, code_id=added[BACK]["code_id"])
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "update_code",
            [FRONT, BACK],
            code_id=added[FRONT]["code_id"],
            name="T",
        )
    assert err.value.translation_key == "code_deleted"
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["name"] == "Back door"


async def test_tuya_update_is_delete_and_re_add_under_the_same_id(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    device = tuya_cloud.add_device(name="Flat door")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    updated = listen(hass, EVENT_CODE_UPDATED)
    added_events = listen(hass, EVENT_CODE_ADDED)
    added = await call(hass, "add_code", entity_id, name="Smith", **window())
    code_id, old_cloud_id = added[entity_id]["code_id"], added[entity_id]["cloud_id"]
    tuya_cloud.reset_calls()
    later = window(1, 150)
    answer = await call(
        hass, "update_code", entity_id, code_id=code_id, name="Smiths", end=later["end"]
    )
    assert answer[entity_id]["code_id"] == code_id
    assert answer[entity_id]["status"] == "updated"
    assert answer[entity_id]["cloud_id"] != old_cloud_id
    assert tuya_cloud.calls[TUYA_DELETE] == 1
    assert tuya_cloud.calls[TUYA_ADD] == 1
    (stored,) = tuya_cloud.codes[device].values()
    assert stored["pin"] == added[entity_id]["code"]
    assert stored["name"] == "Smiths"
    assert stored["invalid_time"] == ms(later["end"]) // 1000
    assert [e.data["code_id"] for e in updated] == [code_id]
    assert len(added_events) == 1  # the add of the first upload only
    listed = await call(hass, "list_codes", entity_id)
    assert [(c["code_id"], c["name"]) for c in listed[entity_id]["codes"]] == [
        (code_id, "Smiths")
    ]
