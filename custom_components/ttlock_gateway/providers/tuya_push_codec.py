"""Wire format of Tuya's message service (Apache Pulsar's websocket API).

Pure functions, no I/O, no Home Assistant. Sources (one line each in
``docs/tuya-push.md``):

* Tuya's ``tuya-connector-python`` 0.1.2, ``tuya_connector/openpulsar.py``: the
  consumer URL ``<endpoint>ws/v2/consumer/persistent/<id>/out/<env>/<id>-sub``
  with ``?ackTimeoutMillis=3000&subscriptionType=Failover``, the ``username`` /
  ``password`` upgrade headers, ``password = md5hex(id + md5hex(secret))[8:24]``,
  the frame's base64 ``payload`` whose JSON ``data`` is AES-ECB under
  ``secret[8:24]``, and the ``{"messageId": ...}`` acknowledgement.
* ``tuya-pulsar-sdk-python`` ``message_util.py`` / ``tuya-pulsar-sdk-java``
  ``AESGCMDecryptor.java`` / ``tuya-pulsar-ws-node`` ``utils.ts``: the message
  property ``em == "aes_gcm"`` selects AES-128-GCM under the same key, the blob
  being ``nonce(12) | cipher text | tag(16)`` with no associated data; anything
  else is ECB.
* Apache Pulsar's websocket API (``client-libraries-websocket.md``): frame
  fields ``messageId``, ``payload``, ``properties``, ``publishTime``,
  ``redeliveryCount``; HTTP errors at the upgrade (401 authentication).

Every failure is an :class:`InvalidAnswerError`, so the consumer can count it
and move on; nothing here raises anything else.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
import hashlib
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
import orjson

from .bounds import InvalidAnswerError, has_unsafe_text
from .tuya_crypto import aes_ecb_decrypt

# Only these four are named by Tuya's SDKs (connector ``tuya_enums.py``, the
# Java ``MqConfigs.java``, the Node SDK's region table). The Azure data centres
# (us_east, eu_west) and Singapore have no documented endpoint: no push there
# until one is confirmed, the poll carries on as before.
ENDPOINTS: Final[dict[str, str]] = {
    "cn": "wss://mqe.tuyacn.com:8285/",
    "us": "wss://mqe.tuyaus.com:8285/",
    "eu": "wss://mqe.tuyaeu.com:8285/",
    "in": "wss://mqe.tuyain.com:8285/",
}

# ``TuyaCloudPulsarTopic``: production messages; "event-test" is the project's
# test environment (its own messaging rules in the Tuya console).
ENV_PROD: Final = "event"
ENV_TEST: Final = "event-test"

# The official SDK asks for a 3 s ack timeout and a failover subscription: one
# active consumer per subscription, a second one standing by.
ACK_TIMEOUT_MS: Final = 3000
SUBSCRIPTION_TYPE: Final = "Failover"

# A lock's status report is a few hundred bytes; anything near this is not one.
MAX_FRAME: Final = 65536
# Frames up to this size are still read, to acknowledge them by id.
READ_LIMIT: Final = 1024 * 1024
MAX_MESSAGE_ID: Final = 256

GCM_NONCE: Final = 12
GCM_TAG: Final = 16
EM_GCM: Final = "aes_gcm"


def _md5_hex(text: str) -> str:
    # Not a security choice of ours: it is how Tuya derives the password.
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def push_password(access_id: str, access_secret: str) -> str:
    """The ``password`` header: 16 hex characters derived from the secret."""
    return _md5_hex(access_id + _md5_hex(access_secret))[8:24]


def data_key(access_secret: str) -> bytes:
    """AES-128 key of the ``data`` field: characters 8-24 of the secret."""
    key = access_secret[8:24].encode()
    if len(key) != 16:
        raise InvalidAnswerError("the Access Secret is too short for push")
    return key


def consumer_url(
    endpoint: str,
    access_id: str,
    *,
    env: str = ENV_PROD,
    ack_timeout_ms: int = ACK_TIMEOUT_MS,
) -> str:
    """The consumer endpoint of the project's subscription."""
    base = endpoint if endpoint.endswith("/") else endpoint + "/"
    return (
        f"{base}ws/v2/consumer/persistent/{access_id}/out/{env}/{access_id}-sub"
        f"?ackTimeoutMillis={ack_timeout_ms}&subscriptionType={SUBSCRIPTION_TYPE}"
    )


