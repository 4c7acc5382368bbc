"""Smoke test: a real ``hass`` with the dev config against the simulator.

``python -m simulator.smoke`` (run by ``scripts/smoke`` in a venv of the Home
Assistant release to check) starts the simulator, writes a config directory with
the three simulator entries, starts ``hass`` on it, lets the simulator push one
round of callbacks, stops ``hass`` and then asserts from what it left behind:

- every entry set up (no "Error setting up entry" / "Setup failed"),
- every seeded lock has its lock entity, the gateway its connectivity sensor
  (from ``.storage/core.entity_registry``),
- the pushed callbacks were answered 200, and the Tuya entry's consumer
  received and acknowledged the messages of the fake message service,
- no WARNING or ERROR of ours and no deprecation report naming this
  integration in ``home-assistant.log`` (Home Assistant's "custom integration
  not tested by Home Assistant" notice, which every custom integration gets, is
  the one line allowed).

Exit 0 when all hold; prints the reason and the log's offending lines otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
from pathlib import Path
import re
import signal
import socket
import sys
import time

import aiohttp

from . import Simulator, SimulatorConfig
from .devconfig import DDING_WEBHOOK_ID, DOMAIN, TTLOCK_WEBHOOK_ID, write_config

# Only what the integration needs (manifest: http, webhook; logger for the
# check). No frontend: the smoke test reads storage and the log, not the UI.
SMOKE_YAML = """\
homeassistant:
  name: TTLock Gateway smoke test
  latitude: 52.37
  longitude: 4.89
  elevation: 0
  unit_system: metric
  time_zone: Europe/Amsterdam
  country: NL

webhook:

logger:
  default: warning
  logs:
    custom_components.ttlock_gateway: info
