"""The Dding SaaS client against the fake SaaS over real HTTP on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import json
import logging
import math
import time
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.ttlock_gateway.providers.callbacks import (
    CallbackKind,
    parse_callback,
)
from custom_components.ttlock_gateway.providers.dding import (
    PLACEHOLDER_PHONE,
    DdingClient,
)
from custom_components.ttlock_gateway.providers.models import (
    AuthError,
    CodeKind,
    CodeOperation,
    CodePhase,
    DuplicateCodeError,
    EventType,
    InvalidRequestError,
    NotSupportedError,
    OperationStage,
    Passcode,
    ProtectedCodeError,
    TransientError,
    UnknownHomeError,
    UnlockMethod,
)
from tests.fakes.dding_cloud import ADMIN_ID, FakeDdingCloud

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
    kwargs.setdefault("home_ids", [HOME])
    kwargs.setdefault("request_timeout", 2.0)
    return DdingClient(
        session,
        client_id=cloud.CLIENT_ID,
        client_secret=cloud.CLIENT_SECRET,
        base_url=cloud.base_url,
        **kwargs,
    )


@pytest.fixture
def client(cloud: FakeDdingCloud, session: aiohttp.ClientSession) -> DdingClient:
    return _client(cloud, session)


def _home(cloud: FakeDdingCloud) -> dict[str, str]:
    """A home with a gateway, an outer lock and two room locks."""
    gateway = cloud.add_gateway(HOME, name="Hall gateway")
    return {
        "gateway": gateway,
        "front": cloud.add_lock(HOME, name="Front door", power=80),
        "room1": cloud.add_lock(HOME, "r1", name="Room 1", power=55),
        "room2": cloud.add_lock(HOME, "r2", name="Room 2", power=30),
    }


def _window(hours: int = 24) -> tuple[datetime, datetime]:
    start = datetime.fromtimestamp(int(time.time()) - 60, UTC)
    return start, start + timedelta(hours=hours)


async def _codes(client: DdingClient, lock: str) -> dict[str, Passcode]:
    return {code.code_id: code for code in await client.async_list_codes(lock)}


# ------------------------------------------------------------------- login


async def test_login_names_the_account_and_checks_the_homes(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    _home(cloud)
    info = await client.async_login()
    assert info.unique_id == cloud.CLIENT_ID
    assert info.title == f"Dding (home {HOME}, 3 locks)"
    assert cloud.calls["access_token"] == 1
    assert cloud.calls["find_home_devices"] == 1
    endpoint, body = cloud.requests[-1]
    assert endpoint == "find_home_devices"
    assert body["home_id"] == [HOME]  # 5.7: an Array


async def test_login_bad_credentials(
    cloud: FakeDdingCloud, session: aiohttp.ClientSession
) -> None:
    _home(cloud)
    client = DdingClient(
        session,
        client_id=cloud.CLIENT_ID,
        client_secret="wrong-secret-123",
        home_ids=[HOME],
        base_url=cloud.base_url,
    )
    with pytest.raises(AuthError) as exc:
        await client.async_login()
    assert "wrong-secret-123" not in str(exc.value)
    assert cloud.calls["find_home_devices"] == 0


async def test_login_unknown_and_foreign_homes(
    cloud: FakeDdingCloud, session: aiohttp.ClientSession
) -> None:
    _home(cloud)
    cloud.add_home("someone-elses")
    cloud.foreign_homes.add("someone-elses")
    client = _client(cloud, session, home_ids=[HOME, "nope", "someone-elses"])
    with pytest.raises(UnknownHomeError) as exc:
        await client.async_login()
    assert exc.value.home_ids == ("nope", "someone-elses")
    assert "nope" in str(exc.value)
    # One probe per home names the culprits (only on refusal).
    assert cloud.calls["find_home_device"] == 3


async def test_two_homes_one_listing(
    cloud: FakeDdingCloud, session: aiohttp.ClientSession
) -> None:
    _home(cloud)
    other = cloud.add_lock("home-2002", "r9", name="Flat 2")
    client = _client(cloud, session, home_ids=[HOME, "home-2002", HOME])
    assert client.home_ids == (HOME, "home-2002")
    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}
    assert len(locks) == 4
    assert not locks[other].has_gateway  # home-2002 has no gateway
    assert cloud.calls["find_home_devices"] == 1


def test_home_ids_required() -> None:
    with pytest.raises(ValueError, match="at least one"):
        DdingClient(None, client_id="a", client_secret="b", home_ids=[" ", ""])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invalid"):
        DdingClient(None, client_id="a", client_secret="b", home_ids=["a\x00b"])  # type: ignore[arg-type]


# ------------------------------------------------------------- locks, gateways


async def test_list_locks(
    cloud: FakeDdingCloud, client: DdingClient, freezer: Any
) -> None:
    cloud.list_with_state = False  # the fallback: state from 6.2 only
    ids = _home(cloud)
    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}
    assert set(locks) == {ids["front"], ids["room1"], ids["room2"]}
    front = locks[ids["front"]]
    device = cloud.devices[ids["front"]]
    assert front.name == "Front door"
    assert front.battery == 80
    assert front.online is True
    assert front.mac == device["mac"]
    assert front.model == "dding-lock-d2"
    assert front.firmware == "0.1.4.12"
    assert front.manufacturer == "dding"
    assert front.has_gateway is True
    assert front.state is None  # the SaaS never tells the bolt
    # Pushed callbacks name the uuid: it is the id and an alias.
    assert ids["front"] in front.aliases
    assert device["mac"] in front.aliases
    caps = front.capabilities
    assert not caps.remote_unlock
    assert not caps.remote_lock
    assert not caps.passage_mode
    assert caps.codes
    assert (caps.code_min_length, caps.code_max_length) == (6, 6)
    assert caps.update_codes
    assert caps.freeze_codes
    assert caps.dynamic_codes
    assert cloud.calls["get_lock_info"] == 3
    # Known locks are not asked again on the next listing.
    freezer.tick(600)
    cloud.reset_calls()
    again = await client.async_list_locks()
    assert cloud.calls == {"find_home_devices": 1}
    # Without a state in the listing, a 10-minute-old info must not overwrite
    # what pushes told since: unknown, and the coordinator keeps its value.
    assert all(lock.battery is None for lock in again)
    assert all(lock.online is None for lock in again)


async def test_list_gateways(cloud: FakeDdingCloud, client: DdingClient) -> None:
    cloud.list_with_state = False
    ids = _home(cloud)
    await client.async_list_locks()
    cloud.reset_calls()
    (gateway,) = await client.async_list_gateways()
    assert gateway.gateway_id == ids["gateway"]
    assert gateway.name == "Hall gateway"
    assert gateway.online is True
    assert gateway.mac == cloud.devices[ids["gateway"]]["mac"]
    assert gateway.lock_count == 3
    # The listing just made is reused; the centre's state is asked each time
    # because the listing does not carry it.
    assert cloud.calls == {"get_center_info": 1}
    await cloud.set_online(ids["gateway"], False)
    (gateway,) = await client.async_list_gateways()
    assert gateway.online is False
    assert cloud.calls["get_center_info"] == 2


async def test_listing_with_state_saves_calls(
    cloud: FakeDdingCloud, session: aiohttp.ClientSession
) -> None:
    ids = _home(cloud)
    client = _client(cloud, session)
    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}
    await client.async_list_gateways()
    cloud.devices[ids["room2"]]["power"] = 12
    cloud.devices[ids["room2"]]["onoff_line"] = 2
    cloud.devices[ids["gateway"]]["onoff_line"] = 2
    cloud.reset_calls()
    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}
    (gateway,) = await client.async_list_gateways()
    detailed = await client.async_get_lock_details(locks[ids["room2"]])
    assert locks[ids["room2"]].battery == 12
    assert locks[ids["room2"]].online is False
    assert detailed.battery == 12
    assert gateway.online is False
    # Info is asked once a day only: the listing carried the state.
    assert cloud.calls == {"find_home_devices": 1}


async def test_details(
    cloud: FakeDdingCloud, client: DdingClient, freezer: Any
) -> None:
    cloud.list_with_state = False
    ids = _home(cloud)
    lock = next(
        lk for lk in await client.async_list_locks() if lk.lock_id == ids["room1"]
    )
    cloud.reset_calls()
    # Right after the listing fetched it, the info is reused (and fresh).
    detailed = await client.async_get_lock_details(lock)
    assert cloud.calls["get_lock_info"] == 0
    assert detailed.battery == 55
    assert detailed.online is True
    # Six hours later: battery unknown (-1) and the lock offline.
    freezer.tick(6 * 3600)
    cloud.devices[ids["room1"]]["power"] = -1
    cloud.devices[ids["room1"]]["onoff_line"] = 2
    cloud.devices[ids["room1"]]["name"] = "Room 1 (renamed)"
    detailed = await client.async_get_lock_details(detailed)
    assert cloud.calls["get_lock_info"] == 1
    assert detailed.battery == 55  # -1 is "unknown": the last known level stays
    assert detailed.online is False
    assert detailed.name == "Room 1 (renamed)"


async def test_no_remote_unlock(cloud: FakeDdingCloud, client: DdingClient) -> None:
    ids = _home(cloud)
    with pytest.raises(NotSupportedError):
        await client.async_unlock(ids["front"])
    with pytest.raises(NotSupportedError):
        await client.async_lock(ids["front"])
    with pytest.raises(NotSupportedError):
        await client.async_set_passage_mode(ids["front"], True)
    assert cloud.total_calls == 0


# -------------------------------------------------------------------- codes


async def test_add_code_pending_until_the_lock_confirms(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    ids = _home(cloud)
    start, end = _window()
    added = await client.async_add_code(ids["room1"], "Guest Li", "482915", start, end)
    assert added.phase is CodePhase.PENDING
    assert not added.delivered
    assert added.live
    assert added.operation is CodeOperation.ADD
    assert added.operation_stage is OperationStage.IN_PROGRESS
    assert (added.start, added.end) == (start, end)
    endpoint, body = cloud.requests[-1]
    assert endpoint == "add_password"
    # 6.6: seconds, a 6-digit string, is_default 0, a phone number.
    assert body["permission_begin"] == int(start.timestamp())
    assert body["permission_end"] == int(end.timestamp())
    assert body["password"] == "482915"
    assert body["is_default"] == 0
    assert body["phonenumber"] == PLACEHOLDER_PHONE
    assert body["name"] == "Guest Li"

    listed = (await _codes(client, ids["room1"]))[added.code_id]
    assert listed.phase is CodePhase.PENDING
    assert listed.kind is CodeKind.PERIOD
    assert (listed.start, listed.end) == (start, end)
    assert listed.name == "Guest Li"
    assert listed.code is None  # 6.3 never lists digits

    assert cloud.complete(ids["room1"]) == 1
    listed = (await _codes(client, ids["room1"]))[added.code_id]
    assert listed.phase is CodePhase.DELIVERED
    assert listed.operation_stage is OperationStage.DONE


async def test_add_code_the_lock_refuses(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    ids = _home(cloud)
    added = await client.async_add_code(ids["front"], "Guest", "112233", *_window())
    cloud.complete(ids["front"], int(added.code_id), success=False)
    listed = (await _codes(client, ids["front"]))[added.code_id]
    assert listed.phase is CodePhase.FAILED
    assert not listed.live
    assert listed.operation_stage is OperationStage.FAILED


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("12345", "five digits"),
        ("1234567", "seven digits"),
        ("12a456", "a letter"),
        ("\uff11\uff12\uff13\uff14\uff15\uff16", "full-width digits"),
    ],
)
async def test_add_code_six_ascii_digits(
    cloud: FakeDdingCloud, client: DdingClient, code: str, reason: str
) -> None:
    ids = _home(cloud)
    with pytest.raises(InvalidRequestError, match="6 digits"):
        await client.async_add_code(ids["front"], "Guest", code, *_window())
    assert cloud.calls["add_password"] == 0, reason


async def test_add_code_window_checked_first(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    ids = _home(cloud)
    start, end = _window()
    with pytest.raises(InvalidRequestError, match="after its start"):
        await client.async_add_code(ids["front"], "G", "123456", end, start)
    past = start - timedelta(days=3)
    with pytest.raises(InvalidRequestError, match="past"):
        await client.async_add_code(
            ids["front"], "G", "123456", past, past + timedelta(1)
        )
    far = datetime(2300, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidRequestError, match="range"):
        await client.async_add_code(ids["front"], "G", "123456", start, far)
    assert cloud.total_calls == 0


async def test_add_code_phone(
    cloud: FakeDdingCloud, session: aiohttp.ClientSession
) -> None:
    ids = _home(cloud)
    client = _client(cloud, session, default_phone="+86 139-0000-1111")
    await client.async_add_code(ids["front"], "A", "111111", *_window())
    assert cloud.requests[-1][1]["phonenumber"] == "+8613900001111"
    await client.async_add_code(
        ids["front"], "B", "222222", *_window(), phone="13700002222"
    )
    assert cloud.requests[-1][1]["phonenumber"] == "13700002222"
    calls = cloud.calls["add_password"]
    with pytest.raises(InvalidRequestError, match="phone"):
        await client.async_add_code(
            ids["front"], "C", "333333", *_window(), phone="call me"
        )
    assert cloud.calls["add_password"] == calls
    with pytest.raises(InvalidRequestError, match="phone"):
        _client(cloud, session, default_phone="12")


async def test_add_code_duplicate_digits(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    ids = _home(cloud)
    await client.async_add_code(ids["front"], "A", "482915", *_window())
    with pytest.raises(DuplicateCodeError) as exc:
        await client.async_add_code(ids["front"], "B", "482915", *_window())
    assert exc.value.code == 11000
    assert "482915" not in str(exc.value)


async def test_update_code(cloud: FakeDdingCloud, client: DdingClient) -> None:
    ids = _home(cloud)
    start, end = _window()
    added = await client.async_add_code(ids["room2"], "Guest", "135790", start, end)
    cloud.complete(ids["room2"])
    new_end = end + timedelta(days=2)
    await client.async_update_code(
        ids["room2"],
        added.code_id,
        name="Guest+2",
        code="135790",
        start=start,
        end=new_end,
    )
    body = cloud.requests[-1][1]
    assert body["password_id"] == int(added.code_id)  # 6.8: an Int
    assert body["permission_end"] == int(new_end.timestamp())
    listed = (await _codes(client, ids["room2"]))[added.code_id]
    # The old window still holds on the lock until it confirms the change.
    assert listed.phase is CodePhase.DELIVERED
    assert listed.operation is CodeOperation.UPDATE
    assert listed.operation_stage is OperationStage.IN_PROGRESS
    assert listed.end == end
    cloud.complete(ids["room2"])
    listed = (await _codes(client, ids["room2"]))[added.code_id]
    assert listed.end == new_end
    assert listed.name == "Guest+2"
    assert listed.operation_stage is OperationStage.DONE


async def test_update_code_needs_digits_and_window(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    ids = _home(cloud)
    start, end = _window()
    with pytest.raises(InvalidRequestError, match="digits and its window"):
        await client.async_update_code(
            ids["front"], "1001", name="x", start=start, end=end
        )
    with pytest.raises(InvalidRequestError, match="6 digits"):
        await client.async_update_code(
            ids["front"], "1001", code="12", start=start, end=end
        )
    assert cloud.total_calls == 0


async def test_delete_code(cloud: FakeDdingCloud, client: DdingClient) -> None:
    ids = _home(cloud)
    added = await client.async_add_code(ids["front"], "Guest", "246801", *_window())
    cloud.complete(ids["front"])
    await client.async_delete_code(ids["front"], added.code_id)
    listed = (await _codes(client, ids["front"]))[added.code_id]
    # Deleting: no longer valid for us, though the lock has not confirmed.
    assert listed.phase is CodePhase.DELETING
    assert not listed.live
    cloud.complete(ids["front"])
    assert added.code_id not in await _codes(client, ids["front"])


async def test_delete_that_fails_leaves_a_working_code(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    """A cancelled guest whose code still works must not look deleted."""
    ids = _home(cloud)
    added = await client.async_add_code(ids["front"], "Guest", "246801", *_window())
    cloud.complete(ids["front"])
    await client.async_delete_code(ids["front"], added.code_id)
    cloud.complete(ids["front"], success=False)
    listed = (await _codes(client, ids["front"]))[added.code_id]
    assert listed.phase is CodePhase.DELIVERED
    assert listed.operation is CodeOperation.DELETE
    assert listed.operation_stage is OperationStage.FAILED


async def test_admin_password_protected(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    ids = _home(cloud)
    admin = (await _codes(client, ids["front"]))[str(ADMIN_ID)]
    assert admin.protected
    assert admin.kind is CodeKind.PERMANENT
    assert admin.phase is CodePhase.DELIVERED
    cloud.reset_calls()
    for call in (
        client.async_delete_code(ids["front"], "999"),
        client.async_freeze_code(ids["front"], "999"),
        client.async_unfreeze_code(ids["front"], " 999 "),
        client.async_update_code(
            ids["front"], "999", code="123456", start=_window()[0], end=_window()[1]
        ),
    ):
        with pytest.raises(ProtectedCodeError, match="Dding app"):
            await call
    assert cloud.total_calls == 0
    # The SaaS says so too (3.1: 15013), e.g. for an admin code under another id.
    cloud.fail("delete_password", 15013, "管理员密码不能被删除或冻结")
    with pytest.raises(ProtectedCodeError) as exc:
        await client.async_delete_code(ids["front"], "1001")
    assert exc.value.code == 15013


async def test_freeze_and_unfreeze(cloud: FakeDdingCloud, client: DdingClient) -> None:
    ids = _home(cloud)
    added = await client.async_add_code(ids["room1"], "Guest", "975310", *_window())
    cloud.complete(ids["room1"])
    await client.async_freeze_code(ids["room1"], added.code_id)
    listed = (await _codes(client, ids["room1"]))[added.code_id]
    # Until the lock confirms, the code still opens the door: say so.
    assert listed.phase is CodePhase.DELIVERED
    assert listed.operation is CodeOperation.FREEZE
    assert listed.operation_stage is OperationStage.IN_PROGRESS
    cloud.complete(ids["room1"])
    listed = (await _codes(client, ids["room1"]))[added.code_id]
    assert listed.phase is CodePhase.REVOKED
    assert not listed.live
    await client.async_unfreeze_code(ids["room1"], added.code_id)
    listed = (await _codes(client, ids["room1"]))[added.code_id]
    assert listed.phase is CodePhase.REVOKED
    assert listed.operation is CodeOperation.UNFREEZE
    cloud.complete(ids["room1"])
    listed = (await _codes(client, ids["room1"]))[added.code_id]
    assert listed.phase is CodePhase.DELIVERED


async def test_frozen_code_is_not_changed(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    """6.3 lists only the latest operation: a change would hide the freeze."""
    ids = _home(cloud)
    start, end = _window()
    added = await client.async_add_code(ids["room1"], "Guest", "975310", start, end)
    cloud.complete(ids["room1"])
    await client.async_freeze_code(ids["room1"], added.code_id)
    cloud.complete(ids["room1"])
    cloud.reset_calls()
    with pytest.raises(InvalidRequestError, match="frozen"):
        await client.async_update_code(
            ids["room1"], added.code_id, code="975310", start=start, end=end
        )
    await client.async_delete_code(ids["room1"], added.code_id)
    with pytest.raises(InvalidRequestError, match="being deleted"):
        await client.async_update_code(
            ids["room1"], added.code_id, code="975310", start=start, end=end
        )
    with pytest.raises(InvalidRequestError, match="No such code") as exc:
        await client.async_update_code(
            ids["room1"], "4242", code="975310", start=start, end=end
        )
    assert exc.value.code == 15006
    assert cloud.calls["update_password"] == 0


async def test_frozen_by_pwd_state(
    cloud: FakeDdingCloud, session: aiohttp.ClientSession
) -> None:
    """Later API versions list pwd_state (5 = frozen): it wins over the stage."""
    cloud.with_pwd_state = True
    cloud.passwords_as_list = True
    ids = _home(cloud)
    client = _client(cloud, session)
    added = await client.async_add_code(ids["room1"], "Guest", "975310", *_window())
    cloud.complete(ids["room1"])
    await client.async_freeze_code(ids["room1"], added.code_id)
    cloud.complete(ids["room1"])
    # Another change after the freeze (made elsewhere, e.g. the Dding app).
    cloud.passwords[ids["room1"]][int(added.code_id)].update(
        operation=3, operation_stage=3
    )
    listed = (await _codes(client, ids["room1"]))[added.code_id]
    assert listed.operation is CodeOperation.UPDATE
    assert listed.phase is CodePhase.REVOKED


async def test_keypad_codes_and_hour_precision(
    cloud: FakeDdingCloud, session: aiohttp.ClientSession
) -> None:
    cloud.hour_precision = True
    ids = _home(cloud)
    local = cloud.add_local_password(ids["front"])
    client = _client(cloud, session)
    start = datetime(2030, 5, 1, 14, 30, tzinfo=UTC)
    added = await client.async_add_code(
        ids["front"], "G", "369258", start, start + timedelta(hours=2)
    )
    codes = await _codes(client, ids["front"])
    assert codes[str(local)].kind is CodeKind.PERMANENT
    assert codes[str(local)].phase is CodePhase.DELIVERED
    assert codes[str(local)].operation is None
    # What the SaaS lists is what we report (6.3: "精确到小时").
    assert codes[added.code_id].start == datetime(2030, 5, 1, 14, tzinfo=UTC)
    assert codes[added.code_id].end == datetime(2030, 5, 1, 16, tzinfo=UTC)


async def test_per_lock_serialisation(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    ids = _home(cloud)
    await client.async_login()
    cloud.latency = 0.05
    cloud.reset_calls()
    await asyncio.gather(
        *(
            client.async_add_code(
                ids["front"], f"G{i}", f"{i}{i}{i}{i}{i}{i}", *_window()
            )
            for i in range(1, 4)
        )
    )
    assert cloud.max_in_flight == 1
    assert cloud.calls["add_password"] == 3


async def test_dynamic_code(
    cloud: FakeDdingCloud, client: DdingClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.ttlock_gateway")
    ids = _home(cloud)
    dynamic = await client.async_get_dynamic_code(ids["room2"])
    uuid, digits, expires = cloud.dynamic_codes[-1]
    assert uuid == ids["room2"]
    assert dynamic.code == digits
    assert dynamic.expires == datetime.fromtimestamp(expires, UTC)
    assert digits not in caplog.text


# ------------------------------------------------------------------- events


async def test_events_and_push_share_ids(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    """A polled opening and its pushed callback are one event (same id)."""
    ids = _home(cloud)
    added = await client.async_add_code(ids["room1"], "Guest Li", "482915", *_window())
    cloud.complete(ids["room1"])
    entry = cloud.add_lock_event(
        ids["room1"], password_id=int(added.code_id), source_name="Guest Li"
    )
    start = datetime.fromtimestamp(time.time() - 3600, UTC)
    end = datetime.fromtimestamp(time.time() + 1, UTC)
    (event,) = await client.async_get_events(ids["room1"], start, end)
    assert event.type is EventType.UNLOCKED
    assert event.method is UnlockMethod.CODE
    assert event.code_id == added.code_id
    assert event.code_name == "Guest Li"
    assert event.lock_id == ids["room1"]
    assert event.time == datetime.fromtimestamp(entry["time"] / 1000, UTC)
    # 6.11: the window goes in seconds.
    params = cloud.requests[-1][1]
    assert params["start_time"] == str(int(start.timestamp()))
    assert params["end_time"] == str(math.ceil(end.timestamp()))

    body = cloud.callback_body(
        "lockerOpenAlarm",
        ids["room1"],
        detail={k: entry[k] for k in ("source", "sourceid", "source_name")},
        time_ms=entry["time"],
    )
    parsed = parse_callback("application/json", json.dumps(body).encode(), now=end)
    assert parsed.kind is CallbackKind.DDING
    (pushed,) = parsed.events
    assert pushed.event_id == event.event_id
    assert pushed.type is event.type
    assert pushed.code_id == event.code_id


async def test_events_page_oldest_first(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    ids = _home(cloud)
    base = int(time.time() * 1000) - 10 * 3600 * 1000
    for i in range(120):
        cloud.add_lock_event(ids["front"], password_id=1001, time_ms=base + i * 60_000)
    cloud.reset_calls()
    start = datetime.fromtimestamp(base / 1000 - 1, UTC)
    end = datetime.fromtimestamp(time.time(), UTC)
    events = await client.async_get_events(ids["front"], start, end)
    assert len(events) == 120
    assert [e.time for e in events] == sorted(e.time for e in events)
    assert len({e.event_id for e in events}) == 120
    # 3 pages of 50, and one count (6.12) after the first full page.
    assert cloud.calls["get_lock_events"] == 3
    assert cloud.calls["count_lock_events"] == 1


async def test_events_exactly_one_full_page(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    ids = _home(cloud)
    base = int(time.time() * 1000) - 3600 * 1000
    for i in range(50):
        cloud.add_lock_event(ids["front"], time_ms=base + i * 1000)
    cloud.reset_calls()
    start = datetime.fromtimestamp(base / 1000 - 1, UTC)
    events = await client.async_get_events(ids["front"], start, datetime.now(UTC))
    assert len(events) == 50
    # The count says 50: no second page.
    assert cloud.calls["get_lock_events"] == 1
    assert cloud.calls["count_lock_events"] == 1


async def test_operation_log(
    cloud: FakeDdingCloud, session: aiohttp.ClientSession
) -> None:
    ids = _home(cloud)
    client = _client(cloud, session, poll_operation_log=True)
    await client.async_list_locks()
    added = await client.async_add_code(ids["room2"], "Guest", "864213", *_window())
    cloud.complete(ids["room2"])
    await client.async_delete_code(ids["room2"], added.code_id)
    cloud.complete(ids["room2"], success=False)
    start = datetime.fromtimestamp(time.time() - 60, UTC)
    end = datetime.fromtimestamp(time.time() + 1, UTC)
    events = await client.async_get_events(ids["room2"], start, end)
    assert [(e.type, e.success) for e in events] == [
        (EventType.CODE_ADDED, True),
        (EventType.CODE_DELETED, False),
    ]
    assert all(e.code_id == added.code_id for e in events)
    assert events[0].user == "Partner admin"
    params = cloud.requests[-1][1]
    assert params["room_id"] == "r2"
    assert params["home_id"] == HOME
    again = await client.async_get_events(ids["room2"], start, end)
    assert [e.event_id for e in again] == [e.event_id for e in events]


# -------------------------------------------------------------------- token


async def test_token_expired_mid_run_single_flight(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    ids = _home(cloud)
    await client.async_login()
    cloud.expire_tokens()
    cloud.reset_calls()
    locks = [ids["front"], ids["room1"], ids["room2"]]
    results = await asyncio.gather(*(client.async_list_codes(i) for i in locks * 2))
    assert all(str(ADMIN_ID) in {c.code_id for c in codes} for codes in results)
    # Six calls met 102, one new token served all their replays.
    assert cloud.calls["access_token"] == 1
    assert cloud.calls["fetch_passwords"] == 12


async def test_token_revoked_is_renewed(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    ids = _home(cloud)
    await client.async_login()
    cloud.revoke_tokens()
    cloud.reset_calls()
    await client.async_list_codes(ids["front"])
    assert cloud.calls == {"fetch_passwords": 2, "access_token": 1}


async def test_token_renewal_refused(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    ids = _home(cloud)
    await client.async_login()
    cloud.revoke_tokens()
    cloud.fail("access_token", 14001, "client_id 或 client_secret 错误")
    with pytest.raises(AuthError):
        await client.async_list_codes(ids["front"])


async def test_token_rejected_twice_is_auth_error(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    ids = _home(cloud)
    await client.async_login()
    cloud.fail("fetch_passwords", 102, "Token 过期", times=2)
    with pytest.raises(AuthError) as exc:
        await client.async_list_codes(ids["front"])
    assert exc.value.code == 102
    assert cloud.calls["access_token"] == 2  # one renewal, not a loop


async def test_token_renewed_before_expiry(
    cloud: FakeDdingCloud, session: aiohttp.ClientSession, freezer: Any
) -> None:
    cloud.token_lifetime = 7200
    ids = _home(cloud)
    client = _client(cloud, session)
    await client.async_login()
    freezer.tick(7200 - 600)  # inside the last tenth of the lifetime
    cloud.reset_calls()
    await client.async_list_codes(ids["front"])
    assert cloud.calls == {"access_token": 1, "fetch_passwords": 1}


# ------------------------------------------------------------------ secrets


async def test_secrets_never_in_errors_or_logs(
    cloud: FakeDdingCloud,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.ttlock_gateway")
    ids = _home(cloud)
    client = _client(cloud, session, default_phone="13912345678")
    await client.async_login()
    first = cloud.live_tokens[0]
    cloud.revoke_tokens()
    errors: list[Exception] = []
    # An ErrMsg that echoes what we sent must not carry it further.
    cloud.fail(
        "add_password",
        14001,
        f"bad password 482915 for 13912345678 token {first} {cloud.CLIENT_SECRET}",
    )
    try:
        await client.async_add_code(ids["front"], "Guest", "482915", *_window())
    except InvalidRequestError as err:
        errors.append(err)
    await client.async_add_code(ids["front"], "Guest", "482915", *_window())
    second = cloud.live_tokens[0]
    cloud.fail("fetch_passwords", 15000, f"internal {second}")
    try:
        await client.async_list_codes(ids["front"])
    except TransientError as err:
        errors.append(err)
    await client.async_get_dynamic_code(ids["front"])
    assert len(errors) == 2
    text = caplog.text + "\n".join(f"{e!s} {e!r}" for e in errors)
    assert "add_password" in caplog.text
    for secret in (
        cloud.CLIENT_SECRET,
        first,
        second,
        "482915",
        "13912345678",
        cloud.dynamic_codes[-1][1],
    ):
        assert secret not in text


# --------------------------------------------------------------- call budget


@pytest.mark.parametrize(
    ("list_with_state", "expected"),
    [
        # 24 listings + 40 event polls + 10 daily infos + 1 centre info + 1 token.
        (
            True,
            {
                "find_home_devices": 24,
                "get_lock_events": 40,
                "get_lock_info": 10,
                "get_center_info": 1,
                "access_token": 1,
            },
        ),
        # Without a state in the listing: the lock info on every details call
        # and the centre's on every gateway listing.
        (
            False,
            {
                "find_home_devices": 24,
                "get_lock_events": 40,
                "get_lock_info": 40,
                "get_center_info": 24,
                "access_token": 1,
            },
        ),
    ],
)
async def test_calls_per_day_ten_locks(
    cloud: FakeDdingCloud,
    session: aiohttp.ClientSession,
    freezer: Any,
    list_with_state: bool,
    expected: dict[str, int],
) -> None:
    """The coordinator's schedule: lock list + gateways hourly, details and
    events of every lock every 6 hours. Target for 10 locks: <= 100 a day."""
    cloud.list_with_state = list_with_state
    cloud.token_lifetime = 86400  # pessimistic: the seed gives no lifetime
    cloud.add_gateway(HOME)
    locks = [cloud.add_lock(HOME, f"r{i}", name=f"Room {i}") for i in range(10)]
    client = _client(cloud, session)
    await client.async_login()
    listed = {lock.lock_id: lock for lock in await client.async_list_locks()}
    await client.async_list_gateways()
    cloud.reset_calls()
    for hour in range(1, 25):
        freezer.tick(3600)
        listed = {lock.lock_id: lock for lock in await client.async_list_locks()}
        await client.async_list_gateways()
        if hour % 6 == 0:
            now = datetime.now(UTC)
            for lock_id in locks:
                await client.async_get_lock_details(listed[lock_id])
                await client.async_get_events(lock_id, now - timedelta(hours=6), now)
    assert dict(cloud.calls) == expected
    assert cloud.total_calls == (76 if list_with_state else 129)


# ---------------------------------------------------------- pushed callbacks


async def test_fake_pushes_section_9_callbacks(
    cloud: FakeDdingCloud, client: DdingClient
) -> None:
    """The fake POSTs 9.1 bodies; each parses, and an opening pushed and polled
    is one event."""
    received: list[tuple[str, bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        received.append((request.content_type, await request.read()))
        return web.json_response({"ErrNo": 0, "ErrMsg": "", "count": 1})

    app = web.Application()
    app.router.add_post("/hook", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        cloud.callback_url = f"http://127.0.0.1:{port}/hook"
        ids = _home(cloud)
        entry = await cloud.open_door(ids["room1"], password_id=1001)
        await cloud.set_power(ids["room2"], 9)
        await cloud.set_power(ids["room2"], 6)
        await cloud.set_power(ids["room2"], 40)
        await cloud.set_online(ids["front"], False)
        await cloud.set_online(ids["gateway"], False)
        await cloud.set_online(ids["gateway"], True)
    finally:
        await runner.cleanup()

    assert [status for status, _ in cloud.pushes] == [200] * 7
    now = datetime.now(UTC)
    parsed = [parse_callback(ct, body, now=now) for ct, body in received]
    names = [p.events[0].raw["event"] for p in parsed]
    assert names == [
        "lockerOpenAlarm",
        "batteryAlarm",
        "batteryAlarm",
        "clearBattryAlarm",
        "lockOfflineAlarm",
        "centerOfflineAlarm",
        "clearCenterOfflineAlarm",
    ]
    assert [p.events[0].battery for p in parsed[1:4]] == [9, 6, 40]
    assert parsed[0].events[0].raw["room_id"] == "r1"  # 9.1: room locks only
    assert parsed[4].events[0].raw["room_id"] is None
    assert parsed[5].lock_ref == ids["gateway"]
    start = datetime.fromtimestamp(entry["time"] / 1000 - 60, UTC)
    (polled,) = await client.async_get_events(ids["room1"], start, now)
    assert polled.event_id == parsed[0].events[0].event_id
