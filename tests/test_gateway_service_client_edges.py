# ruff: noqa: RUF001  # the service answers in Russian; its letters are meant
"""Gateway-service client edge cases: bad input, odd answers, faults, the tracker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from datetime import UTC, datetime, timedelta
import json
import math
from typing import Any

import aiohttp
import pytest

from custom_components.ttlock_gateway.providers.bounds import InvalidAnswerError
from custom_components.ttlock_gateway.providers.callbacks import (
    CallbackKind,
    parse_callback,
)
from custom_components.ttlock_gateway.providers.gateway_service import (
    GatewayServiceClient,
)
from custom_components.ttlock_gateway.providers.gateway_service_mapping import (
    error_from_failure,
    events_from_rows,
    interpret_report,
    locks_from_data,
    packet_from_answer,
    parse_service_time,
)
from custom_components.ttlock_gateway.providers.jobs import (
    TAG_KEY,
    JobTracker,
    normalize_keys,
    parse_report,
)
from custom_components.ttlock_gateway.providers.models import (
    AuthError,
    CannotConnectError,
    CodePacketError,
    CodePacketProblem,
    CodeStorageFullError,
    DuplicateCodeError,
    InvalidRequestError,
    NotSupportedError,
    Operation,
    OperationResult,
    ProviderError,
    RateLimitError,
    ResultPendingError,
    ResultStatus,
    RetriesExhaustedError,
    TransientError,
)
from tests.common import TTLockHome, seed_ttlock_home
from tests.fakes.gateway_service import (
    CallbackReceiver,
    FakeGatewayService,
    ServiceUser,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.gateway_service_helpers import make_client, wire

NOW = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def home(ttlock_cloud: FakeTTLockCloud) -> TTLockHome:
    return seed_ttlock_home(ttlock_cloud)


@pytest.fixture
def user(
    gateway_service: FakeGatewayService,
    callback_receiver: CallbackReceiver,
    home: TTLockHome,
) -> ServiceUser:
    return gateway_service.add_user(callback=callback_receiver.url)


@pytest.fixture
async def client(
    gateway_service: FakeGatewayService,
    callback_receiver: CallbackReceiver,
    session: aiohttp.ClientSession,
    user: ServiceUser,
) -> GatewayServiceClient:
    gw = make_client(gateway_service, session)
    wire(callback_receiver, gw)
    await gw.async_list_locks()
    await gateway_service.settle()
    return gw


def _window() -> tuple[datetime, datetime]:
    start = datetime.now(UTC) + timedelta(minutes=5)
    return start, start + timedelta(hours=3)


# ---------------------------------------------- refused before the wire


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("0123", "Guest"),  # the service would store 123
        ("123", "Guest"),
        ("1234567890", "Guest"),
        ("12a4", "Guest"),
        ("١٢٣٤", "Guest"),  # Arabic-Indic digits
        ("", "Guest"),
        ("4817", "Guest\x00"),
        ("4817", "Guest\ud800"),
        ("4817", "x" * 101),
    ],
)
async def test_bad_codes_never_reach_the_service(
    client: GatewayServiceClient,
    gateway_service: FakeGatewayService,
    home: TTLockHome,
    code: str,
    name: str,
) -> None:
    calls = gateway_service.calls.total()
    start, end = _window()
    with pytest.raises(InvalidRequestError) as err:
        await client.async_add_code(str(home.front), name, code, start, end)
    assert gateway_service.calls.total() == calls
    assert code not in str(err.value) or not code


async def test_bad_windows_and_ids_never_reach_the_service(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, home: TTLockHome
) -> None:
    calls = gateway_service.calls.total()
    start, end = _window()
    lock = str(home.front)
    bad: list[Callable[[], Any]] = [
        lambda: client.async_add_code(
            lock, "G", "4817", start.replace(tzinfo=None), end
        ),
        lambda: client.async_add_code(lock, "G", "4817", end, start),
        lambda: client.async_add_code(lock, "G", "4817", start, start),
        lambda: client.async_add_code("front", "G", "4817", start, end),
        lambda: client.async_unlock("12 34"),
        lambda: client.async_unlock(""),
        lambda: client.async_set_passage_mode("-5", True),
        lambda: client.async_delete_code(lock, "abc"),
        lambda: client.async_delete_code(lock, ""),
        lambda: client.async_get_lock_events2([lock], 4),
        lambda: client.async_get_lock_events2([], 3),
        lambda: client.async_get_first_use([lock], "0123"),
        lambda: client.async_get_code_events(lock, "12"),
        lambda: client.async_get_lock_events("x"),
    ]
    for call in bad:
        with pytest.raises(InvalidRequestError):
            await call()
    assert gateway_service.calls.total() == calls


async def test_the_service_really_drops_a_leading_zero(
    gateway_service: FakeGatewayService,
    session: aiohttp.ClientSession,
    ttlock_cloud: FakeTTLockCloud,
    user: ServiceUser,
    home: TTLockHome,
    client: GatewayServiceClient,
) -> None:
    """Why the client refuses "0…" codes: sent raw, 01234 lands as 1234."""
    assert client._token is not None
    start, end = _window()
    async with session.post(
        f"{gateway_service.base_url}/api/v1/add_code_to_lock",
        json={
            "lock_id": str(home.front),
            "code": "01234",
            "begin": start.strftime("%Y-%m-%d %H:%M"),
            "end": end.strftime("%Y-%m-%d %H:%M"),
        },
        headers={
            "Authorization": f"Bearer {client._token}",
            "Accept": "application/json",
        },
    ) as resp:
        assert "job_id" in await resp.json()
    await gateway_service.settle()
    (stored,) = ttlock_cloud.passcodes[home.front].values()
    assert stored["keyboardPwd"] == "1234"


# ----------------------------------------------------------- odd answers


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            {"status": True, "codes_count": 7, "expired_at": "2031-08-28 15:43"},
            (7, datetime(2031, 8, 28, 15, 43, tzinfo=UTC)),
        ),
        (
            {
                "status": True,
                "codes_count": "7",
                "expired_at": "2031-08-28T15:43:00.000000Z",
            },
            (7, datetime(2031, 8, 28, 15, 43, tzinfo=UTC)),
        ),
        ({"status'": "true", "codes_count": 3, "expired_at": None}, (3, None)),
        (
            {"status": True, "codes_count": -5, "expired_at": "2031-08-28 15:43:10"},
            (0, datetime(2031, 8, 28, 15, 43, 10, tzinfo=UTC)),
        ),
        (
            {"status": True, "codes_count": -100, "expired_at": "2031-08-28 15:43"},
            (None, datetime(2031, 8, 28, 15, 43, tzinfo=UTC)),
        ),
        ({"status": True, "codes_count": "many"}, InvalidAnswerError),
        ({"status": True, "codes_count": 10**20}, InvalidAnswerError),
        ({"status": True, "codes_count": True}, InvalidAnswerError),
        (
            {"status": True, "codes_count": 1, "expired_at": "40000-01-01 00:00"},
            InvalidAnswerError,
        ),
        (
            {"status": True, "codes_count": 1, "expired_at": "2200-12-31 23:59"},
            (1, datetime(2200, 12, 31, 23, 59, tzinfo=UTC)),
        ),
        (
            {"status": True, "codes_count": 1, "expired_at": "1969-12-31 23:59"},
            InvalidAnswerError,
        ),
        ({"status": True, "codes_count": 1, "expired_at": "soon"}, InvalidAnswerError),
        (
            {"status": True, "codes_count": 1, "expired_at": 1700000000},
            InvalidAnswerError,
        ),
        ({"status": False, "msg": "Неизвестная ошибка"}, ProviderError),
        ([1, 2], InvalidAnswerError),
        ('"ok"', InvalidAnswerError),
    ],
)
async def test_code_packet_answers(
    client: GatewayServiceClient,
    gateway_service: FakeGatewayService,
    answer: Any,
    expected: Any,
) -> None:
    gateway_service.override("get_codes_count", 200, answer)
    if isinstance(expected, type):
        with pytest.raises(expected):
            await client.async_get_code_packet()
        return
    packet = await client.async_get_code_packet()
    assert (packet.codes_left, packet.expires_at) == expected


def test_code_packet_problems() -> None:
    assert packet_from_answer({"codes_count": 0}).problem(NOW) is (
        CodePacketProblem.EXHAUSTED
    )
    expired = packet_from_answer({"codes_count": 5, "expired_at": "2031-06-01 11:59"})
    assert expired.problem(NOW) is CodePacketProblem.EXPIRED
    assert packet_from_answer({"codes_count": -100}).problem(NOW) is None


async def test_odd_event_rows_are_skipped(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, home: TTLockHome
) -> None:
    good = {
        "id": 9,
        "lock_id": home.front,
        "record_type_from_lock": 4,
        "record_type": 4,
        "success": 1,
        "username": "guest\x07",
        "keyboard_pwd": "4817",
        "lock_date": int(NOW.timestamp() * 1000),
    }
    rows = [
        good,
        "junk",
        None,
        {**good, "lock_date": 40_000 * 365 * 86400 * 1000},  # year 40,000
        {**good, "lock_date": "yesterday"},
        {**good, "lock_date": -1},
        {**good, "lock_id": None},
        {**good, "lock_id": "abc", "lock_date": good["lock_date"] + 1},
        {**good, "record_type": "??", "lock_date": good["lock_date"] + 2},
        {**good, "keyboard_pwd": {"x": 1}, "lock_date": good["lock_date"] + 3},
        {**good, "success": "maybe", "lock_date": good["lock_date"] + 4},
    ]
    gateway_service.override("get_lock_events", 200, rows)
    events = await client.async_get_lock_events(str(home.front))
    assert [e.time for e in events] == sorted(e.time for e in events)
    first = events[0]
    assert first.code == "4817"
    assert first.user == "guest"
    assert first.lock_id == str(home.front)
    # lock_id "abc" falls back to the lock asked for; the rest is bounded.
    assert all(e.lock_id == str(home.front) for e in events)
    assert len(events) == 5
    assert events[3].code is None


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'[{"id": 1, "lock_date": NaN}]', TransientError),
        (b"<html>oops</html>", TransientError),
        (b'{"rows": []}', InvalidAnswerError),
        (b'"ok"', InvalidAnswerError),
    ],
    ids=["nan", "html", "object", "string"],
)
async def test_events_answers_that_are_not_lists(
    client: GatewayServiceClient,
    gateway_service: FakeGatewayService,
    home: TTLockHome,
    body: bytes,
    error: type[Exception],
) -> None:
    gateway_service.override("get_lock_events", 200, body)
    with pytest.raises(error):
        await client.async_get_lock_events(str(home.front))


async def test_empty_event_answers(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, home: TTLockHome
) -> None:
    gateway_service.override("get_lock_events", 200, [])
    assert await client.async_get_lock_events(str(home.front)) == []
    gateway_service.override("get_lock_events2", 200, {})
    assert await client.async_get_first_use([str(home.front)], "4817") is None
    gateway_service.override("get_lock_events2", 200, '""')
    assert await client.async_get_first_use([str(home.front)], "4817") is None
    # Deeply nested garbage decodes to rows that are not rows: none.
    gateway_service.override("get_lock_events", 200, b"[" * 50_000 + b"]" * 50_000)
    assert await client.async_get_lock_events(str(home.front)) == []


def test_lock_list_odd_values() -> None:
    entries: list[Any] = [
        {
            "lockId": 7,
            "lockAlias": "Front\x00door\u202e",
            "electricQuantity": 400,
            "featureValue": ["x"],
        },
        {"lockId": "abc"},
        {"lockId": 0},
        "junk",
        {"lockId": 7, "lockAlias": "Duplicate"},
        {"lockId": "8", "lockName": "x" * 500, "passageMode": 1, "hasGateway": "1"},
    ]
    locks = locks_from_data(
        {"status": True, "msg": "", "error_code": "", "data": {"list": entries}}
    )
    assert [lock.lock_id for lock in locks] == ["7", "8"]
    front, other = locks
    assert front.name == "Frontdoor\u202e"
    assert front.battery is None
    assert not front.capabilities.remote_unlock
    assert len(other.name) == 100
    assert other.passage_mode is True
    assert other.has_gateway
    # TTLock's own answer (seed: data = TTLock's answer) works as well.
    assert [lock.lock_id for lock in locks_from_data({"list": entries})] == ["7", "8"]
    for bad in (None, "x", [], {"list": "x"}, {"data": {"list": {}}, "status": True}):
        with pytest.raises(InvalidAnswerError):
            locks_from_data(bad)
    with pytest.raises(InvalidAnswerError):
        locks_from_data({"list": [{"lockId": i} for i in range(1, 10_002)]})


async def _held_result(
    service: FakeGatewayService, client: GatewayServiceClient, call: Any
) -> tuple[asyncio.Future[Any], dict[str, Any]]:
    """Start ``call``; return its task and its (held) result payload."""
    service.callback_mode = "hold"
    task = asyncio.ensure_future(call)
    await service.wait_for_held(len(service.held) + 1)
    _url, payload = service.held.pop()
    return task, payload


@pytest.mark.parametrize(
    "data",
    [None, "Lock not found", {"status": True, "data": {"list": "nope"}}, [1, 2]],
)
async def test_lock_list_result_with_odd_data(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, data: Any
) -> None:
    task, payload = await _held_result(
        gateway_service, client, client.async_list_locks()
    )
    assert client.resolve_job({**payload, "data": data}) is True
    with pytest.raises(InvalidAnswerError):
        await task


async def test_code_added_without_an_id(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, home: TTLockHome
) -> None:
    start, end = _window()
    task, payload = await _held_result(
        gateway_service,
        client,
        client.async_add_code(str(home.front), "Guest", "4817", start, end),
    )
    payload["data"]["data"] = {"keyboardPwdId": "soon"}
    assert client.resolve_job(payload) is True
    with pytest.raises(InvalidAnswerError):
        await task


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"status": True}, InvalidAnswerError),
        ({"job_id": ["x"]}, InvalidAnswerError),
        ({"job_id": "a\nb"}, InvalidAnswerError),
        ([], InvalidAnswerError),
        ({"status": False, "msg": "Не указан lock_id."}, InvalidRequestError),
        ({"status": False, "msg": "Неизвестная ошибка"}, ProviderError),
        (
            {
                "status'": "false",
                "codes_error'": "true",
                "msg": "Срок действия пакета кодов закончился",
            },
            CodePacketError,
        ),
    ],
)
async def test_job_answers_without_a_job(
    client: GatewayServiceClient,
    gateway_service: FakeGatewayService,
    home: TTLockHome,
    answer: Any,
    error: type[Exception],
) -> None:
    gateway_service.override("open_lock", 200, answer)
    with pytest.raises(error) as err:
        await client.async_unlock(str(home.front))
    assert type(err.value) is error
    assert client.tracker.pending == []


async def test_the_seed_job_key_is_accepted(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, home: TTLockHome
) -> None:
    """Seed 000 calls the id ``job`` where the service answers ``job_id``."""
    job_id = "4c1f1c4e-5a1d-4a55-9d5e-7b7f7e7f7e7f"
    gateway_service.override("open_lock", 200, {"job'": job_id})
    client.tracker.timeout = 0
    with pytest.raises(ResultPendingError) as err:
        await client.async_unlock(str(home.front))
    assert err.value.job_id == job_id
    (job,) = client.tracker.pending
    assert job.job_id == job_id


# ------------------------------------------------------------ HTTP faults


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (500, b"Server Error", CannotConnectError, 500),
        (502, b"<html>Bad gateway</html>", CannotConnectError, 502),
        (404, {"message": "Not Found"}, InvalidRequestError, 404),
        (405, {"message": "Method not allowed"}, InvalidRequestError, 405),
        (302, b"", InvalidRequestError, 302),
        (403, b"<html>no</html>", InvalidRequestError, 403),
        (200, b"<html>maintenance</html>", TransientError, None),
        (200, b"\xff\xfe", TransientError, None),
    ],
)
async def test_http_faults(
    client: GatewayServiceClient,
    gateway_service: FakeGatewayService,
    status: int,
    body: Any,
    error: type[Exception],
    code: int | None,
) -> None:
    gateway_service.override("get_codes_count", status, body)
    with pytest.raises(error) as err:
        await client.async_get_code_packet()
    assert getattr(err.value, "code", None) == code
    assert gateway_service.base_url not in str(err.value)


async def test_throttled(
    client: GatewayServiceClient, gateway_service: FakeGatewayService
) -> None:
    """throttle:500,1 answers 429 with Retry-After (seconds)."""
    gateway_service.throttle_per_minute = 0
    with pytest.raises(RateLimitError) as err:
        await client.async_get_code_packet()
    assert err.value.retry_after == 60.0
    assert err.value.code == 429


async def test_retry_after_header(
    client: GatewayServiceClient, gateway_service: FakeGatewayService
) -> None:
    from custom_components.ttlock_gateway.providers.gateway_service import _retry_after

    assert _retry_after("120") == 120.0
    for raw in ("soon", "nan", "inf", "-1", "0", None):
        assert _retry_after(raw) == 60.0
    gateway_service.override("get_codes_count", 429, {"message": "Too Many Attempts."})
    with pytest.raises(RateLimitError):
        await client.async_get_code_packet()


async def test_answer_too_large(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, home: TTLockHome
) -> None:
    gateway_service.override("get_lock_events", 200, b"[" + b"1," * (2_200_000) + b"1]")
    with pytest.raises(InvalidAnswerError):
        await client.async_get_lock_events(str(home.front))


async def test_service_unreachable(
    gateway_service: FakeGatewayService,
    session: aiohttp.ClientSession,
    user: ServiceUser,
) -> None:
    client = make_client(gateway_service, session)
    await gateway_service.stop()
    with pytest.raises(CannotConnectError):
        await client.async_login()


async def test_job_request_without_an_answer_stays_pending(
    gateway_service: FakeGatewayService,
    callback_receiver: CallbackReceiver,
    session: aiohttp.ClientSession,
    user: ServiceUser,
    home: TTLockHome,
) -> None:
    """A job request that times out may have been queued: pending, not failed."""
    client = make_client(gateway_service, session)
    wire(callback_receiver, client)
    await client.async_list_locks()
    # Short only now: set-up under load must not time out.
    client._timeout = aiohttp.ClientTimeout(total=0.2)
    gateway_service.hang("open_lock")
    with pytest.raises(ResultPendingError) as err:
        await client.async_unlock(str(home.front))
    (pending,) = client.export_pending()
    assert pending["job_id"] is None
    assert pending["correlation_id"] == err.value.job_id
    # A result carrying our tag would still be matched.
    assert client.resolve_job(
        {
            "job": "77d2a1f0-0000-4000-8000-000000000001",
            "status": True,
            "method": "open_lock",
            "tag": {TAG_KEY: pending["correlation_id"]},
        }
    )
    assert client.export_pending() == []


async def test_stopped_while_a_job_request_is_in_flight(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, home: TTLockHome
) -> None:
    """Cancelled mid-request: the job may be queued, so it stays pending."""
    gateway_service.hang("open_lock")
    task = asyncio.ensure_future(client.async_unlock(str(home.front)))
    await gateway_service.wait_for_hung_request()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    (pending,) = client.export_pending()
    assert pending["operation"] == "unlock"
    assert pending["job_id"] is None
    (job,) = client.tracker.pending
    assert job.waiting is False


async def test_connection_lost_after_sending(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, home: TTLockHome
) -> None:
    gateway_service.disconnect("open_lock")
    with pytest.raises(ResultPendingError):
        await client.async_unlock(str(home.front))
    assert len(client.tracker.pending) == 1
    gateway_service.disconnect("get_codes_count")
    with pytest.raises(CannotConnectError):
        await client.async_get_code_packet()


async def test_plain_calls_time_out_as_connection_errors(
    gateway_service: FakeGatewayService,
    session: aiohttp.ClientSession,
    user: ServiceUser,
) -> None:
    client = make_client(gateway_service, session)
    await client.async_login()
    client._timeout = aiohttp.ClientTimeout(total=0.2)
    gateway_service.hang("get_codes_count")
    with pytest.raises(CannotConnectError):
        await client.async_get_code_packet()


async def test_login_timing_out_sends_no_job(
    gateway_service: FakeGatewayService,
    session: aiohttp.ClientSession,
    user: ServiceUser,
    home: TTLockHome,
) -> None:
    client = make_client(gateway_service, session)
    client._timeout = aiohttp.ClientTimeout(total=0.2)
    gateway_service.hang("get_token")
    with pytest.raises(CannotConnectError) as err:
        await client.async_unlock(str(home.front))
    assert not isinstance(err.value, ResultPendingError)
    assert client.tracker.pending == []
    assert gateway_service.calls["open_lock"] == 0


async def test_fresh_token_refused_too(
    client: GatewayServiceClient, gateway_service: FakeGatewayService
) -> None:
    gateway_service.override(
        "get_codes_count", 401, {"message": "Unauthenticated."}, times=2
    )
    with pytest.raises(AuthError):
        await client.async_get_code_packet()
    assert gateway_service.calls["get_token"] == 2


@pytest.mark.parametrize(
    "answer",
    [
        {"status": True},
        {"status": True, "token": "has space", "user_id": 1},
        {"status": True, "token": "x" * 600, "user_id": 1},
        {"status": True, "token": "1|abc", "user_id": None},
        {"status": True, "token": 5, "user_id": 1},
        [],
    ],
)
async def test_odd_token_answers(
    gateway_service: FakeGatewayService,
    session: aiohttp.ClientSession,
    user: ServiceUser,
    answer: Any,
) -> None:
    client = make_client(gateway_service, session)
    gateway_service.override("get_token", 200, answer)
    with pytest.raises(InvalidAnswerError):
        await client.async_login()
    assert client._token is None


@pytest.mark.parametrize(
    ("answer", "error", "code"),
    [
        ({"status": False, "error": 2, "msg": "Не получилось"}, ProviderError, "2"),
        (
            {"status": False, "error": 3, "msg": "Неизвестная ошибка"},
            ProviderError,
            "3",
        ),
        ("nope", ProviderError, None),
    ],
)
async def test_create_user_failures(
    gateway_service: FakeGatewayService,
    session: aiohttp.ClientSession,
    answer: Any,
    error: type[Exception],
    code: str | None,
) -> None:
    client = make_client(gateway_service, session)
    gateway_service.override("create_user", 200, answer)
    with pytest.raises(error) as err:
        await client.async_create_user()
    assert not isinstance(err.value, AuthError)
    assert getattr(err.value, "code", None) == code


async def test_create_user_validation_error(
    gateway_service: FakeGatewayService, session: aiohttp.ClientSession
) -> None:
    client = GatewayServiceClient(
        session, base_url=gateway_service.base_url, email="not-an-email", password="p"
    )
    with pytest.raises(InvalidRequestError) as err:
        await client.async_create_user()
    assert err.value.code == 422


async def test_set_callback_refused(
    client: GatewayServiceClient, gateway_service: FakeGatewayService
) -> None:
    gateway_service.override(
        "set_callback", 200, {"status": False, "msg": "Неизвестная ошибка"}
    )
    with pytest.raises(ProviderError):
        await client.async_set_callback("https://ha.example.com/api/webhook/x")


# ------------------------------------------------------- seed-style answers


async def test_the_seeds_misquoted_keys(
    ttlock_cloud: FakeTTLockCloud,
    callback_receiver: CallbackReceiver,
    session: aiohttp.ClientSession,
    home: TTLockHome,
) -> None:
    """Answers and callbacks shaped like seed 000's examples ("status'": "true")."""
    service = FakeGatewayService(ttlock_cloud, typo_keys=True)
    await service.start()
    try:
        service.add_user(callback=callback_receiver.url)
        client = make_client(service, session)
        accepted = wire(callback_receiver, client)
        locks = await client.async_list_locks()
        assert len(locks) == 3
        await client.async_unlock(str(home.front))
        start, end = _window()
        passcode = await client.async_add_code(
            str(home.front), "Guest", "4817", start, end
        )
        assert passcode.code_id
        with pytest.raises(DuplicateCodeError):
            await client.async_add_code(str(home.front), "Guest", "4817", start, end)
        with pytest.raises(InvalidRequestError):
            await client.async_get_lock_events("99")
        assert (await client.async_get_code_packet()).codes_left == 9
        assert accepted == [True] * 4
        assert "job'" in callback_receiver.payloads[-1]
    finally:
        await service.stop()


