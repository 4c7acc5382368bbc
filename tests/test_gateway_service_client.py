"""Gateway-service client against the fake service (seed 000), over real HTTP.

The fake service acts against the fake TTLock cloud and POSTs job results to a
loopback receiver that feeds them to the client as the webhook will, so every
test runs the real asynchronous path: request, job id, callback, result.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from datetime import UTC, datetime, timedelta, timezone
import logging
import time
from typing import Any

import aiohttp
from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.ttlock_gateway.providers.gateway_service import (
    GatewayServiceClient,
)
from custom_components.ttlock_gateway.providers.jobs import TAG_KEY
from custom_components.ttlock_gateway.providers.models import (
    AsyncResultProvider,
    AuthError,
    CodePacketError,
    CodePacketProblem,
    CodeUsageProvider,
    DuplicateCodeError,
    EventType,
    InvalidRequestError,
    LockProvider,
    NotSupportedError,
    Operation,
    ResultPendingError,
    ResultStatus,
    RetriesExhaustedError,
    TransientError,
    UnlockMethod,
)
from custom_components.ttlock_gateway.providers.ttlock_records import record_event_id
from tests.common import TTLockHome, seed_ttlock_home
from tests.fakes.gateway_service import (
    MAX_ATTEMPTS,
    RETRY_DELAY_S,
    WELCOME_CODES,
    CallbackReceiver,
    FakeGatewayService,
    ServiceUser,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.gateway_service_helpers import collect, make_client, wire

# Short enough that a test waiting for a result that was held back stays
# quick; the held result makes the outcome certain, not the duration.
SHORT = 0.05


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
    """A logged-in client whose locks the service has listed."""
    gw = make_client(gateway_service, session)
    wire(callback_receiver, gw)
    await gw.async_list_locks()
    await gateway_service.settle()
    return gw


def _window(hours: float = 3) -> tuple[datetime, datetime]:
    start = datetime.now(UTC) + timedelta(minutes=5)
    return start, start + timedelta(hours=hours)


# --------------------------------------------------------------------- basics


def test_protocols(session: aiohttp.ClientSession) -> None:
    client = GatewayServiceClient(
        session,
        base_url="https://locks.example.com/api/v1/",
        email="a@b.c",
        password="p",
    )
    provider: LockProvider = client
    assert provider.provider == "gateway_service"
    assert provider.retries_code_uploads is True
    assert isinstance(client, AsyncResultProvider)
    assert isinstance(client, CodeUsageProvider)


def test_base_url_is_normalised(session: aiohttp.ClientSession) -> None:
    for url in (
        "https://locks.example.com",
        "https://locks.example.com/",
        "https://locks.example.com/api",
        "https://locks.example.com/api/v1/",
    ):
        client = GatewayServiceClient(
            session, base_url=url, email="a@b.c", password="p"
        )
        assert client._base_url == "https://locks.example.com"
    with pytest.raises(ValueError):
        GatewayServiceClient(session, base_url="ftp://x", email="a@b.c", password="p")


async def test_create_user_registers_the_ttlock_account(
    gateway_service: FakeGatewayService,
    session: aiohttp.ClientSession,
    home: TTLockHome,
) -> None:
    client = make_client(gateway_service, session, source="home_assistant")
    await client.async_create_user()
    user = gateway_service.user()
    assert user.source == "home_assistant"
    # src AuthController: a new user gets a packet of 10 codes for a year.
    packet = await client.async_get_code_packet()
    assert packet.codes_left == WELCOME_CODES
    assert packet.expires_at is not None
    assert packet.expires_at > datetime.now(UTC) + timedelta(days=360)
    # Safe to repeat.
    await client.async_create_user()
    assert len(gateway_service.users) == 1


async def test_create_user_with_a_wrong_ttlock_password(
    gateway_service: FakeGatewayService, session: aiohttp.ClientSession
) -> None:
    client = make_client(gateway_service, session, password="wrong")
    with pytest.raises(AuthError) as err:
        await client.async_create_user()
    assert err.value.code == 1
    assert not gateway_service.users


async def test_login_gets_one_token_and_names_the_account(
    gateway_service: FakeGatewayService,
    session: aiohttp.ClientSession,
    user: ServiceUser,
) -> None:
    client = make_client(gateway_service, session)
    info = await client.async_login()
    host = gateway_service.base_url.removeprefix("http://")
    assert info.unique_id == f"{host}_{user.user_id}"
    assert info.title == FakeGatewayService.EMAIL
    await client.async_login()
    await client.async_get_code_packet()
    assert gateway_service.calls["get_token"] == 1


async def test_login_with_a_wrong_password(
    gateway_service: FakeGatewayService,
    session: aiohttp.ClientSession,
    user: ServiceUser,
) -> None:
    client = make_client(gateway_service, session, password="nope")
    with pytest.raises(AuthError):
        await client.async_login()


async def test_every_request_is_a_json_post_accepting_json(
    client: GatewayServiceClient, gateway_service: FakeGatewayService
) -> None:
    await client.async_get_code_packet()
    assert gateway_service.requests
    for _method, headers, body in gateway_service.requests:
        assert headers["Accept"] == "application/json"
        assert headers["Content-Type"].startswith("application/json")
        assert isinstance(body, dict)


async def test_set_callback(
    gateway_service: FakeGatewayService,
    session: aiohttp.ClientSession,
    user: ServiceUser,
) -> None:
    client = make_client(gateway_service, session)
    await client.async_set_callback("https://ha.example.com/api/webhook/abc")
    assert user.callback == "https://ha.example.com/api/webhook/abc"
    calls = gateway_service.calls.total()
    for bad in ("not a url", "ftp://x/y", "https://ha.example.com/a b", ""):
        with pytest.raises(InvalidRequestError):
            await client.async_set_callback(bad)
    assert gateway_service.calls.total() == calls


# ---------------------------------------------------------------- lock list


async def test_lock_list_is_a_job(
    gateway_service: FakeGatewayService,
    callback_receiver: CallbackReceiver,
    session: aiohttp.ClientSession,
    user: ServiceUser,
    home: TTLockHome,
) -> None:
    client = make_client(gateway_service, session)
    accepted = wire(callback_receiver, client)
    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}
    assert set(locks) == {str(home.front), str(home.back), str(home.shed)}
    front, shed = locks[str(home.front)], locks[str(home.shed)]
    assert front.name == "Front door"
    assert front.battery == 80
    assert front.passage_mode is False
    assert front.capabilities.remote_unlock
    assert front.capabilities.passage_mode
    # No lock endpoint; codes are integers on the service.
    assert not front.capabilities.remote_lock
    assert not front.capabilities.code_leading_zero
    assert not shed.capabilities.remote_unlock
    assert accepted == [True]
    # The service learned the locks (src GetLockListJob).
    assert user.locks == {home.front, home.back, home.shed}
    job = next(iter(gateway_service.jobs.values()))
    assert job.method == "get_lock_list"
    assert set(job.tag) == {TAG_KEY}
    assert client.tracker.pending == []


async def test_gateways_and_details(client: GatewayServiceClient) -> None:
    assert await client.async_list_gateways() == []
    lock = (await client.async_list_locks())[0]
    assert await client.async_get_lock_details(lock) is lock
    with pytest.raises(NotSupportedError):
        await client.async_lock(lock.lock_id)
    with pytest.raises(NotSupportedError):
        await client.async_list_codes(lock.lock_id)


# ------------------------------------------------------------------- unlock


async def test_unlock_answered_in_time(
    client: GatewayServiceClient, ttlock_cloud: FakeTTLockCloud, home: TTLockHome
) -> None:
    await client.async_unlock(str(home.front))
    assert ttlock_cloud.unlocks == [home.front]
    assert client.tracker.pending == []


@pytest.mark.parametrize(
    ("lock", "error", "errcode"),
    [
        ("shed", TransientError, -2012),  # no gateway
        ("back", NotSupportedError, -4043),  # remote unlock off in the app
    ],
)
async def test_unlock_refused_by_ttlock(
    client: GatewayServiceClient,
    ttlock_cloud: FakeTTLockCloud,
    home: TTLockHome,
    lock: str,
    error: type[Exception],
    errcode: int,
) -> None:
    with pytest.raises(error) as err:
        await client.async_unlock(str(getattr(home, lock)))
    assert getattr(err.value, "code", None) == errcode
    assert ttlock_cloud.unlocks == []


async def test_unlock_of_a_lock_the_service_does_not_know(
    client: GatewayServiceClient, ttlock_cloud: FakeTTLockCloud, home: TTLockHome
) -> None:
    new = ttlock_cloud.add_lock(name="Garage", gateway_id=home.gateway)
    with pytest.raises(InvalidRequestError):
        await client.async_unlock(str(new))
    # After the next lock list the service knows it.
    await client.async_list_locks()
    await client.async_unlock(str(new))
    assert ttlock_cloud.unlocks == [new]


async def test_busy_gateway_is_retried_with_a_new_job(
    client: GatewayServiceClient,
    ttlock_cloud: FakeTTLockCloud,
    gateway_service: FakeGatewayService,
    home: TTLockHome,
) -> None:
    ttlock_cloud.fail("/v3/lock/unlock", -3003, "gateway busy")
    await client.async_unlock(str(home.front))
    assert gateway_service.calls["open_lock"] == 2
    assert ttlock_cloud.unlocks == [home.front]


async def test_busy_gateway_gives_up_after_the_retries(
    client: GatewayServiceClient,
    ttlock_cloud: FakeTTLockCloud,
    gateway_service: FakeGatewayService,
    home: TTLockHome,
) -> None:
    ttlock_cloud.fail("/v3/lock/unlock", -3003, "gateway busy", times=10)
    with pytest.raises(TransientError) as err:
        await client.async_unlock(str(home.front))
    assert err.value.code == -3003
    assert gateway_service.calls["open_lock"] == 4


# ------------------------------------------------------------- passage mode


async def test_passage_mode_on_and_off(
    client: GatewayServiceClient, ttlock_cloud: FakeTTLockCloud, home: TTLockHome
) -> None:
    await client.async_set_passage_mode(str(home.front), True)
    config = ttlock_cloud.passage_config[home.front]
    assert config["passageMode"] == 1
    assert config["isAllDay"] == 1
    # The service unlocks right after turning passage mode on.
    assert ttlock_cloud.unlocks == [home.front]
    await client.async_set_passage_mode(str(home.front), False)
    assert ttlock_cloud.passage_config[home.front]["passageMode"] == 2


async def test_passage_mode_failure_despite_the_message(
    client: GatewayServiceClient, home: TTLockHome, callback_receiver: CallbackReceiver
) -> None:
    """The service says "passage mode on" even when TTLock refused: status wins."""
    with pytest.raises(NotSupportedError):
        await client.async_set_passage_mode(str(home.shed), True)
    result = callback_receiver.payloads[-1]
    assert result["status"] is False
    assert result["msg"] == "Режим свободного прохода включен"


# -------------------------------------------------------------------- codes


async def test_add_code_answered_in_time(
    client: GatewayServiceClient,
    ttlock_cloud: FakeTTLockCloud,
    gateway_service: FakeGatewayService,
    user: ServiceUser,
    home: TTLockHome,
) -> None:
    start = datetime(2031, 5, 1, 14, 0, 31, tzinfo=UTC)
    end = datetime(2031, 5, 3, 11, 0, 1, tzinfo=UTC)
    passcode = await client.async_add_code(
        str(home.front), "Guest Ann", "4817", start, end
    )
    (stored,) = ttlock_cloud.passcodes[home.front].values()
    assert passcode.code_id == str(stored["keyboardPwdId"])
    assert passcode.code == "4817"
    assert passcode.name == "Guest Ann"
    # Whole UTC minutes, widened: the window covers the one asked for.
    assert passcode.start == datetime(2031, 5, 1, 14, 0, tzinfo=UTC)
    assert passcode.end == datetime(2031, 5, 3, 11, 1, tzinfo=UTC)
    assert stored["startDate"] == int(passcode.start.timestamp() * 1000)
    assert stored["endDate"] == int(passcode.end.timestamp() * 1000)
    body = next(b for m, _h, b in gateway_service.requests if m == "add_code_to_lock")
    assert body["begin"] == "2031-05-01 14:00"
    assert body["end"] == "2031-05-03 11:01"
    assert body["code"] == "4817"
    # ** spends one code of the packet.
    assert user.packet_count == WELCOME_CODES - 1
    assert client.tracker.pending == []


async def test_add_code_converts_to_utc(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, home: TTLockHome
) -> None:
    moscow = timezone(timedelta(hours=3))
    start = datetime(2031, 5, 1, 17, 0, tzinfo=moscow)
    await client.async_add_code(
        str(home.front), "Guest", "5555", start, start + timedelta(days=1)
    )
    body = next(b for m, _h, b in gateway_service.requests if m == "add_code_to_lock")
    assert body["begin"] == "2031-05-01 14:00"
    assert body["end"] == "2031-05-02 14:00"


async def test_duplicate_code_is_final(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, home: TTLockHome
) -> None:
    start, end = _window()
    await client.async_add_code(str(home.front), "Guest", "4817", start, end)
    with pytest.raises(DuplicateCodeError):
        await client.async_add_code(str(home.front), "Other", "4817", start, end)
    # Not retried by the service either.
    assert gateway_service.pending_jobs == []


async def test_delete_code_answered_in_time(
    client: GatewayServiceClient,
    ttlock_cloud: FakeTTLockCloud,
    gateway_service: FakeGatewayService,
    home: TTLockHome,
) -> None:
    start, end = _window()
    passcode = await client.async_add_code(str(home.front), "Guest", "4817", start, end)
    await client.async_delete_code(str(home.front), passcode.code_id)
    assert ttlock_cloud.passcodes[home.front] == {}
    assert gateway_service.pins[home.front] == []


async def test_failed_upload_retried_by_the_service(
    client: GatewayServiceClient,
    ttlock_cloud: FakeTTLockCloud,
    gateway_service: FakeGatewayService,
    user: ServiceUser,
    home: TTLockHome,
    freezer: FrozenDateTimeFactory,
) -> None:
    """First attempt fails (gateway offline): pending; the service's retry lands."""
    results = collect(client)
    ttlock_cloud.gateways[home.gateway]["isOnline"] = 0
    start, end = _window(hours=48)
    with pytest.raises(ResultPendingError) as err:
        await client.async_add_code(str(home.front), "Guest", "4817", start, end)
    assert err.value.retrying is True
    assert err.value.operation is Operation.ADD_CODE
    assert "20 минут" in err.value.message
    job_id = err.value.job_id
    assert gateway_service.jobs[job_id].attempt == 2

    # Nothing happens before the 20 minutes are up.
    freezer.tick(timedelta(minutes=19))
    await gateway_service.run_due()
    assert results == []

    ttlock_cloud.gateways[home.gateway]["isOnline"] = 1
    freezer.tick(timedelta(minutes=1, seconds=1))
    await gateway_service.run_due()
    (result,) = results
    assert result.job_id == job_id
    assert result.status is ResultStatus.SUCCEEDED
    assert result.passcode is not None
    (stored,) = ttlock_cloud.passcodes[home.front].values()
    assert result.passcode.code_id == str(stored["keyboardPwdId"])
    assert result.passcode.code is None  # digits are never kept for later
    assert result.passcode.start == start.replace(second=0, microsecond=0)
    assert user.packet_count == WELCOME_CODES - 1
    assert client.tracker.pending == []


