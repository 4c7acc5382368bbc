"""TTLock random passcodes (offline codes) against the fake cloud over HTTP.

The fake models the documented rules (tests/fakes/ttlock_random_codes.py) and
the lock's side: ``enter_code`` types a code on the keypad.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest

from custom_components.ttlock_gateway.providers.bounds import InvalidAnswerError
from custom_components.ttlock_gateway.providers.models import (
    AuthError,
    CannotConnectError,
    CodeKind,
    CodePhase,
    InvalidRequestError,
    LockProvider,
    NotSupportedError,
    OfflineKind,
    OfflineRules,
    RateLimitError,
    Repeat,
    TransientError,
)
from custom_components.ttlock_gateway.providers.offline_codes import (
    OfflineCodeError,
    OfflineCodeRequest,
)
from custom_components.ttlock_gateway.providers.ttlock import TTLockClient, md5_password
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.ttlock_random_codes import BIT_CYCLIC, later, ms

# Monday 5 January 2026, 09:30 UTC; the fake locks run on UTC+1.
NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
CET = timezone(timedelta(hours=1))


@pytest.fixture
async def cloud(socket_enabled: None, freezer: Any) -> AsyncIterator[FakeTTLockCloud]:
    freezer.move_to(NOW)
    fake = FakeTTLockCloud()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def client(cloud: FakeTTLockCloud) -> AsyncIterator[TTLockClient]:
    async with aiohttp.ClientSession() as session:
        yield TTLockClient(
            session,
            client_id=cloud.CLIENT_ID,
            client_secret=cloud.CLIENT_SECRET,
            username=cloud.USERNAME,
            password_md5=md5_password(cloud.PASSWORD),
            base_url=cloud.base_url,
            busy_retry_delays=(0, 0, 0),
        )


@pytest.fixture
def lock_id(cloud: FakeTTLockCloud) -> int:
    """A lock without any gateway: only offline codes reach it."""
    return cloud.add_lock(name="Cabin")


def _period(start: datetime, end: datetime) -> OfflineCodeRequest:
    return OfflineCodeRequest(OfflineKind.PERIOD, start, end)


# ------------------------------------------------------------ each type


@pytest.mark.parametrize(
    ("request_", "fields"),
    [
        (
            OfflineCodeRequest(
                OfflineKind.ONE_TIME, datetime(2026, 1, 5, 10, 40, tzinfo=CET)
            ),
            {
                "keyboardPwdType": "1",
                "startDate": str(ms(datetime(2026, 1, 5, 9, tzinfo=UTC))),
            },
        ),
        (
            OfflineCodeRequest(
                OfflineKind.PERMANENT, datetime(2026, 1, 5, 12, 5, tzinfo=CET)
            ),
            {
                "keyboardPwdType": "2",
                "startDate": str(ms(datetime(2026, 1, 5, 11, tzinfo=UTC))),
            },
        ),
        (
            _period(
                datetime(2026, 1, 5, 15, 20, tzinfo=CET),
                datetime(2026, 1, 8, 11, 45, tzinfo=CET),
            ),
            {
                "keyboardPwdType": "3",
                "startDate": str(ms(datetime(2026, 1, 5, 14, tzinfo=UTC))),
                "endDate": str(ms(datetime(2026, 1, 8, 10, tzinfo=UTC))),
            },
        ),
        (
            OfflineCodeRequest(
                OfflineKind.CLEAR_ALL, datetime(2026, 1, 5, 10, 30, tzinfo=CET)
            ),
            {
                "keyboardPwdType": "4",
                "startDate": str(ms(datetime(2026, 1, 5, 9, tzinfo=UTC))),
            },
        ),
        (
            OfflineCodeRequest(
                OfflineKind.CYCLIC,
                datetime(2026, 1, 5, 8, 30, tzinfo=CET),  # Monday: next Saturday
                datetime(2026, 1, 11, 17, 30, tzinfo=CET),
                repeat=Repeat.WEEKEND,
            ),
            {
                "keyboardPwdType": "5",
                "startDate": str(ms(datetime(2026, 1, 10, 8, tzinfo=CET))),
                "endDate": str(ms(datetime(2026, 1, 10, 17, tzinfo=CET))),
            },
        ),
    ],
)
async def test_each_type_sends_the_documented_fields(
    cloud: FakeTTLockCloud,
    client: TTLockClient,
    lock_id: int,
    request_: OfflineCodeRequest,
    fields: dict[str, str],
) -> None:
    cloud.set_feature(lock_id, BIT_CYCLIC, True)
    code = await client.async_get_random_code(str(lock_id), "Guest", request_)
    sent = cloud.random_requests[-1]
    date = sent.pop("date")
    assert abs(int(date) - ms(NOW)) < 1000
    assert sent == {"lockId": str(lock_id), "keyboardPwdName": "Guest", **fields}
    # The window the client reports is the one the cloud stored.
    stored = cloud.passcodes[lock_id][int(code.code_id)]
    assert code.start is not None
    assert ms(code.start) == stored["startDate"]
    assert stored["keyboardPwd"] == code.code
    assert stored["isCustom"] == 0
    assert code.offline is not None
    assert code.phase is CodePhase.DELIVERED
    assert code.lock_id == str(lock_id)
    assert cloud.calls["/v3/keyboardPwd/get"] == 1


async def test_period_code_opens_the_lock_without_a_gateway(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    start = datetime(2026, 1, 5, 15, 20, tzinfo=CET)
    end = datetime(2026, 1, 8, 11, 45, tzinfo=CET)
    code = await client.async_get_random_code(str(lock_id), "Anna", _period(start, end))
    assert code.kind is CodeKind.PERIOD
    assert code.code is not None
    assert code.code.isdigit()
    assert 6 <= len(code.code) <= 9
    assert (code.start, code.end) == (
        datetime(2026, 1, 5, 14, tzinfo=UTC),
        datetime(2026, 1, 8, 10, tzinfo=UTC),
    )
    assert code.offline == OfflineRules(
        first_use_by=datetime(2026, 1, 6, 14, tzinfo=UTC)
    )
    assert code.end is not None
    assert cloud.passcodes[lock_id][int(code.code_id)]["endDate"] == ms(code.end)
    # The cloud rounds 15:20 down: at 15:10 the lock already takes it.
    assert cloud.enter_code(
        lock_id, code.code, at_ms=ms(datetime(2026, 1, 5, 15, 10, tzinfo=CET))
    )
    assert not cloud.enter_code(lock_id, code.code, at_ms=ms(code.end))
    records = cloud.records[lock_id]
    assert [r["success"] for r in records] == [1, 0]
    assert records[0]["keyboardPwd"] == code.code


async def test_code_not_entered_within_24_hours_is_suspended(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    start = datetime(2026, 1, 5, 12, tzinfo=UTC)
    code = await client.async_get_random_code(
        str(lock_id), "Late", _period(start, start + timedelta(days=5))
    )
    assert code.offline is not None
    assert code.offline.first_use_by is not None
    assert code.code is not None
    deadline = ms(code.offline.first_use_by)
    assert cloud.lock_accepts(lock_id, code.code, at_ms=deadline - 1)
    assert not cloud.enter_code(lock_id, code.code, at_ms=deadline)
    # Entered in time, it keeps working after the 24 hours.
    other = await client.async_get_random_code(
        str(lock_id), "Early", _period(start, start + timedelta(days=4))
    )
    assert other.code is not None
    assert cloud.enter_code(lock_id, other.code, at_ms=later(ms(start), hours=2))
    assert cloud.enter_code(lock_id, other.code, at_ms=later(ms(start), days=3))


async def test_one_time_code_works_once_within_six_hours(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    code = await client.async_get_random_code(
        str(lock_id), "Courier", OfflineCodeRequest(OfflineKind.ONE_TIME, NOW)
    )
    assert code.kind is CodeKind.ONE_TIME
    assert code.end == datetime(2026, 1, 5, 15, tzinfo=UTC)
    assert code.offline == OfflineRules(code.end, single_use=True)
    assert code.code is not None
    assert cloud.enter_code(lock_id, code.code, at_ms=later(ms(NOW), hours=1))
    assert not cloud.enter_code(lock_id, code.code, at_ms=later(ms(NOW), hours=2))


async def test_cyclic_code_needs_the_lock_feature(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    request = OfflineCodeRequest(
        OfflineKind.CYCLIC,
        datetime(2026, 1, 5, 8, tzinfo=CET),
        datetime(2026, 1, 5, 18, tzinfo=CET),
        repeat=Repeat.WORKDAY,
    )
    with pytest.raises(NotSupportedError) as caught:
        await client.async_get_random_code(str(lock_id), "Cleaner", request)
    assert caught.value.code == -4043
    cloud.set_feature(lock_id, BIT_CYCLIC, True)
    code = await client.async_get_random_code(str(lock_id), "Cleaner", request)
    assert code.kind is CodeKind.CYCLIC
    assert code.offline is not None
    assert code.offline.repeat is Repeat.WORKDAY
    assert code.code is not None
    # Monday 9:00 and Tuesday 17:30 (CET) are inside; Saturday and 18:00 are not.
    assert cloud.enter_code(
        lock_id, code.code, at_ms=ms(datetime(2026, 1, 5, 9, tzinfo=CET))
    )
    assert cloud.enter_code(
        lock_id, code.code, at_ms=ms(datetime(2026, 1, 6, 17, 30, tzinfo=CET))
    )
    assert not cloud.lock_accepts(
        lock_id, code.code, at_ms=ms(datetime(2026, 1, 6, 18, tzinfo=CET))
    )
    assert not cloud.lock_accepts(
        lock_id, code.code, at_ms=ms(datetime(2026, 1, 10, 9, tzinfo=CET))
    )


async def test_delete_code_makes_the_lock_forget_every_code(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    guest = await client.async_get_random_code(
        str(lock_id), "Guest", _period(NOW, NOW + timedelta(days=3))
    )
    wipe = await client.async_get_random_code(
        str(lock_id), "Wipe", OfflineCodeRequest(OfflineKind.CLEAR_ALL, NOW)
    )
    assert wipe.kind is CodeKind.CLEAR
    assert wipe.offline is not None
    assert wipe.offline.single_use
    assert guest.code is not None
    assert wipe.code is not None
    assert cloud.lock_accepts(lock_id, guest.code)
    assert cloud.enter_code(lock_id, wipe.code)
    assert not cloud.lock_accepts(lock_id, guest.code)


async def test_name_is_optional_and_kept(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    code = await client.async_add_offline_code(
        str(lock_id), "", OfflineCodeRequest(OfflineKind.PERMANENT, NOW)
    )
    assert "keyboardPwdName" not in cloud.random_requests[-1]
    assert code.name == ""
    named = await client.async_add_offline_code(
        str(lock_id), "Zoë 👋", OfflineCodeRequest(OfflineKind.PERMANENT, NOW)
    )
    assert cloud.passcodes[lock_id][int(named.code_id)]["keyboardPwdName"] == "Zoë 👋"


async def test_leading_zero_digits_arrive_as_typed(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    cloud.next_digits = ["0012345"]
    code = await client.async_get_random_code(
        str(lock_id), "Zero", OfflineCodeRequest(OfflineKind.PERMANENT, NOW)
    )
    assert code.code == "0012345"


# --------------------------------------------------- refused before a call


@pytest.mark.parametrize(
    ("request_", "name", "key"),
    [
        (
            _period(NOW, NOW.replace(year=2027) + timedelta(hours=1)),
            "Guest",
            "offline_window_too_long",
        ),
        (
            _period(NOW - timedelta(days=2), NOW + timedelta(days=2)),
            "Guest",
            "offline_first_use_passed",
        ),
        (
            OfflineCodeRequest(
                OfflineKind.CYCLIC,
                datetime(2026, 1, 6, 9, tzinfo=UTC),
                datetime(2026, 1, 8, 17, tzinfo=UTC),
                repeat=Repeat.MONDAY,
            ),
            "Guest",
            "offline_cyclic_no_matching_day",
        ),
        (
            _period(datetime(2026, 1, 6, 9), datetime(2026, 1, 7, 9)),
            "Guest",
            "offline_naive_time",
        ),
        (_period(NOW, NOW.replace(year=2201)), "Guest", "offline_date_out_of_range"),
        (
            OfflineCodeRequest(OfflineKind.PERMANENT, NOW),
            "Bad\x00name",
            "offline_name_invalid",
        ),
        (
            OfflineCodeRequest(OfflineKind.PERMANENT, NOW),
            "x" * 257,
            "offline_name_too_long",
        ),
        (
            OfflineCodeRequest(OfflineKind.CLEAR_ONE, NOW, target_code_id="1"),
            "Guest",
            "offline_kind_not_supported",
        ),
    ],
)
async def test_bad_requests_are_refused_before_any_call(
    cloud: FakeTTLockCloud,
    client: TTLockClient,
    lock_id: int,
    request_: OfflineCodeRequest,
    name: str,
    key: str,
) -> None:
    cloud.reset_calls()
    with pytest.raises(OfflineCodeError) as caught:
        await client.async_get_random_code(str(lock_id), name, request_)
    assert caught.value.translation_key == key
    assert isinstance(caught.value, InvalidRequestError)
    assert cloud.total_calls == 0
    assert cloud.passcodes[lock_id] == {}


# ---------------------------------------------------------- cloud errors


async def test_lock_without_passcode_data_is_not_supported(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    cloud.no_passcode_data.add(lock_id)
    with pytest.raises(NotSupportedError) as caught:
        await client.async_get_random_code(
            str(lock_id), "Guest", OfflineCodeRequest(OfflineKind.PERMANENT, NOW)
        )
    assert caught.value.code == -1007


async def test_same_window_twice_is_refused_by_the_cloud(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    request = _period(NOW, NOW + timedelta(days=2))
    first = await client.async_get_random_code(str(lock_id), "A", request)
    await client.async_revoke_offline_code(
        str(lock_id), first.code_id, through_gateway=False
    )
    # Even after a delete (wiki.beds24.com TTLock): a later hour works.
    cloud.reset_calls()
    with pytest.raises(OfflineCodeError) as caught:
        await client.async_get_random_code(str(lock_id), "B", request)
    assert caught.value.code == -3
    assert caught.value.translation_key == "offline_window_taken"
    assert caught.value.translation_placeholders == {
        "start": "2026-01-05T09:00:00+00:00",
        "end": "2026-01-07T09:00:00+00:00",
    }
    # It looked for a code of its own with that window first.
    assert cloud.calls["/v3/lock/listKeyboardPwd"] == 1
    moved = _period(NOW, NOW + timedelta(days=2, hours=1))
    assert (await client.async_get_random_code(str(lock_id), "B", moved)).code


async def test_permanent_pool_per_start_hour_runs_out(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    request = OfflineCodeRequest(OfflineKind.PERMANENT, NOW)
    codes = {
        (await client.async_get_random_code(str(lock_id), f"P{n}", request)).code
        for n in range(20)
    }
    assert len(codes) == 20
    with pytest.raises(InvalidRequestError):
        await client.async_get_random_code(str(lock_id), "P21", request)


@pytest.mark.parametrize(
    ("errcode", "error"),
    [
        (-3, InvalidRequestError),
        (90000, TransientError),
        (30006, RateLimitError),
        (10007, AuthError),
        (-1003, InvalidRequestError),
    ],
)
async def test_cloud_errors_map_to_provider_errors(
    cloud: FakeTTLockCloud,
    client: TTLockClient,
    lock_id: int,
    errcode: int,
    error: type[Exception],
) -> None:
    cloud.fail("/v3/keyboardPwd/get", errcode)
    with pytest.raises(error):
        await client.async_get_random_code(
            str(lock_id), "Guest", OfflineCodeRequest(OfflineKind.PERMANENT, NOW)
        )
    assert cloud.passcodes[lock_id] == {}


async def test_token_revoked_mid_run_is_renewed_once(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    await client.async_login()
    cloud.revoke_tokens()
    cloud.reset_calls()
    code = await client.async_get_random_code(
        str(lock_id), "Guest", OfflineCodeRequest(OfflineKind.PERMANENT, NOW)
    )
    assert code.code
    assert cloud.calls["/v3/keyboardPwd/get"] == 2
    assert cloud.calls["/oauth2/token"] == 1


@pytest.mark.parametrize("mode", ["http500", "disconnect"])
async def test_cloud_unreachable(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int, mode: str
) -> None:
    await client.async_login()
    cloud.set_outage(mode)
    with pytest.raises(CannotConnectError):
        await client.async_get_random_code(
            str(lock_id), "Guest", OfflineCodeRequest(OfflineKind.PERMANENT, NOW)
        )
    cloud.set_outage(None)
    assert cloud.passcodes[lock_id] == {}


# ----------------------------------------------------------- odd answers


@pytest.mark.parametrize(
    "answer",
    [
        {"keyboardPwdId": 7},
        {"keyboardPwd": 12345678, "keyboardPwdId": 7},
        {"keyboardPwd": "12345", "keyboardPwdId": 7},
        {"keyboardPwd": "1234567890", "keyboardPwdId": 7},
        {"keyboardPwd": "١٢٣٤٥٦٧", "keyboardPwdId": 7},
        {"keyboardPwd": "123 4567", "keyboardPwdId": 7},
        {"keyboardPwd": None, "keyboardPwdId": 7},
        {"keyboardPwd": ["1234567"], "keyboardPwdId": 7},
        {"keyboardPwd": "1234567"},
        {"keyboardPwd": "1234567", "keyboardPwdId": True},
        {"keyboardPwd": "1234567", "keyboardPwdId": ""},
        {"keyboardPwd": "1234567", "keyboardPwdId": "x" * 500},
        {"keyboardPwd": "1234567", "keyboardPwdId": "7\n8"},
    ],
)
async def test_odd_answers_are_refused(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int, answer: dict[str, Any]
) -> None:
    cloud.random_answer = lambda _: answer
    with pytest.raises(InvalidAnswerError):
        await client.async_get_random_code(
            str(lock_id), "Guest", OfflineCodeRequest(OfflineKind.PERMANENT, NOW)
        )


async def test_non_object_answer_is_refused(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    cloud.random_answer = lambda _: ["1234567"]
    with pytest.raises(TransientError):
        await client.async_get_random_code(
            str(lock_id), "Guest", OfflineCodeRequest(OfflineKind.PERMANENT, NOW)
        )


async def test_extra_answer_fields_do_not_change_the_window(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    """The answer has no dates; stray ones (year 40,000) are ignored."""

    def odd(answer: dict[str, Any]) -> dict[str, Any]:
        return {
            **answer,
            "keyboardPwdId": str(answer["keyboardPwdId"]),
            "startDate": 1_200_000_000_000_000,
            "endDate": "NaN",
        }

    cloud.random_answer = odd
    start = datetime(2026, 1, 6, 10, tzinfo=UTC)
    code = await client.async_get_random_code(
        str(lock_id), "Guest", _period(start, start + timedelta(days=1))
    )
    assert (code.start, code.end) == (start, start + timedelta(days=1))


# ----------------------------------------------------------------- delete


async def test_revoke_without_gateway_marks_it_deleted_but_the_lock_still_opens(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    code = await client.async_get_random_code(
        str(lock_id), "Guest", _period(NOW, NOW + timedelta(days=3))
    )
    assert code.code is not None
    result = await client.async_revoke_offline_code(
        str(lock_id), code.code_id, through_gateway=False
    )
    assert result.code_id == code.code_id
    assert result.cloud_deleted
    assert not result.lock_deleted
    assert result.lock_still_accepts
    assert result.clear_code is None
    assert [r["deleteType"] for r in cloud.delete_requests] == ["1"]
    assert int(code.code_id) not in cloud.passcodes[lock_id]
    assert cloud.enter_code(lock_id, code.code, at_ms=later(ms(NOW), hours=1))


async def test_revoke_through_gateway_removes_a_used_code_from_the_lock(
    cloud: FakeTTLockCloud, client: TTLockClient
) -> None:
    gateway = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gateway)
    code = await client.async_get_random_code(
        str(lock_id), "Guest", _period(NOW, NOW + timedelta(days=3))
    )
    assert code.code is not None
    assert cloud.enter_code(lock_id, code.code, at_ms=later(ms(NOW), hours=1))
    result = await client.async_revoke_offline_code(
        str(lock_id), code.code_id, through_gateway=True
    )
    assert result.cloud_deleted
    assert result.lock_deleted
    assert not result.lock_still_accepts
    assert [r["deleteType"] for r in cloud.delete_requests] == ["2"]
    assert not cloud.lock_accepts(lock_id, code.code, at_ms=later(ms(NOW), hours=2))


async def test_revoke_of_a_code_never_entered_falls_back_to_the_cloud(
    cloud: FakeTTLockCloud, client: TTLockClient
) -> None:
    gateway = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gateway)
    code = await client.async_get_random_code(
        str(lock_id), "Guest", _period(NOW, NOW + timedelta(days=3))
    )
    assert code.code is not None
    result = await client.async_revoke_offline_code(
        str(lock_id), code.code_id, through_gateway=True
    )
    assert result.cloud_deleted
    assert not result.lock_deleted
    assert [r["deleteType"] for r in cloud.delete_requests] == ["2", "1"]
    assert int(code.code_id) not in cloud.passcodes[lock_id]
    assert cloud.lock_accepts(lock_id, code.code, at_ms=later(ms(NOW), hours=1))


async def test_revoke_through_an_offline_gateway_changes_nothing(
    cloud: FakeTTLockCloud, client: TTLockClient
) -> None:
    gateway = cloud.add_gateway(online=False)
    lock_id = cloud.add_lock(name="Front", gateway_id=gateway)
    code = await client.async_get_random_code(
        str(lock_id), "Guest", _period(NOW, NOW + timedelta(days=3))
    )
    with pytest.raises(TransientError) as caught:
        await client.async_revoke_offline_code(
            str(lock_id), code.code_id, through_gateway=True
        )
    assert caught.value.code == -3002
    assert int(code.code_id) in cloud.passcodes[lock_id]


async def test_revoke_errors_other_than_unused_are_raised(
    cloud: FakeTTLockCloud, client: TTLockClient
) -> None:
    gateway = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gateway)
    cloud.fail("/v3/keyboardPwd/delete", -1007)
    with pytest.raises(InvalidRequestError):
        await client.async_revoke_offline_code(str(lock_id), "5", through_gateway=True)
    assert len(cloud.delete_requests) == 0  # the injected fault answered first


# ------------------------------------------------------- capabilities


async def test_capabilities_offer_offline_codes_without_a_gateway(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    gateway = cloud.add_gateway()
    reachable = cloud.add_lock(name="Front", gateway_id=gateway)
    cloud.set_feature(reachable, BIT_CYCLIC, True)
    no_keypad = cloud.add_lock(name="Garage")
    cloud.set_feature(no_keypad, 0, False)
    locks = {lock.name: lock for lock in await client.async_list_locks()}

    cabin = locks["Cabin"].capabilities
    assert not cabin.codes
    assert not cabin.custom_codes
    assert not cabin.codes_deletable_remotely
    assert set(cabin.offline_codes) == {
        OfflineKind.ONE_TIME,
        OfflineKind.PERIOD,
        OfflineKind.PERMANENT,
        OfflineKind.CLEAR_ALL,
    }
    front = locks["Front"].capabilities
    assert front.custom_codes
    assert front.codes_deletable_remotely
    assert OfflineKind.CYCLIC in front.offline_codes
    assert locks["Garage"].capabilities.offline_codes == ()


async def test_protocol_defaults_raise_not_supported() -> None:
    class Bare(LockProvider):
        provider = "bare"
        max_concurrency = 1

    bare: Any = Bare()  # type: ignore[abstract]
    with pytest.raises(NotSupportedError):
        await bare.async_add_offline_code(
            "1", "x", OfflineCodeRequest(OfflineKind.PERMANENT, NOW)
        )
    with pytest.raises(NotSupportedError):
        await bare.async_revoke_offline_code("1", "2", through_gateway=False)


# ----------------------------------------------------------------- faults


async def test_lost_answer_is_recovered_on_retry(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    """The cloud made the code but the answer never came: the retry adopts it
    instead of failing on the window it now holds."""
    request = _period(NOW, NOW + timedelta(days=2))
    cloud.fail_after_create = 1
    with pytest.raises(TransientError):
        await client.async_get_random_code(str(lock_id), "Guest", request)
    (made,) = cloud.passcodes[lock_id].values()
    code = await client.async_get_random_code(str(lock_id), "Guest", request)
    assert code.code_id == str(made["keyboardPwdId"])
    assert code.code == made["keyboardPwd"]
    assert (code.start, code.end) == (
        datetime(2026, 1, 5, 9, tzinfo=UTC),
        datetime(2026, 1, 7, 9, tzinfo=UTC),
    )
    assert code.offline is not None
    assert len(cloud.passcodes[lock_id]) == 1


async def test_someone_elses_code_in_the_window_is_not_adopted(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    request = _period(NOW, NOW + timedelta(days=2))
    await client.async_get_random_code(str(lock_id), "Anna", request)
    with pytest.raises(OfflineCodeError) as caught:
        await client.async_get_random_code(str(lock_id), "Bert", request)
    assert caught.value.translation_key == "offline_window_taken"


async def test_cancelled_mid_call_then_retried(
    cloud: FakeTTLockCloud, client: TTLockClient, lock_id: int
) -> None:
    """A reload cancels the call while the cloud works on it; the cloud still
    makes the code; the next attempt finds it."""
    await client.async_login()
    arrived, release, created = asyncio.Event(), asyncio.Event(), asyncio.Event()
    passthrough = cloud._sleep
    original = cloud._random_code_get

    async def held(delay: float) -> None:
        if not arrived.is_set():
            arrived.set()
            await release.wait()
            return
        await passthrough(delay)

    def made(params: dict[str, str]) -> Any:
        try:
            return original(params)
        finally:
            created.set()

    cloud._sleep = held  # type: ignore[method-assign]
    cloud._random_code_get = made  # type: ignore[method-assign]
    request = _period(NOW, NOW + timedelta(days=1))
    task = asyncio.create_task(client.async_get_random_code(str(lock_id), "G", request))
    await arrived.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    await created.wait()
    assert len(cloud.passcodes[lock_id]) == 1
    code = await client.async_get_random_code(str(lock_id), "G", request)
    assert code.code_id == str(next(iter(cloud.passcodes[lock_id])))


async def test_revoke_cancelled_mid_call_frees_the_lock(
    cloud: FakeTTLockCloud, client: TTLockClient
) -> None:
    gateway = cloud.add_gateway()
    lock_id = cloud.add_lock(name="Front", gateway_id=gateway)
    code = await client.async_get_random_code(
        str(lock_id), "Guest", _period(NOW, NOW + timedelta(days=3))
    )
    arrived, release = asyncio.Event(), asyncio.Event()
    passthrough = cloud._sleep

    async def held(delay: float) -> None:
        if not arrived.is_set():
            arrived.set()
            await release.wait()
            return
        await passthrough(delay)

    cloud._sleep = held  # type: ignore[method-assign]
    task = asyncio.create_task(
        client.async_revoke_offline_code(
            str(lock_id), code.code_id, through_gateway=True
        )
    )
    await arrived.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    result = await client.async_revoke_offline_code(
        str(lock_id), code.code_id, through_gateway=False
    )
    assert result.cloud_deleted
    assert not result.lock_deleted
