"""What the user sees when an action meets an account-level cloud error, and the
cloudhook URL staying out of diagnostics."""

from __future__ import annotations

import json

from homeassistant.components.lock import DOMAIN as LOCK_DOMAIN, SERVICE_UNLOCK
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ttlock_gateway.const import DOMAIN
from tests.common import seed_ttlock_home, setup_entry, ttlock_data, tuya_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud

CLOUDHOOK = "https://hooks.nabu.casa/secret-cloudhook-id-0123456789"


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def _unlock(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def test_unlock_refused_credentials_says_reauthenticate(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    ttlock_cloud.fail("/v3/lock/unlock", 10000, "invalid client_id")
    with pytest.raises(HomeAssistantError) as err:
        await _unlock(hass, "lock.front_door")
    assert err.value.translation_key == "auth_failed"
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["name"] == "Front door"
    assert ttlock_cloud.unlocks == []
    # Nothing was unlocked, so the bolt state is not guessed.
    assert _state(hass, "lock.front_door") != "unlocked"


async def test_tuya_unlock_with_lapsed_plan_says_so(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    device = tuya_cloud.add_device(name="Flat door")
    await setup_entry(hass, tuya_data(tuya_cloud))
    entity_id = next(
        e.entity_id
        for e in er.async_get(hass).entities.values()
        if e.domain == "lock" and e.platform == DOMAIN
    )
    tuya_cloud.lapse_plan()
    with pytest.raises(HomeAssistantError) as err:
        await _unlock(hass, entity_id)
    assert err.value.translation_key == "subscription_lapsed"
    assert err.value.translation_placeholders is not None
    # Its own message: the cloud's English text is not passed in.
    assert "reason" not in err.value.translation_placeholders
    assert device not in tuya_cloud.unlocks


async def test_cloudhook_url_not_in_diagnostics(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client: ClientSessionGenerator,
) -> None:
    """Anyone holding a cloudhook URL can post fake lock events: never shown."""
    assert await async_setup_component(hass, "diagnostics", {})
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(
        hass, {**ttlock_data(ttlock_cloud), "cloudhook_url": CLOUDHOOK}
    )
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    dumped = json.dumps(diag)
    assert CLOUDHOOK not in dumped
    assert "secret-cloudhook-id" not in dumped
    assert "Home Assistant Cloud webhook" in dumped