async def test_service_retries_exhausted(
    client: GatewayServiceClient,
    ttlock_cloud: FakeTTLockCloud,
    gateway_service: FakeGatewayService,
    user: ServiceUser,
    home: TTLockHome,
    freezer: FrozenDateTimeFactory,
) -> None:
    results = collect(client)
    ttlock_cloud.gateways[home.gateway]["isOnline"] = 0
    start, end = _window(hours=48)
    with pytest.raises(ResultPendingError):
        await client.async_add_code(str(home.front), "Guest", "4817", start, end)
    for _ in range(MAX_ATTEMPTS - 1):
        freezer.tick(timedelta(seconds=RETRY_DELAY_S + 1))
        await gateway_service.run_due()
    statuses = [result.status for result in results]
    assert statuses == [ResultStatus.RETRYING] * (MAX_ATTEMPTS - 2) + [
        ResultStatus.FAILED
    ]
    assert isinstance(results[-1].error, RetriesExhaustedError)
    assert "исчерпано" in (results[-1].message or "")
    assert ttlock_cloud.passcodes[home.front] == {}
    assert user.packet_count == WELCOME_CODES
    assert client.tracker.pending == []
    # Later ticks change nothing: the job is over.
    freezer.tick(timedelta(hours=2))
    await gateway_service.run_due()
    assert len(results) == MAX_ATTEMPTS - 1


