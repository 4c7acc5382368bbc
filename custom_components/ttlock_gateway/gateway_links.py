"""Which gateway serves which lock, shown as the lock device's "connected via".

The cloud is asked once per gateway (TTLock ``/v3/gateway/listLock``) at setup
and again only when locks or gateways join or leave the account: the hourly lock
list stays one call. A lock several gateways reach is linked to the strongest
(the cloud picks that one for remote commands). A link the cloud no longer
reports (its 30-minute cache forgets the locks of an offline gateway) is kept:
an unplugged gateway does not unlink its locks.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN, LOGGER
from .coordinator import LockCoordinator
from .providers.models import ProviderError


class GatewayLinks:
    """Resolves lock -> gateway links and writes them to the device registry."""

    def __init__(self, hass: HomeAssistant, coordinator: LockCoordinator) -> None:
        """Nothing resolved yet."""
        self._hass = hass
        self._coordinator = coordinator
        self._resolved_for: tuple[frozenset[str], frozenset[str]] | None = None
        self._links: dict[str, str] = {}

    @property
    def links(self) -> dict[str, str]:
        """Lock id -> gateway id, as last resolved."""
        return dict(self._links)

    async def async_refresh(self) -> None:
        """Ask the cloud when the account's locks or gateways changed; then link."""
        data = self._coordinator.current_data
        if data is None:
            return
        key = (frozenset(data.locks), frozenset(data.gateways))
        if self._resolved_for is None and self._restore_from_registry():
            # A restart: the links written last run are still true; asking the
            # cloud again would cost a call per gateway at every start.
            self._resolved_for = key
        if key != self._resolved_for and data.gateways:
            best: dict[str, tuple[int, str]] = {}
            try:
                for gateway_id in sorted(data.gateways):
                    served = await self._coordinator.provider.async_list_gateway_locks(
                        gateway_id
                    )
                    for lock_id, rssi in served.items():
                        strength = rssi if rssi is not None else -1000
                        if lock_id not in best or strength > best[lock_id][0]:
                            best[lock_id] = (strength, gateway_id)
            except ProviderError as err:
                # Tried again on the next change; the links stay as they were.
                LOGGER.debug("Gateway links not fetched: %s", type(err).__name__)
            else:
                self._resolved_for = key
                self._links.update({lock: gw for lock, (_, gw) in best.items()})
        self._apply()

    @callback
    def _restore_from_registry(self) -> bool:
        """Take the links from the device registry; whether every lock that has
        a gateway is linked there (nothing left to ask the cloud)."""
        data = self._coordinator.current_data
        if data is None:
            return False
        registry = dr.async_get(self._hass)
        entry_id = self._coordinator.config_entry.entry_id
        gateway_by_device: dict[str, str] = {}
        for gateway_id in data.gateways:
            device = registry.async_get_device_by_identifier(
                (DOMAIN, self._coordinator.device_key(f"gateway_{gateway_id}")),
                entry_id,
            )
            if device is not None:
                gateway_by_device[device.id] = gateway_id
        links: dict[str, str] = {}
        for lock_id, lock in data.locks.items():
            device = registry.async_get_device_by_identifier(
                (DOMAIN, self._coordinator.device_key(lock_id)), entry_id
            )
            via = device.via_device_id if device is not None else None
            if via is not None and via in gateway_by_device:
                links[lock_id] = gateway_by_device[via]
            elif lock.has_gateway:
                return False
        if not links:
            return False
        self._links.update(links)
        return True

    @callback
    def _apply(self) -> None:
        """Put the links on the locks and their devices."""
        data = self._coordinator.current_data
        if data is None:
            return
        registry = dr.async_get(self._hass)
        entry_id = self._coordinator.config_entry.entry_id
        for lock_id, lock in data.locks.items():
            gateway_id = self._links.get(lock_id)
            if gateway_id is None or gateway_id not in data.gateways:
                continue
            lock.gateway_id = gateway_id
            device = registry.async_get_device_by_identifier(
                (DOMAIN, self._coordinator.device_key(lock_id)), entry_id
            )
            gateway = registry.async_get_device_by_identifier(
                (DOMAIN, self._coordinator.device_key(f"gateway_{gateway_id}")),
                entry_id,
            )
            if device and gateway and device.via_device_id != gateway.id:
                registry.async_update_device(device.id, via_device_id=gateway.id)
