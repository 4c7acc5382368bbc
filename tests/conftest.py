"""Shared fixtures: Home Assistant harness and the fake clouds on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from typing import Any

import pytest

# Import the package first so Home Assistant's loader finds it (see README, Testing).
import custom_components.ttlock_gateway  # noqa: F401


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: Any,
) -> Generator[None]:
    """Let Home Assistant load custom_components/ttlock_gateway."""
    yield