async def test_failed_delete_retried_by_the_service(
    client: GatewayServiceClient,
    ttlock_cloud: FakeTTLockCloud,
    gateway_service: FakeGatewayService,
    home: TTLockHome,
    freezer: FrozenDateTimeFactory,
) -> None:
    results = collect(client)
    start, end = _window()
    passcode = await client.async_add_code(str(home.front), "Guest", "4817", start, end)
    ttlock_cloud.gateways[home.gateway]["isOnline"] = 0
    with pytest.raises(ResultPendingError) as err:
        await client.async_delete_code(str(home.front), passcode.code_id)
    assert err.value.retrying
    ttlock_cloud.gateways[home.gateway]["isOnline"] = 1
    freezer.tick(timedelta(seconds=RETRY_DELAY_S + 1))
    await gateway_service.run_due()
    (result,) = results
    assert result.operation is Operation.DELETE_CODE
    assert result.status is ResultStatus.SUCCEEDED
    assert result.code_id == passcode.code_id
    assert ttlock_cloud.passcodes[home.front] == {}


# ------------------------------------------------------------ code packets


async def test_code_packet(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, user: ServiceUser
) -> None:
    gateway_service.set_packet(user, 42, days=30)
    packet = await client.async_get_code_packet()
    assert packet.codes_left == 42
    assert packet.expires_at is not None
    now = datetime.now(UTC)
    assert now + timedelta(days=29) < packet.expires_at < now + timedelta(days=31)
    assert packet.problem(now) is None
    gateway_service.set_packet(user, -100, days=30)
    packet = await client.async_get_code_packet()
    assert packet.codes_left is None  # unlimited
    assert packet.problem(now) is None


