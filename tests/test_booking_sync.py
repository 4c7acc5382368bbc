"""Following a booking calendar (Home Assistant's real local_calendar): each
stay becomes a ledger code days ahead, moves with the booking, goes when it
is cancelled, and the sync calls the cloud only for differences."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ttlock_gateway.booking import (
    EVENT_BOOKING_SYNCED,
    SYNC_INTERVAL,
    async_booking_secret,
)
from custom_components.ttlock_gateway.booking_rules import seeded_code
from custom_components.ttlock_gateway.const import EVENT_CODE_USED
from tests.booking_common import (
    AIRBNB,
    Panel,
    at,
    calendar_events,
    follow,
    local_calendar,
    uid_of,
)
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
    ADD_PATH,
    CHANGE_PATH,
    DELETE_PATH,
    FRONT,
    LIST_PATH,
    TUYA_ADD,
    TUYA_DELETE,
    advance,
    call,
    foreign_code,
    listen,
    ms,
    records,
    restart,
    ttlock_pins,
    until,
    window,
)
from tests.test_ledger_events import FORM, push_body

FRONT_CAL = "calendar.front_door_guest_access"


def _writes(cloud: FakeTTLockCloud) -> dict[str, int]:
    return {
        "add": cloud.calls[ADD_PATH],
        "change": cloud.calls[CHANGE_PATH],
        "delete": cloud.calls[DELETE_PATH],
    }


async def test_a_booking_becomes_a_code_days_ahead(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """Created as soon as the booking appears (not at check-in), owned by the
    sync, and announced; the seeded digits are the booking's."""
    home = seed_ttlock_home(ttlock_cloud)
    await local_calendar(hass, tmp_path)
    entry = await setup_entry(
        hass, ttlock_data(ttlock_cloud), options=follow(home.front, home.back)
    )
    synced = listen(hass, EVENT_BOOKING_SYNCED)
    panel = Panel(hass)
    start, end = at(10, 16), at(13, 10)
    await panel.create("Reserved", start, end)
    await advance(hass, freezer, SYNC_INTERVAL)

    uid = await uid_of(hass, "Reserved")
    front = list(ttlock_cloud.passcodes[home.front].values())
    back = list(ttlock_cloud.passcodes[home.back].values())
    assert len(front) == 1
    assert len(back) == 1
    assert front[0]["startDate"] == ms(start.isoformat())
    assert front[0]["endDate"] == ms(end.isoformat())
    assert front[0]["keyboardPwdName"] == "Reserved"
    # One guest, one code for both doors.
    assert front[0]["keyboardPwd"] == back[0]["keyboardPwd"]
    secret = await async_booking_secret(hass, entry.entry_id)
    assert front[0]["keyboardPwd"] == seeded_code(secret, f"{uid}\x00", 6, 0)
    owned = records(hass, entry)
    assert {(r.source, r.booking_uid) for r in owned} == {(AIRBNB, uid)}
    assert sorted(e.data["action"] for e in synced) == ["added", "added"]
    assert {e.data["uid"] for e in synced} == {uid}
    assert {e.data["entity_id"] for e in synced} == {FRONT, "lock.back_door"}
    assert all("code" not in e.data for e in synced)

    # A re-sync changes nothing and calls nothing.
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, SYNC_INTERVAL)
    await advance(hass, freezer, SYNC_INTERVAL)
    assert _writes(ttlock_cloud) == {"add": 0, "change": 0, "delete": 0}
    assert ttlock_cloud.calls[LIST_PATH] == 0, ttlock_cloud.calls
    assert len(synced) == 2

    # The guest-access calendar shows it, and refuses to move it there.
    guest_access = Panel(hass, FRONT_CAL)
    (shown,) = await calendar_events(hass, FRONT_CAL)
    assert shown.summary == "Reserved"
    assert shown.description is not None
    assert f"Booking: {AIRBNB}" in shown.description
    code_id = owned[0].id
    with pytest.raises(ServiceValidationError) as err:
        await guest_access.move(code_id, "x", start, end + timedelta(days=1))
    assert err.value.translation_key == "booking_code_managed"
    with pytest.raises(ServiceValidationError):
        await guest_access.delete(code_id)
    assert _writes(ttlock_cloud) == {"add": 0, "change": 0, "delete": 0}


