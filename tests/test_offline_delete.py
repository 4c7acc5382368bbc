"""Deleting offline codes (issue 18): never reported gone while the lock still
accepts them.

TTLock: without a gateway the cloud only marks a random passcode deleted
(deleteType 1); the lock keeps accepting it until its window ends, the app
syncs it over Bluetooth, or a delete code (type 4) is typed. Through a
gateway a code entered at least once is deleted from the lock (deleteType 2);
one never entered is refused there (-3008) and only marked deleted
(document-pages/cloud/passcode/delete; wiki.beds24.com TTLock). Tuya has no
delete for offline passwords: a clear_one code typed on the keypad does it.
"""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ttlock_gateway.const import EVENT_CODE_DELETED
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
    DELETE_PATH,
    FRONT,
    SHED,
    at,
    call,
    listen,
    records,
    tuya_lock_entity,
)


def ms(value: str) -> int:
    return int(at(value).timestamp() * 1000)


def stay(hours_from: float = -1, hours_to: float = 48) -> dict[str, str]:
    now = dt_util.now()
    return {
        "start": (now + timedelta(hours=hours_from)).isoformat(),
        "end": (now + timedelta(hours=hours_to)).isoformat(),
    }


@pytest.fixture(autouse=True)
async def house_zone(hass: HomeAssistant) -> None:
    """The house's zone is the locks' (UTC+1 all year in the fake)."""
    await hass.config.async_set_time_zone("Africa/Lagos")


