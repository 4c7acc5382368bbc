"""The ledger's file: migrated from the request queue's, and robust when read back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ttlock_gateway.const import DOMAIN, EVENT_CODE_ADDED
from tests.common import seed_ttlock_home, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.ledger_common import (
    ADD_PATH,
    FRONT,
    LIST_PATH,
    RETRY,
    advance,
    call,
    code_issues,
    listen,
    ms,
    records,
    ttlock_pins,
)


def v1_record(lock_id: int, **fields: Any) -> dict[str, Any]:
    """A record as the request queue (storage version 1) wrote it."""
    now = dt_util.utcnow()
    return {
        "id": fields.pop("id"),
        "lock_id": str(lock_id),
        "name": "Guest",
        "code": "482913",
        "start": (now + timedelta(hours=1)).isoformat(),
        "end": (now + timedelta(days=3)).isoformat(),
        "code_id": None,
        "status": "queued",
        "attempts": 1,
        "next_attempt": (now + timedelta(minutes=20)).isoformat(),
        "reason": "The gateway is offline",
        "created": now.isoformat(),
        **fields,
    }


async def test_migration_from_the_request_queue(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    home = seed_ttlock_home(ttlock_cloud)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Test account",
        data=ttlock_data(ttlock_cloud),
        unique_id="fake-client-id_acct",
    )
    entry.add_to_hass(hass)
    # On the lock already: the added code, and the queued one (its answer lost).
    for pwd_id, pin in ((501, "111222"), (502, "482913")):
        ttlock_cloud.passcodes[home.front][pwd_id] = {
            "keyboardPwdId": pwd_id,
            "keyboardPwd": pin,
            "keyboardPwdName": "Guest",
            "keyboardPwdType": 3,
            "startDate": 0,
            "endDate": 0,
        }
    queued = v1_record(home.front, id="a" * 32)
    ttlock_cloud.passcodes[home.front][502].update(
        startDate=ms(queued["start"]), endDate=ms(queued["end"])
    )
    hass_storage[f"{DOMAIN}.{entry.entry_id}.codes"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}.codes",
        "data": {
            "codes": [
                queued,
                v1_record(
                    home.front,
                    id="b" * 32,
                    code="111222",
                    status="added",
                    code_id="501",
                    next_attempt=None,
                ),
                # The queue's bug: an added code stored with the id "None".
                v1_record(
                    home.back,
                    id="c" * 32,
                    code="333444",
                    status="added",
                    code_id="None",
                ),
                v1_record(home.back, id="d" * 32, code="555666", status="failed"),
                {"id": "broken"},
                "junk",
            ]
        },
    }
    added = listen(hass, EVENT_CODE_ADDED)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    by_id = {r.id: r for r in records(hass, entry)}
    assert set(by_id) == {"a" * 32, "b" * 32, "c" * 32, "d" * 32}
    assert (by_id["b" * 32].cloud_id, by_id["b" * 32].uncertain) == ("501", False)
    assert (by_id["a" * 32].cloud_id, by_id["a" * 32].uncertain) == (None, True)
    assert (by_id["c" * 32].cloud_id, by_id["c" * 32].uncertain) == (None, True)
    assert by_id["d" * 32].failed
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}.codes"]
    assert stored["version"] == 2

    # The queued code's upload had landed: found at its retry, not sent again.
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, RETRY)
    assert ttlock_cloud.calls[LIST_PATH] == 2  # each lock, for its uncertain code
    assert ttlock_pins(ttlock_cloud, home.front) == ["111222", "482913"]
    # "added" with the id "None", but not on the lock after all: added again.
    assert ttlock_cloud.calls[ADD_PATH] == 1
    assert ttlock_pins(ttlock_cloud, home.back) == ["333444"]
    assert by_id["a" * 32].cloud_id == "502"
    assert [
        e.data["code_id"] for e in added if e.data["lock_id"] == str(home.front)
    ] == ["a" * 32]
    listed = await call(hass, "list_codes", FRONT)
    assert {c["code_id"] for c in listed[FRONT]["codes"]} == {"a" * 32, "b" * 32}
    assert not code_issues(hass)


async def test_unreadable_ledger_entries_are_skipped(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_storage: dict[str, Any],
    caplog: Any,
) -> None:
    """A hand-edited or damaged file: readable records are kept, the rest are
    skipped with one warning, and the ledger works."""
    seed_ttlock_home(ttlock_cloud)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Test account",
        data=ttlock_data(ttlock_cloud),
        unique_id="fake-client-id_acct",
    )
    entry.add_to_hass(hass)
    now = dt_util.utcnow().isoformat()
    good = {
        "id": "g" * 32,
        "lock_id": "1000002",
        "name": "Good",
        "code": "135790",
        "start": now,
        "end": (dt_util.utcnow() + timedelta(days=1)).isoformat(),
        "created": now,
        "cloud_id": "77",
        "applied": 1,
    }
    hass_storage[f"{DOMAIN}.{entry.entry_id}.codes"] = {
        "version": 2,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}.codes",
        "data": {
            "codes": [
                good,
                {**good, "id": "x", "name": "Bad \ud83d"},
                {**good, "id": "y", "end": "40000-01-01T00:00:00+00:00"},
                {**good, "id": "z", "code": "12ab"},
                {**good, "id": "w", "attempts": "many"},
            ],
            "listings": {"1000002": {"at": "yesterday", "codes": []}},
            "ended_seen": ["code:x", 5],
        },
    }
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert [r.id for r in records(hass, entry)] == ["g" * 32]
    assert "unreadable entries in the code ledger" in caplog.text
    listed = await call(hass, "list_codes", FRONT)
    assert [c["name"] for c in listed[FRONT]["codes"]] == ["Good"]