async def test_unknown_lock_result_without_a_method(
    ttlock_cloud: FakeTTLockCloud,
    callback_receiver: CallbackReceiver,
    session: aiohttp.ClientSession,
    home: TTLockHome,
) -> None:
    """The service's OpenLockJob omits ``method`` for an unknown lock."""
    service = FakeGatewayService(ttlock_cloud, method_on_unknown_lock=False)
    await service.start()
    try:
        service.add_user(callback=callback_receiver.url)
        client = make_client(service, session)
        wire(callback_receiver, client)
        with pytest.raises(InvalidRequestError):
            await client.async_unlock(str(home.front))  # not listed yet
        assert "method" not in callback_receiver.payloads[-1]
    finally:
        await service.stop()


def test_callback_parser_reads_the_seeds_keys() -> None:
    body = json.dumps(
        {
            "job'": "j-1",
            "status'": "true",
            "'tag": {TAG_KEY: "0123456789abcdef"},
            "method": "open_lock",
            "'data": {"status": True},
            "codes_error'": "false",
        }
    ).encode()
    parsed = parse_callback("application/json", body, now=NOW)
    assert parsed.kind is CallbackKind.JOB
    assert parsed.job == {
        "job": "j-1",
        "status": True,
        "method": "open_lock",
        "tag": {TAG_KEY: "0123456789abcdef"},
        "data": {"status": True},
        "msg": None,
        "codes_error": False,
    }
    # The right spelling wins over a typo.
    body = json.dumps({"job": "a", "job'": "b", "method": "m", "status": 1}).encode()
    job = parse_callback("application/json", body, now=NOW).job
    assert job is not None
    assert job["job"] == "a"
    # No method but a tag: a job result (OpenLockJob's unknown lock).
    body = json.dumps({"job": "a", "tag": None, "status": False, "msg": "x"}).encode()
    job = parse_callback("application/json", body, now=NOW).job
    assert job is not None
    assert job["method"] is None