async def test_code_packet_without_a_packet(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, user: ServiceUser
) -> None:
    user.packet_count = None
    packet = await client.async_get_code_packet()
    assert packet.codes_left == 0
    assert packet.problem(datetime.now(UTC)) is CodePacketProblem.EXPIRED


@pytest.mark.parametrize(
    ("count", "days", "problem"),
    [
        (0, 30, CodePacketProblem.EXHAUSTED),
        (5, -1, CodePacketProblem.EXPIRED),
        (None, 30, CodePacketProblem.EXHAUSTED),
    ],
)
async def test_packet_refused_before_the_job(
    client: GatewayServiceClient,
    gateway_service: FakeGatewayService,
    ttlock_cloud: FakeTTLockCloud,
    user: ServiceUser,
    home: TTLockHome,
    count: int | None,
    days: float,
    problem: CodePacketProblem,
) -> None:
    """Operations marked * need an active packet: refused at once, no job."""
    gateway_service.set_packet(user, count, days=days)
    jobs = len(gateway_service.jobs)
    start, end = _window()
    with pytest.raises(CodePacketError) as err:
        await client.async_add_code(str(home.front), "Guest", "4817", start, end)
    assert err.value.problem is problem
    with pytest.raises(CodePacketError):
        await client.async_unlock(str(home.front))
    with pytest.raises(CodePacketError):
        await client.async_get_events(str(home.front), start, end)
    assert len(gateway_service.jobs) == jobs
    assert ttlock_cloud.unlocks == []
    assert client.tracker.pending == []


