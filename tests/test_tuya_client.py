"""Tests of the Tuya client against the fake cloud over real HTTP on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import hashlib
import hmac
import logging
import time
from typing import Any

import aiohttp
import pytest

from custom_components.ttlock_gateway.providers.models import (
    AuthError,
    CannotConnectError,
    CodeKind,
    EventType,
    InvalidRequestError,
    LockState,
    NotSupportedError,
    ProviderError,
    RateLimitError,
    SubscriptionError,
    TransientError,
    UnlockMethod,
)
from custom_components.ttlock_gateway.providers.tuya import (
    DATA_CENTERS,
    LOCK_CATEGORIES,
    TuyaClient,
    sign_request,
)
from custom_components.ttlock_gateway.providers.tuya_crypto import (
    EMPTY_BODY_SHA256,
    aes_ecb_decrypt,
    decrypt_ticket_key,
    encrypt_pin,
)
from tests.fakes.tuya_cloud import FakeTuyaCloud

# ---------------------------------------------------------------- vectors

V_ID = "1KAD46OrT9HafiKdsXeg"
V_SECRET = "4OHBOnWOqaEC1mWXOpVL3yV50s0qGSRC"
V_T = "1588925778000"
V_NONCE = "5138cc3a9033d69856923fd07b491173"
V_TOKEN = "3f4eda2bdec17232f67c0b188af3eec1"


def _independent_sign(
    token: str, nonce: str, method: str, body: bytes, url: str
) -> str:
    content = hashlib.sha256(body).hexdigest()
    message = V_ID + token + V_T + nonce + f"{method}\n{content}\n\n{url}"
    return (
        hmac.new(V_SECRET.encode(), message.encode(), hashlib.sha256)
        .hexdigest()
        .upper()
    )


def test_empty_body_hash_constant() -> None:
    assert hashlib.sha256(b"").hexdigest() == EMPTY_BODY_SHA256
    assert (
        EMPTY_BODY_SHA256
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_sign_token_get_vector() -> None:
    url = "/v1.0/token?grant_type=1"
    expected = "3206F74CBFC2869794FD3013C44F18166BE22AB1FB5FF66F513212264F67F681"
    assert _independent_sign("", V_NONCE, "GET", b"", url) == expected
    got = sign_request(
        access_id=V_ID,
        secret=V_SECRET,
        t=V_T,
        nonce=V_NONCE,
        method="GET",
        path_with_sorted_query=url,
        body=b"",
    )
    assert got == expected


def test_sign_business_get_sorted_query_vector() -> None:
    url = (
        "/v1.0/devices/vdevo123/door-lock/open-logs?end_time=1700003600000"
        "&page_no=1&page_size=20&start_time=1700000000000"
    )
    expected = "0F296EFCF36183A1D1DDBA62CF20252ECFAD9189C46759E292381722AD0CF139"
    assert _independent_sign(V_TOKEN, V_NONCE, "GET", b"", url) == expected
    got = sign_request(
        access_id=V_ID,
        secret=V_SECRET,
        t=V_T,
        nonce=V_NONCE,
        method="GET",
        path_with_sorted_query=url,
        body=b"",
        access_token=V_TOKEN,
    )
    assert got == expected


def test_sign_post_json_body_vector() -> None:
    body = b'{"ticket_id":"9wxxoLM"}'
    assert (
        hashlib.sha256(body).hexdigest()
        == "e363ceb6bf24fe43e886825466db3ebc4e588be489d360ec7fbc904843fc4917"
    )
    url = "/v1.0/devices/vdevo123/door-lock/password-free/open-door"
    expected = "B5FBFEC4A9AEC4FC46B6389A59920B6E248FDD6CDC1E7CF3E2F55F3EFEFB03A1"
    assert _independent_sign(V_TOKEN, "", "POST", body, url) == expected
    got = sign_request(
        access_id=V_ID,
        secret=V_SECRET,
        t=V_T,
        nonce="",
        method="POST",
        path_with_sorted_query=url,
        body=body,
        access_token=V_TOKEN,
    )
    assert got == expected


def test_aes_ticket_and_pin_vectors() -> None:
    secret = "0123456789abcdef0123456789abcdef"
    ticket_key = "DE587B5FCCF04EB47224E69A3A80B71C8AA36241FDE8DF054DC325C6C695B89E"
    key = decrypt_ticket_key(ticket_key, secret)
    assert key == b"fedcba9876543210"
    assert encrypt_pin("1234567", key, upper=True) == "956DBF9FBB762BC3874FEF2C428CA1C4"
    assert (
        encrypt_pin("1234567", key, upper=False) == "956dbf9fbb762bc3874fef2c428ca1c4"
    )
    assert aes_ecb_decrypt(key, bytes.fromhex("956DBF9FBB762BC3874FEF2C428CA1C4")) == (
        b"1234567"
    )
    with pytest.raises(ValueError):
        decrypt_ticket_key(ticket_key, "f" * 32)


def test_constants() -> None:
    assert DATA_CENTERS["eu"] == "https://openapi.tuyaeu.com"
    assert DATA_CENTERS["sg"] == "https://openapi-sg.iotbing.com"
    assert "jtmspro" in LOCK_CATEGORIES
    assert "cz" not in LOCK_CATEGORIES


# --------------------------------------------------------------- fixtures


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


# ------------------------------------------------------------------ login


async def test_login(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    cloud.add_device(name="Front")
    info = await client.async_login()
    assert info.unique_id == f"{cloud.ACCESS_ID}_{cloud.USER_UID}"
    assert "Tuya" in info.title
    assert cloud.calls["GET /v1.0/token"] == 1
    assert cloud.calls["GET /v1.0/iot-01/associated-users/devices"] == 1


async def test_login_with_user_uid(
    cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    cloud.add_device(name="Front")
    client = _client(cloud, session, user_uid=cloud.USER_UID)
    info = await client.async_login()
    assert info.unique_id == f"{cloud.ACCESS_ID}_{cloud.USER_UID}"
    assert cloud.calls["GET /v1.0/users/{uid}/devices"] == 1
    assert cloud.calls["GET /v1.0/iot-01/associated-users/devices"] == 0


async def test_login_bad_secret(
    cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    bad = "f" * 32
    client = TuyaClient(
        session, access_id=cloud.ACCESS_ID, access_secret=bad, base_url=cloud.base_url
    )
    with pytest.raises(AuthError) as exc:
        await client.async_login()
    assert exc.value.code == 1004
    assert bad not in str(exc.value)


async def test_associated_users_refused_falls_back(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    cloud.add_device(name="Front")
    cloud.fail("GET /v1.0/iot-01/associated-users/devices", 1106, "permission deny")
    locks = await client.async_list_locks()
    assert [lock.name for lock in locks] == ["Front"]
    assert cloud.calls["GET /v1.0/users/{uid}/devices"] == 1


# ------------------------------------------------------------------ locks


async def test_list_locks_mapping_and_filter(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    wifi = cloud.add_device(name="Wifi", battery=77, passage_mode=False)
    zig = cloud.add_device(name="Zig", category="ms", wifi=False, battery=40)
    off = cloud.add_device(name="Dead", category="ms", wifi=False, battery=0)
    cloud.add_device(name="Plug", category="cz")
    cloud.add_device(name="Offline", category="videolock", online=False)
    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}
    assert len(locks) == 4
    assert "Plug" not in {lock.name for lock in locks.values()}
    w = locks[wifi]
    assert w.battery == 77
    assert w.manufacturer == "Tuya"
    assert w.model == "Wi-Fi Smart Lock"
    assert w.online is True
    assert w.state is LockState.LOCKED
    assert w.passage_mode is False
    assert w.capabilities.passage_mode
    assert w.capabilities.remote_lock
    assert w.capabilities.codes
    assert not w.capabilities.remote_unlock  # unknown until details
    assert (w.capabilities.code_min_length, w.capabilities.code_max_length) == (7, 7)
    z = locks[zig]
    assert z.battery == 50  # battery_state medium
    assert z.passage_mode is None
    assert not z.capabilities.passage_mode
    assert not z.capabilities.remote_lock
    assert (z.capabilities.code_min_length, z.capabilities.code_max_length) == (6, 6)
    assert locks[off].battery == 0
    assert next(lk for lk in locks.values() if lk.name == "Offline").online is False


async def test_battery_state_levels(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    high = cloud.add_device(name="H", wifi=False, battery=95)
    low = cloud.add_device(name="L", wifi=False, battery=5)
    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}
    assert locks[high].battery == 100
    assert locks[low].battery == 10


async def test_list_locks_paginates(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    cloud.page_size = 2
    for i in range(5):
        cloud.add_device(name=f"L{i}", device_id=f"dev{i}")
    locks = await client.async_list_locks()
    assert sorted(lock.lock_id for lock in locks) == [f"dev{i}" for i in range(5)]
    assert cloud.calls["GET /v1.0/iot-01/associated-users/devices"] == 3


async def test_details_fill_remote_unlock_cache(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    on = cloud.add_device(name="On")
    off = cloud.add_device(name="Off", remote_unlock=False)
    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}
    cloud.reset_calls()
    assert (await client.async_get_lock_details(locks[on])).capabilities.remote_unlock
    assert not (
        await client.async_get_lock_details(locks[off])
    ).capabilities.remote_unlock
    assert cloud.calls["GET /v1.0/devices/{id}/door-lock/remote-unlocks"] == 2
    cloud.reset_calls()
    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}
    assert locks[on].capabilities.remote_unlock
    assert not locks[off].capabilities.remote_unlock
    assert cloud.calls["GET /v1.0/devices/{id}/door-lock/remote-unlocks"] == 0


# ---------------------------------------------------------- unlock / lock


async def test_unlock_and_lock(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    dev = cloud.add_device(name="Front")
    await client.async_unlock(dev)
    assert cloud.unlocks == [dev]
    assert cloud.calls["POST /v1.0/devices/{id}/door-lock/password-ticket"] == 1
    assert cloud.calls["POST /v1.0/devices/{id}/door-lock/password-free/open-door"] == 1
    lock = (await client.async_list_locks())[0]
    assert lock.state is LockState.UNLOCKED
    await client.async_lock(dev)
    assert cloud.locks_done == [dev]
    lock = (await client.async_list_locks())[0]
    assert lock.state is LockState.LOCKED


async def test_unlock_falls_back_to_door_operate(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    dev = cloud.add_device(name="Front")
    cloud.meta[dev]["open_door"] = False
    await client.async_unlock(dev)
    assert cloud.unlocks == [dev]
    route = "POST /v1.0/smart-lock/devices/{id}/password-free/door-operate"
    assert cloud.calls[route] == 1


async def test_lock_not_supported_category(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    dev = cloud.add_device(name="Front", category="ms")
    with pytest.raises(NotSupportedError):
        await client.async_lock(dev)
    assert cloud.locks_done == []


async def test_remote_unlock_disabled(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    dev = cloud.add_device(name="Front", remote_unlock=False)
    with pytest.raises(NotSupportedError) as exc:
        await client.async_unlock(dev)
    assert "Remote unlock" in str(exc.value)
    assert cloud.unlocks == []
    # Enabled in the app afterwards: a cached "disabled" is checked again.
    cloud.meta[dev]["remote_unlock"] = True
    await client.async_unlock(dev)
    assert cloud.unlocks == [dev]
    # Disabled again while cached as on: the cloud's 2003 still maps.
    cloud.meta[dev]["remote_unlock"] = False
    with pytest.raises(NotSupportedError) as exc:
        await client.async_unlock(dev)
    assert exc.value.code == 2003
    assert cloud.unlocks == [dev]


async def test_unlock_offline_is_transient(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    dev = cloud.add_device(name="Front", online=False)
    with pytest.raises(TransientError) as exc:
        await client.async_unlock(dev)
    assert exc.value.code == 2001


async def test_per_device_serialisation(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    dev = cloud.add_device(name="Front")
    other = cloud.add_device(name="Back")
    cloud.latency = 0.01
    await asyncio.gather(
        *(client.async_unlock(dev) for _ in range(10)),
        *(client.async_unlock(other) for _ in range(5)),
    )
    assert len(cloud.unlocks) == 15
    assert cloud.max_in_flight_per_device[dev] == 1
    assert cloud.max_in_flight_per_device[other] == 1
    assert cloud.max_in_flight >= 2


async def test_global_concurrency_limit(
    cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    ids = [cloud.add_device(name=f"L{i}") for i in range(8)]
    client = _client(cloud, session, max_concurrency=3)
    await client.async_login()
    cloud.latency = 0.02
    cloud.reset_calls()
    await asyncio.gather(*(client.async_list_codes(i) for i in ids))
    assert cloud.max_in_flight <= 3
    assert client.max_concurrency == 3


# ------------------------------------------------------------------ codes


async def test_code_add_list_delete(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    dev = cloud.add_device(name="Front")
    start = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    end = start + timedelta(days=2)
    code = await client.async_add_code(dev, "Guest", "1234567", start, end)
    assert code.kind is CodeKind.PERIOD
    assert code.code == "1234567"
    assert (code.start, code.end) == (start, end)
    stored = cloud.codes[dev][code.code_id]
    assert stored["pin"] == "1234567"
    assert stored["name"] == "Guest"
    assert stored["effective_time"] == int(start.timestamp())
    assert stored["invalid_time"] == int(end.timestamp())
    codes = await client.async_list_codes(dev)
    assert [(c.code_id, c.name, c.delivered) for c in codes] == [
        (code.code_id, "Guest", True)
    ]
    assert codes[0].start == start
    # Pending while the lock is offline (an online Wi-Fi lock takes it at once).
    cloud.devices[dev]["online"] = False
    cloud.codes[dev][code.code_id]["phase"] = 1
    assert not (await client.async_list_codes(dev))[0].delivered
    cloud.devices[dev]["online"] = True
    await client.async_delete_code(dev, code.code_id)
    assert cloud.codes[dev] == {}
    assert await client.async_list_codes(dev) == []


async def test_code_pin_sent_as_lower_case_hex(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """Upper-case hex is accepted by the cloud but opens nothing (the PIN trap)."""
    dev = cloud.add_device(name="Front")
    start = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    code = await client.async_add_code(
        dev, "Guest", "7654321", start, start + timedelta(days=1)
    )
    (sent,) = cloud.pin_hex_seen
    assert sent == sent.lower()
    assert cloud.codes[dev][code.code_id]["pin"] == "7654321"


async def test_code_zigbee_six_digits(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    dev = cloud.add_device(name="Zig", category="ms", wifi=False)
    start = datetime.now(UTC)
    end = start + timedelta(hours=3)
    with pytest.raises(InvalidRequestError):
        await client.async_add_code(dev, "Bad", "1234567", start, end)
    code = await client.async_add_code(dev, "Guest", "654321", start, end)
    assert cloud.codes[dev][code.code_id]["pin"] == "654321"
    assert not code.delivered
    assert cloud.calls["POST /v1.0/devices/{id}/door-lock/password-ticket"] == 1


async def test_code_validation_and_pin_not_leaked(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    dev = cloud.add_device(name="Front")
    start = datetime.now(UTC)
    with pytest.raises(InvalidRequestError):
        await client.async_add_code(dev, "x", "12a4567", start, start + timedelta(1))
    with pytest.raises(InvalidRequestError):
        await client.async_add_code(dev, "x", "1234567", start, start)
    cloud.fail("POST /v1.0/devices/{id}/door-lock/temp-password", 1109, "bad")
    with pytest.raises(InvalidRequestError) as exc:
        await client.async_add_code(dev, "x", "7654321", start, start + timedelta(1))
    assert "7654321" not in str(exc.value)
    assert exc.value.code == 1109


# ----------------------------------------------------------- passage mode


async def test_passage_mode(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    dev = cloud.add_device(name="Front", passage_mode=False)
    plain = cloud.add_device(name="Plain")
    await client.async_set_passage_mode(dev, True)
    status = {s["code"]: s["value"] for s in cloud.devices[dev]["status"]}
    assert status["normal_open_switch"] is True
    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}
    assert locks[dev].passage_mode is True
    with pytest.raises(NotSupportedError):
        await client.async_set_passage_mode(plain, True)


# ----------------------------------------------------------------- events


async def test_events_mapping(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    dev = cloud.add_device(name="Front")
    base = 1_700_000_000_000
    cloud.add_open_log(dev, "unlock_fingerprint", 3, nick_name="Ann", t_ms=base + 1000)
    cloud.add_open_log(dev, "unlock_temporary", 1001, t_ms=base + 2000)
    cloud.add_open_log(dev, "unlock_card", 2, t_ms=base + 3000)
    cloud.add_open_log(dev, "unlock_face", 1, t_ms=base + 4000)
    cloud.add_open_log(dev, "unlock_key", 0, t_ms=base + 5000)
    cloud.add_open_log(dev, "unlock_ble", 0, t_ms=base + 6000)
    cloud.add_open_log(dev, "unlock_app", 0, t_ms=base + 7000)
    cloud.add_open_log(dev, "unlock_password", 4, t_ms=base - 10_000_000)  # outside
    cloud.add_alarm_log(dev, "wrong_password", t_ms=base + 1500)
    cloud.add_alarm_log(dev, "pry", t_ms=base + 2500)
    cloud.add_alarm_log(dev, "low_battery", t_ms=base + 3500)
    cloud.add_alarm_log(dev, "hijack", t_ms=base + 4500)
    cloud.add_alarm_log(dev, "doorbell", t_ms=base + 5500)
    cloud.add_alarm_log(dev, "wrong_finger", t_ms=base - 10_000_000)  # outside
    start = datetime.fromtimestamp(base / 1000, UTC)
    events = await client.async_get_events(dev, start, start + timedelta(hours=1))
    got = [(e.type, e.method, e.success) for e in events]
    assert got == [
        (EventType.UNLOCKED, UnlockMethod.FINGERPRINT, True),
        (EventType.WRONG_CODE, UnlockMethod.UNKNOWN, False),
        (EventType.UNLOCKED, UnlockMethod.CODE, True),
        (EventType.TAMPER, UnlockMethod.UNKNOWN, True),
        (EventType.UNLOCKED, UnlockMethod.CARD, True),
        (EventType.BATTERY_LOW, UnlockMethod.UNKNOWN, True),
        (EventType.UNLOCKED, UnlockMethod.FACE, True),
        (EventType.TAMPER, UnlockMethod.UNKNOWN, True),
        (EventType.UNLOCKED, UnlockMethod.KEY, True),
        (EventType.DOORBELL, UnlockMethod.UNKNOWN, True),
        (EventType.UNLOCKED, UnlockMethod.BLUETOOTH, True),
        (EventType.UNLOCKED, UnlockMethod.REMOTE, True),
    ]
    assert events[0].user == "Ann"
    assert events[0].event_id == f"tuya:{dev}:{base + 1000}:unlock_fingerprint:3"
    assert events[0].time == datetime.fromtimestamp((base + 1000) / 1000, UTC)
    assert events[2].code_id == "1001"
    assert all(e.lock_id == dev for e in events)
    again = await client.async_get_events(dev, start, start + timedelta(hours=1))
    assert [e.event_id for e in again] == [e.event_id for e in events]


async def test_events_paginate(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    dev = cloud.add_device(name="Front")
    base = 1_700_000_000_000
    for i in range(120):
        cloud.add_open_log(dev, "unlock_password", i, t_ms=base + i * 1000)
    start = datetime.fromtimestamp(base / 1000, UTC)
    events = await client.async_get_events(dev, start, start + timedelta(hours=1))
    assert len(events) == 120
    assert events[0].time < events[-1].time
    assert cloud.calls["GET /v1.1/devices/{id}/door-lock/open-logs"] == 3


# ------------------------------------------------------------------ token


async def test_token_refresh_single_flight(
    cloud: FakeTuyaCloud, client: TuyaClient, freezer: Any
) -> None:
    ids = [cloud.add_device(name=f"L{i}") for i in range(5)]
    await client.async_login()
    freezer.tick(7200)
    cloud.reset_calls()
    await asyncio.gather(*(client.async_list_codes(i) for i in ids * 2))
    assert cloud.calls["GET /v1.0/token/{refresh_token}"] == 1
    assert cloud.calls["GET /v1.0/token"] == 0
    assert cloud.calls["GET /v1.0/devices/{id}/door-lock/temp-passwords"] == 10


async def test_token_revoked_mid_call_replays(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    ids = [cloud.add_device(name=f"L{i}") for i in range(4)]
    await client.async_login()
    cloud.revoke_tokens()
    cloud.reset_calls()
    await asyncio.gather(*(client.async_list_codes(i) for i in ids))
    assert cloud.calls["GET /v1.0/token/{refresh_token}"] == 1
    assert cloud.calls["GET /v1.0/devices/{id}/door-lock/temp-passwords"] == 8


async def test_1010_injected_replays_once(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    dev = cloud.add_device(name="Front")
    await client.async_login()
    route = "GET /v1.0/devices/{id}/door-lock/temp-passwords"
    cloud.fail(route, 1010, "token invalid")
    assert await client.async_list_codes(dev) == []
    assert cloud.calls[route] == 2
    cloud.fail(route, 1010, "token invalid", times=2)
    with pytest.raises(AuthError) as exc:
        await client.async_list_codes(dev)
    assert exc.value.code == 1010


async def test_refresh_refused_falls_back_to_grant(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    dev = cloud.add_device(name="Front")
    await client.async_login()
    cloud.revoke_tokens()
    cloud.fail("GET /v1.0/token/{refresh_token}", 1012, "refresh token invalid")
    cloud.reset_calls()
    assert await client.async_list_codes(dev) == []
    assert cloud.calls["GET /v1.0/token"] == 1


# ----------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("code", "exc_type"),
    [
        (1004, AuthError),
        # 1106 on one device's call is per device/API, not a reauth.
        (1106, NotSupportedError),
        (2406, AuthError),
        (1199, RateLimitError),
        (1013, TransientError),
        (28841002, SubscriptionError),
        (28841101, SubscriptionError),
        (28841105, SubscriptionError),
        (40000309, InvalidRequestError),
        (1109, InvalidRequestError),
        (1100, InvalidRequestError),
        (2004, NotSupportedError),
        (40000305, RateLimitError),
        (1111, RateLimitError),
        (2001, TransientError),
        (501, TransientError),
        (1110, TransientError),
    ],
)
async def test_error_mapping(
    cloud: FakeTuyaCloud, client: TuyaClient, code: int, exc_type: type[Exception]
) -> None:
    dev = cloud.add_device(name="Front")
    await client.async_login()
    route = "GET /v1.0/devices/{id}/door-lock/temp-passwords"
    cloud.fail(route, code, "boom", times=5)
    with pytest.raises(exc_type) as exc:
        await client.async_list_codes(dev)
    assert isinstance(exc.value, ProviderError)
    assert exc.value.code == code
    assert "boom" in exc.value.message
    if exc_type is RateLimitError:
        assert isinstance(exc.value, RateLimitError)
        assert exc.value.retry_after == 60
    text = str(exc.value)
    assert cloud.ACCESS_SECRET not in text
    assert client._token is not None
    assert client._token.access_token not in text
    assert client._token.refresh_token not in text


async def test_subscription_messages(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    cloud.add_device(name="Front")
    await client.async_login()
    cloud.lapse_plan(28841002)
    with pytest.raises(SubscriptionError) as exc:
        await client.async_list_locks()
    assert "plan" in str(exc.value)
    cloud.lapse_plan()
    with pytest.raises(SubscriptionError) as exc:
        await client.async_list_locks()
    assert exc.value.code == 28841101
    assert "subscribe" in str(exc.value)
    cloud.lapse_plan(0)
    assert len(await client.async_list_locks()) == 1


async def test_busy_is_retried(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    dev = cloud.add_device(name="Front")
    route = "GET /v1.0/devices/{id}/door-lock/temp-passwords"
    cloud.fail(route, 1110, "busy", times=2)
    assert await client.async_list_codes(dev) == []
    assert cloud.calls[route] == 3


async def test_http_429_and_500(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    dev = cloud.add_device(name="Front")
    route = "GET /v1.0/devices/{id}/door-lock/temp-passwords"
    cloud.fail(route, 429)
    with pytest.raises(RateLimitError) as exc:
        await client.async_list_codes(dev)
    assert exc.value.retry_after == 60
    cloud.set_outage("http500")
    with pytest.raises(CannotConnectError):
        await client.async_list_codes(dev)
    cloud.set_outage(None)
    assert await client.async_list_codes(dev) == []


async def test_outage_disconnect_and_timeout(
    cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    dev = cloud.add_device(name="Front")
    client = _client(cloud, session, request_timeout=0.3)
    await client.async_login()
    cloud.set_outage("disconnect")
    with pytest.raises(CannotConnectError):
        await client.async_list_codes(dev)
    cloud.set_outage("timeout")
    started = time.monotonic()
    with pytest.raises(CannotConnectError):
        await client.async_list_codes(dev)
    assert time.monotonic() - started < 5
    cloud.set_outage(None)
    assert await client.async_list_codes(dev) == []


async def test_cannot_connect(socket_enabled: Any) -> None:
    async with aiohttp.ClientSession() as sess:
        client = TuyaClient(
            sess,
            access_id="x",
            access_secret="0" * 32,
            base_url="http://127.0.0.1:9",
            request_timeout=2.0,
        )
        with pytest.raises(CannotConnectError):
            await client.async_login()


async def test_clock_skew_rejected(cloud: FakeTuyaCloud, client: TuyaClient) -> None:
    cloud.add_device(name="Front")
    await client.async_login()
    cloud.fail("GET /v1.0/iot-01/associated-users/devices", 1013, "request time")
    # The answer's t is our own time: nothing to learn, no retry; the clock
    # is at fault, not the request.
    with pytest.raises(TransientError) as exc:
        await client.async_list_locks()
    assert exc.value.code == 1013


def test_unknown_data_center() -> None:
    with pytest.raises(ValueError):
        TuyaClient(
            None,  # type: ignore[arg-type]
            access_id="x",
            access_secret="0" * 32,
            data_center="mars",
        )


async def test_fake_rejects_stale_time(
    cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    t = str(int((time.time() - 3600) * 1000))
    url = "/v1.0/token?grant_type=1"
    sign = sign_request(
        access_id=cloud.ACCESS_ID,
        secret=cloud.ACCESS_SECRET,
        t=t,
        nonce="",
        method="GET",
        path_with_sorted_query=url,
        body=b"",
    )
    headers = {
        "client_id": cloud.ACCESS_ID,
        "sign": sign,
        "sign_method": "HMAC-SHA256",
        "t": t,
    }
    async with session.get(cloud.base_url + url, headers=headers) as resp:
        data = await resp.json()
    assert data["success"] is False
    assert data["code"] == 1013


async def test_debug_logs_hold_no_secrets(
    cloud: FakeTuyaCloud, client: TuyaClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.ttlock_gateway")
    dev = cloud.add_device(name="Front")
    await client.async_login()
    assert client._token is not None
    first = client._token
    cloud.revoke_tokens()
    start = datetime.now(UTC)
    await client.async_add_code(dev, "Guest", "8642097", start, start + timedelta(1))
    await client.async_unlock(dev)
    assert client._token is not first
    text = "\n".join(
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components.ttlock_gateway")
    )
    assert "temp-password" in text
    for secret in (
        cloud.ACCESS_SECRET,
        first.access_token,
        first.refresh_token,
        client._token.access_token,
        client._token.refresh_token,
        "8642097",
    ):
        assert secret not in text


async def test_unlock_access_control_sends_channel_id(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    """Wi-Fi access control (mk) needs channel_id (seed 001); v1.1 as
    hass-tuya-lock-bridge unlocks it on hardware."""
    dev = cloud.add_device(name="Gate keypad", category="mk")
    await client.async_list_locks()
    await client.async_unlock(dev)
    assert cloud.unlocks == [dev]
    assert cloud.calls["POST /v1.1/devices/{id}/door-lock/password-free/open-door"] == 1
    assert cloud.calls["POST /v1.0/devices/{id}/door-lock/password-free/open-door"] == 0