def test_normalize_keys() -> None:
    assert normalize_keys({"status'": 1, "msg": 2}) == {"status": 1, "msg": 2}
    assert normalize_keys({"status'": 1, "status": 2}) == {"status": 2}
    assert normalize_keys({"'status\"": 1, "status'": 2}) == {"status": 1}
    assert normalize_keys({5: "x"}) == {5: "x"}


# ------------------------------------------------------------ error mapping


@pytest.mark.parametrize(
    ("msg", "codes_error", "data", "error", "code"),
    [
        ("Закончился пакет кодов", True, None, CodePacketError, None),
        (
            "Ошибка загрузки ключа. Шлюз отключен. Проверьте соединение Количество попыток исчерпано.",
            False,
            None,
            RetriesExhaustedError,
            None,
        ),
        (
            "Ошибка загрузки ключа. Такой код уже существует. Используйте другой",
            False,
            None,
            DuplicateCodeError,
            -3007,
        ),
        (
            "Ошибка загрузки ключа. Недостаточно места для сохранения кодов.",
            False,
            None,
            CodeStorageFullError,
            -3009,
        ),
        (
            None,
            False,
            {
                "status": False,
                "msg": "Шлюз занят. Повторите позже",
                "error_code": -3003,
            },
            TransientError,
            -3003,
        ),
        (
            None,
            False,
            {"status": False, "msg": "x", "error_code": "-4043"},
            NotSupportedError,
            -4043,
        ),
        ("Неверный логин или пароль", False, None, AuthError, 10007),
        (
            "Ошибка обращения к серверу TTLock. Повторите попытку позже.",
            False,
            None,
            TransientError,
            None,
        ),
        ("Неизвестный замок", False, "Lock not found", InvalidRequestError, None),
        ("Не указан lock_id.", False, None, InvalidRequestError, None),
        ("Что-то новое", False, None, ProviderError, None),
        (None, False, None, ProviderError, None),
    ],
)
def test_failure_mapping(
    msg: str | None,
    codes_error: bool,
    data: Any,
    error: type[Exception],
    code: int | None,
) -> None:
    err = error_from_failure(msg, codes_error=codes_error, data=data)
    assert type(err) is error
    assert err.code == code


