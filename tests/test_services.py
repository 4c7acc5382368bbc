"""Guest code services against the fake clouds: validation, add, delete, list, events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest

from custom_components.ttlock_gateway.const import (
    CONF_EXPOSE_CODES,
    DOMAIN,
    EVENT_CODE_ADDED,
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

FRONT = "lock.front_door"
BACK = "lock.back_door"
SHED = "lock.shed"
ADD_PATH = "/v3/keyboardPwd/add"
DELETE_PATH = "/v3/keyboardPwd/delete"
LIST_PATH = "/v3/lock/listKeyboardPwd"


def window(hours_from: float = 1, hours_to: float = 25) -> dict[str, str]:
    now = dt_util.now()
    return {
        "start": (now + timedelta(hours=hours_from)).isoformat(),
        "end": (now + timedelta(hours=hours_to)).isoformat(),
    }


async def call(
    hass: HomeAssistant, service: str, entity_id: str | list[str], **data: Any
) -> Any:
    return await hass.services.async_call(
        DOMAIN,
        service,
        {"entity_id": entity_id, **data},
        blocking=True,
        return_response=True,
    )


@pytest.fixture
async def home(hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud) -> TTLockHome:
    seeded = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert entry.state is ConfigEntryState.LOADED
    ttlock_cloud.reset_calls()
    return seeded


def codes_on(cloud: FakeTTLockCloud, lock_id: int) -> list[dict[str, Any]]:
    return list(cloud.passcodes[lock_id].values())


# --------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("entity_id", "data", "key"),
    [
        (FRONT, {"name": "Guest", **window(2, 1)}, "end_before_start"),
        (FRONT, {"name": "Guest", **window(1, 1)}, "end_before_start"),
        (FRONT, {"name": "Guest", **window(-48, -1)}, "end_in_past"),
        (FRONT, {"name": "Guest", "code": "12a456", **window()}, "code_not_digits"),
        (FRONT, {"name": "Guest", "code": "123", **window()}, "code_wrong_length"),
        (
            FRONT,
            {"name": "Guest", "code": "1234567890", **window()},
            "code_wrong_length",
        ),
        (FRONT, {"name": "   ", **window()}, "invalid_name"),
        (FRONT, {"name": "x" * 51, **window()}, "invalid_name"),
        ("lock.not_there", {"name": "Guest", **window()}, "not_a_lock"),
    ],
)
async def test_add_code_validation_sends_nothing(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: TTLockHome,
    entity_id: str | list[str],
    data: dict[str, Any],
    key: str,
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_code", entity_id, **data)
    assert err.value.translation_key == key
    assert err.value.translation_domain == DOMAIN
    assert ttlock_cloud.total_calls == 0
    assert all(not codes for codes in ttlock_cloud.passcodes.values())


async def test_add_code_rejects_foreign_lock_entity(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, home: TTLockHome
) -> None:
    """An entity of another integration is not a target."""
    registry = er.async_get(hass)
    other = registry.async_get_or_create("lock", "demo", "abc", suggested_object_id="x")
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_code", other.entity_id, name="G", **window())
    assert err.value.translation_key == "not_a_lock"
    assert ttlock_cloud.total_calls == 0


async def test_service_on_unloaded_entry(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, home: TTLockHome
) -> None:
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    ttlock_cloud.reset_calls()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_code", FRONT, name="G", **window())
    assert err.value.translation_key == "entry_not_loaded"
    assert ttlock_cloud.total_calls == 0


async def test_delete_needs_a_selector(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, home: TTLockHome
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "delete_code", FRONT)
    assert err.value.translation_key == "delete_needs_selector"
    assert ttlock_cloud.total_calls == 0


# --------------------------------------------------------------- add / list / delete


async def test_add_list_delete_on_two_locks(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, home: TTLockHome
) -> None:
    events: list[Event] = []
    hass.bus.async_listen(EVENT_CODE_ADDED, callback(lambda e: events.append(e)))
    win = window()
    result = await call(
        hass, "add_code", [FRONT, BACK], name="Guest Smith", code="482913", **win
    )
    assert set(result) == {FRONT, BACK}
    # One id of ours for the guest's code on both locks; the cloud's ids apart.
    code_id = result[FRONT]["code_id"]
    assert result[BACK]["code_id"] == code_id
    for entity_id, lock_id in ((FRONT, home.front), (BACK, home.back)):
        assert result[entity_id]["status"] == "added"
        assert result[entity_id]["code"] == "482913"
        stored = codes_on(ttlock_cloud, lock_id)
        assert len(stored) == 1
        assert stored[0]["keyboardPwd"] == "482913"
        assert stored[0]["keyboardPwdName"] == "Guest Smith"
        assert str(stored[0]["keyboardPwdId"]) == result[entity_id]["cloud_id"]
        # Sent in UTC milliseconds.
        assert stored[0]["startDate"] == int(
            dt_util.parse_datetime(win["start"]).timestamp() * 1000  # type: ignore[union-attr]
        )
    assert ttlock_cloud.calls[ADD_PATH] == 2
    await hass.async_block_till_done()
    assert len(events) == 2
    assert all("code" not in ev.data for ev in events)
    assert {ev.data["entity_id"] for ev in events} == {FRONT, BACK}

    # A code someone added in the app: listed, but not ours.
    ttlock_cloud.passcodes[home.front][1] = {
        "keyboardPwdId": 1,
        "lockId": home.front,
        "keyboardPwd": "1111",
        "keyboardPwdName": "Owner",
        "keyboardPwdType": 2,
        "startDate": 0,
        "endDate": 0,
    }
    listed = await call(hass, "list_codes", [FRONT, BACK])
    front_codes = {c["name"]: c for c in listed[FRONT]["codes"]}
    assert front_codes["Guest Smith"]["status"] == "pending"
    assert front_codes["Guest Smith"]["created_by_integration"] is True
    assert "code" not in front_codes["Guest Smith"]
    assert front_codes["Owner"]["created_by_integration"] is False
    assert front_codes["Owner"]["status"] == "active"
    assert front_codes["Owner"]["kind"] == "permanent"
    assert [c["name"] for c in listed[BACK]["codes"]] == ["Guest Smith"]

    deleted = await call(hass, "delete_code", [FRONT, BACK], name="Guest Smith")
    assert deleted[FRONT]["deleted"] == [code_id]
    assert deleted[BACK]["deleted"] == [code_id]
    assert codes_on(ttlock_cloud, home.back) == []
    assert [c["keyboardPwdName"] for c in codes_on(ttlock_cloud, home.front)] == [
        "Owner"
    ]
    listed = await call(hass, "list_codes", FRONT)
    assert [c["name"] for c in listed[FRONT]["codes"]] == ["Owner"]


async def test_delete_by_code_id_and_by_digits(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, home: TTLockHome
) -> None:
    first = await call(hass, "add_code", FRONT, name="A", code="1234", **window())
    await call(hass, "add_code", FRONT, name="B", code="5678", **window())
    await call(hass, "delete_code", FRONT, code_id=first[FRONT]["code_id"])
    assert [c["keyboardPwd"] for c in codes_on(ttlock_cloud, home.front)] == ["5678"]
    # The cloud's id works too.
    second = ttlock_cloud.passcodes[home.front]
    (cloud_id,) = [str(k) for k, c in second.items() if c["keyboardPwd"] == "5678"]
    third = await call(hass, "add_code", FRONT, name="C", code="9012", **window())
    await call(hass, "delete_code", FRONT, code_id=cloud_id)
    assert [c["keyboardPwd"] for c in codes_on(ttlock_cloud, home.front)] == ["9012"]
    answer = await call(hass, "delete_code", FRONT, code="9012")
    assert answer[FRONT]["deleted"] == [third[FRONT]["code_id"]]
    assert codes_on(ttlock_cloud, home.front) == []
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "delete_code", FRONT, name="Nobody")
    assert err.value.translation_key == "code_not_found"
    assert err.value.translation_placeholders == {"name": "Front door"}


async def test_status_active_and_expired(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, home: TTLockHome
) -> None:
    await call(hass, "add_code", FRONT, name="Now", code="2468", **window(-1, 5))
    now_ms = int(dt_util.utcnow().timestamp() * 1000)
    ttlock_cloud.passcodes[home.front][7] = {
        "keyboardPwdId": 7,
        "lockId": home.front,
        "keyboardPwd": "7777",
        "keyboardPwdName": "Old",
        "keyboardPwdType": 3,
        "startDate": now_ms - 10 * 3600_000,
        "endDate": now_ms - 3600_000,
    }
    listed = await call(hass, "list_codes", FRONT)
    status = {c["name"]: c["status"] for c in listed[FRONT]["codes"]}
    assert status == {"Now": "active", "Old": "expired"}


async def test_generated_codes_have_the_right_length_and_do_not_collide(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, home: TTLockHome
) -> None:
    seen: set[str] = set()
    for i in range(8):
        result = await call(hass, "add_code", FRONT, name=f"G{i}", **window())
        code = result[FRONT]["code"]
        assert result[FRONT]["status"] == "added"
        assert len(code) == 6
        assert code.isdigit()
        assert code not in seen
        seen.add(code)
    assert {c["keyboardPwd"] for c in codes_on(ttlock_cloud, home.front)} == seen
    # The lock is listed once: the ledger knows what it added since.
    assert ttlock_cloud.calls[LIST_PATH] == 1


async def test_generated_code_avoids_digits_on_the_lock(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    home: TTLockHome,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The draw hits a code added in the app, then one of ours: both are skipped."""
    ttlock_cloud.passcodes[home.front][900] = {
        "keyboardPwdId": 900,
        "keyboardPwd": "111222",
        "keyboardPwdName": "app",
        "keyboardPwdType": 2,
        "startDate": 0,
        "endDate": 0,
    }
    await call(hass, "add_code", FRONT, name="Ours", code="333444", **window())
    draws = iter("111222" + "333444" + "555666")
    monkeypatch.setattr(
        "custom_components.ttlock_gateway.codes.generate.secrets.choice",
        lambda _digits: next(draws),
    )
    result = await call(hass, "add_code", FRONT, name="G", **window())
    assert result[FRONT]["code"] == "555666"
    assert sorted(c["keyboardPwd"] for c in codes_on(ttlock_cloud, home.front)) == [
        "111222",
        "333444",
        "555666",
    ]


