"""Locks, passage-mode switches, sensors and their errors against the fake TTLock cloud."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.lock import DOMAIN as LOCK_DOMAIN, LockState
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_LOCK,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    SERVICE_UNLOCK,
    STATE_OFF,
    STATE_ON,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ttlock_gateway.const import DOMAIN
from tests.common import seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud


async def _unlock(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def test_entities_of_an_account(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Each lock is a device; capabilities decide which entities exist."""
    home = seed_ttlock_home(ttlock_cloud)
    ttlock_cloud.locks[home.front]["electricQuantity"] = 64
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))

    # No record has told us the bolt position: unknown, never a guess.
    assert hass.states.get("lock.front_door").state == STATE_UNKNOWN
    assert hass.states.get("sensor.front_door_battery").state == "64"
    assert hass.states.get("switch.front_door_passage_mode").state == STATE_OFF
    assert hass.states.get("switch.shed_passage_mode") is None
    assert hass.states.get("binary_sensor.hall_gateway_connectivity").state == STATE_ON
    # Diagnostic auto-lock time is registered but disabled by default.
    reg = er.async_get(hass).async_get("sensor.front_door_auto_lock_time")
    assert reg is not None
    assert reg.disabled_by is er.RegistryEntryDisabler.INTEGRATION

    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    names = sorted(d.name or "" for d in devices)
    # The account's own device holds its API call count.
    assert names == ["Back door", "Front door", "Hall gateway", "Shed", "Test account"]


