"""delete_code tells the truth: confirmed deletions only, per lock, never foreign
codes unless asked."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ttlock_gateway.const import DOMAIN, EVENT_CODE_DELETED
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
    BACK,
    DELETE_PATH,
    FRONT,
    LIST_PATH,
    RETRY,
    advance,
    call,
    code_issues,
    foreign_code,
    listen,
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


async def test_delete_of_an_id_on_another_lock(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
) -> None:
    """The id of a Back door code, deleted on the Front door: a translated error
    naming the Front door; nothing is sent, the Back door keeps its code."""
    seeded, _ = home
    added = await call(hass, "add_code", BACK, name="Guest", code="482913", **window())
    for code_id in (added[BACK]["code_id"], added[BACK]["cloud_id"]):
        ttlock_cloud.reset_calls()
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, "delete_code", FRONT, code_id=code_id)
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == "code_id_not_found"
        assert err.value.translation_placeholders == {
            "code_id": code_id,
            "name": "Front door",
        }
        assert ttlock_cloud.calls[DELETE_PATH] == 0
    assert ttlock_pins(ttlock_cloud, seeded.back) == ["482913"]
    # With both locks targeted, nothing is deleted on either: the call is refused.
    with pytest.raises(ServiceValidationError):
        await call(hass, "delete_code", [FRONT, BACK], code_id=added[BACK]["code_id"])
    assert ttlock_pins(ttlock_cloud, seeded.back) == ["482913"]


async def test_delete_of_an_already_deleted_id(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
) -> None:
    """A second delete of the same id is not "deleted" again: the answer says it
    was already deleted, and nothing is sent."""
    added = await call(hass, "add_code", FRONT, name="Guest", code="482913", **window())
    code_id = added[FRONT]["code_id"]
    first = await call(hass, "delete_code", FRONT, code_id=code_id)
    assert first[FRONT]["deleted"] == [code_id]
    ttlock_cloud.reset_calls()
    second = await call(hass, "delete_code", FRONT, code_id=code_id)
    assert second[FRONT]["deleted"] == []
    assert second[FRONT]["already_deleted"] == [code_id]
    assert ttlock_cloud.total_calls == 0
    # By name it is simply not there any more.
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "delete_code", FRONT, name="Guest")
    assert err.value.translation_key == "code_not_found"


async def test_a_foreign_permanent_code_survives_delete_by_name(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
) -> None:
    """The owner's permanent "Guest" code from the app is not ours: a delete by
    that name touches only ours, or, if only foreign codes match, is refused
    with a translated error that says so. include_foreign deletes it."""
    seeded, _ = home
    foreign_code(ttlock_cloud, seeded.front, 1, end_hours=0, kind=2, name="Guest")
    added = await call(hass, "add_code", FRONT, name="Guest", code="482913", **window())
    answer = await call(hass, "delete_code", FRONT, name="Guest")
    assert answer[FRONT]["deleted"] == [added[FRONT]["code_id"]]
    assert ttlock_pins(ttlock_cloud, seeded.front) == ["5001"]

    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "delete_code", FRONT, name="Guest")
    assert err.value.translation_key == "only_foreign_codes_match"
    assert err.value.translation_placeholders == {"name": "Front door", "count": "1"}
    with pytest.raises(ServiceValidationError):
        await call(hass, "delete_code", FRONT, code="5001")
    assert ttlock_pins(ttlock_cloud, seeded.front) == ["5001"]

    answer = await call(hass, "delete_code", FRONT, name="Guest", include_foreign=True)
    assert answer[FRONT]["deleted"] == ["1"]
    assert ttlock_cloud.passcodes[seeded.front] == {}


async def test_delete_a_foreign_code_by_its_cloud_id(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
) -> None:
    """An explicit id of a code the lock lists is a clear request: deleted."""
    seeded, _ = home
    foreign_code(ttlock_cloud, seeded.front, 7, end_hours=5)
    answer = await call(hass, "delete_code", FRONT, code_id="7")
    assert answer[FRONT]["deleted"] == ["7"]
    assert ttlock_cloud.passcodes[seeded.front] == {}


async def test_pending_delete_while_the_gateway_is_offline(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """The checkout automation is told "pending_delete", not "deleted"; the
    ledger keeps trying, past the add schedule, with a repair notice, until the
    code is gone."""
    seeded, _ = home
    deleted = listen(hass, EVENT_CODE_DELETED)
    added = await call(hass, "add_code", FRONT, name="Guest", code="482913", **window())
    code_id = added[FRONT]["code_id"]
    set_gateway(ttlock_cloud, seeded, online=False)
    answer = await call(hass, "delete_code", FRONT, name="Guest")
    assert answer[FRONT]["deleted"] == []
    assert answer[FRONT]["pending_delete"] == [code_id]
    listed = await call(hass, "list_codes", FRONT)
    assert [(c["code_id"], c["status"]) for c in listed[FRONT]["codes"]] == [
        (code_id, "pending_delete")
    ]
    for _ in range(4):
        await advance(hass, freezer, RETRY)
    assert ttlock_cloud.calls[DELETE_PATH] == 5
    issues = code_issues(hass, "code_not_deleted")
    assert len(issues) == 1
    assert issues[0].translation_placeholders is not None
    assert issues[0].translation_placeholders["name"] == "Guest"
    # Slower now (hourly), but never given up.
    await advance(hass, freezer, RETRY)
    assert ttlock_cloud.calls[DELETE_PATH] == 5
    await advance(hass, freezer, timedelta(minutes=41))
    assert ttlock_cloud.calls[DELETE_PATH] == 6
    assert deleted == []
    set_gateway(ttlock_cloud, seeded, online=True)
    await advance(hass, freezer, timedelta(hours=1, seconds=1))
    assert ttlock_cloud.passcodes[seeded.front] == {}
    assert [e.data["code_id"] for e in deleted] == [code_id]
    assert not code_issues(hass, "code_not_deleted")
    # And a repeated delete says so.
    again = await call(hass, "delete_code", FRONT, code_id=code_id)
    assert again[FRONT]["already_deleted"] == [code_id]


async def test_tuya_delete_of_a_code_already_gone(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Deleted in the app meanwhile: Tuya answers 1109 for the unknown id; the
    listing confirms it is gone, so the answer is "deleted"."""
    device = tuya_cloud.add_device(name="Flat door")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    added = await call(hass, "add_code", entity_id, name="Guest", **window())
    tuya_cloud.codes[device].clear()
    tuya_cloud.reset_calls()
    answer = await call(hass, "delete_code", entity_id, name="Guest")
    assert answer[entity_id]["deleted"] == [added[entity_id]["code_id"]]
    assert tuya_cloud.calls["GET /v1.0/devices/{id}/door-lock/temp-passwords"] == 1


async def test_delete_needs_nothing_from_the_cloud_when_the_ledger_knows(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
) -> None:
    """Name deletes of our codes: one delete call, no listing."""
    await call(hass, "add_code", FRONT, name="Guest", code="482913", **window())
    ttlock_cloud.reset_calls()
    await call(hass, "delete_code", FRONT, name="Guest")
    assert ttlock_cloud.calls[DELETE_PATH] == 1
    assert ttlock_cloud.calls[LIST_PATH] == 0
