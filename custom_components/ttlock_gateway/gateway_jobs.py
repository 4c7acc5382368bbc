"""Asynchronous jobs of a gateway-service entry, on the Home Assistant side.

The service (seed 000) answers most operations with a job id and POSTs the
result to the webhook later. This module registers the webhook with the
service at setup, feeds the webhook's job callbacks to the provider's job
tracker (``resolve_job``: only our own pending jobs are accepted), keeps the
pending jobs across restarts, expires old ones, and hands every result nobody
waited for to the lock state, the code ledger and the bus.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store

from .const import DOMAIN, EVENT_JOB, LOGGER
from .coordinator import LockCoordinator, TTLockGatewayConfigEntry
from .providers.models import (
    AsyncResultProvider,
    AuthError,
    CodePacketError,
    LockState,
    Operation,
    OperationResult,
    ProviderError,
    ResultStatus,
)

if TYPE_CHECKING:
    from .webhook import PushInbox

STORAGE_VERSION = 1
# Expired jobs (24 h without a result) are dropped this often.
EXPIRE_INTERVAL = timedelta(minutes=15)
ISSUE_NO_EXTERNAL_URL = "gateway_no_external_url"


class CodeResultSink(Protocol):
    """The code ledger's side: results of code jobs nobody waited for."""

    def async_job_result(self, result: OperationResult) -> None:
        """A late (or post-restart) result of an add or delete job."""


class GatewayService(AsyncResultProvider, Protocol):
    """What set-up needs besides ``AsyncResultProvider``."""

    async def async_create_user(self) -> None:
        """Register the account with the service (repeatable)."""


class JobLink:
    """One entry's jobs: callback, storage, expiry and late results."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: TTLockGatewayConfigEntry,
        provider: GatewayService,
    ) -> None:
        """Nothing happens until ``async_start``."""
        self.hass = hass
        self.entry = entry
        self.provider = provider
        self.coordinator: LockCoordinator | None = None
        self.codes: CodeResultSink | None = None
        # The packet monitor's, when a result says the packet refused it.
        self.on_packet_error: Callable[[CodePacketError], None] | None = None
        self._early: list[OperationResult] = []
        self._unsubs: list[Callable[[], None]] = []
        self._store = Store[dict[str, Any]](
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}.jobs"
        )

    # ------------------------------------------------------------ lifecycle

    async def async_start(self, inbox: PushInbox, url: str | None) -> None:
        """Restore pending jobs, take job callbacks, register with the service.

        ``url``: the webhook's address from outside (None: there is none, so
        no job could ever complete: a repair, and set-up retries).
        """
        stored = await self._store.async_load() or {}
        items = stored.get("jobs")
        if isinstance(items, list):
            count = self.provider.import_pending(
                [item for item in items if isinstance(item, dict)]
            )
            if count:
                LOGGER.debug("%s: %d pending jobs restored", self.entry.title, count)
        self._unsubs.append(self.provider.add_result_listener(self._on_result))
        inbox.job_sink = self._resolve
        self._unsubs.append(inbox.detach_job_sink)
        issue_id = f"{ISSUE_NO_EXTERNAL_URL}_{self.entry.entry_id}"
        if url is None:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_NO_EXTERNAL_URL,
                translation_placeholders={"account": self.entry.title},
            )
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="gateway_no_external_url",
                translation_placeholders={"name": self.entry.title},
            )
        ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        try:
            # Repeatable; brings the service's copy of the password up to date.
            await self.provider.async_create_user()
            await self.provider.async_set_callback(url)
        except AuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except ProviderError as err:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"name": self.entry.title},
            ) from err
        self._unsubs.append(
            async_track_time_interval(
                self.hass,
                self._expire,
                EXPIRE_INTERVAL,
                name=f"{DOMAIN} expire jobs",
                cancel_on_shutdown=True,
            )
        )

    @callback
    def attach(self, coordinator: LockCoordinator, codes: CodeResultSink) -> None:
        """The loaded entry's coordinator and ledger; early results go to them."""
        self.coordinator = coordinator
        self.codes = codes
        early, self._early = self._early, []
        for result in early:
            self._apply(result)

    async def async_stop(self) -> None:
        """Unload: stop listening and write what is still pending."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        await self.async_save()

    # ------------------------------------------------------------ storage

    async def async_save(self) -> None:
        """Write the pending jobs now."""
        await self._store.async_save(self._data_to_store())

    @callback
    def save_soon(self) -> None:
        """Write the pending jobs shortly (a job was sent or answered)."""
        self._store.async_delay_save(self._data_to_store, 1)

    @callback
    def _data_to_store(self) -> dict[str, Any]:
        return {"jobs": self.provider.export_pending()}

    # ------------------------------------------------------------ results

    @callback
    def _resolve(self, job: dict[str, Any]) -> bool:
        """A parsed job callback from the webhook; whether it was ours."""
        accepted = self.provider.resolve_job(job)
        if accepted:
            self.save_soon()
        return accepted

    @callback
    def _expire(self, _now: datetime) -> None:
        if self.provider.expire_pending():
            self.save_soon()

    @callback
    def _on_result(self, result: OperationResult) -> None:
        """A result no caller waited for (late, retried, restored, expired)."""
        self.save_soon()
        if self.coordinator is None:
            self._early.append(result)
            return
        self._apply(result)

    @callback
    def _apply(self, result: OperationResult) -> None:
        coordinator = self.coordinator
        assert coordinator is not None
        lock_id = result.lock_id
        if isinstance(result.error, CodePacketError) and self.on_packet_error:
            self.on_packet_error(result.error)
        if result.status is ResultStatus.SUCCEEDED and lock_id is not None:
            if result.operation in (Operation.UNLOCK, Operation.PASSAGE_MODE_ON):
                # Passage mode on also unlocks (the service's setPassageModeOn).
                coordinator.set_lock_state(lock_id, LockState.UNLOCKED)
            if result.operation in (
                Operation.PASSAGE_MODE_ON,
                Operation.PASSAGE_MODE_OFF,
            ):
                data = coordinator.current_data
                if data is not None and (lock := data.locks.get(lock_id)):
                    lock.passage_mode = result.operation is Operation.PASSAGE_MODE_ON
                    coordinator.async_update_lock(lock_id)
                    coordinator.save_soon()
        if (
            result.operation in (Operation.ADD_CODE, Operation.DELETE_CODE)
            and self.codes is not None
        ):
            self.codes.async_job_result(result)
        self.hass.bus.async_fire(
            EVENT_JOB,
            {
                "entry_id": self.entry.entry_id,
                "job_id": result.job_id,
                "operation": result.operation.value,
                "status": result.status.value,
                "lock_id": lock_id,
                "code_id": result.code_id
                or (result.passcode.code_id if result.passcode else None),
                "late": True,
            },
        )