async def test_unlock_then_auto_lock(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A successful unlock shows unlocked, then locked after the auto-lock time."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))

    await _unlock(hass, "lock.front_door")
    assert ttlock_cloud.unlocks == [home.front]
    assert hass.states.get("lock.front_door").state == LockState.UNLOCKED

    freezer.tick(timedelta(seconds=6))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("lock.front_door").state == LockState.LOCKED


async def test_unlock_in_passage_mode_stays_unlocked(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Passage mode suspends auto-lock: the door is open, never shown relocked."""
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: "switch.front_door_passage_mode"},
        blocking=True,
    )
    await _unlock(hass, "lock.front_door")
    freezer.tick(timedelta(seconds=6))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("lock.front_door").state == LockState.UNLOCKED
    # Passage mode switched on while an unlock waits to relock: still open.
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_OFF,
        {ATTR_ENTITY_ID: "switch.front_door_passage_mode"},
        blocking=True,
    )
    await _unlock(hass, "lock.front_door")
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: "switch.front_door_passage_mode"},
        blocking=True,
    )
    freezer.tick(timedelta(seconds=6))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("lock.front_door").state == LockState.UNLOCKED


async def test_unlock_without_auto_lock_stays_unlocked(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Without a known auto-lock time nothing pretends the door relocked."""
    gateway = ttlock_cloud.add_gateway(name="Hall gateway")
    ttlock_cloud.add_lock(name="Garage", gateway_id=gateway)
    await setup_entry(hass, ttlock_data(ttlock_cloud))

    await _unlock(hass, "lock.garage")
    freezer.tick(timedelta(minutes=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("lock.garage").state == LockState.UNLOCKED


async def test_remote_lock_where_supported(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Locking goes to the cloud only when the lock can do it."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))

    await hass.services.async_call(
        LOCK_DOMAIN, SERVICE_LOCK, {ATTR_ENTITY_ID: "lock.front_door"}, blocking=True
    )
    assert ttlock_cloud.locks_done == [home.front]
    assert hass.states.get("lock.front_door").state == LockState.LOCKED

    before = ttlock_cloud.calls["/v3/lock/lock"]
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            LOCK_DOMAIN, SERVICE_LOCK, {ATTR_ENTITY_ID: "lock.shed"}, blocking=True
        )
    assert err.value.translation_key == "remote_lock_not_supported"
    assert ttlock_cloud.calls["/v3/lock/lock"] == before


@pytest.mark.parametrize(
    ("setup_fault", "translation_key"),
    [
        ("remote_disabled", "not_supported"),
        ("gateway_offline", "gateway_offline"),
        ("no_gateway", "lock_no_gateway"),
        ("rate_limit", "rate_limited"),
        ("cloud_down", "cannot_connect"),
        ("bad_param", "action_failed"),
    ],
)
async def test_unlock_failures_tell_the_user_what_to_do(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    setup_fault: str,
    translation_key: str,
) -> None:
    """Each failure class becomes a translated error; the state is not changed."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    entity_id = "lock.front_door"
    if setup_fault == "remote_disabled":
        entity_id = "lock.back_door"
    elif setup_fault == "gateway_offline":
        ttlock_cloud.gateways[home.gateway]["isOnline"] = 0
    elif setup_fault == "no_gateway":
        entity_id = "lock.shed"
    elif setup_fault == "rate_limit":
        ttlock_cloud.fail("/v3/lock/unlock", 30006, "API call limit")
    elif setup_fault == "cloud_down":
        ttlock_cloud.set_outage("http500")
    elif setup_fault == "bad_param":
        ttlock_cloud.fail("/v3/lock/unlock", -3, "invalid parameter")

    with pytest.raises(HomeAssistantError) as err:
        await _unlock(hass, entity_id)
    assert err.value.translation_key == translation_key
    assert str(err.value)  # translated text, not an empty message
    # Fixable by the user (a setting in the app, pairing a gateway): a
    # ServiceValidationError, not an internal error (HTTP 500, ERROR log line).
    assert isinstance(err.value, ServiceValidationError) == (
        setup_fault in ("remote_disabled", "no_gateway")
    )
    # The cloud's English errmsg is never put into the translated message.
    assert "reason" not in (err.value.translation_placeholders or {})
    assert ttlock_cloud.unlocks == []
    assert hass.states.get(entity_id).state == STATE_UNKNOWN


async def test_busy_gateway_is_retried(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """A busy answer (-3003) is retried by the client; the user sees success."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.fail("/v3/lock/unlock", -3003, "gateway busy", times=1)

    await _unlock(hass, "lock.front_door")
    assert ttlock_cloud.unlocks == [home.front]
    assert ttlock_cloud.calls["/v3/lock/unlock"] == 2


async def test_passage_mode_on_and_off(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """The switch configures all-day passage mode through the gateway."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    entity_id = "switch.front_door_passage_mode"

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    assert ttlock_cloud.locks[home.front]["passageMode"] == 1
    assert hass.states.get(entity_id).state == STATE_ON

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    assert ttlock_cloud.locks[home.front]["passageMode"] == 2
    assert hass.states.get(entity_id).state == STATE_OFF


async def test_passage_mode_failure_keeps_state(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """A failed switch leaves the shown state as it was."""
    home = seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.gateways[home.gateway]["isOnline"] = 0

    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            SWITCH_DOMAIN,
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: "switch.front_door_passage_mode"},
            blocking=True,
        )
    assert err.value.translation_key == "gateway_offline"
    assert hass.states.get("switch.front_door_passage_mode").state == STATE_OFF


async def test_last_activity_from_records(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Records polled at setup give the state and the last activity."""
    home = seed_ttlock_home(ttlock_cloud)
    ttlock_cloud.add_record(home.back, 4, username="Guest", keyboard_pwd="123456")
    data = ttlock_data(ttlock_cloud)
    entry = MockConfigEntry(
        domain=DOMAIN, title="Test account", data=data, unique_id="acct"
    )
    entry.add_to_hass(hass)
    # Disabled by default (the event entity has the same); the user enabled it.
    er.async_get(hass).async_get_or_create(
        "sensor",
        DOMAIN,
        f"acct_{home.back}_last_activity",
        config_entry=entry,
        suggested_object_id="back_door_last_activity",
    )
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    state = hass.states.get("sensor.back_door_last_activity")
    assert state.state != STATE_UNKNOWN
    assert state.attributes["method"] == "code"
    assert state.attributes["event_type"] == "unlocked"
    assert "123456" not in str(state.attributes)


async def test_remote_unlock_disabled_raises_repair_until_it_works(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """-4043: a repair notice names the lock; the next successful unlock clears it."""
    home = seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    issue_id = f"remote_unlock_disabled_{entry.unique_id}_{home.back}"
    issues = ir.async_get(hass)

    with pytest.raises(ServiceValidationError):
        await _unlock(hass, "lock.back_door")
    issue = issues.async_get_issue("ttlock_gateway", issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"name": "Back door", "app": "TTLock"}

    ttlock_cloud.remote_unlock_disabled.discard(home.back)
    await _unlock(hass, "lock.back_door")
    assert ttlock_cloud.unlocks == [home.back]
    assert issues.async_get_issue("ttlock_gateway", issue_id) is None
