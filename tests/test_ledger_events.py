"""Events name the ledger code they used; the first use says "the guest arrived";
list_codes answers from the ledger when the cloud is down."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
import json
import time
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from custom_components.ttlock_gateway.const import EVENT_CODE_USED, EVENT_LOCK
from tests.common import (
    TTLOCK_WEBHOOK_ID,
    seed_ttlock_home,
    setup_entry,
    ttlock_data,
    tuya_data,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud
from tests.ledger_common import (
    FRONT,
    advance,
    call,
    listen,
    restart,
    set_gateway,
    tuya_lock_entity,
    window,
)

ClientFactory = Callable[[], Awaitable[TestClient]]
FORM = "application/x-www-form-urlencoded"


def push_body(lock_id: int, pin: str, record_id: int) -> bytes:
    """A TTLock callback: a keypad unlock with ``pin``."""
    now_ms = int(dt_util.utcnow().timestamp() * 1000) + record_id
    record = {
        "lockId": lock_id,
        "recordId": record_id,
        "recordType": 4,
        "recordTypeFromLock": 4,
        "success": 1,
        "username": "Guest",
        "keyboardPwd": pin,
        "lockDate": now_ms,
        "serverDate": now_ms + 500,
        "electricQuantity": 80,
    }
    return urlencode(
        {
            "notifyType": 1,
            "lockId": lock_id,
            "lockMac": FakeTTLockCloud.lock_mac(lock_id),
            "admin": FakeTTLockCloud.USERNAME,
            "records": json.dumps([record]),
        }
    ).encode()


async def test_ttlock_pushed_record_names_the_code_and_first_use(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    lock_events = listen(hass, EVENT_LOCK)
    used = listen(hass, EVENT_CODE_USED)
    added = await call(
        hass, "add_code", FRONT, name="Guest Smith", code="482913", **window(-1, 48)
    )
    code_id = added[FRONT]["code_id"]
    client = await hass_client_no_auth()
    url = f"/api/webhook/{TTLOCK_WEBHOOK_ID}"

    for record_id in (1, 2):
        resp = await client.post(
            url,
            data=push_body(home.front, "482913", record_id),
            headers={"Content-Type": FORM},
        )
        assert resp.status == 200
    # A code that is not ours: named by nothing.
    resp = await client.post(
        url, data=push_body(home.front, "999999", 3), headers={"Content-Type": FORM}
    )
    await hass.async_block_till_done()

    assert [(e.data["code_id"], e.data["code_name"]) for e in lock_events] == [
        (code_id, "Guest Smith"),
        (code_id, "Guest Smith"),
        (None, None),
    ]
    assert "code" not in lock_events[0].data  # digits stay out of events
    assert [(e.data["code_id"], e.data["first_use"]) for e in used] == [
        (code_id, True),
        (code_id, False),
    ]
    assert used[0].data["entity_id"] == FRONT
    assert used[0].data["name"] == "Guest Smith"
    state = hass.states.get("event.front_door_activity")
    assert state is not None
    assert state.attributes["code_name"] is None  # the last one was not ours

    # The first use is remembered across a restart.
    await restart(hass, entry)
    client = await hass_client_no_auth()
    resp = await client.post(
        url, data=push_body(home.front, "482913", 4), headers={"Content-Type": FORM}
    )
    await hass.async_block_till_done()
    assert [e.data["first_use"] for e in used] == [True, False, False]


async def test_ttlock_polled_record_names_the_code(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    lock_events = listen(hass, EVENT_LOCK)
    used = listen(hass, EVENT_CODE_USED)
    added = await call(
        hass, "add_code", FRONT, name="Cleaner", code="246810", **window(-1, 48)
    )
    await advance(hass, freezer, timedelta(minutes=30))
    ttlock_cloud.add_record(home.front, 4, username="Cleaner", keyboard_pwd="246810")
    for _ in range(12):
        await advance(hass, freezer, timedelta(minutes=30))
    named = [e for e in lock_events if e.data["code_name"] == "Cleaner"]
    assert len(named) == 1
    assert named[0].data["code_id"] == added[FRONT]["code_id"]
    assert [e.data["first_use"] for e in used] == [True]
    # get_events names it too, and finds it by our id.
    events = await call(
        hass, "get_events", FRONT, code=added[FRONT]["code_id"], first_only=True
    )
    assert [(e["code_id"], e["code_name"]) for e in events[FRONT]["events"]] == [
        (added[FRONT]["code_id"], "Cleaner")
    ]


async def test_use_of_a_deleted_code_is_reported(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
) -> None:
    """A cancelled guest's code that still opened the door (deleted later, or a
    lock that synced late): the event says which code and that it was deleted."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    used = listen(hass, EVENT_CODE_USED)
    added = await call(
        hass, "add_code", FRONT, name="Cancelled", code="135791", **window(-1, 48)
    )
    await call(hass, "delete_code", FRONT, code_id=added[FRONT]["code_id"])
    client = await hass_client_no_auth()
    await client.post(
        f"/api/webhook/{TTLOCK_WEBHOOK_ID}",
        data=push_body(home.front, "135791", 1),
        headers={"Content-Type": FORM},
    )
    await hass.async_block_till_done()
    assert [(e.data["name"], e.data["deleted"]) for e in used] == [("Cancelled", True)]


