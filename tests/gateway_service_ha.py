"""Helpers for gateway-service tests through Home Assistant.

Home Assistant's HTTP app is served on a loopback port and set as the external
URL, so the fake service POSTs its job results to the entry's real webhook.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ttlock_gateway.const import (
    CONF_BASE_URL,
    CONF_PROVIDER,
    CONF_WEBHOOK_ID,
    DOMAIN,
    PROVIDER_GATEWAY_SERVICE,
)
from tests.common import TTLockHome, seed_ttlock_home
from tests.fakes.gateway_service import FakeGatewayService
from tests.fakes.ttlock_cloud import FakeTTLockCloud

GW_WEBHOOK_ID = "gw-service-test-webhook"
type ClientFactory = Callable[[], Awaitable[TestClient]]


def gateway_data(service: FakeGatewayService) -> dict[str, Any]:
    """Entry data pointing at the fake gateway service."""
    return {
        CONF_PROVIDER: PROVIDER_GATEWAY_SERVICE,
        CONF_BASE_URL: service.base_url,
        CONF_USERNAME: FakeGatewayService.EMAIL,
        CONF_PASSWORD: FakeGatewayService.PASSWORD,
        CONF_WEBHOOK_ID: GW_WEBHOOK_ID,
    }


async def serve_home_assistant(
    hass: HomeAssistant, hass_client_no_auth: ClientFactory
) -> str:
    """Serve Home Assistant on loopback and make that its external URL."""
    # The integration (and its http, webhook) first: a served app's router is
    # frozen.
    assert await async_setup_component(hass, DOMAIN, {})
    client = await hass_client_no_auth()
    url = str(client.make_url("/")).rstrip("/")
    await async_process_ha_core_config(hass, {"external_url": url})
    return url


@dataclass
class GatewayHome:
    """The seeded TTLock home behind the service, and the entry."""

    home: TTLockHome
    entry: MockConfigEntry
    service: FakeGatewayService
    cloud: FakeTTLockCloud

    @property
    def front(self) -> str:
        return str(self.home.front)


async def add_gateway_entry(
    hass: HomeAssistant, service: FakeGatewayService
) -> MockConfigEntry:
    """Add and set up a gateway-service entry."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=FakeGatewayService.EMAIL,
        data=gateway_data(service),
        # As the flow makes it: <host:port>_<service user id> (the first user).
        unique_id=f"{urlsplit(service.base_url).netloc}_1",
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def gw_home(
    hass: HomeAssistant,
    hass_client_no_auth: ClientFactory,
    gateway_service: FakeGatewayService,
    ttlock_cloud: FakeTTLockCloud,
) -> GatewayHome:
    """A loaded gateway-service entry for a small TTLock home."""
    home = seed_ttlock_home(ttlock_cloud)
    await serve_home_assistant(hass, hass_client_no_auth)
    entry = await add_gateway_entry(hass, gateway_service)
    return GatewayHome(home, entry, gateway_service, ttlock_cloud)