@pytest.mark.parametrize(
    ("count", "days", "problem", "text"),
    [
        (0, 30, CodePacketProblem.EXHAUSTED, "Закончился пакет кодов"),
        (5, -1, CodePacketProblem.EXPIRED, "Окончилась дата"),
        (None, 30, CodePacketProblem.MISSING, "Нет оплаченного"),
    ],
)
async def test_packet_gone_by_the_time_the_job_runs(
    gateway_service: FakeGatewayService,
    callback_receiver: CallbackReceiver,
    session: aiohttp.ClientSession,
    user: ServiceUser,
    home: TTLockHome,
    count: int | None,
    days: float,
    problem: CodePacketProblem,
    text: str,
) -> None:
    client = make_client(gateway_service, session)
    wire(callback_receiver, client)
    await client.async_list_locks()
    gateway_service.job_mode = "manual"
    start, end = _window()
    task = asyncio.ensure_future(
        client.async_add_code(str(home.front), "Guest", "4817", start, end)
    )
    await gateway_service.wait_for_job("add_code_to_lock")
    gateway_service.set_packet(user, count, days=days)
    await gateway_service.run_due()
    with pytest.raises(CodePacketError) as err:
        await task
    assert err.value.problem is problem
    assert text in err.value.message


# ------------------------------------------------------------------- events


async def test_events_from_the_service_log(
    client: GatewayServiceClient,
    gateway_service: FakeGatewayService,
    ttlock_cloud: FakeTTLockCloud,
    home: TTLockHome,
) -> None:
    await client.async_unlock(str(home.front))
    # The service's 6-hourly schedule copies TTLock's records into its log.
    assert await gateway_service.run_events_schedule() == 1
    now = datetime.now(UTC)
    (event,) = await client.async_get_events(
        str(home.front), now - timedelta(hours=1), now + timedelta(hours=1)
    )
    (record,) = ttlock_cloud.records[home.front]
    assert event.type is EventType.UNLOCKED
    assert event.method is UnlockMethod.GATEWAY
    assert event.lock_id == str(home.front)
    # The same id as TTLock's own record (push and poll agree).
    assert event.event_id == record_event_id(
        str(home.front), record["lockDate"], 12, True
    )
    assert event.raw["service_event_id"] == 1
    # Outside the window: nothing.
    assert (
        await client.async_get_events(
            str(home.front), now - timedelta(days=2), now - timedelta(days=1)
        )
        == []
    )


async def test_events_oldest_first_last_100(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, home: TTLockHome
) -> None:
    base = int(datetime(2031, 1, 1, tzinfo=UTC).timestamp() * 1000)
    for i in range(130):
        gateway_service.add_event(
            home.front, 4, keyboard_pwd="4817", lock_date_ms=base + i * 60_000
        )
    events = await client.async_get_lock_events(str(home.front))
    assert len(events) == 100
    assert [e.time for e in events] == sorted(e.time for e in events)
    assert events[-1].time == datetime.fromtimestamp((base + 129 * 60_000) / 1000, UTC)
    assert events[0].code == "4817"


