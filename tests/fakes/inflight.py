"""Faults "in flight" for the fake clouds: a request held at the cloud, an answer lost.

Both model what the real clouds do to a client: a gateway upload takes seconds
(TTLock: the cloud answers only after the gateway wrote the code to the lock;
Tuya: the ticket + temp-password exchange), and a created code's answer can be
lost on the way back (timeout, dropped connection), leaving a code on the lock
that the client never heard of.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict


class Hold:
    """One request kept at the cloud until ``release()`` (or the cloud stops)."""

    def __init__(self, stopping: asyncio.Event) -> None:
        self.arrived = asyncio.Event()
        self._released = asyncio.Event()
        self._stopping = stopping

    def release(self) -> None:
        """Let the held request go on (its effect happens now)."""
        self._released.set()

    async def wait(self) -> None:
        """Called by the fake: block until released or the cloud stops."""
        self.arrived.set()
        released = asyncio.ensure_future(self._released.wait())
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait(
                {released, stopping}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            released.cancel()
            stopping.cancel()


class InFlightFaults:
    """Per-route holds and lost answers, consumed in order."""

    def __init__(self) -> None:
        self._holds: dict[str, list[Hold]] = defaultdict(list)
        self._lost: dict[str, int] = defaultdict(int)

    def hold(self, route: str, stopping: asyncio.Event) -> Hold:
        """Hold the next request to ``route`` before the cloud handles it."""
        hold = Hold(stopping)
        self._holds[route].append(hold)
        return hold

    def lose_answers(self, route: str, times: int) -> None:
        """Handle the next ``times`` requests to ``route``, then drop the answer."""
        self._lost[route] += times

    def take_hold(self, route: str) -> Hold | None:
        """The hold waiting for this request, if any."""
        holds = self._holds.get(route)
        return holds.pop(0) if holds else None

    def take_lost(self, route: str) -> bool:
        """Whether this request's answer is to be lost."""
        if self._lost.get(route, 0) > 0:
            self._lost[route] -= 1
            return True
        return False
