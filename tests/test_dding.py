"""The TTLock and Tuya journeys on a Dding SaaS account (issue 19, fake SaaS)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
import json
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.ttlock_gateway.const import DOMAIN, EVENT_LOCK
from tests.common import (
    DDING_WEBHOOK_ID,
    DdingHome,
    dding_data,
    entry_states,
    restart_entry,
    seed_dding_home,
    setup_entry,
)
from tests.fakes.dding_cloud import FakeDdingCloud

type ClientFactory = Callable[[], Awaitable[TestClient]]
URL = f"/api/webhook/{DDING_WEBHOOK_ID}"


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def _setup(
    hass: HomeAssistant, cloud: FakeDdingCloud
) -> tuple[DdingHome, MockConfigEntry]:
    home = seed_dding_home(cloud)
    entry = await setup_entry(hass, dding_data(cloud), unique_id=cloud.CLIENT_ID)
    assert entry.state is ConfigEntryState.LOADED
    return home, entry


async def _push(
    client: TestClient, cloud: FakeDdingCloud, event: str, uuid: str, **kw: Any
) -> None:
    body = cloud.callback_body(event, uuid, **kw)
    resp = await client.post(
        URL, data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 200


async def test_dding_entities(hass: HomeAssistant, dding_cloud: FakeDdingCloud) -> None:
    """Battery, connectivity, activity per lock; the gateway as a device; no
    lock entity, switch or auto-lock sensor that could never work."""
    home, entry = await _setup(hass, dding_cloud)
    states = entry_states(hass, entry)
    assert {k: v[0] for k, v in states.items()} == {
        "event.entrance_activity": "unknown",
        "event.room_a_activity": "unknown",
        "event.room_b_activity": "unknown",
        "binary_sensor.hall_gateway_connectivity": STATE_ON,
        "binary_sensor.entrance_connectivity": STATE_ON,
        "binary_sensor.room_a_connectivity": STATE_ON,
        "binary_sensor.room_b_connectivity": STATE_ON,
        "sensor.entrance_battery": "90",
        "sensor.room_a_battery": "60",
        "sensor.room_b_battery": "40",
        # Every lock that takes codes has its guest-access calendar (issue 17).
        "calendar.entrance_guest_access": "off",
        "calendar.room_a_guest_access": "off",
        "calendar.room_b_guest_access": "off",
    }
    registry = er.async_get(hass)
    ours = {
        e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    }
    # Off by default like every provider's (the event entity has the same).
    assert "sensor.room_a_last_activity" in ours
    assert not [e for e in ours if e.split(".")[0] in ("lock", "switch")]
    assert not [e for e in ours if e.endswith("auto_lock_time")]

    devices = dr.async_get(hass)
    gateway = devices.async_get_device_by_identifier(
        (DOMAIN, _key(entry, f"gateway_{home.gateway}")), entry.entry_id
    )
    assert gateway is not None
    assert gateway.manufacturer == "Dding"
    for uuid in (home.outer, home.room_a, home.room_b):
        device = devices.async_get_device_by_identifier(
            (DOMAIN, _key(entry, uuid)), entry.entry_id
        )
        assert device is not None
        assert device.via_device_id == gateway.id
        assert device.manufacturer


def _key(entry: MockConfigEntry, ident: str) -> str:
    return entry.runtime_data.coordinator.device_key(ident)


async def test_dding_battery_and_connectivity_follow_the_saas(
    hass: HomeAssistant, dding_cloud: FakeDdingCloud, freezer: FrozenDateTimeFactory
) -> None:
    """The hourly listing carries battery and online state (5.7 + 6.2 names)."""
    home, _entry = await _setup(hass, dding_cloud)
    dding_cloud.devices[home.room_a]["power"] = 35
    dding_cloud.devices[home.room_b]["onoff_line"] = 2
    dding_cloud.devices[home.gateway]["onoff_line"] = 2
    await _advance(hass, freezer, timedelta(hours=1, minutes=1))
    assert hass.states.get("sensor.room_a_battery").state == "35"
    assert hass.states.get("binary_sensor.room_b_connectivity").state == STATE_OFF
    assert hass.states.get("binary_sensor.hall_gateway_connectivity").state == (
        STATE_OFF
    )
    # -1 is "unknown" (6.2): the last known level stays.
    dding_cloud.devices[home.room_a]["power"] = -1
    await _advance(hass, freezer, timedelta(hours=1, minutes=1))
    assert hass.states.get("sensor.room_a_battery").state == "35"


async def test_dding_callbacks_become_events(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """Section-9 callbacks on the entry's webhook: events, battery, online."""
    home, entry = await _setup(hass, dding_cloud)
    client = await hass_client_no_auth()
    events = async_capture_events(hass, EVENT_LOCK)
    await _push(
        client,
        dding_cloud,
        "lockerOpenAlarm",
        home.room_a,
        detail={"source": 2, "sourceid": 1001, "source_name": "Guest"},
    )
    await _push(
        client, dding_cloud, "batteryAlarm", home.room_b, detail={"battery_level": 9}
    )
    await _push(client, dding_cloud, "lockOfflineAlarm", home.outer)
    await _push(client, dding_cloud, "centerOfflineAlarm", home.gateway)
    await hass.async_block_till_done()
    assert [e.data["type"] for e in events] == [
        "unlocked",
        "battery_low",
        "offline",
        "gateway_offline",
    ]
    opened = events[0].data
    assert opened["type"] == "unlocked"
    assert opened["method"] == "code"
    assert opened["code_id"] == "1001"
    assert opened["lock_id"] == home.room_a
    assert hass.states.get("event.room_a_activity").attributes["event_type"] == (
        "unlocked"
    )
    assert hass.states.get("sensor.room_b_battery").state == "9"
    assert hass.states.get("binary_sensor.entrance_connectivity").state == STATE_OFF
    assert hass.states.get("binary_sensor.hall_gateway_connectivity").state == (
        STATE_OFF
    )
    assert entry.runtime_data.coordinator.webhook_seen


