"""Config flow: pick a cloud, sign in, reauth, reconfigure, and schedule options."""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any, Final

from homeassistant.components import webhook
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol
from yarl import URL

from .api import create_provider
from .booking_flow import CONF_MANAGE_BOOKINGS, BookingOptionsMixin
from .booking_rules import CONF_BOOKING_CALENDARS
from .const import (
    CONF_ACCESS_ID,
    CONF_ACCESS_SECRET,
    CONF_API_BUDGET,
    CONF_BASE_URL,
    CONF_CLEANUP_ALL,
    CONF_CLEANUP_INTERVAL,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_DATA_CENTER,
    CONF_DEFAULT_PHONE,
    CONF_EXPOSE_CODES,
    CONF_FALLBACK,
    CONF_HOME_IDS,
    CONF_NEW_WEBHOOK_URL,
    CONF_PASSWORD_MD5,
    CONF_PROVIDER,
    CONF_REGION,
    CONF_RETRY_ATTEMPTS,
    CONF_RETRY_INTERVAL,
    CONF_USER_UID,
    CONF_WEBHOOK_ID,
    DEFAULT_API_BUDGETS,
    DEFAULT_CLEANUP_INTERVAL,
    DEFAULT_RETRY_ATTEMPTS,
    DEFAULT_RETRY_INTERVAL,
    DOMAIN,
    FALLBACK_NONE,
    FALLBACK_OFFLINE,
    LOGGER,
    PROVIDER_DDING,
    PROVIDER_GATEWAY_SERVICE,
    PROVIDER_TTLOCK,
    PROVIDER_TUYA,
    TTLOCK_REGIONS,
    TUYA_DATA_CENTERS,
)
from .coordinator import TTLockGatewayConfigEntry
from .providers.bounds import has_unsafe_text
from .providers.gateway_service import GatewayServiceClient, api_base
from .providers.models import (
    AccountInfo,
    AuthError,
    CannotConnectError,
    InvalidRequestError,
    ProviderError,
    RateLimitError,
    SubscriptionError,
    TransientError,
    UnknownHomeError,
    WrongRegionError,
)
from .providers.ttlock import md5_password
from .webhook import CONF_CLOUDHOOK_URL

_SECRET = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
# The TTLock clouds by region, as the 30008 error text names them.
REGION_HOSTS: dict[str, str] = {
    "eu": "euapi.ttlock.com",
    "cn": "cnapi.ttlock.com",
}
# TTLock answers these when the developer application itself is wrong.
_BAD_APP_CODES = {10000, 10001, "10000", "10001"}
# Tuya answers "permission deny" when the UID is not an app account linked to the
# project (the token was granted, so the access ID and secret are right).
_TUYA_PERMISSION_DENIED = {1106, "1106"}
# Never shown back in a form, not even after an error.
_SECRET_FIELDS = frozenset({CONF_CLIENT_SECRET, CONF_PASSWORD, CONF_ACCESS_SECRET})


# New entries issue an offline code when the gateway is down (issue 18);
# entries made before keep no fallback until the owner turns it on.
NEW_ENTRY_OPTIONS: Final[dict[str, Any]] = {CONF_FALLBACK: FALLBACK_OFFLINE}


def parse_home_ids(value: Any) -> list[str] | None:
    """Dding home ids from the form: each item split at commas/blanks (pasted lists).

    None when one is unusable (too long, control characters); duplicates go.
    """
    raw = value if isinstance(value, list) else [value]
    items = [part for item in raw for part in re.split(r"[,;\s]+", str(item))]
    homes: list[str] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        if len(text) > 128 or has_unsafe_text(text):
            return None
        if text not in homes:
            homes.append(text)
    return homes


def _select(options: tuple[str, ...], key: str) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=list(options),
            translation_key=key,
            mode=SelectSelectorMode.DROPDOWN,
        )
    )


def _secret_key(field: str, stored: bool) -> vol.Marker:
    """A secret is required for a new account; a stored one is kept when left empty."""
    return vol.Optional(field) if stored else vol.Required(field)


async def _async_reachable_from_outside(hass: HomeAssistant) -> bool:
    """Whether a cloud can call this Home Assistant: Cloud or an external URL."""
    if "cloud" in hass.config.components:
        from homeassistant.components import cloud

        if cloud.async_active_subscription(hass):
            return True
    try:
        webhook.async_generate_url(
            hass, "probe", allow_internal=False, prefer_external=True
        )
    except NoURLAvailableError:
        return False
    return True


