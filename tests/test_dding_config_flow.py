"""Config flow for a Dding SaaS partner account (issue 19): sign-in, homes, reauth."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.ttlock_gateway.const import (
    CONF_BASE_URL,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_DEFAULT_PHONE,
    CONF_HOME_IDS,
    CONF_PROVIDER,
    CONF_WEBHOOK_ID,
    DOMAIN,
    PROVIDER_DDING,
)
from tests.common import DDING_HOME, dding_data, seed_dding_home, setup_entry
from tests.fakes.dding_cloud import FakeDdingCloud


def _input(cloud: FakeDdingCloud, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        CONF_CLIENT_ID: cloud.CLIENT_ID,
        CONF_CLIENT_SECRET: cloud.CLIENT_SECRET,
        CONF_HOME_IDS: [DDING_HOME],
        CONF_BASE_URL: cloud.base_url,
    }
    data.update(overrides)
    return data


async def _start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert PROVIDER_DDING in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": PROVIDER_DDING}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == PROVIDER_DDING
    assert result["errors"] == {}
    return str(result["flow_id"])


def _suggested(result: Any) -> dict[str, Any]:
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if isinstance(key.description, dict) and "suggested_value" in key.description
    }


async def test_dding_user_flow_creates_entry(
    hass: HomeAssistant, dding_cloud: FakeDdingCloud
) -> None:
    """Client id, secret and two homes: one entry named for the account, loaded."""
    seed_dding_home(dding_cloud)
    dding_cloud.add_home("home-2002")
    dding_cloud.add_lock("home-2002", name="Cabin")
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        _input(dding_cloud, **{CONF_HOME_IDS: [DDING_HOME, " home-2002 ", DDING_HOME]}),
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Dding (2 homes, 4 locks)"
    data = result["data"]
    assert data[CONF_PROVIDER] == PROVIDER_DDING
    assert data[CONF_HOME_IDS] == [DDING_HOME, "home-2002"]
    assert data[CONF_WEBHOOK_ID]
    assert result["result"].unique_id == dding_cloud.CLIENT_ID
    # The partner gives Dding the URL (there is no console field for it).
    assert result["description"] in ("dding", "no_external_url")
    assert result["result"].state is ConfigEntryState.LOADED


async def test_dding_home_ids_as_text(
    hass: HomeAssistant, dding_cloud: FakeDdingCloud
) -> None:
    """Home ids pasted as one item (commas or blanks) are split."""
    seed_dding_home(dding_cloud)
    dding_cloud.add_home("home-2002")
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _input(dding_cloud, **{CONF_HOME_IDS: [f"{DDING_HOME}, home-2002"]})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOME_IDS] == [DDING_HOME, "home-2002"]


async def test_dding_bad_credentials_then_recover(
    hass: HomeAssistant, dding_cloud: FakeDdingCloud
) -> None:
    """A refused secret is said about the secret; the rest stays filled in."""
    seed_dding_home(dding_cloud)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _input(dding_cloud, **{CONF_CLIENT_SECRET: "wrong-secret"})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_CLIENT_SECRET: "invalid_dding"}
    suggested = _suggested(result)
    assert suggested[CONF_CLIENT_ID] == dding_cloud.CLIENT_ID
    assert suggested[CONF_HOME_IDS] == [DDING_HOME]
    assert CONF_CLIENT_SECRET not in suggested
    assert not hass.config_entries.async_entries(DOMAIN)

    result = await hass.config_entries.flow.async_configure(
        flow_id, _input(dding_cloud)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_dding_unknown_home_is_named(
    hass: HomeAssistant, dding_cloud: FakeDdingCloud
) -> None:
    """A home the SaaS does not know (15006) is named in the error."""
    seed_dding_home(dding_cloud)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _input(dding_cloud, **{CONF_HOME_IDS: [DDING_HOME, "home-404"]})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOME_IDS: "unknown_home"}
    assert result["description_placeholders"]["home_ids"] == "home-404"
    assert not hass.config_entries.async_entries(DOMAIN)


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({CONF_HOME_IDS: []}, {CONF_HOME_IDS: "required"}),
        ({CONF_HOME_IDS: ["a\x00b"]}, {CONF_HOME_IDS: "invalid_home_ids"}),
        ({CONF_HOME_IDS: ["h" * 129]}, {CONF_HOME_IDS: "invalid_home_ids"}),
        ({CONF_DEFAULT_PHONE: "call me"}, {CONF_DEFAULT_PHONE: "invalid_phone"}),
        ({CONF_BASE_URL: "not a url"}, {CONF_BASE_URL: "invalid_url"}),
    ],
)
async def test_dding_bad_input_never_reaches_the_cloud(
    hass: HomeAssistant,
    dding_cloud: FakeDdingCloud,
    overrides: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Unusable fields are refused before any request."""
    seed_dding_home(dding_cloud)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _input(dding_cloud, **overrides)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert dding_cloud.total_calls == 0