def test_service_times() -> None:
    assert parse_service_time("2031-08-28 15:43", "t") == datetime(
        2031, 8, 28, 15, 43, tzinfo=UTC
    )
    assert parse_service_time("2031-08-28T18:43:00+03:00", "t") == datetime(
        2031, 8, 28, 15, 43, tzinfo=UTC
    )
    assert parse_service_time(None, "t") is None
    for bad in ("x" * 41, "2031-02-30 10:00", 5, [], "9999-99-99"):
        with pytest.raises(InvalidAnswerError):
            parse_service_time(bad, "t")


# -------------------------------------------------------------- the tracker


def _report(
    job_id: str, cid: str, method: str = "open_lock", **extra: Any
) -> dict[str, Any]:
    return {
        "job": job_id,
        "status": True,
        "method": method,
        "tag": {TAG_KEY: cid},
        **extra,
    }


async def test_tracker_listener_failures_do_not_stop_others() -> None:
    tracker = JobTracker(interpret_report, timeout=0)
    got: list[OperationResult] = []

    def broken(_result: OperationResult) -> None:
        raise RuntimeError("listener bug")

    tracker.add_listener(broken)
    remove = tracker.add_listener(got.append)
    job = tracker.register(Operation.UNLOCK, "open_lock", lock_id="1")
    tracker.bind(job, "j1")
    with pytest.raises(ResultPendingError):
        await tracker.wait(job)
    assert tracker.resolve(_report("j1", job.correlation_id))
    assert [r.status for r in got] == [ResultStatus.SUCCEEDED]
    remove()
    remove()
    job = tracker.register(Operation.UNLOCK, "open_lock", lock_id="1")
    tracker.bind(job, "j2")
    job.waiting = False
    assert tracker.resolve(_report("j2", job.correlation_id))
    assert len(got) == 1


