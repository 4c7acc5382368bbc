"""Config flow."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_NAME, CONF_SCAN_INTERVAL
from homeassistant.core import callback
from homeassistant.data_entry_flow import FlowResult
import probatio as vol

from .const import CONF_HOST, CONF_RETRIES, DOMAIN


class DemoFlow(ConfigFlow, domain=DOMAIN):  # expect: home-assistant-missing-reauthentication-flow
    """Config flow."""

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> DemoOptionsFlow:
        """A subclass of OptionsFlow is fine."""
        return DemoOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Menu."""
        return self.async_show_menu(step_id="user", menu_options=["manual", "cloud"])  # expect: home-assistant-config-flow-menu-missing-step

    async def async_step_manual(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Fields without labels, a name and a polling interval."""
        schema = vol.Schema({vol.Required(CONF_HOST): str, vol.Optional("port"): int, vol.Optional(CONF_NAME): str, vol.Optional(CONF_SCAN_INTERVAL): int})
        return self.async_show_form(step_id="manual", data_schema=schema)  # expect: home-assistant-config-flow-field-not-translated, home-assistant-config-flow-field-not-translated, home-assistant-config-flow-field-not-translated, home-assistant-config-flow-name-field, home-assistant-config-flow-polling-field

    async def async_step_other(self, user_input: dict[str, Any] | None = None) -> FlowResult:  # expect: home-assistant-return-type
        """Shows another step's form."""
        return self.async_show_form(step_id="manual")  # expect: home-assistant-step_id-match-method

    async def async_step_helped(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A form through a helper."""
        schema = {vol.Required(CONF_HOST): str, vol.Required("token"): str}
        return self._show("helper", schema)

    def _show(self, step_id: str, schema: dict[Any, Any]) -> ConfigFlowResult:
        return self.async_show_form(step_id=step_id, data_schema=self.add_suggested_values_to_schema(vol.Schema(schema), {}))  # expect: home-assistant-config-flow-field-not-translated


class DemoOptionsFlow(OptionsFlow):
    """Options."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One labelled field, one without."""
        return self.async_show_form(data_schema=vol.Schema({vol.Required(CONF_RETRIES): int, vol.Required("other"): int}))  # expect: home-assistant-options-flow-field-not-translated
