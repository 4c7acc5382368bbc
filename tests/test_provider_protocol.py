"""The provider protocol's optional operations and their defaults."""

from __future__ import annotations

import aiohttp
import pytest

from custom_components.ttlock_gateway.providers.models import (
    Capabilities,
    LockProvider,
    NotSupportedError,
)
from custom_components.ttlock_gateway.providers.ttlock import TTLockClient
from custom_components.ttlock_gateway.providers.tuya import TuyaClient


async def _clients(session: aiohttp.ClientSession) -> list[LockProvider]:
    return [
        TTLockClient(
            session,
            client_id="id",
            client_secret="secret",
            username="user",
            password_md5="0" * 32,
            base_url="http://127.0.0.1:9",
        ),
        TuyaClient(
            session,
            access_id="id",
            access_secret="secret",
            base_url="http://127.0.0.1:9",
        ),
    ]


async def test_optional_operations_default_to_not_supported() -> None:
    """TTLock and Tuya inherit the defaults: a clear error, and no request."""
    async with aiohttp.ClientSession() as session:
        for client in await _clients(session):
            with pytest.raises(NotSupportedError):
                await client.async_update_code("lock", "1", name="x")
            with pytest.raises(NotSupportedError):
                await client.async_freeze_code("lock", "1")
            with pytest.raises(NotSupportedError):
                await client.async_unfreeze_code("lock", "1")
            if isinstance(client, TTLockClient):
                # Tuya has dynamic passwords (test_tuya_offline.py).
                with pytest.raises(NotSupportedError):
                    await client.async_get_dynamic_code("lock")


def test_capability_flags_default_off() -> None:
    """A cloud claims the optional operations only by setting the flags."""
    caps = Capabilities()
    assert not caps.update_codes
    assert not caps.freeze_codes
    assert not caps.dynamic_codes
