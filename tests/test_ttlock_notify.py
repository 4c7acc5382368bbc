"""TTLock callbacks other than lock records (notifyType 2, 3, 4, 7, unknown).

Shapes from euopen.ttlock.com document-pages/en/cloud/: gateway/gatewayNotify,
wifiLock/WiFiLockNotify, wifiLock/WiFiLockAsynchronousRequestFailNotify,
doorSensor/standaloneDoorSensor/notify. All are form-encoded and answered with
the raw string ``success``; before issue 13 every one of them got HTTP 400.
"""

from __future__ import annotations

from datetime import UTC, datetime
import logging
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.ttlock_gateway.const import EVENT_LOCK
from custom_components.ttlock_gateway.providers.callbacks import (
    CallbackError,
    CallbackKind,
    parse_callback,
)
from custom_components.ttlock_gateway.providers.models import EventType
from tests.common import TTLOCK_WEBHOOK_ID, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
FORM = "application/x-www-form-urlencoded"
URL = f"/api/webhook/{TTLOCK_WEBHOOK_ID}"


def _form(**fields: Any) -> bytes:
    return urlencode(fields).encode()


def _gateway_notify(gateway_id: int = 347, online: int = 0) -> bytes:
    return _form(
        notifyType=2,
        gatewayId=gateway_id,
        gatewayName="G2_743985",
        gatewayMac="DC:A4:53:85:39:74",
        gatewayVersion=2,
        networkName="ttlock",
        isOnline=online,
    )


def test_gateway_offline_and_online() -> None:
    parsed = parse_callback(FORM, _gateway_notify(online=0), now=NOW)
    assert parsed.kind is CallbackKind.TTLOCK
    assert parsed.reply == "success"
    assert parsed.lock_ref == "347"
    (event,) = parsed.events
    assert event.type is EventType.GATEWAY_OFFLINE
    assert event.lock_id is None
    assert event.raw["gateway_id"] == "347"
    assert event.time == NOW
    # The MAC is never carried into events (logs, bus).
    assert "DC:A4:53:85:39:74" not in repr(event)
    online = parse_callback(FORM, _gateway_notify(online=1), now=NOW).events[0]
    assert online.type is EventType.GATEWAY_ONLINE
    assert online.event_id != event.event_id


def test_wifi_lock_offline_and_online() -> None:
    body = _form(
        notifyType=3,
        lockId=163377,
        lockAlias="Front door",
        lockMac="AA:BB:CC:DD:EE:FF",
        networkName="home",
        admin="owner",
        isOnline=0,
    )
    parsed = parse_callback(FORM, body, now=NOW)
    (event,) = parsed.events
    assert (event.type, event.lock_id, parsed.reply) == (
        EventType.LOCK_OFFLINE,
        "163377",
        "success",
    )
    body = body.replace(b"isOnline=0", b"isOnline=1")
    assert parse_callback(FORM, body, now=NOW).events[0].type is EventType.LOCK_ONLINE


def test_request_failed_names_the_passcode() -> None:
    body = _form(
        notifyType=4,
        lockId=163377,
        lockMac="AA:BB:CC:DD:EE:FF",
        uid=4242,
        objectType=2,
        objectId=88001,
        errcode=-3036,
    )
    parsed = parse_callback(FORM, body, now=NOW)
    (event,) = parsed.events
    assert event.type is EventType.REQUEST_FAILED
    assert event.lock_id == "163377"
    assert event.code_id == "88001"
    assert event.success is False
    assert event.raw == {
        "notifyType": 4,
        "objectType": 2,
        "objectId": "88001",
        "errcode": -3036,
        # -3036 "lock offline": another upload may work (cloud/errorCode).
        "retryable": True,
    }
    assert parsed.reply == "success"


def test_request_failed_for_a_card_names_no_code() -> None:
    body = _form(notifyType=4, lockId=1, objectType=3, objectId=5, errcode=1)
    (event,) = parse_callback(FORM, body, now=NOW).events
    assert event.type is EventType.REQUEST_FAILED
    assert event.code_id is None
    assert event.raw["objectType"] == 3


