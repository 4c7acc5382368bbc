"""The ledger follows the cloud's code phases (seed 001 temp-password phase table).

Tuya accepts a code or a delete and carries it to the lock later: the listing's
``phase`` says when (Wi-Fi 1 to be sent, 2 sent, 3 to be deleted; Zigbee 1 to be
created, 2 normal, 5 failed; ``mk`` revoked codes stay listed as 17/19). A
service answer and ``list_codes`` say what is true on the lock, not what the
cloud accepted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import logging
from typing import Any
from urllib.parse import quote

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ttlock_gateway.const import (
    CONF_CLEANUP_ALL,
    CONF_RETRY_ATTEMPTS,
    EVENT_CODE_ADDED,
    EVENT_CODE_DELETED,
    EVENT_CODE_DELIVERED,
    EVENT_CODE_FAILED,
)
from custom_components.ttlock_gateway.providers.models import (
    CodeKind,
    CodePhase,
    Passcode,
)
from tests.common import TTLOCK_WEBHOOK_ID, setup_entry, ttlock_data, tuya_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud
from tests.ledger_common import (
    ADD_PATH,
    DELETE_PATH,
    RESUME,
    RETRY,
    TUYA_ADD,
    TUYA_DELETE,
    TUYA_LIST,
    advance,
    call,
    code_issues,
    ledger_of,
    listen,
    records,
    reload,
    restart,
    start_call,
    tuya_lock_entity,
    window,
)

ClientFactory = Callable[[], Awaitable[TestClient]]

# The first look at a code the cloud holds for the lock (WATCH_FIRST), and
# comfortably past the next ones (doubling).
WATCH = timedelta(minutes=1, seconds=1)


def _status(answer: dict, entity_id: str) -> list[str]:
    return [c["status"] for c in answer[entity_id]["codes"]]


async def _list(hass: HomeAssistant, entity_id: str) -> dict:
    return await call(hass, "list_codes", entity_id)


# ----------------------------------------------------------------- pending


async def test_pending_code_is_pending_delivery_until_the_lock_has_it(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    """A sleepy Zigbee lock: phase 1 until it wakes. The answer says the cloud
    accepted it, not that the lock has it; no re-upload while it waits."""
    device = tuya_cloud.add_device(name="Flat door", wifi=False, protocol="zigbee")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    added_events = listen(hass, EVENT_CODE_ADDED)
    delivered = listen(hass, EVENT_CODE_DELIVERED)

    answer = await call(hass, "add_code", entity_id, name="Guest", **window(-1))
    assert answer[entity_id]["status"] == "added"
    assert answer[entity_id]["delivered"] is False
    assert [e.data["delivered"] for e in added_events] == [False]
    assert _status(await _list(hass, entity_id), entity_id) == ["pending_delivery"]

    # Watched (listed again, later and later), never uploaded a second time.
    for _ in range(4):
        await advance(hass, freezer, RETRY)
    assert tuya_cloud.calls[TUYA_ADD] == 1
    assert tuya_cloud.calls[TUYA_LIST] >= 3
    assert delivered == []
    assert _status(await _list(hass, entity_id), entity_id) == ["pending_delivery"]

    tuya_cloud.deliver_pending(device)
    await advance(hass, freezer, timedelta(hours=6, seconds=1))
    assert [e.data["code_id"] for e in delivered] == [answer[entity_id]["code_id"]]
    assert _status(await _list(hass, entity_id), entity_id) == ["active"]
    # Once on the lock it is not watched any more.
    listed = tuya_cloud.calls[TUYA_LIST]
    await advance(hass, freezer, timedelta(hours=7))
    assert tuya_cloud.calls[TUYA_LIST] == listed
    assert len(delivered) == 1


async def test_online_wifi_code_is_delivered_at_the_first_look(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Tuya's add answer says nothing of the lock; the first look a minute later
    finds it sent (phase 2) and says so once."""
    tuya_cloud.add_device(name="Flat door")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    delivered = listen(hass, EVENT_CODE_DELIVERED)
    answer = await call(hass, "add_code", entity_id, name="Guest", **window(-1))
    assert answer[entity_id]["delivered"] is False
    await advance(hass, freezer, WATCH)
    assert len(delivered) == 1
    assert _status(await _list(hass, entity_id), entity_id) == ["active"]


