"""The fake message service is faithful: Tuya's own SDK consumes from it.

``tuya-connector-python`` (pinned in the test extra) is Tuya's official Python
SDK for the message service. Its consumer logs in to the fake with its own
password derivation, receives a message, decrypts it with its own AES code and
acknowledges it. The AES-GCM variant, which that SDK predates, is checked with
pycryptodome following ``tuya-pulsar-sdk-python``'s ``message_util.py`` steps.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
import json

from Crypto.Cipher import AES
import pytest
from tuya_connector import TuyaCloudPulsarTopic, TuyaOpenPulsar

from custom_components.ttlock_gateway.providers.tuya_push_codec import (
    data_key,
    decrypt_data,
    parse_envelope,
    parse_frame,
    push_password,
)
from tests.fakes.tuya_pulsar import FakeTuyaPulsar, expected_password, seal_gcm
from tests.tuya_push_harness import until

LOCK = "vdevo0123456789abcd"


@pytest.fixture
async def pulsar(socket_enabled: object) -> AsyncIterator[FakeTuyaPulsar]:
    fake = FakeTuyaPulsar()
    await fake.start()
    yield fake
    await fake.stop()


async def test_official_sdk_consumer_logs_in_receives_and_decrypts(
    pulsar: FakeTuyaPulsar,
) -> None:
    loop = asyncio.get_running_loop()
    received: asyncio.Future[str] = loop.create_future()

    def listener(decrypted: str) -> None:
        # Called in the SDK's websocket thread.
        loop.call_soon_threadsafe(
            lambda: received.done() or received.set_result(decrypted)
        )

    sdk = TuyaOpenPulsar(
        pulsar.access_id,
        pulsar.access_secret,
        pulsar.endpoint,
        TuyaCloudPulsarTopic.PROD,
    )
    sdk.add_message_listener(listener)
    message_id = pulsar.publish_status(
        LOCK, [("unlock_fingerprint", 2)], t_ms=1_700_000_000_000, data_id="D42"
    )
    # The socket loop itself, not sdk.start(): that thread polls every 3 s.
    runner = loop.run_in_executor(None, sdk.ws_app.run_forever)
    try:
        async with asyncio.timeout(20):
            decrypted = await received
        await until(pulsar, lambda: message_id in pulsar.acked)
    finally:
        sdk.ws_app.close()
        await runner

    assert json.loads(decrypted) == {
        "dataId": "D42",
        "devId": LOCK,
        "productKey": "fakeprodjtmspro",
        "status": [
            {"code": "unlock_fingerprint", "value": 2, "t": 1_700_000_000_000, "1": 2}
        ],
    }
    (shake,) = pulsar.handshakes
    # The SDK's password is the fake's and ours.
    assert shake["password"] == expected_password(
        pulsar.access_id, pulsar.access_secret
    )
    assert shake["password"] == push_password(pulsar.access_id, pulsar.access_secret)
    assert shake["query"] == {
        "ackTimeoutMillis": "3000",
        "subscriptionType": "Failover",
    }


def test_gcm_blob_opens_as_tuyas_pulsar_sdk_opens_it() -> None:
    secret = FakeTuyaPulsar.ACCESS_SECRET
    plain = b'{"devId":"x","status":[]}'
    raw = base64.b64decode(seal_gcm(secret, plain))
    cipher = AES.new(secret[8:24].encode(), AES.MODE_GCM, nonce=raw[:12])
    assert cipher.decrypt_and_verify(raw[12:-16], raw[-16:]) == plain


def test_our_decryption_opens_what_pycryptodome_seals() -> None:
    """ECB as the Node SDK's ``encrypt`` and the connector's decrypt do it."""
    secret = FakeTuyaPulsar.ACCESS_SECRET
    plain = json.dumps({"devId": LOCK, "status": []}).encode()
    pad = 16 - len(plain) % 16
    sealed = AES.new(secret[8:24].encode(), AES.MODE_ECB).encrypt(
        plain + bytes([pad]) * pad
    )
    assert decrypt_data(base64.b64encode(sealed).decode(), data_key(secret), None) == {
        "devId": LOCK,
        "status": [],
    }


async def test_a_fake_frame_decodes_with_our_codec(pulsar: FakeTuyaPulsar) -> None:
    """Frame, envelope and data as the fake sends them, through our codec."""
    pulsar.publish_status(LOCK, [("doorbell", True)], t_ms=1_700_000_000_000)
    text = pulsar._backlog[0].text()
    frame = parse_frame(text)
    envelope = parse_envelope(frame.payload)
    assert envelope.protocol == 4
    assert envelope.time_ms == 1_700_000_000_000
    data = decrypt_data(envelope.data, data_key(pulsar.access_secret), None)
    assert data["status"][0]["code"] == "doorbell"
