"""The entry's webhook: pushed callbacks become lock events and bus events.

The webhook id is the only secret of the callback URL: whoever knows the URL can
post to it. So what a body claims is checked against what we know (a TTLock
``lockMac`` must be the lock's, ``admin`` this account where it is the lock's top
admin) and a body changes nothing it does not prove newer (see ``activity``).
The options flow can replace the id ("new webhook URL").

The webhook is registered at the first setup attempt and stays registered while
the entry retries: pushes that arrive before the entry is loaded are kept (up to
``MAX_BUFFERED``; past that the sender is told to retry) and applied once it is.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any, cast

from aiohttp.hdrs import CONTENT_TYPE, METH_POST, RETRY_AFTER
from aiohttp.web import Request, Response
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_USERNAME
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import (
    CONF_PROVIDER,
    CONF_WEBHOOK_ID,
    DOMAIN,
    EVENT_JOB,
    LOGGER,
    PROVIDER_DDING,
    PROVIDER_GATEWAY_SERVICE,
    PROVIDER_TTLOCK,
)
from .coordinator import LockCoordinator, TTLockGatewayConfigEntry, ref_key
from .dding_homes import async_clear_configured, async_note_home
from .providers.callbacks import (
    MAX_BODY_BYTES,
    CallbackError,
    CallbackKind,
    ParsedCallback,
    parse_callback,
)

CONF_CLOUDHOOK_URL = "cloudhook_url"
ISSUE_WEBHOOK_NOT_CALLED = "webhook_not_called"
ISSUE_NO_EXTERNAL_URL = "webhook_no_external_url"
# Dding has no console field: the partner asks Dding to call the URL (seed 9).
ISSUE_DDING_WEBHOOK_NOT_CALLED = "dding_webhook_not_called"

# A whole body must arrive within this many seconds: a sender trickling one
# byte a second must not hold a request (and its memory) open for minutes.
READ_DEADLINE = 5.0
# Pushes kept while the entry is not loaded yet (setup retrying).
MAX_BUFFERED = 1000
# Clouds that call the webhook; Tuya pushes through its message service
# (push.py), so its entries get no "set the callback URL" repair they could
# never satisfy.
PROVIDERS_WITH_CALLBACK = frozenset({PROVIDER_TTLOCK, PROVIDER_DDING})

DATA_INBOXES: HassKey[dict[str, PushInbox]] = HassKey(f"{DOMAIN}_inboxes")

_WAITING_STATES = frozenset(
    {
        ConfigEntryState.SETUP_IN_PROGRESS,
        ConfigEntryState.SETUP_RETRY,
        ConfigEntryState.LOADED,
        ConfigEntryState.UNLOAD_IN_PROGRESS,
    }
)


async def async_webhook_url(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry
) -> str | None:
    """The URL a cloud should call: Home Assistant Cloud first, else the external URL."""
    if url := entry.data.get(CONF_CLOUDHOOK_URL):
        return cast(str, url)
    webhook_id = entry.data[CONF_WEBHOOK_ID]
    # Imported only when loaded: the cloud component pulls in heavy dependencies.
    if "cloud" in hass.config.components:
        from homeassistant.components import cloud

        if not cloud.async_active_subscription(hass):
            cloud = None  # type: ignore[assignment]
    else:
        cloud = None  # type: ignore[assignment]
    if cloud is not None:
        try:
            url = await cloud.async_get_or_create_cloudhook(hass, webhook_id)
        except cloud.CloudNotAvailable:
            url = None
        if url:
            hass.config_entries.async_update_entry(
                entry, data={**entry.data, CONF_CLOUDHOOK_URL: url}
            )
            return url
    try:
        return webhook.async_generate_url(
            hass, webhook_id, allow_internal=False, prefer_external=True
        )
    except NoURLAvailableError:
        return None


async def _read_body(request: Request) -> bytes:
    """The whole body, or its first MAX_BODY_BYTES + 1 bytes when it is larger.

    ``read(n)`` returns what has arrived so far, which may be one chunk only.
    """
    # Once: on Home Assistant Cloud's MockRequest every access is a new reader.
    stream = request.content
    body = b""
    while len(body) <= MAX_BODY_BYTES:
        chunk = await stream.read(MAX_BODY_BYTES + 1 - len(body))
        if not chunk:
            break
        body += chunk
    return body


def _issue_id(entry: TTLockGatewayConfigEntry) -> str:
    return f"{ISSUE_WEBHOOK_NOT_CALLED}_{entry.entry_id}"


class PushInbox:
    """One entry's webhook, from its first setup attempt until the entry goes."""

    def __init__(self, hass: HomeAssistant, entry: TTLockGatewayConfigEntry) -> None:
        """Register the webhook and follow the entry's state."""
        self.hass = hass
        self.entry = entry
        self.webhook_id: str = entry.data[CONF_WEBHOOK_ID]
        self.coordinator: LockCoordinator | None = None
        # Gateway service: job callbacks go straight to the provider's job
        # tracker, also while set-up runs (its lock list is a job).
        self.job_sink: Callable[[dict[str, Any]], bool] | None = None
        self._live = False
        self._pending: deque[ParsedCallback] = deque()
        self._unsub_state: CALLBACK_TYPE | None = entry.async_on_state_change(
            self._state_changed
        )
        webhook.async_register(
            hass,
            DOMAIN,
            f"TTLock Gateway ({entry.title})",
            self.webhook_id,
            self._handle,
            local_only=False,
            allowed_methods=[METH_POST],
        )

    @property
    def pending(self) -> int:
        """Pushes waiting for the entry to load."""
        return len(self._pending)

    @callback
    def attach(self, coordinator: LockCoordinator) -> None:
        """The loaded entry's coordinator; kept pushes go to it once loaded."""
        self.coordinator = coordinator

    @callback
    def detach_job_sink(self) -> None:
        """The set-up that took job callbacks ended."""
        self.job_sink = None

    @callback
    def close(self) -> None:
        """Unregister the webhook; what is still kept is dropped (entry gone)."""
        if self._unsub_state is not None:
            # Not while the entry is calling its state listeners.
            self.hass.loop.call_soon(self._unsub_state)
            self._unsub_state = None
        if self._pending:
            LOGGER.debug(
                "%s: %d pushed callbacks dropped, the entry was not loaded",
                self.entry.title,
                len(self._pending),
            )
            self._pending.clear()
        self.coordinator = None
        self._live = False
        inboxes = self.hass.data.get(DATA_INBOXES, {})
        if inboxes.get(self.entry.entry_id) is self:
            del inboxes[self.entry.entry_id]
            webhook.async_unregister(self.hass, self.webhook_id)

    @callback
    def _state_changed(self) -> None:
        state = self.entry.state
        if state is ConfigEntryState.LOADED and self.coordinator is not None:
            self._live = True
            while self._pending:
                self._deliver(self._pending.popleft())
        elif state not in _WAITING_STATES:
            self.close()

    async def _handle(
        self, hass: HomeAssistant, webhook_id: str, request: Request
    ) -> Response:
        try:
            async with asyncio.timeout(READ_DEADLINE):
                body = await _read_body(request)
        except TimeoutError:
            LOGGER.debug(
                "Callback on %s: body not received within %s s",
                self.entry.title,
                READ_DEADLINE,
            )
            return Response(status=408, text="request body too slow")
        try:
            # From the header: Home Assistant Cloud's MockRequest has no content_type.
            parsed = parse_callback(
                request.headers.get(CONTENT_TYPE, ""), body, now=dt_util.utcnow()
            )
        except CallbackError as err:
            LOGGER.debug("Rejected callback on %s: %s", self.entry.title, err.reason)
            return Response(status=400, text=err.reason)
        if (
            parsed.kind is CallbackKind.JOB
            and parsed.job is not None
            and self.job_sink is not None
        ):
            # Authenticated by being ours: a job we sent and still wait for
            # (unknown, finished or mismatched ones are ignored, debug line).
            if not self.job_sink(dict(parsed.job)):
                LOGGER.debug("Ignored a job callback on %s", self.entry.title)
            return Response(text=parsed.reply, content_type=parsed.reply_content_type)
        if not self._live:
            if len(self._pending) >= MAX_BUFFERED:
                LOGGER.debug(
                    "Callback on %s refused: %d kept until the entry loads",
                    self.entry.title,
                    len(self._pending),
                )
                # Not 200: the sender must know it was not taken and retry.
                return Response(
                    status=503, text="not ready, retry", headers={RETRY_AFTER: "60"}
                )
            self._pending.append(parsed)
        else:
            self._deliver(parsed)
        return Response(text=parsed.reply, content_type=parsed.reply_content_type)

    @callback
    def _deliver(self, parsed: ParsedCallback) -> None:
        coordinator = self.coordinator
        if coordinator is None:  # pragma: no cover - closed while delivering
            return
        if reason := self._sender_mismatch(coordinator, parsed):
            # Answered like any other: the sender learns nothing from it.
            LOGGER.debug(
                "Ignored a TTLock callback on %s for lock %s: %s",
                self.entry.title,
                parsed.lock_ref,
                reason,
            )
            return
        self._mark_seen(coordinator)
        if parsed.kind is not CallbackKind.JOB:
            # Events come by push: the polls relax (TTLock: within 24 hours).
            coordinator.async_note_callback()
        if parsed.kind is CallbackKind.JOB and parsed.job is not None:
            if self.entry.data.get(CONF_PROVIDER) == PROVIDER_GATEWAY_SERVICE:
                # Only the job tracker may vouch for a job result: one that
                # arrives without it (set-up not done) is not put on the bus.
                LOGGER.debug("Ignored a job callback on %s", self.entry.title)
                return
            self.hass.bus.async_fire(
                EVENT_JOB, {"entry_id": self.entry.entry_id, **parsed.job}
            )
            return
        events = parsed.events
        if (
            parsed.kind is CallbackKind.DDING
            and self.entry.data.get(CONF_PROVIDER) == PROVIDER_DDING
        ):
            # A home of the account that the entry does not manage yet.
            for event in events:
                async_note_home(self.hass, self.entry, event.raw.get("home_id"))
        if parsed.kind is CallbackKind.TTLOCK:
            # The sender fields describe the callback's lock: records naming
            # another lock would slip past their check. Gateway and door-sensor
            # notifications name no lock.
            events = tuple(
                e for e in events if e.lock_id is None or e.lock_id == parsed.lock_ref
            )
        coordinator.async_handle_events(events)

    def _sender_mismatch(
        self, coordinator: LockCoordinator, parsed: ParsedCallback
    ) -> str | None:
        """Why a TTLock callback cannot be from the cloud for this lock, if so."""
        data = coordinator.current_data
        if parsed.kind is not CallbackKind.TTLOCK or data is None:
            return None
        for event in parsed.events:
            sensor = data.door_sensors.get(str(event.raw.get("door_sensor_id", "")))
            if (
                sensor is not None
                and parsed.lock_mac
                and sensor.mac
                and ref_key(parsed.lock_mac) != ref_key(sensor.mac)
            ):
                return "mac is not the door sensor's MAC"
        lock = data.locks.get(parsed.lock_ref or "")
        if lock is None:
            return None
        if (
            parsed.lock_mac
            and lock.mac
            and ref_key(parsed.lock_mac) != ref_key(lock.mac)
        ):
            return "lockMac is not the lock's MAC"
        username = self.entry.data.get(CONF_USERNAME)
        if (
            parsed.admin
            and isinstance(username, str)
            and not lock.shared
            and self.entry.data.get(CONF_PROVIDER) == PROVIDER_TTLOCK
            and parsed.admin.strip().casefold() != username.strip().casefold()
        ):
            # /v3/lock/list holds the locks whose top admin is this account:
            # TTLock names that account as the callback's admin.
            return "admin is not this account"
        return None

    @callback
    def _mark_seen(self, coordinator: LockCoordinator) -> None:
        if not coordinator.webhook_seen:
            coordinator.webhook_seen = True
            # Saved now, not debounced: this happens once, and a reload within
            # the debounce delay would otherwise bring the repair issue back.
            self.entry.async_create_task(
                self.hass,
                coordinator.async_save_now(),
                f"{DOMAIN} save webhook seen",
            )
            ir.async_delete_issue(self.hass, DOMAIN, _issue_id(self.entry))


