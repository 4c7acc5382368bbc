"""TTLock client against the fake TTLock cloud, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
import logging
import time
from typing import Any

import aiohttp
import pytest

from custom_components.ttlock_gateway.providers.models import (
    AuthError,
    CannotConnectError,
    CodeKind,
    CodeStorageFullError,
    DuplicateCodeError,
    InvalidRequestError,
    LockProvider,
    LockState,
    NotSupportedError,
    ProviderError,
    RateLimitError,
    TransientError,
)
from custom_components.ttlock_gateway.providers.ttlock import (
    REGIONS,
    TTLockClient,
    md5_password,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud

CloudFactory = Callable[..., Awaitable[FakeTTLockCloud]]


@pytest.fixture
async def make_cloud(socket_enabled: None) -> AsyncIterator[CloudFactory]:
    """Start fake clouds on demand; stop them all at teardown."""
    clouds: list[FakeTTLockCloud] = []

    async def _make(**kwargs: Any) -> FakeTTLockCloud:
        cloud = FakeTTLockCloud(**kwargs)
        await cloud.start()
        clouds.append(cloud)
        return cloud

    yield _make
    for cloud in clouds:
        await cloud.stop()


@pytest.fixture
async def cloud(make_cloud: CloudFactory) -> FakeTTLockCloud:
    return await make_cloud()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def make_client(
    cloud: FakeTTLockCloud,
    session: aiohttp.ClientSession,
    *,
    password: str = FakeTTLockCloud.PASSWORD,
    **kwargs: Any,
) -> TTLockClient:
    kwargs.setdefault("busy_retry_delays", (0, 0, 0))
    return TTLockClient(
        session,
        client_id=cloud.CLIENT_ID,
        client_secret=cloud.CLIENT_SECRET,
        username=cloud.USERNAME,
        password_md5=md5_password(password),
        base_url=cloud.base_url,
        **kwargs,
    )


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


# --------------------------------------------------------------------- basics


def test_md5_password() -> None:
    assert md5_password("secret") == "5ebe2294ecd0e0f08eab7690d2a6ee69"
    assert md5_password("x") == md5_password("x").lower()


def test_regions_and_protocol(session: aiohttp.ClientSession) -> None:
    assert REGIONS == {
        "eu": "https://euapi.ttlock.com",
        "cn": "https://cnapi.ttlock.com",
    }
    client = TTLockClient(
        session,
        client_id="a",
        client_secret="b",
        username="c",
        password_md5=md5_password("d"),
        max_concurrency=7,
    )
    provider: LockProvider = client
    assert provider.provider == "ttlock"
    assert provider.max_concurrency == 7


async def test_login(cloud: FakeTTLockCloud, session: aiohttp.ClientSession) -> None:
    client = make_client(cloud, session)
    info = await client.async_login()
    assert info.unique_id == f"{cloud.CLIENT_ID}_{cloud.UID}"
    assert info.title == cloud.USERNAME
    assert cloud.calls["/oauth2/token"] == 1
    # A held, fresh token is reused.
    await client.async_login()
    assert cloud.calls["/oauth2/token"] == 1


async def test_login_wrong_password(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    client = make_client(cloud, session, password="wrong")
    with pytest.raises(AuthError) as err:
        await client.async_login()
    assert err.value.code == 10007


async def test_plain_password_rejected(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """The fake insists on md5 (so a successful login proves md5 was sent)."""
    client = TTLockClient(
        session,
        client_id=cloud.CLIENT_ID,
        client_secret=cloud.CLIENT_SECRET,
        username=cloud.USERNAME,
        password_md5=cloud.PASSWORD,
        base_url=cloud.base_url,
    )
    with pytest.raises(AuthError) as err:
        await client.async_login()
    assert err.value.code == 30005


async def test_bad_client_secret(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    client = TTLockClient(
        session,
        client_id=cloud.CLIENT_ID,
        client_secret="nope",
        username=cloud.USERNAME,
        password_md5=md5_password(cloud.PASSWORD),
        base_url=cloud.base_url,
    )
    with pytest.raises(AuthError) as err:
        await client.async_login()
    assert err.value.code == 10001


async def test_fake_wire_rules(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """JSON bodies, missing tokens and stale dates are refused like the real cloud."""
    async with session.post(
        f"{cloud.base_url}/oauth2/token", json={"clientId": cloud.CLIENT_ID}
    ) as resp:
        body = await resp.json()
    assert body["errcode"] == -3
    assert "application/x-www-form-urlencoded" in body["errmsg"]

    client = make_client(cloud, session)
    await client.async_login()
    token = client._access_token
    base = {"clientId": cloud.CLIENT_ID, "accessToken": token}
    async with session.get(
        f"{cloud.base_url}/v3/lock/list",
        params={**base, "date": str(int(time.time() * 1000) - 600_000)},
    ) as resp:
        assert (await resp.json())["errcode"] == 80000
    async with session.get(
        f"{cloud.base_url}/v3/lock/list",
        params={"clientId": cloud.CLIENT_ID, "date": str(int(time.time() * 1000))},
    ) as resp:
        assert (await resp.json())["errcode"] == 10003
    async with session.get(
        f"{cloud.base_url}/v3/lock/list",
        params={**base, "accessToken": "bogus", "date": str(int(time.time() * 1000))},
    ) as resp:
        assert (await resp.json())["errcode"] == 10004


# ---------------------------------------------------------------------- locks


async def test_list_locks_and_capabilities(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    gw = cloud.add_gateway(name="Hall gateway")
    front = cloud.add_lock(name="Front", gateway_id=gw, battery=55)
    wifi = cloud.add_lock(name="Garage", wifi=True, passage_mode=False)
    bare = cloud.add_lock(name="Shed")
    cloud.locks[bare]["lockAlias"] = ""
    client = make_client(cloud, session)

    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}
    assert set(locks) == {str(front), str(wifi), str(bare)}

    lock = locks[str(front)]
    assert lock.name == "Front"
    assert lock.battery == 55
    assert lock.has_gateway is True
    assert lock.mac == cloud.locks[front]["lockMac"]
    assert lock.aliases == (cloud.locks[front]["lockMac"],)
    assert lock.manufacturer == "TTLock"
    caps = lock.capabilities
    assert (caps.remote_unlock, caps.remote_lock, caps.passage_mode, caps.codes) == (
        True,
        True,
        True,
        True,
    )
    assert (caps.code_min_length, caps.code_max_length) == (4, 9)

    garage = locks[str(wifi)]
    assert garage.has_gateway is False
    assert garage.capabilities.remote_unlock is True
    assert garage.capabilities.codes is True
    assert garage.capabilities.passage_mode is False

    shed = locks[str(bare)]
    assert shed.name == cloud.locks[bare]["lockName"]
    assert shed.capabilities.remote_unlock is False
    assert shed.capabilities.remote_lock is False
    assert shed.capabilities.passage_mode is False
    assert shed.capabilities.codes is False
    assert cloud.calls["/v3/lock/list"] == 1


async def test_list_locks_paged(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    for i in range(1005):
        cloud.add_lock(name=f"Lock {i}")
    client = make_client(cloud, session)
    locks = await client.async_list_locks()
    assert len(locks) == 1005
    assert len({lock.lock_id for lock in locks}) == 1005
    assert cloud.calls["/v3/lock/list"] == 2


async def test_lock_details(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    gw = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gw, auto_lock_time=15)
    other = cloud.add_lock(name="Back", gateway_id=gw)
    client = make_client(cloud, session)
    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}

    lock = await client.async_get_lock_details(locks[str(lock_id)])
    assert lock.passage_mode is False
    assert lock.auto_lock_seconds == 15
    assert lock.firmware == cloud.locks[lock_id]["firmwareRevision"]
    assert lock.model == cloud.locks[lock_id]["modelNum"]
    assert lock.name == "Front"

    cloud.locks[other]["passageMode"] = 1
    back = await client.async_get_lock_details(locks[str(other)])
    assert back.passage_mode is True
    assert back.auto_lock_seconds is None


async def test_unlock_and_lock(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    gw = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gw)
    client = make_client(cloud, session)

    await client.async_unlock(str(lock_id))
    assert cloud.unlocks == [lock_id]
    assert await client.async_query_open_state(str(lock_id)) is LockState.UNLOCKED
    await client.async_lock(str(lock_id))
    assert cloud.locks_done == [lock_id]
    assert await client.async_query_open_state(str(lock_id)) is LockState.LOCKED
    cloud.open_state[lock_id] = 2
    assert await client.async_query_open_state(str(lock_id)) is None
    assert [r["recordType"] for r in cloud.records[lock_id]] == [12, 11]


async def test_passage_mode(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    gw = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gw)
    client = make_client(cloud, session)

    assert await client.async_get_passage_mode(str(lock_id)) is False
    await client.async_set_passage_mode(str(lock_id), True)
    assert cloud.locks[lock_id]["passageMode"] == 1
    config = cloud.passage_config[lock_id]
    assert config["isAllDay"] == 1
    assert config["autoUnlock"] == 1
    assert config["weekDays"] == "[1,2,3,4,5,6,7]"
    assert await client.async_get_passage_mode(str(lock_id)) is True
    await client.async_set_passage_mode(str(lock_id), False)
    assert cloud.locks[lock_id]["passageMode"] == 2
    assert await client.async_get_passage_mode(str(lock_id)) is False


async def test_gateways(cloud: FakeTTLockCloud, session: aiohttp.ClientSession) -> None:
    online = cloud.add_gateway(name="Hall")
    offline = cloud.add_gateway(name="Attic", online=False)
    cloud.add_lock(name="Front", gateway_id=online)
    client = make_client(cloud, session)
    gateways = {gw.gateway_id: gw for gw in await client.async_list_gateways()}
    assert set(gateways) == {str(online), str(offline)}
    assert gateways[str(online)].online is True
    assert gateways[str(online)].name == "Hall"
    assert gateways[str(online)].lock_count == 1
    assert gateways[str(online)].mac == cloud.gateways[online]["gatewayMac"]
    assert gateways[str(offline)].online is False


# ------------------------------------------------------------------ passcodes


async def test_passcodes_add_list_change_delete(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    gw = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gw)
    client = make_client(cloud, session)
    start = datetime(2030, 1, 1, 12, tzinfo=UTC)
    end = start + timedelta(days=2)

    added = await client.async_add_code(str(lock_id), "Guest", "123456", start, end)
    assert added.lock_id == str(lock_id)
    assert added.code == "123456"
    assert added.kind is CodeKind.PERIOD
    assert (added.start, added.end) == (start, end)
    stored = cloud.passcodes[lock_id][int(added.code_id)]
    assert stored["keyboardPwdType"] == 3
    assert stored["startDate"] == int(start.timestamp() * 1000)

    generated = await client.async_generate_code(str(lock_id), "Cleaner", start, end)
    assert generated.code is not None
    assert generated.code.isdigit()
    assert (
        generated.code
        == cloud.passcodes[lock_id][int(generated.code_id)]["keyboardPwd"]
    )

    # A permanent and a cyclic code set up in the app.
    cloud.passcodes[lock_id][1] = {
        "keyboardPwdId": 1,
        "keyboardPwd": "9999",
        "keyboardPwdName": "Family",
        "keyboardPwdType": 2,
        "startDate": 0,
        "endDate": 0,
        "sendDate": 0,
        "isCustom": 1,
    }
    cloud.passcodes[lock_id][2] = {**cloud.passcodes[lock_id][1]}
    cloud.passcodes[lock_id][2].update(
        keyboardPwdId=2, keyboardPwd="8888", keyboardPwdType=7
    )

    codes = {code.code_id: code for code in await client.async_list_codes(str(lock_id))}
    assert set(codes) == {added.code_id, generated.code_id, "1", "2"}
    assert codes[added.code_id].name == "Guest"
    assert codes[added.code_id].start == start
    assert codes[added.code_id].end == end
    assert codes["1"].kind is CodeKind.PERMANENT
    assert codes["1"].start is None
    assert codes["1"].end is None
    assert codes["2"].kind is CodeKind.CYCLIC

    later = end + timedelta(days=1)
    await client.async_change_code(
        str(lock_id), added.code_id, name="Guest (longer)", start=start, end=later
    )
    changed = cloud.passcodes[lock_id][int(added.code_id)]
    assert changed["keyboardPwdName"] == "Guest (longer)"
    assert changed["endDate"] == int(later.timestamp() * 1000)
    assert changed["keyboardPwd"] == "123456"

    await client.async_delete_code(str(lock_id), added.code_id)
    assert int(added.code_id) not in cloud.passcodes[lock_id]
    # Unknown ids answer 0, like the real cloud.
    await client.async_delete_code(str(lock_id), "123")


async def test_list_codes_paged(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    gw = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gw)
    client = make_client(cloud, session)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    start_ms = int(start.timestamp() * 1000)
    for i in range(248):  # seeded directly, then two more over HTTP
        cloud.passcodes[lock_id][i + 1] = {
            "keyboardPwdId": i + 1,
            "keyboardPwd": f"{1000 + i}",
            "keyboardPwdName": f"Guest {i}",
            "keyboardPwdType": 3,
            "startDate": start_ms,
            "endDate": start_ms + 3_600_000,
            "sendDate": start_ms,
            "isCustom": 1,
        }
    for i in (248, 249):
        await client.async_add_code(
            str(lock_id), f"Guest {i}", f"{1000 + i}", start, start + timedelta(hours=1)
        )
    codes = await client.async_list_codes(str(lock_id))
    assert len(codes) == 250
    assert {code.code for code in codes} == {f"{1000 + i}" for i in range(250)}
    assert cloud.calls["/v3/lock/listKeyboardPwd"] == 2

    with pytest.raises(CodeStorageFullError) as err:
        await client.async_add_code(
            str(lock_id), "One too many", "99999", start, start + timedelta(hours=1)
        )
    assert err.value.code == -3009


async def test_duplicate_and_bad_codes(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    gw = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gw)
    client = make_client(cloud, session)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=1)
    await client.async_add_code(str(lock_id), "A", "4321", start, end)
    with pytest.raises(DuplicateCodeError) as dup:
        await client.async_add_code(str(lock_id), "B", "4321", start, end)
    assert dup.value.code == -3007
    with pytest.raises(InvalidRequestError) as bad:
        await client.async_add_code(str(lock_id), "C", "12", start, end)
    assert bad.value.code == -3006
    assert not isinstance(bad.value, DuplicateCodeError)


# --------------------------------------------------------------------- events


async def test_get_events(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    gw = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gw)
    other = cloud.add_lock(name="Back", gateway_id=gw)
    base = int(datetime(2030, 5, 1, 8, tzinfo=UTC).timestamp() * 1000)
    cloud.add_record(lock_id, 4, keyboard_pwd="123456", lock_date_ms=base + 3000)
    cloud.add_record(lock_id, 1, lock_date_ms=base + 1000)
    cloud.add_record(lock_id, 45, lock_date_ms=base + 2000)
    cloud.add_record(lock_id, 12, lock_date_ms=base - 3_600_000)  # before the window
    cloud.add_record(other, 1, lock_date_ms=base + 1500)
    client = make_client(cloud, session)

    events = await client.async_get_events(
        str(lock_id), _utc(base), _utc(base + 60_000)
    )
    assert len(events) == 3
    assert {event.lock_id for event in events} == {str(lock_id)}
    assert [event.time for event in events] == sorted(event.time for event in events)
    assert events[0].time == _utc(base + 1000)
    assert {event.source for event in events} == {"poll"}
    assert len({event.event_id for event in events}) == 3


async def test_get_events_paged(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    gw = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gw)
    base = int(datetime(2030, 5, 1, tzinfo=UTC).timestamp() * 1000)
    for i in range(450):
        cloud.add_record(lock_id, 1, lock_date_ms=base + i * 1000)
    client = make_client(cloud, session)
    events = await client.async_get_events(
        str(lock_id), _utc(base), _utc(base + 3_600_000)
    )
    assert len(events) == 450
    assert events[0].time == _utc(base)
    assert events[-1].time == _utc(base + 449_000)
    assert cloud.calls["/v3/lockRecord/list"] == 3


# ----------------------------------------------------------------------- auth


async def test_refresh_before_expiry(
    make_cloud: CloudFactory, session: aiohttp.ClientSession, freezer: Any
) -> None:
    cloud = await make_cloud(token_lifetime=3600)
    client = make_client(cloud, session)
    await client.async_login()
    await client.async_list_locks()
    assert cloud.calls["/oauth2/token"] == 1
    freezer.tick(3500)  # inside the refresh margin, token still valid
    await client.async_list_locks()
    assert cloud.calls["/oauth2/token"] == 2
    # The refreshed token was used: no rejected call, no replay.
    assert cloud.calls["/v3/lock/list"] == 2
    await client.async_list_locks()
    assert cloud.calls["/oauth2/token"] == 2


async def test_expired_token_concurrent_single_refresh(
    make_cloud: CloudFactory, session: aiohttp.ClientSession, freezer: Any
) -> None:
    # No latency here: the frozen clock also stops the event loop's clock.
    cloud = await make_cloud(token_lifetime=3600)
    client = make_client(cloud, session)
    await client.async_login()
    freezer.tick(7200)
    cloud.reset_calls()
    await asyncio.gather(*(client.async_list_locks() for _ in range(5)))
    assert cloud.calls["/oauth2/token"] == 1
    assert cloud.calls["/v3/lock/list"] == 5


async def test_rejected_token_refreshes_once_and_replays(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    cloud.add_lock(name="Front")
    client = make_client(cloud, session)
    await client.async_login()
    cloud.revoke_tokens()
    cloud.reset_calls()
    locks = await client.async_list_locks()
    assert len(locks) == 1
    assert cloud.calls["/oauth2/token"] == 1
    assert cloud.calls["/v3/lock/list"] == 2


async def test_rejected_token_concurrent_callers_single_refresh(
    make_cloud: CloudFactory, session: aiohttp.ClientSession
) -> None:
    cloud = await make_cloud(latency=0.01)
    client = make_client(cloud, session)
    await client.async_login()
    cloud.revoke_tokens()
    cloud.reset_calls()
    await asyncio.gather(client.async_list_locks(), client.async_list_gateways())
    assert cloud.calls["/oauth2/token"] == 1
    assert cloud.calls["/v3/lock/list"] == 2
    assert cloud.calls["/v3/gateway/list"] == 2


async def test_injected_10004_replayed(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    client = make_client(cloud, session)
    await client.async_login()
    cloud.fail("/v3/gateway/list", 10004)
    assert await client.async_list_gateways() == []
    assert cloud.calls["/oauth2/token"] == 2
    assert cloud.calls["/v3/gateway/list"] == 2


async def test_fresh_token_rejected_again_is_transient(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """10004, a refresh that works, 10004 again: the credentials are good (the
    refresh proved it), so it is a passing cloud fault, never a reason for reauth."""
    client = make_client(cloud, session)
    await client.async_login()
    cloud.fail("/v3/gateway/list", 10004, times=2)
    with pytest.raises(TransientError) as err:
        await client.async_list_gateways()
    assert not isinstance(err.value, AuthError)
    assert err.value.code == 10004
    assert cloud.calls["/v3/gateway/list"] == 2
    assert cloud.calls["/oauth2/token"] == 2  # login + one refresh
    assert await client.async_list_gateways() == []


async def test_bad_refresh_token_falls_back_to_login(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    client = make_client(cloud, session)
    await client.async_login()
    cloud.revoke_tokens()
    cloud.revoke_refresh_tokens()
    cloud.reset_calls()
    assert await client.async_list_locks() == []
    assert cloud.calls["/oauth2/token"] == 2  # refresh (10011) + password login


async def test_refresh_and_login_fail_is_auth_error(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    client = make_client(cloud, session)
    await client.async_login()
    cloud.revoke_tokens()
    cloud.revoke_refresh_tokens()
    cloud.PASSWORD = "changed in the app"  # type: ignore[misc]
    with pytest.raises(AuthError) as err:
        await client.async_list_locks()
    assert err.value.code == 10007


# --------------------------------------------------------------------- errors


async def test_rate_limit(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    client = make_client(cloud, session)
    cloud.fail("/v3/lock/list", 30006, "api call limit exceeded")
    with pytest.raises(RateLimitError) as err:
        await client.async_list_locks()
    assert err.value.code == 30006
    assert err.value.retry_after == 3600
    assert err.value.message == "api call limit exceeded"


async def test_gateway_errors_are_transient(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    gw = cloud.add_gateway(online=False)
    lock_id = cloud.add_lock(name="Front", gateway_id=gw)
    bare = cloud.add_lock(name="Shed")
    client = make_client(cloud, session)
    with pytest.raises(TransientError) as offline:
        await client.async_unlock(str(lock_id))
    assert offline.value.code == -3002
    assert not isinstance(offline.value, CannotConnectError)
    with pytest.raises(TransientError) as no_gateway:
        await client.async_unlock(str(bare))
    assert no_gateway.value.code == -2012
    assert cloud.unlocks == []


async def test_busy_retried_then_succeeds(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    gw = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gw)
    client = make_client(cloud, session, busy_retry_delays=(0, 0, 0))
    cloud.fail("/v3/lock/unlock", -3003, times=2)
    await client.async_unlock(str(lock_id))
    assert cloud.calls["/v3/lock/unlock"] == 3
    assert cloud.unlocks == [lock_id]


async def test_busy_retries_exhausted(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    gw = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gw)
    client = make_client(cloud, session, busy_retry_delays=(0, 0.01, 0))
    cloud.fail("/v3/lock/unlock", -3037, times=10)
    with pytest.raises(TransientError) as err:
        await client.async_unlock(str(lock_id))
    assert err.value.code == -3037
    assert cloud.calls["/v3/lock/unlock"] == 4
    # Other transient errors are not retried.
    cloud.reset_calls()
    cloud._faults.clear()
    cloud.fail("/v3/lock/unlock", -3036)
    with pytest.raises(TransientError):
        await client.async_unlock(str(lock_id))
    assert cloud.calls["/v3/lock/unlock"] == 1


@pytest.mark.parametrize("mode", ["disconnect", "http500", "timeout"])
async def test_outages_cannot_connect(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession, mode: str
) -> None:
    client = make_client(cloud, session, request_timeout=0.3)
    await client.async_login()
    cloud.set_outage(mode)
    with pytest.raises(CannotConnectError):
        await client.async_list_locks()
    cloud.set_outage(None)
    assert await client.async_list_locks() == []


async def test_cloud_unreachable(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    client = TTLockClient(
        session,
        client_id="a",
        client_secret="b",
        username="c",
        password_md5=md5_password("d"),
        base_url="http://127.0.0.1:9",
        request_timeout=2,
    )
    with pytest.raises(CannotConnectError):
        await client.async_login()


async def test_invalid_request_errors(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    client = make_client(cloud, session)
    with pytest.raises(InvalidRequestError) as err:
        await client.async_unlock("999")
    assert err.value.code == -1003
    for code in (-3, -2018, -2025, 1):
        cloud.fail("/v3/lock/list", code)
        with pytest.raises(InvalidRequestError) as err:
            await client.async_list_locks()
        assert err.value.code == code
    # 80000 (request date off): the clock is at fault, not the request.
    for code in (-3034, -3035, 90000, 80000):
        cloud.fail("/v3/lock/list", code)
        with pytest.raises(TransientError):
            await client.async_list_locks()
    for code in (10000, 20002):
        cloud.fail("/v3/lock/list", code)
        with pytest.raises(AuthError):
            await client.async_list_locks()


async def test_not_supported(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    gw = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gw, remote_unlock=False)
    client = make_client(cloud, session)
    locks = await client.async_list_locks()
    assert locks[0].capabilities.remote_unlock is True  # feature bit present
    with pytest.raises(NotSupportedError) as err:
        await client.async_unlock(str(lock_id))
    assert err.value.code == -4043


async def test_secrets_never_in_errors_or_logs(
    cloud: FakeTTLockCloud,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    gw = cloud.add_gateway(online=False)
    lock_id = cloud.add_lock(name="Front", gateway_id=gw)
    client = make_client(cloud, session, request_timeout=0.3)
    await client.async_login()
    token = client._access_token
    refresh = client._refresh_token
    assert token
    assert refresh
    errors: list[ProviderError] = []
    for action in (
        lambda: client.async_unlock(str(lock_id)),
        lambda: client.async_unlock("1"),
    ):
        with pytest.raises(ProviderError) as err:
            await action()
        errors.append(err.value)
    for mode in ("disconnect", "http500"):
        cloud.set_outage(mode)
        with pytest.raises(ProviderError) as err:
            await client.async_list_locks()
        errors.append(err.value)
    cloud.set_outage(None)
    cloud.revoke_tokens()
    cloud.revoke_refresh_tokens()
    cloud.PASSWORD = "changed"  # type: ignore[misc]
    with pytest.raises(AuthError) as auth:
        await client.async_list_locks()
    errors.append(auth.value)

    secrets = [
        token,
        refresh,
        cloud.CLIENT_SECRET,
        FakeTTLockCloud.PASSWORD,
        md5_password(FakeTTLockCloud.PASSWORD),
    ]
    texts = [str(error) for error in errors] + [repr(e) for e in errors]
    texts.append(caplog.text)
    for text in texts:
        for secret in secrets:
            assert secret not in text


# ---------------------------------------------------------------- concurrency


async def test_unlocks_serialised_per_lock(
    make_cloud: CloudFactory, session: aiohttp.ClientSession
) -> None:
    cloud = await make_cloud(latency=0.01)
    gw = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gw)
    other = cloud.add_lock(name="Back", wifi=True)
    client = make_client(cloud, session)
    await client.async_login()
    await asyncio.gather(
        *(client.async_unlock(str(lock_id)) for _ in range(10)),
        *(client.async_lock(str(other)) for _ in range(3)),
    )
    assert cloud.max_in_flight_per_lock[lock_id] == 1
    assert cloud.max_in_flight_per_lock[other] == 1
    assert cloud.unlocks == [lock_id] * 10
    assert cloud.locks_done == [other] * 3
    # Different locks are not serialised against each other.
    assert cloud.max_in_flight >= 2


async def test_gateway_busy_window_retried(
    make_cloud: CloudFactory, session: aiohttp.ClientSession
) -> None:
    cloud = await make_cloud()
    cloud.gateway_busy_window = 0.05
    gw = cloud.add_gateway()
    first = cloud.add_lock(name="Front", gateway_id=gw)
    second = cloud.add_lock(name="Back", gateway_id=gw)
    client = make_client(cloud, session, busy_retry_delays=(0.1, 0.1, 0.1))
    await client.async_login()
    await asyncio.gather(
        client.async_unlock(str(first)), client.async_unlock(str(second))
    )
    assert sorted(cloud.unlocks) == sorted([first, second])
    assert cloud.calls["/v3/lock/unlock"] == 3


async def test_max_concurrency_bound(
    make_cloud: CloudFactory, session: aiohttp.ClientSession
) -> None:
    cloud = await make_cloud(latency=0.03)
    gw = cloud.add_gateway()
    lock_ids = [cloud.add_lock(name=f"Lock {i}", gateway_id=gw) for i in range(12)]
    client = make_client(cloud, session, max_concurrency=3)
    assert client.max_concurrency == 3
    locks = await client.async_list_locks()
    await asyncio.gather(
        *(client.async_get_lock_details(lock) for lock in locks),
        *(client.async_unlock(str(lock_id)) for lock_id in lock_ids),
    )
    assert cloud.max_in_flight == 3
    assert len(cloud.unlocks) == 12
