"""Passcodes at the provider boundary: odd cloud values become bounded ones.

Every value of a code listing or an add answer passes ``providers/bounds.py``:
an id that is missing never becomes the string ``"None"``, a year-40,000 date
never becomes a ``datetime`` (nor an uncaught ``ValueError``), and names lose
control characters and lone surrogates (which would make every JSON save of
the code ledger fail).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import json
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.ttlock_gateway.providers.bounds import InvalidAnswerError
from custom_components.ttlock_gateway.providers.models import (
    CodeKind,
    NotSupportedError,
    ProviderError,
    TransientError,
)
from custom_components.ttlock_gateway.providers.ttlock import (
    TTLockClient,
    md5_password,
)
from custom_components.ttlock_gateway.providers.tuya import TuyaClient
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud

START = datetime(2030, 1, 1, 12, tzinfo=UTC)
END = START + timedelta(days=2)
START_MS = int(START.timestamp() * 1000)
YEAR_40000_MS = 1_200_000_000_000_000  # about year 40,000 in milliseconds


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def ttlock_client(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> TTLockClient:
    return TTLockClient(
        session,
        client_id=cloud.CLIENT_ID,
        client_secret=cloud.CLIENT_SECRET,
        username=cloud.USERNAME,
        password_md5=md5_password(cloud.PASSWORD),
        base_url=cloud.base_url,
        busy_retry_delays=(0, 0, 0),
    )


def tuya_client(cloud: FakeTuyaCloud, session: aiohttp.ClientSession) -> TuyaClient:
    return TuyaClient(
        session,
        access_id=cloud.ACCESS_ID,
        access_secret=cloud.ACCESS_SECRET,
        base_url=cloud.base_url,
        busy_retry_delays=(0, 0, 0),
    )


def ttlock_code(pwd_id: Any, **fields: Any) -> dict[str, Any]:
    return {
        "keyboardPwdId": pwd_id,
        "keyboardPwd": "4821",
        "keyboardPwdName": "Guest",
        "keyboardPwdType": 3,
        "startDate": START_MS,
        "endDate": START_MS + 3_600_000,
        **fields,
    }


async def test_ttlock_listing_with_odd_values(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """One odd entry neither fails the listing nor hides the other codes."""
    lock_id = ttlock_cloud.add_lock(name="Front", gateway_id=ttlock_cloud.add_gateway())
    codes = ttlock_cloud.passcodes[lock_id]
    codes[1] = ttlock_code(1)
    codes[2] = ttlock_code(2, endDate=YEAR_40000_MS, keyboardPwd="5555")
    codes[3] = ttlock_code(None, keyboardPwd="6666")  # no id: cannot be addressed
    codes[4] = ttlock_code("", keyboardPwd="7777")
    codes[5] = ttlock_code(5, startDate="soon", keyboardPwd="8888")
    codes[6] = ttlock_code(
        6, keyboardPwdName="Guest \ud83d\x07\x1b[2J", keyboardPwd="9999"
    )
    codes[7] = ttlock_code(
        7, keyboardPwd="12ab", startDate=0, endDate=0, keyboardPwdType=2
    )
    client = ttlock_client(ttlock_cloud, session)

    listed = {c.code_id: c for c in await client.async_list_codes(str(lock_id))}

    assert set(listed) == {"1", "2", "5", "6", "7"}
    assert "None" not in listed
    assert listed["1"].end == START + timedelta(hours=1)
    # Kept (it is on the lock) but without a window: nothing unbounded.
    assert (listed["2"].kind, listed["2"].start, listed["2"].end) == (
        CodeKind.OTHER,
        None,
        None,
    )
    assert listed["2"].code == "5555"
    assert (listed["5"].kind, listed["5"].start) == (CodeKind.OTHER, None)
    assert listed["6"].name == "Guest [2J"
    json.dumps([c.name for c in listed.values()]).encode()  # no lone surrogate
    assert listed["7"].code is None  # not digits
    assert listed["7"].kind is CodeKind.PERMANENT


async def test_ttlock_add_answer_without_keyboard_pwd_id(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """errcode 0 without ``keyboardPwdId``: a ProviderError, never the id "None"."""
    lock_id = ttlock_cloud.add_lock(name="Front", gateway_id=ttlock_cloud.add_gateway())
    original = ttlock_cloud._add_passcode

    def add_without_id(params: dict[str, str]) -> dict[str, Any]:
        original(params)  # the gateway wrote the code...
        return {"errcode": 0, "errmsg": "none error message or means yes"}

    ttlock_cloud._add_passcode = add_without_id  # type: ignore[method-assign]
    client = ttlock_client(ttlock_cloud, session)
    with pytest.raises(InvalidAnswerError) as err:
        await client.async_add_code(str(lock_id), "Guest", "482913", START, END)
    assert isinstance(err.value, ProviderError)
    # ...so the code is there, to be found by the listing.
    assert [c.code for c in await client.async_list_codes(str(lock_id))] == ["482913"]


async def test_ttlock_change_sends_both_dates(
    ttlock_cloud: FakeTTLockCloud, session: aiohttp.ClientSession
) -> None:
    """Only the end moves, but startDate is sent too: without it the cloud says
    errcode 0 and keeps the old validity."""
    lock_id = ttlock_cloud.add_lock(name="Front", gateway_id=ttlock_cloud.add_gateway())
    client = ttlock_client(ttlock_cloud, session)
    added = await client.async_add_code(str(lock_id), "Guest", "482913", START, END)
    later = END + timedelta(days=3)
    await client.async_change_code(
        str(lock_id), added.code_id, name="Guest", start=START, end=later
    )
    stored = ttlock_cloud.passcodes[lock_id][int(added.code_id)]
    assert (stored["startDate"], stored["endDate"]) == (
        START_MS,
        int(later.timestamp() * 1000),
    )


async def test_tuya_listing_with_odd_values(
    tuya_cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    dev = tuya_cloud.add_device(name="Front")
    client = tuya_client(tuya_cloud, session)
    start_s = int(START.timestamp())
    item = {"name": "Guest", "phase": 2, "effective_time": start_s}
    entries = [
        {**item, "id": 1, "invalid_time": start_s + 3600},
        {**item, "id": 2, "invalid_time": 1_200_000_000_000},  # year 40,000 in s
        {**item, "id": 3, "invalid_time": "NaN"},  # wrong type
        {**item, "id": None, "invalid_time": start_s + 3600},
        {**item, "id": 5, "name": "Gast \udc00\n", "invalid_time": start_s + 60},
    ]

    async def listing(p: dict[str, str], q: Any, data: dict[str, Any]) -> web.Response:
        # Serialised by hand: NaN is what a lax server really sends.
        body = json.dumps({"success": True, "result": entries, "t": 1})
        return web.Response(text=body, content_type="application/json")

    tuya_cloud._h_GET_v1_0_devices_id_door_lock_temp_passwords = listing  # type: ignore[method-assign]
    listed = {c.code_id: c for c in await client.async_list_codes(dev)}
    assert set(listed) == {"1", "2", "3", "5"}
    assert listed["1"].end == START + timedelta(hours=1)
    assert (listed["2"].kind, listed["2"].end) == (CodeKind.OTHER, None)
    assert (listed["3"].kind, listed["3"].end) == (CodeKind.OTHER, None)
    assert listed["5"].name == "Gast"
    # A bare NaN is not JSON: the whole answer is refused (docs/validation-wall.md).
    entries[2]["invalid_time"] = float("nan")
    with pytest.raises(TransientError):
        await client.async_list_codes(dev)


async def test_tuya_add_answer_without_id(
    tuya_cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    dev = tuya_cloud.add_device(name="Front")
    client = tuya_client(tuya_cloud, session)
    original = tuya_cloud._h_POST_v1_0_devices_id_door_lock_temp_password

    async def add_without_id(
        p: dict[str, str], q: Any, data: dict[str, Any]
    ) -> web.StreamResponse:
        await original(p, q, data)
        return tuya_cloud._ok({"id": None})

    tuya_cloud._h_POST_v1_0_devices_id_door_lock_temp_password = add_without_id  # type: ignore[method-assign]
    with pytest.raises(InvalidAnswerError):
        await client.async_add_code(dev, "Guest", "1234567", START, END)
    assert len(tuya_cloud.codes[dev]) == 1


async def test_tuya_change_is_delete_and_add(
    tuya_cloud: FakeTuyaCloud, session: aiohttp.ClientSession
) -> None:
    """The Tuya client does not change codes in place (the ledger re-adds)."""
    dev = tuya_cloud.add_device(name="Front")
    client = tuya_client(tuya_cloud, session)
    tuya_cloud.reset_calls()
    with pytest.raises(NotSupportedError):
        await client.async_change_code(dev, "1", name="G", start=START, end=END)
    assert tuya_cloud.total_calls == 0
