"""Config flow, reauth, reconfigure and options flow against the fake clouds."""

from __future__ import annotations

from datetime import timedelta
import json
from pathlib import Path
import socket
from typing import Any
from urllib.parse import urlencode

from homeassistant.config_entries import (
    SOURCE_USER,
    ConfigEntryState,
)
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.ttlock_gateway.const import (
    CONF_ACCESS_ID,
    CONF_ACCESS_SECRET,
    CONF_API_BUDGET,
    CONF_BASE_URL,
    CONF_CLEANUP_ALL,
    CONF_CLEANUP_INTERVAL,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_DATA_CENTER,
    CONF_EXPOSE_CODES,
    CONF_FALLBACK,
    CONF_PASSWORD_MD5,
    CONF_PROVIDER,
    CONF_REGION,
    CONF_RETRY_ATTEMPTS,
    CONF_RETRY_INTERVAL,
    CONF_USER_UID,
    CONF_WEBHOOK_ID,
    DEFAULT_CLEANUP_INTERVAL,
    DEFAULT_RETRY_ATTEMPTS,
    DEFAULT_RETRY_INTERVAL,
    DOMAIN,
    EVENT_LOCK,
    FALLBACK_NONE,
    FALLBACK_OFFLINE,
    LOCK_LIST_INTERVAL,
    PROVIDER_TTLOCK,
    PROVIDER_TUYA,
)
from custom_components.ttlock_gateway.providers.ttlock import md5_password
from tests.common import (
    seed_ttlock_home,
    setup_entry,
    ttlock_data,
    tuya_data,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud


def _ttlock_input(cloud: FakeTTLockCloud, **overrides: Any) -> dict[str, Any]:
    data = {
        CONF_CLIENT_ID: cloud.CLIENT_ID,
        CONF_CLIENT_SECRET: cloud.CLIENT_SECRET,
        CONF_USERNAME: cloud.USERNAME,
        CONF_PASSWORD: cloud.PASSWORD,
        CONF_REGION: "eu",
        CONF_BASE_URL: cloud.base_url,
    }
    data.update(overrides)
    return data


def _tuya_input(cloud: FakeTuyaCloud, **overrides: Any) -> dict[str, Any]:
    data = {
        CONF_ACCESS_ID: cloud.ACCESS_ID,
        CONF_ACCESS_SECRET: cloud.ACCESS_SECRET,
        CONF_DATA_CENTER: "eu",
        CONF_BASE_URL: cloud.base_url,
    }
    data.update(overrides)
    return data


def _closed_port_url() -> str:
    """An address on loopback where nothing listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def _start(hass: HomeAssistant, provider: str) -> str:
    """Open the menu and pick ``provider``; return the flow id."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    # Other clouds follow (tests/test_dding_config_flow.py, ...).
    assert result["menu_options"][:2] == [PROVIDER_TTLOCK, PROVIDER_TUYA]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": provider}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == provider
    assert result["errors"] == {}
    assert CONF_BASE_URL in result["data_schema"].schema
    return result["flow_id"]


def _keys(result: Any) -> set[str]:
    return {str(key) for key in result["data_schema"].schema}


def _suggested(result: Any) -> dict[str, Any]:
    """The values a form shows prefilled (suggested), by field."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if isinstance(key.description, dict) and "suggested_value" in key.description
    }


# --------------------------------------------------------------------- TTLock


async def test_ttlock_user_flow_creates_entry(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Sign in, list the locks, store only the md5 of the password, make a webhook."""
    seed_ttlock_home(ttlock_cloud)
    await async_setup_component(hass, "webhook", {})
    flow_id = await _start(hass, PROVIDER_TTLOCK)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        _ttlock_input(
            ttlock_cloud,
            # Pasted values often carry stray blanks.
            **{
                CONF_CLIENT_ID: f" {ttlock_cloud.CLIENT_ID} ",
                CONF_USERNAME: f"{ttlock_cloud.USERNAME} ",
            },
        ),
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == ttlock_cloud.USERNAME
    entry = result["result"]
    assert entry.unique_id == f"{ttlock_cloud.CLIENT_ID}_{ttlock_cloud.UID}"
    webhook_id = entry.data[CONF_WEBHOOK_ID]
    assert len(webhook_id) >= 32
    assert entry.data == {
        CONF_PROVIDER: PROVIDER_TTLOCK,
        CONF_CLIENT_ID: ttlock_cloud.CLIENT_ID,
        CONF_CLIENT_SECRET: ttlock_cloud.CLIENT_SECRET,
        CONF_USERNAME: ttlock_cloud.USERNAME,
        CONF_PASSWORD_MD5: md5_password(ttlock_cloud.PASSWORD),
        CONF_REGION: "eu",
        CONF_BASE_URL: ttlock_cloud.base_url,
        CONF_WEBHOOK_ID: webhook_id,
    }
    # New entries issue an offline code when the gateway is down (issue 18).
    assert entry.options == {CONF_FALLBACK: FALLBACK_OFFLINE}
    # Never the plain password, under any key.
    assert CONF_PASSWORD not in entry.data
    assert ttlock_cloud.PASSWORD not in repr(dict(entry.data))
    # No external URL in the test instance: no useless relative path, the dialog
    # says what to configure instead.
    assert result["description"] == "no_external_url"
    assert not result["description_placeholders"]
    # The flow proved the account: it logged in and listed the locks.
    assert ttlock_cloud.calls["/oauth2/token"] >= 1
    assert ttlock_cloud.calls["/v3/lock/list"] >= 1
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("lock.front_door") is not None


async def test_ttlock_webhook_url_with_external_url(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """With an external URL configured the full callback URL is shown."""
    hass.config.external_url = "https://home.example.org"
    flow_id = await _start(hass, PROVIDER_TTLOCK)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _ttlock_input(ttlock_cloud)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    webhook_id = result["result"].data[CONF_WEBHOOK_ID]
    assert result["description_placeholders"] == {
        "webhook_url": f"https://home.example.org/api/webhook/{webhook_id}"
    }


async def test_ttlock_form(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """The TTLock form: app, account, region and an optional API address.

    The flow must not use the deprecated ``show_advanced_options`` (it logs a
    warning asking users to file a bug).
    """
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": PROVIDER_TTLOCK}
    )
    assert result["type"] is FlowResultType.FORM
    assert _keys(result) == {
        CONF_CLIENT_ID,
        CONF_CLIENT_SECRET,
        CONF_USERNAME,
        CONF_PASSWORD,
        CONF_REGION,
        CONF_BASE_URL,
    }
    region = next(k for k in result["data_schema"].schema if str(k) == CONF_REGION)
    assert region.default() == "eu"
    assert result["description_placeholders"] == {
        "console_url": "https://euopen.ttlock.com",
        "other_region": "",
    }
    assert "show_advanced_options" not in caplog.text
    hass.config_entries.flow.async_abort(result["flow_id"])


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (
            {CONF_CLIENT_SECRET: "wrong-secret"},
            {CONF_CLIENT_SECRET: "invalid_client"},
        ),
        ({CONF_CLIENT_ID: "wrong-client"}, {CONF_CLIENT_SECRET: "invalid_client"}),
        ({CONF_PASSWORD: "wrong password"}, {CONF_PASSWORD: "invalid_account"}),
        ({CONF_USERNAME: "stranger@example.com"}, {CONF_PASSWORD: "invalid_account"}),
    ],
)
async def test_ttlock_bad_credentials_then_recover(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    change: dict[str, str],
    errors: dict[str, str],
) -> None:
    """Bad app or account credentials show a field error; the form then succeeds.

    What was typed stays in the form (so the next submit is not refused for
    empty required fields), except the secrets, which are never sent back.
    """
    flow_id = await _start(hass, PROVIDER_TTLOCK)
    entered = _ttlock_input(ttlock_cloud, **change)
    result = await hass.config_entries.flow.async_configure(flow_id, entered)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == PROVIDER_TTLOCK
    assert result["errors"] == errors
    assert not hass.config_entries.async_entries(DOMAIN)
    suggested = _suggested(result)
    assert suggested == {
        CONF_CLIENT_ID: entered[CONF_CLIENT_ID],
        CONF_USERNAME: entered[CONF_USERNAME],
        CONF_REGION: "eu",
        CONF_BASE_URL: entered[CONF_BASE_URL],
    }
    shown = json.dumps(result, default=repr)
    assert entered[CONF_PASSWORD] not in shown
    assert entered[CONF_CLIENT_SECRET] not in shown
    result = await hass.config_entries.flow.async_configure(
        flow_id, _ttlock_input(ttlock_cloud)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_ttlock_cloud_errors(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Outage, closed port, API limit and an unexpected refusal each show their error."""
    flow_id = await _start(hass, PROVIDER_TTLOCK)

    ttlock_cloud.set_outage("disconnect")
    result = await hass.config_entries.flow.async_configure(
        flow_id, _ttlock_input(ttlock_cloud)
    )
    assert result["errors"] == {"base": "cannot_connect_url"}
    ttlock_cloud.set_outage(None)

    result = await hass.config_entries.flow.async_configure(
        flow_id, _ttlock_input(ttlock_cloud, **{CONF_BASE_URL: _closed_port_url()})
    )
    # An explicit address: nothing about the region in the error.
    assert result["errors"] == {"base": "cannot_connect_url"}

    ttlock_cloud.fail("/v3/lock/list", 30006, "API limit reached")
    result = await hass.config_entries.flow.async_configure(
        flow_id, _ttlock_input(ttlock_cloud)
    )
    assert result["errors"] == {"base": "rate_limited"}

    ttlock_cloud.fail("/v3/lock/list", -3, "invalid parameter")
    result = await hass.config_entries.flow.async_configure(
        flow_id, _ttlock_input(ttlock_cloud)
    )
    assert result["errors"] == {"base": "unknown"}
    assert result["type"] is FlowResultType.FORM
    assert not hass.config_entries.async_entries(DOMAIN)

    result = await hass.config_entries.flow.async_configure(
        flow_id, _ttlock_input(ttlock_cloud)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_ttlock_errors_never_leak_secrets(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Failed sign-ins log nothing secret, even at debug level."""
    caplog.set_level("DEBUG")
    flow_id = await _start(hass, PROVIDER_TTLOCK)
    ttlock_cloud.fail("/v3/lock/list", -3, "invalid parameter")
    await hass.config_entries.flow.async_configure(flow_id, _ttlock_input(ttlock_cloud))
    await hass.config_entries.flow.async_configure(
        flow_id, _ttlock_input(ttlock_cloud, **{CONF_PASSWORD: "wrong password"})
    )
    for secret in (
        ttlock_cloud.CLIENT_SECRET,
        ttlock_cloud.PASSWORD,
        "wrong password",
        md5_password(ttlock_cloud.PASSWORD),
    ):
        assert secret not in caplog.text
    hass.config_entries.flow.async_abort(flow_id)


async def test_ttlock_already_configured(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """One entry per TTLock account (client id + uid); a re-add refreshes its sign-in."""
    stale = {**ttlock_data(ttlock_cloud), "password_md5": "0" * 32}
    entry = await setup_entry(
        hass,
        stale,
        unique_id=f"{ttlock_cloud.CLIENT_ID}_{ttlock_cloud.UID}",
    )
    webhook_id = entry.data["webhook_id"]
    flow_id = await _start(hass, PROVIDER_TTLOCK)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _ttlock_input(ttlock_cloud)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    # The verified credentials replace the stale ones; the webhook id is kept.
    assert entry.data["password_md5"] == md5_password(ttlock_cloud.PASSWORD)
    assert entry.data["webhook_id"] == webhook_id


async def test_ttlock_other_account_same_app_is_a_new_entry(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """A second app account under the same developer application gets its own entry."""
    await setup_entry(
        hass,
        ttlock_data(ttlock_cloud),
        unique_id=f"{ttlock_cloud.CLIENT_ID}_{ttlock_cloud.UID}",
    )
    ttlock_cloud.UID = 5151  # type: ignore[misc]
    flow_id = await _start(hass, PROVIDER_TTLOCK)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _ttlock_input(ttlock_cloud)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == f"{ttlock_cloud.CLIENT_ID}_5151"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 2


# ----------------------------------------------------------------------- Tuya


async def test_tuya_user_flow_creates_entry(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Tuya: access id, secret, data centre; the entry reloads with the locks."""
    tuya_cloud.add_device(name="Garden gate")
    flow_id = await _start(hass, PROVIDER_TUYA)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _tuya_input(tuya_cloud, **{CONF_USER_UID: f" {tuya_cloud.USER_UID}"})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == f"{tuya_cloud.ACCESS_ID}_{tuya_cloud.USER_UID}"
    webhook_id = entry.data[CONF_WEBHOOK_ID]
    assert entry.data == {
        CONF_PROVIDER: PROVIDER_TUYA,
        CONF_ACCESS_ID: tuya_cloud.ACCESS_ID,
        CONF_ACCESS_SECRET: tuya_cloud.ACCESS_SECRET,
        CONF_DATA_CENTER: "eu",
        CONF_USER_UID: tuya_cloud.USER_UID,
        CONF_BASE_URL: tuya_cloud.base_url,
        CONF_WEBHOOK_ID: webhook_id,
    }
    # No lock count in the title: it would go stale as locks come and go.
    assert result["title"] == "Tuya Cloud (custom)"
    # Tuya is polled: the dialog says so instead of asking for a callback URL.
    assert result["description"] == "polled"
    assert not result["description_placeholders"]
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("lock.garden_gate") is not None


async def test_tuya_user_uid_is_optional(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Without an app-account UID the token's UID identifies the account."""
    flow_id = await _start(hass, PROVIDER_TUYA)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _tuya_input(tuya_cloud)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].data[CONF_USER_UID] == ""
    assert result["result"].unique_id == (
        f"{tuya_cloud.ACCESS_ID}_{tuya_cloud.USER_UID}"
    )


async def test_tuya_form(hass: HomeAssistant, caplog: pytest.LogCaptureFixture) -> None:
    """The Tuya form: keys, data centre, optional UID and API address."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": PROVIDER_TUYA}
    )
    assert _keys(result) == {
        CONF_ACCESS_ID,
        CONF_ACCESS_SECRET,
        CONF_DATA_CENTER,
        CONF_USER_UID,
        CONF_BASE_URL,
    }
    assert result["description_placeholders"] == {
        "console_url": "https://platform.tuya.com"
    }
    assert "show_advanced_options" not in caplog.text
    hass.config_entries.flow.async_abort(result["flow_id"])


async def test_tuya_errors_then_recover(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Bad secret, outage, closed port, API limit, lapsed plan; then success."""
    flow_id = await _start(hass, PROVIDER_TUYA)

    result = await hass.config_entries.flow.async_configure(
        flow_id, _tuya_input(tuya_cloud, **{CONF_ACCESS_SECRET: "f" * 32})
    )
    assert result["errors"] == {CONF_ACCESS_SECRET: "invalid_access"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, _tuya_input(tuya_cloud, **{CONF_ACCESS_ID: "someoneelse0000000"})
    )
    assert result["errors"] == {CONF_ACCESS_SECRET: "invalid_access"}
    assert _suggested(result)[CONF_ACCESS_ID] == "someoneelse0000000"

    tuya_cloud.set_outage("disconnect")
    result = await hass.config_entries.flow.async_configure(
        flow_id, _tuya_input(tuya_cloud)
    )
    assert result["errors"] == {"base": "cannot_connect_url"}
    tuya_cloud.set_outage(None)

    result = await hass.config_entries.flow.async_configure(
        flow_id, _tuya_input(tuya_cloud, **{CONF_BASE_URL: _closed_port_url()})
    )
    assert result["errors"] == {"base": "cannot_connect_url"}

    tuya_cloud.fail("GET /v1.0/token", 429)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _tuya_input(tuya_cloud)
    )
    assert result["errors"] == {"base": "rate_limited"}

    tuya_cloud.lapse_plan()
    result = await hass.config_entries.flow.async_configure(
        flow_id, _tuya_input(tuya_cloud)
    )
    assert result["errors"] == {"base": "subscription_lapsed"}
    tuya_cloud.lapse_plan(0)
    assert not hass.config_entries.async_entries(DOMAIN)

    result = await hass.config_entries.flow.async_configure(
        flow_id, _tuya_input(tuya_cloud)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_tuya_already_configured(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """The same Tuya project and app account cannot be added twice."""
    await setup_entry(
        hass,
        tuya_data(tuya_cloud),
        unique_id=f"{tuya_cloud.ACCESS_ID}_{tuya_cloud.USER_UID}",
    )
    flow_id = await _start(hass, PROVIDER_TUYA)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _tuya_input(tuya_cloud)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


# --------------------------------------------------------------------- reauth


async def _ttlock_entry(hass: HomeAssistant, cloud: FakeTTLockCloud) -> Any:
    seed_ttlock_home(cloud)
    entry = await setup_entry(
        hass, ttlock_data(cloud), unique_id=f"{cloud.CLIENT_ID}_{cloud.UID}"
    )
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def _tuya_entry(hass: HomeAssistant, cloud: FakeTuyaCloud) -> Any:
    cloud.add_device(name="Garden gate")
    entry = await setup_entry(
        hass, tuya_data(cloud), unique_id=f"{cloud.ACCESS_ID}_{cloud.USER_UID}"
    )
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def test_ttlock_reauth(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Reauth asks again for the credentials and stores the new password's md5."""
    entry = await _ttlock_entry(hass, ttlock_cloud)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["account"] == entry.title

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == PROVIDER_TTLOCK
    base_key = next(k for k in result["data_schema"].schema if str(k) == CONF_BASE_URL)
    assert base_key.description == {"suggested_value": ttlock_cloud.base_url}
    ttlock_cloud.PASSWORD = "new secret password"  # type: ignore[misc]

    user_input = _ttlock_input(ttlock_cloud)
    bad = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**user_input, CONF_PASSWORD: "correct horse battery"}
    )
    assert bad["errors"] == {CONF_PASSWORD: "invalid_account"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_PASSWORD_MD5] == md5_password("new secret password")
    # The fake cloud's address and the webhook survive the reauth.
    assert entry.data[CONF_BASE_URL] == ttlock_cloud.base_url
    assert entry.data[CONF_WEBHOOK_ID] == ttlock_data(ttlock_cloud)[CONF_WEBHOOK_ID]
    assert CONF_PASSWORD not in entry.data
    assert entry.state is ConfigEntryState.LOADED


async def test_ttlock_reauth_started_by_rejected_token(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Tokens revoked and the password changed: the reload fails and reauth starts."""
    entry = await _ttlock_entry(hass, ttlock_cloud)
    ttlock_cloud.revoke_tokens()
    ttlock_cloud.revoke_refresh_tokens()
    ttlock_cloud.PASSWORD = "changed in the app"  # type: ignore[misc]
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert len(flows) == 1
    flow = flows[0]
    assert flow["context"]["source"] == "reauth"
    assert flow["context"]["entry_id"] == entry.entry_id

    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    user_input = _ttlock_input(ttlock_cloud)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_PASSWORD_MD5] == md5_password("changed in the app")


async def test_ttlock_reauth_wrong_account(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Credentials of another TTLock account abort the reauth; nothing is stored."""
    entry = await _ttlock_entry(hass, ttlock_cloud)
    before = dict(entry.data)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    ttlock_cloud.UID = 777  # type: ignore[misc]
    ttlock_cloud.USERNAME = "neighbour@example.com"  # type: ignore[misc]
    user_input = _ttlock_input(ttlock_cloud)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert dict(entry.data) == before


async def test_tuya_reauth(hass: HomeAssistant, tuya_cloud: FakeTuyaCloud) -> None:
    """Tuya reauth opens the Tuya form prefilled with the same access id."""
    entry = await _tuya_entry(hass, tuya_cloud)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == PROVIDER_TUYA
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_ACCESS_ID: tuya_cloud.ACCESS_ID,
            CONF_ACCESS_SECRET: tuya_cloud.ACCESS_SECRET,
            CONF_DATA_CENTER: "eu",
            CONF_BASE_URL: tuya_cloud.base_url,
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_BASE_URL] == tuya_cloud.base_url
    assert entry.state is ConfigEntryState.LOADED


async def test_tuya_reauth_wrong_account(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """Another Tuya project's keys abort with wrong_account."""
    entry = await _tuya_entry(hass, tuya_cloud)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    tuya_cloud.ACCESS_ID = "anotherproject00000"  # type: ignore[misc]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_ACCESS_ID: tuya_cloud.ACCESS_ID,
            CONF_ACCESS_SECRET: tuya_cloud.ACCESS_SECRET,
            CONF_DATA_CENTER: "eu",
            CONF_BASE_URL: tuya_cloud.base_url,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert entry.data[CONF_ACCESS_ID] == FakeTuyaCloud.ACCESS_ID


# ---------------------------------------------------------------- reconfigure


async def test_ttlock_reconfigure(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Reconfigure changes region and secret of the same account and reloads."""
    entry = await _ttlock_entry(hass, ttlock_cloud)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == PROVIDER_TTLOCK
    # The stored values, prefilled; the secrets are not sent to the browser.
    assert _suggested(result) == {
        CONF_CLIENT_ID: ttlock_cloud.CLIENT_ID,
        CONF_USERNAME: ttlock_cloud.USERNAME,
        CONF_REGION: "eu",
        CONF_BASE_URL: ttlock_cloud.base_url,
    }
    assert ttlock_cloud.CLIENT_SECRET not in json.dumps(result, default=repr)

    ttlock_cloud.CLIENT_SECRET = "rotated-secret-0123456789abcdef00"  # type: ignore[misc]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _ttlock_input(ttlock_cloud, **{CONF_REGION: "cn"})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_CLIENT_SECRET] == "rotated-secret-0123456789abcdef00"
    assert entry.data[CONF_REGION] == "cn"
    assert entry.state is ConfigEntryState.LOADED


async def test_ttlock_reconfigure_wrong_account(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Reconfigure cannot swap the entry to another account."""
    entry = await _ttlock_entry(hass, ttlock_cloud)
    before = dict(entry.data)
    result = await entry.start_reconfigure_flow(hass)
    ttlock_cloud.UID = 31337  # type: ignore[misc]
    user_input = _ttlock_input(ttlock_cloud)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert dict(entry.data) == before


async def test_tuya_reconfigure(hass: HomeAssistant, tuya_cloud: FakeTuyaCloud) -> None:
    """Tuya reconfigure: same project, the app-account UID is set now."""
    entry = await _tuya_entry(hass, tuya_cloud)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == PROVIDER_TUYA
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_ACCESS_ID: tuya_cloud.ACCESS_ID,
            CONF_ACCESS_SECRET: tuya_cloud.ACCESS_SECRET,
            CONF_DATA_CENTER: "eu",
            CONF_BASE_URL: tuya_cloud.base_url,
            CONF_USER_UID: tuya_cloud.USER_UID,
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_USER_UID] == tuya_cloud.USER_UID
    assert entry.state is ConfigEntryState.LOADED


async def test_tuya_reconfigure_wrong_account(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """A Tuya project with another app account aborts with wrong_account."""
    entry = await _tuya_entry(hass, tuya_cloud)
    result = await entry.start_reconfigure_flow(hass)
    tuya_cloud.USER_UID = "eu1700000000000zzzz"  # type: ignore[misc]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_ACCESS_ID: tuya_cloud.ACCESS_ID,
            CONF_ACCESS_SECRET: tuya_cloud.ACCESS_SECRET,
            CONF_DATA_CENTER: "eu",
            CONF_BASE_URL: tuya_cloud.base_url,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"


# -------------------------------------------------------------------- options


async def test_options_flow_saves_every_option_and_reloads(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Every option is stored as a number/bool and the reloaded entry uses them.

    No polling intervals: the schedules are fixed (Home Assistant's rule), and an
    entry saved by an older version loses its interval options on the next save.
    """
    entry = await _ttlock_entry(hass, ttlock_cloud)
    hass.config_entries.async_update_entry(
        entry, options={"lock_list_interval": 15, "activity_interval": 30}
    )
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    assert coordinator.update_interval == LOCK_LIST_INTERVAL

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    defaults = {
        str(k): k.default() for k in result["data_schema"].schema if callable(k.default)
    }
    assert defaults == {
        CONF_CLEANUP_INTERVAL: DEFAULT_CLEANUP_INTERVAL,
        CONF_RETRY_INTERVAL: DEFAULT_RETRY_INTERVAL,
        CONF_RETRY_ATTEMPTS: DEFAULT_RETRY_ATTEMPTS,
        CONF_CLEANUP_ALL: False,
        CONF_EXPOSE_CODES: False,
        # TTLock's free tier (docs/budget.md).
        CONF_API_BUDGET: 30_000,
        # An entry made before the option existed keeps no fallback.
        CONF_FALLBACK: FALLBACK_NONE,
    }

    new_options = {
        CONF_CLEANUP_INTERVAL: 720.0,
        CONF_RETRY_INTERVAL: 5.0,
        CONF_RETRY_ATTEMPTS: 3.0,
        CONF_CLEANUP_ALL: True,
        CONF_EXPOSE_CODES: True,
        CONF_API_BUDGET: 12_000.0,
        CONF_FALLBACK: FALLBACK_OFFLINE,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], new_options
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_CLEANUP_INTERVAL: 720,
        CONF_RETRY_INTERVAL: 5,
        CONF_RETRY_ATTEMPTS: 3,
        CONF_CLEANUP_ALL: True,
        CONF_EXPOSE_CODES: True,
        CONF_API_BUDGET: 12_000,
        CONF_FALLBACK: FALLBACK_OFFLINE,
    }
    assert all(
        type(entry.options[key]) is int
        for key in (
            CONF_CLEANUP_INTERVAL,
            CONF_RETRY_INTERVAL,
            CONF_RETRY_ATTEMPTS,
            CONF_API_BUDGET,
        )
    )
    # The entry reloaded: a new coordinator, on the documented schedules.
    assert entry.state is ConfigEntryState.LOADED
    new_coordinator = entry.runtime_data.coordinator
    assert new_coordinator is not coordinator
    assert new_coordinator.update_interval == timedelta(hours=1)
    assert new_coordinator.activity_interval == timedelta(hours=6)
    queue = entry.runtime_data.codes
    assert queue.retry_interval == timedelta(minutes=5)
    assert queue.retry_attempts == 3
    assert queue.cleanup_interval == timedelta(minutes=720)
    assert queue.cleanup_all is True
    assert queue.fallback is True
    assert new_coordinator.budget == 12_000

    # The form now shows the saved values.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    defaults = {
        str(k): k.default() for k in result["data_schema"].schema if callable(k.default)
    }
    assert defaults == entry.options
    hass.config_entries.options.async_abort(result["flow_id"])


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (CONF_CLEANUP_INTERVAL, 5),
        (CONF_CLEANUP_INTERVAL, 50000),
        (CONF_RETRY_ATTEMPTS, 0),
        (CONF_RETRY_INTERVAL, 0),
    ],
)
async def test_options_flow_rejects_out_of_range(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, key: str, value: int
) -> None:
    """A clean-up more often than hourly would burn the API quota: refused."""
    entry = await _ttlock_entry(hass, ttlock_cloud)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    options = {
        CONF_CLEANUP_INTERVAL: 1440,
        CONF_RETRY_INTERVAL: 20,
        CONF_RETRY_ATTEMPTS: 5,
        CONF_CLEANUP_ALL: False,
        CONF_EXPOSE_CODES: False,
        key: value,
    }
    with pytest.raises(InvalidData, match=key):
        await hass.config_entries.options.async_configure(result["flow_id"], options)
    assert entry.options == {}
    hass.config_entries.options.async_abort(result["flow_id"])


async def test_expose_codes_option_takes_effect(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    hass_client_no_auth: Any,
) -> None:
    """Code digits stay out of lock events until the option is turned on."""
    entry = await _ttlock_entry(hass, ttlock_cloud)
    front = next(
        lock_id
        for lock_id, lock in ttlock_cloud.locks.items()
        if lock["lockAlias"] == "Front door"
    )
    client = await hass_client_no_auth()
    events = async_capture_events(hass, EVENT_LOCK)

    async def push_keypad_unlock(code: str) -> dict[str, Any]:
        now_ms = int(dt_util.utcnow().timestamp() * 1000)
        body = urlencode(
            {
                "notifyType": 1,
                "lockId": front,
                "lockMac": ttlock_cloud.locks[front]["lockMac"],
                "admin": ttlock_cloud.USERNAME,
                "records": json.dumps(
                    [
                        {
                            "lockId": front,
                            "recordType": 4,
                            "recordTypeFromLock": 4,
                            "success": 1,
                            "username": "Guest",
                            "keyboardPwd": code,
                            "lockDate": now_ms,
                            "serverDate": now_ms + 500,
                            "electricQuantity": 70,
                        }
                    ]
                ),
            }
        )
        resp = await client.post(
            f"/api/webhook/{entry.data[CONF_WEBHOOK_ID]}",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert resp.status == 200
        await hass.async_block_till_done()
        return events[-1].data

    hidden = await push_keypad_unlock("8675309")
    assert "8675309" not in json.dumps(hidden, default=str)

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_CLEANUP_INTERVAL: 1440,
            CONF_RETRY_INTERVAL: 20,
            CONF_RETRY_ATTEMPTS: 5,
            CONF_CLEANUP_ALL: False,
            CONF_EXPOSE_CODES: True,
        },
    )
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    shown = await push_keypad_unlock("4455667")
    assert shown["code"] == "4455667"


async def test_ttlock_wrong_region_names_the_other_region(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """TTLock 30008 (cross-site access, cloud/errorCodeEn): the region field
    says which cloud holds the account; nothing is created."""
    ttlock_cloud.account_region = "cn"
    flow_id = await _start(hass, PROVIDER_TTLOCK)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _ttlock_input(ttlock_cloud)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_REGION: "wrong_region"}
    assert result["description_placeholders"]["other_region"] == "cnapi.ttlock.com"
    assert hass.config_entries.async_entries(DOMAIN) == []
    ttlock_cloud.account_region = "eu"
    result = await hass.config_entries.flow.async_configure(
        flow_id, _ttlock_input(ttlock_cloud)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_ttlock_reconfigure_keeps_secrets_left_empty(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Changing only the address needs no secret retyped: empty keeps the stored ones."""
    entry = await _ttlock_entry(hass, ttlock_cloud)
    before = dict(entry.data)
    result = await entry.start_reconfigure_flow(hass)
    secret_keys = {
        str(k): type(k).__name__
        for k in result["data_schema"].schema
        if str(k) in (CONF_CLIENT_SECRET, CONF_PASSWORD)
    }
    assert secret_keys == {CONF_CLIENT_SECRET: "Optional", CONF_PASSWORD: "Optional"}
    moved = f"{ttlock_cloud.base_url}/"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_CLIENT_ID: ttlock_cloud.CLIENT_ID,
            CONF_USERNAME: ttlock_cloud.USERNAME,
            CONF_REGION: "eu",
            CONF_BASE_URL: moved,
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    # Home Assistant's own translated message (the integration has none).
    assert result["translation_domain"] == "homeassistant"
    assert entry.data == {**before, CONF_BASE_URL: moved}
    assert entry.state is ConfigEntryState.LOADED


async def test_tuya_reconfigure_keeps_secret_left_empty(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """The access secret stays as stored when the field is left empty."""
    entry = await _tuya_entry(hass, tuya_cloud)
    result = await entry.start_reconfigure_flow(hass)
    assert CONF_ACCESS_SECRET not in _suggested(result)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_ACCESS_ID: tuya_cloud.ACCESS_ID,
            CONF_ACCESS_SECRET: "",
            CONF_DATA_CENTER: "eu",
            CONF_BASE_URL: tuya_cloud.base_url,
        },
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_ACCESS_SECRET] == tuya_cloud.ACCESS_SECRET


@pytest.mark.parametrize(
    "url", ["not a url", "euapi.ttlock.com", "ftp://euapi.ttlock.com", "https://"]
)
async def test_malformed_api_address_is_refused_before_the_cloud(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud, url: str
) -> None:
    """A malformed address says "not a valid URL" and reaches no cloud."""
    flow_id = await _start(hass, PROVIDER_TTLOCK)
    ttlock_cloud.reset_calls()
    result = await hass.config_entries.flow.async_configure(
        flow_id, _ttlock_input(ttlock_cloud, **{CONF_BASE_URL: url})
    )
    assert result["errors"] == {CONF_BASE_URL: "invalid_url"}
    assert ttlock_cloud.total_calls == 0
    assert _suggested(result)[CONF_BASE_URL] == url


async def test_new_account_needs_its_secrets(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Blank secrets of a new account are refused before any call."""
    flow_id = await _start(hass, PROVIDER_TTLOCK)
    ttlock_cloud.reset_calls()
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        _ttlock_input(ttlock_cloud, **{CONF_CLIENT_SECRET: " ", CONF_PASSWORD: ""}),
    )
    assert result["errors"] == {
        CONF_CLIENT_SECRET: "required",
        CONF_PASSWORD: "required",
    }
    assert ttlock_cloud.total_calls == 0


async def test_tuya_wrong_uid_is_said_about_the_uid(
    hass: HomeAssistant, tuya_cloud: FakeTuyaCloud
) -> None:
    """A UID that is not linked to the project is not "credentials rejected"."""
    flow_id = await _start(hass, PROVIDER_TUYA)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _tuya_input(tuya_cloud, **{CONF_USER_UID: "eu1700000000000nope"})
    )
    assert result["errors"] == {CONF_USER_UID: "invalid_uid"}
    assert _suggested(result)[CONF_USER_UID] == "eu1700000000000nope"
    result = await hass.config_entries.flow.async_configure(
        flow_id, _tuya_input(tuya_cloud, **{CONF_USER_UID: tuya_cloud.USER_UID})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_ttlock_final_dialog_names_the_callback_url(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Every create-entry dialog the flow can end in has its text."""
    strings = json.loads(
        (
            Path(__file__).parent.parent
            / "custom_components"
            / "ttlock_gateway"
            / "strings.json"
        ).read_text("utf-8")
    )
    dialogs = strings["config"]["create_entry"]
    assert {"default", "no_external_url", "polled"} <= set(dialogs)
    assert "{webhook_url}" in dialogs["default"]
    assert "/api/webhook" not in dialogs["no_external_url"]