@pytest.mark.parametrize(
    ("record_type", "expected"),
    [
        (0, EventType.DOOR_CLOSED),
        (1, EventType.DOOR_OPENED),
        (2, EventType.OTHER),
        (3, EventType.OTHER),
    ],
)
def test_door_sensor(record_type: int, expected: EventType) -> None:
    body = _form(
        notifyType=7,
        doorSensorId=100123,
        mac="AA:BB:CC:DD:EE:FF",
        name="DS3",
        recordType=record_type,
    )
    (event,) = parse_callback(FORM, body, now=NOW).events
    assert event.type is expected
    assert event.raw["door_sensor_id"] == "100123"
    assert event.raw["recordType"] == record_type


def test_unknown_notify_type_is_accepted_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, "custom_components.ttlock_gateway")
    parsed = parse_callback(FORM, _form(notifyType=99, lockId=1, x="y"), now=NOW)
    assert (parsed.kind, parsed.events, parsed.reply) == (
        CallbackKind.TTLOCK,
        (),
        "success",
    )
    assert "notifyType 99 ignored" in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        _form(notifyType=2, gatewayName="x", isOnline=1),  # no gatewayId
        _form(notifyType=2, gatewayId=3, isOnline=7),
        _form(notifyType=3, lockId="", isOnline=1),
        _form(notifyType=4, lockId=1, objectType="x", objectId=1),
        _form(notifyType=7, doorSensorId=-1, recordType=1),
    ],
)
def test_malformed_known_notifications_raise_callback_error(body: bytes) -> None:
    with pytest.raises(CallbackError):
        parse_callback(FORM, body, now=NOW)


def test_records_notify_still_needs_records() -> None:
    with pytest.raises(CallbackError):
        parse_callback(FORM, _form(notifyType=1, lockId=5), now=NOW)


# --------------------------------------------------------------------------- #
# End to end through the webhook


async def test_webhook_gateway_notify_changes_that_gateway(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: Any,
) -> None:
    hall = ttlock_cloud.add_gateway(name="Hall gateway")
    attic = ttlock_cloud.add_gateway(name="Attic gateway")
    ttlock_cloud.add_lock(name="Front door", gateway_id=hall)
    ttlock_cloud.add_lock(name="Loft door", gateway_id=attic)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    events = async_capture_events(hass, EVENT_LOCK)
    client: TestClient = await hass_client_no_auth()

    resp = await client.post(
        URL, data=_gateway_notify(attic, 0), headers={"Content-Type": FORM}
    )
    assert resp.status == 200
    assert await resp.text() == "success"
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.attic_gateway_connectivity").state == "off"
    assert hass.states.get("binary_sensor.hall_gateway_connectivity").state == "on"
    assert [e.data["type"] for e in events] == ["gateway_offline"]


async def test_webhook_wifi_lock_offline_and_unknown_type(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: Any,
) -> None:
    gateway = ttlock_cloud.add_gateway(name="Hall gateway")
    front = ttlock_cloud.add_lock(name="Front door", gateway_id=gateway)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    sensor = "binary_sensor.front_door_connectivity"
    er.async_get(hass).async_update_entity(sensor, disabled_by=None)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    client: TestClient = await hass_client_no_auth()

    body = _form(notifyType=3, lockId=front, lockAlias="Front door", isOnline=0)
    resp = await client.post(URL, data=body, headers={"Content-Type": FORM})
    assert (resp.status, await resp.text()) == (200, "success")
    await hass.async_block_till_done()
    assert hass.states.get(sensor).state == "off"

    resp = await client.post(
        URL, data=_form(notifyType=12, lockId=front), headers={"Content-Type": FORM}
    )
    assert (resp.status, await resp.text()) == (200, "success")
    await hass.async_block_till_done()
    assert hass.states.get(sensor).state == "off"
