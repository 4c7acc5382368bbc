"""Helpers of the Tuya push tests: a consumer wired to the fake, a stepped clock."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from custom_components.ttlock_gateway.providers.models import (
    LockEvent,
    LockStatus,
    PushBatch,
    PushHealth,
)
from custom_components.ttlock_gateway.providers.tuya_push import TuyaPushConsumer
from tests.fakes.tuya_pulsar import FakeTuyaPulsar


class StepClock:
    """An injectable ``sleep``: each call waits until the test releases it.

    Reconnect delays are recorded and never waited for in real time.
    """

    def __init__(self, changed: asyncio.Event) -> None:
        self.delays: list[float] = []
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._changed = changed

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.delays.append(delay)
        self._waiting.append(future)
        self._changed.set()
        await future

    @property
    def sleeping(self) -> int:
        """Sleeps waiting to be released."""
        return sum(1 for f in self._waiting if not f.done())

    def release(self) -> None:
        """Let the oldest pending sleep end."""
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_result(None)
                return


class Harness:
    """A consumer on the fake, recording every batch and health change."""

    def __init__(
        self,
        fake: FakeTuyaPulsar,
        session: aiohttp.ClientSession,
        *,
        on_push: Callable[[PushBatch], None] | None = None,
        jitter: float = 1.0,
        **kwargs: Any,
    ) -> None:
        self.fake = fake
        self.batches: list[PushBatch] = []
        self.healths: list[PushHealth] = []
        self.clock = StepClock(fake.changed)
        self.now = datetime.now(UTC)
        self.fixed_now: datetime | None = None
        self._extra = on_push

        def _now() -> datetime:
            return self.fixed_now or datetime.now(UTC)

        kwargs.setdefault("access_id", fake.access_id)
        kwargs.setdefault("access_secret", fake.access_secret)
        self.consumer = TuyaPushConsumer(
            session,
            endpoint=fake.endpoint,
            on_push=self._push,
            on_health=self._health,
            sleep=self.clock.sleep,
            jitter=lambda: jitter,
            now=_now,
            **kwargs,
        )

    def _push(self, batch: PushBatch) -> None:
        self.batches.append(batch)
        self.fake.changed.set()
        if self._extra is not None:
            self._extra(batch)

    def _health(self, health: PushHealth) -> None:
        self.healths.append(health)
        self.fake.changed.set()

    @property
    def events(self) -> list[LockEvent]:
        return [event for batch in self.batches for event in batch.events]

    @property
    def statuses(self) -> list[LockStatus]:
        return [status for batch in self.batches for status in batch.statuses]

    async def until(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds, woken by every change of the fake."""
        await until(self.fake, predicate)

    async def connected(self, count: int = 1) -> None:
        """Wait for the ``count``-th connection to be up."""
        await self.until(
            lambda: self.fake.connections >= count
            and self.fake.active >= 1
            and self.consumer.health.connected
        )


# A condition that does not come true within this is a failure, not a wait.
CONDITION_TIMEOUT = 20.0


async def until(fake: FakeTuyaPulsar, predicate: Callable[[], bool]) -> None:
    """Wait on the fake's change signal until ``predicate()`` holds."""
    async with asyncio.timeout(CONDITION_TIMEOUT):
        while not predicate():
            await fake.changed.wait()
            fake.changed.clear()


def signalling_consumer(fake: FakeTuyaPulsar, **defaults: Any) -> Any:
    """A ``TuyaPushConsumer`` factory whose health changes wake ``until``.

    For Home Assistant tests: patched over ``push.TuyaPushConsumer`` so that a
    test can wait for the client side of a connection, not only the fake's.
    """

    class SignallingConsumer(TuyaPushConsumer):
        def _publish_health(self) -> None:
            super()._publish_health()
            fake.changed.set()

    def build(*args: Any, **kwargs: Any) -> TuyaPushConsumer:
        return SignallingConsumer(*args, **{**defaults, **kwargs})

    return build
