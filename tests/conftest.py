"""Shared fixtures: Home Assistant harness and the fake clouds on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
import logging
from typing import Any
import warnings

from hypothesis import HealthCheck, settings
import pytest

# Import the package first so Home Assistant's loader finds it (see README, Testing).
import custom_components.ttlock_gateway  # noqa: F401
from tests.fakes.dding_cloud import FakeDdingCloud
from tests.fakes.gateway_service import CallbackReceiver, FakeGatewayService
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud
from tests.ha_reports import HomeAssistantReport, ReportCollector

# Property tests are deterministic (derandomize: the same examples every run)
# and never timed: with both cores busy, generating an example may be slow,
# which is not a failure of the code under test (the suite passes 10 runs in a
# row under load). Tests with their own ``settings`` inherit these defaults.
settings.register_profile(
    "suite",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("suite")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: Any,
) -> Generator[None]:
    """Let Home Assistant load custom_components/ttlock_gateway."""
    return


_COLLECTOR = pytest.StashKey[ReportCollector]()


def _guard_phase(item: pytest.Item) -> Generator[None, object, object]:
    """Home Assistant's deprecation reports about us become warnings (errors).

    See tests/ha_reports.py: Home Assistant logs them instead of warning. Raised
    in the phase (setup, call, teardown) that caused them, so a known one can be
    marked ``xfail(strict=True)`` until it is fixed.
    """
    collector = ReportCollector()
    item.stash[_COLLECTOR] = collector
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        return (yield)
    finally:
        root.removeHandler(collector)
        for report in collector.reports:
            warnings.warn(HomeAssistantReport(report), stacklevel=1)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    """Setup phase: fixtures that set up entries."""
    return (yield from _guard_phase(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """The test itself."""
    return (yield from _guard_phase(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """Teardown: unloads."""
    return (yield from _guard_phase(item))


class CurrentReports:
    """The reports of the phase that is running (fixtures are made in setup)."""

    def __init__(self, item: pytest.Item) -> None:
        self._item = item

    @property
    def reports(self) -> list[str]:
        return self._item.stash[_COLLECTOR].reports


@pytest.fixture
def ha_reports(request: pytest.FixtureRequest) -> CurrentReports:
    """For the guard's own test."""
    return CurrentReports(request.node)


@pytest.fixture
async def ttlock_cloud(socket_enabled: Any) -> AsyncIterator[FakeTTLockCloud]:
    """An empty fake TTLock cloud on 127.0.0.1."""
    cloud = FakeTTLockCloud()
    await cloud.start()
    yield cloud
    await cloud.stop()


@pytest.fixture
async def dding_cloud(socket_enabled: Any) -> AsyncIterator[FakeDdingCloud]:
    """The fake Dding SaaS on loopback."""
    cloud = FakeDdingCloud()
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


# A loaded gateway-service entry (tests/gateway_service_ha.py).
from tests.gateway_service_ha import gw_home  # noqa: E402, F401
