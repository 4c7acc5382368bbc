"""Reliability: expired tokens, outages, busy gateways, rate limits, fuzz, secrets.

Every scenario drives Home Assistant against the fake clouds over real HTTP on
loopback. Schedules move with ``freezer``; nothing sleeps on the wall clock except
the fake gateway's few-millisecond busy window in the storm test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
import json
import logging
import random
import string
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.lock import (
    DOMAIN as LOCK_DOMAIN,
    SERVICE_UNLOCK,
    LockState,
)
from homeassistant.components.switch import (
    DOMAIN as SWITCH_DOMAIN,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
)
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, MATCH_ALL, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.ttlock_gateway.const import (
    DOMAIN,
    EVENT_CODE_ADDED,
    EVENT_CODE_FAILED,
    EVENT_LOCK,
    RETRY_AFTER_FAILURE,
)
from custom_components.ttlock_gateway.coordinator import LockCoordinator
from custom_components.ttlock_gateway.providers.callbacks import (
    CallbackError,
    parse_callback,
)
from custom_components.ttlock_gateway.providers.ttlock import md5_password
from tests.common import (
    TTLOCK_WEBHOOK_ID,
    seed_ttlock_home,
    setup_entry,
    ttlock_data,
    tuya_data,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud

ClientFactory = Callable[[], Awaitable[TestClient]]
FORM = "application/x-www-form-urlencoded"
TTLOCK_URL = f"/api/webhook/{TTLOCK_WEBHOOK_ID}"
TUYA_LIST = "GET /v1.0/iot-01/associated-users/devices"
GUEST_CODE = "482913"


def coordinator_of(entry: MockConfigEntry) -> LockCoordinator:
    """The entry's coordinator."""
    return entry.runtime_data.coordinator  # type: ignore[no-any-return]


