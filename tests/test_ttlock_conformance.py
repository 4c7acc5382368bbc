"""TTLock client against the documented behaviour of the real cloud (issue 13).

Each test names the documentation page or public client its rule comes from;
the fake (tests/fakes/ttlock_cloud.py) enforces the same rule.
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
    Capabilities,
    InvalidRequestError,
    Lock,
    NotSupportedError,
    RateLimitError,
    TransientError,
    WrongRegionError,
)
from custom_components.ttlock_gateway.providers.ttlock import (
    MAX_PAGES,
    TTLockClient,
    md5_password,
    next_month_start,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud


async def _until(condition: Callable[[], bool]) -> None:
    """Yield to the loop until ``condition`` holds (bounded, no wall clock)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


def answer_raw(cloud: FakeTTLockCloud, target: str, make: Any) -> None:
    """Answer the next request to ``target`` with ``make()`` (once)."""
    original = cloud._answer
    remaining = [1]

    def patched(path: str, params: dict[str, str]) -> web.StreamResponse:
        if path == target and remaining[0] > 0:
            remaining[0] -= 1
            return make()  # type: ignore[no-any-return]
        return original(path, params)

    cloud._answer = patched  # type: ignore[method-assign]


@pytest.fixture
async def cloud(socket_enabled: None) -> AsyncIterator[FakeTTLockCloud]:
    fake = FakeTTLockCloud()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def make_client(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession, **kwargs: Any
) -> TTLockClient:
    kwargs.setdefault("busy_retry_delays", (0, 0, 0))
    return TTLockClient(
        session,
        client_id=cloud.CLIENT_ID,
        client_secret=cloud.CLIENT_SECRET,
        username=cloud.USERNAME,
        password_md5=md5_password(cloud.PASSWORD),
        base_url=cloud.base_url,
        **kwargs,
    )


@pytest.fixture
def client(cloud: FakeTTLockCloud, session: aiohttp.ClientSession) -> TTLockClient:
    return make_client(cloud, session)


# ------------------------------------------------------------- featureValue


async def test_lock_command_bit_alone_is_no_remote_unlock(
    cloud: FakeTTLockCloud, client: TTLockClient
) -> None:
    """cloud/lock/featureValue: bit 10 is gateway unlock, bit 8 the lock command.
    A lock with bit 8 only answers -4043 to every unlock: offer no Unlock."""
    gateway = cloud.add_gateway()
    lock_only = cloud.add_lock(
        name="Lock only", gateway_id=gateway, gateway_unlock=False
    )
    unlock_only = cloud.add_lock(
        name="Unlock only", gateway_id=gateway, lock_command=False
    )
    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}
    assert locks[str(lock_only)].capabilities.remote_unlock is False
    assert locks[str(lock_only)].capabilities.remote_lock is True
    assert locks[str(unlock_only)].capabilities.remote_unlock is True
    assert locks[str(unlock_only)].capabilities.remote_lock is False
    # The fake refuses as the cloud does.
    with pytest.raises(NotSupportedError):
        await client.async_unlock(str(lock_only))
    with pytest.raises(NotSupportedError):
        await client.async_lock(str(unlock_only))
    await client.async_unlock(str(unlock_only))
    assert cloud.unlocks == [unlock_only]


# ---------------------------------------------------------------- transport


async def test_date_is_taken_after_the_concurrency_slot(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession, freezer: Any
) -> None:
    """A request that waited for the slot carries a fresh ``date`` (80000 is
    answered to a date more than 5 minutes off, cloud/errorCodeEn)."""
    client = make_client(cloud, session, max_concurrency=1, request_timeout=7200)
    await client.async_login()
    gate = cloud.gate("/v3/lock/detail")
    lock = cloud.add_lock(name="Front")
    first = asyncio.create_task(client.async_list_gateways())
    held = asyncio.create_task(
        client.async_get_lock_details(
            Lock(lock_id=str(lock), name="Front", capabilities=Capabilities())
        )
    )
    waiting = asyncio.create_task(client.async_list_locks())
    await _until(lambda: cloud.calls["/v3/lock/detail"] == 1)
    await first  # the slot now belongs to the held request; ``waiting`` waits
    freezer.tick(6 * 60)
    gate.set()
    await held
    locks = await waiting
    assert [lk.lock_id for lk in locks] == [str(lock)]