async def test_tracker_bounds_its_pending_set() -> None:
    now = [1_000_000.0]
    tracker = JobTracker(interpret_report, max_pending=2, clock=lambda: now[0])
    got = collect_tracker(tracker)
    jobs = []
    for index in range(3):
        now[0] += 1
        job = tracker.register(Operation.UNLOCK, "open_lock", lock_id=str(index))
        job.waiting = False
        tracker.bind(job, f"j{index}")
        jobs.append(job)
    assert [job.job_id for job in tracker.pending] == ["j1", "j2"]
    assert [(r.job_id, r.status) for r in got] == [("j0", ResultStatus.EXPIRED)]
    assert not tracker.resolve(_report("j0", jobs[0].correlation_id))


def collect_tracker(tracker: JobTracker) -> list[OperationResult]:
    got: list[OperationResult] = []
    tracker.add_listener(got.append)
    return got


async def test_tracker_clock_jumps() -> None:
    now = [2_000_000.0]
    tracker = JobTracker(interpret_report, lifetime=3600, clock=lambda: now[0])
    job = tracker.register(Operation.UNLOCK, "open_lock")
    job.waiting = False
    tracker.bind(job, "j")
    now[0] -= 86_400  # the clock jumps back a day: nothing expires
    assert tracker.expire_pending() == []
    now[0] += 86_400 + 3_599
    assert tracker.expire_pending() == []
    now[0] += 2
    assert [r.status for r in tracker.expire_pending()] == [ResultStatus.EXPIRED]


