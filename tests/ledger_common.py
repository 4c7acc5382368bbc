"""Helpers of the code ledger tests: service calls, time, restarts, held saves."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ttlock_gateway.codes.ledger import DATA_LEDGERS, CodeLedger
from custom_components.ttlock_gateway.codes.model import CodeRecord
from custom_components.ttlock_gateway.const import DOMAIN
from tests.common import TTLockHome
from tests.fakes.ttlock_cloud import FakeTTLockCloud

FRONT = "lock.front_door"
BACK = "lock.back_door"
SHED = "lock.shed"
ADD_PATH = "/v3/keyboardPwd/add"
DELETE_PATH = "/v3/keyboardPwd/delete"
CHANGE_PATH = "/v3/keyboardPwd/change"
LIST_PATH = "/v3/lock/listKeyboardPwd"
TUYA_ADD = "POST /v1.0/devices/{id}/door-lock/temp-password"
TUYA_LIST = "GET /v1.0/devices/{id}/door-lock/temp-passwords"
TUYA_DELETE = "DELETE /v1.0/devices/{id}/door-lock/temp-passwords/{password_id}"
TUYA_TICKET = "POST /v1.0/devices/{id}/door-lock/password-ticket"
RETRY = timedelta(minutes=20, seconds=1)
# After a (re)load, interrupted work resumes after 30 s.
RESUME = timedelta(seconds=31)


async def call(
    hass: HomeAssistant, service: str, entity_id: str | list[str], **data: Any
) -> Any:
    """A blocking service call with its response."""
    return await hass.services.async_call(
        DOMAIN,
        service,
        {"entity_id": entity_id, **data},
        blocking=True,
        return_response=True,
    )


def start_call(
    hass: HomeAssistant, service: str, entity_id: str | list[str], **data: Any
) -> asyncio.Task[Any]:
    """The same call as a task, to act while it is under way.

    Not one of Home Assistant's tracked tasks: ``async_block_till_done`` (in a
    reload, say) must not wait for a call the test holds on purpose.
    """
    return asyncio.get_running_loop().create_task(
        call(hass, service, entity_id, **data)
    )


def window(hours_from: float = 1, hours_to: float = 72) -> dict[str, str]:
    """A validity window relative to now, as a service takes it."""
    now = dt_util.now()
    return {
        "start": (now + timedelta(hours=hours_from)).isoformat(),
        "end": (now + timedelta(hours=hours_to)).isoformat(),
    }


def ms(value: str) -> int:
    """An ISO time as TTLock epoch milliseconds."""
    parsed = dt_util.parse_datetime(value)
    assert parsed is not None
    return int(parsed.timestamp() * 1000)


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Move the clock and let every timer that fell due run to the end."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


class Clock:
    """The wall clock and the loop clock apart, for clock-jump tests.

    Home Assistant's timers run on the loop's monotonic clock. Under
    ``freezer`` both clocks follow the frozen time, so a jump of the frozen
    time would move the timers too; here the loop clock is kept continuous:
    ``jump`` moves only the wall clock (NTP correction, a wrong RTC),
    ``elapse`` lets time pass on both and fires what fell due.
    """

    def __init__(self, hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
        self.hass = hass
        self.freezer = freezer
        self._offset = 0.0
        loop = hass.loop
        self._original = loop.time

        def continuous() -> float:
            return self._original() - self._offset

        loop.time = continuous  # type: ignore[method-assign]

    def jump(self, delta: timedelta) -> None:
        self.freezer.tick(delta)
        self._offset += delta.total_seconds()

    async def elapse(self, delta: timedelta) -> None:
        self.freezer.tick(delta)
        async_fire_time_changed(self.hass)
        await self.hass.async_block_till_done(wait_background_tasks=True)

    def close(self) -> None:
        self.hass.loop.time = self._original  # type: ignore[method-assign]


def listen(hass: HomeAssistant, event_type: str) -> list[Event]:
    """Events of one type, collected in the loop (a @callback listener)."""
    events: list[Event] = []
    hass.bus.async_listen(event_type, callback(lambda e: events.append(e)))
    return events


def set_gateway(cloud: FakeTTLockCloud, home: TTLockHome, online: bool) -> None:
    """The seeded home's gateway on or off line."""
    cloud.gateways[home.gateway]["isOnline"] = 1 if online else 0


def ledger_of(hass: HomeAssistant, entry: MockConfigEntry) -> CodeLedger:
    """The entry's ledger (the one object that outlives reloads)."""
    return hass.data[DATA_LEDGERS][entry.entry_id]


def records(hass: HomeAssistant, entry: MockConfigEntry) -> list[CodeRecord]:
    """Every ledger record of the entry."""
    return list(ledger_of(hass, entry).records.values())


async def reload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Reload the entry (options saved, reauth finished, manual reload)."""
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


async def restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Home Assistant restarts: unload, lose everything in memory, set up again."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    hass.data[DATA_LEDGERS].pop(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def tuya_lock_entity(hass: HomeAssistant) -> str:
    """The entity id of the only Tuya lock."""
    return next(
        e.entity_id
        for e in er.async_get(hass).entities.values()
        if e.domain == "lock" and e.platform == DOMAIN
    )


def code_issues(hass: HomeAssistant, key: str = "code_failed") -> list[ir.IssueEntry]:
    """The integration's repair issues of one kind."""
    return [
        issue
        for issue in ir.async_get(hass).issues.values()
        if issue.domain == DOMAIN and issue.translation_key == key
    ]


def ttlock_pins(cloud: FakeTTLockCloud, lock_id: int) -> list[str]:
    """The digits of every code on a fake TTLock lock, sorted."""
    return sorted(c["keyboardPwd"] for c in cloud.passcodes[lock_id].values())


def foreign_code(
    cloud: FakeTTLockCloud,
    lock_id: int,
    code_id: int,
    *,
    end_hours: float,
    kind: int = 3,
    name: str | None = None,
) -> None:
    """A code someone added in the TTLock app."""
    now_ms = int(dt_util.utcnow().timestamp() * 1000)
    cloud.passcodes[lock_id][code_id] = {
        "keyboardPwdId": code_id,
        "lockId": lock_id,
        "keyboardPwd": str(5000 + code_id),
        "keyboardPwdName": name or f"app {code_id}",
        "keyboardPwdType": kind,
        "startDate": 0 if kind == 2 else now_ms - 3600_000,
        "endDate": 0 if kind == 2 else int(now_ms + end_hours * 3600_000),
    }


class SaveGate:
    """Hold the ledger's ``nth`` file write (an await point) until released."""

    def __init__(self, ledger: CodeLedger, nth: int) -> None:
        self.nth = nth
        self.count = 0
        self.arrived = asyncio.Event()
        self.released = asyncio.Event()
        self._original: Callable[[dict[str, Any]], Awaitable[None]] = (
            ledger._store.async_save
        )
        ledger._store.async_save = self._save  # type: ignore[method-assign]

    async def _save(self, data: dict[str, Any]) -> None:
        self.count += 1
        if self.count == self.nth:
            self.arrived.set()
            await self.released.wait()
        await self._original(data)

    def release(self) -> None:
        self.released.set()


def at(value: str) -> datetime:
    """A parsed ISO time (UTC)."""
    parsed = dt_util.parse_datetime(value)
    assert parsed is not None
    return dt_util.as_utc(parsed)


async def until(condition: Callable[[], bool], *, turns: int = 10_000) -> None:
    """Let the loop run until ``condition`` holds (e.g. a released request landed).

    Waits on the condition, not on time: each turn yields once to the loop.
    """
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")
