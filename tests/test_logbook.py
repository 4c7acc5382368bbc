"""Logbook: lock events read as sentences ("Front door unlocked by code (Guest)")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
import json
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient
from homeassistant.components.logbook import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ttlock_gateway import logbook as ttlock_logbook
from custom_components.ttlock_gateway.const import DOMAIN, EVENT_LOCK
from custom_components.ttlock_gateway.providers.models import EventType
from tests.common import TTLOCK_WEBHOOK_ID, seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud

GUEST_CODE = "4711923"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_db_url: str, enable_custom_integrations: None
) -> None:
    """As in conftest, but the recorder's database comes before hass."""


async def push_code_unlock(client: TestClient, lock_id: int, success: int = 1) -> None:
    """The guest's keypad code, a minute ago."""
    when = int(dt_util.utcnow().timestamp() * 1000) - 60_000 + success
    record = {
        "lockId": lock_id,
        "recordType": 4,
        "success": success,
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


async def push_dding(client: TestClient, event: str, uuid: str) -> None:
    """A Dding alarm."""
    body = {"event": event, "uuid": uuid, "home_id": "h", "nickname": "Garage"}
    resp = await client.post(
        f"/api/webhook/{TTLOCK_WEBHOOK_ID}",
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert resp.status == 200


def describer(hass: HomeAssistant) -> Callable[[Event], dict[str, str | None]]:
    """The callback our platform registers with the logbook."""
    found: dict[tuple[str, str], Callable[[Event], dict[str, str | None]]] = {}

    def register(
        domain: str, event_type: str, describe: Callable[[Event], Any]
    ) -> None:
        found[(domain, event_type)] = describe

    ttlock_logbook.async_describe_events(hass, register)
    assert list(found) == [(DOMAIN, EVENT_LOCK)]
    return found[(DOMAIN, EVENT_LOCK)]


async def test_describe_pushed_events(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Real bus events from the webhook, described."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    await push_code_unlock(client, home.front)
    await push_code_unlock(client, home.back, success=0)
    await push_dding(client, "brokenAlarm", ttlock_cloud.locks[home.shed]["lockMac"])
    await push_dding(client, "brokenAlarm", "unknown-uuid")
    await hass.async_block_till_done()
    describe = describer(hass)

    described = [describe(event) for event in events]
    assert described == [
        {
            LOGBOOK_ENTRY_NAME: "Front door",
            LOGBOOK_ENTRY_MESSAGE: "unlocked by code (Guest)",
            LOGBOOK_ENTRY_ENTITY_ID: "lock.front_door",
        },
        {
            LOGBOOK_ENTRY_NAME: "Back door",
            LOGBOOK_ENTRY_MESSAGE: "wrong code entered (Guest)",
            LOGBOOK_ENTRY_ENTITY_ID: "lock.back_door",
        },
        {
            LOGBOOK_ENTRY_NAME: "Shed",
            LOGBOOK_ENTRY_MESSAGE: "tamper alarm",
            LOGBOOK_ENTRY_ENTITY_ID: "lock.shed",
        },
        # A lock we do not know: the name its cloud gave it.
        {
            LOGBOOK_ENTRY_NAME: "Garage",
            LOGBOOK_ENTRY_MESSAGE: "tamper alarm",
            LOGBOOK_ENTRY_ENTITY_ID: None,
        },
    ]
    for entry in described:
        assert GUEST_CODE not in json.dumps(entry)


def test_every_event_type_has_words() -> None:
    """No event type falls back to its raw value."""
    for event_type in EventType:
        message = ttlock_logbook.describe(
            {"type": event_type.value, "method": "unknown"}, "Door"
        )[LOGBOOK_ENTRY_MESSAGE]
        assert message
        assert "_" not in message
    assert (
        ttlock_logbook.describe(
            {"type": "unlocked", "method": "remote", "code_name": "Booking 17"}, "Door"
        )[LOGBOOK_ENTRY_MESSAGE]
        == "unlocked remotely (Booking 17)"
    )


async def test_logbook_api_shows_sentence(
    recorder_mock: Any,
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Through the recorder and the logbook API, as the UI reads it."""
    assert await async_setup_component(hass, "logbook", {})
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    start = dt_util.utcnow() - timedelta(minutes=5)
    client = await hass_client_no_auth()
    await push_code_unlock(client, home.front)
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)

    api = await hass_client()
    resp = await api.get(f"/api/logbook/{start.isoformat()}")
    assert resp.status == 200
    entries = await resp.json()
    ours = [e for e in entries if e.get("domain") == DOMAIN]
    assert ours, entries
    assert ours[0]["name"] == "Front door"
    assert ours[0]["message"] == "unlocked by code (Guest)"
    assert ours[0]["entity_id"] == "lock.front_door"
    assert GUEST_CODE not in json.dumps(entries)
