"""The webhook against senders that are early, slow, forged, repetitive or huge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
import json
import logging
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import webhook as ha_webhook
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ttlock_gateway import webhook as our_webhook
from custom_components.ttlock_gateway.const import (
    CONF_WEBHOOK_ID,
    DOMAIN,
    EVENT_JOB,
    EVENT_LOCK,
)
from custom_components.ttlock_gateway.providers.callbacks import (
    MAX_JOB_DEPTH,
    MAX_JOB_EVENT_BYTES,
)
from tests.common import (
    TTLOCK_WEBHOOK_ID,
    TUYA_WEBHOOK_ID,
    seed_ttlock_home,
    setup_entry,
    ttlock_callback,
    ttlock_data,
    ttlock_record,
    tuya_data,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud

type ClientFactory = Callable[[], Awaitable[TestClient]]

URL = f"/api/webhook/{TTLOCK_WEBHOOK_ID}"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
LOGGER_NAME = "custom_components.ttlock_gateway"


def _now_ms() -> int:
    return int(dt_util.utcnow().timestamp() * 1000)


async def _post(
    client: TestClient, body: str | bytes, content_type: str = FORM, url: str = URL
) -> ClientResponse:
    return await client.post(url, data=body, headers={"Content-Type": content_type})


# --------------------------------------------------------------------------- #
# Before the entry is loaded


async def test_pushes_during_setup_retry_are_kept_within_a_bound(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kept until loaded, in order; past the bound the sender is told to retry
    (503), never answered 200 and dropped. Garbage is still refused."""
    assert our_webhook.MAX_BUFFERED == 1000
    monkeypatch.setattr(our_webhook, "MAX_BUFFERED", 5)
    home = seed_ttlock_home(ttlock_cloud)
    ttlock_cloud.set_outage("http500")
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert entry.state is ConfigEntryState.SETUP_RETRY
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()

    base = _now_ms()
    bodies = [
        ttlock_callback(
            ttlock_cloud,
            home.back,
            [ttlock_record(home.back, 4, base + i, username=f"G{i}")],
        )
        for i in range(6)
    ]
    for body in bodies[:5]:
        resp = await _post(client, body)
        assert (resp.status, await resp.text()) == (200, "success")
    resp = await _post(client, bodies[5])
    assert resp.status == 503
    assert resp.headers["Retry-After"] == "60"
    assert (await _post(client, "x")).status == 400
    await hass.async_block_till_done()
    assert events == []

    ttlock_cloud.set_outage(None)
    freezer.tick(timedelta(minutes=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert [e.data["user"] for e in events] == ["G0", "G1", "G2", "G3", "G4"]
    # Loaded: the sixth, sent again, goes straight through.
    assert (await _post(client, bodies[5])).status == 200
    assert [e.data["user"] for e in events][-1] == "G5"


async def test_entry_removed_while_retrying_unregisters_its_webhook(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """No webhook (and no kept pushes) outlive the entry."""
    seed_ttlock_home(ttlock_cloud)
    ttlock_cloud.set_outage("http500")
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert TTLOCK_WEBHOOK_ID in hass.data[ha_webhook.DOMAIN]
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert TTLOCK_WEBHOOK_ID not in hass.data[ha_webhook.DOMAIN]


# --------------------------------------------------------------------------- #
# Slow senders


async def test_a_slow_body_is_cut_off(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A body that does not arrive within the read deadline gets 408 while the
    sender is still sending; nothing is applied."""
    assert our_webhook.READ_DEADLINE <= 5
    monkeypatch.setattr(our_webhook, "READ_DEADLINE", 0.2)
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    body = ttlock_callback(
        ttlock_cloud, home.back, [ttlock_record(home.back, 4, _now_ms())]
    ).encode()
    stalled = asyncio.Event()

    async def trickle() -> AsyncIterator[bytes]:
        yield body[:10]
        await stalled.wait()  # the rest never comes while the server waits
        yield body[10:]

    resp = await client.post(URL, data=trickle(), headers={"Content-Type": FORM})
    assert resp.status == 408
    assert not stalled.is_set()
    stalled.set()
    await hass.async_block_till_done()
    assert events == []
    assert hass.states.get("lock.back_door").state == "unknown"


# --------------------------------------------------------------------------- #
# Sender checks


async def test_ttlock_sender_fields_must_match_the_lock(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A lockMac or admin that contradicts the lock: answered like any other
    callback, a debug line, nothing changes. Case and separators do not matter."""
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    record = [ttlock_record(home.back, 4, _now_ms())]
    genuine = json.loads(json.dumps(record))
    mac = ttlock_cloud.locks[home.back]["lockMac"]
    other_mac = ttlock_cloud.locks[home.front]["lockMac"]

    for forged in (
        {"lockMac": other_mac},
        {"admin": "intruder@example.com"},
    ):
        body = ttlock_callback(ttlock_cloud, home.back, record)
        fields = dict(part.split("=", 1) for part in body.split("&"))
        key, value = next(iter(forged.items()))
        from urllib.parse import quote

        fields[key] = quote(value)
        resp = await _post(client, "&".join(f"{k}={v}" for k, v in fields.items()))
        assert (resp.status, await resp.text()) == (200, "success")
        await hass.async_block_till_done()
        assert events == []
        assert hass.states.get("lock.back_door").state == "unknown"
    assert "lockMac is not the lock's MAC" in caplog.text
    assert "admin is not this account" in caplog.text
    assert mac not in caplog.text  # MACs are never logged
    assert not entry.runtime_data.coordinator.webhook_seen

    # The same MAC in lower case without colons, the admin in other case: fine.
    body = ttlock_callback(ttlock_cloud, home.back, genuine)
    body = body.replace(
        "lockMac=" + mac.replace(":", "%3A"), "lockMac=" + mac.replace(":", "").lower()
    ).replace("admin=owner", "admin=OWNER")
    assert "lockMac=" + mac.replace(":", "").lower() in body
    assert (await _post(client, body)).status == 200
    await hass.async_block_till_done()
    assert [e.data["type"] for e in events] == ["unlocked"]
    assert hass.states.get("lock.back_door").state == "unlocked"


async def test_admin_of_a_shared_lock_is_someone_else(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """A lock shared to this account names its owner as admin: accepted."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    entry.runtime_data.coordinator.data.locks[str(home.back)].shared = True
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    body = ttlock_callback(
        ttlock_cloud, home.back, [ttlock_record(home.back, 4, _now_ms())]
    ).replace("admin=owner%40example.com", "admin=landlord%40example.com")
    assert "landlord" in body
    assert (await _post(client, body)).status == 200
    await hass.async_block_till_done()
    assert len(events) == 1


async def test_records_for_another_lock_ride_no_callback(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """The sender fields describe the callback's lock: a record naming another
    lock inside it is not applied (it would slip past that lock's checks)."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    now = _now_ms()
    body = ttlock_callback(
        ttlock_cloud,
        home.shed,
        [ttlock_record(home.shed, 4, now), ttlock_record(home.back, 4, now + 1)],
    )
    assert (await _post(client, body)).status == 200
    await hass.async_block_till_done()
    assert [e.data["entity_id"] for e in events] == ["lock.shed"]
    assert hass.states.get("lock.back_door").state == "unknown"


# --------------------------------------------------------------------------- #
# Dding


def _dding(event: str, uuid: str, **extra: Any) -> str:
    return json.dumps({"event": event, "uuid": uuid, "home_id": "h", **extra})


async def test_dding_uuid_matches_lock_id_or_mac_in_any_spelling(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    mac = ttlock_cloud.locks[home.back]["lockMac"]
    second = _now_ms() // 1000
    for number, uuid in enumerate(
        [str(home.front), mac.lower(), mac.replace(":", ""), mac.replace(":", "-")]
    ):
        body = _dding("brokenAlarm", uuid, time=second + number)
        assert (await _post(client, body, JSON)).status == 200
    await hass.async_block_till_done()
    assert [e.data["entity_id"] for e in events] == [
        "lock.front_door",
        "lock.back_door",
        "lock.back_door",
        "lock.back_door",
    ]


async def test_dding_seconds_and_milliseconds_are_one_alarm(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    mac = ttlock_cloud.locks[home.back]["lockMac"]
    second = _now_ms() // 1000
    for when in (second, second * 1000, second * 1000 + 999):
        body = _dding("brokenAlarm", mac, time=when)
        assert (await _post(client, body, JSON)).status == 200
    await hass.async_block_till_done()
    assert len(events) == 1


async def test_dding_without_time_is_deduplicated_by_a_short_window(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientFactory,
) -> None:
    """1,000 identical bodies without time over 30 s: one tamper event. The same
    alarm again after a minute is a new one."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()
    body = _dding("brokenAlarm", ttlock_cloud.locks[home.back]["lockMac"])
    for number in range(1000):
        if number % 100 == 0:
            freezer.tick(timedelta(seconds=3))
        assert (await _post(client, body, JSON)).status == 200
    await hass.async_block_till_done()
    assert [e.data["type"] for e in events] == ["tamper"]

    freezer.tick(timedelta(seconds=61))
    assert (await _post(client, body, JSON)).status == 200
    await hass.async_block_till_done()
    assert [e.data["type"] for e in events] == ["tamper", "tamper"]


# --------------------------------------------------------------------------- #
# Job callbacks


async def test_job_data_too_deep_or_too_large_is_summarised(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A 632-byte body nested 300 levels and a 60 KB one: the event still
    reaches a websocket subscriber, with a summary in place of ``data``."""
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    jobs = async_capture_events(hass, EVENT_JOB)
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id({"type": "subscribe_events", "event_type": EVENT_JOB})
    assert (await ws.receive_json())["success"]
    client = await hass_client_no_auth()

    deep = (
        '{"job":"j1","method":"addPwd","status":1,"tag":"t","data":'
        + ("[" * 300 + "]" * 300)
        + "}"
    )
    assert len(deep) < 700
    big = json.dumps(
        {
            "job": "j2",
            "method": "addPwd",
            "status": 1,
            "tag": {"booking": "B-17"},
            "data": {f"k{i}": "x" * 100 for i in range(540)},
        }
    )
    assert 58_000 < len(big) < 64 * 1024
    for body in (deep, big):
        assert (await _post(client, body, JSON)).status == 200
    await hass.async_block_till_done()

    assert len(jobs) == 2
    for job in jobs:
        assert len(json.dumps(job.data)) <= MAX_JOB_EVENT_BYTES
        assert job.data["entry_id"] == entry.entry_id
    assert jobs[0].data["data"]["summarised"] == f"deeper than {MAX_JOB_DEPTH} levels"
    assert jobs[0].data["tag"] == "t"
    assert jobs[1].data["data"]["summarised"] == (
        f"larger than {MAX_JOB_EVENT_BYTES} bytes"
    )
    assert jobs[1].data["data"]["length"] == 540
    assert jobs[1].data["data"]["bytes"] > 58_000
    assert jobs[1].data["tag"] == {"booking": "B-17"}  # the tag fits: kept

    received = [await ws.receive_json() for _ in range(2)]
    assert [m["event"]["data"]["job"] for m in received] == ["j1", "j2"]


async def test_job_data_within_bounds_is_untouched(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    jobs = async_capture_events(hass, EVENT_JOB)
    client = await hass_client_no_auth()
    nested: Any = {"leaf": 1}
    for _ in range(MAX_JOB_DEPTH - 1):
        nested = {"n": nested}
    body = json.dumps({"job": "j", "method": "m", "status": 1, "data": nested})
    assert (await _post(client, body, JSON)).status == 200
    await hass.async_block_till_done()
    assert jobs[0].data["data"] == nested


# --------------------------------------------------------------------------- #
# Tuya entries and the webhook id


async def test_tuya_entry_gets_no_callback_repair(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Tuya has no push here: no "set the callback URL" it could never satisfy."""
    tuya_cloud.add_device(name="Front gate")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    issues = ir.async_get(hass)
    assert (
        issues.async_get_issue(DOMAIN, f"webhook_not_called_{entry.entry_id}") is None
    )
    assert TUYA_WEBHOOK_ID in hass.data[ha_webhook.DOMAIN]


async def test_options_flow_gives_a_new_webhook_url(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """The old URL stops working at once; the new one works and is shown."""
    hass.config.external_url = "https://home.example.com"
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    options = dict(entry.options)
    events = async_capture_events(hass, EVENT_LOCK)
    client = await hass_client_no_auth()

    result = await hass.config_entries.options.async_init(entry.entry_id)
    defaults = {
        str(k): k.default() for k in result["data_schema"].schema if callable(k.default)
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults, "new_webhook_url": True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "new_webhook_url"
    url = result["description_placeholders"]["webhook_url"]
    assert url.startswith("https://home.example.com/api/webhook/")
    assert TTLOCK_WEBHOOK_ID not in url
    # Nothing changes before the confirmation.
    assert entry.data[CONF_WEBHOOK_ID] == TTLOCK_WEBHOOK_ID

    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    new_id = entry.data[CONF_WEBHOOK_ID]
    assert url.endswith(new_id)
    assert "new_webhook_url" not in entry.options
    assert entry.options == options | defaults
    assert entry.state is ConfigEntryState.LOADED
    registered = hass.data[ha_webhook.DOMAIN]
    assert TTLOCK_WEBHOOK_ID not in registered
    assert new_id in registered

    body = ttlock_callback(
        ttlock_cloud, home.back, [ttlock_record(home.back, 4, _now_ms())]
    )
    resp = await _post(client, body)
    assert (resp.status, await resp.text()) == (200, "")  # unknown id now
    await hass.async_block_till_done()
    assert events == []
    resp = await _post(client, body, url=f"/api/webhook/{new_id}")
    assert (resp.status, await resp.text()) == (200, "success")
    await hass.async_block_till_done()
    assert len(events) == 1


async def test_options_without_the_action_keep_the_webhook(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    seed_ttlock_home(ttlock_cloud)
    entry: MockConfigEntry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    result = await hass.config_entries.options.async_init(entry.entry_id)
    defaults = {
        str(k): k.default() for k in result["data_schema"].schema if callable(k.default)
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults, "new_webhook_url": False}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.data[CONF_WEBHOOK_ID] == TTLOCK_WEBHOOK_ID
    assert "new_webhook_url" not in entry.options
