"""The URL the repair issue tells users to paste into the vendor's portal.

Home Assistant Cloud (when subscribed) gives a cloudhook, else the external URL;
with neither the issue says so. Home Assistant's own cloud functions are patched
(they are not our code and need a Nabu Casa account).
"""

from __future__ import annotations

import sys
import types
from unittest.mock import AsyncMock, patch

import homeassistant.components as ha_components
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ttlock_gateway.const import DOMAIN
from tests.common import TTLOCK_WEBHOOK_ID, seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud

CLOUDHOOK = "https://hooks.nabu.casa/abcdef0123456789"
EXTERNAL = "https://home.example.org"


class _CloudNotAvailable(Exception):
    """Stand-in for homeassistant.components.cloud.CloudNotAvailable."""


@pytest.fixture(autouse=True)
def cloud_component(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Home Assistant's cloud module, stood in for with the three names we use.

    Importing the real one pulls in voice and camera packages that the test
    dependencies leave out; the integration imports it only when cloud is loaded.
    """
    module = types.ModuleType("homeassistant.components.cloud")
    module.CloudNotAvailable = _CloudNotAvailable  # type: ignore[attr-defined]
    module.async_active_subscription = lambda hass: False  # type: ignore[attr-defined]

    async def _no_cloudhook(hass: HomeAssistant, webhook_id: str) -> str:
        raise _CloudNotAvailable

    module.async_get_or_create_cloudhook = _no_cloudhook  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "homeassistant.components.cloud", module)
    monkeypatch.setattr(ha_components, "cloud", module, raising=False)
    return module


def _issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry:
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"webhook_not_called_{entry.entry_id}"
    )
    assert issue is not None
    return issue


async def _set_external_url(hass: HomeAssistant, url: str | None) -> None:
    await hass.config.async_update(external_url=url)


async def test_no_external_url_issue_says_so(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    seed_ttlock_home(ttlock_cloud)
    await _set_external_url(hass, None)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    issue = _issue(hass, entry)
    assert issue.translation_key == "webhook_no_external_url"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["webhook_url"] == ""
    assert issue.translation_placeholders["webhook_id"] == TTLOCK_WEBHOOK_ID


async def test_external_url_in_issue(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    seed_ttlock_home(ttlock_cloud)
    await _set_external_url(hass, EXTERNAL)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    issue = _issue(hass, entry)
    assert issue.translation_key == "webhook_not_called"
    assert issue.translation_placeholders is not None
    assert (
        issue.translation_placeholders["webhook_url"]
        == f"{EXTERNAL}/api/webhook/{TTLOCK_WEBHOOK_ID}"
    )
    assert "cloudhook_url" not in entry.data


async def test_cloudhook_created_once_and_remembered(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """A subscriber gets a cloudhook; it is stored and reused after a reload."""
    seed_ttlock_home(ttlock_cloud)
    await _set_external_url(hass, EXTERNAL)
    hass.config.components.add("cloud")
    create = AsyncMock(return_value=CLOUDHOOK)
    with (
        patch(
            "homeassistant.components.cloud.async_active_subscription",
            return_value=True,
        ),
        patch("homeassistant.components.cloud.async_get_or_create_cloudhook", create),
    ):
        entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
        issue = _issue(hass, entry)
        assert issue.translation_key == "webhook_not_called"
        assert issue.translation_placeholders is not None
        assert issue.translation_placeholders["webhook_url"] == CLOUDHOOK
        assert entry.data["cloudhook_url"] == CLOUDHOOK
        create.assert_awaited_once_with(hass, TTLOCK_WEBHOOK_ID)

        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert _issue(hass, entry).translation_placeholders == {
            **issue.translation_placeholders,
            "webhook_url": CLOUDHOOK,
        }
        # Remembered: not asked again.
        assert create.await_count == 1


async def test_cloud_not_available_falls_back_to_external_url(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    from homeassistant.components.cloud import CloudNotAvailable

    seed_ttlock_home(ttlock_cloud)
    await _set_external_url(hass, EXTERNAL)
    hass.config.components.add("cloud")
    with (
        patch(
            "homeassistant.components.cloud.async_active_subscription",
            return_value=True,
        ),
        patch(
            "homeassistant.components.cloud.async_get_or_create_cloudhook",
            AsyncMock(side_effect=CloudNotAvailable),
        ),
    ):
        entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    issue = _issue(hass, entry)
    assert issue.translation_placeholders is not None
    assert (
        issue.translation_placeholders["webhook_url"]
        == f"{EXTERNAL}/api/webhook/{TTLOCK_WEBHOOK_ID}"
    )
    assert "cloudhook_url" not in entry.data


async def test_cloud_without_subscription_uses_external_url(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    seed_ttlock_home(ttlock_cloud)
    await _set_external_url(hass, EXTERNAL)
    hass.config.components.add("cloud")
    create = AsyncMock(return_value=CLOUDHOOK)
    with (
        patch(
            "homeassistant.components.cloud.async_active_subscription",
            return_value=False,
        ),
        patch("homeassistant.components.cloud.async_get_or_create_cloudhook", create),
    ):
        entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    issue = _issue(hass, entry)
    assert issue.translation_placeholders is not None
    assert (
        issue.translation_placeholders["webhook_url"]
        == f"{EXTERNAL}/api/webhook/{TTLOCK_WEBHOOK_ID}"
    )
    create.assert_not_awaited()
