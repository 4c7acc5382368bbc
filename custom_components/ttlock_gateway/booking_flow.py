"""Options-flow steps for followed booking calendars (a menu: add, remove, save).

Mixed into the entry's options flow. Several calendars can be followed (one
per calendar entity, e.g. Airbnb and Booking.com feeds), each with its own
locks, check-in/check-out times, buffers and code rule.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, OptionsFlow
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TimeSelector,
)
import probatio as vol

from .booking_rules import (
    CONF_BOOKING_CALENDARS,
    CONF_BUFFER_AFTER,
    CONF_BUFFER_BEFORE,
    CONF_CALENDAR,
    CONF_CHECK_IN,
    CONF_CHECK_OUT,
    CONF_CODE_RULE,
    CONF_LOCKS,
    CONF_PHONE_DIGITS,
    DEFAULT_CHECK_IN,
    DEFAULT_CHECK_OUT,
    DEFAULT_PHONE_DIGITS,
    RULE_PHONE,
    RULE_RANDOM,
)
from .const import DOMAIN

CONF_MANAGE_BOOKINGS = "manage_booking_calendars"
CONF_REMOVE = "remove"
# A day of buffer at most: longer is a different stay.
MAX_BUFFER_MINUTES = 1440


def _minutes() -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=0,
            max=MAX_BUFFER_MINUTES,
            step=5,
            unit_of_measurement="min",
            mode=NumberSelectorMode.BOX,
        )
    )


class BookingOptionsMixin(OptionsFlow):
    """The followed-calendar steps of the options flow."""

    _options: dict[str, Any]
    _bookings: list[dict[str, Any]]

    def _start_bookings(self, options: dict[str, Any]) -> None:
        self._options = options
        self._bookings = [
            dict(item)
            for item in self.config_entry.options.get(CONF_BOOKING_CALENDARS) or []
        ]

    async def async_step_bookings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add or remove a followed calendar, or save."""
        menu = ["add_booking"]
        if self._bookings:
            menu.append("remove_booking")
        menu.append("save_bookings")
        return self.async_show_menu(
            step_id="bookings",
            menu_options=menu,
            description_placeholders={
                "calendars": ", ".join(b[CONF_CALENDAR] for b in self._bookings) or "-"
            },
        )

    def _lock_options(self) -> list[SelectOptionDict]:
        entry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return []
        data = entry.runtime_data.coordinator.current_data
        if data is None:
            return []
        return [
            SelectOptionDict(value=lock_id, label=lock.name)
            for lock_id, lock in sorted(data.locks.items(), key=lambda kv: kv[1].name)
            if lock.capabilities.codes
        ]

    async def async_step_add_booking(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the calendar, the locks it opens, the times and the code rule."""
        locks = self._lock_options()
        if not locks:
            return self.async_abort(reason="no_code_locks")
        errors: dict[str, str] = {}
        if user_input is not None:
            calendar = user_input[CONF_CALENDAR]
            registry = er.async_get(self.hass)
            reg = registry.async_get(calendar)
            if reg is not None and reg.platform == DOMAIN:
                # Our own guest-access calendar: following it would loop.
                errors[CONF_CALENDAR] = "own_calendar"
            elif any(b[CONF_CALENDAR] == calendar for b in self._bookings):
                errors[CONF_CALENDAR] = "already_followed"
            elif not user_input.get(CONF_LOCKS):
                errors[CONF_LOCKS] = "no_locks"
            else:
                self._bookings.append(
                    {
                        CONF_CALENDAR: calendar,
                        CONF_LOCKS: list(user_input[CONF_LOCKS]),
                        CONF_CHECK_IN: user_input[CONF_CHECK_IN],
                        CONF_CHECK_OUT: user_input[CONF_CHECK_OUT],
                        CONF_BUFFER_BEFORE: int(user_input[CONF_BUFFER_BEFORE]),
                        CONF_BUFFER_AFTER: int(user_input[CONF_BUFFER_AFTER]),
                        CONF_CODE_RULE: user_input[CONF_CODE_RULE],
                        CONF_PHONE_DIGITS: int(user_input[CONF_PHONE_DIGITS]),
                    }
                )
                return await self.async_step_bookings()
        schema = vol.Schema(
            {
                vol.Required(CONF_CALENDAR): EntitySelector(
                    EntitySelectorConfig(domain="calendar")
                ),
                vol.Required(CONF_LOCKS): SelectSelector(
                    SelectSelectorConfig(
                        options=locks, multiple=True, mode=SelectSelectorMode.LIST
                    )
                ),
                vol.Required(CONF_CHECK_IN, default=DEFAULT_CHECK_IN): TimeSelector(),
                vol.Required(CONF_CHECK_OUT, default=DEFAULT_CHECK_OUT): TimeSelector(),
                vol.Required(CONF_BUFFER_BEFORE, default=0): _minutes(),
                vol.Required(CONF_BUFFER_AFTER, default=0): _minutes(),
                vol.Required(CONF_CODE_RULE, default=RULE_RANDOM): SelectSelector(
                    SelectSelectorConfig(
                        options=[RULE_RANDOM, RULE_PHONE],
                        translation_key=CONF_CODE_RULE,
                        mode=SelectSelectorMode.LIST,
                    )
                ),
                vol.Required(
                    CONF_PHONE_DIGITS, default=DEFAULT_PHONE_DIGITS
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=4, max=7, step=1, mode=NumberSelectorMode.BOX
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id="add_booking",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
        )

    async def async_step_remove_booking(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Stop following calendars (their codes stay and expire on the locks)."""
        if user_input is not None:
            gone = set(user_input.get(CONF_REMOVE) or [])
            self._bookings = [b for b in self._bookings if b[CONF_CALENDAR] not in gone]
            return await self.async_step_bookings()
        schema = vol.Schema(
            {
                vol.Optional(CONF_REMOVE): SelectSelector(
                    SelectSelectorConfig(
                        options=[b[CONF_CALENDAR] for b in self._bookings],
                        multiple=True,
                        mode=SelectSelectorMode.LIST,
                    )
                )
            }
        )
        return self.async_show_form(step_id="remove_booking", data_schema=schema)

    async def async_step_save_bookings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Save every option; the entry reloads and the syncs start."""
        return self.async_create_entry(
            data={**self._options, CONF_BOOKING_CALENDARS: self._bookings}
        )
