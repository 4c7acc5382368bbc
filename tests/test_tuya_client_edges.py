"""Tuya client edge cases: odd answers, wrapped lists, refused fall-backs.

The fake cloud is bent per test (a route handler replaced on the instance) to
answer the way some regions, proxies or firmware versions do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.ttlock_gateway.providers.bounds import InvalidAnswerError
from custom_components.ttlock_gateway.providers.models import (
    AuthError,
    InvalidRequestError,
    LockState,
    NotSupportedError,
    ProviderError,
    RateLimitError,
    TransientError,
)
from custom_components.ttlock_gateway.providers.tuya import TuyaClient
from tests.fakes.tuya_cloud import FakeTuyaCloud

ASSOCIATED = "/v1.0/iot-01/associated-users/devices"
TICKET = "POST /v1.0/devices/{id}/door-lock/password-ticket"
OPEN_DOOR = "POST /v1.0/devices/{id}/door-lock/password-free/open-door"
DOOR_OPERATE = "POST /v1.0/smart-lock/devices/{id}/password-free/door-operate"


@pytest.fixture
async def cloud(socket_enabled: Any) -> AsyncIterator[FakeTuyaCloud]:
    fake = FakeTuyaCloud()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def session(cloud: FakeTuyaCloud) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as sess:
        yield sess


def _client(
    cloud: FakeTuyaCloud, session: aiohttp.ClientSession, **kwargs: Any
) -> TuyaClient:
    kwargs.setdefault("busy_retry_delays", (0.01, 0.01))
    kwargs.setdefault("request_timeout", 2.0)
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


def answer(cloud: FakeTuyaCloud, handler: str, result: Any) -> None:
    """Make route handler ``handler`` answer success with ``result``."""

    async def _handler(
        p: dict[str, str], q: Any, data: dict[str, Any]
    ) -> web.StreamResponse:
        return cloud._ok(result)

    setattr(cloud, handler, _handler)


def answer_raw(cloud: FakeTuyaCloud, make: Any, *, times: int = 1) -> None:
    """Answer the next ``times`` signed calls with ``make()`` (any response)."""
    original = cloud._dispatch
    remaining = [times]

    async def _dispatch(
        request: web.Request, route: str, params: dict[str, str], body: bytes
    ) -> web.StreamResponse:
        if remaining[0] > 0 and not route.startswith("GET /v1.0/token"):
            remaining[0] -= 1
            response: web.StreamResponse = make()
            return response
        return await original(request, route, params, body)

    cloud._dispatch = _dispatch  # type: ignore[method-assign]


# ---------------------------------------------------------------- transport


async def test_html_answer_is_transient(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    cloud.add_device(name="Front")
    await client.async_login()
    answer_raw(
        cloud, lambda: web.Response(text="<html>busy</html>", content_type="text/html")
    )
    with pytest.raises(TransientError):
        await client.async_list_locks()
    assert [lock.name for lock in await client.async_list_locks()] == ["Front"]


async def test_404_without_json_is_not_transient(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """A plain 404 (path unknown in this region) is the cloud's 1108."""
    dev = cloud.add_device(name="Front", passage_mode=False)
    await client.async_login()
    answer_raw(cloud, lambda: web.Response(status=404, text="Not Found"))
    with pytest.raises(InvalidRequestError) as err:
        await client.async_set_passage_mode(dev, True)
    assert err.value.code == 1108
    assert not isinstance(err.value, TransientError)


