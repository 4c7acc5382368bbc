"""A Tuya entry's push connection: the message service, wired to the coordinator.

One ``TuyaPushConsumer`` per Tuya entry, on Home Assistant's aiohttp session,
started after the first refresh and stopped on unload (a reload stops the old
one before the new setup starts). Pushed events go through
``LockCoordinator.async_handle_push``: the same de-duplication by ``event_id``
and the same cloud-time order as polled records.

Push is automatic, not an option: a project without the Message Service is
refused at the login (HTTP 401), the consumer tries again every ~15 minutes
(no API call, nothing billed) and the poll carries on at its documented
schedule. A connection down for an hour raises a repair saying why (login
refused: how to enable the Message Service; otherwise: down since when); it
goes when the connection is back. Data centres without a documented endpoint,
and entries with an explicit API address (a proxy or a test double: its push
endpoint is unknown), get no push unless ``push_url`` names one.
"""

from __future__ import annotations

from datetime import datetime

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_point_in_utc_time

from .const import (
    CONF_ACCESS_ID,
    CONF_ACCESS_SECRET,
    CONF_BASE_URL,
    CONF_DATA_CENTER,
    CONF_PROVIDER,
    CONF_PUSH_URL,
    DOMAIN,
    LOGGER,
    PROVIDER_TUYA,
    PUSH_DOWN_REPAIR_AFTER,
)
from .coordinator import LockCoordinator, TTLockGatewayConfigEntry, account_signal
from .providers.models import PushBatch, PushHealth
from .providers.tuya_push import TuyaPushConsumer, push_endpoint

ISSUE_PUSH_DOWN = "push_down"
ISSUE_PUSH_NOT_ENABLED = "push_not_enabled"


def push_url_for(entry: TTLockGatewayConfigEntry) -> str | None:
    """The message-service endpoint of a Tuya entry, or None (polled only)."""
    data = entry.data
    if data.get(CONF_PROVIDER) != PROVIDER_TUYA:
        return None
    if explicit := data.get(CONF_PUSH_URL):
        return str(explicit)
    if data.get(CONF_BASE_URL):
        # A proxy or test double for the OpenAPI: its message service, if it
        # has one, is not the data centre's.
        return None
    return push_endpoint(str(data.get(CONF_DATA_CENTER) or "eu"))


class PushLink:
    """One entry's consumer, its health, and the repair when it stays down."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: TTLockGatewayConfigEntry,
        coordinator: LockCoordinator,
        endpoint: str,
    ) -> None:
        """Build the consumer; nothing connects before ``async_start``."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self.health: PushHealth | None = None
        self._stopped = False
        self._repair_unsub: CALLBACK_TYPE | None = None
        self._repair_for: datetime | None = None

        def known_lock(device_id: str) -> bool:
            # Messages of every device of the project arrive (lights, plugs):
            # only the entry's locks become events.
            data = coordinator.current_data
            return data is not None and device_id in data.locks

        self.consumer = TuyaPushConsumer(
            async_get_clientsession(hass),
            access_id=entry.data[CONF_ACCESS_ID],
            access_secret=entry.data[CONF_ACCESS_SECRET],
            endpoint=endpoint,
            on_push=self._on_push,
            on_health=self._on_health,
            lock_filter=known_lock,
        )

    @property
    def connected(self) -> bool:
        """Whether the websocket is up now."""
        return not self._stopped and self.consumer.health.connected

    async def async_start(self) -> None:
        """Connect (in the background); idempotent."""
        self._stopped = False
        await self.consumer.async_start()

    async def async_stop(self) -> None:
        """Close the socket and stop reconnecting (entry unload)."""
        self._stopped = True
        self._cancel_repair_timer()
        await self.consumer.async_stop()
        if self.coordinator.push is self:
            self.coordinator.push = None

    # ------------------------------------------------------------ callbacks

    @callback
    def _on_push(self, batch: PushBatch) -> None:
        if self._stopped:
            return
        self.coordinator.async_handle_push(batch)

    @callback
    def _on_health(self, health: PushHealth) -> None:
        if self._stopped:
            return
        was_connected = self.health is not None and self.health.connected
        self.health = health
        if health.connected:
            self._cancel_repair_timer()
            ir.async_delete_issue(self.hass, DOMAIN, self._issue_id())
        elif health.down_since is not None and health.down_since != self._repair_for:
            self._cancel_repair_timer()
            self._repair_for = health.down_since
            self._repair_unsub = async_track_point_in_utc_time(
                self.hass,
                self._down_too_long,
                health.down_since + PUSH_DOWN_REPAIR_AFTER,
            )
        if health.connected != was_connected:
            LOGGER.debug(
                "%s: Tuya push %s",
                self.entry.title,
                "connected" if health.connected else f"down ({health.last_error})",
            )
            # Up: the list and activity poll relax; down: the documented
            # schedule takes over from now.
            self.coordinator.async_plan(reschedule=not health.connected)
        async_dispatcher_send(self.hass, account_signal(self.entry.entry_id))

    @callback
    def _down_too_long(self, _now: datetime) -> None:
        self._repair_unsub = None
        health = self.consumer.health
        if self._stopped or health.connected:
            return
        since = health.down_since or _now
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id(),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=(
                ISSUE_PUSH_NOT_ENABLED if health.auth_failed else ISSUE_PUSH_DOWN
            ),
            translation_placeholders={
                "account": self.entry.title,
                "since": since.strftime("%Y-%m-%d %H:%M"),
                "reason": health.last_error or "-",
            },
        )

    def _cancel_repair_timer(self) -> None:
        if self._repair_unsub is not None:
            self._repair_unsub()
            self._repair_unsub = None
        self._repair_for = None

    def _issue_id(self) -> str:
        return f"{ISSUE_PUSH_DOWN}_{self.entry.entry_id}"


async def async_start_push(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry, coordinator: LockCoordinator
) -> PushLink | None:
    """Start the entry's push connection, if it has one; stopped on unload."""
    endpoint = push_url_for(entry)
    if endpoint is None:
        ir.async_delete_issue(hass, DOMAIN, f"{ISSUE_PUSH_DOWN}_{entry.entry_id}")
        if entry.data.get(CONF_PROVIDER) == PROVIDER_TUYA:
            LOGGER.debug(
                "%s: no documented message-service endpoint, events are polled",
                entry.title,
            )
        return None
    link = PushLink(hass, entry, coordinator, endpoint)
    coordinator.push = link
    entry.async_on_unload(link.async_stop)

    async def _stop_at_shutdown(_event: Event) -> None:
        # Home Assistant does not unload entries when it stops; the socket
        # must close before the shared session does.
        await link.async_stop()

    entry.async_on_unload(
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _stop_at_shutdown)
    )
    await link.async_start()
    return link