async def test_code_events_and_first_use(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, home: TTLockHome
) -> None:
    t0 = int(datetime(2031, 3, 1, 12, tzinfo=UTC).timestamp() * 1000)
    gateway_service.add_event(
        home.front,
        4,
        keyboard_pwd="4817",
        lock_date_ms=t0 + 2000,
        record_type_from_lock=4,
    )
    gateway_service.add_event(
        home.front,
        4,
        keyboard_pwd="4817",
        lock_date_ms=t0 + 1000,
        record_type_from_lock=4,
        success=False,
    )
    gateway_service.add_event(
        home.back,
        4,
        keyboard_pwd="4817",
        lock_date_ms=t0 + 3000,
        record_type_from_lock=4,
    )
    gateway_service.add_event(
        home.front, 4, keyboard_pwd="9999", lock_date_ms=t0, record_type_from_lock=4
    )

    events = await client.async_get_code_events(str(home.front), "4817")
    assert [e.time.timestamp() * 1000 for e in events] == [t0 + 1000, t0 + 2000]
    assert [e.type for e in events] == [EventType.WRONG_CODE, EventType.UNLOCKED]

    first = await client.async_get_first_use([str(home.front), str(home.back)], "4817")
    assert first is not None
    assert first.time == datetime.fromtimestamp((t0 + 2000) / 1000, UTC)
    assert first.lock_id == str(home.front)
    assert await client.async_get_first_use([str(home.front)], "1111") is None


async def test_staff_entries_and_all(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, home: TTLockHome
) -> None:
    start, end = _window()
    await client.async_add_code(str(home.front), "Guest", "4817", start, end)
    t0 = int(start.timestamp() * 1000)
    gateway_service.add_event(home.front, 4, keyboard_pwd="4817", lock_date_ms=t0)
    gateway_service.add_event(home.front, 4, keyboard_pwd="2580", lock_date_ms=t0 + 1)
    gateway_service.add_event(home.front, 12, lock_date_ms=t0 + 2)
    staff = await client.async_get_lock_events2([str(home.front)], 2)
    assert [e.code for e in staff] == ["2580"]
    assert len(await client.async_get_lock_events2([str(home.front)], 3)) == 3
    personal = await client.async_get_lock_events(str(home.front), personal=True)
    assert [e.code for e in personal] == ["2580"]


# ------------------------------------------------ jobs: late, twice, never


async def test_result_arrives_late(
    gateway_service: FakeGatewayService,
    callback_receiver: CallbackReceiver,
    session: aiohttp.ClientSession,
    user: ServiceUser,
    ttlock_cloud: FakeTTLockCloud,
    home: TTLockHome,
) -> None:
    client = make_client(gateway_service, session)
    wire(callback_receiver, client)
    await client.async_list_locks()
    client.tracker.timeout = SHORT
    results = collect(client)
    gateway_service.callback_mode = "hold"
    with pytest.raises(ResultPendingError) as err:
        await client.async_unlock(str(home.front))
    assert err.value.retrying is False
    assert err.value.operation is Operation.UNLOCK
    assert err.value.lock_id == str(home.front)
    assert err.value.job_id in gateway_service.jobs
    # It did happen on the lock; the result is on its way.
    await gateway_service.settle()
    assert ttlock_cloud.unlocks == [home.front]
    assert results == []
    await gateway_service.release_callbacks()
    (result,) = results
    assert result.status is ResultStatus.SUCCEEDED
    assert result.job_id == err.value.job_id
    assert result.lock_id == str(home.front)
    assert client.tracker.pending == []


async def test_result_never_arrives(
    gateway_service: FakeGatewayService,
    callback_receiver: CallbackReceiver,
    session: aiohttp.ClientSession,
    user: ServiceUser,
    home: TTLockHome,
) -> None:
    now = [time.time()]
    client = make_client(gateway_service, session, clock=lambda: now[0])
    wire(callback_receiver, client)
    await client.async_list_locks()
    client.tracker.timeout = SHORT
    results = collect(client)
    gateway_service.callback_mode = "drop"
    with pytest.raises(ResultPendingError) as err:
        await client.async_unlock(str(home.front))
    (pending,) = client.export_pending()
    assert pending["job_id"] == err.value.job_id
    assert pending["operation"] == "unlock"
    now[0] += 23 * 3600
    assert client.expire_pending() == []
    now[0] += 2 * 3600
    (expired,) = client.expire_pending()
    assert expired.status is ResultStatus.EXPIRED
    assert expired.job_id == err.value.job_id
    assert isinstance(expired.error, ResultPendingError)
    assert results == [expired]
    assert client.export_pending() == []


async def test_result_arrives_twice(
    client: GatewayServiceClient,
    gateway_service: FakeGatewayService,
    callback_receiver: CallbackReceiver,
    home: TTLockHome,
) -> None:
    accepted = wire(callback_receiver, client)
    results = collect(client)
    gateway_service.duplicate_callbacks = True
    await client.async_unlock(str(home.front))
    await gateway_service.settle()
    assert accepted == [True, False]
    assert results == []


