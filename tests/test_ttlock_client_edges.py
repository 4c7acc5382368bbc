"""TTLock client edge cases: odd answers, token grants, field parsing.

The fake cloud is bent per test (instance attributes replaced) to answer the way
the real cloud, a proxy or a captive portal sometimes does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.ttlock_gateway.providers.models import (
    AuthError,
    Capabilities,
    CloudList,
    CodeKind,
    InvalidRequestError,
    Lock,
    ProviderError,
    RateLimitError,
    TransientError,
)
from custom_components.ttlock_gateway.providers.ttlock import (
    TTLockClient,
    md5_password,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud

TOKEN = "/oauth2/token"
LOCKS = "/v3/lock/list"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def make_client(cloud: FakeTTLockCloud, session: aiohttp.ClientSession) -> TTLockClient:
    return TTLockClient(
        session,
        client_id=cloud.CLIENT_ID,
        client_secret=cloud.CLIENT_SECRET,
        username=cloud.USERNAME,
        password_md5=md5_password(cloud.PASSWORD),
        base_url=cloud.base_url,
        busy_retry_delays=(0, 0, 0),
    )


def answer_raw(
    cloud: FakeTTLockCloud, target: str, make: Any, *, times: int = 1
) -> None:
    """Answer ``target`` with ``make()`` (an aiohttp response) ``times`` times."""
    original = cloud._answer
    remaining = [times]

    def _answer(path: str, params: dict[str, str]) -> web.StreamResponse:
        if path == target and remaining[0] > 0:
            remaining[0] -= 1
            response: web.StreamResponse = make()
            return response
        return original(path, params)

    cloud._answer = _answer  # type: ignore[method-assign]


def test_unknown_region_refused(session: aiohttp.ClientSession) -> None:
    with pytest.raises(ValueError, match="region"):
        TTLockClient(
            session,
            client_id="a",
            client_secret="b",
            username="c",
            password_md5=md5_password("d"),
            region="mars",
        )


async def test_html_answer_is_transient(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """HTTP 200 with an HTML page (captive portal, proxy): try again later."""
    client = make_client(ttlock_cloud, session)
    await client.async_login()
    answer_raw(
        ttlock_cloud,
        LOCKS,
        lambda: web.Response(text="<html>maintenance</html>", content_type="text/html"),
    )
    with pytest.raises(TransientError) as err:
        await client.async_list_locks()
    assert not isinstance(err.value, InvalidRequestError)
    assert await client.async_list_locks() == []


async def test_http_4xx_without_json_is_invalid_request(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    client = make_client(ttlock_cloud, session)
    await client.async_login()
    answer_raw(ttlock_cloud, LOCKS, lambda: web.Response(status=404, text="Not Found"))
    with pytest.raises(InvalidRequestError) as err:
        await client.async_list_locks()
    assert err.value.code == 404


async def test_json_list_answer_is_transient(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """JSON that is not an object is not a TTLock answer."""
    client = make_client(ttlock_cloud, session)
    await client.async_login()
    answer_raw(ttlock_cloud, LOCKS, lambda: web.json_response([1, 2]))
    with pytest.raises(TransientError):
        await client.async_list_locks()


async def test_non_numeric_errcode_is_an_error(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """A garbled errcode must never be taken for success."""
    client = make_client(ttlock_cloud, session)
    await client.async_login()
    answer_raw(
        ttlock_cloud,
        LOCKS,
        lambda: web.json_response({"errcode": "E17", "errmsg": "strange"}),
    )
    with pytest.raises(InvalidRequestError) as err:
        await client.async_list_locks()
    assert err.value.code == -1
    assert err.value.message == "strange"


async def test_token_answer_without_access_token(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    client = make_client(ttlock_cloud, session)
    answer_raw(ttlock_cloud, TOKEN, lambda: web.json_response({"uid": 1}))
    with pytest.raises(TransientError):
        await client.async_login()
    # The next attempt logs in normally.
    info = await client.async_login()
    assert info.unique_id == f"{ttlock_cloud.CLIENT_ID}_{ttlock_cloud.UID}"


async def test_garbled_expires_in_uses_default_lifetime(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession, freezer: Any
) -> None:
    """A token whose lifetime cannot be read is kept (90 days), not refreshed per call."""
    original = ttlock_cloud._issue_token

    def issue() -> dict[str, Any]:
        return {**original(), "expires_in": "ninety days"}

    ttlock_cloud._issue_token = issue  # type: ignore[method-assign]
    ttlock_cloud.token_lifetime = 100 * 86_400
    client = make_client(ttlock_cloud, session)
    await client.async_login()
    freezer.tick(timedelta(days=80))
    await client.async_list_locks()
    assert ttlock_cloud.calls[TOKEN] == 1
    freezer.tick(timedelta(days=10))
    await client.async_list_locks()
    assert ttlock_cloud.calls[TOKEN] == 2  # refreshed before the 90 days end


async def test_login_rate_limited(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    client = make_client(ttlock_cloud, session)
    ttlock_cloud.fail(TOKEN, 30006, "api call limit exceeded")
    with pytest.raises(RateLimitError) as err:
        await client.async_login()
    assert err.value.retry_after == 3600


@pytest.mark.parametrize(
    ("errcode", "error"),
    [(10001, AuthError), (30005, AuthError), (90000, TransientError)],
)
async def test_refresh_refused(
    ttlock_cloud: FakeTTLockCloud,
    session: aiohttp.ClientSession,
    errcode: int,
    error: type[Exception],
) -> None:
    """A refresh answered with a client error is not papered over by a login."""
    client = make_client(ttlock_cloud, session)
    await client.async_login()
    ttlock_cloud.revoke_tokens()
    ttlock_cloud.fail(TOKEN, errcode)
    ttlock_cloud.reset_calls()
    with pytest.raises(error) as err:
        await client.async_list_locks()
    assert err.value.code == errcode  # type: ignore[attr-defined]
    assert ttlock_cloud.calls[TOKEN] == 1  # no password login after it


async def test_no_refresh_token_logs_in_again(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """A token answer without refresh_token: a rejected token means a new login."""
    original = ttlock_cloud._issue_token
    grants: list[str] = []
    original_token = ttlock_cloud._token

    def issue() -> dict[str, Any]:
        answer = original()
        answer.pop("refresh_token")
        return answer

    def token(params: dict[str, str]) -> dict[str, Any]:
        grants.append(params.get("grant_type", ""))
        return original_token(params)

    ttlock_cloud._issue_token = issue  # type: ignore[method-assign]
    ttlock_cloud._token = token  # type: ignore[method-assign]
    ttlock_cloud.add_lock(name="Front")
    client = make_client(ttlock_cloud, session)
    await client.async_login()
    ttlock_cloud.revoke_tokens()
    assert [lock.name for lock in await client.async_list_locks()] == ["Front"]
    assert grants == ["password", "password"]


async def test_odd_lock_fields(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """featureValue as a number or garbage, battery as text: parsed, never fatal."""
    gw = ttlock_cloud.add_gateway()
    numeric = ttlock_cloud.add_lock(name="Numeric", gateway_id=gw)
    garbled = ttlock_cloud.add_lock(name="Garbled", gateway_id=gw)
    ttlock_cloud.locks[numeric]["featureValue"] = (1 << 10) | (1 << 22)
    ttlock_cloud.locks[garbled]["featureValue"] = "not-hex"
    ttlock_cloud.locks[garbled]["electricQuantity"] = "n/a"
    missing = ttlock_cloud.add_lock(name="Missing", gateway_id=gw)
    ttlock_cloud.locks[missing]["featureValue"] = None
    client = make_client(ttlock_cloud, session)
    locks = {lock.name: lock for lock in await client.async_list_locks()}
    assert locks["Numeric"].capabilities.remote_unlock
    assert locks["Numeric"].capabilities.passage_mode
    assert not locks["Numeric"].capabilities.remote_lock
    assert not locks["Garbled"].capabilities.remote_unlock
    assert not locks["Garbled"].capabilities.passage_mode
    assert locks["Garbled"].battery is None
    # Reachable through the gateway (codes), but no remote feature bit.
    assert locks["Missing"].capabilities == Capabilities(
        codes=True, codes_deletable_remotely=True
    )
    assert locks["Numeric"].battery == 80


async def test_details_add_mac_the_list_lacked(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    lock_id = ttlock_cloud.add_lock(name="Front")
    mac = ttlock_cloud.locks[lock_id]["lockMac"]
    client = make_client(ttlock_cloud, session)
    bare = Lock(
        lock_id=str(lock_id),
        name="x",
        capabilities=Capabilities(),
        aliases=("dding-uuid",),
    )
    detailed = await client.async_get_lock_details(bare)
    assert detailed.mac == mac
    assert detailed.aliases == ("dding-uuid", mac)
    assert detailed.name == "Front"
    # A MAC already known is kept (and not added twice).
    again = await client.async_get_lock_details(detailed)
    assert again.aliases == ("dding-uuid", mac)


async def test_code_kinds(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    lock_id = ttlock_cloud.add_lock(name="Front")
    for pwd_id, pwd_type in ((1, 1), (2, 4), (3, 99), (4, "x")):
        ttlock_cloud.passcodes[lock_id][pwd_id] = {
            "keyboardPwdId": pwd_id,
            "keyboardPwd": f"{pwd_id}000",
            "keyboardPwdName": "",
            "keyboardPwdType": pwd_type,
            "startDate": 0,
            "endDate": 0,
        }
    client = make_client(ttlock_cloud, session)
    kinds = {c.code_id: c.kind for c in await client.async_list_codes(str(lock_id))}
    assert kinds == {
        "1": CodeKind.ONE_TIME,
        # Type 4 is the delete code (document-pages/cloud/passcode/get).
        "2": CodeKind.CLEAR,
        "3": CodeKind.OTHER,
        "4": CodeKind.OTHER,
    }


async def test_change_code_name_and_window_naive_times_are_utc(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    gw = ttlock_cloud.add_gateway()
    lock_id = ttlock_cloud.add_lock(name="Front", gateway_id=gw)
    client = make_client(ttlock_cloud, session)
    start = datetime(2030, 1, 1, 12, tzinfo=UTC)
    added = await client.async_add_code(
        str(lock_id), "Guest", "123456", start, start + timedelta(days=1)
    )
    new_start = datetime(2030, 2, 1, 15)  # naive: taken as UTC
    new_end = datetime(2030, 2, 3, 11)
    await client.async_change_code(
        str(lock_id), added.code_id, name="Guest (Feb)", start=new_start, end=new_end
    )
    stored = ttlock_cloud.passcodes[lock_id][int(added.code_id)]
    assert stored["keyboardPwdName"] == "Guest (Feb)"
    assert stored["keyboardPwd"] == "123456"
    assert stored["startDate"] == int(new_start.replace(tzinfo=UTC).timestamp() * 1000)
    assert stored["endDate"] == int(new_end.replace(tzinfo=UTC).timestamp() * 1000)


# ------------------------------------------------------- the validation wall


async def test_list_entry_without_usable_id_is_skipped(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """One lock or gateway the cloud lists without an id costs only itself.

    Before, ``str(None)`` / ``str({...})`` became a lock named by that text.
    """
    gw = ttlock_cloud.add_gateway(name="Hall")
    broken_gw = ttlock_cloud.add_gateway(name="Broken")
    good = ttlock_cloud.add_lock(name="Front", gateway_id=gw)
    broken = ttlock_cloud.add_lock(name="Back", gateway_id=gw)
    ttlock_cloud.locks[broken]["lockId"] = {"id": broken}
    ttlock_cloud.gateways[broken_gw]["gatewayId"] = None
    client = make_client(ttlock_cloud, session)
    assert isinstance(whole := await client.async_list_gateways(), CloudList)
    assert whole.complete is False  # the broken gateway: not a whole list
    locks = await client.async_list_locks()
    assert [(lock.lock_id, lock.name) for lock in locks] == [(str(good), "Front")]
    # Not "complete": the unreadable entry may be a lock we know, and an
    # absent lock in a complete list is taken as removed from the account.
    assert isinstance(locks, CloudList)
    assert locks.complete is False
    gateways = await client.async_list_gateways()
    assert [gateway.gateway_id for gateway in gateways] == [str(gw)]
    ttlock_cloud.locks[broken]["lockId"] = broken
    ttlock_cloud.gateways[broken_gw]["gatewayId"] = broken_gw
    for again in (await client.async_list_locks(), await client.async_list_gateways()):
        assert isinstance(again, CloudList)
        assert again.complete is True


async def test_odd_detail_values_are_bounded(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """lock/detail: a day-long auto-lock, battery 150, control characters and a
    lower-case MAC never reach the lock as they came."""
    lock_id = ttlock_cloud.add_lock(name="Front", auto_lock_time=30)
    client = make_client(ttlock_cloud, session)
    (lock,) = await client.async_list_locks()
    detailed = await client.async_get_lock_details(lock)
    assert detailed.auto_lock_seconds == 30
    ttlock_cloud.locks[lock_id].update(
        {
            "autoLockTime": 86_400,
            "electricQuantity": 150,
            "lockAlias": "Front\x1b[2J \ud83d",
        }
    )
    odd = await client.async_get_lock_details(detailed)
    assert odd.auto_lock_seconds is None  # no relock predicted from it
    assert odd.battery == detailed.battery == 80  # kept, not 150
    assert odd.name == "Front[2J"
    ttlock_cloud.locks[lock_id]["lockMac"] = "aa:bb:cc:dd:ee:0f"
    (listed,) = await client.async_list_locks()
    assert listed.mac == "AA:BB:CC:DD:EE:0F"
    assert listed.aliases == ("AA:BB:CC:DD:EE:0F",)


async def test_token_answer_without_uid_refuses_login(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """Without the account's uid the entry cannot be named: no 'client_None'
    unique id that a second account would collide with."""
    original = ttlock_cloud._issue_token

    def issue() -> dict[str, Any]:
        return {**original(), "uid": {"nested": 1}}

    ttlock_cloud._issue_token = issue  # type: ignore[method-assign]
    client = make_client(ttlock_cloud, session)
    with pytest.raises(ProviderError, match="uid"):
        await client.async_login()
    ttlock_cloud._issue_token = original  # type: ignore[method-assign]
    other = make_client(ttlock_cloud, session)
    info = await other.async_login()
    assert info.unique_id == f"{ttlock_cloud.CLIENT_ID}_{ttlock_cloud.UID}"