async def test_moved_shortened_and_cancelled(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    home = seed_ttlock_home(ttlock_cloud)
    await local_calendar(hass, tmp_path)
    entry = await setup_entry(
        hass, ttlock_data(ttlock_cloud), options=follow(home.front)
    )
    synced = listen(hass, EVENT_BOOKING_SYNCED)
    panel = Panel(hass)
    await panel.create("Smith", at(5, 16), at(8, 10))
    await panel.create("Jones", at(20, 16), at(22, 10))
    await advance(hass, freezer, SYNC_INTERVAL)
    assert len(ttlock_cloud.passcodes[home.front]) == 2
    pins = ttlock_pins(ttlock_cloud, home.front)

    # Moved two days later: the same code, a new window, in place.
    ttlock_cloud.reset_calls()
    smith = await uid_of(hass, "Smith")
    await panel.move(smith, "Smith", at(7, 16), at(10, 10))
    await advance(hass, freezer, SYNC_INTERVAL)
    assert _writes(ttlock_cloud) == {"add": 0, "change": 1, "delete": 0}
    stored = next(
        c
        for c in ttlock_cloud.passcodes[home.front].values()
        if c["keyboardPwdName"] == "Smith"
    )
    assert stored["startDate"] == ms(at(7, 16).isoformat())
    assert stored["endDate"] == ms(at(10, 10).isoformat())
    assert ttlock_pins(ttlock_cloud, home.front) == pins

    # Shortened by a night.
    ttlock_cloud.reset_calls()
    await panel.move(smith, "Smith", at(7, 16), at(9, 10))
    await advance(hass, freezer, SYNC_INTERVAL)
    assert _writes(ttlock_cloud) == {"add": 0, "change": 1, "delete": 0}

    # Cancelled: the code goes at once; the other booking stays.
    ttlock_cloud.reset_calls()
    jones = await uid_of(hass, "Jones")
    await panel.delete(jones)
    await advance(hass, freezer, SYNC_INTERVAL)
    assert _writes(ttlock_cloud) == {"add": 0, "change": 0, "delete": 1}
    assert [
        c["keyboardPwdName"] for c in ttlock_cloud.passcodes[home.front].values()
    ] == ["Smith"]
    actions = [(e.data["action"], e.data["name"]) for e in synced]
    assert actions == [
        ("added", "Smith"),
        ("added", "Jones"),
        ("updated", "Smith"),
        ("updated", "Smith"),
        ("deleted", "Jones"),
    ]
    assert synced[-1].data["reason"] == "cancelled"
    assert synced[-1].data["status"] == "deleted"
    assert {r.name for r in records(hass, entry) if r.present} == {"Smith"}


async def test_manual_codes_are_never_touched(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """The sync owns only its own codes: a cleaner's code stays whatever the
    calendar says, even one named like a booking."""
    home = seed_ttlock_home(ttlock_cloud)
    await local_calendar(hass, tmp_path)
    await setup_entry(hass, ttlock_data(ttlock_cloud), options=follow(home.front))
    await call(hass, "add_code", FRONT, name="Reserved", code="246810", **window())
    panel = Panel(hass)
    await panel.create("Reserved", at(5, 16), at(8, 10))
    await advance(hass, freezer, SYNC_INTERVAL)
    assert len(ttlock_cloud.passcodes[home.front]) == 2
    await panel.delete(await uid_of(hass, "Reserved"))
    await advance(hass, freezer, SYNC_INTERVAL)
    assert ttlock_pins(ttlock_cloud, home.front) == ["246810"]


async def test_all_day_bookings_take_check_in_out_and_buffers_across_dst(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """Airbnb exports stays as all-day events (DTEND = check-out day). In
    Berlin across the spring DST change: check-in 15:00 CET, check-out 11:00
    CEST, one hour of buffer each side."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to("2027-03-20T09:00:00+00:00")
    home = seed_ttlock_home(ttlock_cloud)
    await local_calendar(hass, tmp_path)
    await setup_entry(
        hass,
        ttlock_data(ttlock_cloud),
        options=follow(home.front, buffer_before=60, buffer_after=30),
    )
    panel = Panel(hass)
    await panel.create(
        "Reserved",
        dt_util.parse_date("2027-03-26"),  # type: ignore[arg-type]
        dt_util.parse_date("2027-03-30"),  # type: ignore[arg-type]
    )
    await advance(hass, freezer, SYNC_INTERVAL)
    (stored,) = ttlock_cloud.passcodes[home.front].values()
    # 15:00 CET (UTC+1) minus an hour; 11:00 CEST (UTC+2) plus 30 minutes.
    assert stored["startDate"] == ms("2027-03-26T13:00:00+00:00")
    assert stored["endDate"] == ms("2027-03-30T09:30:00+00:00")


async def test_a_booking_in_progress_and_one_that_ended(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """A stay already under way gets its code (start in the past); one that
    ended gets none; a code whose stay ends is left to expire, not deleted."""
    home = seed_ttlock_home(ttlock_cloud)
    await local_calendar(hass, tmp_path)
    await setup_entry(hass, ttlock_data(ttlock_cloud), options=follow(home.front))
    panel = Panel(hass)
    await panel.create("Under way", at(-1), at(0.5))
    await panel.create("Gone", at(-3), at(-2))
    await advance(hass, freezer, SYNC_INTERVAL)
    (stored,) = ttlock_cloud.passcodes[home.front].values()
    assert stored["keyboardPwdName"] == "Under way"
    ttlock_cloud.reset_calls()
    await advance(hass, freezer, timedelta(hours=13))
    for _ in range(4):
        await advance(hass, freezer, SYNC_INTERVAL)
    assert _writes(ttlock_cloud) == {"add": 0, "change": 0, "delete": 0}
    assert len(ttlock_cloud.passcodes[home.front]) == 1


async def test_phone_rule_and_code_used_carries_the_booking(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
    hass_client_no_auth: object,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """The last 6 digits of the guest's phone; the first use names the
    booking's uid ("the guest arrived")."""
    home = seed_ttlock_home(ttlock_cloud)
    await local_calendar(hass, tmp_path)
    await setup_entry(
        hass,
        ttlock_data(ttlock_cloud),
        options=follow(home.front, code_rule="phone", phone_digits=6),
    )
    used = listen(hass, EVENT_CODE_USED)
    panel = Panel(hass)
    await panel.create(
        "Garcia",
        at(-0.1),
        at(3),
        description="Guest: Ana Garcia\nPhone: +1 (415) 555-0172\nParty of 3",
    )
    await advance(hass, freezer, SYNC_INTERVAL)
    assert ttlock_pins(ttlock_cloud, home.front) == ["550172"]
    client = await hass_client_no_auth()  # type: ignore[operator]
    resp = await client.post(
        f"/api/webhook/{TTLOCK_WEBHOOK_ID}",
        data=push_body(home.front, "550172", 1),
        headers={"Content-Type": FORM},
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    (first,) = used
    assert first.data["first_use"] is True
    assert first.data["booking_uid"] == await uid_of(hass, "Garcia")
    assert first.data["booking_calendar"] == AIRBNB


async def test_phone_rule_falls_back_to_the_seeded_code(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """No phone in the description, or digits the lock already has."""
    home = seed_ttlock_home(ttlock_cloud)
    await local_calendar(hass, tmp_path)
    await setup_entry(
        hass,
        ttlock_data(ttlock_cloud),
        options=follow(home.front, code_rule="phone", phone_digits=4),
    )
    await call(hass, "add_code", FRONT, name="Cleaner", code="5678", **window())
    synced = listen(hass, EVENT_BOOKING_SYNCED)
    panel = Panel(hass)
    await panel.create(
        "A", at(2), at(4), description="Phone Number (Last 4 Digits): 5678"
    )
    await panel.create("B", at(5), at(7), description="no number here")
    await advance(hass, freezer, SYNC_INTERVAL)
    pins = ttlock_pins(ttlock_cloud, home.front)
    assert len(pins) == 3
    assert pins.count("5678") == 1
    assert [e.data["code_rule"] for e in synced] == ["seeded", "seeded"]


async def test_two_hundred_bookings_then_only_the_differences(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    home = seed_ttlock_home(ttlock_cloud)
    await local_calendar(hass, tmp_path)
    await setup_entry(hass, ttlock_data(ttlock_cloud), options=follow(home.front))
    panel = Panel(hass)
    for n in range(200):
        await panel.create(f"Guest {n}", at(1 + n, 16), at(2 + n, 10))
    await advance(hass, freezer, SYNC_INTERVAL)
    assert len(ttlock_cloud.passcodes[home.front]) == 200
    assert len(set(ttlock_pins(ttlock_cloud, home.front))) == 200

    ttlock_cloud.reset_calls()
    for n in (3, 50, 120):
        uid = await uid_of(hass, f"Guest {n}")
        await panel.move(uid, f"Guest {n}", at(1 + n, 18), at(2 + n, 10))
    for n in (7, 150):
        await panel.delete(await uid_of(hass, f"Guest {n}"))
    await panel.create("Late booking", at(300, 16), at(302, 10))
    await advance(hass, freezer, SYNC_INTERVAL)
    assert _writes(ttlock_cloud) == {"add": 1, "change": 3, "delete": 2}
    assert len(ttlock_cloud.passcodes[home.front]) == 199


async def test_restart_in_the_middle_of_a_sync(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """Home Assistant restarts while the sync's first upload is at the
    gateway (it lands later): afterwards every booking has exactly one code."""
    home = seed_ttlock_home(ttlock_cloud)
    await local_calendar(hass, tmp_path)
    panel = Panel(hass)
    for n in range(5):
        await panel.create(f"Guest {n}", at(3 + 3 * n, 16), at(5 + 3 * n, 10))
    gate = ttlock_cloud.hold(ADD_PATH)
    entry = await setup_entry(
        hass, ttlock_data(ttlock_cloud), options=follow(home.front)
    )
    await gate.arrived.wait()
    assert len(ttlock_cloud.passcodes[home.front]) == 0
    await restart(hass, entry)
    gate.release()
    await until(lambda: len(ttlock_cloud.passcodes[home.front]) >= 1)
    await hass.async_block_till_done(wait_background_tasks=True)
    for _ in range(4):
        await advance(hass, freezer, SYNC_INTERVAL)
    names = sorted(
        c["keyboardPwdName"] for c in ttlock_cloud.passcodes[home.front].values()
    )
    assert names == [f"Guest {n}" for n in range(5)]
    live = [r for r in records(hass, entry) if r.present and not r.tombstone]
    assert len(live) == 5
    assert len({r.booking_uid for r in live}) == 5


async def test_an_unavailable_calendar_deletes_nothing(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """A calendar that cannot be read is not a calendar without bookings."""
    home = seed_ttlock_home(ttlock_cloud)
    calendar_entry = await local_calendar(hass, tmp_path)
    await setup_entry(hass, ttlock_data(ttlock_cloud), options=follow(home.front))
    panel = Panel(hass)
    await panel.create("Smith", at(5, 16), at(8, 10))
    await advance(hass, freezer, SYNC_INTERVAL)
    assert len(ttlock_cloud.passcodes[home.front]) == 1
    assert await hass.config_entries.async_unload(calendar_entry.entry_id)
    await hass.async_block_till_done()
    ttlock_cloud.reset_calls()
    for _ in range(3):
        await advance(hass, freezer, SYNC_INTERVAL)
    assert _writes(ttlock_cloud) == {"add": 0, "change": 0, "delete": 0}
    assert len(ttlock_cloud.passcodes[home.front]) == 1


INIT_OPTIONS = {
    "cleanup_interval": 1440,
    "retry_interval": 20,
    "retry_attempts": 5,
    "cleanup_all_expired": False,
    "expose_codes": False,
    "api_budget": 30000,
}


async def test_options_flow_follows_and_unfollows_a_calendar(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """Options > follow booking calendars > follow a calendar: the entry
    reloads and the stays become codes; our own calendar and an empty lock
    list are refused; saving the other options keeps the followed calendar."""
    home = seed_ttlock_home(ttlock_cloud)
    await local_calendar(hass, tmp_path)
    panel = Panel(hass)
    await panel.create("Reserved", at(4, 16), at(6, 10))
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    flow = hass.config_entries.options
    result = await flow.async_init(entry.entry_id)
    result = await flow.async_configure(
        result["flow_id"], {**INIT_OPTIONS, "manage_booking_calendars": True}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["add_booking", "save_bookings"]
    result = await flow.async_configure(
        result["flow_id"], {"next_step_id": "add_booking"}
    )
    assert result["step_id"] == "add_booking"
    lock_choices = result["data_schema"].schema["locks"].config["options"]
    # The shed takes no codes through the cloud: not offered.
    assert [c["label"] for c in lock_choices] == ["Back door", "Front door"]
    entered = {
        "calendar": FRONT_CAL,
        "locks": [str(home.front)],
        "check_in": "16:00:00",
        "check_out": "10:00:00",
        "buffer_before": 30,
        "buffer_after": 0,
        "code_rule": "random",
        "phone_digits": 4,
    }
    result = await flow.async_configure(result["flow_id"], entered)
    assert result["errors"] == {"calendar": "own_calendar"}
    result = await flow.async_configure(
        result["flow_id"], {**entered, "calendar": AIRBNB, "locks": []}
    )
    assert result["errors"] == {"locks": "no_locks"}
    result = await flow.async_configure(
        result["flow_id"], {**entered, "calendar": AIRBNB}
    )
    assert result["type"] is FlowResultType.MENU
    result = await flow.async_configure(
        result["flow_id"], {"next_step_id": "save_bookings"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options["booking_calendars"][0]["calendar"] == AIRBNB
    (stored,) = ttlock_cloud.passcodes[home.front].values()
    assert stored["keyboardPwdName"] == "Reserved"

    # Saving the code options again keeps the followed calendar.
    result = await flow.async_init(entry.entry_id)
    result = await flow.async_configure(result["flow_id"], INIT_OPTIONS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [b["calendar"] for b in entry.options["booking_calendars"]] == [AIRBNB]

    # Unfollowed: the code stays (it expires with the stay), no more syncs.
    result = await flow.async_init(entry.entry_id)
    result = await flow.async_configure(
        result["flow_id"], {**INIT_OPTIONS, "manage_booking_calendars": True}
    )
    result = await flow.async_configure(
        result["flow_id"], {"next_step_id": "remove_booking"}
    )
    result = await flow.async_configure(result["flow_id"], {"remove": [AIRBNB]})
    result = await flow.async_configure(
        result["flow_id"], {"next_step_id": "save_bookings"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options["booking_calendars"] == []
    await panel.delete(await uid_of(hass, "Reserved"))
    await advance(hass, freezer, SYNC_INTERVAL)
    assert len(ttlock_cloud.passcodes[home.front]) == 1


async def test_a_refused_code_is_not_asked_every_sync(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """A full code store (TTLock -3009): one failed event, the add asked
    again hourly, not every 15 minutes; it lands once there is room."""
    home = seed_ttlock_home(ttlock_cloud)
    for n in range(250):
        foreign_code(ttlock_cloud, home.front, 5_000_000 + n, end_hours=500)
    await local_calendar(hass, tmp_path)
    await setup_entry(hass, ttlock_data(ttlock_cloud), options=follow(home.front))
    synced = listen(hass, EVENT_BOOKING_SYNCED)
    await Panel(hass).create("Smith", at(5, 16), at(8, 10))
    await advance(hass, freezer, SYNC_INTERVAL)
    assert [e.data["action"] for e in synced] == ["failed"]
    assert synced[0].data["reason"] == "code_storage_full"
    # The create's state change synced at once: 15 minutes ago now.
    ttlock_cloud.reset_calls()
    for _ in range(2):
        await advance(hass, freezer, SYNC_INTERVAL)
    assert ttlock_cloud.calls[ADD_PATH] == 0
    del ttlock_cloud.passcodes[home.front][5_000_000]
    await advance(hass, freezer, SYNC_INTERVAL)  # an hour after the refusal
    assert [e.data["action"] for e in synced] == ["failed", "added"]
    assert any(
        c["keyboardPwdName"] == "Smith"
        for c in ttlock_cloud.passcodes[home.front].values()
    )


async def test_a_tuya_lock_follows_a_calendar(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """Tuya: 7 seeded digits (its only length; the 4 phone digits do not fit);
    a moved stay is delete + re-add under the same ledger code; the guest
    keeps the digits."""
    device = tuya_cloud.add_device(name="Flat door")
    await local_calendar(hass, tmp_path)
    entry = await setup_entry(
        hass,
        tuya_data(tuya_cloud),
        options=follow(device, code_rule="phone", phone_digits=4),
    )
    panel = Panel(hass)
    await panel.create("Reserved", at(3, 16), at(6, 10), description="Phone: 5551234")
    await advance(hass, freezer, SYNC_INTERVAL)
    (stored,) = tuya_cloud.codes[device].values()
    assert len(stored["pin"]) == 7
    pin = stored["pin"]
    (record,) = records(hass, entry)
    tuya_cloud.reset_calls()
    await panel.move(await uid_of(hass, "Reserved"), "Reserved", at(4, 16), at(6, 10))
    await advance(hass, freezer, SYNC_INTERVAL)
    assert tuya_cloud.calls[TUYA_DELETE] == 1
    assert tuya_cloud.calls[TUYA_ADD] == 1
    (stored,) = tuya_cloud.codes[device].values()
    assert stored["pin"] == pin
    assert stored["effective_time"] == ms(at(4, 16).isoformat()) // 1000
    (after,) = [r for r in records(hass, entry) if r.present]
    assert after.id == record.id
