"""A fake of Tuya's message service (Pulsar's websocket API) on 127.0.0.1.

It speaks what the real service speaks, with the traps the real one has. Each
rule's source (see ``docs/tuya-push.md``):

* Consumer path ``/ws/v2/consumer/persistent/<id>/out/<env>/<id>-sub``, env
  ``event`` or ``event-test``; ``username`` / ``password`` upgrade headers with
  ``password = md5hex(id + md5hex(secret))[8:24]`` (tuya-connector-python
  ``openpulsar.py``). A wrong login is refused at the upgrade with HTTP 401 and
  Jetty's HTML page "Authentication required" (fhempy issue #167, a real
  project's answer).
* Frames ``{messageId, payload, properties, publishTime, redeliveryCount}``,
  acknowledgement ``{"messageId": ...}``, push-mode flow control: no more than
  ``receiverQueueSize`` (default 1000) unacknowledged messages in flight (Apache
  Pulsar ``client-libraries-websocket.md``).
* ``payload`` is base64 of ``{data, protocol, pv, sign, t}`` whose ``data`` is
  AES-128-ECB/PKCS7 under ``secret[8:24]``, base64; with ``em: aes_gcm`` in the
  properties it is AES-128-GCM ``nonce(12)|cipher|tag(16)`` instead
  (tuya-pulsar-sdk-python ``message_util.py``, Java ``AESGCMDecryptor.java``).
  The encryption here is written independently of the client's code.
* Unacknowledged messages come back: after the ack timeout
  (:meth:`FakeTuyaPulsar.expire_ack_timeout`, explicit so tests never wait on a
  clock) and when the consumer's connection closes, with ``redeliveryCount``
  raised (Pulsar ack-timeout and consumer-close semantics). They are sent after
  what was already sent: out of order.
* Subscription types: ``Failover`` lets a second consumer connect as a standby
  that gets nothing while the first is active; ``Exclusive`` (Pulsar's default
  when the query names none) refuses a second one with HTTP 409.

Faults: :meth:`refuse_login`, :meth:`refuse_with` (any HTTP status),
:meth:`hang_handshakes`, :meth:`drop` (close frame or abrupt), :meth:`send_raw`
(garbage).
"""

from __future__ import annotations

import asyncio
import base64
from collections import deque
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
import hashlib
import itertools
import json
import os
import time
from typing import Any

from aiohttp import WSMsgType, web
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.fakes.tuya_cloud import FakeTuyaCloud

_JETTY_401 = (
    '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;'
    'charset=utf-8"/>\n<title>Error 401 Authentication required</title>\n'
    "</head>\n<body><h2>HTTP ERROR 401 Authentication required</h2>\n"
    "</body>\n</html>\n"
)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def expected_password(access_id: str, secret: str) -> str:
    """What the service accepts as ``password`` (computed here, not imported)."""
    return _md5(access_id + _md5(secret))[8:24]


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _message_id(ledger: int, entry: int) -> str:
    """A Pulsar message id as the websocket API shows it: base64 protobuf."""
    return base64.b64encode(
        b"\x08" + _varint(ledger) + b"\x10" + _varint(entry)
    ).decode()


def seal_ecb(secret: str, plain: bytes) -> str:
    """AES-128-ECB/PKCS7 under ``secret[8:24]``, base64."""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    enc = Cipher(algorithms.AES(secret[8:24].encode()), modes.ECB()).encryptor()
    return base64.b64encode(enc.update(padded) + enc.finalize()).decode()


def seal_gcm(secret: str, plain: bytes) -> str:
    """AES-128-GCM under ``secret[8:24]``: base64 of nonce | cipher | tag."""
    nonce = os.urandom(12)
    return base64.b64encode(
        nonce + AESGCM(secret[8:24].encode()).encrypt(nonce, plain, None)
    ).decode()


@dataclass
class _Message:
    message_id: str
    frame: dict[str, Any]
    redeliveries: int = 0

    def text(self) -> str:
        return json.dumps({**self.frame, "redeliveryCount": self.redeliveries})


