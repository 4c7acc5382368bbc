"""The entry's webhook: pushed callbacks become lock events and bus events."""

from __future__ import annotations

from typing import cast

from aiohttp.hdrs import CONTENT_TYPE, METH_POST
from aiohttp.web import Request, Response
from homeassistant.components import webhook
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.util import dt as dt_util

from .const import (
    CONF_PROVIDER,
    CONF_WEBHOOK_ID,
    DOMAIN,
    EVENT_JOB,
    LOGGER,
    PROVIDER_TUYA,
)
from .coordinator import TTLockGatewayConfigEntry
from .providers.callbacks import (
    MAX_BODY_BYTES,
    CallbackError,
    CallbackKind,
    parse_callback,
)

CONF_CLOUDHOOK_URL = "cloudhook_url"
ISSUE_WEBHOOK_NOT_CALLED = "webhook_not_called"


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


async def async_setup_webhook(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry
) -> None:
    """Register the webhook; nag through a repair issue until a callback arrives."""
    webhook_id = entry.data[CONF_WEBHOOK_ID]
    coordinator = entry.runtime_data.coordinator

    async def handle(
        hass: HomeAssistant, webhook_id: str, request: Request
    ) -> Response:
        body = await _read_body(request)
        try:
            # From the header: Home Assistant Cloud's MockRequest has no content_type.
            parsed = parse_callback(
                request.headers.get(CONTENT_TYPE, ""), body, now=dt_util.utcnow()
            )
        except CallbackError as err:
            LOGGER.debug("Rejected callback on %s: %s", entry.title, err.reason)
            return Response(status=400, text=err.reason)
        _mark_seen()
        if parsed.kind is CallbackKind.JOB and parsed.job is not None:
            hass.bus.async_fire(EVENT_JOB, {"entry_id": entry.entry_id, **parsed.job})
        else:
            coordinator.async_handle_events(parsed.events)
        return Response(text=parsed.reply, content_type=parsed.reply_content_type)

    @callback
    def _mark_seen() -> None:
        if not coordinator.webhook_seen:
            coordinator.webhook_seen = True
            # Saved now, not debounced: this happens once, and a reload within
            # the debounce delay would otherwise bring the repair issue back.
            hass.async_create_task(
                coordinator._store.async_save(coordinator._data_to_store()),
                f"{DOMAIN} save webhook seen",
            )
            ir.async_delete_issue(hass, DOMAIN, _issue_id(entry))

    webhook.async_register(
        hass,
        DOMAIN,
        f"TTLock Gateway ({entry.title})",
        webhook_id,
        handle,
        local_only=False,
        allowed_methods=[METH_POST],
    )
    entry.async_on_unload(lambda: webhook.async_unregister(hass, webhook_id))

    # Tuya does not call back (its events are polled): no callback URL to set,
    # so no repair notice that could never be resolved.
    if not coordinator.webhook_seen and entry.data.get(CONF_PROVIDER) != PROVIDER_TUYA:
        url = await async_webhook_url(hass, entry)
        ir.async_create_issue(
            hass,
            DOMAIN,
            _issue_id(entry),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=(
                ISSUE_WEBHOOK_NOT_CALLED if url else "webhook_no_external_url"
            ),
            translation_placeholders={
                "account": entry.title,
                "webhook_url": url or "",
                "webhook_id": webhook_id,
            },
        )