async def test_code_digits_in_list_and_event_only_when_exposed(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud), {CONF_EXPOSE_CODES: True})
    events: list[Event] = []
    hass.bus.async_listen(EVENT_CODE_ADDED, callback(lambda e: events.append(e)))
    await call(hass, "add_code", FRONT, name="G", code="13579", **window())
    await hass.async_block_till_done()
    assert events[0].data["code"] == "13579"
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"][0]["code"] == "13579"


async def test_refusals_are_errors_and_not_queued(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, home: TTLockHome
) -> None:
    """Storage full and duplicates are the user's to fix: ServiceValidationError;
    other refusals are HomeAssistantError. Nothing stays in the ledger."""
    ttlock_cloud.fail(ADD_PATH, -3009, "storage full")
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_code", FRONT, name="G", code="4321", **window())
    assert err.value.translation_key == "code_storage_full"
    assert err.value.translation_placeholders == {"name": "Front door"}
    ttlock_cloud.fail(ADD_PATH, -3, "invalid parameter")
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "add_code", FRONT, name="G", code="4321", **window())
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "action_failed"
    listed = await call(hass, "list_codes", FRONT)
    assert listed[FRONT]["codes"] == []
    # The ledger knows the lock has these digits: refused before the cloud.
    await call(hass, "add_code", FRONT, name="G", code="4321", **window())
    ttlock_cloud.reset_calls()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_code", FRONT, name="H", code="4321", **window())
    assert err.value.translation_key == "duplicate_code"
    assert ttlock_cloud.calls[ADD_PATH] == 0
    # Someone added the digits in the app since the last listing: the cloud's
    # duplicate answer is the same translated error.
    foreign = {
        "keyboardPwdId": 77,
        "keyboardPwd": "8765",
        "keyboardPwdName": "app",
        "keyboardPwdType": 2,
        "startDate": 0,
        "endDate": 0,
    }
    ttlock_cloud.passcodes[home.front][77] = foreign
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_code", FRONT, name="H", code="8765", **window())
    assert err.value.translation_key == "duplicate_code"
    assert ttlock_cloud.calls[ADD_PATH] == 1
    assert sorted(c["keyboardPwd"] for c in codes_on(ttlock_cloud, home.front)) == [
        "4321",
        "8765",
    ]
    listed = await call(hass, "list_codes", FRONT)
    assert [
        c["name"] for c in listed[FRONT]["codes"] if c["created_by_integration"]
    ] == ["G"]