async def test_dding_events_polled_every_six_hours(
    hass: HomeAssistant, dding_cloud: FakeDdingCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Without push, 6.11 is read every 6 hours; each record fires once."""
    home, _entry = await _setup(hass, dding_cloud)
    events = async_capture_events(hass, EVENT_LOCK)
    await _advance(hass, freezer, timedelta(minutes=5))
    dding_cloud.add_lock_event(home.room_b, password_id=1001)
    dding_cloud.reset_calls()
    await _advance(hass, freezer, timedelta(hours=5))
    assert dding_cloud.calls["get_lock_events"] == 0
    await _advance(hass, freezer, timedelta(hours=1, minutes=1))
    assert dding_cloud.calls["get_lock_events"] == 3
    assert [(e.data["lock_id"], e.data["method"]) for e in events] == [
        (home.room_b, "code")
    ]
    await _advance(hass, freezer, timedelta(hours=6, minutes=1))
    assert len(events) == 1


async def test_dding_pushed_and_polled_opening_is_one_event(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    hass_client_no_auth: ClientFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A pushed opening is not announced again by the poll (same event id); one
    the push missed is (push healthy: the daily safety-net poll)."""
    home, _entry = await _setup(hass, dding_cloud)
    client = await hass_client_no_auth()
    events = async_capture_events(hass, EVENT_LOCK)
    pushed = dding_cloud.add_lock_event(home.room_a, password_id=1001)
    await _push(
        client,
        dding_cloud,
        "lockerOpenAlarm",
        home.room_a,
        time_ms=pushed["time"],
        detail={k: pushed[k] for k in ("source", "sourceid", "source_name")},
    )
    await hass.async_block_till_done()
    assert len(events) == 1
    await _advance(hass, freezer, timedelta(minutes=5))
    dding_cloud.add_lock_event(home.room_b)  # its push was lost
    for _ in range(5):
        await _advance(hass, freezer, timedelta(hours=5))
    assert [(e.data["lock_id"], e.data["type"]) for e in events] == [
        (home.room_a, "unlocked"),
        (home.room_b, "unlocked"),
    ]


async def test_dding_token_expiry_mid_run(
    hass: HomeAssistant, dding_cloud: FakeDdingCloud, freezer: FrozenDateTimeFactory
) -> None:
    """An expired token (102) is renewed once and the refresh goes on."""
    home, entry = await _setup(hass, dding_cloud)
    dding_cloud.expire_tokens()
    dding_cloud.devices[home.room_a]["power"] = 22
    dding_cloud.reset_calls()
    await _advance(hass, freezer, timedelta(hours=1, minutes=1))
    assert dding_cloud.calls["access_token"] == 1
    assert hass.states.get("sensor.room_a_battery").state == "22"
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_dding_revoked_secret_asks_for_reauth(
    hass: HomeAssistant, dding_cloud: FakeDdingCloud, freezer: FrozenDateTimeFactory
) -> None:
    """A secret the SaaS no longer accepts: entities unavailable, reauth."""
    _home, _entry = await _setup(hass, dding_cloud)
    dding_cloud.CLIENT_SECRET = "rotated-by-dding"  # type: ignore[misc]
    dding_cloud.revoke_tokens()
    await _advance(hass, freezer, timedelta(hours=1, minutes=1))
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    assert hass.states.get("sensor.room_a_battery").state == STATE_UNAVAILABLE


async def test_dding_restart_keeps_every_state_without_calls(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """After a restart every entity reads as before, with at most the listing."""
    home, entry = await _setup(hass, dding_cloud)
    client = await hass_client_no_auth()
    await _push(client, dding_cloud, "lockerOpenAlarm", home.room_a)
    await _push(
        client, dding_cloud, "batteryAlarm", home.room_b, detail={"battery_level": 8}
    )
    await hass.async_block_till_done()
    before = entry_states(hass, entry)
    dding_cloud.reset_calls()
    await restart_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert dding_cloud.total_calls <= 1, dding_cloud.calls
    assert entry_states(hass, entry) == before
    assert dt_util.utcnow()


async def test_dding_callback_from_an_unmanaged_home_offers_a_repair(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    hass_client_no_auth: ClientFactory,
    hass_client: ClientFactory,
) -> None:
    """A callback naming another home of the account: a fixable repair adds it
    (the SaaS is asked first), and the reloaded entry shows its locks."""
    assert await async_setup_component(hass, "repairs", {})
    _home, entry = await _setup(hass, dding_cloud)
    dding_cloud.add_home("home-2002")
    cabin = dding_cloud.add_lock("home-2002", name="Cabin")
    client = await hass_client_no_auth()
    await _push(client, dding_cloud, "lockerOpenAlarm", cabin)
    await _push(client, dding_cloud, "lockerOpenAlarm", cabin)
    await hass.async_block_till_done()
    issues = [
        i
        for (domain, issue_id), i in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue_id.startswith("dding_unknown_home")
    ]
    assert len(issues) == 1
    assert issues[0].is_fixable
    assert issues[0].translation_placeholders == {
        "account": entry.title,
        "home_id": "home-2002",
    }
    http = await hass_client()
    resp = await http.post(
        "/api/repairs/issues/fix",
        json={"handler": DOMAIN, "issue_id": issues[0].issue_id},
    )
    assert resp.status == 200
    flow = await resp.json()
    assert flow["step_id"] == "confirm"
    resp = await http.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert (await resp.json())["type"] == "create_entry"
    await hass.async_block_till_done()
    assert entry.data["home_ids"] == ["home-1001", "home-2002"]
    assert entry.state is ConfigEntryState.LOADED
    assert cabin in entry.runtime_data.coordinator.data.locks
    assert hass.states.get("sensor.cabin_battery") is not None
    assert ir.async_get(hass).async_get_issue(DOMAIN, issues[0].issue_id) is None


async def test_dding_repair_refuses_a_home_the_saas_does_not_know(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    hass_client_no_auth: ClientFactory,
    hass_client: ClientFactory,
) -> None:
    """Anyone with the URL can post: a forged home id is checked and not added."""
    assert await async_setup_component(hass, "repairs", {})
    home, entry = await _setup(hass, dding_cloud)
    client = await hass_client_no_auth()
    body = dding_cloud.callback_body("lockerOpenAlarm", home.room_a)
    for n in range(8):
        body["home_id"] = f"forged-{n}"
        await client.post(
            URL, data=json.dumps(body), headers={"Content-Type": "application/json"}
        )
    await hass.async_block_till_done()
    ours = [
        issue_id
        for (domain, issue_id) in ir.async_get(hass).issues
        if domain == DOMAIN and issue_id.startswith("dding_unknown_home")
    ]
    assert len(ours) == 5  # bounded
    http = await hass_client()
    resp = await http.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": ours[0]}
    )
    flow = await resp.json()
    resp = await http.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    answer = await resp.json()
    assert answer["type"] == "form"
    assert answer["errors"] == {"base": "unknown_home"}
    assert entry.data["home_ids"] == ["home-1001"]


async def test_dding_calls_are_counted_in_the_budget(
    hass: HomeAssistant, dding_cloud: FakeDdingCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Every request the client sends is in the account's call count (meter=)."""
    _home, entry = await _setup(hass, dding_cloud)
    await _advance(hass, freezer, timedelta(hours=6, minutes=1))
    ledger = entry.runtime_data.coordinator.ledger
    assert ledger is not None
    counted = sum(sum(day.values()) for day in ledger.days.values())
    assert counted == dding_cloud.total_calls > 0
    assert hass.states.get("sensor.test_account_api_calls_this_month") is not None


async def test_dding_callback_url_repair_says_to_ask_dding(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """Until the first callback: a repair with the URL to give Dding (there is
    no console field); the first callback removes it."""
    await hass.config.async_update(external_url="https://ha.example.com")
    home, entry = await _setup(hass, dding_cloud)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"webhook_not_called_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_key == "dding_webhook_not_called"
    assert issue.translation_placeholders["webhook_url"] == (
        f"https://ha.example.com/api/webhook/{DDING_WEBHOOK_ID}"
    )
    client = await hass_client_no_auth()
    await _push(client, dding_cloud, "lockerOpenAlarm", home.room_a)
    await hass.async_block_till_done()
    assert (
        ir.async_get(hass).async_get_issue(
            DOMAIN, f"webhook_not_called_{entry.entry_id}"
        )
        is None
    )
