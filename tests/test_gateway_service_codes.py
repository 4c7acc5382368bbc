"""Guest codes through the code ledger on a gateway service: the service's own
retries (no second layer of retries), exhaustion, deletes, the leading-zero
rule, the effective window, restarts with a job pending."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ttlock_gateway.const import (
    EVENT_CODE_ADDED,
    EVENT_CODE_DELETED,
    EVENT_CODE_FAILED,
)
from custom_components.ttlock_gateway.providers.gateway_service import (
    GatewayServiceClient,
)
from tests.gateway_service_ha import GatewayHome
from tests.ledger_common import (
    ADD_PATH,
    FRONT,
    RESUME,
    advance,
    at,
    call,
    code_issues,
    listen,
    records,
    reload,
    restart,
    start_call,
    ttlock_pins,
)
from tests.test_ledger_inflight import Point, interrupt

RETRY = timedelta(minutes=20, seconds=1)


def _window() -> dict[str, str]:
    # Seconds on purpose: the service keeps whole minutes.
    return {
        "start": "2026-12-02T10:00:30+00:00",
        "end": "2026-12-05T10:00:30+00:00",
    }


@pytest.fixture(autouse=True)
def _now(freezer: FrozenDateTimeFactory) -> None:
    freezer.move_to("2026-12-02T08:00:00+00:00")


def _client(gw: GatewayHome) -> GatewayServiceClient:
    provider = gw.entry.runtime_data.provider
    assert isinstance(provider, GatewayServiceClient)
    return provider


async def test_code_added_in_time_with_its_effective_window(
    hass: HomeAssistant, gw_home: GatewayHome
) -> None:
    """Added with the code id from the job's data; the answer says the window
    the lock has (whole UTC minutes, widened); one packet code is spent."""
    added = listen(hass, EVENT_CODE_ADDED)
    result = await call(
        hass, "add_code", FRONT, name="Guest", code="4711923", **_window()
    )
    item = result[FRONT]
    assert item["status"] == "added"
    front = int(gw_home.front)
    cloud_codes = gw_home.cloud.passcodes[front]
    assert item["cloud_id"] == str(next(iter(cloud_codes)))
    assert at(item["start"]) == at("2026-12-02T10:00:00+00:00")
    assert at(item["end"]) == at("2026-12-05T10:01:00+00:00")
    assert ttlock_pins(gw_home.cloud, front) == ["4711923"]
    sent = gw_home.service.jobs
    job = next(j for j in sent.values() if j.method == "add_code_to_lock")
    assert (job.params["begin"], job.params["end"]) == (
        "2026-12-02 10:00",
        "2026-12-05 10:01",
    )
    assert len(added) == 1
    await hass.async_block_till_done(wait_background_tasks=True)
    # The packet is read again after the code.
    assert hass.states.get("sensor.owner_example_com_codes_left_in_packet").state == "9"


async def test_leading_zero_refused_before_any_call(
    hass: HomeAssistant, gw_home: GatewayHome
) -> None:
    """The service would store 0123 as 123: refused, translated, nothing sent."""
    before = dict(gw_home.service.calls)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_code", FRONT, name="Guest", code="0123456", **_window())
    assert err.value.translation_key == "code_leading_zero"
    assert dict(gw_home.service.calls) == before
    assert records(hass, gw_home.entry) == []


async def test_generated_codes_never_start_with_zero(
    hass: HomeAssistant, gw_home: GatewayHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A generated code avoids a leading 0 on this service."""
    digits = iter("0" * 50 + "7" + "12345")
    monkeypatch.setattr(
        "custom_components.ttlock_gateway.codes.generate.secrets.choice",
        lambda seq: next(d for d in digits if d in seq),
    )
    result = await call(hass, "add_code", FRONT, name="Guest", **_window())
    assert result[FRONT]["code"] == "712345"
    assert result[FRONT]["status"] == "added"


