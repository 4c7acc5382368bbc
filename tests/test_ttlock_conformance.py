"""TTLock client against the documented behaviour of the real cloud (issue 13).

Each test names the documentation page or public client its rule comes from;
the fake (tests/fakes/ttlock_cloud.py) enforces the same rule.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from custom_components.ttlock_gateway.providers.models import NotSupportedError
from custom_components.ttlock_gateway.providers.ttlock import (
    TTLockClient,
    md5_password,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud


@pytest.fixture
async def cloud(socket_enabled: None) -> AsyncIterator[FakeTTLockCloud]:
    fake = FakeTTLockCloud()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def make_client(
    cloud: FakeTTLockCloud, session: aiohttp.ClientSession, **kwargs: Any
) -> TTLockClient:
    kwargs.setdefault("busy_retry_delays", (0, 0, 0))
    return TTLockClient(
        session,
        client_id=cloud.CLIENT_ID,
        client_secret=cloud.CLIENT_SECRET,
        username=cloud.USERNAME,
        password_md5=md5_password(cloud.PASSWORD),
        base_url=cloud.base_url,
        **kwargs,
    )


@pytest.fixture
def client(cloud: FakeTTLockCloud, session: aiohttp.ClientSession) -> TTLockClient:
    return make_client(cloud, session)


# ------------------------------------------------------------- featureValue


async def test_lock_command_bit_alone_is_no_remote_unlock(
    cloud: FakeTTLockCloud, client: TTLockClient
) -> None:
    """cloud/lock/featureValue: bit 10 is gateway unlock, bit 8 the lock command.
    A lock with bit 8 only answers -4043 to every unlock: offer no Unlock."""
    gateway = cloud.add_gateway()
    lock_only = cloud.add_lock(
        name="Lock only", gateway_id=gateway, gateway_unlock=False
    )
    unlock_only = cloud.add_lock(
        name="Unlock only", gateway_id=gateway, lock_command=False
    )
    locks = {lock.lock_id: lock for lock in await client.async_list_locks()}
    assert locks[str(lock_only)].capabilities.remote_unlock is False
    assert locks[str(lock_only)].capabilities.remote_lock is True
    assert locks[str(unlock_only)].capabilities.remote_unlock is True
    assert locks[str(unlock_only)].capabilities.remote_lock is False
    # The fake refuses as the cloud does.
    with pytest.raises(NotSupportedError):
        await client.async_unlock(str(lock_only))
    with pytest.raises(NotSupportedError):
        await client.async_lock(str(unlock_only))
    await client.async_unlock(str(unlock_only))
    assert cloud.unlocks == [unlock_only]