async def test_dding_saas_unreachable(
    hass: HomeAssistant, dding_cloud: FakeDdingCloud
) -> None:
    """An outage is cannot_connect_url (an explicit address was given)."""
    seed_dding_home(dding_cloud)
    dding_cloud.set_outage("http500")
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _input(dding_cloud)
    )
    assert result["errors"] == {"base": "cannot_connect_url"}


async def test_dding_already_configured(
    hass: HomeAssistant, dding_cloud: FakeDdingCloud
) -> None:
    """The same client id again aborts (one pair is one Dding account)."""
    seed_dding_home(dding_cloud)
    await setup_entry(hass, dding_data(dding_cloud), unique_id=dding_cloud.CLIENT_ID)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _input(dding_cloud)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_dding_reauth_keeps_secret_and_homes(
    hass: HomeAssistant, dding_cloud: FakeDdingCloud
) -> None:
    """Reauth: a new secret is stored; the homes stay as suggested."""
    seed_dding_home(dding_cloud)
    entry = await setup_entry(
        hass, dding_data(dding_cloud), unique_id=dding_cloud.CLIENT_ID
    )
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == PROVIDER_DDING
    assert _suggested(result)[CONF_HOME_IDS] == [DDING_HOME]
    dding_cloud.CLIENT_SECRET = "rotated-secret-0002"  # type: ignore[misc]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _input(dding_cloud)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_CLIENT_SECRET] == "rotated-secret-0002"
    assert entry.state is ConfigEntryState.LOADED


async def test_dding_reconfigure_adds_a_home_secret_left_empty(
    hass: HomeAssistant, dding_cloud: FakeDdingCloud
) -> None:
    """Reconfigure with the secret empty keeps it; a new home is validated."""
    seed_dding_home(dding_cloud)
    dding_cloud.add_home("home-2002")
    dding_cloud.add_lock("home-2002", name="Cabin")
    entry = await setup_entry(
        hass, dding_data(dding_cloud), unique_id=dding_cloud.CLIENT_ID
    )
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == PROVIDER_DDING
    fields = _input(dding_cloud, **{CONF_HOME_IDS: [DDING_HOME, "home-9"]})
    del fields[CONF_CLIENT_SECRET]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], fields)
    assert result["errors"] == {CONF_HOME_IDS: "unknown_home"}
    assert _suggested(result)[CONF_HOME_IDS] == [DDING_HOME, "home-9"]
    fields[CONF_HOME_IDS] = [DDING_HOME, "home-2002"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], fields)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HOME_IDS] == [DDING_HOME, "home-2002"]
    assert entry.data[CONF_CLIENT_SECRET] == dding_cloud.CLIENT_SECRET
    assert entry.state is ConfigEntryState.LOADED
    assert len(entry.runtime_data.coordinator.data.locks) == 4


async def test_dding_reconfigure_other_account(
    hass: HomeAssistant, dding_cloud: FakeDdingCloud
) -> None:
    """Another client id is another account: wrong_account."""
    seed_dding_home(dding_cloud)
    entry = await setup_entry(
        hass, dding_data(dding_cloud), unique_id=dding_cloud.CLIENT_ID
    )
    result = await entry.start_reconfigure_flow(hass)
    dding_cloud.CLIENT_ID = "another-client"  # type: ignore[misc]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _input(dding_cloud)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