def ack_frame(message_id: str) -> str:
    """Acknowledge one message (Pulsar websocket API)."""
    return orjson.dumps({"messageId": message_id}).decode()


@dataclass(frozen=True, slots=True)
class Frame:
    """One message as the websocket delivers it, not yet decrypted."""

    message_id: str
    payload: bytes
    encryption: str | None
    redelivery_count: int


@dataclass(frozen=True, slots=True)
class Envelope:
    """The decoded payload: protocol number, push time and the sealed data."""

    protocol: int
    time_ms: int | None
    data: str
    version: str | None


def _loads(raw: bytes | str, what: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidAnswerError(f"{what}: not JSON") from None


def _b64(text: Any, what: str) -> bytes:
    if not isinstance(text, str) or not text:
        raise InvalidAnswerError(f"{what}: not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidAnswerError(f"{what}: not base64") from None


def message_id_of(raw: str | bytes) -> str | None:
    """The ``messageId`` of a frame if it can be read, for acknowledging garbage.

    A frame we cannot use is still acknowledged when its id is readable:
    otherwise the service redelivers it after every ack timeout, forever.
    """
    if len(raw) > READ_LIMIT:
        return None
    try:
        frame = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(frame, dict):
        return None
    value = frame.get("messageId")
    if (
        isinstance(value, str)
        and 0 < len(value) <= MAX_MESSAGE_ID
        and not has_unsafe_text(value)
    ):
        return value
    return None


def parse_frame(raw: str | bytes) -> Frame:
    """One websocket text frame of the consumer endpoint."""
    if len(raw) > MAX_FRAME:
        raise InvalidAnswerError("frame too large")
    frame = _loads(raw, "frame")
    if not isinstance(frame, dict):
        raise InvalidAnswerError("frame: not an object")
    message_id = message_id_of(raw)
    if message_id is None:
        raise InvalidAnswerError("frame: no messageId")
    properties = frame.get("properties")
    encryption: str | None = None
    if isinstance(properties, dict):
        em = properties.get("em")
        encryption = em if isinstance(em, str) and len(em) <= 32 else None
    redelivery = frame.get("redeliveryCount")
    count = (
        redelivery
        if isinstance(redelivery, int) and not isinstance(redelivery, bool)
        else 0
    )
    return Frame(
        message_id=message_id,
        payload=_b64(frame.get("payload"), "payload"),
        encryption=encryption,
        redelivery_count=max(0, min(count, 1_000_000)),
    )


def parse_envelope(payload: bytes) -> Envelope:
    """The payload's JSON: ``protocol``, ``pv``, ``t`` and the sealed ``data``."""
    body = _loads(payload, "payload")
    if not isinstance(body, dict):
        raise InvalidAnswerError("payload: not an object")
    protocol = body.get("protocol")
    if isinstance(protocol, str) and protocol.isdigit() and len(protocol) <= 6:
        protocol = int(protocol)
    if (
        not isinstance(protocol, int)
        or isinstance(protocol, bool)
        or not 0 <= protocol < 1_000_000
    ):
        raise InvalidAnswerError("payload: no protocol number")
    data = body.get("data")
    if not isinstance(data, str) or not data:
        raise InvalidAnswerError("payload: no data")
    t = body.get("t")
    time_ms = t if isinstance(t, int) and not isinstance(t, bool) else None
    pv = body.get("pv")
    return Envelope(
        protocol=protocol,
        time_ms=time_ms,
        data=data,
        version=pv if isinstance(pv, str) and len(pv) <= 16 else None,
    )


def decrypt_data(sealed: str, key: bytes, encryption: str | None) -> dict[str, Any]:
    """The business data: AES-GCM when the message says ``aes_gcm``, else ECB."""
    blob = _b64(sealed, "data")
    try:
        if encryption == EM_GCM:
            if len(blob) < GCM_NONCE + GCM_TAG:
                raise InvalidAnswerError("data: too short for AES-GCM")
            plain = AESGCM(key).decrypt(blob[:GCM_NONCE], blob[GCM_NONCE:], None)
        else:
            plain = aes_ecb_decrypt(key, blob)
    except (InvalidTag, ValueError):
        raise InvalidAnswerError("data: does not decrypt with the secret") from None
    data = _loads(plain, "data")
    if not isinstance(data, dict):
        raise InvalidAnswerError("data: not an object")
    return data
