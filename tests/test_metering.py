"""The counting hook: every request a client sends, counted once, by endpoint.

The fakes count what arrives; the meter must agree with them exactly (token
calls, a replay after a rejected token, busy retries included), and its labels
must hold no id or secret.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
import re
from typing import Any

import aiohttp
import pytest

from custom_components.ttlock_gateway.providers.dding import DdingClient
from custom_components.ttlock_gateway.providers.metering import endpoint_label
from custom_components.ttlock_gateway.providers.models import RateLimitError
from custom_components.ttlock_gateway.providers.ttlock import (
    TTLockClient,
    md5_password,
)
from custom_components.ttlock_gateway.providers.tuya import TuyaClient
from tests.fakes.dding_cloud import FakeDdingCloud
from tests.fakes.gateway_service import FakeGatewayService
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud
from tests.gateway_service_helpers import make_client as gateway_client


class RecordingMeter:
    """A meter that keeps what it is told."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.limits: list[RateLimitError] = []

    def count(self, endpoint: str) -> None:
        self.counts[endpoint] += 1

    def limit_reached(self, error: RateLimitError) -> None:
        self.limits.append(error)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as sess:
        yield sess


def _templates(calls: Counter[str]) -> Counter[str]:
    """The Tuya fake's route templates with every placeholder named ``{id}``."""
    out: Counter[str] = Counter()
    for route, n in calls.items():
        out[re.sub(r"\{\w+\}", "{id}", route)] += n
    return out


def _ttlock(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession, meter: RecordingMeter
) -> TTLockClient:
    return TTLockClient(
        session,
        client_id=cloud.CLIENT_ID,
        client_secret=cloud.CLIENT_SECRET,
        username=cloud.USERNAME,
        password_md5=md5_password(cloud.PASSWORD),
        base_url=cloud.base_url,
        busy_retry_delays=(0, 0, 0),
        meter=meter,
    )


def _tuya(
    cloud: FakeTuyaCloud, session: aiohttp.ClientSession, meter: RecordingMeter
) -> TuyaClient:
    return TuyaClient(
        session,
        access_id=cloud.ACCESS_ID,
        access_secret=cloud.ACCESS_SECRET,
        base_url=cloud.base_url,
        busy_retry_delays=(0, 0, 0),
        meter=meter,
    )


def test_labels_hide_ids_and_queries() -> None:
    assert (
        endpoint_label("get", "/v1.0/devices/vdevo123/door-lock/open-logs?x=1")
        == "GET /v1.0/devices/{id}/door-lock/open-logs"
    )
    assert endpoint_label("GET", "/v1.0/token/abc123") == "GET /v1.0/token/{id}"
    assert endpoint_label("GET", "/v1.0/token?grant_type=1") == "GET /v1.0/token"
    assert (
        endpoint_label("DELETE", "/v1.0/devices/d1/door-lock/temp-passwords/77")
        == "DELETE /v1.0/devices/{id}/door-lock/temp-passwords/{id}"
    )
    weird = endpoint_label("GET", "/x\x00" + "y" * 500)
    assert len(weird) <= 120
    assert weird.isprintable()


