"""``python -m simulator``: serve the simulated clouds until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys

from . import Simulator, SimulatorConfig


def _parse(argv: list[str] | None) -> SimulatorConfig:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Simulated TTLock, Tuya and Dding clouds on loopback (a test double).",
    )
    parser.add_argument("--host", default=env("SIM_HOST", "127.0.0.1"))
    parser.add_argument(
        "--ttlock-port", type=int, default=int(env("SIM_TTLOCK_PORT", "8901"))
    )
    parser.add_argument(
        "--tuya-port", type=int, default=int(env("SIM_TUYA_PORT", "8902"))
    )
    parser.add_argument(
        "--tuya-push-port",
        type=int,
        default=int(env("SIM_TUYA_PUSH_PORT", "8903")),
        help="port of the fake Tuya message service (0 or less: none)",
    )
    parser.add_argument(
        "--gateway-service-port",
        type=int,
        default=int(env("SIM_GATEWAY_SERVICE_PORT", "0")),
        help="port of the fake TTLock gateway service (0 or less: none)",
    )
    parser.add_argument(
        "--dding-port",
        type=int,
        default=int(env("SIM_DDING_PORT", "8904")),
        help="port of the fake Dding SaaS (0 or less: none)",
    )
    parser.add_argument(
        "--dding-webhook-url",
        default=env("SIM_DDING_WEBHOOK_URL") or None,
        help="Dding entry webhook URL to push Dding callbacks to (default: none)",
    )
    parser.add_argument(
        "--webhook-url",
        default=env("SIM_WEBHOOK_URL") or None,
        help="TTLock entry webhook URL to push callbacks to (default: no pushes)",
    )
    parser.add_argument(
        "--push-interval",
        type=float,
        default=float(env("SIM_PUSH_INTERVAL", "60")),
        help="seconds between pushes (default 60)",
    )
    parser.add_argument(
        "--first-push-delay",
        type=float,
        default=None,
        help="seconds before the first push (default: the interval)",
    )
    args = parser.parse_args(argv)
    if args.push_interval <= 0:
        parser.error("--push-interval must be positive")
    return SimulatorConfig(
        host=args.host,
        ttlock_port=args.ttlock_port,
        tuya_port=args.tuya_port,
        tuya_push_port=args.tuya_push_port if args.tuya_push_port > 0 else None,
        gateway_service_port=(
            args.gateway_service_port if args.gateway_service_port > 0 else None
        ),
        webhook_url=args.webhook_url,
        dding_port=args.dding_port if args.dding_port > 0 else None,
        dding_webhook_url=args.dding_webhook_url,
        push_interval=args.push_interval,
        first_push_delay=args.first_push_delay,
    )


async def _run(config: SimulatorConfig) -> None:
    sim = Simulator(config)
    await sim.start()
    print(
        f"simulator ready: TTLock {sim.ttlock.base_url}  Tuya {sim.tuya.base_url}  "
        f"Tuya push {sim.tuya_push.endpoint or '-'}  "
        f"Dding {sim.dding.base_url or '-'}  "
        f"state {sim.ttlock.base_url}/_sim/state",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    # SIGUSR1: push one round of callbacks now (scripts/e2e uses it).
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGUSR1, sim.push_soon)
    try:
        await stop.wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> int:
    """Run until SIGINT/SIGTERM."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    config = _parse(argv)
    try:
        asyncio.run(_run(config))
    except OSError as err:
        print(f"simulator: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