async def tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Move the clock and let every timer that fell due run to the end."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def unlock(hass: HomeAssistant, entity_id: str) -> None:
    """lock.unlock, blocking."""
    await hass.services.async_call(
        LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


def our_states(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """State of every lock and gateway entity of the entry.

    Not the account's API call count: it stays available while the cloud
    cannot be read (then it matters most); asserted separately below.
    """
    registry = er.async_get(hass)
    return {
        ent.entity_id: hass.states.get(ent.entity_id).state
        for ent in er.async_entries_for_config_entry(registry, entry.entry_id)
        if hass.states.get(ent.entity_id) is not None
        and not ent.unique_id.endswith("_api_calls_month")
    }


def api_calls_state(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """The account's API call count while the cloud is out: still a number."""
    registry = er.async_get(hass)
    (ent,) = [
        ent
        for ent in er.async_entries_for_config_entry(registry, entry.entry_id)
        if ent.unique_id.endswith("_api_calls_month")
    ]
    state = hass.states.get(ent.entity_id)
    assert state is not None
    return state.state


def our_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Log records, without the fake Tuya cloud's own access log.

    Only the integration's and Home Assistant's loggers: the fake Tuya server's
    aiohttp access log fails to format its line under ``freezer`` and the
    harness's debug loop reports each frozen tick as a slow callback.
    """
    return [
        r
        for r in caplog.records
        if r.name.startswith(("custom_components", "homeassistant"))
    ]


def assert_no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    """Failures are logged as one line, never with a stack.

    Home Assistant's coordinator adds the stack of a failed refresh at DEBUG
    ("Full error:"), visible only with debug logging on; that is accepted.
    """
    records = [r for r in our_records(caplog) if r.levelno >= logging.INFO]
    assert not [r for r in records if r.exc_info or r.stack_info]
    text = "\n".join(r.getMessage() for r in records)
    assert "Traceback" not in text


def ttlock_record(lock_id: int, record_id: int, **extra: Any) -> dict[str, Any]:
    """A TTLock lock record as the cloud pushes it (keypad unlock)."""
    now_ms = int(dt_util.utcnow().timestamp() * 1000)
    return {
        "lockId": lock_id,
        "recordId": record_id,
        "recordType": 4,
        "recordTypeFromLock": 4,
        "success": 1,
        "username": "Guest",
        "keyboardPwd": GUEST_CODE,
        "lockDate": now_ms,
        "serverDate": now_ms + 800,
        "electricQuantity": 77,
        **extra,
    }


def ttlock_form(lock_id: int, records: list[dict[str, Any]]) -> bytes:
    """A TTLock callback body, form-encoded as the cloud sends it."""
    return urlencode(
        {
            "notifyType": 1,
            "lockId": lock_id,
            "lockMac": FakeTTLockCloud.lock_mac(lock_id),
            "admin": FakeTTLockCloud.USERNAME,
            "records": json.dumps(records),
        }
    ).encode()


# ------------------------------------------------------------------ tokens


async def test_ttlock_token_revoked_mid_run(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """10004 on a call: refreshed and replayed; the user sees nothing."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.reset_calls()

    ttlock_cloud.revoke_tokens()
    await tick(hass, freezer, timedelta(hours=1))
    assert coordinator_of(entry).last_update_success
    assert STATE_UNAVAILABLE not in our_states(hass, entry).values()
    assert ttlock_cloud.calls["/oauth2/token"] == 1  # one refresh grant

    ttlock_cloud.revoke_tokens()
    await unlock(hass, "lock.front_door")
    assert ttlock_cloud.unlocks == [home.front]
    assert ttlock_cloud.calls["/oauth2/token"] == 2
    assert hass.states.get("lock.front_door").state == LockState.UNLOCKED
    assert not hass.config_entries.flow.async_progress()
    assert_no_tracebacks(caplog)


async def test_tuya_token_revoked_mid_run(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1010 on a call: refreshed and replayed; the user sees nothing."""
    device = tuya_cloud.add_device(name="Front door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))

    tuya_cloud.revoke_tokens()
    await tick(hass, freezer, timedelta(hours=1))
    assert coordinator_of(entry).last_update_success
    assert STATE_UNAVAILABLE not in our_states(hass, entry).values()

    tuya_cloud.revoke_tokens()
    await unlock(hass, "lock.front_door")
    assert tuya_cloud.unlocks == [device]
    assert not hass.config_entries.flow.async_progress()
    assert_no_tracebacks(caplog)


async def test_ttlock_refresh_refused_starts_reauth(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Token, refresh token and password all refused: reauth, entities unavailable."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    client = await hass_client_no_auth()

    ttlock_cloud.revoke_tokens()
    ttlock_cloud.revoke_refresh_tokens()
    ttlock_cloud.PASSWORD = "changed in the app"  # type: ignore[misc]
    await tick(hass, freezer, timedelta(hours=1))

    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert flows[0]["context"]["entry_id"] == entry.entry_id
    assert entry.state is ConfigEntryState.LOADED
    states = our_states(hass, entry)
    assert states
    assert set(states.values()) == {STATE_UNAVAILABLE}
    assert api_calls_state(hass, entry).isdigit()

    # Nothing else breaks: pushes are still accepted, later ticks start no
    # second flow and do not hammer the token endpoint.
    resp = await client.post(
        TTLOCK_URL,
        data=ttlock_form(home.front, [ttlock_record(home.front, 1)]),
        headers={"Content-Type": FORM},
    )
    assert resp.status == 200
    ttlock_cloud.reset_calls()
    for _ in range(6):
        await tick(hass, freezer, timedelta(minutes=10))
    assert len(hass.config_entries.flow.async_progress()) == 1
    assert ttlock_cloud.total_calls <= 2 * 6
    assert_no_tracebacks(caplog)


async def test_tuya_secret_rotated_starts_reauth(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Tuya has no password: a rotated Access Secret refuses every grant."""
    tuya_cloud.add_device(name="Front door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))

    tuya_cloud.revoke_tokens()
    tuya_cloud.ACCESS_SECRET = "f" * 32  # type: ignore[misc]
    await tick(hass, freezer, timedelta(hours=1))

    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert set(our_states(hass, entry).values()) == {STATE_UNAVAILABLE}
    assert_no_tracebacks(caplog)


# ------------------------------------------------------------------ outages


@pytest.mark.parametrize("mode", ["http500", "disconnect"])
async def test_ttlock_cloud_down_for_an_hour(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    mode: str,
) -> None:
    """Unavailable while down, one ERROR line, one INFO on recovery, self-healing."""
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    caplog.clear()

    ttlock_cloud.set_outage(mode)
    await tick(hass, freezer, timedelta(hours=1))
    assert set(our_states(hass, entry).values()) == {STATE_UNAVAILABLE}

    ttlock_cloud.reset_calls()
    for _ in range(6):  # an hour of retries every RETRY_AFTER_FAILURE
        await tick(hass, freezer, RETRY_AFTER_FAILURE)
    # One attempt per RETRY_AFTER_FAILURE; aiohttp replays an idempotent GET
    # once when a kept-alive connection drops, hence up to two calls each.
    assert 6 <= ttlock_cloud.calls["/v3/lock/list"] <= 12
    assert set(our_states(hass, entry).values()) == {STATE_UNAVAILABLE}

    ttlock_cloud.set_outage(None)
    await tick(hass, freezer, RETRY_AFTER_FAILURE)
    states = our_states(hass, entry)
    assert STATE_UNAVAILABLE not in states.values()
    assert coordinator_of(entry).update_interval == timedelta(hours=1)

    errors = [r for r in our_records(caplog) if r.levelno >= logging.WARNING]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].levelno == logging.ERROR
    assert "Error fetching" in errors[0].getMessage()
    recovered = [r for r in caplog.records if "data recovered" in r.getMessage()]
    assert len(recovered) == 1
    assert recovered[0].levelno == logging.INFO
    assert_no_tracebacks(caplog)


@pytest.mark.parametrize("mode", ["http500", "disconnect"])
async def test_tuya_cloud_down_for_an_hour(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    mode: str,
) -> None:
    """Same for Tuya."""
    tuya_cloud.add_device(name="Front door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    caplog.clear()

    tuya_cloud.set_outage(mode)
    await tick(hass, freezer, timedelta(hours=1))
    assert set(our_states(hass, entry).values()) == {STATE_UNAVAILABLE}
    for _ in range(6):
        await tick(hass, freezer, RETRY_AFTER_FAILURE)

    tuya_cloud.set_outage(None)
    await tick(hass, freezer, RETRY_AFTER_FAILURE)
    assert STATE_UNAVAILABLE not in our_states(hass, entry).values()

    errors = [r for r in our_records(caplog) if r.levelno >= logging.WARNING]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert "Error fetching" in errors[0].getMessage()
    assert len([r for r in caplog.records if "data recovered" in r.getMessage()]) == 1
    assert_no_tracebacks(caplog)


async def test_ttlock_cloud_timeout(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A cloud that never answers: the request times out, entities go unavailable.

    Without ``freezer``: the client's 20 s timeout is shortened to 50 ms on the
    entry's client so the test does not wait; the fake holds the request until
    it stops.
    """
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    provider: Any = entry.runtime_data.provider
    provider._timeout = aiohttp.ClientTimeout(total=0.05)
    coordinator = coordinator_of(entry)
    caplog.clear()

    ttlock_cloud.set_outage("timeout")
    await coordinator.async_refresh()
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert coordinator.update_interval == RETRY_AFTER_FAILURE
    assert set(our_states(hass, entry).values()) == {STATE_UNAVAILABLE}

    ttlock_cloud.set_outage(None)
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert STATE_UNAVAILABLE not in our_states(hass, entry).values()
    errors = [r for r in our_records(caplog) if r.levelno >= logging.WARNING]
    assert len(errors) == 1
    assert "Error fetching" in errors[0].getMessage()
    assert_no_tracebacks(caplog)


# ------------------------------------------------------------ busy gateways


async def test_gateway_busy_storm(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """20 concurrent unlocks and passage switches behind one busy gateway."""
    home = seed_ttlock_home(ttlock_cloud)
    extra = [
        ttlock_cloud.add_lock(name=f"Room {i}", gateway_id=home.gateway)
        for i in range(1, 4)
    ]
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    # The gateway answers -3003 while it handles another lock's command. The
    # client's retry delays are shortened (real ones are 2/4/8 s) so the storm
    # takes milliseconds; the behaviour under test is the same.
    provider: Any = entry.runtime_data.provider
    provider._busy_retry_delays = (0.01, 0.02, 0.04)
    ttlock_cloud.gateway_busy_window = 0.005
    ttlock_cloud.reset_calls()

    calls: list[Awaitable[None]] = []
    for i in range(20):
        lock_id = [home.front, home.back, *extra][i % 4]
        lock_entity = er.async_get(hass).async_get_entity_id(
            LOCK_DOMAIN, DOMAIN, coordinator_of(entry).device_key(str(lock_id))
        )
        assert lock_entity is not None
        if i % 2:
            calls.append(unlock(hass, lock_entity))
        else:
            switch = lock_entity.replace("lock.", "switch.") + "_passage_mode"
            service = SERVICE_TURN_ON if i % 4 == 0 else SERVICE_TURN_OFF
            calls.append(
                hass.services.async_call(
                    SWITCH_DOMAIN, service, {ATTR_ENTITY_ID: switch}, blocking=True
                )
            )
    results = await asyncio.gather(*calls, return_exceptions=True)

    failures = [r for r in results if r is not None]
    assert all(isinstance(r, HomeAssistantError) for r in failures), failures
    # Back door has remote unlock disabled: those unlocks fail, cleanly.
    keys = {getattr(r, "translation_key", None) for r in failures}
    assert keys <= {"not_supported", "lock_busy"}
    assert "not_supported" in keys
    # The gateway did turn commands away (the storm happened) and the client
    # retried them, yet never had two commands for one lock in flight.
    commands = sum(
        ttlock_cloud.calls[p] for p in ("/v3/lock/unlock", "/v3/lock/configPassageMode")
    )
    assert commands > 20
    assert ttlock_cloud.max_in_flight_per_lock
    assert set(ttlock_cloud.max_in_flight_per_lock.values()) == {1}
    assert home.back not in ttlock_cloud.unlocks
    assert set(ttlock_cloud.unlocks) <= {home.front, *extra}
    assert STATE_UNAVAILABLE not in our_states(hass, entry).values()
    assert_no_tracebacks(caplog)


# --------------------------------------------------------------- rate limits


async def test_ttlock_rate_limited(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """30006: a repair issue, the retry waits retry_after, no hammering."""
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    issue_id = f"rate_limited_{entry.entry_id}"
    ttlock_cloud.fail("/v3/lock/list", 30006, "api rate limit", times=100)

    await tick(hass, freezer, timedelta(hours=1))
    coordinator = coordinator_of(entry)
    assert not coordinator.last_update_success
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    ttlock_cloud.reset_calls()
    for _ in range(12):
        await tick(hass, freezer, timedelta(minutes=5))
    assert ttlock_cloud.calls["/v3/lock/list"] <= 2
    assert ttlock_cloud.total_calls <= 2

    ttlock_cloud._faults.clear()  # the quota resets
    for _ in range(12):
        await tick(hass, freezer, timedelta(minutes=5))
    assert coordinator.last_update_success
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert_no_tracebacks(caplog)


async def test_tuya_rate_limited(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """40000305: a repair issue and few calls while the limit lasts."""
    tuya_cloud.add_device(name="Front door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    issue_id = f"rate_limited_{entry.entry_id}"
    tuya_cloud.fail(TUYA_LIST, 40000305, "request frequency limit", times=1000)

    await tick(hass, freezer, timedelta(hours=1))
    assert not coordinator_of(entry).last_update_success
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    # Tuya's limit (40000305) is a request-frequency limit: the client asks for
    # a retry after 60 s (TTLock's 30006 asks for an hour). Ticking by 30 s for
    # an hour shows the coordinator never retries sooner than that.
    tuya_cloud.reset_calls()
    for _ in range(120):
        await tick(hass, freezer, timedelta(seconds=30))
    list_calls = tuya_cloud.calls[TUYA_LIST]
    assert 1 <= list_calls <= 60, f"{list_calls} list calls in the hour"
    others = {k: v for k, v in tuya_cloud.calls.items() if v and k != TUYA_LIST}
    assert set(others) <= {"GET /v1.0/token/{refresh_token}"}  # 2 h token

    tuya_cloud._faults.clear()
    for _ in range(12):
        await tick(hass, freezer, timedelta(minutes=5))
    assert coordinator_of(entry).last_update_success
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert_no_tracebacks(caplog)


# ---------------------------------------------------------------------- fuzz

FUZZ_PARSER_BODIES = 10_000
FUZZ_HTTP_BODIES = 1_000
CONTENT_TYPES = [
    FORM,
    f"{FORM}; charset=UTF-8",
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "",
    "multipart/form-data; boundary=x",
    "application/vnd.api+json",
]


def _seed_bodies(lock_id: int) -> list[bytes]:
    record = ttlock_record(lock_id, 1)
    return [
        ttlock_form(lock_id, [record]),
        ttlock_form(lock_id, [record, {**record, "recordId": 2, "recordType": 7}]),
        json.dumps({"lockId": lock_id, "records": [record]}).encode(),
        json.dumps({"lockId": lock_id, "records": json.dumps([record])}).encode(),
        json.dumps(
            {"event": "unlock", "uuid": "u-1", "time": 1_767_322_800, "nickname": "x"}
        ).encode(),
        json.dumps(
            {"job": "j-1", "method": "keyboardPwd/add", "success": True}
        ).encode(),
    ]


def _mutate(rng: random.Random, body: bytes) -> bytes:
    """One to four random mutations of a valid body."""
    data = bytearray(body)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:  # flip a byte
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:  # truncate
            del data[pos:]
        elif op == 2:  # insert printable junk
            junk = "".join(rng.choices(string.printable, k=rng.randint(1, 12)))
            data[pos:pos] = junk.encode()
        elif op == 3:  # insert JSON-ish tokens
            token = rng.choice(
                [b"null", b"[]", b"{}", b'"', b"1e999", b"NaN", b"-0", b"\\u0000"]
            )
            data[pos:pos] = token
        elif op == 4:  # duplicate a slice
            end = rng.randrange(pos, len(data) + 1)
            data[pos:pos] = data[pos:end]
        elif op == 5:  # swap a form field value
            data += rng.choice(
                [b"&lockId=", b"&records=", b"&records=%5B1%5D", b"&lockId=-1"]
            )
        elif op == 6:  # invalid UTF-8 / BOM
            data[pos:pos] = rng.choice([b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3"])
        elif op == 7:  # deep nesting
            depth = rng.randint(1, 3000)
            data = bytearray(b"[" * depth + b"]" * depth)
        elif data:  # delete a slice
            del data[pos : pos + rng.randint(1, 10)]
    return bytes(data)


def _fuzz_bodies(count: int, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    seeds = _seed_bodies(1_000_001)
    return [
        (rng.choice(CONTENT_TYPES), _mutate(rng, rng.choice(seeds)))
        for _ in range(count)
    ]


def test_fuzz_parser_10000_bodies() -> None:
    """parse_callback answers every mutated body with a result or CallbackError."""
    now = dt_util.utcnow()
    outcomes = {"parsed": 0, "rejected": 0}
    for content_type, body in _fuzz_bodies(FUZZ_PARSER_BODIES, seed=20261123):
        try:
            parse_callback(content_type, body, now=now)
        except CallbackError as err:
            reason = err.reason
        else:
            reason = None
        assert reason is None or (isinstance(reason, str) and reason)
        outcomes["parsed" if reason is None else "rejected"] += 1
    # The corpus exercises both paths, not only the rejections.
    assert outcomes["parsed"] > 100
    assert outcomes["rejected"] > 1000


async def test_fuzz_webhook_http_1000_bodies(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1,000 mutated bodies through HA's HTTP server: 200 or 400, nothing else."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    client = await hass_client_no_auth()
    statuses: dict[int, int] = {}
    for content_type, body in _fuzz_bodies(FUZZ_HTTP_BODIES, seed=7):
        headers = {"Content-Type": content_type} if content_type else {}
        resp = await client.post(TTLOCK_URL, data=body, headers=headers)
        await resp.read()
        statuses[resp.status] = statuses.get(resp.status, 0) + 1
    assert set(statuses) <= {200, 400}, statuses
    assert statuses.get(200, 0) > 10
    # Still serving: a valid push afterwards lands.
    resp = await client.post(
        TTLOCK_URL,
        data=ttlock_form(home.front, [ttlock_record(home.front, 999_999)]),
        headers={"Content-Type": FORM},
    )
    assert resp.status == 200
    assert entry.state is ConfigEntryState.LOADED
    assert_no_tracebacks(caplog)


# ------------------------------------------------------------------- secrets

SECRET_CODE = "918273645"  # 9 digits: will not turn up in ids or timestamps


async def test_no_secrets_in_logs_events_or_diagnostics_ttlock(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    hass_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A full TTLock scenario at DEBUG: no secret, token or code digit leaks."""
    caplog.set_level(logging.DEBUG)
    assert await async_setup_component(hass, "diagnostics", {})
    events: list[Event] = []
    hass.bus.async_listen(MATCH_ALL, callback(lambda event: events.append(event)))
    tokens: set[str] = set()

    def note_tokens() -> None:
        tokens.update(ttlock_cloud._access_tokens, ttlock_cloud._refresh_tokens)

    home = seed_ttlock_home(ttlock_cloud)
    ttlock_cloud.add_record(home.back, 4, username="Guest", keyboard_pwd=SECRET_CODE)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    note_tokens()
    await unlock(hass, "lock.front_door")
    ttlock_cloud.revoke_tokens()  # refresh grant + replay
    await unlock(hass, "lock.front_door")
    note_tokens()
    ttlock_cloud.revoke_tokens()
    ttlock_cloud.revoke_refresh_tokens()  # password grant
    await coordinator_of(entry).async_refresh()
    note_tokens()
    with pytest.raises(HomeAssistantError):  # a failure with its message
        await unlock(hass, "lock.back_door")

    client = await hass_client_no_auth()
    for i, code in enumerate([SECRET_CODE, "4821", "73920155"]):
        resp = await client.post(
            TTLOCK_URL,
            data=ttlock_form(
                home.front, [ttlock_record(home.front, 500 + i, keyboardPwd=code)]
            ),
            headers={"Content-Type": FORM},
        )
        assert resp.status == 200
    await hass.async_block_till_done()
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    assert len(tokens) >= 4
    secrets = {
        "client secret": ttlock_cloud.CLIENT_SECRET,
        "password": ttlock_cloud.PASSWORD,
        "password md5": md5_password(ttlock_cloud.PASSWORD),
        "code": SECRET_CODE,
        "code 2": "73920155",
        **{f"token {t[:4]}": t for t in tokens},
    }
    places = {
        "logs": caplog.text,
        "events": repr([(e.event_type, e.data) for e in events]),
        "states": repr([(s.entity_id, s.attributes) for s in hass.states.async_all()]),
        "diagnostics": json.dumps(diag),
    }
    leaks = [
        f"{what} in {where}"
        for what, value in secrets.items()
        for where, text in places.items()
        if value in text
    ]
    assert not leaks
    assert any(e.event_type == EVENT_LOCK for e in events)  # the scenario ran


async def test_no_secrets_in_logs_or_events_tuya(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A Tuya scenario at DEBUG: no Access Secret or token leaks."""
    caplog.set_level(logging.DEBUG)
    events: list[Event] = []
    hass.bus.async_listen(MATCH_ALL, callback(lambda event: events.append(event)))
    tokens: set[str] = set()
    tuya_cloud.add_device(name="Front door")
    tuya_cloud.add_device(name="Back door", remote_unlock=False)
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    tokens.update(tuya_cloud._access_tokens, tuya_cloud._refresh_tokens)
    await unlock(hass, "lock.front_door")
    tuya_cloud.revoke_tokens()
    await unlock(hass, "lock.front_door")
    tokens.update(tuya_cloud._access_tokens, tuya_cloud._refresh_tokens)
    with pytest.raises(HomeAssistantError):
        await unlock(hass, "lock.back_door")
    await coordinator_of(entry).async_refresh()
    tokens.update(tuya_cloud._access_tokens, tuya_cloud._refresh_tokens)

    assert len(tokens) >= 3
    # The fake Tuya server's own access log shows the refresh token, which
    # Tuya puts in the URL path (GET /v1.0/token/{refresh_token}); that server
    # is not part of the integration, so its lines are left out.
    logs = "\n".join(
        caplog.handler.format(r) for r in caplog.records if r.name != "aiohttp.access"
    )
    text = logs + repr([(e.event_type, e.data) for e in events])
    assert tuya_cloud.ACCESS_SECRET not in text
    assert not [t[:4] for t in tokens if t in text]


# ----------------------------------------------------------- code ledger chaos


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_code_ledger_restarts_at_random_points_of_the_retries(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    seed: int,
) -> None:
    """Restart HA anywhere in the retry cycle: each code lands exactly once."""
    rng = random.Random(seed)
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    added: list[Event] = []
    failed: list[Event] = []
    hass.bus.async_listen(EVENT_CODE_ADDED, callback(lambda e: added.append(e)))
    hass.bus.async_listen(EVENT_CODE_FAILED, callback(lambda e: failed.append(e)))

    ttlock_cloud.gateways[home.gateway]["isOnline"] = 0
    now = dt_util.now()
    codes = {"lock.front_door": "97531", "lock.back_door": "24680"}
    for entity_id, code in codes.items():
        result = await hass.services.async_call(
            DOMAIN,
            "add_code",
            {
                "entity_id": entity_id,
                "name": f"Guest {code}",
                "code": code,
                "start": (now + timedelta(hours=1)).isoformat(),
                "end": (now + timedelta(days=3)).isoformat(),
            },
            blocking=True,
            return_response=True,
        )
        assert result[entity_id]["status"] == "queued"

    # The gateway comes back within two retry intervals; meanwhile time moves
    # in random steps and HA restarts (entry reload) at random moments.
    back_online_at = rng.uniform(5, 40)
    elapsed = 0.0
    restarts = 0
    while elapsed < 180:
        step = rng.uniform(0.5, 25)
        elapsed += step
        if elapsed >= back_online_at:
            ttlock_cloud.gateways[home.gateway]["isOnline"] = 1
        await tick(hass, freezer, timedelta(minutes=step))
        if rng.random() < 0.5:
            assert await hass.config_entries.async_reload(entry.entry_id)
            await hass.async_block_till_done(wait_background_tasks=True)
            restarts += 1
    assert restarts

    landed = {
        lock_id: sorted(
            c["keyboardPwd"] for c in ttlock_cloud.passcodes[lock_id].values()
        )
        for lock_id in (home.front, home.back)
    }
    assert landed == {home.front: ["97531"], home.back: ["24680"]}
    assert sorted(e.data["entity_id"] for e in added) == sorted(codes)
    assert failed == []
    assert_no_tracebacks(caplog)
