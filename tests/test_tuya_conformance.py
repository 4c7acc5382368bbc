"""Tuya client against the documented behaviour of the real cloud (issue 13).

Each test names the documentation, seed or public client its rule comes from;
the fake (tests/fakes/tuya_cloud.py) enforces the same rule.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.ttlock_gateway.providers.models import (
    AuthError,
    CodePhase,
    EventType,
    NotSupportedError,
    RateLimitError,
    TransientError,
)
from custom_components.ttlock_gateway.providers.tuya import TuyaClient
from tests.fakes.tuya_cloud import FakeTuyaCloud

ASSOCIATED = "GET /v1.0/iot-01/associated-users/devices"
CODES = "GET /v1.0/devices/{id}/door-lock/temp-passwords"


@pytest.fixture
async def cloud(socket_enabled: Any) -> AsyncIterator[FakeTuyaCloud]:
    fake = FakeTuyaCloud()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as sess:
        yield sess


def _client(
    cloud: FakeTuyaCloud, session: aiohttp.ClientSession, **kwargs: Any
) -> TuyaClient:
    kwargs.setdefault("busy_retry_delays", (0, 0))
    return TuyaClient(
        session,
        access_id=cloud.ACCESS_ID,
        access_secret=cloud.ACCESS_SECRET,
        base_url=cloud.base_url,
        **kwargs,
    )


@pytest.fixture
def client(cloud: FakeTuyaCloud, session: aiohttp.ClientSession) -> TuyaClient:
    return _client(cloud, session)


async def _until(condition: Callable[[], bool]) -> None:
    """Yield to the loop until ``condition`` holds (bounded, no wall clock)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


def answer_raw(cloud: FakeTuyaCloud, route: str, make: Any) -> None:
    """Answer the next signed call of ``route`` with ``make()`` (once)."""
    original = cloud._dispatch
    remaining = [1]

    async def _dispatch(
        request: web.Request, found: str, params: dict[str, str], body: bytes
    ) -> web.StreamResponse:
        if found == route and remaining[0] > 0:
            remaining[0] -= 1
            response: web.StreamResponse = make()
            return response
        return await original(request, found, params, body)

    cloud._dispatch = _dispatch  # type: ignore[method-assign]


# ---------------------------------------------------------------- transport


