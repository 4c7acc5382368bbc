"""Randomized chaos (seeded, bounded): 200 operations interleaving add, delete,
update, reload, restart and cloud faults (gateway offline, lost answers, busy
and 10004 answers, a rate limit, uploads held in flight).

When the dust settles every fake lock holds exactly the ledger's desired codes
(0 lost, 0 duplicated), and the ledger holds exactly what the service answers
promised: a code answered ``added``/``queued``/``updated`` is wanted, one
answered ``deleted``/``cancelled``/``pending_delete`` is not.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
import os
import random
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ttlock_gateway.const import EVENT_CODE_FAILED
from tests.common import seed_ttlock_home, setup_entry, ttlock_data, tuya_data
from tests.fakes.inflight import Hold
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud
from tests.ledger_common import (
    ADD_PATH,
    BACK,
    CHANGE_PATH,
    DELETE_PATH,
    FRONT,
    TUYA_ADD,
    TUYA_DELETE,
    call,
    listen,
    ms,
    records,
    reload,
    restart,
    start_call,
    tuya_lock_entity,
)

OPERATIONS = 200
# CHAOS_SEEDS=1-50 runs those seeds instead (hunting, not in CI).
_SEEDS = os.environ.get("CHAOS_SEEDS", "")
EXTRA_SEEDS = (
    list(range(int(_SEEDS.split("-")[0]), int(_SEEDS.split("-")[1]) + 1))
    if "-" in _SEEDS
    else [int(x) for x in _SEEDS.split(",") if x]
)


@dataclass
class World:
    """What the test drives and what the answers promised."""

    hass: HomeAssistant
    entry: MockConfigEntry
    freezer: FrozenDateTimeFactory
    rng: random.Random
    cloud: FakeTTLockCloud | FakeTuyaCloud
    entities: list[str]
    add_route: str
    delete_route: str
    # (code_id, entity) -> wanted end (ISO), from the service answers.
    wanted: dict[tuple[str, str], str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)

    def note(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1

    def window(self) -> dict[str, str]:
        # Long windows: nothing ends while the test runs (up to ~3 days).
        now = dt_util.now()
        start = now + timedelta(hours=self.rng.uniform(-2, 24))
        end = now + timedelta(days=self.rng.uniform(10, 20))
        return {"start": start.isoformat(), "end": end.isoformat()}

    async def tick(self, minutes: float) -> None:
        self.freezer.tick(timedelta(minutes=minutes))
        async_fire_time_changed(self.hass)
        await self.hass.async_block_till_done(wait_background_tasks=True)


def _apply_answer(
    world: World, service: str, answer: dict[str, Any], **data: Any
) -> None:
    """What a service answer promises, per lock."""
    for entity_id, item in answer.items():
        if service == "add_code":
            if item["status"] in ("added", "queued"):
                world.wanted[(item["code_id"], entity_id)] = data["end"]
                world.names[item["code_id"]] = data["name"]
            elif item["status"] == "failed":
                world.note("add failed")
        elif service == "update_code":
            key = (item["code_id"], entity_id)
            if item["status"] in ("updated", "queued") and key in world.wanted:
                world.wanted[key] = data.get("end", world.wanted[key])
        elif service == "delete_code":
            for bucket in ("deleted", "pending_delete", "cancelled", "already_deleted"):
                for code_id in item[bucket]:
                    world.wanted.pop((code_id, entity_id), None)


async def _service(
    world: World, service: str, entity_id: str | list[str], **data: Any
) -> None:
    try:
        answer = await call(world.hass, service, entity_id, **data)
    except HomeAssistantError as err:  # refused (duplicate digits, deleted...)
        world.note(f"{service} refused: {err.translation_key}")
        return
    _apply_answer(world, service, answer, **data)


async def _until_absent(world: World, name: str) -> None:
    """Until the ledger has the delete of ``name`` (or the call was refused)."""
    for _ in range(10_000):
        wanted = [
            r
            for r in records(world.hass, world.entry)
            if r.name == name and r.present and not r.tombstone
        ]
        if not wanted:
            return
        await asyncio.sleep(0)


def _known(world: World) -> list[tuple[str, str]]:
    return sorted(world.wanted)


async def op_add(world: World) -> None:
    rng = world.rng
    targets = rng.sample(world.entities, rng.randint(1, len(world.entities)))
    data: dict[str, Any] = {"name": f"Guest {rng.randrange(10_000)}", **world.window()}
    if rng.random() < 0.5 and isinstance(world.cloud, FakeTTLockCloud):
        data["code"] = str(rng.randrange(100_000, 999_999))
    await _service(world, "add_code", targets, **data)


async def op_delete(world: World) -> None:
    known = _known(world)
    if not known:
        return
    code_id, entity_id = world.rng.choice(known)
    how = world.rng.random()
    if how < 0.6:
        await _service(world, "delete_code", entity_id, code_id=code_id)
    else:
        await _service(world, "delete_code", entity_id, name=world.names[code_id])


async def op_update(world: World) -> None:
    known = _known(world)
    if not known:
        return
    code_id, entity_id = world.rng.choice(known)
    await _service(world, "update_code", entity_id, code_id=code_id, **world.window())


async def op_held(world: World) -> None:
    """An add held in flight at the cloud while something else happens."""
    rng = world.rng
    held: Hold = world.cloud.hold(world.add_route)
    entity_id = rng.choice(world.entities)
    data: dict[str, Any] = {"name": f"Held {rng.randrange(10_000)}", **world.window()}
    task = start_call(world.hass, "add_code", entity_id, **data)
    arrived = asyncio.ensure_future(held.arrived.wait())
    await asyncio.wait({task, arrived}, return_when=asyncio.FIRST_COMPLETED)
    if not arrived.done():
        arrived.cancel()
        held.release()  # it never went to the cloud (paused, refused...)
    else:
        world.note("held in flight")
        then = rng.random()
        if then < 0.35:
            # The delete waits for the upload in flight: released meanwhile.
            world.note("cancel in flight")
            deleting = asyncio.ensure_future(
                _service(world, "delete_code", entity_id, name=data["name"])
            )
            await _until_absent(world, data["name"])
            held.release()
            await deleting
        elif then < 0.5:
            await reload(world.hass, world.entry)
        elif then < 0.6:
            await restart(world.hass, world.entry)
        held.release()
    try:
        answer = await task
    except HomeAssistantError as err:
        world.note(f"held add refused: {err.translation_key}")
        return
    # The answer of an add whose delete won while it was in flight says
    # "cancelled"; the delete's own answer already said so.
    _apply_answer(world, "add_code", answer, **data)


async def op_fault(world: World) -> None:
    rng = world.rng
    cloud = world.cloud
    choice = rng.randrange(6)
    if isinstance(cloud, FakeTTLockCloud):
        if choice == 0:
            cloud.fail(
                ADD_PATH, -3002, "The gateway is offline", times=rng.randint(1, 2)
            )
        elif choice == 1:
            cloud.lose_answer(ADD_PATH)
        elif choice == 2:
            cloud.lose_answer(DELETE_PATH)
        elif choice == 3:
            cloud.fail(ADD_PATH, 10004, "invalid grant", times=2)
        elif choice == 4:
            cloud.fail(DELETE_PATH, -3036, "The lock is offline", times=2)
        else:
            cloud.fail(CHANGE_PATH, 30006, "api limit")
    elif choice == 0:
        cloud.fail(TUYA_ADD, 2001, "device is offline")
    elif choice in (1, 2):
        cloud.lose_answer(TUYA_ADD)
    elif choice == 3:
        cloud.lose_answer(TUYA_DELETE)
    elif choice == 4:
        cloud.fail(TUYA_DELETE, 500, "system error")
    else:
        cloud.fail(TUYA_ADD, 40000305, "request frequency limit")
    world.note("fault")


async def op_gateway(world: World) -> None:
    cloud = world.cloud
    if isinstance(cloud, FakeTTLockCloud):
        gateway = next(iter(cloud.gateways.values()))
        gateway["isOnline"] = 0 if gateway["isOnline"] else 1
    else:
        device = next(iter(cloud.devices.values()))
        device["online"] = not device["online"]
    world.note("gateway toggled")


async def op_reload(world: World) -> None:
    await reload(world.hass, world.entry)
    world.note("reload")


async def op_restart(world: World) -> None:
    await restart(world.hass, world.entry)
    world.note("restart")


async def op_time(world: World) -> None:
    await world.tick(world.rng.uniform(0.5, 30))


OPS = [
    (op_add, 24),
    (op_delete, 14),
    (op_update, 10),
    (op_held, 10),
    (op_fault, 12),
    (op_gateway, 5),
    (op_reload, 4),
    (op_restart, 3),
    (op_time, 18),
]


async def settle(world: World) -> None:
    """No more faults; enough time for every retry, recheck and slow delete."""
    cloud = world.cloud
    cloud._faults.clear()
    cloud._in_flight_faults = type(cloud._in_flight_faults)()
    if isinstance(cloud, FakeTTLockCloud):
        for gateway in cloud.gateways.values():
            gateway["isOnline"] = 1
    else:
        for device in cloud.devices.values():
            device["online"] = True
    for _ in range(12):
        await world.tick(21)
    for _ in range(3):
        await world.tick(61)


def check(world: World, failed_events: list[Any]) -> None:
    """Every lock equals the ledger's desired state; the ledger equals the answers."""
    hass, entry = world.hass, world.entry
    ledger_records = [r for r in records(hass, entry) if not r.tombstone]
    present = [r for r in ledger_records if r.present]
    failed = {r.key for r in present if r.failed}
    # Codes given up on were announced as failed; none were silently dropped.
    assert len(failed) <= len(failed_events)
    # The answers' promises, mapped to ledger keys.
    lock_of_entity = _lock_ids(world)
    promised = {(code_id, lock_of_entity[entity]) for code_id, entity in world.wanted}
    desired = {r.key for r in present}
    assert promised == desired, (promised ^ desired, world.stats)
    assert not [r for r in ledger_records if not r.present], "deletes left pending"
    for lock_id in lock_of_entity.values():
        # On the lock: every wanted code that reached it. A code whose update
        # was given up keeps its previous window there; one whose add was
        # given up never reached it.
        want = [r for r in present if r.lock_id == lock_id and r.cloud_id]
        assert not [
            r
            for r in present
            if r.lock_id == lock_id and not r.cloud_id and not r.failed
        ], _explain(world, lock_id, records(hass, entry))
        on_lock = _on_lock(world, lock_id)
        assert sorted(on_lock) == sorted(r.cloud_id for r in want), _explain(
            world, lock_id, records(hass, entry)
        )
        for record in want:
            if record.failed:
                continue
            assert record.applied == record.revision
            start_ms, end_ms = on_lock[record.cloud_id or ""]
            assert record.start is not None
            assert record.end is not None
            assert abs(start_ms - record.start.timestamp() * 1000) < 60_000
            assert abs(end_ms - record.end.timestamp() * 1000) < 60_000
            end = world.wanted[(record.id, _entity_of(world, lock_id))]
            assert abs(end_ms - ms(end)) < 60_000