async def test_service_retries_then_delivers_without_resending(
    hass: HomeAssistant, gw_home: GatewayHome, freezer: FrozenDateTimeFactory
) -> None:
    """First attempt fails (gateway offline): pending, the service retries on
    its 20-minute schedule, the ledger sends nothing itself; the second attempt
    lands and the code is added."""
    added = listen(hass, EVENT_CODE_ADDED)
    gw_home.cloud.fail(ADD_PATH, -3002, "gateway offline")
    result = await call(
        hass, "add_code", FRONT, name="Guest", code="4711923", **_window()
    )
    item = result[FRONT]
    assert item["status"] == "pending_delivery"
    assert "retrying" in item["reason"]
    (record,) = records(hass, gw_home.entry)
    assert record.job is not None
    assert gw_home.service.calls["add_code_to_lock"] == 1
    # The ledger's own retry interval (20 min) passes: no second upload.
    freezer.tick(RETRY)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert gw_home.service.calls["add_code_to_lock"] == 1
    assert added == []
    # The service's own retry.
    await gw_home.service.run_due()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert gw_home.service.calls["add_code_to_lock"] == 1
    assert gw_home.cloud.calls[ADD_PATH] == 2
    (record,) = records(hass, gw_home.entry)
    assert record.job is None
    assert record.cloud_id is not None
    assert len(added) == 1
    listed = await call(hass, "list_codes", FRONT)
    assert [c["status"] for c in listed[FRONT]["codes"]] == ["pending"]


async def test_service_gives_up_after_its_five_attempts(
    hass: HomeAssistant, gw_home: GatewayHome, freezer: FrozenDateTimeFactory
) -> None:
    """Exhausted: failed with the service's reason, a failed event and repair,
    and nothing re-sent by the ledger."""
    failed = listen(hass, EVENT_CODE_FAILED)
    gw_home.cloud.fail(ADD_PATH, -3002, "gateway offline", times=5)
    await call(hass, "add_code", FRONT, name="Guest", code="4711923", **_window())
    for _ in range(4):
        freezer.tick(RETRY)
        await gw_home.service.run_due()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert gw_home.cloud.calls[ADD_PATH] == 5
    (record,) = records(hass, gw_home.entry)
    assert record.failed
    assert record.job is None
    assert "исчерпано" in (record.reason or "")
    assert len(failed) == 1
    assert code_issues(hass)
    assert gw_home.service.calls["add_code_to_lock"] == 1
    listed = await call(hass, "list_codes", FRONT)
    assert [c["status"] for c in listed[FRONT]["codes"]] == ["failed"]


async def test_code_deleted_through_a_job(
    hass: HomeAssistant, gw_home: GatewayHome
) -> None:
    """delete_code_from_lock with the code id the add reported: gone."""
    deleted = listen(hass, EVENT_CODE_DELETED)
    added = await call(
        hass, "add_code", FRONT, name="Guest", code="4711923", **_window()
    )
    code_id = added[FRONT]["code_id"]
    result = await call(hass, "delete_code", FRONT, code_id=code_id)
    assert result[FRONT]["deleted"] == [code_id]
    assert ttlock_pins(gw_home.cloud, int(gw_home.front)) == []
    assert len(deleted) == 1


async def test_late_add_result_after_restart(
    hass: HomeAssistant, gw_home: GatewayHome, freezer: FrozenDateTimeFactory
) -> None:
    """The add's result is held past the wait, Home Assistant restarts; the
    result arriving then still finishes the ledger record."""
    added = listen(hass, EVENT_CODE_ADDED)
    gw_home.service.callback_mode = "hold"
    _client(gw_home).tracker.timeout = 0.05
    task = hass.async_create_task(
        call(hass, "add_code", FRONT, name="Guest", code="4711923", **_window())
    )
    await gw_home.service.wait_for_held(1)
    freezer.tick(timedelta(seconds=1))
    result = await task
    assert result[FRONT]["status"] == "pending_delivery"
    gw_home.service.callback_mode = "deliver"
    await restart(hass, gw_home.entry)
    provider = _client(gw_home)
    assert any(job.method == "add_code_to_lock" for job in provider.tracker.pending)
    await gw_home.service.release_callbacks()
    await hass.async_block_till_done(wait_background_tasks=True)
    (record,) = records(hass, gw_home.entry)
    assert record.cloud_id is not None
    assert record.job is None
    assert len(added) == 1
    assert gw_home.service.calls["add_code_to_lock"] == 1


GATEWAY_ADD_POINTS = [
    Point("intent written", save=1),
    Point("write-ahead before the job", save=2),
]