async def test_tracker_interim_then_final() -> None:
    tracker = JobTracker(interpret_report, timeout=5)
    got = collect_tracker(tracker)
    job = tracker.register(
        Operation.ADD_CODE,
        "add_code_to_lock",
        lock_id="1",
        context={
            "name": "G",
            "start": NOW.isoformat(),
            "end": (NOW + timedelta(hours=1)).isoformat(),
        },
    )
    tracker.bind(job, "j")
    waiter = asyncio.ensure_future(tracker.wait(job))
    await asyncio.sleep(0)
    retry = "Ошибка загрузки ключа. Шлюз отключен. Следеющая попытка загрузки ключа чере 20 минут"
    assert tracker.resolve(
        {
            **_report("j", job.correlation_id, "add_code_to_lock"),
            "status": False,
            "msg": retry,
        }
    )
    with pytest.raises(ResultPendingError) as err:
        await waiter
    assert err.value.retrying
    assert got == []
    assert tracker.resolve(
        {
            **_report("j", job.correlation_id, "add_code_to_lock"),
            "status": False,
            "msg": retry,
        }
    )
    assert tracker.resolve(
        _report(
            "j",
            job.correlation_id,
            "add_code_to_lock",
            data={"status": True, "data": {"keyboardPwdId": 55}},
        )
    )
    assert [r.status for r in got] == [ResultStatus.RETRYING, ResultStatus.SUCCEEDED]
    passcode = got[-1].passcode
    assert passcode is not None
    assert passcode.code_id == "55"
    assert passcode.start == NOW
    assert tracker.pending == []