@dataclass
class _Consumer:
    ws: web.WebSocketResponse
    request: web.Request
    subscription_type: str
    queue_size: int
    unacked: dict[str, _Message] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class FakeTuyaPulsar:
    """Fake message service; see the module docstring."""

    ACCESS_ID = FakeTuyaCloud.ACCESS_ID
    ACCESS_SECRET = FakeTuyaCloud.ACCESS_SECRET

    def __init__(
        self,
        *,
        access_id: str | None = None,
        access_secret: str | None = None,
        encryption: str | None = None,
    ) -> None:
        self.access_id = access_id or self.ACCESS_ID
        self.access_secret = access_secret or self.ACCESS_SECRET
        # None: no "em" property (ECB, what the connector SDK assumes);
        # "aes_ecb" / "aes_gcm": named in the message properties.
        self.encryption = encryption
        self.endpoint = ""
        self.handshakes: list[dict[str, Any]] = []
        self.acked: list[str] = []
        self.bad_client_frames: list[str] = []
        self.pings = 0
        # Acknowledgements to lose on the way (as over a dying connection).
        self.lose_acks = 0
        self.lost_acks: list[str] = []
        self.connections = 0
        self.max_concurrent = 0
        self.published: list[str] = []
        self.sent: list[tuple[str, int]] = []
        self._backlog: deque[_Message] = deque()
        self._consumers: list[_Consumer] = []
        self._refuse_status: int | None = None
        self._refuse_login = False
        self._hang = False
        self._hung = asyncio.Event()
        self._entries = itertools.count(1)
        self._ledger = 4711
        self._runner: web.AppRunner | None = None
        self.changed = asyncio.Event()
        self.ping_seen = asyncio.Event()

    # ------------------------------------------------------------- lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: a free port); returns the endpoint."""
        app = web.Application()
        app.router.add_get(
            "/ws/v2/consumer/persistent/{tenant}/out/{env}/{sub}", self._consume
        )
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=port != 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.endpoint = f"ws://{host}:{port}/"
        return self.endpoint

    async def stop(self) -> None:
        self._hung.set()
        for consumer in list(self._consumers):
            with contextlib.suppress(Exception):
                await consumer.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --------------------------------------------------------------- control

    def refuse_login(self, refuse: bool = True) -> None:
        """Answer every upgrade with HTTP 401 as for a wrong password."""
        self._refuse_login = refuse

    def refuse_with(self, status: int | None) -> None:
        """Answer every upgrade with this HTTP status (None: accept again)."""
        self._refuse_status = status

    def hang_handshakes(self, hang: bool = True) -> None:
        """Accept TCP but never answer the upgrade (the client must time out)."""
        self._hang = hang
        if not hang:
            self._hung.set()
            self._hung = asyncio.Event()

    @property
    def active(self) -> int:
        """Connections open now."""
        return len(self._consumers)

    @property
    def unacked(self) -> int:
        """Messages sent and not acknowledged."""
        return sum(len(c.unacked) for c in self._consumers)

    @property
    def backlog(self) -> int:
        """Messages waiting to be sent."""
        return len(self._backlog)

    def publish(
        self,
        protocol: int,
        data: dict[str, Any],
        *,
        encryption: str | None | bool = False,
        t_ms: int | None = None,
    ) -> str:
        """Queue one business message, sealed as the service seals it."""
        em = self.encryption if encryption is False else encryption
        plain = json.dumps(data, separators=(",", ":")).encode()
        sealed = (
            seal_gcm(self.access_secret, plain)
            if em == "aes_gcm"
            else seal_ecb(self.access_secret, plain)
        )
        t = t_ms if t_ms is not None else int(time.time() * 1000)
        payload = {
            "data": sealed,
            "protocol": protocol,
            "pv": "2.0",
            "sign": _md5(f"{protocol}{t}{sealed}"),
            "t": t,
        }
        message_id = _message_id(self._ledger, next(self._entries))
        properties = {"em": em} if isinstance(em, str) else {}
        frame = {
            "messageId": message_id,
            "payload": base64.b64encode(json.dumps(payload).encode()).decode(),
            "properties": properties,
            "publishTime": datetime.fromtimestamp(t / 1000, UTC).isoformat(),
            "key": "",
        }
        self._backlog.append(_Message(message_id, frame))
        self.published.append(message_id)
        self._wake()
        return message_id

    def publish_status(
        self,
        device_id: str,
        points: list[tuple[str, Any]],
        *,
        t_ms: int | None = None,
        core: bool = False,
        data_id: str | None = None,
        encryption: str | None | bool = False,
    ) -> str:
        """A data-point report: legacy protocol 4, or IoT Core 1000 (``core``)."""
        t = t_ms if t_ms is not None else int(time.time() * 1000)
        data_id = data_id or f"AAX{next(self._entries):08d}"
        if core:
            data: dict[str, Any] = {
                "bizCode": "devicePropertyMessage",
                "bizData": {
                    "devId": device_id,
                    "dataId": data_id,
                    "productId": "fakeprodjtmspro",
                    "properties": [
                        {"code": code, "dpId": i + 1, "value": value, "time": t}
                        for i, (code, value) in enumerate(points)
                    ],
                },
                "ts": t,
            }
            return self.publish(1000, data, encryption=encryption, t_ms=t)
        data = {
            "dataId": data_id,
            "devId": device_id,
            "productKey": "fakeprodjtmspro",
            "status": [
                {"code": code, "value": value, "t": t, str(i + 1): value}
                for i, (code, value) in enumerate(points)
            ],
        }
        return self.publish(4, data, encryption=encryption, t_ms=t)

    def publish_online(
        self,
        device_id: str,
        online: bool,
        *,
        t_ms: int | None = None,
        core: bool = False,
    ) -> str:
        """Device online/offline: legacy protocol 20 or IoT Core 1001."""
        t = t_ms if t_ms is not None else int(time.time() * 1000)
        if core:
            return self.publish(
                1001,
                {
                    "bizCode": "deviceOnline" if online else "deviceOffline",
                    "bizData": {"devId": device_id, "productId": "p", "time": t},
                    "ts": t,
                },
                t_ms=t,
            )
        return self.publish(
            20,
            {
                "devId": device_id,
                "productKey": "p",
                "bizCode": "online" if online else "offline",
                "bizData": {"time": t},
                "ts": t,
            },
            t_ms=t,
        )

    def send_raw(self, text: str, *, tracked_id: str | None = None) -> None:
        """Queue a frame exactly as given (garbage); ``tracked_id`` awaits an ack."""
        self._backlog.append(_Message(tracked_id or "", {"__raw__": text}))
        self._wake()

    def expire_ack_timeout(self) -> int:
        """The ack timeout passed: unacknowledged messages are sent again."""
        count = 0
        for consumer in self._consumers:
            for message in consumer.unacked.values():
                message.redeliveries += 1
                self._backlog.append(message)
                count += 1
            consumer.unacked.clear()
        self._wake()
        return count

    async def drop(self, *, abrupt: bool = False) -> None:
        """Close every connection: a close frame, or the socket cut (``abrupt``)."""
        for consumer in list(self._consumers):
            if abrupt:
                transport = consumer.request.transport
                if transport is not None:
                    transport.abort()
            else:
                await consumer.ws.close(code=1011, message=b"server restart")

    # --------------------------------------------------------------- serving

    def _wake(self) -> None:
        for consumer in self._consumers:
            consumer.wake.set()
        self.changed.set()

    def _active(self) -> _Consumer | None:
        return self._consumers[0] if self._consumers else None

    async def _consume(self, request: web.Request) -> web.StreamResponse:
        tenant = request.match_info["tenant"]
        env = request.match_info["env"]
        sub = request.match_info["sub"]
        self.handshakes.append(
            {
                "path": request.path,
                "query": dict(request.query),
                "username": request.headers.get("username"),
                "password": request.headers.get("password"),
            }
        )
        self.changed.set()
        if self._hang:
            await self._hung.wait()
        if self._refuse_status is not None:
            return web.Response(status=self._refuse_status, text="refused")
        login_ok = request.headers.get("username") == self.access_id and (
            request.headers.get("password")
            == expected_password(self.access_id, self.access_secret)
        )
        if self._refuse_login or not login_ok or tenant != self.access_id:
            return web.Response(status=401, text=_JETTY_401, content_type="text/html")
        if sub != f"{self.access_id}-sub" or env not in ("event", "event-test"):
            return web.Response(status=404, text="topic not found")
        sub_type = request.query.get("subscriptionType", "Exclusive")
        if sub_type == "Exclusive" and self._consumers:
            return web.Response(
                status=409, text="Exclusive consumer is already connected"
            )
        queue_size = int(request.query.get("receiverQueueSize", "1000"))
        ws = web.WebSocketResponse(autoping=False, max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        consumer = _Consumer(ws, request, sub_type, queue_size)
        consumer.wake.set()  # a backlog may be waiting for it
        self._consumers.append(consumer)
        self.connections += 1
        self.max_concurrent = max(self.max_concurrent, len(self._consumers))
        self.changed.set()
        sender = asyncio.get_running_loop().create_task(self._send_loop(consumer))
        try:
            async for msg in ws:
                if msg.type is WSMsgType.PING:
                    self.pings += 1
                    self.ping_seen.set()
                    await ws.pong(msg.data)
                elif msg.type is WSMsgType.TEXT:
                    self._client_frame(consumer, msg.data)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            self._consumers.remove(consumer)
            # A closed consumer's unacknowledged messages go back to the
            # subscription and are delivered again, redeliveryCount + 1.
            for message in consumer.unacked.values():
                message.redeliveries += 1
                self._backlog.append(message)
            consumer.unacked.clear()
            self._wake()
        return ws

    def _client_frame(self, consumer: _Consumer, text: str) -> None:
        try:
            command = json.loads(text)
        except ValueError:
            self.bad_client_frames.append(text)
            return
        message_id = command.get("messageId") if isinstance(command, dict) else None
        if not isinstance(message_id, str) or command.get("type") not in (
            None,
            "acknowledge",
        ):
            self.bad_client_frames.append(text)
            return
        if self.lose_acks > 0:
            self.lose_acks -= 1
            self.lost_acks.append(message_id)
            self.changed.set()
            return
        if consumer.unacked.pop(message_id, None) is not None:
            self.acked.append(message_id)
            consumer.wake.set()
            self.changed.set()

    async def _send_loop(self, consumer: _Consumer) -> None:
        while True:
            await consumer.wake.wait()
            consumer.wake.clear()
            # Failover: only the first consumer gets messages; the others stand by.
            while (
                self._active() is consumer
                and self._backlog
                and len(consumer.unacked) < consumer.queue_size
                and not consumer.ws.closed
            ):
                message = self._backlog.popleft()
                raw = message.frame.get("__raw__")
                text = raw if isinstance(raw, str) else message.text()
                if message.message_id:
                    consumer.unacked[message.message_id] = message
                self.sent.append((message.message_id, message.redeliveries))
                try:
                    await consumer.ws.send_str(text)
                except (ConnectionResetError, RuntimeError):
                    return
                self.changed.set()
