"""Fixtures of the benchmark: the test suite's harness, plus timed fake clouds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Generator
import logging
import time
from typing import Any

from aiohttp import web
import pytest

# Import the package first so Home Assistant's loader finds it.
import custom_components.ttlock_gateway  # noqa: F401
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud


class TimedTTLockCloud(FakeTTLockCloud):
    """The fake TTLock cloud, noting when each request arrives."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.arrivals: list[tuple[float, str]] = []

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.arrivals.append((time.perf_counter(), request.path))
        return await super()._dispatch(request)


class TimedTuyaCloud(FakeTuyaCloud):
    """The fake Tuya cloud, noting when each request arrives."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.arrivals: list[tuple[float, str]] = []

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.arrivals.append((time.perf_counter(), request.path))
        return await super()._handle(request)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: Any,
) -> Generator[None]:
    """Let Home Assistant load custom_components/ttlock_gateway."""
    return


@pytest.fixture(autouse=True)
async def enable_event_loop_debug() -> None:
    """Override the harness: measure with the loop as Home Assistant runs it."""
    asyncio.get_running_loop().set_debug(False)


@pytest.fixture(autouse=True)
def quiet_logs() -> Generator[None]:
    """Home Assistant's default log level (WARNING), not the harness's DEBUG."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    yield
    root.setLevel(level)


@pytest.fixture
async def ttlock_cloud(socket_enabled: Any) -> AsyncIterator[TimedTTLockCloud]:
    """An empty timed fake TTLock cloud on 127.0.0.1."""
    cloud = TimedTTLockCloud()
    await cloud.start()
    yield cloud
    await cloud.stop()


@pytest.fixture
async def tuya_cloud(socket_enabled: Any) -> AsyncIterator[TimedTuyaCloud]:
    """An empty timed fake Tuya cloud on 127.0.0.1."""
    cloud = TimedTuyaCloud()
    await cloud.start()
    yield cloud
    await cloud.stop()