async def test_tracker_method_aliases() -> None:
    tracker = JobTracker(
        interpret_report,
        method_aliases={"delete_code_from_lock": ("add_code_to_lock",)},
    )
    job = tracker.register(
        Operation.DELETE_CODE, "delete_code_from_lock", context={"code_id": "9"}
    )
    tracker.bind(job, "j")
    job.waiting = False
    got = collect_tracker(tracker)
    assert not tracker.resolve(_report("j", job.correlation_id, "open_lock"))
    assert tracker.resolve(_report("j", job.correlation_id, "add_code_to_lock"))
    assert got[0].code_id == "9"


async def test_tracker_tag_as_a_json_string() -> None:
    tracker = JobTracker(interpret_report)
    job = tracker.register(Operation.UNLOCK, "open_lock")
    job.waiting = False
    report = {
        "job": "j",
        "status": True,
        "method": "open_lock",
        "tag": json.dumps({TAG_KEY: job.correlation_id}),
    }
    assert tracker.resolve(report)
    assert tracker.pending == []


async def test_tracker_caller_cancelled() -> None:
    """Home Assistant stops while a caller waits: the result goes to listeners."""
    tracker = JobTracker(interpret_report, timeout=30)
    got = collect_tracker(tracker)
    job = tracker.register(Operation.UNLOCK, "open_lock")
    tracker.bind(job, "j")
    waiter = asyncio.ensure_future(tracker.wait(job))
    await asyncio.sleep(0)
    waiter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiter
    assert tracker.resolve(_report("j", job.correlation_id))
    assert [r.status for r in got] == [ResultStatus.SUCCEEDED]


