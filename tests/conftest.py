"""Shared fixtures: Home Assistant harness and the fake clouds on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from typing import Any

import pytest

# Import the package first so Home Assistant's loader finds it (see README, Testing).
import custom_components.ttlock_gateway  # noqa: F401
from tests.fakes.gateway_service import CallbackReceiver, FakeGatewayService
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: Any,
) -> Generator[None]:
    """Let Home Assistant load custom_components/ttlock_gateway."""
    return


@pytest.fixture
async def ttlock_cloud(socket_enabled: Any) -> AsyncIterator[FakeTTLockCloud]:
    """An empty fake TTLock cloud on 127.0.0.1."""
    cloud = FakeTTLockCloud()
    await cloud.start()
    yield cloud
    await cloud.stop()


@pytest.fixture
async def tuya_cloud(socket_enabled: Any) -> AsyncIterator[FakeTuyaCloud]:
    """An empty fake Tuya cloud on 127.0.0.1."""
    cloud = FakeTuyaCloud()
    await cloud.start()
    yield cloud
    await cloud.stop()


@pytest.fixture
async def gateway_service(
    ttlock_cloud: FakeTTLockCloud,
) -> AsyncIterator[FakeGatewayService]:
    """A fake gateway service (seed 000) in front of the fake TTLock cloud."""
    service = FakeGatewayService(ttlock_cloud)
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
async def callback_receiver(socket_enabled: Any) -> AsyncIterator[CallbackReceiver]:
    """A loopback endpoint standing in for the webhook the service calls."""
    receiver = CallbackReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()