async def test_garbled_error_code(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    """success false without a usable code is still a failure."""
    cloud.add_device(name="Front")
    await client.async_login()
    answer_raw(
        cloud, lambda: web.json_response({"success": False, "code": None, "msg": "?"})
    )
    with pytest.raises(InvalidRequestError) as err:
        await client.async_list_locks()
    assert err.value.code == -1


# -------------------------------------------------------------------- token


async def test_token_answer_without_access_token(
    cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    original = cloud._new_token
    cloud._new_token = lambda: {"uid": cloud.USER_UID}  # type: ignore[method-assign]
    client = _client(cloud, session)
    with pytest.raises(AuthError):
        await client.async_login()
    cloud._new_token = original  # type: ignore[method-assign]
    cloud.add_device(name="Front")
    assert (await client.async_login()).unique_id.endswith(cloud.USER_UID)


async def test_token_rate_limited_is_not_an_auth_error(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """A quota error on the token call must not start a reauth."""
    cloud.fail("GET /v1.0/token", 40000305, "api frequency limit")
    with pytest.raises(RateLimitError):
        await client.async_login()


# ------------------------------------------------------------------ devices


async def test_associated_users_odd_answer_lists_nothing(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    cloud.add_device(name="Front")
    answer(cloud, "_h_GET_v1_0_iot_01_associated_users_devices", None)
    assert await client.async_list_locks() == []


async def test_associated_users_refused_without_uid(
    cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    """No fall-back possible when the token names no user: the refusal stands."""
    original = cloud._new_token

    def token() -> dict[str, Any]:
        return {**original(), "uid": ""}

    cloud._new_token = token  # type: ignore[method-assign]
    cloud.add_device(name="Front")
    cloud.fail(f"GET {ASSOCIATED}", 1106, "permission deny")
    client = _client(cloud, session)
    with pytest.raises(AuthError) as err:
        await client.async_list_locks()
    assert err.value.code == 1106
    assert cloud.calls["GET /v1.0/users/{uid}/devices"] == 0


@pytest.mark.parametrize("key", ["devices", "list"])
async def test_user_devices_wrapped_list(
    cloud: FakeTuyaCloud, session: aiohttp.ClientSession, key: str
) -> None:
    dev = cloud.add_device(name="Front")
    device = cloud.devices[dev]
    answer(cloud, "_h_GET_v1_0_users_uid_devices", {key: [device, "junk"]})
    client = _client(cloud, session, user_uid=cloud.USER_UID)
    assert [lock.lock_id for lock in await client.async_list_locks()] == [dev]


async def test_user_devices_odd_answer_lists_nothing(
    cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    cloud.add_device(name="Front")
    answer(cloud, "_h_GET_v1_0_users_uid_devices", "none")
    client = _client(cloud, session, user_uid=cloud.USER_UID)
    assert await client.async_list_locks() == []


async def test_unknown_lock_is_invalid_request(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    cloud.add_device(name="Front")
    with pytest.raises(InvalidRequestError):
        await client.async_set_passage_mode("vdevo-gone", True)
    assert await client.async_list_gateways() == []


# ----------------------------------------------------------- remote unlock


async def test_remote_unlocks_endpoint_unsupported_means_disabled(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    dev = cloud.add_device(name="Front")
    cloud.fail("GET /v1.0/devices/{id}/door-lock/remote-unlocks", 2004, "not support")
    lock = (await client.async_list_locks())[0]
    detailed = await client.async_get_lock_details(lock)
    assert detailed.lock_id == dev
    assert not detailed.capabilities.remote_unlock


async def test_remote_unlocks_single_object_answer(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """Some firmware answers one object (no type) instead of a list."""
    cloud.add_device(name="Front")
    answer(
        cloud,
        "_h_GET_v1_0_devices_id_door_lock_remote_unlocks",
        {"open": True},
    )
    lock = (await client.async_list_locks())[0]
    assert (await client.async_get_lock_details(lock)).capabilities.remote_unlock
    client._remote_unlock_checked.clear()
    answer(
        cloud,
        "_h_GET_v1_0_devices_id_door_lock_remote_unlocks",
        ["junk", {"remote_unlock_type": "remoteUnlockWithoutPwd", "open": False}],
    )
    assert not (await client.async_get_lock_details(lock)).capabilities.remote_unlock


async def test_ticket_answer_without_id_is_transient(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    dev = cloud.add_device(name="Front")
    answer(cloud, "_h_POST_v1_0_devices_id_door_lock_password_ticket", {})
    with pytest.raises(TransientError):
        await client.async_unlock(dev)
    assert cloud.unlocks == []
    assert cloud.calls[OPEN_DOOR] == 0


async def test_door_operate_remote_unlock_disabled(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """Locking (door-operate) with remote unlock turned off in the app."""
    dev = cloud.add_device(name="Front")
    await client.async_list_locks()
    cloud.meta[dev]["remote_unlock"] = False
    with pytest.raises(NotSupportedError) as err:
        await client.async_lock(dev)
    assert err.value.code == 2003
    assert cloud.locks_done == []


async def test_door_operate_offline_is_transient(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    dev = cloud.add_device(name="Front")
    await client.async_list_locks()
    cloud.devices[dev]["online"] = False
    with pytest.raises(TransientError) as err:
        await client.async_lock(dev)
    assert err.value.code == 2001
    assert cloud.calls[DOOR_OPERATE] == 1


# -------------------------------------------------------------------- codes


def _window() -> tuple[datetime, datetime]:
    start = datetime.now(UTC) + timedelta(hours=1)
    return start, start + timedelta(days=2)


async def test_bad_ticket_key_is_reported(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """A ticket key that does not decrypt (wrong secret): no code is sent."""
    dev = cloud.add_device(name="Front")
    answer(
        cloud,
        "_h_POST_v1_0_devices_id_door_lock_password_ticket",
        {"ticket_id": "t1", "ticket_key": "nothex"},
    )
    with pytest.raises(InvalidRequestError, match="Access Secret"):
        await client.async_add_code(dev, "Guest", "1234567", *_window())
    assert cloud.codes[dev] == {}


async def test_add_code_answer_without_id_is_invalid(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    dev = cloud.add_device(name="Front")
    answer(cloud, "_h_POST_v1_0_devices_id_door_lock_temp_password", None)
    with pytest.raises(InvalidAnswerError):
        await client.async_add_code(dev, "Guest", "1234567", *_window())


async def test_naive_times_are_utc(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    dev = cloud.add_device(name="Front")
    start = datetime(2031, 5, 1, 10)
    code = await client.async_add_code(
        dev, "Guest", "7654321", start, start + timedelta(days=1)
    )
    stored = cloud.codes[dev][code.code_id]
    assert stored["effective_time"] == int(start.replace(tzinfo=UTC).timestamp())
    assert code.start == start.replace(tzinfo=UTC)


@pytest.mark.parametrize("key", ["list", "passwords"])
async def test_list_codes_wrapped_and_deleted_skipped(
    cloud: FakeTuyaCloud, client: TuyaClient, key: str
) -> None:
    dev = cloud.add_device(name="Front")
    await client.async_list_locks()
    item = {"name": "Guest", "effective_time": 1_900_000_000}
    answer(
        cloud,
        "_h_GET_v1_0_devices_id_door_lock_temp_passwords",
        {
            key: [
                {**item, "id": 1, "phase": 2, "invalid_time": "1900086400"},
                {**item, "password_id": 2, "phase": 1},
                {**item, "id": 3, "phase": 0},  # deleted
                {**item, "id": 4, "phase": "4"},  # deleted
                {**item, "phase": 2},  # no id
                "junk",
            ]
        },
    )
    codes = await client.async_list_codes(dev)
    assert [(c.code_id, c.delivered) for c in codes] == [("1", True), ("2", False)]
    assert codes[0].end == datetime.fromtimestamp(1_900_086_400, UTC)
    assert codes[1].end is None


async def test_list_codes_odd_answer_is_empty(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    dev = cloud.add_device(name="Front")
    answer(cloud, "_h_GET_v1_0_devices_id_door_lock_temp_passwords", "none")
    assert await client.async_list_codes(dev) == []


# ------------------------------------------------------------------- events


async def test_events_odd_answers_and_records_without_time(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    dev = cloud.add_device(name="Front")
    base = 1_700_000_000_000
    start = datetime.fromtimestamp(base / 1000, UTC)
    answer(
        cloud,
        "_h_GET_v1_1_devices_id_door_lock_open_logs",
        {
            "logs": [
                {"status": {"code": "unlock_card", "value": 2}, "update_time": base},
                {"status": {"code": "unlock_card", "value": 3}},  # no time
                {"status": {"code": "unlock_card", "value": 4}, "update_time": "x"},
            ]
        },
    )
    answer(cloud, "_h_GET_v1_1_devices_id_door_lock_alarm_logs", None)
    events = await client.async_get_events(dev, start, start + timedelta(hours=1))
    assert [e.event_id for e in events] == [f"tuya:{dev}:{base}:unlock_card:2"]


async def test_events_paging_stops_at_older_records(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """Newest first, no total: a full page older than the window ends the walk."""
    dev = cloud.add_device(name="Front")
    base = 1_700_000_000_000
    pages: list[int] = []

    async def open_logs(
        p: dict[str, str], q: Any, data: dict[str, Any]
    ) -> web.StreamResponse:
        page_no = int(q["page_no"])
        size = int(q["page_size"])
        pages.append(page_no)
        # Every page full, all records an hour before the window.
        logs = [
            {
                "status": {"code": "unlock_card", "value": i},
                "update_time": base - 3_600_000 - page_no * 1000 - i,
            }
            for i in range(size)
        ]
        return cloud._ok({"logs": logs})

    cloud._h_GET_v1_1_devices_id_door_lock_open_logs = open_logs  # type: ignore[method-assign]
    start = datetime.fromtimestamp(base / 1000, UTC)
    events = await client.async_get_events(dev, start, start + timedelta(hours=1))
    assert events == []
    assert pages == [1]


# ------------------------------------------------------------ device fields


async def test_device_field_variants(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    """Battery, bolt state and code length from the fields other firmware sends."""
    variants: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
        "percent-text": ([{"code": "residual_electricity", "value": " 85 "}], {}),
        "percent-over": ([{"code": "battery_percentage", "value": 120}], {}),
        # -1 is "do not show the level" (make-all/tuya-local issue 1714).
        "percent-hidden": ([{"code": "residual_electricity", "value": -1}], {}),
        "percent-float": ([{"code": "battery_percentage", "value": 55.7}], {}),
        "percent-bool": ([{"code": "battery_percentage", "value": True}], {}),
        "door-open": ([{"code": "closed_opened", "value": "open"}], {}),
        "door-closed": ([{"code": "open_close", "value": "closed"}], {}),
        "zigbee": ([], {"protocol": "Zigbee 3.0", "sub": False}),
        "wifi-protocol": ([], {"protocol": "wifi", "sub": True}),
        "ble-product": ([], {"product_name": "BLE lock", "sub": False}),
    }
    ids = {}
    for name, (status, extra) in variants.items():
        dev = cloud.add_device(name=name)
        cloud.devices[dev]["status"] = status
        cloud.devices[dev]["sub"] = False
        cloud.devices[dev].update(extra)
        ids[name] = dev
    locks = {lock.name: lock for lock in await client.async_list_locks()}
    assert locks["percent-text"].battery == 85
    # Out of 0..100 is not a level: unknown, never clamped to full or empty.
    assert locks["percent-over"].battery is None
    assert locks["percent-hidden"].battery is None
    assert locks["percent-float"].battery == 55
    assert locks["percent-bool"].battery is None
    assert locks["door-open"].state is LockState.UNLOCKED
    # A closed door says nothing about the bolt: unknown, never a guess.
    assert locks["door-closed"].state is None
    lengths = {
        name: locks[name].capabilities.code_min_length
        for name in ("zigbee", "wifi-protocol", "ble-product", "door-open")
    }
    assert lengths == {
        "zigbee": 6,
        "wifi-protocol": 7,
        "ble-product": 6,
        "door-open": 7,
    }
    # The code length is enforced before anything is sent.
    with pytest.raises(InvalidRequestError, match="6 digits"):
        await client.async_add_code(ids["zigbee"], "Guest", "1234567", *_window())
    assert cloud.calls[TICKET] == 0


# ------------------------------------------------------- the validation wall


async def test_odd_device_entries(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    """A device id that would change the URL, a category that is a list (was a
    TypeError: unhashable) and a name cut inside an emoji (orjson refuses the
    lone surrogate: the whole list was unreadable) cost only themselves."""
    good = cloud.add_device(name="Front \ud83d")
    unsafe = cloud.add_device(name="Unsafe")
    cloud.devices[unsafe]["id"] = "abc/../../v1.0/token"
    listed = cloud.add_device(name="Listed category")
    cloud.devices[listed]["category"] = ["ms"]
    locks = await client.async_list_locks()
    assert [(lock.lock_id, lock.name) for lock in locks] == [(good, "Front")]


async def test_device_page_of_wrong_type(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """``devices: 5`` with has_more: nothing listed, no endless paging."""
    cloud.add_device(name="Front")
    answer(
        cloud,
        "_h_GET_v1_0_iot_01_associated_users_devices",
        {"devices": 5, "has_more": True, "last_row_key": {"k": 1}},
    )
    assert await client.async_list_locks() == []
    assert cloud.calls[f"GET {ASSOCIATED}"] == 1


async def test_login_without_uid_is_refused(
    cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    """A token naming no user (or one unusable in a URL) cannot name the entry."""
    original = cloud._new_token

    def token() -> dict[str, Any]:
        return {**original(), "uid": "../x"}

    cloud._new_token = token  # type: ignore[method-assign]
    with pytest.raises(ProviderError, match="uid"):
        await _client(cloud, session).async_login()
