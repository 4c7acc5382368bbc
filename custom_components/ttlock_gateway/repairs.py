"""Fix flows: add a Dding home that callbacks named (see ``dding_homes``)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.core import HomeAssistant
import probatio as vol

from .api import create_provider
from .const import CONF_HOME_IDS, DOMAIN, LOGGER
from .dding_homes import ISSUE_UNKNOWN_HOME
from .providers.models import AuthError, ProviderError, UnknownHomeError


class AddDdingHomeFlow(RepairsFlow):
    """Confirm, check the home with the SaaS, add it to the entry and reload."""

    # The repair whose fix flow this is (its strings live under it).
    issue = ISSUE_UNKNOWN_HOME

    def __init__(self, entry_id: str, home_id: str) -> None:
        """The entry and the home a callback named."""
        self.entry_id = entry_id
        self.home_id = home_id

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Start with the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Add the home once the SaaS confirms it belongs to this account."""
        entry = self.hass.config_entries.async_get_entry(self.entry_id)
        if entry is None or entry.domain != DOMAIN:
            return self.async_abort(reason="entry_gone")
        placeholders = {"account": entry.title, "home_id": self.home_id}
        errors: dict[str, str] = {}
        if user_input is not None:
            homes = [*entry.data.get(CONF_HOME_IDS, ())]
            if self.home_id not in homes:
                homes.append(self.home_id)
            data = {**entry.data, CONF_HOME_IDS: homes}
            try:
                await create_provider(self.hass, data).async_login()
            except UnknownHomeError:
                errors["base"] = "unknown_home"
            except AuthError:
                errors["base"] = "auth_failed"
            except ProviderError as err:
                LOGGER.debug("Home check failed: %s", type(err).__name__)
                errors["base"] = "cannot_connect"
            else:
                self.hass.config_entries.async_update_entry(entry, data=data)
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
                return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            errors=errors,
            description_placeholders=placeholders,
        )


async def async_create_fix_flow(
    hass: HomeAssistant,
    issue_id: str,
    data: dict[str, str | int | float | None] | None,
) -> RepairsFlow:
    """The flow of a ``dding_unknown_home`` repair."""
    assert data is not None
    return AddDdingHomeFlow(str(data["entry_id"]), str(data["home_id"]))
