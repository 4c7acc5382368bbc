"""Home Assistant's reports of deprecated or wrong use by this integration, as warnings.

Home Assistant does not raise ``DeprecationWarning`` for integrations: it logs.
``helpers/frame.py``'s ``report_usage`` logs "Detected that custom integration
'ttlock_gateway' ..." (an error only for core code), and ``helpers/deprecation.py``
logs "The deprecated ... was used from ttlock_gateway". ``tests/conftest.py``
collects those log records for each test and turns each into a
``HomeAssistantReport`` warning, which ``filterwarnings = error`` in
``pyproject.toml`` makes a test failure: a deprecation of ours never lands quietly.
"""

from __future__ import annotations

import logging

from custom_components.ttlock_gateway.const import DOMAIN


class HomeAssistantReport(DeprecationWarning):
    """Home Assistant reported a deprecated or wrong use by this integration."""


def is_report_about_us(record: logging.LogRecord) -> bool:
    """A frame.report_usage or deprecation.py log line that names this integration."""
    if record.levelno < logging.WARNING:
        return False
    message = record.getMessage()
    if record.name == "homeassistant.helpers.frame":
        return f"integration '{DOMAIN}'" in message
    return message.startswith("The deprecated ") and f" from {DOMAIN}." in message


class ReportCollector(logging.Handler):
    """Keeps the reports about this integration seen while a test runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if is_report_about_us(record):
            self.reports.append(record.getMessage())
