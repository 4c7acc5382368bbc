"""Service edge paths: naive times, locks without codes, long windows, exposure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest

from custom_components.ttlock_gateway.const import CONF_EXPOSE_CODES
from tests.common import seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.test_services import ADD_PATH, FRONT, LIST_PATH, SHED, call, window


async def test_naive_times_are_home_assistant_local_time(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """'2030-07-01 15:00' in an automation means 15:00 at home, not UTC."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    await call(
        hass,
        "add_code",
        FRONT,
        name="Summer guest",
        code="246810",
        start="2030-07-01 15:00:00",
        end="2030-07-04 11:00:00",
    )
    (stored,) = ttlock_cloud.passcodes[home.front].values()
    # Berlin is UTC+2 in July.
    assert stored["startDate"] == int(
        datetime(2030, 7, 1, 13, tzinfo=UTC).timestamp() * 1000
    )
    assert stored["endDate"] == int(
        datetime(2030, 7, 4, 9, tzinfo=UTC).timestamp() * 1000
    )


@pytest.mark.parametrize(
    ("service", "data"),
    [("list_codes", {}), ("delete_code", {"name": "Guest"})],
)
async def test_lock_without_codes_is_refused(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    service: str,
    data: dict[str, str],
) -> None:
    """A Bluetooth-only shed without a keypad cannot take codes from the cloud
    (no gateway for uploaded codes, no passcode feature for offline ones)."""
    home = seed_ttlock_home(ttlock_cloud)
    ttlock_cloud.set_feature(home.shed, 0, False)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.reset_calls()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, service, [FRONT, SHED], **data)
    assert err.value.translation_key == "codes_not_supported"
    assert err.value.translation_placeholders == {"name": "Shed"}
    assert ttlock_cloud.total_calls == 0


async def test_events_window_too_long(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.reset_calls()
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "get_events",
            FRONT,
            start=(dt_util.now() - timedelta(days=200)).isoformat(),
        )
    assert err.value.translation_key == "events_window_too_long"
    assert err.value.translation_placeholders == {"days": "186"}
    assert ttlock_cloud.total_calls == 0


async def test_generated_code_when_listing_fails(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """The collision check cannot list the codes: the code is still generated and
    sent (a clash would be refused by the lock as a duplicate)."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.reset_calls()
    ttlock_cloud.fail(LIST_PATH, -3034, "system busy")
    result = await call(hass, "add_code", FRONT, name="Guest", **window())
    assert result[FRONT]["status"] == "added"
    code = result[FRONT]["code"]
    assert len(code) == 6
    assert code.isdigit()
    assert [c["keyboardPwd"] for c in ttlock_cloud.passcodes[home.front].values()] == [
        code
    ]
    assert ttlock_cloud.calls[LIST_PATH] == 1


async def test_exposed_digits_of_queued_codes_and_events(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """With expose_codes on, queued codes and events carry the digits."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud), {CONF_EXPOSE_CODES: True})
    ttlock_cloud.fail(ADD_PATH, -3002, "The gateway is offline")
    result = await call(hass, "add_code", FRONT, name="Late", code="97531", **window())
    assert result[FRONT]["status"] == "queued"
    listed = await call(hass, "list_codes", FRONT)
    assert [(c["name"], c["status"], c["code"]) for c in listed[FRONT]["codes"]] == [
        ("Late", "queued", "97531")
    ]

    ttlock_cloud.add_record(home.front, 4, keyboard_pwd="97531", username="Late")
    events = await call(hass, "get_events", FRONT)
    assert [ev["code"] for ev in events[FRONT]["events"]] == ["97531"]