async def test_result_before_the_answer_naming_the_job(
    gateway_service: FakeGatewayService,
    callback_receiver: CallbackReceiver,
    session: aiohttp.ClientSession,
    user: ServiceUser,
    ttlock_cloud: FakeTTLockCloud,
    home: TTLockHome,
) -> None:
    """A synchronous queue runs the job before answering: matched by our tag."""
    gateway_service.job_mode = "sync"
    client = make_client(gateway_service, session)
    accepted = wire(callback_receiver, client)
    await client.async_list_locks()
    await client.async_unlock(str(home.front))
    assert accepted == [True, True]
    assert ttlock_cloud.unlocks == [home.front]
    assert client.tracker.pending == []


async def test_forged_and_unknown_callbacks_change_nothing(
    gateway_service: FakeGatewayService,
    callback_receiver: CallbackReceiver,
    session: aiohttp.ClientSession,
    user: ServiceUser,
    home: TTLockHome,
) -> None:
    client = make_client(gateway_service, session)
    wire(callback_receiver, client)
    await client.async_list_locks()
    client.tracker.timeout = SHORT
    results = collect(client)
    gateway_service.callback_mode = "hold"
    with pytest.raises(ResultPendingError) as err:
        await client.async_unlock(str(home.front))
    job_id = err.value.job_id
    (_url, real) = gateway_service.held[0]
    cid = real["tag"][TAG_KEY]
    forged: list[dict[str, Any]] = [
        {**real, "job": "5d0e3c1e-0000-4000-8000-000000000000", "tag": None},
        {**real, "method": "add_code_to_lock"},
        {**real, "tag": {TAG_KEY: "0123456789abcdef"}},
        {"job": job_id},
        {"job": job_id, "status": "perhaps", "method": "open_lock"},
        {"job": ["x"], "status": True, "method": "open_lock"},
        {"job": "", "status": True, "method": "open_lock"},
        {"job": "other", "status": True, "method": "open_lock", "tag": {TAG_KEY: "zz"}},
        {"job": "other", "status": True, "method": "open_lock", "tag": {TAG_KEY: cid}},
    ]
    for payload in forged:
        assert client.resolve_job(payload) is False, payload
    assert results == []
    assert [job.job_id for job in client.tracker.pending] == [job_id]
    # The real result still lands.
    await gateway_service.release_callbacks()
    assert [r.status for r in results] == [ResultStatus.SUCCEEDED]
    # And once it has, a replay of it is ignored.
    assert client.resolve_job(real) is False


async def test_results_nobody_asked_for_are_ignored(
    client: GatewayServiceClient,
    gateway_service: FakeGatewayService,
    callback_receiver: CallbackReceiver,
    home: TTLockHome,
) -> None:
    """The service's hourly lock list and 6-hourly event pull post on their own."""
    accepted = wire(callback_receiver, client)
    results = collect(client)
    await client.async_unlock(str(home.front))
    await gateway_service.run_lock_list_schedule()
    await gateway_service.run_events_schedule()
    # Ours, then the schedule's lock list (an id we never saw): ignored.
    assert accepted == [True, False]
    assert results == []
    # The raw TTLock record the event pull forwards is not a job result.
    assert gateway_service.deliveries[-1].payload["lockId"] == home.front
    assert gateway_service.deliveries[-1].status == 400