async def test_clock_offset_learned_from_date_header(
    cloud: FakeTTLockCloud, client: TTLockClient
) -> None:
    """80000: the cloud's Date header gives its clock; one retry with it."""
    cloud.add_lock(name="Front")
    await client.async_login()
    cloud.clock_skew_ms = 11 * 60 * 1000
    cloud.reset_calls()
    assert len(await client.async_list_locks()) == 1
    assert cloud.calls["/v3/lock/list"] == 2
    # Learned: the next call is right the first time.
    cloud.reset_calls()
    await client.async_list_locks()
    assert cloud.calls["/v3/lock/list"] == 1


async def test_clock_error_without_date_header_is_transient(
    cloud: FakeTTLockCloud, client: TTLockClient
) -> None:
    cloud.fail("/v3/lock/list", 80000, "date must be current time, in 5 minutes", 3)
    await client.async_login()
    with pytest.raises(TransientError) as err:
        await client.async_list_locks()
    assert err.value.code == 80000
    assert "clock" in str(err.value)


async def test_monthly_limit_waits_until_next_month(
    cloud: FakeTTLockCloud, client: TTLockClient
) -> None:
    cloud.add_lock(name="Front")
    await client.async_login()
    await client.async_list_locks()  # the key list is asked now, then cached
    cloud.monthly_calls_left = 1
    await client.async_list_locks()
    with pytest.raises(RateLimitError) as err:
        await client.async_list_locks()
    now = datetime.now(UTC)
    assert err.value.code == 30007
    assert err.value.reset_at == next_month_start(now)
    assert err.value.reset_at.day == 1
    assert err.value.reset_at > now
    assert abs(err.value.retry_after - (err.value.reset_at - now).total_seconds()) < 5


def test_next_month_start() -> None:
    assert next_month_start(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == datetime(
        2027, 1, 1, tzinfo=UTC
    )
    assert next_month_start(datetime(2026, 2, 1, 0, 0, tzinfo=UTC)) == datetime(
        2026, 3, 1, tzinfo=UTC
    )


@pytest.mark.parametrize(("region", "other"), [("eu", "cn"), ("cn", "eu")])
async def test_wrong_region_names_the_other_region(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession, region: str, other: str
) -> None:
    cloud.served_region = region
    cloud.account_region = other
    client = make_client(cloud, session, region=region)
    with pytest.raises(WrongRegionError) as err:
        await client.async_login()
    assert err.value.code == 30008
    assert err.value.other_region == other


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, RateLimitError), (408, TransientError), (403, TransientError)],
)
async def test_http_status_errors(
    cloud: FakeTTLockCloud,
    client: TTLockClient,
    status: int,
    error: type[Exception],
) -> None:
    await client.async_login()
    answer_raw(
        cloud,
        "/v3/lock/list",
        lambda: web.Response(status=status, text="no", headers={"Retry-After": "7"}),
    )
    with pytest.raises(error) as err:
        await client.async_list_locks()
    assert not isinstance(err.value, InvalidRequestError)
    if status == 429:
        assert isinstance(err.value, RateLimitError)
        assert err.value.retry_after == 7


async def test_error_text_is_scrubbed(
    cloud: FakeTTLockCloud, client: TTLockClient
) -> None:
    """A proxy echoing the request must not put the token or secret in errors."""
    await client.async_login()
    token = next(iter(cloud._access_tokens))
    echo = (
        f"bad request clientSecret={cloud.CLIENT_SECRET}&accessToken={token}"
        f"&password={md5_password(cloud.PASSWORD)}\x00\x1b[31m"
    )
    cloud.fail("/v3/lock/list", -3, echo)
    with pytest.raises(InvalidRequestError) as err:
        await client.async_list_locks()
    text = f"{err.value} {err.value.message}"
    assert token not in text
    assert cloud.CLIENT_SECRET not in text
    assert md5_password(cloud.PASSWORD) not in text
    assert "\x00" not in text
    assert "\x1b" not in text
    assert "***" in text