"""

# Every custom integration gets this warning; it is not about our code.
_ALLOWED = re.compile(
    r"We found a custom integration ttlock_gateway which has not been tested"
)
_OURS = re.compile(r"ttlock_gateway")
_LEVEL = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) ")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_http(url: str, within: float) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(url) as resp:
                    if resp.status in (200, 401):
                        return
            await asyncio.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {within:.0f} s")


async def _wait_listed(sim: Simulator, within: float) -> None:
    # The calls come from another process: there is no event to wait on.
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if (
            sim.ttlock.calls["/v3/lock/list"]
            and sim.tuya.calls
            and sim.dding.calls["find_home_devices"]
        ):
            return
        await asyncio.sleep(0.5)
    raise TimeoutError("the entries did not list their locks")


def offending_lines(log: str) -> list[str]:
    """WARNING+ lines that name this integration or come from it, but the notice."""
    lines = []
    for line in log.splitlines():
        if not _LEVEL.match(line) or _ALLOWED.search(line):
            continue
        if _OURS.search(line) or "Detected that custom integration" in line:
            lines.append(line)
    return lines


async def run(config: Path, startup_timeout: float) -> list[str]:
    """Run the scenario; return the problems found (empty: pass)."""
    ha_port, ttlock_port, tuya_port = _free_port(), _free_port(), _free_port()
    tuya_push_port, dding_port = _free_port(), _free_port()
    config.mkdir(parents=True, exist_ok=True)
    (config / "configuration.yaml").write_text(SMOKE_YAML, encoding="utf-8")
    write_config(
        config,
        port=ha_port,
        ttlock_url=f"http://127.0.0.1:{ttlock_port}",
        tuya_url=f"http://127.0.0.1:{tuya_port}",
        entries=True,
        tuya_push_url=f"ws://127.0.0.1:{tuya_push_port}/",
        dding_url=f"http://127.0.0.1:{dding_port}",
    )
    sim = Simulator(
        SimulatorConfig(
            ttlock_port=ttlock_port,
            tuya_port=tuya_port,
            tuya_push_port=tuya_push_port,
            webhook_url=f"http://127.0.0.1:{ha_port}/api/webhook/{TTLOCK_WEBHOOK_ID}",
            dding_port=dding_port,
            dding_webhook_url=(
                f"http://127.0.0.1:{ha_port}/api/webhook/{DDING_WEBHOOK_ID}"
            ),
            # Pushed on demand below, once Home Assistant is up.
            push_interval=3600,
            first_push_delay=3600,
        )
    )
    await sim.start()
    hass = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "homeassistant",
        "-c",
        str(config),
        "--skip-pip",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    problems: list[str] = []
    try:
        await _wait_http(f"http://127.0.0.1:{ha_port}/api/", startup_timeout)
        # Both entries list their locks at setup; wait for it, then push.
        await _wait_listed(sim, startup_timeout)
        await asyncio.sleep(2)  # platforms and webhook after the first refresh
        await sim.push_once()
        # TTLock record, two Dding-format callbacks to the TTLock entry, and a
        # door opening to the Dding entry.
        if sim.pushes.failed or sim.pushes.sent != 4:
            problems.append(
                f"pushed callbacks: {sim.pushes.sent} answered, "
                f"{sim.pushes.failed} failed ({sim.pushes.last_error})"
            )
        # The Tuya messages: acknowledged once the consumer handled them.
        push = sim.tuya_push
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (  # noqa: ASYNC110
            push.unacked or push.backlog or len(push.acked) < len(push.published)
        ):
            await asyncio.sleep(0.5)
        if len(push.acked) < len(push.published) or push.active != 1:
            problems.append(
                f"Tuya push: {len(push.acked)} of {len(push.published)} messages "
                f"acknowledged, {push.active} consumer(s) connected"
            )
    except TimeoutError as err:
        problems.append(str(err))
    finally:
        if hass.returncode is None:
            hass.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(hass.wait(), 60)
            except TimeoutError:
                hass.kill()
                await hass.wait()
                problems.append("hass did not stop within 60 s of SIGTERM")
        await sim.stop()
    problems += check_config_dir(config, sim)
    return problems


def check_config_dir(config: Path, sim: Simulator) -> list[str]:
    """What the stopped Home Assistant left: the entity registry and the log."""
    problems: list[str] = []
    # A restart within the run (recovery mode) rotates the first log to ``.1``.
    logs = [config / "home-assistant.log.1", config / "home-assistant.log"]
    log = "".join(
        path.read_text("utf-8", errors="replace") for path in logs if path.exists()
    )
    if not log:
        problems.append("no home-assistant.log was written")
    for marker in (
        "Error setting up entry",
        "Setup failed for custom integration",
        # Recovery mode loads no custom integration: nothing below was tested.
        "Activating recovery mode",
    ):
        if marker in log:
            problems.append(f"log says: {marker}")
    problems += [f"log: {line}" for line in offending_lines(log)]
    registry_path = config / ".storage" / "core.entity_registry"
    if not registry_path.exists():
        return [*problems, "no entity registry was written"]
    entities = [
        entity
        for entity in json.loads(registry_path.read_text("utf-8"))["data"]["entities"]
        if entity.get("platform") == DOMAIN
    ]
    lock_ids = {e["unique_id"] for e in entities if e["entity_id"].startswith("lock.")}
    wanted_locks = len(sim.ttlock.locks) + len(sim.tuya.devices)
    if len(lock_ids) != wanted_locks:
        problems.append(f"{len(lock_ids)} lock entities, {wanted_locks} seeded locks")
    connectivity = [
        e
        for e in entities
        if e["entity_id"].startswith("binary_sensor.")
        and any(f"gateway_{gid}" in e["unique_id"] for gid in sim.ttlock.gateways)
    ]
    if len(connectivity) != len(sim.ttlock.gateways):
        problems.append("the gateway has no connectivity sensor")
    print(f"smoke: {len(entities)} entities of {DOMAIN}, {wanted_locks} locks")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--startup-timeout", type=float, default=240.0)
    args = parser.parse_args(argv)
    from homeassistant.const import __version__

    print(f"smoke: Home Assistant {__version__}, config {args.config}")
    problems = asyncio.run(run(args.config, args.startup_timeout))
    for problem in problems:
        print(f"smoke: FAIL {problem}")
    if problems:
        return 1
    print("smoke: pass")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
