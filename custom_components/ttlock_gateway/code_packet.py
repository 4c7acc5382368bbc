"""The account's paid code packet (gateway service, seed 000) and its repair.

The service refuses codes without an active packet and spends one code of it
per uploaded code. The packet is read daily and after each code; a repair is
raised as soon as the next code would fail (none left, expiry passed, no
packet, or any answer flagging ``codes_error``) and cleared when a reading says
the packet is fine again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .coordinator import TTLockGatewayConfigEntry, account_signal
from .providers.models import (
    CodePacket,
    CodePacketError,
    CodePacketProblem,
    LockProvider,
    ProviderError,
)

PACKET_INTERVAL = timedelta(days=1)
ISSUE_CODE_PACKET = "code_packet"


class CodePacketMonitor:
    """Codes left and expiry of the account's packet; the repair follows them."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: TTLockGatewayConfigEntry,
        provider: LockProvider,
    ) -> None:
        """Nothing is read until ``async_start``."""
        self.hass = hass
        self.entry = entry
        self.provider = provider
        self.packet: CodePacket | None = None
        self.read_at: datetime | None = None
        # Set from a refusal (codes_error) until a reading says otherwise.
        self.refused: CodePacketProblem | None = None
        self._unsubs: list[Callable[[], None]] = []
        self._expiry_timer: CALLBACK_TYPE | None = None

    @property
    def issue_id(self) -> str:
        """This entry's packet repair."""
        return f"{ISSUE_CODE_PACKET}_{self.entry.entry_id}"

    def problem(self, now: datetime) -> CodePacketProblem | None:
        """What stops the next code now, if anything."""
        if self.refused is not None:
            return self.refused
        return self.packet.problem(now) if self.packet is not None else None

    async def async_start(self) -> None:
        """First reading, then daily."""
        await self.async_refresh()
        self._unsubs.append(
            async_track_time_interval(
                self.hass,
                self._due,
                PACKET_INTERVAL,
                name=f"{DOMAIN} code packet",
                cancel_on_shutdown=True,
            )
        )

    @callback
    def async_stop(self) -> None:
        """Entry unload."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self._expiry_timer is not None:
            self._expiry_timer()
            self._expiry_timer = None

    @callback
    def _due(self, _now: datetime) -> None:
        self.entry.async_create_background_task(
            self.hass, self.async_refresh(), f"{DOMAIN} code packet"
        )

    @callback
    def refresh_soon(self) -> None:
        """After a code: one more reading in the background."""
        self._due(dt_util.utcnow())

    async def async_refresh(self) -> None:
        """Read the packet; a failure keeps the last reading."""
        try:
            packet = await self.provider.async_get_code_packet()
        except CodePacketError as err:
            self.note_refusal(err)
            return
        except ProviderError as err:
            LOGGER.debug("Code packet not read: %s", type(err).__name__)
            return
        if packet is None:
            return
        self.packet = packet
        self.read_at = dt_util.utcnow()
        self.refused = None
        self._arm_expiry(packet)
        self._sync()

    @callback
    def note_refusal(self, err: CodePacketError) -> None:
        """An operation was refused for the packet (``codes_error``)."""
        self.refused = err.problem
        self._sync()

    def _arm_expiry(self, packet: CodePacket) -> None:
        """Raise the repair the moment the packet expires, not a day later."""
        if self._expiry_timer is not None:
            self._expiry_timer()
            self._expiry_timer = None
        expires = packet.expires_at
        if expires is None or expires <= dt_util.utcnow():
            return

        @callback
        def _expired(_now: datetime) -> None:
            self._expiry_timer = None
            self._sync()

        self._expiry_timer = async_track_point_in_utc_time(self.hass, _expired, expires)

    @callback
    def _sync(self) -> None:
        problem = self.problem(dt_util.utcnow())
        if problem is None:
            ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
        else:
            key = (
                "code_packet_missing"
                if problem is CodePacketProblem.MISSING
                else "code_packet_expired"
                if problem is CodePacketProblem.EXPIRED
                else "code_packet_exhausted"
                if problem is CodePacketProblem.EXHAUSTED
                else "code_packet_unknown"
            )
            expires = self.packet.expires_at if self.packet else None
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self.issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=key,
                translation_placeholders={
                    "account": self.entry.title,
                    "expires_at": expires.strftime("%Y-%m-%d %H:%M UTC")
                    if expires
                    else "-",
                },
            )
        async_dispatcher_send(self.hass, account_signal(self.entry.entry_id))