@pytest.mark.parametrize("literal", [b"NaN", b"1e400", b"-Infinity"])
async def test_non_finite_numbers_are_refused(
    cloud: FakeTTLockCloud, client: TTLockClient, literal: bytes
) -> None:
    await client.async_login()
    body = b'{"list":[{"lockId":1,"electricQuantity":' + literal + b'}],"pages":1}'
    answer_raw(
        cloud,
        "/v3/lock/list",
        lambda: web.Response(body=body, content_type="application/json"),
    )
    with pytest.raises(TransientError):
        await client.async_list_locks()


# --------------------------------------------------------------- pagination


async def test_endless_pages_are_bounded(
    cloud: FakeTTLockCloud, client: TTLockClient
) -> None:
    """A cloud that keeps saying "more pages" with the same page: one extra
    call, not thousands."""
    cloud.add_lock(name="Front")
    await client.async_login()
    original = cloud._lock_list

    def endless(params: dict[str, str]) -> dict[str, Any]:
        return {**original({**params, "pageNo": "1"}), "pages": 10_000}

    cloud._handlers = lambda: {  # type: ignore[method-assign]
        **FakeTTLockCloud._handlers(cloud),
        "/v3/lock/list": endless,
    }
    cloud.reset_calls()
    locks = await client.async_list_locks()
    assert len(locks) == 1
    assert cloud.calls["/v3/lock/list"] == 2


async def test_new_entries_on_every_page_stop_at_max_pages(
    cloud: FakeTTLockCloud, client: TTLockClient
) -> None:
    await client.async_login()
    counter = iter(range(1, 1_000_000))

    def fresh(params: dict[str, str]) -> dict[str, Any]:
        return {
            "list": [
                {
                    "recordId": next(counter),
                    "lockId": 1,
                    "recordType": 1,
                    "success": 1,
                    "lockDate": 1_767_322_800_000,
                }
            ],
            "pages": 10_000,
        }

    cloud.add_lock(name="Front", lock_id=1)
    cloud._handlers = lambda: {  # type: ignore[method-assign]
        **FakeTTLockCloud._handlers(cloud),
        "/v3/lockRecord/list": fresh,
    }
    cloud.reset_calls()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    await client.async_get_events("1", start, start + timedelta(days=30))
    assert cloud.calls["/v3/lockRecord/list"] == MAX_PAGES


async def test_gateway_list_sends_order_by(
    cloud: FakeTTLockCloud, client: TTLockClient
) -> None:
    """cloud/gateway/list: orderBy is required; the fake refuses without it."""
    cloud.add_gateway(name="Hall")
    gateways = await client.async_list_gateways()
    assert [gw.name for gw in gateways] == ["Hall"]


# ---------------------------------------------------------------- key list


async def test_shared_locks_come_from_the_key_list(
    cloud: FakeTTLockCloud, client: TTLockClient
) -> None:
    """cloud/lock/list lists only locks whose top admin is this account; an
    authorised admin's locks come from cloud/ekey/list (keyRight 1), once."""
    gateway = cloud.add_gateway()
    own = cloud.add_lock(name="Own", gateway_id=gateway)
    shared = cloud.add_lock(name="Shared", gateway_id=gateway)
    plain = cloud.add_lock(name="Plain ekey", gateway_id=gateway)
    cloud.share_lock(shared)
    cloud.share_lock(plain, authorised=False)
    locks = await client.async_list_locks()
    assert sorted(lock.name for lock in locks) == ["Own", "Shared"]
    assert len({lock.lock_id for lock in locks}) == 2
    assert {lock.lock_id for lock in locks} == {str(own), str(shared)}
    # The admin's super passcode in the key list never reaches a model.
    assert "1234567" not in repr(locks)


async def test_key_list_is_asked_at_most_every_six_hours(
    cloud: FakeTTLockCloud, client: TTLockClient, freezer: Any
) -> None:
    shared = cloud.add_lock(name="Shared")
    await client.async_list_locks()
    cloud.share_lock(shared)
    cloud.reset_calls()
    freezer.tick(3600)
    assert await client.async_list_locks() == []  # the cached key list
    assert cloud.calls["/v3/key/list"] == 0
    freezer.tick(5 * 3600)
    assert [lock.name for lock in await client.async_list_locks()] == ["Shared"]
    assert cloud.calls["/v3/key/list"] == 1
