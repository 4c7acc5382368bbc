"""TTLock Gateway: TTLock and Tuya cloud locks, guest codes and pushed events."""

from __future__ import annotations

from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.storage import Store
from homeassistant.helpers.typing import ConfigType

from .api import create_provider
from .codes.ledger import async_get_ledger, async_remove_ledger
from .codes.reconciler import Reconciler
from .const import CONF_WEBHOOK_ID, DOMAIN, LOGGER
from .coordinator import LockCoordinator, RuntimeData, TTLockGatewayConfigEntry
from .services import async_setup_services
from .webhook import CONF_CLOUDHOOK_URL, async_setup_webhook

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.EVENT,
    Platform.LOCK,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services once for all entries."""
    async_setup_services(hass)
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry
) -> bool:
    """Log in, fetch the locks, then bring up webhook, code ledger and platforms."""
    provider = create_provider(hass, entry.data)
    coordinator = LockCoordinator(hass, entry, provider)
    await coordinator.async_config_entry_first_refresh()
    # The ledger outlives reloads (one writer of its file); its reconciler is
    # this set-up's.
    ledger = async_get_ledger(hass, entry.entry_id)
    await ledger.async_load()  # before any push can be named after its codes
    codes = Reconciler(hass, entry, coordinator, ledger)
    entry.runtime_data = RuntimeData(
        provider=provider, coordinator=coordinator, ledger=ledger, codes=codes
    )
    coordinator.code_events = codes.matcher
    entry.async_on_unload(coordinator.async_shutdown_timers)
    entry.async_on_unload(coordinator.async_flush)
    await async_setup_webhook(hass, entry)
    await codes.async_attach()
    entry.async_on_unload(codes.async_detach)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_remove_entry(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry
) -> None:
    """Forget what the entry stored: activity, the code ledger, a cloudhook."""
    await Store[dict[str, Any]](
        hass, 1, f"{DOMAIN}.{entry.entry_id}.activity"
    ).async_remove()
    await async_remove_ledger(hass, entry.entry_id)
    if CONF_CLOUDHOOK_URL in entry.data and "cloud" in hass.config.components:
        from homeassistant.components import cloud

        try:
            await cloud.async_delete_cloudhook(hass, entry.data[CONF_WEBHOOK_ID])
        except cloud.CloudNotAvailable:
            LOGGER.debug("Home Assistant Cloud not available to delete the cloudhook")


async def async_unload_entry(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry
) -> bool:
    """Unload platforms; webhook, timers and reconciler go with the unload callbacks."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
