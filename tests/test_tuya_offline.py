"""Tuya offline temporary passwords and dynamic passwords, over HTTP on loopback.

The fake (tests/fakes/tuya_offline.py) rounds and fixes windows as Tuya's
"Generate Offline Temporary Password" page says, and plays the lock's keypad.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest

from custom_components.ttlock_gateway.providers.bounds import InvalidAnswerError
from custom_components.ttlock_gateway.providers.models import (
    CodeKind,
    InvalidRequestError,
    NotSupportedError,
    OfflineKind,
    OfflineRules,
    Repeat,
    SubscriptionError,
    TransientError,
)
from custom_components.ttlock_gateway.providers.offline_codes import (
    OfflineCodeError,
    OfflineCodeRequest,
)
from custom_components.ttlock_gateway.providers.tuya import TuyaClient
from custom_components.ttlock_gateway.providers.tuya_offline import TUYA_KINDS
from tests.fakes.tuya_cloud import FakeTuyaCloud

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
CET = timezone(timedelta(hours=1))
ROUTE = "POST /v1.1/devices/{id}/door-lock/offline-temp-password"


def _s(value: datetime) -> int:
    return int(value.timestamp())


@pytest.fixture
async def cloud(socket_enabled: None, freezer: Any) -> AsyncIterator[FakeTuyaCloud]:
    freezer.move_to(NOW)
    fake = FakeTuyaCloud()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def client(cloud: FakeTuyaCloud) -> AsyncIterator[TuyaClient]:
    async with aiohttp.ClientSession() as session:
        yield TuyaClient(
            session,
            access_id=cloud.ACCESS_ID,
            access_secret=cloud.ACCESS_SECRET,
            base_url=cloud.base_url,
            busy_retry_delays=(0, 0),
        )


@pytest.fixture
def device(cloud: FakeTuyaCloud) -> str:
    device_id = cloud.add_device(name="Door", wifi=False, online=False)
    cloud.enable_offline_passwords(device_id)
    return device_id


def _period(start: datetime, end: datetime) -> OfflineCodeRequest:
    return OfflineCodeRequest(OfflineKind.PERIOD, start, end)


async def test_multiple_use_password_for_a_window(
    cloud: FakeTuyaCloud, client: TuyaClient, device: str
) -> None:
    start = datetime(2026, 1, 5, 15, 20, tzinfo=CET)
    end = datetime(2026, 1, 8, 11, 45, tzinfo=CET)
    code = await client.async_add_offline_code(device, "Anna", _period(start, end))
    assert cloud.offline_requests == [
        {
            "type": "multiple",
            "name": "Anna",
            "effective_time": _s(datetime(2026, 1, 5, 15, tzinfo=CET)),
            "invalid_time": _s(datetime(2026, 1, 8, 11, tzinfo=CET)),
        }
    ]
    assert code.kind is CodeKind.PERIOD
    assert code.code is not None
    assert len(code.code) == 10
    assert (code.start, code.end) == (
        datetime(2026, 1, 5, 14, tzinfo=UTC),
        datetime(2026, 1, 8, 10, tzinfo=UTC),
    )
    assert code.offline == OfflineRules(
        first_use_by=datetime(2026, 1, 6, 14, tzinfo=UTC)
    )
    assert code.code_id in cloud.offline_codes[device]
    assert code.start is not None
    assert code.end is not None
    # The lock is offline and has no gateway: it takes the code by itself.
    assert cloud.enter_offline(device, code.code, at=_s(code.start) + 60)
    assert cloud.enter_offline(device, code.code, at=_s(code.start) + 2 * 86400)
    assert not cloud.enter_offline(device, code.code, at=_s(code.end))


async def test_multiple_use_password_lapses_unless_used_within_a_day(
    cloud: FakeTuyaCloud, client: TuyaClient, device: str
) -> None:
    code = await client.async_add_offline_code(
        device, "Late", _period(NOW, NOW + timedelta(days=4))
    )
    assert code.offline is not None
    assert code.offline.first_use_by == datetime(2026, 1, 6, 9, tzinfo=UTC)
    assert code.code is not None
    assert not cloud.enter_offline(device, code.code, at=_s(code.offline.first_use_by))


async def test_one_time_password_starts_now_and_works_once(
    cloud: FakeTuyaCloud, client: TuyaClient, device: str
) -> None:
    code = await client.async_add_offline_code(
        device, "Courier", OfflineCodeRequest(OfflineKind.ONE_TIME, NOW)
    )
    assert cloud.offline_requests[-1] == {"type": "once", "name": "Courier"}
    assert code.kind is CodeKind.ONE_TIME
    assert (code.start, code.end) == (
        datetime(2026, 1, 5, 9, tzinfo=UTC),
        datetime(2026, 1, 5, 15, tzinfo=UTC),
    )
    assert code.offline == OfflineRules(code.end, single_use=True)
    assert code.code is not None
    assert cloud.enter_offline(device, code.code, at=_s(NOW) + 60)
    assert not cloud.enter_offline(device, code.code, at=_s(NOW) + 120)


async def test_clear_all_code_makes_the_lock_forget_its_offline_passwords(
    cloud: FakeTuyaCloud, client: TuyaClient, device: str
) -> None:
    guest = await client.async_add_offline_code(
        device, "Guest", _period(NOW, NOW + timedelta(days=2))
    )
    wipe = await client.async_add_offline_code(
        device, "", OfflineCodeRequest(OfflineKind.CLEAR_ALL, NOW)
    )
    assert cloud.offline_requests[-1] == {"type": "clear_all"}
    assert wipe.kind is CodeKind.CLEAR
    assert wipe.end == datetime(2026, 1, 6, 9, tzinfo=UTC)
    assert wipe.code is not None
    assert guest.code is not None
    assert cloud.offline_accepts(device, guest.code)
    assert cloud.enter_offline(device, wipe.code)
    assert not cloud.offline_accepts(device, guest.code)


async def test_revoke_gives_a_clearing_code_and_the_lock_still_accepts_until_then(
    cloud: FakeTuyaCloud, client: TuyaClient, device: str
) -> None:
    guest = await client.async_add_offline_code(
        device, "Guest", _period(NOW, NOW + timedelta(days=2))
    )
    result = await client.async_revoke_offline_code(
        device, guest.code_id, through_gateway=False, name="Revoke"
    )
    assert cloud.offline_requests[-1] == {
        "type": "clear_one",
        "name": "Revoke",
        "password_id": guest.code_id,
        "effective_time": _s(datetime(2026, 1, 5, 9, tzinfo=UTC)),
        "invalid_time": _s(datetime(2026, 1, 6, 9, tzinfo=UTC)),
    }
    assert not result.cloud_deleted
    assert result.lock_still_accepts
    clear = result.clear_code
    assert clear is not None
    assert clear.kind is CodeKind.CLEAR
    assert clear.offline is not None
    assert clear.offline.single_use
    assert guest.code is not None
    assert clear.code is not None
    assert cloud.offline_accepts(device, guest.code)
    assert cloud.enter_offline(device, clear.code)
    assert not cloud.offline_accepts(device, guest.code)


async def test_revoke_of_an_unknown_password_is_refused(
    cloud: FakeTuyaCloud, client: TuyaClient, device: str
) -> None:
    with pytest.raises(InvalidRequestError, match="password_id"):
        await client.async_revoke_offline_code(device, "404", through_gateway=True)


@pytest.mark.parametrize(
    ("request_", "name", "key"),
    [
        (
            OfflineCodeRequest(OfflineKind.PERMANENT, NOW),
            "",
            "offline_kind_not_supported",
        ),
        (
            OfflineCodeRequest(
                OfflineKind.CYCLIC,
                NOW,
                NOW + timedelta(hours=3),
                repeat=Repeat.DAILY,
            ),
            "",
            "offline_kind_not_supported",
        ),
        (
            OfflineCodeRequest(OfflineKind.ONE_TIME, NOW + timedelta(hours=2)),
            "",
            "offline_start_not_now",
        ),
        (
            OfflineCodeRequest(OfflineKind.CLEAR_ALL, NOW + timedelta(days=1)),
            "",
            "offline_start_not_now",
        ),
        (
            OfflineCodeRequest(OfflineKind.ONE_TIME, NOW),
            "x" * 21,
            "offline_name_too_long",
        ),
        (
            _period(NOW + timedelta(minutes=31), NOW + timedelta(minutes=50)),
            "",
            "offline_window_empty",
        ),
        (
            _period(NOW - timedelta(days=2), NOW + timedelta(days=1)),
            "",
            "offline_first_use_passed",
        ),
        (OfflineCodeRequest(OfflineKind.PERIOD, NOW), "", "offline_end_required"),
    ],
)
async def test_bad_requests_are_refused_before_any_call(
    cloud: FakeTuyaCloud,
    client: TuyaClient,
    device: str,
    request_: OfflineCodeRequest,
    name: str,
    key: str,
) -> None:
    cloud.reset_calls()
    with pytest.raises(OfflineCodeError) as caught:
        await client.async_add_offline_code(device, name, request_)
    assert caught.value.translation_key == key
    assert cloud.total_calls == 0


async def test_lock_without_offline_passwords_is_not_supported(
    cloud: FakeTuyaCloud, client: TuyaClient
) -> None:
    plain = cloud.add_device(name="Plain")
    with pytest.raises(NotSupportedError):
        await client.async_add_offline_code(
            plain, "", OfflineCodeRequest(OfflineKind.ONE_TIME, NOW)
        )
    with pytest.raises(NotSupportedError):
        await client.async_get_dynamic_password(plain)


async def test_capabilities_follow_the_offline_status_codes(
    cloud: FakeTuyaCloud, client: TuyaClient, device: str
) -> None:
    plain = cloud.add_device(name="Plain")
    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}
    assert locks[device].capabilities.offline_codes == TUYA_KINDS
    assert locks[device].capabilities.dynamic_codes
    assert locks[plain].capabilities.offline_codes == ()
    assert not locks[plain].capabilities.dynamic_codes
    assert locks[plain].capabilities.codes_deletable_remotely


async def test_expired_token_and_lapsed_plan(
    cloud: FakeTuyaCloud, client: TuyaClient, device: str
) -> None:
    await client.async_login()
    cloud.revoke_tokens()
    code = await client.async_add_offline_code(
        device, "", OfflineCodeRequest(OfflineKind.ONE_TIME, NOW)
    )
    assert code.code
    assert cloud.calls[ROUTE] == 2
    cloud.lapse_plan()
    with pytest.raises(SubscriptionError):
        await client.async_add_offline_code(
            device, "", OfflineCodeRequest(OfflineKind.ONE_TIME, NOW)
        )


# ------------------------------------------------------------ odd answers


def _replace(**fields: Any) -> Any:
    def rewrite(result: dict[str, Any]) -> dict[str, Any]:
        out = {**result, **fields}
        return {k: v for k, v in out.items() if v is not _DROP}

    return rewrite


_DROP = object()


@pytest.mark.parametrize(
    "rewrite",
    [
        _replace(offline_temp_password=_DROP),
        _replace(offline_temp_password=1234567890),
        _replace(offline_temp_password=""),
        _replace(offline_temp_password="12 34"),
        _replace(offline_temp_password="1" * 17),
        _replace(offline_temp_password_id=_DROP),
        _replace(offline_temp_password_id=None),
        _replace(effective_time=1_200_000_000_000),  # year 40,000 in seconds
        _replace(invalid_time="tomorrow"),
        _replace(invalid_time=_s(NOW) - 7200),  # ends before it starts
        lambda _result: ["1234567890"],
        lambda _result: None,
    ],
)
async def test_odd_answers_are_refused(
    cloud: FakeTuyaCloud, client: TuyaClient, device: str, rewrite: Any
) -> None:
    cloud.offline_answer = rewrite
    with pytest.raises(InvalidAnswerError):
        await client.async_add_offline_code(
            device, "", OfflineCodeRequest(OfflineKind.ONE_TIME, NOW)
        )


async def test_nan_in_an_answer_is_refused_whole(
    cloud: FakeTuyaCloud, client: TuyaClient, device: str
) -> None:
    """NaN is not JSON: the strict parser refuses the whole answer (transient)."""
    cloud.offline_answer = _replace(invalid_time=float("nan"))
    with pytest.raises(TransientError):
        await client.async_add_offline_code(
            device, "", OfflineCodeRequest(OfflineKind.ONE_TIME, NOW)
        )


async def test_answer_without_times_keeps_the_documented_window(
    cloud: FakeTuyaCloud, client: TuyaClient, device: str
) -> None:
    cloud.offline_answer = _replace(effective_time=_DROP, invalid_time=_DROP)
    code = await client.async_add_offline_code(
        device, "", OfflineCodeRequest(OfflineKind.ONE_TIME, NOW)
    )
    assert (code.start, code.end) == (
        datetime(2026, 1, 5, 9, tzinfo=UTC),
        datetime(2026, 1, 5, 15, tzinfo=UTC),
    )


async def test_the_clouds_own_window_wins(
    cloud: FakeTuyaCloud, client: TuyaClient, device: str
) -> None:
    cloud.offline_answer = _replace(
        effective_time=_s(NOW) + 3600, invalid_time=_s(NOW) + 5 * 86400
    )
    code = await client.async_add_offline_code(
        device, "", _period(NOW, NOW + timedelta(days=1))
    )
    assert code.start == NOW + timedelta(hours=1)
    assert code.offline == OfflineRules(NOW + timedelta(hours=25))


# ------------------------------------------------------------- dynamic


async def test_dynamic_password(
    cloud: FakeTuyaCloud, client: TuyaClient, device: str
) -> None:
    digits, expires = await client.async_get_dynamic_password(device)
    assert len(digits) == 8
    assert digits.isdigit()
    assert expires == NOW + timedelta(minutes=5)
    assert cloud.offline_accepts(device, digits)
    assert cloud.offline_accepts(device, digits, at=_s(NOW) + 299)
    assert not cloud.offline_accepts(device, digits, at=_s(NOW) + 300)


async def test_dynamic_code_shape(
    cloud: FakeTuyaCloud, client: TuyaClient, device: str
) -> None:
    """The ``LockProvider`` shape (``DynamicCode``) of the same password."""
    dynamic = await client.async_get_dynamic_code(device)
    assert dynamic.code.isdigit()
    assert dynamic.expires == NOW + timedelta(minutes=5)
    assert cloud.offline_accepts(device, dynamic.code)


@pytest.mark.parametrize("result", [{"dynamic_password": 12345678}, {}, [], "x"])
async def test_odd_dynamic_answers_are_refused(
    cloud: FakeTuyaCloud, client: TuyaClient, device: str, result: Any
) -> None:
    cloud.offline_answer = lambda _answer: result
    with pytest.raises(InvalidAnswerError):
        await client.async_get_dynamic_password(device)