def _explain(world: World, lock_id: str, all_records: list[Any]) -> str:
    """What the lock and the ledger hold, for a failure message."""
    cloud = world.cloud
    lines = [f"stats {world.stats}", f"lock {lock_id}:"]
    if isinstance(cloud, FakeTTLockCloud):
        for k, c in cloud.passcodes[int(lock_id)].items():
            lines.append(f"  on lock {k} {c['keyboardPwd']} {c['keyboardPwdName']!r}")
    else:
        for k, c in cloud.codes[lock_id].items():
            lines.append(f"  on lock {k} {c['pin']} {c['name']!r}")
    for r in all_records:
        if r.lock_id == lock_id:
            lines.append(
                f"  ledger {r.id[:8]} cloud={r.cloud_id} {r.code} {r.name!r} "
                f"present={r.present} tomb={r.tombstone} failed={r.failed} "
                f"uncertain={r.uncertain} recheck={r.recheck} op={r.operation()}"
            )
    return "\n".join(lines)


def _lock_ids(world: World) -> dict[str, str]:
    registry = er.async_get(world.hass)
    coordinator = world.entry.runtime_data.coordinator
    result = {}
    for entity_id in world.entities:
        unique_id = registry.async_get(entity_id).unique_id  # type: ignore[union-attr]
        result[entity_id] = next(
            lock_id
            for lock_id in coordinator.data.locks
            if coordinator.device_key(lock_id) == unique_id
        )
    return result