@pytest.fixture
async def home(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> tuple[TTLockHome, MockConfigEntry]:
    seeded = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.reset_calls()
    return seeded, entry


async def test_delete_without_a_gateway_is_a_revocation(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
) -> None:
    """The shed's code is marked deleted in the cloud (deleteType 1); the
    answer says the lock still accepts it until its end, never "deleted"; no
    code_deleted event; list_codes shows it revoked."""
    seeded, entry = home
    deleted = listen(hass, EVENT_CODE_DELETED)
    added = await call(hass, "add_code", SHED, name="Guest", **stay())
    code_id, digits = added[SHED]["code_id"], added[SHED]["code"]
    result = await call(hass, "delete_code", SHED, code_id=code_id)
    answer = result[SHED]
    assert answer["deleted"] == []
    assert answer["revoked"] == [code_id]
    (still,) = answer["still_accepted"]
    assert still["code_id"] == code_id
    assert still["lock_still_accepts"] is True
    assert at(still["accepted_until"]) == at(added[SHED]["end"])
    assert "clear_code" not in still  # TTLock's wipes every code: only if asked
    assert ttlock_cloud.delete_requests[-1]["deleteType"] == "1"
    assert ttlock_cloud.passcodes[seeded.shed] == {}  # gone from the cloud's list
    assert ttlock_cloud.lock_accepts(seeded.shed, digits)  # not from the lock
    assert deleted == []
    (record,) = records(hass, entry)
    assert not record.tombstone
    listed = await call(hass, "list_codes", SHED)
    (code,) = listed[SHED]["codes"]
    assert code["status"] == "revoked"
    assert code["offline"]["revoked_at"] is not None
    # Asked again: the same truth, nothing sent.
    ttlock_cloud.reset_calls()
    again = await call(hass, "delete_code", SHED, code_id=code_id)
    assert again[SHED]["revoked"] == [code_id]
    assert again[SHED]["deleted"] == []
    assert ttlock_cloud.calls[DELETE_PATH] == 0


async def test_delete_code_for_the_keypad_on_request(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
) -> None:
    """clear_code: true gives a TTLock delete code (type 4); typed on the
    keypad, the lock forgets every code, the revoked one with it."""
    seeded, _ = home
    added = await call(hass, "add_code", SHED, name="Guest", **stay())
    digits = added[SHED]["code"]
    result = await call(
        hass, "delete_code", SHED, code_id=added[SHED]["code_id"], clear_code=True
    )
    (still,) = result[SHED]["still_accepted"]
    clear = still["clear_code"]
    assert clear["clears"] == "all_codes"
    assert ttlock_cloud.random_requests[-1]["keyboardPwdType"] == "4"
    assert "endDate" not in ttlock_cloud.random_requests[-1]
    assert ttlock_cloud.lock_accepts(seeded.shed, digits)
    assert ttlock_cloud.enter_code(seeded.shed, clear["code"])
    assert not ttlock_cloud.lock_accepts(seeded.shed, digits)


async def test_delete_through_a_gateway_after_first_use(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
) -> None:
    """An offline code on the Front door (gateway online) that was entered:
    deleteType 2 reaches the lock: "deleted", code_deleted fires."""
    seeded, _ = home
    deleted = listen(hass, EVENT_CODE_DELETED)
    added = await call(hass, "add_code", FRONT, name="Guest", offline=True, **stay())
    digits = added[FRONT]["code"]
    assert ttlock_cloud.enter_code(seeded.front, digits)
    result = await call(hass, "delete_code", FRONT, code_id=added[FRONT]["code_id"])
    assert result[FRONT]["deleted"] == [added[FRONT]["code_id"]]
    assert result[FRONT]["revoked"] == []
    assert ttlock_cloud.delete_requests[-1]["deleteType"] == "2"
    assert not ttlock_cloud.lock_accepts(seeded.front, digits)
    assert len(deleted) == 1


async def test_delete_through_a_gateway_of_an_unused_code(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: tuple[TTLockHome, MockConfigEntry],
) -> None:
    """Never entered: the gateway cannot delete it (-3008); it is marked
    deleted in the cloud and reported revoked, the lock still takes it."""
    seeded, _ = home
    added = await call(hass, "add_code", FRONT, name="Guest", offline=True, **stay())
    result = await call(hass, "delete_code", FRONT, code_id=added[FRONT]["code_id"])
    assert result[FRONT]["deleted"] == []
    assert result[FRONT]["revoked"] == [added[FRONT]["code_id"]]
    assert [r["deleteType"] for r in ttlock_cloud.delete_requests[-2:]] == ["2", "1"]
    assert ttlock_cloud.lock_accepts(seeded.front, added[FRONT]["code"])


async def test_tuya_offline_password_and_its_clearing_code(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Tuya: offline: true gives an offline temporary password (type
    multiple, whole hours); deleting it gives a clear_one code to type, the
    lock accepts the password until then."""
    device = tuya_cloud.add_device(name="Flat door")
    tuya_cloud.enable_offline_passwords(device)
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    window = stay(1.5, 30)
    added = await call(
        hass, "add_code", entity_id, name="Guest", offline=True, **window
    )
    item = added[entity_id]
    assert item["status"] == "added"
    assert item["kind"] == "offline"
    body = tuya_cloud.offline_requests[-1]
    assert body["type"] == "multiple"
    assert body["effective_time"] % 3600 == 0
    assert body["effective_time"] == int(at(item["start"]).timestamp())
    assert body["invalid_time"] == int(at(item["end"]).timestamp())
    digits = item["code"]
    start_s = int(at(item["start"]).timestamp())
    assert tuya_cloud.offline_accepts(device, digits, at=start_s + 60)
    result = await call(hass, "delete_code", entity_id, code_id=item["code_id"])
    answer = result[entity_id]
    assert answer["deleted"] == []
    assert answer["revoked"] == [item["code_id"]]
    (still,) = answer["still_accepted"]
    clear = still["clear_code"]
    assert clear["clears"] == "this_code"
    assert tuya_cloud.offline_requests[-1]["type"] == "clear_one"
    assert tuya_cloud.offline_requests[-1]["password_id"] == item["cloud_id"]
    assert tuya_cloud.offline_accepts(device, digits, at=start_s + 60)
    assert tuya_cloud.enter_offline(device, clear["code"])
    assert not tuya_cloud.offline_accepts(device, digits, at=start_s + 60)


async def test_tuya_offline_code_is_not_missing_from_a_listing(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Tuya's cloud lists no offline passwords: list_codes still shows ours as
    on the lock (pending), not as missing."""
    device = tuya_cloud.add_device(name="Flat door")
    tuya_cloud.enable_offline_passwords(device)
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    await call(hass, "add_code", entity_id, name="Guest", offline=True, **stay(2, 30))
    for _ in range(2):
        listed = await call(hass, "list_codes", entity_id)
    (code,) = listed[entity_id]["codes"]
    assert code["status"] == "pending"
    assert code["offline"]["type"] == "period"
