"""Consumer of Tuya's message service: lock events pushed over an outgoing websocket.

No Home Assistant imports: it speaks websocket through the aiohttp session it is
given and hands each message's ``PushBatch`` to a plain callback in the event
loop. The wire format is in :mod:`.tuya_push_codec`, the meaning of the data in
:mod:`.tuya_push_mapping`; facts and sources are listed in ``docs/tuya-push.md``.

Behaviour
---------
* One task, one connection at a time: a new connection is only opened after the
  previous one is closed, and :meth:`TuyaPushConsumer.async_start` does nothing
  while the task runs. The subscription is a failover one: a second consumer
  would stand by (or be refused with 409), so a duplicate would only hide the
  first one's failure.
* Each message is acknowledged after the callback returned, also when it could
  not be used (garbage, undecryptable, not a lock): an unacknowledged message
  comes back after every ack timeout, forever. A message id or ``dataId`` seen
  recently is acknowledged and dropped (replays); a state older than one
  already delivered is dropped (out-of-order redelivery). Nothing raises out of
  the consumer.
* Keep-alive: websocket pings every ``heartbeat`` seconds (aiohttp closes the
  connection when the pong does not come back), as the SDK's 30 s ping.
* Reconnect: exponential backoff with jitter (``initial * 2**n``, capped, each
  delay drawn in [50 %, 100 %]); the count restarts once a connection was up
  for ``stable_after`` seconds or delivered a message. A refused login (HTTP
  401/403) waits ``auth_backoff`` before trying again and is reported in
  :attr:`health` for a repair.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from datetime import UTC, datetime
import logging
import random
import time
from typing import Final

import aiohttp

from .bounds import InvalidAnswerError
from .models import NotSupportedError, PushBatch, PushHealth
from .tuya_push_codec import (
    ENDPOINTS,
    ENV_PROD,
    READ_LIMIT,
    ack_frame,
    consumer_url,
    data_key,
    decrypt_data,
    message_id_of,
    parse_envelope,
    parse_frame,
    push_password,
)
from .tuya_push_mapping import (
    RecentIds,
    StatusOrder,
    parse_business,
    to_batch,
)

_LOGGER = logging.getLogger(__name__)

AUTH_STATUSES: Final = frozenset({401, 403})
# The failover subscription already has a consumer (a connection of ours the
# service has not noticed is gone, or another program on the same project).
BUSY_STATUS: Final = 409


def push_endpoint(data_center: str) -> str | None:
    """The message-service endpoint of a data centre, ``None`` if undocumented."""
    return ENDPOINTS.get(data_center)


class TuyaPushConsumer:
    """Tuya message-service consumer implementing ``models.PushConsumer``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        access_id: str,
        access_secret: str,
        on_push: Callable[[PushBatch], None],
        data_center: str = "eu",
        endpoint: str | None = None,
        env: str = ENV_PROD,
        lock_filter: Callable[[str], bool] | None = None,
        on_health: Callable[[PushHealth], None] | None = None,
        heartbeat: float = 30.0,
        connect_timeout: float = 15.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 300.0,
        auth_backoff: float = 900.0,
        stable_after: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        endpoint = endpoint or push_endpoint(data_center)
        if endpoint is None:
            raise NotSupportedError(
                f"No documented Tuya message-service endpoint for {data_center!r}"
            )
        self._session = session
        self._url = consumer_url(endpoint, access_id, env=env)
        self._headers = {
            "username": access_id,
            "password": push_password(access_id, access_secret),
        }
        self._key = data_key(access_secret)
        self._on_push = on_push
        self._on_health = on_health
        self._lock_filter = lock_filter
        self._heartbeat = heartbeat
        self._connect_timeout = connect_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._auth_backoff = auth_backoff
        self._stable_after = stable_after
        self._sleep = sleep
        self._jitter = jitter
        self._now = now
        self._monotonic = monotonic
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._recent = RecentIds()
        self._order = StatusOrder()
        self._attempt = 0
        self._connected_since: datetime | None = None
        self._down_since: datetime | None = None
        self._last_message: datetime | None = None
        self._last_error: str | None = None
        self._auth_failed = False
        self._connections = 0
        self._messages = 0
        self._rejected = 0

    # ------------------------------------------------------------- control

    @property
    def health(self) -> PushHealth:
        """Connected since / down since / last message, for repairs and polling."""
        return PushHealth(
            connected=self._connected_since is not None,
            connected_since=self._connected_since,
            down_since=self._down_since,
            last_message=self._last_message,
            last_error=self._last_error,
            auth_failed=self._auth_failed,
            reconnects=max(0, self._connections - 1),
            messages=self._messages,
            rejected=self._rejected,
        )

    @property
    def running(self) -> bool:
        """Whether the consumer task is alive."""
        return self._task is not None and not self._task.done()

    async def async_start(self) -> None:
        """Start the consumer task (no-op while it runs)."""
        if self.running:
            return
        self._stopping = False
        if self._down_since is None and self._connected_since is None:
            # Down until the first connection is up: a consumer that never
            # connects is down since it was started.
            self._down_since = self._now()
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name="tuya push consumer"
        )

    async def async_stop(self) -> None:
        """Close the connection and end the task; safe to call twice."""
        self._stopping = True
        task, self._task = self._task, None
        ws = self._ws
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._ws = None
        self._went_down("stopped")

    # ----------------------------------------------------------------- loop

    async def _run(self) -> None:
        while True:
            delay = await self._connect_once()
            _LOGGER.debug(
                "Tuya push: reconnecting in %.1f s (%s)", delay, self._last_error
            )
            await self._sleep(delay)

    def _backoff(self) -> float:
        base: float = min(self._backoff_max, self._backoff_initial * 2.0**self._attempt)
        self._attempt = min(self._attempt + 1, 30)
        return base * (0.5 + 0.5 * self._jitter())

    def _went_down(self, reason: str) -> None:
        self._last_error = "stopped" if self._stopping else reason
        if self._connected_since is not None or self._down_since is None:
            self._down_since = self._now()
        self._connected_since = None
        self._publish_health()

    def _publish_health(self) -> None:
        if self._on_health is None:
            return
        try:
            self._on_health(self.health)
        except Exception:  # a listener's bug must not stop the consumer
            _LOGGER.exception("Tuya push: health listener failed")

    async def _connect_once(self) -> float:
        """One connection's life; returns how long to wait before the next."""
        try:
            async with asyncio.timeout(self._connect_timeout):
                ws = await self._session.ws_connect(
                    self._url,
                    headers=self._headers,
                    heartbeat=self._heartbeat,
                    autoping=True,
                    max_msg_size=READ_LIMIT,
                )
        except aiohttp.WSServerHandshakeError as err:
            if err.status in AUTH_STATUSES:
                self._auth_failed = True
                self._went_down("auth_failed")
                _LOGGER.debug("Tuya push: login refused (HTTP %s)", err.status)
                return self._auth_backoff * (0.5 + 0.5 * self._jitter())
            self._went_down("busy" if err.status == BUSY_STATUS else "refused")
            _LOGGER.debug("Tuya push: refused (HTTP %s)", err.status)
            return self._backoff()
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            self._went_down("unreachable")
            _LOGGER.debug("Tuya push: cannot connect (%s)", type(err).__name__)
            return self._backoff()

        self._ws = ws
        self._connections += 1
        self._auth_failed = False
        self._last_error = None
        self._connected_since = self._now()
        self._down_since = None
        up_at = self._monotonic()
        delivered = False
        _LOGGER.debug("Tuya push: connected")
        self._publish_health()
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    delivered = True
                    await self._receive(ws, msg.data)
                elif msg.type is aiohttp.WSMsgType.BINARY:
                    self._rejected += 1
                elif msg.type is aiohttp.WSMsgType.ERROR:
                    break
        except (aiohttp.ClientError, OSError) as err:
            _LOGGER.debug("Tuya push: connection failed (%s)", type(err).__name__)
        finally:
            self._ws = None
            if not ws.closed:
                with contextlib.suppress(Exception):
                    await ws.close()
        if delivered or self._monotonic() - up_at >= self._stable_after:
            self._attempt = 0
        self._went_down("dropped")
        return self._backoff()

    # ------------------------------------------------------------- messages

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse, raw: str) -> None:
        message_id = self._process(raw)
        if message_id is None:
            return
        try:
            await ws.send_str(ack_frame(message_id))
        except (aiohttp.ClientError, OSError, RuntimeError):
            # Closing: the service redelivers it on the next connection and
            # the recent-id check drops it there.
            _LOGGER.debug("Tuya push: ack not sent, connection closing")

    def _process(self, raw: str) -> str | None:
        """Handle one frame; the message id to acknowledge, if readable."""
        self._last_message = self._now()
        try:
            frame = parse_frame(raw)
        except InvalidAnswerError as err:
            self._rejected += 1
            _LOGGER.debug("Tuya push: unusable frame (%s)", err)
            return message_id_of(raw)
        if self._recent.seen("m:" + frame.message_id):
            _LOGGER.debug("Tuya push: message delivered again, dropped")
            return frame.message_id
        self._messages += 1
        try:
            envelope = parse_envelope(frame.payload)
            data = decrypt_data(envelope.data, self._key, frame.encryption)
            message = parse_business(envelope.protocol, data)
            if message is None:
                return frame.message_id
            if message.data_id is not None and self._recent.seen(
                "d:" + message.data_id
            ):
                return frame.message_id
            if self._lock_filter is not None and not self._lock_filter(
                message.device_id
            ):
                return frame.message_id
            batch = to_batch(
                message,
                received_ms=int(self._now().timestamp() * 1000),
                envelope_ms=envelope.time_ms,
            )
        except InvalidAnswerError as err:
            self._rejected += 1
            _LOGGER.debug("Tuya push: unusable message (%s)", err)
            return frame.message_id
        statuses = tuple(
            admitted
            for status in batch.statuses
            if (admitted := self._order.admit(status)) is not None
        )
        if batch.events or statuses:
            try:
                self._on_push(PushBatch(events=batch.events, statuses=statuses))
            except Exception:  # a listener's bug must not stop the consumer
                _LOGGER.exception("Tuya push: listener failed")
        return frame.message_id
