"""Logbook: one row per real event, as the UI reads it through /api/logbook.

Events of known locks are shown by their event entity (translated, Home
Assistant's casing); the integration adds no row of its own for them. Events
from senders that match no lock get one logbook_entry row with a real name.
"""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ttlock_gateway.const import DOMAIN
from custom_components.ttlock_gateway.providers.models import EventType, LockEvent
from custom_components.ttlock_gateway.unknown_sender import describe, sender_name
from tests.common import TTLOCK_WEBHOOK_ID, seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud

GUEST_CODE = "4711923"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_db_url: str, enable_custom_integrations: None
) -> None:
    """As in conftest, but the recorder's database comes before hass."""


async def push_code_unlock(client: TestClient, lock_id: int) -> None:
    """The guest's keypad code, a minute ago."""
    when = int(dt_util.utcnow().timestamp() * 1000) - 60_000
    record = {
        "lockId": lock_id,
        "recordType": 4,
        "success": 1,
        "username": "Guest",
        "keyboardPwd": GUEST_CODE,
        "lockDate": when,
    }
    resp = await client.post(
        f"/api/webhook/{TTLOCK_WEBHOOK_ID}",
        data=urlencode({"lockId": lock_id, "records": json.dumps([record])}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status == 200


async def push_dding(client: TestClient, event: str, uuid: str, nickname: str) -> None:
    """A Dding alarm."""
    body = {"event": event, "uuid": uuid, "home_id": "h", "nickname": nickname}
    resp = await client.post(
        f"/api/webhook/{TTLOCK_WEBHOOK_ID}",
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert resp.status == 200


async def _logbook(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, start: Any
) -> list[dict[str, Any]]:
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    api = await hass_client()
    resp = await api.get(f"/api/logbook/{start.isoformat()}")
    assert resp.status == 200
    entries: list[dict[str, Any]] = await resp.json()
    return entries


def _rows_of(entries: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [e for e in entries if str(e.get("entity_id") or "").startswith(prefix)]


async def test_one_row_per_event(
    recorder_mock: Any,
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A keypad unlock: the lock's new state and one event row, nothing doubled."""
    assert await async_setup_component(hass, "logbook", {})
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    start = dt_util.utcnow() - timedelta(minutes=5)
    client = await hass_client_no_auth()
    # The back door: no auto-lock, so it stays unlocked.
    await push_code_unlock(client, home.back)
    entries = await _logbook(hass, hass_client, start)

    activity = _rows_of(entries, "event.back_door_activity")
    assert [row["attributes"]["event_type"] for row in activity] == ["unlocked"]
    assert [row["state"] for row in _rows_of(entries, "lock.back_door")] == ["unlocked"]
    # No row of the integration's own for it, no last-activity sensor row.
    assert [e for e in entries if e.get("domain") == DOMAIN] == []
    assert _rows_of(entries, "sensor.back_door_last_activity") == []
    assert GUEST_CODE not in json.dumps(entries)


async def test_battery_alarm_is_one_row(
    recorder_mock: Any,
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A pushed alarm of a known lock: its event entity's row only."""
    assert await async_setup_component(hass, "logbook", {})
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    start = dt_util.utcnow() - timedelta(minutes=5)
    client = await hass_client_no_auth()
    mac = ttlock_cloud.locks[home.shed]["lockMac"]
    await push_dding(client, "brokenAlarm", mac, "Shed")
    entries = await _logbook(hass, hass_client, start)
    shed = [e for e in entries if "shed" in str(e.get("entity_id"))]
    assert [(row["entity_id"], row["attributes"]["event_type"]) for row in shed] == [
        ("event.shed_activity", "tamper")
    ]


async def test_unknown_sender_gets_one_named_row(
    recorder_mock: Any,
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """No lock matches: one row, named by the sender, or "Unknown lock" for "??"."""
    assert await async_setup_component(hass, "logbook", {})
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    start = dt_util.utcnow() - timedelta(minutes=5)
    client = await hass_client_no_auth()
    await push_dding(client, "brokenAlarm", "unknown-uuid", "Garage")
    await push_dding(client, "batteryAlarm", "other-uuid", "??")
    entries = await _logbook(hass, hass_client, start)
    ours = [(e["name"], e["message"]) for e in entries if e.get("domain") == DOMAIN]
    assert ours == [("Garage", "tamper alarm"), ("Unknown lock", "battery low")]


def test_every_event_type_has_words() -> None:
    """No event type falls back to its raw value; names that are no names go."""
    for event_type in EventType:
        event = LockEvent(
            event_id="x", lock_id=None, type=event_type, time=dt_util.utcnow()
        )
        assert describe(event)
        assert "_" not in describe(event)
    assert sender_name({"nickname": "Front 门"}) == "Front 门"
    for nickname in ("??", " ", "\ufffd\ufffd", None, 7):
        assert sender_name({"nickname": nickname}) == "Unknown lock"
