"""When a lock's or gateway's device leaves, and the registry calls that do it.

A device goes only on evidence that its lock left the account: missing from
``MISSING_LISTS_TO_REMOVE`` successful lists in a row, or from one list the cloud
marked complete. One odd answer (an empty list) is not evidence.
"""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN, LOGGER

# Object id of a gateway's device: "gateway_<id>" (a lock's is its id).
GATEWAY_PREFIX = "gateway_"
# Object ids of standalone door sensors (TTLock DS3).
DOOR_SENSOR_PREFIX = "doorsensor_"
MISSING_LISTS_TO_REMOVE = 2


def device_objects(device: dr.AnyDeviceEntry, prefix: str) -> list[str]:
    """The object ids a device stands for (``prefix`` is "<account>_")."""
    return [
        ident.removeprefix(prefix)
        for domain, ident in device.identifiers
        if domain == DOMAIN and ident.startswith(prefix)
    ]


def registry_objects(hass: HomeAssistant, entry_id: str, prefix: str) -> set[str]:
    """Object ids of every device the entry has in the registry."""
    return {
        object_id
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry_id)
        for object_id in device_objects(device, prefix)
    }


def remove_devices(
    hass: HomeAssistant, entry_id: str, identifiers: Iterable[str]
) -> None:
    """Remove the entry's devices with these identifiers (current registry API)."""
    registry = dr.async_get(hass)
    for identifier in identifiers:
        if device := registry.async_get_device_by_identifier(
            (DOMAIN, identifier), entry_id
        ):
            registry.async_remove_device(device.id)


class MissingCounter:
    """How many successful lists in a row each lock or gateway was missing from."""

    def __init__(self, counts: dict[str, int] | None = None) -> None:
        """Counts as stored."""
        self.counts: dict[str, int] = dict(counts or {})

    def __contains__(self, object_id: object) -> bool:
        """Whether the last list lacked it."""
        return object_id in self.counts

    def forget(self, object_id: str) -> None:
        """It is gone (or back): nothing to count."""
        self.counts.pop(object_id, None)

    def sweep(
        self,
        known: set[str],
        present: set[str],
        *,
        locks_complete: bool,
        gateways_complete: bool,
    ) -> list[str]:
        """Count one successful list; return the object ids that left."""
        for object_id in present:
            self.counts.pop(object_id, None)
        gone: list[str] = []
        for object_id in sorted(known - present):
            is_gateway = object_id.startswith(GATEWAY_PREFIX)
            # Door sensors are swept on their own (their list, its ``complete``
            # passed as ``locks_complete``).
            complete = gateways_complete if is_gateway else locks_complete
            count = self.counts.get(object_id, 0) + 1
            if complete or count >= MISSING_LISTS_TO_REMOVE:
                self.counts.pop(object_id, None)
                gone.append(object_id)
            else:
                self.counts[object_id] = count
                LOGGER.debug(
                    "%s %s missing from the list; kept until the next one",
                    "Gateway" if is_gateway else "Lock",
                    object_id.removeprefix(GATEWAY_PREFIX),
                )
        return gone