# ------------------------------------------------------------------ failed


async def test_failed_delivery_is_uploaded_again_then_given_up(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Zigbee phase 5 / delivery_status 3: the lock never took it. The ledger
    deletes the dead entry, uploads again on the schedule, and after
    ``retry_attempts`` failed deliveries reports the code failed — never active."""
    device = tuya_cloud.add_device(name="Flat door", wifi=False, protocol="zigbee")
    await setup_entry(hass, tuya_data(tuya_cloud), options={CONF_RETRY_ATTEMPTS: 2})
    entity_id = tuya_lock_entity(hass)
    failed = listen(hass, EVENT_CODE_FAILED)
    added = listen(hass, EVENT_CODE_ADDED)
    answer = await call(hass, "add_code", entity_id, name="Guest", **window(-1))
    code_id = answer[entity_id]["code_id"]
    (first,) = tuya_cloud.codes[device]
    tuya_cloud.fail_delivery(device, first)

    await advance(hass, freezer, WATCH)
    # The dead entry is gone from the cloud; the code waits for its retry.
    assert first not in tuya_cloud.codes[device]
    assert tuya_cloud.calls[TUYA_DELETE] == 1
    listing = await _list(hass, entity_id)
    assert _status(listing, entity_id) == ["queued"]
    assert "did not take" in listing[entity_id]["codes"][0]["reason"]
    assert failed == []
    assert not code_issues(hass)

    await advance(hass, freezer, RETRY)
    assert tuya_cloud.calls[TUYA_ADD] == 2
    (second,) = tuya_cloud.codes[device]
    assert second != first
    assert len(added) == 2
    tuya_cloud.fail_delivery(device, second)
    await advance(hass, freezer, WATCH)

    assert [(e.data["code_id"], e.data["operation"]) for e in failed] == [
        (code_id, "add")
    ]
    assert len(code_issues(hass)) == 1
    assert tuya_cloud.codes[device] == {}
    assert _status(await _list(hass, entity_id), entity_id) == ["failed"]
    # Given up: no third upload.
    await advance(hass, freezer, RETRY)
    await advance(hass, freezer, RETRY)
    assert tuya_cloud.calls[TUYA_ADD] == 2


async def test_code_delivered_after_a_failure_counts_afresh(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    device = tuya_cloud.add_device(name="Flat door", wifi=False, protocol="zigbee")
    entry = await setup_entry(
        hass, tuya_data(tuya_cloud), options={CONF_RETRY_ATTEMPTS: 2}
    )
    entity_id = tuya_lock_entity(hass)
    await call(hass, "add_code", entity_id, name="Guest", **window(-1))
    (first,) = tuya_cloud.codes[device]
    tuya_cloud.fail_delivery(device, first)
    await advance(hass, freezer, WATCH)
    await advance(hass, freezer, RETRY)
    tuya_cloud.deliver_pending(device)
    await advance(hass, freezer, WATCH)
    (record,) = [r for r in records(hass, entry) if not r.undelivered]
    assert record.delivery_failures == 0
    assert _status(await _list(hass, entity_id), entity_id) == ["active"]


# ------------------------------------------------------------------ delete


async def _offline_wifi_code(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> tuple[str, str, str, MockConfigEntry]:
    """A delivered code on a Wi-Fi lock that then goes offline."""
    device = tuya_cloud.add_device(name="Flat door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    answer = await call(hass, "add_code", entity_id, name="Guest", **window(-1))
    await advance(hass, freezer, WATCH)  # delivered
    tuya_cloud.devices[device]["online"] = False
    return device, entity_id, answer[entity_id]["code_id"], entry


async def test_delete_is_pending_until_the_wifi_lock_is_reached(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Wi-Fi phase 3 "to be deleted": the code still opens the door. The
    answer is pending_delete, a second delete_code sends nothing, and
    code_deleted fires when a listing no longer shows it."""
    device, entity_id, code_id, _ = await _offline_wifi_code(hass, tuya_cloud, freezer)
    deleted = listen(hass, EVENT_CODE_DELETED)

    answer = await call(hass, "delete_code", entity_id, code_id=code_id)
    assert answer[entity_id]["pending_delete"] == [code_id]
    assert answer[entity_id]["deleted"] == []
    assert deleted == []
    (pwd,) = tuya_cloud.codes[device]
    assert tuya_cloud.codes[device][pwd]["phase"] == 3
    assert _status(await _list(hass, entity_id), entity_id) == ["pending_delete"]

    again = await call(hass, "delete_code", entity_id, code_id=code_id)
    assert again[entity_id]["pending_delete"] == [code_id]
    assert tuya_cloud.calls[TUYA_DELETE] == 1
    await advance(hass, freezer, RETRY)
    assert tuya_cloud.calls[TUYA_DELETE] == 1
    assert deleted == []

    tuya_cloud.devices[device]["online"] = True
    await advance(hass, freezer, timedelta(hours=6, seconds=1))
    assert [e.data["code_id"] for e in deleted] == [code_id]
    assert tuya_cloud.codes[device] == {}
    assert tuya_cloud.calls[TUYA_DELETE] == 1
    final = await call(hass, "delete_code", entity_id, code_id=code_id)
    assert final[entity_id]["already_deleted"] == [code_id]
    assert _status(await _list(hass, entity_id), entity_id) == []


async def test_online_delete_is_confirmed_by_the_listing(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    device = tuya_cloud.add_device(name="Flat door")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    deleted = listen(hass, EVENT_CODE_DELETED)
    answer = await call(hass, "add_code", entity_id, name="Guest", **window(-1))
    code_id = answer[entity_id]["code_id"]
    tuya_cloud.reset_calls()
    result = await call(hass, "delete_code", entity_id, code_id=code_id)
    assert result[entity_id]["deleted"] == [code_id]
    assert len(deleted) == 1
    assert tuya_cloud.codes[device] == {}
    assert tuya_cloud.calls[TUYA_LIST] == 1


@pytest.mark.parametrize("lose_listing", [False, True])
async def test_restart_between_the_delete_and_the_listing_that_confirms_it(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
    lose_listing: bool,
) -> None:
    """The delete was accepted (phase 3), then Home Assistant restarts (with
    the confirming listing lost, or not): after the restart the ledger looks
    again instead of deleting twice, and reports the code gone once it is."""
    device, entity_id, code_id, entry = await _offline_wifi_code(
        hass, tuya_cloud, freezer
    )
    deleted = listen(hass, EVENT_CODE_DELETED)
    if lose_listing:
        tuya_cloud.lose_answer(TUYA_LIST)
    answer = await call(hass, "delete_code", entity_id, code_id=code_id)
    assert answer[entity_id]["pending_delete"] == [code_id]
    await restart(hass, entry)
    assert deleted == []
    tuya_cloud.devices[device]["online"] = True
    # The look resumes on its stored schedule (at least RESUME after the start).
    await advance(hass, freezer, RESUME)
    await advance(hass, freezer, RETRY)
    assert [e.data["code_id"] for e in deleted] == [code_id]
    assert tuya_cloud.calls[TUYA_DELETE] == 1
    (record,) = [r for r in records(hass, entry) if r.id == code_id]
    assert record.tombstone


async def test_access_control_revoked_code_counts_as_deleted(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """``mk``: a revoked code stays listed as 17/19 (hass-tuya-lock-bridge) —
    gone for the lock, not a live code, not deleted again."""
    device = tuya_cloud.add_device(name="Gate", category="mk")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    answer = await call(hass, "add_code", entity_id, name="Guest", **window(-1))
    code_id = answer[entity_id]["code_id"]
    result = await call(hass, "delete_code", entity_id, code_id=code_id)
    assert result[entity_id]["deleted"] == [code_id]
    (pwd,) = tuya_cloud.codes[device]
    assert tuya_cloud.codes[device][pwd]["phase"] == 17
    listing = await _list(hass, entity_id)
    assert _status(listing, entity_id) == ["inactive"]
    # Asked again by the cloud's id: already gone, no second delete.
    again = await call(hass, "delete_code", entity_id, code_id=pwd)
    assert again[entity_id]["already_deleted"] == [pwd]
    assert tuya_cloud.calls[TUYA_DELETE] == 1


async def test_cleanup_sends_no_second_delete_for_a_code_being_deleted(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    """An expired foreign code already "to be deleted" (phase 3) is left to the
    cloud by the clean-up (``cleanup_all_expired``)."""
    device = tuya_cloud.add_device(name="Flat door", online=False)
    await setup_entry(hass, tuya_data(tuya_cloud), options={CONF_CLEANUP_ALL: True})
    base = int(tuya_cloud._server_ms() / 1000)
    tuya_cloud.codes[device]["77"] = {
        "id": "77",
        "name": "Old guest",
        "pin": "1234567",
        "effective_time": base - 5 * 86400,
        "invalid_time": base - 3 * 86400,
        "phase": 3,
        "delivery_status": 2,
    }
    for _ in range(3):
        await advance(hass, freezer, timedelta(days=1, minutes=1))
    assert tuya_cloud.calls[TUYA_DELETE] == 0


# ----------------------------------------------------------------- unknown


@pytest.mark.parametrize(
    ("phase", "logged"),
    [(99, "unknown phase 99"), ("abc", "unreadable phase"), (1.5, "unreadable phase")],
)
async def test_unknown_phase_is_not_live_and_not_uploaded_again(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    phase: Any,
    logged: str,
) -> None:
    """A phase of no table (99) or of the wrong type: not claimed on the lock,
    not gone, not re-sent."""
    caplog.set_level(logging.DEBUG, "custom_components.ttlock_gateway")
    device = tuya_cloud.add_device(name="Flat door")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    await call(hass, "add_code", entity_id, name="Guest", **window(-1))
    (pwd,) = tuya_cloud.codes[device]
    tuya_cloud.codes[device][pwd]["phase"] = phase
    assert _status(await _list(hass, entity_id), entity_id) == ["unknown"]
    assert logged in caplog.text
    await advance(hass, freezer, RETRY)
    await advance(hass, freezer, RETRY)
    assert tuya_cloud.calls[TUYA_ADD] == 1
    assert tuya_cloud.calls[TUYA_DELETE] == 0


async def test_revoked_listing_digits_are_free(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Digits of a revoked or never-delivered listed code are not taken; those
    of a code being deleted still are (it opens the door until then)."""
    tuya_cloud.add_device(name="Flat door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    ledger = ledger_of(hass, entry)
    codes = [
        Passcode(
            code_id=str(n),
            lock_id="x",
            name="n",
            kind=CodeKind.PERIOD,
            code=f"{n}{n}{n}{n}",
            phase=phase,
        )
        for n, phase in enumerate(
            [
                CodePhase.REVOKED,
                CodePhase.FAILED,
                CodePhase.DELETING,
                CodePhase.PENDING,
                CodePhase.DELIVERED,
            ]
        )
    ]
    ledger.note_listing("x", codes, datetime.now(UTC))
    assert ledger.taken_digits("x") == {"2222", "3333", "4444"}


# ------------------------------------------------- TTLock notifyType 4


FLAT = "lock.flat_door"
FORM = "application/x-www-form-urlencoded"
URL = f"/api/webhook/{TTLOCK_WEBHOOK_ID}"


async def _post(client: TestClient, body: str) -> None:
    resp = await client.post(URL, data=body, headers={"Content-Type": FORM})
    assert (resp.status, await resp.text()) == (200, "success")


async def _wifi_home(
    hass: HomeAssistant,
    cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    **options: Any,
) -> tuple[int, MockConfigEntry, TestClient]:
    lock_id = cloud.add_lock(name="Flat door", wifi=True)
    entry = await setup_entry(hass, ttlock_data(cloud), options=options or None)
    return lock_id, entry, await hass_client_no_auth()


async def test_request_failed_uploads_the_code_again(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The Wi-Fi lock was offline (-3036): the cloud's entry goes, the code is
    uploaded again on the retry schedule. The same callback again (or one for
    the old entry) changes nothing."""
    caplog.set_level(logging.DEBUG, "custom_components.ttlock_gateway")
    lock_id, _, client = await _wifi_home(hass, ttlock_cloud, hass_client_no_auth)
    added = listen(hass, EVENT_CODE_ADDED)
    answer = await call(
        hass, "add_code", FLAT, name="Guest", code="482913", **window(-1)
    )
    assert answer[FLAT]["delivered"] is True  # TTLock answers for the lock
    first = int(answer[FLAT]["cloud_id"])
    body = ttlock_cloud.fail_on_lock(lock_id, first, -3036)
    ttlock_cloud.reset_calls()

    await _post(client, body)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert first not in ttlock_cloud.passcodes[lock_id]  # the dead entry went
    assert ttlock_cloud.calls[DELETE_PATH] == 1
    listing = await call(hass, "list_codes", FLAT)
    (item,) = listing[FLAT]["codes"]
    assert item["status"] == "queued"
    assert "-3036" in item["reason"]

    # Twice the same callback (later: the same second is one event already):
    # known, nothing more is sent.
    freezer.tick(timedelta(seconds=5))
    await _post(client, body)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert ttlock_cloud.calls[DELETE_PATH] == 1
    assert "not a ledger code" in caplog.text

    await advance(hass, freezer, RETRY)
    assert ttlock_cloud.calls[ADD_PATH] == 1
    assert ttlock_cloud.on_lock(lock_id) == ["482913"]
    assert len(added) == 2
    listing = await call(hass, "list_codes", FLAT)
    assert [c["status"] for c in listing[FLAT]["codes"]] == ["active"]


async def test_request_failed_for_good_reports_the_code_failed(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """-3009 "custom passcode space full" (cloud/errorCode): another upload
    cannot work. The code is reported failed (event + repair), never active."""
    lock_id, _, client = await _wifi_home(hass, ttlock_cloud, hass_client_no_auth)
    failed = listen(hass, EVENT_CODE_FAILED)
    answer = await call(
        hass, "add_code", FLAT, name="Guest", code="482913", **window(-1)
    )
    body = ttlock_cloud.fail_on_lock(lock_id, int(answer[FLAT]["cloud_id"]), -3009)
    ttlock_cloud.reset_calls()
    await _post(client, body)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [(e.data["code_id"], e.data["operation"]) for e in failed] == [
        (answer[FLAT]["code_id"], "add")
    ]
    assert "-3009" in failed[0].data["reason"]
    assert len(code_issues(hass)) == 1
    listing = await call(hass, "list_codes", FLAT)
    assert [c["status"] for c in listing[FLAT]["codes"]] == ["failed"]
    await advance(hass, freezer, RETRY)
    await advance(hass, freezer, RETRY)
    assert ttlock_cloud.calls[ADD_PATH] == 0


async def test_request_failed_unknown_or_forged_changes_nothing(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An objectId that is no ledger code is ignored (debug line); a callback
    with another lockMac is refused like every callback; a card (objectType
    3) names no code."""
    caplog.set_level(logging.DEBUG, "custom_components.ttlock_gateway")
    lock_id, entry, client = await _wifi_home(hass, ttlock_cloud, hass_client_no_auth)
    answer = await call(
        hass, "add_code", FLAT, name="Guest", code="482913", **window(-1)
    )
    pwd_id = int(answer[FLAT]["cloud_id"])
    body = ttlock_cloud.fail_on_lock(lock_id, pwd_id, -3036)
    ttlock_cloud.passcodes[lock_id][pwd_id].pop("notOnLock")
    ttlock_cloud.reset_calls()

    await _post(client, body.replace(f"objectId={pwd_id}", "objectId=99999"))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert "not a ledger code" in caplog.text
    forged = body.replace(
        "lockMac=" + quote(ttlock_cloud.locks[lock_id]["lockMac"]),
        "lockMac=" + quote("02:00:00:00:00:01"),
    )
    assert forged != body
    await _post(client, forged)
    await _post(client, body.replace("objectType=2", "objectType=3"))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert "lockMac is not the lock's MAC" in caplog.text

    assert ttlock_cloud.total_calls == 0
    (record,) = records(hass, entry)
    assert (record.phase, record.delivery_failures, record.failed) == (
        CodePhase.DELIVERED,
        0,
        False,
    )
    await advance(hass, freezer, RETRY)
    assert ttlock_cloud.calls[ADD_PATH] == 0
    listing = await call(hass, "list_codes", FLAT)
    assert [c["status"] for c in listing[FLAT]["codes"]] == ["active"]


async def test_request_failed_for_a_delete_sends_it_again(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The lock did not carry out a delete: the code still opens the door, so
    the ledger deletes it again (a cancelled guest must not keep the door)."""
    lock_id, entry, client = await _wifi_home(hass, ttlock_cloud, hass_client_no_auth)
    answer = await call(
        hass, "add_code", FLAT, name="Guest", code="482913", **window(-1)
    )
    pwd_id = int(answer[FLAT]["cloud_id"])
    body = ttlock_cloud.fail_on_lock(lock_id, pwd_id, -3036)
    ttlock_cloud.passcodes[lock_id][pwd_id].pop("notOnLock")
    await call(hass, "delete_code", FLAT, code_id=answer[FLAT]["code_id"])
    ttlock_cloud.reset_calls()
    await _post(client, body)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert ttlock_cloud.calls[DELETE_PATH] == 1
    (record,) = records(hass, entry)
    assert record.tombstone


async def test_request_failed_then_restart_uploads_once(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A restart after the callback: the failed delivery is remembered (the
    count survives) and the code is uploaded again exactly once."""
    lock_id, entry, client = await _wifi_home(
        hass, ttlock_cloud, hass_client_no_auth, **{CONF_RETRY_ATTEMPTS: 2}
    )
    answer = await call(
        hass, "add_code", FLAT, name="Guest", code="482913", **window(-1)
    )
    body = ttlock_cloud.fail_on_lock(lock_id, int(answer[FLAT]["cloud_id"]), -3037)
    await _post(client, body)
    await hass.async_block_till_done(wait_background_tasks=True)
    await restart(hass, entry)
    (record,) = [r for r in records(hass, entry) if not r.undelivered]
    assert (record.delivery_failures, record.cloud_id) == (1, None)
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, RETRY)
    await advance(hass, freezer, RETRY)
    assert ttlock_cloud.calls[ADD_PATH] == 1
    assert ttlock_cloud.on_lock(lock_id) == ["482913"]
    (record,) = [r for r in records(hass, entry) if not r.undelivered]
    assert record.delivery_failures == 0  # delivered: counted afresh


@pytest.mark.parametrize("held", [TUYA_DELETE, TUYA_LIST])
async def test_reload_at_each_await_of_a_phased_delete(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
    held: str,
) -> None:
    """A reload while the delete (or the listing that confirms it) is at the
    cloud: the call is answered pending_delete, the new set-up confirms it,
    one code_deleted, and no delete is sent twice once the cloud took it."""
    device, entity_id, code_id, entry = await _offline_wifi_code(
        hass, tuya_cloud, freezer
    )
    deleted = listen(hass, EVENT_CODE_DELETED)
    hold = tuya_cloud.hold(held)
    deleting = start_call(hass, "delete_code", entity_id, code_id=code_id)
    await hold.arrived.wait()
    await reload(hass, entry)
    hold.release()
    answer = await deleting
    assert answer[entity_id]["pending_delete"] == [code_id]
    assert deleted == []
    tuya_cloud.devices[device]["online"] = True
    await advance(hass, freezer, RESUME)
    await advance(hass, freezer, RETRY)
    assert [e.data["code_id"] for e in deleted] == [code_id]
    assert tuya_cloud.codes[device] == {}
    # A delete cut off at the cloud is sent again (nothing says the cloud
    # took it); once taken (only its listing was cut off) it is not.
    assert tuya_cloud.calls[TUYA_DELETE] == (2 if held == TUYA_DELETE else 1)
    final = await call(hass, "delete_code", entity_id, code_id=code_id)
    assert final[entity_id]["already_deleted"] == [code_id]
