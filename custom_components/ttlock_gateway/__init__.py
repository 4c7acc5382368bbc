"""TTLock Gateway: cloud locks (TTLock, Tuya, a TTLock gateway service), codes, events."""

from __future__ import annotations

from typing import Any, cast

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.storage import Store
from homeassistant.helpers.typing import ConfigType

from .api import create_provider
from .booking import async_remove_booking_secret, async_start_booking_syncs
from .budget import (
    async_acquire_ledger,
    async_release_ledger,
    async_remove_ledger as async_remove_call_ledger,
)
from .code_actions import async_setup_code_actions
from .code_packet import CodePacketMonitor
from .codes.ledger import (
    async_get_ledger as async_get_code_ledger,
    async_remove_ledger as async_remove_code_ledger,
)
from .codes.reconciler import Reconciler
from .const import CONF_WEBHOOK_ID, DOMAIN, LOGGER
from .coordinator import LockCoordinator, RuntimeData, TTLockGatewayConfigEntry
from .gateway_jobs import GatewayService, JobLink
from .gateway_links import GatewayLinks
from .providers.models import AsyncResultProvider
from .push import async_start_push
from .services import async_setup_services
from .webhook import (
    CONF_CLOUDHOOK_URL,
    async_get_inbox,
    async_setup_webhook,
    async_webhook_url,
)

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.LOCK,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services once for all entries."""
    async_setup_services(hass)
    async_setup_code_actions(hass)
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry
) -> bool:
    """Restore or fetch the locks, then bring up webhook, code ledger and platforms.

    The webhook is registered first and stays registered while setup retries:
    pushes are kept until the entry is loaded.
    """
    inbox = async_get_inbox(hass, entry)
    # The application's call ledger first: every request of this setup counts.
    ledger = await async_acquire_ledger(hass, entry.entry_id, entry.data)

    async def _release_ledger() -> None:
        await async_release_ledger(hass, entry.entry_id, ledger.digest)

    entry.async_on_unload(_release_ledger)
    provider = create_provider(hass, entry.data)
    jobs: JobLink | None = None
    if isinstance(provider, AsyncResultProvider):
        # Before the first refresh: the gateway service's lock list is a job
        # whose result comes through the webhook.
        jobs = JobLink(hass, entry, cast(GatewayService, provider))
        entry.async_on_unload(jobs.async_stop)
        await jobs.async_start(inbox, await async_webhook_url(hass, entry))
    coordinator = LockCoordinator(hass, entry, provider, ledger)
    await coordinator.async_config_entry_first_refresh()
    entry.async_on_unload(ledger.add_listener(coordinator.async_ledger_changed))
    # The code ledger outlives reloads (one writer of its file); its reconciler
    # is this set-up's.
    code_ledger = async_get_code_ledger(hass, entry.entry_id)
    await code_ledger.async_load()  # before any push can be named after its codes
    codes = Reconciler(hass, entry, coordinator, code_ledger)
    packet: CodePacketMonitor | None = None
    if jobs is not None:
        packet = CodePacketMonitor(hass, entry, provider)
    entry.runtime_data = RuntimeData(
        provider=provider,
        coordinator=coordinator,
        ledger=code_ledger,
        codes=codes,
        jobs=jobs,
        packet=packet,
    )
    coordinator.code_events = codes.matcher
    entry.async_on_unload(coordinator.async_shutdown_timers)
    entry.async_on_unload(coordinator.async_flush)
    # Keeps the schedule running when the account has no lock (no entity).
    entry.async_on_unload(coordinator.async_add_listener(lambda: None))
    await async_setup_webhook(hass, entry, inbox)
    await codes.async_attach()
    entry.async_on_unload(codes.async_detach)
    if jobs is not None:
        jobs.attach(coordinator, codes)
        codes.on_job_pending = jobs.save_soon
    if packet is not None:
        entry.async_on_unload(packet.async_stop)
        codes.on_code_added = packet.refresh_soon
        codes.on_packet_error = packet.note_refusal
        assert jobs is not None
        jobs.on_packet_error = packet.note_refusal
        await packet.async_start()
    # After the first refresh: the consumer keeps only the account's locks.
    await async_start_push(hass, entry, coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # After the platforms: the lock and gateway devices exist to be linked.
    links = GatewayLinks(hass, coordinator)
    await links.async_refresh()

    @callback
    def _relink() -> None:
        entry.async_create_background_task(
            hass, links.async_refresh(), f"{DOMAIN} gateway links"
        )

    entry.async_on_unload(coordinator.async_add_listener(_relink))
    # Last: the lock entities the syncs address exist. Registered after the
    # reconciler's detach, so a sync stops before the reconciler (LIFO).
    await async_start_booking_syncs(hass, entry)
    return True


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry, device: dr.AnyDeviceEntry
) -> bool:
    """Let the user delete a lock's or gateway's device the cloud no longer lists."""
    if entry.state is not ConfigEntryState.LOADED:
        # Nothing to compare with; a device still in the account comes back.
        return True
    return entry.runtime_data.coordinator.async_forget_device(device)


async def async_remove_entry(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry
) -> None:
    """Forget what the entry stored: activity, the code ledger, a cloudhook,
    and the call ledger when no other entry uses the same application."""
    await Store[dict[str, Any]](
        hass, 1, f"{DOMAIN}.{entry.entry_id}.activity"
    ).async_remove()
    # A gateway service's pending jobs.
    await Store[dict[str, Any]](
        hass, 1, f"{DOMAIN}.{entry.entry_id}.jobs"
    ).async_remove()
    await async_remove_code_ledger(hass, entry.entry_id)
    await async_remove_booking_secret(hass, entry.entry_id)
    await async_remove_call_ledger(
        hass,
        entry.data,
        [
            other.data
            for other in hass.config_entries.async_entries(DOMAIN)
            if other.entry_id != entry.entry_id
        ],
    )
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
