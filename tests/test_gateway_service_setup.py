"""The gateway service as an account: set-up, callback, lock list, config flow."""

from __future__ import annotations

from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest

from custom_components.ttlock_gateway.const import (
    CONF_BASE_URL,
    CONF_PROVIDER,
    CONF_WEBHOOK_ID,
    DOMAIN,
)
from tests.common import seed_ttlock_home
from tests.fakes.gateway_service import FakeGatewayService
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.gateway_service_ha import (
    GW_WEBHOOK_ID,
    ClientFactory,
    GatewayHome,
    add_gateway_entry,
    serve_home_assistant,
)


async def test_setup_registers_callback_and_lists_locks(
    hass: HomeAssistant, gw_home: GatewayHome
) -> None:
    """create_user + set_callback with the webhook URL, then the locks by a job."""
    entry, service = gw_home.entry, gw_home.service
    assert entry.state is ConfigEntryState.LOADED
    user = service.user()
    assert user.callback is not None
    assert user.callback.endswith(f"/api/webhook/{GW_WEBHOOK_ID}")
    assert service.calls["create_user"] == 1
    assert service.calls["set_callback"] == 1
    # The lock list came back through the webhook as a job result.
    assert service.calls["get_lock_list"] == 1
    assert any(d.payload.get("method") == "get_lock_list" for d in service.deliveries)
    state = hass.states.get("lock.front_door")
    assert state is not None
    assert state.state != "unavailable"
    assert hass.states.get("lock.shed") is not None


async def test_setup_without_external_url_raises_repair(
    hass: HomeAssistant,
    gateway_service: FakeGatewayService,
    ttlock_cloud: FakeTTLockCloud,
) -> None:
    """No URL the service can call: no job would complete. Retry + repair."""
    seed_ttlock_home(ttlock_cloud)
    entry = await add_gateway_entry(hass, gateway_service)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"gateway_no_external_url_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_key == "gateway_no_external_url"
    # Nothing was sent to the service.
    assert sum(gateway_service.calls.values()) == 0


# --------------------------------------------------------------------------- #
# Config flow


async def _start_flow(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert "gateway_service" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "gateway_service"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "gateway_service"
    return result["flow_id"]


def _form(service: FakeGatewayService, **changes: str) -> dict[str, str]:
    values = {
        CONF_BASE_URL: f"{service.base_url}/api/v1",
        CONF_USERNAME: FakeGatewayService.EMAIL,
        CONF_PASSWORD: FakeGatewayService.PASSWORD,
    }
    values.update(changes)
    return values


async def test_flow_creates_entry_and_sets_up(
    hass: HomeAssistant,
    hass_client_no_auth: ClientFactory,
    gateway_service: FakeGatewayService,
    ttlock_cloud: FakeTTLockCloud,
) -> None:
    """URL (the /api/v1 suffix dropped), e-mail, password; set-up lists the locks."""
    seed_ttlock_home(ttlock_cloud)
    await serve_home_assistant(hass, hass_client_no_auth)
    flow_id = await _start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(gateway_service)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == FakeGatewayService.EMAIL
    data = result["data"]
    # What the service needs to issue tokens, nothing else.
    assert data[CONF_BASE_URL] == gateway_service.base_url
    assert data[CONF_PASSWORD] == FakeGatewayService.PASSWORD
    assert set(data) == {
        CONF_PROVIDER,
        CONF_BASE_URL,
        CONF_USERNAME,
        CONF_PASSWORD,
        CONF_WEBHOOK_ID,
    }
    entry = result["result"]
    assert (
        entry.unique_id == f"127.0.0.1:{gateway_service.base_url.rsplit(':', 1)[1]}_1"
    )
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("lock.front_door") is not None
    assert gateway_service.user().callback is not None


async def test_flow_refuses_without_external_url(
    hass: HomeAssistant,
    gateway_service: FakeGatewayService,
    ttlock_cloud: FakeTTLockCloud,
) -> None:
    """Refused at once, before anything is sent to the service."""
    assert await async_setup_component(hass, DOMAIN, {})
    flow_id = await _start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(gateway_service)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_external_url"}
    assert sum(gateway_service.calls.values()) == 0


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({CONF_PASSWORD: "wrong"}, CONF_PASSWORD, "invalid_gateway_account"),
        ({CONF_BASE_URL: "not a url"}, CONF_BASE_URL, "invalid_url"),
        (
            {CONF_BASE_URL: "http://127.0.0.1:9"},
            CONF_BASE_URL,
            "cannot_connect_service",
        ),
    ],
)
async def test_flow_errors_then_recover(
    hass: HomeAssistant,
    hass_client_no_auth: ClientFactory,
    gateway_service: FakeGatewayService,
    ttlock_cloud: FakeTTLockCloud,
    changes: dict[str, str],
    field: str,
    error: str,
) -> None:
    """Each mistake has its own error on its field; the form works afterwards."""
    seed_ttlock_home(ttlock_cloud)
    await serve_home_assistant(hass, hass_client_no_auth)
    flow_id = await _start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(gateway_service, **changes)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(gateway_service)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_flow_not_a_gateway_service(
    hass: HomeAssistant,
    hass_client_no_auth: ClientFactory,
    gateway_service: FakeGatewayService,
    ttlock_cloud: FakeTTLockCloud,
) -> None:
    """A URL that answers, but not like the service (404): said on the URL."""
    home_url = await serve_home_assistant(hass, hass_client_no_auth)
    flow_id = await _start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(gateway_service, **{CONF_BASE_URL: f"{home_url}/nothing"})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_BASE_URL: "not_gateway_service"}


async def test_reconfigure_keeps_blank_password(
    hass: HomeAssistant, gw_home: GatewayHome
) -> None:
    """A blank password keeps the stored one; the entry reloads."""
    entry = gw_home.entry
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "gateway_service"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_BASE_URL: gw_home.service.base_url,
            CONF_USERNAME: FakeGatewayService.EMAIL,
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PASSWORD] == FakeGatewayService.PASSWORD
    assert entry.state is ConfigEntryState.LOADED


async def test_reauth_with_a_new_password(
    hass: HomeAssistant, gw_home: GatewayHome
) -> None:
    """The service refuses the stored password: reauth asks for it again."""
    entry, service = gw_home.entry, gw_home.service
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "gateway_service"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_BASE_URL: service.base_url,
            CONF_USERNAME: FakeGatewayService.EMAIL,
            CONF_PASSWORD: "wrong",
        },
    )
    assert result["errors"] == {CONF_PASSWORD: "invalid_gateway_account"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_BASE_URL: service.base_url,
            CONF_USERNAME: FakeGatewayService.EMAIL,
            CONF_PASSWORD: FakeGatewayService.PASSWORD,
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.state is ConfigEntryState.LOADED


async def test_setup_when_the_service_refuses_the_account(
    hass: HomeAssistant,
    hass_client_no_auth: ClientFactory,
    gateway_service: FakeGatewayService,
    ttlock_cloud: FakeTTLockCloud,
) -> None:
    """TTLock no longer takes the stored password: reauth, no job sent."""
    seed_ttlock_home(ttlock_cloud)
    await serve_home_assistant(hass, hass_client_no_auth)
    ttlock_cloud.PASSWORD = "changed-in-the-app"  # type: ignore[misc]
    entry = await add_gateway_entry(hass, gateway_service)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    assert gateway_service.calls["get_lock_list"] == 0