async def test_empty_body_post_sends_no_octet_stream(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """The official SDK (tuya-connector-python openapi.py, requests json=None)
    sends no Content-Type without a body; aiohttp's default octet-stream is
    answered 1006 "not support content type" by the fake."""
    dev = cloud.add_device(name="Front")
    await client.async_list_locks()
    await client.async_unlock(dev)  # password-ticket is an empty-body POST
    assert cloud.unlocks == [dev]
    assert "application/octet-stream" not in cloud.content_types
    assert "application/json" in cloud.content_types


async def test_last_row_key_with_plus_is_encoded_and_signed(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """The row key is opaque (here with + / =): signed as is, sent
    percent-encoded, so the cloud decodes what was signed."""
    cloud.page_size = 1
    ids = {cloud.add_device(name=f"Lock {n}") for n in range(3)}
    locks = await client.async_list_locks()
    assert {lock.lock_id for lock in locks} == ids
    assert cloud.calls[ASSOCIATED] == 3


async def test_t_is_taken_after_the_concurrency_slot(
    cloud: FakeTuyaCloud, session: aiohttp.ClientSession, freezer: Any
) -> None:
    """A call that waited for the slot carries a fresh ``t`` (1013 beyond 5 min)."""
    client = _client(cloud, session, max_concurrency=1, request_timeout=7200)
    dev = cloud.add_device(name="Front")
    await client.async_list_locks()
    gate = cloud.gate(CODES)
    held = asyncio.create_task(client.async_list_codes(dev))
    await _until(lambda: cloud.calls[CODES] == 1)
    waiting = asyncio.create_task(client.async_list_locks())
    for _ in range(50):
        await asyncio.sleep(0)
    freezer.tick(6 * 60)
    gate.set()
    await held
    assert [lock.lock_id for lock in await waiting] == [dev]


async def test_clock_offset_learned_from_the_answer(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """1013: the answer's ``t`` is the cloud's clock; one retry with it."""
    cloud.add_device(name="Front")
    await client.async_list_locks()
    cloud.clock_skew_ms = -9 * 60 * 1000
    cloud.reset_calls()
    assert len(await client.async_list_locks()) == 1
    assert cloud.calls[ASSOCIATED] == 2
    cloud.reset_calls()
    await client.async_list_locks()
    assert cloud.calls[ASSOCIATED] == 1


@pytest.mark.parametrize("literal", [b"NaN", b"1e400", b"Infinity"])
async def test_non_finite_numbers_are_refused(
    cloud: FakeTuyaCloud, client: TuyaClient, literal: bytes
) -> None:
    """json.loads takes NaN and 1e400; one such value must not become a model."""
    dev = cloud.add_device(name="Front")
    await client.async_list_locks()
    body = b'{"success":true,"t":1,"result":[{"id":1,"phase":' + literal + b"}]}"
    answer_raw(
        cloud, CODES, lambda: web.Response(body=body, content_type="application/json")
    )
    with pytest.raises(TransientError):
        await client.async_list_codes(dev)


@pytest.mark.parametrize("status", [403, 408])
async def test_http_403_and_408_are_transient(
    cloud: FakeTuyaCloud, client: TuyaClient, status: int
) -> None:
    dev = cloud.add_device(name="Front")
    await client.async_list_locks()
    answer_raw(cloud, CODES, lambda: web.Response(status=status, text="no"))
    with pytest.raises(TransientError) as err:
        await client.async_list_codes(dev)
    assert err.value.code == status


async def test_too_frequent_is_a_rate_limit(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    dev = cloud.add_device(name="Front")
    await client.async_list_locks()
    cloud.fail(CODES, 1199, "your requests are too frequent")
    with pytest.raises(RateLimitError):
        await client.async_list_codes(dev)


async def test_permission_denied_on_a_device_is_not_reauth(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """1106 "permission deny" on one device's API is per device (error-code
    page: the API or device data is not authorised); the account works."""
    dev = cloud.add_device(name="Front")
    await client.async_list_locks()
    cloud.fail(CODES, 1106, "permission deny")
    with pytest.raises(NotSupportedError) as err:
        await client.async_list_codes(dev)
    assert not isinstance(err.value, AuthError)
    assert await client.async_list_codes(dev) == []


async def test_permission_denied_listing_the_account_is_reauth(
    cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    client = _client(cloud, session, user_uid="someone-else")
    with pytest.raises(AuthError) as err:
        await client.async_list_locks()
    assert err.value.code == 1106


# --------------------------------------------------------------------- logs


async def test_open_logs_v1_1_in_milliseconds(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """Seed 002: v1.1 open-logs take ms; v1.0 (legacy) seconds. Asked in ms on
    v1.0, a window of "now" is year 50,000: no event would ever arrive."""
    dev = cloud.add_device(name="Front")
    now = datetime.now(UTC)
    cloud.add_open_log(dev, "unlock_fingerprint", 3, t_ms=int(now.timestamp() * 1000))
    cloud.add_alarm_log(dev, "wrong_password", t_ms=int(now.timestamp() * 1000))
    cloud.add_alarm_log(dev, "1", t_ms=int(now.timestamp() * 1000) - 1, code="doorbell")
    await client.async_list_locks()
    events = await client.async_get_events(
        dev, now - timedelta(hours=1), now + timedelta(minutes=1)
    )
    assert sorted(e.type for e in events) == sorted(
        [EventType.UNLOCKED, EventType.WRONG_CODE, EventType.DOORBELL]
    )
    assert cloud.calls["GET /v1.1/devices/{id}/door-lock/open-logs"] == 1
    assert cloud.calls["GET /v1.1/devices/{id}/door-lock/alarm-logs"] == 1
    assert cloud.calls["GET /v1.0/devices/{id}/door-lock/open-logs"] == 0


async def test_logs_fall_back_to_v1_0_in_seconds(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """Where v1.1 is "uri path invalid" (1108), v1.0 is asked in seconds."""
    dev = cloud.add_device(name="Front")
    cloud.meta[dev]["logs_v1_1"] = False
    now = datetime.now(UTC)
    cloud.add_open_log(dev, "unlock_card", 2, t_ms=int(now.timestamp() * 1000))
    cloud.add_alarm_log(dev, "pry", t_ms=int(now.timestamp() * 1000))
    await client.async_list_locks()
    events = await client.async_get_events(
        dev, now - timedelta(hours=1), now + timedelta(minutes=1)
    )
    assert sorted(e.type for e in events) == sorted(
        [EventType.UNLOCKED, EventType.TAMPER]
    )
    assert cloud.calls["GET /v1.0/devices/{id}/door-lock/open-logs"] == 1
    assert cloud.calls["GET /v1.0/devices/{id}/door-lock/alarm-logs"] == 1


# ------------------------------------------------------------- code phases


async def _code(cloud: FakeTuyaCloud, client: TuyaClient, dev: str, pin: str) -> str:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    await client.async_list_locks()
    code = await client.async_add_code(
        dev, "Guest", pin, start, start + timedelta(days=1)
    )
    return code.code_id


@pytest.mark.parametrize("protocol", ["zigbee", "ble"])
async def test_failed_delivery_is_not_delivered(
    cloud: FakeTuyaCloud, client: TuyaClient, protocol: str
) -> None:
    """Seed 001 phases: Zigbee 5 (delivery_status 3) / BLE 7 = failed."""
    dev = cloud.add_device(name="Sub", category="ms", wifi=False, protocol=protocol)
    code_id = await _code(cloud, client, dev, "123456")
    cloud.codes[dev][code_id]["phase"] = 2
    cloud.codes[dev][code_id]["delivery_status"] = 2
    assert [c.phase for c in await client.async_list_codes(dev)] == [
        CodePhase.DELIVERED
    ]
    cloud.fail_delivery(dev, code_id)
    (code,) = await client.async_list_codes(dev)
    assert code.phase is CodePhase.FAILED
    assert not code.live


@pytest.mark.parametrize("status", [3, 5, 6])
async def test_zigbee_delivery_status_failure(
    cloud: FakeTuyaCloud, client: TuyaClient, status: int
) -> None:
    dev = cloud.add_device(name="Zig", category="ms", wifi=False, protocol="zigbee")
    code_id = await _code(cloud, client, dev, "123456")
    cloud.codes[dev][code_id].update(phase=2, delivery_status=status)
    assert [c.phase for c in await client.async_list_codes(dev)] == [CodePhase.FAILED]


async def test_wifi_to_be_deleted_is_not_live(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """Seed 001 Wi-Fi phase 3 = to be deleted: listed, no longer valid."""
    dev = cloud.add_device(name="Front")
    code_id = await _code(cloud, client, dev, "1234567")
    cloud.devices[dev]["online"] = False
    await client.async_delete_code(dev, code_id)
    (code,) = await client.async_list_codes(dev)
    assert code.phase is CodePhase.DELETING
    assert not code.live


async def test_access_control_revoked_code_stays_listed_as_revoked(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """hass-tuya-lock-bridge (api.py, hardware): a revoked code on mk stays in
    the list as phase 17/19."""
    dev = cloud.add_device(name="Gate", category="mk")
    code_id = await _code(cloud, client, dev, "1234567")
    await client.async_delete_code(dev, code_id)
    for phase in (17, 19):
        cloud.codes[dev][code_id]["phase"] = phase
        (code,) = await client.async_list_codes(dev)
        assert code.phase is CodePhase.REVOKED
        assert not code.live
