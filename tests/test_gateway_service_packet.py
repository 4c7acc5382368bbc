"""The gateway service's code packet (sensor, repairs), events and a code's
uses through the service, and a revoked token."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest

from custom_components.ttlock_gateway.const import DOMAIN, EVENT_LOCK
from tests.gateway_service_ha import GatewayHome
from tests.ledger_common import FRONT, advance, call, listen, records

SENSOR = "sensor.owner_example_com_codes_left_in_packet"


def _window() -> dict[str, str]:
    now = dt_util.utcnow()
    return {
        "start": (now + timedelta(hours=1)).isoformat(),
        "end": (now + timedelta(days=3)).isoformat(),
    }


def _packet_issue(hass: HomeAssistant, gw: GatewayHome) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(
        DOMAIN, f"code_packet_{gw.entry.entry_id}"
    )


async def test_packet_sensor(hass: HomeAssistant, gw_home: GatewayHome) -> None:
    """Codes left and the expiry from get_codes_count."""
    state = hass.states.get(SENSOR)
    assert state.state == "10"
    user = gw_home.service.user()
    expires = dt_util.parse_datetime(state.attributes["expires_at"])
    assert expires is not None
    assert abs(expires.timestamp() - user.packet_end) < 1
    assert state.attributes["unlimited"] is False
    assert _packet_issue(hass, gw_home) is None


async def test_last_code_raises_repair_before_the_next_fails(
    hass: HomeAssistant, gw_home: GatewayHome, freezer: FrozenDateTimeFactory
) -> None:
    """The code that uses the packet up raises the repair at once; the next
    code is refused before anything is stored; a renewed packet clears it."""
    service = gw_home.service
    service.set_packet(service.user(), 1, days=30)
    await advance(hass, freezer, timedelta(days=1))  # daily reading
    assert hass.states.get(SENSOR).state == "1"
    result = await call(
        hass, "add_code", FRONT, name="Guest", code="4711923", **_window()
    )
    assert result[FRONT]["status"] == "added"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(SENSOR).state == "0"
    issue = _packet_issue(hass, gw_home)
    assert issue is not None
    assert issue.translation_key == "code_packet_exhausted"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_code", FRONT, name="Next", code="5822034", **_window())
    assert err.value.translation_key == "code_packet"
    assert [r.name for r in records(hass, gw_home.entry)] == ["Guest"]
    service.set_packet(service.user(), 10, days=365)
    await advance(hass, freezer, timedelta(days=1))
    assert hass.states.get(SENSOR).state == "10"
    assert _packet_issue(hass, gw_home) is None


async def test_packet_expiry_raises_repair_when_it_passes(
    hass: HomeAssistant, gw_home: GatewayHome, freezer: FrozenDateTimeFactory
) -> None:
    """Raised the moment the packet expires, not at the next daily reading."""
    service = gw_home.service
    service.set_packet(service.user(), 5, days=1.5)
    await advance(hass, freezer, timedelta(days=1))
    assert _packet_issue(hass, gw_home) is None
    await advance(hass, freezer, timedelta(hours=13))
    issue = _packet_issue(hass, gw_home)
    assert issue is not None
    assert issue.translation_key == "code_packet_expired"


async def test_events_polled_and_code_uses(
    hass: HomeAssistant, gw_home: GatewayHome, freezer: FrozenDateTimeFactory
) -> None:
    """get_lock_events every 6 h; get_events by code and its first entry go
    through the service's own look-ups."""
    events = listen(hass, EVENT_LOCK)
    front = int(gw_home.front)
    now_ms = int(dt_util.utcnow().timestamp() * 1000)
    service = gw_home.service
    service.add_event(
        front,
        4,
        keyboard_pwd="4711923",
        lock_date_ms=now_ms + 60_000,
        record_type_from_lock=4,
    )
    service.add_event(
        front,
        4,
        keyboard_pwd="4711923",
        lock_date_ms=now_ms + 120_000,
        record_type_from_lock=4,
    )
    service.add_event(
        front,
        4,
        keyboard_pwd="999111",
        lock_date_ms=now_ms + 180_000,
        record_type_from_lock=4,
    )
    before = service.calls["get_lock_events"]
    await advance(hass, freezer, timedelta(hours=6, minutes=5))
    assert service.calls["get_lock_events"] > before
    assert len([e for e in events if e.data.get("lock_id") == str(front)]) == 3
    window = {
        "start": dt_util.utc_from_timestamp(now_ms / 1000).isoformat(),
        "end": dt_util.utcnow().isoformat(),
    }
    uses = await call(hass, "get_events", FRONT, code="4711923", **window)
    assert len(uses[FRONT]["events"]) == 2
    assert service.calls["get_events_by_code"] == 1
    first = await call(
        hass, "get_events", FRONT, code="4711923", first_only=True, **window
    )
    assert len(first[FRONT]["events"]) == 1
    assert service.calls["get_lock_events2"] == 1
    assert first[FRONT]["events"][0]["time"] == uses[FRONT]["events"][0]["time"]


async def test_revoked_token_is_renewed(
    hass: HomeAssistant, gw_home: GatewayHome
) -> None:
    """A 401 gets one new token and the call goes through."""
    service = gw_home.service
    tokens = service.calls["get_token"]
    service.revoke_tokens()
    await hass.services.async_call(
        "lock", "unlock", {"entity_id": FRONT}, blocking=True
    )
    assert hass.states.get(FRONT).state == "unlocked"
    assert service.calls["get_token"] == tokens + 1