async def test_digits_reused_after_a_deletion_are_not_named_after_it(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: ClientFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A day after our code was deleted the owner gave its digits to someone
    else in the app: their unlocks are not reported as the cancelled guest's."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    used = listen(hass, EVENT_CODE_USED)
    lock_events = listen(hass, EVENT_LOCK)
    added = await call(
        hass, "add_code", FRONT, name="Old guest", code="135791", **window(-1, 48)
    )
    await call(hass, "delete_code", FRONT, code_id=added[FRONT]["code_id"])
    await advance(hass, freezer, timedelta(days=1))
    client = await hass_client_no_auth()
    await client.post(
        f"/api/webhook/{TTLOCK_WEBHOOK_ID}",
        data=push_body(home.front, "135791", 1),
        headers={"Content-Type": FORM},
    )
    await hass.async_block_till_done()
    assert used == []
    assert [e.data["code_name"] for e in lock_events] == [None]


async def test_tuya_polled_record_names_the_code_by_password_id(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud, freezer: FrozenDateTimeFactory
) -> None:
    device = tuya_cloud.add_device(name="Flat door")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = tuya_lock_entity(hass)
    lock_events = listen(hass, EVENT_LOCK)
    used = listen(hass, EVENT_CODE_USED)
    added = await call(hass, "add_code", entity_id, name="Guest", **window(-1, 48))
    await advance(hass, freezer, timedelta(minutes=30))
    tuya_cloud.add_open_log(
        device,
        "unlock_temporary",
        int(added[entity_id]["cloud_id"]),
        t_ms=int(time.time() * 1000),
    )
    for _ in range(12):
        await advance(hass, freezer, timedelta(minutes=30))
    named = [e for e in lock_events if e.data["code_name"] == "Guest"]
    assert len(named) == 1
    assert named[0].data["code_id"] == added[entity_id]["code_id"]
    assert [e.data["first_use"] for e in used] == [True]


async def test_list_codes_with_the_cloud_down(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, freezer: FrozenDateTimeFactory
) -> None:
    """Exactly when codes are queued: the answer comes from the ledger and the
    last listing, marked stale with its age, instead of an error."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.passcodes[home.front][7] = {
        "keyboardPwdId": 7,
        "keyboardPwd": "1111",
        "keyboardPwdName": "Owner",
        "keyboardPwdType": 2,
        "startDate": 0,
        "endDate": 0,
    }
    added = await call(
        hass, "add_code", FRONT, name="Landed", code="482913", **window()
    )
    fresh = await call(hass, "list_codes", FRONT)
    assert fresh[FRONT]["stale"] is False
    set_gateway(ttlock_cloud, home, online=False)
    queued = await call(
        hass, "add_code", FRONT, name="Queued", code="246802", **window()
    )
    assert queued[FRONT]["status"] == "queued"

    freezer.tick(timedelta(minutes=7))
    ttlock_cloud.set_outage("http500")
    listed = await call(hass, "list_codes", FRONT)
    answer = listed[FRONT]
    assert answer["stale"] is True
    assert answer["age_seconds"] >= 7 * 60
    assert answer["listed_at"] == fresh[FRONT]["listed_at"]
    assert [
        (c["name"], c["status"], c["created_by_integration"]) for c in answer["codes"]
    ] == [
        ("Landed", "pending", True),
        ("Queued", "queued", True),
        ("Owner", "active", False),
    ]
    assert answer["codes"][0]["code_id"] == added[FRONT]["code_id"]
    assert "code" not in answer["codes"][2]  # no digits without the option
