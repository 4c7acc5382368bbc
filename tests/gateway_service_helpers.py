"""Helpers for the gateway-service client tests: a client wired to a receiver."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from custom_components.ttlock_gateway.providers.callbacks import (
    CallbackError,
    CallbackKind,
    parse_callback,
)
from custom_components.ttlock_gateway.providers.gateway_service import (
    GatewayServiceClient,
)
from custom_components.ttlock_gateway.providers.models import OperationResult
from tests.fakes.gateway_service import CallbackReceiver, FakeGatewayService


def make_client(
    service: FakeGatewayService,
    session: aiohttp.ClientSession,
    *,
    password: str = FakeGatewayService.PASSWORD,
    **kwargs: Any,
) -> GatewayServiceClient:
    """A client of the fake service (no pause between busy retries)."""
    kwargs.setdefault("busy_retry_delays", (0, 0, 0))
    return GatewayServiceClient(
        session,
        base_url=service.base_url,
        email=FakeGatewayService.EMAIL,
        password=password,
        **kwargs,
    )


def wire(receiver: CallbackReceiver, client: GatewayServiceClient) -> list[bool]:
    """Feed the receiver's job callbacks to ``client`` as the webhook will.

    Returns the list of ``resolve_job`` answers, one per job callback.
    """
    accepted: list[bool] = []

    def handle(content_type: str, body: bytes) -> int:
        try:
            parsed = parse_callback(content_type, body, now=datetime.now(UTC))
        except CallbackError:
            return 400
        if parsed.kind is CallbackKind.JOB and parsed.job is not None:
            accepted.append(client.resolve_job(parsed.job))
        return 200

    receiver.handler = handle
    return accepted


def collect(client: GatewayServiceClient) -> list[OperationResult]:
    """Every result delivered to the client's listeners."""
    results: list[OperationResult] = []
    listener: Callable[[OperationResult], None] = results.append
    client.add_result_listener(listener)
    return results