# --------------------------------------------------------------- Tuya


async def test_tuya_code_end_to_end(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    wifi = tuya_cloud.add_device(name="Flat door")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = er.async_get(hass).async_get_entity_id(
        "lock",
        DOMAIN,
        next(
            e.unique_id
            for e in er.async_get(hass).entities.values()
            if e.domain == "lock" and e.platform == DOMAIN
        ),
    )
    assert entity_id is not None
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_code", entity_id, name="G", code="123456", **window())
    assert err.value.translation_key == "code_wrong_length"

    result = await call(hass, "add_code", entity_id, name="Guest", **window())
    code = result[entity_id]["code"]
    assert len(code) == 7
    assert result[entity_id]["status"] == "added"
    stored = list(tuya_cloud.codes[wifi].values())
    assert [c["pin"] for c in stored] == [code]
    listed = await call(hass, "list_codes", entity_id)
    assert [
        (c["name"], c["created_by_integration"]) for c in listed[entity_id]["codes"]
    ] == [("Guest", True)]
    await call(hass, "delete_code", entity_id, name="Guest")
    assert tuya_cloud.codes[wifi] == {}


# --------------------------------------------------------------- events


async def test_get_events_filters(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, home: TTLockHome
) -> None:
    now_ms = int(dt_util.utcnow().timestamp() * 1000)
    hour = 3600_000
    ttlock_cloud.add_record(
        home.front, 4, keyboard_pwd="2580", lock_date_ms=now_ms - 30 * hour
    )
    ttlock_cloud.add_record(
        home.front, 4, keyboard_pwd="2580", lock_date_ms=now_ms - 20 * hour
    )
    ttlock_cloud.add_record(
        home.front, 4, keyboard_pwd="9999", lock_date_ms=now_ms - 25 * hour
    )
    ttlock_cloud.add_record(
        home.front, 4, keyboard_pwd="2580", lock_date_ms=now_ms - 10 * 24 * hour
    )

    all_events = await call(hass, "get_events", FRONT)
    assert len(all_events[FRONT]["events"]) == 3  # default: last 7 days
    assert all("code" not in ev for ev in all_events[FRONT]["events"])

    by_code = await call(hass, "get_events", FRONT, code="2580")
    assert len(by_code[FRONT]["events"]) == 2

    first = await call(hass, "get_events", FRONT, code="2580", first_only=True)
    assert len(first[FRONT]["events"]) == 1
    first_time = dt_util.parse_datetime(first[FRONT]["events"][0]["time"])
    assert first_time is not None
    assert int(first_time.timestamp() * 1000) == now_ms - 30 * hour

    longer = await call(
        hass,
        "get_events",
        FRONT,
        code="2580",
        first_only=True,
        start=(dt_util.now() - timedelta(days=11)).isoformat(),
    )
    longer_time = dt_util.parse_datetime(longer[FRONT]["events"][0]["time"])
    assert longer_time is not None
    assert int(longer_time.timestamp() * 1000) == now_ms - 10 * 24 * hour

    none = await call(hass, "get_events", FRONT, code="0000", first_only=True)
    assert none[FRONT]["events"] == []

    ttlock_cloud.reset_calls()
    with pytest.raises(ServiceValidationError):
        await call(
            hass,
            "get_events",
            FRONT,
            start=dt_util.now().isoformat(),
            end=(dt_util.now() - timedelta(hours=1)).isoformat(),
        )
    assert ttlock_cloud.total_calls == 0


async def test_add_code_partly_failed_names_both_sides(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, home: TTLockHome
) -> None:
    """One lock refuses: the others still get the code and the error says so."""
    for i in range(250):  # the back door's storage is full
        ttlock_cloud.passcodes[home.back][i + 1] = {
            "keyboardPwdId": i + 1,
            "keyboardPwd": f"{10000 + i}",
            "keyboardPwdName": f"Old {i}",
            "keyboardPwdType": 2,
            "startDate": 0,
            "endDate": 0,
        }
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "add_code", [FRONT, BACK], name="G", code="6543", **window())
    assert err.value.translation_key == "add_code_partly_failed"
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["failed"] == "Back door"
    assert err.value.translation_placeholders["done"] == "Front door"
    # The lock's own error, translated (not the cloud's English errmsg).
    assert "code_storage_full" in str(err.value) or "no room" in str(err.value)
    assert [c["keyboardPwd"] for c in codes_on(ttlock_cloud, home.front)] == ["6543"]
    assert len(codes_on(ttlock_cloud, home.back)) == 250


async def test_device_target_picks_the_lock_entity(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, home: TTLockHome
) -> None:
    """A device target brings the lock's sensors too; only the lock is used."""
    registry = er.async_get(hass)
    lock_entry = registry.async_get(FRONT)
    assert lock_entry is not None
    assert lock_entry.device_id is not None
    siblings = er.async_entries_for_device(registry, lock_entry.device_id)
    assert len(siblings) > 1
    result = await hass.services.async_call(
        DOMAIN,
        "add_code",
        {"device_id": lock_entry.device_id, "name": "G", "code": "3141", **window()},
        blocking=True,
        return_response=True,
    )
    assert result is not None
    assert list(result) == [FRONT]
    assert [c["keyboardPwd"] for c in codes_on(ttlock_cloud, home.front)] == ["3141"]

    gateway_device = next(
        e.device_id
        for e in registry.entities.values()
        if e.platform == DOMAIN
        and e.domain != "lock"
        and e.device_id != lock_entry.device_id
        and not any(
            s.domain == "lock"
            for s in er.async_entries_for_device(registry, e.device_id or "")
        )
    )
    ttlock_cloud.reset_calls()
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "list_codes",
            {"device_id": gateway_device},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "no_target"
    assert ttlock_cloud.total_calls == 0