@callback
def async_get_inbox(hass: HomeAssistant, entry: TTLockGatewayConfigEntry) -> PushInbox:
    """The entry's inbox, registering the webhook on the first setup attempt."""
    inboxes = hass.data.setdefault(DATA_INBOXES, {})
    inbox = inboxes.get(entry.entry_id)
    if inbox is None or inbox.webhook_id != entry.data[CONF_WEBHOOK_ID]:
        if inbox is not None:
            inbox.close()
        inbox = inboxes[entry.entry_id] = PushInbox(hass, entry)
    return inbox


async def async_setup_webhook(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry, inbox: PushInbox
) -> None:
    """Hand pushes to the coordinator; nag through a repair until a callback arrives."""
    coordinator = entry.runtime_data.coordinator
    inbox.attach(coordinator)
    entry.async_on_unload(inbox.close)

    if entry.data.get(CONF_PROVIDER) == PROVIDER_DDING:
        async_clear_configured(hass, entry)
    if entry.data.get(CONF_PROVIDER) not in PROVIDERS_WITH_CALLBACK:
        ir.async_delete_issue(hass, DOMAIN, _issue_id(entry))
        return
    if coordinator.webhook_seen:
        return
    url = await async_webhook_url(hass, entry)
    ir.async_create_issue(
        hass,
        DOMAIN,
        _issue_id(entry),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=(
            (
                ISSUE_DDING_WEBHOOK_NOT_CALLED
                if entry.data.get(CONF_PROVIDER) == PROVIDER_DDING
                else ISSUE_WEBHOOK_NOT_CALLED
            )
            if url
            else ISSUE_NO_EXTERNAL_URL
        ),
        translation_placeholders={
            "account": entry.title,
            "webhook_url": url or "",
            "webhook_id": entry.data[CONF_WEBHOOK_ID],
        },
    )
