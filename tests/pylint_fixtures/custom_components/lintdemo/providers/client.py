"""A cloud client."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp


def now() -> datetime:
    """No Home Assistant here, so no dt_util either: not reported."""
    return datetime.now(UTC)


def fail() -> None:
    """A library's exception raised by the integration."""
    raise aiohttp.ClientError("boom")  # expect: home-assistant-raise-third-party-exception


async def own_session() -> None:
    """A session of its own instead of Home Assistant's."""
    async with aiohttp.ClientSession() as session:  # expect: hass-integration-raw-http-client
        await session.get("http://127.0.0.1/")


UNIT = "\u00b5g/m³"  # expect: home-assistant-enforce-greek-micro-char