def _valid_url(value: str) -> bool:
    """An absolute http(s) address with a host."""
    try:
        url = URL(value)
    except ValueError:
        return False
    return url.scheme in ("http", "https") and bool(url.host) and url.is_absolute()


def _valid_phone(value: str) -> bool:
    """5-20 digits with an optional leading +, as the Dding client sends it."""
    digits = value.replace(" ", "").replace("-", "").removeprefix("+")
    return digits.isascii() and digits.isdigit() and 5 <= len(digits) <= 20


class TTLockGatewayConfigFlow(ConfigFlow, domain=DOMAIN):
    """Sign in to TTLock or Tuya."""

    VERSION = 1
    # The region a TTLock 30008 answer named, for the form's error text.
    _other_region = ""
    # The Dding homes the SaaS did not know, for the form's error text.
    _unknown_homes = ""

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: TTLockGatewayConfigEntry,
    ) -> TTLockGatewayOptionsFlow:
        """Code handling and privacy."""
        return TTLockGatewayOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the cloud."""
        return self.async_show_menu(
            step_id="user",
            menu_options=[
                PROVIDER_TTLOCK,
                PROVIDER_TUYA,
                PROVIDER_DDING,
                PROVIDER_GATEWAY_SERVICE,
            ],
        )

    async def _async_try(
        self, data: dict[str, Any], errors: dict[str, str], secret_field: str
    ) -> AccountInfo | None:
        """Sign in and list the locks; fill ``errors`` on failure."""
        tuya = data.get(CONF_PROVIDER) == PROVIDER_TUYA
        dding = data.get(CONF_PROVIDER) == PROVIDER_DDING
        provider = create_provider(self.hass, data)
        try:
            account = await provider.async_login()
            await provider.async_list_locks()
        except WrongRegionError as err:
            # TTLock 30008: the account lives in the other region's cloud.
            errors[CONF_REGION] = "wrong_region"
            self._other_region = REGION_HOSTS.get(err.other_region, err.other_region)
        except UnknownHomeError as err:
            # Dding: 15006 / 15014 for these homes (the SaaS knows no others).
            errors[CONF_HOME_IDS] = "unknown_home"
            self._unknown_homes = ", ".join(err.home_ids)
        except AuthError as err:
            if dding:
                errors[CONF_CLIENT_SECRET] = "invalid_dding"
            elif (
                tuya and data.get(CONF_USER_UID) and err.code in _TUYA_PERMISSION_DENIED
            ):
                errors[CONF_USER_UID] = "invalid_uid"
            elif tuya:
                errors[secret_field] = "invalid_access"
            elif err.code in _BAD_APP_CODES:
                # Said about the developer application, not the app account.
                errors[CONF_CLIENT_SECRET] = "invalid_client"
            else:
                errors[secret_field] = "invalid_account"
        except RateLimitError:
            errors["base"] = "rate_limited"
        except SubscriptionError:
            errors["base"] = "subscription_lapsed"
        except TransientError:
            # With an explicit address the region / data centre plays no part.
            errors["base"] = (
                "cannot_connect_url" if data.get(CONF_BASE_URL) else "cannot_connect"
            )
        except ProviderError as err:
            LOGGER.debug("Sign-in refused: %s", type(err).__name__)
            errors["base"] = "unknown"
        else:
            return account
        return None

    async def _async_finish(
        self, data: dict[str, Any], account: AccountInfo
    ) -> ConfigFlowResult:
        await self.async_set_unique_id(account.unique_id)
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            entry = (
                self._get_reauth_entry()
                if self.source == SOURCE_REAUTH
                else self._get_reconfigure_entry()
            )
            # Home Assistant's own "re-authentication / reconfiguration was
            # successful" messages (translated in every language it ships).
            return self.async_update_reload_and_abort(entry, data_updates=data)
        # Adding an account again with working credentials repairs a stale entry
        # (e.g. one waiting for reauth) instead of only saying it exists.
        self._abort_if_unique_id_configured(updates=data)
        data[CONF_WEBHOOK_ID] = webhook.async_generate_id()
        if data[CONF_PROVIDER] == PROVIDER_GATEWAY_SERVICE:
            # Set-up registers the callback with the service itself.
            return self.async_create_entry(
                title=account.title, data=data, description="gateway_service"
            )
        if data[CONF_PROVIDER] == PROVIDER_TUYA:
            # Tuya has no callback here: events are polled.
            return self.async_create_entry(
                title=account.title,
                data=data,
                options=NEW_ENTRY_OPTIONS,
                description="polled",
            )
        # Dding has no console field: the partner gives Dding the URL (seed 003, 9).
        description = "dding" if data[CONF_PROVIDER] == PROVIDER_DDING else None
        # The entry does not exist yet; show the URL its webhook will have.
        try:
            url = webhook.async_generate_url(
                self.hass,
                data[CONF_WEBHOOK_ID],
                allow_internal=False,
                prefer_external=True,
            )
        except NoURLAvailableError:
            # A relative /api/webhook/... path is of no use in a cloud console:
            # say what to configure instead (the repair notice shows the URL later).
            return self.async_create_entry(
                title=account.title,
                data=data,
                options=NEW_ENTRY_OPTIONS,
                description="no_external_url",
            )
        return self.async_create_entry(
            title=account.title,
            data=data,
            options=NEW_ENTRY_OPTIONS,
            description=description,
            description_placeholders={"webhook_url": url},
        )

    def _current(self) -> Mapping[str, Any]:
        if self.source == SOURCE_REAUTH:
            return self._get_reauth_entry().data
        if self.source == SOURCE_RECONFIGURE:
            return self._get_reconfigure_entry().data
        return {}

    @staticmethod
    def _secret(
        user_input: Mapping[str, Any], field: str, stored: str | None
    ) -> str | None:
        """The entered secret, else the stored one (left empty keeps it)."""
        entered = str(user_input.get(field) or "")
        if field != CONF_PASSWORD:
            # Pasted keys carry stray blanks; a password may end in one.
            entered = entered.strip()
        return entered or stored

    def _show(
        self,
        step_id: str,
        schema: dict[Any, Any],
        suggested: Mapping[str, Any],
        errors: dict[str, str],
        console_url: str,
    ) -> ConfigFlowResult:
        """The form, refilled with what was stored or entered (never secrets)."""
        values = {k: v for k, v in suggested.items() if k not in _SECRET_FIELDS}
        placeholders = {"console_url": console_url}
        if step_id == "ttlock":
            # Named by a TTLock 30008 answer (the account's region).
            placeholders["other_region"] = self._other_region
        if step_id == PROVIDER_DDING:
            placeholders["home_ids"] = self._unknown_homes
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(vol.Schema(schema), values),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_ttlock(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """TTLock developer application and app account."""
        errors: dict[str, str] = {}
        current = self._current()
        suggested: dict[str, Any] = dict(current)
        if user_input is not None:
            # A cleared optional field is left out of user_input: show it empty.
            suggested.update({CONF_BASE_URL: ""}, **user_input)
            base_url = (user_input.get(CONF_BASE_URL) or "").strip()
            secret = self._secret(
                user_input, CONF_CLIENT_SECRET, current.get(CONF_CLIENT_SECRET)
            )
            password = self._secret(user_input, CONF_PASSWORD, None)
            password_md5 = (
                md5_password(password) if password else current.get(CONF_PASSWORD_MD5)
            )
            if not secret:
                errors[CONF_CLIENT_SECRET] = "required"
            if not password_md5:
                errors[CONF_PASSWORD] = "required"
            if base_url and not _valid_url(base_url):
                errors[CONF_BASE_URL] = "invalid_url"
            if not errors:
                data = {
                    CONF_PROVIDER: PROVIDER_TTLOCK,
                    CONF_CLIENT_ID: user_input[CONF_CLIENT_ID].strip(),
                    CONF_CLIENT_SECRET: secret,
                    CONF_USERNAME: user_input[CONF_USERNAME].strip(),
                    CONF_PASSWORD_MD5: password_md5,
                    CONF_REGION: user_input.get(CONF_REGION, "eu"),
                    # Empty means the region's default address.
                    CONF_BASE_URL: base_url,
                }
                if account := await self._async_try(data, errors, CONF_PASSWORD):
                    return await self._async_finish(data, account)
        stored = bool(current)
        schema: dict[Any, Any] = {
            vol.Required(CONF_CLIENT_ID): str,
            _secret_key(CONF_CLIENT_SECRET, stored): _SECRET,
            vol.Required(CONF_USERNAME): str,
            _secret_key(CONF_PASSWORD, stored): _SECRET,
            vol.Required(CONF_REGION, default="eu"): _select(TTLOCK_REGIONS, "region"),
            # Optional explicit API address (proxies, tests); empty: the region's.
            # Always offered: ``show_advanced_options`` is deprecated.
            vol.Optional(CONF_BASE_URL): _URL,
        }
        return self._show(
            "ttlock", schema, suggested, errors, "https://euopen.ttlock.com"
        )

    async def async_step_tuya(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Tuya cloud project."""
        errors: dict[str, str] = {}
        current = self._current()
        suggested: dict[str, Any] = dict(current)
        if user_input is not None:
            # A cleared optional field is left out of user_input: show it empty.
            suggested.update({CONF_BASE_URL: "", CONF_USER_UID: ""}, **user_input)
            base_url = (user_input.get(CONF_BASE_URL) or "").strip()
            secret = self._secret(
                user_input, CONF_ACCESS_SECRET, current.get(CONF_ACCESS_SECRET)
            )
            if not secret:
                errors[CONF_ACCESS_SECRET] = "required"
            if base_url and not _valid_url(base_url):
                errors[CONF_BASE_URL] = "invalid_url"
            if not errors:
                data = {
                    CONF_PROVIDER: PROVIDER_TUYA,
                    CONF_ACCESS_ID: user_input[CONF_ACCESS_ID].strip(),
                    CONF_ACCESS_SECRET: secret,
                    CONF_DATA_CENTER: user_input.get(CONF_DATA_CENTER, "eu"),
                    CONF_USER_UID: (user_input.get(CONF_USER_UID) or "").strip(),
                    # Empty means the data centre's default address.
                    CONF_BASE_URL: base_url,
                }
                if account := await self._async_try(data, errors, CONF_ACCESS_SECRET):
                    return await self._async_finish(data, account)
        schema: dict[Any, Any] = {
            vol.Required(CONF_ACCESS_ID): str,
            _secret_key(CONF_ACCESS_SECRET, bool(current)): _SECRET,
            vol.Required(CONF_DATA_CENTER, default="eu"): _select(
                TUYA_DATA_CENTERS, "data_center"
            ),
            vol.Optional(CONF_USER_UID): str,
            vol.Optional(CONF_BASE_URL): _URL,
        }
        return self._show(
            "tuya", schema, suggested, errors, "https://platform.tuya.com"
        )

    async def async_step_gateway_service(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A self-hosted TTLock gateway service (seed 000) and its TTLock account.

        Stored: the service's URL, the account's e-mail and password (the
        service's ``get_token`` takes the plain password for every token; the
        service itself keeps it too). Job results come back through the
        webhook, so an address reachable from the internet is required.
        """
        errors: dict[str, str] = {}
        current = self._current()
        suggested: dict[str, Any] = dict(current)
        if user_input is not None:
            suggested.update(user_input)
            raw_url = str(user_input.get(CONF_BASE_URL) or "").strip()
            password = self._secret(
                user_input, CONF_PASSWORD, current.get(CONF_PASSWORD)
            )
            base_url = ""
            if not _valid_url(raw_url):
                errors[CONF_BASE_URL] = "invalid_url"
            else:
                base_url = api_base(raw_url)
            if not password:
                errors[CONF_PASSWORD] = "required"
            if not errors and not await _async_reachable_from_outside(self.hass):
                # Without the callback no job (unlock, code, lock list) ever
                # completes: refuse now rather than fail later.
                errors["base"] = "no_external_url"
            if not errors:
                data = {
                    CONF_PROVIDER: PROVIDER_GATEWAY_SERVICE,
                    CONF_BASE_URL: base_url,
                    CONF_USERNAME: user_input[CONF_USERNAME].strip(),
                    CONF_PASSWORD: password,
                }
                if account := await self._async_try_gateway(data, errors):
                    return await self._async_finish(data, account)
        schema: dict[Any, Any] = {
            vol.Required(CONF_BASE_URL): _URL,
            vol.Required(CONF_USERNAME): str,
            _secret_key(CONF_PASSWORD, bool(current)): _SECRET,
        }
        return self._show("gateway_service", schema, suggested, errors, "")

    async def _async_try_gateway(
        self, data: dict[str, Any], errors: dict[str, str]
    ) -> AccountInfo | None:
        """Register the account with the service (repeatable) and get a token.

        The lock list is a job whose result needs the entry's webhook: set-up
        reads it, not the flow.
        """
        provider = create_provider(self.hass, data)
        assert isinstance(provider, GatewayServiceClient)
        try:
            await provider.async_create_user()
            return await provider.async_login()
        except AuthError:
            errors[CONF_PASSWORD] = "invalid_gateway_account"
        except RateLimitError:
            errors["base"] = "rate_limited"
        except (CannotConnectError, TransientError):
            errors[CONF_BASE_URL] = "cannot_connect_service"
        except InvalidRequestError:
            # A redirect, a 404 or a validation answer: not this API.
            errors[CONF_BASE_URL] = "not_gateway_service"
        except ProviderError as err:
            LOGGER.debug("Gateway service refused: %s", type(err).__name__)
            errors["base"] = "unknown"
        return None

    async def async_step_dding(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Dding partner application and the homes it manages."""
        errors: dict[str, str] = {}
        current = self._current()
        suggested: dict[str, Any] = dict(current)
        if user_input is not None:
            # A cleared optional field is left out of user_input: show it empty.
            suggested.update({CONF_BASE_URL: "", CONF_DEFAULT_PHONE: ""}, **user_input)
            base_url = (user_input.get(CONF_BASE_URL) or "").strip()
            phone = (user_input.get(CONF_DEFAULT_PHONE) or "").strip()
            secret = self._secret(
                user_input, CONF_CLIENT_SECRET, current.get(CONF_CLIENT_SECRET)
            )
            homes = parse_home_ids(user_input.get(CONF_HOME_IDS) or [])
            if not secret:
                errors[CONF_CLIENT_SECRET] = "required"
            if homes is None:
                errors[CONF_HOME_IDS] = "invalid_home_ids"
            elif not homes:
                errors[CONF_HOME_IDS] = "required"
            if phone and not _valid_phone(phone):
                errors[CONF_DEFAULT_PHONE] = "invalid_phone"
            if base_url and not _valid_url(base_url):
                errors[CONF_BASE_URL] = "invalid_url"
            if not errors:
                data = {
                    CONF_PROVIDER: PROVIDER_DDING,
                    CONF_CLIENT_ID: user_input[CONF_CLIENT_ID].strip(),
                    CONF_CLIENT_SECRET: secret,
                    CONF_HOME_IDS: homes,
                    CONF_DEFAULT_PHONE: phone,
                    CONF_BASE_URL: base_url,
                }
                if account := await self._async_try(data, errors, CONF_CLIENT_SECRET):
                    return await self._async_finish(data, account)
        schema: dict[Any, Any] = {
            vol.Required(CONF_CLIENT_ID): str,
            _secret_key(CONF_CLIENT_SECRET, bool(current)): _SECRET,
            vol.Required(CONF_HOME_IDS): TextSelector(
                TextSelectorConfig(multiple=True)
            ),
            vol.Optional(CONF_DEFAULT_PHONE): TextSelector(
                TextSelectorConfig(type=TextSelectorType.TEL)
            ),
            vol.Optional(CONF_BASE_URL): _URL,
        }
        return self._show(PROVIDER_DDING, schema, suggested, errors, "")

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """The stored sign-in stopped working."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask again for the credentials of the same account."""
        if user_input is None:
            return self.async_show_form(
                step_id="reauth_confirm",
                description_placeholders={"account": self._get_reauth_entry().title},
            )
        return await self._async_provider_step()

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change region, credentials or data centre of the same account."""
        return await self._async_provider_step()

    async def _async_provider_step(self) -> ConfigFlowResult:
        provider = self._current().get(CONF_PROVIDER)
        if provider == PROVIDER_GATEWAY_SERVICE:
            return await self.async_step_gateway_service()
        if provider == PROVIDER_TUYA:
            return await self.async_step_tuya()
        if provider == PROVIDER_DDING:
            return await self.async_step_dding()
        return await self.async_step_ttlock()


def _minutes(minimum: int, maximum: int) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=1,
            mode=NumberSelectorMode.BOX,
            unit_of_measurement="min",
        )
    )


class TTLockGatewayOptionsFlow(BookingOptionsMixin, OptionsFlowWithReload):
    """Code retries and clean-up, code privacy; a new webhook URL.

    No polling intervals (Home Assistant's rule for integrations): the lock list
    is read hourly and the activity every 6 hours as a safety net for pushed
    events. Who needs another pace turns off polling in the entry's system
    options and calls ``homeassistant.update_entity`` from an automation.
    """

    _options: dict[str, Any]

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One form with every option; the entry reloads on save."""
        if user_input is not None:
            manage_bookings = user_input.pop(CONF_MANAGE_BOOKINGS, False)
            new_url = user_input.pop(CONF_NEW_WEBHOOK_URL, False)
            # Saved whole: options of older versions (polling intervals) go;
            # the followed booking calendars (their own steps) stay.
            saved: dict[str, Any] = {
                key: int(value) if isinstance(value, float) else value
                for key, value in user_input.items()
            }
            if followed := self.config_entry.options.get(CONF_BOOKING_CALENDARS):
                saved[CONF_BOOKING_CALENDARS] = followed
            if new_url:
                self._options = saved
                return await self.async_step_new_webhook_url()
            if manage_bookings:
                self._start_bookings(saved)
                return await self.async_step_bookings()
            return self.async_create_entry(data=saved)
        options = self.config_entry.options
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_CLEANUP_INTERVAL,
                    default=options.get(
                        CONF_CLEANUP_INTERVAL, DEFAULT_CLEANUP_INTERVAL
                    ),
                ): _minutes(60, 10080),
                vol.Required(
                    CONF_RETRY_INTERVAL,
                    default=options.get(CONF_RETRY_INTERVAL, DEFAULT_RETRY_INTERVAL),
                ): _minutes(1, 240),
                vol.Required(
                    CONF_RETRY_ATTEMPTS,
                    default=options.get(CONF_RETRY_ATTEMPTS, DEFAULT_RETRY_ATTEMPTS),
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=1, max=20, step=1, mode=NumberSelectorMode.BOX
                    )
                ),
                vol.Required(
                    CONF_CLEANUP_ALL, default=options.get(CONF_CLEANUP_ALL, False)
                ): BooleanSelector(),
                vol.Required(
                    CONF_EXPOSE_CODES, default=options.get(CONF_EXPOSE_CODES, False)
                ): BooleanSelector(),
                vol.Required(
                    CONF_FALLBACK, default=options.get(CONF_FALLBACK, FALLBACK_NONE)
                ): _select((FALLBACK_OFFLINE, FALLBACK_NONE), CONF_FALLBACK),
                vol.Required(
                    CONF_API_BUDGET,
                    default=options.get(
                        CONF_API_BUDGET,
                        DEFAULT_API_BUDGETS.get(
                            str(self.config_entry.data.get(CONF_PROVIDER)), 0
                        ),
                    ),
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=0, max=10_000_000, step=1, mode=NumberSelectorMode.BOX
                    )
                ),
                # Actions, not options: never stored, off each time.
                vol.Optional(CONF_MANAGE_BOOKINGS): BooleanSelector(),
                vol.Optional(CONF_NEW_WEBHOOK_URL): BooleanSelector(),
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema)

    async def async_step_new_webhook_url(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Replace the webhook id: the old callback URL stops working at once.

        The id is the URL's only secret; a new one is the way out when the URL
        leaked. Shown first, applied on confirmation, then the entry reloads
        and the repair notice shows the URL until a callback arrives there.
        """
        entry = self.config_entry
        if user_input is None:
            self._new_webhook_id = webhook.async_generate_id()
            try:
                url = webhook.async_generate_url(
                    self.hass,
                    self._new_webhook_id,
                    allow_internal=False,
                    prefer_external=True,
                )
            except NoURLAvailableError:
                url = f"/api/webhook/{self._new_webhook_id}"
            return self.async_show_form(
                step_id="new_webhook_url",
                description_placeholders={"webhook_url": url},
            )
        old_id = entry.data[CONF_WEBHOOK_ID]
        data = {
            key: value for key, value in entry.data.items() if key != CONF_CLOUDHOOK_URL
        }
        data[CONF_WEBHOOK_ID] = self._new_webhook_id
        if CONF_CLOUDHOOK_URL in entry.data and "cloud" in self.hass.config.components:
            from homeassistant.components import cloud

            try:
                await cloud.async_delete_cloudhook(self.hass, old_id)
            except cloud.CloudNotAvailable:
                LOGGER.debug(
                    "Home Assistant Cloud not available to delete the cloudhook"
                )
        self.hass.config_entries.async_update_entry(entry, data=data)
        # The webhook is registered at setup: reload even when no option changed.
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_create_entry(data=self._options)