async def _cancelled_once_held(
    service: FakeGatewayService, held: int, coro: Any
) -> None:
    """Run ``coro`` until its job's result is held back, then cancel it (a stop)."""
    task = asyncio.ensure_future(coro)
    await service.wait_for_held(held)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_restart_with_jobs_pending(
    gateway_service: FakeGatewayService,
    callback_receiver: CallbackReceiver,
    session: aiohttp.ClientSession,
    user: ServiceUser,
    ttlock_cloud: FakeTTLockCloud,
    home: TTLockHome,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Home Assistant stops while two jobs wait; the next start takes them over."""
    before = make_client(gateway_service, session)
    wire(callback_receiver, before)
    await before.async_list_locks()
    gateway_service.callback_mode = "hold"
    ttlock_cloud.gateways[home.gateway]["isOnline"] = 0
    start, end = _window(hours=48)
    await _cancelled_once_held(gateway_service, 1, before.async_unlock(str(home.front)))
    await _cancelled_once_held(
        gateway_service,
        2,
        before.async_add_code(str(home.front), "Guest", "4817", start, end),
    )
    stored = before.export_pending()
    assert [item["operation"] for item in stored] == ["unlock", "add_code"]
    assert "4817" not in repr(stored)

    # The next start: a new client takes the stored jobs over.
    after = make_client(gateway_service, session)
    assert after.import_pending(stored) == 2
    assert after.import_pending(stored) == 0  # already known
    wire(callback_receiver, after)
    results = collect(after)
    ttlock_cloud.gateways[home.gateway]["isOnline"] = 1
    await gateway_service.release_callbacks()
    freezer.tick(timedelta(seconds=RETRY_DELAY_S + 1))
    gateway_service.callback_mode = "deliver"
    await gateway_service.run_due()
    assert [(r.operation, r.status) for r in results] == [
        (Operation.UNLOCK, ResultStatus.FAILED),
        (Operation.ADD_CODE, ResultStatus.RETRYING),
        (Operation.ADD_CODE, ResultStatus.SUCCEEDED),
    ]
    assert isinstance(results[0].error, TransientError)
    passcode = results[-1].passcode
    assert passcode is not None
    assert passcode.name == "Guest"
    assert passcode.end == end.replace(second=0, microsecond=0) + timedelta(minutes=1)
    assert after.export_pending() == []


# ------------------------------------------------------------------- tokens


async def test_token_revoked_mid_run(
    client: GatewayServiceClient,
    gateway_service: FakeGatewayService,
    ttlock_cloud: FakeTTLockCloud,
    home: TTLockHome,
) -> None:
    assert gateway_service.calls["get_token"] == 1
    gateway_service.revoke_tokens()
    await client.async_unlock(str(home.front))
    assert gateway_service.calls["get_token"] == 2
    assert ttlock_cloud.unlocks == [home.front]


async def test_token_expiry_renews_once_for_concurrent_calls(
    gateway_service: FakeGatewayService,
    callback_receiver: CallbackReceiver,
    session: aiohttp.ClientSession,
    user: ServiceUser,
    freezer: FrozenDateTimeFactory,
) -> None:
    gateway_service.token_lifetime = 3600
    client = make_client(gateway_service, session)
    wire(callback_receiver, client)
    await client.async_get_code_packet()
    freezer.tick(timedelta(hours=2))
    packets = await asyncio.gather(*(client.async_get_code_packet() for _ in range(5)))
    assert {p.codes_left for p in packets} == {WELCOME_CODES}
    assert gateway_service.calls["get_token"] == 2


async def test_password_changed_on_the_service(
    client: GatewayServiceClient, gateway_service: FakeGatewayService, user: ServiceUser
) -> None:
    user.password = "changed"
    gateway_service.revoke_tokens()
    with pytest.raises(AuthError):
        await client.async_get_code_packet()


async def test_the_services_ttlock_login_stopped_working(
    client: GatewayServiceClient,
    ttlock_cloud: FakeTTLockCloud,
    user: ServiceUser,
    home: TTLockHome,
) -> None:
    """TTLock refuses the service's stored login: reauth, not a transient error."""
    user.ttlock_password = "outdated"
    user.ttlock_token = None
    ttlock_cloud.revoke_tokens()
    with pytest.raises(AuthError):
        await client.async_unlock(str(home.front))


# ------------------------------------------------------------------ secrets


async def test_secrets_never_in_errors_or_logs(
    gateway_service: FakeGatewayService,
    callback_receiver: CallbackReceiver,
    session: aiohttp.ClientSession,
    user: ServiceUser,
    ttlock_cloud: FakeTTLockCloud,
    home: TTLockHome,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(gateway_service, session)
    wire(callback_receiver, client)
    errors: list[Exception] = []
    await client.async_list_locks()
    await client.async_set_callback(callback_receiver.url)
    start, end = _window()
    await client.async_add_code(str(home.front), "Guest", "4817", start, end)
    for call in (
        lambda: client.async_unlock(str(home.shed)),
        lambda: client.async_add_code(str(home.front), "Again", "4817", start, end),
        lambda: client.async_set_callback("nope " + callback_receiver.url),
    ):
        try:
            await call()
        except Exception as err:  # collected to inspect
            errors.append(err)
    gateway_service.revoke_tokens()
    user.password = "changed"
    try:
        await client.async_unlock(str(home.front))
    except AuthError as err:
        errors.append(err)
    assert len(errors) == 4
    tokens = [*gateway_service._tokens, client._token or "no-token"]
    secrets = [
        FakeGatewayService.PASSWORD,
        "changed",
        callback_receiver.url,
        "gw-test-webhook",
        "4817",
        ttlock_cloud.locks[home.front]["lockMac"],
        *(t for t in tokens if t != "no-token"),
    ]
    text = caplog.text + " ".join(f"{e!r} {e}" for e in errors)
    for secret in secrets:
        assert secret not in text, secret
