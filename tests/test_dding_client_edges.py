"""Dding client edge cases: odd answers, every error code, outages, clocks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import json
import time
from typing import Any

import aiohttp
import pytest

from custom_components.ttlock_gateway.providers.bounds import InvalidAnswerError
from custom_components.ttlock_gateway.providers.dding import (
    MAX_ANSWER_BYTES,
    DdingClient,
    error_for_errno,
)
from custom_components.ttlock_gateway.providers.models import (
    AuthError,
    CannotConnectError,
    CodeKind,
    CodePhase,
    DuplicateCodeError,
    InvalidRequestError,
    NotSupportedError,
    ProtectedCodeError,
    RateLimitError,
    TransientError,
    UnknownHomeError,
)
from tests.fakes.dding_cloud import FakeDdingCloud

HOME = "home-1001"


@pytest.fixture
async def cloud(socket_enabled: Any) -> AsyncIterator[FakeDdingCloud]:
    fake = FakeDdingCloud()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def session(cloud: FakeDdingCloud) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as sess:
        yield sess


def _client(
    cloud: FakeDdingCloud, session: aiohttp.ClientSession, **kwargs: Any
) -> DdingClient:
    kwargs.setdefault("request_timeout", 1.0)
    return DdingClient(
        session,
        client_id=cloud.CLIENT_ID,
        client_secret=cloud.CLIENT_SECRET,
        home_ids=[HOME],
        base_url=cloud.base_url,
        **kwargs,
    )


@pytest.fixture
def client(cloud: FakeDdingCloud, session: aiohttp.ClientSession) -> DdingClient:
    return _client(cloud, session)


@pytest.fixture
def lock(cloud: FakeDdingCloud) -> str:
    cloud.add_gateway(HOME)
    return cloud.add_lock(HOME, "r1", name="Room 1")


def _since(hours: float = 1) -> tuple[datetime, datetime]:
    now = time.time()
    return (
        datetime.fromtimestamp(now - hours * 3600, UTC),
        datetime.fromtimestamp(now + 1, UTC),
    )


# ----------------------------------------------------------------- transport


@pytest.mark.parametrize(
    ("errno", "exc_type"),
    [
        (101, AuthError),
        (102, AuthError),
        (11000, DuplicateCodeError),
        (14001, InvalidRequestError),
        (14003, TransientError),
        (15000, TransientError),
        (15006, InvalidRequestError),
        (15007, NotSupportedError),
        (15008, InvalidRequestError),
        (15009, InvalidRequestError),
        (15010, InvalidRequestError),
        (15011, InvalidRequestError),
        (15012, InvalidRequestError),
        (15013, ProtectedCodeError),
        (15014, InvalidRequestError),
        (99999, InvalidRequestError),
    ],
)
async def test_every_documented_errno(
    cloud: FakeDdingCloud,
    client: DdingClient,
    lock: str,
    errno: int,
    exc_type: type[Exception],
) -> None:
    # 101/102 twice: the replay meets it again.
    cloud.fail("fetch_passwords", errno, "原因", times=2)
    with pytest.raises(exc_type) as exc:
        await client.async_list_codes(lock)
    assert exc.value.code == errno  # type: ignore[attr-defined]
    assert "Dding SaaS" in str(exc.value)
    assert type(error_for_errno(errno, "")) is exc_type


@pytest.mark.parametrize(
    ("status", "body", "exc_type"),
    [
        (200, "<html>maintenance</html>", TransientError),
        (200, "[1, 2]", TransientError),
        (200, "", TransientError),
        (200, "\xff\xfe", TransientError),
        (404, "Not Found", InvalidRequestError),
        (500, "oops", CannotConnectError),
        (503, '{"ErrNo": 0}', CannotConnectError),
        (429, "slow down", RateLimitError),
        (200, '{"ErrMsg": "no number"}', InvalidAnswerError),
        (200, '{"ErrNo": true}', InvalidAnswerError),
        (200, '{"ErrNo": "abc"}', InvalidAnswerError),
    ],
)
async def test_odd_answers(
    cloud: FakeDdingCloud,
    client: DdingClient,
    lock: str,
    status: int,
    body: str,
    exc_type: type[Exception],
) -> None:
    await client.async_login()
    cloud.answer_raw("fetch_passwords", body, status=status)
    with pytest.raises(exc_type):
        await client.async_list_codes(lock)


async def test_errno_as_string_or_float(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    await client.async_login()
    cloud.answer_raw("fetch_passwords", '{"ErrNo": "0", "passwords": {}}')
    assert await client.async_list_codes(lock) == []
    cloud.answer_raw("fetch_passwords", '{"ErrNo": 0.0, "passwords": []}')
    assert await client.async_list_codes(lock) == []


async def test_answer_too_large(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    await client.async_login()
    padding = "x" * (MAX_ANSWER_BYTES + 10)
    cloud.answer_raw("fetch_passwords", json.dumps({"ErrNo": 0, "pad": padding}))
    with pytest.raises(TransientError, match="too much"):
        await client.async_list_codes(lock)


@pytest.mark.parametrize("mode", ["http500", "timeout", "disconnect"])
async def test_outages(
    cloud: FakeDdingCloud, session: aiohttp.ClientSession, lock: str, mode: str
) -> None:
    client = _client(cloud, session, request_timeout=0.3)
    await client.async_login()
    cloud.set_outage(mode)
    with pytest.raises(CannotConnectError):
        await client.async_list_codes(lock)
    cloud.set_outage(None)
    assert await client.async_list_codes(lock)


async def test_add_answered_too_late(
    cloud: FakeDdingCloud, session: aiohttp.ClientSession, lock: str
) -> None:
    """The SaaS took the code but answered after our timeout: the retry meets
    11000, which the code queue counts as landed, and the listing shows it."""
    client = _client(cloud, session, request_timeout=0.3)
    await client.async_login()
    start = datetime.now(UTC)
    window = (start, start + timedelta(hours=2))
    cloud.gate = asyncio.Event()
    with pytest.raises(CannotConnectError):
        await client.async_add_code(lock, "Late", "314159", *window)
    cloud.gate.set()
    cloud.gate = None
    await cloud.answered("add_password")
    with pytest.raises(DuplicateCodeError):
        await client.async_add_code(lock, "Late", "314159", *window)
    (late,) = [c for c in await client.async_list_codes(lock) if c.name == "Late"]
    assert late.phase is CodePhase.PENDING


async def test_cannot_connect(socket_enabled: Any) -> None:
    async with aiohttp.ClientSession() as session:
        client = DdingClient(
            session,
            client_id="a",
            client_secret="b",
            home_ids=["h"],
            base_url="http://127.0.0.1:9",
            request_timeout=1.0,
        )
        with pytest.raises(CannotConnectError):
            await client.async_login()


async def test_fake_refuses_form_bodies_and_wrong_methods(
    cloud: FakeDdingCloud, session: aiohttp.ClientSession
) -> None:
    """The fake holds the client to 4.2 (JSON) and the documented methods."""
    url = f"{cloud.base_url}/openapi/v1/access_token"
    form = {"client_id": cloud.CLIENT_ID, "client_secret": cloud.CLIENT_SECRET}
    async with session.post(url, data=form) as resp:
        assert (await resp.json())["ErrNo"] == 14001
    async with session.get(url, params=form) as resp:
        assert resp.status == 405
    async with session.post(url, json=form) as resp:
        answer = await resp.json()
    assert answer["ErrNo"] == 0
    assert answer["expires_time"] > time.time()  # an epoch time, not a lifetime
    devices = f"{cloud.base_url}/openapi/v1/find_home_devices"
    async with session.get(
        devices, params={"access_token": answer["access_token"]}
    ) as resp:
        assert resp.status == 405  # 5.5 / 5.7: POST only


async def test_fake_refuses_milliseconds(
    cloud: FakeDdingCloud, session: aiohttp.ClientSession, lock: str
) -> None:
    url = f"{cloud.base_url}/openapi/v1/"
    async with session.post(
        url + "access_token",
        json={"client_id": cloud.CLIENT_ID, "client_secret": cloud.CLIENT_SECRET},
    ) as resp:
        token = (await resp.json())["access_token"]
    now_ms = int(time.time() * 1000)
    body = {
        "access_token": token,
        "uuid": lock,
        "phonenumber": "13700000000",
        "is_default": 0,
        "password": "123456",
        "permission_begin": now_ms,
        "permission_end": now_ms + 3_600_000,
    }
    async with session.post(url + "add_password", json=body) as resp:
        assert (await resp.json())["ErrNo"] == 14001
    params = {"access_token": token, "uuid": lock, "start_time": str(now_ms)}
    async with session.get(url + "get_lock_events", params=params) as resp:
        assert (await resp.json())["ErrNo"] == 14001


# ----------------------------------------------------------------- devices


async def test_odd_device_listings(cloud: FakeDdingCloud, client: DdingClient) -> None:
    cloud.add_home(HOME)
    await client.async_login()
    cloud.patch_answer(
        "find_home_devices",
        {
            "result": {
                HOME: [
                    {
                        "type": "home_lock",
                        "uuid": "lk-good",
                        "sn": "SN1",
                        "room_id": HOME,
                    },
                    {"type": "room_lock", "uuid": "", "sn": "x"},
                    {"type": "room_lock", "uuid": ["x"]},
                    {"type": None, "uuid": "lk-notype"},
                    {"type": "elemeter", "uuid": "em-1"},
                    "not a device",
                    {"type": "gateway", "uuid": "gw-1", "onoff_line": "1"},
                    {"type": "lock", "uuid": "lk-other", "onoff_line": 7, "power": 250},
                ]
            }
        },
    )
    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}
    assert set(locks) == {"lk-good", "lk-other"}
    # The info of unknown uuids is refused (15006): named after the serial.
    assert locks["lk-good"].name == "SN1"
    assert locks["lk-other"].name == "lk-other"
    assert locks["lk-other"].online is None  # 7 is no documented state
    assert locks["lk-other"].battery is None  # 250 % is no battery level
    assert locks["lk-good"].has_gateway


@pytest.mark.parametrize(
    "result",
    [None, [], "x", {HOME: "not a list"}],
)
async def test_device_listing_not_an_object(
    cloud: FakeDdingCloud, client: DdingClient, result: Any
) -> None:
    cloud.add_home(HOME)
    await client.async_login()
    cloud.patch_answer("find_home_devices", {"result": result})
    with pytest.raises(InvalidAnswerError):
        await client.async_list_locks()


async def test_home_left_out_of_the_listing(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    cloud.add_home(HOME)
    cloud.patch_answer("find_home_devices", {"result": {}})
    with pytest.raises(UnknownHomeError) as exc:
        await client.async_login()
    assert exc.value.home_ids == (HOME,)


async def test_home_refused_but_probe_finds_nothing(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    cloud.add_home(HOME)
    cloud.fail("find_home_devices", 15006, "记录不存在")
    with pytest.raises(InvalidRequestError) as exc:
        await client.async_login()
    assert not isinstance(exc.value, UnknownHomeError)


async def test_odd_lock_info(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    cloud.list_with_state = False
    cloud.devices[lock].update(
        name="Room\x00 1\u202e" + "x" * 400,
        power=float("nan"),
        onoff_line="2",
        versions="not an object",
        mac=None,
    )
    (found,) = await client.async_list_locks()
    assert found.name.startswith("Room 1")
    assert "\x00" not in found.name
    assert len(found.name) <= 256
    assert found.battery is None
    assert found.online is False
    assert found.firmware is None
    assert found.aliases == (lock,)


async def test_info_naming_another_device(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    cloud.patch_answer("get_lock_info", {"uuid": "someone-else"})
    (found,) = await client.async_list_locks()
    assert found.name == cloud.devices[lock]["sn"]  # the answer was not believed
    cloud.patch_answer("get_lock_info", {"uuid": "someone-else"})
    assert await client.async_get_lock_details(found) == found  # left as it was


async def test_lock_info_failing_keeps_the_listing(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    cloud.fail("get_lock_info", 15000, "internal")
    (found,) = await client.async_list_locks()
    assert found.lock_id == lock
    # Details failing too: the lock as it was, so the events poll still runs.
    cloud.fail("get_lock_info", 15000, "internal")
    assert await client.async_get_lock_details(found) == found
    cloud.revoke_tokens()
    cloud.fail("access_token", 14001)
    with pytest.raises(AuthError):
        await client.async_get_lock_details(found)


async def test_details_of_an_unknown_lock(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    (found,) = await client.async_list_locks()
    cloud.remove_device(lock)
    with pytest.raises(InvalidRequestError, match="Unknown"):
        await client.async_get_lock_details(
            type(found)(lock_id="nope", name="x", capabilities=found.capabilities)
        )


async def test_gateway_removed_since_listing(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    cloud.list_with_state = False
    await client.async_list_locks()
    (gw,) = [u for u, d in cloud.devices.items() if d["type"] == "gateway"]
    cloud.remove_device(gw)
    assert await client.async_list_gateways() == []
    cloud.fail("get_center_info", 15000)
    cloud.add_gateway(HOME)
    await client.async_list_locks()
    with pytest.raises(TransientError):
        await client.async_list_gateways()


async def test_gateway_state_unknown_is_offline(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    cloud.list_with_state = False
    (gw,) = [u for u, d in cloud.devices.items() if d["type"] == "gateway"]
    cloud.devices[gw]["onoff_line"] = 0
    await client.async_list_locks()
    (gateway,) = await client.async_list_gateways()
    assert gateway.online is False  # never claimed online without knowing


# ----------------------------------------------------------------- passwords


def _listing(entries: Any) -> dict[str, Any]:
    return {"passwords": entries}


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        # Year 40,000: listed (it may work) without a window, never cleaned up.
        (
            {
                "id": 1,
                "operation": 1,
                "operation_stage": 3,
                "permission": {
                    "begin": 1_700_000_000,
                    "end": 1_200_000_000_000,
                    "status": 2,
                },
            },
            (CodeKind.OTHER, None, CodePhase.DELIVERED),
        ),
        (
            {
                "id": 2,
                "operation": 1,
                "operation_stage": 3,
                "permission": {
                    "begin": 1_800_000_000,
                    "end": 1_700_000_000,
                    "status": 2,
                },
            },
            (CodeKind.OTHER, None, CodePhase.DELIVERED),
        ),
        (
            {
                "id": "3",
                "operation": "1",
                "operation_stage": "1",
                "permission": {
                    "begin": "1700000000",
                    "end": "1700003600",
                    "status": "2",
                },
            },
            (
                CodeKind.PERIOD,
                datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC),
                CodePhase.PENDING,
            ),
        ),
        (
            {"id": 4, "operation": 9, "operation_stage": 3, "permission": "x"},
            (CodeKind.OTHER, None, CodePhase.PENDING),
        ),
        (
            {"id": 5, "operation": 1, "operation_stage": float("nan")},
            (CodeKind.OTHER, None, CodePhase.PENDING),
        ),
        (
            {
                "id": 6,
                "is_default": 1,
                "permission": {"status": 2, "begin": 1, "end": 2},
            },
            (CodeKind.PERMANENT, None, CodePhase.DELIVERED),
        ),
    ],
)
async def test_odd_password_entries(
    cloud: FakeDdingCloud,
    client: DdingClient,
    lock: str,
    entry: dict[str, Any],
    expected: tuple[CodeKind, datetime | None, CodePhase],
) -> None:
    cloud.patch_answer("fetch_passwords", _listing({"x": entry}))
    (code,) = await client.async_list_codes(lock)
    assert (code.kind, code.start, code.phase) == expected


async def test_password_listing_shapes(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    good = {"id": 7, "operation": 1, "operation_stage": 3}
    deleted = {"id": 8, "operation": 2, "operation_stage": 3}
    for entries in (
        [good, good, deleted, "x", {"no": "id"}, {"id": True}],
        {"7": good, "8": deleted},
    ):
        cloud.patch_answer("fetch_passwords", _listing(entries))
        codes = await client.async_list_codes(lock)
        assert [c.code_id for c in codes] == ["7"]
    cloud.patch_answer("fetch_passwords", _listing(None))
    assert await client.async_list_codes(lock) == []
    cloud.patch_answer("fetch_passwords", _listing("not a list"))
    with pytest.raises(InvalidAnswerError):
        await client.async_list_codes(lock)


async def test_add_code_odd_answers(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    start = datetime.now(UTC)
    for bad_id in (None, True, [1], "", "\x00"):
        cloud.patch_answer("add_password", {"id": bad_id})
        with pytest.raises(InvalidAnswerError):
            await client.async_add_code(
                lock, "G", "135246", start, start + timedelta(hours=1)
            )
        cloud.passwords[lock] = {
            k: v for k, v in cloud.passwords[lock].items() if k == 999
        }


async def test_add_code_before_the_admin_password(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    """6.6: a new device needs its administrator password first."""
    bare = cloud.add_lock(HOME, "r5", admin=False)
    start = datetime.now(UTC)
    with pytest.raises(InvalidRequestError) as exc:
        await client.async_add_code(bare, "G", "135246", start, start + timedelta(1))
    assert exc.value.code == 14001


async def test_codes_of_a_removed_lock(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    cloud.remove_device(lock)
    with pytest.raises(InvalidRequestError) as exc:
        await client.async_list_codes(lock)
    assert exc.value.code == 15006
    with pytest.raises(InvalidRequestError, match="lock id"):
        await client.async_list_codes("bad\x00id")
    with pytest.raises(InvalidRequestError, match="code id"):
        await client.async_delete_code("lk", "")


async def test_delete_unknown_code(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    with pytest.raises(InvalidRequestError) as exc:
        await client.async_delete_code(lock, "4242")
    assert exc.value.code == 15006


@pytest.mark.parametrize(
    "answer",
    [
        {"password": "12ab", "invalid_time": 1_900_000_000},
        {"password": None, "invalid_time": 1_900_000_000},
        {"password": "12345678"},
        {"password": "12345678", "invalid_time": 1_200_000_000_000_000},
        {"password": "\uff11\uff12\uff13\uff14\uff15\uff16", "invalid_time": 1},
        {"password": "1" * 40, "invalid_time": 1_900_000_000},
    ],
)
async def test_dynamic_code_odd_answers(
    cloud: FakeDdingCloud, client: DdingClient, lock: str, answer: dict[str, Any]
) -> None:
    await client.async_login()
    cloud.answer_raw(
        "get_dynamic_password_plaintext", json.dumps({"ErrNo": 0, **answer})
    )
    with pytest.raises(InvalidAnswerError):
        await client.async_get_dynamic_code(lock)


async def test_dynamic_code_in_milliseconds(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    expires = int(time.time()) + 600
    cloud.patch_answer(
        "get_dynamic_password_plaintext",
        {"password": 87654321, "invalid_time": expires * 1000 + 250},
    )
    dynamic = await client.async_get_dynamic_code(lock)
    assert dynamic.code == "87654321"
    assert dynamic.expires == datetime.fromtimestamp(expires, UTC)


# -------------------------------------------------------------------- events


async def test_odd_event_entries(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    now_ms = int(time.time() * 1000)
    cloud.patch_answer(
        "get_lock_events",
        {
            "lock_events": [
                {"time": now_ms - 1000, "eventid": 1, "source": 2, "sourceid": 1001},
                {"time": float("nan"), "eventid": 1},
                {"time": 1_200_000_000_000_000, "eventid": 1},
                {"time": -5, "eventid": 1},
                {"time": "noon", "eventid": 1},
                {"eventid": 1},
                "not an event",
                {"time": now_ms - 3 * 86400 * 1000, "eventid": 1},  # outside
                {"time": (now_ms - 2000) // 1000, "eventid": 4, "source": "x"},
            ]
        },
    )
    events = await client.async_get_events(lock, *_since())
    assert [(e.type.value, e.method.value) for e in events] == [
        ("other", "unknown"),
        ("unlocked", "code"),
    ]
    assert events[0].event_id.endswith(":event4")


async def test_event_list_not_a_list(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    cloud.patch_answer("get_lock_events", {"lock_events": {"a": 1}})
    with pytest.raises(InvalidAnswerError):
        await client.async_get_events(lock, *_since())
    cloud.patch_answer("get_lock_events", {"lock_events": None})
    assert await client.async_get_events(lock, *_since()) == []


async def test_endless_identical_pages(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    """A SaaS ignoring ``offset`` returns the same full page again: stop."""
    now_ms = int(time.time() * 1000)
    page = [{"time": now_ms - i * 1000, "eventid": 1} for i in range(50)]
    cloud.patch_answer("get_lock_events", {"lock_events": page}, times=100)
    cloud.patch_answer("count_lock_events", {"count": "lots"})
    events = await client.async_get_events(lock, *_since())
    assert len(events) == 50
    assert cloud.calls["get_lock_events"] == 2


async def test_endless_new_pages_are_bounded(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    """Ever new full pages and a count of 10**9: at most 1000 records a poll."""
    now_ms = int(time.time() * 1000)
    for n in range(40):
        # A second apart: one opening a second per lock is the id's grain.
        page = [{"time": now_ms - (n * 50 + i) * 1000, "eventid": 1} for i in range(50)]
        cloud.patch_answer("get_lock_events", {"lock_events": page})
    cloud.patch_answer("count_lock_events", {"count": 10**9})
    events = await client.async_get_events(lock, *_since())
    assert cloud.calls["get_lock_events"] == 20
    assert len(events) == 1000


async def test_count_smaller_than_the_pages(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    now_ms = int(time.time() * 1000)
    for i in range(80):
        cloud.add_lock_event(lock, time_ms=now_ms - i * 1000)
    cloud.patch_answer("count_lock_events", {"count": 50})
    events = await client.async_get_events(lock, *_since())
    assert len(events) == 50  # the count bounds the paging
    assert await client.async_count_events(lock, *_since()) == 80


async def test_operation_log_odd_entries(
    cloud: FakeDdingCloud, session: aiohttp.ClientSession, lock: str
) -> None:
    client = _client(cloud, session, poll_operation_log=True)
    now_ms = int(time.time() * 1000)
    cloud.patch_answer(
        "search_device_op_log",
        {
            "op_list": [
                {"op_id": "20006", "timestamp": now_ms - 5000, "target": {"id": 1001}},
                {
                    "op_id": "29999",
                    "timestamp": now_ms - 4000,
                    "target": "x",
                    "result": 3,
                },
                {"op_id": "20002", "timestamp": None},
                {"op_id": None, "timestamp": now_ms},
                {"op_id": "20002", "timestamp": 1_200_000_000_000_000},
                [1, 2],
            ]
        },
    )
    events = await client.async_get_events(lock, *_since())
    assert [(e.type.value, e.raw["operation"], e.success) for e in events] == [
        ("code_changed", "freeze", True),
        ("other", "other", False),
    ]
    assert events[0].code_id == "1001"
    assert events[1].code_id is None


# --------------------------------------------------------------------- token


@pytest.mark.parametrize(
    ("expires", "calls_after_an_hour"),
    [
        (None, 0),  # no expiry: two hours assumed, renewed in the last tenth
        ("soon", 0),
        (900, 1),  # a lifetime (seconds), not a time: renewed after 5 minutes
        (1_500_000_000, 1),  # in the past (server clock behind): reused 5 minutes
        (4_102_444_800_000, 0),  # ms (year 2100): no renewal within the hour
    ],
)
async def test_odd_token_expiry(
    cloud: FakeDdingCloud,
    client: DdingClient,
    lock: str,
    freezer: Any,
    expires: Any,
    calls_after_an_hour: int,
) -> None:
    cloud.patch_answer("access_token", {"expires_time": expires})
    await client.async_login()
    cloud.reset_calls()
    # A token is never fetched for every call, whatever the expiry says.
    for _ in range(3):
        await client.async_list_codes(lock)
    assert cloud.calls["access_token"] == 0
    freezer.tick(3599)
    await client.async_list_codes(lock)
    assert cloud.calls["access_token"] == calls_after_an_hour


@pytest.mark.parametrize("token", [None, "", 42, "x" * 600])
async def test_token_answer_without_token(
    cloud: FakeDdingCloud, client: DdingClient, token: Any
) -> None:
    cloud.add_home(HOME)
    cloud.patch_answer("access_token", {"access_token": token})
    with pytest.raises(TransientError):
        await client.async_login()


async def test_token_refusals(cloud: FakeDdingCloud, client: DdingClient) -> None:
    cloud.add_home(HOME)
    cloud.fail("access_token", 15000, "internal")
    with pytest.raises(TransientError):
        await client.async_login()
    cloud.fail("access_token", 15006, "no such client")
    with pytest.raises(AuthError):
        await client.async_login()
    cloud.answer_raw("access_token", "x", status=429)
    with pytest.raises(RateLimitError):
        await client.async_login()
    assert (await client.async_login()).unique_id == cloud.CLIENT_ID


async def test_clock_jumps(
    cloud: FakeDdingCloud, client: DdingClient, lock: str, freezer: Any
) -> None:
    cloud.list_with_state = False
    (found,) = await client.async_list_locks()
    # Back a day: the cached info's age makes no sense, so it is asked again.
    freezer.move_to(datetime.now(UTC) - timedelta(days=1))
    cloud.reset_calls()
    await client.async_get_lock_details(found)
    assert cloud.calls["get_lock_info"] == 1
    # Forward a month: the token is renewed before use; everything works.
    freezer.move_to(datetime.now(UTC) + timedelta(days=31))
    cloud.reset_calls()
    await client.async_list_codes(lock)
    assert cloud.calls == {"access_token": 1, "fetch_passwords": 1}


async def test_cancelled_during_token_fetch(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    """A call cancelled while it holds the token lock leaves it usable."""
    cloud.gate = asyncio.Event()
    task = asyncio.create_task(client.async_list_codes(lock))
    await cloud.arrived("access_token")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    cloud.gate.set()
    cloud.gate = None
    assert await client.async_list_codes(lock)
    assert cloud.calls["access_token"] == 2


async def test_cancelled_during_a_code_upload(
    cloud: FakeDdingCloud, client: DdingClient, lock: str
) -> None:
    """A cancelled upload (a reload mid-call) does not keep the lock's slot."""
    await client.async_login()
    start = datetime.now(UTC)
    cloud.gate = asyncio.Event()
    task = asyncio.create_task(
        client.async_add_code(lock, "A", "102938", start, start + timedelta(hours=1))
    )
    await cloud.arrived("add_password")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    cloud.gate.set()
    cloud.gate = None
    added = await client.async_add_code(
        lock, "B", "564738", start, start + timedelta(hours=1)
    )
    assert added.phase is CodePhase.PENDING