@pytest.mark.parametrize("how", ["reload", "restart"])
@pytest.mark.parametrize("point", GATEWAY_ADD_POINTS, ids=lambda p: p.label)
async def test_add_interrupted_at_each_await(
    hass: HomeAssistant,
    gw_home: GatewayHome,
    freezer: FrozenDateTimeFactory,
    point: Point,
    how: str,
) -> None:
    """Reload or restart at each await of an add: the code lands once, one
    event, no failure, and the service got one job (its result, if it was
    already running, is taken by the new set-up)."""
    added = listen(hass, EVENT_CODE_ADDED)
    failed = listen(hass, EVENT_CODE_FAILED)
    gate = point.arm(hass, gw_home.entry, gw_home.cloud)
    task = start_call(hass, "add_code", FRONT, name="Guest", code="482913", **_window())
    await interrupt(hass, gw_home.entry, freezer, gate, task, how)
    await gw_home.service.settle()
    await hass.async_block_till_done(wait_background_tasks=True)
    front = int(gw_home.front)
    assert ttlock_pins(gw_home.cloud, front) == ["482913"]
    assert gw_home.service.calls["add_code_to_lock"] == 1
    assert len(added) == 1
    assert failed == []
    (record,) = [r for r in records(hass, gw_home.entry) if not r.tombstone]
    assert record.cloud_id == str(next(iter(gw_home.cloud.passcodes[front])))
    assert record.job is None


@pytest.mark.parametrize("how", ["reload", "restart"])
async def test_add_interrupted_while_waiting_for_the_result(
    hass: HomeAssistant,
    gw_home: GatewayHome,
    freezer: FrozenDateTimeFactory,
    how: str,
) -> None:
    """The job ran, its result is on its way when the entry goes: the new
    set-up takes the result (its job was stored); nothing is sent again."""
    added = listen(hass, EVENT_CODE_ADDED)
    service = gw_home.service
    service.callback_mode = "hold"
    task = start_call(hass, "add_code", FRONT, name="Guest", code="482913", **_window())
    await service.wait_for_held(1)
    service.callback_mode = "deliver"  # the new set-up's lock list answers
    if how == "reload":
        await reload(hass, gw_home.entry)
    else:
        await restart(hass, gw_home.entry)
    assert (await task)[FRONT]["status"] in ("queued", "pending_delivery")
    await service.release_callbacks()
    await hass.async_block_till_done(wait_background_tasks=True)
    await advance(hass, freezer, RESUME)
    await advance(hass, freezer, RETRY)
    front = int(gw_home.front)
    assert ttlock_pins(gw_home.cloud, front) == ["482913"]
    assert service.calls["add_code_to_lock"] == 1
    assert len(added) == 1
    (record,) = records(hass, gw_home.entry)
    assert record.cloud_id == str(next(iter(gw_home.cloud.passcodes[front])))
    assert record.job is None


async def test_delete_while_the_upload_is_pending(
    hass: HomeAssistant, gw_home: GatewayHome, freezer: FrozenDateTimeFactory
) -> None:
    """A cancelled guest whose upload is still a pending job: the delete is
    pending, and when the upload lands it is deleted at once."""
    deleted = listen(hass, EVENT_CODE_DELETED)
    service = gw_home.service
    gw_home.cloud.fail(ADD_PATH, -3002, "gateway offline")
    added = await call(
        hass, "add_code", FRONT, name="Guest", code="4711923", **_window()
    )
    assert added[FRONT]["status"] == "pending_delivery"
    code_id = added[FRONT]["code_id"]
    answer = await call(hass, "delete_code", FRONT, code_id=code_id)
    assert answer[FRONT]["pending_delete"] == [code_id]
    freezer.tick(RETRY)
    await service.run_due()  # the service's retry lands the code...
    await hass.async_block_till_done(wait_background_tasks=True)
    await service.settle()
    await hass.async_block_till_done(wait_background_tasks=True)
    # ...and the ledger deletes it right after.
    assert ttlock_pins(gw_home.cloud, int(gw_home.front)) == []
    assert service.calls["delete_code_from_lock"] == 1
    assert len(deleted) == 1
    (record,) = records(hass, gw_home.entry)
    assert record.tombstone
