"""The guard that turns Home Assistant's deprecation reports about us into failures."""

from __future__ import annotations

import logging
import warnings

from homeassistant.core import HomeAssistant
from homeassistant.helpers import frame
from homeassistant.loader import async_get_integration
import pytest

from custom_components.ttlock_gateway.const import DOMAIN
from tests.conftest import CurrentReports
from tests.ha_reports import HomeAssistantReport, is_report_about_us


def _record(name: str, message: str, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, None, None)


def test_reports_about_us_are_recognised() -> None:
    """frame.report_usage and deprecation.py wording, ours only, warnings and up."""
    frame_line = (
        "Detected that custom integration 'ttlock_gateway' calls "
        "`device_registry.async_update_device` with ... at "
        "custom_components/ttlock_gateway/coordinator.py, line 1: x. Please report"
    )
    assert is_report_about_us(_record("homeassistant.helpers.frame", frame_line))
    assert not is_report_about_us(
        _record(
            "homeassistant.helpers.frame", frame_line.replace("ttlock_gateway", "hue")
        )
    )
    assert not is_report_about_us(
        _record("homeassistant.helpers.frame", frame_line, logging.DEBUG)
    )
    deprecated = (
        "The deprecated constant X was used from ttlock_gateway. "
        "It will be removed in HA Core 2027.1. Use Y instead, please report it"
    )
    assert is_report_about_us(_record("homeassistant.const", deprecated))
    assert not is_report_about_us(
        _record("homeassistant.const", deprecated.replace("ttlock_gateway", "zha"))
    )


async def test_a_real_report_becomes_a_failing_warning(
    hass: HomeAssistant, ha_reports: CurrentReports
) -> None:
    """A report_usage naming this integration is collected, and errors as a warning."""
    await async_get_integration(hass, DOMAIN)  # known to the loader, as when set up
    collector = ha_reports
    frame.report_usage(
        "does something deprecated",
        integration_domain=DOMAIN,
        breaks_in_ha_version="2099.1.0",
    )
    assert len(collector.reports) == 1
    assert "does something deprecated" in collector.reports[0]
    # pyproject.toml's filterwarnings makes this category an error.
    with pytest.raises(HomeAssistantReport):
        warnings.warn(HomeAssistantReport(collector.reports[0]), stacklevel=1)
    # Expected here: without this the guard fails this test.
    collector.reports.clear()
