"""Following an Airbnb-style iCal feed through Home Assistant's real
remote_calendar, fed by an ICS file served on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ttlock_gateway.booking import EVENT_BOOKING_SYNCED, SYNC_INTERVAL
from tests.booking_common import AIRBNB, follow
from tests.common import seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.ledger_common import advance, listen, ms

# The shape of Airbnb's host calendar export: stays as all-day events
# (DTEND = check-out day), "Reserved" with the reservation URL and the last 4
# digits of the guest's phone in DESCRIPTION, blocked nights as "Airbnb (Not
# available)". As parsed by public Airbnb iCal readers (e.g. the
# AirbnbCalendarEvent interfaces and parsers found on GitHub: "Phone Number
# (Last 4 Digits)", "Not available"); uids and digits here are made up.
STAY = """BEGIN:VEVENT
DTSTAMP:20261201T080000Z
DTSTART;VALUE=DATE:20261210
DTEND;VALUE=DATE:20261213
SUMMARY:Reserved
UID:1418fb94e984-5f2d6c1e0a7b4d3c9e8f@airbnb.com
DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/det
 ails/HMABCDEF12\\nPhone Number (Last 4 Digits): 4821
END:VEVENT
"""
BLOCKED = """BEGIN:VEVENT
DTSTAMP:20261201T080000Z
DTSTART;VALUE=DATE:20261215
DTEND;VALUE=DATE:20261217
SUMMARY:Airbnb (Not available)
UID:7f3e2a1b9c8d-0e1f2a3b4c5d6e7f8a9b@airbnb.com
END:VEVENT
"""
# One uid twice (a feed merging two listings' exports): one code for both.
TWICE = """BEGIN:VEVENT
DTSTAMP:20261201T080000Z
DTSTART;VALUE=DATE:20261220
DTEND;VALUE=DATE:20261222
SUMMARY:Reserved
UID:dup-2b9c@airbnb.com
DESCRIPTION:Phone Number (Last 4 Digits): 7305
END:VEVENT
BEGIN:VEVENT
DTSTAMP:20261201T080000Z
DTSTART;VALUE=DATE:20261221
DTEND;VALUE=DATE:20261224
SUMMARY:Reserved
UID:dup-2b9c@airbnb.com
DESCRIPTION:Phone Number (Last 4 Digits): 7305
END:VEVENT
"""
# A timed event in another time zone (a Booking.com-style export).
NEW_YORK = """BEGIN:VEVENT
DTSTAMP:20261201T080000Z
DTSTART;TZID=America/New_York:20261226T160000
DTEND;TZID=America/New_York:20261228T100000
SUMMARY:Ms. Lee
UID:bdc-881@booking.example
DESCRIPTION:Phone: +1 212 555 0148
END:VEVENT
"""


def ics(*events: str) -> str:
    body = "".join(events)
    text = (
        "BEGIN:VCALENDAR\nPRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN\n"
        f"CALSCALE:GREGORIAN\nVERSION:2.0\n{body}END:VCALENDAR\n"
    )
    return text.replace("\n", "\r\n")


class Feed:
    """An ICS file on loopback."""

    def __init__(self) -> None:
        self.text = ics()
        self.requests = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.Response(text=self.text, content_type="text/calendar")


@pytest.fixture
async def feed(socket_enabled: Any) -> AsyncIterator[Feed]:
    served = Feed()
    app = web.Application()
    app.router.add_get("/airbnb.ics", served.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    served.url = f"http://127.0.0.1:{port}/airbnb.ics"
    yield served
    await runner.cleanup()


async def remote_calendar(hass: HomeAssistant, feed: Feed) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain="remote_calendar",
        data={"calendar_name": "Airbnb", "url": feed.url, "verify_ssl": False},
        title="Airbnb",
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def refresh(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """What ``homeassistant.update_entity`` on the feed does."""
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_an_airbnb_feed(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    feed: Feed,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Stays get codes with check-in 15:00 / check-out 11:00 (Berlin), the
    phone rule gives Airbnb's last 4 digits, blocked nights get nothing, a
    repeated uid gets one code for both windows, a New York time stays New
    York's; a stay dropped from the feed (cancelled) loses its code."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to("2026-12-05T10:00:00+00:00")
    feed.text = ics(STAY, BLOCKED, TWICE, NEW_YORK)
    home = seed_ttlock_home(ttlock_cloud)
    calendar_entry = await remote_calendar(hass, feed)
    assert hass.states.get(AIRBNB) is not None
    await setup_entry(
        hass,
        ttlock_data(ttlock_cloud),
        options=follow(home.front, code_rule="phone", phone_digits=4),
    )
    synced = listen(hass, EVENT_BOOKING_SYNCED)
    await advance(hass, freezer, SYNC_INTERVAL)
    codes = {c["keyboardPwd"]: c for c in ttlock_cloud.passcodes[home.front].values()}
    assert sorted(codes) == ["0148", "4821", "7305"]
    stay = codes["4821"]
    # 15:00 and 11:00 in Berlin (CET, UTC+1).
    assert stay["startDate"] == ms("2026-12-10T14:00:00+00:00")
    assert stay["endDate"] == ms("2026-12-13T10:00:00+00:00")
    assert stay["keyboardPwdName"] == "Reserved"
    joined = codes["7305"]
    assert joined["startDate"] == ms("2026-12-20T14:00:00+00:00")
    assert joined["endDate"] == ms("2026-12-24T10:00:00+00:00")
    new_york = codes["0148"]
    # 16:00 / 10:00 in New York (EST, UTC-5).
    assert new_york["startDate"] == ms("2026-12-26T21:00:00+00:00")
    assert new_york["endDate"] == ms("2026-12-28T15:00:00+00:00")
    assert [e.data["action"] for e in synced] == ["added"] * 3

    # The stay is cancelled: the feed no longer lists it.
    feed.text = ics(BLOCKED, TWICE, NEW_YORK)
    ttlock_cloud.reset_calls()
    await refresh(hass, calendar_entry)
    await advance(hass, freezer, SYNC_INTERVAL)
    assert sorted(
        c["keyboardPwd"] for c in ttlock_cloud.passcodes[home.front].values()
    ) == [
        "0148",
        "7305",
    ]
    assert ttlock_cloud.calls["/v3/keyboardPwd/delete"] == 1
    assert ttlock_cloud.calls["/v3/keyboardPwd/add"] == 0
    assert synced[-1].data["action"] == "deleted"
    assert synced[-1].data["uid"] == "1418fb94e984-5f2d6c1e0a7b4d3c9e8f@airbnb.com"


async def test_a_feed_that_fails_changes_nothing(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    feed: Feed,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The feed answers garbage later: remote_calendar keeps (or drops) its
    data, and the sync never reads an outage as "every stay cancelled"."""
    freezer.move_to("2026-12-05T10:00:00+00:00")
    feed.text = ics(STAY)
    home = seed_ttlock_home(ttlock_cloud)
    calendar_entry = await remote_calendar(hass, feed)
    await setup_entry(hass, ttlock_data(ttlock_cloud), options=follow(home.front))
    await advance(hass, freezer, SYNC_INTERVAL)
    assert len(ttlock_cloud.passcodes[home.front]) == 1
    feed.text = "<html>502 Bad Gateway</html>"
    ttlock_cloud.reset_calls()
    await refresh(hass, calendar_entry)
    for _ in range(3):
        await advance(hass, freezer, SYNC_INTERVAL)
    assert ttlock_cloud.calls["/v3/keyboardPwd/delete"] == 0
    assert len(ttlock_cloud.passcodes[home.front]) == 1