async def test_ttlock_every_request_counted(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """Login, a rejected token (refresh + replay) and busy retries all count."""
    gateway = ttlock_cloud.add_gateway()
    lock = ttlock_cloud.add_lock(name="Front", gateway_id=gateway)
    meter = RecordingMeter()
    client = _ttlock(ttlock_cloud, session, meter)
    await client.async_list_locks()
    ttlock_cloud.revoke_tokens()
    await client.async_list_gateways()
    ttlock_cloud.fail("/v3/lock/unlock", -3003, "busy", times=2)
    await client.async_unlock(str(lock))

    assert meter.total == ttlock_cloud.total_calls
    by_path: Counter[str] = Counter()
    for label, n in meter.counts.items():
        by_path[label.split(" ", 1)[1]] += n
    assert by_path == ttlock_cloud.calls
    assert meter.counts["POST /v3/lock/unlock"] == 3
    assert meter.counts["POST /oauth2/token"] >= 2  # login, then the refresh
    assert meter.limits == []


async def test_ttlock_monthly_limit_is_reported(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    ttlock_cloud.add_lock(name="Front")
    meter = RecordingMeter()
    client = _ttlock(ttlock_cloud, session, meter)
    await client.async_login()
    ttlock_cloud.monthly_calls_left = 0
    with pytest.raises(RateLimitError) as err:
        await client.async_list_locks()
    assert err.value.quota
    (limit,) = meter.limits
    assert limit is err.value
    assert limit.reset_at is not None
    assert limit.reset_at > datetime.now(UTC)
    assert meter.total == ttlock_cloud.total_calls


async def test_ttlock_frequency_limit_is_not_a_quota(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """30006 (too many calls now) is not the month's quota."""
    ttlock_cloud.add_lock(name="Front")
    meter = RecordingMeter()
    client = _ttlock(ttlock_cloud, session, meter)
    ttlock_cloud.fail("/v3/lock/list", 30006, "limit")
    with pytest.raises(RateLimitError) as err:
        await client.async_list_locks()
    assert not err.value.quota
    assert meter.limits == []


async def test_tuya_every_request_counted_token_hidden(
    tuya_cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    device = tuya_cloud.add_device(name="Front gate", passage_mode=False)
    meter = RecordingMeter()
    client = _tuya(tuya_cloud, session, meter)
    await client.async_list_locks()
    tuya_cloud.revoke_tokens()  # 1010: refresh, then the same call again
    await client.async_list_locks()
    tuya_cloud.fail("POST /v1.0/devices/{id}/commands", 1110, "busy", times=1)
    await client.async_set_passage_mode(device, True)

    assert meter.counts == _templates(tuya_cloud.calls)
    assert meter.counts["GET /v1.0/token/{id}"] == 1
    assert meter.counts["POST /v1.0/devices/{id}/commands"] == 2
    for label in meter.counts:
        assert device not in label
        assert client._token is not None
        assert client._token.refresh_token not in label


async def test_tuya_quota_used_up_is_reported(
    tuya_cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    """28841004: the project's resource pack is spent; no reset date is known."""
    tuya_cloud.add_device(name="Front gate")
    meter = RecordingMeter()
    client = _tuya(tuya_cloud, session, meter)
    await client.async_list_locks()
    tuya_cloud.quota_left = 0
    with pytest.raises(RateLimitError) as err:
        await client.async_list_locks()
    assert err.value.quota
    assert err.value.reset_at is None
    assert err.value.code == 28841004
    assert meter.limits == [err.value]
    assert meter.counts == _templates(tuya_cloud.calls)


async def test_dding_every_request_counted(
    socket_enabled: Any, session: aiohttp.ClientSession
) -> None:
    cloud = FakeDdingCloud()
    await cloud.start()
    try:
        cloud.add_lock("home-1", name="Door")
        meter = RecordingMeter()
        client = DdingClient(
            session,
            client_id=cloud.CLIENT_ID,
            client_secret=cloud.CLIENT_SECRET,
            home_ids=["home-1"],
            base_url=cloud.base_url,
            meter=meter,
        )
        locks = await client.async_list_locks()
        await client.async_get_lock_details(locks[0])
        assert {label.split(" ", 1)[1]: n for label, n in meter.counts.items()} == dict(
            cloud.calls
        )
        assert meter.total == cloud.total_calls > 0
    finally:
        await cloud.stop()


async def test_gateway_service_every_request_counted(
    gateway_service: FakeGatewayService, session: aiohttp.ClientSession
) -> None:
    gateway_service.add_user()
    meter = RecordingMeter()
    client = gateway_client(gateway_service, session, meter=meter)
    await client.async_login()
    await client.async_get_code_packet()
    assert {
        label.removeprefix("POST "): n for label, n in meter.counts.items()
    } == dict(gateway_service.calls)
    assert meter.total > 0