def _entity_of(world: World, lock_id: str) -> str:
    return next(e for e, lid in _lock_ids(world).items() if lid == lock_id)


def _on_lock(world: World, lock_id: str) -> dict[str, tuple[int, int]]:
    """cloud id -> (start ms, end ms) of every code on a fake lock."""
    cloud = world.cloud
    if isinstance(cloud, FakeTTLockCloud):
        return {
            str(k): (c["startDate"], c["endDate"])
            for k, c in cloud.passcodes[int(lock_id)].items()
        }
    return {
        k: (c["effective_time"] * 1000, c["invalid_time"] * 1000)
        for k, c in cloud.codes[lock_id].items()
    }


async def run(world: World) -> None:
    failed_events = listen(world.hass, EVENT_CODE_FAILED)
    ops = [op for op, weight in OPS for _ in range(weight)]
    for _ in range(OPERATIONS):
        await world.rng.choice(ops)(world)
    await settle(world)
    check(world, failed_events)
    # The chaos really happened.
    assert world.stats.get("fault", 0) >= 5
    assert world.stats.get("held in flight", 0) >= 3
    assert world.stats.get("reload", 0) + world.stats.get("restart", 0) >= 3


@pytest.mark.parametrize("seed", EXTRA_SEEDS or [11, 29])
async def test_chaos_ttlock(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    seed: int,
) -> None:
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    world = World(
        hass=hass,
        entry=entry,
        freezer=freezer,
        rng=random.Random(seed),
        cloud=ttlock_cloud,
        entities=[FRONT, BACK],
        add_route=ADD_PATH,
        delete_route=DELETE_PATH,
    )
    await run(world)


@pytest.mark.parametrize("seed", EXTRA_SEEDS or [7])
async def test_chaos_tuya(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
    seed: int,
) -> None:
    tuya_cloud.add_device(name="Flat door")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    world = World(
        hass=hass,
        entry=entry,
        freezer=freezer,
        rng=random.Random(seed),
        cloud=tuya_cloud,
        entities=[tuya_lock_entity(hass)],
        add_route=TUYA_ADD,
        delete_route=TUYA_DELETE,
    )
    await run(world)
