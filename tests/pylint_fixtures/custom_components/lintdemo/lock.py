"""Locks."""

from __future__ import annotations

import contextlib
from typing import Any

from homeassistant.components.lock import LockEntity
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError

from .const import DOMAIN
from .coordinator import DemoCoordinator
from .entity import DemoEntity

PARALLEL_UPDATES = 1


async def async_setup_entry(hass, entry, async_add_entities) -> None:  # expect: home-assistant-argument-type, home-assistant-argument-type, home-assistant-argument-type
    """Unannotated arguments."""


def _translate(err: Exception) -> HomeAssistantError:
    """The one place errors are translated."""
    return HomeAssistantError(translation_domain=DOMAIN, translation_key="failed", translation_placeholders={"name": str(err)})


async def _call(coordinator: DemoCoordinator) -> None:
    """Raise translated errors."""
    try:
        await coordinator.async_request_refresh()
    except OSError as err:
        raise _translate(err) from err


class DemoLock(DemoEntity, LockEntity):
    """Actions."""

    async def async_unlock(self, **kwargs: Any) -> None:
        """Fine: the helper raises a Home Assistant error."""
        await _call(self.coordinator)

    async def async_lock(self, **kwargs: Any) -> None:  # expect: home-assistant-action-missing-ha-exception
        """A library error would escape raw."""
        await self.coordinator.async_request_refresh()

    async def async_open(self, **kwargs: Any) -> None:
        """Suppressed: the user is told nothing."""
        with contextlib.suppress(OSError):  # expect: home-assistant-action-swallowed-exception
            await _call(self.coordinator)


@callback
async def not_a_callback() -> None:  # expect: home-assistant-async-callback-decorator
    """A coroutine function marked @callback."""


def errors() -> list[HomeAssistantError]:
    """Each way to get the translation wrong."""
    return [
        HomeAssistantError("English"),  # expect: home-assistant-exception-not-translated
        HomeAssistantError("English", translation_domain=DOMAIN, translation_key="failed"),  # expect: home-assistant-exception-message-with-translation
        HomeAssistantError(translation_key="failed"),  # expect: home-assistant-exception-translation-key-domain-mismatch
        HomeAssistantError(translation_domain=DOMAIN, translation_key="missing"),  # expect: home-assistant-exception-translation-key-missing
        HomeAssistantError(translation_domain=DOMAIN, translation_key="failed", translation_placeholders={"nam": "x"}),  # expect: home-assistant-exception-placeholder-mismatch
        HomeAssistantError(translation_domain=DOMAIN, translation_key="failed", translation_placeholders={"name": "x"}),
    ]