async def test_tracker_discard_and_garbage() -> None:
    tracker = JobTracker(interpret_report)
    job = tracker.register(Operation.UNLOCK, "open_lock")
    tracker.discard(job)
    assert tracker.pending == []
    assert job.future is not None
    assert job.future.cancelled()
    for garbage in (
        {},
        {"job": "x"},
        {"job": "x", "status": None},
        {"job": 1.5, "status": True},
        {"job": "x", "status": True, "method": ["m"]},
    ):
        assert not tracker.resolve(garbage)
    assert parse_report({"job": 7, "status": 1}) is not None


async def test_tracker_import_skips_invalid_items() -> None:
    now = 3_000_000.0
    tracker = JobTracker(interpret_report, clock=lambda: now)
    good = {
        "job_id": "j",
        "correlation_id": "0123456789abcdef",
        "operation": "add_code",
        "method": "add_code_to_lock",
        "lock_id": "12",
        "created": now - 10,
        "retrying": True,
        "context": {"name": "G", "start": NOW.isoformat(), "end": NOW.isoformat()},
    }
    bad: list[Any] = [
        "junk",
        {**good, "correlation_id": "not-hex"},
        {**good, "job_id": "a\x00b"},
        {**good, "operation": "explode"},
        {**good, "method": None},
        {**good, "lock_id": ["1"]},
        {**good, "created": math.nan},
        {**good, "created": True},
        {**good, "created": now + 10 * 86_400},
        {**good, "retrying": "yes"},
        {**good, "context": {"code": "4817"}},
        {**good, "context": {"name": "x" * 500}},
        {**good, "context": "x"},
    ]
    assert tracker.import_([*bad, good, good]) == 1
    (job,) = tracker.pending
    assert job.retrying
    assert job.waiting is False
    assert tracker.export()[0] == good


def test_events_rows_helper() -> None:
    with pytest.raises(InvalidAnswerError):
        events_from_rows({"id": 1})
    assert events_from_rows({}, single=True) == []
    assert events_from_rows(None, single=True) == []
